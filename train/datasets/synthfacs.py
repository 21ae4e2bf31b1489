"""SynthFACS as a training dataset: rendered on the fly in the template crop, no files, no cropping.

`fatauva.synthfacs.SynthFACSDataset` already yields the training sample dict of notes/API.md;
this wrapper only gives it the adapters' calling convention (a split name and the crop size).
"""

from torch.utils.data import Dataset

from fatauva.template import DEFAULT_INPUT_SIZE

SPLITS = ("train", "val", "test")


def synthfacs_dataset(
    split: str = "train", size: int = 10_000, input_size: int = DEFAULT_INPUT_SIZE, mode: str = "emotion"
) -> Dataset:
    """`size` SynthFACS faces of `split` (a fixed seed per split: val/test never change)."""
    if split not in SPLITS:
        raise ValueError(f"SynthFACS has no split {split!r}; choose one of {', '.join(SPLITS)}")
    from fatauva.synthfacs import SynthFACSDataset

    return SynthFACSDataset(split=split, size=size, input_size=input_size, mode=mode)
