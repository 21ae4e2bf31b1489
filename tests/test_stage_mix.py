"""A stage built from a mix: each source's samples, the teacher's AU labels, the draw weights."""

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest
import torch
from torch.utils.data import Dataset

from train import stages
from train.config import load_config
from train.mixing import Flipped, MixedDataset


@dataclass
class FakeIndex:
    paths: list
    aus: np.ndarray
    attributes: np.ndarray


class FakeCrops(Dataset):
    """What real_dataset returns: an index with paths and labels, samples with a grey image."""

    def __init__(self, name: str, split: str, n: int):
        aus = np.full((n, 14), -1, np.int64)
        aus[0, 0] = 1  # the set's own code for AU1 on its first image
        self.index = FakeIndex(
            [Path(f"/{name}/{split}/{i}.jpg") for i in range(n)], aus, np.zeros((n, 10), np.int64)
        )

    def __len__(self) -> int:
        return len(self.index.paths)

    def labels(self, task: str) -> np.ndarray:
        return {"attributes": self.index.attributes, "aus": self.index.aus}[task]

    def __getitem__(self, i: int) -> dict:
        return {"image": torch.zeros(3, 8, 8), "aus": torch.from_numpy(self.index.aus[i])}


@pytest.fixture
def fake_sources(monkeypatch):
    sizes = {"genki4k": 30, "celeba": 90}
    seen = {}

    def real_dataset(name, root, split, cache_root, input_size, workers=0):
        seen[(name, split)] = root
        return FakeCrops(name, split, sizes[name] if split == "train" else 5), None

    def teacher_aus(paths, cache_dir, margin=0.0, min_auc=0.0):
        seen["teacher"] = {"margin": margin, "min_auc": min_auc}
        taught = np.zeros((len(paths), 14), np.int64)
        taught[:, 0] = 0  # the teacher says AU1 is absent everywhere
        taught[:, 6] = 1  # and AU12 present everywhere
        return taught

    monkeypatch.setattr(stages, "real_dataset", real_dataset)
    monkeypatch.setattr("train.teacher_map.teacher_aus", teacher_aus)
    return seen


def test_a_stage_draws_each_source_by_its_share_and_roots_it_under_data_root(fake_sources):
    cfg = load_config(None, ["--stage1.mix=genki4k:1,celeba:3", "--stage1.balance=false", "--data_root=/d"])
    data = stages.stage_data(cfg, 1, 8)
    assert isinstance(data.train, MixedDataset) and data.train.sizes() == {"genki4k": 30, "celeba": 90}
    assert fake_sources[("celeba", "train")] == "/d/celeba"
    share = data.weights[:30].sum() / data.weights.sum()
    assert share == pytest.approx(0.25)
    assert all(isinstance(d, Flipped) for d in data.train.datasets)
    assert len(data.val) == 10


def test_the_teacher_fills_only_the_aus_a_set_does_not_code(fake_sources):
    cfg = load_config(None, ["--stage2.mix=genki4k:1", "--stage2.teacher_aus=true", "--stage2.balance=false"])
    data = stages.stage_data(cfg, 2, 8)
    aus = data.train.labels("aus")
    assert aus[0, 0] == 1  # the set's own code wins over the teacher's "absent"
    assert (aus[1:, 0] == 0).all() and (aus[:, 6] == 1).all()


def test_without_the_teacher_real_photos_keep_their_unlabelled_aus(fake_sources):
    cfg = load_config(None, ["--stage1.mix=genki4k:1,celeba:1", "--stage1.balance=false"])
    data = stages.stage_data(cfg, 1, 8)
    assert (data.train.labels("aus")[1:, 6] == -1).all()


def test_the_teacher_gets_the_configured_margin_and_weak_au_cut(fake_sources):
    cfg = load_config(
        None,
        [
            "--stage2.mix=genki4k:1",
            "--stage2.teacher_aus=true",
            "--teacher_margin=0.1",
            "--teacher_min_auc=0.75",
        ],
    )
    stages.stage_data(cfg, 2, 8)
    assert fake_sources["teacher"] == {"margin": 0.1, "min_auc": 0.75}
