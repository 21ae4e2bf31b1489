"""Emotion prototypes and the AU -> valence/arousal function of SynthFACS.

Prototypes follow the paper's Table 1 (after Benitez-Quiroz et al. [2]), restricted to the
14 AUs of Table 3 and completed with the EMFACS AUs of that set that the table leaves out
(AU6/AU26 for a Duchenne, laughing smile, AU15/AU17 for sadness, AU4/AU7 for disgust,
AU2/AU7/AU26 for fear);
AU9 and AU20 are not in Table 3, so disgust and fear lose them. Each emotion also has a place
on Russell's circumplex (Fig. 1 of the paper); `va_from_aus` is fitted by hand so that every
prototype at full intensity lands near that place (tests check within 0.3).

Valence reads only the AUs of the paper's Con_Val branches and arousal only those of Con_Aro
(§3.3), so "AUs explain V-A" holds by construction and through the model's own wiring.
"""

from dataclasses import dataclass

import numpy as np

from fatauva.synthfacs.draws import choice_cdf, pick, uniform
from fatauva.topology import AU_BRANCHES, AUS, CON_ARO, CON_VAL


@dataclass(frozen=True)
class Emotion:
    """One emotion prototype: its AU intensities (0..5) at full intensity, its circumplex place."""

    name: str
    aus: dict[int, float]
    valence: float
    arousal: float


EMOTIONS: tuple[Emotion, ...] = (
    Emotion("neutral", {}, 0.0, -0.2),
    Emotion("happiness", {6: 3.5, 12: 5.0, 25: 3.0, 26: 2.0}, 0.8, 0.1),
    Emotion("sadness", {1: 3.5, 4: 2.5, 15: 4.0, 17: 3.0, 45: 2.0}, -0.6, -0.35),
    Emotion("anger", {4: 5.0, 7: 4.0, 23: 3.0, 24: 4.0}, -0.75, 0.45),
    Emotion("disgust", {4: 3.0, 7: 2.5, 10: 4.5, 15: 2.5, 17: 1.5}, -0.7, 0.05),
    Emotion("fear", {1: 4.0, 2: 3.0, 4: 3.0, 7: 3.0, 25: 3.5, 26: 2.0}, -0.5, 0.8),
    Emotion("surprise", {1: 4.5, 2: 4.5, 25: 4.0, 26: 4.0}, 0.1, 0.8),
)
EMOTION_NAMES: tuple[str, ...] = tuple(e.name for e in EMOTIONS)
EMOTION_BY_NAME: dict[str, Emotion] = {e.name: e for e in EMOTIONS}

# Linear weights per AU intensity (0..5) of the pre-activations below; every AU listed here
# belongs to a branch of Con_Val (valence) or Con_Aro (arousal): a test keeps it so.
VALENCE_WEIGHTS: dict[int, float] = {
    12: 0.10,
    6: 0.05,
    25: 0.01,
    15: -0.09,
    4: -0.07,
    7: -0.04,
    24: -0.05,
    23: -0.04,
    45: -0.02,
}
AROUSAL_WEIGHTS: dict[int, float] = {1: 0.07, 2: 0.07, 4: 0.09, 26: 0.09, 17: -0.12, 45: -0.10}
VALENCE_GAIN, AROUSAL_GAIN, AROUSAL_BIAS = 1.5, 1.4, -0.15
VA_NOISE_STD = 0.05


def va_from_aus(aus: dict[int, float]) -> tuple[float, float]:
    """Valence and arousal in [-1, 1] explained by AU intensities (0..5), without noise.

    valence = tanh(1.5 * sum_k w_v[k] * AU_k); arousal = tanh(1.4 * (sum_k w_a[k] * AU_k - 0.15)).
    All AUs at 0 give (0, -0.2): a calm neutral face.
    """
    sv = sum(w * aus.get(au, 0.0) for au, w in VALENCE_WEIGHTS.items())
    sa = sum(w * aus.get(au, 0.0) for au, w in AROUSAL_WEIGHTS.items())
    return float(np.tanh(VALENCE_GAIN * sv)), float(np.tanh(AROUSAL_GAIN * (sa + AROUSAL_BIAS)))


def va_from_place(emotion: str, intensity: float) -> tuple[float, float]:
    """Valence and arousal from the emotion's circumplex place (Fig. 1), without noise: neutral's
    place moved toward the emotion's by `intensity` (0..1). No AU enters it."""
    rest, place = EMOTION_BY_NAME["neutral"], EMOTION_BY_NAME[emotion]
    v = rest.valence + intensity * (place.valence - rest.valence)
    a = rest.arousal + intensity * (place.arousal - rest.arousal)
    return float(v), float(a)


def nearest_emotion(aus: dict[int, float]) -> str:
    """The prototype whose AU pattern is most similar (cosine) to `aus`; neutral if barely active."""
    v = np.array([aus.get(au, 0.0) for au in AUS])
    if v.max(initial=0.0) < 1.5:
        return "neutral"
    best, best_sim = "neutral", 0.3
    for e in EMOTIONS[1:]:
        p = np.array([e.aus.get(au, 0.0) for au in AUS])
        sim = float(v @ p / (np.linalg.norm(v) * np.linalg.norm(p)))
        if sim > best_sim:
            best, best_sim = e.name, sim
    return best


# Emotion sampling weights: happiness and neutral are the most common faces, as in the wild.
EMOTION_WEIGHTS: dict[str, float] = {
    "neutral": 0.26,
    "happiness": 0.30,
    "sadness": 0.09,
    "anger": 0.09,
    "disgust": 0.08,
    "fear": 0.08,
    "surprise": 0.10,
}
EMOTION_DRAW = tuple(EMOTION_WEIGHTS)


def _emotion_cdf() -> np.ndarray:
    probs = np.array([EMOTION_WEIGHTS[n] for n in EMOTION_DRAW])
    return choice_cdf(probs / probs.sum())


EMOTION_CDF = _emotion_cdf()
# Probability of an extra AU not in the prototype, and of dropping a non-key prototype AU
# (e.g. a happy face without AU25 is a closed-mouth smile).
EXTRA_AU_PROB = 0.08
DROP_AU_PROB = 0.4
KEY_AUS: dict[str, tuple[int, ...]] = {
    "happiness": (12,),
    "sadness": (15,),
    "anger": (4,),
    "disgust": (10,),
    "fear": (1, 25),
    "surprise": (1, 2),
}


def sample_emotion_aus(rng: np.random.Generator) -> tuple[str, float, dict[int, float]]:
    """Draw (emotion, intensity 0..1, AU intensities): prototype * intensity * jitter + extras,
    rounded to a FACS level 0..5 (0, A..E): whole levels keep "present" (>= 2) one level away
    from "trace" (1), as in DISFA's coding."""
    name = EMOTION_DRAW[pick(rng, EMOTION_CDF)]
    intensity = float(uniform(rng, 0.25, 1.0)) if name != "neutral" else 0.0
    proto = EMOTION_BY_NAME[name].aus
    jitter = rng.uniform(0.75, 1.25, size=len(AUS))
    drop = rng.random(len(AUS)) < DROP_AU_PROB
    extra = rng.random(len(AUS)) < EXTRA_AU_PROB
    extra_val = rng.uniform(0.0, 3.0, size=len(AUS))
    values = np.empty(len(AUS))
    for i, au in enumerate(AUS):
        value = proto.get(au, 0.0) * intensity * jitter[i]
        if drop[i] and au not in KEY_AUS.get(name, ()):
            value = 0.0
        if extra[i]:
            value += extra_val[i]
        values[i] = value
    levels = np.clip(np.round(values), 0.0, 5.0)  # a FACS level, as DISFA codes them
    return name, intensity, dict(zip(AUS, levels.tolist(), strict=True))


def sample_independent_aus(rng: np.random.Generator) -> dict[int, float]:
    """AU intensities drawn independently: each AU off with p=0.55, else a level 1..5 (A..E)."""
    on = rng.random(len(AUS)) >= 0.55
    values = rng.integers(1, 6, size=len(AUS)).astype(float)
    return {au: float(values[i]) if on[i] else 0.0 for i, au in enumerate(AUS)}


def con_aus(branches: tuple[str, ...]) -> frozenset[int]:
    """The AUs of the named AU branches (e.g. CON_VAL): what a V-A target may depend on."""
    return frozenset(au for b in AU_BRANCHES if b.name in branches for au in b.aus)


VALENCE_AUS = con_aus(CON_VAL)
AROUSAL_AUS = con_aus(CON_ARO)
