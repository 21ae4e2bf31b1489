"""SynthFACS through the adapters' calling convention: same samples, label arrays without rendering."""

import numpy as np
import pytest
import torch

from fatauva.topology import ATTRIBUTES, AUS
from train.datasets import synthfacs_dataset


def test_samples_follow_the_training_contract():
    sample = synthfacs_dataset("val", size=3, input_size=48)[1]
    assert sample["image"].shape == (3, 48, 48) and sample["image"].dtype == torch.float32
    assert sample["attributes"].shape == (len(ATTRIBUTES),) and sample["attributes"].dtype == torch.int64
    assert sample["aus"].shape == (len(AUS),) and sample["aus"].dtype == torch.int64
    assert sample["va"].shape == (2,) and sample["va"].dtype == torch.float32
    assert ((sample["aus"] == 0) | (sample["aus"] == 1)).all() and not torch.isnan(sample["va"]).any()


def test_label_arrays_equal_the_rendered_samples_labels():
    data = synthfacs_dataset("train", size=4, input_size=32)
    for i in range(4):
        sample = data[i]
        assert data.labels("aus")[i].tolist() == sample["aus"].tolist()
        assert data.labels("attributes")[i].tolist() == sample["attributes"].tolist()
        assert data.labels("va")[i] == pytest.approx(sample["va"].numpy())


def test_label_arrays_are_computed_without_rendering(monkeypatch):
    def no_render(*args, **kwargs):
        raise AssertionError("labels must not render faces")

    monkeypatch.setattr("fatauva.synthfacs.dataset.render", no_render)
    data = synthfacs_dataset("test", size=50, input_size=32)
    assert data.labels("aus").shape == (50, len(AUS)) and data.labels("va").dtype == np.float32


def test_an_unknown_split_or_task_is_refused():
    with pytest.raises(ValueError, match="SynthFACS has no split 'dev'"):
        synthfacs_dataset("dev", size=2)
    with pytest.raises(ValueError, match="unknown task 'emotion'"):
        synthfacs_dataset("val", size=2).labels("emotion")
