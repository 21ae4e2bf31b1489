"""Push a trained model folder to the Hugging Face Hub, its model card filled from evaluations;
or write it to a local folder (how the bundled weights in weights/ are made).

    python -m train.publish --checkpoint runs/bundled/model --repo-id owner/name \
        [--eval-json eval.json ...] [--private]
    python -m train.publish --checkpoint runs/bundled/model --out weights \
        --eval-json synthfacs_test.json --eval-json realfaces.json

The folder is what train.train saved with fatauva.checkpoint.save_model (model.safetensors +
config.json + metrics.json + README.md). It is loaded strictly (so broken weights never reach
the Hub) and uploaded as one commit by fatauva.checkpoint.push_model, which writes the card
again with the metrics of `--eval-json` (the JSON of train.evaluate; several are kept side by
side under "<data>_<split>") or, without it, those saved in the folder. The training command,
data sentence and limitations of the card are kept.
"""

import argparse
import re
import sys
from pathlib import Path
from typing import Any

from fatauva.checkpoint import load_model, push_model, save_model
from train.config import read_json

# Sections of our own card template (fatauva/model_card.md) that publishing keeps.
_COMMAND = re.compile(r"## How these weights were made\s*```bash\n(.*?)\n```", re.DOTALL)
_TRAINED_ON = re.compile(r"## Training data\s*\n(.*?)\n\s*## ", re.DOTALL)
_LIMITATIONS = re.compile(r"## Limitations\s*\n(.*?)\n\s*## ", re.DOTALL)


def read_eval_json(path: Path) -> dict[str, Any]:
    """The figures of an evaluation JSON; a missing or malformed file is one clear error."""
    metrics = read_json(path, "evaluation JSON")
    if not isinstance(metrics, dict):
        raise ValueError(f"evaluation JSON {path} must hold an object of metrics")
    return metrics


def merge_evaluations(paths: list[Path]) -> dict[str, Any]:
    """One evaluation as it is; several under "<data>_<split>" keys (e.g. synthfacs_test, realfaces_test)."""
    # Where the evaluated weights were loaded from is a path on someone's machine; the sha256 names them.
    evaluations = [{k: v for k, v in read_eval_json(p).items() if k not in ("model", "kind")} for p in paths]
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
    p.add_argument(
        "--checkpoint", type=Path, required=True, help="folder saved by train.train (out_dir/model)"
    )
    where = p.add_mutually_exclusive_group(required=True)
    where.add_argument("--repo-id", help="Hub repository owner/name")
    where.add_argument("--out", type=Path, help="write the folder here instead (e.g. weights)")
    p.add_argument(
        "--eval-json", type=Path, action="append", help="JSON written by train.evaluate --json (repeatable)"
    )
    p.add_argument("--private", action="store_true", help="create the repository as private")
    args = p.parse_args(argv)
    try:
        url = publish(args.checkpoint, args.repo_id, args.eval_json, args.private, args.out)
    except (ValueError, FileNotFoundError) as err:
        sys.exit(f"error: {err}")
    print(url)
    return url


if __name__ == "__main__":
    main()
