"""Convolutional blocks of the mrPoly-Net (paper §4.1.2, Fig. 7).

The paper calls its blocks rPoly-2 and rPoly-3, "reduced" versions of PolyNet's Poly-2 and
Poly-3 (Zhang et al. 2016, ref. [42]). PolyNet's Poly-k block computes
`(I + F + F^2 [+ F^3]) x`: ONE residual function F (an Inception unit) applied repeatedly,
its weights shared between the powers, the terms summed and followed by a ReLU. Our reading
of Fig. 7 (the figure's pixels are not in the text we have; DESIGN.md fixes the reading):

    rPoly-2:  y = ReLU(x + F(x) + F(F(x)))
    rPoly-3:  y = ReLU(x + F(x) + F(F(x)) + F(F(F(x))))

where the "reduction" replaces PolyNet's Inception unit by a small bottleneck,
F = 1x1 conv (C -> C/r) -> BN -> ReLU -> 3x3 conv (C/r -> C) -> BN, the two convolutions
shared by the powers and each power normalised by BNs of its own (see `ResidualF`). Like PolyNet's
residual units, F ends in BN without a ReLU, so each power of F can be negative and the sum,
not each term, is rectified. PolyNet's residual scaling (x0.3, for stability at hundreds of
layers) is left out: no path through this network has more than 14 blocks. Convolutions
carry no bias (BN follows every one of them).

Every block takes a `groups` argument: the model runs sibling branches that share shapes
(the 4 part branches, the 9 AU branches, the 2 V-A branches) as one grouped convolution,
branch i owning channel slice i. Grouping is exact: no weight couples two branches, and BN
is per channel.
"""

import copy

import torch
from torch import Tensor, nn
from torch.nn.utils.fusion import fuse_conv_bn_eval


def conv_bn(c_in: int, c_out: int, kernel: int, stride: int = 1, groups: int = 1) -> nn.Sequential:
    """Conv (no bias) followed by BN: the unit `FatauvaNet.fused` folds into one conv."""
    return nn.Sequential(
        nn.Conv2d(c_in, c_out, kernel, stride=stride, padding=kernel // 2, groups=groups, bias=False),
        nn.BatchNorm2d(c_out),
    )


def conv_bn_relu(c_in: int, c_out: int, kernel: int, stride: int = 1, groups: int = 1) -> nn.Sequential:
    """Conv + BN + ReLU: the stem and the down-sampling convolutions between groups of blocks."""
    return nn.Sequential(*conv_bn(c_in, c_out, kernel, stride, groups), nn.ReLU(inplace=True))


class ResidualF(nn.Module):
    """The shared residual function F of an rPoly block: 1x1 reduce -> BN -> ReLU -> 3x3 -> BN.

    The two convolutions are shared by every power of F (PolyNet's weight sharing); each
    power k has its own pair of BatchNorms (`norms[k]`). One BN shared by the powers would
    keep running statistics that mix x, F(x) and F(F(x)), so in eval mode every power would be
    normalised with the wrong mean and variance: measured on SynthFACS after 600 stage-1
    steps, per-power BNs raised the eval-mode mean attribute AUC from 0.637 to 0.682 (the
    shared-BN model scored 0.680 only when normalised with batch statistics).

    forward(x, power): (N, C, H, W) -> (N, C, H, W); with `groups` = g, C and the reduced
    width are split into g independent branches.
    """

    def __init__(self, channels: int, reduction: int, groups: int = 1, powers: int = 1):
        super().__init__()
        mid = channels // reduction
        if channels % groups or mid % groups or mid == 0:
            raise ValueError(f"rPoly width {channels} / {reduction} does not split into {groups} branches")
        self.reduce = nn.Conv2d(channels, mid, 1, groups=groups, bias=False)
        self.expand = nn.Conv2d(mid, channels, 3, padding=1, groups=groups, bias=False)
        self.norms = nn.ModuleList(PowerNorms(mid, channels) for _ in range(powers))

    def forward(self, x: Tensor, power: int = 0) -> Tensor:
        norms = self.norms[power]
        return norms.expand(self.expand(torch.relu_(norms.reduce(self.reduce(x)))))

    def folded(self) -> "FoldedF":
        """For inference: one BN-folded copy of the convolutions per power (eval statistics)."""
        return FoldedF(self)


class PowerNorms(nn.Module):
    """The two BatchNorms of one power of F: after the 1x1 reduction and after the 3x3."""

    def __init__(self, mid: int, channels: int):
        super().__init__()
        self.reduce = nn.BatchNorm2d(mid)
        self.expand = nn.BatchNorm2d(channels)


class FoldedF(nn.Module):
    """`ResidualF` with each power's BNs folded into its own copy of the two convolutions."""

    def __init__(self, f: ResidualF):
        super().__init__()
        self.powers = nn.ModuleList()
        for norms in f.norms:
            reduce = fuse_conv_bn_eval(copy.deepcopy(f.reduce).eval(), norms.reduce.eval())
            expand = fuse_conv_bn_eval(copy.deepcopy(f.expand).eval(), norms.expand.eval())
            self.powers.append(nn.ModuleList([Pointwise(reduce), expand]))

    def forward(self, x: Tensor, power: int = 0) -> Tensor:
        reduce, expand = self.powers[power]
        return expand(torch.relu_(reduce(x)))


class RPoly(nn.Module):
    """rPoly-k block (§4.1.2, Fig. 7): y = ReLU(x + F(x) + ... + F^k(x)), k = `order` (2 or 3).

    One F, applied `order` times: rPoly-3 has the convolutions of rPoly-2 and one more
    power's pair of BatchNorms.
    (N, C, H, W) -> (N, C, H, W).
    """

    def __init__(self, channels: int, order: int, reduction: int = 2, groups: int = 1):
        super().__init__()
        if order not in (2, 3):
            raise ValueError(f"rPoly order must be 2 or 3, got {order}")
        self.order = order
        self.f = ResidualF(channels, reduction, groups, powers=order)

    def forward(self, x: Tensor) -> Tensor:
        term = self.f(x, 0)
        total = x + term
        for power in range(1, self.order):
            term = self.f(term, power)
            total += term  # in place is safe: addition's backward needs neither operand
        return torch.relu_(total)


def rpoly_stack(channels: int, order: int, blocks: int, reduction: int, groups: int = 1) -> nn.Sequential:
    """`blocks` rPoly-`order` blocks in a row at constant width."""
    return nn.Sequential(*(RPoly(channels, order, reduction, groups) for _ in range(blocks)))


class Pointwise(nn.Module):
    """A 1x1 convolution (stride 1, with bias, any groups) computed as a matmul over pixels.

    Same result as the Conv2d it replaces; used by `FatauvaNet.fused` because, for the small
    maps of this network, one (batched) matmul costs about half the per-call overhead of a
    oneDNN 1x1 convolution. (N, C, H, W) -> (N, O, H, W), channels_last strides.
    """

    def __init__(self, conv: nn.Conv2d):
        super().__init__()
        g, (o, c) = conv.groups, conv.weight.shape[:2]
        self.groups = g
        # (G, c, o/G): group g's weight, transposed for x @ w
        self.weight = nn.Parameter(conv.weight.detach().reshape(g, o // g, c).transpose(1, 2).contiguous())
        bias = conv.bias.detach() if conv.bias is not None else torch.zeros(o)
        self.bias = nn.Parameter(bias.reshape(g, 1, o // g).clone())

    @classmethod
    def can_replace(cls, conv: nn.Conv2d) -> bool:
        return conv.kernel_size == (1, 1) and conv.stride == (1, 1) and conv.padding == (0, 0)

    def forward(self, x: Tensor) -> Tensor:
        n, c, h, w = x.shape
        pixels = x.permute(0, 2, 3, 1)  # a free view when x is channels_last
        if self.groups == 1:
            y = torch.nn.functional.linear(pixels, self.weight[0].T, self.bias[0, 0])
        else:
            grouped = pixels.reshape(n * h * w, self.groups, c // self.groups).transpose(0, 1)
            y = torch.baddbmm(self.bias, grouped, self.weight).transpose(0, 1).reshape(n, h, w, -1)
        return y.permute(0, 3, 1, 2)


def fold_batchnorm(module: nn.Module) -> None:
    """In place, for inference: every Conv2d directly followed by a BatchNorm2d inside an
    nn.Sequential absorbs the BN (running statistics and affine); the BN is removed, and a
    1x1 convolution becomes a `Pointwise` matmul; every rPoly's F becomes a `FoldedF`.
    Parameter names change: not for saving."""
    for block in list(module.modules()):
        if isinstance(block, RPoly) and isinstance(block.f, ResidualF):
            block.f = block.f.folded()
    for seq in list(module.modules()):
        if not isinstance(seq, nn.Sequential):
            continue
        for i in reversed(range(len(seq) - 1)):
            conv, bn = seq[i], seq[i + 1]
            if isinstance(conv, nn.Conv2d) and isinstance(bn, nn.BatchNorm2d):
                conv = fuse_conv_bn_eval(conv.eval(), bn.eval())
                seq[i] = Pointwise(conv) if Pointwise.can_replace(conv) else conv
                del seq[i + 1]
