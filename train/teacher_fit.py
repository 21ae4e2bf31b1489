"""Fit and measure the AU teacher on its cached blendshapes (numpy only; the app's python is enough).

    python -m train.teacher_fit --cache cache/teacher --data ../shared/data --json runs/teacher_fit.json

- CK+ (`ckplus48/au_labels.csv`, the one FACS-coded set here; validation and calibration only):
  AUC of each mapped AU score against the codes of every frame, F1 at the placeholder 0.5, and the
  per-AU threshold that maximises F1, fitted by subject-grouped cross-validation (5 folds of the 59
  subjects: the F1 reported is that of held-out subjects at thresholds fitted on the others). The
  thresholds printed at the end are fitted on all subjects: they are what `THRESHOLDS` in
  train/teacher_map.py holds.
- AU45 is not coded in CK+: its rule is a fixed 0.5 on the mean eyeBlink score, checked by the share
  of GENKI-4K and CelebA photos above it (people photographed with their eyes shut are rare) and the
  separation of the open-eyed FER2013 `surprise` faces.
- FER2013 public test (`fer2013/test/`): `emotion_au_auc`, the issue's mean of seven AU AUCs between the
  expressions where an AU is prototypical and those where it is not (`EMOTION_AU_CONTRASTS`), over
  the faces the teacher found.
- The face-found rate of every cached set.
"""

import argparse
import csv
import json
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from fatauva.metrics import f1, roc_auc
from fatauva.topology import AUS, au_key
from train.teacher_map import BLENDSHAPE_INDEX, map_scores, read_cache

CKPLUS_AUS: tuple[int, ...] = (1, 2, 4, 6, 7, 10, 12, 15, 17, 23, 24, 25, 26)
FOLDS = 5
AU45_RULE = 0.5

# Issue 19: AU -> (expressions where it is prototypical, expressions where it is not).
EMOTION_AU_CONTRASTS: dict[int, tuple[tuple[str, ...], tuple[str, ...]]] = {
    12: (("happy",), ("neutral", "sad", "angry", "fear", "surprise", "disgust")),
    6: (("happy",), ("neutral", "surprise", "fear", "angry")),
    1: (("surprise", "fear", "sad"), ("happy", "angry", "disgust", "neutral")),
    2: (("surprise", "fear"), ("happy", "sad", "angry", "disgust", "neutral")),
    4: (("angry", "sad", "fear"), ("happy", "surprise", "neutral")),
    26: (("surprise", "fear"), ("neutral", "sad")),
    15: (("sad", "disgust"), ("happy", "surprise", "neutral")),
}


def best_f1_threshold(scores: np.ndarray, truth: np.ndarray) -> float:
    """The threshold t maximising the F1 of `scores > t` against `truth` (N,) in {0, 1}: a midpoint
    between two adjacent distinct scores (ties: the highest such t, the most conservative call)."""
    values = np.unique(scores)
    candidates = np.concatenate([[values[0] - 1e-6], (values[:-1] + values[1:]) / 2])
    f1s = [f1(truth, (scores > t).astype(np.int64)) for t in candidates]
    best = np.flatnonzero(np.isclose(f1s, max(f1s)))[-1]
    return float(candidates[best])


def subject_folds(subjects: Sequence[str], folds: int = FOLDS, seed: int = 0) -> np.ndarray:
    """(N,) fold index per row: subjects shuffled with `seed`, dealt round-robin into `folds` folds."""
    names = sorted(set(subjects))
    order = np.random.default_rng(seed).permutation(len(names))
    fold_of = {names[i]: k % folds for k, i in enumerate(order)}
    return np.array([fold_of[s] for s in subjects])


def cross_validated_f1(scores: np.ndarray, truth: np.ndarray, folds: np.ndarray) -> tuple[float, list[float]]:
    """F1 of held-out subjects pooled over folds, each fold called at the threshold fitted on the others;
    returns (F1, the per-fold thresholds)."""
    predicted = np.zeros_like(truth)
    thresholds = []
    for k in np.unique(folds):
        held = folds == k
        t = best_f1_threshold(scores[~held], truth[~held])
        predicted[held] = scores[held] > t
        thresholds.append(t)
    return f1(truth, predicted), thresholds


def ckplus_rows(data_root: Path) -> tuple[list[Path], np.ndarray, list[str]]:
    """CK+ frames: resolved paths, (N, 13) codes in CKPLUS_AUS order, subject of each frame."""
    root = data_root / "ckplus48"
    on_disk = {p.name: p.resolve() for p in root.glob("*/*.png")}
    paths, codes, subjects = [], [], []
    with open(root / "au_labels.csv", newline="") as f:
        for row in csv.DictReader(f):
            paths.append(on_disk[row["image"]])
            codes.append([int(row[f"AU{au}"]) for au in CKPLUS_AUS])
            subjects.append(row["subject"])
    return paths, np.array(codes, dtype=np.int64), subjects


def cached(cache: dict, paths: Sequence[Path]) -> tuple[np.ndarray, np.ndarray]:
    """(N, 52) blendshapes and (N,) face-found flags of `paths` (a path not cached counts as not found)."""
    blendshapes = np.zeros((len(paths), len(BLENDSHAPE_INDEX)))
    found = np.zeros(len(paths), dtype=bool)
    for i, path in enumerate(paths):
        if str(path) in cache:
            blendshapes[i], found[i] = cache[str(path)]
    return blendshapes, found


def fit_ckplus(cache: dict, data_root: Path) -> dict:
    """Per coded AU: AUC, F1 at 0.5, cross-validated F1 and fold thresholds, threshold on all subjects."""
    paths, codes, subjects = ckplus_rows(data_root)
    blendshapes, found = cached(cache, paths)
    scores = map_scores(blendshapes[found])
    codes, folds = codes[found], subject_folds([s for s, ok in zip(subjects, found, strict=True) if ok])
    per_au = {}
    for j, au in enumerate(CKPLUS_AUS):
        s, y = scores[:, AUS.index(au)], codes[:, j]
        cv_f1, fold_thresholds = cross_validated_f1(s, y, folds)
        per_au[au_key(au)] = {
            "auc": roc_auc(y, s),
            "f1_at_0.5": f1(y, (s > 0.5).astype(np.int64)),
            "f1_cv": cv_f1,
            "fold_thresholds": fold_thresholds,
            "threshold": best_f1_threshold(s, y),
            "positives": int(y.sum()),
        }
    return {
        "frames": len(paths),
        "subjects": len(set(subjects)),
        "face_found_rate": float(found.mean()),
        "mean_auc": float(np.mean([v["auc"] for v in per_au.values()])),
        "mean_f1_at_0.5": float(np.mean([v["f1_at_0.5"] for v in per_au.values()])),
        "mean_f1_cv": float(np.mean([v["f1_cv"] for v in per_au.values()])),
        "per_au": per_au,
    }


def fer_emotion_au(cache: dict, data_root: Path) -> dict:
    """emotion_au_auc on the FER2013 public test set over the faces found, per-AU values beside it."""
    images = sorted((data_root / "fer2013" / "test").glob("*/*.jpg"))
    paths = [p.resolve() for p in images]
    emotions = np.array([p.parent.name for p in images])
    blendshapes, found = cached(cache, paths)
    scores, emotions = map_scores(blendshapes[found]), emotions[found]
    per_au = {}
    for au, (positive, negative) in EMOTION_AU_CONTRASTS.items():
        keep = np.isin(emotions, positive + negative)
        per_au[au_key(au)] = roc_auc(np.isin(emotions[keep], positive), scores[keep, AUS.index(au)])
    return {
        "images": len(paths),
        "face_found_rate": float(found.mean()),
        "emotion_au_auc": float(np.mean(list(per_au.values()))),
        "emotion_au": per_au,
    }


def blink_check(cache: dict, data_root: Path) -> dict:
    """Share of faces whose mean eyeBlink exceeds AU45_RULE, per set; its quantiles on GENKI and CelebA."""
    blink = [BLENDSHAPE_INDEX["eyeBlinkLeft"], BLENDSHAPE_INDEX["eyeBlinkRight"]]
    out = {}
    for name, pattern in (("genki4k", "files/*.jpg"), ("celeba", "img_align_celeba/*.jpg")):
        paths = [p.resolve() for p in (data_root / name).glob(pattern)]
        blendshapes, found = cached(cache, paths)
        if found.any():
            b = blendshapes[found][:, blink].mean(axis=1)
            out[name] = {
                "faces": int(found.sum()),
                "share_above_rule": float(np.mean(b > AU45_RULE)),
                "quantiles_50_90_99": np.quantile(b, [0.5, 0.9, 0.99]).round(3).tolist(),
            }
    return out


def found_rates(cache_dir: Path) -> dict[str, float]:
    """Face-found rate of every set folder under `cache_dir`."""
    rates = {}
    for folder in sorted(p for p in cache_dir.iterdir() if p.is_dir()):
        flags = [found for _, found in read_cache(folder).values()]
        if flags:
            rates[folder.name] = float(np.mean(flags))
    return rates


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cache", type=Path, default=Path("cache/teacher"))
    parser.add_argument("--data", type=Path, default=Path(__file__).resolve().parents[2] / "shared" / "data")
    parser.add_argument("--json", type=Path, help="write every figure here")
    args = parser.parse_args(argv)
    cache = read_cache(args.cache)
    report = {
        "ckplus": fit_ckplus(cache, args.data),
        "fer2013_test": fer_emotion_au(cache, args.data),
        "au45_rule": {"threshold": AU45_RULE, "sets": blink_check(cache, args.data)},
        "face_found_rate": found_rates(args.cache),
    }
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(report, indent=2))
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
