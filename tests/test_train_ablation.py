"""The §4.4 ablation: shared stages trained once, stage 3 per variant, a table of V-A MSE and CCC."""

import json

import numpy as np
import pytest
import torch

import train.train as trainer
from tests.test_train import TensorFaces, tiny_config
from train import ablation
from train.stages import StageData
from train.state import load_state


def test_the_ablation_shares_stages_one_and_two_and_tables_every_variant(tmp_path, monkeypatch):
    monkeypatch.setattr(
        trainer,
        "stage_data",
        lambda cfg, stage, size: StageData(TensorFaces(40, stage), TensorFaces(16, 9), np.ones(40)),
    )
    scores = iter(range(1, 100))

    def evaluate(model, cfg, device):
        k = next(scores)
        return {
            "valence": {"mse": k / 100, "ccc": k / 10},
            "arousal": {"mse": k / 50, "ccc": k / 20},
            "n_faces": 7,
        }

    monkeypatch.setattr(trainer, "evaluate_synthfacs", evaluate)
    results = ablation.run_ablation(tiny_config(tmp_path / "abl"), command="python -m train.ablation tiny")

    # The shared run is evaluated first (score 1); the variants follow in VARIANTS order.
    assert list(results["variants"]) == ["FATVA_Cls", "FATAUVA_Cls", "FATAUVA_Reg"]
    assert results["variants"]["FATAUVA_Reg"] == {
        "valence": {"mse": 0.04, "ccc": 0.4},
        "arousal": {"mse": 0.08, "ccc": 0.2},
        "n_faces": 7,
    }
    table = (tmp_path / "abl" / "ablation.md").read_text()
    assert "| FATVA_Cls | no | class (11 bins) | 0.0200 | 0.2000 | 0.0400 | 0.1000 |" in table
    assert "SynthFACS test split, 7 faces." in table
    assert json.loads((tmp_path / "abl" / "ablation.json").read_text())["variants"] == results["variants"]

    shared = load_state(tmp_path / "abl" / "shared" / "stage2.safetensors").model
    for name, use_au in (("FATVA_Cls", False), ("FATAUVA_Cls", True), ("FATAUVA_Reg", True)):
        state = load_state(tmp_path / "abl" / name / "last.safetensors")
        assert state.progress.stage == 3 and state.config["model"]["use_au_layer"] is use_au
        assert all(torch.equal(state.model[k], shared[k]) for k in shared if k.startswith("core."))
        if use_au:
            assert all(torch.equal(state.model[k], shared[k]) for k in shared if k.startswith("au_"))


def test_shared_stages_can_come_from_an_earlier_run(tmp_path, monkeypatch):
    trained = []
    monkeypatch.setattr(ablation, "run", lambda cfg, command: trained.append(cfg.stages) or tmp_path)
    monkeypatch.setattr(
        ablation,
        "va_scores",
        lambda folder: {
            "valence": {"mse": 0.1, "ccc": 0.5},
            "arousal": {"mse": 0.2, "ccc": 0.4},
            "n_faces": 3,
        },
    )
    earlier = tmp_path / "bundled"
    with pytest.raises(SystemExit, match="lacks stage1.safetensors and stage2.safetensors"):
        ablation.main([f"--out_dir={tmp_path / 'abl'}", f"--shared={earlier}"])
    earlier.mkdir()
    for name in ("stage1.safetensors", "stage2.safetensors"):
        (earlier / name).write_bytes(b"")
    ablation.main([f"--out_dir={tmp_path / 'abl'}", f"--shared={earlier}"])
    assert trained == [(3,), (3,), (3,)]  # stage 3 per variant, nothing shared trained again
    assert (
        "| FATAUVA_Reg | yes | smooth-l1 + centre | 0.1000 | 0.5000 |"
        in (tmp_path / "abl" / "ablation.md").read_text()
    )


def test_the_ablation_refuses_a_stage_one_that_learned_aus(tmp_path):
    with pytest.raises(SystemExit, match="stage1.au_weight=1: the ablation needs the paper's stage 1"):
        ablation.main([f"--out_dir={tmp_path / 'abl'}", "--stage1.au_weight=1"])
    earlier = tmp_path / "bundled"
    earlier.mkdir()
    (earlier / "config.json").write_text(json.dumps({"stage1": {"au_weight": 0.5}}))
    with pytest.raises(SystemExit, match=r"bundled trained stage 1 with an AU loss \(stage1.au_weight=0.5\)"):
        ablation.main([f"--out_dir={tmp_path / 'abl'}", f"--shared={earlier}"])
    assert not (tmp_path / "abl").exists()  # refused before anything was trained or written
