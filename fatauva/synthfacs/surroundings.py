"""Everything around the facial features: background, hair, ears, neck, clothes, skin, beard,
glasses, occluders and the camera's degradations.

None of these depends on an AU except where a face part follows the jaw (beard, chin shadow),
which stays inside AU26's mask.
"""

from functools import lru_cache

import cv2
import numpy as np

from fatauva.synthfacs import draw
from fatauva.synthfacs.banks import Banks
from fatauva.synthfacs.draw import bbox, blend, line_alpha, poly_alpha
from fatauva.synthfacs.draws import uniform
from fatauva.synthfacs.geometry import FaceGeometry
from fatauva.synthfacs.params import SKIN_PALETTE, FaceParams, Scene
from fatauva.template import template_points


def skin_colour(params: FaceParams) -> np.ndarray:
    """Base skin albedo (3,) from tone (palette position) and hue (pink <-> olive)."""
    tr = params.traits
    pos = min(max(tr.skin_tone, 0.0), 1.0) * (len(SKIN_PALETTE) - 1)
    i = min(int(pos), len(SKIN_PALETTE) - 2)
    c = SKIN_PALETTE[i] * (1 - (pos - i)) + SKIN_PALETTE[i + 1] * (pos - i)
    hue = np.array([0.02, -0.01, -0.035], np.float32) * tr.skin_hue
    return np.clip(c * (1 + hue * 3), 0, 1).astype(np.float32)


def crop(bank: np.ndarray, rng: np.random.Generator, size: int, channels_last: bool = False) -> np.ndarray:
    """A random S x S window of one random texture of a bank (N, [C,] 2S, 2S), or of an
    interleaved bank (N, 2S, 2S, C) with `channels_last`."""
    r = rng.random(3)  # one draw: Generator.integers costs ~10 us a call
    k, y, x = int(r[0] * bank.shape[0]), int(r[1] * size), int(r[2] * size)
    if channels_last:
        return bank[k, y : y + size, x : x + size]
    return bank[k, ..., y : y + size, x : x + size]


def background(
    scene: Scene, banks: Banks, rng: np.random.Generator, grid: tuple[np.ndarray, np.ndarray]
) -> np.ndarray:
    """Plain studio gradient, tinted texture or clutter, planar (3, S, S) float32."""
    size = banks.size
    tex = crop(banks.background, rng, size)
    angle = uniform(rng, 0, 2 * np.pi)
    if scene.background == 2:
        return tex.copy()
    c1 = draw.planar(scene.background_colour)
    c2 = draw.planar(scene.background_colour2)
    cx, cy = np.float32(0.8 * np.cos(angle) / size), np.float32(0.8 * np.sin(angle) / size)
    # ramp = clip(cx x + cy y + offset, 0, 1), gradient = c1 + (c2 - c1) ramp, in place
    ramp = cx * grid[0]
    ramp += cy * grid[1]
    ramp += np.float32(0.5 - 0.4 * (np.cos(angle) + np.sin(angle)))
    np.clip(ramp, 0, 1, out=ramp)
    gradient = (c2 - c1) * ramp
    gradient += c1
    if scene.background == 0:
        return gradient
    tinted = 0.5 + tex
    tinted *= gradient
    return np.minimum(tinted, 1.0, out=tinted)


def head_arc(geo: FaceGeometry, below: float, grow: float) -> np.ndarray:
    """The outline above y = `below` (crop units) from left to right over the top, scaled by
    (1 + grow) about the head centre: the outer edge of the hair. Above y = 0.38 the outline
    spline depends on the cranium only (not on the jaw or AU26)."""
    s = float(geo.size)
    o = geo.outline
    centre = np.array([0.5 * s, 0.45 * s], np.float32)
    o = centre + (o - centre) * (1 + grow)
    keep = o[:, 1] < below * s
    idx = np.nonzero(keep)[0]
    # The outline starts at the top and runs clockwise: the kept points wrap around index 0.
    split = np.nonzero(np.diff(idx) > 1)[0]
    if len(split):
        idx = np.concatenate([idx[split[0] + 1 :], idx[: split[0] + 1]])
    return o[idx]


def raise_lit(lit: np.ndarray, box: tuple[int, int, int, int], coverage: np.ndarray) -> None:
    """In place: `lit` (S, S), the coverage the lighting acts on, raised to `coverage` (the shape
    of `box`) inside `box`; a part covers nothing outside its box."""
    x0, y0, x1, y1 = box
    region = lit[y0:y1, x0:x1]
    np.maximum(region, coverage, out=region)


def hair(
    img: np.ndarray, params: FaceParams, geo: FaceGeometry, tex: np.ndarray, back: bool, lit: np.ndarray
) -> None:
    """Hair behind the head (`back`, long styles) or the cap in front; `lit` is raised to its
    coverage so the caller can light it."""
    tr, s = params.traits, float(geo.size)
    style = tr.hair_style
    colour = draw.planar(tr.hair_colour)
    if back:
        if style != 2:
            return
        arc = head_arc(geo, 0.38, 0.09)
        w = geo.cheek_half_width / s + 0.09
        poly = np.concatenate([[[0.5 * s - w * s, 1.05 * s]], arc, [[0.5 * s + w * s, 1.05 * s]]])
    else:
        arc = head_arc(geo, 0.38, 0.05 if style != 0 else 0.01)
        poly = np.concatenate([arc, _hairline(geo, style)[::-1]])
    box = bbox(poly, geo.size)
    if box is None:
        return
    x0, y0, x1, y1 = box
    a = draw.soften(poly_alpha([poly], box), 3, 0.8 * s / 112)
    density = 0.45 if style == 0 else 1.0
    shine = 0.18 * tex[y0:y1, x0:x1]
    shine += 1.0
    cover = a * density
    blend(img, box, cover, colour * shine)
    raise_lit(lit, box, cover)


def _hairline(geo: FaceGeometry, style: int) -> np.ndarray:
    """Hairline from left temple to right temple (across the forehead), per style."""
    s = float(geo.size)
    wc = geo.cheek_half_width / s
    top = {0: 0.12, 1: 0.13, 2: 0.12, 3: 0.24, 4: 0.05, 5: 0.11}[style]
    temple = 0.17 if style == 4 else top + 0.06
    pts = np.array(
        [
            [0.5 - wc - 0.01, 0.40],
            [0.5 - wc + 0.03, 0.28],
            [0.5 - 0.2, temple],
            [0.5 - 0.08, top + 0.01],
            [0.5, top],
            [0.5 + 0.08, top + 0.01],
            [0.5 + 0.2, temple],
            [0.5 + wc - 0.03, 0.28],
            [0.5 + wc + 0.01, 0.40],
        ],
        np.float32,
    )
    if style == 3:  # a fringe falls lower at the sides of the forehead too
        pts[2:7, 1] = [top - 0.01, top + 0.015, top, top + 0.02, top - 0.01]
    return draw.catmull_rom(pts * s, samples=5)


NECK = np.array([[0.35, 0.6], [0.65, 0.6], [0.67, 1.05], [0.33, 1.05]], np.float32)
SHIRT = np.array(
    [
        [0, 0.9],
        [0.2, 0.93],
        [0.34, 0.97],
        [0.5, 1.01],
        [0.66, 0.97],
        [0.8, 0.93],
        [1, 0.9],
        [1, 1.05],
        [0, 1.05],
    ],
    np.float32,
)


@lru_cache(maxsize=4)
def _neck_and_shirt(
    size: int,
) -> tuple[tuple[int, int, int, int], np.ndarray, tuple[int, int, int, int], np.ndarray]:
    """Neck box and coverage, shirt box and coverage: the same for every face, drawn once."""
    neck, shirt = NECK * size, SHIRT * size
    nb = bbox(neck, size)
    a_neck = poly_alpha([neck], nb)
    sb = bbox(shirt, size)
    a_shirt = poly_alpha([shirt], sb)
    a_neck.setflags(write=False)
    a_shirt.setflags(write=False)
    return nb, a_neck, sb, a_shirt


def ears_neck_clothes(
    img: np.ndarray, params: FaceParams, geo: FaceGeometry, skin: np.ndarray, lit: np.ndarray
) -> None:
    """Ears, neck with the chin's shadow, shoulders in clothes; `lit` is raised to the coverage
    of neck and ears (the clothes are not lit)."""
    s = float(geo.size)
    wc = geo.cheek_half_width
    nb, a_neck, sb, a_shirt = _neck_and_shirt(geo.size)
    blend(img, nb, a_neck, skin * 0.82)
    shadow_c = (0.5 * s, geo.chin_y + 0.012 * s)
    box = draw.box_around(*shadow_c, 0.17 * s, 0.05 * s, geo.size)
    if box is not None:
        a = draw.ellipse_alpha(shadow_c, (0.16 * s, 0.045 * s), 0, box)
        draw.scale_region(img, box, draw.soften(a, 5, 1.5 * s / 112), 0.6)
    raise_lit(lit, nb, a_neck)
    for side in (-1, 1):
        c = (0.5 * s + side * (wc - 0.004 * s), 0.47 * s)
        box = draw.box_around(*c, 0.05 * s, 0.09 * s, geo.size)
        if box is None:
            continue
        a = draw.ellipse_alpha(c, (0.035 * s, 0.075 * s), side * -8.0, box)
        blend(img, box, a, skin * 0.95)
        inner = draw.ellipse_alpha((c[0] + side * 0.008 * s, c[1]), (0.016 * s, 0.05 * s), 0, box)
        blend(img, box, inner * 0.4, skin * 0.6)
        raise_lit(lit, box, a)
    blend(img, sb, a_shirt, params.scene.clothing_colour)


def face_skin(
    img: np.ndarray, params: FaceParams, geo: FaceGeometry, skin: np.ndarray, tex: np.ndarray, lit: np.ndarray
) -> tuple[tuple[int, int, int, int], np.ndarray]:
    """Skin inside the face outline: base tone, texture, blush, darker eye surroundings; `lit` is
    raised to the face's coverage. Returns the face's box, `bbox(geo.outline, S)`, and its
    coverage inside that box (none outside)."""
    tr, s = params.traits, float(geo.size)
    box = bbox(geo.outline, geo.size)
    x0, y0, x1, y1 = box
    origin = np.array([x0, y0], np.float32)
    red = np.zeros((y1 - y0, x1 - x0), np.float32)
    dark = np.zeros_like(red)
    for eye in geo.eyes:
        c = eye.centre - origin
        draw.add_bump(red, c + [0.01 * eye.side * s, 0.14 * s], (0.09 * s, 0.07 * s), tr.blush)
        draw.add_bump(dark, c + [0, 0.01 * s], (0.08 * s, 0.05 * s), 0.5 + 0.5 * tr.skin_tone)
    draw.add_bump(red, geo.nose_tip - origin, (0.04 * s, 0.03 * s), 0.5 * tr.blush + 0.2)
    grain = 0.02 + 0.12 * tr.blemish + 0.015 * (tr.age > 50)  # blotchy, uneven skin: not Attractive
    shade = grain * tex[y0:y1, x0:x1] - 0.12 * dark
    shade += 1.0
    albedo = draw.planar(skin) * shade
    albedo += red * draw.planar([0.05, -0.035, -0.03])
    a = poly_alpha([geo.outline], box)
    blend(img, box, a, albedo)
    raise_lit(lit, box, a)
    return box, a


def beard(img: np.ndarray, params: FaceParams, geo: FaceGeometry, tex: np.ndarray) -> None:
    """Beard (full, goatee or stubble) following the current jaw line; lips are drawn over it."""
    tr, s = params.traits, float(geo.size)
    if tr.beard <= 0:
        return
    o = geo.outline
    centre = np.array([0.5 * s, 0.5 * s], np.float32)
    lower = centre + (o[o[:, 1] > 0.47 * s] - centre) * 0.985
    lower = lower[np.argsort(np.arctan2(lower[:, 1] - centre[1], lower[:, 0] - centre[0]))]
    nose_y = geo.nostrils[0, 1] + 0.012 * s
    mc = template_points(geo.size)[3:5]  # neutral corners: the lips move, the goatee does not
    if tr.beard_style == 1:
        lower = lower[np.abs(lower[:, 0] - 0.5 * s) < 0.1 * s]
        top = np.array(
            [
                [mc[0, 0] - 0.018 * s, mc[0, 1] + 0.03 * s],
                [mc[0, 0] - 0.012 * s, nose_y + 0.004 * s],
                [mc[1, 0] + 0.012 * s, nose_y + 0.004 * s],
                [mc[1, 0] + 0.018 * s, mc[1, 1] + 0.03 * s],
            ]
        )
    else:
        top = np.array(
            [
                [0.5 * s - 0.2 * s, 0.6 * s],
                [0.5 * s - 0.075 * s, nose_y],
                [0.5 * s + 0.075 * s, nose_y],
                [0.5 * s + 0.2 * s, 0.6 * s],
            ]
        )
    poly = np.concatenate([lower, top]).astype(np.float32)  # jaw right->left, then top left->right
    box = bbox(poly, geo.size, margin=3)
    if box is None:
        return
    x0, y0, x1, y1 = box
    a = draw.soften(poly_alpha([poly], box), 5, 1.2 * s / 112)
    density = 0.25 + 0.8 * tr.beard if tr.beard_style == 2 else 0.95 * tr.beard  # stubble: a beard shadow
    a = a * np.clip(density * (0.85 + 0.2 * tex[y0:y1, x0:x1]), 0, 1)
    blend(img, box, a, np.asarray(tr.hair_colour, np.float32) * 0.85)


def glasses(img: np.ndarray, params: FaceParams, geo: FaceGeometry) -> None:
    """Eyeglasses: round thin (1) or rectangular thick (2) frames, tinted lenses with a glare."""
    tr, s = params.traits, float(geo.size)
    if tr.glasses == 0:
        return
    px = s / 112.0
    colour = np.asarray(tr.glasses_colour, np.float32)
    rims = []
    for eye in geo.eyes:
        c = eye.centre + [eye.side * 0.004 * s, 0.004 * s]
        t = np.linspace(0, 2 * np.pi, 33, dtype=np.float32)[:-1]
        if tr.glasses == 1:
            rim = np.stack([c[0] + 0.05 * s * np.cos(t), c[1] + 0.047 * s * np.sin(t)], 1)
        else:
            p = 0.3  # superellipse exponent: a rounded rectangle
            cs, sn = np.cos(t), np.sin(t)
            rim = np.stack(
                [
                    c[0] + 0.062 * s * np.sign(cs) * np.abs(cs) ** p,
                    c[1] + 0.04 * s * np.sign(sn) * np.abs(sn) ** p,
                ],
                1,
            )
        rims.append(rim.astype(np.float32))
    box = bbox(np.concatenate(rims), geo.size, margin=0.03 * s)
    if box is None:
        return
    lens = poly_alpha(rims, box)
    blend(img, box, lens * 0.1, (0.85, 0.9, 0.95))
    x0, y0, x1, y1 = box
    yy, xx = np.mgrid[y0:y1, x0:x1].astype(np.float32)
    glare = np.clip(1 - np.abs(((xx + yy) / s * 8) % 2 - 1) * 3, 0, 1)
    blend(img, box, lens * glare * 0.06, (1.0, 1.0, 1.0))
    width = (1.0 if tr.glasses == 1 else 2.0) * px
    left, right = rims
    bridge = draw.catmull_rom(np.array([left[0], 0.5 * (left[0] + right[16]) - [0, 0.012 * s], right[16]]), 5)
    stubs = [
        np.array([r[i], r[i] + [side * 0.022 * s, -0.002 * s]])
        for r, i, side in ((left, 16, -1), (right, 0, 1))
    ]
    frame = line_alpha([np.vstack([r, r[:1]]) for r in rims] + [bridge] + stubs, width, box)
    blend(img, box, frame, colour)


def occlude(img: np.ndarray, scene: Scene, skin: np.ndarray, tex: np.ndarray) -> None:
    """A hand-like skin blob (1) or a textured object (2) in front of the face, in image space."""
    if scene.occlusion == 0:
        return
    size = img.shape[-1]
    cx, cy, w, h = (v * size for v in scene.occlusion_box)
    box = draw.box_around(cx, cy, w, h, size)
    if box is None:
        return
    c = np.array([cx, cy])
    if scene.occlusion == 1:
        a = draw.ellipse_alpha(c, (w * 0.5, h * 0.5), 25.0, box)
        x0, y0, x1, y1 = box
        blend(img, box, a, draw.planar(skin) * (1 + 0.05 * tex[y0:y1, x0:x1]))
        fingers = [
            np.array([c + [(i - 1.5) * w * 0.22, -h * 0.45], c + [(i - 1.5) * w * 0.22, h * 0.1]])
            for i in range(4)
        ]
        draw.scale_region(img, box, line_alpha(fingers, 1.0 * size / 112, box) * a, 0.75)
    else:
        rect = np.array(
            [
                [cx - w / 2, cy - h / 2],
                [cx + w / 2, cy - h / 2],
                [cx + w / 2, cy + h / 2],
                [cx - w / 2, cy + h / 2],
            ],
            np.float32,
        )
        a = poly_alpha([rect], box)
        x0, y0, x1, y1 = box
        colour = draw.planar(scene.occlusion_colour) * (1 + 0.2 * tex[y0:y1, x0:x1])
        blend(img, box, a, colour)


def camera(img: np.ndarray, scene: Scene, noise: np.ndarray) -> np.ndarray:
    """Blur, contrast / brightness, grey, sensor noise, 8-bit and JPEG: interleaved float
    (S, S, 3) image and noise -> interleaved uint8 (S, S, 3). `img` is used up (scaled in place)."""
    size = img.shape[0]
    if scene.blur > 0:
        # One 3-channel blur: the same pixels as three planar ones, in one pass.
        img = cv2.GaussianBlur(img, (0, 0), scene.blur * size / 112.0)
    if scene.grayscale:
        # Explicit weighted sum, not a matmul: BLAS threads would spin in every data worker.
        r, g, b = img[..., 0], img[..., 1], img[..., 2]
        grey = r * np.float32(0.299) + g * np.float32(0.587) + b * np.float32(0.114)
        img = cv2.merge((grey, grey, grey))
    # contrast about mid-grey, brightness, then 8-bit with rounding: one scale and one offset
    gain = np.float32(255.0 * scene.contrast)
    img *= gain
    img += np.float32(255.0 * (0.5 - 0.5 * scene.contrast + scene.brightness) + 0.5)
    if scene.noise > 0:
        img += noise * np.float32(255.0 * scene.noise)
    out = np.clip(img, 0, 255, out=img).astype(np.uint8)
    if scene.jpeg_quality > 0:
        # Contiguous BGR in, RGB decoded directly: reversed-stride views made OpenCV take a copy
        # path that cost more than the codec itself.
        bgr = cv2.cvtColor(out, cv2.COLOR_RGB2BGR)
        ok, buf = cv2.imencode(".jpg", bgr, [cv2.IMWRITE_JPEG_QUALITY, int(scene.jpeg_quality)])
        out = cv2.imdecode(buf, cv2.IMREAD_COLOR_RGB)
    return out
