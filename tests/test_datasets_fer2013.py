"""FER2013 adapter on the Kaggle folder layout and on the original fer2013.csv, and the emotion table."""

import re
from pathlib import Path

import cv2
import numpy as np
import pytest

from fatauva.synthfacs.emotions import EMOTION_BY_NAME
from train.datasets import DatasetError, emotions, fer2013_index, open_index
from train.datasets.fer2013 import split_of

KAGGLE = {"train": {"happy": 3, "sad": 2, "neutral": 1}, "test": {"angry": 1, "surprise": 1}}


def write_kaggle(root: Path, tree=KAGGLE, train_names=None) -> Path:
    for folder, emotion_counts in tree.items():
        prefix = "Training" if folder == "train" else "PublicTest"
        for emotion, count in emotion_counts.items():
            (root / folder / emotion).mkdir(parents=True)
            for k in range(count):
                name = f"{prefix}_{emotion}{k}.jpg"
                cv2.imwrite(str(root / folder / emotion / name), np.full((48, 48), 120, np.uint8))
    for name in train_names or ():
        (root / "train" / "happy").mkdir(parents=True, exist_ok=True)
        cv2.imwrite(str(root / "train" / "happy" / name), np.full((48, 48), 120, np.uint8))
    return root


def pixels(value: int) -> str:
    return " ".join([str(value)] * 2304)


# emotion codes 0-6 = angry, disgust, fear, happy, sad, surprise, neutral
CSV_ROWS = [f"3,{pixels(10)},Training", f"4,{pixels(20)},PublicTest", f"6,{pixels(30)},PrivateTest"]


def write_csv(root: Path, rows=CSV_ROWS) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    (root / "fer2013.csv").write_text("\n".join(["emotion,pixels,Usage", *rows]) + "\n")
    return root


def test_kaggle_emotion_folders_give_our_emotion_names(tmp_path):
    index = fer2013_index(write_kaggle(tmp_path), "all")
    names = {p.name: e for p, e in zip(index.paths, index.emotions, strict=True)}
    assert names["Training_happy0.jpg"] == "happiness" and names["Training_sad1.jpg"] == "sadness"
    assert names["PublicTest_angry0.jpg"] == "anger" and names["Training_neutral0.jpg"] == "neutral"


def test_va_is_the_emotions_place_on_the_circumplex_shared_with_synthfacs(tmp_path):
    index = fer2013_index(write_kaggle(tmp_path), "all")
    for emotion, va in zip(index.emotions, index.va, strict=True):
        place = EMOTION_BY_NAME[emotion]
        assert va.tolist() == pytest.approx([place.valence, place.arousal])
    assert (index.attributes == -1).all() and (index.aus == -1).all()


def test_test_is_the_test_folder(tmp_path):
    index = fer2013_index(write_kaggle(tmp_path), "test")
    assert sorted(p.name for p in index.paths) == ["PublicTest_angry0.jpg", "PublicTest_surprise0.jpg"]


def test_val_is_a_fixed_tenth_of_the_train_folder_and_train_the_rest(tmp_path):
    names = [f"Training_{k}.jpg" for k in range(300)]
    root = write_kaggle(tmp_path, {"train": {}, "test": {"angry": 1}}, train_names=names)
    train = {p.name for p in fer2013_index(root, "train").paths}
    val = {p.name for p in fer2013_index(root, "val").paths}
    assert not train & val and train | val == set(names)
    assert 15 <= len(val) <= 45
    assert all(split_of(n, "Training") == "val" for n in val)  # the same rule names the split


def test_private_test_exists_only_in_the_csv(tmp_path):
    with pytest.raises(DatasetError, match="no PrivateTest images"):
        fer2013_index(write_kaggle(tmp_path), "private_test")


def test_the_csv_images_are_written_once_as_png_in_the_folder_given(tmp_path):
    root, pngs = write_csv(tmp_path / "fer"), tmp_path / "pngs"
    index = fer2013_index(root, "test", png_root=pngs)
    assert [p.name for p in index.paths] == ["PublicTest_00003.png"]  # the row's line in the CSV
    image = cv2.imread(str(index.paths[0]), cv2.IMREAD_UNCHANGED)
    assert image.shape == (48, 48) and (image == 20).all()
    assert sorted(p.name for p in pngs.iterdir()) == ["PublicTest_00003.png"]  # only the split asked for
    mtime = index.paths[0].stat().st_mtime_ns
    fer2013_index(root, "test", png_root=pngs)
    assert index.paths[0].stat().st_mtime_ns == mtime


def test_csv_emotion_codes_and_usages(tmp_path):
    root, pngs = write_csv(tmp_path / "fer"), tmp_path / "pngs"
    index = fer2013_index(root, "all", png_root=pngs)
    assert index.emotions == ["happiness", "sadness", "neutral"]
    assert [p.name for p in fer2013_index(root, "private_test", png_root=pngs).paths] == [
        "PrivateTest_00004.png"
    ]
    assert (
        len(fer2013_index(root, "train", png_root=pngs)) + len(fer2013_index(root, "val", png_root=pngs)) == 1
    )


def test_root_may_be_the_csv_file_itself(tmp_path):
    root = write_csv(tmp_path / "fer")
    assert len(fer2013_index(root / "fer2013.csv", "all", png_root=tmp_path / "p")) == 3


@pytest.mark.parametrize(
    ("row", "message"),
    [
        (f"3,{pixels(10)[:-3]},Training", r"^fer2013.csv line 3: expected 2304 pixel values, got 2303$"),
        (f"7,{pixels(10)},Training", r"^fer2013.csv line 3: emotion must be 0-6, got '7'$"),
        (f"3,{pixels(10)},Validation", r"^fer2013.csv line 3: Usage must be one of Training, PublicTest"),
        (f"3,{pixels(256)},Training", r"^fer2013.csv line 3: pixel values must be integers 0-255$"),
        ("3,1 2 3", r"^fer2013.csv line 3: expected 3 fields emotion,pixels,Usage, got 2$"),
    ],
)
def test_a_malformed_csv_row_names_file_and_line(tmp_path, row, message):
    root = write_csv(tmp_path / "fer", [CSV_ROWS[0], row])
    with pytest.raises(DatasetError, match=message):
        fer2013_index(root, "all", png_root=tmp_path / "p")


def test_an_unknown_emotion_folder_is_named(tmp_path):
    root = write_kaggle(tmp_path)
    (root / "train" / "contempt").mkdir()
    with pytest.raises(DatasetError, match=r"^train/contempt: not a FER2013 emotion folder"):
        fer2013_index(root, "train")


def test_a_missing_dataset_names_both_layouts(tmp_path):
    with pytest.raises(DatasetError, match=r"FER2013 not found: no .*train/ folder and no .*fer2013.csv"):
        fer2013_index(tmp_path, "train")


def test_the_circumplex_table_in_the_emotions_docstring_is_emotions_own():
    rows = re.findall(r"^\| (\w+) +\| +(-?\d\.\d+) +\| +(-?\d\.\d+) +\|$", emotions.__doc__, re.M)
    assert {name for name, _, _ in rows} == set(EMOTION_BY_NAME)
    for name, valence, arousal in rows:
        assert (float(valence), float(arousal)) == (
            EMOTION_BY_NAME[name].valence,
            EMOTION_BY_NAME[name].arousal,
        )


def test_contempt_has_no_place_and_unknown_names_are_refused():
    assert np.isnan(emotions.emotion_va("contempt")).all()
    assert emotions.canonical_emotion("Happy") == "happiness" and emotions.canonical_emotion("bored") is None
    with pytest.raises(ValueError, match="unknown emotion 'happy'"):
        emotions.emotion_va("happy")


def test_subsets_keep_emotions_and_ages(tmp_path):
    index = fer2013_index(write_kaggle(tmp_path), "all")
    part = index.subset([1, 0])
    assert part.emotions == [index.emotions[1], index.emotions[0]] and np.isnan(part.ages).all()
    assert part.centred and len(part.ages) == 2


def test_it_is_registered_as_fer2013(tmp_path):
    assert len(open_index("fer2013", write_kaggle(tmp_path), "test")) == 2
