"""The Hugging Face Space (issue 22 item 6): README.md opens with the front matter the Space builder
reads, its Gradio version is one requirements.txt admits, the examples need no download, and
importing app.py (what the Space runs) builds the Blocks without serving them."""

import importlib
import sys
from pathlib import Path

import gradio as gr
import pytest
import yaml
from packaging.requirements import Requirement
from packaging.version import Version

ROOT = Path(__file__).resolve().parents[1]


def front_matter() -> dict:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    first, sep, rest = text.partition("\n")
    assert first == "---", "README.md must open with the Space's YAML front matter (a '---' line)"
    block, end, _ = rest.partition("\n---\n")
    assert end, "the front matter has no closing '---' line"
    meta = yaml.safe_load(block)
    assert isinstance(meta, dict), "the front matter must be a YAML mapping"
    return meta


def requirement(name: str) -> Requirement:
    for line in (ROOT / "requirements.txt").read_text().splitlines():
        line = line.split("#", 1)[0].strip()
        if line and Requirement(line).name == name:
            return Requirement(line)
    raise AssertionError(f"requirements.txt does not name {name}")


def test_front_matter_names_a_gradio_space_that_runs_app_py():
    meta = front_matter()
    assert meta["sdk"] == "gradio"
    assert (ROOT / meta["app_file"]).is_file() and meta["app_file"] == "app.py"
    assert Version(str(meta["python_version"])) >= Version("3.10")  # pyproject's requires-python
    assert Version(str(meta["sdk_version"])) in requirement("gradio").specifier
    assert meta["license"] == "other" and (ROOT / meta["license_link"]).is_file()
    assert {"facial-action-units", "explainability", "gradio"} <= set(meta["tags"])
    assert 0 < len(meta["short_description"]) <= 60  # the Hub refuses longer ones
    for key in ("title", "emoji", "colorFrom", "colorTo"):
        assert meta[key], key


def test_weights_ship_in_the_repository_so_the_space_downloads_none():
    meta = front_matter()
    assert "preload_from_hub" not in meta  # nothing to preload: weights/ is in the repository
    weights = ROOT / "weights" / "model.safetensors"
    assert weights.is_file() and weights.stat().st_size < 30e6


def test_the_examples_need_no_download():
    from demo.examples import EXAMPLES, compose

    for _, spec in EXAMPLES:
        image = compose(spec)  # drawn by SynthFACS from a spec in the code: no file, no network
        assert image.ndim == 3 and image.dtype.name == "uint8"


@pytest.mark.slow
def test_importing_app_builds_the_blocks_without_serving(monkeypatch):
    monkeypatch.setattr(sys, "argv", ["app.py"])  # what the Space's runner passes
    monkeypatch.delitem(sys.modules, "app", raising=False)
    launched = []
    monkeypatch.setattr(gr.Blocks, "launch", lambda self, *a, **k: launched.append(self))
    module = importlib.import_module("app")
    assert isinstance(module.demo, gr.Blocks)
    assert not launched and not module.demo.is_running
    assert module.args.host is None  # Gradio then reads GRADIO_SERVER_NAME, which a Space sets


def test_readme_is_short_and_ci_runs_its_test_command():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert len(readme.splitlines()) <= 150  # issue 23: a newcomer reads it in five minutes
    commands = [
        line.split("#", 1)[0].strip() for line in readme.splitlines() if line.startswith("pip install")
    ]
    assert commands[:2] == [
        "pip install -r requirements.txt && python app.py",
        "pip install -r requirements-dev.txt && python -m pytest",
    ]
    ci = (ROOT / ".ci" / "run").read_text().splitlines()
    assert ci[-1] == commands[1]  # CI runs exactly the README's test command, last
