"""The grouped FC heads and the §4.1.3 top-3 decoding of the V-A class head."""

import math

import pytest
import torch

from fatauva import topology
from fatauva.heads import GroupedMLP, decode_va_classes


def logits_with(probs_by_value: dict[int, float]) -> torch.Tensor:
    """Logits (11,) whose softmax puts the given probabilities on the given V-A values and
    spreads the remaining mass evenly over the other classes."""
    rest = (1.0 - sum(probs_by_value.values())) / (11 - len(probs_by_value))
    probs = [probs_by_value.get(v, rest) for v in topology.VA_CLASS_VALUES]
    return torch.tensor([math.log(p) for p in probs])


def test_consecutive_top3_gives_the_renormalised_weighted_mean():
    # top-3 values 2, 1, 3 with p 0.5, 0.3, 0.1: (2*0.5 + 1*0.3 + 3*0.1) / 0.9 = 1.7778 -> /5
    value = decode_va_classes(logits_with({2: 0.5, 1: 0.3, 3: 0.1}))
    assert value.item() == pytest.approx(1.6 / 0.9 / 5, abs=1e-6)


def test_consecutive_in_any_order_counts():
    # top-3 values 3, 1, 2 (the paper's "1,3,2" example): (3*0.4 + 1*0.35 + 2*0.15) / 0.9 -> /5
    value = decode_va_classes(logits_with({3: 0.4, 1: 0.35, 2: 0.15}))
    assert value.item() == pytest.approx(1.85 / 0.9 / 5, abs=1e-6)


def test_non_consecutive_top3_gives_the_top1_value():
    assert decode_va_classes(logits_with({2: 0.5, 4: 0.3, -1: 0.1})).item() == pytest.approx(0.4)


def test_extreme_classes_map_to_the_ends_of_the_range():
    # top-3 -5, -4, -3: (-5*0.8 - 4*0.05 - 3*0.04) / 0.89 = -4.8539 -> /5
    value = decode_va_classes(logits_with({-5: 0.8, -4: 0.05, -3: 0.04}))
    assert value.item() == pytest.approx(-4.32 / 0.89 / 5, abs=1e-6)
    assert decode_va_classes(logits_with({5: 0.9, 0: 0.02, -5: 0.015})).item() == pytest.approx(1.0)


def test_decoding_keeps_leading_dimensions():
    logits = torch.stack([logits_with({0: 0.6, 1: 0.2, -1: 0.1}), logits_with({-2: 0.7, 2: 0.2, 0: 0.05})])
    values = decode_va_classes(logits.expand(3, 2, 11))
    assert values.shape == (3, 2)
    assert values[0].tolist() == pytest.approx([(0.2 - 0.1) / 0.9 / 5, -0.4], abs=1e-6)


def test_decoding_rejects_a_wrong_class_count():
    with pytest.raises(ValueError, match="11 V-A classes"):
        decode_va_classes(torch.zeros(2, 10))


def test_grouped_mlp_equals_independent_linear_heads():
    torch.manual_seed(0)
    heads = GroupedMLP(groups=3, c_in=5, hidden=(7, 4), c_out=2)
    x = torch.randn(6, 3, 5)
    logits, embedding = heads(x)
    for g in range(3):
        h = x[:, g]
        for layer, (w, b) in enumerate(zip(heads.weights, heads.biases, strict=True)):
            h = torch.nn.functional.linear(h, w[g].T, b[g, 0])
            if layer == 1:
                torch.testing.assert_close(embedding[:, g], torch.relu(h))
            if layer < 2:
                h = torch.relu(h)
        torch.testing.assert_close(logits[:, g], h)


def test_grouped_mlp_heads_do_not_read_each_others_inputs():
    heads = GroupedMLP(groups=2, c_in=3, hidden=(4, 4), c_out=2)
    x = torch.randn(1, 2, 3)
    x2 = x.clone()
    x2[:, 1] += 10.0
    assert torch.equal(heads(x)[0][:, 0], heads(x2)[0][:, 0])
