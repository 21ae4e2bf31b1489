"""Emotion names of the real datasets, and their coarse place in valence-arousal space.

One vocabulary for every set: the names of `fatauva.synthfacs.emotions.EMOTIONS` (neutral,
happiness, sadness, anger, disgust, fear, surprise), plus "contempt", which CK+ codes and
SynthFACS does not render. Each dataset spells them its own way (FER2013 "happy", "sad",
"angry"; CK+ "happy", "sadness", "anger"); `EMOTION_ALIASES` maps those spellings here.

Valence and arousal of an emotion category are its place on Russell's circumplex (paper Fig. 1,
with the AU patterns of Table 1): the one table of those places is `EMOTIONS` itself, which
SynthFACS generates its V-A from, so a FER2013 "happy" face and a SynthFACS happiness face are
trained towards the same point:

| emotion   | valence | arousal |
|-----------|---------|---------|
| neutral   |  0.00   |  -0.20  |
| happiness |  0.80   |   0.10  |
| sadness   | -0.60   |  -0.35  |
| anger     | -0.75   |   0.45  |
| disgust   | -0.70   |   0.05  |
| fear      | -0.50   |   0.80  |
| surprise  |  0.10   |   0.80  |

(printed from `EMOTIONS`; tests/test_datasets_fer2013.py checks this table against it.)
Contempt has no place there: its V-A stays unlabelled (nan).
"""

import numpy as np

from fatauva.synthfacs.emotions import EMOTION_BY_NAME, EMOTION_NAMES

CONTEMPT = "contempt"
NAMES: tuple[str, ...] = (*EMOTION_NAMES, CONTEMPT)

# A dataset's spelling -> our name. Names already in NAMES map to themselves.
EMOTION_ALIASES: dict[str, str] = {
    **{name: name for name in NAMES},
    "happy": "happiness",
    "sad": "sadness",
    "angry": "anger",
    "surprised": "surprise",
    "fearful": "fear",
    "disgusted": "disgust",
}


def canonical_emotion(name: str) -> str | None:
    """Our name for a dataset's emotion label ("Happy", "sad" -> "happiness", "sadness"); None if unknown."""
    return EMOTION_ALIASES.get(name.strip().lower())


def emotion_va(name: str) -> np.ndarray:
    """float32 (2,) valence, arousal of emotion `name` (one of NAMES) on the circumplex; nan for contempt."""
    if name not in NAMES:
        raise ValueError(f"unknown emotion {name!r}; choose one of {', '.join(NAMES)}")
    if name == CONTEMPT:
        return np.full(2, np.nan, np.float32)
    emotion = EMOTION_BY_NAME[name]
    return np.array([emotion.valence, emotion.arousal], np.float32)
