"""CelebA adapter on a 4-image tree written in CelebA's own file formats."""

from pathlib import Path

import cv2
import numpy as np
import pytest
import torch

from fatauva.template import TEMPLATE_POINTS, similarity_transform
from fatauva.topology import ATTRIBUTES, AUS
from train.datasets import DatasetError, celeba_index, real_dataset
from train.datasets.celeba import ALIGNED_POINTS, fallback_partition

# CelebA's own header: its 40 attribute names in file order (not our topology).
CELEBA_NAMES = (
    "5_o_Clock_Shadow Arched_Eyebrows Attractive Bags_Under_Eyes Bald Bangs Big_Lips Big_Nose Black_Hair "
    "Blond_Hair Blurry Brown_Hair Bushy_Eyebrows Chubby Double_Chin Eyeglasses Goatee Gray_Hair Heavy_Makeup "
    "High_Cheekbones Male Mouth_Slightly_Open Mustache Narrow_Eyes No_Beard Oval_Face Pale_Skin Pointy_Nose "
    "Receding_Hairline Rosy_Cheeks Sideburns Smiling Straight_Hair Wavy_Hair Wearing_Earrings Wearing_Hat "
    "Wearing_Lipstick Wearing_Necklace Wearing_Necktie Young"
).split()
IMAGES = ("000001.jpg", "000002.jpg", "000003.jpg", "000004.jpg")
PARTITION = (0, 0, 1, 2)
# Image k has Smiling and Male present iff k is odd; all other attributes absent (-1).
PRESENT = {
    "000001.jpg": (),
    "000002.jpg": ("Smiling", "Male"),
    "000003.jpg": (),
    "000004.jpg": ("Smiling", "Male"),
}
LANDMARKS = "69 109 106 113 77 142 73 152 108 154"


def attribute_line(name: str) -> str:
    values = ["1" if a in PRESENT[name] else "-1" for a in CELEBA_NAMES]
    return name + " " + " ".join(f"{v:>2}" for v in values)  # CelebA pads +1 to " 1"


def write_celeba(root: Path, landmarks: bool = True) -> Path:
    (root / "img_align_celeba").mkdir(parents=True)
    (root / "Anno").mkdir()
    (root / "Eval").mkdir()
    for name in IMAGES:
        cv2.imwrite(str(root / "img_align_celeba" / name), np.full((218, 178, 3), 128, np.uint8))
    lines = [str(len(IMAGES)), " ".join(CELEBA_NAMES), *(attribute_line(n) for n in IMAGES)]
    (root / "Anno" / "list_attr_celeba.txt").write_text("\n".join(lines) + "\n")
    partition = "".join(f"{n} {p}\n" for n, p in zip(IMAGES, PARTITION, strict=True))
    (root / "Eval" / "list_eval_partition.txt").write_text(partition)
    if landmarks:
        points = ("lefteye", "righteye", "nose", "leftmouth", "rightmouth")
        header = " ".join(f"{p}_{axis}" for p in points for axis in "xy")
        rows = [f"{n} {LANDMARKS}" for n in IMAGES]
        (root / "Anno" / "list_landmarks_align_celeba.txt").write_text("\n".join(["4", header, *rows]) + "\n")
    return root


def test_the_ten_attributes_are_read_in_topology_order_with_minus_one_as_absent(tmp_path):
    index = celeba_index(write_celeba(tmp_path), "all")
    smiling, male, young = ATTRIBUTES.index("Smiling"), ATTRIBUTES.index("Male"), ATTRIBUTES.index("Young")
    assert index.attributes.shape == (4, len(ATTRIBUTES))
    assert index.attributes[:, smiling].tolist() == [0, 1, 0, 1]
    assert index.attributes[:, male].tolist() == [0, 1, 0, 1]
    assert index.attributes[:, young].tolist() == [0, 0, 0, 0]


def test_aus_are_unlabelled_and_va_is_nan(tmp_path):
    index = celeba_index(write_celeba(tmp_path), "all")
    assert (index.aus == -1).all() and index.aus.shape == (4, len(AUS))
    assert np.isnan(index.va).all()


@pytest.mark.parametrize(
    ("split", "names"), [("train", IMAGES[:2]), ("val", IMAGES[2:3]), ("test", IMAGES[3:])]
)
def test_splits_follow_list_eval_partition(tmp_path, split, names):
    index = celeba_index(write_celeba(tmp_path), split)
    assert [p.name for p in index.paths] == list(names)


def test_landmarks_are_the_five_points_in_template_order(tmp_path):
    index = celeba_index(write_celeba(tmp_path), "train")
    assert index.landmarks[0].tolist() == [[69, 109], [106, 113], [77, 142], [73, 152], [108, 154]]


def test_without_the_landmark_file_no_landmarks_are_given(tmp_path):
    index = celeba_index(write_celeba(tmp_path, landmarks=False), "train")
    assert np.isnan(index.landmarks).all()


def test_a_short_attribute_line_names_file_and_line(tmp_path):
    root = write_celeba(tmp_path)
    path = root / "Anno" / "list_attr_celeba.txt"
    lines = path.read_text().splitlines()
    lines[4] = "000003.jpg " + " ".join(["1"] * 11)
    path.write_text("\n".join(lines) + "\n")
    with pytest.raises(DatasetError, match=r"^Anno/list_attr_celeba.txt line 5: expected 41 fields, got 12$"):
        celeba_index(root, "train")


def test_an_attribute_value_other_than_plus_minus_one_is_an_error(tmp_path):
    root = write_celeba(tmp_path)
    path = root / "Anno" / "list_attr_celeba.txt"
    path.write_text(path.read_text().replace("000002.jpg -1", "000002.jpg  0", 1))
    with pytest.raises(DatasetError, match=r"list_attr_celeba.txt line 4: attribute values must be 1 or -1"):
        celeba_index(root, "train")


def test_a_wrong_image_count_is_an_error(tmp_path):
    root = write_celeba(tmp_path)
    path = root / "Anno" / "list_attr_celeba.txt"
    path.write_text("7" + path.read_text()[1:])
    with pytest.raises(DatasetError, match=r"line 1 announces 7 images, the file lists 4"):
        celeba_index(root, "train")


def test_without_a_partition_file_ids_1_to_7200_train_then_900_val_then_900_test():
    names = [f"{k:06d}.jpg" for k in range(9000, 0, -1)]  # order in the file must not matter
    partition = fallback_partition(names)
    assert [partition[f"{k:06d}.jpg"] for k in (1, 7200, 7201, 8100, 8101, 9000)] == [0, 0, 1, 1, 2, 2]
    assert [list(partition.values()).count(p) for p in (0, 1, 2)] == [7200, 900, 900]


def test_a_missing_partition_file_splits_by_sorted_id_and_says_so(tmp_path):
    root = write_celeba(tmp_path)
    (root / "Eval" / "list_eval_partition.txt").unlink()
    train, test = celeba_index(root, "train"), celeba_index(root, "test")
    assert [p.name for p in train.paths] == list(IMAGES[:3]) and [p.name for p in test.paths] == [IMAGES[3]]
    assert any("split 80/10/10 by sorted image id (identities may repeat)" in n for n in train.notes)


def test_celebas_own_alignment_maps_onto_the_template_and_keeps_its_eyes_and_mouth():
    # align_face_celeba.m puts the eyes at (70.745, 112), (108.237, 112) and the mouth centre at
    # (89.432, 153.514), 1-based pixels of 178 x 218; a similarity of the template's three meets
    # them to within 1.5 px (the template's eye-mouth proportions differ slightly from CelebA's).
    pixels = ALIGNED_POINTS * np.array([178, 218]) - 0.5 + 1
    assert np.abs(pixels[:2] - [[70.745, 112.0], [108.237, 112.0]]).max() < 1.5
    assert np.abs(pixels[3:].mean(axis=0) - [89.432, 153.514]).max() < 1.5
    matrix = similarity_transform(pixels, TEMPLATE_POINTS)  # all five land on the template exactly
    assert np.allclose(pixels @ matrix[:, :2].T + matrix[:, 2], TEMPLATE_POINTS, atol=1e-5)


def test_a_missing_image_names_the_line_that_lists_it(tmp_path):
    root = write_celeba(tmp_path)
    (root / "img_align_celeba" / "000003.jpg").unlink()
    with pytest.raises(
        DatasetError, match=r"list_attr_celeba.txt line 5: image img_align_celeba/000003.jpg not found"
    ):
        celeba_index(root, "train")


def test_a_malformed_landmark_line_names_file_and_line(tmp_path):
    root = write_celeba(tmp_path)
    path = root / "Anno" / "list_landmarks_align_celeba.txt"
    path.write_text(path.read_text().replace(f"000002.jpg {LANDMARKS}", "000002.jpg 69 109 x"))
    with pytest.raises(DatasetError, match=r"list_landmarks_align_celeba.txt line 4: expected an image name"):
        celeba_index(root, "train")


def test_an_unknown_split_is_refused(tmp_path):
    with pytest.raises(ValueError, match="CelebA has no split 'dev'"):
        celeba_index(write_celeba(tmp_path), "dev")


def test_samples_follow_the_training_contract_and_crops_get_the_landmarks(tmp_path):
    seen = []

    def crop(image, landmarks, box, size):
        seen.append((image.shape, landmarks, box))
        return np.full((size, size, 3), 200, np.uint8)

    data, report = real_dataset(
        "celeba", write_celeba(tmp_path / "celeba"), "train", tmp_path / "cache", 32, crop, progress=False
    )
    sample = data[1]
    assert report.cropped == 2 and len(data) == 2
    assert sample["image"].shape == (3, 32, 32) and sample["image"].dtype == torch.float32
    assert (
        sample["attributes"].dtype == torch.int64 and sample["attributes"][ATTRIBUTES.index("Smiling")] == 1
    )
    assert sample["aus"].tolist() == [-1] * len(AUS) and torch.isnan(sample["va"]).all()
    assert seen[0][0] == (218, 178, 3) and seen[0][1][0].tolist() == [69, 109] and seen[0][2] is None


def test_label_arrays_are_served_without_reading_images(tmp_path):
    def crop(image, landmarks, box, size):
        return np.zeros((size, size, 3), np.uint8)

    data, _ = real_dataset(
        "celeba", write_celeba(tmp_path / "c"), "all", tmp_path / "cache", 8, crop, progress=False
    )
    for path in (tmp_path / "cache").rglob("*.png"):
        path.unlink()  # no pixels left: labels must still come back
    assert data.labels("attributes")[:, ATTRIBUTES.index("Smiling")].tolist() == [0, 1, 0, 1]
    assert data.labels("aus").shape == (4, len(AUS)) and data.labels("va").shape == (4, 2)
    with pytest.raises(ValueError, match="unknown task 'emotion'"):
        data.labels("emotion")
