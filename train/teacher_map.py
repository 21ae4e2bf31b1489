"""The real-photo AU teacher's labels: MediaPipe's 52 blendshapes mapped to the 14 AUs (stage 2, issue 19).

`python -m train.teacher` (its own venv, see that module) caches the blendshape scores of every
image; this module, pure numpy and importable by the trainer in the app's environment, reads that
cache and turns it into AU labels. It never imports mediapipe.

Cache layout (written by `train.teacher.CacheWriter`): `<cache_dir>/<set>/part-NNNNN.npz`, each part
holding `paths` (N,) str, the resolved source image path that keys a row; `scores` (N, 52) float32,
the blendshapes in `BLENDSHAPES` order (zeros when no face); `found` (N,) bool, a face was found.

The map (`AU_BLENDSHAPES`): an AU's score is the mean of its blendshapes, left and right averaged so
a one-sided action counts half. The pairs follow the ARKit blendshape definitions MediaPipe's model
is trained to, set against the FACS action each AU names (topology.AU_NAMES):
    AU1 inner brow raiser  browInnerUp              AU2 outer brow raiser  browOuterUp L/R
    AU4 brow lowerer       browDown L/R             AU6 cheek raiser       cheekSquint L/R
    AU7 lid tightener      eyeSquint L/R            AU10 upper lip raiser  mouthUpperUp L/R
    AU12 lip corner puller mouthSmile L/R           AU15 lip corner depr.  mouthFrown L/R
    AU17 chin raiser       mouthShrugLower          AU23 lip tightener     mouthRollLower, mouthPucker
    AU24 lip pressor       mouthPress L/R           AU25 lips part         jawOpen, mouthLowerDown L/R
    AU26 jaw drop          jawOpen                  AU45 blink             eyeBlink L/R
AU25 (lips apart) has no blendshape of its own: the lower lip pulled down or the jaw open parts them.
The thresholds (`THRESHOLDS`, `LOWER_THRESHOLDS`) are data, fitted once by `python -m train.teacher_fit`
on the CK+ codes and FER2013 train neutral faces, never re-fitted at training time.

For the trainer: `teacher_aus(paths, "cache/teacher")` -> (N, 14) int64 in {1, 0, -1}; with
`lower=LOWER_THRESHOLDS` the calls between the two thresholds are masked; `min_auc=0.75` masks the
AUs the blendshapes read poorly on CK+ (AU6, 10, 15, 23, 24, 26 below 0.70).
"""

from collections.abc import Sequence
from pathlib import Path

import numpy as np

from fatauva.topology import AUS

# MediaPipe's blendshape categories, in the order of its model's output (index 0 is '_neutral').
BLENDSHAPES: tuple[str, ...] = (
    "_neutral", "browDownLeft", "browDownRight", "browInnerUp", "browOuterUpLeft", "browOuterUpRight",
    "cheekPuff", "cheekSquintLeft", "cheekSquintRight", "eyeBlinkLeft", "eyeBlinkRight",
    "eyeLookDownLeft", "eyeLookDownRight", "eyeLookInLeft", "eyeLookInRight", "eyeLookOutLeft",
    "eyeLookOutRight", "eyeLookUpLeft", "eyeLookUpRight", "eyeSquintLeft", "eyeSquintRight",
    "eyeWideLeft", "eyeWideRight", "jawForward", "jawLeft", "jawOpen", "jawRight", "mouthClose",
    "mouthDimpleLeft", "mouthDimpleRight", "mouthFrownLeft", "mouthFrownRight", "mouthFunnel",
    "mouthLeft", "mouthLowerDownLeft", "mouthLowerDownRight", "mouthPressLeft", "mouthPressRight",
    "mouthPucker", "mouthRight", "mouthRollLower", "mouthRollUpper", "mouthShrugLower",
    "mouthShrugUpper", "mouthSmileLeft", "mouthSmileRight", "mouthStretchLeft", "mouthStretchRight",
    "mouthUpperUpLeft", "mouthUpperUpRight", "noseSneerLeft", "noseSneerRight",
)  # fmt: skip
BLENDSHAPE_INDEX: dict[str, int] = {name: i for i, name in enumerate(BLENDSHAPES)}

AU_BLENDSHAPES: dict[int, tuple[str, ...]] = {
    1: ("browInnerUp",),
    2: ("browOuterUpLeft", "browOuterUpRight"),
    4: ("browDownLeft", "browDownRight"),
    6: ("cheekSquintLeft", "cheekSquintRight"),
    7: ("eyeSquintLeft", "eyeSquintRight"),
    10: ("mouthUpperUpLeft", "mouthUpperUpRight"),
    12: ("mouthSmileLeft", "mouthSmileRight"),
    15: ("mouthFrownLeft", "mouthFrownRight"),
    17: ("mouthShrugLower",),
    23: ("mouthRollLower", "mouthPucker"),
    24: ("mouthPressLeft", "mouthPressRight"),
    25: ("jawOpen", "mouthLowerDownLeft", "mouthLowerDownRight"),
    26: ("jawOpen",),
    45: ("eyeBlinkLeft", "eyeBlinkRight"),
}

# Fitted by `python -m train.teacher_fit --cache cache/teacher --data ../shared/data` (rounded to 3
# significant digits; figures in that module's doc). THRESHOLDS: above it the teacher calls the AU
# present; the larger of the threshold maximising F1 on the CK+ codes and the 95th percentile of the
# AU's score on FER2013 train `neutral` faces, so a neutral face gets at most 5% false calls per AU
# (none for AU25, whose lips part in relaxed faces). LOWER_THRESHOLDS: the CK+ F1 fit alone; between
# the two the call is uncertain (CK+ says present, neutral faces reach it too): `label_aus(...,
# lower=LOWER_THRESHOLDS)` leaves it unlabelled. AU45 is not coded in CK+: a fixed 0.5 on mean eyeBlink.
THRESHOLDS: dict[int, float] = {
    1: 0.75, 2: 0.708, 4: 0.415, 6: 2.5e-06, 7: 0.555, 10: 0.0844, 12: 0.328,
    15: 0.169, 17: 0.261, 23: 0.483, 24: 0.193, 25: 0.0188, 26: 0.154, 45: 0.5,
}  # fmt: skip
LOWER_THRESHOLDS: dict[int, float] = {
    1: 0.0618, 2: 0.108, 4: 0.176, 6: 7.23e-07, 7: 0.464, 10: 0.0505, 12: 0.328,
    15: 0.0087, 17: 0.0114, 23: 0.0114, 24: 0.0129, 25: 0.0188, 26: 0.0402, 45: 0.5,
}  # fmt: skip
# Mapped-score AUC against the CK+ codes of all 468 frames (AU45 not coded: nan), for `min_auc`.
CKPLUS_AUC: dict[int, float] = {
    1: 0.952, 2: 0.983, 4: 0.761, 6: 0.673, 7: 0.812, 10: 0.670, 12: 0.975,
    15: 0.681, 17: 0.853, 23: 0.663, 24: 0.658, 25: 0.966, 26: 0.670, 45: float("nan"),
}  # fmt: skip

# With a margin m the scores in ((1 - m) * lower, t] of an AU with threshold t are left unlabelled
# (-1), see `label_aus`; relative, because the thresholds span several orders of magnitude.
DEFAULT_MARGIN = 0.0


def _mapping_matrix() -> np.ndarray:
    """(52, 14) weights: column j averages the blendshapes of AUS[j]."""
    weights = np.zeros((len(BLENDSHAPES), len(AUS)), dtype=np.float64)
    for j, au in enumerate(AUS):
        names = AU_BLENDSHAPES[au]
        for name in names:
            weights[BLENDSHAPE_INDEX[name], j] = 1.0 / len(names)
    return weights


MAPPING = _mapping_matrix()


def map_scores(blendshapes: np.ndarray) -> np.ndarray:
    """(N, 52) blendshape scores in [0, 1] -> (N, 14) AU scores in [0, 1], columns in topology.AUS order."""
    blendshapes = np.asarray(blendshapes, dtype=np.float64)
    if blendshapes.ndim != 2 or blendshapes.shape[1] != len(BLENDSHAPES):
        raise ValueError(f"blendshapes must be (N, {len(BLENDSHAPES)}), got {blendshapes.shape}")
    return np.clip(blendshapes @ MAPPING, 0.0, 1.0)


def label_aus(
    au_scores: np.ndarray,
    thresholds: dict[int, float] | None = None,
    margin: float = DEFAULT_MARGIN,
    lower: dict[int, float] | None = None,
) -> np.ndarray:
    """(N, 14) AU scores -> (N, 14) int64 labels in {1, 0, -1}, columns in topology.AUS order.

    For an AU with threshold t and lower threshold l (`lower`, default t; never above t): 1 when its
    score is above t (strictly, as metrics.binary_report reads a probability), 0 when at or below
    (1 - margin) * l, and -1 (unlabelled, masked in the loss) in between, so uncertain teacher calls
    teach nothing. margin 0 and no `lower` label every score; nan scores (no face, not cached) give
    -1. `thresholds` defaults to the fitted THRESHOLDS.
    """
    if not 0.0 <= margin <= 1.0:
        raise ValueError(f"margin must lie in [0, 1], got {margin}")
    thresholds = THRESHOLDS if thresholds is None else thresholds
    lower = thresholds if lower is None else lower
    au_scores = np.asarray(au_scores, dtype=np.float64)
    t = np.array([thresholds[au] for au in AUS], dtype=np.float64)
    low = np.minimum(np.array([lower[au] for au in AUS], dtype=np.float64), t)
    labels = np.full(au_scores.shape, -1, dtype=np.int64)
    with np.errstate(invalid="ignore"):
        labels[au_scores > t] = 1
        labels[au_scores <= (1.0 - margin) * low] = 0
    return labels


def read_cache(cache_dir: str | Path) -> dict[str, tuple[np.ndarray, bool]]:
    """Every cached row under `cache_dir` (a set folder or a folder of them): {resolved path: ((52,)
    float32 scores, face found)}."""
    rows: dict[str, tuple[np.ndarray, bool]] = {}
    for part in sorted(Path(cache_dir).glob("**/part-*.npz")):
        with np.load(part, allow_pickle=False) as data:
            names = tuple(str(n) for n in data["names"])
            if names != BLENDSHAPES:
                raise ValueError(f"{part}: blendshape names differ from train.teacher_map.BLENDSHAPES")
            for path, scores, found in zip(data["paths"], data["scores"], data["found"], strict=True):
                rows[str(path)] = (scores, bool(found))
    return rows


def _key(path: str | Path) -> str:
    return str(Path(path).resolve())


def teacher_blendshapes(paths: Sequence[str | Path], cache_dir: str | Path) -> np.ndarray:
    """(N, 52) float64 cached blendshapes of `paths`; rows with no face or no cache entry are nan."""
    cache = read_cache(cache_dir)
    out = np.full((len(paths), len(BLENDSHAPES)), np.nan)
    for i, path in enumerate(paths):
        row = cache.get(_key(path))
        if row is not None and row[1]:
            out[i] = row[0]
    return out


def teacher_scores(paths: Sequence[str | Path], cache_dir: str | Path) -> np.ndarray:
    """(N, 14) float64 mapped AU scores in [0, 1] (topology.AUS order); nan rows: no face or not cached."""
    blendshapes = teacher_blendshapes(paths, cache_dir)
    scores = np.full((len(paths), len(AUS)), np.nan)
    known = ~np.isnan(blendshapes).any(axis=1)
    if known.any():
        scores[known] = map_scores(blendshapes[known])
    return scores


def teacher_aus(
    paths: Sequence[str | Path],
    cache_dir: str | Path,
    margin: float = DEFAULT_MARGIN,
    thresholds: dict[int, float] | None = None,
    lower: dict[int, float] | None = None,
    min_auc: float = 0.0,
) -> np.ndarray:
    """(N, 14) int64 teacher AU labels in {1, 0, -1} for image `paths` (topology.AUS order).

    Rows whose image has no cache entry or no face found are all -1. `thresholds` defaults to the
    fitted THRESHOLDS; `lower` (e.g. LOWER_THRESHOLDS) and `margin` leave the scores below a
    threshold unlabelled (see `label_aus`); `min_auc` unlabels every AU whose CKPLUS_AUC is below it
    (AU45, not coded in CK+, is kept).
    """
    labels = label_aus(teacher_scores(paths, cache_dir), thresholds, margin, lower)
    weak = [j for j, au in enumerate(AUS) if CKPLUS_AUC[au] < min_auc]
    labels[:, weak] = -1
    return labels
