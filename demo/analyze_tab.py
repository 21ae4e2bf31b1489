"""The Analyze tab: a photo in; every face boxed, one picked; its attributes, AUs and V-A; downloads.

Handlers are plain functions of (analyzer, inputs) so tests call them without a browser; `build`
lays the tab out inside the app's Blocks.
"""

import json
import tempfile
from dataclasses import dataclass
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


def draw_boxes(image: np.ndarray, faces: list[Prediction], picked: int | None) -> np.ndarray:
    """The photo (shrunk to DISPLAY_SIDE) with each face boxed and numbered; the picked one in red."""
    scale = min(1.0, DISPLAY_SIDE / max(image.shape[:2]))
    shown = cv2.resize(image, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA) if scale < 1 else image
    shown = shown.copy()
    thickness = max(2, round(max(shown.shape[:2]) / 300))
    for number, pred in enumerate(faces, start=1):
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


def write_downloads(analysis: PhotoAnalysis, name: str) -> tuple[str, str]:
    """The photo's results as JSON and CSV files (demo.photo.CSV_COLUMNS) for the download buttons."""
    folder = Path(tempfile.mkdtemp(prefix="fatauva-"))
    stem = Path(name).stem or "photo"
    json_path, csv_path = folder / f"{stem}.json", folder / f"{stem}.csv"
    json_path.write_text(json.dumps({"file": name, **analysis.as_dict()}, indent=2) + "\n", encoding="utf-8")
    write_csv(csv_path, analysis.rows(name))
    return str(json_path), str(csv_path)


def status_text(analysis: PhotoAnalysis, picked: int | None) -> str:
    n = len(analysis.faces)
    if n == 0:
        return (
            f"No face was found (faces of {analysis.min_face} px and more were looked for). "
            "Try a frontal face that fills more of the frame."
        )
    found = f"Found {n} face{'s' if n > 1 else ''}"
    return found + (f"; showing face {picked} (pick another below)." if n > 1 else ".")


def api_analyze(analyzer: Analyzer, path: str | None, maps: bool = False) -> dict:
    """The `/analyze` endpoint: a photo file -> every face's box and outputs as JSON.

    maps: also return the explanation maps; while the explain layer is not available the answer
    says why under "maps_unavailable" instead."""
    analysis = analyze_photo(analyzer, read_photo(path))
    loaded = analyzer.loaded
    result = {
        "file": Path(path).name,
        "weights": {"kind": loaded.kind, "location": loaded.location, "sha256": loaded.sha256},
        **analysis.as_dict(),
    }
    if maps:
        result["maps_unavailable"] = explanations.available()
    return result


def build(analyzer: Analyzer) -> None:
    """Lay the Analyze tab out and wire it (inside an open gr.Blocks / gr.Tab)."""
    state = gr.State()
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
    with gr.Accordion("Explanations: maps per branch and the AU → V-A flow", open=False):
        gr.Markdown(explanations.available() or "")
    with gr.Row():
        json_file = gr.File(label="Results (JSON)", interactive=False)
        csv_file = gr.File(label="Results (CSV)", interactive=False)
    with gr.Accordion("All outputs of this face (JSON)", open=False):
        details = gr.JSON()
    face_outputs = [crop, attributes, aus, va, details]

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
        downloads = write_downloads(analysis, payload.get("orig_name") or Path(path).name)
        return [
            analysis,
            draw_boxes(image, analysis.faces, picked),
            status_text(analysis, picked),
            gr.update(choices=choices, value=choices[0] if choices else None, visible=len(choices) > 1),
            *downloads,
            *show(analysis, picked or 1),
        ]

    def on_pick(analysis: PhotoAnalysis | None, choice: str | None):
        if analysis is None or not choice or not analysis.faces:
            return [gr.skip()] * (2 + len(face_outputs))
        number = int(choice.removeprefix("Face "))
        return [draw_boxes(analysis.image, analysis.faces, number), status_text(analysis, number)] + show(
            analysis, number
        )

    run.click(
        on_run,
        inputs=photo,
        outputs=[state, boxed, status, picker, json_file, csv_file, *face_outputs],
        preprocess=False,
        api_visibility="private",
    )
    picker.input(
        on_pick, inputs=[state, picker], outputs=[boxed, status, *face_outputs], api_visibility="private"
    )
