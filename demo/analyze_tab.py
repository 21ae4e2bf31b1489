"""The Analyze tab: a photo in; every face boxed, one picked; its attributes, AUs and V-A; then its
explanation (maps per part, AU and attribute branch and for V-A, the AU -> V-A flow, faithfulness
verdicts, occlusion on request); downloads.

Predictions come first and alone: the explanation of the picked face is a second step chained after
them (`.then`), so the predict path never waits for it and the page shows the numbers at once.
Handlers are plain functions of (analyzer, inputs) so tests call them without a browser; `build`
lays the tab out inside the app's Blocks.
"""

import json
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import cv2
import gradio as gr
import numpy as np
import plotly.graph_objects as go

from demo import explanations
from demo.examples import example_photos
from demo.images import ImageError, load_image
from demo.photo import PhotoAnalysis, analyze_photo, box_of, face_dict, write_csv
from demo.plots import au_bars, va_circumplex
from demo.realphoto import neutral_baseline, real_photo_summary, va_references
from fatauva import topology
from fatauva.analyze import Analyzer, Prediction

DISPLAY_SIDE = 1280  # px: the boxed photo is shrunk to this for the page (the analysis is not)
_BOX = (46, 160, 67)
_PICKED = (214, 39, 40)
ATTRIBUTE_HEADERS = ["attribute", "part branch", "P(present)", "present"]


@dataclass
class FaceView:
    """What the tab shows of one face: its crop, attribute rows, AU and V-A figures, JSON."""

    crop: np.ndarray
    attributes: list[list]
    aus: go.Figure
    va: go.Figure
    details: dict


def map_gallery(label: str, elem_classes: str, columns: int = 8, fit_columns: bool = True) -> gr.Gallery:
    """A gallery of map tiles, as every tab shows them: lossless PNG (JPEG smears the heat colours),
    whole tiles, not editable, as tall as its rows of tiles ("max-content": Gradio gives "auto" a
    450 px minimum, which left empty space under one or two rows)."""
    return gr.Gallery(
        label=label,
        columns=columns,
        fit_columns=fit_columns,
        height="max-content",
        object_fit="contain",
        format="png",
        interactive=False,
        elem_classes=elem_classes,
    )


def read_photo(path: str | None) -> np.ndarray:
    """The boundary of the tab: a file path from the page or the API -> RGB, or one gr.Error."""
    if not path:
        raise gr.Error("Upload a photo, take a webcam snapshot or pick an example first.")
    try:
        return load_image(path)
    except ImageError as e:
        raise gr.Error(str(e)) from None
    except OSError as e:
        raise gr.Error(f"{Path(path).name} could not be read ({e.strerror or e}).") from None


def attribute_rows(pred: Prediction) -> list[list]:
    return [
        [name, topology.ATTRIBUTE_PART[name], round(p, 3), "yes" if p >= 0.5 else "no"]
        for name, p in pred.attributes.items()
    ]


def face_view(analyzer: Analyzer, analysis: PhotoAnalysis, number: int) -> FaceView:
    """The view of face `number` (1 = the largest) of an analysed photo."""
    pred = analysis.faces[number - 1]
    metrics = analyzer.loaded.metrics
    return FaceView(
        crop=pred.crop,
        attributes=attribute_rows(pred),
        aus=au_bars(pred.aus, neutral=neutral_baseline(metrics)),
        va=va_circumplex(pred.valence, pred.arousal, va_references(metrics)),
        details=face_dict(number, pred),
    )


def draw_boxes(
    image: np.ndarray, faces: list[Prediction], picked: int | None, numbers: list[int] | None = None
) -> np.ndarray:
    """The photo (shrunk to DISPLAY_SIDE) with each face boxed and numbered; the picked one in red.

    numbers: each face's number (default 1, 2, ... in list order; the Video tab's are its faces'
    numbers through the clip)."""
    scale = min(1.0, DISPLAY_SIDE / max(image.shape[:2]))
    shown = cv2.resize(image, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA) if scale < 1 else image
    shown = shown.copy()
    thickness = max(2, round(max(shown.shape[:2]) / 300))
    for number, pred in zip(numbers or range(1, len(faces) + 1), faces, strict=True):
        box = box_of(pred)
        x0, y0 = round(box["x"] * scale), round(box["y"] * scale)
        x1, y1 = x0 + round(box["w"] * scale), y0 + round(box["h"] * scale)
        colour = _PICKED if number == picked else _BOX
        cv2.rectangle(shown, (x0, y0), (x1, y1), colour, thickness)
        cv2.putText(
            shown,
            str(number),
            (x0 + 3, max(y0 - 6, 14)),
            cv2.FONT_HERSHEY_SIMPLEX,
            0.5 * thickness,
            colour,
            thickness,
        )
    return shown


def write_downloads(
    analysis: PhotoAnalysis, name: str, explained: dict[int, dict] | None = None
) -> tuple[str, str]:
    """The photo's results as JSON (`write_json`) and CSV files (demo.photo.CSV_COLUMNS) for the
    download buttons, in a fresh temporary folder."""
    folder = Path(tempfile.mkdtemp(prefix="fatauva-"))
    csv_path = folder / f"{Path(name).stem or 'photo'}.csv"
    write_csv(csv_path, analysis.rows(name))
    return write_json(analysis, name, explained, folder), str(csv_path)


def write_json(
    analysis: PhotoAnalysis, name: str, explained: dict[int, dict] | None = None, folder: Path | None = None
) -> str:
    """The photo's results as a JSON file in `folder` (a fresh temporary one by default).

    explained: {face number: demo.explanations.explanation_numbers} of the faces explained so far,
    kept in the JSON under each such face's "explanation" (flow attributions, per-map verdicts)."""
    folder = folder or Path(tempfile.mkdtemp(prefix="fatauva-"))
    json_path = folder / f"{Path(name).stem or 'photo'}.json"
    result = {"file": name, **analysis.as_dict()}
    for face in result["faces"]:
        if explained and face["face"] in explained:
            face["explanation"] = explained[face["face"]]
    json_path.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    return str(json_path)


def status_text(analysis: PhotoAnalysis, picked: int | None) -> str:
    n = len(analysis.faces)
    if n == 0:
        return (
            f"No face was found (faces of {analysis.min_face} px and more were looked for). "
            "Try a frontal face that fills more of the frame."
        )
    found = f"Found {n} face{'s' if n > 1 else ''}"
    return found + (f"; showing face {picked} (pick another below)." if n > 1 else ".")


@dataclass
class ExplainView:
    """What the tab shows of one face's explanation: the explain layer's Explanation, the
    faithfulness sentence, the galleries ({group: [(image, caption)]}), the Sankey, the numbers."""

    explanation: object
    status: str
    galleries: dict[str, list]
    sankey: go.Figure
    numbers: dict


def explain_one(analyzer: Analyzer, crop: np.ndarray, method: str, layer: str):
    """explanations.explain with a bad method or layer turned into one gr.Error naming the choices."""
    try:
        return explanations.explain(analyzer, crop, method, layer)
    except ValueError as e:
        raise gr.Error(str(e)) from None


def explain_view(
    analyzer: Analyzer,
    analysis: PhotoAnalysis,
    number: int,
    method: str = explanations.DEFAULT_METHOD,
    layer: str = explanations.DEFAULT_LAYER,
) -> ExplainView:
    """The explanation of face `number` (1 = the largest) of an analysed photo, ready to show."""
    pred = analysis.faces[number - 1]
    explanation = explain_one(analyzer, pred.crop, method, layer)
    return ExplainView(
        explanation=explanation,
        status=explanations.faithfulness_status(
            analyzer.loaded.metrics, explanation.method, layer, explanation.passed
        ),
        galleries=explanations.galleries(explanation, pred, analysis.image),
        sankey=explanations.flow_sankey(explanations.flow_links(explanation.flow)),
        numbers=explanations.explanation_numbers(explanation),
    )


OCCLUSION_SIDE = 224  # px: each half of the occlusion comparison


def occlusion_view(analyzer: Analyzer, explanation, target: str) -> tuple[np.ndarray, str]:
    """Occlusion of `target` on the explained crop beside the target's map: the image (map | occlusion,
    each over the crop) and a sentence with their rank agreement."""
    from explain.occlusion import STRIDE, WINDOW

    reference = explanations.occlusion(analyzer, explanation.crop, target)
    cam = explanation.maps[target]
    side = (OCCLUSION_SIDE, OCCLUSION_SIDE)
    halves = [cv2.resize(explanations.heat_over(explanation.crop, m), side) for m in (cam, reference)]
    rho = explanations.rank_agreement(cam, reference)
    text = (
        f"**{target}**: left its {explanation.method} map on {explanation.layers[target]}, right occlusion "
        f"({WINDOW} px grey windows every {STRIDE} px: where hiding the face lowers the score). "
        f"Spearman rank agreement of the two: {rho:.2f}."
    )
    return np.concatenate(halves, axis=1), text


def api_analyze(
    analyzer: Analyzer,
    path: str | None,
    maps: bool = False,
    method: str = explanations.DEFAULT_METHOD,
    layer: str = explanations.DEFAULT_LAYER,
) -> dict:
    """The `/analyze` endpoint: a photo file -> every face's box and outputs as JSON.

    maps: also explain every face (demo.explanations.api_explanation under the face's
    "explanation": per target and part response a gray PNG over the crop, per-map faithfulness
    verdicts, the AU -> V-A flow's attributions); method, layer: how the maps are made."""
    analysis = analyze_photo(analyzer, read_photo(path))
    loaded = analyzer.loaded
    result = {
        "file": Path(path).name,
        "weights": {"kind": loaded.kind, "location": loaded.location, "sha256": loaded.sha256},
        **analysis.as_dict(),
    }
    method, layer = method or explanations.DEFAULT_METHOD, layer or explanations.DEFAULT_LAYER
    if maps:
        for face, pred in zip(result["faces"], analysis.faces, strict=True):
            explanation = explain_one(analyzer, pred.crop, method, layer)
            face["explanation"] = explanations.api_explanation(explanation, pred)
        if analysis.faces:
            result["faithfulness"] = explanations.faithfulness_status(
                loaded.metrics, explanation.method, layer, explanation.passed
            )
    return result


@dataclass
class Session:
    """One browser session's photo: its analysis, file name, the explanation numbers of the faces
    explained so far (for the JSON download) and the explanation on show (for occlusion)."""

    analysis: PhotoAnalysis
    name: str
    explained: dict[int, dict] = field(default_factory=dict)
    explanation: object | None = None


def build(analyzer: Analyzer) -> None:
    """Lay the Analyze tab out and wire it (inside an open gr.Blocks / gr.Tab)."""
    session = gr.State()
    with gr.Row():
        with gr.Column(scale=1):
            photo = gr.Image(
                label="Photo", type="filepath", sources=["upload", "webcam", "clipboard"], height=320
            )
            run = gr.Button("Analyze", variant="primary")
            gr.Examples(
                [[str(p)] for p in example_photos()], inputs=photo, label="Examples (SynthFACS renders)"
            )
        with gr.Column(scale=1):
            boxed = gr.Image(label="Faces found", type="numpy", interactive=False, height=320)
            status = gr.Markdown()
            picker = gr.Radio(label="Face", choices=[], visible=False)
    with gr.Row():
        crop = gr.Image(
            label="Aligned crop (the network's input)", type="numpy", interactive=False, height=224
        )
        attributes = gr.Dataframe(headers=ATTRIBUTE_HEADERS, label="Attributes, with the part branch of each")
    with gr.Row():
        aus = gr.Plot(label="Action units")
        va = gr.Plot(label="Valence-arousal")
    summary = real_photo_summary(analyzer.loaded.metrics)
    if summary:
        gr.Markdown(summary)
    with gr.Row():
        json_file = gr.File(label="Results (JSON)", interactive=False)
        csv_file = gr.File(label="Results (CSV)", interactive=False)
    with gr.Accordion("All outputs of this face (JSON)", open=False):
        details = gr.JSON()
    face_outputs = [crop, attributes, aus, va, details]

    gr.Markdown(
        "## Explanations\nWhere each head found its evidence, for the picked face: per part, its "
        "response and the maps of the AU branches it feeds and of its attributes; then valence and "
        "arousal. Each map over the aligned crop, then over the photo. By default the maps sit on the "
        "core's 28×28 map (`core.fine`), where they pass the faithfulness check most often with these "
        "weights; `branch` puts each on the 14×14 map of its own branch."
    )
    with gr.Row():
        method = gr.Dropdown(
            list(explanations.METHODS), value=explanations.DEFAULT_METHOD, label="CAM method"
        )
        layer = gr.Dropdown(
            explanations.layer_choices(analyzer),
            value=explanations.DEFAULT_LAYER,
            label="Layer (core.fine: the core's 28×28 map; branch: each head's own branch map)",
        )
    faithfulness = gr.Markdown(elem_classes="faithfulness-status")
    galleries = [map_gallery(explanations.group_label(group), "map-gallery") for group in explanations.GROUPS]
    sankey = gr.Plot(label="AU → V-A flow", elem_classes="flow-sankey")
    with gr.Accordion("Occlusion: check one map against where hiding the face changes the score", open=False):
        with gr.Row():
            occlusion_target = gr.Dropdown(list(explanations.TARGET_NAMES), value="Smiling", label="Target")
            occlusion_run = gr.Button("Run occlusion (slower)")
        occlusion_image = gr.Image(label="Map | occlusion", type="numpy", interactive=False, height=240)
        occlusion_text = gr.Markdown()
    explain_outputs = [session, faithfulness, *galleries, sankey, json_file, occlusion_image, occlusion_text]
    cleared = [faithfulness, *galleries, sankey]  # a new photo's maps replace the last one's

    def show(analysis: PhotoAnalysis, number: int) -> list:
        if not analysis.faces:
            return [None, [], None, None, {}]
        view = face_view(analyzer, analysis, number)
        return [view.crop, view.attributes, view.aus, view.va, view.details]

    def on_run(payload: dict | None):
        # Unprocessed (preprocess=False below): gradio's own decoding would fail on a bad file with a
        # generic error before read_photo could name what is wrong with it.
        path = (payload or {}).get("path")
        image = read_photo(path)
        analysis = analyze_photo(analyzer, image)
        if not analysis.faces:
            gr.Warning("No face was found in this photo.")
        picked = 1 if analysis.faces else None
        choices = [f"Face {i}" for i in range(1, len(analysis.faces) + 1)]
        name = payload.get("orig_name") or Path(path).name
        return [
            Session(analysis, name),
            draw_boxes(image, analysis.faces, picked),
            status_text(analysis, picked),
            gr.update(choices=choices, value=choices[0] if choices else None, visible=len(choices) > 1),
            *write_downloads(analysis, name),
            *show(analysis, picked or 1),
            "Computing the maps and the flow…" if analysis.faces else "",
            *([None] * (len(cleared) - 1)),
        ]

    def on_pick(state: Session | None, choice: str | None):
        if state is None or not choice or not state.analysis.faces:
            return [gr.skip()] * (2 + len(face_outputs))
        number = int(choice.removeprefix("Face "))
        analysis = state.analysis
        return [draw_boxes(analysis.image, analysis.faces, number), status_text(analysis, number)] + show(
            analysis, number
        )

    def on_explain(state: Session | None, choice: str | None, method_name: str, layer_name: str):
        if state is None or not state.analysis.faces:
            return [state, "", *([None] * len(galleries)), None, gr.skip(), None, ""]
        number = int(choice.removeprefix("Face ")) if choice else 1
        view = explain_view(analyzer, state.analysis, number, method_name, layer_name)
        state.explained[number] = view.numbers
        state.explanation = view.explanation
        json_path = write_json(state.analysis, state.name, state.explained)  # the CSV has not changed
        items = [view.galleries[group] for group in explanations.GROUPS]
        return [state, view.status, *items, view.sankey, json_path, None, ""]

    def on_occlusion(state: Session | None, target: str):
        if state is None or state.explanation is None:
            raise gr.Error("Analyze a photo with a face first.")
        return occlusion_view(analyzer, state.explanation, target)

    explain_inputs = [session, picker, method, layer]
    run.click(
        on_run,
        inputs=photo,
        outputs=[session, boxed, status, picker, json_file, csv_file, *face_outputs, *cleared],
        preprocess=False,
        api_visibility="private",
    ).success(on_explain, inputs=explain_inputs, outputs=explain_outputs, api_visibility="private")
    picker.input(
        on_pick, inputs=[session, picker], outputs=[boxed, status, *face_outputs], api_visibility="private"
    ).success(on_explain, inputs=explain_inputs, outputs=explain_outputs, api_visibility="private")
    gr.on(
        [method.input, layer.input],
        on_explain,
        inputs=explain_inputs,
        outputs=explain_outputs,
        api_visibility="private",
    )
    occlusion_run.click(
        on_occlusion,
        inputs=[session, occlusion_target],
        outputs=[occlusion_image, occlusion_text],
        api_visibility="private",
    )
