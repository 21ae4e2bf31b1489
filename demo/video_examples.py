"""Clips that need no download: a SynthFACS face (demo.examples.compose) gliding and zooming over a
gradient background, changing expression every EXPRESSION_SECONDS, written with cv2.VideoWriter.

The Video tab's example (`example_clip`, VP8 WebM so the browser plays it; written once into the
git-ignored cache/) and the clips of tests/test_video.py and bench/video.py come from here. Each
expression is rendered once and pasted into every frame it shows in, so a clip of any length costs
a few renders plus one resize and paste a frame.
"""

import math
from pathlib import Path

import cv2
import numpy as np

from demo.examples import CACHE, compose

# SynthFACS test-split faces with a clear expression each, far apart in V-A: happiness, surprise,
# sadness, anger (the first two are in demo.examples' photos); each is found by the HOG detector.
EXPRESSIONS: tuple[int, ...] = (2, 11, 15, 4)
EXPRESSION_SECONDS = 1.5
FACE_SHARE = 0.42  # the face tile's side, as a share of the frame's height (before zooming)
ZOOM = 0.15  # the tile grows and shrinks by this share
EXAMPLE_NAME = "synthfacs_clip.webm"
EXAMPLE_FRAMES = 150  # 6 s at 25 frames/s


def _tiles(side: int, seed: int) -> list[np.ndarray]:
    """One (side, side, 3) uint8 RGB tile per expression: compose's face, cut out of its canvas."""
    return [compose(((index, side, 0, 0),), seed)[:side, :side] for index in EXPRESSIONS]


def clip_frames(
    n_frames: int,
    size: tuple[int, int] = (360, 640),
    fps: float = 25.0,
    seed: int = 0,
    expression_seconds: float = EXPRESSION_SECONDS,
):
    """The synthetic clip's frames, uint8 RGB (H, W, 3) each, generated one at a time.

    size: (H, W); expression_seconds: how long each of EXPRESSIONS shows, in turn. The face's
    centre follows a Lissajous path over the middle of the frame (periods of 4 s across and 3 s
    down) and its tile zooms by +-ZOOM with a 5 s period."""
    height, width = size
    background = cv2.resize(compose((), seed), (width, height), interpolation=cv2.INTER_AREA)
    side = round(FACE_SHARE * height)
    tiles = _tiles(round(side * (1 + ZOOM)), seed)
    for i in range(n_frames):
        t = i / fps
        tile = tiles[int(t / expression_seconds) % len(tiles)]
        s = round(side * (1 + ZOOM * math.sin(2 * math.pi * t / 5)))
        face = cv2.resize(tile, (s, s), interpolation=cv2.INTER_AREA)
        cx = width / 2 + 0.25 * width * math.sin(2 * math.pi * t / 4)
        cy = height / 2 + 0.12 * height * math.sin(2 * math.pi * t / 3)
        x0 = min(max(0, round(cx - s / 2)), width - s)
        y0 = min(max(0, round(cy - s / 2)), height - s)
        frame = background.copy()
        frame[y0 : y0 + s, x0 : x0 + s] = face
        yield frame


def write_clip(
    path: Path,
    n_frames: int,
    size: tuple[int, int] = (360, 640),
    fps: float = 25.0,
    fourcc: str = "mp4v",
    seed: int = 0,
    expression_seconds: float = EXPRESSION_SECONDS,
) -> Path:
    """Write `clip_frames` to `path` with cv2.VideoWriter and the codec `fourcc` ('mp4v' for .mp4,
    'MJPG' for .avi, 'VP80' for .webm); returns the path."""
    height, width = size
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*fourcc), fps, (width, height))
    if not writer.isOpened():
        raise RuntimeError(f"OpenCV cannot write {fourcc} to {path}")
    try:
        for frame in clip_frames(n_frames, size, fps, seed, expression_seconds):
            writer.write(cv2.cvtColor(frame, cv2.COLOR_RGB2BGR))
    finally:
        writer.release()
    return path


def example_clip(folder: Path = CACHE) -> Path:
    """The Video tab's example clip (written once): 6 s of a SynthFACS face, VP8 WebM at 640x360."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / EXAMPLE_NAME
    if not path.is_file():
        # Written under another name and moved, so a half-written file is never taken for the clip.
        partial = write_clip(folder / f"partial-{EXAMPLE_NAME}", EXAMPLE_FRAMES, fourcc="VP80")
        partial.replace(path)
    return path
