"""Real-photo preprocessing: crop routing, the crop cache, failures counted not fatal."""

from pathlib import Path

import cv2
import numpy as np
import pytest

from fatauva import faces
from fatauva.template import template_points
from train import preprocess
from train.datasets import FaceIndex, cropped_dataset
from train.datasets.base import IndexBuilder
from train.datasets.celeba import ALIGNED_POINTS
from train.preprocess import (
    CropCache,
    crop_box,
    default_crop,
    from_fractions,
    load_rgb,
    locate_face,
    measure_alignment,
    prepare_crops,
    to_fractions,
)

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

    monkeypatch.setattr(faces, "detect_faces", no_detector)
    image = np.zeros((200, 200, 3), np.uint8)
    points = template_points(100) * 1.5 + 20  # the template, scaled and shifted
    cv2.circle(image, tuple(int(v) for v in points[2]), 4, (255, 255, 255), -1)  # a dot on the nose
    crop = default_crop(image, points, None, 100)
    nose = template_points(100)[2]
    assert crop.shape == (100, 100, 3) and crop[int(nose[1]), int(nose[0])].min() > 200


def test_default_crop_searches_the_box_then_two_padded_copies_then_all_three_for_weaker_faces(monkeypatch):
    searched = []

    def fake_detect_faces(image, min_face=40, min_score=0.0):
        searched.append((image.shape, min_face, min_score))
        return []

    monkeypatch.setattr(faces, "detect_faces", fake_detect_faces)
    image = np.zeros((100, 100, 3), np.uint8)
    assert default_crop(image, None, np.array([40, 40, 60, 60]), 32) is None
    # box + 40% per side; then padded by a quarter, faces of half its side; then padded by half;
    # the three again accepting weaker detections
    framings = [((36, 36, 3), 40), ((54, 54, 3), 27), ((72, 72, 3), 40)]
    assert searched == [(*f, 0.0) for f in framings] + [(*f, -0.3) for f in framings]


def test_landmarks_found_in_a_padded_box_are_returned_in_pixels_of_the_whole_image(monkeypatch):
    points = template_points(20) + 3  # where the fake detector finds a face in its working copy

    def fake_detect_faces(image, min_face=40, min_score=0.0):
        if image.shape[0] == 36:  # the bare box region: nothing found
            return []
        return [faces.FaceBox(0, 0, 10, 10, 1.0, points.copy())]

    monkeypatch.setattr(faces, "detect_faces", fake_detect_faces)
    found = locate_face(np.zeros((100, 100, 3), np.uint8), np.array([40, 40, 60, 60]))
    # second pass: the box starts at (32, 32) and is padded by 9 px per side
    assert np.allclose(found, points - 9 + 32)


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


def write_textured_images(folder: Path, n: int) -> list[Path]:
    """Like `write_images` (pixel (0, 0) of image k is 10 k) but not flat: a set's framing is
    never applied to a blank image."""
    paths = write_images(folder, n)
    rng = np.random.default_rng(0)
    for k, path in enumerate(paths):
        image = rng.integers(0, 256, (20, 30, 3), dtype=np.uint8)
        image[0, 0] = 10 * k
        cv2.imwrite(str(path), image)
    return paths


class MissingCrop:
    """Finds no face by itself (like a detector missing every face); aligns given landmarks by
    recording them and returning a crop filled with the first landmark's x."""

    def __init__(self):
        self.given = []

    def __call__(self, image, landmarks, box, size):
        if landmarks is None:
            return None
        self.given.append((image.shape, landmarks))
        return np.full((size, size, 3), int(landmarks[0, 0]), np.uint8)


def test_missed_faces_are_placed_by_the_sets_framing_scaled_to_each_image_and_counted(tmp_path):
    sources = write_textured_images(tmp_path / "img", 2)  # 20 x 30 images
    cache = CropCache(tmp_path / "cache", 16)
    crop = MissingCrop()
    framing = to_fractions(np.tile([[10.0, 5.0]], (5, 1)), (20, 30))  # (10, 5) px in a 30 x 20 image
    report = prepare_crops(sources, cache, crop, alignment=framing, progress=False)
    assert (report.fallback, report.detected, len(report.failed)) == (2, 0, 0) and report.kept.all()
    assert np.allclose(crop.given[0][1], [[10.0, 5.0]] * 5)
    assert cache.load(sources[0])[0, 0, 0] == 10
    assert cache.fallbacks() == {str(s.resolve()) for s in sources}


def test_fallbacks_are_still_counted_when_their_crops_are_reused(tmp_path):
    sources = write_textured_images(tmp_path / "img", 2)
    cache = CropCache(tmp_path / "cache", 16)
    framing = np.tile([[0.5, 0.5]], (5, 1)).astype(np.float32)
    prepare_crops(sources[:1], cache, MissingCrop(), alignment=framing, progress=False)
    again = prepare_crops(sources, cache, CountingCrop(), alignment=framing, progress=False)
    assert (again.reused, again.fallback, again.detected) == (1, 1, 1)
    assert "1 found by the detector (50.0% of 2 searched), 1 placed by the set's framing" in again.summary()


def test_without_a_framing_missed_faces_are_skipped(tmp_path):
    sources = write_images(tmp_path / "img", 2)
    report = prepare_crops(sources, CropCache(tmp_path / "cache", 16), MissingCrop(), progress=False)
    assert report.fallback == 0 and [r for _, r in report.failed] == ["no face found"] * 2


def test_a_framing_to_measure_is_measured_only_when_a_face_is_missed(tmp_path):
    sources = write_textured_images(tmp_path / "img", 3)
    calls = []

    def measure():
        calls.append(1)
        return np.tile([[0.5, 0.5]], (5, 1)).astype(np.float32)

    prepare_crops(sources, CropCache(tmp_path / "a", 16), CountingCrop(), alignment=measure, progress=False)
    assert calls == []

    def misses_image_2(image, landmarks, box, size):
        missed = landmarks is None and image[0, 0, 0] == 20
        return None if missed else np.zeros((size, size, 3), np.uint8)

    report = prepare_crops(
        sources, CropCache(tmp_path / "b", 16), misses_image_2, alignment=measure, progress=False
    )
    assert calls == [1] and report.fallback == 1 and report.detected == 2


def test_a_blank_image_is_skipped_without_a_fallback(tmp_path):
    sources = write_images(tmp_path / "img", 2)
    cv2.imwrite(str(sources[1]), np.random.default_rng(0).integers(0, 255, (20, 30, 3), dtype=np.uint8))
    framing = np.tile([[0.5, 0.5]], (5, 1)).astype(np.float32)
    report = prepare_crops(
        sources, CropCache(tmp_path / "c", 16), MissingCrop(), alignment=framing, progress=False
    )
    assert report.failed == [(str(sources[0]), "blank image")] and report.fallback == 1


def test_rows_with_dataset_landmarks_are_counted_as_given_not_detected(tmp_path):
    sources = write_images(tmp_path / "img", 3)
    landmarks = np.full((3, 5, 2), np.nan, np.float32)
    landmarks[1] = template_points(20)
    report = prepare_crops(
        sources, CropCache(tmp_path / "c", 16), CountingCrop(), landmarks=landmarks, progress=False
    )
    assert (report.given, report.detected, report.fallback) == (1, 2, 0)
    assert report.detection_rate == 1.0  # of the two images the detector had to search


def test_fractions_hold_for_any_image_size():
    points = np.array([[0.0, 0.0], [88.0, 108.0]], np.float32)  # the corner pixels of an 89 x 109 image
    fractions = to_fractions(points, (109, 89, 3))
    assert np.allclose(fractions, [[0.5 / 89, 0.5 / 109], [88.5 / 89, 108.5 / 109]])
    doubled = from_fractions(fractions, (218, 178))  # the same places at twice the size
    assert np.allclose(doubled, [[0.5, 0.5], [176.5, 216.5]], atol=1e-4)
    assert np.allclose(from_fractions(fractions, (109, 89)), points, atol=1e-4)


def test_measure_alignment_averages_the_faces_found_as_fractions(tmp_path, monkeypatch):
    sources = write_images(tmp_path / "img", 12)  # 20 x 30; image 0 is blank, the rest grey levels
    found = {k: np.full((5, 2), float(k), np.float32) for k in range(12)}
    monkeypatch.setattr(preprocess, "locate_face", lambda image, box=None: found[int(image[0, 0, 0]) // 10])
    mean = measure_alignment(sources)
    assert np.allclose(mean, to_fractions(np.full((5, 2), 5.5), (20, 30)))
    monkeypatch.setattr(preprocess, "locate_face", lambda image, box=None: None)
    assert measure_alignment(sources) is None


def test_only_face_centred_indexes_get_a_fallback_framing(tmp_path):
    sources = write_textured_images(tmp_path / "img", 2)

    def index(centred: bool) -> FaceIndex:
        builder = IndexBuilder("t")
        for s in sources:
            builder.add(s)
        builder.centred = centred
        builder.alignment = np.tile([[0.5, 0.5]], (5, 1)).astype(np.float32)
        return builder.build()

    _, loose = cropped_dataset(index(False), tmp_path / "a", 16, MissingCrop(), progress=False)
    _, centred = cropped_dataset(index(True), tmp_path / "b", 16, MissingCrop(), progress=False)
    assert (loose.fallback, len(loose.failed)) == (0, 2) and (centred.fallback, len(centred.failed)) == (2, 0)


CELEBA = REALFACES.parents[1] / "data" / "celeba" / "img_align_celeba"


@pytest.mark.skipif(not CELEBA.is_dir(), reason=f"CelebA images not found at {CELEBA}")
def test_the_detectors_mean_framing_of_celeba_is_celebas_own_alignment():
    # Measured on 200 images: within 0.96 px of align_face_celeba.m's points on the 89 x 109 copy.
    sources = sorted(CELEBA.glob("*.jpg"))
    image_size = load_rgb(sources[0]).shape
    mean = measure_alignment(sources, sample=40)
    gap = np.abs(from_fractions(mean, image_size) - from_fractions(ALIGNED_POINTS, image_size))
    assert gap.max() < 2.5
