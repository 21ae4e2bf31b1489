"""Several sources in one stage: shares of the batch, per-source balance, masked labels, config."""

import numpy as np
import pytest
import torch
from torch.utils.data import Dataset

from train.config import load_config
from train.mixing import Flipped, MixedDataset, mix_weights
from train.sampling import DistributedWeightedSampler


class Labelled(Dataset):
    """n samples whose image is filled with `value`, attributes given per row."""

    def __init__(self, attributes: np.ndarray, value: float):
        self.attributes, self.value = attributes, value

    def __len__(self) -> int:
        return len(self.attributes)

    def labels(self, task: str) -> np.ndarray:
        return {
            "attributes": self.attributes,
            "aus": np.full((len(self), 14), -1),
            "va": np.full((len(self), 2), np.nan),
        }[task]

    def __getitem__(self, i: int) -> dict[str, torch.Tensor]:
        image = torch.full((3, 4, 4), self.value)
        image[:, :, 0] = -1.0  # an asymmetric column, so a mirror is visible
        return {"image": image, "attributes": torch.from_numpy(self.attributes[i])}


def test_each_source_fills_its_share_of_the_draws_whatever_its_size():
    big = np.ones(900)
    small = np.ones(100)
    weights = mix_weights([big, small], [1.0, 3.0])
    draws = np.fromiter(DistributedWeightedSampler(weights, 40_000, num_replicas=1, rank=0), int)
    from_small = (draws >= 900).mean()
    assert from_small == pytest.approx(0.75, abs=0.01)


def test_balance_inside_a_source_is_kept_relative():
    weights = mix_weights([np.array([1.0, 3.0]), np.array([2.0, 2.0])], [1.0, 1.0])
    np.testing.assert_allclose(weights, [0.125, 0.375, 0.25, 0.25])


def test_a_source_with_no_share_or_no_samples_is_refused():
    with pytest.raises(ValueError, match="> 0"):
        mix_weights([np.ones(3)], [0.0])
    with pytest.raises(ValueError, match="no sample"):
        mix_weights([np.ones(0), np.ones(2)], [1.0, 1.0])


def test_mixed_dataset_concatenates_labels_and_names_sources():
    a = Labelled(np.zeros((3, 10), np.int64), 0.0)
    b = Labelled(np.full((2, 10), -1, np.int64), 1.0)
    mixed = MixedDataset(["celeba", "utkface"], [a, b])
    assert len(mixed) == 5
    assert mixed.labels("attributes").shape == (5, 10)
    assert (mixed.labels("attributes")[3:] == -1).all()
    assert mixed.sizes() == {"celeba": 3, "utkface": 2}
    assert float(mixed[4]["image"][0, 0, 1]) == 1.0


def test_flipped_mirrors_about_half_the_images_and_keeps_labels():
    data = Flipped(Labelled(np.ones((1, 10), np.int64), 2.0))
    torch.manual_seed(0)
    mirrored = [bool(data[0]["image"][0, 0, -1] == -1.0) for _ in range(400)]
    assert 0.4 < np.mean(mirrored) < 0.6
    assert (data.labels("attributes") == 1).all()


def test_a_mix_is_read_from_pairs_or_json_as_numbers():
    assert load_config(None, ["--stage1.mix=synthfacs:1,celeba:0.5"]).sources(1) == {
        "synthfacs": 1.0,
        "celeba": 0.5,
    }
    assert load_config(None, ['--stage1.mix={"genki4k": 2}']).sources(1) == {"genki4k": 2.0}
    with pytest.raises(ValueError, match="name:value"):
        load_config(None, ["--stage1.mix=celeba"])


def test_config_takes_a_mix_from_the_command_line_and_roots_sources_under_data_root():
    cfg = load_config(
        None, ["--stage1.mix=synthfacs:1,celeba:1", "--data_root=/data", '--roots={"celeba": "/c"}']
    )
    assert cfg.sources(1) == {"synthfacs": 1.0, "celeba": 1.0}
    assert cfg.source_root(1, "celeba") == "/c"
    assert cfg.source_root(1, "utkface") == "/data/utkface"
    assert cfg.sources(2) == {"synthfacs": 1.0}


def test_config_refuses_a_source_a_stage_cannot_train_on():
    with pytest.raises(ValueError, match="stage3 source must be one of"):
        load_config(None, ["--stage3.mix=synthfacs:1,celeba:1"])


def test_stage2_refuses_photos_without_au_labels_unless_the_teacher_labels_them():
    with pytest.raises(ValueError, match="teacher_aus"):
        load_config(None, ["--stage2.mix=synthfacs:1,genki4k:1"])
    cfg = load_config(None, ["--stage2.mix=synthfacs:1,genki4k:1", "--stage2.teacher_aus=true"])
    assert cfg.stage2.teacher_aus


def test_stage1_au_loss_needs_a_source_with_au_labels():
    with pytest.raises(ValueError, match="au_weight"):
        load_config(None, ["--stage1.data=celeba", "--stage1.au_weight=1"])
    cfg = load_config(None, ["--stage1.mix=synthfacs:1,celeba:1", "--stage1.au_weight=1"])
    assert cfg.stage1.au_weight == 1.0
