"""A SynthFACS split rendered once into memory and reused by every epoch and every stage.

Rendering on the fly costs ~3.5 ms of CPU per face at 112 px, about what one bf16 training step
spends per image on a 2-core machine, so the renderer and the network would split the CPU between
them. A pool renders `size` faces of a split once, in `workers` processes with a progress bar,
keeps them as uint8 (37 KB a face at 112 px) and serves them with a random left-right flip
(every SynthFACS label is symmetric: attributes, bilateral AUs, V-A).

Pools are cached as .npz files under `cache_dir`; a cached pool is reused only if the first and
last face rendered now hash to the fingerprint stored with it (a changed renderer re-renders).
"""

import hashlib
import os
from contextlib import nullcontext
from multiprocessing import get_context
from pathlib import Path

import numpy as np
import torch
from torch.utils.data import Dataset
from tqdm import tqdm

from fatauva.synthfacs.dataset import face_params
from fatauva.synthfacs.render import render
from fatauva.template import to_tensor
from fatauva.topology import ATTRIBUTES, AUS

from .torch_dataset import TASKS

_CHUNK = 128  # faces per task sent to a worker: big enough that pickling is cheap


def _render_chunk(
    job: tuple[str, str, int, int, int],
) -> tuple[int, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Faces [start, stop) of a split: images (n, S, S, 3) uint8, attributes (n, 10), AUs (n, 14),
    V-A (n, 2)."""
    split, mode, size, start, stop = job
    torch.set_num_threads(1)
    faces = [render(face_params(split, i, mode), size, with_masks=False) for i in range(start, stop)]
    return (
        start,
        np.stack([f.image for f in faces]),
        np.stack([f.labels.attributes for f in faces]).astype(np.int64),
        np.stack([f.labels.au_present for f in faces]).astype(np.int64),
        np.array([[f.labels.valence, f.labels.arousal] for f in faces], np.float32),
    )


def _fingerprint(split: str, mode: str, size: int, n: int) -> str:
    """SHA-256 of the first and last face of the pool as the renderer draws them now."""
    h = hashlib.sha256()
    for i in sorted({0, n - 1}):
        h.update(render(face_params(split, i, mode), size, with_masks=False).image.tobytes())
    return h.hexdigest()


class SynthFACSPool(Dataset):
    """`n` faces of a SynthFACS split held in memory; items are the training sample dict of
    fatauva.synthfacs.SynthFACSDataset ("image" float (3, S, S), "attributes" (10,), "aus" (14,),
    "va" (2,)), each image flipped left-right with probability 1/2 when `flip` is on."""

    def __init__(
        self, images: np.ndarray, attributes: np.ndarray, aus: np.ndarray, va: np.ndarray, flip: bool = True
    ):
        self.images, self.flip = images, flip
        self._labels = {"attributes": attributes, "aus": aus, "va": va}

    def __len__(self) -> int:
        return len(self.images)

    def labels(self, task: str) -> np.ndarray:
        """Label array of `task` ("attributes" (N, 10), "aus" (N, 14), "va" (N, 2)), for train.sampling."""
        if task not in TASKS:
            raise ValueError(f"unknown task {task!r}; choose one of {', '.join(TASKS)}")
        return self._labels[task]

    def __getitem__(self, i: int) -> dict[str, torch.Tensor]:
        image = self.images[i]
        if self.flip and torch.rand(()) < 0.5:  # torch's RNG: seeded and restored by the trainer
            image = image[:, ::-1]
        return {
            "image": to_tensor(np.ascontiguousarray(image))[0],
            "attributes": torch.from_numpy(self._labels["attributes"][i]),
            "aus": torch.from_numpy(self._labels["aus"][i]),
            "va": torch.from_numpy(self._labels["va"][i]),
        }


def render_pool(
    split: str,
    n: int,
    size: int,
    mode: str = "emotion",
    workers: int = 2,
    cache_dir: str | Path | None = None,
    progress: bool = True,
) -> SynthFACSPool:
    """Faces 0..n-1 of a SynthFACS split at `size` px, from the cache when it still matches the renderer."""
    if n <= 0:
        raise ValueError(f"a SynthFACS pool needs at least one face, got n={n}")
    path = Path(cache_dir) / f"synthfacs_{split}_{mode}_{size}px_{n}.npz" if cache_dir else None
    stamp = _fingerprint(split, mode, size, n) if path is not None else ""
    if path is not None and path.is_file():
        with np.load(path) as f:
            if str(f["fingerprint"]) == stamp:
                return SynthFACSPool(f["images"], f["attributes"], f["aus"], f["va"])
    images = np.empty((n, size, size, 3), np.uint8)
    attributes, aus = np.empty((n, len(ATTRIBUTES)), np.int64), np.empty((n, len(AUS)), np.int64)
    va = np.empty((n, 2), np.float32)
    jobs = [(split, mode, size, s, min(s + _CHUNK, n)) for s in range(0, n, _CHUNK)]
    bar = tqdm(total=n, desc=f"rendering {n} SynthFACS {split} faces", unit="face", disable=not progress)
    with get_context("spawn").Pool(workers) if workers > 1 else nullcontext() as pool:
        chunks = pool.imap_unordered(_render_chunk, jobs) if pool is not None else map(_render_chunk, jobs)
        for start, im, at, au, v in chunks:
            stop = start + len(im)
            images[start:stop], attributes[start:stop], aus[start:stop], va[start:stop] = im, at, au, v
            bar.update(len(im))
    bar.close()
    if path is not None:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(f".{os.getpid()}.tmp.npz")  # torchrun ranks may write the same pool at once
        np.savez(tmp, images=images, attributes=attributes, aus=aus, va=va, fingerprint=np.array(stamp))
        tmp.replace(path)
    return SynthFACSPool(images, attributes, aus, va)
