"""FER2013 (Goodfellow et al., ICML 2013 challenge): coarse valence-arousal for stage 3 (paper §3.3).

Two published layouts are read:

    Kaggle folders ("msambare/fer2013"):
    <root>/train/<emotion>/Training_10019449.jpg ...   48x48 greyscale
    <root>/test/<emotion>/PublicTest_10016.jpg ...     the public test set
        <emotion>: angry, disgust, fear, happy, neutral, sad, surprise

    The original challenge file:
    <root>/fer2013.csv   (or `root` is the CSV itself) header `emotion,pixels,Usage`, then
                         `0,70 80 82 ... 106,Training`: emotion 0-6 = angry, disgust, fear, happy,
                         sad, surprise, neutral; pixels 2304 = 48x48 grey values 0-255, row by
                         row, space-separated; Usage Training, PublicTest or PrivateTest

The CSV's images are written once as PNG files, `<Usage>_<line>.png` (line = the row's line in the
CSV), into `png_root`: the folder the caller gives, by default
`$XDG_CACHE_HOME/fatauva/fer2013-<hash of the CSV's path>` (`~/.cache/...`). Only the rows of the
requested split are written, each once; a malformed row is a DatasetError naming file and line.

Splits:
- train: train/ (CSV: Training) except the val share;
- val: the images of train/ whose name falls in bucket 0 of 10 (`base.hash_bucket`, sha1 of
  the file name, about 10%), fixed on every machine;
- test: test/ = PublicTest;
- private_test: PrivateTest, CSV layout only (the Kaggle folders do not hold it);
- all: every image.

Labels: each row's emotion (`FaceIndex.emotions`, the names of `train.datasets.emotions`:
happy -> happiness, sad -> sadness, angry -> anger) and its V-A, the emotion's place on the
circumplex from the one table of `train.datasets.emotions` (paper Fig. 1 / Table 1, the same
places SynthFACS generates its V-A from). Attributes and AUs -1 (unlabelled). FER2013 has no
identity labels; groups are the file names.

The images are face-centred crops of one framing, so a face the detector misses is placed by the
mean framing of the faces it finds (`FaceIndex.centred`).
"""

import csv
import hashlib
import os
from pathlib import Path

import cv2
import numpy as np

from .base import DatasetError, FaceIndex, IndexBuilder, check_split, hash_bucket, require_dir, shown
from .emotions import canonical_emotion, emotion_va

SPLITS = ("train", "val", "test", "private_test", "all")
CSV_FILE = "fer2013.csv"
CSV_HEADER = ["emotion", "pixels", "Usage"]
CSV_EMOTIONS = ("angry", "disgust", "fear", "happy", "sad", "surprise", "neutral")  # codes 0-6
USAGES = ("Training", "PublicTest", "PrivateTest")
FOLDERS = {"train": "Training", "test": "PublicTest"}
SIDE = 48
VAL_BUCKET, BUCKETS = 0, 10
IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".bmp")


def fer2013_index(root: str | Path, split: str = "train", png_root: str | Path | None = None) -> FaceIndex:
    """The FER2013 images of `split` (module doc) with their emotion and its V-A.

    root: the folder of the Kaggle layout or of fer2013.csv, or the CSV file itself.
    png_root: where the CSV's images are written (CSV layout only; default in the module doc).
    """
    root = Path(root)
    check_split(split, SPLITS, "FER2013")
    csv_path = root if root.is_file() else root / CSV_FILE
    if root.is_dir() and (root / "train").is_dir():
        rows = folder_rows(root)
    elif csv_path.is_file():
        rows = csv_rows(csv_path, split, Path(png_root) if png_root else default_png_root(csv_path))
    else:
        raise DatasetError(f"FER2013 not found: no {root / 'train'}/ folder and no {csv_path}")
    if split == "private_test" and not any(usage == "PrivateTest" for _, _, usage in rows):
        raise DatasetError(f"{root}: no PrivateTest images (the Kaggle folders hold only the public test)")
    builder = IndexBuilder("fer2013")
    for path, emotion, usage in rows:
        if split in ("all", split_of(path.name, usage)):
            builder.add(path, path.name, va=emotion_va(emotion), emotion=emotion)
    builder.centred = True
    return builder.build()


def split_of(name: str, usage: str) -> str:
    if usage == "Training":
        return "val" if hash_bucket(name, BUCKETS) == VAL_BUCKET else "train"
    return "test" if usage == "PublicTest" else "private_test"


def folder_rows(root: Path) -> list[tuple[Path, str, str]]:
    """(image, emotion, Usage) of the Kaggle folders train/<emotion>/ and test/<emotion>/."""
    rows = []
    for folder, usage in FOLDERS.items():
        if folder == "test":
            require_dir(root / folder, "FER2013 test images")
        for emotion_dir in sorted(p for p in (root / folder).iterdir() if p.is_dir()):
            emotion = canonical_emotion(emotion_dir.name)
            if emotion_dir.name.lower() not in CSV_EMOTIONS or emotion is None:
                raise DatasetError(
                    f"{shown(emotion_dir, root)}: not a FER2013 emotion folder; expected one of "
                    f"{', '.join(CSV_EMOTIONS)}"
                )
            images = sorted(p for p in emotion_dir.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES)
            rows += [(path, emotion, usage) for path in images]
    return rows


def csv_rows(path: Path, split: str, png_root: Path) -> list[tuple[Path, str, str]]:
    """(PNG, emotion, Usage) of every row of fer2013.csv; the PNGs of `split` are written if missing."""
    where = path.name
    rows = []
    with path.open(newline="", encoding="utf-8-sig") as f:
        reader = csv.reader(f)
        header = next(reader, [])
        if [h.strip() for h in header] != CSV_HEADER:
            raise DatasetError(f"{where} line 1: expected the header {','.join(CSV_HEADER)}, got {header}")
        for fields in reader:
            line = reader.line_num
            if not fields:
                continue
            if len(fields) != 3:
                raise DatasetError(
                    f"{where} line {line}: expected 3 fields emotion,pixels,Usage, got {len(fields)}"
                )
            code, pixels, usage = (v.strip() for v in fields)
            if code not in {str(k) for k in range(len(CSV_EMOTIONS))}:
                raise DatasetError(f"{where} line {line}: emotion must be 0-6, got {code!r}")
            if usage not in USAGES:
                raise DatasetError(
                    f"{where} line {line}: Usage must be one of {', '.join(USAGES)}, got {usage!r}"
                )
            png = png_root / f"{usage}_{line:05d}.png"
            if split in ("all", split_of(png.name, usage)) and not png.is_file():
                write_png(png, decode_pixels(pixels, where, line))
            rows.append((png, canonical_emotion(CSV_EMOTIONS[int(code)]), usage))
    return rows


def decode_pixels(text: str, where: str, line: int) -> np.ndarray:
    """2304 space-separated grey values -> uint8 (48, 48); DatasetError naming the line otherwise."""
    values = text.split()
    if len(values) != SIDE * SIDE:
        raise DatasetError(f"{where} line {line}: expected {SIDE * SIDE} pixel values, got {len(values)}")
    try:
        grey = np.array(values, dtype=np.int64)
    except ValueError:
        raise DatasetError(f"{where} line {line}: pixel values must be integers 0-255") from None
    if grey.min() < 0 or grey.max() > 255:
        raise DatasetError(f"{where} line {line}: pixel values must be integers 0-255")
    return grey.astype(np.uint8).reshape(SIDE, SIDE)


def write_png(path: Path, image: np.ndarray) -> None:
    """Write under a temporary name and rename: an interrupted run never leaves half a PNG."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f"{path.stem}.tmp{os.getpid()}.png")
    cv2.imwrite(str(tmp), image)
    os.replace(tmp, path)


def default_png_root(csv_path: Path) -> Path:
    """`$XDG_CACHE_HOME/fatauva/fer2013-<8 hex of the CSV's resolved path>`."""
    base = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    key = hashlib.sha1(str(csv_path.resolve()).encode()).hexdigest()[:8]
    return base / "fatauva" / f"fer2013-{key}"
