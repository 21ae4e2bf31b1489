"""The paper's imbalance handling (§4.1.1) as a sampler: re-weighted draws, never duplicated files.

§4.1.1: AU data has far more negatives than positives, so rare AUs are over-sampled and
negatives down-sampled; V-A values are quantised to -5..5 (Fig. 6) and rare values
over-sampled, frequent ones (valence 0 and 1, arousal 1) down-sampled.

One rule serves both. Each label value gets the weight that would balance its own label,
(share it would have if balanced / share it has) ** power: for a binary label with positive
rate p, 0.5/p for a positive and 0.5/(1-p) for a negative; for a V-A target, (1/K) / share of
its bin among the K bins in use. A sample is as rare as its rarest value, so its weight is the
largest of its label weights: an image with a rare AU positive is drawn often, an image that
is negative everywhere only as often as its rarest negative deserves. Weights are capped at
`max_ratio` x their median so no single image is repeated without end. (Exact balancing of
all 14 correlated AUs at once exists — iterative raking — but leaves a few percent of the
data carrying the weight; the cap keeps the effective sample size near half the data.)

Unlabelled values (-1 / nan) carry no weight; a sample with no labelled value gets weight 1.
"""

import math
from collections.abc import Iterator

import numpy as np
import torch
import torch.distributed as dist
from torch.utils.data import Sampler

from fatauva.losses import quantize_va
from fatauva.topology import VA_CLASS_VALUES

DEFAULT_MAX_RATIO = 20.0


def binary_balance_weights(
    labels: np.ndarray, power: float = 1.0, max_ratio: float = DEFAULT_MAX_RATIO
) -> np.ndarray:
    """Per-sample weights (N,) float64 for multi-label binary data (N, L) with -1 = unlabelled.

    A label whose labelled values are all equal (nothing to balance) weighs 1.
    """
    labels = np.asarray(labels)
    if labels.ndim != 2:
        raise ValueError(f"expected labels of shape (N, L), got {labels.shape}")
    value_weights = np.zeros(labels.shape)
    for j in range(labels.shape[1]):
        labelled = labels[:, j] >= 0
        p = labels[labelled, j].mean() if labelled.any() else 0.0
        if 0.0 < p < 1.0:
            value_weights[labelled, j] = np.where(labels[labelled, j] == 1, 0.5 / p, 0.5 / (1.0 - p)) ** power
        else:
            value_weights[labelled, j] = 1.0
    return _finish(value_weights, labels >= 0, max_ratio)


def va_balance_weights(
    va: np.ndarray, power: float = 1.0, max_ratio: float = DEFAULT_MAX_RATIO
) -> np.ndarray:
    """Per-sample weights (N,) float64 for valence, arousal (N, 2) in [-1, 1], nan = unlabelled.

    Each target is quantised to the 11 classes -5..5 of §4.1.3 (`fatauva.losses.quantize_va`).
    """
    va = np.asarray(va, dtype=np.float64)
    if va.ndim != 2 or va.shape[1] != 2:
        raise ValueError(f"expected V-A values of shape (N, 2), got {va.shape}")
    labelled = ~np.isnan(va)
    bins = va_bins(va)
    value_weights = np.zeros(va.shape)
    for t in range(2):
        b = bins[labelled[:, t], t]
        if b.size == 0:
            continue
        counts = np.bincount(b, minlength=len(VA_CLASS_VALUES)).astype(np.float64)
        share = counts / b.size
        balanced = 1.0 / np.count_nonzero(counts)
        value_weights[labelled[:, t], t] = (balanced / share[b]) ** power
    return _finish(value_weights, labelled, max_ratio)


def va_bins(va: np.ndarray) -> np.ndarray:
    """int64 (N, 2) class index 0..10 of each value (nan -> 0; mask it with the nan positions)."""
    va = np.nan_to_num(np.asarray(va, dtype=np.float32), nan=0.0)
    return quantize_va(torch.from_numpy(va)).numpy()


def _finish(value_weights: np.ndarray, labelled: np.ndarray, max_ratio: float) -> np.ndarray:
    weights = np.where(labelled.any(axis=1), np.where(labelled, value_weights, 0.0).max(axis=1), 1.0)
    return np.minimum(weights, max_ratio * np.median(weights))


class DistributedWeightedSampler(Sampler[int]):
    """A weighted draw with replacement (torch's WeightedRandomSampler's), split across the ranks of
    a torchrun job; with one replica, what the single-process trainer draws.

    Every rank draws the same `num_samples` indices per epoch (seeded by seed + epoch) and keeps
    every `num_replicas`-th one from its rank: ranks see disjoint slices of one weighted draw.
    Call `set_epoch(epoch)` each epoch, as with torch's DistributedSampler.
    """

    def __init__(
        self,
        weights: np.ndarray,
        num_samples: int | None = None,
        num_replicas: int | None = None,
        rank: int | None = None,
        seed: int = 0,
    ):
        distributed = dist.is_available() and dist.is_initialized()
        self.num_replicas = num_replicas or (dist.get_world_size() if distributed else 1)
        self.rank = rank if rank is not None else (dist.get_rank() if distributed else 0)
        if not 0 <= self.rank < self.num_replicas:
            raise ValueError(f"rank {self.rank} is outside 0..{self.num_replicas - 1}")
        self.weights = torch.as_tensor(weights, dtype=torch.double)
        self.per_rank = math.ceil((num_samples or len(self.weights)) / self.num_replicas)
        self.seed = seed
        self.epoch = 0

    def set_epoch(self, epoch: int) -> None:
        self.epoch = epoch

    def __len__(self) -> int:
        return self.per_rank

    def __iter__(self) -> Iterator[int]:
        generator = torch.Generator().manual_seed(self.seed + self.epoch)
        drawn = torch.multinomial(self.weights, self.per_rank * self.num_replicas, True, generator=generator)
        return iter(drawn[self.rank :: self.num_replicas].tolist())
