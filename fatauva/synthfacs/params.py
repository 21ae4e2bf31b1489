"""SynthFACS controls: every property of a face lives in one `FaceParams`.

Callers (the trainer's sampler, the app's sliders, tests) set fields directly; `FaceParams.random`
fills all of them from a seeded generator. Rendering is a pure function of a `FaceParams`: no
random number is drawn while drawing, so changing one AU changes nothing else.
"""

from dataclasses import dataclass, field, replace

import numpy as np

from fatauva.synthfacs import emotions
from fatauva.synthfacs.draws import choice_cdf, pick, uniform
from fatauva.topology import AUS

RGB = tuple[float, float, float]

# Random faces keep clear of every label threshold of attributes.py (a test checks that each gap
# holds its threshold): a label is only learnable, and only fair to score, where the pixels show
# it. Callers that set a trait directly (the app's sliders) may still put it anywhere.
ARCH_GAP = (0.42, 0.78)  # Arched_Eyebrows: brow_arch >= 0.6
BUSHY_GAP = (0.48, 0.76)  # Bushy_Eyebrows: brow_thickness >= 0.62
AGE_GAP = (32.0, 46.0)  # Young: age < 38
BEARD_GAP = (0.22, 0.55)  # No_Beard: beard < 0.35
ASYMMETRY_GAP = (0.15, 0.5)  # Attractive: asymmetry < 0.3
BLEMISH_GAP = (0.2, 0.5)  # Attractive: blemish < 0.35
NARROW_GAP = (0.54, 0.70)  # Narrow_Eyes: lid opening < 0.62

SKIN_PALETTE = np.array(  # albedo, lightest to darkest (roughly Fitzpatrick I..VI and beyond)
    [
        [0.97, 0.82, 0.72],
        [0.92, 0.74, 0.62],
        [0.83, 0.62, 0.49],
        [0.70, 0.50, 0.36],
        [0.55, 0.37, 0.25],
        [0.40, 0.26, 0.17],
        [0.26, 0.17, 0.12],
    ],
    dtype=np.float32,
)
HAIR_COLOURS = np.array(
    [
        [0.05, 0.04, 0.04],
        [0.14, 0.09, 0.06],
        [0.30, 0.19, 0.11],
        [0.48, 0.34, 0.20],
        [0.78, 0.62, 0.40],
        [0.52, 0.22, 0.10],
        [0.55, 0.54, 0.52],
        [0.82, 0.81, 0.78],
    ],
    dtype=np.float32,
)
IRIS_COLOURS = np.array(
    [[0.22, 0.12, 0.06], [0.35, 0.22, 0.10], [0.30, 0.40, 0.55], [0.35, 0.45, 0.30], [0.45, 0.50, 0.55]],
    dtype=np.float32,
)
# Probabilities of the discrete choices (Traits.glasses, Traits.hair_style by sex, Scene.background,
# Scene.occlusion), as cumulative tables for draws.pick.
GLASSES_CDF = choice_cdf([0.75, 0.12, 0.13])
HAIR_STYLE_CDF = {
    True: choice_cdf([0.08, 0.55, 0.05, 0.12, 0.15, 0.05]),
    False: choice_cdf([0.01, 0.12, 0.5, 0.17, 0.0, 0.2]),
}
BACKGROUND_CDF = choice_cdf([0.3, 0.35, 0.35])
OCCLUSION_CDF = choice_cdf([0.9, 0.05, 0.05])


@dataclass
class Traits:
    """Identity: how the face looks before any AU acts. Ranges are those `random` draws."""

    male: bool = False
    age: float = 28.0  # years 18..80; wrinkles, skin; Young = age < 38
    beard: float = 0.0  # density 0..1 (0 = shaven); No_Beard = beard < 0.35
    beard_style: int = 0  # 0 full, 1 goatee + moustache, 2 stubble everywhere
    glasses: int = 0  # 0 none, 1 thin round metal, 2 thick rectangular
    glasses_colour: RGB = (0.08, 0.07, 0.07)
    brow_arch: float = 0.35  # 0..1; Arched_Eyebrows = brow_arch >= 0.6
    brow_thickness: float = 0.4  # 0..1; Bushy_Eyebrows = brow_thickness >= 0.62
    eye_openness: float = 1.0  # 0.5..1.2, relative lid opening of the neutral eye
    asymmetry: float = 0.15  # 0..1, left/right differences of brows, eyes, mouth
    blemish: float = 0.15  # 0..1, spots and uneven skin
    face_width: float = 0.0  # -1..1 shape offsets
    jaw_width: float = 0.0
    jaw_square: float = 0.0
    chin_length: float = 0.0
    nose_width: float = 0.0
    lip_upper: float = 0.5  # fullness 0..1
    lip_lower: float = 0.5
    lip_colour: RGB = (0.72, 0.42, 0.42)
    skin_tone: float = 0.25  # 0 lightest .. 1 darkest, along SKIN_PALETTE
    skin_hue: float = 0.0  # -1 pinker .. 1 more olive
    blush: float = 0.2
    iris_colour: RGB = (0.30, 0.20, 0.10)
    hair_style: int = 1  # 0 shaved, 1 short, 2 long, 3 fringe, 4 receding, 5 bun/tied back
    hair_colour: RGB = (0.14, 0.09, 0.06)
    makeup: float = 0.0  # eye shadow / liner strength 0..1
    folds: float = 0.2  # 0..1 depth of the resting nasolabial and marionette folds (not a smile)


@dataclass
class Scene:
    """Nuisance factors: camera, light, background, image degradations. Labels never depend on them."""

    yaw: float = 0.0  # degrees, within +-25
    pitch: float = 0.0
    roll: float = 0.0
    scale: float = 1.0  # alignment jitter of the crop (1 = exactly on the template)
    shift: tuple[float, float] = (0.0, 0.0)  # crop units
    gaze: tuple[float, float] = (0.0, 0.0)  # iris offset, fraction of eye width/height
    light_azimuth: float = 0.0  # degrees, 0 = from the camera's right
    light_elevation: float = 70.0  # degrees from the image plane; 90 = frontal
    light_strength: float = 0.5
    ambient: float = 0.6
    light_colour: RGB = (1.0, 1.0, 1.0)
    background: int = 0  # 0 plain gradient, 1 texture, 2 clutter
    background_colour: RGB = (0.78, 0.78, 0.78)
    background_colour2: RGB = (0.65, 0.65, 0.66)
    clothing_colour: RGB = (0.92, 0.92, 0.92)
    blur: float = 0.0  # Gaussian sigma in pixels of a 112 crop
    noise: float = 0.0  # sensor noise std in [0, 1] units
    jpeg_quality: int = 0  # 0 = no JPEG round trip
    occlusion: int = 0  # 0 none, 1 skin-coloured blob (hand), 2 object
    occlusion_box: tuple[float, float, float, float] = (0.5, 0.8, 0.2, 0.1)  # cx, cy, w, h in crop units
    occlusion_colour: RGB = (0.3, 0.3, 0.3)
    grayscale: bool = False
    contrast: float = 1.0
    brightness: float = 0.0
    texture_seed: int = 0  # picks skin/hair/background textures and sensor noise


VA_SOURCES = ("con_aus", "circumplex")


@dataclass
class FaceParams:
    """All controls of one SynthFACS face. `au` maps each of topology.AUS to intensity 0..5."""

    au: dict[int, float] = field(default_factory=lambda: {a: 0.0 for a in AUS})
    traits: Traits = field(default_factory=Traits)
    scene: Scene = field(default_factory=Scene)
    emotion: str = "neutral"
    emotion_intensity: float = 0.0
    va_noise: tuple[float, float] = (0.0, 0.0)
    # Where the V-A labels come from (render.labels_of): "con_aus", the AUs of Con_Val / Con_Aro
    # (emotions.va_from_aus, the network's own wiring); "circumplex", the emotion's place on the
    # circumplex at its intensity (emotions.va_from_place), which no AU wiring encodes.
    va_source: str = "con_aus"

    def __post_init__(self) -> None:
        if self.va_source not in VA_SOURCES:
            raise ValueError(f"va_source must be one of {VA_SOURCES}, got {self.va_source!r}")
        unknown = set(self.au) - set(AUS)
        if unknown:
            raise ValueError(f"FaceParams.au has AUs outside Table 3: {sorted(unknown)}; allowed {AUS}")
        for au, value in self.au.items():
            if not 0.0 <= value <= 5.0:
                raise ValueError(f"AU{au} intensity must be within 0..5, got {value}")
        self.au = {a: float(self.au.get(a, 0.0)) for a in AUS}
        if self.emotion not in emotions.EMOTION_BY_NAME:
            raise ValueError(f"unknown emotion {self.emotion!r}; choose from {emotions.EMOTION_NAMES}")

    def with_au(self, au: int, value: float) -> "FaceParams":
        """A copy with one AU set to `value` (everything else, seeds included, unchanged)."""
        return replace(self, au={**self.au, au: value})

    @classmethod
    def random(cls, rng: np.random.Generator, mode: str = "emotion") -> "FaceParams":
        """A random face. mode "emotion": AUs from an emotion prototype (emotions.py);
        "circumplex": the same faces, V-A labelled from the emotion's circumplex place instead of
        the Con_Val / Con_Aro AUs (an ablation the wiring does not decide);
        "independent": every AU drawn on its own (unbiased AU training)."""
        if mode in ("emotion", "circumplex"):
            emotion, intensity, aus = emotions.sample_emotion_aus(rng)
        elif mode == "independent":
            aus = emotions.sample_independent_aus(rng)
            emotion, intensity = emotions.nearest_emotion(aus), 0.0
        else:
            raise ValueError(f"mode must be 'emotion', 'circumplex' or 'independent', got {mode!r}")
        traits = _clear_eye_opening(rng, random_traits(rng), aus)
        scene = random_scene(rng)
        noise = tuple(float(x) for x in rng.normal(0.0, emotions.VA_NOISE_STD, size=2))
        return cls(
            au=aus,
            traits=traits,
            scene=scene,
            emotion=emotion,
            emotion_intensity=intensity,
            va_noise=noise,
            va_source="circumplex" if mode == "circumplex" else "con_aus",
        )


def _outside(rng: np.random.Generator, lo: float, hi: float, gap: tuple[float, float]) -> float:
    """Uniform on [lo, hi] without the open interval `gap`: a trait that a label thresholds inside
    `gap` is drawn clearly on one side, so every random face's label is visible in its pixels."""
    below, above = gap[0] - lo, hi - gap[1]
    u = uniform(rng, 0.0, below + above)
    return float(lo + u if u < below else gap[1] + (u - below))


def _either_side(
    rng: np.random.Generator, lo: float, hi: float, gap: tuple[float, float], below: float
) -> float:
    """Uniform on [lo, gap[0]] with probability `below`, else on [gap[1], hi]."""
    return float(uniform(rng, lo, gap[0]) if rng.random() < below else uniform(rng, gap[1], hi))


def _eye_openness(rng: np.random.Generator, male: bool) -> float:
    """The neutral eye's relative lid opening; men's eyes a little narrower on average."""
    return float(uniform(rng, 0.55, 1.2) * (0.93 if male else 1.0))


def _clear_eye_opening(rng: np.random.Generator, traits: Traits, aus: dict[int, float]) -> Traits:
    """Redraw the neutral eye openness (at most 20 times) until the lid opening after the AUs is
    clearly on one side of the Narrow_Eyes threshold (outside NARROW_GAP)."""
    from fatauva.synthfacs.geometry import eye_opening  # geometry imports this module

    for _ in range(20):
        if not NARROW_GAP[0] < eye_opening(traits, aus) < NARROW_GAP[1]:
            break
        traits = replace(traits, eye_openness=_eye_openness(rng, traits.male))
    return traits


def _colour(rng: np.random.Generator, palette: np.ndarray, jitter: float) -> RGB:
    """A palette colour mixed with its neighbour and jittered per channel."""
    pos = uniform(rng, 0, len(palette) - 1)
    i = int(pos)
    c = palette[i] * (1 - (pos - i)) + palette[min(i + 1, len(palette) - 1)] * (pos - i)
    c = np.clip(c * rng.uniform(1 - jitter, 1 + jitter, size=3), 0.0, 1.0)
    return (float(c[0]), float(c[1]), float(c[2]))


def random_traits(rng: np.random.Generator) -> Traits:
    """Identity traits drawn independently of the AUs (lips and skin never follow the expression)."""
    male = bool(rng.random() < 0.5)
    age = _either_side(rng, 18.0, 80.0, AGE_GAP, below=0.55)
    # Men: a third bearded, most of the rest with light stubble (still "No_Beard").
    beard = (
        float(uniform(rng, BEARD_GAP[1], 1.0))
        if male and rng.random() < 0.35
        else float(uniform(rng, 0.05, BEARD_GAP[0]) if male and rng.random() < 0.6 else 0.0)
    )
    skin_tone = float(uniform(rng, 0.0, 1.0) ** 1.2)
    skin = SKIN_PALETTE[min(int(skin_tone * 6), 5)]
    lip = skin * rng.uniform([0.8, 0.55, 0.58], [1.0, 0.8, 0.85]) * uniform(rng, 0.7, 1.02)
    if not male and rng.random() < 0.3:  # lipstick: any colour from pale pink to dark plum
        lip = np.array(
            _colour(
                rng,
                np.array(
                    [[0.85, 0.45, 0.5], [0.7, 0.12, 0.18], [0.45, 0.12, 0.2], [0.55, 0.3, 0.25]], np.float32
                ),
                0.1,
            )
        )
    grey = age > AGE_GAP[1] and rng.random() < (age - 40) / 35
    hair_colour = _colour(rng, HAIR_COLOURS[6:] if grey else HAIR_COLOURS[:6], 0.12)
    return Traits(
        male=male,
        age=age,
        beard=beard,
        beard_style=2 if beard < 0.35 else int(rng.integers(0, 3)),
        glasses=pick(rng, GLASSES_CDF),
        glasses_colour=_colour(
            rng, np.array([[0.05, 0.05, 0.05], [0.35, 0.2, 0.1], [0.6, 0.55, 0.4]], np.float32), 0.1
        ),
        brow_arch=_outside(rng, 0.0, 1.0, ARCH_GAP),
        brow_thickness=_outside(rng, 0.05, 1.0, BUSHY_GAP),
        eye_openness=_eye_openness(rng, male),
        asymmetry=_either_side(rng, 0.0, 1.0, ASYMMETRY_GAP, below=0.6),
        blemish=_either_side(rng, 0.0, 1.0, BLEMISH_GAP, below=0.6),
        face_width=float(uniform(rng, -1, 1)),
        jaw_width=float(uniform(rng, -1, 1)),
        jaw_square=float(uniform(rng, -1, 1)),
        chin_length=float(uniform(rng, -1, 1)),
        nose_width=float(uniform(rng, -1, 1)),
        lip_upper=float(uniform(rng, 0, 1)),
        lip_lower=float(uniform(rng, 0, 1)),
        lip_colour=(float(lip[0]), float(lip[1]), float(lip[2])),
        skin_tone=skin_tone,
        skin_hue=float(uniform(rng, -1, 1)),
        blush=float(uniform(rng, 0, 0.6)),
        iris_colour=_colour(rng, IRIS_COLOURS, 0.15),
        hair_style=pick(rng, HAIR_STYLE_CDF[male]),
        hair_colour=hair_colour,
        makeup=float(uniform(rng, 0, 1)) if not male and rng.random() < 0.4 else 0.0,
        folds=float(rng.beta(1.2, 2.5)),
    )


def random_scene(rng: np.random.Generator) -> Scene:
    """Camera, light, background and degradations; about a third look like a studio portrait."""
    studio = rng.random() < 0.35
    bg = uniform(rng, 0.2, 0.95)
    plain = np.clip(bg * rng.uniform(0.9, 1.1, size=3), 0, 1)
    return Scene(
        yaw=float(uniform(rng, -25, 25) * (0.3 if studio else 1.0)),
        pitch=float(uniform(rng, -20, 20) * (0.3 if studio else 1.0)),
        roll=float(uniform(rng, -20, 20) * (0.3 if studio else 1.0)),
        scale=float(uniform(rng, 0.92, 1.08)),
        shift=(float(rng.normal(0, 0.015)), float(rng.normal(0, 0.015))),
        gaze=(float(rng.normal(0, 0.12)), float(rng.normal(0, 0.1))),
        light_azimuth=float(uniform(rng, 0, 360)),
        light_elevation=float(uniform(rng, 70, 90) if studio else uniform(rng, 25, 90)),
        light_strength=float(uniform(rng, 0.5, 0.8) if studio else uniform(rng, 0.3, 1.0)),
        ambient=float(uniform(rng, 0.35, 0.55) if studio else uniform(rng, 0.2, 0.7)),
        light_colour=tuple(float(x) for x in rng.uniform(0.85, 1.0, size=3)),
        background=0 if studio else pick(rng, BACKGROUND_CDF),
        background_colour=tuple(float(x) for x in plain),
        background_colour2=tuple(float(x) for x in np.clip(plain * uniform(rng, 0.7, 1.05), 0, 1)),
        clothing_colour=tuple(float(x) for x in rng.uniform(0.05, 0.95, size=3)),
        blur=float(
            uniform(rng, 0.3, 1.3) if rng.random() < 0.7 else 0.0
        ),  # photos downscaled to 112 px are soft
        noise=float(uniform(rng, 0, 0.04)),
        jpeg_quality=int(rng.integers(30, 96)) if rng.random() < 0.5 else 0,
        occlusion=pick(rng, OCCLUSION_CDF),
        occlusion_box=(
            float(uniform(rng, 0.1, 0.9)),
            float(uniform(rng, 0.3, 1.0)),
            float(uniform(rng, 0.1, 0.3)),
            float(uniform(rng, 0.08, 0.25)),
        ),
        occlusion_colour=tuple(float(x) for x in rng.uniform(0.05, 0.9, size=3)),
        grayscale=bool(rng.random() < 0.12),
        contrast=float(uniform(rng, 0.75, 1.25)),
        brightness=float(uniform(rng, -0.08, 0.08)),
        texture_seed=int(rng.integers(0, 2**31 - 1)),
    )
