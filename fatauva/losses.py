"""The loss layers of §4.1.3: 2-way softmax per attribute / AU, the V-A class loss, and the
regression loss (smooth-l1 of eq. 2 + lambda * centre loss of eq. 1 on the penultimate features).

Unlabelled targets are masked, never imputed: -1 in the integer label tensors, nan in the V-A
tensors (the training sample contract of train/datasets/base.py).
"""

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from fatauva.topology import VA_CLASS_VALUES, VA_TARGETS

NUM_VA_CLASSES = len(VA_CLASS_VALUES)
_VA_STEPS = max(VA_CLASS_VALUES)  # 5: a value in [-1, 1] times 5 is the class value -5..5


def _zero_like_graph(x: Tensor) -> Tensor:
    """A zero scalar that is still part of the graph of `x`, so `backward()` works on an empty batch."""
    return x.sum() * 0.0


def masked_cross_entropy(logits: Tensor, targets: Tensor) -> Tensor:
    """Mean 2-way softmax cross-entropy over the labelled (sample, label) pairs.

    logits: (N, L, 2) float; targets: (N, L) int64 in {0, 1}, -1 = unlabelled (ignored).
    Returns a scalar; a zero that still carries a grad when nothing in the batch is labelled.
    """
    if logits.shape[:-1] != targets.shape:
        raise ValueError(f"logits {tuple(logits.shape)} do not match targets {tuple(targets.shape)}")
    labelled = targets >= 0
    if not labelled.any():
        return _zero_like_graph(logits)
    return F.cross_entropy(logits[labelled], targets[labelled].long())


def quantize_va(values: Tensor) -> Tensor:
    """V-A values in [-1, 1] -> class index 0..10 of the values -5..5 (§4.1.3, Fig. 6).

    Nearest class, halves rounded away from zero so the quantisation is symmetric in sign
    (valence 0.1 -> class value 1, -0.1 -> -1); values outside [-1, 1] are clamped.
    Shape is kept; nan inputs give meaningless indices, so mask them first.
    """
    scaled = values.clamp(-1.0, 1.0) * _VA_STEPS
    rounded = torch.sign(scaled) * torch.floor(scaled.abs() + 0.5)
    return (rounded + _VA_STEPS).long()


def va_class_loss(logits: Tensor, targets: Tensor) -> Tensor:
    """Softmax cross-entropy of the 11-class V-A head against quantised targets (§4.1.3).

    logits: (N, 2, 11) for (valence, arousal); targets: (N, 2) float in [-1, 1], nan = unlabelled.
    Returns the mean over labelled (sample, target) pairs; a zero with grad when none is labelled.
    """
    if logits.shape[:-1] != targets.shape or logits.shape[-1] != NUM_VA_CLASSES:
        raise ValueError(f"logits {tuple(logits.shape)} must be targets {tuple(targets.shape)} + (11,)")
    labelled = ~torch.isnan(targets)
    if not labelled.any():
        return _zero_like_graph(logits)
    return F.cross_entropy(logits[labelled], quantize_va(targets[labelled]))


def smooth_l1(pred: Tensor, target: Tensor, t: float = 1.0) -> Tensor:
    """Eq. 2, elementwise: 0.5 d^2 if |d| < t else |d| - t + 0.5 t^2, with d = pred - target.

    Continuous at |d| = t for every t > 0; for t = 1 it is torch's smooth_l1_loss (beta = 1).
    Unlike Huber/smooth_l1 with beta != 1, the slope jumps from t to 1 at the turning point:
    this is the paper's formula, kept as written.
    """
    if t <= 0:
        raise ValueError(f"the turning point t must be > 0, got {t}")
    d = (pred - target).abs()
    return torch.where(d < t, 0.5 * d * d, d - t + 0.5 * t * t)


class CenterLoss(nn.Module):
    """Centre loss of Wen et al. 2016 (ECCV), the paper's reference [36] for eq. 1.

    L_C = mean_i 0.5 * ||x_i - c_{y_i}||^2 over the M samples of the batch.
    The paper prints eq. 1 as loss_c = -||x - c||_p^p; the minus sign is a typo (minimising it
    would push features away from their centres, against [36] and the stated intent), and we use
    p = 2 as Wen et al. do.

    Centres follow Wen et al.'s update rule, not gradient descent: they are buffers, the loss
    back-propagates into the features only, and in training mode each forward moves the centre of
    every class j present in the batch by c_j -= alpha * sum_{i: y_i=j} (c_j - x_i) / (1 + n_j).
    So the trainer needs no extra optimizer parameters; the centres are in `state_dict()` for resuming.
    """

    centers: Tensor

    def __init__(self, num_classes: int = NUM_VA_CLASSES, feat_dim: int = 2, alpha: float = 0.5):
        super().__init__()
        if not 0.0 < alpha <= 1.0:
            raise ValueError(f"the centre update rate alpha must be in (0, 1], got {alpha}")
        self.alpha = alpha
        self.register_buffer("centers", torch.zeros(num_classes, feat_dim))

    def forward(self, features: Tensor, class_idx: Tensor) -> Tensor:
        """features: (M, D); class_idx: (M,) int64 in 0..num_classes-1 -> scalar (zero with grad if M = 0)."""
        if features.ndim != 2 or features.shape[1] != self.centers.shape[1]:
            raise ValueError(f"features must be (M, {self.centers.shape[1]}), got {tuple(features.shape)}")
        if features.shape[0] == 0:
            return _zero_like_graph(features)
        centers = self.centers[class_idx]
        loss = 0.5 * (features - centers).pow(2).sum(dim=1).mean()
        if self.training:
            self._update_centers(features.detach(), class_idx)
        return loss

    @torch.no_grad()
    def _update_centers(self, features: Tensor, class_idx: Tensor) -> None:
        num_classes = self.centers.shape[0]
        counts = torch.bincount(class_idx, minlength=num_classes).to(features.dtype)
        sums = torch.zeros_like(self.centers).index_add_(0, class_idx, features.to(self.centers.dtype))
        # sum_i (c_j - x_i) = n_j c_j - sum_i x_i; classes absent from the batch get a zero step.
        delta = (counts[:, None] * self.centers - sums) / (1.0 + counts[:, None])
        self.centers -= self.alpha * delta


@dataclass
class VALossTerms:
    """The regression loss and its two parts, summed over valence and arousal (scalars)."""

    total: Tensor
    smooth_l1: Tensor
    center: Tensor


class VARegressionLoss(nn.Module):
    """§4.1.3 regression loss: smooth-l1 (eq. 2) + lam * centre loss (eq. 1), per V-A target.

    Each target (valence, arousal; topology.VA_TARGETS) has its own centres, one per quantised
    V-A class (quantize_va), on the penultimate FC features of its own head. The loss of a target
    is the mean over its labelled samples (nan targets are ignored); the total is the sum of the
    two targets, as two separate loss layers on two heads would give in Caffe.

    `t_paper` is eq. 2's turning point in the paper's units, V-A quantised to -5..5 (§4.1.3). The
    loss itself runs on our [-1, 1] values, where the turning point is `self.t = t_paper / 5`:
    the default 5 is 1.0 here, every error below half the range in the quadratic part. Why not
    the paper's units throughout: eq. 2 is not scale-free (its slope jumps from t to 1), so on
    values 5x larger the same t would be another loss, 25x larger in its quadratic part, against
    the learning rates and centre-loss weight the recipe was measured with.
    """

    def __init__(self, feat_dim: int, t_paper: float = 5.0, lam: float = 0.01, alpha: float = 0.5):
        super().__init__()
        if t_paper <= 0:
            raise ValueError(f"the turning point t must be > 0, got {t_paper}")
        self.t = t_paper / _VA_STEPS
        self.lam = lam
        self.centers = nn.ModuleDict(
            {name: CenterLoss(NUM_VA_CLASSES, feat_dim, alpha) for name in VA_TARGETS}
        )

    def terms(self, pred: Tensor, embedding: Tensor, targets: Tensor) -> VALossTerms:
        """pred: (N, 2) raw values; embedding: (N, 2, D); targets: (N, 2) in [-1, 1], nan = unlabelled."""
        if pred.shape != targets.shape or embedding.shape[:2] != targets.shape:
            raise ValueError(
                f"pred {tuple(pred.shape)}, embedding {tuple(embedding.shape)} and targets "
                f"{tuple(targets.shape)} must agree on (N, {len(VA_TARGETS)})"
            )
        reg = _zero_like_graph(pred)
        center = _zero_like_graph(embedding)
        for k, name in enumerate(VA_TARGETS):
            labelled = ~torch.isnan(targets[:, k])
            if not labelled.any():
                continue
            y = targets[labelled, k]
            reg = reg + smooth_l1(pred[labelled, k], y, self.t).mean()
            center = center + self.centers[name](embedding[labelled, k], quantize_va(y))
        return VALossTerms(total=reg + self.lam * center, smooth_l1=reg, center=center)

    def forward(self, pred: Tensor, embedding: Tensor, targets: Tensor) -> Tensor:
        """Same inputs as `terms`; returns the scalar total."""
        return self.terms(pred, embedding, targets).total
