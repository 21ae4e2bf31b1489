"""Real-photo preprocessing: find the face, align it to the template crop, cache the crop once.

Paper §4.1.1 crops attribute and AU images with a face detector and V-A images with the
dataset's own boxes; here every real image ends as the one canonical crop of
`fatauva.template` (the same framing SynthFACS renders and the app uses):

- five given landmarks (CelebA's list_landmarks_align_celeba.txt) -> `fatauva.faces.align_face`;
- a given box (Aff-Wild) -> the detector runs inside the box, enlarged by `BOX_MARGIN`;
- otherwise -> `fatauva.faces.crop_largest_face` on the whole image, retried once on the image
  padded by `RETRY_PAD` (tight crops such as Aff-Wild2's cropped_aligned leave the detector no
  context around the face).

Crops are PNG files under `<cache_root>/s<size>-t<template hash>/`, one per source image, named
by a hash of its resolved path: a second run, or a subset of the same data, decodes and detects
nothing again. Faces not found are written to `failures.jsonl` in the same folder, skipped and
counted, never fatal. The crop function is an argument so tests (and other detectors) can
replace the default.
"""

import hashlib
import json
import os
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import cv2
import numpy as np
from tqdm import tqdm

from fatauva.template import DEFAULT_INPUT_SIZE, TEMPLATE_POINTS

# (image uint8 RGB (H, W, 3), landmarks (5, 2) | None, box (4,) x0 y0 x1 y1 | None, input_size)
#   -> aligned crop uint8 RGB (S, S, 3), or None when no face is found.
CropFn = Callable[[np.ndarray, "np.ndarray | None", "np.ndarray | None", int], "np.ndarray | None"]

BOX_MARGIN = 0.4  # a dataset box is grown by 40% of its size per side: brows, chin and ears fit in
RETRY_PAD = 0.5  # a retry pads the image by half its size per side


class UnreadableImage(OSError):
    """An image file exists in the index but cannot be decoded."""


def load_rgb(path: str | Path) -> np.ndarray:
    """An image file as uint8 RGB (H, W, 3); greyscale and alpha are converted."""
    image = cv2.imread(str(path), cv2.IMREAD_COLOR)
    if image is None:
        raise UnreadableImage(f"{path}: not a readable image")
    return cv2.cvtColor(image, cv2.COLOR_BGR2RGB)


def template_hash() -> str:
    """8 hex digits identifying the crop template: a changed template never reuses old crops."""
    return hashlib.sha1(np.ascontiguousarray(TEMPLATE_POINTS, np.float32).tobytes()).hexdigest()[:8]


def default_crop(
    image: np.ndarray, landmarks: np.ndarray | None, box: np.ndarray | None, input_size: int
) -> np.ndarray | None:
    """The aligned template crop of the face in `image`, by landmarks, box or detector (module doc)."""
    # Imported here: the detector loads its model files, which a test with its own crop function
    # or a run over a warm cache never needs.
    from fatauva import faces

    if landmarks is not None:
        return faces.align_face(image, landmarks, input_size)
    if box is not None:
        image = crop_box(image, box, BOX_MARGIN)
    found = faces.crop_largest_face(image, input_size)
    if found is None:
        found = faces.crop_largest_face(pad(image, RETRY_PAD), input_size)
    return None if found is None else found[1]


def crop_box(image: np.ndarray, box: np.ndarray, margin: float) -> np.ndarray:
    """The region of `box` (x0, y0, x1, y1) grown by `margin` x its size per side, edge-padded."""
    x0, y0, x1, y1 = (float(v) for v in box)
    dx, dy = margin * (x1 - x0), margin * (y1 - y0)
    left, top = int(round(x0 - dx)), int(round(y0 - dy))
    right, bottom = int(round(x1 + dx)), int(round(y1 + dy))
    h, w = image.shape[:2]
    padded = cv2.copyMakeBorder(
        image,
        max(0, -top),
        max(0, bottom - h),
        max(0, -left),
        max(0, right - w),
        cv2.BORDER_REPLICATE,
    )
    ox, oy = max(0, -left), max(0, -top)
    return np.ascontiguousarray(padded[top + oy : bottom + oy, left + ox : right + ox])


def pad(image: np.ndarray, fraction: float) -> np.ndarray:
    h, w = image.shape[:2]
    py, px = int(round(fraction * h)), int(round(fraction * w))
    return cv2.copyMakeBorder(image, py, py, px, px, cv2.BORDER_REPLICATE)


class CropCache:
    """Aligned crops on disk, keyed by source path, crop size and template hash."""

    def __init__(self, root: str | Path, input_size: int = DEFAULT_INPUT_SIZE):
        self.input_size = input_size
        self.folder = Path(root) / f"s{input_size}-t{template_hash()}"
        self.failures_file = self.folder / "failures.jsonl"

    def path_for(self, source: Path) -> Path:
        key = hashlib.sha1(str(Path(source).resolve()).encode()).hexdigest()
        return self.folder / key[:2] / f"{key}.png"

    def has(self, source: Path) -> bool:
        return self.path_for(source).is_file()

    def load(self, source: Path) -> np.ndarray:
        """The cached crop of `source`, uint8 RGB (S, S, 3)."""
        crop = cv2.imread(str(self.path_for(source)), cv2.IMREAD_COLOR)
        if crop is None:
            raise FileNotFoundError(f"no cached crop of {source} in {self.folder}; run prepare_crops first")
        return cv2.cvtColor(crop, cv2.COLOR_BGR2RGB)

    def save(self, source: Path, crop: np.ndarray) -> None:
        s = self.input_size
        if crop.shape != (s, s, 3) or crop.dtype != np.uint8:
            raise ValueError(f"crop of {source} is {crop.dtype} {crop.shape}, expected uint8 ({s}, {s}, 3)")
        target = self.path_for(source)
        target.parent.mkdir(parents=True, exist_ok=True)
        # Written under a temporary name and renamed: an interrupted run never leaves half a PNG.
        tmp = target.with_name(f"{target.stem}.tmp{os.getpid()}.png")
        cv2.imwrite(str(tmp), cv2.cvtColor(crop, cv2.COLOR_RGB2BGR))
        os.replace(tmp, target)

    def failures(self) -> dict[str, str]:
        """Resolved source path -> why no crop exists (face not found, unreadable image)."""
        if not self.failures_file.is_file():
            return {}
        records = (json.loads(line) for line in self.failures_file.read_text().splitlines() if line)
        return {r["source"]: r["reason"] for r in records}

    def record_failure(self, source: Path, reason: str) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        with self.failures_file.open("a") as f:
            f.write(json.dumps({"source": str(Path(source).resolve()), "reason": reason}) + "\n")


@dataclass
class PrepareReport:
    """What `prepare_crops` did: counts, the failures, and which rows have a crop (bool (N,))."""

    total: int
    reused: int
    cropped: int
    kept: np.ndarray
    failed: list[tuple[str, str]] = field(default_factory=list)

    def summary(self) -> str:
        return (
            f"{self.total} images: {self.reused} crops reused, {self.cropped} cropped, "
            f"{len(self.failed)} skipped (no face or unreadable)"
        )


def prepare_crops(
    sources: Sequence[Path],
    cache: CropCache,
    crop_fn: CropFn = default_crop,
    *,
    landmarks: np.ndarray | None = None,
    boxes: np.ndarray | None = None,
    workers: int = 0,
    progress: bool = True,
    desc: str = "crops",
) -> PrepareReport:
    """Crop every image of `sources` not yet in `cache`, with a progress bar.

    landmarks: float (N, 5, 2) pixel points, boxes: float (N, 4) x0 y0 x1 y1; a row with a nan
    means "none given" for that image. workers > 1 crops in that many processes (`crop_fn`
    must then be picklable: a module-level function). A failure recorded by an earlier run is
    not retried (delete the cache's failures.jsonl to retry).
    """
    n = len(sources)
    landmarks = np.full((n, 5, 2), np.nan, np.float32) if landmarks is None else landmarks
    boxes = np.full((n, 4), np.nan, np.float32) if boxes is None else boxes
    known_failures = cache.failures()
    report = PrepareReport(total=n, reused=0, cropped=0, kept=np.zeros(n, dtype=bool))
    todo = []
    for row, source in enumerate(sources):
        resolved = str(Path(source).resolve())
        if resolved in known_failures:
            report.failed.append((str(source), known_failures[resolved]))
        elif cache.has(source):
            report.reused += 1
            report.kept[row] = True
        else:
            todo.append(row)
    jobs = [(Path(sources[row]), landmarks[row], boxes[row], cache, crop_fn) for row in todo]
    results = tqdm(_run(jobs, workers), total=len(jobs), desc=desc, disable=not progress)
    for row, reason in zip(todo, results, strict=True):
        if reason is None:
            report.cropped += 1
            report.kept[row] = True
        else:
            cache.record_failure(sources[row], reason)
            report.failed.append((str(sources[row]), reason))
    return report


def _run(jobs: list[tuple], workers: int) -> Iterator[str | None]:
    if workers <= 1 or not jobs:
        yield from (_crop_one(*job) for job in jobs)
        return
    with ProcessPoolExecutor(workers) as pool:
        yield from pool.map(_crop_one, *zip(*jobs, strict=True), chunksize=16)


def _crop_one(
    source: Path, landmarks: np.ndarray, box: np.ndarray, cache: CropCache, crop_fn: CropFn
) -> str | None:
    """Crop one image into the cache; the reason it failed, or None."""
    try:
        image = load_rgb(source)
    except UnreadableImage:
        return "unreadable image"
    crop = crop_fn(
        image,
        None if np.isnan(landmarks).any() else landmarks,
        None if np.isnan(box).any() else box,
        cache.input_size,
    )
    if crop is None:
        return "no face found"
    cache.save(source, crop)
    return None
