"""UTKFace adapter on trees named as UTKFace names its files (`age_gender_race_date.jpg.chip.jpg`)."""

from pathlib import Path

import cv2
import numpy as np
import pytest

from fatauva.topology import ATTRIBUTES, AUS
from train.datasets import DatasetError, open_index, utkface_index

NAMES = (
    "25_0_0_20170116200534382.jpg.chip.jpg",  # a 25-year-old man
    "3_1_2_20161219140530307.jpg.chip.jpg",  # a 3-year-old girl
    "61_1_20170109142408075.jpg.chip.jpg",  # one of crop_part1's two names with three fields
)
MALE = ATTRIBUTES.index("Male")


def write_utkface(root: Path, names=NAMES, folder: str = "crop_part1") -> Path:
    images = root / folder if folder else root
    images.mkdir(parents=True, exist_ok=True)
    for name in names:
        cv2.imwrite(str(images / name), np.full((20, 20, 3), 90, np.uint8))
    return root


def test_male_comes_from_gender_zero_and_the_other_nine_attributes_are_unlabelled(tmp_path):
    index = utkface_index(write_utkface(tmp_path), "all")
    by_name = {p.name: row for row, p in enumerate(index.paths)}
    assert index.attributes[by_name[NAMES[0]], MALE] == 1 and index.attributes[by_name[NAMES[1]], MALE] == 0
    others = np.delete(index.attributes, MALE, axis=1)
    assert (others == -1).all()
    assert (index.aus == -1).all() and index.aus.shape == (3, len(AUS)) and np.isnan(index.va).all()


def test_age_is_kept_in_years(tmp_path):
    index = utkface_index(write_utkface(tmp_path), "all")
    ages = {p.name: float(a) for p, a in zip(index.paths, index.ages, strict=True)}
    assert ages == {NAMES[0]: 25.0, NAMES[1]: 3.0, NAMES[2]: 61.0}


def test_a_name_with_three_fields_is_accepted_with_male_unlabelled_and_noted(tmp_path):
    index = utkface_index(write_utkface(tmp_path), "all")
    row = [p.name for p in index.paths].index(NAMES[2])
    assert index.attributes[row, MALE] == -1
    assert index.notes == ["1 names with three fields (gender or race missing): Male unlabelled"]


@pytest.mark.parametrize("folder", ["crop_part1", "UTKFace", ""])
def test_crop_part1_utkface_and_the_root_itself_are_read(tmp_path, folder):
    index = utkface_index(write_utkface(tmp_path, folder=folder), "all")
    assert sorted(p.name for p in index.paths) == sorted(NAMES)


def test_splits_are_disjoint_cover_every_image_and_hold_about_80_10_10(tmp_path):
    names = [f"{20 + k % 50}_{k % 2}_{k % 5}_2017010{k:010d}.jpg.chip.jpg" for k in range(600)]
    root = write_utkface(tmp_path, names)
    splits = {s: {p.name for p in utkface_index(root, s).paths} for s in ("train", "val", "test")}
    assert set().union(*splits.values()) == set(names) and sum(map(len, splits.values())) == 600
    assert 0.75 < len(splits["train"]) / 600 < 0.85 and 0.06 < len(splits["test"]) / 600 < 0.14


def test_an_image_keeps_its_split_on_every_machine(tmp_path):
    # The split is a sha1 of the file name: these three are pinned so that it never changes.
    pinned = {
        "100_1_0_20170110183726390.jpg.chip.jpg": "train",
        "10_0_0_20170110220033115.jpg.chip.jpg": "val",
        "10_0_0_20170110220447314.jpg.chip.jpg": "test",
    }
    root = write_utkface(tmp_path, list(pinned))
    for name, split in pinned.items():
        assert name in {p.name for p in utkface_index(root, split).paths}


def test_groups_are_file_names_and_the_set_is_face_centred(tmp_path):
    index = utkface_index(write_utkface(tmp_path), "all")
    assert index.groups == [p.name for p in index.paths]
    assert index.centred and index.alignment is None  # misses: the measured mean framing


def test_a_malformed_name_is_one_error_naming_the_file(tmp_path):
    root = write_utkface(tmp_path, (*NAMES, "25_2_0_20170116200534999.jpg.chip.jpg"))
    with pytest.raises(
        DatasetError,
        match=r"^crop_part1/25_2_0_20170116200534999.jpg.chip.jpg: expected a name "
        r"<age>_<gender 0\|1>_<race>_<date>.jpg.chip.jpg, got",
    ):
        utkface_index(root, "train")


def test_a_missing_folder_names_every_place_looked_at(tmp_path):
    with pytest.raises(DatasetError, match=r"UTKFace images not found; looked in .*crop_part1, .*UTKFace"):
        utkface_index(tmp_path, "train")


def test_it_is_registered_as_utkface(tmp_path):
    assert len(open_index("utkface", write_utkface(tmp_path), "all")) == 3
