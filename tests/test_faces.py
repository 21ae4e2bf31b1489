"""fatauva.faces without real photos: the alignment geometry, input checking, no-face cases."""

import cv2
import dlib
import numpy as np
import pytest

from fatauva import faces
from fatauva.template import template_points

# One distinct colour per template landmark, so each can be found again after warping.
COLOURS = np.array([[255, 0, 0], [0, 255, 0], [0, 0, 255], [255, 255, 0], [0, 255, 255]], dtype=np.uint8)


def similarity(points: np.ndarray, angle_deg: float, scale: float, shift: tuple[float, float]) -> np.ndarray:
    """points (N, 2) rotated about the origin, scaled, then shifted."""
    a = np.deg2rad(angle_deg)
    rot = np.array([[np.cos(a), -np.sin(a)], [np.sin(a), np.cos(a)]])
    return points @ (scale * rot).T + np.asarray(shift)


def dotted_image(points: np.ndarray, size: tuple[int, int], radius: int) -> np.ndarray:
    """Grey canvas (H, W, 3) with one coloured disc per landmark."""
    image = np.full((size[1], size[0], 3), 90, dtype=np.uint8)
    for (x, y), colour in zip(points, COLOURS, strict=True):
        cv2.circle(image, (round(x), round(y)), radius, colour.tolist(), -1, lineType=cv2.LINE_AA)
    return image


def disc_centres(crop: np.ndarray) -> np.ndarray:
    """Centroid (x, y) of the pixels closest to each landmark colour, (5, 2)."""
    centres = []
    for colour in COLOURS:
        ys, xs = np.nonzero(np.abs(crop.astype(int) - colour).sum(axis=2) < 60)
        centres.append((xs.mean(), ys.mean()))
    return np.array(centres)


def apply(matrix: np.ndarray, points: np.ndarray) -> np.ndarray:
    return points @ matrix[:, :2].T + matrix[:, 2]


def test_similarity_transform_maps_similar_points_exactly_onto_the_template():
    target = template_points(112)
    source = similarity(target, angle_deg=-37.0, scale=2.7, shift=(310.0, -45.0))
    matrix = faces.similarity_transform(source, target)
    np.testing.assert_allclose(apply(matrix, source), target, atol=1e-9)


def test_similarity_transform_never_reflects_mirrored_points():
    target = template_points(112)
    mirrored = target * np.array([-1.0, 1.0])
    matrix = faces.similarity_transform(mirrored, target)
    assert np.linalg.det(matrix[:, :2]) > 0


def test_similarity_transform_lets_every_point_count():
    # Least squares, not RANSAC: one displaced point moves the fit, so no point fits exactly.
    target = template_points(112).astype(np.float64)
    source = target.copy()
    source[2] += (0.0, 6.0)
    residuals = np.linalg.norm(apply(faces.similarity_transform(source, target), source) - target, axis=1)
    assert residuals.min() > 0.05 and residuals.max() < 6.0


@pytest.mark.parametrize(("angle", "scale"), [(0.0, 1.0), (25.0, 3.0), (-40.0, 0.8)])
def test_rotated_and_scaled_face_aligns_back_onto_the_template(angle, scale):
    size = 112
    landmarks = similarity(template_points(size), angle, scale, shift=(60.0, 40.0))
    side = int(size * scale * 1.6)
    image = dotted_image(landmarks, (side + 120, side + 100), round(4 * scale))
    crop = faces.align_face(image, landmarks, size)
    assert crop.shape == (size, size, 3) and crop.dtype == np.uint8
    np.testing.assert_allclose(disc_centres(crop), template_points(size), atol=0.75)


def test_a_face_much_larger_than_the_crop_aligns_without_losing_its_points():
    # Scale 1/12: the photo is area-averaged before warping (anti-aliasing), points must still land.
    landmarks = similarity(template_points(112), 10.0, 12.0, shift=(300.0, 200.0))
    image = dotted_image(landmarks, (2000, 1800), radius=60)
    crop = faces.align_face(image, landmarks, 112)
    np.testing.assert_allclose(disc_centres(crop), template_points(112), atol=1.0)


@pytest.mark.parametrize("size", [64, 112, 160])
def test_align_face_returns_a_crop_of_the_requested_size(size):
    image = np.zeros((300, 300, 3), dtype=np.uint8)
    crop = faces.align_face(image, template_points(size) + 50, size)
    assert crop.shape == (size, size, 3) and crop.dtype == np.uint8


def test_align_face_replicates_the_border_instead_of_painting_black():
    image = np.full((80, 80, 3), 200, dtype=np.uint8)
    landmarks = template_points(112) * 0.3  # face in the top-left corner: most of the crop lies outside
    assert (faces.align_face(image, landmarks, 112) == 200).all()


@pytest.mark.parametrize(
    ("landmarks", "match"),
    [
        (np.zeros((4, 2)), "five finite"),
        (np.full((5, 2), np.nan), "five finite"),
        (np.ones((5, 2)), "coincide"),
    ],
)
def test_align_face_rejects_bad_landmarks(landmarks, match):
    with pytest.raises(ValueError, match=match):
        faces.align_face(np.zeros((50, 50, 3), dtype=np.uint8), landmarks)


def test_five_points_are_eye_means_nose_tip_and_mouth_corners_of_the_68():
    pts = np.random.default_rng(0).uniform(0, 200, size=(68, 2)).round()
    parts = [dlib.point(int(x), int(y)) for x, y in pts]
    shape = dlib.full_object_detection(dlib.rectangle(0, 0, 200, 200), parts)
    expected = [pts[36:42].mean(0), pts[42:48].mean(0), pts[30], pts[48], pts[54]]
    np.testing.assert_allclose(faces.five_points(shape), expected, rtol=1e-6)


def test_detection_scale_upsamples_small_photos_and_caps_large_ones():
    assert faces.detection_scale(375, 500, min_face=40, max_side=1280) == pytest.approx(2.0)
    assert faces.detection_scale(3000, 4000, min_face=40, max_side=1280) == pytest.approx(0.32)


def test_an_image_without_a_face_gives_no_detection():
    rng = np.random.default_rng(1)
    assert faces.detect_faces(np.full((240, 320, 3), 128, dtype=np.uint8)) == []
    noise = cv2.GaussianBlur(rng.integers(0, 256, (240, 320, 3), dtype=np.uint8), (5, 5), 0)
    assert faces.detect_faces(noise) == []


@pytest.mark.parametrize(
    ("image", "match"),
    [
        ([[0, 0], [0, 0]], "numpy array"),
        (np.zeros((20, 20, 3), dtype=np.float32), "uint8"),
        (np.zeros((20, 20, 2), dtype=np.uint8), "shape"),
        (np.zeros((2, 20, 20, 3), dtype=np.uint8), "shape"),
        (np.zeros((0, 20, 3), dtype=np.uint8), "empty"),
    ],
)
def test_bad_images_raise_one_clear_error(image, match):
    with pytest.raises(ValueError, match=match):
        faces.detect_faces(image)


def test_grey_and_rgba_images_are_converted_to_rgb():
    grey = np.arange(12, dtype=np.uint8).reshape(3, 4)
    np.testing.assert_array_equal(faces.as_rgb(grey), np.stack([grey] * 3, axis=2))
    np.testing.assert_array_equal(faces.as_rgb(grey[:, :, None]), np.stack([grey] * 3, axis=2))
    rgba = np.random.default_rng(2).integers(0, 256, (3, 4, 4), dtype=np.uint8)
    np.testing.assert_array_equal(faces.as_rgb(rgba), rgba[:, :, :3])


def test_models_are_loaded_once():
    assert faces._models() is faces._models()


def test_landmarks_in_box_refit_a_detected_face_without_the_detector():
    from demo.examples import EXAMPLES, compose

    photo = compose(EXAMPLES[0][1])
    (face,) = faces.detect_faces(photo, min_face=80)  # scale 1: landmarks on the photo itself
    refit = faces.landmarks_in_box(photo, (face.x0, face.y0, face.x1, face.y1))
    assert refit.shape == (5, 2) and refit.dtype == np.float32
    np.testing.assert_allclose(refit, face.landmarks, atol=1.0)
    # A box shifted by a tenth of the face still lands on the same face: what a tracker relies on.
    dx = 0.1 * face.width
    moved = faces.landmarks_in_box(photo, (face.x0 + dx, face.y0, face.x1 + dx, face.y1))
    assert np.abs(moved - face.landmarks).mean() < 0.1 * face.width


def test_detection_from_two_threads_at_once_gives_each_its_own_answer():
    # One dlib detector run from two threads at once corrupts memory (the Live tab's stream and an
    # Analyze run crashed the app): each concurrent caller gets its own detector from a pool.
    from concurrent.futures import ThreadPoolExecutor

    from demo.examples import EXAMPLES, compose

    photo = compose(EXAMPLES[0][1])
    jobs = [(photo[20 + i % 37 :, 30 + i % 23 :], 120 if i % 2 else 40) for i in range(48)]
    expected = [faces.detect_faces(image, min_face=m) for image, m in jobs]
    with ThreadPoolExecutor(max_workers=4) as pool:
        got = list(pool.map(lambda job: faces.detect_faces(job[0], min_face=job[1]), jobs))
    assert [[(f.x0, f.y0, f.x1, f.y1) for f in r] for r in got] == [
        [(f.x0, f.y0, f.x1, f.y1) for f in r] for r in expected
    ]
    assert all(len(r) == 1 for r in got)


def test_the_detector_pool_builds_at_most_its_size_and_reuses_them():
    pool = faces._DetectorPool(2)
    with pool.detector() as a, pool.detector() as b:
        assert a is not b
    with pool.detector() as c:
        assert c in (a, b)
    assert pool._built == 2
