"""The Live tab: the webcam streamed through demo.live.step, frame by frame: the face boxed with one
chosen branch's map over it, P(AU) bars, and the valence-arousal point with a short trail.

When the machine falls behind, frames are dropped, never queued: Gradio's streaming image input
captures a frame every STREAM_EVERY seconds only while no frame of its own is pending, and the server
keeps one input slot per stream, which a newer frame overwrites (gradio.routes' /stream/{event_id}),
so each update starts from the latest frame the browser sent. concurrency_limit=1 gives the 2 cores
to one stream at a time (two would each fall under 10 updates/s); the next viewer waits in the queue
for at most LIVE_SECONDS, the stream's time_limit. The webcam is asked for 640x480 (its default ask
is 1920x1440, whose JPEG frames cost more to send and decode than the update itself), and outputs are
JPEG (WebP, Gradio's default, takes ~50 ms to encode a 640x480 frame; JPEG ~1 ms).

Without a webcam (a headless browser, a visitor who declines the camera) "Play a recorded sequence"
runs a SynthFACS sequence (demo.live.synthfacs_frames) through the same handler.
"""

import time

import gradio as gr
import numpy as np

from demo.explanations import DEFAULT_METHOD, METHODS, TARGET_NAMES
from demo.live import PANEL, LiveModel, LiveState, step, synthfacs_frames
from fatauva.analyze import Analyzer

STREAM_EVERY = 0.08  # s: the webcam's capture interval (12.5 frames/s asked; fewer when behind)
LIVE_SECONDS = 60  # s: one viewer's turn (the stream's time_limit)
PLAY_FPS = 10  # frames/s of the recorded sequence
DEFAULT_TARGET = "AU12"
WEBCAM = gr.WebcamOptions(
    mirror=True, constraints={"video": {"width": {"ideal": 640}, "height": {"ideal": 480}}}
)


def handler(model: LiveModel):
    """The function the stream calls: (frame, target, method, state) -> (annotated frame, panel,
    status line, state). bench.live and the tests call this very function."""

    def on_frame(frame: np.ndarray | None, target: str | None, method: str | None, state: LiveState | None):
        target, method = target or DEFAULT_TARGET, method or DEFAULT_METHOD
        if target not in TARGET_NAMES:
            raise gr.Error(f"Unknown target {target!r}; choose one of {', '.join(TARGET_NAMES)}.")
        if method not in METHODS:
            raise gr.Error(f"Unknown CAM method {method!r}; choose one of {', '.join(METHODS)}.")
        state = state if isinstance(state, LiveState) else LiveState()
        if frame is None:
            return gr.skip(), gr.skip(), "Waiting for the webcam…", state
        update = step(model, frame, state, target, method, now=time.monotonic())
        return update.frame, update.panel, update.message, state

    return on_frame


def build(analyzer: Analyzer) -> None:
    """Lay the Live tab out and wire it (inside an open gr.Blocks / gr.Tab)."""
    on_frame = handler(LiveModel.of(analyzer))
    gr.Markdown(
        "Stream your webcam: the face is found, then followed; its AUs, valence and arousal and the map "
        "of one branch update several times a second. When the machine falls behind, frames are "
        f"skipped, not queued. One viewer streams at a time, for up to {LIVE_SECONDS} s; press record "
        "again to go on. No webcam? Play the recorded SynthFACS sequence."
    )
    state = gr.State()
    with gr.Row():
        webcam = gr.Image(
            label="Webcam",
            sources=["webcam"],
            streaming=True,
            type="numpy",
            webcam_options=WEBCAM,
            height=260,
        )
        with gr.Column():
            target = gr.Dropdown(list(TARGET_NAMES), value=DEFAULT_TARGET, label="Map of the branch of")
            method = gr.Dropdown(list(METHODS), value=DEFAULT_METHOD, label="CAM method")
            play = gr.Button("Play a recorded sequence (no webcam needed)")
            status = gr.Markdown(elem_classes="live-status")
    with gr.Row(equal_height=True):
        shown = gr.Image(label="Live", type="numpy", format="jpeg", interactive=False, height=PANEL[0])
        board = gr.Image(
            label="Map over the aligned crop · valence-arousal trail · action units",
            type="numpy",
            format="jpeg",
            interactive=False,
            height=PANEL[0],
        )
    outputs = [shown, board, status, state]

    def on_play(target_name: str, method_name: str):
        played = LiveState()
        yield gr.skip(), gr.skip(), "Rendering the recorded SynthFACS sequence…", played
        for frame in synthfacs_frames():
            start = time.monotonic()
            yield on_frame(frame, target_name, method_name, played)
            time.sleep(max(0.0, 1 / PLAY_FPS - (time.monotonic() - start)))

    webcam.stream(
        on_frame,
        inputs=[webcam, target, method, state],
        outputs=outputs,
        stream_every=STREAM_EVERY,
        time_limit=LIVE_SECONDS,
        concurrency_limit=1,
        concurrency_id="live",
        show_progress="hidden",
        api_visibility="private",
    )
    play.click(
        on_play,
        inputs=[target, method],
        outputs=outputs,
        concurrency_limit=1,
        concurrency_id="live",
        show_progress="hidden",
        api_visibility="private",
    )
