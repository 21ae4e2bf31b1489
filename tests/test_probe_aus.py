"""experiments.probe_aus: the pixel cue of each AU, the probe of the part maps, the V-A ceiling, occlusion."""

import math
from dataclasses import replace
from types import SimpleNamespace

import numpy as np
import pytest
import torch
from sklearn.linear_model import LogisticRegression

from experiments import probe_aus
from fatauva import topology
from fatauva.metrics import roc_auc
from fatauva.model import FatauvaNet
from fatauva.synthfacs.dataset import face_params
from fatauva.synthfacs.render import render
from tests.tiny import tiny_config
from train.datasets.synthpool import render_pool

pytestmark = pytest.mark.experiment  # a study, not the product: deselect with -m 'not experiment'

TINY = tiny_config(input_size=56)


def test_neutral_faces_have_every_au_off_and_differ_from_each_other():
    faces = probe_aus.neutral_faces(3)
    assert all(set(p.au.values()) == {0.0} for p in faces)
    assert faces[0].traits != faces[1].traits


def test_every_au_shows_from_trace_to_present_and_more_from_off_to_full():
    cues = probe_aus.au_cues(n_faces=2, size=56)
    assert set(cues) == set(topology.AUS)
    for au, (step, span) in cues.items():
        assert step > 0, f"AU{au}: levels 1 and 2 render identically"
        assert span > step, f"AU{au}: 0 -> 5 changes less than 1 -> 2"


def test_the_probe_reads_each_au_from_its_own_part_map_with_standardised_cells():
    torch.manual_seed(0)
    model = FatauvaNet(TINY).eval()
    train = render_pool("train", 96, TINY.input_size, workers=1, progress=False)
    val = render_pool("val", 48, TINY.input_size, workers=1, progress=False)
    aucs = probe_aus.probe_parts(model, train, val, grid=2)
    assert list(aucs) == list(topology.AU_KEYS)
    # the same regression written out for one AU: its branch's part, 2x2 cells, standardised
    j = topology.AUS.index(12)
    part = topology.AU_PART[12]
    ftr = probe_aus.part_features(model, train, 2)[part]
    fva = probe_aus.part_features(model, val, 2)[part]
    assert ftr.shape == (96, TINY.part_width * 4)
    ytr, yva = train.labels("aus")[:, j], val.labels("aus")[:, j]
    if len(np.unique(ytr)) < 2 or len(np.unique(yva)) < 2:
        assert math.isnan(aucs["AU12"])
        return
    mu, sd = ftr.mean(0), ftr.std(0) + 1e-6
    clf = LogisticRegression(C=0.05, max_iter=1000).fit((ftr - mu) / sd, ytr)
    assert aucs["AU12"] == pytest.approx(roc_auc(yva, clf.predict_proba((fva - mu) / sd)[:, 1]))


def test_va_ceiling_labels_are_those_the_rendered_faces_carry():
    labels = probe_aus.au_va_labels("test", 3)
    for i in range(3):
        face = render(face_params("test", i), 56, with_masks=False).labels
        np.testing.assert_array_equal(labels["present"][i], face.au_present)
        np.testing.assert_array_equal(labels["intensity"][i], face.au_intensity)
        np.testing.assert_allclose(labels["va"][i], [face.valence, face.arousal])


def test_va_is_read_better_from_au_levels_than_from_presence_and_well_from_both():
    ceiling = probe_aus.va_ceiling(n_train=3000, n_test=500)
    assert list(ceiling) == ["present", "intensity"]
    for t in range(2):
        assert ceiling["intensity"][t] > ceiling["present"][t] > 0.7
        assert ceiling["intensity"][t] > 0.95  # V-A is a function of the levels plus small noise


def test_auc_by_level_compares_each_level_with_the_level_0_faces_only():
    # AU1 (column 0): level-0 faces score 0.1 / 0.3 / 0.5 / 0.7 / 0.9; ten level-2 faces, five at 0.2
    # (above 1 of the 5 level-0 faces) and five at 0.8 (above 4): AUC = (5 * 1 + 5 * 4) / (10 * 5) = 0.5.
    # Five level-5 faces at 0.95: AUC 1. Three level-3 faces at 0.0: too few, left out.
    off = [0.1, 0.3, 0.5, 0.7, 0.9]
    scores = off + [0.2] * 5 + [0.8] * 5 + [0.95] * 5 + [0.0] * 3
    levels = [0] * 5 + [2] * 10 + [5] * 5 + [3] * 3  # only 3 faces at level 3: left out
    probs = np.zeros((len(scores), len(topology.AUS)))
    intensity = np.zeros_like(probs)
    probs[:, 0], intensity[:, 0] = scores, levels
    row = probe_aus.auc_by_level(probs, intensity)["AU01"]
    assert row == {2: pytest.approx(0.5), 5: pytest.approx(1.0)}


def test_auc_without_trace_drops_only_the_level_1_faces():
    # absent: level 0 at 0.1, 0.2; trace (level 1) at 0.9; present: level 2 at 0.5, level 4 at 0.6.
    # All faces: the trace face outranks both positives -> AUC = 4 / 6; without it, 1.
    probs = np.zeros((5, len(topology.AUS)))
    intensity = np.zeros_like(probs)
    probs[:, 0] = [0.1, 0.2, 0.9, 0.5, 0.6]
    intensity[:, 0] = [0, 0, 1, 2, 4]
    everything, without = probe_aus.auc_without_trace(probs, intensity)["AU01"]
    assert everything == pytest.approx(4 / 6) and without == pytest.approx(1.0)


class _TopLeftTexture(torch.nn.Module):
    """Stand-in network: AU4 logit is the pixel variance of the crop's top 16 rows, left 32 columns."""

    def forward(self, x):
        logit = x[:, :, :16, :32].flatten(1).var(dim=1)
        pairs = torch.zeros(x.shape[0], len(topology.AUS), 2)
        pairs[:, topology.AUS.index(4), 1] = logit
        return SimpleNamespace(au_logits=pairs)


def test_occlusion_finds_the_only_pixels_an_au_call_rests_on():
    crops = np.random.default_rng(0).integers(0, 256, (3, 48, 48, 3), dtype=np.uint8)
    base, drop, bands = probe_aus.occlusion(_TopLeftTexture(), crops, 4, patch=16, stride=8)
    assert drop.shape == (5, 5) and base.shape == (3,)
    assert drop[0, 0] > 0.5 and drop[0, 3] > 0 and drop[1, 0] > 0  # patches over the corner
    outside = np.ones_like(drop, dtype=bool)
    outside[:2, :4] = False
    assert np.all(drop[outside] == 0)  # blurring anywhere else changes nothing
    assert bands["all"] < bands["mouth"] == pytest.approx(float(np.mean(1 / (1 + np.exp(-base)))))


def test_occlusion_image_reddens_only_where_the_call_rests():
    crops = np.full((2, 48, 48, 3), 128, dtype=np.uint8)
    drop = np.zeros((5, 5))
    drop[0, 0] = 2.0
    image = probe_aus.occlusion_image(crops, drop, scale=2)
    assert image.shape == (96, 96, 3) and image.dtype == np.uint8
    assert image[2, 2, 0] > 200 and image[2, 2, 1] < 100  # the top-left patch, full red
    assert (image[60:, 60:] == 128).all()  # untouched elsewhere


def test_geometry_features_move_with_an_au_only_where_it_acts():
    neutral = probe_aus.neutral_faces(1)[0]
    eyes = 2 * (6 * 17 * 2 + 3)  # both eyes: lids, crease, brow contours (17 points each) and 3 heights
    base = probe_aus.geometry_features(neutral)
    assert base.dtype == np.float32
    assert base.shape == probe_aus.geometry_features(face_params("train", 5)).shape
    smile = probe_aus.geometry_features(replace(neutral, au={**neutral.au, 12: 3.0}))
    brows = probe_aus.geometry_features(replace(neutral, au={**neutral.au, 4: 3.0}))
    assert np.abs(smile[eyes:] - base[eyes:]).max() > 1.0  # the lip corners move by pixels
    np.testing.assert_array_equal(smile[:eyes], base[:eyes])
    assert np.abs(brows[:eyes] - base[:eyes]).max() > 1.0
    np.testing.assert_array_equal(brows[eyes:], base[eyes:])


def test_the_au_labels_can_be_read_from_the_drawn_contours():
    ceiling = probe_aus.au_geometry_ceiling(n_train=800, n_test=200, max_iter=40)
    assert list(ceiling) == [topology.au_key(a) for a in topology.AUS]
    f1s, aucs = np.array(list(ceiling.values())).T
    assert ceiling["AU12"][0] > 0.9 and ceiling["AU25"][0] > 0.9
    assert aucs.mean() > 0.95 and f1s.mean() > 0.8
