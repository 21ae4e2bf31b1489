"""rPoly-2 / rPoly-3 (§4.1.2, Fig. 7): one shared F, summed powers, grouping exact, BN folding exact."""

import pytest
import torch
from torch import nn

from fatauva.blocks import Pointwise, RPoly, conv_bn_relu, fold_batchnorm


def randomise_bn(module: nn.Module) -> None:
    torch.manual_seed(1)
    for m in module.modules():
        if isinstance(m, nn.BatchNorm2d):
            m.running_mean.uniform_(-0.3, 0.3)
            m.running_var.uniform_(0.5, 2.0)
            m.weight.data.uniform_(0.5, 1.5)
            m.bias.data.uniform_(-0.3, 0.3)


@pytest.mark.parametrize("order", [2, 3])
def test_rpoly_is_relu_of_x_plus_the_powers_of_one_shared_f(order):
    torch.manual_seed(0)
    block = RPoly(8, order).eval()
    randomise_bn(block)
    x = torch.randn(2, 8, 6, 6)
    with torch.no_grad():
        f1 = block.f(x, 0)
        f2 = block.f(f1, 1)
        expected = x + f1 + f2 + (block.f(f2, 2) if order == 3 else 0)
        torch.testing.assert_close(block(x), torch.relu(expected))


def test_rpoly3_shares_the_convolutions_of_f_and_normalises_each_power_apart():
    rpoly3, rpoly2 = RPoly(16, 3), RPoly(16, 2)
    conv_params = [
        sum(m.weight.numel() for m in b.modules() if isinstance(m, nn.Conv2d)) for b in (rpoly3, rpoly2)
    ]
    assert conv_params[0] == conv_params[1]
    assert len(rpoly3.f.norms) == 3 and len(rpoly2.f.norms) == 2


def test_eval_mode_normalises_each_power_with_the_statistics_of_its_own_input():
    # With momentum 1 the running statistics become the last batch's: eval mode must then
    # reproduce train mode on that batch. One BN shared by the powers keeps only the last
    # power's statistics and fails this.
    torch.manual_seed(0)
    block = RPoly(8, 3)
    for m in block.modules():
        if isinstance(m, nn.BatchNorm2d):
            m.momentum = 1.0
    x = torch.randn(32, 8, 6, 6) * 3 + 1
    with torch.no_grad():
        trained = block.train()(x)
        evaluated = block.eval()(x)
    torch.testing.assert_close(evaluated, trained, atol=2e-2, rtol=2e-2)


def test_f_is_1x1_reduce_then_3x3_then_bn():
    f = RPoly(16, 2, reduction=4).f
    convs = [m for m in f.modules() if isinstance(m, nn.Conv2d)]
    shapes = [(c.in_channels, c.out_channels, c.kernel_size) for c in convs]
    assert shapes == [(16, 4, (1, 1)), (4, 16, (3, 3))]
    assert all(isinstance(n.expand, nn.BatchNorm2d) and n.expand.num_features == 16 for n in f.norms)


def test_grouped_rpoly_equals_independent_blocks_with_the_sliced_weights():
    torch.manual_seed(0)
    grouped = RPoly(12, 3, groups=3).eval()
    randomise_bn(grouped)
    x = torch.randn(2, 12, 5, 5)
    with torch.no_grad():
        out = grouped(x)
        for g in range(3):
            single = RPoly(4, 3).eval()
            for name, tensor in single.state_dict().items():
                source = grouped.state_dict()[name]
                if source.ndim == 0:  # num_batches_tracked
                    continue
                per_branch = source.shape[0] // 3
                tensor.copy_(source[g * per_branch : (g + 1) * per_branch])
            torch.testing.assert_close(out[:, 4 * g : 4 * (g + 1)], single(x[:, 4 * g : 4 * (g + 1)]))


def test_rpoly_rejects_widths_that_do_not_split_into_the_branches():
    with pytest.raises(ValueError, match="does not split"):
        RPoly(10, 2, groups=4)
    with pytest.raises(ValueError, match="order"):
        RPoly(8, 4)


def test_fold_batchnorm_keeps_the_eval_output_and_removes_every_bn():
    torch.manual_seed(0)
    net = nn.Sequential(conv_bn_relu(3, 8, 3, stride=2), RPoly(8, 2), RPoly(8, 3, groups=2)).eval()
    randomise_bn(net)
    x = torch.randn(2, 3, 16, 16)
    with torch.no_grad():
        expected = net(x)
        fold_batchnorm(net)
        got = net(x)
    assert not any(isinstance(m, nn.BatchNorm2d) for m in net.modules())
    torch.testing.assert_close(got, expected, atol=1e-5, rtol=1e-5)


@pytest.mark.parametrize("groups", [1, 3])
@pytest.mark.parametrize("channels_last", [False, True])
def test_pointwise_matmul_equals_the_1x1_convolution(groups, channels_last):
    torch.manual_seed(0)
    conv = nn.Conv2d(12, 6, 1, groups=groups)
    x = torch.randn(2, 12, 5, 7)
    if channels_last:
        x = x.contiguous(memory_format=torch.channels_last)
    with torch.no_grad():
        torch.testing.assert_close(Pointwise(conv)(x), conv(x))
