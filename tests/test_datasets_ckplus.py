"""CK+48 adapter on a tree of `<emotion>/Sxxx_sss_fffffff.png` frames with their au_labels.csv."""

from pathlib import Path

import cv2
import numpy as np
import pytest

from fatauva.topology import AUS
from train.datasets import DatasetError, ckplus_index, open_index

AU_COLUMNS = "AU1,AU2,AU4,AU6,AU7,AU10,AU12,AU15,AU17,AU23,AU24,AU25,AU26,AU5,AU9"
HEADER = f"image,{AU_COLUMNS},emotion,subject,sequence,frame,is_peak"
# (image, present AUs, emotion, subject, frame, is_peak)
FRAMES = [
    ("S010_004_00000018.png", (4, 7, 17, 23, 24), "anger", "S010", 18, 0),
    ("S010_004_00000019.png", (4, 7, 17, 23, 24), "anger", "S010", 19, 1),
    ("S011_002_00000020.png", (6, 12, 25), "happy", "S011", 20, 1),
    ("S022_001_00000011.png", (1, 2, 25, 26, 5), "surprise", "S022", 11, 1),
    ("S026_003_00000015.png", (14,), "contempt", "S026", 15, 1),
]


def csv_row(image, present, emotion, subject, frame, peak) -> str:
    codes = ",".join("1" if int(c[2:]) in present else "0" for c in AU_COLUMNS.split(","))
    return f"{image},{codes},{emotion},{subject},{image[:8]},{frame},{peak}"


def write_ckplus(root: Path, frames=FRAMES, on_disk=None) -> Path:
    for image, _, emotion, *_ in frames:
        if on_disk is None or image in on_disk:
            (root / emotion).mkdir(parents=True, exist_ok=True)
            cv2.imwrite(str(root / emotion / image), np.full((48, 48), 90, np.uint8))
    (root / "au_labels.csv").write_text("\n".join([HEADER, *(csv_row(*f) for f in frames)]) + "\n")
    return root


def test_the_thirteen_coded_aus_are_read_and_au45_is_unlabelled(tmp_path):
    index = ckplus_index(write_ckplus(tmp_path), "all")
    present = {AUS[j] for j in np.flatnonzero(index.aus[2] == 1)}
    assert present == {6, 12, 25}  # happy; AU5 and AU9 are columns we do not model
    assert (index.aus[:, AUS.index(45)] == -1).all()
    assert (index.aus[:, [AUS.index(a) for a in AUS if a != 45]] >= 0).all()
    assert (index.attributes == -1).all() and np.isnan(index.va).all()


def test_au_columns_may_come_in_any_order(tmp_path):
    root = write_ckplus(tmp_path)
    lines = (root / "au_labels.csv").read_text().splitlines()
    swapped = []
    for line in lines:  # swap the AU1 and AU26 columns, header included
        f = line.split(",")
        f[1], f[13] = f[13], f[1]
        swapped.append(",".join(f))
    (root / "au_labels.csv").write_text("\n".join(swapped) + "\n")
    index = ckplus_index(root, "all")
    assert index.aus[3, AUS.index(1)] == 1 and index.aus[3, AUS.index(26)] == 1
    assert index.aus[2, AUS.index(1)] == 0


def test_emotions_are_our_names_and_groups_are_subjects(tmp_path):
    index = ckplus_index(write_ckplus(tmp_path), "all")
    assert index.emotions == ["anger", "anger", "happiness", "surprise", "contempt"]
    assert index.groups == ["S010", "S010", "S011", "S022", "S026"]
    assert index.paths[2] == tmp_path / "happy" / "S011_002_00000020.png"


def test_peak_keeps_the_peak_frames(tmp_path):
    index = ckplus_index(write_ckplus(tmp_path), "peak")
    assert [p.name for p in index.paths] == [f[0] for f in FRAMES[1:]]


def test_calib_and_check_split_by_alternate_subjects(tmp_path):
    root = write_ckplus(tmp_path)
    calib, check = ckplus_index(root, "calib"), ckplus_index(root, "check")
    assert sorted(set(calib.groups)) == ["S010", "S022"] and sorted(set(check.groups)) == ["S011", "S026"]
    assert len(calib) + len(check) == len(FRAMES)


def test_a_coded_frame_without_its_image_is_skipped_and_counted(tmp_path):
    root = write_ckplus(tmp_path, on_disk={f[0] for f in FRAMES[:3]})
    index = ckplus_index(root, "all")
    assert len(index) == 3 and index.skipped == 2
    assert index.notes == ["2 coded frames without an image: skipped"]


@pytest.mark.parametrize(
    "old, new, message",
    [
        (
            "S011_002_00000020.png,0",
            "S011_002_00000020.png,2",
            r"^au_labels.csv line 4: AU1 must be 0 or 1, got '2'$",
        ),
        (None, "S999_001_00000001.png,1,0\n", r"^au_labels.csv line 7: expected 21 fields, got 3$"),
        (",surprise,", ",bored,", r"^au_labels.csv line 5: unknown emotion 'bored'$"),
        (",subject,", ",person,", r"^au_labels.csv line 1: header lacks the columns subject$"),
    ],
    ids=["au-code", "short-row", "emotion", "header"],
)
def test_a_bad_label_file_names_file_line_and_fault(tmp_path, old, new, message):
    """`old` replaced by `new` (None: `new` appended as a row)."""
    root = write_ckplus(tmp_path)
    path = root / "au_labels.csv"
    text = path.read_text()
    path.write_text(text + new if old is None else text.replace(old, new, 1))
    with pytest.raises(DatasetError, match=message):
        ckplus_index(root, "all")


def test_the_set_is_face_centred_and_registered_as_ckplus(tmp_path):
    index = open_index("ckplus", write_ckplus(tmp_path), "all")
    assert index.centred and len(index) == 5
