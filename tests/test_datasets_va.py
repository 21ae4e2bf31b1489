"""V-A adapters (Aff-Wild, Aff-Wild2, CSV manifest) on tiny trees in each dataset's own format."""

import math
from pathlib import Path

import cv2
import numpy as np
import pytest
import torch

from train.datasets import DatasetError, affwild2_index, affwild_index, real_dataset, va_manifest_index


def write_image(path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    cv2.imwrite(str(path), np.zeros((16, 16, 3), np.uint8))


# ---------------------------------------------------------------- Aff-Wild


def write_pts(path: Path, points: list[tuple[float, float]]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    body = "\n".join(f"{x} {y}" for x, y in points)
    path.write_text(f"version: 1\nn_points: {len(points)}\n{{\n{body}\n}}\n")


def write_affwild(root: Path, valence: str = "0.5\n-0.25\n0.0\n", arousal: str = "0.1\n0.2\n0.3\n") -> Path:
    for target, text in (("valence", valence), ("arousal", arousal)):
        (root / "annotations" / "train" / target).mkdir(parents=True)
        (root / "annotations" / "train" / target / "105.txt").write_text(text)
    for frame in (0, 1):  # frame 2 has no image
        write_image(root / "frames" / "train" / "105" / f"{frame:05d}.jpg")
    write_pts(root / "bboxes" / "train" / "105" / "0.pts", [(10, 20), (50, 20), (50, 70), (10, 70)])
    return root


def test_affwild_reads_valence_and_arousal_per_frame(tmp_path):
    index = affwild_index(write_affwild(tmp_path), "train")
    assert index.va.tolist() == [[0.5, pytest.approx(0.1)], [-0.25, pytest.approx(0.2)]]
    assert (index.aus == -1).all() and (index.attributes == -1).all()


def test_affwild_frames_without_an_image_are_skipped_and_counted(tmp_path):
    index = affwild_index(write_affwild(tmp_path), "train")
    assert [p.name for p in index.paths] == ["00000.jpg", "00001.jpg"] and index.skipped == 1


def test_affwild_given_boxes_are_the_extent_of_the_pts_points(tmp_path):
    index = affwild_index(write_affwild(tmp_path), "train")
    assert index.boxes[0].tolist() == [10, 20, 50, 70]
    assert np.isnan(index.boxes[1]).all()  # frame 1 has no box: the detector decides


@pytest.mark.parametrize(
    "texts, message",
    [
        (
            {"arousal": "0.1\n0.2\n"},
            r"annotations/train/valence/105.txt has 3 frames but annotations/train/arousal/105.txt has 2",
        ),
        (
            {"valence": "0.5\n1.5\n0.0\n"},
            r"^annotations/train/valence/105.txt line 2: expected one value in \[-1, 1\]",
        ),
    ],
    ids=["lengths", "range"],
)
def test_affwild_bad_annotations_name_file_and_fault(tmp_path, texts, message):
    root = write_affwild(tmp_path, **texts)
    with pytest.raises(DatasetError, match=message):
        affwild_index(root, "train")


def test_affwild_a_malformed_pts_file_names_file_and_line(tmp_path):
    root = write_affwild(tmp_path)
    (root / "bboxes" / "train" / "105" / "0.pts").write_text("version: 1\nn_points: 4\n{\n10 20\n50\n}\n")
    with pytest.raises(DatasetError, match=r"^bboxes/train/105/0.pts line 5: expected `x y`, got '50'$"):
        affwild_index(root, "train")


def test_affwild_a_missing_arousal_file_is_named(tmp_path):
    root = write_affwild(tmp_path)
    (root / "annotations" / "train" / "arousal" / "105.txt").unlink()
    with pytest.raises(DatasetError, match=r"arousal/105.txt: file not found"):
        affwild_index(root, "train")


# ---------------------------------------------------------------- Aff-Wild2

AFFWILD2_LINES = "valence,arousal\n0.2,0.4\n-5,-5\n-0.6,-5\n0.1,0.1\n"


def write_affwild2(root: Path, text: str = AFFWILD2_LINES) -> Path:
    for split in ("Train_Set", "Validation_Set"):
        folder = root / "Annotations" / "VA_Estimation_Challenge" / split
        folder.mkdir(parents=True)
        (folder / f"{split[:2]}-30-640x360.txt").write_text(text)
    for video in ("Tr-30-640x360", "Va-30-640x360"):
        for frame in (1, 2, 3):  # frame 4 has no crop
            write_image(root / "cropped_aligned" / video / f"{frame:05d}.jpg")
    return root


def test_affwild2_minus_five_is_unlabelled(tmp_path):
    index = affwild2_index(write_affwild2(tmp_path), "train")
    assert [p.name for p in index.paths] == ["00001.jpg", "00003.jpg"]
    assert index.va[0].tolist() == [pytest.approx(0.2), pytest.approx(0.4)]
    assert index.va[1, 0] == pytest.approx(-0.6) and math.isnan(index.va[1, 1])


def test_affwild2_frames_without_a_crop_are_skipped_and_counted(tmp_path):
    index = affwild2_index(write_affwild2(tmp_path), "train")
    assert index.skipped == 1
    assert "1 frames annotated -5 (not annotated) were dropped" in index.notes


def test_affwild2_val_reads_the_validation_set(tmp_path):
    assert affwild2_index(write_affwild2(tmp_path), "val").groups[0] == "Va-30-640x360"


@pytest.mark.parametrize(
    "text, message",
    [
        ("0.2,0.4\n", r"Train_Set/Tr-30-640x360.txt line 1: expected the header `valence,arousal`"),
        (
            "valence,arousal\n0.2,0.4\n0.3\n",
            r"Tr-30-640x360.txt line 3: expected `valence,arousal` in \[-1, 1\] or -5",
        ),
    ],
    ids=["header", "malformed"],
)
def test_affwild2_a_bad_annotation_file_names_file_and_line(tmp_path, text, message):
    root = write_affwild2(tmp_path, text=text)
    with pytest.raises(DatasetError, match=message):
        affwild2_index(root, "train")


def test_affwild2_without_annotations_says_where_it_looked(tmp_path):
    with pytest.raises(
        DatasetError, match=r"Aff-Wild2 VA annotation folder not found; looked for: .*VA_Estimation"
    ):
        affwild2_index(tmp_path, "train")


# ---------------------------------------------------------------- CSV manifest


def write_va_manifest(root: Path, rows: list[str]) -> Path:
    for name in ("a.jpg", "b.jpg"):
        write_image(root / name)
    path = root / "va.csv"
    path.write_text("\n".join(["path,valence,arousal", *rows]) + "\n")
    return path


def test_va_manifest_empty_is_unlabelled(tmp_path):
    index = va_manifest_index(write_va_manifest(tmp_path, ["a.jpg,0.5,-0.5", "b.jpg,,1"]))
    assert index.va[0].tolist() == [0.5, -0.5]
    assert math.isnan(index.va[1, 0]) and index.va[1, 1] == 1.0


def test_va_manifest_a_value_outside_the_range_names_the_line(tmp_path):
    path = write_va_manifest(tmp_path, ["a.jpg,0.5,-0.5", "b.jpg,3,1"])
    with pytest.raises(
        DatasetError, match=r"^va.csv line 3: V-A values must lie in \[-1, 1\] or be empty, got '3'$"
    ):
        va_manifest_index(path)


def test_va_manifest_without_arousal_column_is_an_error(tmp_path):
    path = tmp_path / "va.csv"
    path.write_text("path,valence\n")
    with pytest.raises(DatasetError, match=r"va.csv line 1: missing column\(s\) arousal"):
        va_manifest_index(path)


def test_va_samples_follow_the_training_contract_and_crops_get_the_given_box(tmp_path):
    boxes = []

    def resize(image, landmarks, box, size):
        boxes.append(box)
        return cv2.resize(image, (size, size))

    data, _ = real_dataset(
        "affwild", write_affwild(tmp_path / "aw"), "train", tmp_path / "cache", 24, resize, progress=False
    )
    sample = data[1]
    assert sample["va"].dtype == torch.float32 and sample["va"].tolist() == [-0.25, pytest.approx(0.2)]
    assert (sample["aus"] == -1).all() and (sample["attributes"] == -1).all()
    assert boxes[0].tolist() == [10, 20, 50, 70] and boxes[1] is None
