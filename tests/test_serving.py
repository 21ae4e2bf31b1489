"""Which weights the app runs: --model / FATAUVA_MODEL as a folder or repo id[@revision], and the
bundled weights, with a message, when the Hub is out of reach (no waiting out retries)."""

import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from demo.model_page import usage_line
from demo.serving import load_analyzer, split_source
from fatauva import checkpoint
from fatauva.checkpoint import model_info

ROOT = Path(__file__).resolve().parents[1]
UNREACHABLE = "http://127.0.0.1:9"  # the discard port: connection refused at once


def test_split_source_reads_a_revision_after_the_repo_id(tmp_path):
    assert split_source("owner/name@v1.2") == ("owner/name", "v1.2")
    assert split_source("owner/name") == ("owner/name", None)
    folder = tmp_path / "run@3"
    folder.mkdir()
    assert split_source(str(folder)) == (str(folder), None)  # a real folder keeps its @


@pytest.fixture
def hub_away(monkeypatch, tmp_path):
    monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
    monkeypatch.setattr(checkpoint.constants, "HF_HUB_OFFLINE", False)
    monkeypatch.setenv("HF_ENDPOINT", UNREACHABLE)
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path / "hf-cache"))


def test_unreachable_hub_repo_falls_back_to_the_bundled_weights_quickly_and_says_so(hub_away, capsys):
    if not (checkpoint.BUNDLED_DIR / checkpoint.WEIGHTS_NAME).is_file():
        pytest.skip("no bundled checkpoint in weights/")
    start = time.perf_counter()
    analyzer = load_analyzer("owner/not-there@v2")
    assert time.perf_counter() - start < 5.0
    loaded = analyzer.loaded
    assert loaded.kind == "bundled" and loaded.requested == "owner/not-there"
    assert any("owner/not-there@v2" in t and "unreachable" in t for t in loaded.tried)
    assert "Could not load 'owner/not-there'" in capsys.readouterr().err
    assert "Could not load 'owner/not-there'" in usage_line(model_info(loaded))


def test_fatauva_model_names_the_weights_when_no_argument_does(hub_away, monkeypatch):
    monkeypatch.setenv("FATAUVA_MODEL", "owner/from-env")
    assert load_analyzer().loaded.requested == "owner/from-env"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_app_serves_its_page_with_the_hub_away(tmp_path):
    port = free_port()
    env = os.environ | {
        "HF_ENDPOINT": UNREACHABLE,
        "HF_HUB_CACHE": str(tmp_path / "hf-cache"),
        "FATAUVA_MODEL": "owner/not-there",
        "OMP_NUM_THREADS": "1",
    }
    env.pop("HF_HUB_OFFLINE", None)
    log = tmp_path / "app.log"
    with open(log, "w") as out:
        server = subprocess.Popen(
            [sys.executable, "app.py", "--host", "127.0.0.1", "--port", str(port)],
            cwd=ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    try:
        page, deadline = None, time.monotonic() + 240  # generous: the 2 cores are shared
        while page is None and time.monotonic() < deadline and server.poll() is None:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=5) as response:
                    page = response.read().decode("utf-8")
            except OSError:
                time.sleep(0.5)
        assert page is not None, log.read_text()
        assert "FATAUVA-Net Studio" in page
        assert "Could not load 'owner/not-there'" in log.read_text()
    finally:
        server.terminate()
        server.wait(timeout=30)
