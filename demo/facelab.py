"""The Face Lab's work, without Gradio: controls -> a SynthFACS face -> the network's prediction beside
the truth, and each branch map beside the region it should look at (demo/facelab_tab.py lays it out).

The face is rendered by `fatauva.synthfacs`, so its AU levels, valence and arousal and the region each
AU and part acts on (its masks) are known. The network sees it the way the app sees a photo: cropped
by a five-landmark similarity (`fatauva.synthfacs.align.aligned`), which undoes roll, scale and shift
but not yaw or pitch. The maps are explain/'s (the default method), on a layer the learner picks:
the app's default, the core's 28x28 map ('core.fine'), or each target on the branch its head reads
('branch'), so the two can be compared on one face. A map's pointing game is
`explain.faithfulness.pointing_hit` (its maximum inside the region), scored where
`explain.faithfulness` scores it: an AU map on a face showing the AU, a part response always.
explain/ is imported on first use (demo/explanations.py says why).
"""

from dataclasses import dataclass, field

import cv2
import numpy as np
import plotly.graph_objects as go

from demo import explanations
from demo.plots import au_bars, va_circumplex
from fatauva import topology
from fatauva.analyze import Analyzer, Prediction
from fatauva.synthfacs import FaceParams, Scene, SynthFace, render
from fatauva.synthfacs.align import aligned
from fatauva.synthfacs.attributes import PRESENT_MIN
from fatauva.synthfacs.emotions import EMOTION_BY_NAME, EMOTION_NAMES
from fatauva.synthfacs.params import random_traits

# The paper's Table 1 (after Benitez-Quiroz et al. [2]): emotion -> its AUs, as printed. AU9 and AU20
# are not among the 14 AUs of Table 3, so no slider and no prototype has them.
TABLE_1: dict[str, tuple[int, ...]] = {
    "happiness": (12, 25),
    "sadness": (4, 25),
    "anger": (4, 7, 24),
    "disgust": (9, 10, 17),
    "fear": (1, 4, 20, 25),
    "surprise": (1, 2, 25, 26),
}
DEFAULT_IDENTITY = 9  # a face without glasses, whose mouth and brows are easy to see
MAX_IDENTITY = 999
# Pose limits: what SynthFACS draws for its training faces (params.random_scene), degrees.
POSE_LIMITS = {"yaw": 25.0, "pitch": 20.0, "roll": 20.0}
TILE = 224  # px: a map is drawn at this side so the region's outline stays thin
_OUTLINE = (255, 255, 255)
_HIT, _MISS, _UNSCORED = (44, 160, 44), (214, 39, 40), (255, 255, 255)
VA_GROUP = explanations.VA_GROUP
GROUPS = explanations.GROUPS  # a gallery per part (its response, then its AUs' maps), then V-A


@dataclass(frozen=True)
class LabSettings:
    """Everything the tab's controls set: AU -> intensity 0..5 (topology.AUS), head pose in degrees,
    the light (fatauva.synthfacs.Scene's light_*), and the identity: the seed of the face's traits."""

    aus: dict[int, float] = field(default_factory=lambda: {au: 0.0 for au in topology.AUS})
    yaw: float = 0.0
    pitch: float = 0.0
    roll: float = 0.0
    light_azimuth: float = Scene.light_azimuth
    light_elevation: float = Scene.light_elevation
    light_strength: float = Scene.light_strength
    identity: int = DEFAULT_IDENTITY

    SCALARS = ("yaw", "pitch", "roll", "light_azimuth", "light_elevation", "light_strength", "identity")

    @classmethod
    def from_values(cls, values) -> "LabSettings":
        """Settings from the controls' values in `values()` order: the AUs, then SCALARS."""
        values = [float(v) for v in values]
        n = len(topology.AUS)
        if len(values) != n + len(cls.SCALARS):
            raise ValueError(f"expected {n + len(cls.SCALARS)} control values, got {len(values)}")
        scalars = dict(zip(cls.SCALARS, values[n:], strict=True))
        scalars["identity"] = int(scalars["identity"])
        return cls(aus=dict(zip(topology.AUS, values[:n], strict=True)), **scalars)

    def values(self) -> list[float]:
        return [self.aus[au] for au in topology.AUS] + [getattr(self, name) for name in self.SCALARS]

    def params(self) -> FaceParams:
        """The SynthFACS parameters of the face as posed (before the app's alignment). Raises
        ValueError naming the control for a value out of its range."""
        for name, limit in POSE_LIMITS.items():
            if abs(getattr(self, name)) > limit:
                raise ValueError(f"{name} must be within ±{limit:g} degrees, got {getattr(self, name):g}")
        if not 0 <= self.identity <= MAX_IDENTITY:
            raise ValueError(f"identity must be within 0..{MAX_IDENTITY}, got {self.identity}")
        scene = Scene(
            yaw=self.yaw,
            pitch=self.pitch,
            roll=self.roll,
            light_azimuth=self.light_azimuth,
            light_elevation=self.light_elevation,
            light_strength=self.light_strength,
            texture_seed=self.identity,
        )
        traits = random_traits(np.random.default_rng(self.identity))
        return FaceParams(au=dict(self.aus), traits=traits, scene=scene)


# ----- presets ---------------------------------------------------------------------------------------
def preset_aus(emotion: str) -> dict[int, float]:
    """Every AU's intensity in `emotion`'s SynthFACS prototype at full intensity (the faces the network
    trained on; fatauva.synthfacs.emotions), 0 for the AUs it leaves out."""
    if emotion not in EMOTION_BY_NAME:
        raise ValueError(f"unknown emotion {emotion!r}; choose from {', '.join(EMOTION_NAMES)}")
    prototype = EMOTION_BY_NAME[emotion].aus
    return {au: float(prototype.get(au, 0.0)) for au in topology.AUS}


def matching_preset(aus: dict[int, float]) -> str | None:
    """The emotion whose preset sets exactly these AU intensities, None when none does."""
    return next((name for name in EMOTION_NAMES if preset_aus(name) == aus), None)


def preset_note(emotion: str) -> str:
    """What a preset sets, against the paper's Table 1: which Table 1 AUs it shows, which it leaves out
    and which Table 3 cannot show."""
    aus = {au: v for au, v in preset_aus(emotion).items() if v > 0}
    shown = ", ".join(f"{topology.au_key(au)} {v:g}" for au, v in aus.items()) or "no AU"
    text = f"**{emotion}** sets {shown} (SynthFACS's prototype)."
    listed = TABLE_1.get(emotion)
    if listed is None:
        return text + " Table 1 has no row for it."
    text += f" Table 1 lists {', '.join(topology.au_key(au) for au in listed)}."
    missing = [topology.au_key(au) for au in listed if au in topology.AUS and au not in aus]
    trace = [f"{topology.au_key(au)} ({aus[au]:g})" for au in listed if 0 < aus.get(au, 0) < PRESENT_MIN]
    outside = [topology.au_key(au) for au in listed if au not in topology.AUS]
    if missing:
        text += f" The prototype leaves out {', '.join(missing)}."
    if trace:
        text += f" It sets {', '.join(trace)} below present ({PRESENT_MIN:g})."
    if outside:
        text += f" {', '.join(outside)}: not among the 14 AUs of Table 3."
    return text


# ----- the face and its numbers ----------------------------------------------------------------------
@dataclass
class LabView:
    """What the tab shows before the maps: the head as posed (uint8 RGB (S, S, 3)), the rendered face
    as the network sees it (SynthFace: aligned crop, truth, masks), the prediction, the AU and V-A
    figures with the truth marked, and a Markdown table of every output beside its truth."""

    posed: np.ndarray
    face: SynthFace
    prediction: Prediction
    aus: go.Figure
    va: go.Figure
    table: str


def render_lab_face(settings: LabSettings, size: int) -> tuple[np.ndarray, SynthFace]:
    """(the head as posed, without masks; the face aligned as the app crops a photo, with masks)."""
    params = settings.params()
    return render(params, size, with_masks=False).image, render(aligned(params), size)


def _level(intensity: float) -> str:
    """An AU intensity as FACS writes it: 0, or A..E for the whole levels 1..5."""
    if intensity == 0:
        return "0"
    return "ABCDE"[int(intensity) - 1] if intensity == int(intensity) else f"{intensity:g}"


def numbers_table(face: SynthFace, prediction: Prediction) -> str:
    """Markdown: every AU (level, present, P(present)) and valence and arousal, truth beside prediction."""
    truth = face.labels
    rows = [
        "| output | branch | truth | predicted |",
        "|---|---|---|---|",
    ]
    for i, au in enumerate(topology.AUS):
        level, present = float(truth.au_intensity[i]), bool(truth.au_present[i])
        p = prediction.aus[au]
        called = f"**{p:.3f}**" if p >= 0.5 else f"{p:.3f}"
        rows.append(
            f"| {topology.au_key(au)} {topology.AU_NAMES[au]} | {topology.AU_BRANCH[au]} | "
            f"{_level(level)} ({'present' if present else 'absent'}) | {called} |"
        )
    for target, value, true in (
        ("valence", prediction.valence, truth.valence),
        ("arousal", prediction.arousal, truth.arousal),
    ):
        branches = " ".join(topology.VA_INPUTS[target])
        rows.append(f"| {target} | {branches} | {true:+.3f} | **{value:+.3f}** |")
    return "\n".join(rows)


def lab_view(analyzer: Analyzer, settings: LabSettings) -> LabView:
    """Render the face the settings describe, predict it, and draw prediction against truth."""
    posed, face = render_lab_face(settings, analyzer.input_size)
    prediction = analyzer.analyze_crops([face.image])[0]
    truth = face.labels
    present = {au: bool(truth.au_present[i]) for i, au in enumerate(topology.AUS)}
    return LabView(
        posed=posed,
        face=face,
        prediction=prediction,
        aus=au_bars(prediction.aus, truth=present),
        va=va_circumplex(prediction.valence, prediction.arousal, truth=(truth.valence, truth.arousal)),
        table=numbers_table(face, prediction),
    )


# ----- the maps --------------------------------------------------------------------------------------
@dataclass
class LabMap:
    """One map of the face: its name ('AU12', 'mouth response', 'valence'), the branch it was made on,
    the (S, S) map in [0, 1], the region it should point into (None for V-A, which has none) and the
    pointing game (True hit, False miss, None not scored)."""

    name: str
    branch: str
    heat: np.ndarray
    region: np.ndarray | None
    hit: bool | None

    @property
    def verdict(self) -> str:
        if self.region is None:
            return "no true region"
        return {True: "hit ✓", False: "miss ✗", None: "absent, not scored"}[self.hit]

    @property
    def caption(self) -> str:
        """Short, so a gallery thumbnail shows it whole; the part and branch are in the gallery's label."""
        name = self.name.removesuffix(" response")  # the gallery's label says it is the part's response
        if self.region is None:
            return name
        return f"{name} · {self.verdict}" if self.hit is not None else f"{name} · absent"


def lab_maps(
    analyzer: Analyzer, face: SynthFace, layer: str = explanations.DEFAULT_LAYER
) -> dict[str, list[LabMap]]:
    """{gallery group: maps} of the face: per part (GROUPS) its response, then the maps of its AUs;
    last valence and arousal; the maps on `layer` (explanations.BRANCH: each on its own branch)."""
    from explain.faithfulness import pointing_hit, present, region_of
    from explain.parts import part_responses
    from explain.targets import TARGETS

    targets = tuple(t for t in TARGETS if t.kind != "attribute")
    cams = explanations.target_maps(analyzer, face.image, targets, layer=layer)
    responses = part_responses(cams.output.features, face.image.shape[0])
    maps = {}
    for t in targets:
        heat = cams.maps[t.name][0]
        if t.kind == "va":
            maps[t.name] = LabMap(t.name, cams.layers[t.name], heat, None, None)
            continue
        region = region_of(face, t)
        hit = pointing_hit(heat, region) if present(face, t) else None
        maps[t.name] = LabMap(t.name, cams.layers[t.name], heat, region, hit)
    groups = {}
    for part, response in responses.items():
        region = face.masks[part]
        groups[part] = [
            LabMap(
                f"{part} response", f"part.{part}", response.map, region, pointing_hit(response.map, region)
            )
        ] + [maps[au] for au in response.aus]
    groups[VA_GROUP] = [maps[t] for t in topology.VA_TARGETS]
    return groups


def map_tile(crop: np.ndarray, lab_map: LabMap) -> np.ndarray:
    """The map over the crop at TILE px, its true region outlined in white and the map's maximum (the
    point the pointing game scores) marked: green on a hit, red on a miss, white when not scored."""
    tile = cv2.resize(
        explanations.heat_over(crop, lab_map.heat), (TILE, TILE), interpolation=cv2.INTER_LINEAR
    )
    if lab_map.region is not None:
        region = cv2.resize(lab_map.region.astype(np.uint8), (TILE, TILE), interpolation=cv2.INTER_NEAREST)
        contours, _ = cv2.findContours(region, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
        cv2.drawContours(tile, contours, -1, _OUTLINE, 2)
    y, x = np.unravel_index(int(np.argmax(lab_map.heat)), lab_map.heat.shape)
    scale = TILE / lab_map.heat.shape[0]
    colour = {True: _HIT, False: _MISS, None: _UNSCORED}[lab_map.hit]
    centre = (round((x + 0.5) * scale), round((y + 0.5) * scale))
    cv2.drawMarker(tile, centre, (0, 0, 0), cv2.MARKER_CROSS, 24, 7)
    cv2.drawMarker(tile, centre, colour, cv2.MARKER_CROSS, 22, 3)
    return tile


def record_rate(metrics: dict, lab_map: LabMap, layer: str = explanations.DEFAULT_LAYER) -> float | None:
    """The share of SynthFACS test faces on which this map hit, from the weights' faithfulness record of
    the default method on `layer`; None when the weights carry no such record."""
    from explain.gate import record_for

    record = record_for(metrics, explanations.DEFAULT_METHOD, layer) or {}
    if lab_map.name.endswith(" response"):
        key = f"part_response.pointing_game.{lab_map.name.removesuffix(' response')}"
    else:
        key = f"pointing_game.{lab_map.name}"
    rate = record.get(key)
    return float(rate) if isinstance(rate, (int, float)) else None


def pointing_summary(
    groups: dict[str, list[LabMap]], metrics: dict, layer: str = explanations.DEFAULT_LAYER
) -> str:
    """One paragraph: the pointing game of this face's scored maps, each beside its hit rate over the
    SynthFACS test faces when the weights' faithfulness record has it."""
    scored = [m for maps in groups.values() for m in maps if m.hit is not None]

    def item(m: LabMap) -> str:
        rate = record_rate(metrics, m, layer)
        on_test = f" (test faces: {rate:.0%})" if rate is not None else ""
        return f"{m.name} {'✓' if m.hit else '✗'}{on_test}"

    aus = [m for m in scored if not m.name.endswith(" response")]
    parts = [m for m in scored if m.name.endswith(" response")]
    text = (
        "**Pointing game on this face** (the map's maximum, the cross, inside the outlined region; "
        "an AU map is scored only when the face shows the AU): "
    )
    if aus:
        text += f"AU maps {sum(m.hit for m in aus)} of {len(aus)} hit: {', '.join(item(m) for m in aus)}. "
    else:
        text += "no AU is present (level 2 or more), so no AU map is scored. "
    return (
        text
        + f"Part responses {sum(m.hit for m in parts)} of {len(parts)}: {', '.join(item(m) for m in parts)}."
    )


@dataclass
class MapsView:
    """The maps ready to show: {group: [(tile, caption)]} for the galleries, and the pointing summary."""

    galleries: dict[str, list[tuple[np.ndarray, str]]]
    summary: str
    maps: dict[str, list[LabMap]]


def maps_view(analyzer: Analyzer, face: SynthFace, layer: str = explanations.DEFAULT_LAYER) -> MapsView:
    groups = lab_maps(analyzer, face, layer)
    galleries = {g: [(map_tile(face.image, m), m.caption) for m in maps] for g, maps in groups.items()}
    return MapsView(galleries, pointing_summary(groups, analyzer.loaded.metrics, layer), groups)
