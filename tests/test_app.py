"""The app skeleton: photo in -> crop, attributes, AUs and V-A out; it says which weights run."""

from pathlib import Path

import gradio as gr
import numpy as np
import pytest

from demo import plots
from demo.app import (
    analyze,
    attribute_rows,
    build_app,
    load_analyzer,
    neutral_baseline,
    real_photo_summary,
    va_references,
    weights_banner,
)
from demo.plots import au_bars, va_circumplex
from fatauva import topology

REALFACES = Path(__file__).resolve().parents[1].parent / "shared" / "realfaces"


@pytest.fixture(scope="module")
def analyzer():
    return load_analyzer()


@pytest.fixture(scope="module")
def smiling_photo() -> Path:
    folder = REALFACES / "images" / "london_smiling"
    if not folder.is_dir():
        pytest.skip(f"real face photos not found at {REALFACES} (evaluation data lives in ../shared)")
    return sorted(folder.iterdir())[0]


def read_rgb(path: Path) -> np.ndarray:
    import cv2

    return cv2.cvtColor(cv2.imread(str(path)), cv2.COLOR_BGR2RGB)


def test_banner_names_the_weights_and_warns_when_untrained(analyzer):
    text = weights_banner(analyzer.loaded)
    assert analyzer.loaded.location in text
    if analyzer.loaded.kind == "untrained":
        assert "untrained" in text.lower()
    if analyzer.loaded.kind == "bundled":
        assert "synthetic" in text.lower()


def test_banner_states_the_real_photo_figures_of_the_weights_that_run(analyzer):
    real = analyzer.loaded.metrics.get("realfaces_test")
    if real is None:
        pytest.skip("these weights carry no real-photo evaluation")
    text = weights_banner(analyzer.loaded)
    assert f"AUC {real['smile_auc']:.2f}" in text and f"{real['neutral_au_rate']:.0%} of AU calls" in text
    assert f"Male is right on {real['male_accuracy']:.0%} of {real['n_faces']} faces" in text


def test_real_photo_summary_names_only_what_was_measured():
    assert real_photo_summary({}) is None
    assert real_photo_summary({"synthfacs_test": {"data": "synthfacs", "smile_auc": 0.5}}) is None
    one = real_photo_summary({"data": "realfaces", "smile_auc": 0.8765})
    assert "AUC 0.88" in one and "Male" not in one and "right at 0.5" not in one
    means = {f"AU{a:02d}": 0.1 for a in topology.AUS} | {"AU25": 0.9, "AU45": 0.8, "AU07": 0.6}
    nested = {
        "realfaces_test": {"data": "realfaces", "neutral_au_rate": 0.25, "au_mean_prob": {"neutral": means}}
    }
    text = real_photo_summary(nested)
    assert "25% of AU calls" in text and "AU07 the most (mean P 0.60)" in text  # AU25 / AU45 may show at rest


def test_analyze_returns_every_output_for_a_real_photo(analyzer, smiling_photo):
    crop, rows, au_fig, va_fig, details, status = analyze(analyzer, read_rgb(smiling_photo))
    size = analyzer.input_size
    assert crop.shape == (size, size, 3) and crop.dtype == np.uint8
    assert [r[0] for r in rows] == list(topology.ATTRIBUTES)
    assert all(0.0 <= r[2] <= 1.0 for r in rows)
    assert list(au_fig.data[0].x) == pytest.approx(list(details["aus"].values()))
    assert list(details["aus"]) == list(topology.AU_KEYS)
    assert -1.0 <= details["valence"] <= 1.0 and -1.0 <= details["arousal"] <= 1.0
    assert va_fig.data[-1].x[0] == pytest.approx(details["valence"])
    assert "Face found" in status


def test_au_chart_marks_each_aus_mean_on_neutral_real_photos(analyzer, smiling_photo):
    _, _, au_fig, _, details, _ = analyze(analyzer, read_rgb(smiling_photo))
    real = analyzer.loaded.metrics.get("realfaces_test")
    if real is None:
        assert len(au_fig.data) == 1
        return
    ticks = au_fig.data[1]
    means = real["au_mean_prob"]["neutral"]
    assert list(ticks.x) == pytest.approx([means[k] for k in details["aus"]])
    assert list(ticks.y) == list(au_fig.data[0].y)  # each tick on its own AU's bar


def test_neutral_baseline_reads_the_realfaces_evaluation_only():
    assert neutral_baseline({}) is None and neutral_baseline({"data": "synthfacs"}) is None
    one = neutral_baseline({"data": "realfaces", "au_mean_prob": {"neutral": {"AU04": 0.9, "AU99": 0.1}}})
    assert one == {4: 0.9}
    plain = au_bars({au: 0.2 for au in topology.AUS})
    assert len(plain.data) == 1 and not plain.layout.showlegend
    marked = au_bars({au: 0.2 for au in topology.AUS}, neutral=one)
    assert list(marked.data[1].x) == [0.9] and marked.data[1].y[0].startswith("AU04")


def test_circumplex_shows_where_the_weights_put_neutral_and_smiling_real_photos(analyzer, smiling_photo):
    _, _, _, va_fig, details, _ = analyze(analyzer, read_rgb(smiling_photo))
    real = analyzer.loaded.metrics.get("realfaces_test")
    if real is None:
        pytest.skip("these weights carry no real-photo evaluation")
    marks = {t.name: (t.x[0], t.y[0]) for t in va_fig.data if t.name and t.name.startswith("mean of")}
    smiling = real["va_mean"]["smiling"]
    assert marks["mean of smiling real photos"] == pytest.approx((smiling["valence"], smiling["arousal"]))
    assert va_fig.data[-1].x[0] == pytest.approx(details["valence"])  # the face itself stays on top


def test_va_references_need_both_targets():
    assert va_references({}) is None
    half = {"data": "realfaces", "va_mean": {"neutral": {"valence": -0.2}}}
    assert va_references(half) is None
    full = {"data": "realfaces", "va_mean": {"neutral": {"valence": -0.2, "arousal": 0.1}}}
    assert va_references(full) == {"neutral": (-0.2, 0.1)}
    fig = va_circumplex(0.5, 0.5, va_references(full))
    assert fig.data[-1].x[0] == 0.5 and fig.data[-2].name == "mean of neutral real photos"


def test_attribute_rows_mark_presence_at_one_half(analyzer, smiling_photo):
    pred = analyzer.analyze_image(read_rgb(smiling_photo), max_faces=1)[0]
    for name, part, p, present in attribute_rows(pred):
        assert part == topology.ATTRIBUTE_PART[name]
        assert present == ("yes" if p >= 0.5 else "no")


def test_missing_photo_is_a_clear_error(analyzer):
    with pytest.raises(gr.Error, match="Upload a photo"):
        analyze(analyzer, None)


def test_photo_without_a_face_is_a_clear_error(analyzer):
    blank = np.full((240, 320, 3), 127, dtype=np.uint8)
    with pytest.raises(gr.Error, match="No face"):
        analyze(analyzer, blank)


def test_app_answers_through_gradio_client(analyzer, smiling_photo):
    from gradio_client import Client, handle_file

    app = build_app(analyzer)
    app.launch(prevent_thread_lock=True, server_name="127.0.0.1", quiet=True)
    try:
        client = Client(app.local_url, verbose=False)
        result = client.predict(handle_file(str(smiling_photo)), api_name="/analyze")
        details = result[4]
        assert list(details["attributes"]) == list(topology.ATTRIBUTES)
        assert len(details["aus"]) == len(topology.AUS)
    finally:
        app.close()


def test_app_module_builds_without_serving():
    import app

    assert isinstance(app.demo, gr.Blocks)
    assert not app.demo.is_running


def _label_positions_drawn(fig) -> dict[str, str]:
    return {
        t.name.removeprefix("mean of ").removesuffix(" real photos"): t.textposition
        for t in fig.data
        if t.name and t.name.startswith("mean of")
    }


def test_reference_labels_print_clear_of_the_emotion_words():
    # The mean neutral face of earlier weights sat just under "disgusted" (160 deg on the circle) and
    # its label printed over that word; a mark above "sad" (210 deg) keeps its label on top.
    under_disgusted = va_circumplex(0.0, 0.9, {"neutral": (-0.55, 0.1)})
    assert _label_positions_drawn(under_disgusted) == {"neutral": "bottom center"}
    assert _label_positions_drawn(va_circumplex(0.0, 0.9, {"low": (-0.6, -0.2)})) == {"low": "top center"}


def test_reference_labels_print_clear_of_each_other_and_of_the_face():
    # The bundled weights' means (2026-12-01) sit 0.43 apart in valence: both labels on top overlapped.
    refs = {"neutral": (-0.28, -0.03), "smiling": (0.15, -0.08)}
    sides = _label_positions_drawn(va_circumplex(0.45, -0.10, refs))
    assert sides == {"neutral": "top center", "smiling": "bottom center"}
    boxes = [plots._label_box(plots._reference_label(n), *refs[n], sides[n]) for n in refs]
    assert plots._overlap(*boxes) == 0.0
    # The face's own point pushes a label to the other side of its mark.
    assert _label_positions_drawn(va_circumplex(0.0, 0.15, {"m": (0.0, 0.0)})) == {"m": "bottom center"}
    assert _label_positions_drawn(va_circumplex(0.0, -0.15, {"m": (0.0, 0.0)})) == {"m": "top center"}
