"""What every dataset adapter produces: a `FaceIndex` (labels + where the pixels are), and `DatasetError`.

An adapter reads only label files and directory listings; no image is decoded here. The
pixels are cropped once by `train.preprocess` and served by `train.datasets.torch_dataset`.

Label conventions (the training sample contract every adapter yields):
- attributes: int64 (N, 10) in `topology.ATTRIBUTES` order, 1 present, 0 absent, -1 unlabelled;
- aus: int64 (N, 14) in `topology.AUS` order, same coding; an AU the dataset does not code is -1,
  which the masked loss skips;
- va: float32 (N, 2) valence, arousal in [-1, 1], nan = unlabelled;
- emotions: one name per row from `train.datasets.emotions` ("" = unknown); ages: float32 (N,)
  years, nan = unknown. Both default to unknown, so an adapter without them sets neither.
"""

import hashlib
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from fatauva.topology import ATTRIBUTES, AUS


class DatasetError(ValueError):
    """A dataset on disk is missing or malformed; the message names the file (and line)."""


@dataclass
class FaceIndex:
    """Labelled images of one dataset split, column-wise (N rows).

    paths: source images; groups: subject / session / video of each row (for subject-level
    reports); landmarks (N, 5, 2) float32 pixels in template order (nan rows = none given);
    boxes (N, 4) float32 x0, y0, x1, y1 pixels (nan rows = none given); skipped: labelled
    frames dropped because the dataset has no image for them (counted, not fatal);
    emotions: N names ("" = unknown; [] when built means all unknown); ages (N,) float32 years
    (nan = unknown; an empty array when built means all unknown); centred: the images are
    face-centred crops of one framing (CelebA, UTKFace, GENKI-4K, FER2013, CK+48), so a face the
    detector misses can be placed by that framing: `alignment`, five template-order points (5, 2)
    as fractions of image width and height, when the set's framing is known, else the mean of
    the faces the detector finds (`train.preprocess.measure_alignment`).
    """

    name: str
    paths: list[Path]
    attributes: np.ndarray
    aus: np.ndarray
    va: np.ndarray
    groups: list[str]
    landmarks: np.ndarray
    boxes: np.ndarray
    skipped: int = 0
    notes: list[str] = field(default_factory=list)
    emotions: list[str] = field(default_factory=list)
    ages: np.ndarray = field(default_factory=lambda: np.zeros(0, np.float32))
    centred: bool = False
    alignment: np.ndarray | None = None

    def __post_init__(self) -> None:
        n = len(self.paths)
        if not self.emotions:
            self.emotions = [""] * n
        if not len(self.ages):
            self.ages = np.full(n, np.nan, np.float32)
        expected = {
            "attributes": (n, len(ATTRIBUTES)),
            "aus": (n, len(AUS)),
            "va": (n, 2),
            "landmarks": (n, 5, 2),
            "boxes": (n, 4),
            "ages": (n,),
        }
        for name, shape in expected.items():
            if getattr(self, name).shape != shape:
                raise ValueError(f"FaceIndex.{name} has shape {getattr(self, name).shape}, expected {shape}")
        for name in ("groups", "emotions"):
            if len(getattr(self, name)) != n:
                raise ValueError(f"FaceIndex.{name} has {len(getattr(self, name))} entries, expected {n}")
        if self.alignment is not None and self.alignment.shape != (5, 2):
            raise ValueError(f"FaceIndex.alignment has shape {self.alignment.shape}, expected (5, 2)")

    def __len__(self) -> int:
        return len(self.paths)

    def subset(self, rows: Sequence[int] | np.ndarray) -> "FaceIndex":
        """The rows `rows` (indices or a boolean mask) as a new index."""
        rows = np.arange(len(self))[np.asarray(rows)] if len(rows) else np.zeros(0, dtype=np.int64)
        return FaceIndex(
            name=self.name,
            paths=[self.paths[i] for i in rows],
            attributes=self.attributes[rows],
            aus=self.aus[rows],
            va=self.va[rows],
            groups=[self.groups[i] for i in rows],
            landmarks=self.landmarks[rows],
            boxes=self.boxes[rows],
            skipped=self.skipped,
            notes=list(self.notes),
            emotions=[self.emotions[i] for i in rows],
            ages=self.ages[rows],
            centred=self.centred,
            alignment=self.alignment,
        )


class IndexBuilder:
    """Collects rows one at a time; every label starts unlabelled (-1 / nan)."""

    def __init__(self, name: str):
        self.name = name
        self.paths: list[Path] = []
        self.groups: list[str] = []
        self.attributes: list[np.ndarray] = []
        self.aus: list[np.ndarray] = []
        self.va: list[np.ndarray] = []
        self.landmarks: list[np.ndarray] = []
        self.boxes: list[np.ndarray] = []
        self.emotions: list[str] = []
        self.ages: list[float] = []
        self.skipped = 0
        self.notes: list[str] = []
        self.centred = False
        self.alignment: np.ndarray | None = None

    def add(
        self,
        path: Path,
        group: str = "",
        *,
        attributes: np.ndarray | None = None,
        aus: np.ndarray | None = None,
        va: np.ndarray | None = None,
        landmarks: np.ndarray | None = None,
        box: np.ndarray | None = None,
        emotion: str = "",
        age: float = float("nan"),
    ) -> None:
        self.paths.append(path)
        self.groups.append(group)
        self.emotions.append(emotion)
        self.ages.append(age)
        self.attributes.append(unlabelled_attributes() if attributes is None else attributes)
        self.aus.append(unlabelled_aus() if aus is None else aus)
        self.va.append(np.full(2, np.nan, np.float32) if va is None else np.asarray(va, np.float32))
        self.landmarks.append(np.full((5, 2), np.nan, np.float32) if landmarks is None else landmarks)
        self.boxes.append(np.full(4, np.nan, np.float32) if box is None else np.asarray(box, np.float32))

    def build(self) -> FaceIndex:
        n = len(self.paths)
        return FaceIndex(
            name=self.name,
            paths=self.paths,
            attributes=_stack(self.attributes, (n, len(ATTRIBUTES)), np.int64),
            aus=_stack(self.aus, (n, len(AUS)), np.int64),
            va=_stack(self.va, (n, 2), np.float32),
            groups=self.groups,
            landmarks=_stack(self.landmarks, (n, 5, 2), np.float32),
            boxes=_stack(self.boxes, (n, 4), np.float32),
            skipped=self.skipped,
            notes=self.notes,
            emotions=self.emotions,
            ages=np.asarray(self.ages, np.float32).reshape(n),
            centred=self.centred,
            alignment=self.alignment,
        )


def _stack(rows: list[np.ndarray], shape: tuple[int, ...], dtype: type) -> np.ndarray:
    return np.stack(rows).astype(dtype) if rows else np.zeros(shape, dtype)


def unlabelled_attributes() -> np.ndarray:
    return np.full(len(ATTRIBUTES), -1, np.int64)


def unlabelled_aus() -> np.ndarray:
    return np.full(len(AUS), -1, np.int64)


def shown(path: Path, root: Path) -> str:
    """`path` relative to the dataset root when it lies inside it: short, yet unambiguous."""
    try:
        return str(path.relative_to(root))
    except ValueError:
        return str(path)


def require_file(path: Path, what: str) -> Path:
    if not path.is_file():
        raise DatasetError(f"{path}: file not found ({what})")
    return path


def require_dir(path: Path, what: str) -> Path:
    if not path.is_dir():
        raise DatasetError(f"{path}: folder not found ({what})")
    return path


def first_existing(root: Path, candidates: Sequence[str], what: str) -> Path:
    """The first of `root / c` that exists, else one error listing every place looked at."""
    for c in candidates:
        if (root / c).exists():
            return root / c
    tried = ", ".join(str(root / c) for c in candidates)
    raise DatasetError(f"{what} not found; looked for: {tried}")


def numbered_lines(path: Path, root: Path) -> Iterator[tuple[int, str]]:
    """(1-based line number, stripped line) of a text file, skipping blank lines."""
    try:
        text = path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError as err:
        raise DatasetError(f"{shown(path, root)}: not a UTF-8 text file ({err.reason})") from None
    for number, line in enumerate(text.splitlines(), start=1):
        if line.strip():
            yield number, line.strip()


def frames_by_number(
    folder: Path, extensions: Sequence[str] = (".jpg", ".jpeg", ".png", ".bmp")
) -> dict[int, Path]:
    """Image files of a frame folder keyed by the integer in their name: '0042.jpg' and '42.png' -> 42.

    Video datasets zero-pad frame names differently from release to release, so the number, not
    the spelling, is what matches a label row.
    """
    frames: dict[int, Path] = {}
    if not folder.is_dir():
        return frames
    for entry in folder.iterdir():
        if entry.suffix.lower() in extensions and entry.stem.isdigit():
            frames[int(entry.stem)] = entry
    return frames


def hash_bucket(name: str, buckets: int) -> int:
    """A fixed bucket in [0, buckets) for a file name: sha1 of the name, so a split drawn from it is
    the same on every machine and in every Python (unlike `hash`, which is salted per process)."""
    return int(hashlib.sha1(name.encode()).hexdigest()[:8], 16) % buckets


def check_split(split: str, allowed: Sequence[str], dataset: str) -> str:
    if split not in allowed:
        raise ValueError(f"{dataset} has no split {split!r}; choose one of {', '.join(allowed)}")
    return split


def au_number(name: str) -> int | None:
    """The AU a column header names: '12', 'AU12', 'au012' -> 12; anything else -> None."""
    text = name.strip().upper().removeprefix("AU")
    return int(text) if text.isdigit() else None
