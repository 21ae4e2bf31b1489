"""Part responses (§3.1): where each part branch of the attribute layer responds.

The paper's attribute layer has one branch per facial part (Table 2) and its AU branches grow on
them (Table 3), so a part branch's response is what its AU branches see. A part response is the
channel mean of the part branch's map (post-ReLU, so non-negative), brought to the map contract
of `explain.maps.normalise`; it needs no gradient and no target. `feeds` names the AU branches
(and their AUs) that read it, so the app can show it beside their maps.
"""

from dataclasses import dataclass

import numpy as np
from torch import Tensor

from explain.maps import normalise
from fatauva import topology


@dataclass
class PartResponse:
    """One part branch: `map` float32 (S, S) in [0, 1]; `feeds` its AU branches; `aus` their AUs
    as keys ('AU12'); `attributes` the attribute heads on the branch (Table 2)."""

    part: str
    map: np.ndarray
    feeds: tuple[str, ...]
    aus: tuple[str, ...]
    attributes: tuple[str, ...]


def part_responses(features: dict[str, Tensor], input_size: int, index: int = 0) -> dict[str, PartResponse]:
    """{part: PartResponse} of face `index` of a batch, from FatauvaOutput.features."""
    responses = {}
    for part in topology.PARTS:
        mean = features[f"part.{part}"][index].detach().mean(dim=0).cpu().numpy()
        branches = tuple(b for b in topology.AU_BRANCHES if b.part == part)
        responses[part] = PartResponse(
            part=part,
            map=normalise(mean, input_size),
            feeds=tuple(b.name for b in branches),
            aus=tuple(topology.au_key(au) for b in branches for au in b.aus),
            attributes=topology.PART_ATTRIBUTES[part],
        )
    return responses
