"""SynthFACS as a PyTorch Dataset with fixed, disjoint train / val / test splits.

Face `index` of split `split` is rendered from `FaceParams.random(rng)` framed by `align.aligned(...,
rng)`, with `rng = default_rng((SPLIT_KEYS[split], MODE_KEYS[mode], index))`: the same image on every
machine and in every worker, framed as the app frames a photo, and the splits never share a seed, so
"the SynthFACS test split" names the same faces everywhere.
"""

import numpy as np
import torch
from torch.utils.data import Dataset

from fatauva.synthfacs.align import aligned
from fatauva.synthfacs.params import FaceParams
from fatauva.synthfacs.render import SynthFace, render
from fatauva.template import DEFAULT_INPUT_SIZE, to_tensor

SPLIT_KEYS: dict[str, int] = {"train": 1, "val": 2, "test": 3}
# "circumplex" draws the faces of "emotion" (same key, same images) and only labels V-A otherwise.
MODE_KEYS: dict[str, int] = {"emotion": 1, "independent": 2, "circumplex": 1}


def face_params(split: str, index: int, mode: str = "emotion") -> FaceParams:
    """The parameters of face `index` of a split (deterministic)."""
    if split not in SPLIT_KEYS:
        raise ValueError(f"split must be one of {tuple(SPLIT_KEYS)}, got {split!r}")
    if mode not in MODE_KEYS:
        raise ValueError(f"mode must be one of {tuple(MODE_KEYS)}, got {mode!r}")
    rng = np.random.default_rng((SPLIT_KEYS[split], MODE_KEYS[mode], int(index)))
    return aligned(FaceParams.random(rng, mode=mode), rng)


class SynthFACSDataset(Dataset):
    """`size` faces of one split, rendered on the fly at `input_size` px.

    Items are the training sample dict: "image" float (3, S, S) from fatauva.template.to_tensor,
    "attributes" int64 (10,), "aus" int64 (14,) AU present (intensity >= 2), "va" float32 (2,)
    valence, arousal in [-1, 1]. Every label is known, so nothing is -1 or nan.
    """

    def __init__(
        self,
        split: str = "train",
        size: int = 10000,
        input_size: int = DEFAULT_INPUT_SIZE,
        mode: str = "emotion",
    ):
        if size <= 0:
            raise ValueError(f"size must be positive, got {size}")
        face_params(split, 0, mode)  # validates split and mode
        self.split, self.size, self.input_size, self.mode = split, int(size), int(input_size), mode

    def __len__(self) -> int:
        return self.size

    def params(self, index: int) -> FaceParams:
        """The parameters of item `index`."""
        if not 0 <= index < self.size:
            raise IndexError(f"index {index} out of range for a SynthFACS split of {self.size}")
        return face_params(self.split, index, self.mode)

    def face(self, index: int, with_masks: bool = True) -> SynthFace:
        """Item `index` as a full SynthFace (image, labels, masks)."""
        return render(self.params(index), self.input_size, with_masks=with_masks)

    def __getitem__(self, index: int) -> dict[str, torch.Tensor]:
        face = self.face(index, with_masks=False)
        lab = face.labels
        return {
            "image": to_tensor(face.image)[0],
            "attributes": torch.from_numpy(lab.attributes.astype(np.int64)),
            "aus": torch.from_numpy(lab.au_present.astype(np.int64)),
            "va": torch.tensor([lab.valence, lab.arousal], dtype=torch.float32),
        }
