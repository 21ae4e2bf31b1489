"""Where each AU and each facial part acts: one boolean mask per AU and per part (Table 2 parts).

Masks are drawn on the frontal geometry (so they follow the jaw, the brows, the lips of this
face), then warped with the same pose maps as the image. An AU's mask is the union of the
supports of everything that AU moves in geometry.py, shading.py and face_parts.py, with a
margin for anti-aliasing; tests check that switching the AU on changes pixels only inside it.
"""

import cv2
import numpy as np

from fatauva.synthfacs.geometry import FaceGeometry
from fatauva.topology import AU_KEYS, AUS, PARTS


def mask_names() -> tuple[str, ...]:
    """Mask keys: 'AU01'.. in topology.AUS order (topology.au_key), then the parts."""
    return AU_KEYS + PARTS


def _rect(canvas: np.ndarray, x0: float, y0: float, x1: float, y1: float) -> None:
    cv2.rectangle(
        canvas,
        (int(np.floor(min(x0, x1))), int(np.floor(min(y0, y1)))),
        (int(np.ceil(max(x0, x1))), int(np.ceil(max(y0, y1)))),
        1,
        -1,
    )


def _ellipse(canvas: np.ndarray, c, axes) -> None:
    cv2.ellipse(
        canvas,
        (int(round(c[0])), int(round(c[1]))),
        (int(np.ceil(axes[0])), int(np.ceil(axes[1]))),
        0,
        0,
        360,
        1,
        -1,
    )


def _hull(canvas: np.ndarray, points: np.ndarray, margin: float) -> None:
    hull = cv2.convexHull(points.astype(np.float32)).reshape(-1, 2)
    c = hull.mean(0)
    d = hull - c
    n = np.linalg.norm(d, axis=1, keepdims=True) + 1e-6
    grown = c + d + d / n * margin
    cv2.fillPoly(canvas, [np.round(grown).astype(np.int32)], 1)


def frontal_masks(geo: FaceGeometry) -> np.ndarray:
    """Masks on the frontal face, stacked (len(mask_names()), S, S) uint8 0/1."""
    s = float(geo.size)
    n = len(AUS)
    out = np.zeros((n + len(PARTS), geo.size, geo.size), np.uint8)
    idx = {au: i for i, au in enumerate(AUS)}
    m = geo.mouth
    lips = np.concatenate([m.upper_top, m.lower_bottom, m.corners])
    left, right = geo.brows
    brow_top = min(left.rest_y, right.rest_y) - 0.13 * s
    _rect(
        out[idx[1]],
        left.centre[12, 0],
        brow_top,
        right.centre[12, 0],
        max(left.rest_y, right.rest_y) + 0.04 * s,
    )
    for brow in (left, right):
        _rect(
            out[idx[2]],
            brow.centre[4, 0] - brow.side * 0.01 * s,
            brow_top,
            brow.centre[-1, 0] + brow.side * 0.02 * s,
            brow.rest_y + 0.04 * s,
        )
    eye_top = min(e.centre[1] - 0.5 * e.height_up for e in geo.eyes)
    _rect(
        out[idx[4]],
        left.centre[-1, 0] - 0.02 * s,
        brow_top + 0.04 * s,
        right.centre[-1, 0] + 0.02 * s,
        eye_top,
    )
    for eye in geo.eyes:
        cx, cy = eye.centre
        inner, outer = eye.upper[0, 0], eye.upper[-1, 0]
        top = cy - eye.height_up - 0.014 * s
        # Lid box of AU45 (the lids), AU7 (lower lid bunched lower) and AU6 (crow's feet, cheek):
        # the AU, how far past the outer corner and how far below the lower lid, crop units.
        for au, past_outer, below in ((45, 0.014, 0.012), (7, 0.014, 0.035), (6, 0.065, 0.04)):
            _rect(
                out[idx[au]],
                inner - eye.side * 0.012 * s,
                top,
                outer + eye.side * past_outer * s,
                cy + eye.height_low + below * s,
            )
        _ellipse(out[idx[6]], (cx + 0.01 * eye.side * s, cy + 0.1 * s), (0.09 * s, 0.07 * s))
        _ellipse(out[idx[12]], (cx, cy + 0.2 * s), (0.08 * s, 0.065 * s))
    nose_y = float(geo.nostrils[:, 1].min())
    half = 0.5 * float(m.corners[1, 0] - m.corners[0, 0])
    mid_x = 0.5 * float(m.corners[0, 0] + m.corners[1, 0])
    corner_y = float(m.corners[:, 1].max())
    _rect(
        out[idx[10]],
        mid_x - half - 0.07 * s,
        nose_y - 0.03 * s,
        mid_x + half + 0.07 * s,
        float(m.upper_bottom[:, 1].max()) + 0.03 * s,
    )
    _hull(out[idx[12]], lips, 0.035 * s)  # the lips themselves and the furrow under them
    _rect(
        out[idx[12]],
        0.5 * s - 0.27 * s,
        geo.nose_tip[1] - 0.005 * s,
        0.5 * s + 0.27 * s,
        corner_y + 0.075 * s,
    )
    _hull(out[idx[15]], lips, 0.03 * s)
    _rect(
        out[idx[15]],
        mid_x - half - 0.05 * s,
        corner_y - 0.02 * s,
        mid_x + half + 0.05 * s,
        corner_y + 0.095 * s,
    )
    _hull(out[idx[17]], lips, 0.03 * s)
    _rect(
        out[idx[17]],
        mid_x - 0.1 * s,
        float(m.lower_top[:, 1].min()) - 0.01 * s,
        mid_x + 0.1 * s,
        geo.chin_y + 0.015 * s,
    )
    for au in (23, 24, 25):
        _hull(out[idx[au]], lips, 0.035 * s)
    _hull(out[idx[26]], lips, 0.035 * s)
    # The jaw outline is a spline through control points from y=0.52 down: dropping the jaw
    # bends it from there, so AU26 acts on the whole lower face band.
    _rect(out[idx[26]], 0.5 * s - 0.42 * s, 0.52 * s, 0.5 * s + 0.42 * s, geo.chin_y + 0.09 * s)
    _part_masks(out[n:], geo, lips)
    return out


def _part_masks(out: np.ndarray, geo: FaceGeometry, lips: np.ndarray) -> None:
    """Parts of Table 2: face (the outline), eyebrows, eyes (with where glasses sit), mouth."""
    s = float(geo.size)
    part = {p: i for i, p in enumerate(PARTS)}
    cv2.fillPoly(out[part["face"]], [np.round(geo.outline).astype(np.int32)], 1)
    grow = 2 * int(round(0.025 * s)) + 1  # beard and wrinkles are blurred across the outline
    out[part["face"]] = cv2.dilate(out[part["face"]], np.ones((grow, grow), np.uint8))
    for brow in geo.brows:
        pts = np.concatenate([brow.top, brow.bottom])
        _rect(
            out[part["eyebrows"]],
            pts[:, 0].min() - 0.015 * s,
            pts[:, 1].min() - 0.015 * s,
            pts[:, 0].max() + 0.015 * s,
            pts[:, 1].max() + 0.015 * s,
        )
    for eye in geo.eyes:
        cx, cy = eye.centre
        _rect(out[part["eyes"]], cx - 0.1 * s, cy - 0.072 * s, cx + 0.1 * s, cy + 0.072 * s)
    cy = float(np.mean([e.centre[1] for e in geo.eyes]))
    _rect(out[part["eyes"]], geo.eyes[0].centre[0], cy - 0.045 * s, geo.eyes[1].centre[0], cy + 0.03 * s)
    _hull(out[part["mouth"]], lips, 0.025 * s)


def pack(masks: np.ndarray) -> np.ndarray:
    """(M, S, S) 0/1 -> (S, S) float32 holding the bits (exact for M <= 24), for one remap."""
    weights = (2.0 ** np.arange(masks.shape[0])).astype(np.float32)
    packed = np.zeros(masks.shape[1:], np.float32)
    for w, m in zip(weights, masks, strict=True):  # not tensordot: no BLAS threads in workers
        packed[m.astype(bool)] += w
    return packed


def unpack(packed: np.ndarray, count: int) -> np.ndarray:
    """Inverse of `pack`: (S, S) float32 -> (count, S, S) bool."""
    bits = np.rint(packed).astype(np.int64)
    return ((bits[None] >> np.arange(count)[:, None, None]) & 1).astype(bool)
