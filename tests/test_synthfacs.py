"""SynthFACS: labels agree with the parameters, the crop matches the template, V-A is explained
by the AUs, renders are reproducible, and the Dataset has fixed, disjoint splits."""

import hashlib
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
import torch

from fatauva.synthfacs import (
    FaceParams,
    SynthFACSDataset,
    attributes,
    emotions,
    face_params,
    params,
    pose,
    render,
)
from fatauva.synthfacs.attributes import NARROW_MAX_OPENING, attribute_values
from fatauva.synthfacs.geometry import eye_opening
from fatauva.template import template_points
from fatauva.topology import ATTRIBUTES, AUS

REPO = Path(__file__).resolve().parents[1]


def test_a_neutral_frontal_face_puts_its_landmarks_on_the_template():
    for size in (112, 160):
        face = render(FaceParams(), size)
        assert face.image.shape == (size, size, 3) and face.image.dtype == np.uint8
        np.testing.assert_allclose(face.labels.landmarks, template_points(size), atol=1e-3)


def test_pose_moves_the_landmarks_consistently_with_the_image_warp():
    base = FaceParams()
    scene = replace(base.scene, yaw=22.0, pitch=-15.0, roll=12.0, scale=1.05, shift=(0.02, -0.01))
    face = render(replace(base, scene=scene), 112)
    frontal = render(base, 112).labels.landmarks
    assert np.abs(face.labels.landmarks - frontal).max() > 5
    grid = np.mgrid[0:112, 0:112].astype(np.float32)[::-1]
    depth = pose.head_depth(grid[0], grid[1], base.traits, 112)
    mx, my = pose.warp_maps(depth, scene, (grid[0], grid[1]), iterations=6)
    for (u, v), target in zip(face.labels.landmarks, frontal, strict=True):
        back = np.array([mx[int(round(v)), int(round(u))], my[int(round(v)), int(round(u))]])
        assert np.abs(back - target).max() < 1.5  # nearest-pixel lookup of a smooth map


def test_same_params_give_identical_bytes():
    p = face_params("test", 7)
    assert render(p).image.tobytes() == render(p).image.tobytes()


def test_same_seed_gives_identical_bytes_in_a_fresh_process():
    code = (
        "import hashlib; from fatauva.synthfacs import face_params, render; "
        "print(hashlib.sha256(render(face_params('test', 3)).image.tobytes()).hexdigest())"
    )
    out = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == hashlib.sha256(render(face_params("test", 3)).image.tobytes()).hexdigest()


def test_au_labels_follow_intensities_with_the_disfa_threshold():
    face = render(FaceParams(au={1: 1.9, 12: 2.0, 26: 5.0}))
    present = dict(zip(AUS, face.labels.au_present, strict=True))
    assert present[1] == 0 and present[12] == 1 and present[26] == 1 and present[4] == 0
    np.testing.assert_allclose(face.labels.au_intensity[AUS.index(26)], 5.0)


@pytest.mark.parametrize("seed", range(40))
def test_attribute_labels_agree_with_their_documented_rules(seed):
    p = face_params("train", seed)
    labels = dict(zip(ATTRIBUTES, render(p, 64, with_masks=False).labels.attributes, strict=True))
    tr, au = p.traits, p.au
    assert labels["Smiling"] == (au[12] >= 2)
    assert labels["Mouth_Slightly_Open"] == (au[25] >= 2 and au[26] < 3)
    assert labels["Narrow_Eyes"] == (eye_opening(tr, au) < NARROW_MAX_OPENING)
    assert labels["Male"] == tr.male and labels["Eyeglasses"] == (tr.glasses > 0)
    assert labels["No_Beard"] == (tr.beard < 0.35) and labels["Young"] == (tr.age < 38)
    assert labels["Arched_Eyebrows"] == (tr.brow_arch >= 0.6)
    assert labels["Bushy_Eyebrows"] == (tr.brow_thickness >= 0.62)


def test_attractive_needs_symmetry_clear_skin_and_youth():
    good = FaceParams()
    assert attribute_values(good)["Attractive"]
    for change in (dict(asymmetry=0.5), dict(blemish=0.6), dict(age=60.0)):
        assert not attribute_values(replace(good, traits=replace(good.traits, **change)))["Attractive"], (
            change
        )


def test_random_faces_keep_clear_of_every_label_threshold():
    gaps = {
        "brow_arch": (params.ARCH_GAP, attributes.ARCH_MIN),
        "brow_thickness": (params.BUSHY_GAP, attributes.BUSHY_MIN),
        "age": (params.AGE_GAP, attributes.YOUNG_MAX_AGE),
        "beard": (params.BEARD_GAP, attributes.BEARD_MIN),
        "asymmetry": (params.ASYMMETRY_GAP, attributes.ASYMMETRY_MAX),
        "blemish": (params.BLEMISH_GAP, attributes.BLEMISH_MAX),
    }
    faces = [face_params("train", i) for i in range(400)]
    for name, ((lo, hi), threshold) in gaps.items():
        assert lo < threshold < hi, name
        values = np.array([getattr(p.traits, name) for p in faces])
        assert not np.any((values > lo) & (values < hi)), name
        assert np.any(values <= lo) and np.any(values >= hi), name  # both labels still occur
    opening = np.array([eye_opening(p.traits, p.au) for p in faces])
    lo, hi = params.NARROW_GAP
    assert lo < NARROW_MAX_OPENING < hi
    assert np.mean((opening > lo) & (opening < hi)) < 0.01  # 20 redraws nearly always suffice
    au = np.array([[p.au[a] for a in AUS] for p in faces])
    np.testing.assert_array_equal(au, np.round(au))  # whole FACS levels: "present" is one level from "trace"


def test_closing_or_tightening_the_lids_makes_eyes_narrow():
    p = FaceParams()
    assert not attribute_values(p)["Narrow_Eyes"]
    assert attribute_values(p.with_au(45, 5.0))["Narrow_Eyes"]
    assert attribute_values(p.with_au(7, 5.0))["Narrow_Eyes"]
    assert eye_opening(p.traits, p.with_au(45, 5.0).au) == 0.0


def test_valence_reads_only_con_val_aus_and_arousal_only_con_aro_aus():
    assert set(emotions.VALENCE_WEIGHTS) <= emotions.VALENCE_AUS
    assert set(emotions.AROUSAL_WEIGHTS) <= emotions.AROUSAL_AUS
    base = {au: 0.0 for au in AUS}
    for au in AUS:
        v, a = emotions.va_from_aus({**base, au: 5.0})
        v0, a0 = emotions.va_from_aus(base)
        assert (v != v0) == (au in emotions.VALENCE_WEIGHTS), au
        assert (a != a0) == (au in emotions.AROUSAL_WEIGHTS), au


@pytest.mark.parametrize("emotion", emotions.EMOTIONS, ids=lambda e: e.name)
def test_each_prototype_lands_at_its_circumplex_place(emotion):
    v, a = emotions.va_from_aus(emotion.aus)
    assert np.hypot(v - emotion.valence, a - emotion.arousal) < 0.3
    assert emotions.nearest_emotion(emotion.aus) == emotion.name


def test_va_labels_are_the_au_function_plus_the_faces_noise():
    for seed in range(20):
        p = face_params("train", seed)
        lab = render(p, 64, with_masks=False).labels
        v, a = emotions.va_from_aus(p.au)
        assert lab.valence == pytest.approx(np.clip(v + p.va_noise[0], -1, 1))
        assert lab.arousal == pytest.approx(np.clip(a + p.va_noise[1], -1, 1))
        assert -1 <= lab.valence <= 1 and -1 <= lab.arousal <= 1


def test_emotion_mode_follows_prototypes_and_independent_mode_decorrelates_aus():
    rng = np.random.default_rng(0)
    faces = [FaceParams.random(rng, "emotion") for _ in range(400)]
    happy = [f for f in faces if f.emotion == "happiness"]
    assert len(happy) > 60 and np.mean([f.au[12] > 0 for f in happy]) == 1.0
    neutral = [f for f in faces if f.emotion == "neutral"]
    # Only the random extras act on a neutral face: none at level >= 2 on (1 - 0.08 / 2) ** 14 = 57 %.
    assert np.mean([max(f.au.values()) < 2 for f in neutral]) > 0.45
    ind = np.array(
        [[f.au[a] for a in AUS] for f in (FaceParams.random(rng, "independent") for _ in range(600))]
    )
    corr = np.corrcoef(ind.T)
    assert np.abs(corr[np.triu_indices(len(AUS), 1)]).max() < 0.15


def test_params_reject_unknown_aus_and_out_of_range_intensities():
    with pytest.raises(ValueError, match="outside Table 3"):
        FaceParams(au={9: 1.0})
    with pytest.raises(ValueError, match="within 0..5"):
        FaceParams(au={12: 6.0})
    with pytest.raises(ValueError, match="mode"):
        FaceParams.random(np.random.default_rng(0), mode="bogus")


def test_dataset_items_are_training_sample_dicts():
    ds = SynthFACSDataset("train", size=4, input_size=64)
    item = ds[1]
    assert item["image"].shape == (3, 64, 64) and item["image"].dtype == torch.float32
    assert item["attributes"].shape == (10,) and item["attributes"].dtype == torch.int64
    assert item["aus"].shape == (14,) and item["aus"].dtype == torch.int64
    assert item["va"].shape == (2,) and item["va"].dtype == torch.float32
    assert set(item["aus"].tolist()) <= {0, 1} and bool(torch.all(item["va"].abs() <= 1))
    lab = ds.face(1, with_masks=False).labels
    assert item["aus"].tolist() == lab.au_present.tolist()


def test_dataset_splits_are_fixed_and_disjoint():
    a = SynthFACSDataset("val", size=3, input_size=48)
    b = SynthFACSDataset("val", size=3, input_size=48)
    c = SynthFACSDataset("test", size=3, input_size=48)
    assert torch.equal(a[2]["image"], b[2]["image"])
    assert not torch.equal(a[2]["image"], c[2]["image"])
    assert face_params("train", 5) != face_params("val", 5)
    with pytest.raises(ValueError, match="split"):
        SynthFACSDataset("dev", size=3)
    with pytest.raises(IndexError):
        a.params(3)


def test_contact_sheet_has_a_row_per_au_that_differs_only_in_its_region():
    from fatauva.synthfacs.contact import LABEL_W, au_rows

    size = 64
    sheet = au_rows(size, 1)
    assert sheet.shape == (28 + size * len(AUS), LABEL_W + 7 * size, 3)
    for row, au in enumerate(AUS):
        top = 28 + row * size
        first = sheet[top : top + size, LABEL_W : LABEL_W + size].astype(int)
        last = sheet[top : top + size, LABEL_W + 5 * size : LABEL_W + 6 * size].astype(int)
        assert np.abs(first - last).max() > 20, f"AU{au} row shows no change"
