"""The Video tab: a clip in; valence and arousal over time, an AU timeline heat map, a CSV with one
row per frame and face; then one chosen frame's maps.

The frames are read, followed and predicted by demo.video (streamed: the clip is never held in
memory, only its per-frame numbers are); the maps of a frame come from demo.explanations on that one
frame, decoded again when the slider moves. Handlers are plain functions of (analyzer, inputs) so
tests call them without a browser; `build` lays the tab out inside the app's Blocks.
"""

import tempfile
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import gradio as gr
import numpy as np
import plotly.graph_objects as go

from demo import explanations
from demo.analyze_tab import draw_boxes, map_gallery
from demo.video import (
    DETECT_EVERY,
    OUTPUTS,
    ClipInfo,
    Progress,
    VideoAnalysis,
    VideoError,
    analyze_video,
    default_step,
    frame_faces,
    probe,
    read_frame,
)
from demo.video_examples import example_clip
from fatauva import topology
from fatauva.analyze import Analyzer

MAX_POINTS = 1500  # a timeline longer than this many predicted frames is averaged into this many bins
MAX_LINES = 6  # faces drawn on the V-A timeline (those seen in most frames)
MAX_STEP = 30
_COLOURS = ("#d62728", "#1f77b4", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b")


@dataclass
class Session:
    """One browser session's clip: its file, its analysis and the CSV written from it."""

    path: str
    analysis: VideoAnalysis
    csv_path: str


@dataclass
class FrameView:
    """What the tab shows of one frame: the frame with its faces boxed (the picked one red), a
    sentence saying which frame and face, the faithfulness sentence and the gallery items; time: the
    frame's time in seconds."""

    image: np.ndarray
    time: float
    status: str
    faithfulness: str
    gallery: list[tuple[np.ndarray, str]]


@contextmanager
def said_to_user():
    """The boundary of the tab: a VideoError (a clip that cannot be read) becomes one gr.Error."""
    try:
        yield
    except VideoError as e:
        raise gr.Error(str(e)) from None


def read_clip(path: str | None) -> ClipInfo:
    """A file path from the page -> ClipInfo, or one gr.Error saying what is wrong with it."""
    if not path:
        raise gr.Error("Upload a clip or pick the example first.")
    with said_to_user():
        return probe(path)


def clip_text(info: ClipInfo, step: int) -> str:
    """One line on the clip and on how much of it will be predicted."""
    rate = f"{info.fps:.3g} frames/s" if info.fps_known else f"no frame rate given (taken as {info.fps:g})"
    if not info.frame_count:  # the container does not say how long it is
        return f"**{info.name}**: {info.width}×{info.height}, {rate}. Predicting one frame in {step}."
    kept = info.predicted_frames(step)
    return (
        f"**{info.name}**: {info.width}×{info.height}, {rate}, about {info.frame_count} frames "
        f"({info.duration:.1f} s). Predicting one frame in {step}: about {kept} frames."
    )


def run(
    analyzer: Analyzer, path: str | None, step: int, detect_every: int, progress: Progress | None = None
) -> Session:
    """Analyze a clip (demo.video.analyze_video) and write its CSV into a fresh temporary folder.

    progress(done, total): as analyze_video's. Raises gr.Error for a missing or unreadable clip."""
    info = read_clip(path)
    folder = Path(tempfile.mkdtemp(prefix="fatauva-"))
    csv_path = folder / f"{Path(info.name).stem or 'clip'}.csv"
    with said_to_user():
        analysis = analyze_video(analyzer, path, int(step), int(detect_every), csv_path, progress)
    return Session(str(path), analysis, str(csv_path))


def status_text(analysis: VideoAnalysis) -> str:
    """What was predicted, and each face's number and how many frames it is in."""
    faces = analysis.faces()
    done = f"Predicted {len(analysis.frames)} frames of {analysis.info.name} (one in {analysis.step})"
    if not faces:
        return done + "; no face was found in them. Try a clip where a frontal face fills more of the frame."
    counts = np.bincount(analysis.rows.face)
    seen = ", ".join(f"face {n} in {counts[n]}" for n in faces[:MAX_LINES])
    more = f" and {len(faces) - MAX_LINES} more" if len(faces) > MAX_LINES else ""
    return f"{done}: {seen}{more}."


def face_choices(analysis: VideoAnalysis) -> list[tuple[str, int]]:
    """(label, face number) for the Face dropdown, the face in most frames first."""
    counts = np.bincount(analysis.rows.face, minlength=1)
    return [(f"Face {n} ({counts[n]} frames)", n) for n in analysis.faces()]


# ----- timelines -----------------------------------------------------------------------------------
def face_series(analysis: VideoAnalysis, face: int, column: int | list[int]) -> np.ndarray:
    """One face's outputs (column index or indices of OUTPUTS) at every predicted frame, NaN where
    the face is not in the frame: (F,) or (F, len(column))."""
    rows = np.flatnonzero(analysis.rows.face == face)
    values = analysis.rows.outputs[:, column]
    series = np.full((len(analysis.frames), *values.shape[1:]), np.nan, np.float32)
    series[np.searchsorted(analysis.frames, analysis.rows.frame[rows])] = values[rows]
    return series


def binned(
    times: np.ndarray, values: np.ndarray, max_points: int = MAX_POINTS
) -> tuple[np.ndarray, np.ndarray]:
    """(times, values) of at most max_points columns: consecutive frames averaged together, NaN
    ignored (a bin with no value stays NaN, so a face's absence still shows as a gap)."""
    n = len(times)
    if n <= max_points:
        return times, values
    edges = np.linspace(0, n, max_points + 1).astype(int)
    known = ~np.isnan(values)
    sums = np.add.reduceat(np.where(known, values, 0.0), edges[:-1], axis=0)
    counts = np.add.reduceat(known, edges[:-1], axis=0)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.add.reduceat(times, edges[:-1]) / np.diff(edges), sums / counts


def _mark(fig: go.Figure, marker_time: float | None) -> None:
    if marker_time is not None:
        fig.add_vline(x=marker_time, line_dash="dot", line_color="black")


def va_timeline(analysis: VideoAnalysis, marker_time: float | None = None) -> go.Figure:
    """Valence (solid) and arousal (dotted) over time, one colour per face (the MAX_LINES faces seen
    in most frames), broken where the face is not in the frame; marker_time: a vertical line (s)."""
    fig = go.Figure()
    for colour, face in zip(_COLOURS, analysis.faces()[:MAX_LINES], strict=False):
        for name, dash in (("valence", "solid"), ("arousal", "dot")):
            x, y = binned(analysis.times, face_series(analysis, face, OUTPUTS.index(name)))
            fig.add_trace(
                go.Scatter(
                    x=x,
                    y=y,
                    mode="lines",
                    name=f"face {face} {name}",
                    line=dict(color=colour, dash=dash),
                    hovertemplate=f"face {face}<br>%{{x:.2f}} s<br>{name} %{{y:.2f}}<extra></extra>",
                )
            )
    _mark(fig, marker_time)
    fig.update_layout(
        xaxis=dict(title="time (s)"),
        yaxis=dict(title="valence / arousal", range=[-1.05, 1.05]),
        height=320,
        margin=dict(l=10, r=10, t=40, b=10),
        title="Valence (solid) and arousal (dotted) over time",
        legend=dict(orientation="h", yanchor="bottom", y=1.02, x=1, xanchor="right"),
    )
    return fig


def au_heatmap(analysis: VideoAnalysis, face: int | None, marker_time: float | None = None) -> go.Figure:
    """P(AU present) of one face over time: a row per AU of Table 3, a column per predicted frame
    (binned past MAX_POINTS), blank where the face is not in the frame."""
    fig = go.Figure()
    if face is not None:
        columns = [OUTPUTS.index(key) for key in topology.AU_KEYS]
        x, z = binned(analysis.times, face_series(analysis, face, columns))
        labels = [f"{topology.au_key(au)} {topology.AU_NAMES[au]}" for au in topology.AUS]
        fig.add_trace(
            go.Heatmap(
                x=x,
                y=labels,
                z=z.T,
                zmin=0,
                zmax=1,
                colorscale="Viridis",
                colorbar=dict(title="P"),
                hovertemplate="%{y}<br>%{x:.2f} s<br>P=%{z:.2f}<extra></extra>",
            )
        )
    _mark(fig, marker_time)
    fig.update_layout(
        xaxis=dict(title="time (s)"),
        yaxis=dict(autorange="reversed"),
        height=420,
        margin=dict(l=10, r=10, t=40, b=10),
        title=f"Action units of face {face} over time"
        if face is not None
        else "Action units (no face found)",
    )
    return fig


# ----- one frame -----------------------------------------------------------------------------------
def frame_view(analyzer: Analyzer, session: Session, frame: int, face: int | None) -> FrameView:
    """Frame `frame` of the clip (the nearest predicted one) with face `face` explained (the frame's
    lowest-numbered face when `face` is not in it): the maps of demo.explanations, over the aligned
    crop and over the frame, in the order of its galleries (each part, then V-A)."""
    analysis = session.analysis
    index = analysis.nearest_frame(frame)
    with said_to_user():
        decoded = read_frame(session.path, index)
    faces = frame_faces(analyzer, analysis, decoded)
    where = f"Frame {index} ({decoded.time:.2f} s)"
    if not faces:
        return FrameView(decoded.image, decoded.time, f"{where}: no face was found in this frame.", "", [])
    number = face if face in faces else min(faces)
    pred = faces[number]
    layer = explanations.DEFAULT_LAYER  # the Analyze tab's default, and the record the verdicts come from
    explanation = explanations.explain(analyzer, pred.crop, layer=layer)
    groups = explanations.galleries(explanation, pred, decoded.image)
    note = "" if number == face or face is None else f" (face {face} is not in this frame)"
    status = (
        f"{where}: face {number}{note}, valence {pred.valence:+.2f}, arousal {pred.arousal:+.2f}. "
        "Each map over the aligned crop, then over the frame."
    )
    return FrameView(
        image=draw_boxes(decoded.image, list(faces.values()), number, list(faces)),
        time=decoded.time,
        status=status,
        faithfulness=explanations.faithfulness_status(
            analyzer.loaded.metrics, explanation.method, layer, explanation.passed
        ),
        gallery=[item for group in explanations.GROUPS for item in groups[group]],
    )


def first_frame_of(analysis: VideoAnalysis, face: int | None) -> int:
    """The first predicted frame showing `face` (the clip's first predicted frame without one)."""
    if face is None:
        return int(analysis.frames[0]) if len(analysis.frames) else 0
    return int(analysis.rows.frame[np.argmax(analysis.rows.face == face)])


def build(analyzer: Analyzer) -> None:
    """Lay the Video tab out and wire it (inside an open gr.Blocks / gr.Tab)."""
    session = gr.State()
    gr.Markdown(
        "Upload a clip: every k-th frame is predicted, the faces followed from frame to frame. "
        "Valence and arousal over time, each action unit's probability over time, and a CSV with one "
        "row per frame and face; then pick a frame to see where the branches looked."
    )
    with gr.Row():
        with gr.Column(scale=1):
            clip = gr.Video(
                label="Clip", sources=["upload"], include_audio=True, height=300, elem_id="video-clip"
            )
            with gr.Row():
                step = gr.Slider(1, MAX_STEP, value=1, step=1, label="Predict every k-th frame")
                detect_every = gr.Slider(
                    1,
                    MAX_STEP,
                    value=DETECT_EVERY,
                    step=1,
                    label="Detect faces every k predicted frames (follow them in between)",
                )
            go_button = gr.Button("Analyze clip", variant="primary")
            gr.Examples([[str(example_clip())]], inputs=clip, label="Example (a SynthFACS clip)")
        with gr.Column(scale=1):
            status = gr.Markdown()
            csv_file = gr.File(label="Results per frame and face (CSV)", interactive=False)
            face = gr.Dropdown(label="Face (AU timeline and maps)", choices=[], interactive=True)
    va_plot = gr.Plot(label="Valence and arousal over time", elem_classes="video-va")
    au_plot = gr.Plot(label="Action units over time", elem_classes="video-aus")
    gr.Markdown("## One frame's maps\nMove the slider to a frame: its faces are explained there.")
    frame = gr.Slider(0, 1, value=0, step=1, label="Frame", interactive=False, elem_id="video-frame")
    with gr.Row():
        frame_image = gr.Image(label="Frame", type="numpy", interactive=False, height=300)
        with gr.Column():
            frame_status = gr.Markdown()
            faithfulness = gr.Markdown(elem_classes="video-faithfulness")
    gallery = map_gallery(
        "Maps: each part's response, the AU branches it feeds and its attributes; then V-A",
        "video-map-gallery",
    )

    def on_clip(path: str | None):
        if not path:
            return gr.skip(), ""
        info = read_clip(path)
        chosen = default_step(info.fps)
        return chosen, clip_text(info, chosen)

    # Gradio finds the progress bar by this default's type and passes its own tracker in.
    def on_run(path: str | None, k: int, every: int, progress=gr.Progress()):  # noqa: B008
        progress(0, desc="Reading the clip")
        state = run(
            analyzer,
            path,
            k,
            every,
            lambda done, total: progress((done, total), desc="Predicting", unit="frames"),
        )
        analysis = state.analysis
        if not analysis.faces():
            gr.Warning("No face was found in this clip.")
        choices = face_choices(analysis)
        picked = choices[0][1] if choices else None
        start = first_frame_of(analysis, picked)
        last = int(analysis.frames[-1])
        return [
            state,
            status_text(analysis),
            state.csv_path,
            gr.update(choices=choices, value=picked),
            va_timeline(analysis),
            au_heatmap(analysis, picked),
            gr.update(
                minimum=int(analysis.frames[0]),
                maximum=max(last, 1),
                step=analysis.step,
                value=start,
                interactive=bool(choices),
            ),
        ]

    def on_frame(state: Session | None, index: float, number: int | None):
        if state is None or not len(state.analysis.frames):
            return [gr.skip()] * 6
        view = frame_view(analyzer, state, int(index), number)
        return [
            view.image,
            view.status,
            view.faithfulness,
            view.gallery,
            va_timeline(state.analysis, view.time),
            au_heatmap(state.analysis, number, view.time),
        ]

    def on_face(state: Session | None, number: int | None):
        if state is None or number is None:
            return [gr.skip()] * 2
        start = first_frame_of(state.analysis, number)
        return au_heatmap(state.analysis, number), start

    frame_outputs = [frame_image, frame_status, faithfulness, gallery, va_plot, au_plot]
    clip.change(on_clip, inputs=clip, outputs=[step, status], api_visibility="private")
    go_button.click(
        on_run,
        inputs=[clip, step, detect_every],
        outputs=[session, status, csv_file, face, va_plot, au_plot, frame],
        api_visibility="private",
    ).success(on_frame, inputs=[session, frame, face], outputs=frame_outputs, api_visibility="private")
    # Typing a frame number or letting go of the handle; while one frame is being explained, only
    # the last frame asked for meanwhile is explained next.
    frame.input(
        on_frame,
        inputs=[session, frame, face],
        outputs=frame_outputs,
        trigger_mode="always_last",
        api_visibility="private",
    )
    face.input(on_face, inputs=[session, face], outputs=[au_plot, frame], api_visibility="private").success(
        on_frame, inputs=[session, frame, face], outputs=frame_outputs, api_visibility="private"
    )
