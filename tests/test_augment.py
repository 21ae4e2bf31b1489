"""Appearance augmentation (train.augment): equal to torchvision's colour ops image by image, a
random convolution that is a per-image convolution, shares that are honoured, geometry untouched."""

import pytest
import torch
import torch.nn.functional as F
import torchvision.transforms.functional as TF

from fatauva.template import MEAN, STD
from train.augment import Augment, colour_jitter, random_conv


def _images(n=6, size=24, seed=0):
    return torch.rand(n, 3, size, size, generator=torch.Generator().manual_seed(seed))


def test_colour_jitter_equals_torchvision_image_by_image():
    x = _images()
    g = torch.Generator().manual_seed(1)
    b, c, s, gm = (0.5 + torch.rand(4, len(x), generator=g)).unbind(0)
    to_grey = torch.tensor([False, True, False, False, True, False])
    out = colour_jitter(x, b, c, s, gm, to_grey)
    for i in range(len(x)):
        ref = TF.adjust_brightness(x[i], float(b[i]))
        ref = TF.adjust_contrast(ref, float(c[i]))
        ref = TF.adjust_saturation(ref, float(s[i]))
        ref = TF.adjust_gamma(ref, float(gm[i]))
        if to_grey[i]:
            ref = TF.rgb_to_grayscale(ref, num_output_channels=3)
        torch.testing.assert_close(out[i], ref, atol=1e-5, rtol=0)


def test_neutral_factors_leave_the_images_alone():
    x = _images()
    one = torch.ones(len(x))
    torch.testing.assert_close(colour_jitter(x, one, one, one, one, one < 0), x, atol=1e-6, rtol=0)


def test_random_conv_filters_each_image_with_its_own_kernel_then_restores_its_statistics():
    x = _images(n=3, size=16)
    w = torch.randn(3, 3, 3, 5, 5, generator=torch.Generator().manual_seed(2))
    out = random_conv(x, w, torch.zeros(3))
    for i in range(3):
        y = F.conv2d(F.pad(x[i : i + 1], [2] * 4, mode="reflect"), w[i])[0]
        mu, sd = x[i].mean((1, 2), keepdim=True), x[i].std((1, 2), keepdim=True)
        y = ((y - y.mean((1, 2), keepdim=True)) / (y.std((1, 2), keepdim=True) + 1e-6) * sd + mu).clamp(0, 1)
        torch.testing.assert_close(out[i], y, atol=1e-5, rtol=0)
    torch.testing.assert_close(random_conv(x, w, torch.ones(3)), x)  # alpha 1 = the image itself


def test_an_identity_kernel_changes_nothing():
    x = _images(n=2, size=16)
    eye = torch.eye(3).view(1, 3, 3, 1, 1).expand(2, 3, 3, 1, 1)
    torch.testing.assert_close(random_conv(x, eye, torch.rand(2)), x, atol=1e-5, rtol=0)


def _normalised(x):
    return (x - torch.tensor(MEAN).view(1, 3, 1, 1)) / torch.tensor(STD).view(1, 3, 1, 1)


def test_off_by_default_and_the_same_tensor_back():
    x = _normalised(_images())
    assert not Augment().enabled
    assert Augment()(x) is x


@pytest.mark.parametrize("kind", ["colour", "randconv"])
def test_each_share_is_the_share_of_images_changed(kind):
    x = _normalised(_images(n=400, size=12))
    torch.manual_seed(3)
    out = Augment(**{kind: 0.3})(x)
    assert out.shape == x.shape and out.dtype == x.dtype
    changed = (out - x).abs().flatten(1).amax(1) > 1e-4
    assert 0.22 < changed.float().mean() < 0.38


def test_the_same_seed_draws_the_same_batch():
    x = _normalised(_images(n=8, size=32))
    aug = Augment(colour=1.0, randconv=1.0)
    torch.manual_seed(4)
    a = aug(x)
    torch.manual_seed(4)
    torch.testing.assert_close(aug(x), a, rtol=0, atol=0)


def test_colour_jitter_works_pixel_by_pixel_so_it_commutes_with_moving_pixels():
    x = _normalised(_images(n=8, size=32))
    torch.manual_seed(5)
    a = Augment(colour=1.0)(x).flip(3)
    torch.manual_seed(5)
    torch.testing.assert_close(Augment(colour=1.0)(x.flip(3)), a, atol=1e-5, rtol=0)


def test_shares_outside_zero_to_one_are_refused():
    with pytest.raises(ValueError, match="randconv=1.5 must lie in"):
        Augment(randconv=1.5)
