"""Head pose: the frontal render is turned in 3-D by a backward warp over a head-shaped depth.

The head is a height field z(x, y): a paraboloid over the skull plus a nose ridge, both from
identity traits only (never AUs), so the warp is the same whichever AU is on and an AU's
change stays inside its (equally warped) mask. A frontal point (x, y, z) is rotated by
R = Rz(roll) Rx(pitch) Ry(yaw) about the head centre, projected orthographically, then scaled
and shifted by the alignment jitter. Positive yaw turns the face toward image right,
positive pitch tilts it up, positive roll turns it clockwise.
"""

from dataclasses import replace
from functools import lru_cache

import cv2
import numpy as np

from fatauva.synthfacs.params import Scene, Traits

CENTRE = (0.5, 0.5)  # head centre, crop units
DEPTH = 0.24  # skull depth at the centre, crop units
RADII = (0.40, 0.52)
NOSE_END = 0.605  # crop units: where the nose meets the upper lip


@lru_cache(maxsize=4)
def rotation(yaw: float, pitch: float, roll: float) -> np.ndarray:
    """3x3 rotation from angles in degrees (read-only: cached, as the warp and the landmark
    projection of a face both need it)."""
    y, p, r = np.deg2rad([yaw, pitch, roll])
    cy, sy, cp, sp, cr, sr = np.cos(y), np.sin(y), np.cos(p), np.sin(p), np.cos(r), np.sin(r)
    ry = np.array([[cy, 0, sy], [0, 1, 0], [-sy, 0, cy]])
    rx = np.array([[1, 0, 0], [0, cp, -sp], [0, sp, cp]])
    rz = np.array([[cr, -sr, 0], [sr, cr, 0], [0, 0, 1]])
    r = rz @ rx @ ry
    r.setflags(write=False)
    return r


def head_depth(x: np.ndarray, y: np.ndarray, traits: Traits, size: int) -> np.ndarray:
    """Depth (px) of the head surface at frontal pixel coordinates x, y (any equal shapes)."""
    s = float(size)
    xs, ys = x / s, y / s  # crop units, each computed once
    u = (xs - CENTRE[0]) / RADII[0]
    v = (ys - CENTRE[1]) / RADII[1]
    z = DEPTH * s * np.maximum(1.0 - u * u - v * v, 0.0)
    # Nose ridge: rises from the eyes (y=0.40) to the tip (y=0.56), turns under by y=0.605.
    # Slopes stay below ~1.5 so the pose warp's fixed-point iteration converges (no shear).
    # np.minimum / np.maximum, not np.clip: the same values without np.clip's Python-level
    # dispatch, which cost more than the arithmetic on the five landmarks of every face.
    rise = np.minimum(np.maximum((ys - 0.40) / 0.16, 0.0), 1.0)
    fall = np.minimum(np.maximum((NOSE_END - ys) / (NOSE_END - 0.56), 0.0), 1.0)
    nx = (xs - 0.5) / (0.045 + 0.006 * traits.nose_width)
    z = z + 0.04 * s * rise**1.5 * fall * np.square(np.maximum(1.0 - nx * nx, 0.0))
    return z.astype(np.float32)


@lru_cache(maxsize=4)
def _skull(size: int) -> np.ndarray:
    """The skull's paraboloid part of `head_depth` on the pixel grid (S, S), the same for every
    face: built once per process, read-only."""
    t = np.arange(size, dtype=np.float32) / np.float32(size)
    u2 = np.square((t - CENTRE[0]) / RADII[0])[None, :]
    v2 = np.square((t - CENTRE[1]) / RADII[1])[:, None]
    z = np.maximum(np.float32(1.0) - u2 - v2, 0.0) * np.float32(DEPTH * size)
    z.setflags(write=False)
    return z


def head_depth_grid(traits: Traits, size: int) -> np.ndarray:
    """`head_depth` on the whole pixel grid (S, S), computed the cheap way: the skull cached,
    the nose only on the rows and columns it covers (a row of xs and a column of ys broadcast)."""
    s = float(size)
    z = _skull(size).copy()
    half = (0.045 + 0.006 * traits.nose_width) * s
    x0, x1 = max(int(0.5 * s - half), 0), min(int(0.5 * s + half) + 2, size)
    y0, y1 = int(0.40 * s), min(int(NOSE_END * s) + 2, size)
    xs, ys = np.arange(x0, x1, dtype=np.float32)[None, :], np.arange(y0, y1, dtype=np.float32)[:, None]
    nose = head_depth(xs, ys, traits, size) - DEPTH * s * np.maximum(
        1.0 - np.square((xs / s - CENTRE[0]) / RADII[0]) - np.square((ys / s - CENTRE[1]) / RADII[1]), 0.0
    )
    z[y0:y1, x0:x1] += nose
    return z


def _affine(scene: Scene, size: int) -> tuple[np.ndarray, np.ndarray, float]:
    r = rotation(scene.yaw, scene.pitch, scene.roll)
    c = np.array(CENTRE, np.float64) * size
    offset = c + np.array(scene.shift) * size
    return r, offset, float(scene.scale)


def compose(scene: Scene, matrix: np.ndarray) -> Scene:
    """The scene whose crop is this scene's crop moved by the similarity `matrix` (2, 3), in crop
    units (as `fatauva.template.similarity_transform` fits it on points divided by the size).

    A similarity s Rot(phi) p + t after the pose's `scale (R xyz)[:2] + offset` is again a pose:
    Rot(phi) acts on x, y only, so it joins the roll (Rz(phi) Rz(roll) = Rz(roll + phi)), s joins
    the scale and the offset moves to s Rot(phi) offset + t. Yaw and pitch are untouched.
    """
    m = np.asarray(matrix, np.float64)
    a, t = m[:, :2], m[:, 2]
    s = float(np.sqrt(np.linalg.det(a)))
    phi = float(np.degrees(np.arctan2(a[1, 0], a[0, 0])))
    c = np.array(CENTRE, np.float64)
    shift = a @ (c + np.array(scene.shift, np.float64)) + t - c
    return replace(
        scene,
        roll=float(scene.roll + phi),
        scale=float(scene.scale * s),
        shift=(float(shift[0]), float(shift[1])),
    )


def is_identity(scene: Scene) -> bool:
    """True when the pose and jitter leave the frontal render untouched."""
    return (
        scene.yaw == 0
        and scene.pitch == 0
        and scene.roll == 0
        and scene.scale == 1.0
        and scene.shift == (0.0, 0.0)
    )


def project(points: np.ndarray, traits: Traits, scene: Scene, size: int) -> np.ndarray:
    """Forward map of frontal points (N, 2) -> their pixel positions in the posed crop (N, 2)."""
    r, offset, scale = _affine(scene, size)
    p = np.asarray(points, np.float64)
    z = head_depth(p[:, 0], p[:, 1], traits, size).astype(np.float64)
    c = np.array(CENTRE) * size
    xyz = np.stack([p[:, 0] - c[0], p[:, 1] - c[1], z], 1)
    q = xyz @ r.T
    return (scale * q[:, :2] + offset).astype(np.float32)


def warp_maps(
    depth: np.ndarray, scene: Scene, grid: tuple[np.ndarray, np.ndarray], iterations: int = 3
) -> tuple[np.ndarray, np.ndarray]:
    """Backward maps for cv2.remap: for each posed pixel, the frontal pixel it shows.

    `depth` is `head_depth` on the pixel grid (S, S). Solves A [x, y] + b z(x, y) = q by
    fixed-point iteration (A = R[:2, :2], b = R[:2, 2]), reading z bilinearly from `depth`;
    it converges because |dz/dx * tan(angle)| < 1 for |angles| <= 25 deg on this head.
    """
    if iterations < 1:
        raise ValueError(f"warp_maps needs at least one iteration, got {iterations}")
    size = depth.shape[0]
    r, offset, scale = _affine(scene, size)
    (a00, a01), (a10, a11) = np.linalg.inv(r[:2, :2]).astype(np.float32)
    b0, b1 = r[:2, 2].astype(np.float32)
    gx, gy = grid
    qx = gx - np.float32(offset[0])
    qx *= np.float32(1.0 / scale)
    qy = gy - np.float32(offset[1])
    qy *= np.float32(1.0 / scale)
    c0, c1 = np.float32(CENTRE[0] * size), np.float32(CENTRE[1] * size)
    # x = a00 rx + a01 ry + c0 (and y alike) with rx = qx - b0 z, ry = qy - b1 z, evaluated in
    # that order into buffers reused by every iteration: the same float32 roundings as the
    # expressions, without a fresh (S, S) temporary per operation.
    x, y, rx, ry, t = (np.empty_like(gx) for _ in range(5))
    z = depth
    for i in range(iterations):
        if i:
            z = cv2.remap(depth, x, y, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
        np.subtract(qx, np.multiply(b0, z, out=rx), out=rx)
        np.subtract(qy, np.multiply(b1, z, out=ry), out=ry)
        np.multiply(a00, rx, out=x)
        x += np.multiply(a01, ry, out=t)
        x += c0
        np.multiply(a10, rx, out=y)
        y += np.multiply(a11, ry, out=t)
        y += c1
    return x, y


def remap(img: np.ndarray, maps: tuple[np.ndarray, np.ndarray], nearest: bool = False) -> np.ndarray:
    """Apply backward maps to an (S, S) map, or to a planar (3, S, S) image, which comes back
    interleaved (S, S, 3) as the camera stage takes it. Borders replicate: hair cut by the frontal
    crop's top edge continues upward instead of being mirrored into spikes."""
    mode = cv2.INTER_NEAREST if nearest else cv2.INTER_LINEAR
    if img.ndim == 2:
        return cv2.remap(img, maps[0], maps[1], mode, borderMode=cv2.BORDER_REPLICATE)
    # One 3-channel remap, not three planar ones: same pixels as the interleaved image gives.
    return cv2.remap(cv2.merge(tuple(img)), maps[0], maps[1], mode, borderMode=cv2.BORDER_REPLICATE)
