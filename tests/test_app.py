"""The app: the Analyze handlers, the weights line on every tab, the `/analyze` endpoint through
gradio_client (good and bad files, the app staying up), the request queue and the plots."""

import base64
import json
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import cv2
import gradio as gr
import numpy as np
import pytest

from demo import analyze_tab, explanations, plots
from demo.analyze_tab import api_analyze, attribute_rows, draw_boxes, face_view, read_photo, write_downloads
from demo.app import CONCURRENCY, QUEUE_SIZE, TABS, build_app, load_analyzer
from demo.examples import EXAMPLES, compose, example_photos
from demo.explanations import FAILED_MARK
from demo.images import load_image
from demo.photo import CSV_COLUMNS, analyze_photo
from demo.plots import au_bars, va_circumplex
from demo.realphoto import neutral_baseline, real_photo_summary, va_references
from fatauva import topology
from fatauva.checkpoint import model_info

REALFACES = Path(__file__).resolve().parents[1].parent / "shared" / "realfaces"


@pytest.fixture(scope="module")
def analyzer():
    return load_analyzer()


@pytest.fixture(scope="module")
def two_faces(tmp_path_factory) -> Path:
    """A 640x480 photo with two SynthFACS faces (demo.examples), the larger on the left."""
    path = tmp_path_factory.mktemp("photos") / "two_faces.png"
    cv2.imwrite(str(path), cv2.cvtColor(compose(EXAMPLES[1][1]), cv2.COLOR_RGB2BGR))
    return path


@pytest.fixture(scope="module")
def served(analyzer):
    """The app served on a free port for the module's tests, and a gradio_client bound to it."""
    from gradio_client import Client

    app = build_app(analyzer)
    app.launch(prevent_thread_lock=True, server_name="127.0.0.1", quiet=True)
    try:
        yield Client(app.local_url, verbose=False)
    finally:
        app.close()


def test_examples_are_rendered_photos_with_the_faces_they_promise(analyzer, tmp_path):
    paths = example_photos(tmp_path)
    assert [p.name for p in paths] == [name for name, _ in EXAMPLES]
    for path, (_, faces) in zip(paths, EXAMPLES, strict=True):
        image = load_image(path)
        assert image.shape == (480, 640, 3)
        assert len(analyze_photo(analyzer, image).faces) == len(faces)


def test_every_face_is_found_boxed_and_numbered_largest_first(analyzer, two_faces):
    analysis = analyze_photo(analyzer, read_photo(str(two_faces)))
    assert len(analysis.faces) == 2
    first, second = (face.face for face in analysis.faces)
    assert first.area > second.area and first.x0 < 320 < second.x0
    boxed = draw_boxes(analysis.image, analysis.faces, picked=2)
    x0, y0 = round(second.x0), round(second.y0)
    assert tuple(boxed[y0 + 20, x0]) == analyze_tab._PICKED  # the picked face's box is red
    assert tuple(boxed[round(first.y0) + 20, round(first.x0)]) == analyze_tab._BOX


def test_face_view_shows_the_picked_face(analyzer, two_faces):
    analysis = analyze_photo(analyzer, read_photo(str(two_faces)))
    for number in (1, 2):
        view = face_view(analyzer, analysis, number)
        pred = analysis.faces[number - 1]
        assert view.details["face"] == number
        assert view.details["box"]["x"] == round(pred.face.x0)
        np.testing.assert_array_equal(view.crop, pred.crop)
        assert [r[0] for r in view.attributes] == list(topology.ATTRIBUTES)
        assert list(view.aus.data[0].x) == pytest.approx([pred.aus[au] for au in topology.AUS])
        assert view.va.data[-1].x[0] == pytest.approx(pred.valence)


def test_attribute_rows_name_the_part_branch_and_mark_presence_at_one_half(analyzer, two_faces):
    pred = analyze_photo(analyzer, read_photo(str(two_faces))).faces[0]
    for name, part, p, present in attribute_rows(pred):
        assert part == topology.ATTRIBUTE_PART[name]
        assert present == ("yes" if p >= 0.5 else "no")


def test_downloads_hold_every_face_as_json_and_csv(analyzer, two_faces):
    analysis = analyze_photo(analyzer, read_photo(str(two_faces)))
    json_path, csv_path = write_downloads(analysis, "two_faces.png")
    saved = json.loads(Path(json_path).read_text())
    assert [f["face"] for f in saved["faces"]] == [1, 2]
    assert saved["faces"][1]["valence"] == pytest.approx(analysis.faces[1].valence)
    lines = Path(csv_path).read_text().splitlines()
    assert lines[0].split(",") == list(CSV_COLUMNS) and len(lines) == 3


def test_missing_or_bad_photo_is_one_clear_error(tmp_path):
    with pytest.raises(gr.Error, match="Upload a photo"):
        read_photo(None)
    bad = tmp_path / "broken.jpg"
    bad.write_bytes(b"\xff\xd8\xff\xe0 not really a jpeg")
    with pytest.raises(gr.Error, match="broken.jpg"):
        read_photo(str(bad))


def test_photo_without_a_face_says_so_and_still_downloads_a_row(analyzer, tmp_path):
    blank = tmp_path / "wall.png"
    cv2.imwrite(str(blank), np.full((240, 320, 3), 127, np.uint8))
    analysis = analyze_photo(analyzer, read_photo(str(blank)))
    assert analysis.faces == []
    assert "No face was found" in analyze_tab.status_text(analysis, None)
    _, csv_path = write_downloads(analysis, "wall.png")
    assert Path(csv_path).read_text().splitlines()[1].startswith("wall.png,,")


def test_weights_line_comes_from_the_model_card(analyzer):
    from demo.model_page import usage_line

    info = model_info(analyzer.loaded)
    line = usage_line(info)
    assert info.kind in line and info.sha256[:12] in line
    if info.synthetic_only:
        assert "synthetic faces only" in line


def test_every_tab_opens_with_the_weights_line(analyzer):
    from demo.model_page import usage_line

    app = build_app(analyzer)
    line = usage_line(model_info(analyzer.loaded))
    tabs = [b for b in app.blocks.values() if isinstance(b, gr.Tab)]
    labels = [t.label for t in tabs]
    assert labels == [name for name, _ in TABS] and labels[0] == "Analyze" and labels[-1] == "Model"
    assert "Live" in labels
    for tab in tabs:
        assert isinstance(tab.children[0], gr.Markdown) and tab.children[0].value == line


def test_requests_are_queued_with_a_limit(analyzer):
    app = build_app(analyzer)
    assert app._queue.max_size == QUEUE_SIZE
    assert app._queue.default_concurrency_limit == CONCURRENCY


def test_api_answers_every_face_as_json(served, two_faces, analyzer):
    from gradio_client import handle_file

    result = served.predict(handle_file(str(two_faces)), api_name="/analyze")
    expected = api_analyze(analyzer, str(two_faces))
    assert result["file"] == "two_faces.png" and (result["width"], result["height"]) == (640, 480)
    assert [f["box"] for f in result["faces"]] == [f["box"] for f in expected["faces"]]
    face = result["faces"][0]
    assert list(face["attributes"]) == list(topology.ATTRIBUTES) and list(face["aus"]) == list(
        topology.AU_KEYS
    )
    assert face["valence"] == pytest.approx(expected["faces"][0]["valence"], abs=1e-5)
    assert result["weights"]["sha256"] == analyzer.loaded.sha256
    assert not any("explanation" in f for f in result["faces"]) and "faithfulness" not in result


def test_api_bad_file_is_a_message_and_the_app_stays_up(served, two_faces, tmp_path):
    from gradio_client import handle_file

    bad = tmp_path / "half.png"
    bad.write_bytes(two_faces.read_bytes()[:3000])
    with pytest.raises(Exception, match="half.png could not be decoded"):
        served.predict(handle_file(str(bad)), api_name="/analyze")
    assert len(served.predict(handle_file(str(two_faces)), api_name="/analyze")["faces"]) == 2


def test_concurrent_api_calls_all_succeed(served, two_faces):
    from gradio_client import handle_file

    with ThreadPoolExecutor(max_workers=8) as pool:
        results = list(
            pool.map(lambda _: served.predict(handle_file(str(two_faces)), api_name="/analyze"), range(8))
        )
    assert all(len(r["faces"]) == 2 for r in results)


def test_app_module_builds_without_serving():
    import app

    assert isinstance(app.demo, gr.Blocks)
    assert not app.demo.is_running


def test_app_arguments_name_model_host_and_port():
    import app

    args = app.parse_args(["--model", "owner/repo@v1", "--host", "0.0.0.0", "--port", "7999"])
    assert (args.model, args.host, args.port) == ("owner/repo@v1", "0.0.0.0", 7999)


# ----- the real-photo references drawn on the plots --------------------------------------------------
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


def test_au_chart_marks_each_aus_mean_on_neutral_real_photos(analyzer, two_faces):
    view = face_view(analyzer, analyze_photo(analyzer, read_photo(str(two_faces))), 1)
    real = analyzer.loaded.metrics.get("realfaces_test")
    if real is None:
        assert len(view.aus.data) == 1
        return
    ticks = view.aus.data[1]
    means = real["au_mean_prob"]["neutral"]
    assert list(ticks.x) == pytest.approx([means[k] for k in view.details["aus"]])
    assert list(ticks.y) == list(view.aus.data[0].y)  # each tick on its own AU's bar


def test_neutral_baseline_reads_the_realfaces_evaluation_only():
    assert neutral_baseline({}) is None and neutral_baseline({"data": "synthfacs"}) is None
    one = neutral_baseline({"data": "realfaces", "au_mean_prob": {"neutral": {"AU04": 0.9, "AU99": 0.1}}})
    assert one == {4: 0.9}
    plain = au_bars({au: 0.2 for au in topology.AUS})
    assert len(plain.data) == 1 and not plain.layout.showlegend
    marked = au_bars({au: 0.2 for au in topology.AUS}, neutral=one)
    assert list(marked.data[1].x) == [0.9] and marked.data[1].y[0].startswith("AU04")


def test_va_references_need_both_targets():
    assert va_references({}) is None
    half = {"data": "realfaces", "va_mean": {"neutral": {"valence": -0.2}}}
    assert va_references(half) is None
    full = {"data": "realfaces", "va_mean": {"neutral": {"valence": -0.2, "arousal": 0.1}}}
    assert va_references(full) == {"neutral": (-0.2, 0.1)}
    fig = va_circumplex(0.5, 0.5, va_references(full))
    assert fig.data[-1].x[0] == 0.5 and fig.data[-2].name == "mean of neutral real photos"


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


def test_real_smiling_photo_reads_one_face(analyzer):
    folder = REALFACES / "images" / "london_smiling"
    if not folder.is_dir():
        pytest.skip(f"real face photos not found at {REALFACES} (evaluation data lives in ../shared)")
    analysis = analyze_photo(analyzer, load_image(sorted(folder.iterdir())[0]))
    assert len(analysis.faces) == 1
    assert -1.0 <= analysis.faces[0].valence <= 1.0 and -1.0 <= analysis.faces[0].arousal <= 1.0


# ----- explanations -----------------------------------------------------------------------------------
def _decode_png(text: str) -> np.ndarray:
    return cv2.imdecode(np.frombuffer(base64.b64decode(text), np.uint8), cv2.IMREAD_UNCHANGED)


def test_api_with_maps_returns_every_faces_maps_verdicts_and_flow(served, two_faces, analyzer):
    from gradio_client import handle_file

    from explain.gate import verdicts

    result = served.predict(handle_file(str(two_faces)), True, api_name="/analyze")
    assert len(result["faces"]) == 2
    words = {True: "passed", False: "failed", None: "not checked"}
    expected = verdicts(analyzer.loaded.metrics, explanations.DEFAULT_METHOD, explanations.DEFAULT_LAYER)
    if not analyzer.loaded.metrics.get("faithfulness"):
        assert result["faithfulness"].startswith("**Faithfulness: not checked.**")
    analysis = analyze_photo(analyzer, read_photo(str(two_faces)))
    for face, pred in zip(result["faces"], analysis.faces, strict=True):
        found = face["explanation"]
        assert found["method"] == explanations.DEFAULT_METHOD
        assert list(found["maps"]) == list(explanations.TARGET_NAMES)
        for name, entry in found["maps"].items():
            assert entry["verdict"] == words[expected.get(name)]
            heat = _decode_png(entry["png"])
            assert heat.shape == (analyzer.input_size,) * 2 and heat.max() == 255  # min-max scaled
        assert set(found["part_responses"]) == set(topology.PARTS)
        np.testing.assert_array_equal(_decode_png(found["crop_png"])[..., ::-1], pred.crop)
        # the flow: parts -> AU branches -> V-A, one edge per wire of Tables 2-3 and Fig. 5
        edges = found["flow"]["edges"]
        assert len(edges) == len(topology.AU_BRANCHES) + len(topology.CON_VAL) + len(topology.CON_ARO)
        for va in found["flow"]["aus_to_va"].values():  # the error reported is that of the numbers sent
            change = va["output"] - va["baseline"]
            error = abs(sum(va["attributions"].values()) - change) / max(abs(change), 1e-8)
            assert va["completeness_error"] == pytest.approx(error)
    # the maps are this face's: the same explanation computed here decodes to the same pixels
    again = explanations.explain(analyzer, analysis.faces[1].crop)
    au12 = _decode_png(result["faces"][1]["explanation"]["maps"]["AU12"]["png"]) / 255
    np.testing.assert_allclose(au12, again.maps["AU12"], atol=1 / 255)


def test_api_without_maps_never_runs_the_explain_layer(analyzer, two_faces, monkeypatch):
    def refuse(*args, **kwargs):
        raise AssertionError("the predict path ran an explanation")

    monkeypatch.setattr(explanations, "explain", refuse)
    result = api_analyze(analyzer, str(two_faces))
    assert len(result["faces"]) == 2 and not any("explanation" in f for f in result["faces"])


def test_api_names_the_methods_when_given_an_unknown_one(analyzer, two_faces):
    with pytest.raises(gr.Error, match="GradCAM"):
        api_analyze(analyzer, str(two_faces), maps=True, method="MagicCAM")


def test_starting_the_app_imports_no_explanation_code():
    # explain/ pulls pytorch-grad-cam and torchvision in: seconds the page's start must not pay.
    code = "import sys, app; print(sorted(m for m in sys.modules if m.split('.')[0] in {BANNED}))"
    banned = {"explain", "pytorch_grad_cam", "captum", "torchvision"}
    out = subprocess.run(
        [sys.executable, "-c", code.replace("{BANNED}", repr(banned))],
        cwd=Path(__file__).resolve().parents[1],
        capture_output=True,
        text=True,
        check=True,
        timeout=600,
    )
    assert out.stdout.strip().splitlines()[-1] == "[]"


def test_explain_view_groups_maps_by_part_and_marks_failed_targets(analyzer, two_faces, monkeypatch):
    failed = {"AU12", "Smiling"}
    targets = {name: {"passed": name not in failed} for name in explanations.TARGET_NAMES}
    record = {"method": explanations.DEFAULT_METHOD, "layer": explanations.DEFAULT_LAYER, "targets": targets}
    monkeypatch.setattr(analyzer.loaded, "metrics", {**analyzer.loaded.metrics, "faithfulness": record})
    analysis = analyze_photo(analyzer, read_photo(str(two_faces)))
    view = analyze_tab.explain_view(analyzer, analysis, 2)
    assert list(view.galleries) == list(explanations.GROUPS)
    mouth = [caption for _, caption in view.galleries["mouth"]]
    assert mouth[:2] == ["mouth response · part.mouth · crop", "mouth response · part.mouth · photo"]
    marked = {c.split(" · ")[0] for items in view.galleries.values() for _, c in items if FAILED_MARK in c}
    assert marked == failed
    assert "24 of 26 targets passed" in view.status
    assert sum(len(items) for items in view.galleries.values()) == 2 * (26 + len(topology.PARTS))
    assert len(view.sankey.data[0].link.value) == len(view.numbers["flow"]["edges"])
    other = analyze_tab.explain_view(analyzer, analysis, 2, "GradCAM", "core")
    assert "not checked for GradCAM on core" in other.status
    assert set(other.numbers["layers"].values()) == {"core"}


def test_downloads_keep_the_explanation_numbers_of_the_faces_explained(analyzer, two_faces):
    analysis = analyze_photo(analyzer, read_photo(str(two_faces)))
    view = analyze_tab.explain_view(analyzer, analysis, 1)
    json_path, _ = write_downloads(analysis, "two_faces.png", {1: view.numbers})
    saved = json.loads(Path(json_path).read_text())
    first, second = saved["faces"]
    assert "explanation" not in second
    assert first["explanation"]["verdicts"] == view.numbers["verdicts"]
    au12 = first["explanation"]["flow"]["parts_to_aus"]["AU12"]["attribution"]
    assert au12 == pytest.approx(view.explanation.flow.aus["AU12"].contribution)


def test_occlusion_shows_the_map_beside_where_hiding_the_face_lowers_the_score():
    # A tiny untrained model: occlusion costs one forward per window; the bundled one takes seconds.
    from types import SimpleNamespace

    import torch

    from fatauva.model import FatauvaNet
    from tests.tiny import tiny_config

    torch.manual_seed(0)
    model = FatauvaNet(tiny_config()).eval()
    tiny = SimpleNamespace(loaded=SimpleNamespace(model=model, metrics={}))
    crop = np.random.default_rng(0).integers(0, 255, (32, 32, 3), dtype=np.uint8)
    explanation = explanations.explain(tiny, crop)
    image, text = analyze_tab.occlusion_view(tiny, explanation, "AU12")
    side = analyze_tab.OCCLUSION_SIDE
    assert image.shape == (side, 2 * side, 3) and image.dtype == np.uint8
    assert "AU12" in text and "Spearman rank agreement" in text
