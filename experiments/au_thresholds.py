"""Would AU thresholds chosen on our own validation photos make the AU calls better on real faces?

    python -m experiments.au_thresholds [--model SOURCE] [--data-root ../shared/data]

The product calls an AU present when P > 0.5. Here each AU gets instead the threshold that maximises
F1 against the teacher's labels (train.teacher_map.teacher_aus, from the cached MediaPipe blendshapes)
on the `val` splits of CelebA, GENKI-4K and FER2013, from a grid of 0.02 ... 0.98 (the lowest of equal
F1s). With those thresholds and with 0.5 it reports, per AU and on average:

- CK+ F1 over every coded frame (the scorecard's figure, CK+ AUs never trained on), and beside it,
  as an upper bound only, the F1 with thresholds chosen on CK+ itself;
- the share of AU calls on FER2013 `val`'s neutral faces, our own split's stand-in for the false calls
  on neutral London faces (the London photos are evaluation only and choose nothing here).

A study, not the product: nothing here changes what the app or `train.evaluate` call present.
"""

import argparse
from pathlib import Path

import numpy as np
from sklearn.metrics import f1_score

from fatauva import topology
from fatauva.checkpoint import load_model
from train.datasets import real_dataset
from train.evaluate import predict
from train.teacher_map import teacher_aus

GRID = np.round(np.linspace(0.02, 0.98, 49), 2)
FIT_SETS = ("celeba", "genki4k", "fer2013")  # their val splits, with the teacher's AU labels
DEFAULT = 0.5


def best_threshold(labels: np.ndarray, probs: np.ndarray, grid: np.ndarray = GRID) -> float:
    """The grid value t maximising F1 of `probs > t` against `labels` in {1, 0, -1} (-1 ignored);
    the lowest of equal F1s; DEFAULT when no row is labelled or none is positive."""
    known = labels >= 0
    y, p = labels[known], probs[known]
    if y.size == 0 or y.sum() == 0:
        return DEFAULT
    f1s = [f1_score(y, p > t, zero_division=0.0) for t in grid]
    return float(grid[int(np.argmax(f1s))])


def mean_f1(labels: np.ndarray, probs: np.ndarray, thresholds: np.ndarray) -> dict[str, float]:
    """{AU key: F1 of probs > its threshold} over the AUs with a positive labelled row."""
    out = {}
    for j, au in enumerate(topology.AUS):
        known = labels[:, j] >= 0
        if known.any() and labels[known, j].sum() > 0:
            out[topology.au_key(au)] = float(f1_score(labels[known, j], probs[known, j] > thresholds[j]))
    return out


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        prog="python -m experiments.au_thresholds", description=__doc__.split("\n")[0]
    )
    parser.add_argument("--model", default=None, help="weights: folder or Hub id (default: bundled)")
    parser.add_argument("--data-root", type=Path, default=Path("../shared/data"))
    parser.add_argument("--cache", type=Path, default=Path("cache/crops"), help="real-photo crop cache")
    parser.add_argument("--teacher", type=Path, default=Path("cache/teacher"), help="train.teacher's cache")
    args = parser.parse_args(argv)
    model = load_model(args.model).model
    size = model.config.input_size

    probs, labels, emotions = [], [], None
    for name in FIT_SETS:
        data, _ = real_dataset(name, args.data_root / name, "val", args.cache, size)
        probs.append(predict(model, data).au_probs)
        labels.append(teacher_aus(data.index.paths, args.teacher / name))
        if name == "fer2013":  # its neutral faces are scored below, from the same predictions
            emotions = np.asarray(data.index.emotions)
    fit_probs, fit_labels = np.concatenate(probs), np.concatenate(labels)
    thresholds = np.array(
        [best_threshold(fit_labels[:, j], fit_probs[:, j]) for j in range(len(topology.AUS))]
    )
    half = np.full(len(topology.AUS), DEFAULT)

    ck, _ = real_dataset("ckplus", args.data_root / "ckplus48", "all", args.cache, size)
    ck_pred = predict(model, ck)
    at_half, at_fit = (
        mean_f1(ck_pred.aus, ck_pred.au_probs, half),
        mean_f1(ck_pred.aus, ck_pred.au_probs, thresholds),
    )
    # Thresholds chosen on CK+ itself: an upper bound that sizes the headroom, never a result.
    oracle = np.array(
        [best_threshold(ck_pred.aus[:, j], ck_pred.au_probs[:, j]) for j in range(len(topology.AUS))]
    )
    at_oracle = mean_f1(ck_pred.aus, ck_pred.au_probs, oracle)
    neutral = probs[FIT_SETS.index("fer2013")][emotions == "neutral"]

    print(f"{'AU':6s} {'threshold':>9s} {'CK+ F1 at 0.5':>14s} {'at threshold':>13s}")
    for j, au in enumerate(topology.AUS):
        key = topology.au_key(au)
        row = f"{at_half[key]:14.3f} {at_fit[key]:13.3f}" if key in at_half else f"{'-':>14s} {'-':>13s}"
        print(f"{key:6s} {thresholds[j]:9.2f} {row}")
    print(
        f"CK+ mean AU F1: {np.mean(list(at_half.values())):.3f} at 0.5, {np.mean(list(at_fit.values())):.3f} "
        f"at the val thresholds ({np.mean(list(at_oracle.values())):.3f} with thresholds chosen on CK+ "
        "itself, the headroom)"
    )
    print(
        f"AU calls on FER2013 val neutral faces ({len(neutral)}): {(neutral > half).mean():.3f} at 0.5, "
        f"{(neutral > thresholds).mean():.3f} at the val thresholds"
    )


if __name__ == "__main__":
    main()
