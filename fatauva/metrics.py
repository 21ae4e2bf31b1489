"""Evaluation metrics as the paper reports them: attribute accuracy (Table 4), AU AUC and F1
(Tables 5-6), V-A MSE and CCC (Fig. 9-10). Plain numpy in, Python floats out.

Undefined values are nan, never a silent 0 or 1: AUC with one class only, CCC of two equal
constants, any metric of an empty set. Report means skip nan (`nanmean` of the defined ones).
"""

from collections.abc import Sequence
from dataclasses import asdict, dataclass

import numpy as np

from fatauva.topology import VA_TARGETS


def _binary(y: np.ndarray, name: str) -> np.ndarray:
    """`y` as int64 0/1; anything else (e.g. the -1 'unlabelled' marker) is a caller's error."""
    y = np.asarray(y)
    if y.size and not np.isin(y, (0, 1)).all():
        raise ValueError(f"{name} must hold only 0 and 1 (mask unlabelled entries first)")
    return y.astype(np.int64).ravel()


def _same_length(a: np.ndarray, b: np.ndarray) -> None:
    if a.shape != b.shape:
        raise ValueError(f"inputs differ in length: {a.shape} vs {b.shape}")


def accuracy(y_true: np.ndarray, y_pred: np.ndarray) -> float:
    """Fraction of equal entries (N,) vs (N,); nan when empty."""
    y_true, y_pred = np.asarray(y_true).ravel(), np.asarray(y_pred).ravel()
    _same_length(y_true, y_pred)
    return float(np.mean(y_true == y_pred)) if y_true.size else float("nan")


def _midranks(x: np.ndarray) -> np.ndarray:
    """1-based ranks of x (N,), tied values sharing the mean of the ranks they span."""
    _, inverse, counts = np.unique(x, return_inverse=True, return_counts=True)
    last_rank = np.cumsum(counts)
    return (last_rank - (counts - 1) / 2.0)[inverse]


def roc_auc(y_true: np.ndarray, y_score: np.ndarray) -> float:
    """Area under the ROC curve of scores (N,) for binary truth (N,) in {0, 1}.

    Mann-Whitney form: AUC = (sum of positive ranks - P(P+1)/2) / (P * Q) with P positives and
    Q negatives, tied scores given mid-ranks (a tie between a positive and a negative counts 1/2),
    which equals the trapezoidal ROC area. nan when only one class is present.
    """
    y_true = _binary(y_true, "y_true")
    y_score = np.asarray(y_score, dtype=np.float64).ravel()
    _same_length(y_true, y_score)
    if np.isnan(y_score).any():
        raise ValueError("y_score contains nan")
    n_pos = int(y_true.sum())
    n_neg = y_true.size - n_pos
    if n_pos == 0 or n_neg == 0:
        return float("nan")
    ranks = _midranks(y_score)
    return float((ranks[y_true == 1].sum() - n_pos * (n_pos + 1) / 2.0) / (n_pos * n_neg))


def f1(y_true: np.ndarray, y_pred: np.ndarray, zero_division: float = 0.0) -> float:
    """Binary F1 of the positive class 1: 2 TP / (2 TP + FP + FN), inputs (N,) in {0, 1}.

    When there is no positive in either input the ratio is 0/0 and `zero_division` is returned,
    as sklearn.metrics.f1_score does (its default also gives 0.0; pass nan to mark it undefined).
    A truth with positives and no positive prediction is a real 0, not a zero division.
    """
    y_true, y_pred = _binary(y_true, "y_true"), _binary(y_pred, "y_pred")
    _same_length(y_true, y_pred)
    tp = int(np.sum((y_true == 1) & (y_pred == 1)))
    denominator = int(y_true.sum() + y_pred.sum())  # = 2 TP + FP + FN
    return float(zero_division) if denominator == 0 else 2.0 * tp / denominator


def mse(y_true: np.ndarray, y_pred: np.ndarray) -> float:
    """Mean squared error (N,) vs (N,); nan when empty."""
    y_true = np.asarray(y_true, dtype=np.float64).ravel()
    y_pred = np.asarray(y_pred, dtype=np.float64).ravel()
    _same_length(y_true, y_pred)
    return float(np.mean((y_true - y_pred) ** 2)) if y_true.size else float("nan")


def ccc(y_true: np.ndarray, y_pred: np.ndarray) -> float:
    """Lin's concordance correlation coefficient, the Aff-Wild metric of Fig. 10.

    CCC = 2 s_xy / (s_x^2 + s_y^2 + (m_x - m_y)^2) with population (1/N) moments, in [-1, 1].
    nan when empty or when both inputs are the same constant (0/0).
    """
    x = np.asarray(y_true, dtype=np.float64).ravel()
    y = np.asarray(y_pred, dtype=np.float64).ravel()
    _same_length(x, y)
    if not x.size:
        return float("nan")
    mx, my = x.mean(), y.mean()
    covariance = np.mean((x - mx) * (y - my))
    denominator = x.var() + y.var() + (mx - my) ** 2
    return float(2.0 * covariance / denominator) if denominator > 0 else float("nan")


def _nanmean(values: Sequence[float]) -> float:
    """Mean of the defined values; nan (without a warning) when none is defined."""
    defined = [v for v in values if not np.isnan(v)]
    return float(np.mean(defined)) if defined else float("nan")


@dataclass(frozen=True)
class BinaryScores:
    """Scores of one binary label (a row of Tables 4-6); n = number of labelled samples."""

    accuracy: float
    f1: float
    auc: float
    n: int


@dataclass(frozen=True)
class BinaryReport:
    """Per-label scores and their mean (the AVG row of Tables 4-6; n of the mean = total labelled)."""

    labels: dict[str, BinaryScores]
    mean: BinaryScores
    threshold: float

    def as_dict(self) -> dict[str, dict[str, float]]:
        """{label: {accuracy, f1, auc, n}, ..., "mean": {...}} for JSON logs and the model card."""
        rows = {name: asdict(scores) for name, scores in self.labels.items()}
        rows["mean"] = asdict(self.mean)
        return rows


def _mean_scores(rows: Sequence[BinaryScores]) -> BinaryScores:
    return BinaryScores(
        accuracy=_nanmean([r.accuracy for r in rows]),
        f1=_nanmean([r.f1 for r in rows]),
        auc=_nanmean([r.auc for r in rows]),
        n=sum(r.n for r in rows),
    )


def binary_report(
    probs: np.ndarray, targets: np.ndarray, names: Sequence[str], threshold: float = 0.5
) -> BinaryReport:
    """Accuracy, F1 and AUC per label over its labelled samples, and their nan-aware mean.

    probs: (N, L) P(present); targets: (N, L) in {0, 1}, -1 = unlabelled; names: L label names
    (e.g. topology.ATTRIBUTES or topology.AU_KEYS). A sample is predicted present when its
    probability is strictly above `threshold` (at 0.5 this is the argmax of the 2-way softmax,
    which picks 'absent' on a tie). F1 with no positive in truth or prediction, and AUC with one
    class only, are nan and left out of the mean, so an absent AU does not score 0 (or 1).
    """
    probs, targets = np.asarray(probs, dtype=np.float64), np.asarray(targets)
    if probs.ndim != 2 or probs.shape != targets.shape or probs.shape[1] != len(names):
        raise ValueError(
            f"probs {probs.shape} and targets {targets.shape} must both be (N, {len(names)}) for names"
        )
    labels = {}
    for j, name in enumerate(names):
        keep = targets[:, j] >= 0
        y, p = targets[keep, j], probs[keep, j]
        predicted = (p > threshold).astype(np.int64)
        labels[name] = BinaryScores(
            accuracy=accuracy(y, predicted),
            f1=f1(y, predicted, zero_division=float("nan")),
            auc=roc_auc(y, p),
            n=int(keep.sum()),
        )
    return BinaryReport(labels=labels, mean=_mean_scores(list(labels.values())), threshold=threshold)


@dataclass(frozen=True)
class RegressionScores:
    """MSE and CCC of one V-A target (Fig. 9-10); n = number of labelled samples."""

    mse: float
    ccc: float
    n: int


@dataclass(frozen=True)
class VAReport:
    """Per-target (valence, arousal) scores and their nan-aware mean."""

    targets: dict[str, RegressionScores]
    mean: RegressionScores

    def as_dict(self) -> dict[str, dict[str, float]]:
        """{target: {mse, ccc, n}, ..., "mean": {...}} for JSON logs and the model card."""
        rows = {name: asdict(scores) for name, scores in self.targets.items()}
        rows["mean"] = asdict(self.mean)
        return rows


def va_report(pred: np.ndarray, targets: np.ndarray, names: Sequence[str] = VA_TARGETS) -> VAReport:
    """MSE and CCC per V-A target over its labelled samples.

    pred: (N, 2) values in [-1, 1]; targets: (N, 2), nan = unlabelled; names: topology.VA_TARGETS.
    """
    pred, targets = np.asarray(pred, dtype=np.float64), np.asarray(targets, dtype=np.float64)
    if pred.ndim != 2 or pred.shape != targets.shape or pred.shape[1] != len(names):
        raise ValueError(f"pred {pred.shape} and targets {targets.shape} must both be (N, {len(names)})")
    rows = {}
    for k, name in enumerate(names):
        keep = ~np.isnan(targets[:, k])
        y, p = targets[keep, k], pred[keep, k]
        rows[name] = RegressionScores(mse=mse(y, p), ccc=ccc(y, p), n=int(keep.sum()))
    mean = RegressionScores(
        mse=_nanmean([r.mse for r in rows.values()]),
        ccc=_nanmean([r.ccc for r in rows.values()]),
        n=sum(r.n for r in rows.values()),
    )
    return VAReport(targets=rows, mean=mean)
