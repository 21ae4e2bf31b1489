"""The AU teacher's map, labels and cache, in the app's python (no mediapipe: train/teacher.py is
the only module that imports it, inside functions)."""

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from fatauva.topology import AUS
from train.teacher import CacheWriter, dataset_paths
from train.teacher_fit import best_f1_threshold, cross_validated_f1, subject_folds
from train.teacher_map import (
    AU_BLENDSHAPES,
    BLENDSHAPE_INDEX,
    BLENDSHAPES,
    CKPLUS_AUC,
    LOWER_THRESHOLDS,
    THRESHOLDS,
    label_aus,
    map_scores,
    teacher_aus,
    teacher_scores,
)

REPO = Path(__file__).resolve().parents[1]


def blendshapes(**scores: float) -> np.ndarray:
    """One (1, 52) blendshape row, zero except the named scores."""
    row = np.zeros((1, len(BLENDSHAPES)))
    for name, value in scores.items():
        row[0, BLENDSHAPE_INDEX[name]] = value
    return row


def column(au: int) -> int:
    return AUS.index(au)


def test_the_map_names_only_mediapipe_blendshapes_and_covers_every_au():
    assert len(BLENDSHAPES) == 52
    assert set(AU_BLENDSHAPES) == set(AUS)
    assert all(name in BLENDSHAPE_INDEX for names in AU_BLENDSHAPES.values() for name in names)


@pytest.mark.parametrize("au", AUS)
def test_each_au_reads_its_own_blendshapes(au):
    scores = map_scores(blendshapes(**{name: 0.8 for name in AU_BLENDSHAPES[au]}))[0]
    assert scores[column(au)] == pytest.approx(0.8)
    unrelated = [j for j, other in enumerate(AUS) if not set(AU_BLENDSHAPES[other]) & set(AU_BLENDSHAPES[au])]
    assert np.all(scores[unrelated] == 0.0)


def test_a_smile_on_one_side_counts_half():
    scores = map_scores(blendshapes(mouthSmileLeft=0.9))[0]
    assert scores[column(12)] == pytest.approx(0.45)


def test_an_open_jaw_is_a_jaw_drop_and_parts_the_lips():
    scores = map_scores(blendshapes(jawOpen=0.6))[0]
    assert scores[column(26)] == pytest.approx(0.6)
    assert scores[column(25)] == pytest.approx(0.2)  # one of AU25's three blendshapes
    assert scores[column(12)] == 0.0


def test_map_rejects_a_row_that_is_not_52_blendshapes():
    with pytest.raises(ValueError, match="52"):
        map_scores(np.zeros((2, 51)))


def test_labels_are_one_strictly_above_the_threshold_and_zero_at_or_below_it():
    thresholds = {au: 0.4 for au in AUS}
    scores = np.array([[0.41] * 14, [0.40] * 14, [0.05] * 14])
    labels = label_aus(scores, thresholds)
    assert labels.dtype == np.int64
    assert labels[:, 0].tolist() == [1, 0, 0]


def test_each_au_uses_its_own_threshold():
    thresholds = {au: 0.9 for au in AUS} | {12: 0.1}
    labels = label_aus(np.full((1, 14), 0.5), thresholds)[0]
    assert labels[column(12)] == 1
    assert labels[column(4)] == 0


def test_a_margin_leaves_scores_just_below_the_threshold_unlabelled():
    thresholds = {au: 0.4 for au in AUS}
    scores = np.array([[0.5] * 14, [0.3] * 14, [0.2] * 14, [0.1] * 14])
    labels = label_aus(scores, thresholds, margin=0.5)  # 0 at or below 0.2, -1 in (0.2, 0.4]
    assert labels[:, 3].tolist() == [1, -1, 0, 0]


def test_a_lower_threshold_leaves_the_band_below_the_threshold_unlabelled():
    thresholds, lower = {au: 0.6 for au in AUS}, {au: 0.2 for au in AUS}
    scores = np.array([[0.7] * 14, [0.6] * 14, [0.3] * 14, [0.2] * 14])
    assert label_aus(scores, thresholds, lower=lower)[:, 5].tolist() == [1, -1, -1, 0]
    # a margin applies to the lower threshold: 0 only at or below 0.1
    assert label_aus(scores, thresholds, margin=0.5, lower=lower)[:, 5].tolist() == [1, -1, -1, -1]


def test_a_lower_threshold_above_the_threshold_is_read_as_the_threshold():
    labels = label_aus(np.array([[0.5] * 14]), {au: 0.4 for au in AUS}, lower={au: 0.9 for au in AUS})
    assert (labels == 1).all()


def test_nan_scores_are_unlabelled_and_a_margin_outside_0_1_is_refused():
    assert (label_aus(np.full((1, 14), np.nan)) == -1).all()
    with pytest.raises(ValueError, match="margin"):
        label_aus(np.zeros((1, 14)), margin=1.5)


def test_fitted_thresholds_are_probabilities_for_every_au_and_lower_never_exceeds_them():
    assert set(THRESHOLDS) == set(LOWER_THRESHOLDS) == set(CKPLUS_AUC) == set(AUS)
    assert all(0.0 < LOWER_THRESHOLDS[au] <= THRESHOLDS[au] < 1.0 for au in AUS)


def test_teacher_reads_a_cache_written_by_the_writer(tmp_path):
    smiling, no_face, uncached = tmp_path / "a.jpg", tmp_path / "b.jpg", tmp_path / "c.jpg"
    writer = CacheWriter(tmp_path / "cache" / "toy", every=1)  # one part per row: parts are joined
    writer.add(smiling, blendshapes(mouthSmileLeft=0.9, mouthSmileRight=0.7)[0].astype(np.float32))
    writer.add(no_face, None)
    writer.flush()
    assert len(list((tmp_path / "cache" / "toy").glob("part-*.npz"))) == 2

    scores = teacher_scores([smiling, no_face, uncached], tmp_path / "cache")
    assert scores.shape == (3, 14)
    assert scores[0, column(12)] == pytest.approx(0.8)
    assert np.isnan(scores[1:]).all()

    labels = teacher_aus([smiling, no_face, uncached], tmp_path / "cache", thresholds={au: 0.5 for au in AUS})
    assert labels.shape == (3, 14) and labels.dtype == np.int64
    assert labels[0, column(12)] == 1 and labels[0, column(4)] == 0
    assert (labels[1:] == -1).all()


def test_min_auc_unlabels_the_aus_the_blendshapes_read_poorly_on_ckplus(tmp_path):
    image = tmp_path / "x.jpg"
    writer = CacheWriter(tmp_path / "cache" / "toy")
    writer.add(image, np.full(len(BLENDSHAPES), 0.9, np.float32))
    writer.flush()
    labels = teacher_aus([image], tmp_path / "cache", min_auc=0.75)[0]
    for j, au in enumerate(AUS):
        assert (labels[j] == -1) == (CKPLUS_AUC[au] < 0.75), au  # AU45 (nan AUC) stays labelled


def test_cache_keys_are_resolved_paths(tmp_path, monkeypatch):
    image = tmp_path / "x.jpg"
    writer = CacheWriter(tmp_path / "cache" / "toy")
    writer.add(image.resolve(), blendshapes(browInnerUp=0.6)[0].astype(np.float32))
    writer.flush()
    monkeypatch.chdir(tmp_path)
    assert teacher_scores([Path("x.jpg")], tmp_path / "cache")[0, column(1)] == pytest.approx(0.6)


def test_dataset_paths_walk_the_published_layout_and_its_splits(tmp_path):
    for rel in ("train/happy/Training_1.jpg", "train/sad/Training_2.jpg", "test/happy/PublicTest_1.jpg"):
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).write_bytes(b"")
    assert [p.name for p in dataset_paths("fer2013", tmp_path, "test")] == ["PublicTest_1.jpg"]
    assert len(dataset_paths("fer2013", tmp_path, "all")) == 3
    with pytest.raises(SystemExit, match="no images of genki4k"):
        dataset_paths("genki4k", tmp_path)


def test_the_best_f1_threshold_separates_separable_scores():
    scores = np.array([0.1, 0.2, 0.3, 0.6, 0.7])
    truth = np.array([0, 0, 0, 1, 1])
    assert 0.3 < best_f1_threshold(scores, truth) < 0.6


def test_subject_folds_keep_each_subject_in_one_fold():
    subjects = ["S1", "S1", "S2", "S3", "S3", "S4", "S5", "S6"]
    folds = subject_folds(subjects, folds=3)
    for s in set(subjects):
        assert len({f for f, t in zip(folds, subjects, strict=True) if t == s}) == 1
    assert len(set(folds)) == 3


def test_cross_validation_scores_held_out_subjects_at_thresholds_fitted_on_others():
    scores = np.array([0.1, 0.9, 0.2, 0.8, 0.15, 0.85])
    truth = np.array([0, 1, 0, 1, 0, 1])
    value, thresholds = cross_validated_f1(scores, truth, np.array([0, 0, 1, 1, 2, 2]))
    assert value == 1.0 and len(thresholds) == 3


def test_a_neutral_floor_raises_every_fold_threshold():
    scores = np.array([0.1, 0.9, 0.2, 0.8, 0.15, 0.85])
    truth = np.array([0, 1, 0, 1, 0, 1])
    value, thresholds = cross_validated_f1(scores, truth, np.array([0, 0, 1, 1, 2, 2]), floor=0.95)
    assert value == 0.0 and thresholds == [0.95] * 3


def test_the_app_python_never_imports_mediapipe_through_train():
    code = (
        "import sys, train.teacher_map, train.teacher, train.teacher_fit; "
        "print(sorted(m for m in sys.modules if m.split('.')[0] in ('mediapipe', 'cv2')))"
    )
    out = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_mediapipe_is_only_in_the_teacher_requirements():
    for name in ("requirements.txt", "requirements-dev.txt"):
        assert "mediapipe" not in (REPO / name).read_text()
    assert "mediapipe==" in (REPO / "requirements-teacher.txt").read_text()
