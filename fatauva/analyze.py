"""Photo in, typed predictions out: detect -> align to the template -> one batched forward.

The app, the command line and the evaluation all go through `Analyzer`, so a face is
framed and preprocessed the same way everywhere (fatauva.template.to_tensor).
"""

from dataclasses import dataclass, field

import numpy as np
import torch

from fatauva import topology
from fatauva.checkpoint import LoadedModel
from fatauva.faces import FaceBox, align_face, detect_faces
from fatauva.template import to_tensor


@dataclass
class Prediction:
    """Everything the network says about one face.

    `attributes` and `aus` map CelebA names / AU numbers to P(present) in [0, 1];
    `valence` and `arousal` are in [-1, 1]; `crop` is the aligned (S, S, 3) uint8 RGB input.
    """

    face: FaceBox | None
    crop: np.ndarray
    attributes: dict[str, float]
    aus: dict[int, float]
    valence: float
    arousal: float

    def as_dict(self) -> dict:
        """A JSON-ready view (no image data)."""
        box = None
        if self.face is not None:
            box = {"x0": self.face.x0, "y0": self.face.y0, "x1": self.face.x1, "y1": self.face.y1}
        return {
            "face": box,
            "attributes": self.attributes,
            "aus": {topology.au_key(au): p for au, p in self.aus.items()},
            "valence": self.valence,
            "arousal": self.arousal,
        }


@dataclass
class Analyzer:
    """Runs a loaded FATAUVA-Net on photos or on already aligned crops."""

    loaded: LoadedModel
    _net: torch.nn.Module = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self._net = self.loaded.model.fused().eval()

    @property
    def input_size(self) -> int:
        return self.loaded.model.config.input_size

    @property
    def device(self) -> torch.device:
        return next(self._net.parameters()).device

    def analyze_crops(
        self, crops: list[np.ndarray], faces: list[FaceBox | None] | None = None
    ) -> list[Prediction]:
        """Predict for aligned crops, each (S, S, 3) uint8 RGB at the model's input size."""
        if not crops:
            return []
        faces = faces if faces is not None else [None] * len(crops)
        with torch.inference_mode():
            out = self._net(to_tensor(crops).to(self.device))
            attr = out.attribute_probs().cpu().numpy()
            aus = out.au_probs().cpu().numpy()
            va = out.va().cpu().numpy()
        return [
            Prediction(
                face=face,
                crop=crop,
                attributes={name: float(attr[i, j]) for j, name in enumerate(topology.ATTRIBUTES)},
                aus={au: float(aus[i, j]) for j, au in enumerate(topology.AUS)},
                valence=float(va[i, 0]),
                arousal=float(va[i, 1]),
            )
            for i, (crop, face) in enumerate(zip(crops, faces, strict=True))
        ]

    def analyze_image(self, image: np.ndarray, max_faces: int | None = None) -> list[Prediction]:
        """Detect every face in an RGB uint8 photo (H, W, 3), largest first, and predict for each."""
        faces = [f for f in detect_faces(image) if f.landmarks is not None][:max_faces]
        crops = [align_face(image, f.landmarks, self.input_size) for f in faces]
        return self.analyze_crops(crops, faces)
