"""Several datasets in one stage: each source keeps its own labels, the batch mixes them by share.

A stage of §3 may draw from several sources at once (e.g. stage 1 on CelebA, UTKFace, GENKI-4K
and SynthFACS). Every source yields the same sample dict ("image", "attributes", "aus", "va"),
with -1 / nan where it has no label, so the masked losses (fatauva.losses) skip what a source
does not label: UTKFace trains `Male` only, GENKI-4K `Smiling` only.

The mix is a set of per-sample draw weights over the concatenated sources, so the §4.1.1
resampling (train.sampling) keeps working per label inside each source:

    weight(sample i of source s) = share_s / sum(shares) * balance_s(i) / sum_j balance_s(j)

A source's share is the expected fraction of every batch it fills, whatever its size.
"""

from collections.abc import Sequence

import numpy as np
import torch
from torch.utils.data import ConcatDataset, Dataset

from train.datasets.torch_dataset import TASKS


class MixedDataset(ConcatDataset):
    """Sources concatenated in order, with their labels concatenated for `train.sampling`;
    names[k] is the name of source k."""

    def __init__(self, names: Sequence[str], sources: Sequence[Dataset]):
        if len(names) != len(sources) or not names:
            raise ValueError(f"need one name per source, got {len(names)} names for {len(sources)} sources")
        super().__init__(list(sources))
        self.names = tuple(names)

    def labels(self, task: str) -> np.ndarray:
        """The label array of `task` over every source, in order ((N, 10), (N, 14) or (N, 2))."""
        if task not in TASKS:
            raise ValueError(f"unknown task {task!r}; choose one of {', '.join(TASKS)}")
        return np.concatenate([np.asarray(d.labels(task)) for d in self.datasets])

    def sizes(self) -> dict[str, int]:
        return {n: len(d) for n, d in zip(self.names, self.datasets, strict=True)}


def mix_weights(balance: Sequence[np.ndarray], shares: Sequence[float]) -> np.ndarray:
    """Per-sample draw weights (N,) of the concatenated sources (module doc formula).

    balance[k]: weights (n_k,) of source k (all ones without balancing); shares[k] > 0.
    """
    if len(balance) != len(shares):
        raise ValueError(f"{len(balance)} weight arrays for {len(shares)} shares")
    if any(s <= 0 for s in shares):
        raise ValueError(f"every share must be > 0, got {list(shares)}")
    total = float(sum(shares))
    parts = []
    for w, share in zip(balance, shares, strict=True):
        w = np.asarray(w, dtype=np.float64)
        if len(w) == 0 or w.sum() <= 0:
            raise ValueError("a source of the mix has no sample to draw (empty or all weights zero)")
        parts.append(share / total * w / w.sum())
    return np.concatenate(parts)


class Flipped(Dataset):
    """A dataset whose images are mirrored left-right with probability 1/2 (torch's RNG, so the
    trainer's seed and resume cover it). Every label of the ten attributes, 14 AUs and V-A is
    unchanged by a mirror, as SynthFACSPool assumes for its own flips."""

    def __init__(self, dataset: Dataset):
        self.dataset = dataset

    def __len__(self) -> int:
        return len(self.dataset)

    def labels(self, task: str) -> np.ndarray:
        return self.dataset.labels(task)

    def __getitem__(self, i: int) -> dict[str, torch.Tensor]:
        sample = self.dataset[i]
        if torch.rand(()) < 0.5:
            sample = {**sample, "image": sample["image"].flip(-1)}
        return sample
