"""A random face as the app's aligner would crop it.

A photo shows a head rolled, scaled and off-centre by any amount; the app finds five landmarks
and moves them onto the template with a least-squares similarity (`fatauva.faces.align_face`).
Its crop keeps what a similarity cannot undo (yaw and pitch, the face's own proportions, an
expression that moves the mouth corners) and the detector's landmark error, nothing more.
`FaceParams.random` draws the photo's pose; `aligned` fits the same similarity to the face's own
five landmarks, projected through that pose and perturbed by a detector-sized error, and folds
it into the scene (`pose.compose`). The SynthFACS splits are drawn this way (`face_params`), so
a training crop is framed the way the app frames a photo.
"""

from dataclasses import replace

import numpy as np

from fatauva.synthfacs import pose
from fatauva.synthfacs.geometry import landmarks
from fatauva.synthfacs.params import FaceParams
from fatauva.template import TEMPLATE_POINTS, similarity_transform

# Landmark error of the detector, crop units per coordinate (0.9 px at 112 px): about 3% of the
# eye distance, the usual error of a 68-point shape predictor on frontal faces.
LANDMARK_ERROR = 0.008
_SIZE = 112  # geometry and projection are linear in the size; the fit is in crop units


def landmarks_in_crop(params: FaceParams) -> np.ndarray:
    """The five template-order landmarks of `params` as rendered, crop units (5, 2)."""
    frontal = landmarks(params, _SIZE)
    return pose.project(frontal, params.traits, params.scene, _SIZE).astype(np.float64) / _SIZE


def aligned(params: FaceParams, rng: np.random.Generator | None = None) -> FaceParams:
    """`params` with its scene re-framed as the app would align it. With `rng`, the landmarks the
    fit sees carry a Gaussian error of `LANDMARK_ERROR` (one draw of shape (5, 2)); without it,
    the fit is exact and only what a similarity cannot undo stays off the template."""
    points = landmarks_in_crop(params)
    if rng is not None:
        points = points + rng.normal(0.0, LANDMARK_ERROR, size=points.shape)
    matrix = similarity_transform(points, TEMPLATE_POINTS)
    return replace(params, scene=pose.compose(params.scene, matrix))
