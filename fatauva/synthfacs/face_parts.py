"""Albedo of the face itself: skin, folds and wrinkles, eyes, brows, nose and mouth.

Each function paints into a planar float32 RGB albedo image (3, S, S) in place, inside the
bounding box of what it draws. Shading by the height field happens later (render.py), so a lip
or brow is lit like the skin around it. FACS appearance changes drawn here, per AU: AU1
central / AU2 lateral forehead wrinkles, AU4 vertical glabella furrows, AU6 crow's feet and
infra-orbital furrow, AU10/AU12 deeper nasolabial folds (AU12 also curves them round the raised
cheek), AU15 marionette lines, AU17 chin dimpling and a deeper mentolabial furrow, AU23 vertical lip
lines, AU24 a firmer line where the pressed lips meet.
"""

from functools import lru_cache

import cv2
import numpy as np

from fatauva.synthfacs import draw
from fatauva.synthfacs.draw import bbox, blend, line_alpha, poly_alpha, scale_region, xy
from fatauva.synthfacs.geometry import Brow, Eye, FaceGeometry, Mouth, T
from fatauva.synthfacs.params import FaceParams
from fatauva.template import template_points

PERIORAL = (4, 6, 8, 10, 12)  # lip-contour samples where AU23's vertical lip lines cross the borders


def age_k(params: FaceParams) -> float:
    """Wrinkle depth from age: 0 at 28 years, 1 at 68 (random faces: <= 0.1 when Young, >= 0.45 when not)."""
    return min(max((params.traits.age - 28.0) / 40.0, 0.0), 1.0)


Crease = tuple[list[np.ndarray], int, int]  # polylines, 8-bit darkness, thickness (px)


def crease(creases: list[Crease], lines: list[np.ndarray], depth: float, width: float) -> None:
    """Add a fold or wrinkle of given depth (0..0.8, fraction of light it takes) and width (px)
    to `creases`; `folds` draws them on its (S, S) uint8 crease canvas, then darkens the albedo
    by it once."""
    if depth <= 0.002:
        return
    value = int(round(255 * min(depth, 0.8) * min(width, 1.0)))
    creases.append((lines, value, max(int(round(width)), 1)))


def draw_creases(canvas: np.ndarray, creases: list[Crease]) -> None:
    """Draw `creases` on `canvas` in the order they were added (an anti-aliased line blends into
    what is drawn before it), the points of all of them converted to fixed point at once."""
    if not creases:
        return
    points = draw.fixed_lines([p for lines, _, _ in creases for p in lines])
    start = 0
    for lines, value, thickness in creases:
        polylines = points[start : start + len(lines)]
        cv2.polylines(canvas, polylines, False, value, thickness, cv2.LINE_AA, draw.SHIFT)
        start += len(lines)


def folds(img: np.ndarray, params: FaceParams, geo: FaceGeometry) -> None:
    """All skin folds and wrinkles, static (age) and AU-driven."""
    au, s, k = params.au, float(geo.size), age_k(params)
    px = s / 112.0
    creases: list[Crease] = []
    _forehead(creases, params, geo, k, px)
    # Points as Python floats: the same float64 values that float32 points plus offset lists give,
    # without an array operation for each point.
    tp = template_points(geo.size).tolist()
    nostrils = geo.nostrils.tolist()
    a12 = au[12] / 5
    for i, side in enumerate((-1, 1)):
        eye = geo.eyes[i]
        ox, oy = eye.upper[-1].tolist()
        feet = [
            np.array(
                [[ox + side * 0.012 * s, oy + d * 0.012 * s], [ox + side * 0.045 * s, oy + d * 0.03 * s]]
            )
            for d in (-0.6, 0.3, 1.1)
        ]
        crease(creases, feet, 0.04 * au[6] + 0.3 * k, 0.9 * px)
        furrow = eye.lower * [1, 1] + [0, eye.height_low + 0.022 * s]
        crease(creases, [furrow[3:-2]], 0.035 * au[6] + 0.2 * k, 1.2 * px)
        crease(creases, [eye.crease], 0.22 + 0.1 * k, 1.0 * px)
        lid_bulge = eye.lower[2:-2] + [0, 0.011 * s]  # AU7: the tightened lower lid bunches up
        crease(creases, [lid_bulge], 0.08 * au[7], 1.2 * px)
        (nx, ny), (cx, cy) = nostrils[i], tp[3 + i]
        wing = (nx + side * 0.016 * s, ny - 0.006 * s)
        corner0 = (cx + side * 0.028 * s * a12, cy - 0.034 * s * a12)
        end = (corner0[0] + side * 0.02 * s, corner0[1] + 0.025 * s)
        mid = (
            0.5 * (wing[0] + end[0]) + side * (0.014 + 0.012 * a12) * s,
            0.5 * (wing[1] + end[1]) - 0.004 * s,
        )
        fold = draw.catmull_rom(np.array([wing, mid, end]), samples=6)
        rest = 0.02 + 0.12 * params.traits.folds + 0.1 * k
        crease(creases, [fold], rest + 0.035 * au[12] + 0.035 * au[10], (1.6 + 0.6 * a12) * px)
        alar = np.array(
            [(nx + side * 0.004 * s, ny - 0.016 * s), wing, (nx + side * 0.008 * s, ny + 0.004 * s)]
        )
        crease(creases, [draw.catmull_rom(alar, 4)], 0.1, 0.9 * px)
        y15 = cy + 0.022 * s * au[15] / 5
        marionette = np.array(
            [(cx + side * 0.006 * s, y15 + 0.012 * s), (cx + side * 0.018 * s, y15 + 0.055 * s)]
        )
        crease(creases, [marionette], 0.08 * au[15] + 0.08 * k + 0.06 * params.traits.folds, 1.1 * px)
    m = geo.mouth
    sulcus = m.lower_bottom[4:-4] + [0, 0.014 * s]
    crease(creases, [sulcus], 0.06 + 0.07 * au[17], 1.4 * px)
    if au[23] > 0:  # tightened lips pucker their borders into short vertical lines
        up, down = np.array([0, -0.018 * s]), np.array([0, 0.014 * s])
        lines = [np.array([m.upper_top[i] + up, m.upper_top[i] - 0.3 * up]) for i in PERIORAL]
        lines += [np.array([m.lower_bottom[i] - 0.35 * down, m.lower_bottom[i] + down]) for i in PERIORAL]
        crease(creases, lines, 0.12 * au[23], 1.0 * px)
    canvas = np.zeros((geo.size, geo.size), np.uint8)
    draw_creases(canvas, creases)
    # Blur and darken only around what was drawn: a 2 px margin of zeros holds the 3x3 kernel,
    # so the result equals the whole-canvas blur, at a third of the pixels.
    x, y, w, h = cv2.boundingRect(canvas)
    if w:
        x0, y0, x1, y1 = max(x - 2, 0), max(y - 2, 0), min(x + w + 2, geo.size), min(y + h + 2, geo.size)
        soft = cv2.GaussianBlur(canvas[y0:y1, x0:x1].astype(np.float32) * (1.0 / 255.0), (3, 3), 0.7 * px)
        img[:, y0:y1, x0:x1] *= 1.0 - soft
    _chin_dimpling(img, params, geo)


def _forehead(creases: list[Crease], params: FaceParams, geo: FaceGeometry, k: float, px: float) -> None:
    """Horizontal forehead lines: age across the forehead, AU1 in the middle, AU2 at the sides."""
    au, s = params.au, float(geo.size)
    left, right = geo.brows
    y0 = min(left.rest_y, right.rest_y) - 0.05 * s
    rows = y0 - np.arange(3) * 0.026 * s
    if k > 0.03:
        xs = np.linspace(0.33 * s, 0.67 * s, 9)
        lines = [xy(xs, y + np.sin(xs / s * 9 + j) * 0.004 * s) for j, y in enumerate(rows)]
        crease(creases, lines, 0.25 * k, 1.0 * px)
    if au[1] > 0:
        mid = np.linspace(left.centre[5, 0], right.centre[5, 0], 7)
        bend = np.sin(mid / s * 7) * 0.003 * s
        crease(creases, [xy(mid, y - bend) for y in rows], 0.05 * au[1], 1.1 * px)
    if au[2] > 0:
        lines = []
        for brow in (left, right):
            xs2 = np.linspace(brow.centre[7, 0], brow.centre[-1, 0], 5)
            rise = 0.004 * s * np.linspace(0.0, 1.0, 5)
            lines += [xy(xs2, y + rise) for y in rows]
        crease(creases, lines, 0.05 * au[2], 1.1 * px)
    if au[4] > 0:
        glabella = [
            np.array(
                [
                    [0.5 * s + d * 0.018 * s, left.rest_y - 0.02 * s],
                    [0.5 * s + d * 0.014 * s, left.rest_y + 0.025 * s],
                ]
            )
            for d in (-1, 1)
        ]
        crease(creases, glabella, 0.1 * au[4], 1.3 * px)


def _chin_dimpling(img: np.ndarray, params: FaceParams, geo: FaceGeometry) -> None:
    """AU17 wrinkles the chin boss like orange peel (a fixed dimple pattern, deeper with AU17)."""
    a17 = params.au[17]
    if a17 <= 0:
        return
    s = float(geo.size)
    centre = (0.5 * s, geo.chin_y - 0.05 * s)
    box = draw.box_around(*centre, 0.06 * s, 0.035 * s, geo.size)
    if box is None:
        return
    a = draw.ellipse_alpha(centre, (0.055 * s, 0.03 * s), 0.0, box)
    x0, y0, x1, y1 = box
    yy, xx = np.mgrid[y0:y1, x0:x1].astype(np.float32)
    pattern = 0.5 + 0.5 * np.sin(xx * (2.1 * 112 / s)) * np.sin(yy * (1.7 * 112 / s))
    scale_region(img, box, a * pattern, 1.0 - 0.06 * a17)


def paint_eye(img: np.ndarray, params: FaceParams, eye: Eye, shadow_colour: np.ndarray) -> None:
    """Sclera, iris, pupil, catch-light, lid shadow, lashes and eye make-up of one eye."""
    s = float(img.shape[-1])
    px = s / 112.0
    tr = params.traits
    box = bbox(np.concatenate([eye.upper, eye.lower, eye.crease]), img.shape[-1], margin=3 * px)
    if box is None:
        return
    opening = np.concatenate([eye.upper, eye.lower[::-1]])
    if tr.makeup > 0:
        lid = np.concatenate([eye.crease, eye.upper[::-1]])
        blend(img, box, poly_alpha([lid], box) * 0.45 * tr.makeup, shadow_colour)
    if eye.opening > 0.04:
        a_open = poly_alpha([opening], box)
        sclera = np.array([0.82, 0.79, 0.76], np.float32) * (0.9 + 0.1 * tr.blemish)
        x0, y0, x1, y1 = box
        dx = draw.count(x0, x1) - np.float32(eye.iris[0])
        dy = draw.count(y0, y1)[:, None] - np.float32(eye.iris[1])
        r = np.sqrt(dx * dx + dy * dy) * np.float32(1.0 / eye.iris_r)  # radius in iris radii
        # One radial profile: iris disc with a darker limbal ring, pupil, anti-aliased edges.
        iris_a = np.clip((1.0 - r) * eye.iris_r + 0.5, 0.0, 1.0)
        pupil_a = np.clip((0.38 - r) * eye.iris_r + 0.5, 0.0, 1.0)
        limbus = np.clip((r - 0.7) * (1.0 / 0.3), 0.0, 1.0)
        iris = draw.planar(tr.iris_colour) * (1.0 - 0.55 * limbus)
        colour = iris * (1.0 - pupil_a) + np.float32(0.02) * pupil_a
        sclera = draw.planar(sclera)
        colour = sclera + (colour - sclera) * iris_a
        gx, gy = dx - 0.35 * eye.iris_r, dy + 0.35 * eye.iris_r
        glint = np.clip((0.28 - np.sqrt(gx * gx + gy * gy) / eye.iris_r) * eye.iris_r + 0.5, 0.0, 1.0)
        colour = colour + (1.0 - colour) * (0.85 * glint)
        lid_shadow = np.concatenate([eye.upper, (eye.upper + [0, 0.35 * eye.height_up + 0.6 * px])[::-1]])
        colour = colour * (1.0 - 0.4 * poly_alpha([lid_shadow], box))
        blend(img, box, a_open, colour)
    lash_w = (1.05 + 0.6 * tr.makeup + 0.2 * (not tr.male)) * (0.6 + 0.4 * min(eye.opening / 0.5, 1.0))
    lash = line_alpha([eye.upper], lash_w * px, box)
    blend(img, box, lash * 0.9, (0.04, 0.03, 0.03))
    lower = line_alpha([eye.lower[1:-1]], 0.8 * px, box)
    scale_region(img, box, lower, 0.72)


def paint_brow(
    img: np.ndarray, params: FaceParams, brow: Brow, colour: np.ndarray, hair_tex: np.ndarray
) -> None:
    """An eyebrow: a tapered polygon filled with hair texture; bushier = thicker and denser."""
    px = img.shape[-1] / 112.0
    outline = np.concatenate([brow.top, brow.bottom[::-1]])
    box = bbox(outline, img.shape[-1], margin=2 * px)
    if box is None:
        return
    a = draw.soften(poly_alpha([outline], box), 3, 0.6 * px)
    x0, y0, x1, y1 = box
    density = 0.55 + 0.45 * params.traits.brow_thickness
    hairs = 0.15 * hair_tex[y0:y1, x0:x1]  # a * clip(density + 0.15 tex, 0, 1), in place
    hairs += density
    np.clip(hairs, 0.0, 1.0, out=hairs)
    hairs *= a
    blend(img, box, hairs, colour)


def paint_nostrils(img: np.ndarray, geo: FaceGeometry, skin: np.ndarray) -> None:
    """Nostrils and the shadow under the nose tip."""
    s = float(geo.size)
    tx, ty = geo.nose_tip.tolist()
    tip = (tx, ty + 0.018 * s)
    box = draw.box_around(*tip, 0.04 * s, 0.04 * s, geo.size)
    if box is not None:
        a = draw.soften(draw.ellipse_alpha(tip, (0.032 * s, 0.009 * s), 0.0, box), 5, 1.2 * s / 112)
        scale_region(img, box, a, 0.84)
    for i, side in enumerate((-1, 1)):
        nx, ny = geo.nostrils[i].tolist()
        c = (nx - side * 0.006 * s, ny)
        box = draw.box_around(*c, 0.02 * s, 0.02 * s, geo.size)
        if box is None:
            continue
        a = draw.ellipse_alpha(c, (0.009 * s, 0.0045 * s), side * 20.0, box)
        blend(img, box, a * 0.45, skin * 0.35)


def paint_mouth(img: np.ndarray, params: FaceParams, m: Mouth) -> None:
    """Lips with colour and volume cues, then the mouth cavity, teeth and tongue where parted."""
    s = float(img.shape[-1])
    px = s / 112.0
    box = bbox(np.concatenate([m.upper_top, m.lower_bottom]), img.shape[-1], margin=3 * px)
    if box is None:
        return
    lip = np.asarray(params.traits.lip_colour, np.float32)
    upper = np.concatenate([m.upper_top, m.upper_bottom[::-1]])
    lower = np.concatenate([m.lower_top, m.lower_bottom[::-1]])
    # Soft vermilion borders: real lips blend into the skin over a pixel or so at 112 px.
    blend(img, box, draw.soften(poly_alpha([upper], box), 3, 0.7 * px), lip * 0.88)
    blend(img, box, draw.soften(poly_alpha([lower], box), 3, 0.7 * px), lip)
    mid = len(T) // 2
    sheen_c = 0.5 * (m.lower_top[mid] + m.lower_bottom[mid]) + [
        0,
        -0.1 * (m.lower_bottom[mid, 1] - m.lower_top[mid, 1]),
    ]
    half_w = 0.5 * float(m.corners[1, 0] - m.corners[0, 0])
    low_h = float(m.lower_bottom[mid, 1] - m.lower_top[mid, 1])
    sheen = draw.ellipse_alpha(sheen_c, (0.35 * half_w, 0.22 * low_h + 0.3), 0, box)
    scale_region(img, box, sheen, 1.18)
    if m.opening > 0.35 * px:
        _cavity(img, box, m, px)
    else:
        press = params.au[24] / 5  # AU24: pressed lips meet in a darker, firmer line
        line = line_alpha([m.line], (1.0 + 0.8 * press) * px, box)
        blend(img, box, line * (0.55 + 0.35 * press), lip * (0.45 - 0.2 * press))
    for c in m.corners:
        a = draw.ellipse_alpha(c, (1.2 * px, 1.0 * px), 0, box)
        scale_region(img, box, a, 0.8)


def _cavity(img: np.ndarray, box: tuple[int, int, int, int], m: Mouth, px: float) -> None:
    a_open = poly_alpha([np.concatenate([m.upper_bottom, m.lower_top[::-1]])], box)
    blend(img, box, a_open, (0.18, 0.05, 0.05))
    mid = len(T) // 2
    tx, ty = m.lower_top[mid].tolist()
    tongue = draw.ellipse_alpha(
        (tx, ty - 0.25 * m.opening), (0.28 * (m.corners[1, 0] - m.corners[0, 0]), 0.3 * m.opening), 0, box
    )
    blend(img, box, tongue * a_open * 0.8, (0.55, 0.22, 0.22))
    teeth_h, upper_step, lower_step = _teeth(img.shape[-1])
    upper_teeth = np.concatenate([m.upper_bottom - [0, px], (m.upper_bottom + upper_step)[::-1]])
    a_teeth = poly_alpha([upper_teeth], box) * a_open
    blend(img, box, a_teeth * 0.97, (0.92, 0.9, 0.83))
    lower_teeth = np.concatenate([m.lower_top + lower_step, (m.lower_top + [0, px])[::-1]])
    blend(img, box, poly_alpha([lower_teeth], box) * a_open * 0.75, (0.72, 0.7, 0.62))
    gaps = []
    for i in (5, 7, 9, 11):
        gx, gy = m.upper_bottom[i].tolist()
        gaps.append(np.array([(gx, gy + 0.3 * px), (gx, gy + float(teeth_h[i, 0]))]))
    scale_region(img, box, line_alpha(gaps, 0.6 * px, box) * a_teeth, 0.88)
    scale_region(img, box, a_open * _corner_falloff(box, m), 0.45)


TEETH_DEPTH = np.clip(np.sin(np.pi * T), 0, 1)[:, None] ** 0.35  # teeth height along the lips (K, 1)


@lru_cache(maxsize=4)
def _teeth(size: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Teeth heights (K, 1) px at `size` and the (K, 2) steps from the upper lip's lower edge and
    the lower lip's upper edge to the teeth's edges (read-only: the same for every face)."""
    teeth_h = 0.024 * size * TEETH_DEPTH
    steps = np.hstack([0 * teeth_h, teeth_h]), np.hstack([0 * teeth_h, -0.55 * teeth_h])
    for a in (teeth_h, *steps):
        a.setflags(write=False)
    return teeth_h, *steps


def _corner_falloff(box: tuple[int, int, int, int], m: Mouth) -> np.ndarray:
    """1 near the mouth corners, 0 in the middle: the cavity darkens toward the corners."""
    x0, _, x1, _ = box
    xs = draw.count(x0, x1)
    centre = 0.5 * (m.corners[0, 0] + m.corners[1, 0])
    half = max(0.5 * float(m.corners[1, 0] - m.corners[0, 0]), 1.0)
    row = np.clip((np.abs(xs - centre) / half - 0.45) / 0.55, 0, 1)
    return np.broadcast_to(row[None, :], (box[3] - box[1], x1 - x0))
