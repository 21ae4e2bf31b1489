"""Evaluate a model as the paper reports it: attribute accuracy (Table 4), AU F1 and AUC
(Tables 5-6), valence / arousal MSE and CCC (Fig. 9-10).

    python -m train.evaluate --model SOURCE --data synthfacs --split test --json PATH
    python -m train.evaluate --model SOURCE --data bp4d --root /data/BP4D --split val
    python -m train.evaluate --model SOURCE --data realfaces [--root DIR]
    python -m train.evaluate --model SOURCE --data celeba --split test      # Table 4 on held-out ids
    python -m train.evaluate --model SOURCE --data fer2013 --split test     # emotion-based V-A and AUs
    python -m train.evaluate --model SOURCE --data ckplus --split all       # AUs against CK+ FACS codes

SOURCE is anything fatauva.checkpoint.load_model accepts (a folder, a Hub repo id, nothing
for the bundled weights). The photo sets of shared/data are found under `--data-root` (default
../shared/data) unless `--root` names the folder. Real sets add `one_face_rate` (the share of
images where the detector found the face; the rest were aligned by the set's known framing or
skipped); FER2013 adds train.emotion_eval's `valence_auc`, `arousal_auc`, `emotion_au_auc`.
The JSON layout is `report()`'s; the evaluation photos of shared/realfaces are scored by
train.realfaces (smile AUC, male accuracy, faces found, and what the AU and V-A outputs do on
posed smiling and neutral faces).
"""

import argparse
import json
import math
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch.utils.data import DataLoader, Dataset

from fatauva import topology
from fatauva.checkpoint import load_model
from fatauva.metrics import binary_report, va_report
from fatauva.model import FatauvaNet
from train.config import TrainConfig
from train.datasets import real_dataset, synthfacs_dataset
from train.emotion_eval import emotion_report
from train.preprocess import PrepareReport

DEFAULT_SYNTH_SIZE = 2000  # test faces: enough for a per-AU F1 / AUC of rare AUs


@dataclass
class Predictions:
    """Model outputs and targets over a dataset, N rows, orders of fatauva.topology.

    attribute_probs (N, 10), au_probs (N, 14), va (N, 2) predicted; attributes (N, 10),
    aus (N, 14) int with -1 = unlabelled, va_true (N, 2) float with nan = unlabelled.
    """

    attribute_probs: np.ndarray
    au_probs: np.ndarray
    va: np.ndarray
    attributes: np.ndarray
    aus: np.ndarray
    va_true: np.ndarray

    def __len__(self) -> int:
        return len(self.va)


@torch.no_grad()
def predict(
    model: FatauvaNet,
    dataset: Dataset,
    device: torch.device | str = "cpu",
    batch_size: int = 128,
    num_workers: int = 0,
) -> Predictions:
    """Run `model` (put in eval mode, restored afterwards) over every sample of `dataset`."""
    was_training = model.training
    model.eval()
    # An own generator: evaluating must not move the global RNG that training resumes from.
    loader = DataLoader(
        dataset, batch_size=batch_size, num_workers=num_workers, generator=torch.Generator().manual_seed(0)
    )
    columns: dict[str, list[np.ndarray]] = {k: [] for k in Predictions.__dataclass_fields__}
    for batch in loader:
        out = model(batch["image"].to(device))
        columns["attribute_probs"].append(out.attribute_probs().float().cpu().numpy())
        columns["au_probs"].append(out.au_probs().float().cpu().numpy())
        columns["va"].append(out.va().float().cpu().numpy())
        columns["attributes"].append(batch["attributes"].numpy())
        columns["aus"].append(batch["aus"].numpy())
        columns["va_true"].append(batch["va"].numpy())
    model.train(was_training)
    return Predictions(**{k: np.concatenate(v) for k, v in columns.items()})


def _clean(value: Any) -> Any:
    """nan -> None recursively: JSON has no nan, and an undefined metric is not a number."""
    if isinstance(value, dict):
        return {k: _clean(v) for k, v in value.items()}
    if isinstance(value, float) and math.isnan(value):
        return None
    return value


def report(pred: Predictions) -> dict[str, Any]:
    """The evaluation JSON: Table 4 (attributes), Tables 5-6 (AUs), Fig. 9-10 (V-A).

    {"attributes": {"mean_accuracy", "per_attribute": {CelebA name: accuracy}},
     "aus": {"mean_f1", "mean_auc", "per_au": {"AU01": {"f1", "auc", "accuracy", "n"}, ...}},
     "valence": {"mse", "ccc", "n"}, "arousal": {...}, "n_faces"}; undefined metrics are null.
    """
    attributes = binary_report(pred.attribute_probs, pred.attributes, topology.ATTRIBUTES)
    aus = binary_report(pred.au_probs, pred.aus, topology.AU_KEYS)
    va = va_report(pred.va, pred.va_true)
    result = {
        "attributes": {
            "mean_accuracy": attributes.mean.accuracy,
            "per_attribute": {name: s.accuracy for name, s in attributes.labels.items()},
        },
        "aus": {
            "mean_f1": aus.mean.f1,
            "mean_auc": aus.mean.auc,
            "per_au": {
                k: {"f1": s.f1, "auc": s.auc, "accuracy": s.accuracy, "n": s.n} for k, s in aus.labels.items()
            },
        },
        **{name: {"mse": s.mse, "ccc": s.ccc, "n": s.n} for name, s in va.targets.items()},
        "n_faces": len(pred),
    }
    return _clean(result)


def stage_metric(
    model: FatauvaNet, dataset: Dataset, stage: int, device: torch.device | str, batch_size: int = 128
) -> dict[str, float]:
    """The validation figures of one stage (logged after every epoch): its task's headline metrics."""
    rep = report(predict(model, dataset, device, batch_size))
    picked = {
        1: {"attr_mean_accuracy": rep["attributes"]["mean_accuracy"]},
        2: {"au_mean_f1": rep["aus"]["mean_f1"], "au_mean_auc": rep["aus"]["mean_auc"]},
        3: {f"{t}_{m}": rep[t][m] for t in topology.VA_TARGETS for m in ("ccc", "mse")},
    }[stage]
    return {k: (float("nan") if v is None else v) for k, v in picked.items()}


def evaluate_synthfacs(model: FatauvaNet, cfg: TrainConfig, device: torch.device | str) -> dict[str, Any]:
    """The model card's figures: the SynthFACS test split of `cfg.eval_size` faces (a dry run
    scores the first 32 only: it checks that evaluation works, not how well)."""
    size = min(cfg.eval_size, 32) if cfg.dry_run else cfg.eval_size
    data = synthfacs_dataset("test", size, model.config.input_size, cfg.synth_mode)
    pred = predict(model, data, device, cfg.eval_batch_size, cfg.num_workers)
    return {"data": "synthfacs", "split": "test", **report(pred)}


def _fmt(value: float | None) -> str:
    return "   n/a" if value is None else f"{value:6.4f}"


def format_table(rep: dict[str, Any]) -> str:
    """A plain-text table of a `report` dict, in the paper's order (Table 4, Tables 5-6, Fig. 9-10)."""
    lines = [f"faces: {rep['n_faces']}", "", f"{'attribute':<22}{'accuracy':>10}"]
    lines += [f"{name:<22}{_fmt(acc):>10}" for name, acc in rep["attributes"]["per_attribute"].items()]
    lines += [f"{'AVG':<22}{_fmt(rep['attributes']['mean_accuracy']):>10}", ""]
    lines.append(f"{'AU':<22}{'F1':>10}{'AUC':>10}")
    for key, s in rep["aus"]["per_au"].items():
        name = f"{key} {topology.AU_NAMES[int(key[2:])]}"
        lines.append(f"{name:<22}{_fmt(s['f1']):>10}{_fmt(s['auc']):>10}")
    lines += [f"{'AVG':<22}{_fmt(rep['aus']['mean_f1']):>10}{_fmt(rep['aus']['mean_auc']):>10}", ""]
    lines.append(f"{'target':<22}{'MSE':>10}{'CCC':>10}")
    lines += [f"{t:<22}{_fmt(rep[t]['mse']):>10}{_fmt(rep[t]['ccc']):>10}" for t in topology.VA_TARGETS]
    return "\n".join(lines)


# Folder names of the photo sets in shared/data where they differ from the adapter's name.
DATASET_FOLDERS = {"ckplus": "ckplus48"}
PHOTO_DATASETS = ("celeba", "utkface", "genki4k", "fer2013", "ckplus")


def default_dataset_root(name: str, data_root: str) -> str:
    """`<data_root>/<folder>` for the photo sets of shared/data, else "" (the user must say)."""
    if name not in PHOTO_DATASETS:
        return ""
    return str(Path(data_root) / DATASET_FOLDERS.get(name, name))


def one_face_rate(prepared: PrepareReport) -> float:
    """The share of a set's images whose face the detector found (not the fallback framing)."""
    return float(prepared.detected) / max(1, prepared.total)


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m train.evaluate", description=__doc__.split("\n\n")[0])
    p.add_argument(
        "--model", default=None, help="local folder, Hub repo id, or nothing for the bundled weights"
    )
    p.add_argument("--data", default="synthfacs", help="synthfacs, realfaces, or a train.datasets name")
    p.add_argument("--root", default=None, help="dataset folder (real datasets, realfaces)")
    p.add_argument("--data-root", default="../shared/data", help="where the photo sets' folders are")
    p.add_argument("--split", default="test")
    p.add_argument("--size", type=int, default=DEFAULT_SYNTH_SIZE, help="SynthFACS faces")
    p.add_argument("--mode", default="emotion", help="SynthFACS FaceParams.random mode")
    p.add_argument("--cache", default="cache/crops", help="where real-dataset crops are cached")
    p.add_argument("--json", type=Path, default=None, help="write the figures to this JSON file")
    p.add_argument("--device", default="cpu")
    p.add_argument("--batch-size", type=int, default=128)
    p.add_argument("--workers", type=int, default=0)
    return p


def main(argv: list[str] | None = None) -> dict[str, Any]:
    args = _parser().parse_args(argv)
    loaded = load_model(args.model, device=args.device)
    model, size = loaded.model, loaded.model.config.input_size
    header = {"model": loaded.location, "kind": loaded.kind, "sha256": loaded.sha256, "data": args.data}
    if args.data == "realfaces":
        from train.realfaces import default_root, evaluate_realfaces, format_realfaces

        rep = evaluate_realfaces(model, Path(args.root) if args.root else default_root(), args.device)
        text = format_realfaces(rep)
    else:
        if args.data == "synthfacs":
            data = synthfacs_dataset(args.split, args.size, size, args.mode)
        else:
            root = args.root or default_dataset_root(args.data, args.data_root)
            if not root:
                sys.exit(f"error: --data {args.data} needs --root (the dataset folder)")
            data, prepared = real_dataset(args.data, root, args.split, args.cache, size)
        pred = predict(model, data, args.device, args.batch_size, args.workers)
        rep = report(pred)
        text = format_table(rep)
        if args.data != "synthfacs":
            rep["one_face_rate"] = one_face_rate(prepared)
            text += f"\none-face rate: {rep['one_face_rate']:.4f}"
        if args.data == "fer2013":
            emotions = emotion_report(pred.va, pred.au_probs, data.index.emotions)
            rep.update(_clean(emotions))
            text += "\n" + "\n".join(
                f"{k}: {emotions[k]:.4f}" for k in ("valence_auc", "arousal_auc", "emotion_au_auc")
            )
    rep = {**header, "split": args.split, **rep}
    print(f"model: {loaded.location} ({loaded.kind}, sha256 {loaded.sha256[:12]})\n{text}")
    if args.json is not None:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(rep, indent=2) + "\n")
    return rep


if __name__ == "__main__":
    main()
