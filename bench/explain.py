"""Cost of explanations, as ratios measured in one run (rounds alternate, so load hits all alike).

- cam_batched_speedup: the 26 targets' maps computed with pytorch-grad-cam target by target
  (explain.cam.library_cam) divided by the batched path (explain.cam.batched_cams), default
  method on each target's branch; bar >= 6.
- explain_to_forward_ratio: explain.explain_face (forward, 26 maps, part responses, AU -> V-A
  flow) divided by one plain inference forward (the fused model, as fatauva.analyze runs it); bar <= 8.
Weights: the bundled checkpoint when present (fatauva.checkpoint.load_model), else untrained.
"""

import statistics
import time

import numpy as np
import torch

from explain.cam import BRANCH, batched_cams, library_cam
from explain.explanation import DEFAULT_METHOD, explain_face
from explain.targets import TARGETS
from fatauva.checkpoint import load_model
from fatauva.template import to_tensor

ROUNDS = 5


def _seconds(fn) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def measure() -> dict[str, float]:
    model = load_model().model.eval()
    size = model.config.input_size
    crop = np.random.default_rng(0).integers(0, 256, (size, size, 3), dtype=np.uint8)
    x = to_tensor(crop)
    fused = model.fused()

    def forward() -> None:
        with torch.inference_mode():
            fused(x)

    def library() -> None:
        for t in TARGETS:
            library_cam(model, x, t, DEFAULT_METHOD, BRANCH)

    forward(), explain_face(model, crop), batched_cams(model, x, method=DEFAULT_METHOD), library()
    lib_s, batched_s, explain_s, forward_s = [], [], [], []
    for _ in range(ROUNDS):
        lib_s.append(_seconds(library))
        batched_s.append(_seconds(lambda: batched_cams(model, x, method=DEFAULT_METHOD)))
        explain_s.append(_seconds(lambda: explain_face(model, crop)))
        forward_s += [_seconds(forward) for _ in range(5)]
    return {
        "cam_library_26_ms": statistics.median(lib_s) * 1e3,
        "cam_batched_26_ms": statistics.median(batched_s) * 1e3,
        "cam_batched_speedup": statistics.median(lib_s) / statistics.median(batched_s),
        "explain_face_ms": statistics.median(explain_s) * 1e3,
        "explain_to_forward_ratio": statistics.median(explain_s) / statistics.median(forward_s),
    }
