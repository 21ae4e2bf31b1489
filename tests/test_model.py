"""FatauvaNet: shapes, names, fusion, Hub roundtrip, ablation wiring."""

import pytest
import torch

from fatauva import topology
from fatauva.model import CON_NAMES, FatauvaConfig, FatauvaNet, FatauvaOutput


@pytest.fixture(scope="module")
def batch() -> torch.Tensor:
    return torch.randn(2, 3, 112, 112, generator=torch.Generator().manual_seed(0))


def narrow(**overrides) -> FatauvaConfig:
    """The paper's block counts at small widths: behaviour tests need the wiring, not the capacity."""
    widths = dict(stem_width=16, core_widths=(16, 32, 32), part_width=16, au_width=8, va_width=16)
    return FatauvaConfig(**{**widths, "fc_hidden": (16, 8), **overrides})


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
        ["core.fine", "core"]
        + [f"part.{p}" for p in topology.PARTS]
        + [f"au.{b}" for b in topology.AU_BRANCH_NAMES]
        + ["con_val", "con_aro"]
        + [f"va.{t}" for t in topology.VA_TARGETS]
    )
    assert list(out.features) == names
    assert list(model.feature_modules()) == names
    c = model.config
    assert out.features["part.mouth"].shape[1] == c.part_width
    assert out.features["au.Lip_c"].shape[1] == c.au_width
    assert out.features["va.arousal"].shape[1] == c.va_width
    # the fine core tap is the last map before the last downsampling: twice the core's side
    assert out.features["core.fine"].shape[-1] == 2 * out.features["core"].shape[-1]
    last_down = max(g for g, s in enumerate(c.core_strides) if s > 1)
    assert out.features["core.fine"].shape[1] == c.core_widths[last_down - 1]


def test_feature_modules_output_the_branch_maps(batch):
    model = FatauvaNet(narrow()).eval()
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
    model = trained_looking(narrow(va_head="cls"))
    fused = model.fused()
    assert not any(isinstance(m, torch.nn.BatchNorm2d) for m in fused.modules())
    with torch.no_grad():
        ref, got = model(batch), fused(batch)
    for name in ("attribute_logits", "au_logits", "va_logits", "va_embedding"):
        torch.testing.assert_close(getattr(got, name), getattr(ref, name), atol=1e-4, rtol=1e-4)
    for name in ref.features:
        torch.testing.assert_close(got.features[name], ref.features[name], atol=1e-4, rtol=1e-4)


def test_hub_mixin_roundtrip_is_bit_identical(batch, tmp_path):
    config = narrow(va_head="cls", use_au_layer=False, core_blocks=(3, 3, 2), fc_hidden=(24, 12))
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


def cell_averages(branch: torch.Tensor, grid: int) -> torch.Tensor:
    """(N, C, H, W) -> (N, C * grid * grid): channel c's grid x grid cell means, row-major, per c."""
    n, c, h, w = branch.shape
    rows = [(i * h // grid, -(-(i + 1) * h // grid)) for i in range(grid)]  # adaptive pooling's cells
    cols = [(j * w // grid, -(-(j + 1) * w // grid)) for j in range(grid)]
    cells = [branch[:, :, r0:r1, c0:c1].mean(dim=(2, 3)) for r0, r1 in rows for c0, c1 in cols]
    return torch.stack(cells, dim=2).reshape(n, c * grid * grid)


@pytest.mark.parametrize("grid", [1, 3])
def test_every_au_head_reads_the_cell_averages_of_its_own_branch(batch, grid):
    """head_grid k: every FC head reads its branch map averaged over k x k cells (k = 1: the
    global average pool), flattened channel by channel."""
    model = trained_looking(narrow(head_grid=grid))
    assert model.au_heads.weights[0].shape[1] == model.config.au_width * grid * grid
    with torch.no_grad():
        out = model(batch)
        for g, name in enumerate(topology.AUS):
            h = cell_averages(out.features[f"au.{topology.AU_BRANCH[name]}"], grid)
            for w, b in zip(model.au_heads.weights[:-1], model.au_heads.biases[:-1], strict=True):
                h = torch.relu(h @ w[g] + b[g])
            logits = h @ model.au_heads.weights[-1][g] + model.au_heads.biases[-1][g]
            torch.testing.assert_close(out.au_logits[:, g], logits, atol=1e-5, rtol=1e-5)


def test_the_default_head_grid_is_the_global_average_every_older_checkpoint_has():
    assert FatauvaConfig().head_grid == 1


def test_config_rejects_a_head_grid_below_one():
    with pytest.raises(ValueError, match="head_grid"):
        FatauvaConfig(head_grid=0)


def test_config_rejects_an_unknown_va_head():
    with pytest.raises(ValueError, match="va_head"):
        FatauvaConfig(va_head="ordinal")


def test_forward_rejects_a_non_rgb_batch():
    with pytest.raises(ValueError, match=r"\(N, 3, S, S\)"):
        FatauvaNet()(torch.zeros(1, 1, 112, 112))


def weighted_sum_of_all_heads(out: FatauvaOutput) -> torch.Tensor:
    """A scalar reading every output of every head with non-uniform weights."""
    g = torch.Generator().manual_seed(1)
    tensors = (out.attribute_logits, out.au_logits, out.va_logits, out.va_embedding)
    return sum((t * torch.randn(t.shape, generator=g)).sum() for t in tensors)


@pytest.mark.parametrize(
    "config",
    [narrow(va_head="reg"), narrow(va_head="cls"), narrow(use_au_layer=False)],
    ids=["reg", "cls", "fatva"],
)
def test_every_parameter_receives_a_gradient_through_the_heads(batch, config):
    model = FatauvaNet(config).train()
    weighted_sum_of_all_heads(model(batch)).backward()
    starved = [n for n, p in model.named_parameters() if p.grad is None or not bool(p.grad.abs().sum() > 0)]
    assert starved == []


@pytest.mark.parametrize("grid", [1, 3])
def test_a_head_sends_gradient_only_to_the_branches_on_its_path(batch, grid):
    model = FatauvaNet(narrow(head_grid=grid)).eval()
    out = model(batch)
    for tensor in out.features.values():
        tensor.retain_grad()
    smiling = topology.ATTRIBUTES.index("Smiling")
    out.attribute_logits[:, smiling, 1].sum().backward(retain_graph=True)
    reached = {n for n, t in out.features.items() if t.grad is not None and bool(t.grad.abs().sum() > 0)}
    assert reached == {"core.fine", "core", "part.mouth"}


def test_valence_reads_exactly_the_con_val_branches(batch):
    model = FatauvaNet(narrow()).eval()
    out = model(batch)
    for tensor in out.features.values():
        tensor.retain_grad()
    out.va_logits[:, 0].sum().backward()
    reached = {n for n, t in out.features.items() if t.grad is not None and bool(t.grad.abs().sum() > 0)}
    au_reached = {n.removeprefix("au.") for n in reached if n.startswith("au.")}
    assert au_reached == set(topology.CON_VAL)
    assert "va.arousal" not in reached and "va.valence" in reached


def sliced_conv_bn(unit, x: torch.Tensor, branch: int, branches: int) -> torch.Tensor:
    """Branch `branch` of a (Conv2d, BN(eval)) pair shared by `branches` branches, computed alone from
    its block of output rows (a grouped conv's group, or a dense conv's row block)."""
    conv, bn = unit[0], unit[1]
    n = conv.out_channels // branches
    rows = slice(branch * n, (branch + 1) * n)
    y = torch.nn.functional.conv2d(x, conv.weight[rows], stride=conv.stride, padding=conv.padding)
    return torch.nn.functional.batch_norm(
        y, bn.running_mean[rows], bn.running_var[rows], bn.weight[rows], bn.bias[rows], eps=bn.eps
    )


def naive_branch(layer: torch.nn.Sequential, x: torch.Tensor, branch: int, branches: int) -> torch.Tensor:
    """One branch of a grouped layer (entry conv, then rPoly blocks), written per the paper."""
    y = torch.relu(sliced_conv_bn(layer[0], x, branch, branches))
    for block in layer[1]:
        term, total = y, y
        for norms in block.f.norms:
            reduced = torch.relu(sliced_conv_bn((block.f.reduce, norms.reduce), term, branch, branches))
            term = sliced_conv_bn((block.f.expand, norms.expand), reduced, branch, branches)
            total = total + term
        y = torch.relu(total)
    return y


@pytest.mark.parametrize("use_au_layer", [True, False], ids=["fatauva", "fatva"])
def test_grouped_branches_equal_a_naive_per_branch_computation(batch, use_au_layer):
    model = trained_looking(narrow(use_au_layer=use_au_layer))
    part_of = {b.name: b.part for b in topology.AU_BRANCHES}
    close = {"atol": 1e-4, "rtol": 1e-4}
    with torch.no_grad():
        f = model(batch).features
        for i, part in enumerate(topology.PARTS):
            # every part branch reads the whole core map (§3.1)
            expected = naive_branch(model.part_branches, f["core"], i, len(topology.PARTS))
            torch.testing.assert_close(f[f"part.{part}"], expected, **close)
        for i, branch in enumerate(topology.AU_BRANCHES):
            # an AU branch reads only its own part's map (§3.2, Table 3)
            expected = naive_branch(model.au_branches, f[f"part.{branch.part}"], i, len(topology.AU_BRANCHES))
            torch.testing.assert_close(f[f"au.{branch.name}"], expected, **close)
        for i, (target, branches) in enumerate(topology.VA_INPUTS.items()):
            # Con_Val / Con_Aro (§3.3); without the AU layer, the distinct parts of those branches
            sources = [f"au.{b}" for b in branches]
            if not use_au_layer:
                sources = [f"part.{p}" for p in dict.fromkeys(part_of[b] for b in branches)]
            con = torch.cat([f[s] for s in sources], dim=1)
            expected = naive_branch(model.va_branches, con, i, len(topology.VA_TARGETS))
            torch.testing.assert_close(f[f"va.{target}"], expected, **close)


STAGE_MODULES = {
    1: ("core.", "part_branches.", "attribute_heads."),
    2: ("au_branches.", "au_heads."),
    3: ("va_branches.", "va_heads."),
}


@pytest.mark.parametrize("stage", [1, 2, 3])
def test_set_stage_leaves_exactly_that_stage_trainable(stage):
    model = FatauvaNet()
    model.set_stage(stage)
    trainable = {n for n, p in model.named_parameters() if p.requires_grad}
    expected = {n for n, _ in model.named_parameters() if n.startswith(STAGE_MODULES[stage])}
    assert trainable == expected and expected
    assert {id(p) for p in model.stage_parameters(stage)} == {
        id(p) for n, p in model.named_parameters() if n in expected
    }


def test_set_stage_can_train_a_later_stage_along(batch):
    model = FatauvaNet(narrow())
    model.set_stage(1, 2)
    trainable = {n for n, p in model.named_parameters() if p.requires_grad}
    expected = {n for n, _ in model.named_parameters() if n.startswith(STAGE_MODULES[1] + STAGE_MODULES[2])}
    assert trainable == expected
    model.train()
    modes = {n: m.training for n, m in model.named_modules() if isinstance(m, torch.nn.BatchNorm2d)}
    assert all(modes[n] for n in modes if n.startswith(STAGE_MODULES[1] + STAGE_MODULES[2]))
    assert not any(modes[n] for n in modes if n.startswith(STAGE_MODULES[3]))


def test_attribute_and_au_logits_equal_the_full_forward(batch):
    model = trained_looking(narrow(head_grid=2))
    with torch.no_grad():
        out, (attrs, aus) = model(batch), model.attribute_and_au_logits(batch)
    torch.testing.assert_close(attrs, out.attribute_logits, rtol=0, atol=0)
    torch.testing.assert_close(aus, out.au_logits, rtol=0, atol=0)


def bn_statistics(model: FatauvaNet) -> dict[str, torch.Tensor]:
    return {n: t.clone() for n, t in model.state_dict().items() if "running_" in n}


@pytest.mark.parametrize("stage", [2, 3])
def test_a_training_step_moves_only_the_trained_stage(batch, stage):
    model = trained_looking(narrow())
    model.set_stage(stage)
    model.train()
    before_stats, before_params = bn_statistics(model), {n: p.clone() for n, p in model.named_parameters()}
    optimiser = torch.optim.SGD(model.stage_parameters(stage), lr=0.1)
    weighted_sum_of_all_heads(model(batch)).backward()
    optimiser.step()
    after_stats = bn_statistics(model)
    prefixes = STAGE_MODULES[stage]
    moved = {n for n in before_stats if not torch.equal(before_stats[n], after_stats[n])}
    assert moved == {n for n in before_stats if n.startswith(prefixes)}
    changed = {n for n, p in model.named_parameters() if not torch.equal(before_params[n], p)}
    assert changed and all(n.startswith(prefixes) for n in changed)


def test_set_stage_rejects_an_unknown_stage():
    with pytest.raises(ValueError, match="stage must be 1, 2 or 3"):
        FatauvaNet().set_stage(4)


def test_grad_cam_on_a_branch_tap_sees_only_the_heads_on_that_branch():
    grad_cam = pytest.importorskip("pytorch_grad_cam")
    from pytorch_grad_cam.utils.model_targets import ClassifierOutputTarget

    model = FatauvaNet(narrow()).eval()
    au12 = topology.AUS.index(12)  # lip corner puller, on the Lip_c branch (Table 3)

    class AU12(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.net = model

        def forward(self, x):
            return self.net(x).au_logits[:, au12]

    x = torch.randn(1, 3, 112, 112, generator=torch.Generator().manual_seed(2))
    maps = {}
    for branch in ("Lip_c", "AU1"):
        with grad_cam.GradCAM(model=AU12(), target_layers=[model.feature_modules()[f"au.{branch}"]]) as cam:
            maps[branch] = cam(input_tensor=x, targets=[ClassifierOutputTarget(1)])
    assert maps["Lip_c"].shape == (1, 112, 112) and maps["Lip_c"].max() > 0.99
    assert maps["AU1"].max() == 0.0


@pytest.mark.parametrize("va_head", ["reg", "cls"])
def test_stage_logits_equal_the_full_forward_for_every_stage(batch, va_head):
    model = trained_looking(narrow(va_head=va_head, head_grid=2))
    with torch.no_grad():
        out = model(batch)
        (attrs, none1), (aus, none2), (va, embedding) = (model.stage_logits(batch, s) for s in (1, 2, 3))
    assert none1 is None and none2 is None
    torch.testing.assert_close(attrs, out.attribute_logits, rtol=0, atol=0)
    torch.testing.assert_close(aus, out.au_logits, rtol=0, atol=0)
    torch.testing.assert_close(va, out.va_logits, rtol=0, atol=0)
    torch.testing.assert_close(embedding, out.va_embedding, rtol=0, atol=0)


def test_part_maps_are_the_core_and_part_features_of_the_full_forward(batch):
    model = trained_looking(narrow(head_grid=2))
    with torch.no_grad():
        full, maps = model(batch).features, model.part_maps(batch)
    assert list(maps) == ["core.fine", "core"] + [f"part.{p}" for p in topology.PARTS]
    for name, value in maps.items():
        torch.testing.assert_close(value, full[name], rtol=0, atol=0)


def test_stage_one_logits_never_run_the_au_or_va_layers(batch):
    model = FatauvaNet(narrow()).eval()
    ran = []
    for name in ("au_branches", "va_branches", "part_branches"):
        getattr(model, name).register_forward_hook(lambda *_, n=name: ran.append(n))
    model.stage_logits(batch, 1)
    assert ran == ["part_branches"]


def test_stage_logits_reject_an_unknown_stage(batch):
    with pytest.raises(ValueError, match="stage must be 1, 2 or 3"):
        FatauvaNet(narrow()).stage_logits(batch, 0)


def test_con_val_and_con_aro_taps_carry_the_concatenated_branch_maps(batch):
    model = FatauvaNet(narrow()).eval()
    with torch.no_grad():
        f = model(batch).features
    for name, branches in (("con_val", topology.CON_VAL), ("con_aro", topology.CON_ARO)):
        torch.testing.assert_close(
            f[name], torch.cat([f[f"au.{b}"] for b in branches], dim=1), rtol=0, atol=0
        )


def test_va_branches_may_read_different_numbers_of_au_branches(batch, monkeypatch):
    """Con_Val of 5 branches beside a Con_Aro of 3: the V-A layer stays one grouped conv sized for
    the longer input, and each V-A branch equals the naive branch on its own input, zero-padded."""
    monkeypatch.setattr(
        topology, "VA_INPUTS", {"valence": topology.CON_VAL, "arousal": ("AU45", "AU1", "AU2")}
    )
    model = trained_looking(narrow())
    width = model.config.au_width
    assert model.va_branches[0][0].in_channels == 2 * 5 * width
    with torch.no_grad():
        f = model(batch).features
    assert f["con_val"].shape[1] == 5 * width and f["con_aro"].shape[1] == 3 * width
    for i, (target, con) in enumerate(zip(topology.VA_TARGETS, CON_NAMES, strict=True)):
        padded = torch.nn.functional.pad(f[con], (0, 0, 0, 0, 0, 5 * width - f[con].shape[1]))
        with torch.no_grad():
            expected = naive_branch(model.va_branches, padded, i, 2)
        torch.testing.assert_close(f[f"va.{target}"], expected, atol=1e-4, rtol=1e-4)
