"""fatauva.synthfacs.draws returns what numpy's Generator.uniform and Generator.choice return and
leaves the stream where they leave it, so SynthFACS faces drawn through it stay the same."""

import numpy as np

from fatauva.synthfacs.draws import choice_cdf, pick, uniform
from fatauva.synthfacs.emotions import EMOTION_CDF, EMOTION_DRAW, EMOTION_WEIGHTS
from fatauva.synthfacs.params import BACKGROUND_CDF, GLASSES_CDF, HAIR_STYLE_CDF, OCCLUSION_CDF


def test_uniform_equals_generator_uniform_and_keeps_the_stream_in_step():
    ours, numpy = np.random.default_rng(5), np.random.default_rng(5)
    bounds = [(-25, 25), (0.2, 0.95), (0.0, 1.0), (46.0, 80.0), (0, 2 * np.pi), (0.85, 1.0), (-0.08, 0.08)]
    for i in range(20000):
        lo, hi = bounds[i % len(bounds)]
        assert uniform(ours, lo, hi) == numpy.uniform(lo, hi)
    assert ours.random() == numpy.random()


def test_pick_equals_generator_choice_for_every_table_of_synthfacs():
    weights = np.array([EMOTION_WEIGHTS[n] for n in EMOTION_DRAW])
    tables = [
        ([0.75, 0.12, 0.13], GLASSES_CDF),
        ([0.08, 0.55, 0.05, 0.12, 0.15, 0.05], HAIR_STYLE_CDF[True]),
        ([0.01, 0.12, 0.5, 0.17, 0.0, 0.2], HAIR_STYLE_CDF[False]),
        ([0.3, 0.35, 0.35], BACKGROUND_CDF),
        ([0.9, 0.05, 0.05], OCCLUSION_CDF),
        (weights / weights.sum(), EMOTION_CDF),
    ]
    ours, numpy = np.random.default_rng(9), np.random.default_rng(9)
    for i in range(12000):
        p, cdf = tables[i % len(tables)]
        np.testing.assert_array_equal(cdf, choice_cdf(p))
        assert pick(ours, cdf) == numpy.choice(len(p), p=p)
    assert ours.random() == numpy.random()
    assert not GLASSES_CDF.flags.writeable
