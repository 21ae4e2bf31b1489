"""Faithfulness as a gate: per-target pass / fail, kept with the weights in metrics.json.

`python -m explain.faithfulness` measures every target with masks on SynthFACS (explain/
faithfulness.py) and `passes` turns the numbers into a verdict per target:

- attributes and AUs pass when the map's maximum falls inside the unit's region on at least
  POINTING_MIN of the faces that show it, removing the most-attributed pixels first lowers the
  score faster than removing them in random order (deletion AUC below random), and the map
  changes when the weights are randomised (mean Spearman rank correlation below
  RANDOMISATION_MAX);
- valence and arousal have no region to point at: they pass on the randomisation check alone.

The verdicts hold for one method and one layer choice. metrics.json keeps the record of the app's
default choice under FAITHFULNESS_KEY and the record of any other choice checked under
`record_key(method, layer)`; `verdicts` returns None (not checked) for a choice with no record, so
the app marks a map as unchecked rather than as passed.
"""

import json
from pathlib import Path

from fatauva.checkpoint import FAITHFULNESS_KEY, faithfulness_records

POINTING_MIN = 0.75  # issue 20: "no AU below 0.75"
RANDOMISATION_MAX = 0.5


def passes(row: dict[str, float], kind: str) -> bool:
    """The verdict of one target's row of measurements (keys as `faithfulness.target_rows`)."""
    sane = row.get("randomisation_rho", 1.0) < RANDOMISATION_MAX
    if kind == "va":
        return bool(sane)
    pointing = row.get("pointing_game", 0.0) >= POINTING_MIN
    deletion = row.get("deletion_auc", 1.0) < row.get("deletion_auc_random", 0.0)
    return bool(sane and pointing and deletion)


def record_key(method: str, layer: str, default: bool) -> str:
    """The metrics.json key of the record for `method` on `layer`: FAITHFULNESS_KEY for the app's
    default choice, 'faithfulness (<method> on <layer>)' for any other."""
    return FAITHFULNESS_KEY if default else f"{FAITHFULNESS_KEY} ({method} on {layer})"


def records(metrics: dict) -> list[dict]:
    """Every faithfulness record in a metrics.json dict, the default choice's first."""
    found = faithfulness_records(metrics)
    keys = sorted(found, key=lambda k: k != FAITHFULNESS_KEY)
    return [found[k] for k in keys if isinstance(found[k], dict) and "targets" in found[k]]


def record_for(metrics: dict, method: str, layer: str) -> dict | None:
    """The record measured with `method` (case-insensitive) on `layer`, or None."""
    for record in records(metrics):
        if record.get("method", "").lower() == method.lower() and record.get("layer") == layer:
            return record
    return None


def verdicts(metrics: dict, method: str, layer: str) -> dict[str, bool | None]:
    """{target name: passed} from a metrics.json dict, for maps of `method` on `layer`;
    {} when the weights carry no faithfulness record, all None when none is for this choice."""
    found = records(metrics)
    if not found:
        return {}
    record = record_for(metrics, method, layer)
    if record is None:
        return {name: None for name in found[0].get("targets", {})}
    return {name: bool(row["passed"]) for name, row in record.get("targets", {}).items()}


def merge_into_metrics(path: str | Path, record: dict, default: bool = True) -> Path:
    """Write `record` (with its 'method' and 'layer') into the metrics.json at `path` (created if
    absent) under `record_key`, leaving every other key as it was. Returns the path."""
    path = Path(path)
    metrics = json.loads(path.read_text(encoding="utf-8")) if path.is_file() else {}
    metrics[record_key(record["method"], record["layer"], default)] = record
    path.write_text(json.dumps(metrics, indent=2) + "\n", encoding="utf-8")
    return path
