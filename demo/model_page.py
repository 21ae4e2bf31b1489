"""The Model tab and the line every tab carries, written from `fatauva.checkpoint.ModelInfo`."""

from fatauva.card import MetricTable
from fatauva.checkpoint import ModelInfo

_WHERE = {
    "bundled": "the checkpoint bundled with this repository",
    "local": "a local folder",
    "hub": "the Hugging Face Hub",
    "untrained": "nowhere: no weights were found, the model is freshly initialised",
}


def usage_line(info: ModelInfo) -> str:
    """The one line on every tab: which weights, and their caveat when they carry one."""
    line = f"**Weights:** {info.kind}" + (f", sha256 `{info.sha256[:12]}`" if info.sha256 else "")
    if info.usage_note:
        line += f" · ⚠️ {info.usage_note}"
    if info.warning:
        line += f" · {info.warning}"
    return line


def source_markdown(info: ModelInfo) -> str:
    """Where the weights come from, their hash, what they were trained on and their limits."""
    lines = [f"## Which weights run\n\nFrom {_WHERE.get(info.kind, info.kind)}."]
    if info.repo_id:
        lines.append(f"- Hub repository: `{info.repo_id}`, revision `{info.revision}`")
    lines.append(f"- Location: `{info.location}`")
    if info.sha256:
        lines.append(f"- sha256 of model.safetensors: `{info.sha256}`")
    if info.warning:
        lines.append(f"- ⚠️ {info.warning}")
    lines.append(
        "\n## What they were trained on\n\n" + (info.trained_on or "Not stated by their model card.")
    )
    if info.command:
        lines.append(f"\n```bash\n{info.command}\n```")
    lines.append("\n## Limitations\n\n" + (info.limitations or "Not stated by their model card."))
    return "\n".join(lines)


def config_markdown(info: ModelInfo) -> str:
    """The FatauvaConfig the weights belong to (config.json), one row per setting."""
    rows = [f"| `{key}` | `{value}` |" for key, value in info.config.items()]
    return "\n".join(["| setting | value |", "|---|---|", *rows])


def tables_markdown(tables: list[MetricTable], heading: str, empty: str) -> str:
    """Metric tables (fatauva.card.metric_tables) as markdown under one heading."""
    parts = [f"## {heading}"]
    if not tables:
        return parts[0] + "\n\n" + empty
    for table in tables:
        header = f"| {table.corner} | " + " | ".join(table.columns) + " |"
        rule = "|---|" + "---:|" * len(table.columns)
        rows = [f"| {name} | " + " | ".join(cells) + " |" for name, cells in table.rows]
        parts.append(f"### {table.title}\n\n" + "\n".join([header, rule, *rows]))
    return "\n\n".join(parts)


def evaluation_markdown(info: ModelInfo) -> str:
    return tables_markdown(info.evaluation, "Evaluation", "No evaluation was saved with these weights.")


def faithfulness_markdown(info: ModelInfo) -> str:
    return tables_markdown(
        info.faithfulness,
        "Faithfulness of the explanations",
        "No faithfulness check was saved with these weights (metrics.json has no faithfulness entry), "
        "so no map can be marked as passing or failing it.",
    )
