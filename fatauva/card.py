"""The model card (README.md) written next to saved weights: what they were trained on, the
command that made them, and their evaluation as tables (Tables 4-6, Fig. 9-10 of the paper).

The template is `model_card.md` beside this file (jinja2, rendered by huggingface_hub.ModelCard).
"""

import math
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
from huggingface_hub import ModelCard

from fatauva import topology
from fatauva.metrics import BinaryReport, VAReport
from fatauva.model import FatauvaNet

TEMPLATE = Path(__file__).with_name("model_card.md")

# A JSON-ready metric tree: section -> ... -> number (None where undefined) or text.
PlainMetrics = dict[str, "float | int | str | None | PlainMetrics"]


def plain_metrics(metrics: Mapping | BinaryReport | VAReport) -> PlainMetrics:
    """Metrics as nested plain dicts of float / int / str, nan -> None (valid JSON).

    Accepts nested mappings whose leaves are numbers or text, and the report dataclasses of
    fatauva.metrics anywhere in the tree.
    """
    if isinstance(metrics, (BinaryReport, VAReport)):
        metrics = metrics.as_dict()
    if not isinstance(metrics, Mapping):
        raise TypeError(f"metrics must be a mapping, got {type(metrics).__name__}")
    return {str(key): _plain_value(key, value) for key, value in metrics.items()}


def _plain_value(key: object, value: object) -> "float | int | str | None | PlainMetrics":
    if isinstance(value, (Mapping, BinaryReport, VAReport)):
        return plain_metrics(value)
    if isinstance(value, (bool, np.bool_)):
        return int(value)
    if isinstance(value, (int, np.integer)):
        return int(value)
    if isinstance(value, (float, np.floating)):
        return None if math.isnan(value) else float(value)
    if isinstance(value, str) or value is None:
        return value
    raise TypeError(f"metric {key!r} must be a number, text or a mapping, got {type(value).__name__}")


@dataclass
class MetricTable:
    """One markdown table of the card: a row per key, a column per metric."""

    title: str
    corner: str
    columns: list[str]
    rows: list[tuple[str, list[str]]]


def _cell(value: object) -> str:
    if value is None:
        return "n/a"
    if isinstance(value, float):
        return f"{value:.4f}"
    return str(value)


def metric_tables(metrics: PlainMetrics, title: str = "") -> list[MetricTable]:
    """Tables of a plain metric tree: numbers at one level form a two-column table; a level whose
    children are all flat mappings (e.g. BinaryReport.as_dict()) forms one table, a row per child."""
    scalars = {k: v for k, v in metrics.items() if not isinstance(v, dict)}
    nested = {k: v for k, v in metrics.items() if isinstance(v, dict)}
    tables = []
    if scalars:
        rows = [(k, [_cell(v)]) for k, v in scalars.items()]
        tables.append(MetricTable(title or "Summary", "metric", ["value"], rows))
    if nested and all(not any(isinstance(x, dict) for x in v.values()) for v in nested.values()):
        columns = list(dict.fromkeys(c for v in nested.values() for c in v))
        rows = [(k, [_cell(v.get(c)) for c in columns]) for k, v in nested.items()]
        tables.append(MetricTable(title or "Evaluation", "", columns, rows))
    else:
        for key, value in nested.items():
            tables.extend(metric_tables(value, f"{title} / {key}" if title else key))
    return tables


def render_card(
    model: FatauvaNet,
    *,
    sha256: str,
    metrics: PlainMetrics,
    command: str | None,
    trained_on: str | None,
    limitations: str | None = None,
    repo_id: str | None = None,
) -> ModelCard:
    """The README.md model card of saved weights; metadata (library, tags) from the model's Hub mixin."""
    card_data = model.generate_model_card().data  # library_name and tags declared on FatauvaNet
    config = model.config
    return ModelCard.from_template(
        card_data,
        template_str=TEMPLATE.read_text(encoding="utf-8"),
        repo_id=repo_id,
        attributes=topology.ATTRIBUTES,
        aus=[f"AU{au}" for au in topology.AUS],
        config=config,
        config_items=list(asdict(config).items()),
        trained_on=trained_on or "Not stated when these weights were saved.",
        limitations=limitations or "Not stated when these weights were saved.",
        command=command or "# not recorded",
        tables=metric_tables(metrics) if metrics else [],
        sha256=sha256,
    )
