"""BP4D-Spontaneous AU occurrence as released for FERA2015 (Valstar et al. 2015), paper §4.3.

Expected tree (the FERA2015 BP4D release; the BP4D release's AUCoding/AU_OCC/ works too):

    <root>/
      AUCoding/F001_T1.csv ...     one CSV per session <subject>_<task>. Header row: the frame
                                   column (any name), then one column per AU named by its number
                                   ("1", "2", ... or "AU01"); rows `2440,0,1,...,9`:
                                   1 present, 0 absent, 9 not coded (-> -1, masked in the loss)
      BP4D-training/F001/T1/2440.jpg ...   frames named by the frame number (any zero padding)

Frames labelled in a CSV but missing on disk are skipped and counted (`FaceIndex.skipped`);
rows where none of our 14 AUs is coded are dropped. AUs the files do not code (BP4D has no
AU45, for instance) stay -1.

Splits follow the FERA2015 subject-independent partition of BP4D (the baseline's lists,
TadasBaltrusaitis/FERA-2015 `shared_defs.m`): "train" = the 21 training subjects, "val" = the
20 development subjects (the paper's "21 participants for training, 20 for evaluation"),
"all" = every session found.
"""

import csv
import re
from pathlib import Path

import numpy as np

from fatauva.topology import AUS

from .base import (
    DatasetError,
    FaceIndex,
    IndexBuilder,
    au_number,
    check_split,
    first_existing,
    frames_by_number,
    shown,
    unlabelled_aus,
)

FERA2015_TRAIN_SUBJECTS = (
    "F001", "F003", "F005", "F007", "F009", "F011", "F013", "F015", "F017", "F019", "F021", "F023",
    "M001", "M003", "M005", "M007", "M009", "M011", "M013", "M015", "M017",
)  # fmt: skip
FERA2015_DEVEL_SUBJECTS = (
    "F002", "F004", "F006", "F008", "F010", "F012", "F014", "F016", "F018", "F020", "F022",
    "M002", "M004", "M006", "M008", "M010", "M012", "M014", "M016", "M018",
)  # fmt: skip
SPLIT_SUBJECTS = {"train": FERA2015_TRAIN_SUBJECTS, "val": FERA2015_DEVEL_SUBJECTS}
LABEL_DIRS = ("AUCoding/AU_OCC", "AUCoding", "AU_OCC")
FRAME_DIRS = ("BP4D-training", "Sequences", "images")
SESSION = re.compile(r"([FM]\d{3})_(T\d+)")
CODES = {"0": 0, "1": 1, "9": -1}


def bp4d_index(root: str | Path, split: str = "train", frames_dir: str | Path | None = None) -> FaceIndex:
    """BP4D frames of `split` ("train", "val", "all") with their AU occurrence labels."""
    root = Path(root)
    check_split(split, (*SPLIT_SUBJECTS, "all"), "BP4D/FERA2015")
    labels = first_existing(root, LABEL_DIRS, "BP4D AU occurrence folder")
    frames_root = root / frames_dir if frames_dir else first_existing(root, FRAME_DIRS, "BP4D frame folder")
    sessions = sorted(labels.glob("*.csv"))
    if not sessions:
        raise DatasetError(f"{labels}: no occurrence CSVs (<subject>_<task>.csv)")
    builder = IndexBuilder("bp4d")
    uncoded = 0
    for path in sessions:
        match = SESSION.fullmatch(path.stem)
        if match is None:
            raise DatasetError(f"{shown(path, root)}: not a session file name; expected e.g. F001_T1.csv")
        subject, task = match.groups()
        if split != "all" and subject not in SPLIT_SUBJECTS[split]:
            continue
        frames = frames_by_number(frames_root / subject / task)
        if not frames:
            raise DatasetError(f"{frames_root / subject / task}: no frames for {shown(path, root)}")
        for frame, aus in read_occurrence(path, root):
            if (aus < 0).all():
                uncoded += 1
            elif frame in frames:
                builder.add(frames[frame], f"{subject}_{task}", aus=aus)
            else:
                builder.skipped += 1
    if not builder.paths:
        raise DatasetError(f"{labels}: no labelled frames for split {split!r}")
    builder.notes.append(f"{uncoded} frames with none of our AUs coded were dropped")
    return builder.build()


def read_occurrence(path: Path, root: Path) -> list[tuple[int, np.ndarray]]:
    """(frame number, int64 (14,) in AUS order) for every row of one session CSV."""
    where = shown(path, root)
    with path.open(newline="", encoding="utf-8-sig") as f:
        rows = [
            (number, row) for number, row in enumerate(csv.reader(f), start=1) if any(c.strip() for c in row)
        ]
    if not rows:
        raise DatasetError(f"{where}: empty file")
    header = rows[0][1]
    columns = {}
    for c, name in enumerate(header[1:], start=1):
        au = au_number(name)
        if au in AUS:
            columns[AUS.index(au)] = c
    out = []
    for number, row in rows[1:]:
        if len(row) != len(header):
            raise DatasetError(f"{where} line {number}: expected {len(header)} fields, got {len(row)}")
        aus = unlabelled_aus()
        for k, c in columns.items():
            code = row[c].strip()
            if code not in CODES:
                raise DatasetError(f"{where} line {number}: AU{AUS[k]} must be 0, 1 or 9, got {code!r}")
            aus[k] = CODES[code]
        frame = row[0].strip()
        if not frame.isdigit():
            raise DatasetError(f"{where} line {number}: frame number expected, got {frame!r}")
        out.append((int(frame), aus))
    return out
