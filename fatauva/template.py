"""The one canonical face crop and the one preprocessing contract.

Every face the model sees, a real photo aligned by `fatauva.faces`, a SynthFACS render,
a training crop, is framed by this template: the five alignment landmarks sit at
`TEMPLATE_POINTS * input_size`. A model therefore never sees two different framings.
"""

import numpy as np
import torch

# Five landmarks in unit coordinates of the square crop (x right, y down), in the order
# left eye centre, right eye centre, nose tip, left mouth corner, right mouth corner
# ("left" = image left). The crop is looser than a face-recognition crop on purpose:
# brows, chin (AU17/AU26), beard and glasses must all lie inside it. Measured on the London
# photos with the eyes at y=0.40 the chin sat at y=0.92 on average (one at 1.00), so the points
# sit 0.04 higher: the chin keeps room for a dropped jaw, the brows still have forehead above.
TEMPLATE_POINTS = np.array(
    [
        [0.355, 0.360],
        [0.645, 0.360],
        [0.500, 0.520],
        [0.385, 0.660],
        [0.615, 0.660],
    ],
    dtype=np.float32,
)
LANDMARK_NAMES = ("left_eye", "right_eye", "nose", "mouth_left", "mouth_right")

DEFAULT_INPUT_SIZE = 112
# ImageNet statistics, the usual choice; applied to RGB in [0, 1].
MEAN = (0.485, 0.456, 0.406)
STD = (0.229, 0.224, 0.225)


def template_points(input_size: int = DEFAULT_INPUT_SIZE) -> np.ndarray:
    """The five template landmarks in pixels of an `input_size` crop, shape (5, 2) float32."""
    return TEMPLATE_POINTS * np.float32(input_size)


def similarity_transform(src: np.ndarray, dst: np.ndarray) -> np.ndarray:
    """Least-squares similarity (rotation, uniform scale, translation) mapping src onto dst.

    src, dst: (N, 2) points, N >= 2. Returns the (2, 3) float64 matrix for cv2.warpAffine.
    Umeyama (1991) closed form, reflections excluded. cv2.estimateAffinePartial2D only offers
    RANSAC / LMedS, which may drop one of our five points; we want all five to count.
    """
    src = np.asarray(src, dtype=np.float64)
    dst = np.asarray(dst, dtype=np.float64)
    mu_s, mu_d = src.mean(axis=0), dst.mean(axis=0)
    s, d = src - mu_s, dst - mu_d
    u, sig, vt = np.linalg.svd(d.T @ s / len(src))
    sign = np.diag([1.0, np.sign(np.linalg.det(u @ vt))])
    rot = u @ sign @ vt
    scale = np.trace(np.diag(sig) @ sign) / s.var(axis=0).sum()
    return np.hstack([scale * rot, (mu_d - scale * rot @ mu_s)[:, None]])


def to_tensor(crops: np.ndarray | list[np.ndarray]) -> torch.Tensor:
    """The preprocessing contract: aligned crops -> the network's input.

    Takes one crop or a list/stack of crops, each uint8 RGB of shape (S, S, 3), already
    aligned to the template at the model's `input_size` S (no resizing happens here).
    Returns float32 of shape (N, 3, S, S): RGB scaled to [0, 1], then normalised by
    `MEAN` / `STD` per channel. App, trainer and explainer all call this function.
    """
    arr = np.asarray(crops)
    if arr.ndim == 3:
        arr = arr[None]
    if arr.ndim != 4 or arr.shape[-1] != 3 or arr.shape[1] != arr.shape[2]:
        raise ValueError(f"expected square RGB crops of shape (N, S, S, 3), got {arr.shape}")
    if arr.dtype != np.uint8:
        raise ValueError(f"expected uint8 crops, got {arr.dtype}")
    x = torch.from_numpy(np.ascontiguousarray(arr)).permute(0, 3, 1, 2).float().div_(255.0)
    mean = torch.tensor(MEAN).view(1, 3, 1, 1)
    std = torch.tensor(STD).view(1, 3, 1, 1)
    return (x - mean) / std
