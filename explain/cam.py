"""Class-activation maps of every head, through pytorch-grad-cam, and all of them in one pass.

Two paths give the same maps (tests/test_explain.py holds them equal within 1e-5):

- `library_cam`: the library as documented, one target at a time: `TargetScores` returns one
  tensor, `ScoreTarget(i)` picks the head, the CAM object is a context manager so its hooks go
  away. Each call is one forward and one full backward (to every weight): 26 of each per face.
- `batched_cams`: one forward (the branch maps come out of `FatauvaOutput.features`, the very
  tensors the taps return), then ONE batched backward: `torch.autograd.grad` with
  `is_grads_batched=True` and the identity as cotangents gives d score_t / d map for all
  targets at once, and only down to the maps (from a branch tap that is through the FC heads
  alone). The per-method arithmetic is the library's own `get_cam_image` on those
  activations and gradients, then the library's scaling, so the maps are the library's.

Maps are float32 (H, W) in [0, 1] at the input resolution: the positive part of the method's
map, min-max scaled, resized bilinearly (the library's `scale_cam_image`).

Methods: GradCAM weights each channel by its spatially averaged gradient; HiResCAM multiplies
gradient and activation element-wise (the map sums to the score's first-order change);
LayerCAM keeps only positive gradients, element-wise; GradCAM++ uses higher-order weights;
EigenCAM is the first principal component of the map's activations (no target: the same map
for every head on a layer). With position-specific grid heads (head_grid > 1) the gradient
changes sign across cells and GradCAM's averaged weights cancel; with global-average heads
(head_grid = 1) the gradient at a branch tap is constant over space, so GradCAM and HiResCAM
coincide and equal the classic CAM of Zhou et al. (2016).

Layers: `BRANCH` (default) puts each target's map on the branch its head reads (part branch
for an attribute, AU branch for an AU, V-A branch for valence / arousal): the map then shows
where that branch looked, which is what the paper's branches are for. Any feature name of
`FatauvaNet.feature_modules()` ('core', 'part.mouth', ...) puts every target on that layer.
"""

import functools
from dataclasses import dataclass

import numpy as np
import torch
from pytorch_grad_cam import EigenCAM, GradCAM, GradCAMPlusPlus, HiResCAM, LayerCAM
from pytorch_grad_cam.base_cam import BaseCAM
from pytorch_grad_cam.utils.image import scale_cam_image
from torch import Tensor, nn

from explain.targets import TARGETS, ScoreTarget, Target, TargetScores, scores
from fatauva.model import FatauvaNet, FatauvaOutput

METHODS: dict[str, type[BaseCAM]] = {
    "GradCAM": GradCAM,
    "GradCAM++": GradCAMPlusPlus,
    "HiResCAM": HiResCAM,
    "LayerCAM": LayerCAM,
    "EigenCAM": EigenCAM,
}
BRANCH = "branch"  # layer choice: each target on the branch map its head reads


def method_class(method: str) -> type[BaseCAM]:
    """The pytorch-grad-cam class of `method` (case-insensitive name of METHODS)."""
    for name, cls in METHODS.items():
        if name.lower() == method.lower():
            return cls
    raise ValueError(f"unknown CAM method {method!r}; choose one of {', '.join(METHODS)}")


def canonical_method(method: str) -> str:
    """METHODS' spelling of `method` ('gradcam++' -> 'GradCAM++')."""
    cls = method_class(method)
    return next(name for name, c in METHODS.items() if c is cls)


def layer_of(target: Target, layer: str = BRANCH) -> str:
    """The feature name a target's map is computed on: its own branch, or `layer` itself."""
    return target.branch if layer == BRANCH else layer


def _check_layer(model: FatauvaNet, name: str) -> None:
    if name not in model.feature_modules():
        raise ValueError(
            f"unknown layer {name!r}; layers are {BRANCH!r} or {', '.join(model.feature_modules())}"
        )


def library_cam(
    model: FatauvaNet, x: Tensor, target: Target, method: str = "GradCAM", layer: str = BRANCH
) -> np.ndarray:
    """One target's maps through pytorch-grad-cam: x (N, 3, S, S) -> (N, S, S) float32 in [0, 1]."""
    name = layer_of(target, layer)
    _check_layer(model, name)
    module = model.feature_modules()[name]
    with method_class(method)(model=TargetScores(model), target_layers=[module]) as cam:
        return cam(input_tensor=x, targets=[ScoreTarget(TARGETS.index(target))] * x.shape[0])


@dataclass
class CamResult:
    """Maps of one batch: `maps[target name]` (N, S, S) float32 in [0, 1]; `layers[target name]`
    the feature it was computed on; `output` the forward pass they explain."""

    maps: dict[str, np.ndarray]
    layers: dict[str, str]
    method: str
    output: FatauvaOutput


@functools.cache
def _library_weights(method: str) -> BaseCAM:
    """A CAM object used only for its per-method arithmetic (`get_cam_image`): no layers hooked,
    built once per method on a stand-in module (the arithmetic never calls the model; building
    it on FatauvaNet would switch the whole network to eval mode on every call)."""
    return method_class(method)(model=nn.Linear(1, 1), target_layers=[])


def _gradients(
    model: FatauvaNet, x: Tensor, targets: tuple[Target, ...], layers: dict[str, str], need_grads: bool
) -> tuple[FatauvaOutput, dict[str, Tensor]]:
    """One forward, then d score_t / d (its layer's map) for every target t in ONE batched
    backward: {target name: (N, C, h, w)} (empty when `need_grads` is False).

    When every target sits on the branch its head reads, the score depends on that map only
    through the head, so the backward starts from the heads re-run on detached maps
    (`FatauvaNet.heads`) and never enters the branches; any other layer needs the full graph.
    """
    needed = list(dict.fromkeys(layers.values()))
    own_branch = all(layers[t.name] == t.branch for t in targets)
    with torch.set_grad_enabled(need_grads and not own_branch):
        x = x.detach().requires_grad_(need_grads and not own_branch)  # a graph whatever requires_grad
        out = model(x)
    if not need_grads:
        return out, {}
    maps = out.features
    with torch.enable_grad():
        if own_branch:
            maps = {k: v.detach().requires_grad_(k in needed) for k, v in out.features.items()}
            head_scores = scores(model.heads(maps))
        else:
            head_scores = scores(out)
        picked = head_scores[:, [TARGETS.index(t) for t in targets]]  # (N, T)
        eye = torch.eye(len(targets), dtype=picked.dtype, device=picked.device)
        found = torch.autograd.grad(
            picked,
            [maps[n] for n in needed],
            grad_outputs=eye[:, None, :].expand(len(targets), *picked.shape),
            is_grads_batched=True,
            allow_unused=True,
        )
    by_layer = dict(zip(needed, found, strict=True))
    grads = {}
    for i, t in enumerate(targets):
        g = by_layer[layers[t.name]]
        grads[t.name] = torch.zeros_like(out.features[layers[t.name]]) if g is None else g[i]
    return out, grads


def batched_cams(
    model: FatauvaNet,
    x: Tensor,
    targets: tuple[Target, ...] = TARGETS,
    method: str = "GradCAM",
    layer: str = BRANCH,
) -> CamResult:
    """Every target's map from one forward and one batched backward (module docstring).

    x: (N, 3, S, S) from fatauva.template.to_tensor. The model is switched to eval mode, as the
    library does. Returns a CamResult whose maps equal `library_cam` target by target.
    """
    model.eval()
    layers = {t.name: layer_of(t, layer) for t in targets}
    for name in set(layers.values()):
        _check_layer(model, name)
    out, grads = _gradients(model, x, targets, layers, method_class(method) is not EigenCAM)
    size = (x.shape[-1], x.shape[-2])
    arithmetic = _library_weights(canonical_method(method))
    n = x.shape[0]
    maps: dict[str, np.ndarray] = {}
    for name in dict.fromkeys(layers.values()):
        on_layer = [t for t in targets if layers[t.name] == name]
        acts = out.features[name].detach().cpu().numpy()
        stacked_acts = np.concatenate([acts] * len(on_layer))
        if grads:
            stacked_grads = torch.cat([grads[t.name] for t in on_layer]).detach().cpu().numpy()
        else:
            stacked_grads = np.zeros_like(stacked_acts)
        raw = arithmetic.get_cam_image(x, None, None, stacked_acts, stacked_grads, False)
        # The library's BaseCAM.forward for one layer: ReLU, scale to the input size, then its
        # multi-layer aggregation (ReLU, mean over one layer, scale again).
        scaled = scale_cam_image(np.maximum(raw, 0), size)
        scaled = scale_cam_image(np.maximum(scaled, 0))
        for k, t in enumerate(on_layer):
            maps[t.name] = scaled[k * n : (k + 1) * n]
    ordered = {t.name: maps[t.name] for t in targets}
    return CamResult(ordered, layers, canonical_method(method), out)
