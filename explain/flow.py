"""The flow parts -> AU branches -> valence / arousal for one face, through captum.

Two attributions, both Integrated Gradients (Sundararajan et al. 2017) from an all-zero
baseline (a branch that responds to nothing), so each obeys completeness: the attributions of
an output sum to output(face) - output(baseline).

- AU branches -> V-A (§3.3, Fig. 5): the attribution to the `con_val` / `con_aro` taps, the
  concatenated AU-branch maps each V-A branch reads; the attribution of each channel slice,
  summed, is how much that AU branch pushed valence (arousal) for this face. Only the V-A
  layer runs inside captum (`FatauvaNet.va_logits_from_inputs`), so the interpolation steps
  cost V-A-layer forwards, not whole-network ones. The taps are identities at the V-A layer's
  input, so captum's `IntegratedGradients` on those inputs is `LayerIntegratedGradients` on
  the taps without the layer hooks: the same attributions (tests hold them equal), in about
  half the time. Valence reads Con_Val only and arousal Con_Aro only (grouped conv), so one
  call attributes valence + arousal and the con_val slices belong to valence, the con_aro
  ones to arousal.
- Parts -> AUs (§3.2, Table 3): Integrated Gradients of each AU's log-odds on its part map.
  Each AU branch grows on one part, so by completeness this equals log-odds(face) -
  log-odds(blank part map), which `parts_to_aus` computes exactly in one AU-layer forward;
  `parts_to_aus_integrated` runs captum's `LayerIntegratedGradients` on the AU layer's input
  (tests hold the two equal). The edge says how much the part's response, rather than the
  branch's bias, makes the AU.

Units: AU log-odds for parts -> AUs; the V-A output ([-1, 1] scale) for AUs -> V-A.
"""

from dataclasses import dataclass

import torch
from captum.attr import IntegratedGradients, LayerIntegratedGradients
from torch import Tensor

from explain.targets import log_odds, va_scores
from fatauva import topology
from fatauva.model import CON_NAMES, FatauvaNet

# Gauss-Legendre points. On 8 SynthFACS test faces and the bundled weights the completeness error
# (|sum - change| / |change|) had a median of 5.8% at 16 points, 2.1% at 32, 1.4% at 64: the rPoly-3
# blocks make the path integral rough. `VAFlow.completeness_error` reports it per face.
N_STEPS = 32


@dataclass
class VAFlow:
    """AU branches -> one V-A target: `contributions[branch]` summed attribution; `output` and
    `baseline` the target's value for this face and for all-zero AU branch maps."""

    target: str
    contributions: dict[str, float]
    output: float
    baseline: float

    @property
    def completeness_error(self) -> float:
        """|sum of contributions - (output - baseline)| relative to |output - baseline|."""
        change = self.output - self.baseline
        return abs(sum(self.contributions.values()) - change) / max(abs(change), 1e-8)


@dataclass
class AUFlow:
    """Part branch -> one AU: `part` it grows on, `contribution` of the part map to the AU's
    log-odds, `output` / `baseline` the log-odds for this face and for a blank part map."""

    au: str
    branch: str
    part: str
    contribution: float
    output: float
    baseline: float


@dataclass
class Flow:
    """parts -> AU branches -> V-A for one face: `aus[AU key]` and `va['valence' | 'arousal']`."""

    aus: dict[str, AUFlow]
    va: dict[str, VAFlow]

    def edges(self, prefixed: bool = True) -> list[tuple[str, str, float]]:
        """(source, destination, weight) for drawing: 'part.<part>' -> 'au.<branch>' (weight the
        sum over the branch's AUs), then 'au.<branch>' -> 'va.<target>'. With prefixed=False
        the bare names ('mouth' -> 'Lip_c' -> 'valence'; topology keeps them distinct)."""
        part, au, va = ("part.", "au.", "va.") if prefixed else ("", "", "")
        to_branch: dict[tuple[str, str], float] = {}
        for f in self.aus.values():
            key = (part + f.part, au + f.branch)
            to_branch[key] = to_branch.get(key, 0.0) + f.contribution
        edges = [(s, d, w) for (s, d), w in to_branch.items()]
        for target, flow in self.va.items():
            edges += [(au + b, va + target, w) for b, w in flow.contributions.items()]
        return edges


def au_to_va(model: FatauvaNet, features: dict[str, Tensor], n_steps: int = N_STEPS) -> dict[str, VAFlow]:
    """How much each AU branch of Con_Val / Con_Aro pushed valence / arousal (module docstring).

    features: FatauvaOutput.features of ONE face (batch 1), at least its 'con_val', 'con_aro'.
    """
    cons = tuple(features[name].detach() for name in CON_NAMES)
    if cons[0].shape[0] != 1:
        raise ValueError(f"au_to_va explains one face at a time, got a batch of {cons[0].shape[0]}")
    targets = topology.VA_TARGETS
    va_head = model.config.va_head

    def va_sum(*inputs: Tensor) -> Tensor:
        logits = model.va_logits_from_inputs(dict(zip(targets, inputs, strict=True)))
        return va_scores(logits, va_head).sum(dim=1)

    baselines = tuple(torch.zeros_like(c) for c in cons)
    with torch.enable_grad():
        attributions = IntegratedGradients(va_sum).attribute(cons, baselines=baselines, n_steps=n_steps)
    with torch.no_grad():
        out = va_scores(model.va_logits_from_inputs(dict(zip(targets, cons, strict=True))), va_head)[0]
        base = va_scores(model.va_logits_from_inputs(dict(zip(targets, baselines, strict=True))), va_head)[0]
    result = {}
    for i, (target, attribution) in enumerate(zip(targets, attributions, strict=True)):
        sources = model.va_groups[target]
        per_channel = attribution[0].sum(dim=(1, 2))
        slices = per_channel.chunk(len(sources))
        contributions = {s.split(".", 1)[1]: float(c.sum()) for s, c in zip(sources, slices, strict=True)}
        result[target] = VAFlow(target, contributions, float(out[i]), float(base[i]))
    return result


def parts_to_aus(model: FatauvaNet, features: dict[str, Tensor]) -> dict[str, AUFlow]:
    """How much its part branch's map pushed each AU's log-odds (module docstring), exactly.

    Every AU reads one part map (Table 3), so the Integrated-Gradients attribution of an AU to
    its part is, by completeness, log-odds(face) - log-odds(blank part maps): one AU-layer
    forward instead of an integral (`parts_to_aus_integrated` computes the integral with
    captum; tests hold the two equal). features: FatauvaOutput.features of ONE face.
    """
    parts = {f"part.{p}": features[f"part.{p}"].detach() for p in topology.PARTS}
    with torch.no_grad():
        out = log_odds(model.au_logits_from_parts(parts))[0]
        base = log_odds(model.au_logits_from_parts({k: torch.zeros_like(v) for k, v in parts.items()}))[0]
    result = {}
    for j, au in enumerate(topology.AUS):
        key, branch = topology.au_key(au), topology.AU_BRANCH[au]
        change = float(out[j] - base[j])
        result[key] = AUFlow(key, branch, topology.AU_PART[au], change, float(out[j]), float(base[j]))
    return result


def parts_to_aus_integrated(
    model: FatauvaNet, features: dict[str, Tensor], n_steps: int = N_STEPS
) -> dict[str, float]:
    """{AU key: attribution of its log-odds to its part map}, by captum's LayerIntegratedGradients
    on the AU layer's input, where every AU branch reads its own copy of its part's map; the
    k-th AU of every branch is attributed in batch row k and summed over its branch's copy.
    """
    parts = tuple(features[f"part.{p}"].detach() for p in topology.PARTS)
    rows = max(len(b.aus) for b in topology.AU_BRANCHES)
    pick = torch.zeros(rows, len(topology.AUS))  # row k scores the k-th AU of every branch
    for b in topology.AU_BRANCHES:
        for k, au in enumerate(b.aus):
            pick[k, topology.AUS.index(au)] = 1.0

    def row_scores(*maps: Tensor) -> Tensor:
        logits = model.au_logits_from_parts(
            {f"part.{p}": m for p, m in zip(topology.PARTS, maps, strict=True)}
        )
        per_au = log_odds(logits)  # (rows * steps, 14)
        return (per_au.view(-1, rows, per_au.shape[1]) * pick).sum(dim=2).view(-1)

    inputs = tuple(p.expand(rows, *p.shape[1:]) for p in parts)
    with torch.enable_grad():
        attribution = LayerIntegratedGradients(row_scores, model.au_branches).attribute(
            inputs,
            baselines=tuple(torch.zeros_like(p) for p in inputs),
            n_steps=n_steps,
            attribute_to_layer_input=True,
        )
    per_branch = attribution.sum(dim=(2, 3)).chunk(len(topology.AU_BRANCHES), dim=1)  # (rows, C) each
    return {
        topology.au_key(au): float(block[k].sum())
        for b, block in zip(topology.AU_BRANCHES, per_branch, strict=True)
        for k, au in enumerate(b.aus)
    }


def flow(model: FatauvaNet, features: dict[str, Tensor], n_steps: int = N_STEPS) -> Flow:
    """parts -> AUs and AU branches -> V-A for one face (batch-1 `features`)."""
    return Flow(parts_to_aus(model, features), au_to_va(model, features, n_steps))
