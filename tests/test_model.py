"""FatauvaNet as specified in notes/API.md: shapes, names, fusion, Hub roundtrip, ablation wiring."""

import pytest
import torch

from fatauva import topology
from fatauva.model import FatauvaConfig, FatauvaNet, FatauvaOutput


@pytest.fixture(scope="module")
def batch() -> torch.Tensor:
    return torch.randn(2, 3, 112, 112, generator=torch.Generator().manual_seed(0))


def trained_looking(config: FatauvaConfig | None = None) -> FatauvaNet:
    """A model whose BN statistics are not the identity, so that folding them is really tested."""
    torch.manual_seed(0)
    model = FatauvaNet(config)
    for m in model.modules():
        if isinstance(m, torch.nn.BatchNorm2d):
            m.running_mean.uniform_(-0.2, 0.2)
            m.running_var.uniform_(0.5, 2.0)
            m.weight.data.uniform_(0.5, 1.5)
            m.bias.data.uniform_(-0.2, 0.2)
    return model.eval()


@pytest.mark.parametrize("va_head, va_shape", [("reg", (2, 2)), ("cls", (2, 2, 11))])
def test_output_shapes_follow_the_topology(batch, va_head, va_shape):
    model = FatauvaNet(FatauvaConfig(va_head=va_head)).eval()
    with torch.no_grad():
        out = model(batch)
    assert isinstance(out, FatauvaOutput)
    assert out.attribute_logits.shape == (2, len(topology.ATTRIBUTES), 2)
    assert out.au_logits.shape == (2, len(topology.AUS), 2)
    assert out.va_logits.shape == va_shape
    assert out.va_embedding.shape == (2, 2, model.config.fc_hidden[1])
    assert out.attribute_probs().shape == (2, 10) and out.au_probs().shape == (2, 14)
    va = out.va()
    assert va.shape == (2, 2) and bool((va.abs() <= 1).all())


def test_features_are_named_like_feature_modules_and_sized_per_branch(batch):
    model = FatauvaNet().eval()
    with torch.no_grad():
        out = model(batch)
    names = (
        ["core"]
        + [f"part.{p}" for p in topology.PARTS]
        + [f"au.{b}" for b in topology.AU_BRANCH_NAMES]
        + [f"va.{t}" for t in topology.VA_TARGETS]
    )
    assert list(out.features) == names
    assert list(model.feature_modules()) == names
    c = model.config
    assert out.features["part.mouth"].shape[1] == c.part_width
    assert out.features["au.Lip_c"].shape[1] == c.au_width
    assert out.features["va.arousal"].shape[1] == c.va_width


def test_feature_modules_output_the_branch_maps(batch):
    model = FatauvaNet().eval()
    seen = {}
    hooks = [
        module.register_forward_hook(lambda _m, _i, o, name=name: seen.__setitem__(name, o))
        for name, module in model.feature_modules().items()
    ]
    with torch.no_grad():
        out = model(batch)
    for h in hooks:
        h.remove()
    assert set(seen) == set(out.features)
    for name, tensor in out.features.items():
        assert torch.equal(seen[name], tensor), name


def test_fused_model_gives_the_same_outputs(batch):
    model = trained_looking(FatauvaConfig(va_head="cls"))
    fused = model.fused()
    assert not any(isinstance(m, torch.nn.BatchNorm2d) for m in fused.modules())
    with torch.no_grad():
        ref, got = model(batch), fused(batch)
    for name in ("attribute_logits", "au_logits", "va_logits", "va_embedding"):
        torch.testing.assert_close(getattr(got, name), getattr(ref, name), atol=1e-4, rtol=1e-4)
    for name in ref.features:
        torch.testing.assert_close(got.features[name], ref.features[name], atol=1e-4, rtol=1e-4)


def test_hub_mixin_roundtrip_is_bit_identical(batch, tmp_path):
    config = FatauvaConfig(va_head="cls", use_au_layer=False, core_blocks=(3, 3, 2), fc_hidden=(96, 48))
    model = trained_looking(config)
    model.save_pretrained(tmp_path)
    loaded = FatauvaNet.from_pretrained(tmp_path)
    assert loaded.config == config
    assert isinstance(loaded.config.core_blocks, tuple)
    with torch.no_grad():
        ref, got = model(batch), loaded(batch)
    assert torch.equal(ref.va_logits, got.va_logits)
    assert torch.equal(ref.au_logits, got.au_logits)
    assert torch.equal(ref.attribute_logits, got.attribute_logits)


def test_default_model_also_writes_its_config(tmp_path):
    FatauvaNet().save_pretrained(tmp_path)
    assert FatauvaNet.from_pretrained(tmp_path).config == FatauvaConfig()


def test_config_rejects_an_unknown_va_head():
    with pytest.raises(ValueError, match="va_head"):
        FatauvaConfig(va_head="ordinal")


def test_forward_rejects_a_non_rgb_batch():
    with pytest.raises(ValueError, match=r"\(N, 3, S, S\)"):
        FatauvaNet()(torch.zeros(1, 1, 112, 112))
