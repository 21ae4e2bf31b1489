"""The §4.1.1 balance sampler: rare AU positives and rare V-A bins drawn more often, deterministically."""

from statistics import NormalDist

import numpy as np
import pytest
import torch
from torch.utils.data import WeightedRandomSampler

from fatauva.topology import AUS
from train.sampling import (
    DistributedWeightedSampler,
    binary_balance_weights,
    va_balance_weights,
    va_bins,
)

N = 4000


def au_labels(seed: int = 0) -> np.ndarray:
    """(N, 14) AU labels like BP4D's: positive rates 3%..60%, correlated, 20% unlabelled."""
    rng = np.random.default_rng(seed)
    rates = np.linspace(0.03, 0.6, len(AUS))
    thresholds = np.array([NormalDist().inv_cdf(1 - r) for r in rates])
    shared = rng.normal(size=(N, 1))  # AUs co-occur, as in real expressions
    labels = ((0.6 * shared + 0.8 * rng.normal(size=(N, len(AUS)))) > thresholds).astype(np.int64)
    labels[rng.random(labels.shape) < 0.2] = -1
    return labels


def va_values(seed: int = 0) -> np.ndarray:
    """(N, 2) valence, arousal piled up near (0.1, 0.2) like Aff-Wild's (paper Fig. 6), some nan."""
    rng = np.random.default_rng(seed)
    valence = np.clip(rng.normal(0.1, 0.3, N), -1, 1)
    arousal = np.clip(0.3 * valence + rng.normal(0.15, 0.25, N), -1, 1)
    va = np.stack([valence, arousal], axis=1).astype(np.float32)
    va[rng.random(N) < 0.1, 1] = np.nan
    return va


def positive_rates(labels: np.ndarray) -> np.ndarray:
    return np.array([labels[labels[:, j] >= 0, j].mean() for j in range(labels.shape[1])])


def bin_entropy(va: np.ndarray, target: int) -> float:
    """Entropy of the -5..5 histogram of one target, divided by log 11 (1 = uniform)."""
    labelled = ~np.isnan(va[:, target])
    counts = np.bincount(va_bins(va)[labelled, target], minlength=11)
    p = counts[counts > 0] / counts.sum()
    return float(-(p * np.log(p)).sum() / np.log(11))


def drawn(weights: np.ndarray, seed: int = 0) -> np.ndarray:
    """The trainer's draw in one process."""
    return np.array(list(DistributedWeightedSampler(weights, num_replicas=1, rank=0, seed=seed)))


def test_binary_weights_are_the_inverse_share_of_each_value():
    weights = binary_balance_weights(np.array([[1], [0], [0], [0]]))
    assert weights.tolist() == pytest.approx([2.0, 0.5 / 0.75, 0.5 / 0.75, 0.5 / 0.75])


def test_a_sample_weighs_as_much_as_its_rarest_labelled_value():
    labels = np.array([[1, 0], [0, 0], [0, 1], [0, -1]])  # label 1: p = 1/4; label 2: p = 1/3
    weights = binary_balance_weights(labels)
    assert weights[0] == pytest.approx(2.0) and weights[2] == pytest.approx(1.5)
    assert weights[3] == pytest.approx(0.5 / 0.75)  # its unlabelled value carries no weight


def test_unlabelled_samples_and_constant_labels_weigh_one():
    weights = binary_balance_weights(np.array([[-1, 0], [-1, 0], [-1, 0]]))
    assert weights.tolist() == [1.0, 1.0, 1.0]


def test_weights_are_capped_relative_to_the_median():
    labels = np.zeros((1000, 1), np.int64)
    labels[0] = 1
    weights = binary_balance_weights(labels, max_ratio=10)
    assert weights[0] == pytest.approx(10 * np.median(weights))


def test_sampled_au_positive_rates_are_measurably_more_balanced():
    labels = au_labels()
    raw, sampled = positive_rates(labels), positive_rates(labels[drawn(binary_balance_weights(labels))])
    # Mean distance of the 14 positive rates from 0.5: 0.21 raw, 0.15 sampled.
    assert np.abs(raw - 0.5).mean() > 0.20 and np.abs(sampled - 0.5).mean() < 0.16
    # The rarest AU (3% positive) is drawn about six times as often.
    assert raw[0] < 0.04 and sampled[0] > 0.17


def test_sampled_va_bins_are_measurably_more_even():
    va = va_values()
    sampled = va[drawn(va_balance_weights(va))]
    assert bin_entropy(va, 0) < 0.80 and bin_entropy(sampled, 0) > 0.92  # valence
    assert bin_entropy(va, 1) < 0.75 and bin_entropy(sampled, 1) > 0.86  # arousal


def test_frequent_va_values_are_down_sampled_and_rare_ones_over_sampled():
    va = va_values()
    weights = va_balance_weights(va)
    bins = va_bins(va)[:, 0]
    assert weights[bins == 5].mean() < 1.0 < weights[bins == 1].mean()  # valence 0 vs valence -4


def test_the_draw_is_deterministic_for_a_seed():
    weights = binary_balance_weights(au_labels())
    assert np.array_equal(drawn(weights, seed=3), drawn(weights, seed=3))
    assert not np.array_equal(drawn(weights, seed=3), drawn(weights, seed=4))


def test_one_replica_draws_exactly_what_the_weighted_random_sampler_draws():
    weights = va_balance_weights(va_values())
    generator = torch.Generator().manual_seed(5)
    torch_draw = WeightedRandomSampler(torch.as_tensor(weights), len(weights), generator=generator)
    assert drawn(weights, seed=5).tolist() == list(torch_draw)


def test_ranks_split_one_weighted_draw_between_them():
    weights = binary_balance_weights(au_labels())
    ranks = [DistributedWeightedSampler(weights, num_replicas=2, rank=r, seed=1) for r in (0, 1)]
    draw = DistributedWeightedSampler(weights, num_samples=2 * len(ranks[0]), num_replicas=1, rank=0, seed=1)
    interleaved = np.stack([list(ranks[0]), list(ranks[1])], axis=1).ravel()
    assert len(ranks[0]) == len(ranks[1]) == N // 2
    assert interleaved.tolist() == list(draw)


def test_set_epoch_gives_a_new_but_reproducible_draw():
    weights = binary_balance_weights(au_labels())
    sampler = DistributedWeightedSampler(weights, num_replicas=2, rank=1, seed=0)
    first = list(sampler)
    sampler.set_epoch(1)
    second = list(sampler)
    sampler.set_epoch(0)
    assert first != second and list(sampler) == first


def test_a_rank_outside_the_replicas_is_refused():
    with pytest.raises(ValueError, match="rank 2 is outside 0..1"):
        DistributedWeightedSampler(np.ones(4), num_replicas=2, rank=2)
