"""Training-time image augmentation for faces that are drawn, not photographed.

SynthFACS faces share one renderer's colours and textures; a network trained on them alone can
lean on those and not on shape. Two batch transforms, both label-preserving for every SynthFACS
label (attributes, AUs, V-A), change appearance and leave geometry alone:

- `colour_jitter`: per-image brightness, contrast, saturation and gamma, and a share of grey
  images; each step equals torchvision's `adjust_*` on that image (tests/test_augment.py).
- `random_conv`: a random-convolution texture change (RandConv; Xu et al., "Robust and
  Generalizable Visual Representation Learning via Random Convolutions", ICLR 2021): a fresh random
  k x k filter per image (k drawn from 1, 3, 5, 7 for the batch), its output matched to the image's
  own per-channel mean and spread, blended with the image by a random weight.

`Augment` applies them to a batch in the network's input space (`fatauva.template.to_tensor`)
with torch's RNG, which the trainer seeds and checkpoints, so a resumed run draws the same images.
"""

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import Tensor

from fatauva.template import MEAN, STD

GREY = (0.2989, 0.587, 0.114)  # ITU-R 601 luma, as torchvision's rgb_to_grayscale
KERNELS = (1, 3, 5, 7)


def _per_image(v: Tensor) -> Tensor:
    return v.view(-1, 1, 1, 1)


def grey(x: Tensor) -> Tensor:
    """(N, 3, H, W) RGB in [0, 1] -> (N, 1, H, W) luma."""
    w = torch.tensor(GREY, dtype=x.dtype, device=x.device).view(1, 3, 1, 1)
    return (x * w).sum(1, keepdim=True)


def colour_jitter(
    x: Tensor, brightness: Tensor, contrast: Tensor, saturation: Tensor, gamma: Tensor, to_grey: Tensor
) -> Tensor:
    """Images (N, 3, H, W) in [0, 1] with per-image factors (N,): brightness, then contrast, then
    saturation, then gamma (as torchvision.transforms.functional.adjust_*), then grey where
    `to_grey` is true. A factor of 1 (0 for `to_grey`) leaves that step out. In-place ops on a copy:
    this runs on every training batch."""
    x = x.mul(_per_image(brightness)).clamp_(0, 1)
    c = _per_image(contrast)
    mean = grey(x).mean(dim=(1, 2, 3), keepdim=True)
    x.mul_(c).add_((1 - c) * mean).clamp_(0, 1)
    s = _per_image(saturation)
    luma = grey(x)
    x.mul_(s).add_((1 - s) * luma).clamp_(0, 1)
    x.pow_(_per_image(gamma))  # [0, 1] stays in [0, 1]
    if to_grey.any():
        x[to_grey] = grey(x[to_grey]).expand(-1, 3, -1, -1)
    return x


def _mean_sd(x: Tensor) -> tuple[Tensor, Tensor]:
    """Per-image, per-channel mean and (population) standard deviation, (N, C, 1, 1) each; one pass,
    several times faster than Tensor.std on a CPU."""
    mu = x.mean(dim=(2, 3), keepdim=True)
    return mu, (x.square().mean(dim=(2, 3), keepdim=True) - mu.square()).clamp_min_(0).sqrt_()


def random_conv(x: Tensor, weight: Tensor, alpha: Tensor) -> Tensor:
    """Images (N, 3, H, W) in [0, 1], filters (N, 3, 3, k, k) one per image, blend weights (N,):
    each image filtered by its own filter (same padding, reflected at the border), the result given
    the image's per-channel mean and standard deviation, then alpha * image + (1 - alpha) * filtered."""
    n, c, h, w = x.shape
    k = weight.shape[-1]
    padded = (
        F.pad(x.reshape(1, n * c, h, w), [k // 2] * 4, mode="reflect") if k > 1 else x.reshape(1, n * c, h, w)
    )
    y = F.conv2d(padded, weight.reshape(n * c, c, k, k), groups=n).reshape(n, c, h, w)
    mu, sd = _mean_sd(x)
    y_mu, y_sd = _mean_sd(y)
    y = ((y - y_mu) * (sd / (y_sd + 1e-6)) + mu).clamp_(0, 1)
    a = _per_image(alpha)
    return a * x + (1 - a) * y


@dataclass(frozen=True)
class Augment:
    """Appearance augmentation of a training batch. `colour` and `randconv` are the share of images
    each transform touches (0 = off); the factor ranges are those of a camera, not of a renderer."""

    colour: float = 0.0
    randconv: float = 0.0
    brightness: float = 0.35  # factor in [1 - b, 1 + b]
    contrast: float = 0.35
    saturation: float = 0.5
    gamma: float = 0.3  # exponent in [1 - g, 1 + g]
    grey_share: float = 0.15  # of the colour-jittered images

    def __post_init__(self) -> None:
        for name in ("colour", "randconv", "grey_share"):
            if not 0.0 <= getattr(self, name) <= 1.0:
                raise ValueError(f"augment share {name}={getattr(self, name)} must lie in [0, 1]")

    @property
    def enabled(self) -> bool:
        return self.colour > 0 or self.randconv > 0

    def __call__(self, images: Tensor) -> Tensor:
        """A batch in the network's input space (normalised, as `to_tensor` makes it) -> the same
        batch with a share of its images changed in appearance, same shape and dtype."""
        if not self.enabled:
            return images
        n, dev = images.shape[0], images.device
        mean = torch.tensor(MEAN, device=dev).view(1, 3, 1, 1)
        std = torch.tensor(STD, device=dev).view(1, 3, 1, 1)
        x = (images.float() * std + mean).clamp(0, 1)

        def factor(spread: float) -> Tensor:
            return 1 + spread * (2 * torch.rand(n) - 1)  # uniform in [1 - spread, 1 + spread]

        def chosen(share: float) -> Tensor:
            return torch.rand(n) < share

        # Every draw covers the whole batch, so the random stream does not depend on which images are chosen.
        if self.randconv > 0:
            k = KERNELS[int(torch.randint(len(KERNELS), ()))]
            weight = torch.randn(n, 3, 3, k, k) / (3 * k * k) ** 0.5  # Kaiming-normal for a 3-channel input
            alpha, on = torch.rand(n), chosen(self.randconv).nonzero().flatten()
            if len(on):
                x[on.to(dev)] = random_conv(x[on.to(dev)], weight[on].to(dev), alpha[on].to(dev))
        if self.colour > 0:
            factors = [factor(v) for v in (self.brightness, self.contrast, self.saturation, self.gamma)]
            to_grey, on = chosen(self.grey_share), chosen(self.colour).nonzero().flatten()
            if len(on):
                i = on.to(dev)
                x[i] = colour_jitter(x[i], *(f[on].to(dev) for f in factors), to_grey[on].to(dev))
        return ((x - mean) / std).to(images.dtype)
