"""The one image-loading boundary (demo.images.load_image): every kind of file a user may hand the
app or the command line, each built here in tmp_path."""

import io
import struct
import zlib

import numpy as np
import pytest
from PIL import Image

from demo.images import MAX_PIXELS, MIN_SIDE, ImageError, load_image


def save(tmp_path, image: Image.Image, name: str, **kwargs) -> str:
    path = tmp_path / name
    image.save(path, **kwargs)
    return str(path)


def gradient(width: int = 64, height: int = 48) -> np.ndarray:
    """uint8 RGB (H, W, 3) whose red grows along x and green along y, so orientation is checkable."""
    x = np.linspace(0, 255, width)[None, :].repeat(height, 0)
    y = np.linspace(0, 255, height)[:, None].repeat(width, 1)
    return np.stack([x, y, np.full_like(x, 60)], axis=2).astype(np.uint8)


def test_rgb_png_comes_back_unchanged(tmp_path):
    rgb = gradient()
    out = load_image(save(tmp_path, Image.fromarray(rgb), "a.png"))
    assert out.dtype == np.uint8 and out.shape == (48, 64, 3)
    np.testing.assert_array_equal(out, rgb)


def test_bytes_and_paths_read_alike(tmp_path):
    path = save(tmp_path, Image.fromarray(gradient()), "a.png")
    with open(path, "rb") as f:
        np.testing.assert_array_equal(load_image(f.read()), load_image(path))


def test_not_an_image_is_named_in_the_message(tmp_path):
    path = tmp_path / "notes.txt"
    path.write_text("this is not a photo")
    with pytest.raises(ImageError, match="notes.txt is not an image"):
        load_image(path)


def test_empty_file_says_it_is_empty(tmp_path):
    path = tmp_path / "empty.jpg"
    path.write_bytes(b"")
    with pytest.raises(ImageError, match="empty.jpg is empty"):
        load_image(path)


def test_truncated_jpeg_is_refused(tmp_path):
    buffer = io.BytesIO()
    Image.fromarray(gradient(200, 150)).save(buffer, "JPEG")
    path = tmp_path / "cut.jpg"
    path.write_bytes(buffer.getvalue()[: len(buffer.getvalue()) // 2])
    with pytest.raises(ImageError, match="cut.jpg could not be decoded: it is truncated or damaged"):
        load_image(path)


def test_fake_header_is_refused(tmp_path):
    path = tmp_path / "fake.png"
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4)
    with pytest.raises(ImageError, match="fake.png"):
        load_image(path)


def png_bomb(width: int, height: int) -> bytes:
    """A valid 1-bit grey PNG of width x height px that compresses to a few KB (zeros)."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    row = b"\x00" + bytes((width + 7) // 8)
    compressor = zlib.compressobj(9)
    body = b"".join(compressor.compress(row) for _ in range(height)) + compressor.flush()
    header = struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", body) + chunk(b"IEND", b"")


def test_decompression_bomb_is_refused_before_decoding(tmp_path):
    path = tmp_path / "bomb.png"
    side = int((MAX_PIXELS * 1.5) ** 0.5)  # between the limit and twice it: Pillow would only warn
    path.write_bytes(png_bomb(side, side))
    assert path.stat().st_size < 200_000
    with pytest.raises(ImageError, match="bomb.png is too large to decode safely"):
        load_image(path)


def test_huge_declared_size_is_refused(tmp_path):
    path = tmp_path / "huge.png"
    path.write_bytes(png_bomb(60_000, 60_000)[:2000])  # 3.6 gigapixels declared, data cut short
    with pytest.raises(ImageError, match="huge.png is too large"):
        load_image(path)


def test_tiny_image_says_how_small_is_too_small(tmp_path):
    path = save(tmp_path, Image.fromarray(gradient(8, 8)), "tiny.png")
    with pytest.raises(ImageError, match=rf"tiny.png is too small \(8x8 px\).*{MIN_SIDE} px"):
        load_image(path)


def test_grayscale_becomes_three_equal_channels(tmp_path):
    grey = gradient()[:, :, 0]
    out = load_image(save(tmp_path, Image.fromarray(grey, "L"), "grey.png"))
    assert out.shape == (48, 64, 3)
    for c in range(3):
        np.testing.assert_array_equal(out[:, :, c], grey)


def test_sixteen_bit_grey_is_scaled_not_clipped(tmp_path):
    values = (gradient()[:, :, 0].astype(np.uint16) * 257).astype(np.uint16)  # 0..65535
    image = Image.fromarray(values, "I;16")
    out = load_image(save(tmp_path, image, "deep.png"))
    np.testing.assert_allclose(out[:, :, 0], gradient()[:, :, 0], atol=1)
    assert out.max() == 255 and out.min() == 0


def test_rgba_is_composited_on_white(tmp_path):
    rgba = np.zeros((32, 32, 4), np.uint8)
    rgba[..., 0] = 200
    rgba[:16, :, 3] = 255  # top half opaque red, bottom half transparent
    out = load_image(save(tmp_path, Image.fromarray(rgba, "RGBA"), "alpha.png"))
    assert tuple(out[0, 0]) == (200, 0, 0)
    assert tuple(out[-1, -1]) == (255, 255, 255)


def test_palette_image_keeps_its_colours(tmp_path):
    rgb = gradient()
    palette = Image.fromarray(rgb).quantize(colors=64)
    out = load_image(save(tmp_path, palette, "palette.png"))
    np.testing.assert_array_equal(out, np.asarray(palette.convert("RGB")))


def test_cmyk_jpeg_becomes_rgb(tmp_path):
    rgb = gradient()
    out = load_image(save(tmp_path, Image.fromarray(rgb).convert("CMYK"), "print.jpg", quality=95))
    assert out.shape == (48, 64, 3)
    assert np.abs(out.astype(int) - rgb.astype(int)).mean() < 8


def test_exif_orientation_is_applied(tmp_path):
    upright = gradient(64, 48)
    # Stored rotated a quarter turn, with EXIF orientation 6 ("rotate 90 CW to view").
    stored = Image.fromarray(upright).transpose(Image.Transpose.ROTATE_90)
    exif = Image.Exif()
    exif[0x0112] = 6
    out = load_image(save(tmp_path, stored, "phone.jpg", exif=exif.tobytes(), quality=95))
    assert out.shape == (48, 64, 3)
    assert np.abs(out.astype(int) - upright.astype(int)).mean() < 6


def test_unicode_file_name(tmp_path):
    path = save(tmp_path, Image.fromarray(gradient()), "フォト_élève.png")
    assert load_image(path).shape == (48, 64, 3)
