"""The three-stage trainer (§3): what each stage trains, checkpoints, exact resume, the final folder.

The data here is a small seeded tensor dataset (the trainer's contract is the sample dict of
train/datasets/base.py, not the renderer); tests/test_train_dist.py runs the real SynthFACS path.
"""

import csv

import numpy as np
import pytest
import torch
from safetensors.torch import load_file
from torch.utils.data import Dataset

import train.train as trainer
from fatauva.checkpoint import load_model
from fatauva.losses import masked_cross_entropy
from fatauva.model import FatauvaNet
from train.config import load_config
from train.stages import StageConfig, StageData, StageObjective, learning_rate
from train.state import load_state

TINY_MODEL = [
    "--model.input_size=32",
    "--model.stem_width=8",
    "--model.core_widths=8,16",
    "--model.core_strides=2,2",
    "--model.core_blocks=1,1",
    "--model.part_width=8",
    "--model.part_blocks=1",
    "--model.au_width=4",
    "--model.au_blocks=1",
    "--model.va_width=8",
    "--model.va_blocks=1",
    "--model.fc_hidden=8,8",
]


def tiny_config(out_dir, *extra):
    stage = [
        f"--stage{k}.{key}={value}"
        for k in (1, 2, 3)
        for key, value in (("epochs", 2), ("steps_per_epoch", 2), ("batch_size", 8), ("warmup_steps", 1))
    ]
    return load_config(None, [*TINY_MODEL, *stage, f"--out_dir={out_dir}", "--eval_batch_size=16", *extra])


class TensorFaces(Dataset):
    """n random 32 px samples of the training contract, labels a fixed function of the seed."""

    def __init__(self, n: int, seed: int):
        g = torch.Generator().manual_seed(seed)
        self.images = torch.randn(n, 3, 32, 32, generator=g)
        self.attributes = torch.randint(0, 2, (n, 10), generator=g)
        self.aus = torch.randint(0, 2, (n, 14), generator=g)
        self.va = torch.rand(n, 2, generator=g) * 2 - 1

    def __len__(self) -> int:
        return len(self.images)

    def __getitem__(self, i: int) -> dict[str, torch.Tensor]:
        return {
            "image": self.images[i],
            "attributes": self.attributes[i],
            "aus": self.aus[i],
            "va": self.va[i],
        }


@pytest.fixture
def fake_data(monkeypatch):
    def stage_data(cfg, stage, input_size):
        return StageData(TensorFaces(40, seed=stage), TensorFaces(16, seed=10 + stage), np.ones(40))

    monkeypatch.setattr(trainer, "stage_data", stage_data)
    monkeypatch.setattr(trainer, "evaluate_synthfacs", lambda model, cfg, device: {"attributes": {"x": 0.5}})


def _weights(folder):
    return load_file(str(folder / "model" / "model.safetensors"))


def test_a_run_saves_every_stage_a_log_and_a_loadable_model(tmp_path, fake_data):
    folder = trainer.run(tiny_config(tmp_path / "run"), command="python -m train.train tiny")
    assert sorted(p.name for p in (tmp_path / "run").glob("*.safetensors")) == [
        "last.safetensors",
        "stage1.safetensors",
        "stage2.safetensors",
        "stage3.safetensors",
    ]
    loaded = load_model(folder)
    assert loaded.kind == "local" and loaded.config.input_size == 32
    card = (folder / "README.md").read_text()
    assert (
        "python -m train.train tiny" in card
        and "## Limitations\n\nEvery stage saw SynthFACS faces only" in card
    )
    with open(tmp_path / "run" / "log.csv") as f:
        rows = list(csv.DictReader(f))
    assert {r["stage"] for r in rows} == {"1", "2", "3"}
    assert {
        "train/loss",
        "train/img_per_s",
        "val/attr_mean_accuracy",
        "val/au_mean_f1",
        "val/valence_ccc",
    } <= {r["tag"] for r in rows}
    assert any((tmp_path / "run" / "tensorboard").iterdir())
    assert load_state(tmp_path / "run" / "last.safetensors").progress.step == 12


def test_each_stage_changes_only_its_own_layers(tmp_path, fake_data):
    trainer.run(tiny_config(tmp_path / "run"), command="x")
    s1, s2, s3 = (load_state(tmp_path / "run" / f"stage{k}.safetensors").model for k in (1, 2, 3))
    init = load_state(tmp_path / "run" / "stage1.safetensors").model  # compared below per prefix

    def same(a, b, prefix):
        return all(torch.equal(a[k], b[k]) for k in a if k.startswith(prefix))

    assert same(s1, s2, "core.") and same(s1, s2, "part_branches.") and same(s1, s2, "attribute_heads.")
    assert not same(s1, s2, "au_branches.")
    assert same(s2, s3, "au_branches.") and same(s2, s3, "au_heads.") and same(init, s3, "core.")
    assert not same(s2, s3, "va_heads.")


def test_stage_one_with_an_au_weight_trains_the_au_layer_with_the_core(tmp_path, fake_data):
    trainer.run(tiny_config(tmp_path / "paper", "--stages=1"), command="x")
    trainer.run(tiny_config(tmp_path / "au", "--stages=1", "--stage1.au_weight=0.5"), command="x")
    paper, au = (load_state(tmp_path / k / "stage1.safetensors").model for k in ("paper", "au"))

    def differ(prefix):  # same seed, same data: only the AU loss can make them differ
        return any(not torch.equal(paper[k], au[k]) for k in paper if k.startswith(prefix))

    assert differ("core.") and differ("au_branches.") and differ("au_heads.")
    assert not differ("va_branches.") and not differ("va_heads.")


def test_the_card_says_when_stage_one_also_learned_aus(tmp_path):
    plain, joint = tiny_config(tmp_path), tiny_config(tmp_path, "--stage1.au_weight=0.5")
    assert trainer.trained_on(plain).startswith("stage 1 (attributes): synthfacs, 2 epoch(s); stage 2 (aus)")
    assert trainer.trained_on(joint).startswith(
        "stage 1 (attributes and AUs at weight 0.5, outside the paper's recipe): synthfacs, 2 epoch(s);"
    )


def test_the_card_says_how_synthfacs_drew_its_aus(tmp_path):
    assert "SynthFACS" not in trainer.trained_on(tiny_config(tmp_path))
    independent = trainer.trained_on(tiny_config(tmp_path, "--synth_mode=independent"))
    assert independent.endswith(
        "SynthFACS faces drawn in its 'independent' mode "
        "(every AU drawn on its own, not from emotion prototypes)."
    )


def test_the_card_says_which_stages_saw_augmented_images(tmp_path):
    cfg = tiny_config(tmp_path, "--stage1.colour_aug=0.8", "--stage1.randconv=0.5", "--stage3.randconv=0.25")
    assert trainer.trained_on(cfg) == (
        "stage 1 (attributes): synthfacs, 2 epoch(s), images 0.8 colour-jittered and 0.5 random-convolved; "
        "stage 2 (aus): synthfacs, 2 epoch(s); "
        "stage 3 (va): synthfacs, 2 epoch(s), images 0.25 random-convolved."
    )


def test_the_stage_one_loss_adds_the_weighted_au_loss(tmp_path):
    cfg = tiny_config(tmp_path, "--stage1.au_weight=0.25")
    model = FatauvaNet(cfg.model).eval()
    images = TensorFaces(8, seed=3)
    x = torch.stack([images[i]["image"] for i in range(8)])
    attrs, aus = images.attributes[:8], images.aus[:8]
    aus[0, :3] = -1  # unlabelled AUs stay out of the loss
    with torch.no_grad():
        out = model(x)
        got = StageObjective(model, 1, cfg)(x, attrs, aus)
        plain = StageObjective(model, 1, tiny_config(tmp_path))(x, attrs)
    expected = masked_cross_entropy(out.attribute_logits, attrs) + 0.25 * masked_cross_entropy(
        out.au_logits, aus
    )
    torch.testing.assert_close(got, expected)
    torch.testing.assert_close(plain, masked_cross_entropy(out.attribute_logits, attrs))
    with pytest.raises(ValueError, match="needs the AU labels"):
        StageObjective(model, 1, cfg)(x, attrs)


def test_an_au_weight_on_a_dataset_without_aus_is_refused(tmp_path):
    with pytest.raises(ValueError, match="stage1.au_weight=1.0 needs faces labelled with AUs"):
        tiny_config(tmp_path, "--stage1.au_weight=1", "--stage1.data=celeba", f"--stage1.root={tmp_path}")


@pytest.mark.parametrize(
    "augment", [(), ("--stage2.colour_aug=1", "--stage2.randconv=1")], ids=["plain", "augmented"]
)
def test_a_killed_run_resumes_to_the_same_weights_as_an_uninterrupted_one(
    tmp_path, fake_data, monkeypatch, augment
):
    trainer.run(tiny_config(tmp_path / "straight", *augment), command="x")
    expected = _weights(tmp_path / "straight")

    real_epoch, calls = trainer.train_epoch, []

    def killed_in_stage2_epoch2(*args, **kwargs):
        calls.append(1)
        if len(calls) == 4:
            raise KeyboardInterrupt
        return real_epoch(*args, **kwargs)

    monkeypatch.setattr(trainer, "train_epoch", killed_in_stage2_epoch2)
    with pytest.raises(KeyboardInterrupt):
        trainer.run(tiny_config(tmp_path / "killed", *augment), command="x")
    assert load_state(tmp_path / "killed" / "last.safetensors").progress.stage == 2
    monkeypatch.setattr(trainer, "train_epoch", real_epoch)
    trainer.run(tiny_config(tmp_path / "killed", *augment), command="x")
    resumed = _weights(tmp_path / "killed")
    assert expected.keys() == resumed.keys()
    for key in expected:
        torch.testing.assert_close(resumed[key], expected[key], rtol=0, atol=1e-6, msg=key)


def test_augmentation_changes_what_a_stage_learns_and_only_that_stage(tmp_path, fake_data):
    trainer.run(tiny_config(tmp_path / "plain"), command="x")
    trainer.run(tiny_config(tmp_path / "aug", "--stage2.colour_aug=1", "--stage2.randconv=1"), command="x")
    plain, aug = _weights(tmp_path / "plain"), _weights(tmp_path / "aug")
    stage1 = [k for k in plain if not k.startswith(("au_", "va_"))]
    assert stage1 and all(torch.equal(plain[k], aug[k]) for k in stage1)  # stages 1 draw the same batches
    assert any(not torch.equal(plain[k], aug[k]) for k in plain if k.startswith("au_"))


def test_one_stage_can_start_from_the_checkpoint_of_the_one_before(tmp_path, fake_data):
    trainer.run(tiny_config(tmp_path / "all"), command="x")
    source = tmp_path / "all" / "stage2.safetensors"
    trainer.run(tiny_config(tmp_path / "s3", "--stages=3", f"--init_from={source}"), command="x")
    before, after = load_state(source).model, _weights(tmp_path / "s3")
    assert all(torch.equal(after[k], before[k]) for k in before if not k.startswith("va_"))
    assert load_state(tmp_path / "s3" / "last.safetensors").progress.stage == 3


def test_the_learning_rate_warms_up_then_decays_to_its_floor():
    sc = StageConfig(lr=1.0, warmup_steps=4, min_lr_ratio=0.1)
    assert [learning_rate(sc, s, 20) for s in range(4)] == [0.25, 0.5, 0.75, 1.0]
    assert learning_rate(sc, 4, 20) == pytest.approx(1.0)
    assert learning_rate(sc, 12, 20) == pytest.approx(0.55)
    assert learning_rate(sc, 20, 20) == pytest.approx(0.1)


def test_a_bad_command_line_ends_in_one_sentence(capsys):
    with pytest.raises(SystemExit, match="unknown config key.*stage1.lrr"):
        trainer.main(["--stage1.lrr=1"])
