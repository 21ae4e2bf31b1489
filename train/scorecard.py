"""Every evaluation of a model in one command: the figures its card, the README and the app show.

    python -m train.scorecard --model runs/bundled/model --out runs/bundled/eval
    python -m train.publish --checkpoint runs/bundled/model --out weights \\
        $(ls runs/bundled/eval/*_*.json | sed 's/^/--eval-json /')

Runs `train.evaluate` on SynthFACS test, CelebA held-out ids, FER2013 public test, CK+ (every
frame), GENKI-4K test and the evaluation photos of shared/realfaces, writing one JSON each into
`--out` (named `<data>_<split>.json`, the keys train.publish merges them under). Sets whose folder
is missing are skipped with one line saying so, never silently. `summary.json` beside them holds
the headline figures against their bars (HEADLINES); it is not an evaluation, hence `*_*.json`
above.
"""

import argparse
import json
import sys
from pathlib import Path

from train import evaluate

# (data, split): what the bundled weights are scored on. CK+ is validation only, never trained on.
EVALUATIONS: tuple[tuple[str, str], ...] = (
    ("synthfacs", "test"),
    ("celeba", "test"),
    ("fer2013", "test"),
    ("ckplus", "all"),
    ("genki4k", "test"),
    ("realfaces", "test"),
)

# (what, evaluation, dotted key, bar of issue 19) for the summary printed at the end.
HEADLINES: tuple[tuple[str, str, str, str], ...] = (
    ("London test smile AUC", "realfaces_test", "smile_auc", ">= 0.95"),
    ("London test smile accuracy", "realfaces_test", "smile_accuracy", ">= 0.88"),
    ("Male accuracy, London + Canada", "realfaces_test", "male_accuracy", ">= 0.90"),
    ("neutral London false AU calls", "realfaces_test", "neutral_au_rate", "<= 0.05"),
    ("AU12 smile AUC, London", "realfaces_test", "au12_smile_auc", ">= 0.95"),
    ("valence smile AUC, London", "realfaces_test", "valence_smile_auc", ">= 0.95"),
    ("CelebA held-out mean accuracy", "celeba_test", "attributes.mean_accuracy", ">= 0.89"),
    ("CK+ AU mean AUC", "ckplus_all", "aus.mean_auc", ">= 0.85"),
    ("CK+ AU mean F1", "ckplus_all", "aus.mean_f1", ">= 0.50"),
    ("FER2013 valence AUC", "fer2013_test", "valence_auc", ">= 0.85"),
    ("FER2013 emotion AU AUC", "fer2013_test", "emotion_au_auc", ">= 0.78"),
    ("SynthFACS AU mean AUC", "synthfacs_test", "aus.mean_auc", ">= 0.93"),
    ("SynthFACS valence CCC", "synthfacs_test", "valence.ccc", ">= 0.90"),
)


def dotted(tree: dict, key: str) -> object:
    """tree["a"]["b"] for key "a.b"; None when any part is missing."""
    for part in key.split("."):
        if not isinstance(tree, dict) or part not in tree:
            return None
        tree = tree[part]
    return tree


def run(model: str | None, out: Path, data_root: str, cache: str, realfaces: str | None) -> dict[str, dict]:
    """Every evaluation of EVALUATIONS whose data is present; {"<data>_<split>": report}."""
    out.mkdir(parents=True, exist_ok=True)
    results = {}
    for data, split in EVALUATIONS:
        argv = ["--data", data, "--split", split, "--cache", cache, "--data-root", data_root]
        argv += ["--model", model] if model else []
        if data == "realfaces":
            if realfaces:
                argv += ["--root", realfaces]
        elif data != "synthfacs":
            root = evaluate.default_dataset_root(data, data_root)
            if not Path(root).is_dir():
                print(f"skipped {data}: no folder {root}", file=sys.stderr)
                continue
        path = out / f"{data}_{split}.json"
        print(f"== {data} {split}", flush=True)
        results[f"{data}_{split}"] = evaluate.main([*argv, "--json", str(path)])
    return results


def summary(results: dict[str, dict]) -> str:
    """The headline figures beside the bars, one line each."""
    lines = []
    for what, name, key, bar in HEADLINES:
        value = dotted(results.get(name, {}), key)
        shown = "n/a" if not isinstance(value, int | float) else f"{value:.3f}"
        lines.append(f"{what:<34}{shown:>8}   bar {bar}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> dict[str, dict]:
    p = argparse.ArgumentParser(prog="python -m train.scorecard", description=__doc__.split("\n\n")[0])
    p.add_argument("--model", default=None, help="folder or Hub repo id; nothing = the bundled weights")
    p.add_argument("--out", type=Path, required=True, help="folder for the evaluation JSONs")
    p.add_argument("--data-root", default="../shared/data")
    p.add_argument("--realfaces", default=None, help="evaluation photos (default ../shared/realfaces)")
    p.add_argument("--cache", default="cache/crops")
    args = p.parse_args(argv)
    results = run(args.model, args.out, args.data_root, args.cache, args.realfaces)
    text = summary(results)
    (args.out / "summary.json").write_text(
        json.dumps({what: dotted(results.get(n, {}), k) for what, n, k, _ in HEADLINES}, indent=2) + "\n"
    )
    print(text)
    return results


if __name__ == "__main__":
    main()
