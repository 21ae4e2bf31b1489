"""demo.explanations draws the explain layer's maps and flow: maps land where they belong, on the
crop and back on the photo, the galleries put each part response beside the AU maps it feeds,
failed targets are marked and unchecked ones say so, the Sankey keeps parts -> AUs -> V-A, and the
numbers and maps the API returns are the explanation's."""

import base64
import json

import cv2
import numpy as np
import pytest
import torch

from demo import explanations
from demo.explanations import (
    FAILED,
    FAILED_MARK,
    NOT_CHECKED,
    PASSED,
    FaceMap,
    flow_sankey,
    gallery,
    heat_on_photo,
    heat_over,
)
from fatauva import topology
from fatauva.analyze import Prediction
from fatauva.faces import FaceBox, align_face
from fatauva.model import FatauvaNet
from fatauva.template import template_points
from tests.tiny import tiny_config

SIZE = 112


@pytest.fixture(scope="module")
def tiny_explanation():
    """explain_face on a tiny untrained model and a random 32 px crop: every field real."""
    from explain.explanation import explain_face

    torch.manual_seed(0)
    model = FatauvaNet(tiny_config()).eval()
    crop = np.random.default_rng(0).integers(0, 255, (32, 32, 3), dtype=np.uint8)
    return explain_face(model, crop, flow_steps=8)


def record(failed: set[str], method: str = "LayerCAM", layer: str = "branch") -> dict:
    """A metrics.json whose faithfulness record (explain.gate's layout) fails `failed`."""
    targets = {name: {"passed": name not in failed} for name in explanations.TARGET_NAMES}
    return {"faithfulness": {"method": method, "layer": layer, "targets": targets}}


def test_the_dropdowns_offer_the_explain_layers_own_methods_defaults_and_targets():
    from explain.cam import BRANCH, METHODS
    from explain.explanation import DEFAULT_LAYER, DEFAULT_METHOD
    from explain.targets import TARGET_NAMES

    assert explanations.METHODS == tuple(METHODS)
    assert explanations.DEFAULT_METHOD == DEFAULT_METHOD and explanations.BRANCH == BRANCH
    assert explanations.DEFAULT_LAYER == DEFAULT_LAYER
    assert explanations.TARGET_NAMES == TARGET_NAMES


def test_heat_over_colours_only_where_the_map_is_hot():
    image = np.full((SIZE, SIZE, 3), 128, np.uint8)
    heat = np.zeros((SIZE, SIZE), np.float32)
    heat[:, SIZE // 2 :] = 1.0
    out = heat_over(image, heat)
    cold, hot = out[:, : SIZE // 4].reshape(-1, 3).mean(0), out[:, -SIZE // 4 :].reshape(-1, 3).mean(0)
    assert hot[0] > cold[0] + 50  # JET is red at 1 and blue at 0
    assert cold[2] > hot[2]


def test_a_map_on_the_photo_lands_where_the_crop_came_from():
    photo = np.full((300, 400, 3), 100, np.uint8)
    # A face whose template landmarks sit at scale 2 around (200, 150): the crop covers 224 x 224 px.
    landmarks = template_points(SIZE) * 2 + np.array([200 - SIZE, 150 - SIZE], np.float32)
    heat = np.zeros((SIZE, SIZE), np.float32)
    heat[80:100, 40:70] = 1.0  # the mouth region of the crop
    out = heat_on_photo(photo, heat, landmarks, SIZE)
    changed = np.abs(out.astype(int) - photo.astype(int)).sum(axis=2) > 30
    ys, xs = np.nonzero(out[..., 0].astype(int) > out[..., 2].astype(int) + 20)  # JET: red at 1, blue at 0
    assert 200 - SIZE + 80 <= xs.mean() <= 200 - SIZE + 140  # x of the hot box, doubled
    assert 150 - SIZE + 160 <= ys.mean() <= 150 - SIZE + 200
    assert not changed[:20].any()  # outside the crop's footprint the photo is untouched


def test_photo_and_crop_agree_through_the_alignment():
    rng = np.random.default_rng(0)
    photo = rng.integers(0, 255, (300, 400, 3), dtype=np.uint8)
    landmarks = template_points(SIZE) * 1.5 + np.array([120, 60], np.float32)
    crop = align_face(photo, landmarks, SIZE)
    heat = np.ones((SIZE, SIZE), np.float32)
    back = heat_on_photo(photo, heat, landmarks, SIZE)
    on_crop = align_face(back, landmarks, SIZE)
    np.testing.assert_allclose(on_crop[10:-10, 10:-10], heat_over(crop, heat)[10:-10, 10:-10], atol=40)


def test_the_photo_window_is_the_photo_around_the_face_with_its_landmarks_moved_along():
    rng = np.random.default_rng(1)
    photo = cv2.resize(rng.integers(0, 255, (75, 100, 3), dtype=np.uint8), (2000, 1500))  # smooth
    landmarks = template_points(SIZE) * 3 + np.array([900, 700], np.float32)
    face = FaceBox(900, 700, 900 + 3 * SIZE, 700 + 3 * SIZE, 1.0, landmarks)
    pred = Prediction(face, align_face(photo, landmarks, SIZE), {}, {}, 0.0, 0.0)
    window, moved = explanations.photo_window(photo, pred)
    assert max(window.shape[:2]) == explanations.PHOTO_SIDE  # 12 MP never drawn whole
    again = align_face(window, moved, SIZE)  # the same face cut from the window
    assert np.abs(again[20:-20, 20:-20].astype(int) - pred.crop[20:-20, 20:-20]).mean() < 8
    edge = FaceBox(0, 0, 100, 100, 1.0, template_points(SIZE) * 0.9)  # a face in the corner
    corner, _ = explanations.photo_window(photo, Prediction(edge, pred.crop, {}, {}, 0.0, 0.0))
    assert corner.shape[0] == corner.shape[1] == explanations.PHOTO_SIDE  # kept inside the photo


def test_gallery_shows_each_map_on_crop_and_photo_and_marks_each_verdict():
    crop = np.zeros((SIZE, SIZE, 3), np.uint8)
    photo = np.zeros((200, 200, 3), np.uint8)
    landmarks = template_points(SIZE) + 40
    maps = [
        FaceMap("mouth response", "part.mouth", np.ones((14, 14), np.float32)),
        FaceMap("AU12", "au.Lip_c", np.ones((14, 14), np.float32), PASSED),
        FaceMap("Smiling", "part.mouth", np.zeros((28, 28), np.float32), FAILED),
        FaceMap("valence", "va.valence", np.zeros((28, 28), np.float32), NOT_CHECKED),
    ]
    items = gallery(crop, photo, landmarks, maps)
    assert [caption for _, caption in items] == [
        "mouth response · part.mouth · crop",
        "mouth response · part.mouth · photo",
        "AU12 · au.Lip_c · ✓ faithful · crop",
        "AU12 · au.Lip_c · ✓ faithful · photo",
        f"Smiling · part.mouth · {FAILED_MARK} · crop",
        f"Smiling · part.mouth · {FAILED_MARK} · photo",
        "valence · va.valence · faithfulness not checked · crop",
        "valence · va.valence · faithfulness not checked · photo",
    ]
    assert items[0][0].shape == crop.shape and items[1][0].shape == photo.shape
    assert [m.failed for m in maps] == [False, False, True, False]


def test_each_part_response_leads_the_maps_of_the_au_branches_it_feeds(tiny_explanation):
    groups = explanations.face_maps(tiny_explanation)
    assert list(groups) == list(explanations.GROUPS)
    mouth = [m.target for m in groups["mouth"]]
    assert mouth[0] == "mouth response"
    feeds = [topology.au_key(a) for b in topology.AU_BRANCHES if b.part == "mouth" for a in b.aus]
    assert mouth[1 : 1 + len(feeds)] == feeds  # Chin, Lip_c, Lip_u, Mouth_au's AUs (Table 3)
    assert mouth[1 + len(feeds) :] == list(topology.PART_ATTRIBUTES["mouth"])
    assert [m.target for m in groups["face"]][1:] == list(topology.PART_ATTRIBUTES["face"])  # no AUs
    assert [m.target for m in groups[explanations.VA_GROUP]] == list(topology.VA_TARGETS)
    shown = [m.target for ms in groups.values() for m in ms if not m.target.endswith(" response")]
    assert sorted(shown) == sorted(explanations.TARGET_NAMES)  # every target once
    au12 = next(m for m in groups["mouth"] if m.target == "AU12")
    np.testing.assert_array_equal(au12.heat, tiny_explanation.maps["AU12"])
    assert au12.branch == "au.Lip_c" and au12.verdict == NOT_CHECKED  # no metrics: not checked
    np.testing.assert_array_equal(groups["mouth"][0].heat, tiny_explanation.parts["mouth"].map)
    assert groups["mouth"][0].verdict is None  # part responses are not gated


def test_the_faithfulness_line_never_calls_an_unchecked_map_passed():
    none = {name: None for name in explanations.TARGET_NAMES}
    assert "not checked" in explanations.faithfulness_status({}, "LayerCAM", "branch", none)
    other = explanations.faithfulness_status(record(set(), "HiResCAM"), "LayerCAM", "branch", none)
    assert "not checked for LayerCAM" in other and "HiResCAM on branch" in other
    verdicts = {name: name != "AU12" for name in explanations.TARGET_NAMES}
    line = explanations.faithfulness_status(record({"AU12"}), "LayerCAM", "branch", verdicts)
    assert "25 of 26 targets passed" in line and "AU12" in line and FAILED_MARK in line


def test_a_failed_target_is_marked_on_its_map(tiny_explanation):
    from explain.gate import verdicts

    passed = verdicts(record({"AU12", "valence"}), tiny_explanation.method, "branch")
    marked = explanations.face_maps(type(tiny_explanation)(**{**vars(tiny_explanation), "passed": passed}))
    failed = {m.target for ms in marked.values() for m in ms if m.failed}
    assert failed == {"AU12", "valence"}


def test_sankey_orders_parts_then_au_branches_then_va_and_widths_are_shares_of_each_stage():
    flows = [("Lip_c", "valence", 0.6), ("mouth", "Lip_c", 1.0)]
    flows += [("AU4", "valence", -0.2), ("eyebrows", "AU4", 3.0)]
    sankey = flow_sankey(flows).data[0]
    assert list(sankey.node.label) == ["eyebrows", "mouth", "AU4 (AU04)", "Lip_c (AU12 AU15)", "valence"]
    assert list(sankey.node.x) == [0.001, 0.001, 0.5, 0.5, 0.999]  # parts | AU branches | V-A
    lip_u = flow_sankey([("mouth", "Lip_u", 1.0), ("Lip_c", "valence", 0.5)]).data[0]
    assert lip_u.node.x[list(lip_u.node.label).index("Lip_u (AU10)")] == 0.5  # feeds no V-A: no sink
    # part -> AU in log-odds and AU -> V-A in V-A units: each stage's widths sum to one
    assert list(sankey.link.value) == pytest.approx([0.75, 0.25, 0.25, 0.75])
    assert sankey.link.color[2] != sankey.link.color[0]  # a negative push is drawn in another colour
    assert list(sankey.link.customdata) == [
        "+0.600 V-A output",
        "+1.000 AU log-odds",
        "-0.200 V-A output",
        "+3.000 AU log-odds",
    ]


def test_the_flow_drawn_is_the_explanations_flow(tiny_explanation):
    links = explanations.flow_links(tiny_explanation.flow)
    assert len(links) == len(tiny_explanation.flow.edges())
    assert {s for s, _, _ in links} <= set(topology.PARTS) | set(topology.AU_BRANCH_NAMES)
    assert {d for _, d, _ in links} <= set(topology.AU_BRANCH_NAMES) | set(topology.VA_TARGETS)
    valence = sum(w for _, d, w in links if d == "valence")
    assert valence == pytest.approx(sum(tiny_explanation.flow.va["valence"].contributions.values()))


def test_explanation_numbers_are_json_with_the_flow_and_a_verdict_per_map(tiny_explanation):
    numbers = json.loads(json.dumps(explanations.explanation_numbers(tiny_explanation)))
    assert set(numbers["verdicts"]) == set(explanations.TARGET_NAMES)
    assert set(numbers["verdicts"].values()) == {NOT_CHECKED}
    au12 = numbers["flow"]["parts_to_aus"]["AU12"]
    assert au12["part"] == "mouth" and au12["branch"] == "Lip_c"
    assert au12["attribution"] == pytest.approx(tiny_explanation.flow.aus["AU12"].contribution)
    va = numbers["flow"]["aus_to_va"]["arousal"]
    assert set(va["attributions"]) == set(topology.CON_ARO)
    assert va["completeness_error"] == pytest.approx(tiny_explanation.flow.va["arousal"].completeness_error)
    assert numbers["method"] == "LayerCAM" and numbers["layers"]["AU12"] == "core.fine"  # the default layer


def test_the_api_maps_decode_to_the_explanations_maps(tiny_explanation):
    crop = tiny_explanation.crop
    landmarks = template_points(32) + 10
    pred = Prediction(FaceBox(0, 0, 50, 50, 1.0, landmarks), crop, {}, {}, 0.0, 0.0)
    answer = json.loads(json.dumps(explanations.api_explanation(tiny_explanation, pred)))

    def decode(text: str) -> np.ndarray:
        return cv2.imdecode(np.frombuffer(base64.b64decode(text), np.uint8), cv2.IMREAD_UNCHANGED)

    assert set(answer["maps"]) == set(explanations.TARGET_NAMES)
    for name, entry in answer["maps"].items():
        np.testing.assert_allclose(
            decode(entry["png"]) / 255, tiny_explanation.maps[name], atol=0.5 / 255 + 1e-6
        )
    mouth = answer["part_responses"]["mouth"]
    assert mouth["feeds"] == ["Chin", "Lip_c", "Lip_u", "Mouth_au"]
    np.testing.assert_allclose(
        decode(mouth["png"]) / 255, tiny_explanation.parts["mouth"].map, atol=0.51 / 255
    )
    np.testing.assert_array_equal(decode(answer["crop_png"])[..., ::-1], crop)
    np.testing.assert_allclose(answer["landmarks"], landmarks)


@pytest.mark.parametrize("bad", [np.full((SIZE, SIZE), 2.0), np.full((SIZE, SIZE), -1.0)])
def test_maps_outside_zero_one_are_clipped_not_wrapped(bad):
    image = np.full((SIZE, SIZE, 3), 128, np.uint8)
    edge = 1.0 if bad[0, 0] > 1 else 0.0
    np.testing.assert_array_equal(heat_over(image, bad), heat_over(image, np.full((SIZE, SIZE), edge)))
