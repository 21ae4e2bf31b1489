"""demo.explanations draws the explain layer's maps and flow: maps land where they belong, on the
crop and back on the photo, failed targets are marked, the Sankey keeps parts -> AUs -> V-A."""

import numpy as np
import pytest

from demo import explanations
from demo.explanations import FAILED_MARK, FaceMap, flow_sankey, gallery, heat_on_photo, heat_over
from fatauva.faces import align_face
from fatauva.template import template_points

SIZE = 112


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


def test_gallery_shows_each_map_on_crop_and_photo_and_marks_failed_targets():
    crop = np.zeros((SIZE, SIZE, 3), np.uint8)
    photo = np.zeros((200, 200, 3), np.uint8)
    landmarks = template_points(SIZE) + 40
    maps = [
        FaceMap("AU12", "au.Lip_c", np.ones((14, 14), np.float32)),
        FaceMap("Smiling", "part.mouth", np.zeros((28, 28), np.float32), failed=True),
    ]
    items = gallery(crop, photo, landmarks, maps)
    assert [caption for _, caption in items] == [
        "AU12 · au.Lip_c · crop",
        "AU12 · au.Lip_c · photo",
        f"Smiling · part.mouth · {FAILED_MARK} · crop",
        f"Smiling · part.mouth · {FAILED_MARK} · photo",
    ]
    assert items[0][0].shape == crop.shape and items[1][0].shape == photo.shape


def test_sankey_orders_parts_then_au_branches_then_va_and_widths_are_magnitudes():
    flows = [("Lip_c", "valence", 0.6), ("mouth", "Lip_c", 1.0)]
    flows += [("AU4", "valence", -0.3), ("eyebrows", "AU4", 0.5)]
    fig = flow_sankey(flows)
    sankey = fig.data[0]
    assert list(sankey.node.label) == ["eyebrows", "mouth", "AU4", "Lip_c", "valence"]
    assert list(sankey.link.value) == [0.6, 1.0, 0.3, 0.5]
    assert sankey.link.color[2] != sankey.link.color[0]  # a negative push is drawn in another colour


def test_available_says_why_when_the_explain_layer_has_no_entry(monkeypatch):
    import explain

    if hasattr(explain, "explain_face"):
        assert explanations.available() is None
        monkeypatch.delattr(explain, "explain_face")
    assert "explain_face" in explanations.available()


@pytest.mark.parametrize("bad", [np.full((SIZE, SIZE), 2.0), np.full((SIZE, SIZE), -1.0)])
def test_maps_outside_zero_one_are_clipped_not_wrapped(bad):
    image = np.full((SIZE, SIZE, 3), 128, np.uint8)
    edge = 1.0 if bad[0, 0] > 1 else 0.0
    np.testing.assert_array_equal(heat_over(image, bad), heat_over(image, np.full((SIZE, SIZE), edge)))
