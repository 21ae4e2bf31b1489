"""What a model's valence, arousal and AUs say about photos labelled with an emotion (FER2013).

FER2013 has no valence-arousal or AU labels, only seven emotion categories. Its emotions sit at
known places of Russell's circumplex (paper Fig. 1) and show known prototype AUs (paper Table 1,
EMFACS), so three rank measures are defined without inventing labels:

- `valence_auc`: predicted valence separates happy photos from sad, angry, disgusted and fearful ones;
- `arousal_auc`: predicted arousal separates surprise, fear and anger from sadness and neutral;
- `emotion_au_auc`: the mean of seven AU AUCs, each between the expressions where the AU is
  prototypical and those where it is absent (`EMOTION_AU_GROUPS`; ambiguous expressions left out).
"""

from collections.abc import Sequence

import numpy as np

from fatauva import topology
from fatauva.metrics import roc_auc

# Emotion names as FER2013's folders spell them; other spellings are mapped onto these.
FER_EMOTIONS: tuple[str, ...] = ("angry", "disgust", "fear", "happy", "neutral", "sad", "surprise")
_SPELLINGS = {
    "anger": "angry",
    "happiness": "happy",
    "sadness": "sad",
    "fearful": "fear",
    "disgusted": "disgust",
    "surprised": "surprise",
}

VALENCE_GROUPS = (("happy",), ("sad", "angry", "disgust", "fear"))
AROUSAL_GROUPS = (("surprise", "fear", "angry"), ("sad", "neutral"))
# AU -> (expressions where it is prototypical, expressions where it is not).
EMOTION_AU_GROUPS: dict[int, tuple[tuple[str, ...], tuple[str, ...]]] = {
    12: (("happy",), ("neutral", "sad", "angry", "fear", "surprise", "disgust")),
    6: (("happy",), ("neutral", "surprise", "fear", "angry")),
    1: (("surprise", "fear", "sad"), ("happy", "angry", "disgust", "neutral")),
    2: (("surprise", "fear"), ("happy", "sad", "angry", "disgust", "neutral")),
    4: (("angry", "sad", "fear"), ("happy", "surprise", "neutral")),
    26: (("surprise", "fear"), ("neutral", "sad")),
    15: (("sad", "disgust"), ("happy", "surprise", "neutral")),
}


def canonical_emotion(name: str) -> str:
    """An emotion name in FER2013's spelling ('happiness' -> 'happy'); '' stays ''."""
    name = name.strip().lower()
    return _SPELLINGS.get(name, name)


def group_auc(
    scores: np.ndarray, emotions: Sequence[str], groups: tuple[tuple[str, ...], tuple[str, ...]]
) -> float:
    """AUC of `scores` (N,) for the first group of emotions against the second; other rows ignored.
    nan when either group is empty."""
    names = np.array([canonical_emotion(e) for e in emotions])
    positive, negative = np.isin(names, groups[0]), np.isin(names, groups[1])
    keep = positive | negative
    if not positive.any() or not negative.any():
        return float("nan")
    return float(roc_auc(positive[keep].astype(np.int64), np.asarray(scores, np.float64)[keep]))


def emotion_report(va: np.ndarray, au_probs: np.ndarray, emotions: Sequence[str]) -> dict:
    """The three measures of the module doc from predictions over N photos.

    va (N, 2) predicted valence, arousal; au_probs (N, 14) in topology.AUS order; emotions (N,)
    names. Returns {"valence_auc", "arousal_auc", "emotion_au_auc", "emotion_au": {"AU12": auc, ...},
    "n_per_emotion": {name: count}}.
    """
    if len(va) != len(emotions) or len(au_probs) != len(emotions):
        raise ValueError(f"{len(va)} V-A rows, {len(au_probs)} AU rows, {len(emotions)} emotions")
    per_au = {
        topology.au_key(au): group_auc(au_probs[:, topology.AUS.index(au)], emotions, groups)
        for au, groups in EMOTION_AU_GROUPS.items()
    }
    names = [canonical_emotion(e) for e in emotions]
    return {
        "valence_auc": group_auc(va[:, 0], emotions, VALENCE_GROUPS),
        "arousal_auc": group_auc(va[:, 1], emotions, AROUSAL_GROUPS),
        "emotion_au_auc": float(np.nanmean(list(per_au.values()))) if per_au else float("nan"),
        "emotion_au": per_au,
        "n_per_emotion": {e: names.count(e) for e in FER_EMOTIONS if e in names},
    }
