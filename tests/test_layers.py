"""The layer rule of DESIGN.md: imports flow demo -> explain -> fatauva, and train -> fatauva;
experiments/ may import anything, and nothing of the product imports experiments/."""

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
LAYERS = ("fatauva", "explain", "demo", "train")
FORBIDDEN = {
    "fatauva": {"explain", "demo", "train", "bench", "app", "experiments"},
    "explain": {"demo", "train", "bench", "app", "experiments"},
    "demo": {"train", "bench", "app", "experiments"},
    "train": {"explain", "demo", "app", "experiments"},
}


def imported_top_level(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(), filename=str(path))
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module.split(".")[0])
    return names


@pytest.mark.parametrize("layer", LAYERS)
def test_layer_imports_only_what_lies_below_it(layer):
    offenders = {
        str(path.relative_to(ROOT)): sorted(imported_top_level(path) & FORBIDDEN[layer])
        for path in sorted((ROOT / layer).rglob("*.py"))
    }
    offenders = {k: v for k, v in offenders.items() if v}
    assert offenders == {}, f"{layer}/ imports from a layer above it: {offenders}"


def test_ruff_is_clean():
    ruff = pytest.importorskip("ruff")
    import subprocess
    import sys

    del ruff
    result = subprocess.run(
        [sys.executable, "-m", "ruff", "check", "--quiet", str(ROOT)], capture_output=True, text=True
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_app_imports_no_experiment():
    assert "experiments" not in imported_top_level(ROOT / "app.py")


def test_the_layer_check_sees_an_import_of_experiments(tmp_path):
    module = tmp_path / "uses_probe.py"
    module.write_text(
        "import os\nfrom experiments.probe_aus import pair_logits\nimport experiments.probe_traits\n"
    )
    assert imported_top_level(module) & FORBIDDEN["train"] == {"experiments"}
