"""Evaluation as the paper reports it: the JSON layout of Table 4, Tables 5-6 and Fig. 9-10,
the command line on any load_model source, and the real-photo figures."""

import csv
import json
import os
from pathlib import Path

import numpy as np
import pytest

from fatauva import topology
from fatauva.checkpoint import save_model, untrained_model
from tests.tiny import tiny_config
from train import evaluate
from train.evaluate import Predictions, report

TINY = tiny_config()
REALFACES = Path(__file__).resolve().parents[2] / "shared" / "realfaces"


def _predictions(n=8):
    attributes = np.tile(np.array([[1, 0] * 5]), (n, 1))
    aus = np.tile(np.array([[1, 0] * 7]), (n, 1))
    aus[0, 0] = -1  # unlabelled: skipped, not counted as wrong
    va_true = np.linspace(-1, 1, 2 * n).reshape(n, 2)
    return Predictions(
        attribute_probs=attributes * 0.9 + 0.05,
        au_probs=np.where(aus == 1, 0.8, 0.3),
        va=va_true.copy(),
        attributes=attributes,
        aus=aus,
        va_true=va_true,
    )


def test_the_report_has_the_papers_layout_with_perfect_scores_for_perfect_predictions():
    pred = _predictions()
    pred.aus[1:, 1] = 1
    pred.au_probs[1:, 1] = 0.9  # AU02 positive everywhere: AUC undefined, reported as null
    rep = report(pred)
    assert rep["n_faces"] == 8
    assert set(rep["attributes"]["per_attribute"]) == set(topology.ATTRIBUTES)
    assert rep["attributes"]["mean_accuracy"] == 1.0
    assert set(rep["aus"]["per_au"]) == set(topology.AU_KEYS)
    assert rep["aus"]["per_au"]["AU01"] == {"f1": 1.0, "auc": None, "accuracy": 1.0, "n": 7}
    assert rep["aus"]["mean_f1"] == 1.0 and rep["aus"]["mean_auc"] == 1.0
    assert rep["valence"]["mse"] == 0.0 and rep["valence"]["ccc"] == pytest.approx(1.0)
    assert set(rep["arousal"]) == {"mse", "ccc", "n"}
    json.dumps(rep, allow_nan=False)  # valid JSON: undefined metrics are null, never NaN


def test_wrong_predictions_lower_exactly_the_figures_they_touch():
    pred = _predictions()
    pred.attribute_probs[:2, 0] = 0.1  # two of eight faces wrong on Arched_Eyebrows
    pred.va[:, 0] = 0.0
    rep = report(pred)
    assert rep["attributes"]["per_attribute"]["Arched_Eyebrows"] == 0.75
    assert rep["attributes"]["mean_accuracy"] == pytest.approx(0.975)
    assert rep["valence"]["ccc"] == 0.0 and rep["valence"]["mse"] > 0
    assert rep["arousal"]["mse"] == 0.0


@pytest.fixture
def tiny_model_folder(tmp_path):
    return save_model(untrained_model(TINY), tmp_path / "model")


def test_the_command_line_scores_a_model_folder_on_synthfacs_and_writes_json(
    tiny_model_folder, tmp_path, capsys
):
    out = tmp_path / "eval" / "synth.json"
    evaluate.main(
        ["--model", str(tiny_model_folder), "--data", "synthfacs", "--size", "12", "--json", str(out)]
    )
    written = json.loads(out.read_text())
    assert written["n_faces"] == 12 and written["kind"] == "local" and written["split"] == "test"
    assert 0.0 <= written["attributes"]["mean_accuracy"] <= 1.0
    assert {"mse", "ccc", "n"} == set(written["valence"])
    printed = capsys.readouterr().out
    assert "Eyeglasses" in printed and "AU45 blink" in printed and "valence" in printed


def test_the_default_synthfacs_test_split_has_at_least_2000_faces():
    assert evaluate._parser().parse_args([]).size >= 2000


def test_a_real_dataset_needs_its_root():
    with pytest.raises(SystemExit, match="--data bp4d needs --root"):
        evaluate.main(["--data", "bp4d"])


def _mini_realfaces(root: Path) -> Path:
    """A few photos of the real folder (symlinked, never copied) with their original label rows."""
    chosen = {"london_faces.csv": [], "canada_faces.csv": []}
    with open(REALFACES / "labels" / "london_faces.csv") as f:
        rows = list(csv.DictReader(f))
    for split in ("dev", "test"):
        for smile in ("0", "1"):
            chosen["london_faces.csv"].append(
                next(r for r in rows if r["split"] == split and r["smile"] == smile)
            )
    with open(REALFACES / "labels" / "canada_faces.csv") as f:
        chosen["canada_faces.csv"].append(next(csv.DictReader(f)))
    for name, picked in chosen.items():
        (root / "labels").mkdir(parents=True, exist_ok=True)
        with open(root / "labels" / name, "w", newline="") as f:
            writer = csv.DictWriter(f, fieldnames=list(picked[0]))
            writer.writeheader()
            writer.writerows(picked)
        for row in picked:
            target = root / row["file"]
            target.parent.mkdir(parents=True, exist_ok=True)
            os.symlink(REALFACES / row["file"], target)
    return root


@pytest.mark.skipif(not REALFACES.is_dir(), reason=f"real photos not available at {REALFACES}")
def test_real_photos_are_aligned_and_scored_for_smile_and_sex(tiny_model_folder, tmp_path):
    root = _mini_realfaces(tmp_path / "realfaces")
    out = tmp_path / "real.json"
    evaluate.main(
        ["--model", str(tiny_model_folder), "--data", "realfaces", "--root", str(root), "--json", str(out)]
    )
    rep = json.loads(out.read_text())
    assert rep["n_photos"] == 5 and rep["n_faces"] == 5 and rep["one_face_rate"] == 1.0
    for key in ("smile_auc", "smile_auc_dev", "smile_accuracy", "smile_accuracy_dev", "male_accuracy"):
        assert 0.0 <= rep[key] <= 1.0, key
    sexes = set()
    for name in ("london_faces.csv", "canada_faces.csv"):
        with open(root / "labels" / name) as f:
            sexes |= {r["male"] for r in csv.DictReader(f)}
    one_sex_has_no_auc = np.isnan(rep["male_auc"])
    assert (0.0 <= rep["male_auc"] <= 1.0) if len(sexes) == 2 else one_sex_has_no_auc
    assert rep["smile_accuracy"] in (0.0, 0.5, 1.0)  # two London test photos
    for key in ("au12_smile_auc", "valence_smile_auc", "neutral_au_rate"):
        assert 0.0 <= rep[key] <= 1.0 and 0.0 <= rep[f"{key}_dev"] <= 1.0, key
    assert set(rep["au_mean_prob"]["neutral"]) == {f"AU{a:02d}" for a in topology.AUS}
    assert (
        -1.0 <= rep["va_mean"]["smiling"]["valence"] <= 1.0
        and -1.0 <= rep["va_mean"]["neutral"]["arousal"] <= 1.0
    )


def test_real_photo_au_and_va_figures_follow_their_definitions():
    from sklearn.metrics import roc_auc_score

    from train.realfaces import NEUTRAL_ABSENT, Photo, Scores, _mean_probs, _split_figures

    rng = np.random.default_rng(0)
    smile = np.array([0, 1, 0, 1, 0, 1, 0, 0])
    split = ["test"] * 6 + ["dev"] * 2  # the dev rows must not count in the test figures
    photos = [
        Photo(Path(f"{i}.jpg"), {"smile": str(y), "split": sp}, 1, None)
        for i, (y, sp) in enumerate(zip(smile, split, strict=True))
    ]
    aus = rng.uniform(0, 1, (8, len(topology.AUS)))
    scores = Scores(rng.uniform(0, 1, (8, len(topology.ATTRIBUTES))), aus, rng.uniform(-1, 1, (8, 2)))
    fig = _split_figures(photos, scores, "test")
    y = smile[:6]
    assert fig["au12_smile_auc"] == pytest.approx(roc_auc_score(y, aus[:6, topology.AUS.index(12)]))
    assert fig["valence_smile_auc"] == pytest.approx(roc_auc_score(y, scores.va[:6, 0]))
    cols = [topology.AUS.index(a) for a in NEUTRAL_ABSENT]
    assert 25 not in NEUTRAL_ABSENT and 45 not in NEUTRAL_ABSENT and 4 in NEUTRAL_ABSENT
    assert fig["neutral_au_rate"] == pytest.approx((aus[[0, 2, 4]][:, cols] > 0.5).mean())
    means = _mean_probs(photos, scores, "test")
    assert means["au_mean_prob"]["smiling"]["AU04"] == pytest.approx(
        aus[[1, 3, 5], topology.AUS.index(4)].mean()
    )
    assert means["va_mean"]["neutral"]["valence"] == pytest.approx(scores.va[[0, 2, 4], 0].mean())
    assert means["va_mean"]["smiling"]["arousal"] == pytest.approx(scores.va[[1, 3, 5], 1].mean())


def test_male_figures_cover_every_face_and_match_sklearn():
    from sklearn.metrics import accuracy_score, roc_auc_score

    from train.realfaces import MALE, Photo, Scores, _male_figures

    rng = np.random.default_rng(1)
    male = np.array([1, 0, 0, 1, 1, 0, 0])
    photos = [Photo(Path(f"{i}.jpg"), {"male": str(m)}, 1, None) for i, m in enumerate(male)]
    attributes = rng.uniform(0, 1, (7, len(topology.ATTRIBUTES)))
    scores = Scores(attributes, rng.uniform(0, 1, (7, len(topology.AUS))), rng.uniform(-1, 1, (7, 2)))
    fig = _male_figures(photos, scores)
    assert fig["male_auc"] == pytest.approx(roc_auc_score(male, attributes[:, MALE]))
    assert fig["male_accuracy"] == pytest.approx(accuracy_score(male, attributes[:, MALE] > 0.5))


def test_a_missing_real_photo_folder_is_named(tiny_model_folder, tmp_path):
    with pytest.raises(FileNotFoundError, match="no real-face folder at .*nowhere"):
        evaluate.main(
            ["--model", str(tiny_model_folder), "--data", "realfaces", "--root", str(tmp_path / "nowhere")]
        )


def test_photo_sets_are_found_under_the_data_root_and_others_need_a_root():
    from train.evaluate import default_dataset_root

    assert default_dataset_root("ckplus", "/d") == "/d/ckplus48"
    assert default_dataset_root("celeba", "/d") == "/d/celeba"
    assert default_dataset_root("bp4d", "/d") == ""


def test_one_face_rate_counts_detections_not_fallback_crops():
    import numpy as np

    from train.evaluate import one_face_rate
    from train.preprocess import PrepareReport

    kept = np.array([True, True, True, False])
    assert one_face_rate(PrepareReport(total=4, reused=0, cropped=3, kept=kept)) == 0.75
    # one of the three crops came from the set's known framing, not from a detection
    assert one_face_rate(PrepareReport(total=4, reused=0, cropped=3, kept=kept, fallback=1)) == 0.5
