"""Occlusion, the reference for where the network reads, and a CAM's rank agreement with it.

captum's `Occlusion` greys a window (zero in the normalised input, i.e. the dataset mean colour)
at every position of a grid and records how much the target's score drops; the drop, averaged
over the windows covering a pixel, is a map that needs no gradient and no layer. It costs one
forward per window position (169 on a 112 px crop), for all targets at once, so it is the slow,
trusted reference, computed on request.
`rank_agreement` is Spearman's rank correlation between a CAM and that map over the pixels.
"""

import numpy as np
import torch
from captum.attr import Occlusion
from scipy.stats import spearmanr
from torch import Tensor

from explain.maps import normalise
from explain.targets import TARGETS, Target, TargetScores
from fatauva.model import FatauvaNet

WINDOW = 16  # px of a 112 px crop: about an eye or a mouth corner
STRIDE = 8


def occlusion_maps(
    model: FatauvaNet,
    x: Tensor,
    targets: tuple[Target, ...] = TARGETS,
    window: int = WINDOW,
    stride: int = STRIDE,
) -> dict[str, np.ndarray]:
    """The score drop when each window is greyed, for every target from ONE sweep of windows:
    x (1, 3, S, S) -> {target name: float32 (S, S) in [0, 1]} (positive part, min-max scaled:
    where hiding the face lowers the target's score).

    captum attributes every element of the forward's output when no target is given, so the
    26 scores of each occluded face give the 26 maps at the cost of one target's."""
    if x.shape[0] != 1:
        raise ValueError(f"occlusion explains one face at a time, got a batch of {x.shape[0]}")
    model.eval()
    with torch.no_grad():
        attribution = Occlusion(TargetScores(model)).attribute(
            x,
            sliding_window_shapes=(3, window, window),
            strides=(3, stride, stride),
            baselines=0.0,
            perturbations_per_eval=16,
        )  # (26, 3, S, S): one attribution per output column
    per_pixel = attribution.sum(dim=1).cpu().numpy()
    return {t.name: normalise(per_pixel[TARGETS.index(t)], x.shape[-1]) for t in targets}


def occlusion_map(
    model: FatauvaNet, x: Tensor, target: Target, window: int = WINDOW, stride: int = STRIDE
) -> np.ndarray:
    """One target's occlusion map: x (1, 3, S, S) -> float32 (S, S) in [0, 1] (occlusion_maps)."""
    return occlusion_maps(model, x, (target,), window, stride)[target.name]


def rank_agreement(cam: np.ndarray, reference: np.ndarray) -> float:
    """Spearman's rank correlation of two maps over their pixels (nan if either is constant)."""
    if np.ptp(cam) == 0 or np.ptp(reference) == 0:
        return float("nan")
    return float(spearmanr(cam.ravel(), reference.ravel()).statistic)
