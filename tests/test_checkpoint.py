"""Weights in and out: safetensors + config.json + card, strict loading, the resolution order
explicit source / FATAUVA_MODEL -> local folder | Hub (cache first) -> bundled -> untrained,
and no network ever needed (a pre-filled Hub cache stands in for the Hub)."""

import hashlib
import json
import shutil
import time
from pathlib import Path

import numpy as np
import pytest
import safetensors.torch
import torch
from huggingface_hub import HfApi

from fatauva import checkpoint
from fatauva.checkpoint import CheckpointError, file_sha256, load_model, probe_hub, push_model, save_model
from fatauva.metrics import binary_report
from fatauva.model import FatauvaNet
from tests.tiny import tiny_config

ROOT = Path(__file__).resolve().parents[1]
SMALL = tiny_config()


@pytest.fixture(autouse=True)
def no_hub_surprises(monkeypatch, tmp_path):
    """Every test starts with no requested model, an empty Hub cache and no bundled checkpoint."""
    monkeypatch.delenv("FATAUVA_MODEL", raising=False)
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path / "hf-cache"))
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setattr(checkpoint, "BUNDLED_DIR", tmp_path / "no-bundled-weights")


def small_model(seed: int = 1) -> FatauvaNet:
    torch.manual_seed(seed)
    model = FatauvaNet(SMALL)
    with torch.no_grad():  # non-default BN statistics, so buffers are checked too
        for m in model.modules():
            if isinstance(m, torch.nn.BatchNorm2d):
                m.running_mean.uniform_(-0.5, 0.5)
                m.running_var.uniform_(0.5, 1.5)
    return model.eval()


def outputs(model: FatauvaNet) -> list[torch.Tensor]:
    x = torch.randn(2, 3, SMALL.input_size, SMALL.input_size, generator=torch.Generator().manual_seed(0))
    with torch.no_grad():
        out = model(x)
    return [out.attribute_logits, out.au_logits, out.va_logits, out.va_embedding]


def fill_hub_cache(cache: Path, repo_id: str, folder: Path, commit: str, ref: str = "main") -> Path:
    """huggingface_hub's cache layout: models--owner--name/{refs/<ref>, snapshots/<commit>/<files>}."""
    repo = cache / f"models--{repo_id.replace('/', '--')}"
    snapshot = repo / "snapshots" / commit
    snapshot.mkdir(parents=True)
    for name in ("config.json", "model.safetensors"):
        shutil.copy(folder / name, snapshot / name)
    (repo / "refs").mkdir(exist_ok=True)
    (repo / "refs" / ref).write_text(commit)
    return snapshot


def test_save_then_load_gives_bit_identical_outputs(tmp_path):
    model = small_model()
    folder = save_model(model, tmp_path / "ckpt")
    loaded = load_model(folder)
    assert loaded.kind == "local" and loaded.location == str(folder.resolve())
    assert loaded.config == SMALL
    assert not loaded.model.training
    for a, b in zip(outputs(model), outputs(loaded.model), strict=True):
        assert torch.equal(a, b)


def test_saved_folder_holds_safetensors_config_metrics_and_card(tmp_path):
    metrics = {"attributes": {"Smiling": {"accuracy": 0.91, "auc": float("nan"), "n": 7}}}
    folder = save_model(small_model(), tmp_path, metrics=metrics, command="python -m train --stage 1")
    assert sorted(p.name for p in folder.iterdir()) == [
        "README.md",
        "config.json",
        "metrics.json",
        "model.safetensors",
    ]
    assert json.loads((folder / "metrics.json").read_text()) == {
        "attributes": {"Smiling": {"accuracy": 0.91, "auc": None, "n": 7}}
    }
    card = (folder / "README.md").read_text()
    assert "library_name: fatauva" in card
    assert "python -m train --stage 1" in card
    assert "| Smiling | 0.9100 | n/a | 7 |" in card
    assert file_sha256(folder / "model.safetensors") in card


def test_the_card_tabulates_a_binary_report_per_label_with_its_mean(tmp_path):
    report = binary_report(np.array([[0.9], [0.2]]), np.array([[1], [0]]), ["AU12"])
    card = (save_model(small_model(), tmp_path, metrics={"aus": report}) / "README.md").read_text()
    assert "### aus" in card
    assert "|  | accuracy | f1 | auc | n |" in card
    assert "| AU12 | 1.0000 | 1.0000 | 1.0000 | 2 |" in card and "| mean | 1.0000 |" in card


def test_the_card_says_so_when_no_evaluation_was_recorded(tmp_path):
    card = (save_model(small_model(), tmp_path) / "README.md").read_text()
    assert "No evaluation was recorded" in card and "Not stated" in card


def test_loaded_model_reports_the_sha256_and_metrics_of_its_weights(tmp_path):
    folder = save_model(small_model(), tmp_path, metrics={"mean_auc": 0.7})
    loaded = load_model(folder)
    assert loaded.sha256 == hashlib.sha256((folder / "model.safetensors").read_bytes()).hexdigest()
    assert loaded.metrics == {"mean_auc": 0.7}


def test_save_refuses_a_fused_copy(tmp_path):
    with pytest.raises(ValueError, match="fused"):
        save_model(small_model().fused(), tmp_path)


def test_fatauva_model_environment_variable_is_the_default_source(tmp_path, monkeypatch):
    folder = save_model(small_model(), tmp_path / "ckpt")
    monkeypatch.setenv("FATAUVA_MODEL", str(folder))
    loaded = load_model()
    assert loaded.kind == "local" and loaded.requested == str(folder)


def test_a_path_to_model_safetensors_loads_its_folder(tmp_path):
    folder = save_model(small_model(), tmp_path / "ckpt")
    assert load_model(folder / "model.safetensors").location == str(folder.resolve())


def test_an_explicit_local_path_that_does_not_exist_raises(tmp_path):
    with pytest.raises(FileNotFoundError, match="No model folder"):
        load_model(tmp_path / "missing" / "ckpt")


def test_a_cached_hub_repo_loads_offline(tmp_path):
    model = small_model()
    folder = save_model(model, tmp_path / "ckpt")
    fill_hub_cache(tmp_path / "hf-cache", "owner/fatauva", folder, "a" * 40)
    loaded = load_model("owner/fatauva")
    assert loaded.kind == "hub" and loaded.location == f"owner/fatauva@{'a' * 40}"
    for a, b in zip(outputs(model), outputs(loaded.model), strict=True):
        assert torch.equal(a, b)


def test_hub_revision_is_passed_through_to_the_cache(tmp_path):
    main = save_model(small_model(seed=1), tmp_path / "main")
    tagged = save_model(small_model(seed=2), tmp_path / "v1")
    fill_hub_cache(tmp_path / "hf-cache", "owner/fatauva", main, "a" * 40)
    fill_hub_cache(tmp_path / "hf-cache", "owner/fatauva", tagged, "b" * 40, ref="v1")
    assert load_model("owner/fatauva").sha256 == file_sha256(main / "model.safetensors")
    loaded = load_model("owner/fatauva", revision="v1")
    assert loaded.sha256 == file_sha256(tagged / "model.safetensors")
    assert loaded.location.endswith("b" * 40)


def test_an_unreachable_repo_falls_back_to_untrained_within_two_seconds_and_says_why():
    start = time.perf_counter()
    loaded = load_model("owner/not-cached")
    assert time.perf_counter() - start < 2.0
    assert loaded.kind == "untrained" and loaded.sha256 == ""
    assert any("owner/not-cached" in t and "not in the local Hugging Face cache" in t for t in loaded.tried)
    assert any("HF_HUB_OFFLINE=1" in t for t in loaded.tried)
    assert any("bundled checkpoint" in t for t in loaded.tried)
    assert "owner/not-cached" in loaded.warning


def test_an_unreachable_repo_falls_back_to_the_bundled_checkpoint(tmp_path, monkeypatch):
    bundled = save_model(small_model(), tmp_path / "weights")
    monkeypatch.setattr(checkpoint, "BUNDLED_DIR", bundled)
    loaded = load_model("owner/not-cached")
    assert loaded.kind == "bundled" and loaded.location == str(bundled)
    assert loaded.requested == "owner/not-cached" and "bundled" in loaded.warning


def test_without_a_request_the_bundled_checkpoint_loads_without_warning(tmp_path, monkeypatch):
    monkeypatch.setattr(checkpoint, "BUNDLED_DIR", save_model(small_model(), tmp_path / "weights"))
    loaded = load_model()
    assert loaded.kind == "bundled" and loaded.tried == [] and loaded.warning is None


def test_with_the_network_away_and_no_offline_flag_the_hub_is_skipped_quickly(monkeypatch):
    monkeypatch.delenv("HF_HUB_OFFLINE")
    monkeypatch.setattr(checkpoint.constants, "HF_HUB_OFFLINE", False)
    monkeypatch.setenv("HF_ENDPOINT", "http://127.0.0.1:9")  # discard port: connection refused
    start = time.perf_counter()
    loaded = load_model("owner/not-cached")
    assert time.perf_counter() - start < 3.0
    assert loaded.kind == "untrained"
    assert any("http://127.0.0.1:9" in t and "unreachable" in t for t in loaded.tried)


def test_the_hub_probe_is_bounded_even_when_the_request_hangs(monkeypatch):
    class HangingSession:
        def head(self, url, timeout):
            time.sleep(5)

    monkeypatch.setattr(checkpoint, "get_session", HangingSession)
    start = time.perf_counter()
    reason = probe_hub("https://hub.example", timeout=0.3)
    assert time.perf_counter() - start < 1.0
    assert reason == "https://hub.example did not answer within 0.3 s"


def test_nothing_requested_and_nothing_bundled_gives_a_reproducible_untrained_model():
    first, second = load_model(), load_model()
    assert first.kind == "untrained" and first.warning is None
    assert torch.equal(outputs(first.model)[0], outputs(second.model)[0])


def test_a_folder_with_only_pickle_weights_is_refused_without_unpickling(tmp_path, monkeypatch):
    (tmp_path / "pytorch_model.bin").write_bytes(b"not even a pickle")
    (tmp_path / "config.json").write_text("{}")

    def forbidden(*args, **kwargs):
        raise AssertionError("torch.load must never be called")

    monkeypatch.setattr(torch, "load", forbidden)
    with pytest.raises(CheckpointError, match=r"pickle checkpoints \(pytorch_model.bin\)"):
        load_model(tmp_path)


def test_a_pickle_file_given_directly_is_refused(tmp_path):
    (tmp_path / "weights.pt").write_bytes(b"")
    with pytest.raises(CheckpointError, match="pickle"):
        load_model(tmp_path / "weights.pt")


def test_a_missing_weight_is_named_in_the_error(tmp_path):
    folder = save_model(small_model(), tmp_path)
    tensors = safetensors.torch.load_file(folder / "model.safetensors")
    dropped = sorted(tensors)[0]
    del tensors[dropped]
    safetensors.torch.save_file(tensors, folder / "model.safetensors")
    with pytest.raises(CheckpointError, match="missing keys") as error:
        load_model(folder)
    assert repr(dropped) in str(error.value)


def test_an_unexpected_weight_is_named_in_the_error(tmp_path):
    folder = save_model(small_model(), tmp_path)
    tensors = safetensors.torch.load_file(folder / "model.safetensors")
    tensors["extra_head.weight"] = torch.zeros(3)
    safetensors.torch.save_file(tensors, folder / "model.safetensors")
    with pytest.raises(CheckpointError, match="unexpected keys \\['extra_head.weight'\\]"):
        load_model(folder)


def test_weights_of_another_shape_are_refused(tmp_path):
    folder = save_model(small_model(), tmp_path)
    config = json.loads((folder / "config.json").read_text())
    config["fc_hidden"] = [16, 4]
    (folder / "config.json").write_text(json.dumps(config))
    with pytest.raises(CheckpointError, match="size mismatch"):
        load_model(folder)


def test_a_config_written_before_head_grid_existed_loads_as_the_global_average(tmp_path):
    folder = save_model(small_model(), tmp_path)
    config = json.loads((folder / "config.json").read_text())
    assert config.pop("head_grid") == 1
    (folder / "config.json").write_text(json.dumps(config))
    loaded = load_model(folder).model
    assert loaded.config.head_grid == 1
    for a, b in zip(outputs(small_model()), outputs(loaded), strict=True):
        torch.testing.assert_close(a, b, rtol=0, atol=0)


def test_an_unknown_config_setting_is_named_in_the_error(tmp_path):
    folder = save_model(small_model(), tmp_path)
    config = json.loads((folder / "config.json").read_text())
    config["attention_heads"] = 4
    (folder / "config.json").write_text(json.dumps(config))
    with pytest.raises(CheckpointError, match="attention_heads"):
        load_model(folder)


def test_push_model_uploads_the_saved_folder_as_one_commit(monkeypatch):
    calls = {}

    def create_repo(self, repo_id, **kwargs):
        calls["create_repo"] = (repo_id, kwargs)
        return type("RepoUrl", (), {"repo_id": repo_id})()

    def upload_folder(self, *, repo_id, folder_path, repo_type, commit_message):
        folder = Path(folder_path)
        calls["upload"] = {
            "repo_id": repo_id,
            "repo_type": repo_type,
            "files": sorted(p.name for p in folder.iterdir()),
            "card": (folder / "README.md").read_text(),
        }
        return "https://huggingface.co/owner/fatauva/commit/abc"

    monkeypatch.setattr(HfApi, "create_repo", create_repo)
    monkeypatch.setattr(HfApi, "upload_folder", upload_folder)
    url = push_model(small_model(), "owner/fatauva", metrics={"mean_auc": 0.75}, private=True)
    assert url == "https://huggingface.co/owner/fatauva/commit/abc"
    assert calls["create_repo"] == ("owner/fatauva", {"private": True, "exist_ok": True})
    upload = calls["upload"]
    assert upload["repo_id"] == "owner/fatauva" and upload["repo_type"] == "model"
    assert upload["files"] == ["README.md", "config.json", "metrics.json", "model.safetensors"]
    assert 'load_model("owner/fatauva")' in upload["card"] and "| mean_auc | 0.7500 |" in upload["card"]


def test_the_bundled_checkpoint_of_the_repository_loads_strictly(monkeypatch):
    bundled = ROOT / "weights"
    if not (bundled / "model.safetensors").is_file():
        pytest.skip("no checkpoint bundled in weights/ yet")
    monkeypatch.setattr(checkpoint, "BUNDLED_DIR", bundled)
    loaded = load_model()
    assert loaded.kind == "bundled" and len(loaded.sha256) == 64
