"""Shading of a 3-D face: a height field, its normals and one directional light.

The surface is the head of `pose.head_depth` plus compact bumps: brow ridge, eye sockets,
cheeks, nose wings, lips and chin. AU6 and AU12 raise the cheeks, AU7 puffs the lower lid,
AU17 pushes the chin boss up, AU24 bulges the skin around pressed lips; each bump has compact
support inside its AU's mask. Lambert + Blinn-Phong, normalised so that a surface facing the
camera keeps its albedo (the background, flat, is untouched).
"""

from functools import lru_cache

import cv2
import numpy as np

from fatauva.synthfacs.draw import add_bump
from fatauva.synthfacs.geometry import FaceGeometry
from fatauva.synthfacs.params import FaceParams
from fatauva.template import template_points


@lru_cache(maxsize=8)
def _static_relief(size: int, male: bool) -> np.ndarray:
    """Brow ridges, eye sockets and resting cheeks (S, S): the same for every face of a sex, as
    the eyes sit on the template; built once per process."""
    s = float(size)
    z = np.zeros((size, size), np.float32)
    for side, (cx, cy) in zip((-1, 1), template_points(size)[:2], strict=True):
        add_bump(z, (cx, cy - 0.07 * s), (0.11 * s, 0.045 * s), (0.010 + 0.02 * male) * s)
        add_bump(z, (cx, cy + 0.004 * s), (0.085 * s, 0.05 * s), -0.022 * s)
        add_bump(z, (cx + 0.01 * side * s, cy + 0.13 * s), (0.1 * s, 0.08 * s), 0.01 * s)
    z.setflags(write=False)
    return z


def height_field(
    params: FaceParams, geo: FaceGeometry, base: np.ndarray, grid: tuple[np.ndarray, np.ndarray]
) -> np.ndarray:
    """Face surface depth (S, S) px: `base` (the head, AU-free), a rounding that turns the
    cheeks and temples away from the camera, plus feature and AU bumps."""
    tr, au, s = params.traits, params.au, float(geo.size)
    u2 = np.square((grid[0][:1] - 0.5 * s) * np.float32(1.0 / (geo.cheek_half_width * 1.12)))
    v2 = np.square((grid[1][:, :1] - 0.45 * s) * np.float32(1.0 / (0.62 * s)))  # rim outside face, neck
    # base + 0.1 s sqrt(max(1 - u2 - v2, 0)), evaluated in place in one (S, S) buffer
    z = 1.0 - u2 - v2
    np.sqrt(np.maximum(z, 0.0, out=z), out=z)
    z *= np.float32(0.1 * s)
    np.add(base, z, out=z)
    z += _static_relief(geo.size, bool(tr.male))
    for eye in geo.eyes:
        cx, cy = eye.centre
        add_bump(z, (cx + 0.01 * eye.side * s, cy + 0.1 * s), (0.085 * s, 0.065 * s), 0.0045 * s * au[6])
        add_bump(z, (cx, cy + eye.height_low + 0.012 * s), (0.05 * s, 0.016 * s), 0.004 * s * au[7])
        add_bump(z, (cx, cy + 0.2 * s), (0.075 * s, 0.06 * s), 0.0045 * s * au[12])
    for nx, ny in geo.nostrils:
        add_bump(z, (nx, ny - 0.004 * s), (0.022 * s, 0.02 * s), 0.014 * s)
    m = geo.mouth
    mid = len(m.line) // 2
    half_w = 0.5 * float(m.corners[1, 0] - m.corners[0, 0])
    up_c = 0.5 * (m.upper_top[mid] + m.upper_bottom[mid])
    low_c = 0.5 * (m.lower_top[mid] + m.lower_bottom[mid])
    up_h = float(m.upper_bottom[mid, 1] - m.upper_top[mid, 1])
    low_h = float(m.lower_bottom[mid, 1] - m.lower_top[mid, 1])
    add_bump(z, up_c, (half_w * 0.95, up_h + 0.01 * s), 0.008 * s)
    add_bump(z, low_c, (half_w * 0.85, low_h * 0.8 + 0.006 * s), 0.012 * s)
    add_bump(z, (up_c[0], m.upper_top[mid, 1] - 0.012 * s), (half_w * 0.9, 0.014 * s), 0.004 * s * au[24])
    add_bump(z, (low_c[0], m.lower_bottom[mid, 1] + 0.012 * s), (half_w * 0.8, 0.014 * s), 0.004 * s * au[24])
    chin = (0.5 * s, geo.chin_y - 0.05 * s)
    add_bump(z, chin, (0.085 * s, 0.05 * s), 0.018 * s)
    add_bump(z, (chin[0], chin[1] - 0.006 * s * au[17] / 5), (0.065 * s, 0.04 * s), 0.0035 * s * au[17])
    return z


def light_vector(params: FaceParams) -> np.ndarray:
    """Unit vector toward the light (x right, y down, z toward the camera)."""
    sc = params.scene
    az, el = np.deg2rad(sc.light_azimuth), np.deg2rad(sc.light_elevation)
    return np.array([np.cos(el) * np.cos(az), -np.cos(el) * np.sin(az), np.sin(el)], np.float32)


def shade(
    z: np.ndarray, params: FaceParams, shininess: float, box: tuple[int, int, int, int]
) -> tuple[np.ndarray, np.ndarray]:
    """Diffuse factor (S, S) (1 where the surface faces the camera) and specular term inside
    `box` (x0, y0, x1, y1), shape (y1-y0, x1-x0): highlights are drawn on the face only, which
    lies in that box, and the power is the costliest op here."""
    sc = params.scene
    zx = cv2.Sobel(z, cv2.CV_32F, 1, 0, ksize=3, scale=0.125)
    zy = cv2.Sobel(z, cv2.CV_32F, 0, 1, ksize=3, scale=0.125)
    # The formulas in comments, evaluated in the same order into few (S, S) buffers.
    # inv = 1 / sqrt(zx^2 + zy^2 + 1)
    inv = zx * zx
    inv += zy * zy
    inv += 1.0
    np.divide(1.0, np.sqrt(inv, out=inv), out=inv)
    lx, ly, lz = light_vector(params)
    # diffuse = (ambient + strength * max((lz - lx zx - ly zy) inv, 0)) / flat
    diffuse = lx * zx
    np.subtract(lz, diffuse, out=diffuse)
    diffuse -= ly * zy
    diffuse *= inv
    np.maximum(diffuse, 0.0, out=diffuse)
    diffuse *= sc.light_strength
    diffuse += sc.ambient
    flat = sc.ambient + sc.light_strength * lz
    diffuse *= 1.0 / flat
    hx, hy, hz = lx, ly, lz + 1.0
    hn = 1.0 / np.sqrt(hx * hx + hy * hy + hz * hz)
    x0, y0, x1, y1 = box
    zx, zy, inv = zx[y0:y1, x0:x1], zy[y0:y1, x0:x1], inv[y0:y1, x0:x1]
    # spec = strength * max((hz - hx zx - hy zy) inv hn, 0) ^ shininess
    ndoth = hx * zx
    np.subtract(hz, ndoth, out=ndoth)
    ndoth -= hy * zy
    ndoth *= inv
    ndoth *= hn
    spec = np.power(np.maximum(ndoth, 0.0, out=ndoth), shininess)
    spec *= sc.light_strength
    return diffuse, spec
