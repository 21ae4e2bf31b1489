"""What the Live tab keeps up with, on a recorded 640x480 sequence (demo.live.synthfacs_frames: a
SynthFACS face drifting and changing expression, so no data is needed), fed through the very function
the webcam stream calls (demo.live_tab.handler: locate the face, one forward with the default
target's map, the frame and the panel drawn):

- live_fps: frames per second through that function, the median of ROUNDS passes over the sequence,
  each pass a fresh viewer (the first frame searches the whole frame, then the face is followed);
  live_frame_ms and live_frame_p90_ms: the median and 90th percentile of one frame;
- live_io_ms: what Gradio adds per frame around it: decoding the browser's JPEG frame (a data URL,
  as the streaming webcam sends it) and encoding the two output images as JPEG into its cache;
  live_served_fps = 1000 / (mean frame ms + live_io_ms), the ceiling of updates a viewer can get;
- live_track_iou: mean box IoU of the followed face against a whole-frame search of each frame.
Weights: as the app loads them (demo.serving.load_analyzer).
"""

import base64
import io
import statistics
import time

import numpy as np
import torch
from PIL import Image

from demo.live import LiveModel, LiveState, box_iou, search, shrink, step, synthfacs_frames
from demo.live_tab import DEFAULT_TARGET, handler
from demo.serving import load_analyzer

FRAMES = 60
ROUNDS = 3
WEBCAM_JPEG_QUALITY = 92  # the browser's canvas.toDataURL("image/jpeg") default


def _io_ms(frame: np.ndarray, outputs: list[np.ndarray], rounds: int = 20) -> float:
    """Median ms of Gradio's per-frame image work: the webcam's JPEG data URL into numpy, the outputs
    out as JPEG files (the components configured as demo.live_tab configures them)."""
    import gradio as gr
    from gradio.data_classes import ImageData

    buffer = io.BytesIO()
    Image.fromarray(frame).save(buffer, format="jpeg", quality=WEBCAM_JPEG_QUALITY)
    url = "data:image/jpeg;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")
    webcam = gr.Image(type="numpy", sources=["webcam"], streaming=True, render=False)
    shown = gr.Image(type="numpy", format="jpeg", interactive=False, render=False)
    times = []
    for _ in range(rounds):
        start = time.perf_counter()
        webcam.preprocess(ImageData(url=url))
        for image in outputs:
            shown.postprocess(image)
        times.append(time.perf_counter() - start)
    return statistics.median(times) * 1e3


def measure() -> dict[str, float]:
    torch.set_num_threads(min(2, torch.get_num_threads()))
    frames = list(synthfacs_frames(FRAMES))
    model = LiveModel.of(load_analyzer())
    on_frame = handler(model)
    shown, panel, _, _ = on_frame(frames[0], DEFAULT_TARGET, None, None)  # warm-up: explain/, the detector
    rates, times = [], []
    for _ in range(ROUNDS):
        state = None
        start = time.perf_counter()
        for frame in frames:
            tick = time.perf_counter()
            *_, state = on_frame(frame, DEFAULT_TARGET, None, state)
            times.append(time.perf_counter() - tick)
        rates.append(len(frames) / (time.perf_counter() - start))
    io_ms = _io_ms(frames[0], [shown, panel])
    state, ious = LiveState(), []
    for frame in frames:  # the tracking's quality, untimed: followed box against a whole-frame search
        followed, reference = step(model, frame, state).face, search(shrink(frame))
        ious.append(box_iou(followed, reference) if followed and reference else 0.0)
    frame_ms = statistics.median(times) * 1e3
    return {
        "live_fps": statistics.median(rates),
        "live_frame_ms": frame_ms,
        "live_frame_p90_ms": float(np.percentile(times, 90) * 1e3),
        "live_io_ms": io_ms,
        "live_served_fps": 1e3 / (statistics.fmean(times) * 1e3 + io_ms),
        "live_track_iou": statistics.fmean(ious),
    }
