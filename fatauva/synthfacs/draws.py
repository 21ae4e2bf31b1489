"""Scalar draws from a numpy Generator without its per-call argument handling.

`uniform(rng, lo, hi)` returns what `rng.uniform(lo, hi)` returns, and `pick(rng, cdf)` what
`rng.choice(len(p), p=p)` returns for `cdf = choice_cdf(p)`: each takes the same one double from
the stream (numpy computes lo + (hi - lo) * u, and looks u up in p's normalised cumulative sum),
so every random face stays what it was. They exist for speed: a SynthFACS face makes about 45 such
draws, and Generator.uniform and Generator.choice spend 2 and 10 us a call checking their
arguments, against 0.6 us for the Generator.random underneath.
"""

from collections.abc import Sequence

import numpy as np


def uniform(rng: np.random.Generator, lo: float, hi: float) -> float:
    """`rng.uniform(lo, hi)` for scalar bounds, lo <= hi."""
    return lo + (hi - lo) * rng.random()


def choice_cdf(p: Sequence[float] | np.ndarray) -> np.ndarray:
    """The cumulative probabilities `Generator.choice` builds from `p` (float64, last one 1),
    read-only: compute once, draw with `pick` many times."""
    cdf = np.cumsum(np.asarray(p, np.float64))
    cdf /= cdf[-1]
    cdf.setflags(write=False)
    return cdf


def pick(rng: np.random.Generator, cdf: np.ndarray) -> int:
    """`rng.choice(len(p), p=p)` with `cdf = choice_cdf(p)`: an index drawn with probability p."""
    return int(cdf.searchsorted(rng.random(), side="right"))
