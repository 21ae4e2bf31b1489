"""The Analyze tab's explanations: maps over the aligned crop and over the photo, the AU -> V-A flow
as a Sankey, the faithfulness verdict of every map, and the same numbers as JSON for the API.

The maps, the flow and the verdicts come from `explain/` (explain.explanation.explain_face; DESIGN.md
"Explanations"); this module draws what it is given, in the explain layer's contract: a map is float
(S, S) in [0, 1] over the aligned crop, a flow edge is (source, destination, signed attribution).

explain/ is imported on first use, never at start: its pytorch-grad-cam import pulls in torchvision
(several seconds on this machine), which neither the page's start nor the predict path may pay. The
dropdowns need the method names before that, so METHODS, DEFAULT_METHOD, DEFAULT_LAYER and BRANCH
repeat explain.cam / explain.explanation's (tests/test_explanation_views.py holds them equal).

The explain layer runs the trainable model with autograd (a forward, batched backwards and the
flow's integration steps) and hooks its modules meanwhile, so `explain` and `occlusion` run one at a
time under a lock: concurrent requests queue rather than split the CPU, hold several such graphs
at once or run through another request's hooks. Predictions use the analyzer's separate fused
copy and never wait for it.
"""

import base64
import threading
from dataclasses import dataclass

import cv2
import numpy as np
import plotly.graph_objects as go

from fatauva import topology
from fatauva.analyze import Analyzer, Prediction

METHODS: tuple[str, ...] = ("GradCAM", "GradCAM++", "HiResCAM", "LayerCAM", "EigenCAM")
DEFAULT_METHOD = "LayerCAM"
DEFAULT_LAYER = "core.fine"  # the core's 28x28 map: the maps that pass the faithfulness check most
BRANCH = "branch"  # layer choice: each target's map on the branch its head reads
TARGET_NAMES: tuple[str, ...] = topology.ATTRIBUTES + topology.AU_KEYS + topology.VA_TARGETS

PASSED, FAILED, NOT_CHECKED = "passed", "failed", "not checked"
FAILED_MARK = "✗ failed faithfulness"
MARKS = {PASSED: "✓ faithful", FAILED: FAILED_MARK, NOT_CHECKED: "faithfulness not checked"}
VA_GROUP = "valence and arousal"
GROUPS: tuple[str, ...] = (*topology.PARTS, VA_GROUP)  # one gallery each
PHOTO_SIDE = 224  # px: the photo window drawn under a map (module docstring of `photo_window`)
PHOTO_GROW = 2.0  # the photo window's side, in face-box sides
_ALPHA = 0.45  # share of the heat colour in a blended pixel
_LOCK = threading.Lock()


@dataclass
class FaceMap:
    """One map to show: its target ('Smiling', 'AU12', 'valence', or 'mouth response' for a part
    response), the branch its head reads (the map itself is on the explanation's layer, e.g. the
    core's 'core.fine' by default), the (S, S) float map in [0, 1] over the aligned crop,
    and its faithfulness verdict (PASSED, FAILED, NOT_CHECKED; None for a part response, which the
    gate does not judge)."""

    target: str
    branch: str
    heat: np.ndarray
    verdict: str | None = None

    @property
    def failed(self) -> bool:
        return self.verdict == FAILED

    @property
    def caption(self) -> str:
        text = f"{self.target} · {self.branch}"
        return f"{text} · {MARKS[self.verdict]}" if self.verdict else text


def verdict_of(passed: bool | None) -> str:
    """explain's per-target verdict (True, False, None: not checked) as the word the page shows."""
    return NOT_CHECKED if passed is None else (PASSED if passed else FAILED)


def layer_choices(analyzer: Analyzer) -> list[str]:
    """BRANCH, then every feature map of the model a CAM can be computed on ('core.fine', 'core',
    'part.eyes', ...)."""
    return [BRANCH, *analyzer.loaded.model.feature_modules()]


# ----- running explain/ ----------------------------------------------------------------------------
def explain(analyzer: Analyzer, crop: np.ndarray, method: str = DEFAULT_METHOD, layer: str = DEFAULT_LAYER):
    """explain.explanation.explain_face on the trainable model, one at a time (module docstring).

    Raises ValueError naming the choices for an unknown method or layer."""
    from explain.explanation import explain_face

    with _LOCK:
        return explain_face(analyzer.loaded.model, crop, method, layer, analyzer.loaded.metrics)


def target_maps(
    analyzer: Analyzer,
    crop: np.ndarray,
    targets: tuple,
    method: str = DEFAULT_METHOD,
    layer: str = DEFAULT_LAYER,
):
    """The maps of `targets` (explain.targets.Target) on one aligned crop, on `layer` (BRANCH: each on
    the branch its head reads), from one forward and one batched backward (explain.cam.batched_cams),
    without the flow: a CamResult whose `output.features` also give the part responses. Under the same
    lock as `explain`."""
    from explain.cam import batched_cams
    from fatauva.template import to_tensor

    model = analyzer.loaded.model
    with _LOCK:
        return batched_cams(
            model, to_tensor(crop).to(next(model.parameters()).device), targets, method, layer
        )


def occlusion(analyzer: Analyzer, crop: np.ndarray, target: str) -> np.ndarray:
    """Occlusion of one target (explain.occlusion: one forward per greyed window), (S, S) in [0, 1]."""
    from explain.occlusion import occlusion_map
    from explain.targets import target as find_target
    from fatauva.template import to_tensor

    model = analyzer.loaded.model
    with _LOCK:
        return occlusion_map(model, to_tensor(crop).to(next(model.parameters()).device), find_target(target))


def rank_agreement(cam: np.ndarray, reference: np.ndarray) -> float:
    from explain.occlusion import rank_agreement as spearman

    return spearman(cam, reference)


def faithfulness_status(metrics: dict, method: str, layer: str, passed: dict[str, bool | None]) -> str:
    """One sentence on what the verdicts under the maps mean for these weights and this choice."""
    from explain.gate import record_for, records

    if not records(metrics):
        return (
            "**Faithfulness: not checked.** These weights' metrics.json has no faithfulness record "
            "(`python -m explain.faithfulness --write-metrics`), so no map is marked as passing or failing."
        )
    record = record_for(metrics, method, layer)
    if record is None or all(v is None for v in passed.values()):
        checked = " or ".join(f"{r.get('method', '?')} on {r.get('layer', '?')}" for r in records(metrics))
        return (
            f"**Faithfulness: not checked for {method} on {layer}.** These weights were checked with "
            f"{checked} only; choose that to see which maps passed."
        )
    checked = f"{record.get('method', '?')} on {record.get('layer', '?')}"
    failed = [name for name, v in passed.items() if v is False]
    line = f"**Faithfulness ({checked}):** {len(passed) - len(failed)} of {len(passed)} targets passed."
    return line + (f" Failed, marked {FAILED_MARK}: {', '.join(failed)}." if failed else "")


# ----- maps ----------------------------------------------------------------------------------------
def face_maps(explanation) -> dict[str, list[FaceMap]]:
    """The maps of one explain.explanation.Explanation grouped for the galleries: per part its
    response, then the maps of the AUs of the AU branches it feeds (Table 3), then its attributes
    (Table 2); last valence and arousal."""
    verdict = {name: verdict_of(p) for name, p in explanation.passed.items()}

    from explain.targets import target  # explain is loaded: `explanation` came from it

    def target_map(name: str) -> FaceMap:
        return FaceMap(name, target(name).branch, explanation.maps[name], verdict.get(name, NOT_CHECKED))

    groups: dict[str, list[FaceMap]] = {}
    for part, response in explanation.parts.items():
        maps = [FaceMap(f"{part} response", f"part.{part}", response.map)]
        maps += [target_map(au) for au in response.aus]
        maps += [target_map(a) for a in response.attributes]
        groups[part] = maps
    groups[VA_GROUP] = [target_map(t) for t in topology.VA_TARGETS]
    return groups


def group_label(group: str) -> str:
    """The heading of a gallery: the part, the AU branches its response feeds, its attributes."""
    if group == VA_GROUP:
        return "Valence and arousal (V-A branches)"
    branches = [b for b in topology.AU_BRANCHES if b.part == group]
    feeds = ", ".join(f"{b.name} ({' '.join(topology.au_key(a) for a in b.aus)})" for b in branches)
    text = f"{group.capitalize()}: part response"
    text += f" → AU branches {feeds}" if feeds else " (feeds no AU branch)"
    return text + f"; attributes {', '.join(topology.PART_ATTRIBUTES[group])}"


def heat_over(image: np.ndarray, heat: np.ndarray, mask: np.ndarray | None = None) -> np.ndarray:
    """Blend a [0, 1] map (any H, W; resized) over a uint8 RGB image as a JET colour map.

    mask: bool (H, W) of the image where the map applies (default everywhere)."""
    h, w = image.shape[:2]
    heat = cv2.resize(np.clip(heat, 0, 1).astype(np.float32), (w, h), interpolation=cv2.INTER_LINEAR)
    colour = cv2.cvtColor(cv2.applyColorMap(np.uint8(255 * heat), cv2.COLORMAP_JET), cv2.COLOR_BGR2RGB)
    blended = np.round((1 - _ALPHA) * image + _ALPHA * colour).astype(np.uint8)
    return blended if mask is None else np.where(mask[..., None], blended, image)


def heat_on_photo(photo: np.ndarray, heat: np.ndarray, landmarks: np.ndarray, input_size: int) -> np.ndarray:
    """A crop map carried back onto the photo through the inverse of the alignment
    (`explain.maps.to_photo_with_footprint`), blended inside the crop's footprint in this page's colours."""
    from explain.maps import to_photo_with_footprint  # explain is loaded once a map exists (module doc)

    heat = cv2.resize(np.clip(heat, 0, 1).astype(np.float32), (input_size, input_size))
    back, inside = to_photo_with_footprint(heat, landmarks, photo.shape)
    return heat_over(photo, back, inside)


def photo_window(photo: np.ndarray, prediction: Prediction) -> tuple[np.ndarray, np.ndarray]:
    """The part of the photo around one face, as the photo has it (not aligned: a tilted head stays
    tilted), and the face's five landmarks in it: a square PHOTO_GROW face boxes wide, kept inside
    the photo, shrunk or enlarged to PHOTO_SIDE on its longer side. Drawing 30 maps on a whole
    12-megapixel photo would cost seconds and hundreds of MB; on this window it is milliseconds."""
    box = prediction.face
    height, width = photo.shape[:2]
    side = PHOTO_GROW * max(box.width, box.height)
    cx, cy = (box.x0 + box.x1) / 2, (box.y0 + box.y1) / 2
    x0, y0 = max(0, round(cx - side / 2)), max(0, round(cy - side / 2))
    x1, y1 = min(width, round(cx + side / 2)), min(height, round(cy + side / 2))
    scale = PHOTO_SIDE / max(x1 - x0, y1 - y0)
    interpolation = cv2.INTER_AREA if scale < 1 else cv2.INTER_LINEAR
    window = cv2.resize(photo[y0:y1, x0:x1], None, fx=scale, fy=scale, interpolation=interpolation)
    return window, (np.asarray(box.landmarks, np.float64) - (x0, y0)) * scale


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


def galleries(explanation, prediction: Prediction, photo: np.ndarray) -> dict[str, list]:
    """{group: gallery items} for every group of `face_maps`, the photo maps on `photo_window`."""
    window, landmarks = photo_window(photo, prediction)
    return {
        group: gallery(prediction.crop, window, landmarks, maps)
        for group, maps in face_maps(explanation).items()
    }


# ----- the flow ------------------------------------------------------------------------------------
def flow_links(flow) -> list[tuple[str, str, float]]:
    """explain.flow.Flow.edges() with the layer prefixes dropped ('part.mouth' -> 'mouth'): the
    node names of topology (parts, AU branches, V-A targets) that `flow_sankey` orders."""
    return [(s.split(".", 1)[1], d.split(".", 1)[1], w) for s, d, w in flow.edges()]


def _node_label(name: str) -> str:
    branch = next((b for b in topology.AU_BRANCHES if b.name == name), None)
    return f"{name} ({' '.join(topology.au_key(a) for a in branch.aus)})" if branch else name


def flow_sankey(flows: list[tuple[str, str, float]]) -> go.Figure:
    """The flow as a Sankey: parts -> AU branches -> valence / arousal (paper §3.3, Fig. 5).

    flows: (source, destination, attribution) with topology names. The two stages are in different
    units (part -> AU: AU log-odds; AU branch -> V-A: the V-A output), so a link's width is its
    |attribution| as a share of its stage's total; its colour is its sign (red pushes the
    destination up, blue down) and hovering shows the value in its unit. Nodes keep the topology's
    order; an AU branch's label names its AUs."""
    order = list(topology.PARTS) + list(topology.AU_BRANCH_NAMES) + list(topology.VA_TARGETS)
    used = {name for s, t, _ in flows for name in (s, t)}
    nodes = [n for n in order if n in used] + sorted(used - set(order))
    index = {name: i for i, name in enumerate(nodes)}
    stage = [t in topology.VA_TARGETS for _, t, _ in flows]  # True: AU branch -> V-A
    total = {
        s: sum(abs(v) for (_, _, v), into_va in zip(flows, stage, strict=True) if into_va == s)
        for s in (0, 1)
    }
    widths = [abs(v) / max(total[s], 1e-12) for (_, _, v), s in zip(flows, stage, strict=True)]
    units = ["V-A output" if s else "AU log-odds" for s in stage]
    # Columns fixed by layer: an AU branch that feeds neither V-A branch (Lip_u) stays in the middle
    # column instead of being drawn beside valence and arousal as a sink.
    # Each node's centre is placed where stacking the column's nodes (sized by their larger side,
    # in or out) with a gap between them puts it, as the Sankey would draw them itself.
    layer = [0 if n in topology.PARTS else 2 if n in topology.VA_TARGETS else 1 for n in nodes]
    size = [
        max(
            sum(w for (s, _, _), w in zip(flows, widths, strict=True) if s == n),
            sum(w for (_, d, _), w in zip(flows, widths, strict=True) if d == n),
        )
        for n in nodes
    ]
    x, y = [(0.001, 0.5, 0.999)[c] for c in layer], []
    for i, c in enumerate(layer):
        column = [k for k in range(len(nodes)) if layer[k] == c]
        gap = 0.25 / max(1, len(column) - 1)
        total = sum(size[k] for k in column) + gap * (len(column) - 1)
        before = sum(size[k] for k in column if k < i) + gap * column.index(i)
        y.append(0.01 + 0.98 * (before + size[i] / 2) / max(total, 1e-12))
    fig = go.Figure(
        go.Sankey(
            arrangement="fixed",
            node=dict(label=[_node_label(n) for n in nodes], pad=12, thickness=14, x=x, y=y),
            link=dict(
                source=[index[s] for s, _, _ in flows],
                target=[index[t] for _, t, _ in flows],
                value=widths,
                color=["rgba(214,39,40,0.45)" if v >= 0 else "rgba(31,119,180,0.45)" for _, _, v in flows],
                customdata=[f"{v:+.3f} {u}" for (_, _, v), u in zip(flows, units, strict=True)],
                hovertemplate="%{source.label} → %{target.label}: %{customdata}<extra></extra>",
            ),
        )
    )
    fig.update_layout(
        title="AU → V-A flow: parts → AU branches → valence / arousal (red pushes up, blue down; "
        "widths: share of each stage's |attribution|)",
        title_font_size=13,
        height=520,
        margin=dict(l=10, r=10, t=50, b=10),
    )
    return fig


# ----- numbers for JSON ----------------------------------------------------------------------------
def explanation_numbers(explanation) -> dict:
    """What an explanation says, JSON-ready: how the maps were made, every target's score and
    faithfulness verdict, and the flow's attributions (parts -> AUs in AU log-odds, AU branches
    -> V-A in the V-A output, each with the output and baseline they account for)."""
    flow = explanation.flow
    return {
        "method": explanation.method,
        "layers": explanation.layers,
        "scores": explanation.scores,
        "verdicts": {name: verdict_of(p) for name, p in explanation.passed.items()},
        "flow": {
            "parts_to_aus": {
                au: {
                    "part": f.part,
                    "branch": f.branch,
                    "attribution": f.contribution,
                    "output": f.output,
                    "baseline": f.baseline,
                }
                for au, f in flow.aus.items()
            },
            "aus_to_va": {
                target: {
                    "attributions": f.contributions,
                    "output": f.output,
                    "baseline": f.baseline,
                    "completeness_error": f.completeness_error,
                }
                for target, f in flow.va.items()
            },
            "edges": [list(edge) for edge in flow_links(flow)],
        },
    }


def png_base64(image: np.ndarray) -> str:
    """A uint8 image (gray (H, W) or RGB (H, W, 3)) as a base64 PNG string."""
    if image.ndim == 3:
        image = cv2.cvtColor(image, cv2.COLOR_RGB2BGR)
    ok, data = cv2.imencode(".png", image)
    if not ok:
        raise ValueError(f"could not encode an image of shape {image.shape} as PNG")
    return base64.b64encode(data.tobytes()).decode("ascii")


def heat_png(heat: np.ndarray) -> str:
    """A [0, 1] map as a base64 8-bit gray PNG at its own size (255 = the map's maximum)."""
    return png_base64(np.round(255 * np.clip(heat, 0, 1)).astype(np.uint8))


def api_explanation(explanation, prediction: Prediction) -> dict:
    """`explanation_numbers` and the maps themselves for the `/analyze` endpoint: per target and
    per part response a gray PNG over the aligned crop (base64), the crop as a PNG, and the five
    landmarks the crop was aligned on (photo pixels), which carry a map back onto the photo
    (fatauva.template.similarity_transform, inverted)."""
    numbers = explanation_numbers(explanation)
    maps = {
        name: {"layer": explanation.layers[name], "verdict": numbers["verdicts"][name], "png": heat_png(m)}
        for name, m in explanation.maps.items()
    }
    parts = {
        part: {"feeds": list(r.feeds), "aus": list(r.aus), "png": heat_png(r.map)}
        for part, r in explanation.parts.items()
    }
    landmarks = None if prediction.face is None else np.asarray(prediction.face.landmarks).tolist()
    return {
        **numbers,
        "crop_png": png_base64(prediction.crop),
        "landmarks": landmarks,
        "maps": maps,
        "part_responses": parts,
    }
