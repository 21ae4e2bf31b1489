"""Texture banks made once per process and crop size: skin, hair, backgrounds, sensor noise.

Each bank is generated from a fixed seed, so every process on every machine holds the same
textures; a face picks its crops from them with its own `Scene.texture_seed`. Banks are twice
the crop size so a face can take any of S*S offsets.
"""

from dataclasses import dataclass
from functools import lru_cache

import cv2
import numpy as np

N_SKIN, N_HAIR, N_BACKGROUND = 6, 6, 12
BANK_SEED = 20170721  # CVPR-W 2017


@dataclass(frozen=True)
class Banks:
    """Float32 textures of side 2S. skin/hair: zero-mean, unit-ish std; backgrounds: RGB 0..1.
    Backgrounds are planar (channels first), as the renderer draws planar images; the sensor
    noise is interleaved (channels last), as the camera stage adds it to the interleaved image."""

    size: int
    skin: np.ndarray  # (N_SKIN, 2S, 2S)
    hair: np.ndarray  # (N_HAIR, 2S, 2S)
    background: np.ndarray  # (N_BACKGROUND, 3, 2S, 2S)
    noise: np.ndarray  # (2S, 2S, 3) standard normal


def _normalise(x: np.ndarray) -> np.ndarray:
    x = x - x.mean()
    return (x / (x.std() + 1e-6)).astype(np.float32)


def _blur(x: np.ndarray, sigma: float) -> np.ndarray:
    return cv2.GaussianBlur(x, (0, 0), max(sigma, 0.3), borderType=cv2.BORDER_REFLECT101)


def _skin(rng: np.random.Generator, n: int) -> np.ndarray:
    """Pores (fine) + mottling (medium) + uneven tone (coarse)."""
    f = n / 112.0
    fine = _normalise(_blur(rng.standard_normal((n, n), np.float32), 0.5 * f))
    medium = _normalise(_blur(rng.standard_normal((n, n), np.float32), 2.5 * f))
    coarse = _normalise(_blur(rng.standard_normal((n, n), np.float32), 9.0 * f))
    return _normalise(0.45 * fine + 0.35 * medium + 0.5 * coarse)


def _hair(rng: np.random.Generator, n: int) -> np.ndarray:
    """Strands: noise smeared along a slightly curved direction, plus clumps."""
    f = n / 112.0
    x = rng.standard_normal((n, n), np.float32)
    angle = rng.uniform(-25, 25)
    length = int(9 * f) | 1
    k = np.zeros((length, length), np.float32)
    k[:, length // 2] = 1.0
    rot = cv2.getRotationMatrix2D((length / 2 - 0.5, length / 2 - 0.5), angle, 1.0)
    k = cv2.warpAffine(k, rot, (length, length))
    strands = cv2.filter2D(x, -1, k / max(k.sum(), 1e-6), borderType=cv2.BORDER_REFLECT101)
    clumps = _blur(rng.standard_normal((n, n), np.float32), 3.0 * f)
    return _normalise(_normalise(strands) + 0.6 * _normalise(clumps))


def _background(rng: np.random.Generator, n: int) -> np.ndarray:
    """Textured or cluttered scenes: coloured noise at a random scale plus random shapes."""
    f = n / 112.0
    base = _blur(rng.standard_normal((n, n, 3), np.float32), rng.uniform(1, 12) * f)
    img = 0.5 + 0.18 * base / (base.std() + 1e-6) * rng.uniform(0.3, 1.0)
    img = img * rng.uniform(0.4, 1.1, size=3)
    for _ in range(int(rng.integers(3, 14))):
        colour = tuple(float(c) for c in rng.uniform(0, 1, size=3))
        p = rng.uniform(0, n, size=2).astype(int)
        q = (p + rng.uniform(5, 60, size=2) * f).astype(int)
        if rng.random() < 0.5:
            cv2.rectangle(img, tuple(int(v) for v in p), tuple(int(v) for v in q), colour, -1, cv2.LINE_AA)
        else:
            axes = tuple(int(v) for v in rng.uniform(3, 30, size=2) * f)
            cv2.ellipse(
                img,
                tuple(int(v) for v in p),
                axes,
                float(rng.uniform(0, 180)),
                0,
                360,
                colour,
                -1,
                cv2.LINE_AA,
            )
    img = _blur(img, rng.uniform(0.3, 2.0) * f)
    return np.clip(img, 0, 1).astype(np.float32)


@lru_cache(maxsize=4)
def banks(size: int) -> Banks:
    """The texture banks for crops of `size` px (built on first use, ~0.1 s at 112 px)."""
    rng = np.random.default_rng(BANK_SEED + size)
    n = 2 * size
    skin = np.stack([_skin(rng, n) for _ in range(N_SKIN)])
    hair = np.stack([_hair(rng, n) for _ in range(N_HAIR)])
    background = np.stack([_background(rng, n) for _ in range(N_BACKGROUND)])
    noise = rng.standard_normal((n, n, 3)).astype(np.float32)
    # Drawn interleaved so the textures stay those of earlier versions; backgrounds stored planar.
    background = np.ascontiguousarray(background.transpose(0, 3, 1, 2))
    return Banks(size, skin, hair, background, noise)
