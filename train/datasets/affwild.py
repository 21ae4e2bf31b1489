"""Aff-Wild (Zafeiriou et al. 2017), the V-A data of the paper (§4.4): per-frame valence and arousal.

Expected tree (the Aff-Wild release; it ships videos, so frames are extracted once, e.g.
`ffmpeg -i videos/train/105.avi -start_number 0 frames/train/105/%05d.jpg`, numbering frames
from 0 as the annotation lines are):

    <root>/
      annotations/train/valence/105.txt   one value in [-1, 1] per line; line k = frame k - 1
      annotations/train/arousal/105.txt   same length as the valence file
      frames/train/105/00000.jpg ...      frames named by number (any zero padding)
      bboxes/train/105/0.pts ...          optional: the given face box of each frame (named
                                          by frame number like the images), a .pts
                                          file (`version: 1`, `n_points: 4`, `{`, `x y` lines, `}`);
                                          the box is the points' extent

Split "train" (annotations/train) or "test" (annotations/test, where the test labels were
added). As in §4.1.1 the given boxes locate the face; frames without a box fall back to the
detector, frames without an image are skipped and counted.
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

FRAME_DIRS = ("frames", "images")
BOX_DIRS = ("bboxes", "bboxs")


def affwild_index(root: str | Path, split: str = "train", frame_offset: int = 0) -> FaceIndex:
    """Aff-Wild frames of `split` ("train" or "test") with valence, arousal and the given boxes.

    frame_offset: added to a 0-based annotation line index to get the frame image's number.
    """
    root = Path(root)
    check_split(split, ("train", "test"), "Aff-Wild")
    annotations = require_dir(root / "annotations" / split, f"Aff-Wild {split} annotations")
    valence_dir = require_dir(annotations / "valence", "Aff-Wild valence files")
    arousal_dir = require_dir(annotations / "arousal", "Aff-Wild arousal files")
    frames_root = first_existing(root, FRAME_DIRS, "Aff-Wild frame folder")
    boxes_root = next((root / d / split for d in BOX_DIRS if (root / d / split).is_dir()), None)
    videos = sorted(p.stem for p in valence_dir.glob("*.txt"))
    if not videos:
        raise DatasetError(f"{valence_dir}: no per-video valence files (<video>.txt)")
    builder = IndexBuilder("affwild")
    for video in videos:
        va = read_video_labels(valence_dir / f"{video}.txt", arousal_dir / f"{video}.txt", root)
        frames = frames_by_number(_video_frames(frames_root, split, video))
        if not frames:
            raise DatasetError(f"{frames_root / split / video}: no frames for video {video}")
        boxes = frames_by_number(boxes_root / video, (".pts",)) if boxes_root else {}
        for k, values in enumerate(va):
            image = frames.get(k + frame_offset)
            if image is None:
                builder.skipped += 1
                continue
            box_file = boxes.get(k + frame_offset)
            box = read_pts_box(box_file, root) if box_file else None
            builder.add(image, video, va=values, box=box)
    return builder.build()


def _video_frames(frames_root: Path, split: str, video: str) -> Path:
    # Frames may be kept per split (frames/train/105) or flat (frames/105).
    nested = frames_root / split / video
    return nested if nested.is_dir() else frames_root / video


def read_video_labels(valence_path: Path, arousal_path: Path, root: Path) -> np.ndarray:
    """float32 (frames, 2): valence, arousal of each frame of one video."""
    if not arousal_path.is_file():
        raise DatasetError(f"{arousal_path}: file not found (arousal of {shown(valence_path, root)})")
    valence = _values(valence_path, root)
    arousal = _values(arousal_path, root)
    if len(valence) != len(arousal):
        raise DatasetError(
            f"{shown(valence_path, root)} has {len(valence)} frames but "
            f"{shown(arousal_path, root)} has {len(arousal)}"
        )
    return np.stack([valence, arousal], axis=1).astype(np.float32)


def _values(path: Path, root: Path) -> np.ndarray:
    where = shown(path, root)
    values = []
    for number, line in numbered_lines(path, root):
        try:
            value = float(line)
        except ValueError:
            value = np.inf
        if not -1.0 <= value <= 1.0:
            raise DatasetError(f"{where} line {number}: expected one value in [-1, 1], got {line!r}")
        values.append(value)
    return np.array(values, dtype=np.float32)


def read_pts_box(path: Path, root: Path) -> np.ndarray:
    """The extent x0, y0, x1, y1 (float32 (4,)) of the points of a .pts file."""
    where = shown(path, root)
    lines = list(numbered_lines(path, root))
    try:
        start = next(i for i, (_, text) in enumerate(lines) if text == "{")
        end = next(i for i, (_, text) in enumerate(lines) if text == "}")
    except StopIteration:
        raise DatasetError(f"{where}: not a .pts file (no `{{ ... }}` block of points)") from None
    points = []
    for number, text in lines[start + 1 : end]:
        fields = text.split()
        try:
            if len(fields) != 2:
                raise ValueError
            points.append([float(fields[0]), float(fields[1])])
        except ValueError:
            raise DatasetError(f"{where} line {number}: expected `x y`, got {text!r}") from None
    if len(points) < 2:
        raise DatasetError(f"{where}: a box needs at least 2 points, got {len(points)}")
    pts = np.array(points, dtype=np.float32)
    return np.concatenate([pts.min(axis=0), pts.max(axis=0)])
