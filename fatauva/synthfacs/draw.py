"""Small drawing primitives: anti-aliased shapes painted inside their own bounding box.

Everything is drawn directly at the target size with sub-pixel precision (OpenCV's `shift`
argument) and blended only inside the shape's bounding box, which is what keeps a face at
112 px under a few milliseconds and keeps every change local to where the shape is.
"""

import math
from functools import lru_cache

import cv2
import numpy as np

SHIFT = 4
ONE = float(1 << SHIFT)
_COUNT = np.arange(1024, dtype=np.float32)  # shared by `count`: read-only
_COUNT.setflags(write=False)


def count(lo: int, hi: int) -> np.ndarray:
    """float32 lo, lo + 1, .., hi - 1 (np.arange's values; a read-only view when hi <= 1024)."""
    return _COUNT[lo:hi] if hi <= _COUNT.size else np.arange(lo, hi, dtype=np.float32)


def fixed(points: np.ndarray) -> np.ndarray:
    """Float pixel coordinates (N, 2) -> OpenCV fixed-point int32 for `shift=SHIFT`."""
    return np.rint(np.asarray(points, np.float32) * ONE).astype(np.int32)


def fixed_lines(lines: list[np.ndarray]) -> list[np.ndarray]:
    """`[fixed(p) for p in lines]` converting all their points at once: four array operations in
    all instead of four a line. Same values: float32 points concatenated with float64 ones come
    back to float32 exactly."""
    if len(lines) == 1:
        return [fixed(lines[0])]
    points = fixed(np.concatenate(lines))
    out, start = [], 0
    for p in lines:
        out.append(points[start : start + len(p)])
        start += len(p)
    return out


def bbox(points: np.ndarray, size: int, margin: float = 2.0) -> tuple[int, int, int, int] | None:
    """Integer box (x0, y0, x1, y1) around points, clipped to the image; None if empty."""
    p = np.asarray(points, np.float32).reshape(-1, 2)
    lo, hi = p.min(0), p.max(0)
    x0 = max(math.floor(lo[0] - margin), 0)
    y0 = max(math.floor(lo[1] - margin), 0)
    x1 = min(math.ceil(hi[0] + margin) + 1, size)
    y1 = min(math.ceil(hi[1] + margin) + 1, size)
    if x1 <= x0 or y1 <= y0:
        return None
    return x0, y0, x1, y1


def box_around(
    cx: float, cy: float, half_w: float, half_h: float, size: int
) -> tuple[int, int, int, int] | None:
    """`bbox` of the corners (cx -+ half_w, cy -+ half_h) with no margin (half sizes >= 0), from
    Python floats: the same float32 corners and box without building and reducing arrays."""
    x0 = max(math.floor(np.float32(cx - half_w)), 0)
    y0 = max(math.floor(np.float32(cy - half_h)), 0)
    x1 = min(math.ceil(np.float32(cx + half_w)) + 1, size)
    y1 = min(math.ceil(np.float32(cy + half_h)) + 1, size)
    if x1 <= x0 or y1 <= y0:
        return None
    return x0, y0, x1, y1


def poly_alpha(polys: list[np.ndarray], box: tuple[int, int, int, int]) -> np.ndarray:
    """Coverage in [0, 1] of filled polygons inside `box`, shape (y1-y0, x1-x0) float32."""
    x0, y0, x1, y1 = box
    a = np.zeros((y1 - y0, x1 - x0), np.uint8)
    off = np.array([x0, y0], np.float32)
    cv2.fillPoly(a, [fixed(p - off) for p in polys], 255, cv2.LINE_AA, SHIFT)
    return a.astype(np.float32) * (1.0 / 255.0)


def _fixed_offset(v: float, origin: int) -> int:
    """`fixed` of one coordinate relative to a box corner, float32(v) - origin in float32, as a
    Python int (Python rounds half to even, as np.rint does)."""
    return round(float(np.float32(v) - np.float32(origin)) * ONE)


def ellipse_alpha(
    centre: np.ndarray | tuple[float, float],
    axes: tuple[float, float],
    angle: float,
    box: tuple[int, int, int, int],
) -> np.ndarray:
    """Coverage of a filled ellipse inside `box` (angle in degrees)."""
    x0, y0, x1, y1 = box
    a = np.zeros((y1 - y0, x1 - x0), np.uint8)
    c = (_fixed_offset(centre[0], x0), _fixed_offset(centre[1], y0))
    ax = (max(int(round(axes[0] * ONE)), 1), max(int(round(axes[1] * ONE)), 1))
    cv2.ellipse(a, c, ax, angle, 0, 360, 255, -1, cv2.LINE_AA, SHIFT)
    return a.astype(np.float32) * (1.0 / 255.0)


def line_alpha(lines: list[np.ndarray], thickness: float, box: tuple[int, int, int, int]) -> np.ndarray:
    """Coverage of open polylines of a given thickness (px) inside `box`.

    OpenCV rounds thickness to whole pixels; a thin line is drawn 1 px wide and scaled down.
    """
    x0, y0, x1, y1 = box
    a = np.zeros((y1 - y0, x1 - x0), np.uint8)
    off = np.array([x0, y0], np.float32)
    t = max(int(round(thickness)), 1)
    value = int(round(255 * min(thickness, 1.0))) if thickness < 1 else 255
    cv2.polylines(a, [fixed(p - off) for p in lines], False, value, t, cv2.LINE_AA, SHIFT)
    return a.astype(np.float32) * (1.0 / 255.0)


def soften(alpha: np.ndarray, ksize: int, sigma: float) -> np.ndarray:
    """Gaussian-blur a coverage map drawn inside its own box, with zeros beyond the box.

    Zero padding (not OpenCV's default reflection) keeps the result independent of where the
    box happens to end, so moving one end of a shape never changes pixels at its other end.
    """
    return cv2.GaussianBlur(alpha, (ksize, ksize), sigma, borderType=cv2.BORDER_CONSTANT)


def blend(img: np.ndarray, box: tuple[int, int, int, int], alpha: np.ndarray, colour) -> None:
    """In place on a planar image (3, S, S): img[box] = img[box] * (1 - alpha) + colour * alpha;
    colour (3,) or planar (3, h, w)."""
    x0, y0, x1, y1 = box
    region = img[:, y0:y1, x0:x1]
    step = planar(colour) - region
    step *= alpha
    region += step


def scale_region(img: np.ndarray, box: tuple[int, int, int, int], alpha: np.ndarray, factor: float) -> None:
    """In place on a planar image (3, S, S): multiply img[box] by (1 + (factor - 1) * alpha):
    shadows, highlights, tints."""
    x0, y0, x1, y1 = box
    f = np.float32(factor)
    img[:, y0:y1, x0:x1] *= 1.0 + (f - 1.0) * alpha


def planar(colour) -> np.ndarray:
    """A colour (3,) as (3, 1, 1) float32, or a planar (3, h, w) image unchanged.

    Images are planar (3, S, S) while drawn: broadcasting a (3,) colour or an (h, w) coverage over
    an interleaved (h, w, 3) image runs numpy's slow 3-element inner loop, ~10x slower per pixel.
    """
    c = np.asarray(colour, np.float32)
    return c.reshape(3, 1, 1) if c.ndim == 1 else c


def add_bump(z: np.ndarray, centre, radii, amp: float) -> None:
    """In place: add a smooth bump of compact support, amp * (1 - r^2)^2 inside the ellipse.

    Compact support (not a Gaussian) so a bump that an AU moves changes z only inside its
    ellipse, which is what the AU masks promise.
    """
    if amp == 0:
        return
    cx, cy = float(centre[0]), float(centre[1])
    rx, ry = max(float(radii[0]), 0.5), max(float(radii[1]), 0.5)
    h, w = z.shape
    x0, x1 = max(int(cx - rx), 0), min(int(cx + rx) + 2, w)
    y0, y1 = max(int(cy - ry), 0), min(int(cy + ry) + 2, h)
    if x1 <= x0 or y1 <= y0:
        return
    xs = (count(x0, x1) - np.float32(cx)) * np.float32(1.0 / rx)
    ys = (count(y0, y1) - np.float32(cy)) * np.float32(1.0 / ry)
    t = np.subtract.outer(np.float32(1.0) - ys * ys, xs * xs)  # 1 - r^2
    np.maximum(t, 0.0, out=t)
    t *= t
    t *= np.float32(amp)
    z[y0:y1, x0:x1] += t


def xy(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Coordinates x (K,) and y (K,) -> points (K, 2) float32 (np.stack costs ~5 us a call)."""
    out = np.empty((len(x), 2), np.float32)
    out[:, 0] = x
    out[:, 1] = y
    return out


@lru_cache(maxsize=16)
def _cr_basis(samples: int) -> np.ndarray:
    """Catmull-Rom weights of the 4 control points at `samples` steps, (samples, 4)."""
    t = np.linspace(0, 1, samples, endpoint=False)
    return 0.5 * np.stack(
        [-t + 2 * t**2 - t**3, 2 - 5 * t**2 + 3 * t**3, t + 4 * t**2 - 3 * t**3, -(t**2) + t**3], 1
    ).astype(np.float32)


@lru_cache(maxsize=64)
def _cr_index(n: int, closed: bool) -> np.ndarray:
    """Indices of the 4 control points of each of the curve's segments, (segments, 4)."""
    if closed:
        return (np.arange(n)[:, None] + np.arange(-1, 3)[None, :]) % n
    return np.clip(np.arange(n - 1)[:, None] + np.arange(-1, 3)[None, :], 0, n - 1)


def catmull_rom(points: np.ndarray, samples: int = 6, closed: bool = False) -> np.ndarray:
    """A smooth curve through control points (N, 2) -> (M, 2), `samples` per segment."""
    p = np.asarray(points, np.float32)
    out = np.einsum("sk,nkd->nsd", _cr_basis(samples), p[_cr_index(len(p), closed)]).reshape(-1, 2)
    return out if closed else np.concatenate([out, p[-1:]])
