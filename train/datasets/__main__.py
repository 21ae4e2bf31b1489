"""Check a dataset on disk and crop it once, before training:

    python -m train.datasets bp4d /data/FERA2015/BP4D --split train --cache-root /data/crops
    python -m train.datasets celeba /data/celeba --split all --labels-only

Prints what the adapter found (rows, skipped frames, labelled shares) and, unless
--labels-only, fills the crop cache with a progress bar and prints how the faces were found:
by the detector (its rate), by the set's framing where it missed (fallback), by the dataset's
landmarks, or skipped; and the time the crop step took.
A malformed dataset ends with its one-sentence error, not a stack trace.
"""

import argparse
import sys
import time
from collections import Counter

import numpy as np

from fatauva.template import DEFAULT_INPUT_SIZE
from fatauva.topology import ATTRIBUTES, AUS

from . import INDEXERS, DatasetError, FaceIndex, cropped_dataset, open_index


def describe(index: FaceIndex) -> list[str]:
    """Human-readable lines: size, skips, and the positive rate of every labelled attribute / AU."""
    lines = [f"{index.name}: {len(index)} images, {index.skipped} labelled frames without an image skipped"]
    lines += index.notes
    for names, labels in ((ATTRIBUTES, index.attributes), ([f"AU{a}" for a in AUS], index.aus)):
        for name, column in zip(names, labels.T, strict=True):
            labelled = column >= 0
            if labelled.any():
                lines.append(
                    f"  {name:<20} {labelled.sum():>8} labelled, {column[labelled].mean():6.1%} present"
                )
    for k, name in enumerate(("valence", "arousal")):
        values = index.va[:, k]
        if not np.isnan(values).all():
            lines.append(
                f"  {name:<20} {np.isfinite(values).sum():>8} labelled, mean {np.nanmean(values):+.2f}"
            )
    emotions = Counter(e for e in index.emotions if e)
    if emotions:
        lines.append(
            "  emotions: " + ", ".join(f"{name} {count}" for name, count in sorted(emotions.items()))
        )
    if np.isfinite(index.ages).any():
        ages = index.ages[np.isfinite(index.ages)]
        lines.append(f"  {'age':<20} {len(ages):>8} labelled, mean {ages.mean():.1f} years")
    return lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m train.datasets", description=__doc__.split("\n\n")[0])
    parser.add_argument("name", choices=sorted(INDEXERS))
    parser.add_argument("root", help="dataset folder (the CSV file for au_csv / va_csv)")
    parser.add_argument("--split", default="train")
    parser.add_argument("--cache-root", default="crops", help="where the aligned crops are kept")
    parser.add_argument("--input-size", type=int, default=DEFAULT_INPUT_SIZE)
    parser.add_argument("--workers", type=int, default=0, help="crop in this many processes")
    parser.add_argument("--labels-only", action="store_true", help="read the labels, crop nothing")
    args = parser.parse_args(argv)
    try:
        index = open_index(args.name, args.root, args.split)
    except (DatasetError, ValueError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 1
    print("\n".join(describe(index)))
    if not args.labels_only:
        start = time.perf_counter()
        _, report = cropped_dataset(index, args.cache_root, args.input_size, workers=args.workers)
        print(report.summary())
        print(f"crop step: {time.perf_counter() - start:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
