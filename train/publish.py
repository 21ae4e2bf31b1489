"""Push a trained model folder to the Hugging Face Hub, its model card filled from evaluations;
or write it to a local folder (how the bundled weights in weights/ are made).

    python -m train.publish --checkpoint runs/bundled/model --repo-id owner/name \
        [--eval-json eval.json ...] [--private]
    python -m train.publish --checkpoint runs/bundled/model --out weights \
        --eval-json synthfacs_test.json --eval-json realfaces.json

    python -m train.publish --readme-table weights

The folder is what train.train saved with fatauva.checkpoint.save_model (model.safetensors +
config.json + metrics.json + README.md). It is loaded strictly (so broken weights never reach
the Hub) and uploaded as one commit by fatauva.checkpoint.push_model, which writes the card
again with the metrics of `--eval-json` (the JSON of train.evaluate; several are kept side by
side under "<data>_<split>") or, without it, those saved in the folder. The training command,
data sentence and limitations of the card are kept.

`--readme-table FOLDER` prints the README's results tables from FOLDER/metrics.json (the one
source of every figure the README, the model card and the app show), the paper's figures beside
ours from PAPER where the paper has a comparable one, its Table 4 per attribute (PAPER_TABLE4)
beside ours, and the faithfulness check (tests/test_one_source.py checks the README).
"""

import argparse
import re
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from fatauva.checkpoint import METRICS_NAME, faithfulness_records, load_model, push_model, save_model
from train.config import read_json
from train.scorecard import dotted

# Sections of our own card template (fatauva/model_card.md) that publishing keeps.
_COMMAND = re.compile(r"## How these weights were made\s*```bash\n(.*?)\n```", re.DOTALL)
_TRAINED_ON = re.compile(r"## Training data\s*\n(.*?)\n\s*## ", re.DOTALL)
_LIMITATIONS = re.compile(r"## Limitations\s*\n(.*?)\n\s*## ", re.DOTALL)


@dataclass(frozen=True)
class PaperFigure:
    """A figure printed in the paper: FATAUVA-Net's and its peers' (reference or name -> value)."""

    source: str
    ours: float
    peers: dict[str, float] = field(default_factory=dict)


# Table 4 of the paper as printed, in its row order: attribute -> (the column heading the README
# gives it, (FATAUVA-Net, [32], [14])); "mean" is the table's AVG row.
PAPER_TABLE4: dict[str, tuple[str, tuple[str, str, str]]] = {
    "Arched_Eyebrows": ("Arched", ("0.8410", "0.8408", "0.8342")),
    "Attractive": ("Attractive", ("0.8143", "0.8262", "0.8306")),
    "Bushy_Eyebrows": ("Bushy", ("0.9228", "0.9075", "0.9284")),
    "Eyeglasses": ("Glasses", ("0.9938", "0.9889", "0.9963")),
    "Male": ("Male", ("0.9757", "0.9774", "0.9817")),
    "Mouth_Slightly_Open": ("Mouth open", ("0.9339", "0.8927", "0.9374")),
    "Narrow_Eyes": ("Narrow", ("0.9072", "0.8599", "0.8723")),
    "No_Beard": ("No beard", ("0.9503", "0.9638", "0.9605")),
    "Smiling": ("Smiling", ("0.9243", "0.9265", "0.9273")),
    "Young": ("Young", ("0.8703", "0.8892", "0.8848")),
    "mean": ("mean", ("0.9134", "0.9073", "0.9154")),
}
TABLE4_WHO = ((1, "[32]"), (2, "[14]"), (0, "FATAUVA-Net"))  # the paper's column order
_TABLE4_MEAN = PAPER_TABLE4["mean"][1]

# The paper's figures (Chang, Hsu, Chien, CVPRW 2017), as printed in its tables. Its V-A figures
# (Aff-Wild MSE and CCC, Fig. 9-10) are bar charts without printed values, so none is quoted.
PAPER: dict[str, PaperFigure] = {
    "attribute_accuracy": PaperFigure(
        "Table 4, CelebA test partition, mean of the 10 attributes",
        float(_TABLE4_MEAN[0]),
        {"[32]": float(_TABLE4_MEAN[1]), "[14]": float(_TABLE4_MEAN[2])},
    ),
    "au_auc": PaperFigure(
        "Table 5, BP4D (FERA2015), mean of 11 AUs", 0.698, {"DRML": 0.562, "EAC-Net": 0.774}
    ),
    "au_f1": PaperFigure(
        "Table 6, BP4D (FERA2015), mean of 11 AUs", 0.516, {"DRML": 0.462, "EAC-Net": 0.541}
    ),
}


@dataclass(frozen=True)
class ResultRow:
    """One row of the README's results table: a figure of metrics.json[evaluation] at `key`."""

    what: str
    metric: str
    evaluation: str  # a top-level key of metrics.json: train.scorecard's <data>_<split>
    key: str  # dotted key inside that evaluation
    paper: str = ""  # a key of PAPER where the paper has a comparable figure


RESULT_ROWS: tuple[ResultRow, ...] = (
    ResultRow(
        "Attributes, CelebA held-out ids",
        "mean accuracy",
        "celeba_test",
        "attributes.mean_accuracy",
        "attribute_accuracy",
    ),
    ResultRow("AUs, CK+ (every coded frame)", "mean AUC", "ckplus_all", "aus.mean_auc", "au_auc"),
    ResultRow("AUs, CK+ (every coded frame)", "mean F1", "ckplus_all", "aus.mean_f1", "au_f1"),
    ResultRow("Valence, FER2013 public test", "AUC, happy vs negative", "fer2013_test", "valence_auc"),
    ResultRow("AUs, FER2013 public test", "mean AUC, prototypical AUs", "fer2013_test", "emotion_au_auc"),
    ResultRow("Smiling, GENKI-4K test", "accuracy", "genki4k_test", "attributes.per_attribute.Smiling"),
    ResultRow("Smiling, London photos (test)", "AUC", "realfaces_test", "smile_auc"),
    ResultRow("AU12 on smiles, London photos (test)", "AUC", "realfaces_test", "au12_smile_auc"),
    ResultRow("Male, London + Canada photos", "accuracy", "realfaces_test", "male_accuracy"),
    ResultRow("Attributes, SynthFACS test", "mean accuracy", "synthfacs_test", "attributes.mean_accuracy"),
    ResultRow("AUs, SynthFACS test", "mean AUC", "synthfacs_test", "aus.mean_auc"),
    ResultRow("AUs, SynthFACS test", "mean F1", "synthfacs_test", "aus.mean_f1"),
    ResultRow("Valence, SynthFACS test", "CCC", "synthfacs_test", "valence.ccc"),
    ResultRow("Arousal, SynthFACS test", "CCC", "synthfacs_test", "arousal.ccc"),
)


def _paper_cells(figure: PaperFigure | None) -> tuple[str, str]:
    if figure is None:
        return "-", "-"
    peers = ", ".join(f"{name} {value:g}" for name, value in figure.peers.items())
    return f"{figure.ours:g} ({figure.source})", peers or "-"


def readme_table(metrics: dict[str, Any]) -> str:
    """The README's results table (markdown) from a metrics.json tree: a row of RESULT_ROWS for every
    figure the tree holds, ours rounded to 3 decimals, the paper's as printed, and the command that
    measures ours on the bundled weights."""
    lines = [
        "| task, data | metric | ours | paper (FATAUVA-Net) | paper's peers | command |",
        "|---|---|---:|---|---|---|",
    ]
    for row in RESULT_ROWS:
        evaluation = metrics.get(row.evaluation)
        value = dotted(evaluation, row.key) if isinstance(evaluation, dict) else None
        if not isinstance(value, int | float):
            continue
        data, split = evaluation.get("data", "?"), evaluation.get("split", "all")
        command = f"`python -m train.evaluate --data {data} --split {split}`"
        paper, peers = _paper_cells(PAPER.get(row.paper))
        lines.append(f"| {row.what} | {row.metric} | {value:.3f} | {paper} | {peers} | {command} |")
    return "\n".join(lines)


def table4(metrics: dict[str, Any]) -> str | None:
    """The paper's Table 4 (accuracy per attribute, CelebA) with ours on the CelebA held-out ids
    beside it, attributes as columns; None when metrics.json has no CelebA test evaluation."""
    attributes = dotted(metrics.get("celeba_test") or {}, "attributes")
    per = attributes.get("per_attribute") if isinstance(attributes, dict) else None
    if not isinstance(per, dict) or set(per) != set(PAPER_TABLE4) - {"mean"}:
        return None
    ours = [f"{per[name]:.3f}" for name in PAPER_TABLE4 if name != "mean"]
    ours.append(f"{attributes['mean_accuracy']:.3f}")
    headings = [heading for heading, _ in PAPER_TABLE4.values()]
    printed = [figures for _, figures in PAPER_TABLE4.values()]
    lines = [
        f"| Table 4, accuracy | {' | '.join(headings)} |",
        "|---|" + "---:|" * len(headings),
        *(f"| {who} (paper) | {' | '.join(f[i] for f in printed)} |" for i, who in TABLE4_WHO),
        f"| ours, CelebA held-out ids | {' | '.join(ours)} |",
    ]
    return "\n".join(lines)


_FIGURE = "{:.3f}".format


def _yes_no(value: float) -> str:
    return "yes" if value else "no"


# (what, key of metrics.json["faithfulness"], the bar of issue 20, how to print the value)
FAITH_ROWS: tuple[tuple[str, str, str, Callable[[float], str]], ...] = (
    ("AU pointing game, mean over AUs", "pointing_game_mean", ">= 0.90", _FIGURE),
    ("AU pointing game, weakest AU", "pointing_game_min", ">= 0.75", _FIGURE),
    ("GradCAM at the AU taps, pointing game", "pointing_game_gradcam_branch_mean", ">= 0.80", _FIGURE),
    ("AU energy in region, mean", "energy_in_region_mean", ">= 0.6", _FIGURE),
    ("AUs: deletion faster than random", "deletion_below_random_aus", ">= 12 of 14", "{:.0f} of 14".format),
    ("weight randomisation changes every map", "randomisation_check_passed", "yes", _yes_no),
    ("attribute pointing game, mean", "pointing_game_attribute_mean", "-", _FIGURE),
    ("rank agreement with occlusion, mean over AUs", "occlusion_rho_mean", "-", _FIGURE),
    ("London smiles: AU12 map energy in the mouth", "real_au12_mouth_energy", ">= 0.70", _FIGURE),
    ("London smiles: the mouth's share of the face crop (chance)", "real_mouth_share", "-", _FIGURE),
    ("London smiles: AU12 map peak inside the mouth", "real_au12_mouth_pointing", "-", _FIGURE),
)  # fmt: skip


def faithfulness_table(metrics: dict[str, Any]) -> str | None:
    """The README's faithfulness table (issue 20 item 7) from metrics.json["faithfulness"], the record
    of explain.faithfulness --write-metrics; None when the weights carry none."""
    record = metrics.get("faithfulness")
    if not isinstance(record, dict):
        return None
    where = f"SynthFACS test, {record.get('method', '?')} on {record.get('layer', '?')}"
    lines = [f"| explanation check ({where}) | ours | bar |", "|---|---:|---|"]
    for what, key, bar, form in FAITH_ROWS:
        value = record.get(key)
        if not isinstance(value, int | float):
            continue
        lines.append(f"| {what} | {form(value)} | {bar} |")
    targets = record.get("targets", {})
    if targets:
        passed = sum(bool(row.get("passed")) for row in targets.values())
        lines.append(
            f"| targets passing the gate (marked faithful in the app) | {passed} of {len(targets)} | - |"
        )
    return "\n".join(lines)


def read_eval_json(path: Path) -> dict[str, Any]:
    """The figures of an evaluation JSON; a missing or malformed file is one clear error."""
    metrics = read_json(path, "evaluation JSON")
    if not isinstance(metrics, dict):
        raise ValueError(f"evaluation JSON {path} must hold an object of metrics")
    return metrics


def without_location(record: dict[str, Any]) -> dict[str, Any]:
    """`record` without where its weights were loaded from ("model", "kind"): a path on the machine
    that measured it; the record's sha256 names the weights."""
    return {k: v for k, v in record.items() if k not in ("model", "kind")}


def merge_evaluations(paths: list[Path]) -> dict[str, Any]:
    """One evaluation as it is; several under "<data>_<split>" keys (e.g. synthfacs_test, realfaces_test)."""
    evaluations = [without_location(read_eval_json(p)) for p in paths]
    if len(evaluations) == 1:
        return evaluations[0]
    merged: dict[str, Any] = {}
    for path, ev in zip(paths, evaluations, strict=True):
        key = f"{ev.get('data', path.stem)}_{ev.get('split', 'all')}"
        if key in merged:
            raise ValueError(f"two evaluation JSONs are both {key}: {path} repeats one given before")
        merged[key] = ev
    return merged


def card_section(folder: Path, pattern: re.Pattern) -> str | None:
    """A section of the folder's model card (the training command or data sentence), if recorded."""
    card = folder / "README.md"
    found = pattern.search(card.read_text()) if card.is_file() else None
    return found.group(1).strip() if found else None


def publish(
    checkpoint: Path,
    repo_id: str | None = None,
    eval_json: list[Path] | None = None,
    private: bool = False,
    out: Path | None = None,
) -> str:
    """Upload `checkpoint` to `repo_id` (created if needed) and return the commit URL, or, with
    `out`, write the folder there with its card and return that path."""
    loaded = load_model(checkpoint)
    if loaded.kind != "local":
        raise FileNotFoundError(f"no model folder at {checkpoint}")
    metrics = merge_evaluations(eval_json) if eval_json else loaded.metrics
    if eval_json:
        # the faithfulness record was measured on these same weights by explain.faithfulness
        # --write-metrics: new evaluations replace the evaluations, not it
        metrics |= faithfulness_records(loaded.metrics)
    metrics |= {key: without_location(record) for key, record in faithfulness_records(metrics).items()}
    card = {
        "metrics": metrics,
        "command": card_section(checkpoint, _COMMAND),
        "trained_on": card_section(checkpoint, _TRAINED_ON),
        "limitations": card_section(checkpoint, _LIMITATIONS),
    }
    if out is not None:
        return str(save_model(loaded.model, out, **card))
    if not repo_id:
        raise ValueError("name a Hub repository with --repo-id, or a local folder with --out")
    return push_model(
        loaded.model,
        repo_id,
        **card,
        private=private,
        commit_message=f"Upload FATAUVA-Net weights (sha256 {loaded.sha256[:12]})",
    )


def main(argv: list[str] | None = None) -> str:
    p = argparse.ArgumentParser(prog="python -m train.publish", description=__doc__.split("\n\n")[0])
    p.add_argument("--checkpoint", type=Path, help="folder saved by train.train (out_dir/model)")
    where = p.add_mutually_exclusive_group(required=True)
    where.add_argument("--repo-id", help="Hub repository owner/name")
    where.add_argument("--out", type=Path, help="write the folder here instead (e.g. weights)")
    where.add_argument(
        "--readme-table",
        type=Path,
        metavar="FOLDER",
        help="print the README's results tables (evaluations, faithfulness) of FOLDER/metrics.json",
    )
    p.add_argument(
        "--eval-json", type=Path, action="append", help="JSON written by train.evaluate --json (repeatable)"
    )
    p.add_argument("--private", action="store_true", help="create the repository as private")
    args = p.parse_args(argv)
    if args.readme_table is not None:
        metrics = read_json(args.readme_table / METRICS_NAME, "metrics file")
        tables = (readme_table(metrics), table4(metrics), faithfulness_table(metrics))
        table = "\n\n".join(t for t in tables if t)
        print(table)
        return table
    if args.checkpoint is None:
        p.error("--checkpoint is required to publish (--repo-id or --out)")
    try:
        url = publish(args.checkpoint, args.repo_id, args.eval_json, args.private, args.out)
    except (ValueError, FileNotFoundError) as err:
        sys.exit(f"error: {err}")
    print(url)
    return url


if __name__ == "__main__":
    main()
