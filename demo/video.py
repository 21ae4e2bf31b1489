"""A video clip -> the network's outputs for every predicted frame and face, streamed.

Frames are decoded one at a time with OpenCV (`frames`), the faces in them followed by
`FaceTracker`, aligned, and predicted in batches of BATCH crops (`analyze_video`). Of a frame only
numbers survive (the face's box, five landmarks and outputs: 168 bytes), and the CSV is written
as the frames go, so a long clip never sits in memory: one decoded frame is alive at a time (two
for a moment, while the next one is decoded) and a batch of aligned crops. A frame's maps are made
on request by decoding that one frame again (`read_frame`) and explaining the face in it
(`frame_faces`, then demo.explanations).

Nothing here knows Gradio: demo/video_tab.py lays the tab out and turns VideoError into gr.Error.
"""

import csv
import math
from array import array
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import cv2
import numpy as np

from demo.live import box_iou
from demo.photo import CSV_COLUMNS, min_face_for, prediction_row
from fatauva import topology
from fatauva.analyze import Analyzer, Prediction
from fatauva.faces import FaceBox, align_face, detect_faces, landmarks_in_box

BATCH = 16  # aligned crops per forward pass
DETECT_EVERY = 8  # predicted frames from one full detection to the next (FaceTracker)
DEFAULT_RATE = 10.0  # predicted frames per second of video that the default frame step aims at
MATCH_IOU = 0.3  # a detection continues a followed face when their boxes overlap this much
FIT_ROUNDS = 2  # shape predictor runs a followed face takes a frame (FaceTracker)
# A followed face is lost when its landmarks' spread, over their spread at its detection, leaves this.
LOST_SPREAD = (0.7, 1.4)
FALLBACK_FPS = 25.0  # frame rate assumed when the container does not say
VIDEO_COLUMNS: tuple[str, ...] = (CSV_COLUMNS[0], "frame", "time") + CSV_COLUMNS[1:]
OUTPUTS: tuple[str, ...] = topology.ATTRIBUTES + topology.AU_KEYS + ("valence", "arousal")


class VideoError(ValueError):
    """A file that is not a usable clip; the message is one sentence for the user."""


@dataclass(frozen=True)
class ClipInfo:
    """What the container says of a clip: its name, frame rate (FALLBACK_FPS when it says none,
    then fps_known is False), frame count (an estimate some containers get wrong; 0 if unknown)
    and frame size in px."""

    name: str
    fps: float
    frame_count: int
    width: int
    height: int
    fps_known: bool = True

    @property
    def duration(self) -> float:
        """Seconds, from the frame count and rate."""
        return self.frame_count / self.fps

    def predicted_frames(self, step: int) -> int:
        """How many frames `step` keeps of frame_count (the estimate's estimate)."""
        return math.ceil(self.frame_count / step)


@dataclass(frozen=True)
class Frame:
    """One decoded frame: its index in the clip, its time in seconds, uint8 RGB (H, W, 3)."""

    index: int
    time: float
    image: np.ndarray


def default_step(fps: float) -> int:
    """The frame step that predicts about DEFAULT_RATE frames per second of video (at least 1)."""
    return max(1, round(fps / DEFAULT_RATE))


@contextmanager
def _capture(path: str | Path):
    """An open cv2.VideoCapture of `path` and its ClipInfo; VideoError when it cannot be read."""
    name = Path(path).name
    if not Path(path).is_file():
        raise VideoError(f"{name} was not found.")
    if Path(path).stat().st_size == 0:
        raise VideoError(f"{name} is empty (0 bytes).")
    capture = cv2.VideoCapture(str(path))
    try:
        if not capture.isOpened():
            raise VideoError(f"{name} could not be opened as a video: its format or codec is unknown.")
        fps = capture.get(cv2.CAP_PROP_FPS)
        fps_known = math.isfinite(fps) and 0 < fps <= 1000
        info = ClipInfo(
            name=name,
            fps=fps if fps_known else FALLBACK_FPS,
            frame_count=max(0, int(capture.get(cv2.CAP_PROP_FRAME_COUNT))),
            width=int(capture.get(cv2.CAP_PROP_FRAME_WIDTH)),
            height=int(capture.get(cv2.CAP_PROP_FRAME_HEIGHT)),
            fps_known=fps_known,
        )
        yield capture, info
    finally:
        capture.release()


def probe(path: str | Path) -> ClipInfo:
    """The clip's ClipInfo, after checking that its first frame decodes (VideoError if not)."""
    with _capture(path) as (capture, info):
        ok, first = capture.read()
        if not ok or first is None or first.size == 0:
            raise VideoError(
                f"{info.name} has no readable frames: it is empty, truncated "
                "or in a codec OpenCV cannot decode."
            )
        return ClipInfo(info.name, info.fps, info.frame_count, first.shape[1], first.shape[0], info.fps_known)


def frames(path: str | Path, step: int = 1) -> Iterator[Frame]:
    """Every `step`-th frame of the clip (0, step, 2 step, ...), decoded one at a time.

    A generator: each frame is read when asked for and forgotten when the caller drops it. The
    frames in between are grabbed (demuxed and decoded, not converted). The clip ends at its last
    frame or at the first one that cannot be decoded."""
    if step < 1:
        raise ValueError(f"step must be at least 1, got {step}")
    with _capture(path) as (capture, info):
        index = 0
        while True:
            if index % step:
                if not capture.grab():
                    return
            else:
                ok, bgr = capture.read()
                if not ok:
                    return
                yield Frame(index, index / info.fps, cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB))
            index += 1


def read_frame(path: str | Path, index: int) -> Frame:
    """Frame `index` of the clip, decoded on its own (a seek, then one read)."""
    with _capture(path) as (capture, info):
        capture.set(cv2.CAP_PROP_POS_FRAMES, index)
        ok, bgr = capture.read()
        if not ok:
            raise VideoError(f"Frame {index} of {info.name} could not be read.")
        return Frame(index, index / info.fps, cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB))


# ----- following faces from frame to frame ---------------------------------------------------------
def corners(face: FaceBox) -> np.ndarray:
    return np.array([face.x0, face.y0, face.x1, face.y1], dtype=np.float64)


def _spread(points: np.ndarray) -> float:
    """The RMS distance of landmarks from their centroid: the face's scale, whatever its box."""
    return float(np.sqrt(((points - points.mean(axis=0)) ** 2).sum(axis=1).mean()))


def _centre(face: FaceBox) -> np.ndarray:
    return face.landmarks.astype(np.float64).mean(axis=0)


@dataclass
class Track:
    """A face followed through the clip: its number, its FaceBox in the last frame, how far its
    landmarks' centroid moved from the frame before (px, (2,); None for a face first seen in this
    frame), and, as measured at its last detection, its box's corners relative to that centroid
    (px, (4,)) and the landmarks' spread."""

    number: int
    face: FaceBox
    velocity: np.ndarray | None
    offset: np.ndarray
    spread: float

    @classmethod
    def detected(cls, number: int, face: FaceBox, before: "Track | None") -> "Track":
        """A track starting at a detection; `before`: the same face in the previous frame, if any."""
        centre = _centre(face)
        velocity = centre - _centre(before.face) if before is not None else None
        return cls(number, face, velocity, corners(face) - np.tile(centre, 2), _spread(face.landmarks))


@dataclass
class FaceTracker:
    """Faces in consecutive frames of one clip, each under one number from its first frame on.

    Tracking rule. The first frame given and every `detect_every`-th after it are searched whole by
    fatauva.faces.detect_faces (the photo detector, looking for faces of `min_face` px and up), and
    so is the frame after one where a face was first seen (so that each face has moved once under
    the detector's eye before it is followed: following needs its velocity).
    In the frames between, each followed face is found again by dlib's 68-point shape predictor,
    which fits a face inside a given box: the box is first moved as the face moved from the frame
    before (constant velocity), then the predictor is run FIT_ROUNDS times, each on the box put
    back around the landmarks of the last round. Its five landmarks are the face's new landmarks,
    and the box keeps the size and place relative to their centroid that it had at the detection
    (letting it scale with the landmarks fed the predictor's own scale errors back into it: a box
    grew to twice the face within eight frames). A single round on the previous box lags a moving
    face: the predictor pulls the shape toward the box it is given. A followed face is lost
    when its landmarks' spread leaves LOST_SPREAD times their spread at the detection (the predictor
    no longer sits on the face) or less than half its box remains inside the frame.
    At a detection, each detected face takes the number of the followed or lost face whose box
    overlaps it most (IoU >= MATCH_IOU, best pairs first), the others new numbers; a face no
    detection matches ends there, since the detector is the judge of what is a face.

    Cost: a detection at 640x360 and min_face 40 is ~130-270 ms (HOG on the frame upsampled x2),
    the predictor ~1.5-6 ms a face and round, so detecting every 8th frame is what makes a clip predict at
    video rates; how close that stays to detecting every frame is measured by tests/test_video.py
    and bench/video.py (`agreement`). A face entering the picture waits for the next detection.
    """

    min_face: int
    detect_every: int = DETECT_EVERY
    tracks: list[Track] = field(default_factory=list)
    lost: list[Track] = field(default_factory=list)
    seen: int = 0
    next_number: int = 1

    def update(self, image: np.ndarray) -> list[tuple[int, FaceBox]]:
        """The faces of the next frame (uint8 RGB (H, W, 3)) as (number, FaceBox), by number."""
        new_face = any(track.velocity is None for track in self.tracks)
        if self.seen % self.detect_every == 0 or new_face:
            self.tracks, self.lost = self._detect(image), []
        else:
            followed = [(track, self._follow(image, track)) for track in self.tracks]
            self.tracks = [new for _, new in followed if new is not None]
            self.lost += [old for old, new in followed if new is None]
        self.seen += 1
        return [(track.number, track.face) for track in sorted(self.tracks, key=lambda t: t.number)]

    def _detect(self, image: np.ndarray) -> list[Track]:
        found = [f for f in detect_faces(image, min_face=self.min_face) if f.landmarks is not None]
        overlaps = [
            (box_iou(face, track.face), i, track.number)
            for i, face in enumerate(found)
            for track in self.tracks + self.lost
        ]
        numbers: dict[int, int] = {}
        for overlap, i, number in sorted(overlaps, reverse=True):
            if overlap >= MATCH_IOU and i not in numbers and number not in numbers.values():
                numbers[i] = number
        previous = {track.number: track for track in self.tracks}  # in the frame before this one
        tracks = []
        for i, face in enumerate(found):
            if i not in numbers:
                numbers[i], self.next_number = self.next_number, self.next_number + 1
            tracks.append(Track.detected(numbers[i], face, previous.get(numbers[i])))
        return tracks

    def _follow(self, image: np.ndarray, track: Track) -> Track | None:
        centre = _centre(track.face) + track.velocity
        for _ in range(FIT_ROUNDS):
            x0, y0, x1, y1 = np.tile(centre, 2) + track.offset
            points = landmarks_in_box(image, (x0, y0, x1, y1))
            centre = points.astype(np.float64).mean(axis=0)
        if not LOST_SPREAD[0] < _spread(points) / track.spread < LOST_SPREAD[1]:
            return None
        x0, y0, x1, y1 = np.tile(centre, 2) + track.offset
        height, width = image.shape[:2]
        score = track.face.score
        inside = FaceBox(max(x0, 0.0), max(y0, 0.0), min(x1, width), min(y1, height), score, points)
        if inside.width <= 0 or inside.height <= 0 or inside.area < 0.5 * (x1 - x0) * (y1 - y0):
            return None
        return Track(track.number, inside, centre - _centre(track.face), track.offset, track.spread)


# ----- the whole clip ------------------------------------------------------------------------------
@dataclass
class FaceRows:
    """One row per predicted face-frame, in frame order: frame index (N,), face number (N,), box
    (N, 4) x0 y0 x1 y1 and landmarks (N, 5, 2) in frame pixels, outputs (N, len(OUTPUTS)) in OUTPUTS
    order (attribute and AU probabilities, valence, arousal)."""

    frame: np.ndarray
    face: np.ndarray
    box: np.ndarray
    landmarks: np.ndarray
    outputs: np.ndarray

    def output(self, name: str) -> np.ndarray:
        """One output's column, (N,)."""
        return self.outputs[:, OUTPUTS.index(name)]

    def face_box(self, row: int) -> FaceBox:
        """The FaceBox of row `row` (the score is not kept: NaN)."""
        x0, y0, x1, y1 = (float(v) for v in self.box[row])
        return FaceBox(x0, y0, x1, y1, math.nan, self.landmarks[row].copy())


@dataclass
class VideoAnalysis:
    """A clip's predictions: its ClipInfo, the frame step and detection interval used, the index
    and time of every predicted frame (F,), and one FaceRows row per face found in them."""

    info: ClipInfo
    step: int
    detect_every: int
    frames: np.ndarray
    times: np.ndarray
    rows: FaceRows

    def faces(self) -> list[int]:
        """The face numbers, the face seen in most frames first."""
        numbers, counts = np.unique(self.rows.face, return_counts=True)
        return [int(numbers[i]) for i in np.argsort(-counts, kind="stable")]

    def in_frame(self, index: int) -> list[int]:
        """The rows of frame `index`, by face number."""
        return [int(i) for i in np.flatnonzero(self.rows.frame == index)]

    def nearest_frame(self, index: float) -> int:
        """The predicted frame nearest to frame `index` of the clip."""
        return int(self.frames[np.abs(self.frames - index).argmin()])


class _Columns:
    """FaceRows built a batch at a time: per field a list of one array per batch, joined at the end
    (per face-frame 40 float32 numbers and two int32, nothing else)."""

    def __init__(self) -> None:
        self.parts: dict[str, list[np.ndarray]] = {name: [] for name in FaceRows.__dataclass_fields__}

    def add(self, rows: list[tuple[int, int, FaceBox, Prediction]]) -> None:
        """rows: (frame index, face number, FaceBox, Prediction) of one batch."""
        if not rows:
            return
        self.parts["frame"].append(np.array([frame for frame, _, _, _ in rows], np.int32))
        self.parts["face"].append(np.array([number for _, number, _, _ in rows], np.int32))
        self.parts["box"].append(np.array([corners(face) for _, _, face, _ in rows], np.float32))
        self.parts["landmarks"].append(np.array([face.landmarks for _, _, face, _ in rows], np.float32))
        self.parts["outputs"].append(
            np.array(
                [[*p.attributes.values(), *p.aus.values(), p.valence, p.arousal] for _, _, _, p in rows],
                np.float32,
            )
        )

    def finish(self) -> FaceRows:
        empty = {
            "frame": np.zeros(0, np.int32),
            "face": np.zeros(0, np.int32),
            "box": np.zeros((0, 4), np.float32),
            "landmarks": np.zeros((0, 5, 2), np.float32),
            "outputs": np.zeros((0, len(OUTPUTS)), np.float32),
        }
        joined = {name: np.concatenate(parts or [empty[name]]) for name, parts in self.parts.items()}
        return FaceRows(**joined)


@dataclass
class _Pending:
    """A predicted frame waiting for its batch: index, time, its faces and their aligned crops."""

    index: int
    time: float
    faces: list[tuple[int, FaceBox]]
    crops: list[np.ndarray]


Progress = Callable[[int, int], None]


def analyze_video(
    analyzer: Analyzer,
    path: str | Path,
    step: int = 1,
    detect_every: int = DETECT_EVERY,
    csv_path: Path | None = None,
    progress: Progress | None = None,
    min_face: int | None = None,
) -> VideoAnalysis:
    """Predict every `step`-th frame of a clip, streamed (module docstring).

    detect_every: FaceTracker's detection interval in predicted frames (1 = detect in every one);
    csv_path: also write VIDEO_COLUMNS rows there as frames are predicted, one per frame and face
    (`face` is the face's number through the clip; a frame without a face gets one row with `face`
    empty); progress(done, total): called after each batch with predicted frames so far and the
    container's estimate of their total; min_face: as fatauva.faces.detect_faces (None: the
    photo rule for the frame size). Raises VideoError for a file that is not a readable clip."""
    info = probe(path)
    tracker = FaceTracker(min_face or min_face_for(info.height, info.width), detect_every)
    total = info.predicted_frames(step)
    columns, indices, times = _Columns(), array("q"), array("d")
    with _rows_writer(csv_path) as write:

        def flush(pending: list[_Pending]) -> None:
            crops = [crop for item in pending for crop in item.crops]
            faces = [face for item in pending for _, face in item.faces]
            predictions = iter(analyzer.analyze_crops(crops, faces))
            batch = []
            for item in pending:
                rows = []
                for number, face in item.faces:
                    prediction = next(predictions)
                    batch.append((item.index, number, face, prediction))
                    rows.append(prediction_row(info.name, number, prediction))
                rows = rows or [{"file": info.name}]
                write([{"frame": item.index, "time": round(item.time, 3)} | row for row in rows])
                indices.append(item.index)
                times.append(item.time)
            columns.add(batch)
            if progress:
                progress(len(indices), max(total, len(indices)))

        pending: list[_Pending] = []
        for frame in frames(path, step):
            faces = tracker.update(frame.image)
            crops = [align_face(frame.image, face.landmarks, analyzer.input_size) for _, face in faces]
            pending.append(_Pending(frame.index, frame.time, faces, crops))
            if sum(len(item.crops) for item in pending) >= BATCH:
                flush(pending)
                pending = []
        if pending:
            flush(pending)
    return VideoAnalysis(
        info=info,
        step=step,
        detect_every=detect_every,
        frames=np.array(indices, dtype=np.int64),
        times=np.array(times, dtype=np.float64),
        rows=columns.finish(),
    )


@contextmanager
def _rows_writer(path: Path | None):
    """A function writing VIDEO_COLUMNS rows to `path` as they come (a no-op without a path)."""
    if path is None:
        yield lambda rows: None
        return
    with open(path, "w", newline="", encoding="utf-8") as f:
        writer = csv.DictWriter(f, fieldnames=VIDEO_COLUMNS, restval="")
        writer.writeheader()
        yield writer.writerows


def frame_faces(analyzer: Analyzer, analysis: VideoAnalysis, frame: Frame) -> dict[int, Prediction]:
    """The faces of a predicted frame (decoded again by `read_frame`) as {face number: Prediction},
    each re-aligned on the landmarks the analysis kept and predicted in one batch."""
    rows = analysis.in_frame(frame.index)
    faces = [analysis.rows.face_box(i) for i in rows]
    crops = [align_face(frame.image, face.landmarks, analyzer.input_size) for face in faces]
    predictions = analyzer.analyze_crops(crops, faces)
    return {int(analysis.rows.face[i]): p for i, p in zip(rows, predictions, strict=True)}


# ----- how close following comes to detecting every frame ------------------------------------------
def agreement(followed: VideoAnalysis, detected: VideoAnalysis) -> dict[str, float]:
    """Compare two analyses of one clip, face by face in the frames both predicted: each face of
    `detected` (typically detect_every=1) is paired with the face of `followed` whose box overlaps
    it most. Returns mean_iou (over paired faces), face_recall (share of `detected`'s face-frames
    paired at IoU >= MATCH_IOU) and mean_abs_valence / mean_abs_arousal / mean_abs_au (mean absolute
    difference of the paired outputs; AU: over the 14 probabilities)."""
    ious, pairs = [], []
    for index in np.intersect1d(followed.frames, detected.frames):
        mine = followed.in_frame(index)
        for row in detected.in_frame(index):
            overlaps = [box_iou(detected.rows.face_box(row), followed.rows.face_box(m)) for m in mine]
            best = int(np.argmax(overlaps)) if overlaps else -1
            ious.append(overlaps[best] if overlaps else 0.0)
            if overlaps and overlaps[best] >= MATCH_IOU:
                pairs.append((mine[best], row))
    if not pairs:
        return {"mean_iou": float(np.mean(ious)) if ious else 0.0, "face_recall": 0.0}
    a, b = (np.array(side) for side in zip(*pairs, strict=True))
    diff = np.abs(followed.rows.outputs[a] - detected.rows.outputs[b])
    aus = [OUTPUTS.index(k) for k in topology.AU_KEYS]
    return {
        "mean_iou": float(np.mean([iou for iou in ious if iou >= MATCH_IOU])),
        "face_recall": len(pairs) / len(ious),
        "mean_abs_valence": float(diff[:, OUTPUTS.index("valence")].mean()),
        "mean_abs_arousal": float(diff[:, OUTPUTS.index("arousal")].mean()),
        "mean_abs_au": float(diff[:, aus].mean()),
    }
