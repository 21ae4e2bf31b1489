"""SynthFACS output is pinned: a fixed seed renders the same bytes as when the hashes were taken.

Speed work on the renderer (fatauva/synthfacs/) must keep every image, mask and landmark
byte-identical; these hashes were recorded before it began (opencv-python-headless 4.14.0.94 of
requirements.txt: OpenCV's anti-aliasing, blur and JPEG code are part of the bytes). A change that
alters the faces on purpose updates the hashes in the same commit and says why.
"""

import hashlib

import numpy as np

from fatauva.synthfacs import face_params, render

MASKED = "f121d7ee465846707fc2f9b8dea5592b3054c7e021435abccc0e58b7788b07b8"
UNMASKED_40 = "4ed7b4ea20679321d1a4e5c58d50206b979f4700f92ecc64b8e148f3f5eee76a"
INDEPENDENT_160 = "84f1ce9c66dfbd649e9b0beb3def11b5049a8201bafae4ece20e17d51e7563ba"


def test_faces_with_masks_and_landmarks_render_the_pinned_bytes():
    h = hashlib.sha256()
    for split, index in [("train", 0), ("train", 1), ("train", 7), ("val", 3), ("test", 11), ("test", 12)]:
        face = render(face_params(split, index), 112, with_masks=True)
        h.update(face.image.tobytes())
        for name in sorted(face.masks):
            h.update(name.encode())
            h.update(np.packbits(face.masks[name]).tobytes())
        h.update(face.labels.landmarks.tobytes())
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
