"""Push a trained model folder to the Hugging Face Hub, its model card filled from an evaluation.

    python -m train.publish --checkpoint runs/bundled/model --repo-id owner/name \
        [--eval-json eval.json] [--private]

The folder is what train.train saved with fatauva.checkpoint.save_model (model.safetensors +
config.json + metrics.json + README.md). It is loaded strictly (so broken weights never reach
the Hub) and uploaded as one commit by fatauva.checkpoint.push_model, which writes the card
again with the metrics of `--eval-json` (the JSON of train.evaluate) or, without it, those
saved in the folder. The training command and data sentence of the card are kept.
"""

import argparse
import re
import sys
from pathlib import Path
from typing import Any

from fatauva.checkpoint import load_model, push_model
from train.config import read_json

# Sections of our own card template (fatauva/model_card.md) that publishing keeps.
_COMMAND = re.compile(r"## How these weights were made\s*```bash\n(.*?)\n```", re.DOTALL)
_TRAINED_ON = re.compile(r"## Training data\s*\n(.*?)\n\s*## ", re.DOTALL)


def read_eval_json(path: Path) -> dict[str, Any]:
    """The figures of an evaluation JSON; a missing or malformed file is one clear error."""
    metrics = read_json(path, "evaluation JSON")
    if not isinstance(metrics, dict):
        raise ValueError(f"evaluation JSON {path} must hold an object of metrics")
    return metrics


def card_section(folder: Path, pattern: re.Pattern) -> str | None:
    """A section of the folder's model card (the training command or data sentence), if recorded."""
    card = folder / "README.md"
    found = pattern.search(card.read_text()) if card.is_file() else None
    return found.group(1).strip() if found else None


def publish(checkpoint: Path, repo_id: str, eval_json: Path | None = None, private: bool = False) -> str:
    """Upload `checkpoint` to `repo_id` (created if needed); returns the commit URL."""
    loaded = load_model(checkpoint)
    if loaded.kind != "local":
        raise FileNotFoundError(f"no model folder at {checkpoint}")
    metrics = read_eval_json(eval_json) if eval_json is not None else loaded.metrics
    return push_model(
        loaded.model,
        repo_id,
        metrics=metrics,
        command=card_section(checkpoint, _COMMAND),
        trained_on=card_section(checkpoint, _TRAINED_ON),
        private=private,
        commit_message=f"Upload FATAUVA-Net weights (sha256 {loaded.sha256[:12]})",
    )


def main(argv: list[str] | None = None) -> str:
    p = argparse.ArgumentParser(prog="python -m train.publish", description=__doc__.split("\n\n")[0])
    p.add_argument(
        "--checkpoint", type=Path, required=True, help="folder saved by train.train (out_dir/model)"
    )
    p.add_argument("--repo-id", required=True, help="Hub repository owner/name")
    p.add_argument("--eval-json", type=Path, default=None, help="JSON written by train.evaluate --json")
    p.add_argument("--private", action="store_true", help="create the repository as private")
    args = p.parse_args(argv)
    try:
        url = publish(args.checkpoint, args.repo_id, args.eval_json, args.private)
    except (ValueError, FileNotFoundError) as err:
        sys.exit(f"error: {err}")
    print(url)
    return url


if __name__ == "__main__":
    main()
