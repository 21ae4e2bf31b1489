"""AU adapters (BP4D/FERA2015, DISFA, CSV manifest) on tiny trees in each dataset's own format."""

from pathlib import Path

import cv2
import numpy as np
import pytest
import torch

from fatauva.topology import AUS
from train.datasets import DatasetError, au_manifest_index, bp4d_index, disfa_index, open_index, real_dataset
from train.datasets.bp4d import FERA2015_DEVEL_SUBJECTS, FERA2015_TRAIN_SUBJECTS


def column(au: int) -> int:
    return AUS.index(au)


def write_image(path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    cv2.imwrite(str(path), np.zeros((16, 16, 3), np.uint8))


# ---------------------------------------------------------------- BP4D / FERA2015

BP4D_HEADER = "0,1,2,4,6,7,10,12,14,15,17,23,24"
BP4D_ROWS = (
    "2440,1,0,0,0,0,0,1,0,0,0,0,0",  # AU1 and AU12 present
    "2441,0,0,9,0,0,0,0,0,0,0,0,0",  # AU4 not coded
    "2442,0,1,0,0,0,0,0,0,0,0,0,0",  # no frame on disk
    "2443,9,9,9,9,9,9,9,9,9,9,9,9",  # nothing coded
)


def write_bp4d(root: Path, rows=BP4D_ROWS, header=BP4D_HEADER) -> Path:
    (root / "AUCoding").mkdir(parents=True)
    for session in ("F001_T1", "F002_T1"):
        (root / "AUCoding" / f"{session}.csv").write_text("\n".join([header, *rows]) + "\n")
        subject, task = session.split("_")
        for frame in (2440, 2441, 2443):
            write_image(root / "BP4D-training" / subject / task / f"{frame}.jpg")
    return root


def test_bp4d_codes_become_one_zero_and_nine_becomes_unlabelled(tmp_path):
    index = bp4d_index(write_bp4d(tmp_path), "train")
    assert [p.name for p in index.paths] == ["2440.jpg", "2441.jpg"]
    assert index.aus[0, column(1)] == 1 and index.aus[0, column(12)] == 1 and index.aus[0, column(2)] == 0
    assert index.aus[1, column(4)] == -1


def test_bp4d_aus_without_a_column_are_unlabelled(tmp_path):
    index = bp4d_index(write_bp4d(tmp_path), "train")
    assert (index.aus[:, [column(25), column(26), column(45)]] == -1).all()
    assert np.isnan(index.va).all() and (index.attributes == -1).all()


def test_bp4d_frames_without_an_image_are_skipped_and_counted(tmp_path):
    index = bp4d_index(write_bp4d(tmp_path), "train")
    assert index.skipped == 1
    assert "1 frames with none of our AUs coded were dropped" in index.notes


@pytest.mark.parametrize(
    ("split", "groups"), [("train", {"F001_T1"}), ("val", {"F002_T1"}), ("all", {"F001_T1", "F002_T1"})]
)
def test_bp4d_splits_follow_the_fera2015_subject_partition(tmp_path, split, groups):
    assert set(bp4d_index(write_bp4d(tmp_path), split).groups) == groups


def test_the_fera2015_partition_has_21_training_and_20_development_subjects_apart():
    assert len(set(FERA2015_TRAIN_SUBJECTS)) == 21 and len(set(FERA2015_DEVEL_SUBJECTS)) == 20
    assert not set(FERA2015_TRAIN_SUBJECTS) & set(FERA2015_DEVEL_SUBJECTS)


def test_bp4d_headers_may_name_aus_as_au01(tmp_path):
    header = "Frame," + ",".join(f"AU{int(a):02d}" for a in BP4D_HEADER.split(",")[1:])
    index = bp4d_index(write_bp4d(tmp_path, header=header), "train")
    assert index.aus[0, column(1)] == 1 and index.aus[0, column(12)] == 1


def test_bp4d_an_unknown_code_names_file_line_and_au(tmp_path):
    rows = (BP4D_ROWS[0], "2441,0,0,2,0,0,0,0,0,0,0,0,0")
    with pytest.raises(DatasetError, match=r"^AUCoding/F001_T1.csv line 3: AU4 must be 0, 1 or 9, got '2'$"):
        bp4d_index(write_bp4d(tmp_path, rows=rows), "train")


def test_bp4d_a_short_row_names_file_and_line(tmp_path):
    rows = (BP4D_ROWS[0], "2441,0,0")
    with pytest.raises(DatasetError, match=r"^AUCoding/F001_T1.csv line 3: expected 13 fields, got 3$"):
        bp4d_index(write_bp4d(tmp_path, rows=rows), "train")


def test_bp4d_without_label_folder_says_where_it_looked(tmp_path):
    with pytest.raises(DatasetError, match=r"BP4D AU occurrence folder not found; looked for: .*AUCoding"):
        bp4d_index(tmp_path, "train")


def test_bp4d_a_session_without_frames_is_named(tmp_path):
    root = write_bp4d(tmp_path)
    for frame in (root / "BP4D-training" / "F001" / "T1").iterdir():
        frame.unlink()
    with pytest.raises(DatasetError, match=r"F001/T1: no frames for AUCoding/F001_T1.csv"):
        bp4d_index(root, "train")


# ---------------------------------------------------------------- DISFA


def write_disfa(root: Path, au12_lines: str = "1,0\n2,2\n3,5\n4,1\n") -> Path:
    labels = root / "ActionUnit_Labels" / "SN001"
    labels.mkdir(parents=True)
    (labels / "SN001_au1.txt").write_text("1,1\n2,0\n3,3\n4,0\n")
    (labels / "SN001_au12.txt").write_text(au12_lines)
    (labels / "SN001_au5.txt").write_text("1,5\n2,5\n3,5\n4,5\n")  # AU5 is not one of ours
    for frame in (1, 2, 3):
        write_image(root / "Images_LeftCamera" / "SN001" / f"{frame:05d}.png")
    (root / "ActionUnit_Labels" / "SN002").mkdir()
    (root / "ActionUnit_Labels" / "SN002" / "SN002_au1.txt").write_text("1,4\n")
    write_image(root / "Images_LeftCamera" / "SN002" / "00001.png")
    return root


def test_disfa_intensity_two_or_more_is_present(tmp_path):
    index = disfa_index(write_disfa(tmp_path), "SN001")
    assert index.aus[:, column(1)].tolist() == [0, 0, 1]
    assert index.aus[:, column(12)].tolist() == [0, 1, 1]


def test_disfa_aus_it_does_not_code_are_unlabelled(tmp_path):
    index = disfa_index(write_disfa(tmp_path), "SN001")
    assert (index.aus[:, [column(7), column(10), column(23), column(24), column(45)]] == -1).all()


def test_disfa_frames_without_an_image_are_skipped_and_counted(tmp_path):
    index = disfa_index(write_disfa(tmp_path), "SN001")
    assert len(index) == 3 and index.skipped == 1


def test_disfa_split_selects_subjects(tmp_path):
    root = write_disfa(tmp_path)
    assert set(disfa_index(root, "all").groups) == {"SN001", "SN002"}
    assert disfa_index(root, "SN002").groups == ["SN002"]
    with pytest.raises(ValueError, match="DISFA has no subjects SN009"):
        disfa_index(root, "SN001,SN009")


def test_disfa_frame_offset_matches_frames_extracted_from_zero(tmp_path):
    root = write_disfa(tmp_path)
    index = disfa_index(root, "SN001", frame_offset=-1)
    assert [p.name for p in index.paths] == ["00001.png", "00002.png", "00003.png"]  # label frames 2..4
    assert index.aus[:, column(12)].tolist() == [1, 1, 0] and index.skipped == 1


@pytest.mark.parametrize(
    "au12_lines, message",
    [
        ("1,0\n2;2\n", r"^ActionUnit_Labels/SN001/SN001_au12.txt line 2: expected `frame,intensity`"),
        ("1,7\n", r"SN001_au12.txt line 1: .*intensity 0..5, got '1,7'"),
    ],
    ids=["malformed", "above-five"],
)
def test_disfa_a_bad_label_line_names_file_and_line(tmp_path, au12_lines, message):
    root = write_disfa(tmp_path, au12_lines=au12_lines)
    with pytest.raises(DatasetError, match=message):
        disfa_index(root, "all")


# ---------------------------------------------------------------- CSV manifest


def write_manifest(root: Path, rows: list[str], header: str = "path,AU1,AU12,AU45,split") -> Path:
    for name in ("a.jpg", "b.jpg", "c.jpg"):
        write_image(root / "faces" / name)
    path = root / "aus.csv"
    path.write_text("\n".join([header, *rows]) + "\n")
    return path


MANIFEST_ROWS = ["faces/a.jpg,1,0,9,train", "faces/b.jpg,0,,1,train", "faces/c.jpg,1,1,0,val"]


def test_manifest_nine_or_empty_is_unlabelled(tmp_path):
    index = au_manifest_index(write_manifest(tmp_path, MANIFEST_ROWS))
    assert index.aus[:, column(1)].tolist() == [1, 0, 1]
    assert index.aus[:, column(12)].tolist() == [0, -1, 1]
    assert index.aus[:, column(45)].tolist() == [-1, 1, 0]
    assert (index.aus[:, column(4)] == -1).all()


def test_manifest_paths_are_relative_to_the_csv(tmp_path):
    index = au_manifest_index(write_manifest(tmp_path, MANIFEST_ROWS))
    assert index.paths[0] == tmp_path / "faces" / "a.jpg"


def test_manifest_split_column_selects_rows(tmp_path):
    path = write_manifest(tmp_path, MANIFEST_ROWS)
    assert [p.name for p in au_manifest_index(path, "val").paths] == ["c.jpg"]
    assert len(au_manifest_index(path, "all")) == 3


def test_manifest_a_bad_code_names_line_and_au(tmp_path):
    path = write_manifest(tmp_path, ["faces/a.jpg,1,2,9,train"])
    with pytest.raises(DatasetError, match=r"^aus.csv line 2: AU12 must be 0, 1, 9 or empty, got '2'$"):
        au_manifest_index(path)


def test_manifest_a_missing_image_names_the_line(tmp_path):
    path = write_manifest(tmp_path, [*MANIFEST_ROWS, "faces/zzz.jpg,1,1,1,val"])
    with pytest.raises(DatasetError, match=r"^aus.csv line 5: image faces/zzz.jpg not found$"):
        au_manifest_index(path)


def test_manifest_without_path_column_is_an_error(tmp_path):
    path = write_manifest(tmp_path, ["faces/a.jpg,1"], header="file,AU1")
    with pytest.raises(DatasetError, match=r"aus.csv line 1: expected a header starting with `path`"):
        au_manifest_index(path)


def test_a_missing_manifest_is_named(tmp_path):
    with pytest.raises(DatasetError, match=r"nothere.csv: file not found"):
        au_manifest_index(tmp_path / "nothere.csv")


def test_au_samples_follow_the_training_contract(tmp_path):
    def resize(image, landmarks, box, size):
        return cv2.resize(image, (size, size))

    data, report = real_dataset(
        "bp4d", write_bp4d(tmp_path / "bp4d"), "train", tmp_path / "cache", 24, resize, progress=False
    )
    sample = data[0]
    assert len(data) == 2 and report.cropped == 2
    assert sample["image"].shape == (3, 24, 24) and sample["image"].dtype == torch.float32
    assert sample["aus"].dtype == torch.int64 and sample["aus"][column(12)] == 1
    assert (sample["attributes"] == -1).all() and torch.isnan(sample["va"]).all()


def test_an_unknown_dataset_name_lists_the_known_ones(tmp_path):
    with pytest.raises(ValueError, match=r"unknown dataset 'bp5d'; choose one of celeba, bp4d, disfa"):
        open_index("bp5d", tmp_path, "train")
