"""explain/: targets from the topology, CAMs equal to pytorch-grad-cam's, an exactly known map,
part responses, the captum flow's completeness, occlusion, the gate and the photo mapping."""

import json

import numpy as np
import pytest
import torch
from captum.attr import LayerIntegratedGradients, Occlusion

import explain
from explain import cam, faithfulness, flow, gate, maps, occlusion, parts
from explain.explanation import explain_face
from explain.targets import TARGET_NAMES, TARGETS, TargetScores, scores, target, va_scores
from fatauva import topology
from fatauva.model import CON_NAMES, FatauvaNet
from fatauva.template import template_points, to_tensor
from tests.tiny import tiny_config

TINY = dict(core_strides=(2, 1))  # over tests.tiny: 8 x 8 branch maps at 32 px


def tiny(head_grid: int = 1, seed: int = 0) -> FatauvaNet:
    """A small model whose BN statistics are not the identity (maps with real structure)."""
    torch.manual_seed(seed)
    model = FatauvaNet(tiny_config(**TINY, head_grid=head_grid))
    with torch.no_grad():
        for m in model.modules():
            if isinstance(m, torch.nn.BatchNorm2d):
                m.running_mean.uniform_(-0.2, 0.2)
                m.running_var.uniform_(0.5, 2.0)
                m.bias.uniform_(0.0, 0.3)
    return model.eval()


@pytest.fixture(scope="module")
def x() -> torch.Tensor:
    return torch.randn(2, 3, 32, 32, generator=torch.Generator().manual_seed(1))


def test_there_is_one_target_per_head_on_the_branch_the_tables_name():
    assert len(TARGETS) == len(topology.ATTRIBUTES) + len(topology.AUS) + 2 == 26
    assert target("Smiling").branch == "part.mouth"
    assert target("AU12").branch == "au.Lip_c" and target("AU12").part == "mouth"
    assert target("AU45").branch == "au.AU45"
    assert target("arousal").branch == "va.arousal" and target("arousal").part is None
    with pytest.raises(KeyError, match="unknown target"):
        target("AU99")


def test_scores_are_log_odds_and_the_va_output(x):
    model = tiny()
    with torch.no_grad():
        out = model(x)
        s = scores(out)
    au12 = topology.AUS.index(12)
    smiling = topology.ATTRIBUTES.index("Smiling")
    torch.testing.assert_close(
        s[:, TARGET_NAMES.index("AU12")], out.au_logits[:, au12, 1] - out.au_logits[:, au12, 0]
    )
    torch.testing.assert_close(
        s[:, TARGET_NAMES.index("Smiling")],
        out.attribute_logits[:, smiling, 1] - out.attribute_logits[:, smiling, 0],
    )
    torch.testing.assert_close(s[:, -2:], out.va_logits)


# Every kind of target (attributes, AUs, valence, arousal) on every branch kind; a third of the
# 26 keeps the library's one-call-per-target cost inside the test budget.
SAMPLE = TARGETS[::3] + (target("arousal"),)


@pytest.mark.parametrize(
    "method, layer, head_grid",
    [(m, cam.BRANCH, 3) for m in cam.METHODS]
    + [("GradCAM", cam.BRANCH, 1), ("LayerCAM", "core", 1), ("LayerCAM", "core.fine", 3)],
)
def test_batched_maps_equal_the_library_target_by_target(x, method, layer, head_grid):
    model = tiny(head_grid)
    batched = cam.batched_cams(model, x, TARGETS, method, layer)
    non_blank = 0
    for t in SAMPLE:
        expected = cam.library_cam(model, x, t, method, layer)
        assert batched.maps[t.name].shape == (2, 32, 32)
        np.testing.assert_allclose(batched.maps[t.name], expected, atol=1e-5, rtol=0, err_msg=t.name)
        non_blank += int(expected.max() > 0.99)
    assert non_blank >= len(SAMPLE) // 2  # equal maps, not equally blank ones


def test_a_batch_run_in_several_passes_gives_the_maps_and_outputs_of_one(x, monkeypatch):
    model = tiny(3)
    whole = cam.batched_cams(model, x, TARGETS, "LayerCAM", "core.fine")
    monkeypatch.setattr(cam, "IMAGES_PER_PASS", 1)
    split = cam.batched_cams(model, x, TARGETS, "LayerCAM", "core.fine")
    for t in TARGETS:
        np.testing.assert_allclose(split.maps[t.name], whole.maps[t.name], atol=1e-5, rtol=0, err_msg=t.name)
    torch.testing.assert_close(split.output.au_logits, whole.output.au_logits)
    torch.testing.assert_close(split.output.features["core.fine"], whole.output.features["core.fine"])
    for t in SAMPLE[:3]:
        np.testing.assert_allclose(
            split.maps[t.name], cam.library_cam(model, x, t, "LayerCAM", "core.fine"), atol=1e-5, rtol=0
        )


@pytest.mark.parametrize("layer", [cam.BRANCH, "core.fine"])
def test_maps_leave_the_model_as_they_found_it(x, layer):
    model = tiny(3)
    before = {k: v.clone() for k, v in model.state_dict().items()}
    result = cam.batched_cams(model, x, TARGETS, "LayerCAM", layer)
    assert all(p.requires_grad and p.grad is None for p in model.parameters())
    assert not any(m._forward_hooks for m in model.modules())
    assert all(torch.equal(v, before[k]) for k, v in model.state_dict().items())
    assert all(not f.requires_grad for f in result.output.features.values())


def test_maps_are_in_the_unit_range_at_input_resolution(x):
    result = cam.batched_cams(tiny(), x, method="LayerCAM")
    for m in result.maps.values():
        assert m.dtype == np.float32 and m.min() >= 0 and m.max() <= 1 + 1e-6


def test_with_global_average_heads_gradcam_is_the_classic_cam_of_the_branch():
    """head_grid=1: d score / d map is constant over space, so GradCAM's map is the FC-weighted
    channel sum of the branch map (Zhou et al. 2016); computed here by hand from the weights."""
    model = tiny(head_grid=1)
    with torch.no_grad():
        for w in model.au_heads.weights:
            w.zero_()
        for b in model.au_heads.biases:
            b.zero_()
        j = topology.AUS.index(12)
        model.au_heads.weights[0][j, 0, 0] = 1.0  # hidden unit 0 = mean of channel 0 of Lip_c
        model.au_heads.weights[0][j, 1, 1] = -2.0  # hidden unit 1 = mean of channel 1, negated
        model.au_heads.weights[1][j, 0, 0] = 1.0
        model.au_heads.weights[1][j, 1, 1] = 1.0
        model.au_heads.weights[2][j, 0, 1] = 3.0  # logit[1] = 3 h0 + 1 h1
        model.au_heads.weights[2][j, 1, 1] = 1.0
        model.au_heads.biases[0][j, 0, 1] = 10.0  # h1 active: relu(10 - 2 mean c1) > 0
    x = torch.rand(1, 3, 32, 32, generator=torch.Generator().manual_seed(3))
    with torch.no_grad():
        lip = model(x).features["au.Lip_c"][0]
    # log-odds = 3 * mean(c0) + (10 - 2 mean(c1)) while both hidden units are active
    raw = torch.relu(3 * lip[0] - 2 * lip[1]).numpy()[None]
    expected = maps.normalise(raw, 32)
    expected = maps.normalise(expected, 32)  # the library scales twice (one layer, then the mean)
    got = cam.batched_cams(model, x, (target("AU12"),), "GradCAM").maps["AU12"][0]
    np.testing.assert_allclose(got, expected[0], atol=1e-5)


def test_a_target_on_a_branch_it_does_not_read_gets_an_empty_map(x):
    result = cam.batched_cams(tiny(), x, (target("AU12"),), "GradCAM", "au.AU1")
    assert result.maps["AU12"].max() == 0.0


def test_an_unknown_method_or_layer_is_named():
    with pytest.raises(ValueError, match="unknown CAM method"):
        cam.method_class("ScoreCAM2")
    with pytest.raises(ValueError, match="unknown layer"):
        cam.batched_cams(tiny(), torch.zeros(1, 3, 32, 32), method="GradCAM", layer="au.Nose")


def test_part_responses_are_the_normalised_channel_mean_and_name_the_branches_they_feed(x):
    model = tiny()
    with torch.no_grad():
        features = model(x).features
    responses = parts.part_responses(features, 32, index=1)
    mouth = responses["mouth"]
    assert mouth.feeds == ("Chin", "Lip_c", "Lip_u", "Mouth_au")
    assert "AU12" in mouth.aus and mouth.attributes == ("Mouth_Slightly_Open", "Smiling")
    expected = maps.normalise(features["part.mouth"][1].mean(0).numpy(), 32)
    np.testing.assert_allclose(mouth.map, expected)
    assert mouth.map.max() > 0.99 and mouth.map.min() < 0.01


def test_au_to_va_flow_is_complete_within_five_percent_at_the_default_steps():
    model = tiny(seed=2)
    x = torch.randn(1, 3, 32, 32, generator=torch.Generator().manual_seed(4))
    with torch.no_grad():
        features = model(x).features
    result = flow.au_to_va(model, features)  # flow.N_STEPS, what explain_face uses
    assert set(result["valence"].contributions) == set(topology.CON_VAL)
    assert set(result["arousal"].contributions) == set(topology.CON_ARO)
    with torch.no_grad():
        va = model(x).va_logits[0]
    for i, name in enumerate(topology.VA_TARGETS):
        f = result[name]
        assert f.output == pytest.approx(float(va[i]), abs=1e-5)
        change = f.output - f.baseline
        assert abs(change) > 1e-3  # a real change to attribute
        assert abs(sum(f.contributions.values()) - change) <= 0.05 * abs(change)
        assert f.completeness_error <= 0.05
    # the check is not loose: two interpolation steps miss completeness on this model
    coarse = flow.au_to_va(model, features, n_steps=2)
    assert max(f.completeness_error for f in coarse.values()) > 0.05


def test_au_to_va_equals_captums_layer_integrated_gradients_on_the_con_taps():
    # au_to_va integrates over the V-A layer's inputs; the con taps are identities there, so
    # LayerIntegratedGradients on the taps (the issue's suggested form) must give the same numbers.
    model = tiny(seed=2)
    x = torch.randn(1, 3, 32, 32, generator=torch.Generator().manual_seed(4))
    with torch.no_grad():
        features = model(x).features
    result = flow.au_to_va(model, features, n_steps=16)
    cons = tuple(features[name] for name in CON_NAMES)

    def va_sum(*inputs):
        logits = model.va_logits_from_inputs(dict(zip(topology.VA_TARGETS, inputs, strict=True)))
        return va_scores(logits, model.config.va_head).sum(dim=1)

    for name in topology.VA_TARGETS:
        with torch.enable_grad():
            per_tap = LayerIntegratedGradients(va_sum, model.con_taps[name]).attribute(
                cons, baselines=tuple(torch.zeros_like(c) for c in cons), n_steps=16
            )
        sources = model.va_groups[name]
        slices = per_tap[0].sum(dim=(1, 2)).chunk(len(sources))
        for source, block in zip(sources, slices, strict=True):
            branch = source.split(".", 1)[1]
            assert result[name].contributions[branch] == pytest.approx(float(block.sum()), abs=1e-6)


def test_parts_to_aus_equals_captums_integrated_gradients():
    model = tiny(seed=2)
    x = torch.randn(1, 3, 32, 32, generator=torch.Generator().manual_seed(4))
    with torch.no_grad():
        features = model(x).features
    exact = flow.parts_to_aus(model, features)
    integrated = flow.parts_to_aus_integrated(model, features, n_steps=64)
    assert exact["AU12"].part == "mouth" and exact["AU12"].branch == "Lip_c"
    for key, f in exact.items():
        assert f.contribution == pytest.approx(f.output - f.baseline)
        assert integrated[key] == pytest.approx(f.contribution, abs=0.05 * abs(f.contribution) + 1e-3), key


def test_flow_edges_run_parts_to_au_branches_to_va():
    model = tiny()
    with torch.no_grad():
        features = model(torch.randn(1, 3, 32, 32)).features
    edges = flow.flow(model, features, n_steps=8).edges()
    sources = {(s, d) for s, d, _ in edges}
    assert ("part.mouth", "au.Lip_c") in sources and ("au.Lip_c", "va.valence") in sources
    assert ("au.Lip_c", "va.arousal") not in sources  # Lip_c is not in Con_Aro (§3.3)
    assert len(edges) == len(topology.AU_BRANCHES) + len(topology.CON_VAL) + len(topology.CON_ARO)
    bare = flow.flow(model, features, n_steps=8).edges(prefixed=False)
    assert [(s.split(".")[-1], d.split(".")[-1], w) for s, d, w in edges] == bare
    assert ("mouth", "Lip_c") in {(s, d) for s, d, _ in bare}


class TopLeft(FatauvaNet):
    """AU12's log-odds is 100 x the mean of the input's top-left quarter (hand-set), so exactly
    those pixels carry it."""

    def forward(self, x):
        out = super().forward(x)
        out.au_logits = out.au_logits.clone()
        out.au_logits[:, topology.AUS.index(12), 1] = x[:, :, :16, :16].mean(dim=(1, 2, 3)) * 100
        out.au_logits[:, topology.AUS.index(12), 0] = 0
        return out


def test_occlusion_finds_the_only_pixels_a_target_reads():
    """Occlusion marks the quarter AU12 reads, and a map equal to it ranks perfectly."""
    model = TopLeft(tiny_config(**TINY)).eval()
    x = torch.ones(1, 3, 32, 32)
    ref = occlusion.occlusion_map(model, x, target("AU12"), window=8, stride=8)
    assert ref[:16, :16].min() > 0.99 and ref[16:, :].max() == 0 and ref[:, 16:].max() == 0
    assert occlusion.rank_agreement(ref, ref) == pytest.approx(1.0)
    assert occlusion.rank_agreement(ref, ref[::-1, ::-1]) < 0


def test_one_occlusion_sweep_equals_captum_target_by_target():
    model = tiny(head_grid=3)
    x = torch.randn(1, 3, 32, 32, generator=torch.Generator().manual_seed(5))
    every = occlusion.occlusion_maps(model, x, window=8, stride=4)
    assert set(every) == set(TARGET_NAMES)
    for t in SAMPLE:
        with torch.no_grad():
            one = Occlusion(TargetScores(model)).attribute(
                x,
                sliding_window_shapes=(3, 8, 8),
                strides=(3, 4, 4),
                baselines=0.0,
                target=TARGETS.index(t),
                perturbations_per_eval=16,
            )
        np.testing.assert_allclose(every[t.name], maps.normalise(one[0].sum(0).numpy(), 32), atol=1e-6)
    assert len({m.tobytes() for m in every.values()}) > len(TARGETS) // 2  # one map per target


def test_pointing_game_and_energy_in_region_on_a_hand_made_map():
    region = np.zeros((8, 8), bool)
    region[:4, :4] = True
    cam_map = np.zeros((8, 8), np.float32)
    cam_map[1, 1], cam_map[6, 6] = 1.0, 0.5
    assert faithfulness.pointing_hit(cam_map, region)
    assert not faithfulness.pointing_hit(cam_map[::-1, ::-1], region)
    assert faithfulness.energy_in(cam_map, region) == pytest.approx(1.0 / 1.5)
    assert faithfulness.energy_in(np.zeros((8, 8)), region) == 0.0


def test_deletion_by_the_right_map_falls_faster_than_random_order():
    """On TopLeft, greying the top-left quarter first kills AU12 at once; greying it last
    leaves AU12 alive longer than the random order does."""
    model = TopLeft(tiny_config(**TINY)).eval()
    x = torch.full((1, 3, 32, 32), 0.05)  # AU12 log-odds +5 while the quarter is intact
    right = np.zeros((32, 32), np.float32)
    right[:16, :16] = 1.0
    rng = np.random.default_rng(0)
    good, random_order = faithfulness.deletion_curves(model, x, right, target("AU12"), rng)
    bad, _ = faithfulness.deletion_curves(model, x, 1.0 - right, target("AU12"), rng)
    assert good < random_order < bad


def test_the_summary_has_the_keys_the_issue_names_with_mean_and_min_over_aus():
    rows = {t.name: {"randomisation_rho": 0.1} for t in TARGETS}
    for k, name in enumerate(topology.AU_KEYS):
        rows[name].update(
            pointing_game=k / 13, energy_in_region=0.5, deletion_auc=0.2, deletion_auc_random=0.3 - (k == 0)
        )
    for a in topology.ATTRIBUTES:
        rows[a].update(pointing_game=1.0, energy_in_region=0.7, deletion_auc=0.2, deletion_auc_random=0.3)
    gradcam = {name: [True, False] for name in topology.AU_KEYS}
    parts_hit = {p: [True] for p in topology.PARTS}
    summary = faithfulness._summary(rows, gradcam, parts_hit)
    assert summary["pointing_game_mean"] == pytest.approx(0.5)
    assert summary["pointing_game_min"] == 0.0
    assert summary["pointing_game_gradcam_branch_mean"] == pytest.approx(0.5)
    assert summary["pointing_game.AU12"] == pytest.approx(topology.AU_KEYS.index("AU12") / 13)
    assert summary["energy_in_region_mean"] == pytest.approx(0.5)
    assert summary["deletion_below_random_aus"] == len(topology.AU_KEYS) - 1
    assert summary["randomisation_check_passed"] == 1.0
    assert summary["energy_in_region.part.mouth"] == pytest.approx(0.7)
    rows["valence"]["randomisation_rho"] = 0.9
    assert faithfulness._summary(rows, gradcam, parts_hit)["randomisation_check_passed"] == 0.0


def test_landmark_regions_cover_the_mouth_and_eyes_they_are_cut_from():
    points = np.zeros((68, 2), np.float32)
    points[36:42] = [[30, 40], [34, 37], [38, 37], [42, 40], [38, 43], [34, 43]]  # left eye
    points[42:48] = points[36:42] + [40, 0]  # right eye
    angles = np.linspace(0, 2 * np.pi, 20, endpoint=False)
    points[48:68] = np.stack([56 + 14 * np.cos(angles), 80 + 6 * np.sin(angles)], 1)  # mouth
    regions = faithfulness.landmark_regions(points, 112)
    assert regions["mouth"][80, 56] and regions["mouth"][80, 69] and not regions["mouth"][40, 36]
    assert regions["eyes"][40, 36] and regions["eyes"][40, 76] and not regions["eyes"][80, 56]
    assert not regions["mouth"][80, 80]  # grown by a margin, not without bound


REALFACES = faithfulness.DEFAULT_REAL  # where the check reads the real photos (evaluation only)


@pytest.mark.skipif(not REALFACES.is_dir(), reason=f"real photos not found at {REALFACES}")
def test_the_real_photo_check_scores_each_face_against_the_chance_of_its_region(tmp_path):
    # Two smiling London test photos and one file that is not an image, listed as the check reads them.
    (tmp_path / "labels").mkdir()
    (tmp_path / "broken.jpg").write_bytes(b"not a jpeg")
    rows = ["file,smile,split"]
    rows += [f"{REALFACES / 'images' / 'london_smiling' / n},1,test" for n in ("083_08.jpg", "086_08.jpg")]
    rows += ["broken.jpg,1,test", f"{REALFACES / 'images' / 'london_smiling' / '001_08.jpg'},1,dev"]
    (tmp_path / "labels" / "london_faces.csv").write_text("\n".join(rows) + "\n")
    model = tiny()
    out = faithfulness.real(model, tmp_path, "LayerCAM", "branch")
    assert out["real_n_faces"] == 2.0  # the broken file is skipped, the dev photo not read
    for region in ("mouth", "eyes"):  # a mouth or the two eyes: a small part of a face crop
        assert 0.02 < out[f"real_{region}_share"] < 0.3
    for name, region in faithfulness.REAL_TARGETS.items():
        key = f"real_{name.lower()}_{region}"
        assert 0.0 <= out[f"{key}_energy"] <= 1.0
        assert out[f"{key}_pointing"] in (0.0, 0.5, 1.0)  # a hit or a miss on each of the two faces


def test_the_package_exports_the_api_the_app_uses():
    for name in ("explain_face", "batched_cams", "METHODS", "TARGETS", "part_responses", "verdicts"):
        assert hasattr(explain, name), name
    assert explain.explain_face is explain_face
    assert callable(explain.flow.flow) and callable(explain.occlusion.occlusion_map)  # modules stay modules


def test_maps_land_on_the_photo_where_the_crop_came_from():
    """A photo whose face sits at twice the template scale, shifted: the crop's centre pixel maps
    to the matching photo pixel."""
    size = 32
    landmarks = template_points(size) * 2 + np.array([10.0, 20.0], np.float32)
    crop_map = np.zeros((size, size), np.float32)
    crop_map[16, 16] = 1.0
    on_photo = maps.to_photo(crop_map, landmarks, (100, 120, 3))
    y, x = np.unravel_index(np.argmax(on_photo), on_photo.shape)
    assert on_photo.shape == (100, 120)
    assert abs(x - (2 * 16 + 10 + 0.5)) <= 1.5 and abs(y - (2 * 16 + 20 + 0.5)) <= 1.5
    assert on_photo[0, 0] == 0.0 and on_photo[99, 119] == 0.0
    same, inside = maps.to_photo_with_footprint(crop_map, landmarks, (100, 120, 3))
    np.testing.assert_array_equal(same, on_photo)
    np.testing.assert_array_equal(inside, maps.to_photo(np.ones_like(crop_map), landmarks, (100, 120)) > 0.5)
    assert inside[20 + 2 * 16, 10 + 2 * 16] and not inside[0, 0] and not inside[99, 119]


def test_overlays_are_rgb_uint8_images_of_the_crop_size():
    crop = np.full((32, 32, 3), 128, np.uint8)
    out = maps.overlay(crop, np.linspace(0, 1, 32 * 32, dtype=np.float32).reshape(32, 32))
    assert out.shape == (32, 32, 3) and out.dtype == np.uint8
    assert out[31, 31, 0] > out[31, 31, 2]  # hot end of the jet colour map is red in RGB


def test_the_gate_marks_failed_targets_and_leaves_other_methods_unchecked(tmp_path):
    rows = {
        "AU12": {
            "pointing_game": 0.9,
            "deletion_auc": 0.2,
            "deletion_auc_random": 0.5,
            "randomisation_rho": 0.1,
        },
        "AU01": {
            "pointing_game": 0.5,
            "deletion_auc": 0.2,
            "deletion_auc_random": 0.5,
            "randomisation_rho": 0.1,
        },
        "valence": {"randomisation_rho": 0.9},
    }
    record = {"method": "LayerCAM", "layer": "branch", "targets": {}}
    for name, row in rows.items():
        record["targets"][name] = {**row, "passed": gate.passes(row, target(name).kind)}
    path = tmp_path / "metrics.json"
    path.write_text(json.dumps({"synthfacs_test": {"aus": 1}}))
    gate.merge_into_metrics(path, record)
    metrics = json.loads(path.read_text())
    assert metrics["synthfacs_test"] == {"aus": 1}
    assert gate.verdicts(metrics, "layercam", "branch") == {"AU12": True, "AU01": False, "valence": False}
    assert set(gate.verdicts(metrics, "GradCAM", "branch").values()) == {None}
    assert gate.verdicts({}, "LayerCAM", "branch") == {}
    # a second choice's record sits beside the default one, each choice reads its own
    other = {**record, "method": "HiResCAM", "layer": "core.fine", "targets": {"AU12": {"passed": False}}}
    gate.merge_into_metrics(path, other, default=False)
    metrics = json.loads(path.read_text())
    assert metrics["faithfulness"] == record and metrics["faithfulness (HiResCAM on core.fine)"] == other
    assert gate.verdicts(metrics, "HiResCAM", "core.fine") == {"AU12": False}
    assert gate.verdicts(metrics, "layercam", "branch")["AU12"] is True
    assert [r["method"] for r in gate.records(metrics)] == ["LayerCAM", "HiResCAM"]


def test_explain_face_gives_every_map_part_response_flow_and_verdict():
    model = tiny()
    crop = np.random.default_rng(0).integers(0, 255, (32, 32, 3), dtype=np.uint8)
    metrics = {
        "faithfulness": {"method": "LayerCAM", "layer": "core.fine", "targets": {"AU12": {"passed": False}}}
    }
    e = explain_face(model, crop, method="layercam", metrics=metrics, flow_steps=8)
    assert e.method == "LayerCAM" and set(e.maps) == set(TARGET_NAMES)
    assert e.layers["AU12"] == "core.fine" and e.passed["AU12"] is False and e.passed["AU01"] is None
    on_branch = explain_face(model, crop, method="layercam", layer=cam.BRANCH, metrics=metrics, flow_steps=8)
    assert on_branch.layers["AU12"] == "au.Lip_c" and on_branch.passed["AU12"] is None  # not checked there
    assert set(e.parts) == set(topology.PARTS) and set(e.flow.aus) == set(topology.AU_KEYS)
    with torch.no_grad():
        expected = scores(model(to_tensor(crop)))[0]
    assert e.scores["AU12"] == pytest.approx(float(expected[TARGET_NAMES.index("AU12")]), abs=1e-5)
    assert e.overlay("AU12").shape == (32, 32, 3)
