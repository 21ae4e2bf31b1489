"""Pictures of explanations: maps over the aligned crop and over the photo, and the AU -> V-A flow.

The maps themselves come from `explain/` (DESIGN.md "Explanations"); this module only draws what it
is given, in the explain layer's contract: a map is float (H, W) in [0, 1] over the aligned crop, a
flow is (source, target, signed attribution). `explain_face` is the one place that calls the
explain layer; until that layer provides `explain.explain_face`, `available()` says why not and the
app shows the reason where the gallery and the Sankey will be.
"""

import importlib
from dataclasses import dataclass

import cv2
import numpy as np
import plotly.graph_objects as go

from fatauva import topology
from fatauva.template import similarity_transform, template_points

FAILED_MARK = "✗ failed faithfulness"
_ALPHA = 0.45  # share of the heat colour in a blended pixel


@dataclass
class FaceMap:
    """One map to show: its target ('Smiling', 'AU12', 'valence', or a part response 'part.mouth'),
    the branch it was computed on, the (S, S) float map in [0, 1] over the aligned crop, and whether
    its target failed the faithfulness check of these weights."""

    target: str
    branch: str
    heat: np.ndarray
    failed: bool = False

    @property
    def caption(self) -> str:
        text = f"{self.target} · {self.branch}"
        return f"{text} · {FAILED_MARK}" if self.failed else text


def available() -> str | None:
    """None when the explain layer offers `explain_face`, else one sentence saying why not."""
    try:
        module = importlib.import_module("explain")
    except ImportError as e:
        return f"Explanations are not available: the explain package cannot be imported ({e})."
    if not hasattr(module, "explain_face"):
        return "Explanations are not available yet: this build's explain package has no explain_face."
    return None


def heat_over(image: np.ndarray, heat: np.ndarray, mask: np.ndarray | None = None) -> np.ndarray:
    """Blend a [0, 1] map (any H, W; resized) over a uint8 RGB image as a JET colour map.

    mask: bool (H, W) of the image where the map applies (default everywhere)."""
    h, w = image.shape[:2]
    heat = cv2.resize(np.clip(heat, 0, 1).astype(np.float32), (w, h), interpolation=cv2.INTER_LINEAR)
    colour = cv2.cvtColor(cv2.applyColorMap(np.uint8(255 * heat), cv2.COLORMAP_JET), cv2.COLOR_BGR2RGB)
    blended = np.round((1 - _ALPHA) * image + _ALPHA * colour).astype(np.uint8)
    return blended if mask is None else np.where(mask[..., None], blended, image)


def heat_on_photo(photo: np.ndarray, heat: np.ndarray, landmarks: np.ndarray, input_size: int) -> np.ndarray:
    """A crop map carried back onto the photo through the inverse of the alignment (fatauva.faces
    align_face's similarity transform from the five landmarks), blended inside the crop's footprint."""
    to_crop = similarity_transform(landmarks, template_points(input_size))
    to_photo = cv2.invertAffineTransform(to_crop)
    h, w = photo.shape[:2]
    heat = cv2.resize(np.clip(heat, 0, 1).astype(np.float32), (input_size, input_size))
    back = cv2.warpAffine(heat, to_photo, (w, h), flags=cv2.INTER_LINEAR, borderValue=0.0)
    inside = cv2.warpAffine(np.ones_like(heat), to_photo, (w, h), flags=cv2.INTER_NEAREST) > 0
    return heat_over(photo, back, inside)


def gallery(
    crop: np.ndarray, photo: np.ndarray, landmarks: np.ndarray, maps: list[FaceMap]
) -> list[tuple[np.ndarray, str]]:
    """(image, caption) pairs for gr.Gallery: each map over the crop, then over the photo."""
    items = []
    for face_map in maps:
        items.append((heat_over(crop, face_map.heat), f"{face_map.caption} · crop"))
        items.append(
            (heat_on_photo(photo, face_map.heat, landmarks, crop.shape[0]), f"{face_map.caption} · photo")
        )
    return items


def flow_sankey(flows: list[tuple[str, str, float]]) -> go.Figure:
    """The AU -> V-A flow as a Sankey: parts -> AU branches -> valence / arousal (paper §3.3, Fig. 5).

    flows: (source, target, attribution); a link's width is |attribution| and its colour its sign
    (red pushes the target up, blue down). Nodes keep the topology's order."""
    order = list(topology.PARTS) + list(topology.AU_BRANCH_NAMES) + list(topology.VA_TARGETS)
    used = {name for s, t, _ in flows for name in (s, t)}
    nodes = [n for n in order if n in used] + sorted(used - set(order))
    index = {name: i for i, name in enumerate(nodes)}
    fig = go.Figure(
        go.Sankey(
            arrangement="snap",
            node=dict(label=nodes, pad=12, thickness=14),
            link=dict(
                source=[index[s] for s, _, _ in flows],
                target=[index[t] for _, t, _ in flows],
                value=[abs(v) for _, _, v in flows],
                color=["rgba(214,39,40,0.45)" if v >= 0 else "rgba(31,119,180,0.45)" for _, _, v in flows],
                customdata=[f"{v:+.3f}" for _, _, v in flows],
                hovertemplate="%{source.label} → %{target.label}: %{customdata}<extra></extra>",
            ),
        )
    )
    fig.update_layout(title="AU → V-A flow (attribution)", height=420, margin=dict(l=10, r=10, t=40, b=10))
    return fig
