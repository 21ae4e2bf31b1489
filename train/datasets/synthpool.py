"""A SynthFACS split rendered once into memory and reused by every epoch and every stage.

Rendering on the fly costs ~3.5 ms of CPU per face at 112 px, about what one bf16 training step
spends per image on a 2-core machine, so the renderer and the network would split the CPU between
them. A pool renders `size` faces of a split once, in `workers` processes with a progress bar,
keeps them as uint8 (37 KB a face at 112 px) and serves them with a random left-right flip
(every SynthFACS label is symmetric: attributes, bilateral AUs, V-A).

Pools are cached as .npz files under `cache_dir`; a cached pool is reused only if the first and
last face rendered now, and the labels the current rules give the first `LABEL_PROBE` faces, hash
to the fingerprint stored with it (a changed renderer or label rule re-renders).
"""

import hashlib
import os
from collections.abc import Callable
from contextlib import nullcontext
from multiprocessing import get_context
from pathlib import Path

import numpy as np
import torch
from torch.utils.data import Dataset
from tqdm import tqdm

from fatauva.synthfacs.dataset import face_params
from fatauva.synthfacs.render import labels_of, render
from fatauva.template import to_tensor
from fatauva.topology import ATTRIBUTES, AUS

from .torch_dataset import TASKS

_CHUNK = 128  # faces per task sent to a worker: big enough that pickling is cheap
# Faces whose labels enter the fingerprint: labels come from the parameters alone (0.7 ms a face,
# no drawing), and 512 faces hold every label rule's rarer cases (AU12 at trace level: 3.7 %).
LABEL_PROBE = 512


def _render_chunk(
    job: tuple[str, str, int, int, int],
) -> tuple[int, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Faces [start, stop) of a split: images (n, S, S, 3) uint8, attributes (n, 10), AUs (n, 14),
    V-A (n, 2)."""
    split, mode, size, start, stop = job
    faces = [render(face_params(split, i, mode), size, with_masks=False) for i in range(start, stop)]
    return (
        start,
        np.stack([f.image for f in faces]),
        np.stack([f.labels.attributes for f in faces]).astype(np.int64),
        np.stack([f.labels.au_present for f in faces]).astype(np.int64),
        np.array([[f.labels.valence, f.labels.arousal] for f in faces], np.float32),
    )


def _fingerprint(split: str, mode: str, size: int, n: int) -> str:
    """SHA-256 of the first and last face of the pool as the renderer draws them now, and of the
    labels the current rules give the first LABEL_PROBE faces."""
    h = hashlib.sha256()
    for i in sorted({0, n - 1}):
        h.update(render(face_params(split, i, mode), size, with_masks=False).image.tobytes())
    for i in range(min(n, LABEL_PROBE)):
        lab = labels_of(face_params(split, i, mode), np.zeros((5, 2), np.float32))
        h.update(
            lab.attributes.tobytes()
            + lab.au_present.tobytes()
            + np.float32([lab.valence, lab.arousal]).tobytes()
        )
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


def _render_range(
    split: str, mode: str, size: int, first: int, stop: int, workers: int, progress: bool, whole: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Faces first..stop-1 of a split (a share of a `whole`-face pool) rendered in `workers`
    processes: images, attributes, AUs, V-A."""
    n = stop - first
    images = np.empty((n, size, size, 3), np.uint8)
    attributes, aus = np.empty((n, len(ATTRIBUTES)), np.int64), np.empty((n, len(AUS)), np.int64)
    va = np.empty((n, 2), np.float32)
    jobs = [(split, mode, size, s, min(s + _CHUNK, stop)) for s in range(first, stop, _CHUNK)]
    of = "" if (first, stop) == (0, whole) else f" ({first}-{stop - 1})"
    bar = tqdm(total=n, desc=f"rendering {n} SynthFACS {split} faces{of}", unit="face", disable=not progress)
    # Worker processes run one torch thread each; rendering in this process leaves its threads alone.
    spawn = get_context("spawn")
    with spawn.Pool(workers, torch.set_num_threads, (1,)) if workers > 1 else nullcontext() as pool:
        chunks = pool.imap_unordered(_render_chunk, jobs) if pool is not None else map(_render_chunk, jobs)
        for start, im, at, au, v in chunks:
            rows = slice(start - first, start - first + len(im))
            images[rows], attributes[rows], aus[rows], va[rows] = im, at, au, v
            bar.update(len(im))
    bar.close()
    return images, attributes, aus, va


def _save(path: Path, arrays: tuple[np.ndarray, ...], stamp: str) -> None:
    """Write a pool file atomically (a temporary file renamed into place)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(f".{os.getpid()}.tmp.npz")
    images, attributes, aus, va = arrays
    np.savez(tmp, images=images, attributes=attributes, aus=aus, va=va, fingerprint=np.array(stamp))
    tmp.replace(path)


def _load(path: Path, stamp: str) -> tuple[np.ndarray, ...] | None:
    """The arrays of a pool file if it exists and carries `stamp`, else None."""
    if not path.is_file():
        return None
    with np.load(path) as f:
        if str(f["fingerprint"]) != stamp:
            return None
        return f["images"], f["attributes"], f["aus"], f["va"]


def render_pool(
    split: str,
    n: int,
    size: int,
    mode: str = "emotion",
    workers: int = 2,
    cache_dir: str | Path | None = None,
    progress: bool = True,
    rank: int = 0,
    world: int = 1,
    barrier: Callable[[], object] | None = None,
) -> SynthFACSPool:
    """Faces 0..n-1 of a SynthFACS split at `size` px, from the cache when it still matches the renderer.

    Called by every process of a data-parallel run (`rank` of `world`, `barrier` waiting for all of
    them) with a `cache_dir`, each process renders only its share of the faces into a part file; rank
    0 joins the parts into the cache file, which every process then loads. Without a cache folder
    every process renders the whole pool.
    """
    if n <= 0:
        raise ValueError(f"a SynthFACS pool needs at least one face, got n={n}")
    if not 0 <= rank < world or (world > 1 and barrier is None):
        raise ValueError(
            f"rank {rank} of {world} processes needs 0 <= rank < world and, for world > 1, a barrier"
        )
    path = Path(cache_dir) / f"synthfacs_{split}_{mode}_{size}px_{n}.npz" if cache_dir else None
    stamp = _fingerprint(split, mode, size, n) if path is not None else ""
    cached = _load(path, stamp) if path is not None else None
    if cached is not None:
        return SynthFACSPool(*cached)
    if path is None or world == 1:
        arrays = _render_range(split, mode, size, 0, n, workers, progress, n)
        if path is not None:
            _save(path, arrays, stamp)
        return SynthFACSPool(*arrays)
    bounds = [n * r // world for r in range(world + 1)]
    parts = [path.with_name(f"{path.stem}.part{r}of{world}.npz") for r in range(world)]
    _save(
        parts[rank],
        _render_range(split, mode, size, bounds[rank], bounds[rank + 1], workers, progress, n),
        stamp,
    )
    barrier()
    if rank == 0:
        shares = [_load(part, stamp) for part in parts]
        if any(share is None for share in shares):
            raise RuntimeError(f"a rank's share of {path.name} is missing or stale under {path.parent}")
        _save(path, tuple(np.concatenate(arrays) for arrays in zip(*shares, strict=True)), stamp)
        for part in parts:
            part.unlink()
    barrier()
    arrays = _load(path, stamp)
    if arrays is None:
        raise RuntimeError(f"{path} was not written by rank 0")
    return SynthFACSPool(*arrays)
