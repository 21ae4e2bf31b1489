"""From a map on the aligned crop to pictures: overlays, and the map on the original photo.

Every map in `explain` follows one contract: float32 (S, S) in [0, 1] on the aligned crop of
`fatauva.template` (S = the model's input size). `normalise` brings any signed layer-resolution
attribution (captum's, a mean activation) to that contract.

The crop is cut by `fatauva.faces.align_face`, a similarity transform that moves the face's five
landmarks onto the template; `to_photo` inverts the same transform, so a map lands on the
photo's pixels (zero outside the crop).
"""

import cv2
import numpy as np
from pytorch_grad_cam.utils.image import scale_cam_image, show_cam_on_image

from fatauva.template import similarity_transform, template_points


def normalise(values: np.ndarray, size: int) -> np.ndarray:
    """(h, w) or (N, h, w) signed values -> float32 of the same batch shape at (size, size):
    positive part, min-max scaled to [0, 1], resized bilinearly (the CAM contract)."""
    batch = np.asarray(values, dtype=np.float32)
    single = batch.ndim == 2
    batch = batch[None] if single else batch
    scaled = scale_cam_image(np.maximum(batch, 0), (size, size))
    return scaled[0] if single else scaled


def overlay(crop: np.ndarray, cam: np.ndarray, image_weight: float = 0.5) -> np.ndarray:
    """A map drawn over its crop, ready to show: crop uint8 RGB (S, S, 3), cam (S, S) in [0, 1]
    -> uint8 RGB (S, S, 3) (jet colour map, pytorch-grad-cam's show_cam_on_image in RGB)."""
    if crop.shape[:2] != cam.shape:
        raise ValueError(f"map {cam.shape} and crop {crop.shape[:2]} differ in size")
    return show_cam_on_image(crop.astype(np.float32) / 255.0, cam, use_rgb=True, image_weight=image_weight)


def photo_to_crop(landmarks: np.ndarray, input_size: int) -> np.ndarray:
    """The (2, 3) similarity that `align_face` applies: photo pixels -> crop pixels."""
    return similarity_transform(np.asarray(landmarks, np.float64), template_points(input_size))


def _back_on_photo(cam: np.ndarray, matrix: np.ndarray, photo_shape: tuple[int, ...]) -> np.ndarray:
    """Warp a crop map onto the photo through the inverse of `matrix` (photo -> crop)."""
    height, width = photo_shape[:2]
    return cv2.warpAffine(
        cam.astype(np.float32),
        matrix,
        (width, height),
        flags=cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP,
        borderMode=cv2.BORDER_CONSTANT,
        borderValue=0.0,
    )


def to_photo(cam: np.ndarray, landmarks: np.ndarray, photo_shape: tuple[int, ...]) -> np.ndarray:
    """A crop map (S, S) back on the photo: float32 (H, W), zero outside the crop.

    landmarks: the face's five points (FaceBox.landmarks) in photo pixels; photo_shape: (H, W, ...).
    """
    return _back_on_photo(cam, photo_to_crop(landmarks, cam.shape[0]), photo_shape)


def to_photo_with_footprint(
    cam: np.ndarray, landmarks: np.ndarray, photo_shape: tuple[int, ...]
) -> tuple[np.ndarray, np.ndarray]:
    """`to_photo` of the map, and the crop's footprint on the photo (bool (H, W)), from one alignment."""
    matrix = photo_to_crop(landmarks, cam.shape[0])
    inside = _back_on_photo(np.ones_like(cam), matrix, photo_shape) > 0.5
    return _back_on_photo(cam, matrix, photo_shape), inside


def photo_overlay(
    photo: np.ndarray, cam: np.ndarray, landmarks: np.ndarray, image_weight: float = 0.5
) -> np.ndarray:
    """A crop map drawn over the whole photo (uint8 RGB (H, W, 3)); outside the crop the photo is
    left as it is."""
    on_photo, inside = to_photo_with_footprint(cam, landmarks, photo.shape)
    heat = show_cam_on_image(
        photo.astype(np.float32) / 255.0, on_photo, use_rgb=True, image_weight=image_weight
    )
    return np.where(inside[..., None], heat, photo).astype(np.uint8)
