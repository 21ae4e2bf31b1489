"""What the Video tab costs, on SynthFACS clips of 640x360 at 25 frames/s written as mp4v
(demo.video_examples, so no data is needed), every frame predicted and no maps:

- video_fps: predicted frames per second of wall time through demo.video.analyze_video with the
  tab's defaults (detection every DETECT_EVERY frames, the faces followed in between; min_face of
  the photo rule, 40 px here), on the LONG clip; bar >= 15 (issue 22);
- video_peak_rss_short_mb / video_peak_rss_long_mb: the process's peak resident memory while
  analyzing a SHORT clip and one ten times longer (VmHWM, reset before each through
  /proc/self/clear_refs, so the model's own memory is in both), and video_mem_ratio = long / short;
  bar < 1.2 (issue 22: a 10x longer clip raises the peak by less than 20 %);
- video_track_iou, video_track_valence_mae, video_track_au_mae: how close following between
  detections stays to detecting in every frame (demo.video.agreement, on AGREE frames), and
  video_detect_every_frame_fps, what detecting in every frame would predict at.
"""

import re
import tempfile
import time
from pathlib import Path

import torch

from demo.serving import load_analyzer
from demo.video import agreement, analyze_video
from demo.video_examples import write_clip

SIZE = (360, 640)
SHORT = 60
LONG = 10 * SHORT
AGREE = 50


def _reset_peak() -> None:
    # Linux: writing 5 resets the process's peak resident set size (VmHWM) to its current size.
    Path("/proc/self/clear_refs").write_text("5")


def _peak_mb() -> float:
    status = Path("/proc/self/status").read_text()
    return int(re.search(r"VmHWM:\s+(\d+) kB", status).group(1)) / 1024


def measure() -> dict[str, float]:
    torch.set_num_threads(min(2, torch.get_num_threads()))
    analyzer = load_analyzer()
    with tempfile.TemporaryDirectory() as tmp:
        clips = {n: write_clip(Path(tmp) / f"clip{n}.mp4", n, size=SIZE) for n in (SHORT, LONG, AGREE)}
        analyze_video(analyzer, clips[AGREE])  # warm-up: loads the detector, first forward passes
        peaks, seconds = {}, {}
        for n in (SHORT, LONG):
            _reset_peak()
            start = time.perf_counter()
            analysis = analyze_video(analyzer, clips[n])
            seconds[n] = time.perf_counter() - start
            peaks[n] = _peak_mb()
            if len(analysis.frames) != n or len(analysis.rows.face) != n:
                raise RuntimeError(
                    f"expected a face in each of {n} frames, got {len(analysis.rows.face)} rows"
                )
        start = time.perf_counter()
        every = analyze_video(analyzer, clips[AGREE], detect_every=1)
        every_fps = AGREE / (time.perf_counter() - start)
        close = agreement(analyze_video(analyzer, clips[AGREE]), every)
    return {
        "video_fps": LONG / seconds[LONG],
        "video_peak_rss_short_mb": peaks[SHORT],
        "video_peak_rss_long_mb": peaks[LONG],
        "video_mem_ratio": peaks[LONG] / peaks[SHORT],
        "video_track_iou": close["mean_iou"],
        "video_track_valence_mae": close["mean_abs_valence"],
        "video_track_au_mae": close["mean_abs_au"],
        "video_detect_every_frame_fps": every_fps,
    }
