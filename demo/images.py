"""The one place a user's file becomes a photo: bytes or a path in, uint8 RGB (H, W, 3) out, or one
`ImageError` sentence that names what is wrong. The app (upload, webcam, clipboard, API) and the
command line both call `load_image`, so a bad file reads the same everywhere.

What it does to a readable file, in order: EXIF orientation applied (a phone photo taken sideways
comes out upright, so the detector sees the face upright), the first frame of an animation, then
every Pillow mode to 8-bit RGB: grey and 1-bit repeated into three channels, 16-bit and 32-bit
grey scaled down from their range (not clipped), palette and alpha composited on white, CMYK and
YCbCr converted.
"""

import io
import warnings
from pathlib import Path

import numpy as np
from PIL import Image, ImageOps

# A 40-megapixel decode is ~120 MB of RGB; beyond it a small file is most likely a decompression
# bomb (a few KB of PNG that inflates to gigabytes). Pillow reads this limit at open().
MAX_PIXELS = 40_000_000
Image.MAX_IMAGE_PIXELS = MAX_PIXELS
MIN_SIDE = 16  # px: the smallest face crop the detector still finds (README, "how small a face can be")
_BACKGROUND = (255, 255, 255)


class ImageError(ValueError):
    """A file that is not a usable photo; the message is one sentence for the user."""


def load_image(source: str | Path | bytes, name: str | None = None) -> np.ndarray:
    """Decode a photo file (path or its bytes) into uint8 RGB (H, W, 3), upright per its EXIF.

    name: how to call the file in messages (default: the path's name). Raises ImageError for an
    empty, truncated, oversized (> MAX_PIXELS), tiny (< MIN_SIDE px) or undecodable file.
    """
    label = name or (Path(source).name if isinstance(source, (str, Path)) else "the image")
    data = Path(source).read_bytes() if isinstance(source, (str, Path)) else source
    if not data:
        raise ImageError(f"{label} is empty (0 bytes).")
    image = _decode(data, label)
    width, height = image.size
    if min(width, height) < MIN_SIDE:
        raise ImageError(
            f"{label} is too small ({width}x{height} px); a face needs at least {MIN_SIDE} px a side."
        )
    return np.ascontiguousarray(np.asarray(to_rgb(image), dtype=np.uint8))


def _decode(data: bytes, label: str) -> Image.Image:
    """Open, size-check and fully decode; any decoder failure is the file's fault, said once."""
    with warnings.catch_warnings():
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        try:
            image = Image.open(io.BytesIO(data))
            if image.width * image.height > MAX_PIXELS:
                raise Image.DecompressionBombError("over the pixel limit")
            image.load()
            return ImageOps.exif_transpose(image)
        except (Image.DecompressionBombError, Image.DecompressionBombWarning):
            raise ImageError(
                f"{label} is too large to decode safely (over {MAX_PIXELS // 1_000_000} megapixels)."
            ) from None
        except Image.UnidentifiedImageError:
            raise ImageError(
                f"{label} is not an image Pillow can read (unknown or damaged format)."
            ) from None
        # Decoders raise many types on hostile bytes (OSError for truncation, SyntaxError, struct.error,
        # IndexError...): every one of them means this file cannot be read, not a bug of ours.
        except Exception as e:  # noqa: BLE001
            reason = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
            raise ImageError(
                f"{label} could not be decoded: it is truncated or damaged ({reason})."
            ) from None


def to_rgb(image: Image.Image) -> Image.Image:
    """Any Pillow mode -> 8-bit RGB (module docstring: how each mode is mapped)."""
    if image.mode in ("I;16", "I;16L", "I;16B", "I;16N", "I", "F"):
        return Image.fromarray(_to_uint8(np.asarray(image), image.mode)).convert("RGB")
    if image.mode in ("P", "PA", "LA", "RGBA", "La", "RGBa") or "transparency" in image.info:
        rgba = image.convert("RGBA")
        background = Image.new("RGBA", rgba.size, _BACKGROUND + (255,))
        return Image.alpha_composite(background, rgba).convert("RGB")
    return image.convert("RGB")


def _to_uint8(values: np.ndarray, mode: str) -> np.ndarray:
    """16/32-bit integer or float grey -> uint8, scaled from the range the mode can hold."""
    values = values.astype(np.float64)
    if mode == "F":
        top = 1.0 if values.max(initial=0.0) <= 1.0 else 255.0
    elif mode.startswith("I;16") or values.max(initial=0.0) > 255:
        # 16-bit data (PNG 16-bit grey opens as "I" in some Pillow versions): scale, never clip.
        top = 65535.0 if values.max(initial=0.0) <= 65535 else float(values.max())
    else:
        top = 255.0
    return np.clip(np.round(values / top * 255.0), 0, 255).astype(np.uint8)
