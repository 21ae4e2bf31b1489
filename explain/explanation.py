"""One face, explained: the typed result the app, the command line and the notebook consume.

`explain_face(model, crop)` runs, for one aligned crop:
1. one forward and one batched backward: the map of every target (26) with the chosen CAM
   method and layer (explain.cam.batched_cams);
2. the part responses of the attribute layer (explain.parts), free from the same forward;
3. the flow parts -> AU branches -> valence / arousal (explain.flow, captum);
4. the gate: which targets passed the faithfulness check recorded with the weights
   (explain.gate; None where the weights carry no record for this method and layer).

Defaults: DEFAULT_METHOD on DEFAULT_LAYER, the core's 28x28 map before its last downsampling
('core.fine'), for every target. Each target's own branch map (layer BRANCH) shows where the branch
the paper built for that unit looked, but the 14x14 branch maps localise far less well: with the
bundled weights the faithfulness check passes about half as many targets there as on 'core.fine'
(weights/metrics.json, docs/explanations.md), so the app shows the maps that can be trusted more and
keeps BRANCH one choice away.
"""

from dataclasses import dataclass

import numpy as np
import torch

from explain.cam import batched_cams
from explain.flow import N_STEPS, Flow, flow
from explain.gate import verdicts
from explain.maps import overlay, photo_overlay, to_photo
from explain.parts import PartResponse, part_responses
from explain.targets import TARGETS, scores
from fatauva.model import FatauvaNet
from fatauva.template import to_tensor

DEFAULT_METHOD = "LayerCAM"
DEFAULT_LAYER = "core.fine"  # FatauvaNet.feature_modules() name


@dataclass
class Explanation:
    """Everything explained about one face.

    crop: the aligned uint8 RGB input (S, S, 3); method, layers: how the maps were made
    (layers[target] = the feature map it was computed on); maps[target]: float32 (S, S) in
    [0, 1] for the 26 targets (explain.targets.TARGET_NAMES); scores[target]: what was explained
    (log-odds for attributes and AUs, the V-A output); parts: the part responses; flow: parts
    -> AU branches -> V-A; passed[target]: the faithfulness verdict (None: not checked).
    """

    crop: np.ndarray
    method: str
    layers: dict[str, str]
    maps: dict[str, np.ndarray]
    scores: dict[str, float]
    parts: dict[str, PartResponse]
    flow: Flow
    passed: dict[str, bool | None]

    def overlay(self, target: str) -> np.ndarray:
        """The target's map over the crop, uint8 RGB (S, S, 3), ready to show."""
        return overlay(self.crop, self.maps[target])

    def on_photo(self, target: str, photo_shape: tuple[int, ...], landmarks: np.ndarray) -> np.ndarray:
        """The target's map on the original photo, float32 (H, W) (zero outside the crop)."""
        return to_photo(self.maps[target], landmarks, photo_shape)

    def photo_overlay(self, target: str, photo: np.ndarray, landmarks: np.ndarray) -> np.ndarray:
        """The target's map over the original photo, uint8 RGB (H, W, 3)."""
        return photo_overlay(photo, self.maps[target], landmarks)


def explain_face(
    model: FatauvaNet,
    crop: np.ndarray,
    method: str = DEFAULT_METHOD,
    layer: str = DEFAULT_LAYER,
    metrics: dict | None = None,
    flow_steps: int = N_STEPS,
) -> Explanation:
    """Explain one aligned crop (uint8 RGB (S, S, 3) at the model's input size).

    model: the trainable FatauvaNet (not `fused()`: its taps carry no branch gradients), put in
    eval mode; method: a name of explain.cam.METHODS; layer: BRANCH or a feature name ('core.fine');
    metrics: the weights' metrics.json (LoadedModel.metrics) holding the faithfulness record.
    """
    x = to_tensor(crop).to(next(model.parameters()).device)
    cams = batched_cams(model, x, TARGETS, method, layer)
    features = cams.output.features
    with torch.no_grad():
        values = scores(cams.output)[0].cpu().numpy()
    record = verdicts(metrics or {}, cams.method, layer)
    return Explanation(
        crop=crop,
        method=cams.method,
        layers=cams.layers,
        maps={name: m[0] for name, m in cams.maps.items()},
        scores={t.name: float(v) for t, v in zip(TARGETS, values, strict=True)},
        parts=part_responses(features, crop.shape[0]),
        flow=flow(model, features, flow_steps),
        passed={t.name: record.get(t.name) for t in TARGETS},
    )
