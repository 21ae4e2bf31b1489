"""Example photos that need no download: SynthFACS faces (fatauva.synthfacs) placed on a 640x480
canvas, drawn when the app is built and kept in the git-ignored cache/ folder. Nothing of
../shared goes into the repository, so the examples are rendered rather than shipped."""

from pathlib import Path

import cv2
import numpy as np

from fatauva.synthfacs import face_params, render

CACHE = Path(__file__).resolve().parents[1] / "cache" / "examples"
CANVAS = (480, 640)  # (H, W), the size of a webcam frame
# (file name, [(SynthFACS test-split index, face size px, top-left x, y)]): indices chosen for a
# clear expression each; the second photo has two faces, so the face picker has something to pick.
EXAMPLES: tuple[tuple[str, tuple[tuple[int, int, int, int], ...]], ...] = (
    ("synthfacs_one_face.png", ((2, 300, 170, 90),)),
    ("synthfacs_two_faces.png", ((11, 240, 50, 120), (7, 200, 380, 140))),
)
# Faces are drawn at the network's crop size and enlarged: rendering at 300 px takes seconds a face
# (the renderer works at the target size), at 112 px about 40 ms.
RENDER_SIZE = 112


def _canvas(seed: int) -> np.ndarray:
    """A soft vertical gradient, so the faces are not on a flat colour the detector could exploit."""
    rng = np.random.default_rng(seed)
    top, bottom = rng.integers(90, 200, size=3), rng.integers(40, 160, size=3)
    ramp = np.linspace(0.0, 1.0, CANVAS[0])[:, None, None]
    column = (1 - ramp) * top + ramp * bottom
    return np.repeat(column, CANVAS[1], axis=1).astype(np.uint8)


def compose(faces: tuple[tuple[int, int, int, int], ...], seed: int = 0) -> np.ndarray:
    """A uint8 RGB (480, 640, 3) photo with the given SynthFACS faces pasted at their places."""
    photo = _canvas(seed)
    for index, size, x, y in faces:
        face = render(face_params("test", index), size=RENDER_SIZE, with_masks=False).image
        photo[y : y + size, x : x + size] = cv2.resize(face, (size, size), interpolation=cv2.INTER_CUBIC)
    return photo


def example_photos(folder: Path = CACHE) -> list[Path]:
    """Write the example photos (once) and return their paths."""
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for seed, (name, faces) in enumerate(EXAMPLES):
        path = folder / name
        if not path.is_file():
            cv2.imwrite(str(path), cv2.cvtColor(compose(faces, seed), cv2.COLOR_RGB2BGR))
        paths.append(path)
    return paths
