"""Real-photo preprocessing: find the face, align it to the template crop, cache the crop once.

Paper §4.1.1 crops attribute and AU images with a face detector and V-A images with the
dataset's own boxes; here every real image ends as the one canonical crop of
`fatauva.template` (the same framing SynthFACS renders and the app uses):

- five given landmarks (CelebA's list_landmarks_align_celeba.txt) -> `fatauva.faces.align_face`;
- otherwise `locate_face` runs `fatauva.faces.detect_faces` in up to six passes, the first
  that finds a face wins: the image (or a dataset box, enlarged by `BOX_MARGIN`) as it is; padded
  by 25% per side and searched for faces of at least half the padded image (upsampled, so a face
  filling a 48 px image reaches the detector's 80 px window with context around it); padded by
  `RETRY_PAD`; then the same three accepting weaker detections (`WEAK_SCORE`). Tight crops
  (GENKI-4K, FER2013, Aff-Wild2's cropped_aligned) leave the detector no context without the
  padding. Measured on 200 random images per set (seed 1, a probe for issue 19), faces found
  at dlib's threshold by the first framing / the first and third / all three: CelebA
  193 / 195 / 195, GENKI-4K 163 / 179 / 180, FER2013 131 / 145 / 153;
- a face the detector still misses, in a set of face-centred crops of one framing
  (`FaceIndex.alignment` or `FaceIndex.centred`), is aligned by that framing: the set's known
  five points (CelebA's alignment) or the mean five points of the faces the detector found in
  the set (`measure_alignment`), as fractions of the image size. Such crops are counted as
  fallbacks in `PrepareReport` and listed in `fallbacks.jsonl`.

Crops are PNG files under `<cache_root>/s<size>-t<template hash>/`, one per source image, named
by a hash of its resolved path: a second run, or a subset of the same data, decodes and detects
nothing again. Faces not found (and not placed by a fallback: never for a blank image), and
unreadable images, are written to `failures.jsonl` in the same folder, skipped and counted,
never fatal. The crop function is an argument so tests (and other detectors) can replace the
default.
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
# Detector passes of `locate_face`: (padding per side as a fraction of the image, smallest face
# as a fraction of the padded image's shorter side, None = the detector's own default; lowest SVM
# score accepted). The three framings are tried at dlib's own threshold first, then at
# `WEAK_SCORE`: on GENKI-4K misses, detections scoring above -0.3 were all faces, below it
# some were necks and textures.
WEAK_SCORE = -0.3
FRAMINGS: tuple[tuple[float, float | None], ...] = ((0.0, None), (0.25, 0.5), (RETRY_PAD, None))
DETECT_PASSES: tuple[tuple[float, float | None, float], ...] = tuple(
    (fraction, min_face, score) for score in (0.0, WEAK_SCORE) for fraction, min_face in FRAMINGS
)
BLANK_STD = 1.0  # grey-level std below which an image is blank (FER2013 has a few all-black ones)
ALIGNMENT_SAMPLE = 200  # images of a set whose detected landmarks give its mean framing
MIN_ALIGNMENT_FACES = 10  # fewer faces found than this: no mean framing, misses stay skipped


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
    """The aligned template crop of the face in `image`, by landmarks, else the detector (module doc)."""
    # Imported here: the detector loads its model files, which a test with its own crop function
    # or a run over a warm cache never needs.
    from fatauva import faces

    if landmarks is None:
        landmarks = locate_face(image, box)
    return None if landmarks is None else faces.align_face(image, landmarks, input_size)


def locate_face(image: np.ndarray, box: np.ndarray | None = None) -> np.ndarray | None:
    """Five landmarks (5, 2) float32 of the largest face, in pixels of `image`; None if no pass finds one.

    image: uint8 RGB (H, W, 3); box: x0 y0 x1 y1 to search inside (grown by `BOX_MARGIN`), or None.
    Runs the passes of `DETECT_PASSES` in order (module doc).
    """
    from fatauva import faces

    origin = np.zeros(2, np.float32)
    if box is not None:
        origin = np.array(box_origin(box, BOX_MARGIN), np.float32)
        image = crop_box(image, box, BOX_MARGIN)
    for fraction, min_face, score in DETECT_PASSES:
        work = pad(image, fraction) if fraction else image
        offset = np.array([(work.shape[1] - image.shape[1]) // 2, (work.shape[0] - image.shape[0]) // 2])
        options = {"min_score": score} if score else {}
        if min_face is not None:
            options["min_face"] = max(1, int(min_face * min(work.shape[:2])))
        found = faces.detect_faces(work, **options)
        if found:
            return (found[0].landmarks - offset + origin).astype(np.float32)
    return None


def measure_alignment(sources: Sequence[Path], sample: int = ALIGNMENT_SAMPLE) -> np.ndarray | None:
    """The mean framing of a set of face-centred crops: (5, 2) float32 landmark fractions of (W, H).

    Detects faces (`locate_face`) on `sample` images spread evenly over `sources` and averages
    their five points, each as (x + 0.5) / W, (y + 0.5) / H (pixel edges at 0 and W, so the
    fractions hold for any image size). None when fewer than `MIN_ALIGNMENT_FACES` are found.
    """
    rows = np.unique(np.linspace(0, len(sources) - 1, min(sample, len(sources))).round().astype(int))
    points = []
    for row in rows if len(sources) else []:
        try:
            image = load_rgb(sources[row])
        except UnreadableImage:
            continue
        found = locate_face(image)
        if found is not None:
            points.append(to_fractions(found, image.shape))
    return np.mean(points, axis=0).astype(np.float32) if len(points) >= MIN_ALIGNMENT_FACES else None


def to_fractions(points: np.ndarray, shape: tuple[int, ...]) -> np.ndarray:
    """Pixel points (K, 2) of an image of `shape` (H, W, ...) -> fractions of its width and height."""
    return (np.asarray(points, np.float32) + 0.5) / np.array([shape[1], shape[0]], np.float32)


def from_fractions(fractions: np.ndarray, shape: tuple[int, ...]) -> np.ndarray:
    """Inverse of `to_fractions`: fractions (K, 2) -> pixel points of an image of `shape`."""
    return np.asarray(fractions, np.float32) * np.array([shape[1], shape[0]], np.float32) - 0.5


def box_origin(box: np.ndarray, margin: float) -> tuple[int, int]:
    """Top-left pixel (x, y) of `box` grown by `margin` x its size per side: where `crop_box` starts."""
    x0, y0, x1, y1 = (float(v) for v in box)
    return int(round(x0 - margin * (x1 - x0))), int(round(y0 - margin * (y1 - y0)))


def crop_box(image: np.ndarray, box: np.ndarray, margin: float) -> np.ndarray:
    """The region of `box` (x0, y0, x1, y1) grown by `margin` x its size per side, edge-padded."""
    x0, y0, x1, y1 = (float(v) for v in box)
    left, top = box_origin(box, margin)
    right, bottom = int(round(x1 + margin * (x1 - x0))), int(round(y1 + margin * (y1 - y0)))
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
        self.fallbacks_file = self.folder / "fallbacks.jsonl"

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
        self._append(self.failures_file, {"source": str(Path(source).resolve()), "reason": reason})

    def fallbacks(self) -> set[str]:
        """Resolved source paths whose crop was placed by the set's framing, not by the detector."""
        if not self.fallbacks_file.is_file():
            return set()
        return {json.loads(line)["source"] for line in self.fallbacks_file.read_text().splitlines() if line}

    def record_fallback(self, source: Path, landmarks: np.ndarray) -> None:
        record = {"source": str(Path(source).resolve()), "landmarks": np.round(landmarks, 2).tolist()}
        self._append(self.fallbacks_file, record)

    def _append(self, path: Path, record: dict) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        with path.open("a") as f:
            f.write(json.dumps(record) + "\n")


@dataclass
class PrepareReport:
    """What `prepare_crops` did: counts, the failures, and which rows have a crop (bool (N,)).

    Of the kept rows, `given` were aligned by the dataset's own landmarks, `fallback` by the set's
    framing where the detector found no face, and the rest (`detected`) by the detector.
    """

    total: int
    reused: int
    cropped: int
    kept: np.ndarray
    failed: list[tuple[str, str]] = field(default_factory=list)
    given: int = 0
    fallback: int = 0

    @property
    def detected(self) -> int:
        return int(self.kept.sum()) - self.given - self.fallback

    @property
    def detection_rate(self) -> float:
        """Share of the images without given landmarks in which the detector found the face."""
        searched = self.total - self.given
        return self.detected / searched if searched else float("nan")

    def summary(self) -> str:
        return (
            f"{self.total} images: {self.reused} crops reused, {self.cropped} cropped, "
            f"{len(self.failed)} skipped (no face, unreadable or blank)\n"
            f"faces: {self.detected} found by the detector ({self.detection_rate:.1%} of "
            f"{self.total - self.given} searched), {self.fallback} placed by the set's framing "
            f"(fallback), {self.given} aligned by the dataset's landmarks, {len(self.failed)} skipped"
        )


# The set's framing for faces the detector misses: (5, 2) fractions, a function computing it
# (called only if a face is missed), or None (misses are skipped).
Alignment = np.ndarray | Callable[[], "np.ndarray | None"] | None


def prepare_crops(
    sources: Sequence[Path],
    cache: CropCache,
    crop_fn: CropFn = default_crop,
    *,
    landmarks: np.ndarray | None = None,
    boxes: np.ndarray | None = None,
    alignment: Alignment = None,
    workers: int = 0,
    progress: bool = True,
    desc: str = "crops",
) -> PrepareReport:
    """Crop every image of `sources` not yet in `cache`, with a progress bar.

    landmarks: float (N, 5, 2) pixel points, boxes: float (N, 4) x0 y0 x1 y1; a row with a nan
    means "none given" for that image. alignment: the set's framing as (5, 2) fractions of the
    image size (see `to_fractions`), or a function returning it; images where `crop_fn` finds no
    face are then cropped a second time with those points as landmarks, and counted as fallbacks.
    workers > 1 crops in that many processes (`crop_fn` must then be picklable: a module-level
    function). A failure recorded by an earlier run is not retried (delete the cache's
    failures.jsonl to retry).
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

    def jobs(rows: list[int], fractions: np.ndarray | None) -> list[tuple]:
        return [(Path(sources[r]), landmarks[r], boxes[r], cache, crop_fn, fractions) for r in rows]

    reasons = dict(zip(todo, _run(jobs(todo, None), workers, progress, desc), strict=True))
    missed = [row for row, reason in reasons.items() if reason == NO_FACE]
    if missed and callable(alignment):
        alignment = alignment()
    if missed and alignment is not None:
        retried = _run(jobs(missed, alignment), workers, progress, f"{desc} (set framing)")
        reasons.update(zip(missed, retried, strict=True))
    for row, reason in reasons.items():
        if reason is None:
            report.cropped += 1
            report.kept[row] = True
        else:
            cache.record_failure(sources[row], reason)
            report.failed.append((str(sources[row]), reason))
    fallbacks = cache.fallbacks()
    for row in np.flatnonzero(report.kept):
        if not np.isnan(landmarks[row]).any():
            report.given += 1
        elif str(Path(sources[row]).resolve()) in fallbacks:
            report.fallback += 1
    return report


NO_FACE = "no face found"


def _run(jobs: list[tuple], workers: int, progress: bool, desc: str) -> list[str | None]:
    """Run `_crop_one` over `jobs` (in `workers` processes) with a progress bar; its results in order."""
    if workers <= 1 or not jobs:
        results: Iterator[str | None] = (_crop_one(*job) for job in jobs)
        return list(tqdm(results, total=len(jobs), desc=desc, disable=not progress))
    with ProcessPoolExecutor(workers) as pool:
        results = pool.map(_crop_one, *zip(*jobs, strict=True), chunksize=16)
        return list(tqdm(results, total=len(jobs), desc=desc, disable=not progress))


def _crop_one(
    source: Path,
    landmarks: np.ndarray,
    box: np.ndarray,
    cache: CropCache,
    crop_fn: CropFn,
    fractions: np.ndarray | None,
) -> str | None:
    """Crop one image into the cache (placed by the set's framing `fractions` when given); the
    reason it failed, or None."""
    try:
        image = load_rgb(source)
    except UnreadableImage:
        return "unreadable image"
    if fractions is not None:
        if image.std() < BLANK_STD:
            return "blank image"  # the detector found nothing in it: the framing would crop a flat square
        landmarks = from_fractions(fractions, image.shape)
    crop = crop_fn(
        image,
        None if np.isnan(landmarks).any() else landmarks,
        None if np.isnan(box).any() or fractions is not None else box,
        cache.input_size,
    )
    if crop is None:
        return NO_FACE
    cache.save(source, crop)
    if fractions is not None:
        cache.record_fallback(source, landmarks)
    return None
