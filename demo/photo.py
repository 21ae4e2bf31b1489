"""One photo -> every face in it, predicted, and the same results as table rows and JSON.

Detection is `fatauva.faces.detect_faces`; what this module chooses is how far to upsample. HOG
finds faces of about 80 px, and `min_face` says which face width (px of the photo) is scaled up to
that. In a photo of ordinary size faces down to 40 px are looked for (the detector's default); a
small photo is usually one face filling most of it (a 48x48 crop, a 128x120 thumbnail), so there
the smallest face looked for shrinks with the photo, to 40 % of its shorter side but not under
`MIN_FACE`. Measured on 33 London/Canada faces cut to squares: 24 px crops 33/33 found at 0.66 of
the side, 16 px crops 29-31/33; 40 px wide portraits 31/33 at 0.33.
"""

import csv
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from fatauva import topology
from fatauva.analyze import Analyzer, Prediction
from fatauva.faces import align_face, detect_faces

DEFAULT_MIN_FACE = 40  # px: fatauva.faces.detect_faces' own default, for photos of ordinary size
MIN_FACE = 12  # px: never look for smaller faces (HOG would upsample a 12 px face 6.7 times)
SMALL_PHOTO_SHARE = 0.4  # in a small photo, the smallest face looked for is this share of its side

CSV_COLUMNS: tuple[str, ...] = (
    ("file", "face", "x", "y", "w", "h") + topology.ATTRIBUTES + topology.AU_KEYS + ("valence", "arousal")
)


def min_face_for(height: int, width: int) -> int:
    """The smallest face width (px) to look for in an (height, width) photo (module docstring)."""
    return max(MIN_FACE, min(DEFAULT_MIN_FACE, round(SMALL_PHOTO_SHARE * min(height, width))))


@dataclass
class PhotoAnalysis:
    """Every face of one photo, largest first: `faces[i]` is face number i + 1 of the tables.

    image: the uint8 RGB (H, W, 3) photo the boxes are in; min_face: the face width looked for."""

    image: np.ndarray
    faces: list[Prediction]
    min_face: int

    def as_dict(self) -> dict:
        """JSON-ready: the photo's size and, per face, its number, box (x, y, w, h) and outputs."""
        height, width = self.image.shape[:2]
        return {
            "width": width,
            "height": height,
            "faces": [face_dict(i + 1, p) for i, p in enumerate(self.faces)],
        }

    def rows(self, file: str) -> list[dict[str, object]]:
        """CSV_COLUMNS rows, one per face; a photo without a face gets one row with `face` empty."""
        if not self.faces:
            return [{"file": file} | {column: "" for column in CSV_COLUMNS[1:]}]
        return [prediction_row(file, i + 1, p) for i, p in enumerate(self.faces)]


def box_of(prediction: Prediction) -> dict[str, int]:
    """The face box as whole pixels x, y (top-left), w, h."""
    box = prediction.face
    if box is None:
        return {"x": 0, "y": 0, "w": prediction.crop.shape[1], "h": prediction.crop.shape[0]}
    return {"x": round(box.x0), "y": round(box.y0), "w": round(box.width), "h": round(box.height)}


def face_dict(number: int, prediction: Prediction) -> dict:
    """JSON of one face: its number, box {x, y, w, h}, and Prediction.as_dict's outputs."""
    outputs = {k: v for k, v in prediction.as_dict().items() if k != "face"}
    return {"face": number, "box": box_of(prediction), **outputs}


def prediction_row(file: str, number: int, prediction: Prediction) -> dict[str, object]:
    """One CSV row: file, face number, box, the ten attributes, the 14 AUs, valence, arousal."""
    row: dict[str, object] = {"file": file, "face": number, **box_of(prediction)}
    row |= {name: round(p, 4) for name, p in prediction.attributes.items()}
    row |= {topology.au_key(au): round(p, 4) for au, p in prediction.aus.items()}
    return row | {"valence": round(prediction.valence, 4), "arousal": round(prediction.arousal, 4)}


def analyze_photo(analyzer: Analyzer, image: np.ndarray, min_face: int | None = None) -> PhotoAnalysis:
    """Detect every face of a uint8 RGB (H, W, 3) photo, align each and predict them in one batch.

    min_face: the smallest face width in px to look for; None picks it from the photo's size."""
    height, width = image.shape[:2]
    min_face = min_face or min_face_for(height, width)
    found = [f for f in detect_faces(image, min_face=min_face) if f.landmarks is not None]
    crops = [align_face(image, f.landmarks, analyzer.input_size) for f in found]
    return PhotoAnalysis(image=image, faces=analyzer.analyze_crops(crops, found), min_face=min_face)


def write_csv(path: Path, rows: list[dict[str, object]]) -> None:
    """Rows of PhotoAnalysis.rows (any number of photos) as one CSV file with CSV_COLUMNS."""
    with open(path, "w", newline="", encoding="utf-8") as f:
        writer = csv.DictWriter(f, fieldnames=CSV_COLUMNS)
        writer.writeheader()
        writer.writerows(rows)
