"""Cost of explanations, as ratios measured in one run (rounds alternate, so load hits all alike).

- cam_batched_speedup: the 26 targets' maps computed with pytorch-grad-cam target by target
  (explain.cam.library_cam) divided by the batched path (explain.cam.batched_cams), default
  method on the default layer (the core's 28x28 map, 'core.fine'); bar >= 6;
- explain_to_forward_ratio: explain.explain_face with its defaults (forward, 26 maps, part
  responses, AU -> V-A flow) divided by one plain inference forward (the fused model, as
  fatauva.analyze runs it); bar <= 8;
- the same two with every map on its own branch (layer 'branch'), keys ending in '_branch': that
  backward stops at the branch maps and never enters the branches (explain.cam._gradients).
Weights: the bundled checkpoint when present (fatauva.checkpoint.load_model), else untrained.
"""

import statistics
import time

import numpy as np
import torch

from explain.cam import BRANCH, batched_cams, library_cam
from explain.explanation import DEFAULT_LAYER, DEFAULT_METHOD, explain_face
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

    def library(layer: str) -> None:
        for t in TARGETS:
            library_cam(model, x, t, DEFAULT_METHOD, layer)

    def batched(layer: str) -> None:
        batched_cams(model, x, method=DEFAULT_METHOD, layer=layer)

    def explain(layer: str) -> None:
        explain_face(model, crop, layer=layer)

    layers = {"": DEFAULT_LAYER, "_branch": BRANCH}
    seconds: dict[str, list[float]] = {
        f"{fn.__name__}{suffix}": [] for suffix in layers for fn in (library, batched, explain)
    }
    forward_s: list[float] = []
    forward()
    for layer in layers.values():  # warm-up
        library(layer), batched(layer), explain(layer)
    for _ in range(ROUNDS):
        for suffix, layer in layers.items():
            for fn in (library, batched, explain):
                seconds[f"{fn.__name__}{suffix}"].append(_seconds(lambda fn=fn, layer=layer: fn(layer)))
        forward_s += [_seconds(forward) for _ in range(5)]
    median = {name: statistics.median(values) for name, values in seconds.items()}
    forward_median = statistics.median(forward_s)
    out = {"explain_forward_ms": forward_median * 1e3}
    for suffix in layers:
        out |= {
            f"cam_library_26_ms{suffix}": median[f"library{suffix}"] * 1e3,
            f"cam_batched_26_ms{suffix}": median[f"batched{suffix}"] * 1e3,
            f"cam_batched_speedup{suffix}": median[f"library{suffix}"] / median[f"batched{suffix}"],
            f"explain_face_ms{suffix}": median[f"explain{suffix}"] * 1e3,
            f"explain_to_forward_ratio{suffix}": median[f"explain{suffix}"] / forward_median,
        }
    return out
