"""The torch Dataset of a real dataset: cached template crops + labels -> training sample dicts."""

from functools import partial
from pathlib import Path

import numpy as np
import torch
from torch.utils.data import Dataset

from fatauva.template import to_tensor

from ..preprocess import CropCache, CropFn, PrepareReport, default_crop, measure_alignment, prepare_crops
from .base import FaceIndex

TASKS = ("attributes", "aus", "va")


class CroppedFaceDataset(Dataset):
    """Samples of the train/datasets/base.py contract from a `FaceIndex` whose crops are all in `cache`.

    Each sample: "image" float32 (3, S, S) from `fatauva.template.to_tensor`; "attributes"
    int64 (10,) and "aus" int64 (14,) with -1 = unlabelled; "va" float32 (2,) nan = unlabelled.
    `labels(task)` gives the label arrays without reading images, for `train.sampling`.
    """

    def __init__(self, index: FaceIndex, cache: CropCache):
        self.index = index
        self.cache = cache

    def __len__(self) -> int:
        return len(self.index)

    def labels(self, task: str) -> np.ndarray:
        """The label array of `task` ("attributes" (N, 10), "aus" (N, 14) or "va" (N, 2)), no image read."""
        if task not in TASKS:
            raise ValueError(f"unknown task {task!r}; choose one of {', '.join(TASKS)}")
        return getattr(self.index, task)

    def __getitem__(self, i: int) -> dict[str, torch.Tensor]:
        crop = self.cache.load(self.index.paths[i])
        return {
            "image": to_tensor(crop)[0],
            "attributes": torch.from_numpy(self.index.attributes[i].copy()),
            "aus": torch.from_numpy(self.index.aus[i].copy()),
            "va": torch.from_numpy(self.index.va[i].copy()),
        }


def cropped_dataset(
    index: FaceIndex,
    cache_root: str | Path,
    input_size: int,
    crop_fn: CropFn = default_crop,
    *,
    workers: int = 0,
    progress: bool = True,
) -> tuple[CroppedFaceDataset, PrepareReport]:
    """Crop (once, in `workers` processes) every image of `index`, drop the faceless ones, serve the rest.

    In a set of face-centred crops (`index.centred`) a face the detector misses is placed by the
    set's framing: `index.alignment` if known, else measured on the set (`measure_alignment`).
    """
    cache = CropCache(cache_root, input_size)
    alignment = index.alignment
    if alignment is None and index.centred:
        alignment = partial(measure_alignment, index.paths)
    report = prepare_crops(
        index.paths,
        cache,
        crop_fn,
        landmarks=index.landmarks,
        boxes=index.boxes,
        alignment=alignment if index.centred else None,
        workers=workers,
        progress=progress,
        desc=f"crops {index.name}",
    )
    return CroppedFaceDataset(index.subset(report.kept), cache), report
