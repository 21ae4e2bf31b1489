"""One explanation target per FC head, read from the wiring in `fatauva.topology`.

A target names a head, the score that is explained, and the branch map ("layer") the
explanation is computed on by default:

- the 10 attributes (Table 2): score = log-odds of presence, logit[1] - logit[0]; default
  layer: their part branch `part.<part>`;
- the 14 AUs (Table 3): the same log-odds; default layer: their AU branch `au.<branch>`;
- valence and arousal (§3.3): the regression output itself (the class head: the expected value
  of its softmax over -5..5, divided by 5, a differentiable stand-in for the §4.1.3 rule);
  default layer: their V-A branch `va.<target>`.

Log-odds rather than probability: the gradient of a probability vanishes once the network is
sure (p near 0 or 1), which blanks the map of every confident head; log-odds keep it alive and
are what the head's last FC layer computes, up to the constant logit[0].

`TargetScores` wraps the model so that it returns ONE tensor (N, 26), which is what
pytorch-grad-cam expects; `ScoreTarget(i)` picks column i as one of the library's target
callables.
"""

from dataclasses import dataclass

import torch
from torch import Tensor, nn

from fatauva import topology
from fatauva.model import FatauvaNet, FatauvaOutput

KINDS = ("attribute", "au", "va")


@dataclass(frozen=True)
class Target:
    """One head to explain: `name` ('Smiling', 'AU12', 'valence'), `kind` ('attribute' | 'au' |
    'va'), `index` its row in the head's output (topology order), `branch` the feature name of
    the branch map the head reads ('part.mouth', 'au.Lip_c', 'va.valence')."""

    name: str
    kind: str
    index: int
    branch: str

    @property
    def part(self) -> str | None:
        """The facial part (Table 2) whose region the target should read; None for V-A."""
        if self.kind == "attribute":
            return topology.ATTRIBUTE_PART[self.name]
        if self.kind == "au":
            return topology.AU_PART[int(self.name.removeprefix("AU"))]
        return None


def all_targets() -> tuple[Target, ...]:
    """Every head, in the order attributes (topology.ATTRIBUTES), AUs (topology.AUS), V-A."""
    targets = [
        Target(a, "attribute", i, f"part.{topology.ATTRIBUTE_PART[a]}")
        for i, a in enumerate(topology.ATTRIBUTES)
    ]
    targets += [
        Target(topology.au_key(au), "au", i, f"au.{topology.AU_BRANCH[au]}")
        for i, au in enumerate(topology.AUS)
    ]
    targets += [Target(t, "va", i, f"va.{t}") for i, t in enumerate(topology.VA_TARGETS)]
    return tuple(targets)


TARGETS: tuple[Target, ...] = all_targets()
TARGET_NAMES: tuple[str, ...] = tuple(t.name for t in TARGETS)


def target(name: str) -> Target:
    """The target called `name` ('Smiling', 'AU12' or 'AU12'-style keys, 'valence')."""
    for t in TARGETS:
        if t.name == name:
            return t
    raise KeyError(f"unknown target {name!r}; targets are {', '.join(TARGET_NAMES)}")


def log_odds(logits: Tensor) -> Tensor:
    """Binary heads' log-odds of presence: (..., 2) -> (...), logit[1] - logit[0]."""
    return logits[..., 1] - logits[..., 0]


def va_scores(va_logits: Tensor, va_head: str) -> Tensor:
    """(N, 2) valence, arousal as a differentiable score: the regression output, or the class
    head's expected value over -5..5, divided by 5."""
    if va_head == "reg":
        return va_logits
    values = torch.tensor(topology.VA_CLASS_VALUES, dtype=va_logits.dtype, device=va_logits.device)
    return (va_logits.softmax(dim=-1) * values).sum(dim=-1) / max(topology.VA_CLASS_VALUES)


def scores(out: FatauvaOutput) -> Tensor:
    """Every target's score, (N, len(TARGETS)) in TARGETS order: attribute and AU log-odds, V-A."""
    return torch.cat(
        [log_odds(out.attribute_logits), log_odds(out.au_logits), va_scores(out.va_logits, out.va_head)],
        dim=1,
    )


class TargetScores(nn.Module):
    """The model as pytorch-grad-cam wants it: x (N, 3, S, S) -> scores (N, 26), one tensor."""

    def __init__(self, model: FatauvaNet):
        super().__init__()
        self.model = model

    def forward(self, x: Tensor) -> Tensor:
        return scores(self.model(x))


class ScoreTarget:
    """A pytorch-grad-cam target: column `column` of TargetScores' output."""

    def __init__(self, column: int):
        self.column = column

    def __call__(self, model_output: Tensor) -> Tensor:
        return model_output[..., self.column]
