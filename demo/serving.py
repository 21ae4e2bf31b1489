"""Which weights the app and the command line run: `--model SOURCE` / FATAUVA_MODEL, where SOURCE is a
local checkpoint folder or a Hub repo id with an optional `@revision`; the bundled checkpoint else.

Resolution and its fallbacks are `fatauva.checkpoint.load_model`'s: a Hub repo is read from the local
cache first and tried online only after a 1.5 s reachability probe (never huggingface_hub's ~23 s of
retries), and an unreachable repo falls back to the bundled weights with the reason in `warning`.
"""

import os
import sys
from pathlib import Path

import torch

from fatauva.analyze import Analyzer
from fatauva.checkpoint import load_model

# The page must come up with no network: no usage analytics, no telemetry calls at start.
os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
os.environ.setdefault("HF_HUB_DISABLE_TELEMETRY", "1")


def split_source(source: str) -> tuple[str, str | None]:
    """ "owner/name@rev" -> ("owner/name", "rev"); an existing local path is kept whole (it may hold @)."""
    if Path(source).expanduser().exists() or "@" not in source:
        return source, None
    repo, _, revision = source.rpartition("@")
    return repo, revision or None


def load_analyzer(source: str | None = None) -> Analyzer:
    """Resolve the weights (explicit source, else FATAUVA_MODEL, else bundled), say on stderr when the
    requested ones could not be used, and wrap them for inference."""
    requested = source or os.environ.get("FATAUVA_MODEL") or None
    repo, revision = split_source(requested) if requested else (None, None)
    device = "cuda" if torch.cuda.is_available() else "cpu"
    loaded = load_model(repo, revision=revision, device=device)
    if loaded.warning:
        print(f"fatauva: {loaded.warning}", file=sys.stderr)
    return Analyzer(loaded)
