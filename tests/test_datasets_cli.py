"""`python -m train.datasets`: check a dataset on disk and crop it once."""

from train.datasets.__main__ import main

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
