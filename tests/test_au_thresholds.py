"""experiments.au_thresholds: the F1-optimal threshold per AU, and F1 at given thresholds."""

import numpy as np
import pytest
from sklearn.metrics import f1_score

from experiments import au_thresholds
from fatauva import topology

pytestmark = pytest.mark.experiment  # a study, not the product: deselect with -m 'not experiment'


def test_the_threshold_is_the_grid_value_with_the_best_f1_ignoring_unlabelled_rows():
    labels = np.array([0, 0, 1, 1, -1, -1])
    probs = np.array([0.10, 0.40, 0.35, 0.90, 0.99, 0.01])
    # From 0.10 to 0.34 the calls are 0.40, 0.35 and 0.90: F1 0.8, the best; below 0.10 all four (2/3),
    # from 0.36 on 0.40 and 0.90 (0.5). The unlabelled 0.99 and 0.01 count for nothing.
    assert au_thresholds.best_threshold(labels, probs) == 0.10
    grid = np.array([0.2, 0.36, 0.5])
    best = au_thresholds.best_threshold(labels, probs, grid)
    scores = [f1_score(labels[:4], probs[:4] > t) for t in grid]
    assert best == grid[int(np.argmax(scores))] == 0.2


def test_an_au_without_labelled_positives_keeps_the_default():
    assert au_thresholds.best_threshold(np.array([0, 0, -1]), np.array([0.9, 0.8, 0.7])) == 0.5
    assert au_thresholds.best_threshold(np.array([-1, -1]), np.array([0.9, 0.1])) == 0.5


def test_mean_f1_scores_each_au_with_its_own_threshold_and_skips_uncoded_ones():
    n = len(topology.AUS)
    labels = np.full((4, n), -1)
    labels[:, 0] = [1, 1, 0, 0]
    labels[:, 1] = [0, 0, 0, 0]  # coded, never present: no F1
    probs = np.tile(np.array([[0.6], [0.3], [0.2], [0.1]]), (1, n))
    thresholds = np.full(n, 0.5)
    assert au_thresholds.mean_f1(labels, probs, thresholds) == {
        topology.au_key(topology.AUS[0]): pytest.approx(2 / 3)
    }
    thresholds[0] = 0.25
    assert au_thresholds.mean_f1(labels, probs, thresholds)[topology.au_key(topology.AUS[0])] == 1.0
