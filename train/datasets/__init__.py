"""Dataset adapters: each reads one dataset's own published layout into a `FaceIndex`.

    index = open_index("bp4d", "/data/FERA2015/BP4D", "train")     # labels only, no pixels
    data, report = real_dataset("bp4d", "/data/FERA2015/BP4D", "train", cache_root="/data/crops")
    data[0] -> {"image": (3,S,S) float, "attributes": (10,) int64, "aus": (14,) int64, "va": (2,) float32}

Names (the layout each expects is in its module's docstring):
celeba, utkface, genki4k (stage 1), bp4d, disfa, au_csv (stage 2), affwild, affwild2, va_csv,
fer2013 (stage 3), ckplus (AU validation and calibration only, never training); for the two
manifests `root` is the CSV file. SynthFACS needs no files: `synthfacs_dataset`.
"""

from collections.abc import Callable
from pathlib import Path

from fatauva.template import DEFAULT_INPUT_SIZE

from ..preprocess import CropFn, PrepareReport, default_crop
from .affwild import affwild_index
from .affwild2 import affwild2_index
from .base import DatasetError, FaceIndex
from .bp4d import bp4d_index
from .celeba import celeba_index
from .ckplus import ckplus_index
from .disfa import disfa_index
from .fer2013 import fer2013_index
from .genki4k import genki4k_index
from .manifest import au_manifest_index, va_manifest_index
from .synthfacs import synthfacs_dataset
from .torch_dataset import CroppedFaceDataset, cropped_dataset
from .utkface import utkface_index

INDEXERS: dict[str, Callable[[Path, str], FaceIndex]] = {
    "celeba": celeba_index,
    "bp4d": bp4d_index,
    "disfa": disfa_index,
    "au_csv": au_manifest_index,
    "affwild": affwild_index,
    "affwild2": affwild2_index,
    "va_csv": va_manifest_index,
    "utkface": utkface_index,
    "genki4k": genki4k_index,
    "fer2013": fer2013_index,
    "ckplus": ckplus_index,
}


def open_index(name: str, root: str | Path, split: str) -> FaceIndex:
    """The labels of dataset `name` at `root`, split `split` (see each adapter for its splits)."""
    if name not in INDEXERS:
        raise ValueError(f"unknown dataset {name!r}; choose one of {', '.join(INDEXERS)}")
    return INDEXERS[name](Path(root), split)


def real_dataset(
    name: str,
    root: str | Path,
    split: str,
    cache_root: str | Path,
    input_size: int = DEFAULT_INPUT_SIZE,
    crop_fn: CropFn = default_crop,
    *,
    workers: int = 0,
    progress: bool = True,
) -> tuple[CroppedFaceDataset, PrepareReport]:
    """A torch Dataset of training samples of a real dataset; crops are made once into `cache_root`."""
    index = open_index(name, root, split)
    return cropped_dataset(index, cache_root, input_size, crop_fn, workers=workers, progress=progress)


__all__ = [
    "INDEXERS",
    "CroppedFaceDataset",
    "DatasetError",
    "FaceIndex",
    "affwild2_index",
    "affwild_index",
    "au_manifest_index",
    "bp4d_index",
    "celeba_index",
    "ckplus_index",
    "cropped_dataset",
    "disfa_index",
    "fer2013_index",
    "genki4k_index",
    "open_index",
    "real_dataset",
    "synthfacs_dataset",
    "utkface_index",
    "va_manifest_index",
]
