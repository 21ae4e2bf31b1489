"""DISFA (Mavadati et al. 2013): AU intensities, thresholded to occurrence.

Expected tree (DISFA's own label folder; DISFA ships videos, so frames are extracted once,
e.g. `ffmpeg -i Videos_LeftCamera/LeftVideoSN001_comp.avi -start_number 1
Images_LeftCamera/SN001/%05d.png`, numbering frames as the label files do, from 1):

    <root>/
      ActionUnit_Labels/SN001/SN001_au1.txt ...   one file per subject and AU; lines
                                                  `frame,intensity`, intensity 0..5
      Images_LeftCamera/SN001/00001.png ...       frames named by number (any zero padding)

An intensity >= 2 (FACS "B" or more) counts as present, 0-1 as absent: the usual DISFA
occurrence convention. DISFA codes AU1, 2, 4, 5, 6, 9, 12, 15, 17, 20, 25, 26; our AUs it does
not code (7, 10, 23, 24, 45) stay -1. Frames without an image are skipped and counted.
DISFA has no official partition: `split` is "all" or a comma-separated list of subjects
("SN001,SN002") for the subject folds of a cross-validation.
"""

import re
from pathlib import Path

import numpy as np

from fatauva.topology import AUS

from .base import (
    DatasetError,
    FaceIndex,
    IndexBuilder,
    first_existing,
    frames_by_number,
    numbered_lines,
    require_dir,
    shown,
    unlabelled_aus,
)

PRESENT_FROM = 2  # intensity at or above which an AU counts as present
LABEL_DIRS = ("ActionUnit_Labels",)
FRAME_DIRS = ("Images_LeftCamera", "img", "images")
AU_FILE = re.compile(r".*_au(\d+)\.txt", re.IGNORECASE)


def disfa_index(
    root: str | Path, split: str = "all", frames_dir: str | Path | None = None, frame_offset: int = 0
) -> FaceIndex:
    """DISFA frames of the subjects in `split` with AU occurrence labels.

    frame_offset: added to a label's frame number to get the image's number (-1 when the
    frames were extracted from 0).
    """
    root = Path(root)
    labels = first_existing(root, LABEL_DIRS, "DISFA label folder")
    frames_root = root / frames_dir if frames_dir else first_existing(root, FRAME_DIRS, "DISFA frame folder")
    subjects = sorted(p.name for p in labels.iterdir() if p.is_dir())
    if split != "all":
        wanted = [s.strip() for s in split.split(",") if s.strip()]
        unknown = sorted(set(wanted) - set(subjects))
        if unknown:
            raise ValueError(f"DISFA has no subjects {', '.join(unknown)} in {labels}")
        subjects = wanted
    builder = IndexBuilder("disfa")
    for subject in subjects:
        per_frame = read_subject(require_dir(labels / subject, "DISFA subject labels"), root)
        frames = frames_by_number(frames_root / subject)
        if not frames:
            raise DatasetError(f"{frames_root / subject}: no frames for DISFA subject {subject}")
        for frame, aus in sorted(per_frame.items()):
            image = frames.get(frame + frame_offset)
            if image is None:
                builder.skipped += 1
            else:
                builder.add(image, subject, aus=aus)
    if not builder.paths:
        raise DatasetError(f"{labels}: no labelled frames found")
    return builder.build()


def read_subject(folder: Path, root: Path) -> dict[int, np.ndarray]:
    """frame -> int64 (14,) occurrence in AUS order, from every `*_au<k>.txt` of one subject."""
    per_frame: dict[int, np.ndarray] = {}
    files = [(int(m.group(1)), p) for p in sorted(folder.iterdir()) if (m := AU_FILE.fullmatch(p.name))]
    if not files:
        raise DatasetError(f"{folder}: no AU label files (<subject>_au<k>.txt)")
    for au, path in files:
        if au not in AUS:
            continue
        column = AUS.index(au)
        for frame, intensity in read_intensities(path, root):
            per_frame.setdefault(frame, unlabelled_aus())[column] = int(intensity >= PRESENT_FROM)
    return per_frame


def read_intensities(path: Path, root: Path) -> list[tuple[int, int]]:
    where = shown(path, root)
    rows = []
    for number, line in numbered_lines(path, root):
        fields = [f.strip() for f in line.split(",")]
        if len(fields) != 2 or not all(f.isdigit() for f in fields) or int(fields[1]) > 5:
            raise DatasetError(
                f"{where} line {number}: expected `frame,intensity` with intensity 0..5, got {line!r}"
            )
        rows.append((int(fields[0]), int(fields[1])))
    return rows
