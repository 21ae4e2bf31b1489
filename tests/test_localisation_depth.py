"""experiments.localisation_depth: LayerCAM's pointing game per AU at every layer on an AU's path."""

import numpy as np
import pytest
import torch

from experiments import localisation_depth
from explain.cam import batched_cams
from explain.targets import TARGETS, scores, target
from fatauva.model import FatauvaNet
from fatauva.template import to_tensor
from tests.tiny import tiny_config

pytestmark = pytest.mark.experiment  # a study, not the product: deselect with -m 'not experiment'


def tiny():
    torch.manual_seed(0)
    return FatauvaNet(tiny_config()).eval()


def test_the_table_has_every_core_stage_then_the_part_and_au_branches():
    model = tiny()
    table = localisation_depth.measure(model, faces=6, split="val")
    rows = [row.split(" ")[0] for row in table]
    assert rows[: len(model.core)] == [f"core[{i}]" for i in range(len(model.core))]
    assert rows[-2:] == ["part", "au"]  # each AU's own part branch, then its own AU branch
    values = [v for row in table.values() for v in row.values()]
    assert values and all(0.0 <= v <= 1.0 for v in values)


def test_its_layercam_is_the_explain_layers_on_a_branch_tap():
    # The same arithmetic as pytorch-grad-cam's LayerCAM, which explain.cam uses (held equal to the
    # library in tests/test_explain.py): on AU12's branch tap the two maps agree.
    model = tiny()
    x = to_tensor(np.random.default_rng(0).integers(0, 255, (2, 32, 32, 3), dtype=np.uint8))
    au12 = target("AU12")
    expected = batched_cams(model, x, (au12,), "LayerCAM", "branch").maps["AU12"]
    captured = {}
    hook = model.feature_modules()[au12.branch].register_forward_hook(lambda _m, _i, o: captured.update(o=o))
    try:
        out = model(x.requires_grad_(True))
    finally:
        hook.remove()
    (grad,) = torch.autograd.grad(scores(out)[:, TARGETS.index(au12)].sum(), [captured["o"]])
    got = localisation_depth.layercam(captured["o"], grad, 32)
    np.testing.assert_allclose(got, expected, atol=1e-5)
