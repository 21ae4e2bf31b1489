"""GENKI-4K adapter on `files/` trees with this copy's labels.csv and with the original labels.txt."""

from pathlib import Path

import cv2
import numpy as np
import pytest

from fatauva.topology import ATTRIBUTES
from train.datasets import DatasetError, genki4k_index, open_index

SMILING = ATTRIBUTES.index("Smiling")
# Original labels.txt: line k = file k, `smile yaw pitch roll` (radians).
TXT_LINES = [f"{1 if k <= 6 else 0} -0.021162 0.059530 -0.039662" for k in range(1, 13)]


def write_files(root: Path, numbers) -> None:
    (root / "files").mkdir(parents=True, exist_ok=True)
    for k in numbers:
        cv2.imwrite(str(root / "files" / f"file{k:04d}.jpg"), np.full((16, 16, 3), 100, np.uint8))


def write_csv_layout(root: Path, smiles: dict[int, int]) -> Path:
    write_files(root, smiles)
    rows = [f"file{k:04d}.jpg,{s},-0.057745,0.083098,-0.094952" for k, s in smiles.items()]
    (root / "labels.csv").write_text("\n".join(["file,smile,yaw,pitch,roll", *rows]) + "\n")
    return root


def write_txt_layout(root: Path, on_disk=range(1, 13)) -> Path:
    write_files(root, on_disk)
    (root / "labels.txt").write_text("\n".join(TXT_LINES) + "\n")
    return root


def test_labels_csv_sets_smiling_and_nothing_else(tmp_path):
    index = genki4k_index(write_csv_layout(tmp_path, {2: 1, 4: 0, 5: 1}), "all")
    assert [p.name for p in index.paths] == ["file0002.jpg", "file0004.jpg", "file0005.jpg"]
    assert index.attributes[:, SMILING].tolist() == [1, 0, 1]
    assert (np.delete(index.attributes, SMILING, axis=1) == -1).all()
    assert (index.aus == -1).all() and np.isnan(index.va).all()


def test_labels_txt_line_k_labels_file_k(tmp_path):
    index = genki4k_index(write_txt_layout(tmp_path), "all")
    assert [p.name for p in index.paths] == [f"file{k:04d}.jpg" for k in range(1, 13)]
    assert index.attributes[:, SMILING].tolist() == [1] * 6 + [0] * 6


def test_labelled_images_missing_from_files_are_skipped_and_counted(tmp_path):
    index = genki4k_index(write_txt_layout(tmp_path, on_disk=[1, 2, 7, 8]), "all")
    assert [p.name for p in index.paths] == ["file0001.jpg", "file0002.jpg", "file0007.jpg", "file0008.jpg"]
    assert index.attributes[:, SMILING].tolist() == [1, 1, 0, 0]
    assert index.skipped == 8 and index.notes == ["8 labelled images not in files/ (held back): skipped"]


def test_labels_csv_wins_over_labels_txt(tmp_path):
    root = write_txt_layout(tmp_path)
    write_csv_layout(root, {1: 0})
    assert genki4k_index(root, "all").attributes[:, SMILING].tolist() == [0]


@pytest.mark.parametrize(
    ("split", "numbers"),
    [("train", [1, 2, 3, 4, 5, 6, 7, 8, 11, 12]), ("val", [9]), ("test", [10])],
)
def test_splits_interleave_by_file_number(tmp_path, split, numbers):
    # k % 10 == 0 test, k % 10 == 9 val: smiles (files 1-6 here, 1-2162 in GENKI) reach every split
    index = genki4k_index(write_txt_layout(tmp_path), split)
    assert [int(p.stem[4:]) for p in index.paths] == numbers


def test_misses_are_skipped_not_placed_by_a_mean_framing(tmp_path):
    # this copy's Haar-cascade crops include non-faces: no fallback framing for GENKI-4K
    index = genki4k_index(write_txt_layout(tmp_path), "all")
    assert not index.centred and index.alignment is None


def test_a_smile_other_than_0_or_1_names_file_and_line(tmp_path):
    root = write_csv_layout(tmp_path, {2: 1, 4: 2})
    with pytest.raises(DatasetError, match=r"^labels.csv line 3: smile must be 0 or 1, got '2'$"):
        genki4k_index(root, "all")


def test_a_short_csv_row_names_file_and_line(tmp_path):
    root = write_csv_layout(tmp_path, {2: 1})
    path = root / "labels.csv"
    path.write_text(path.read_text() + "file0003.jpg,1\n")
    with pytest.raises(
        DatasetError, match=r"^labels.csv line 3: expected `fileNNNN.jpg,smile,yaw,pitch,roll`$"
    ):
        genki4k_index(root, "all")


def test_a_wrong_csv_header_is_an_error(tmp_path):
    root = write_csv_layout(tmp_path, {2: 1})
    path = root / "labels.csv"
    path.write_text(path.read_text().replace("file,smile", "name,smile"))
    with pytest.raises(
        DatasetError, match=r"^labels.csv line 1: expected the header file,smile,yaw,pitch,roll$"
    ):
        genki4k_index(root, "all")


def test_a_malformed_txt_line_names_file_and_line(tmp_path):
    root = write_txt_layout(tmp_path)
    lines = TXT_LINES.copy()
    lines[4] = "1 0.1 x 0.2"
    (root / "labels.txt").write_text("\n".join(lines) + "\n")
    with pytest.raises(DatasetError, match=r"^labels.txt line 5: head pose must be three numbers"):
        genki4k_index(root, "all")


def test_a_txt_line_with_too_few_fields_names_file_and_line(tmp_path):
    root = write_txt_layout(tmp_path)
    (root / "labels.txt").write_text("1 0 0 0\n1 0 0\n")
    with pytest.raises(
        DatasetError, match=r"^labels.txt line 2: expected `smile yaw pitch roll`, got '1 0 0'$"
    ):
        genki4k_index(root, "all")


def test_without_a_label_file_the_error_names_what_was_looked_for(tmp_path):
    write_files(tmp_path, [1])
    with pytest.raises(
        DatasetError, match=r"labels.csv: file not found \(nor labels.txt, GENKI-4K_Labels.txt\)"
    ):
        genki4k_index(tmp_path, "all")


def test_it_is_registered_as_genki4k(tmp_path):
    assert len(open_index("genki4k", write_txt_layout(tmp_path), "test")) == 1
