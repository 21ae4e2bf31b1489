"""SynthFACS as a training dataset: rendered on the fly in the template crop, no files, no cropping.

`fatauva.synthfacs.SynthFACSDataset` already yields the training sample dict of train/datasets/base.py;
this wrapper adds what the trainer asks of every dataset: `labels(task)`, the label arrays the
balance sampler weighs, computed from each face's parameters without rendering it.
"""

from functools import cached_property

import numpy as np

from fatauva.synthfacs.dataset import SynthFACSDataset
from fatauva.synthfacs.render import labels_of
from fatauva.template import DEFAULT_INPUT_SIZE

from .torch_dataset import TASKS

SPLITS = ("train", "val", "test")
_NO_LANDMARKS = np.zeros((5, 2), np.float32)  # labels_of copies them; the trainer never reads them


class SynthFACSTrainingSet(SynthFACSDataset):
    """`SynthFACSDataset` plus `labels(task)`: "attributes" (N, 10), "aus" (N, 14) or "va" (N, 2)."""

    def labels(self, task: str) -> np.ndarray:
        if task not in TASKS:
            raise ValueError(f"unknown task {task!r}; choose one of {', '.join(TASKS)}")
        return self._label_arrays[task]

    @cached_property
    def _label_arrays(self) -> dict[str, np.ndarray]:
        rows = [labels_of(self.params(i), _NO_LANDMARKS) for i in range(len(self))]
        return {
            "attributes": np.stack([r.attributes for r in rows]).astype(np.int64),
            "aus": np.stack([r.au_present for r in rows]).astype(np.int64),
            "va": np.array([[r.valence, r.arousal] for r in rows], dtype=np.float32),
        }


def synthfacs_dataset(
    split: str = "train", size: int = 10_000, input_size: int = DEFAULT_INPUT_SIZE, mode: str = "emotion"
) -> SynthFACSTrainingSet:
    """`size` SynthFACS faces of `split` (a fixed seed per split: val/test never change)."""
    if split not in SPLITS:
        raise ValueError(f"SynthFACS has no split {split!r}; choose one of {', '.join(SPLITS)}")
    return SynthFACSTrainingSet(split=split, size=size, input_size=input_size, mode=mode)
