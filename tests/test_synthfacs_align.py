"""SynthFACS crops are framed the way the app frames a photo (fatauva/synthfacs/align.py)."""

from dataclasses import replace

import numpy as np
import pytest

from fatauva.faces import align_face
from fatauva.synthfacs import FaceParams, face_params, pose, render
from fatauva.synthfacs.align import LANDMARK_ERROR, aligned, landmarks_in_crop
from fatauva.template import TEMPLATE_POINTS, similarity_transform


def _apply(matrix: np.ndarray, points: np.ndarray) -> np.ndarray:
    return points @ matrix[:, :2].T + matrix[:, 2]


def _roll_deg(matrix: np.ndarray) -> float:
    return float(np.degrees(np.arctan2(matrix[1, 0], matrix[0, 0])))


@pytest.mark.parametrize("seed", range(6))
def test_compose_is_the_similarity_applied_after_the_pose(seed):
    rng = np.random.default_rng(seed)
    params = FaceParams.random(rng)
    phi, s = rng.uniform(-30, 30), rng.uniform(0.8, 1.2)
    c, si = np.cos(np.radians(phi)), np.sin(np.radians(phi))
    matrix = np.array([[s * c, -s * si, rng.uniform(-0.1, 0.1)], [s * si, s * c, rng.uniform(-0.1, 0.1)]])
    moved = replace(params, scene=pose.compose(params.scene, matrix))
    expected = _apply(matrix, landmarks_in_crop(params))
    np.testing.assert_allclose(landmarks_in_crop(moved), expected, atol=1e-5)
    assert (moved.scene.yaw, moved.scene.pitch) == (params.scene.yaw, params.scene.pitch)


def test_an_exact_fit_leaves_only_what_a_similarity_cannot_undo():
    # A frontal neutral face rolled, scaled and shifted comes back onto the template exactly ...
    base = FaceParams()
    tilted = replace(base, scene=replace(base.scene, roll=17.0, scale=1.07, shift=(0.03, -0.02)))
    assert np.abs(landmarks_in_crop(tilted) - TEMPLATE_POINTS).max() > 0.05
    np.testing.assert_allclose(landmarks_in_crop(aligned(tilted)), TEMPLATE_POINTS, atol=1e-5)
    # ... and aligning an aligned face again changes nothing.
    for i in range(5):
        once = aligned(FaceParams.random(np.random.default_rng(i)))
        twice = aligned(once)
        np.testing.assert_allclose(landmarks_in_crop(twice), landmarks_in_crop(once), atol=1e-6)


def test_the_app_aligning_a_rolled_render_gives_the_aligned_render():
    # The app's aligner (fatauva.faces.align_face) on a rolled, scaled, shifted frontal render, fed
    # the render's true landmarks, cuts the crop that SynthFACS renders directly for the same face.
    size = 112
    base = face_params("test", 5)
    # No camera noise or JPEG: they fall on pixels, so a warp after them moves them.
    frontal = replace(base, scene=replace(base.scene, yaw=0.0, pitch=0.0, noise=0.0, jpeg_quality=0))
    tilted = replace(frontal, scene=replace(frontal.scene, roll=14.0, scale=0.95, shift=(0.02, 0.015)))
    photo = render(tilted, size, with_masks=False)
    cut = align_face(photo.image, photo.labels.landmarks, size).astype(np.float32)
    direct = render(aligned(tilted), size, with_masks=False).image.astype(np.float32)
    inner = (slice(20, 92), slice(20, 92))  # away from the replicated borders
    diff = np.abs(cut[inner] - direct[inner]).mean()
    before = np.abs(photo.image.astype(np.float32)[inner] - direct[inner]).mean()
    assert diff < 1.0 and before > 10 * diff, (diff, before)


def test_split_faces_are_framed_like_aligned_photos():
    # FaceParams.random draws a photo's roll of up to 20 degrees; the split faces keep only the
    # detector-error roll of the fit. Measured by re-fitting each face's own landmarks.
    rng = np.random.default_rng(0)
    raw = [abs(FaceParams.random(rng).scene.roll) for _ in range(200)]
    crops = [landmarks_in_crop(face_params("train", i)) for i in range(200)]
    fits = [similarity_transform(points, TEMPLATE_POINTS) for points in crops]
    rolls = np.array([_roll_deg(m) for m in fits])
    scales = np.array([np.sqrt(np.linalg.det(m[:, :2])) for m in fits])
    assert max(raw) > 15
    assert np.abs(rolls).max() < 8 and 0.3 < rolls.std() < 3.0
    assert np.abs(scales - 1).max() < 0.08
    offsets = np.array([m[:, 2] for m in fits])
    assert np.abs(offsets).max() < 0.08 and offsets.std() < 3 * LANDMARK_ERROR


def test_landmark_error_is_drawn_from_the_generator_given():
    params = FaceParams.random(np.random.default_rng(3))
    a = aligned(params, np.random.default_rng(1)).scene
    b = aligned(params, np.random.default_rng(1)).scene
    c = aligned(params, np.random.default_rng(2)).scene
    exact = aligned(params).scene
    assert a == b and a != c
    assert abs(a.roll - exact.roll) < 5 and abs(a.scale / exact.scale - 1) < 0.05
