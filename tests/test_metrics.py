"""The paper's metrics (Tables 4-6, Fig. 9-10); scikit-learn is used here as a reference only."""

import math

import numpy as np
import pytest
from sklearn.metrics import accuracy_score, f1_score, roc_auc_score

from fatauva.metrics import accuracy, binary_report, ccc, f1, mse, roc_auc, va_report


def test_accuracy_is_the_fraction_of_equal_entries():
    assert accuracy(np.array([1, 0, 1, 1]), np.array([1, 1, 1, 0])) == 0.5


def test_accuracy_of_nothing_is_nan():
    assert math.isnan(accuracy(np.array([]), np.array([])))


def test_roc_auc_hand_computed_with_a_tie():
    # positives scored 0.8, 0.4; negatives 0.4, 0.1: pairs won 1 + 1 + 0.5 (tie) + 1 = 3.5 of 4
    assert roc_auc(np.array([1, 1, 0, 0]), np.array([0.8, 0.4, 0.4, 0.1])) == 0.875


@pytest.mark.parametrize("seed", range(20))
def test_roc_auc_equals_sklearn_on_random_cases_with_ties(seed):
    rng = np.random.default_rng(seed)
    n = int(rng.integers(2, 60))
    y = rng.integers(0, 2, n)
    y[:2] = (0, 1)  # both classes present
    scores = rng.integers(0, 5, n) / 4.0  # few distinct values: many ties
    assert roc_auc(y, scores) == pytest.approx(roc_auc_score(y, scores), abs=1e-12)


def test_roc_auc_with_one_class_only_is_nan():
    assert math.isnan(roc_auc(np.array([1, 1, 1]), np.array([0.2, 0.5, 0.9])))


def test_roc_auc_rejects_the_unlabelled_marker():
    with pytest.raises(ValueError, match="only 0 and 1"):
        roc_auc(np.array([1, -1, 0]), np.array([0.2, 0.5, 0.9]))


@pytest.mark.parametrize("seed", range(10))
def test_f1_equals_sklearn_on_random_cases(seed):
    rng = np.random.default_rng(100 + seed)
    y, p = rng.integers(0, 2, 30), rng.integers(0, 2, 30)
    assert f1(y, p) == pytest.approx(f1_score(y, p), abs=1e-12)


@pytest.mark.parametrize(
    ("y", "p"),
    [([0, 0, 0], [0, 0, 0]), ([1, 0, 0], [0, 0, 0]), ([0, 0, 0], [0, 1, 0])],
    ids=["no-positive-anywhere", "positives-never-predicted", "false-positives-only"],
)
@pytest.mark.parametrize("zero_division", [0.0, 1.0])
def test_f1_zero_division_behaves_as_sklearn(y, p, zero_division):
    expected = f1_score(y, p, zero_division=zero_division)
    assert f1(np.array(y), np.array(p), zero_division=zero_division) == expected


def test_f1_hand_computed():
    # TP = 2, FP = 1, FN = 1 -> 4 / 6
    assert f1(np.array([1, 1, 1, 0, 0]), np.array([1, 1, 0, 1, 0])) == pytest.approx(2 / 3)


def test_mse_hand_computed():
    assert mse(np.array([0.0, 1.0, -1.0]), np.array([0.5, 1.0, 0.0])) == pytest.approx((0.25 + 1.0) / 3)


def test_ccc_hand_computed():
    x, y = np.array([1.0, 2.0, 3.0]), np.array([2.0, 2.0, 5.0])
    # m_x = 2, m_y = 3, var_x = 2/3, var_y = 2, cov = 1 -> 2 / (2/3 + 2 + 1) = 6/11
    assert ccc(x, y) == pytest.approx(6 / 11)


def test_ccc_of_a_series_with_itself_is_one():
    x = np.random.default_rng(0).normal(size=50)
    assert ccc(x, x) == pytest.approx(1.0)


def test_ccc_of_a_centred_series_with_its_negation_is_minus_one():
    x = np.random.default_rng(1).normal(size=50)
    x -= x.mean()
    assert ccc(x, -x) == pytest.approx(-1.0)


def test_ccc_penalises_a_shift_that_pearson_ignores():
    x = np.linspace(-1, 1, 21)
    assert ccc(x, x + 0.5) < 0.9


def test_ccc_of_equal_constants_is_nan():
    assert math.isnan(ccc(np.full(4, 0.3), np.full(4, 0.3)))


def test_binary_report_scores_each_label_on_its_labelled_samples_only():
    probs = np.array([[0.9, 0.2], [0.6, 0.7], [0.1, 0.4], [0.3, 0.8]])
    targets = np.array([[1, 0], [0, -1], [0, 1], [-1, 1]])
    report = binary_report(probs, targets, ["a", "b"])
    a = report.labels["a"]
    # label a: truth (1, 0, 0), predicted (1, 1, 0)
    assert (a.n, a.accuracy, a.f1, a.auc) == (3, pytest.approx(2 / 3), pytest.approx(2 / 3), 1.0)
    b = report.labels["b"]
    # label b: truth (0, 1, 1), predicted (0, 0, 1); scores 0.2 < 0.4 < 0.8 -> AUC 1
    assert (b.n, b.accuracy, b.f1, b.auc) == (3, pytest.approx(2 / 3), pytest.approx(2 / 3), 1.0)
    assert report.mean.n == 6
    assert report.mean.accuracy == pytest.approx(2 / 3)


def test_binary_report_agrees_with_sklearn_per_label():
    rng = np.random.default_rng(7)
    probs = rng.random((40, 3))
    targets = rng.integers(0, 2, (40, 3))
    targets[rng.random((40, 3)) < 0.3] = -1
    report = binary_report(probs, targets, ["x", "y", "z"])
    for j, name in enumerate("xyz"):
        keep = targets[:, j] >= 0
        y, p = targets[keep, j], probs[keep, j]
        assert report.labels[name].accuracy == pytest.approx(accuracy_score(y, p > 0.5))
        assert report.labels[name].f1 == pytest.approx(f1_score(y, p > 0.5))
        assert report.labels[name].auc == pytest.approx(roc_auc_score(y, p))


def test_binary_report_mean_skips_undefined_scores():
    probs = np.array([[0.9, 0.1], [0.2, 0.3]])
    targets = np.array([[1, 0], [0, 0]])  # label "never" has no positive: AUC and F1 undefined
    report = binary_report(probs, targets, ["seen", "never"])
    assert math.isnan(report.labels["never"].auc) and math.isnan(report.labels["never"].f1)
    assert report.labels["never"].accuracy == 1.0
    assert report.mean.auc == 1.0 and report.mean.f1 == 1.0


def test_binary_report_with_a_fully_unlabelled_label_gives_nan_without_warnings():
    with np.errstate(all="raise"):
        report = binary_report(np.array([[0.4]]), np.array([[-1]]), ["gone"])
    assert report.labels["gone"].n == 0 and math.isnan(report.mean.accuracy)


def test_binary_report_threshold_is_strict():
    report = binary_report(np.array([[0.5], [0.7]]), np.array([[0], [1]]), ["a"], threshold=0.5)
    assert report.labels["a"].accuracy == 1.0


def test_binary_report_rejects_a_names_list_of_the_wrong_length():
    with pytest.raises(ValueError, match="names"):
        binary_report(np.zeros((2, 3)), np.zeros((2, 3)), ["a", "b"])


def test_binary_report_as_dict_has_a_row_per_label_and_the_mean():
    report = binary_report(np.array([[0.9], [0.1]]), np.array([[1], [0]]), ["Smiling"])
    rows = report.as_dict()
    assert list(rows) == ["Smiling", "mean"]
    assert rows["Smiling"] == {"accuracy": 1.0, "f1": 1.0, "auc": 1.0, "n": 2}


def test_va_report_ignores_nan_targets_per_target():
    pred = np.array([[0.0, 0.5], [1.0, 0.5], [0.5, 0.0]])
    targets = np.array([[0.0, np.nan], [1.0, 1.0], [np.nan, 0.0]])
    report = va_report(pred, targets)
    assert report.targets["valence"].n == 2 and report.targets["valence"].mse == 0.0
    assert report.targets["valence"].ccc == pytest.approx(1.0)
    assert report.targets["arousal"].mse == pytest.approx(0.125)
    assert report.mean.mse == pytest.approx(0.0625)
