"""The Face Lab tab (teaching): set a SynthFACS face's AUs, pose, light and identity; see what the
network predicts beside the truth, and where each branch looked beside the region it should look at.
The work is demo/facelab.py's; this module lays it out and wires it.

Two steps, as in the Analyze tab: the numbers (render, predict, plots) first, then the maps chained
after them (`.success`), so the bars and the V-A point move at once and the maps follow. The handlers
are demo.facelab's plain functions of (analyzer, settings), which tests call without a browser.
"""

import functools
from dataclasses import dataclass, replace

import cv2
import gradio as gr
import numpy as np

from demo import explanations
from demo.analyze_tab import map_gallery
from demo.facelab import (
    DEFAULT_IDENTITY,
    GROUPS,
    MAX_IDENTITY,
    POSE_LIMITS,
    TILE,
    VA_GROUP,
    LabSettings,
    LabView,
    lab_view,
    maps_view,
    matching_preset,
    preset_aus,
    preset_note,
)
from fatauva import topology
from fatauva.analyze import Analyzer
from fatauva.synthfacs import Scene, SynthFace
from fatauva.synthfacs.attributes import PRESENT_MIN
from fatauva.synthfacs.emotions import EMOTION_NAMES

# Thumbnails of one size in every gallery: the mouth (its response and eight AUs) fills a full-width
# row of 9, the other groups (at most 4 maps) sit two to a row.
WIDE_COLUMNS, HALF_COLUMNS = 9, 4


def enlarged(image: np.ndarray) -> np.ndarray:
    """A crop at TILE px for the page (a browser does not enlarge an image past its own size)."""
    return cv2.resize(image, (TILE, TILE), interpolation=cv2.INTER_CUBIC)


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
   the mouth), and the **AU12 map**, outlined: where AU12 moves pixels. The cross is the map's maximum:
   green when it falls inside (a hit), red when not. The rates after each verdict say how often it hits
   on the SynthFACS test faces: a map can miss while the number is right.
4. Switch the **map layer** from the core's 28×28 map to **branch**: the AU12 map is now taken on the
   Lip_c branch itself, and still hits. Now try **AU10** or **AU25**: on their branches the maps mostly
   miss (the rates say how often), because the evidence, still in place early in the network, is
   spread out by the branches' last blocks. Where you take a map changes what it shows, and the
   pointing game tells you which map to believe.
5. Try a preset from the paper's Table 1, turn the head, move the light, change the identity: the
   truth stays, what the network reads and where it looks may not.
"""


# ----- the tab ---------------------------------------------------------------------------------------
@dataclass
class LabState:
    """The session's face (SynthFace) and the layer whose maps the galleries show for it, if any."""

    face: SynthFace
    mapped: str | None = None  # the layer whose maps the galleries show for this face


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
        f"## Where each head found its evidence\n{explanations.DEFAULT_METHOD} maps; the white outline "
        "is the region the unit acts on (SynthFACS's mask)."
    )
    layer = gr.Radio(
        [
            (
                f"the core's 28×28 map ({explanations.DEFAULT_LAYER}, the app's default)",
                explanations.DEFAULT_LAYER,
            ),
            ("each head's own branch (branch)", explanations.BRANCH),
        ],
        value=explanations.DEFAULT_LAYER,
        label="Map layer",
        elem_classes="facelab-layer",
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

    def on_maps(lab: LabState | None, on_layer: str):
        if lab is None or lab.mapped == on_layer:
            return [lab, *([gr.skip()] * (len(maps_outputs) - 1))]
        view = maps_view(analyzer, lab.face, on_layer)
        return [LabState(lab.face, mapped=on_layer), view.summary, *(view.galleries[g] for g in GROUPS)]

    @functools.cache
    def first_maps() -> list:
        view = maps_view(analyzer, initial.face, explanations.DEFAULT_LAYER)
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
    ).success(on_maps, inputs=[state, layer], outputs=maps_outputs, show_progress="minimal", **maps_options)
    preset.input(
        on_preset,
        inputs=[preset, *controls],
        outputs=[*au_sliders, note, *view_outputs],
        show_progress="minimal",
        api_visibility="private",
    ).success(on_maps, inputs=[state, layer], outputs=maps_outputs, show_progress="minimal", **maps_options)
    layer.input(on_maps, inputs=[state, layer], outputs=maps_outputs, show_progress="minimal", **maps_options)
    # No triggers and no inputs: on page load only. The default face's maps are the same for every
    # visitor, computed once; explain/ is imported then, not when the app starts.
    gr.on(None, first_maps, inputs=None, outputs=maps_outputs[1:], **maps_options)


def _gallery(group: str) -> gr.Gallery:
    columns = WIDE_COLUMNS if group == "mouth" else HALF_COLUMNS
    return map_gallery(gallery_label(group), "facelab-maps", columns, fit_columns=False)
