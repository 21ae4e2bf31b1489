"""Aff-Wild2 (Kollias & Zafeiriou), the VA Estimation Challenge of the ABAW competitions.

Expected tree (the ABAW release of annotations and cropped-aligned frames):

    <root>/
      Annotations/VA_Estimation_Challenge/Train_Set/<video>.txt
      Annotations/VA_Estimation_Challenge/Validation_Set/<video>.txt
                                    line 1 `valence,arousal`, then one `v,a` line per frame
                                    (line k + 1 = frame k, from 1); -5 = not annotated (-> nan)
      cropped_aligned/<video>/00001.jpg ...   the organisers' face crops, named by frame number

(Older releases keep the annotations under annotations/VA_Set/; both are recognised.) Frames
annotated -5 for both values are dropped; frames without an image (the organisers' detector
found no face there) are skipped and counted. Split "train" (Train_Set) or "val"
(Validation_Set). The organisers' crops are re-aligned to our template by `train.preprocess`.
"""

from pathlib import Path

import numpy as np

from .base import (
    DatasetError,
    FaceIndex,
    IndexBuilder,
    check_split,
    first_existing,
    frames_by_number,
    numbered_lines,
    require_dir,
    shown,
)

ANNOTATION_DIRS = (
    "Annotations/VA_Estimation_Challenge",
    "annotations/VA_Estimation_Challenge",
    "VA_Estimation_Challenge",
    "Annotations/VA_Set",
    "annotations/VA_Set",
    "VA_Set",
)
SPLIT_DIRS = {"train": "Train_Set", "val": "Validation_Set"}
FRAME_DIRS = ("cropped_aligned",)
UNLABELLED = -5.0


def affwild2_index(root: str | Path, split: str = "train") -> FaceIndex:
    """Aff-Wild2 frames of `split` ("train" or "val") with valence and arousal."""
    root = Path(root)
    check_split(split, tuple(SPLIT_DIRS), "Aff-Wild2")
    annotations = first_existing(root, ANNOTATION_DIRS, "Aff-Wild2 VA annotation folder")
    split_dir = require_dir(annotations / SPLIT_DIRS[split], f"Aff-Wild2 {split} annotations")
    frames_root = first_existing(root, FRAME_DIRS, "Aff-Wild2 cropped_aligned frames")
    files = sorted(split_dir.glob("*.txt"))
    if not files:
        raise DatasetError(f"{split_dir}: no per-video annotation files (<video>.txt)")
    builder = IndexBuilder("affwild2")
    unannotated = 0
    for path in files:
        video = path.stem
        frames = frames_by_number(frames_root / video)
        if not frames:
            raise DatasetError(f"{frames_root / video}: no frames for {shown(path, root)}")
        for frame, va in enumerate(read_va_file(path, root), start=1):
            if np.isnan(va).all():
                unannotated += 1
            elif frame in frames:
                builder.add(frames[frame], video, va=va)
            else:
                builder.skipped += 1
    builder.notes.append(f"{unannotated} frames annotated -5 (not annotated) were dropped")
    return builder.build()


def read_va_file(path: Path, root: Path) -> np.ndarray:
    """float32 (frames, 2): valence, arousal per frame; -5 -> nan."""
    where = shown(path, root)
    lines = list(numbered_lines(path, root))
    if not lines or lines[0][1].replace(" ", "").lower() != "valence,arousal":
        raise DatasetError(f"{where} line 1: expected the header `valence,arousal`")
    rows = []
    for number, line in lines[1:]:
        try:
            values = [float(v) for v in line.split(",")]
        except ValueError:
            values = []
        if len(values) != 2 or not all(v == UNLABELLED or -1.0 <= v <= 1.0 for v in values):
            raise DatasetError(
                f"{where} line {number}: expected `valence,arousal` in [-1, 1] or -5, got {line!r}"
            )
        rows.append([np.nan if v == UNLABELLED else v for v in values])
    return np.array(rows, dtype=np.float32).reshape(-1, 2)
