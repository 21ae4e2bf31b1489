"""One source for each fact: a figure the README, the model card and the app show comes from the
weights' metrics.json (paper figures from train.publish.PAPER, which cites the paper's tables)."""

import json
import re
from pathlib import Path

import pytest

from fatauva.card import render_card
from fatauva.checkpoint import card_sections, load_model, model_info
from train import publish

ROOT = Path(__file__).resolve().parents[1]
WEIGHTS = ROOT / "weights"
# A number printed with a decimal point; integers in a table are counts and names (11 AUs, Table 4).
DECIMAL = re.compile(r"(?<![\w.])-?\d+\.(\d+)(?![\w.])")


def numeric_leaves(tree: object) -> list[float]:
    if isinstance(tree, dict):
        return [x for v in tree.values() for x in numeric_leaves(v)]
    return [float(tree)] if isinstance(tree, int | float) and not isinstance(tree, bool) else []


def paper_figures() -> set[str]:
    values = [v for f in publish.PAPER.values() for v in (f.ours, *f.peers.values())]
    return {f"{v:g}" for v in values} | {v for _, row in publish.PAPER_TABLE4.values() for v in row}


def unsourced(table: str, metrics: dict) -> list[str]:
    """The decimals of a markdown table that are neither a metrics.json figure rounded as printed
    nor a paper figure as printed."""
    leaves = numeric_leaves(metrics)
    paper = paper_figures()
    missing = []
    for match in DECIMAL.finditer(table):
        printed, places = match.group(0), len(match.group(1))
        if table[: match.start()].endswith((">= ", "<= ")):
            continue  # a bar the project set (the figure), not a measurement
        if printed in paper or any(f"{v:.{places}f}" == printed for v in leaves):
            continue
        missing.append(printed)
    return missing


def results_table(readme: str) -> str | None:
    """Every markdown table row of the first section whose heading contains "Results" (the
    evaluations and the faithfulness table), None if it has none."""
    lines = readme.splitlines()
    for i, line in enumerate(lines):
        if line.startswith("#") and "results" in line.lower():
            table = []
            for rest in lines[i + 1 :]:
                if rest.startswith("#"):
                    break
                if rest.lstrip().startswith("|"):
                    table.append(rest)
            if table:
                return "\n".join(table)
    return None


@pytest.fixture(scope="module")
def metrics() -> dict:
    path = WEIGHTS / "metrics.json"
    if not path.is_file():
        pytest.skip("no metrics.json bundled in weights/ yet")
    return json.loads(path.read_text())


def test_every_figure_of_the_readme_results_table_is_in_metrics_json(metrics):
    table = results_table((ROOT / "README.md").read_text())
    if table is None:
        pytest.skip(
            "README.md has no table under a 'Results' heading yet "
            "(python -m train.publish --readme-table weights prints one)"
        )
    assert DECIMAL.search(table), "the README's results table prints no figure"
    assert unsourced(table, metrics) == [], (
        "README figures not in weights/metrics.json nor train.publish.PAPER"
    )


def test_the_printed_readme_table_passes_the_same_check(metrics, capsys):
    table = publish.main(["--readme-table", str(WEIGHTS)])
    assert capsys.readouterr().out.strip() == table
    assert len(table.splitlines()) > 2 and unsourced(table, metrics) == []


def test_the_readme_table_rounds_metrics_and_quotes_the_paper_only_where_comparable():
    metrics = {
        "celeba_test": {"data": "celeba", "split": "test", "attributes": {"mean_accuracy": 0.91234}},
        "synthfacs_test": {"data": "synthfacs", "split": "test", "valence": {"ccc": 0.8766}},
    }
    rows = publish.readme_table(metrics).splitlines()[2:]
    assert rows == [
        "| Attributes, CelebA held-out ids | mean accuracy | 0.912 | 0.9134 (Table 4, CelebA test partition, "
        "mean of the 10 attributes) | [32] 0.9073, [14] 0.9154 | "
        "`python -m train.evaluate --data celeba --split test` |",
        "| Valence, SynthFACS test | CCC | 0.877 | - | - | "
        "`python -m train.evaluate --data synthfacs --split test` |",
    ]
    assert unsourced("| 0.913 | 0.9134 | 0.7 | >= 0.95 |", metrics) == ["0.913", "0.7"]


def test_table_4_puts_ours_beside_the_papers_figures_attribute_by_attribute():
    per = {name: 0.8 + i / 100 for i, name in enumerate(n for n in publish.PAPER_TABLE4 if n != "mean")}
    metrics = {"celeba_test": {"attributes": {"mean_accuracy": 0.84444, "per_attribute": per}}}
    lines = publish.table4(metrics).splitlines()
    assert lines[0].startswith("| Table 4, accuracy | Arched | Attractive |")
    assert lines[0].endswith("| Young | mean |")
    assert lines[2] == (
        "| [32] (paper) | 0.8408 | 0.8262 | 0.9075 | 0.9889 | 0.9774 | 0.8927 | 0.8599 | 0.9638 | 0.9265 "
        "| 0.8892 | 0.9073 |"
    )
    assert lines[4].startswith("| FATAUVA-Net (paper) | 0.8410 | 0.8143 |")
    assert lines[4].endswith("| 0.8703 | 0.9134 |")
    assert lines[5] == (
        "| ours, CelebA held-out ids | 0.800 | 0.810 | 0.820 | 0.830 | 0.840 | 0.850 | 0.860 | 0.870 | 0.880 "
        "| 0.890 | 0.844 |"
    )
    assert all(line.count("|") == 13 for line in lines)
    del per["Young"]
    assert publish.table4(metrics) is None and publish.table4({}) is None


def test_the_bundled_card_tables_and_the_app_read_metrics_json(metrics):
    loaded = load_model(WEIGHTS)
    card = render_card(loaded.model, sha256=loaded.sha256, metrics=metrics, command=None, trained_on=None)
    assert card_sections(loaded.card)["Evaluation"] == card_sections(str(card))["Evaluation"]
    shown = "\n".join(c for t in model_info(loaded).evaluation for _, cells in t.rows for c in cells)
    assert DECIMAL.search(shown) and unsourced(shown, metrics) == []
