"""The scorecard: every evaluation of a model, skipped sets named, headline figures beside the bars."""

import json

from train import scorecard


def test_dotted_reads_nested_keys_and_misses_softly():
    tree = {"aus": {"mean_auc": 0.8}, "smile_auc": 0.9}
    assert scorecard.dotted(tree, "aus.mean_auc") == 0.8
    assert scorecard.dotted(tree, "smile_auc") == 0.9
    assert scorecard.dotted(tree, "aus.nope") is None


def test_summary_shows_each_headline_with_its_bar_and_na_when_missing():
    text = scorecard.summary({"ckplus_all": {"aus": {"mean_auc": 0.8123}}})
    line = next(x for x in text.splitlines() if x.startswith("CK+ AU mean AUC"))
    assert "0.812" in line and ">= 0.85" in line
    assert "n/a" in next(x for x in text.splitlines() if x.startswith("FER2013 valence AUC"))


def test_missing_sets_are_skipped_by_name_and_synthfacs_is_scored(tmp_path, capsys, monkeypatch):
    calls = []

    def fake_main(argv):
        calls.append(argv)
        report = {"data": argv[1], "split": argv[3]}
        path = argv[argv.index("--json") + 1]
        with open(path, "w") as f:
            json.dump(report, f)
        return report

    monkeypatch.setattr(scorecard.evaluate, "main", fake_main)
    monkeypatch.setattr(scorecard, "EVALUATIONS", (("synthfacs", "test"), ("celeba", "test")))
    results = scorecard.run(None, tmp_path / "eval", str(tmp_path / "no-data"), "cache", None)
    assert list(results) == ["synthfacs_test"]
    assert "skipped celeba" in capsys.readouterr().err
    assert (tmp_path / "eval" / "synthfacs_test.json").is_file()
