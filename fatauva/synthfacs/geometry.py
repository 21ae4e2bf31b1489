"""The frontal face geometry of SynthFACS: every contour, in pixels of an S x S crop.

The five alignment landmarks of a neutral frontal face sit exactly on
`fatauva.template.template_points(S)`; traits change everything else (outline, jaw, brows,
lids, lips, nose), AUs then move their own contours (FACS appearance changes, per AU below).
Conventions: x right, y down; "left" is image left; curves of an eye or brow run from the
inner end (nose side) to the outer end; t in [0, 1] runs across the mouth left to right.
"""

from dataclasses import dataclass

import numpy as np

from fatauva.synthfacs.draw import catmull_rom, xy
from fatauva.synthfacs.params import FaceParams, Traits
from fatauva.template import template_points

K = 17  # samples along a lid, brow or lip contour
T = np.linspace(0.0, 1.0, K, dtype=np.float32)
EYE_WIDTH = 0.125  # crop units: inner to outer canthus
EYE_UP, EYE_LOW = 0.033, 0.018  # neutral opening above / below the canthal line
BROW_GAP = 0.075  # eye centre to brow centre line
MOUTH_Y0 = 0.62  # above this line the jaw does not move with AU26


@dataclass
class Eye:
    """One eye. upper/lower: lid margins (K, 2) inner->outer; crease: upper lid fold (K, 2)."""

    centre: np.ndarray
    side: int  # -1 image-left eye, +1 image-right eye (direction of the outer corner)
    upper: np.ndarray
    lower: np.ndarray
    crease: np.ndarray
    iris: np.ndarray
    iris_r: float
    height_up: float  # neutral opening above the canthal line (px), before any AU
    height_low: float
    opening: float  # current opening / opening of an average neutral eye


@dataclass
class Brow:
    """One eyebrow: centre line, top and bottom edges (K, 2), inner->outer; resting y."""

    centre: np.ndarray
    top: np.ndarray
    bottom: np.ndarray
    rest_y: float
    side: int


@dataclass
class Mouth:
    """Lip contours (K, 2), left->right: upper lip top/bottom, lower lip top/bottom; corners."""

    upper_top: np.ndarray
    upper_bottom: np.ndarray
    lower_top: np.ndarray
    lower_bottom: np.ndarray
    corners: np.ndarray  # (2, 2) left, right
    opening: float  # max gap between the lips (px)
    line: np.ndarray  # the closed-lip line (K, 2)


@dataclass
class FaceGeometry:
    """All contours of one frontal face at size S (pixels)."""

    size: int
    outline: np.ndarray  # (N, 2) closed face outline, jaw included
    cheek_half_width: float
    jaw_half_width: float
    chin_y: float
    jaw_drop: float
    eyes: tuple[Eye, Eye]
    brows: tuple[Brow, Brow]
    mouth: Mouth
    nose_tip: np.ndarray
    nostrils: np.ndarray  # (2, 2)
    nose_half_width: float
    landmarks: np.ndarray  # (5, 2) frontal, template order


def _arc(t: np.ndarray) -> np.ndarray:
    """sin(pi t) clipped at 0 (safe under fractional powers at the ends)."""
    return np.clip(np.sin(np.pi * t), 0.0, None)


# Contour profiles over T, the same for every face (computed once; AUs and traits scale them).
ARC = _arc(T)
LID_UP = _arc(T**0.85) ** 0.9  # upper lid peaks nearer the inner corner
LID_LOW = _arc(T**1.1)
BROW_ARCH = _arc(T**1.45)
BROW_HEAD = 0.75 + 0.25 * np.sin(np.pi * np.clip(T * 1.4, 0, 1))  # rounded inner head
AU1_SPAN = np.clip(1 - T / 0.6, 0, 1) ** 1.5
AU2_SPAN = np.clip((T - 0.35) / 0.65, 0, 1) ** 1.2
AU10_SPAN = _arc(np.clip((T - 0.1) / 0.8, 0, 1)) ** 0.6
CUPID_BOW = (
    1
    + 0.18 * (np.exp(-(((T - 0.41) / 0.07) ** 2)) + np.exp(-(((T - 0.59) / 0.07) ** 2)))
    - 0.22 * np.exp(-(((T - 0.5) / 0.035) ** 2))
)
UPPER_LIP, LOWER_LIP, GAP = ARC**0.45 * CUPID_BOW, ARC**0.65, ARC**0.8


def eye_opening(traits: Traits, au: dict[int, float]) -> float:
    """Lid opening relative to an average neutral eye (1.0); AU6/AU7/AU45 narrow it, 0 = closed."""
    up, low = _lid_heights(traits.eye_openness, au)
    return max(up + low, 0.0) / (EYE_UP + EYE_LOW)


def _lid_heights(openness: float, au: dict[int, float]) -> tuple[float, float]:
    """Upper and lower lid heights (crop units) after AU6 (lower lid up), AU7 (both lids
    tightened, lower straightened), AU45 (upper lid down onto the lower lid)."""
    a6, a7, a45 = au[6] / 5, au[7] / 5, au[45] / 5
    low = EYE_LOW * openness * (1 - 0.35 * a6) * (1 - 0.8 * a7)
    up = EYE_UP * openness * (1 - 0.1 * a6) * (1 - 0.35 * a7)
    up = up * (1 - a45) - low * a45  # fully closed: upper margin lies on the lower margin
    return up, low


def build(params: FaceParams, size: int) -> FaceGeometry:
    """Contours of the frontal face described by `params` at `size` px."""
    tr, au, s = params.traits, params.au, float(size)
    tp = template_points(size).astype(np.float32)
    jaw_drop = _jaw_drop(au, s)
    mouth = _mouth(tr, au, tp[3], tp[4], s, jaw_drop)
    outline, wc, wj, chin_y = _outline(tr, s, jaw_drop)
    eyes = (_eye(tr, au, tp[0], -1, s, params.scene.gaze), _eye(tr, au, tp[1], +1, s, params.scene.gaze))
    brows = (_brow(tr, au, tp[0], -1, s), _brow(tr, au, tp[1], +1, s))
    nose_hw = (0.027 + 0.006 * tr.nose_width + 0.005 * tr.male) * s
    lift = 0.0015 * s * au[10]
    nostrils = np.array(
        [
            [tp[2, 0] - nose_hw, tp[2, 1] + 0.014 * s - lift],
            [tp[2, 0] + nose_hw, tp[2, 1] + 0.014 * s - lift],
        ],
        np.float32,
    )
    landmarks = _landmarks(tp, mouth.corners)
    return FaceGeometry(
        size,
        outline,
        wc,
        wj,
        chin_y,
        jaw_drop,
        eyes,
        brows,
        mouth,
        tp[2].copy(),
        nostrils,
        nose_hw,
        landmarks,
    )


def landmarks(params: FaceParams, size: int) -> np.ndarray:
    """`build(params, size).landmarks` (5, 2) float32 without drawing the other contours: the eyes
    and nose sit on the template, only the mouth corners move (AU12, AU15, AU23-26). What the
    aligner fits for every SynthFACS face (align.py), at a fifth of the cost of `build`."""
    au, s = params.au, float(size)
    tp = template_points(size).astype(np.float32)
    return _landmarks(tp, _mouth_corners(au, tp[3], tp[4], s, _jaw_drop(au, s)))


def _landmarks(tp: np.ndarray, corners: np.ndarray) -> np.ndarray:
    """Template order: eye centres and nose tip from the template, then the two mouth corners."""
    return np.stack([tp[0], tp[1], tp[2], corners[0], corners[1]]).astype(np.float32)


def _jaw_drop(au: dict[int, float], s: float) -> float:
    """How far AU26 lowers the chin (px)."""
    return 0.016 * s * au[26]


def _outline(tr: Traits, s: float, jaw_drop: float) -> tuple[np.ndarray, float, float, float]:
    """Closed face outline (N, 2) from cranium to chin, cheek and jaw half-widths and chin y (px).
    AU26 lowers the control points below MOUTH_Y0 (the jaw rotates about the ear, so the chin
    moves most)."""
    wc = 0.32 + 0.02 * tr.face_width
    wj = 0.265 + 0.025 * tr.jaw_width + 0.03 * tr.male + 0.015 * tr.jaw_square
    cw = 0.1 + 0.03 * tr.jaw_square + 0.03 * tr.male
    chin = 0.92 + 0.02 * tr.chin_length
    half = np.array(
        [
            [0.0, -0.06],
            [0.2, -0.035],
            [0.285, 0.06],
            [wc - 0.02, 0.2],
            [wc, 0.38],
            [wc - 0.005, 0.52],
            [wj + 0.02, 0.66],
            [wj, 0.765 + 0.02 * tr.jaw_square],
            [cw + 0.075, 0.87],
            [cw, chin - 0.012],
            [0.0, chin],
        ],
        np.float32,
    )
    ys = half[:, 1]
    weight = np.clip((ys - MOUTH_Y0) / (chin - MOUTH_Y0), 0.0, 1.0)
    pts = half.copy()
    pts[:, 1] += weight * jaw_drop / s
    right = pts * [1, 1] + [0.5, 0.0]
    left = (pts[::-1] * [-1, 1] + [0.5, 0.0])[1:-1]
    closed = np.concatenate([right, left]) * s
    outline = catmull_rom(closed, samples=5, closed=True)
    return outline, wc * s, wj * s, (chin * s + jaw_drop)


def _eye(
    tr: Traits, au: dict[int, float], centre: np.ndarray, side: int, s: float, gaze: tuple[float, float]
) -> Eye:
    asym = 1.0 + 0.2 * tr.asymmetry * side  # one eye visibly larger: Attractive reads symmetry
    w = EYE_WIDTH * s * asym
    up, low = _lid_heights(tr.eye_openness * asym, au)
    up0, low0 = _lid_heights(tr.eye_openness * asym, {6: 0.0, 7: 0.0, 45: 0.0})
    tilt = 0.006 * s
    x = centre[0] + side * (T - 0.5) * w
    base = centre[1] + (0.5 - T) * tilt
    up_shape = LID_UP
    low_shape = LID_LOW ** (0.9 + 0.8 * au[7] / 5)  # AU7 straightens the lower lid
    upper = xy(x, base - up * s * up_shape)
    lower = xy(x, base + low * s * low_shape)
    crease = xy(x * 0.98 + centre[0] * 0.02, base - (up0 * 1.45 + 0.006) * s * up_shape**0.7)
    iris = np.array([centre[0] + gaze[0] * w * 0.25, centre[1] + gaze[1] * EYE_UP * s * 0.5], np.float32)
    return Eye(
        centre.copy(),
        side,
        upper,
        lower,
        crease,
        iris,
        0.026 * s,
        up0 * s,
        low0 * s,
        max(up + low, 0.0) / (EYE_UP + EYE_LOW),
    )


def _brow(tr: Traits, au: dict[int, float], eye_centre: np.ndarray, side: int, s: float) -> Brow:
    """AU1 raises the inner 60 %, AU2 the outer 65 %, AU4 lowers the whole brow (inner end most)
    and draws it toward the midline."""
    rest_y = eye_centre[1] - (BROW_GAP - 0.008 * tr.male) * s + 0.025 * s * tr.asymmetry * side
    x_in = eye_centre[0] - side * 0.052 * s
    x_out = eye_centre[0] + side * 0.088 * s
    x = x_in + (x_out - x_in) * T
    x = x - side * 0.03 * s * (au[4] / 5) * (1 - T)  # brows knit: no trait moves the inner heads
    arch = (0.003 + 0.045 * tr.brow_arch) * s  # Arched_Eyebrows (>= 0.6): >= 3 px higher mid-brow at 112 px
    bump = BROW_ARCH
    y = rest_y - arch * bump + 0.012 * s * T**2
    w1, w2 = AU1_SPAN, AU2_SPAN
    y = y - 0.01 * s * au[1] * w1 - 0.01 * s * au[2] * w2 + 0.006 * s * au[4] * (0.6 + 0.4 * (1 - T))
    thick = 0.55 + 2.0 * tr.brow_thickness + 0.15 * tr.male  # Bushy_Eyebrows: >= 1.4x a thin brow
    t_in, t_out = 0.02 * s * thick, 0.008 * s * thick
    th = t_in * (1 - T) + t_out * T
    th = th * BROW_HEAD
    centre = xy(x, y)
    top = xy(x, y - 0.6 * th)
    bottom = xy(x, y + 0.4 * th)
    return Brow(centre, top, bottom, float(rest_y), side)


def _open_gap(au: dict[int, float], s: float, jaw_drop: float) -> float:
    """Gap between the lips (px): a dropped jaw parts relaxed lips a little even without AU25,
    fully with it."""
    a25 = au[25] / 5
    return 0.08 * s * a25 + jaw_drop * min(1.0, 0.35 + a25 * 3.0)


def _mouth_corners(
    au: dict[int, float], left: np.ndarray, right: np.ndarray, s: float, jaw_drop: float
) -> np.ndarray:
    """The mouth corners (2, 2) float32, left then right: AU12 up and out, AU15 down, AU23 and
    AU24 inward, an open mouth lower."""
    a12, a15, a23, a24 = au[12] / 5, au[15] / 5, au[23] / 5, au[24] / 5
    dx = (0.028 * a12 - 0.01 * a15 - 0.035 * a23 - 0.012 * a24) * s
    dy = (-0.034 * a12 + 0.035 * a15) * s + 0.25 * _open_gap(au, s, jaw_drop)
    y0 = left[1]
    return np.array([[left[0] - dx, y0 + dy], [right[0] + dx, y0 + dy]], np.float32)


def _mouth(
    tr: Traits, au: dict[int, float], left: np.ndarray, right: np.ndarray, s: float, jaw_drop: float
) -> Mouth:
    """Lips. AU12 corners up/out (the lip line becomes a U), AU15 corners down (an arch),
    AU10 upper lip up, AU17 lower lip pushed up, AU23 lips narrowed and tightened,
    AU24 lips pressed thin, AU25 lips apart, AU26 lower lip and jaw down (opens if AU25)."""
    a10, a12, a17 = au[10] / 5, au[12] / 5, au[17] / 5
    a23, a24 = au[23] / 5, au[24] / 5
    y0 = left[1]
    open_gap = _open_gap(au, s, jaw_drop)
    corners = _mouth_corners(au, left, right, s, jaw_drop)
    x = corners[0, 0] + (corners[1, 0] - corners[0, 0]) * T
    corner_line = corners[0, 1] + (corners[1, 1] - corners[0, 1]) * T
    centre_y = y0 + 0.006 * s * a12 - 0.014 * s * a17  # AU17 arches the lip line (inverted U)
    bend = centre_y - (corners[0, 1] + corners[1, 1]) / 2
    sin_t = ARC
    line_y = corner_line + bend * sin_t ** (0.8 + 0.6 * a12)
    thin = min(max(1 - 0.6 * a23 - 0.75 * a24 - 0.1 * a12, 0.2), 1.0)
    t_up = (0.02 + 0.016 * tr.lip_upper - 0.006 * tr.male) * s * thin
    t_low = (0.027 + 0.02 * tr.lip_lower - 0.005 * tr.male) * s * thin
    raise10 = 0.014 * s * a10 * AU10_SPAN
    gap_shape = GAP
    upper_bottom = line_y - 0.3 * open_gap * gap_shape - raise10
    lower_top = line_y + 0.7 * open_gap * gap_shape
    upper_top = upper_bottom - t_up * UPPER_LIP - 0.3 * raise10
    push17 = 0.018 * s * a17 * sin_t
    lower_bottom = lower_top + t_low * LOWER_LIP - push17

    def stack(ys: np.ndarray) -> np.ndarray:
        return xy(x, ys)

    return Mouth(
        stack(upper_top),
        stack(upper_bottom),
        stack(lower_top),
        stack(lower_bottom),
        corners,
        float(np.max(lower_top - upper_bottom)),
        stack(line_y),
    )
