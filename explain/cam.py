"""Class-activation maps of every head, through pytorch-grad-cam, and all of them in one pass.

Two paths give the same maps (tests/test_explain.py holds them equal within 1e-5):

- `library_cam`: the library as documented, one target at a time: `TargetScores` returns one
  tensor, `ScoreTarget(i)` picks the head, the CAM object is a context manager so its hooks go
  away. Each call is one forward and one full backward (to every weight): 26 of each per face.
- `batched_cams`: one forward (the branch maps come out of `FatauvaOutput.features`, the very
  tensors the taps return), then ONE batched backward: `torch.func.vjp` from the maps and
  `torch.func.vmap` over the identity's rows as cotangents give d score_t / d map for all
  targets at once, and only down to the maps (from a branch tap that is through the FC heads
  alone), never to the weights. (`torch.autograd.grad(..., is_grads_batched=True)` gives the
  same numbers, but its older vmap has no batching rule for the convolution and batch-norm
  backwards and loops over the targets: twice as slow for one face, docs/speed.md.) The
  per-method arithmetic is the library's own `get_cam_image` on those activations and
  gradients, then the library's scaling, so the maps are the library's.

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
from dataclasses import dataclass, fields

import numpy as np
import torch
from pytorch_grad_cam import EigenCAM, GradCAM, GradCAMPlusPlus, HiResCAM, LayerCAM
from pytorch_grad_cam.base_cam import BaseCAM
from pytorch_grad_cam.utils.image import scale_cam_image
from torch import Tensor, func, nn

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


IMAGES_PER_PASS = 2  # images per backward through the network (docs/speed.md: 2 and 4 fastest at 16)


class _Method(nn.Module):
    """`model.<name>(...)` as a module, so that torch.func.functional_call can run any method of
    the model on parameters given to it (here: detached, so no graph is kept for the weights)."""

    def __init__(self, model: FatauvaNet, name: str):
        super().__init__()
        self.model, self.name = model, name

    def forward(self, *args):
        return getattr(self.model, self.name)(*args)


class _Stop(Exception):
    """Raised by a forward hook once the maps asked for are in (see _maps_at)."""


def _maps_at(model: FatauvaNet, x: Tensor, names: list[str]) -> dict[str, Tensor]:
    """The maps `names` of a forward without graph that stops as soon as it has them all."""
    modules, found = model.feature_modules(), {}

    def keep(name: str):
        def hook(_module, _input, output):
            found[name] = output
            if len(found) == len(names):
                raise _Stop

        return hook

    hooks = [modules[n].register_forward_hook(keep(n)) for n in names]
    try:
        with torch.no_grad():
            model(x)
    except _Stop:
        pass
    finally:
        for hook in hooks:
            hook.remove()
    return found


def _affine_batch_norm(module: nn.BatchNorm2d, inputs: tuple[Tensor], _output: Tensor) -> Tensor:
    """A forward hook: an eval-mode BatchNorm's output as the affine map it is (what ATen's
    inference kernel computes), so that the batched backward through it is one product, not
    vmap's general batch-norm backward (docs/speed.md: about 15 % of a `core.fine` backward)."""
    scale = module.weight * torch.rsqrt(module.running_var + module.eps)
    shift = module.bias - module.running_mean * scale
    return inputs[0] * scale[:, None, None] + shift[:, None, None]


def _channels_last(tensor: Tensor) -> Tensor:
    return tensor.contiguous(memory_format=torch.channels_last) if tensor.ndim == 4 else tensor


def _cat(outputs: list[FatauvaOutput]) -> FatauvaOutput:
    """Outputs of consecutive batches as one."""
    first = outputs[0]
    if len(outputs) == 1:
        return first
    tensors = {
        f.name: torch.cat([getattr(o, f.name) for o in outputs])
        for f in fields(first)
        if f.name not in ("features", "va_head")
    }
    features = {k: torch.cat([o.features[k] for o in outputs]) for k in first.features}
    return FatauvaOutput(**tensors, features=features, va_head=first.va_head)


def _gradients(
    model: FatauvaNet, x: Tensor, targets: tuple[Target, ...], layers: dict[str, str], need_grads: bool
) -> tuple[FatauvaOutput, dict[str, Tensor]]:
    """The forward, and d score_t / d (its layer's map) for every target t from ONE batched
    backward: {target name: (N, C, h, w)} (empty when `need_grads` is False).

    torch.func.vjp runs the network from the maps (a forward hook puts the map in the place of
    its module's output; eval-mode BatchNorms run as their affine map) on detached weights, and
    torch.func.vmap pulls the identity's rows back through it, one per target. When every
    target sits on the branch its head reads, the score depends on that map only through the
    head, so the network run is the FC heads alone (`FatauvaNet.heads`) and the backward never
    enters the branches. A batch goes through the network IMAGES_PER_PASS images at a time.
    """
    if not need_grads:
        with torch.no_grad():
            return model(x), {}
    own_branch = all(layers[t.name] == t.branch for t in targets)
    if not own_branch and x.shape[0] > IMAGES_PER_PASS:
        done = [_gradients(model, part, targets, layers, True) for part in x.split(IMAGES_PER_PASS)]
        grads = {t.name: torch.cat([g[t.name] for _, g in done]) for t in targets}
        return _cat([out for out, _ in done]), grads
    needed = list(dict.fromkeys(layers.values()))
    index = [TARGETS.index(t) for t in targets]
    weights = {f"model.{k}": v.detach() for k, v in model.named_parameters()}
    if own_branch:
        with torch.no_grad():
            out = model(x)
        start = {n: out.features[n] for n in needed}
        heads = _Method(model, "heads")

        def picked_scores(maps: dict[str, Tensor]) -> tuple[Tensor, tuple]:
            return scores(func.functional_call(heads, weights, ({**out.features, **maps},)))[:, index], ()
    else:
        start, modules = _maps_at(model, x, needed), model.feature_modules()
        forward = _Method(model, "forward")
        # Channels-last convolutions backpropagate the batch of targets faster (docs/speed.md).
        x = x.contiguous(memory_format=torch.channels_last)
        weights = {k: _channels_last(v) for k, v in weights.items()}
        norms = [
            m
            for m in model.modules()
            if isinstance(m, nn.BatchNorm2d) and not m.training and m.affine and m.running_var is not None
        ]

        def picked_scores(maps: dict[str, Tensor]) -> tuple[Tensor, tuple]:
            hooks = [modules[n].register_forward_hook(lambda _m, _i, _o, n=n: maps[n]) for n in needed]
            hooks += [m.register_forward_hook(_affine_batch_norm) for m in norms]
            try:
                full = func.functional_call(forward, weights, (x,))
            finally:
                for hook in hooks:
                    hook.remove()
            kept = tuple(getattr(full, f.name) for f in fields(full) if f.name != "va_head")
            return scores(full)[:, index], kept

    picked, pull_back, kept = func.vjp(picked_scores, start, has_aux=True)
    if not own_branch:
        out = FatauvaOutput(*kept, va_head=model.config.va_head)
    eye = torch.eye(len(targets), dtype=picked.dtype, device=picked.device)
    (found,) = func.vmap(pull_back)(eye[:, None, :].expand(len(targets), *picked.shape))
    return out, {t.name: found[layers[t.name]][i] for i, t in enumerate(targets)}


def batched_cams(
    model: FatauvaNet,
    x: Tensor,
    targets: tuple[Target, ...] = TARGETS,
    method: str = "GradCAM",
    layer: str = BRANCH,
) -> CamResult:
    """Every target's map from one forward and one batched backward (module docstring).

    x: (N, 3, S, S) from fatauva.template.to_tensor. The model is switched to eval mode, as the
    library does. Returns a CamResult whose maps equal `library_cam` target by target. On a layer
    other than the branches the model's modules carry forward hooks while it runs (removed before
    it returns): run nothing else on the same model object meanwhile (the app holds a lock).
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
