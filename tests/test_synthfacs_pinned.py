"""SynthFACS output is pinned: a fixed seed renders the same bytes as when the hashes were taken.

Speed work on the renderer (fatauva/synthfacs/) must keep every image, mask and landmark
byte-identical; these hashes were recorded before it began (opencv-python-headless 4.14.0.94 of
requirements.txt: OpenCV's anti-aliasing, blur and JPEG code are part of the bytes). A change that
alters the faces on purpose updates the hashes in the same commit and says why.
"""

import hashlib

import numpy as np

from fatauva.synthfacs import FaceParams, Scene, Traits, face_params, render

MASKED = "f121d7ee465846707fc2f9b8dea5592b3054c7e021435abccc0e58b7788b07b8"
UNMASKED_40 = "4ed7b4ea20679321d1a4e5c58d50206b979f4700f92ecc64b8e148f3f5eee76a"
INDEPENDENT_160 = "84f1ce9c66dfbd649e9b0beb3def11b5049a8201bafae4ece20e17d51e7563ba"
# Taken at 68b26fb, before the second round of speed work moved the camera stage to the
# interleaved image: frontal faces skip the pose warp, so they take their own path there.
FRONTAL = "31d6f9324ab4ab04967aac573d2ecf292d0449951fa61c66adb8667cd9806fd3"


def add_face(h, face) -> None:
    """Feed a rendered face's image, masks (by name, bit-packed) and landmarks to the hash."""
    h.update(face.image.tobytes())
    for name in sorted(face.masks):
        h.update(name.encode())
        h.update(np.packbits(face.masks[name]).tobytes())
    h.update(face.labels.landmarks.tobytes())


def test_faces_with_masks_and_landmarks_render_the_pinned_bytes():
    h = hashlib.sha256()
    for split, index in [("train", 0), ("train", 1), ("train", 7), ("val", 3), ("test", 11), ("test", 12)]:
        add_face(h, render(face_params(split, index), 112, with_masks=True))
    assert h.hexdigest() == MASKED


def test_forty_training_faces_render_the_pinned_bytes():
    h = hashlib.sha256()
    for index in range(100, 140):
        h.update(render(face_params("train", index), 112, with_masks=False).image.tobytes())
    assert h.hexdigest() == UNMASKED_40


def test_independent_mode_faces_at_160_px_render_the_pinned_bytes():
    h = hashlib.sha256()
    for index in range(200, 205):
        params = face_params("train", index, mode="independent")
        h.update(render(params, 160, with_masks=False).image.tobytes())
    assert h.hexdigest() == INDEPENDENT_160


def test_frontal_faces_through_every_camera_stage_and_occluder_render_the_pinned_bytes():
    """No pose (the warp is skipped), with each camera stage (blur, noise, JPEG, grey, contrast) and
    both occluders, at two sizes, masks included."""
    scenes = [
        Scene(),
        Scene(
            background=1,
            blur=0.8,
            noise=0.02,
            jpeg_quality=60,
            occlusion=1,
            occlusion_box=(0.6, 0.75, 0.2, 0.12),
            texture_seed=5,
        ),
        Scene(background=2, grayscale=True, contrast=1.2, brightness=0.05, occlusion=2, texture_seed=9),
    ]
    au = {1: 2.0, 2: 2.0, 4: 2.0, 6: 3.0, 7: 2.0, 12: 3.0, 17: 2.0, 23: 1.0, 25: 2.0, 26: 2.0}
    traits = Traits(glasses=1, beard=0.6, beard_style=1, makeup=0.5, hair_style=2)
    h = hashlib.sha256()
    for size in (112, 64):
        for scene in scenes:
            add_face(h, render(FaceParams(au=au, traits=traits, scene=scene), size, with_masks=True))
    assert h.hexdigest() == FRONTAL
