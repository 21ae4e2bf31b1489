"""The loss layers of §4.1.3, checked against hand-computed values and torch's own losses."""

import math

import pytest
import torch
import torch.nn.functional as F

from fatauva.losses import (
    CenterLoss,
    VARegressionLoss,
    masked_cross_entropy,
    quantize_va,
    smooth_l1,
    va_class_loss,
)


def test_masked_cross_entropy_equals_torch_cross_entropy_on_the_labelled_subset():
    g = torch.Generator().manual_seed(0)
    logits = torch.randn(6, 5, 2, generator=g)
    targets = torch.randint(0, 2, (6, 5), generator=g)
    targets[torch.rand(6, 5, generator=g) < 0.4] = -1
    keep = targets >= 0
    expected = F.cross_entropy(logits[keep], targets[keep])
    assert torch.allclose(masked_cross_entropy(logits, targets), expected)


def test_masked_cross_entropy_hand_computed_value():
    # One labelled pair, logits (0, ln 3): P(class 1) = 3/4, target 1 -> loss = -ln(3/4).
    logits = torch.tensor([[[0.0, math.log(3.0)], [5.0, -5.0]]])
    targets = torch.tensor([[1, -1]])
    assert masked_cross_entropy(logits, targets).item() == pytest.approx(-math.log(0.75), abs=1e-6)


def test_masked_cross_entropy_is_a_zero_with_grad_when_nothing_is_labelled():
    logits = torch.randn(3, 4, 2, requires_grad=True)
    loss = masked_cross_entropy(logits, torch.full((3, 4), -1))
    loss.backward()
    assert loss.item() == 0.0
    assert torch.equal(logits.grad, torch.zeros_like(logits))


def test_masked_cross_entropy_rejects_mismatched_shapes():
    with pytest.raises(ValueError, match="do not match"):
        masked_cross_entropy(torch.zeros(2, 3, 2), torch.zeros(2, 4, dtype=torch.long))


def test_quantize_va_maps_minus_one_to_one_onto_the_eleven_classes_symmetrically():
    values = torch.tensor([-1.0, -0.61, -0.1, -0.05, 0.0, 0.05, 0.1, 0.29, 0.31, 1.0, 1.7])
    # class index = class value + 5; halves go away from zero; out of range is clamped.
    assert quantize_va(values).tolist() == [0, 2, 4, 5, 5, 5, 6, 6, 7, 10, 10]


def test_va_class_loss_quantises_targets_and_ignores_nan():
    g = torch.Generator().manual_seed(1)
    logits = torch.randn(4, 2, 11, generator=g)
    targets = torch.tensor([[0.4, float("nan")], [-1.0, 0.2], [float("nan"), float("nan")], [0.0, 1.0]])
    # quantised class indices: 0.4 -> 7, -1 -> 0, 0.2 -> 6, 0 -> 5, 1 -> 10
    picked = torch.stack([logits[0, 0], logits[1, 0], logits[1, 1], logits[3, 0], logits[3, 1]])
    expected = F.cross_entropy(picked, torch.tensor([7, 0, 6, 5, 10]))
    assert torch.allclose(va_class_loss(logits, targets), expected)


def test_va_class_loss_is_a_zero_with_grad_when_all_targets_are_nan():
    logits = torch.randn(2, 2, 11, requires_grad=True)
    loss = va_class_loss(logits, torch.full((2, 2), float("nan")))
    loss.backward()
    assert loss.item() == 0.0 and logits.grad is not None


def test_smooth_l1_follows_eq_2_by_hand():
    pred = torch.tensor([0.0, 0.0, 0.0, 0.0])
    target = torch.tensor([0.1, -0.3, 0.5, 2.0])
    # t = 0.5: |d| = 0.1, 0.3 -> 0.5 d^2; |d| = 0.5, 2.0 -> |d| - 0.5 + 0.125
    expected = torch.tensor([0.005, 0.045, 0.125, 1.625])
    assert torch.allclose(smooth_l1(pred, target, t=0.5), expected)


def test_smooth_l1_equals_torch_smooth_l1_loss_for_t_equal_one():
    g = torch.Generator().manual_seed(2)
    pred, target = torch.randn(100, generator=g) * 2, torch.randn(100, generator=g) * 2
    expected = F.smooth_l1_loss(pred, target, reduction="none", beta=1.0)
    assert torch.allclose(smooth_l1(pred, target, t=1.0), expected)


def test_smooth_l1_is_continuous_at_the_turning_point():
    t = 0.3
    below = smooth_l1(torch.tensor(t - 1e-6), torch.tensor(0.0), t)
    at = smooth_l1(torch.tensor(t), torch.tensor(0.0), t)
    assert at.item() == pytest.approx(below.item(), abs=1e-5)


def test_smooth_l1_rejects_a_non_positive_turning_point():
    with pytest.raises(ValueError, match="turning point"):
        smooth_l1(torch.zeros(1), torch.zeros(1), t=0.0)


def test_center_loss_is_half_the_mean_squared_distance_to_the_class_centre():
    loss = CenterLoss(num_classes=3, feat_dim=2).eval()
    loss.centers.copy_(torch.tensor([[0.0, 0.0], [1.0, 1.0], [5.0, 5.0]]))
    features = torch.tensor([[3.0, 4.0], [1.0, 2.0]])
    # 0.5 * (25 + 1) / 2
    assert loss(features, torch.tensor([0, 1])).item() == pytest.approx(6.5)


def test_center_loss_pulls_features_towards_their_centre():
    loss = CenterLoss(num_classes=2, feat_dim=2).eval()
    features = torch.tensor([[2.0, -1.0]], requires_grad=True)
    loss(features, torch.tensor([1])).backward()
    # d/dx 0.5 ||x - 0||^2 = x: a gradient step moves x towards the centre (the eq. 1 sign is a typo)
    assert torch.allclose(features.grad, torch.tensor([[2.0, -1.0]]))


def test_center_loss_updates_centres_with_the_rule_of_wen_et_al_in_training_only():
    loss = CenterLoss(num_classes=3, feat_dim=1, alpha=0.5)
    loss.centers.copy_(torch.tensor([[0.0], [10.0], [7.0]]))
    loss(torch.tensor([[2.0], [4.0], [12.0]]), torch.tensor([0, 0, 1]))
    # class 0: delta = (2*0 - 6) / 3 = -2 -> 0 + 1; class 1: (10 - 12) / 2 = -1 -> 10.5; class 2 absent
    assert loss.centers.flatten().tolist() == pytest.approx([1.0, 10.5, 7.0])
    loss.eval()
    loss(torch.tensor([[100.0]]), torch.tensor([0]))
    assert loss.centers.flatten().tolist() == pytest.approx([1.0, 10.5, 7.0])


def test_center_loss_centres_are_buffers_not_parameters():
    loss = CenterLoss(num_classes=11, feat_dim=4)
    assert list(loss.parameters()) == []
    assert "centers" in loss.state_dict()


def test_va_regression_loss_sums_smooth_l1_and_lambda_centre_loss_per_target_ignoring_nan():
    criterion = VARegressionLoss(feat_dim=2, t_paper=5.0, lam=0.1).eval()  # t = 1 on [-1, 1]
    pred = torch.tensor([[0.5, 0.0], [0.0, 0.0]])
    embedding = torch.tensor([[[1.0, 0.0], [0.0, 2.0]], [[3.0, 4.0], [9.0, 9.0]]])
    targets = torch.tensor([[0.0, 0.0], [-2.0, float("nan")]])
    terms = criterion.terms(pred, embedding, targets)
    # valence: smooth-l1 mean of (0.125, 2 - 0.5) = 0.8125; arousal (one sample): 0
    assert terms.smooth_l1.item() == pytest.approx(0.8125)
    # centres start at zero: valence 0.5 * (1 + 25) / 2 = 6.5; arousal 0.5 * 4 = 2
    assert terms.center.item() == pytest.approx(8.5)
    assert terms.total.item() == pytest.approx(0.8125 + 0.1 * 8.5)
    assert criterion(pred, embedding, targets).item() == pytest.approx(terms.total.item())


def test_va_regression_loss_takes_the_turning_point_in_the_papers_units():
    """t_paper = 1 (one class step of -5..5) is 0.2 on [-1, 1]: an error of 0.3 is past it."""
    criterion = VARegressionLoss(feat_dim=1, t_paper=1.0, lam=0.0)
    assert criterion.t == pytest.approx(0.2)
    loss = criterion(torch.tensor([[0.3, 0.1]]), torch.zeros(1, 2, 1), torch.zeros(1, 2))
    assert loss.item() == pytest.approx((0.3 - 0.2 + 0.5 * 0.2**2) + 0.5 * 0.1**2)


def test_va_regression_loss_gives_gradients_to_predictions_and_embeddings():
    criterion = VARegressionLoss(feat_dim=3)
    pred = torch.randn(4, 2, requires_grad=True)
    embedding = torch.randn(4, 2, 3, requires_grad=True)
    targets = torch.rand(4, 2) * 2 - 1
    criterion(pred, embedding, targets).backward()
    assert pred.grad.abs().sum() > 0 and embedding.grad.abs().sum() > 0


def test_va_regression_loss_is_a_zero_with_grad_when_nothing_is_labelled():
    criterion = VARegressionLoss(feat_dim=3)
    pred = torch.randn(2, 2, requires_grad=True)
    loss = criterion(pred, torch.randn(2, 2, 3), torch.full((2, 2), float("nan")))
    loss.backward()
    assert loss.item() == 0.0 and pred.grad is not None


def test_va_regression_loss_keeps_separate_centres_for_valence_and_arousal():
    criterion = VARegressionLoss(feat_dim=1, alpha=1.0)
    embedding = torch.tensor([[[2.0], [-3.0]]])
    criterion(torch.zeros(1, 2), embedding, torch.zeros(1, 2))
    # alpha = 1, one sample: the centre of class index 5 moves half way (n / (1 + n) = 1/2)
    assert criterion.centers["valence"].centers[5].item() == pytest.approx(1.0)
    assert criterion.centers["arousal"].centers[5].item() == pytest.approx(-1.5)
