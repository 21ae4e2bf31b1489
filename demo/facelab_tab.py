"""The Face Lab tab (teaching): set a SynthFACS face's AUs, pose, light and identity; see what the
network predicts beside the truth, and where each branch looked beside the region it should look at.

The face is rendered by `fatauva.synthfacs`, so its AU levels, valence and arousal and the region each
AU and part acts on (its masks) are known. The network sees it the way the app sees a photo: cropped
by a five-landmark similarity (`fatauva.synthfacs.align.aligned`), which undoes roll, scale and shift
but not yaw or pitch. The maps are explain/'s, each target on the branch its head reads (the explain
layer's default method); a map's pointing game is `explain.faithfulness.pointing_hit` (its maximum
inside the region), scored where `explain.faithfulness` scores it: an AU map on a face showing the AU,
a part response always.

Two steps, as in the Analyze tab: the numbers (render, predict, plots) first, then the maps chained
after them (`.success`), so the bars and the V-A point move at once and the maps follow. Handlers are
plain functions of (analyzer, settings) so tests call them without a browser; `build` lays the tab out.
"""

import functools
from dataclasses import dataclass, field, replace

import cv2
import gradio as gr
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
# Thumbnails of one size in every gallery: the mouth (its response and eight AUs) fills a full-width
# row of 9, the other groups (at most 4 maps) sit two to a row.
WIDE_COLUMNS, HALF_COLUMNS = 9, 4
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


def lab_maps(analyzer: Analyzer, face: SynthFace) -> dict[str, list[LabMap]]:
    """{gallery group: maps} of the face: per part (GROUPS) its response, then the maps of its AUs on
    their AU branches; last valence and arousal on their V-A branches."""
    from explain.faithfulness import pointing_hit, present, region_of
    from explain.parts import part_responses
    from explain.targets import TARGETS

    targets = tuple(t for t in TARGETS if t.kind != "attribute")
    cams = explanations.branch_maps(analyzer, face.image, targets)
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


def enlarged(image: np.ndarray) -> np.ndarray:
    """A crop at TILE px for the page (a browser does not enlarge an image past its own size)."""
    return cv2.resize(image, (TILE, TILE), interpolation=cv2.INTER_CUBIC)


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


def record_rate(metrics: dict, lab_map: LabMap) -> float | None:
    """The share of SynthFACS test faces on which this map hit, from the weights' faithfulness record of
    the tab's maps (the default method on each branch); None when the weights carry no such record."""
    from explain.gate import record_for

    record = record_for(metrics, explanations.DEFAULT_METHOD, explanations.BRANCH) or {}
    if lab_map.name.endswith(" response"):
        key = f"part_response.pointing_game.{lab_map.name.removesuffix(' response')}"
    else:
        key = f"pointing_game.{lab_map.name}"
    rate = record.get(key)
    return float(rate) if isinstance(rate, (int, float)) else None


def pointing_summary(groups: dict[str, list[LabMap]], metrics: dict) -> str:
    """One paragraph: the pointing game of this face's scored maps, each beside its hit rate over the
    SynthFACS test faces when the weights' faithfulness record has it."""
    scored = [m for maps in groups.values() for m in maps if m.hit is not None]

    def item(m: LabMap) -> str:
        rate = record_rate(metrics, m)
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


def maps_view(analyzer: Analyzer, face: SynthFace) -> MapsView:
    groups = lab_maps(analyzer, face)
    galleries = {g: [(map_tile(face.image, m), m.caption) for m in maps] for g, maps in groups.items()}
    return MapsView(galleries, pointing_summary(groups, analyzer.loaded.metrics), groups)


def gallery_label(group: str) -> str:
    """The heading of a gallery: the part and the AU branches its response feeds (Table 3)."""
    if group == VA_GROUP:
        return "Valence and arousal branches (Con_Val → valence, Con_Aro → arousal)"
    branches = [b for b in topology.AU_BRANCHES if b.part == group]
    if not branches:
        return f"{group.capitalize()} part response (feeds no AU branch)"
    feeds = ", ".join(f"{b.name} ({' '.join(topology.au_key(a) for a in b.aus)})" for b in branches)
    return f"{group.capitalize()} part response → {feeds}"


GUIDE = """### Parts guide AUs, AUs move V-A
FATAUVA-Net reads a face in three layers (paper §3): **part** branches (face, eyebrows, eyes, mouth;
Table 2) feed **AU** branches (Table 3), and only the AU branches feed **valence** and **arousal**
(§3.3: valence reads AU6_7, AU45, AU4, Lip_c and Mouth_au; arousal AU45, AU1, AU2, AU4 and Chin).
This face is drawn by SynthFACS, so its truth is known: green diamonds mark it.

1. Pick **neutral**, then drag **AU12 lip corner puller** to 5 (E) and let go.
2. The AU12 bar climbs to its diamond, and the **valence** point moves right, after its truth
   (SynthFACS computes V-A from the AUs, as the network must).
3. Below, in the mouth gallery: the **mouth part response** (where the mouth branch fires, outlined:
   the mouth), and the **AU12 map on the Lip_c branch**, outlined: where AU12 moves pixels. The cross is
   the map's maximum: green when it falls inside (a hit), red when not. The rates after each verdict
   say how often it hits on the SynthFACS test faces: a map can miss while the number is right.
4. Try a preset from the paper's Table 1, turn the head, move the light, change the identity: the
   truth stays, what the network reads and where it looks may not.
"""


# ----- the tab ---------------------------------------------------------------------------------------
@dataclass
class LabState:
    """The session's face (SynthFace) and whether the galleries show its maps yet."""

    face: SynthFace
    mapped: bool = False


def build(analyzer: Analyzer) -> None:
    """Lay the Face Lab out and wire it (inside an open gr.Blocks / gr.Tab).

    Sliders fire on `.release`, not `.change`: `.change` fires for every value a dragged slider passes
    and for every value a preset sets, each a render, a forward and 16 maps (hundreds of ms on 2 cores),
    which would queue up behind the pointer; `.release` fires once, when the user lets go (or leaves
    the number box). `trigger_mode="always_last"` drops releases that arrive while one is running but
    the last. The maps run one at a time in the order asked (concurrency limit 1), and a maps step whose
    face already has its maps (a later release got there first) does nothing."""
    initial = lab_view(analyzer, LabSettings())
    state = gr.State(LabState(initial.face))
    with gr.Accordion("How to read this tab", open=True):
        gr.Markdown(GUIDE)
    with gr.Row():
        with gr.Column(scale=2, min_width=320):
            preset = gr.Radio(
                list(EMOTION_NAMES),
                label="Emotion preset (paper Table 1 → SynthFACS prototype)",
                elem_classes="facelab-preset",
            )
            note = gr.Markdown()
            gr.Markdown(
                "AU intensity: 0 absent, 1..5 = FACS levels A (trace) .. E (maximum); "
                f"an AU counts as present from {PRESENT_MIN:g} (B)."
            )
            sliders = {}
            for part in topology.PARTS:
                aus = [au for au in topology.AUS if topology.AU_PART[au] == part]
                if not aus:
                    continue
                with gr.Group():
                    gr.Markdown(f"**{part.capitalize()}** part", padding=True)
                    for au in aus:
                        sliders[au] = gr.Slider(
                            0, 5, value=0, step=0.5, label=f"{topology.au_key(au)} {topology.AU_NAMES[au]}"
                        )
            with gr.Accordion("Pose, light and identity", open=False):
                yaw = gr.Slider(-POSE_LIMITS["yaw"], POSE_LIMITS["yaw"], value=0, step=1, label="yaw (°)")
                pitch = gr.Slider(
                    -POSE_LIMITS["pitch"], POSE_LIMITS["pitch"], value=0, step=1, label="pitch (°)"
                )
                roll = gr.Slider(-POSE_LIMITS["roll"], POSE_LIMITS["roll"], value=0, step=1, label="roll (°)")
                azimuth = gr.Slider(0, 360, value=Scene.light_azimuth, step=5, label="light azimuth (°)")
                elevation = gr.Slider(
                    25, 90, value=Scene.light_elevation, step=1, label="light elevation (°)"
                )
                strength = gr.Slider(0.3, 1.0, value=Scene.light_strength, step=0.05, label="light strength")
                identity = gr.Slider(0, MAX_IDENTITY, value=DEFAULT_IDENTITY, step=1, label="identity (seed)")
        with gr.Column(scale=5):
            with gr.Row():
                posed = gr.Image(
                    enlarged(initial.posed),
                    label="The head as posed",
                    type="numpy",
                    interactive=False,
                    height=TILE,
                )
                crop = gr.Image(
                    enlarged(initial.face.image),
                    label=f"Aligned crop: the network's {analyzer.input_size} px input, enlarged",
                    type="numpy",
                    interactive=False,
                    height=TILE,
                )
            with gr.Row():
                aus_plot = gr.Plot(initial.aus, label="Action units: predicted, truth")
                va_plot = gr.Plot(initial.va, label="Valence-arousal: predicted, truth")
            table = gr.Markdown(initial.table, elem_classes="facelab-numbers")
    gr.Markdown(
        f"## Where each branch looked\n{explanations.DEFAULT_METHOD} maps, each on the branch its head "
        "reads; the white outline is the region the unit acts on (SynthFACS's mask). The Analyze tab "
        f"draws its maps on `{explanations.DEFAULT_LAYER}` by default, where more of them pass the "
        "faithfulness check; here they are on the branches, to see what each branch of the paper reads."
    )
    summary = gr.Markdown(elem_classes="facelab-pointing")
    galleries = {}
    with gr.Row():
        for group in ("eyebrows", "eyes"):
            galleries[group] = _gallery(group)
    galleries["mouth"] = _gallery("mouth")
    with gr.Row():
        for group in ("face", VA_GROUP):
            galleries[group] = _gallery(group)

    # LabSettings.from_values' order: the AUs in topology order (the sliders are laid out by part).
    au_sliders = [sliders[au] for au in topology.AUS]
    controls = [*au_sliders, yaw, pitch, roll, azimuth, elevation, strength, identity]
    view_outputs = [state, posed, crop, aus_plot, va_plot, table]
    maps_outputs = [state, summary, *(galleries[g] for g in GROUPS)]

    def show(view: LabView) -> list:
        return [
            LabState(view.face),
            enlarged(view.posed),
            enlarged(view.face.image),
            view.aus,
            view.va,
            view.table,
        ]

    def settings_of(values) -> LabSettings:
        try:
            settings = LabSettings.from_values(values)
            settings.params()
        except ValueError as e:
            raise gr.Error(str(e)) from None
        return settings

    def on_controls(*values):
        settings = settings_of(values)
        return [*show(lab_view(analyzer, settings)), matching_preset(settings.aus)]

    def on_preset(emotion: str, *values):
        settings = replace(settings_of(values), aus=preset_aus(emotion))
        return [
            *(settings.aus[au] for au in topology.AUS),
            preset_note(emotion),
            *show(lab_view(analyzer, settings)),
        ]

    def on_maps(lab: LabState | None):
        if lab is None or lab.mapped:
            return [lab, *([gr.skip()] * (len(maps_outputs) - 1))]
        view = maps_view(analyzer, lab.face)
        return [LabState(lab.face, mapped=True), view.summary, *(view.galleries[g] for g in GROUPS)]

    @functools.cache
    def first_maps() -> list:
        view = maps_view(analyzer, initial.face)
        return [view.summary, *(view.galleries[g] for g in GROUPS)]

    maps_options = dict(concurrency_id="facelab-maps", concurrency_limit=1, api_visibility="private")
    gr.on(
        [c.release for c in controls],
        on_controls,
        inputs=controls,
        outputs=[*view_outputs, preset],
        trigger_mode="always_last",
        show_progress="minimal",
        api_visibility="private",
    ).success(on_maps, inputs=state, outputs=maps_outputs, show_progress="minimal", **maps_options)
    preset.input(
        on_preset,
        inputs=[preset, *controls],
        outputs=[*au_sliders, note, *view_outputs],
        show_progress="minimal",
        api_visibility="private",
    ).success(on_maps, inputs=state, outputs=maps_outputs, show_progress="minimal", **maps_options)
    # No triggers and no inputs: on page load only. The default face's maps are the same for every
    # visitor, computed once; explain/ is imported then, not when the app starts.
    gr.on(None, first_maps, inputs=None, outputs=maps_outputs[1:], **maps_options)


def _gallery(group: str) -> gr.Gallery:
    return gr.Gallery(
        label=gallery_label(group),
        columns=WIDE_COLUMNS if group == "mouth" else HALF_COLUMNS,
        fit_columns=False,
        # The CSS size of the thumbnails' row: Gradio gives "auto" (and no height) a 450 px minimum.
        height="max-content",
        object_fit="contain",
        format="png",
        interactive=False,
        elem_classes="facelab-maps",
    )
