"""Live: one webcam frame in; the face found or followed, its AUs, V-A and one branch's map drawn; out.

`step` is the whole per-frame work and the Live tab's stream calls it (demo.live_tab.handler), as do
bench.live and the tests, so what they measure is what a viewer gets. Nothing here knows of Gradio.

Finding the face is the cost. dlib's HOG (fatauva.faces.detect_faces) on a whole 640x480 frame takes
~80 ms at scale 1 and ~400 ms upsampled for 40 px faces, so a frame is searched whole only when no
face is being followed, or every REDETECT_EVERY frames (so a larger face that walks in is picked up),
and then only for faces of at least MIN_FACE_SHARE of the frame's shorter side (the detector's
working copy is 2/3 of a 640x480 frame, ~50 ms). In between, the face is followed by running the
same detector in a window WINDOW_GROW box sides wide around the last box, at the search's scale
(~14 ms): the box stays the detector's own box, and a face that left the window is noticed at once
(no detection there -> the whole frame is searched). Re-running only the landmark predictor on the
last box would cost ~1 ms but drifts, and cannot tell that the face has gone.

The network runs once per frame: `explain.cam.batched_cams` for the chosen target alone returns the
forward pass it explains (AUs, V-A) with the map, whose backward runs through the FC heads only
(maps on each target's own branch). It runs on a fused inference copy of the weights of its own
(BN folded, `FatauvaNet.fused`), which gives the trainable model's maps (tests/test_live.py) faster
and shares no hooks with the Analyze tab's explanations.
"""

from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass, field, replace

import cv2
import numpy as np
import torch

from demo.examples import compose
from demo.explanations import BRANCH, DEFAULT_METHOD, MARKS, heat_on_photo, heat_over, verdict_of
from demo.realphoto import neutral_baseline, va_references
from fatauva import topology
from fatauva.analyze import Analyzer
from fatauva.faces import FaceBox, align_face, as_rgb, detect_faces, detection_scale
from fatauva.template import similarity_transform, template_points, to_tensor

LIVE_SIDE = 640  # px: frames are shrunk to this longer side before anything else
MIN_FACE_SHARE = 0.25  # a whole-frame search looks for faces of this share of the shorter side
REDETECT_EVERY = 10  # frames: the whole frame is searched at least this often
WINDOW_GROW = 2.0  # the window a followed face is looked for in, in sides of its last box
DETECT_MAX_SIDE = 1280  # px: fatauva.faces.detect_faces' default, stated so `follow` can use its scale
HOG_CELL = 8  # px: dlib's HOG cell, in the detector's working copy
TRAIL = 20  # V-A points kept for the trail (2 s at 10 updates/s)
RATE_WINDOW = 10  # updates the shown update rate is averaged over

_BOX = (46, 160, 67)
_POINT = (214, 39, 40)
_BAR = (31, 119, 180)
_GREY = (150, 150, 150)
_INK = (30, 30, 30)
_FONT = cv2.FONT_HERSHEY_SIMPLEX


@dataclass
class LiveState:
    """One viewer's stream: the face followed (None: search the whole frame), frames since the last
    whole-frame search, the last TRAIL (valence, arousal) points and the last updates' times."""

    face: FaceBox | None = None
    since_search: int = 0
    trail: deque = field(default_factory=lambda: deque(maxlen=TRAIL))
    stamps: deque = field(default_factory=lambda: deque(maxlen=RATE_WINDOW))

    def rate(self) -> float | None:
        """Updates per second over the last RATE_WINDOW updates (None before two)."""
        if len(self.stamps) < 2 or self.stamps[-1] <= self.stamps[0]:
            return None
        return (len(self.stamps) - 1) / (self.stamps[-1] - self.stamps[0])


@dataclass
class Reading:
    """What the network says about one crop: P(AU) by AU number, valence and arousal in [-1, 1],
    the chosen target's value (P(present), or the V-A output) and its map, float32 (S, S) in [0, 1]."""

    aus: dict[int, float]
    valence: float
    arousal: float
    value: float
    heat: np.ndarray


@dataclass
class LiveModel:
    """The network as Live runs it (module docstring): a fused copy, its input size and metrics.json."""

    net: torch.nn.Module
    input_size: int
    metrics: dict

    @classmethod
    def of(cls, analyzer: Analyzer) -> "LiveModel":
        loaded = analyzer.loaded
        return cls(loaded.model.fused(), loaded.model.config.input_size, loaded.metrics)

    def read(self, crop: np.ndarray, target: str, method: str = DEFAULT_METHOD) -> Reading:
        """One aligned crop (S, S, 3) uint8 RGB -> a Reading with `target`'s map on its own branch.

        Raises KeyError for an unknown target and ValueError for an unknown method."""
        # explain/ pulls in torchvision (seconds): the first frame pays it, not the app's start.
        from explain.cam import batched_cams
        from explain.targets import target as find_target

        chosen = find_target(target)
        x = to_tensor(crop).to(next(self.net.parameters()).device)
        cams = batched_cams(self.net, x, (chosen,), method, BRANCH)
        out = cams.output
        with torch.no_grad():
            aus, va = out.au_probs()[0].tolist(), out.va()[0].tolist()
            values = {"attribute": out.attribute_probs()[0].tolist(), "au": aus, "va": va}
        return Reading(
            aus=dict(zip(topology.AUS, aus, strict=True)),
            valence=va[0],
            arousal=va[1],
            value=values[chosen.kind][chosen.index],
            heat=cams.maps[chosen.name][0],
        )

    def verdicts(self, method: str) -> dict[str, bool | None]:
        """{target: passed} of these weights' faithfulness record for `method` maps on each branch."""
        from explain.gate import verdicts

        return verdicts(self.metrics, method, BRANCH)


@dataclass
class LiveUpdate:
    """One frame's result: the frame (shrunk to LIVE_SIDE) with the face boxed and the map over it,
    the panel (the map over the crop, AU bars, the V-A trail), one status line, and the numbers
    (face None and reading None when no face is in view)."""

    frame: np.ndarray
    panel: np.ndarray
    message: str
    face: FaceBox | None
    reading: Reading | None
    searched: bool


# ----- finding and following the face ------------------------------------------------------------
def shrink(frame: np.ndarray) -> np.ndarray:
    """Any uint8 frame (grey, RGB, RGBA) -> RGB with its longer side at most LIVE_SIDE."""
    rgb = as_rgb(frame)
    scale = LIVE_SIDE / max(rgb.shape[:2])
    return cv2.resize(rgb, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA) if scale < 1 else rgb


def min_face(frame: np.ndarray) -> int:
    """The smallest face (px) a whole-frame search looks for in `frame`."""
    return max(1, round(MIN_FACE_SHARE * min(frame.shape[:2])))


def box_iou(a: FaceBox, b: FaceBox) -> float:
    """Intersection over union of two boxes (0 when apart)."""
    w = max(0.0, min(a.x1, b.x1) - max(a.x0, b.x0))
    h = max(0.0, min(a.y1, b.y1) - max(a.y0, b.y0))
    union = a.area + b.area - w * h
    return w * h / union if union > 0 else 0.0


def search(frame: np.ndarray) -> FaceBox | None:
    """The largest face of the whole frame (faces under `min_face` px are not looked for)."""
    faces = detect_faces(frame, min_face=min_face(frame), max_side=DETECT_MAX_SIDE)
    return faces[0] if faces else None


def follow(frame: np.ndarray, last: FaceBox) -> FaceBox | None:
    """The face nearest `last` in a window WINDOW_GROW of its sides wide around it, in frame pixels;
    None when the detector finds no face there.

    The window is searched at the whole-frame search's scale and its corner put on that search's
    grid of HOG cells, so the detector sees the pixels it would have seen on the whole frame and
    gives the box it would have given (no drift, no jitter from a window-dependent scale)."""
    look_for = min_face(frame)
    height, width = frame.shape[:2]
    cell = HOG_CELL / detection_scale(height, width, look_for, DETECT_MAX_SIDE)  # frame px
    half = WINDOW_GROW * max(last.width, last.height) / 2
    cx, cy = (last.x0 + last.x1) / 2, (last.y0 + last.y1) / 2
    x0, y0 = (max(0, round(cell * np.floor((c - half) / cell))) for c in (cx, cy))
    x1, y1 = min(width, round(cx + half)), min(height, round(cy + half))
    if x1 - x0 < look_for or y1 - y0 < look_for:
        return None
    found = detect_faces(frame[y0:y1, x0:x1], min_face=look_for, max_side=DETECT_MAX_SIDE)
    moved = [
        replace(f, x0=f.x0 + x0, y0=f.y0 + y0, x1=f.x1 + x0, y1=f.y1 + y0, landmarks=f.landmarks + (x0, y0))
        for f in found
    ]
    return max(moved, key=lambda f: box_iou(f, last), default=None)


def locate(frame: np.ndarray, state: LiveState) -> tuple[FaceBox | None, bool]:
    """The face of this frame and whether the whole frame was searched for it; updates `state`."""
    face = None
    if state.face is not None and state.since_search < REDETECT_EVERY:
        face = follow(frame, state.face)
    searched = face is None
    if searched:
        face = search(frame)
        state.since_search = 0
    state.since_search += 1
    state.face = face
    return face, searched


# ----- one frame --------------------------------------------------------------------------------
def step(
    model: LiveModel,
    frame: np.ndarray,
    state: LiveState,
    target: str = "AU12",
    method: str = DEFAULT_METHOD,
    now: float | None = None,
) -> LiveUpdate:
    """One webcam frame (uint8 (H, W, 3) RGB; grey and RGBA converted) through Live: locate the face,
    read it, draw it. `state` is updated in place (face followed, trail, update times at `now`)."""
    shown = shrink(frame)
    if now is not None:
        state.stamps.append(now)
    face, searched = locate(shown, state)
    if face is None:
        state.trail.clear()
        message = (
            f"No face in view (faces of {min_face(shown)} px and more are looked for): "
            "face the camera, a little closer, with light on the face."
        )
        return LiveUpdate(shown, blank_panel(message), message, None, None, searched)
    crop = align_face(shown, face.landmarks, model.input_size)
    reading = model.read(crop, target, method)
    state.trail.append((reading.valence, reading.arousal))
    verdict = verdict_of(model.verdicts(method).get(target))
    caption = target + (
        f"={reading.value:+.2f}" if target in topology.VA_TARGETS else f" P={reading.value:.2f}"
    )
    rate = state.rate()
    message = (
        f"{'Found' if searched else 'Following'} a face {face.width:.0f} px wide · "
        f"map: {target} on its branch, {method} ({MARKS[verdict]}) · "
        + (f"{rate:.1f} updates/s" if rate else "measuring the update rate…")
    )
    return LiveUpdate(
        frame=annotate(shown, face, reading.heat, caption, model.input_size),
        panel=panel(
            heat_over(crop, reading.heat),
            caption,
            reading.aus,
            list(state.trail),
            neutral_baseline(model.metrics),
            va_references(model.metrics),
        ),
        message=message,
        face=face,
        reading=reading,
        searched=searched,
    )


# ----- drawing ----------------------------------------------------------------------------------
def annotate(frame: np.ndarray, face: FaceBox, heat: np.ndarray, caption: str, input_size: int) -> np.ndarray:
    """The frame with the crop map blended over the face's crop footprint (demo.explanations
    heat_on_photo, on the footprint's bounding window only), the box, the five landmarks and a caption."""
    out = frame.copy()
    to_crop = similarity_transform(np.asarray(face.landmarks, np.float64), template_points(input_size))
    corners = np.array([[0, 0], [input_size, 0], [0, input_size], [input_size, input_size]], np.float64)
    on_frame = cv2.transform(corners[None], cv2.invertAffineTransform(to_crop))[0]
    height, width = frame.shape[:2]
    x0, y0 = np.clip(np.floor(on_frame.min(axis=0)).astype(int), 0, (width, height))
    x1, y1 = np.clip(np.ceil(on_frame.max(axis=0)).astype(int) + 1, 0, (width, height))
    if x1 > x0 and y1 > y0:
        out[y0:y1, x0:x1] = heat_on_photo(out[y0:y1, x0:x1], heat, face.landmarks - (x0, y0), input_size)
    box = (round(face.x0), round(face.y0)), (round(face.x1), round(face.y1))
    cv2.rectangle(out, *box, _BOX, 2)
    for x, y in face.landmarks:
        cv2.circle(out, (round(x), round(y)), 2, _POINT, -1)
    (tw, th), _ = cv2.getTextSize(caption, _FONT, 0.6, 2)
    tx, ty = box[0][0], max(box[0][1] - 8, th + 4)
    cv2.rectangle(out, (tx - 2, ty - th - 4), (tx + tw + 2, ty + 4), _BOX, -1)
    cv2.putText(out, caption, (tx, ty), _FONT, 0.6, (255, 255, 255), 2, cv2.LINE_AA)
    return out


PANEL = (470, 580)  # (H, W) of the panel
_TOP = 30  # px left white at the top, where Gradio lays the image's label over it
_MAP_SIDE = 200  # px: the map over the crop, top left
_BARS_X = 225  # px: where the AU column starts
_BAR_LEFT, _BAR_WIDTH, _ROW = 190, 120, 30  # px, within the AU column


def _blank() -> np.ndarray:
    return np.full((*PANEL, 3), 255, np.uint8)


def blank_panel(message: str) -> np.ndarray:
    """The panel when there is no face: white, with the first words of `message`."""
    out = _blank()
    cv2.putText(out, message.split("(")[0].strip(), (20, PANEL[0] // 2), _FONT, 0.7, _INK, 2, cv2.LINE_AA)
    return out


def panel(
    map_over_crop: np.ndarray,
    caption: str,
    aus: dict[int, float],
    trail: list[tuple[float, float]],
    neutral: dict[int, float] | None = None,
    references: dict[str, tuple[float, float]] | None = None,
) -> np.ndarray:
    """uint8 RGB PANEL: the map over the aligned crop with its caption, the V-A plane with the trail
    (oldest faintest, the newest point red; `references`, the weights' real-photo means, as grey rings),
    and P(AU) bars in Table 3 order (red at 0.5 and above; `neutral`, the mean P on neutral real
    photos, as a black tick). Drawn with OpenCV: a Plotly figure per frame costs more than the frame."""
    out = _blank()
    out[_TOP : _TOP + _MAP_SIDE, :_MAP_SIDE] = cv2.resize(
        map_over_crop, (_MAP_SIDE, _MAP_SIDE), interpolation=cv2.INTER_LINEAR
    )
    cv2.putText(out, caption, (4, _TOP + _MAP_SIDE + 20), _FONT, 0.55, _INK, 1, cv2.LINE_AA)
    _va_plane(out, (_MAP_SIDE // 2, _TOP + _MAP_SIDE + 135), 90, trail, references or {})
    for row, (au, p) in enumerate(aus.items()):
        y = _TOP + 4 + row * _ROW
        label = f"{topology.au_key(au)} {topology.AU_NAMES[au]}"[:25]
        cv2.putText(out, label, (_BARS_X, y + 12), _FONT, 0.4, _INK, 1, cv2.LINE_AA)
        x0 = _BARS_X + _BAR_LEFT
        cv2.rectangle(out, (x0, y), (x0 + _BAR_WIDTH, y + 16), (235, 235, 235), -1)
        colour = _POINT if p >= 0.5 else _BAR
        cv2.rectangle(out, (x0, y), (x0 + round(p * _BAR_WIDTH), y + 16), colour, -1)
        if neutral and au in neutral:
            tick = x0 + round(neutral[au] * _BAR_WIDTH)
            cv2.line(out, (tick, y - 2), (tick, y + 18), _INK, 2)
        cv2.putText(out, f"{p:.2f}", (x0 + _BAR_WIDTH + 6, y + 12), _FONT, 0.4, _INK, 1, cv2.LINE_AA)
    return out


def _va_plane(
    out: np.ndarray,
    centre: tuple[int, int],
    radius: int,
    trail: list[tuple[float, float]],
    references: dict[str, tuple[float, float]],
) -> None:
    """The unit circle of valence (x) and arousal (y, up), the references and the trail, drawn in place."""
    cx, cy = centre

    def at(v: float, a: float) -> tuple[int, int]:
        return round(cx + v * radius), round(cy - a * radius)

    cv2.circle(out, centre, radius, (200, 200, 200), 1, cv2.LINE_AA)
    cv2.line(out, (cx - radius, cy), (cx + radius, cy), (220, 220, 220), 1)
    cv2.line(out, (cx, cy - radius), (cx, cy + radius), (220, 220, 220), 1)
    cv2.putText(out, "valence", (cx + radius - 50, cy + 14), _FONT, 0.4, _GREY, 1, cv2.LINE_AA)
    cv2.putText(out, "arousal", (cx + 4, cy - radius + 10), _FONT, 0.4, _GREY, 1, cv2.LINE_AA)
    for i, (name, (v, a)) in enumerate(references.items()):
        x, y = at(v, a)
        cv2.circle(out, (x, y), 6, _GREY, 2, cv2.LINE_AA)
        # Labels alternately above and below their rings: the references sit close together.
        cv2.putText(out, name, (x - 20, y - 10 if i % 2 == 0 else y + 20), _FONT, 0.35, _GREY, 1, cv2.LINE_AA)
    points = [at(v, a) for v, a in trail]
    for i in range(1, len(points)):
        fade = round(220 - 170 * i / len(points))  # older segments lighter
        cv2.line(out, points[i - 1], points[i], (fade, fade, 255), 2, cv2.LINE_AA)
    if points:
        cv2.circle(out, points[-1], 7, _POINT, -1, cv2.LINE_AA)


# ----- a recorded sequence (tests, bench, and the tab without a webcam) --------------------------
SEQUENCE_FACES = (2, 11, 7)  # SynthFACS test-split indices (demo.examples' clear expressions)


def synthfacs_frames(frames: int = 60, size: int = 260) -> Iterator[np.ndarray]:
    """A 640x480 'webcam' sequence that needs no data, rendered frame by frame (~40 ms each; 60 frames
    held at once would be 55 MB): one SynthFACS face `size` px wide on demo.examples' background,
    drifting along a Lissajous path (at most ~20 px a frame at 40 frames: a head moving at ease at
    10 frames/s) and changing expression every third of the sequence."""
    height, width = 480, 640
    for i in range(frames):
        phase = 2 * np.pi * i / frames
        x = round((width - size) / 2 + 0.35 * (width - size) * np.sin(phase))
        y = round((height - size) / 2 + 0.35 * (height - size) * np.sin(2 * phase))
        index = SEQUENCE_FACES[3 * i // frames]
        yield compose(((index, size, x, y),))
