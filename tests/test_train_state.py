"""Training checkpoints: atomic, pickle-free, and complete enough to resume exactly."""

import json
import os
import random

import numpy as np
import pytest
import torch
from safetensors import safe_open

from train import state as state_mod
from train.state import Progress, atomic_write, load_state, restore_rng, save_state


def _trained_pair():
    torch.manual_seed(0)
    model = torch.nn.Sequential(torch.nn.Linear(4, 3), torch.nn.BatchNorm1d(3))
    opt = torch.optim.AdamW(model.parameters(), lr=0.1)
    for _ in range(2):
        opt.zero_grad()
        model(torch.randn(8, 4)).square().mean().backward()
        opt.step()
    return model, opt


def test_a_checkpoint_holds_weights_optimiser_rng_and_progress(tmp_path):
    model, opt = _trained_pair()
    path = tmp_path / "last.safetensors"
    save_state(
        path,
        progress=Progress(2, 1, 17),
        model=model,
        criterion=None,
        optimizer=opt,
        scaler=None,
        config={"seed": 1},
    )
    loaded = load_state(path)
    assert loaded.progress == Progress(2, 1, 17)
    assert loaded.config == {"seed": 1}
    assert all(torch.equal(loaded.model[k], v) for k, v in model.state_dict().items())
    fresh = torch.optim.AdamW(model.parameters(), lr=0.5)
    fresh.load_state_dict(loaded.optimizer)
    for p in model.parameters():
        assert torch.equal(fresh.state[p]["exp_avg_sq"], opt.state[p]["exp_avg_sq"])
        assert float(fresh.state[p]["step"]) == 2
    assert fresh.param_groups[0]["lr"] == 0.1


def test_the_file_is_plain_safetensors_with_json_metadata(tmp_path):
    model, opt = _trained_pair()
    path = tmp_path / "s.safetensors"
    save_state(
        path, progress=Progress(1, 1, 2), model=model, criterion=None, optimizer=opt, scaler=None, config={}
    )
    with safe_open(str(path), "pt") as f:
        meta = json.loads(f.metadata()["state"])
        keys = set(f.keys())
    assert meta["format"] == state_mod.FORMAT
    assert {"model.0.weight", "model.1.running_mean", "rng.torch"} <= keys
    assert any(k.startswith("optim.0.exp_avg") for k in keys)


def test_restoring_the_rng_replays_the_same_random_numbers(tmp_path):
    model, _ = _trained_pair()
    torch.manual_seed(5)
    np.random.seed(5)
    random.seed(5)
    save_state(
        tmp_path / "r.safetensors",
        progress=Progress(1, 0, 0),
        model=model,
        criterion=None,
        optimizer=None,
        scaler=None,
        config={},
    )
    expected = (torch.rand(3), np.random.rand(3), random.random())
    restore_rng(load_state(tmp_path / "r.safetensors").rng)
    assert torch.equal(torch.rand(3), expected[0])
    assert np.array_equal(np.random.rand(3), expected[1])
    assert random.random() == expected[2]


def test_a_write_that_dies_midway_leaves_the_old_file_and_no_debris(tmp_path, monkeypatch):
    path = tmp_path / "last.safetensors"
    atomic_write(path, b"old")

    def crash(fd):
        raise KeyboardInterrupt  # a kill between writing and renaming

    monkeypatch.setattr(os, "fsync", crash)
    with pytest.raises(KeyboardInterrupt):
        atomic_write(path, b"new")
    assert path.read_bytes() == b"old"
    assert [p.name for p in tmp_path.iterdir()] == ["last.safetensors"]


def test_a_file_that_is_no_training_checkpoint_is_named(tmp_path):
    with pytest.raises(FileNotFoundError, match="missing.safetensors"):
        load_state(tmp_path / "missing.safetensors")
    other = tmp_path / "weights.safetensors"
    from safetensors.torch import save_file

    save_file({"w": torch.zeros(2)}, str(other))
    with pytest.raises(ValueError, match="weights.safetensors is not a FATAUVA training checkpoint"):
        load_state(other)
