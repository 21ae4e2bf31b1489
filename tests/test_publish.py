"""Publishing a trained folder: what would be uploaded, checked without network (HfApi mocked)."""

import json

import pytest
from huggingface_hub import HfApi

from fatauva.checkpoint import save_model, untrained_model
from tests.tiny import tiny_config
from train import publish

TINY = tiny_config()


class FakeHub:
    """Records what HfApi would create and upload; the uploaded folder is read before it vanishes."""

    def __init__(self, monkeypatch):
        self.created, self.uploaded = [], {}
        monkeypatch.setattr(HfApi, "create_repo", self.create_repo)
        monkeypatch.setattr(HfApi, "upload_folder", self.upload_folder)

    def create_repo(self, repo_id, private=None, exist_ok=False, **kwargs):
        self.created.append({"repo_id": repo_id, "private": private, "exist_ok": exist_ok})

        class Url(str):
            pass

        url = Url(f"https://huggingface.co/{repo_id}")
        url.repo_id = repo_id
        return url

    def upload_folder(self, repo_id, folder_path, repo_type=None, commit_message=None, **kwargs):
        from pathlib import Path

        self.uploaded = {p.name: p.read_bytes() for p in Path(folder_path).iterdir()}
        self.commit = {"repo_id": repo_id, "repo_type": repo_type, "message": commit_message}
        return f"https://huggingface.co/{repo_id}/commit/abc"


@pytest.fixture
def trained_folder(tmp_path):
    model = untrained_model(TINY)
    folder = save_model(
        model,
        tmp_path / "model",
        metrics={"attributes": {"mean_accuracy": 0.5}},
        command="python -m train.train train/configs/bundled.json",
        trained_on="stage 1 (attributes): synthfacs, 2 epoch(s).",
        limitations="Trained on SynthFACS only.",
    )
    return folder, model


def test_the_folder_goes_up_with_the_evaluation_in_its_card(tmp_path, monkeypatch, trained_folder):
    hub = FakeHub(monkeypatch)
    folder, _ = trained_folder
    eval_json = tmp_path / "eval.json"
    eval_json.write_text(json.dumps({"attributes": {"mean_accuracy": 0.9876}, "n_faces": 2000}))
    url = publish.main(
        ["--checkpoint", str(folder), "--repo-id", "me/fatauva", "--eval-json", str(eval_json)]
    )
    assert url == "https://huggingface.co/me/fatauva/commit/abc"
    assert hub.created == [{"repo_id": "me/fatauva", "private": False, "exist_ok": True}]
    assert set(hub.uploaded) == {"model.safetensors", "config.json", "metrics.json", "README.md"}
    card = hub.uploaded["README.md"].decode()
    assert "0.9876" in card and "me/fatauva" in card
    assert "python -m train.train train/configs/bundled.json" in card
    assert "stage 1 (attributes): synthfacs" in card
    assert json.loads(hub.uploaded["metrics.json"])["attributes"]["mean_accuracy"] == 0.9876
    assert hub.uploaded["model.safetensors"] == (folder / "model.safetensors").read_bytes()


def test_without_an_evaluation_the_saved_metrics_are_kept_and_private_is_passed(monkeypatch, trained_folder):
    hub = FakeHub(monkeypatch)
    folder, _ = trained_folder
    publish.main(["--checkpoint", str(folder), "--repo-id", "me/private-one", "--private"])
    assert hub.created[0]["private"] is True
    assert json.loads(hub.uploaded["metrics.json"]) == {"attributes": {"mean_accuracy": 0.5}}


def test_a_missing_folder_or_evaluation_is_one_sentence(tmp_path, monkeypatch, trained_folder):
    FakeHub(monkeypatch)
    folder, _ = trained_folder
    with pytest.raises(SystemExit, match="No model folder"):
        publish.main(["--checkpoint", str(tmp_path / "nothing"), "--repo-id", "me/x"])
    with pytest.raises(SystemExit, match="evaluation JSON .*missing.json does not exist"):
        publish.main(
            ["--checkpoint", str(folder), "--repo-id", "me/x", "--eval-json", str(tmp_path / "missing.json")]
        )


def test_out_writes_the_folder_with_every_evaluation_and_the_limitations(tmp_path, trained_folder):
    folder, model = trained_folder
    synth, real = tmp_path / "synth.json", tmp_path / "real.json"
    synth.write_text(json.dumps({"data": "synthfacs", "split": "test", "aus": {"mean_f1": 0.9321}}))
    real.write_text(json.dumps({"data": "realfaces", "smile_auc": 0.8765}))
    out = tmp_path / "weights"
    publish.main(
        ["--checkpoint", str(folder), "--out", str(out), "--eval-json", str(synth), "--eval-json", str(real)]
    )
    metrics = json.loads((out / "metrics.json").read_text())
    assert (
        metrics["synthfacs_test"]["aus"]["mean_f1"] == 0.9321
        and metrics["realfaces_all"]["smile_auc"] == 0.8765
    )
    card = (out / "README.md").read_text()
    assert "0.9321" in card and "0.8765" in card and "SynthFACS only" in card
    assert (out / "model.safetensors").read_bytes() == (folder / "model.safetensors").read_bytes()


def test_publishing_needs_a_repo_or_a_folder(trained_folder):
    folder, _ = trained_folder
    with pytest.raises(SystemExit):
        publish.main(["--checkpoint", str(folder)])


def test_new_evaluations_keep_the_faithfulness_record_of_the_same_weights(tmp_path):
    record = {"method": "LayerCAM", "layer": "branch", "pointing_game_mean": 0.8125, "targets": {}}
    where = {"model": "/home/someone/runs/x/model"}  # a path on the machine that ran the check
    folder = save_model(
        untrained_model(TINY),
        tmp_path / "model",
        metrics={"aus": {"mean_f1": 0.1}, "faithfulness": record | where},
    )
    synth = tmp_path / "synth.json"
    synth.write_text(json.dumps({"data": "synthfacs", "split": "test", "aus": {"mean_f1": 0.9321}}))
    out = tmp_path / "weights"
    publish.main(["--checkpoint", str(folder), "--out", str(out), "--eval-json", str(synth)])
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["faithfulness"] == record  # kept, without the local path
    assert "/home/someone" not in (out / "README.md").read_text()
    assert metrics["aus"]["mean_f1"] == 0.9321  # the old evaluation replaced


def test_the_faithfulness_table_reads_the_record_and_counts_the_gate():
    record = {
        "method": "LayerCAM",
        "layer": "branch",
        "pointing_game_mean": 0.91234,
        "deletion_below_random_aus": 13.0,
        "randomisation_check_passed": 1.0,
        "targets": {"AU12": {"passed": True}, "AU4": {"passed": False}, "valence": {"passed": True}},
    }
    rows = publish.faithfulness_table({"faithfulness": record}).splitlines()
    assert rows[0].startswith("| explanation check (SynthFACS test, LayerCAM on branch) |")
    assert rows[2:] == [
        "| AU pointing game, mean over AUs | 0.912 | >= 0.90 |",
        "| AUs: deletion faster than random | 13 of 14 | >= 12 of 14 |",
        "| weight randomisation changes every map | yes | yes |",
        "| targets passing the gate (marked faithful in the app) | 2 of 3 | - |",
    ]
    assert publish.faithfulness_table({"aus": {}}) is None
