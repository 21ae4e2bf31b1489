"""`python -m train.datasets`: check a dataset on disk and crop it once."""

import re

from train.datasets.__main__ import main

from .test_datasets_fer2013 import write_kaggle
from .test_datasets_genki4k import write_csv_layout
from .test_datasets_utkface import write_utkface
from .test_datasets_va import write_va_manifest


def test_it_describes_the_labels_it_found(tmp_path, capsys):
    path = write_va_manifest(tmp_path, ["a.jpg,0.5,-0.5", "b.jpg,,0.25"])
    assert main(["va_csv", str(path), "--split", "all", "--labels-only"]) == 0
    out = capsys.readouterr().out
    assert "va: 2 images, 0 labelled frames without an image skipped" in out
    assert "valence                     1 labelled, mean +0.50" in out
    assert "arousal                     2 labelled, mean -0.12" in out


def test_a_malformed_dataset_ends_with_one_sentence_not_a_traceback(tmp_path, capsys):
    path = write_va_manifest(tmp_path, ["a.jpg,0.5,-0.5", "b.jpg,3,1"])
    assert main(["va_csv", str(path), "--labels-only"]) == 1
    err = capsys.readouterr().err
    assert err == "error: va.csv line 3: V-A values must lie in [-1, 1] or be empty, got '3'\n"


def test_cropping_prints_the_detection_rate_fallbacks_and_skips(tmp_path, capsys):
    root = write_csv_layout(tmp_path / "genki", {2: 1, 4: 0, 5: 1})  # flat grey squares: no face
    assert main(["genki4k", str(root), "--split", "all", "--cache-root", str(tmp_path / "crops")]) == 0
    out = capsys.readouterr().out
    assert "3 images: 0 crops reused, 0 cropped, 3 skipped (no face, unreadable or blank)" in out
    assert (
        "faces: 0 found by the detector (0.0% of 3 searched), 0 placed by the set's framing (fallback), "
        "0 aligned by the dataset's landmarks, 3 skipped"
    ) in out
    assert re.search(r"^crop step: \d+ s$", out, re.M)


def test_it_describes_emotions_and_ages(tmp_path, capsys):
    assert main(["utkface", str(write_utkface(tmp_path)), "--split", "all", "--labels-only"]) == 0
    assert "  age                         3 labelled, mean 29.7 years" in capsys.readouterr().out
    assert main(["fer2013", str(write_kaggle(tmp_path / "fer")), "--split", "test", "--labels-only"]) == 0
    assert "  emotions: anger 1, surprise 1" in capsys.readouterr().out
