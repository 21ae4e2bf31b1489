"""The shipped configuration has one name: `FatauvaConfig()` is the network the bundled recipe
trains and `python -m bench` measures; other sizes are named presets."""

from dataclasses import asdict
from pathlib import Path

import pytest

import bench.model
from fatauva.model import PRESETS, FatauvaConfig, FatauvaNet
from train.config import load_config

ROOT = Path(__file__).resolve().parents[1]


def n_params(config: FatauvaConfig) -> int:
    return sum(p.numel() for p in FatauvaNet(config).parameters())


def test_the_bundled_recipe_trains_the_default_configuration():
    assert load_config(ROOT / "train" / "configs" / "bundled.json").model == FatauvaConfig()


def test_the_bundled_weights_are_the_default_configuration():
    from fatauva.checkpoint import load_model

    loaded = load_model(ROOT / "weights")
    assert loaded.kind == "local" and loaded.model.config == FatauvaConfig()
    assert sum(p.numel() for p in loaded.model.parameters()) == n_params(FatauvaConfig())


def test_bench_reports_the_parameters_of_the_default_configuration(monkeypatch):
    # One tiny round of the timing loop: the test is about which network is measured, not its speed.
    for name, value in (("ROUNDS", 1), ("FORWARDS_PER_ROUND", 1), ("WARMUP", 0), ("MATMUL_SIZE", 32)):
        monkeypatch.setattr(bench.model, name, value)
    assert bench.model.measure()["params"] == n_params(FatauvaConfig())


def test_presets_are_named_sizes_over_the_defaults():
    assert FatauvaConfig.preset("shipped") == FatauvaConfig()
    wide = FatauvaConfig.preset("wide", va_head="cls")
    assert wide.va_head == "cls" and wide.core_widths == PRESETS["wide"]["core_widths"]
    assert n_params(wide) > 4 * n_params(FatauvaConfig())
    assert asdict(FatauvaConfig.preset("wide")) == {**asdict(FatauvaConfig()), **PRESETS["wide"]}


def test_an_unknown_preset_names_the_known_ones():
    with pytest.raises(ValueError, match="shipped, wide"):
        FatauvaConfig.preset("paper")
