"""Render one SynthFACS face: image, ground truth and masks, in the app's aligned crop.

Pipeline (all at the target size S, no upscaling): background -> hair behind the head -> ears,
neck, clothes -> skin -> folds and wrinkles -> nostrils, brows, eyes, beard, lips, glasses ->
hair cap -> lighting of a 3-D height field -> head pose warp -> occluder -> camera (blur,
contrast, grey, noise, JPEG). Every random choice is in `FaceParams`; textures are picked by
`Scene.texture_seed` through a generator whose draws never depend on the AUs.
"""

from dataclasses import dataclass
from functools import lru_cache

import cv2
import numpy as np

from fatauva.synthfacs import emotions, face_parts, masks, pose, shading, surroundings
from fatauva.synthfacs.attributes import PRESENT_MIN, attribute_vector
from fatauva.synthfacs.banks import banks
from fatauva.synthfacs.draw import planar
from fatauva.synthfacs.geometry import build
from fatauva.synthfacs.params import FaceParams
from fatauva.topology import AUS


@dataclass
class SynthLabels:
    """Ground truth of one face. Orders: topology.AUS, topology.ATTRIBUTES, template landmarks."""

    au_intensity: np.ndarray  # (14,) float32, 0..5
    au_present: np.ndarray  # (14,) int64, intensity >= 2
    attributes: np.ndarray  # (10,) int64
    valence: float
    arousal: float
    emotion: str
    pose: tuple[float, float, float]  # yaw, pitch, roll in degrees
    landmarks: np.ndarray  # (5, 2) float32 pixels in the rendered crop


@dataclass
class SynthFace:
    """A rendered face: uint8 RGB image (S, S, 3), its labels, its masks name -> bool (S, S)."""

    image: np.ndarray
    labels: SynthLabels
    masks: dict[str, np.ndarray]


@lru_cache(maxsize=4)
def _grid(size: int) -> tuple[np.ndarray, np.ndarray]:
    ys, xs = np.mgrid[0:size, 0:size].astype(np.float32)
    xs.setflags(write=False)
    ys.setflags(write=False)
    return xs, ys


def labels_of(params: FaceParams, landmarks: np.ndarray) -> SynthLabels:
    """Ground truth from the parameters (V-A = emotions.va_from_aus, or emotions.va_from_place when
    `params.va_source` is "circumplex", + the face's V-A noise)."""
    intensity = np.array([params.au[a] for a in AUS], np.float32)
    if params.va_source == "circumplex":
        v, a = emotions.va_from_place(params.emotion, params.emotion_intensity)
    else:
        v, a = emotions.va_from_aus(params.au)
    v = min(max(v + params.va_noise[0], -1.0), 1.0)
    a = min(max(a + params.va_noise[1], -1.0), 1.0)
    sc = params.scene
    return SynthLabels(
        intensity,
        (intensity >= PRESENT_MIN).astype(np.int64),
        attribute_vector(params),
        v,
        a,
        params.emotion,
        (sc.yaw, sc.pitch, sc.roll),
        landmarks.astype(np.float32),
    )


def render(params: FaceParams, size: int = 112, with_masks: bool = True) -> SynthFace:
    """Draw the face described by `params` at `size` x `size` px.

    Returns a SynthFace; `masks` maps 'AU01'.. and the part names to bool (S, S) arrays
    (empty when `with_masks` is False, which saves about a tenth of the time).
    """
    if size < 32:
        raise ValueError(f"SynthFACS renders crops of at least 32 px, got size={size}")
    tr, sc = params.traits, params.scene
    bank = banks(size)
    rng = np.random.default_rng(sc.texture_seed)
    grid = _grid(size)
    geo = build(params, size)
    skin_tex = surroundings.crop(bank.skin, rng, size)
    hair_tex = surroundings.crop(bank.hair, rng, size)
    noise = surroundings.crop(bank.noise[None], rng, size, channels_last=True)
    skin = surroundings.skin_colour(params)

    img = surroundings.background(sc, bank, rng, grid)
    lit = np.zeros((size, size), np.float32)  # what the lighting acts on: head, hair, neck
    surroundings.hair(img, params, geo, hair_tex, back=True, lit=lit)
    surroundings.ears_neck_clothes(img, params, geo, skin, lit)
    face_box, face = surroundings.face_skin(img, params, geo, skin, skin_tex, lit)
    face_parts.folds(img, params, geo)
    face_parts.paint_nostrils(img, geo, skin)
    brow_colour = np.asarray(tr.hair_colour, np.float32) * (0.55 if sum(tr.hair_colour) / 3 > 0.35 else 0.85)
    for brow in geo.brows:
        face_parts.paint_brow(img, params, brow, brow_colour, hair_tex)
    shadow = np.asarray(tr.iris_colour, np.float32) * 0.5 + skin * 0.3
    for eye in geo.eyes:
        face_parts.paint_eye(img, params, eye, shadow)
    surroundings.beard(img, params, geo, skin_tex)
    face_parts.paint_mouth(img, params, geo.mouth)
    surroundings.glasses(img, params, geo)
    surroundings.hair(img, params, geo, hair_tex, back=False, lit=lit)

    head = pose.head_depth_grid(tr, size)
    z = shading.height_field(params, geo, head, grid)
    x0, y0, x1, y1 = face_box  # highlights only where face_skin drew the face
    diffuse, spec = shading.shade(z, params, 18.0, face_box)
    factor = diffuse  # 1 + (diffuse - 1) * lit, in diffuse's buffer
    factor -= 1.0
    factor *= lit
    factor += 1.0
    img *= factor
    img *= planar(sc.light_colour)
    spec *= face
    spec *= 0.08 + 0.1 * (1 - tr.blemish)
    img[:, y0:y1, x0:x1] += spec

    landmarks = geo.landmarks
    stack = masks.frontal_masks(geo) if with_masks else None
    if pose.is_identity(sc):
        img = cv2.merge(tuple(img))
    else:
        maps = pose.warp_maps(head, sc, grid)
        img = pose.remap(img, maps)
        landmarks = pose.project(geo.landmarks, tr, sc, size)
        if stack is not None:
            stack = masks.unpack(pose.remap(masks.pack(stack), maps, nearest=True), stack.shape[0])
    # From here the image is interleaved (S, S, 3): the warp's remap returns it so, and the
    # camera's blur and 8-bit output need it so. The occluder paints through a planar view.
    surroundings.occlude(img.transpose(2, 0, 1), sc, skin, skin_tex)
    image = surroundings.camera(img, sc, noise)
    mask_dict = {} if stack is None else dict(zip(masks.mask_names(), stack.astype(bool), strict=True))
    return SynthFace(image, labels_of(params, landmarks), mask_dict)
