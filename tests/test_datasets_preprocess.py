"""Real-photo preprocessing: crop routing, the crop cache, failures counted not fatal."""

from pathlib import Path

import cv2
import numpy as np
import pytest

from fatauva import faces
from fatauva.template import template_points
from train.preprocess import CropCache, crop_box, default_crop, load_rgb, prepare_crops

REALFACES = Path(__file__).resolve().parents[1].parent / "shared" / "realfaces" / "images"


def write_images(folder: Path, n: int) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for k in range(n):
        path = folder / f"{k}.png"
        cv2.imwrite(str(path), np.full((20, 30, 3), 10 * k, np.uint8))
        paths.append(path)
    return paths


class CountingCrop:
    """A crop function without a detector: resizes the image; images of index `faceless` have no face.

    `write_images` fills image k with the grey level 10 k, which is how an image is recognised.
    """

    def __init__(self, faceless: tuple[int, ...] = ()):
        self.faceless = faceless
        self.calls = 0

    def __call__(self, image, landmarks, box, size):
        self.calls += 1
        if int(image[0, 0, 0]) // 10 in self.faceless:
            return None
        return cv2.resize(image, (size, size))


def test_crops_are_made_once_and_reused(tmp_path):
    sources = write_images(tmp_path / "img", 3)
    cache = CropCache(tmp_path / "cache", 16)
    crop = CountingCrop()
    first = prepare_crops(sources, cache, crop, progress=False)
    second = prepare_crops(sources, cache, crop, progress=False)
    assert (first.cropped, first.reused) == (3, 0)
    assert (second.cropped, second.reused) == (0, 3)
    assert crop.calls == 3 and second.kept.all()


def test_cached_crop_round_trips_exactly(tmp_path):
    source = write_images(tmp_path / "img", 2)[1]
    cache = CropCache(tmp_path / "cache", 16)
    crop = np.random.default_rng(0).integers(0, 256, (16, 16, 3), dtype=np.uint8)
    cache.save(source, crop)
    assert np.array_equal(cache.load(source), crop)


def test_faces_not_found_are_recorded_skipped_counted_and_not_retried(tmp_path):
    sources = write_images(tmp_path / "img", 3)
    cache = CropCache(tmp_path / "cache", 16)
    crop = CountingCrop(faceless=(1,))
    report = prepare_crops(sources, cache, crop, progress=False)
    again = prepare_crops(sources, cache, crop, progress=False)
    assert report.kept.tolist() == [True, False, True]
    assert report.failed == [(str(sources[1]), "no face found")]
    assert again.failed == report.failed and crop.calls == 3
    assert "3 images: 0 crops reused, 2 cropped, 1 skipped" in report.summary()


def test_an_unreadable_image_is_a_counted_failure(tmp_path):
    sources = write_images(tmp_path / "img", 2)
    sources[0].write_bytes(b"not a png")
    report = prepare_crops(sources, CropCache(tmp_path / "cache", 16), CountingCrop(), progress=False)
    assert report.failed == [(str(sources[0]), "unreadable image")] and report.kept.tolist() == [False, True]


def test_cache_folders_differ_by_crop_size(tmp_path):
    assert CropCache(tmp_path, 112).folder != CropCache(tmp_path, 96).folder
    assert CropCache(tmp_path, 112).folder.name.startswith("s112-t")


def test_a_crop_of_the_wrong_size_is_refused(tmp_path):
    source = write_images(tmp_path / "img", 1)[0]
    with pytest.raises(
        ValueError, match=r"crop of .*0.png is uint8 \(8, 8, 3\), expected uint8 \(16, 16, 3\)"
    ):
        CropCache(tmp_path / "cache", 16).save(source, np.zeros((8, 8, 3), np.uint8))


def test_landmarks_and_boxes_reach_the_crop_function(tmp_path):
    sources = write_images(tmp_path / "img", 2)
    seen = []

    def crop(image, landmarks, box, size):
        seen.append((landmarks, box))
        return np.zeros((size, size, 3), np.uint8)

    landmarks = np.full((2, 5, 2), np.nan, np.float32)
    landmarks[0] = template_points(30)
    boxes = np.array([[np.nan] * 4, [1, 2, 3, 4]], np.float32)
    prepare_crops(
        sources, CropCache(tmp_path / "c", 8), crop, landmarks=landmarks, boxes=boxes, progress=False
    )
    assert np.array_equal(seen[0][0], template_points(30)) and seen[0][1] is None
    assert seen[1][0] is None and seen[1][1].tolist() == [1, 2, 3, 4]


def test_crop_box_grows_the_box_and_replicates_the_edge_outside_the_image():
    image = np.arange(10 * 10 * 3, dtype=np.uint8).reshape(10, 10, 3)
    region = crop_box(image, np.array([0, 0, 4, 4]), 0.5)  # grows to x, y in [-2, 6)
    assert region.shape == (8, 8, 3)
    assert np.array_equal(region[2:, 2:], image[:6, :6])
    assert np.array_equal(region[0, 2:], image[0, :6])  # rows above the image repeat row 0


def test_default_crop_aligns_given_landmarks_without_the_detector(monkeypatch):
    def no_detector(*args, **kwargs):
        raise AssertionError("the detector must not run when landmarks are given")

    monkeypatch.setattr(faces, "crop_largest_face", no_detector)
    image = np.zeros((200, 200, 3), np.uint8)
    points = template_points(100) * 1.5 + 20  # the template, scaled and shifted
    cv2.circle(image, tuple(int(v) for v in points[2]), 4, (255, 255, 255), -1)  # a dot on the nose
    crop = default_crop(image, points, None, 100)
    nose = template_points(100)[2]
    assert crop.shape == (100, 100, 3) and crop[int(nose[1]), int(nose[0])].min() > 200


def test_default_crop_searches_inside_the_box_then_in_a_padded_copy(monkeypatch):
    searched = []

    def fake_crop_largest_face(image, size):
        searched.append(image.shape)
        return None

    monkeypatch.setattr(faces, "crop_largest_face", fake_crop_largest_face)
    image = np.zeros((100, 100, 3), np.uint8)
    assert default_crop(image, None, np.array([40, 40, 60, 60]), 32) is None
    assert searched == [(36, 36, 3), (72, 72, 3)]  # box + 40% per side, then padded by half


@pytest.mark.skipif(not REALFACES.is_dir(), reason=f"real photos not found at {REALFACES}")
def test_default_crop_finds_and_aligns_a_real_face():
    image = load_rgb(REALFACES / "public_domain" / "skimage_astronaut_eileen_collins.png")
    crop = default_crop(image, None, None, 112)
    assert crop is not None and crop.shape == (112, 112, 3) and crop.dtype == np.uint8
    assert crop.std() > 20  # a face with structure, not a replicated border


def resize_crop(image, landmarks, box, size):
    """A picklable crop function for worker processes: image k (grey 10 k) has a face unless k == 1."""
    return None if image[0, 0, 0] == 10 else cv2.resize(image, (size, size))


def test_worker_processes_crop_the_same_as_one_process(tmp_path):
    sources = write_images(tmp_path / "img", 5)
    serial = prepare_crops(sources, CropCache(tmp_path / "one", 16), resize_crop, progress=False)
    parallel = prepare_crops(sources, CropCache(tmp_path / "two", 16), resize_crop, workers=2, progress=False)
    assert parallel.kept.tolist() == serial.kept.tolist() == [True, False, True, True, True]
    assert parallel.failed == serial.failed and parallel.cropped == 4
    for source in (sources[0], sources[4]):
        assert np.array_equal(
            CropCache(tmp_path / "two", 16).load(source), CropCache(tmp_path / "one", 16).load(source)
        )
