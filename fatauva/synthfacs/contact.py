"""`python -m fatauva.synthfacs.contact --out docs/synthfacs_contact.png`: the SynthFACS contact sheet.

Top: one row per AU of Table 3, intensity 0 (neutral) to 5 (FACS E) on the same frontal face,
then that AU's mask over the intensity-5 face (green). Bottom: a grid of random faces of the
test split, exactly as the network sees them. Faces are rendered at `--size` (default 112,
the model's input) and enlarged `--zoom` times with nearest-neighbour so no detail is invented.
"""

import argparse
from pathlib import Path

import cv2
import numpy as np

from fatauva.synthfacs.dataset import face_params
from fatauva.synthfacs.params import FaceParams, Scene, Traits
from fatauva.synthfacs.render import render
from fatauva.topology import AU_NAMES, AUS, au_key

LABEL_W = 150
INK = (30, 30, 30)


def demo_face() -> FaceParams:
    """A clean frontal face with no expression: the base of the AU rows."""
    traits = Traits(
        skin_tone=0.3,
        brow_thickness=0.5,
        brow_arch=0.4,
        lip_upper=0.5,
        lip_lower=0.6,
        hair_style=1,
        hair_colour=(0.16, 0.1, 0.07),
        age=40.0,
    )
    scene = Scene(
        light_azimuth=60.0,
        light_elevation=65.0,
        light_strength=0.6,
        ambient=0.45,
        background_colour=(0.82, 0.82, 0.82),
        background_colour2=(0.72, 0.72, 0.74),
    )
    return FaceParams(traits=traits, scene=scene)


def _label(width: int, height: int, text: list[str]) -> np.ndarray:
    tile = np.full((height, width, 3), 255, np.uint8)
    for i, line in enumerate(text):
        cv2.putText(tile, line, (6, 22 + 20 * i), cv2.FONT_HERSHEY_SIMPLEX, 0.5, INK, 1, cv2.LINE_AA)
    return tile


def _zoom(img: np.ndarray, zoom: int) -> np.ndarray:
    return cv2.resize(img, None, fx=zoom, fy=zoom, interpolation=cv2.INTER_NEAREST)


def au_rows(size: int, zoom: int) -> np.ndarray:
    """(14 rows) x (label, intensity 0..5, mask at 5) as one RGB image."""
    base = demo_face()
    rows = [
        np.hstack(
            [_label(LABEL_W, 28, ["AU", ""])]
            + [_label(size * zoom, 28, [f"intensity {k}"]) for k in range(6)]
            + [_label(size * zoom, 28, ["mask"])]
        )
    ]
    for au in AUS:
        faces = [render(base.with_au(au, float(k)), size) for k in range(6)]
        overlay = faces[-1].image.copy()
        m = faces[-1].masks[au_key(au)]
        overlay[m] = (0.55 * overlay[m] + 0.45 * np.array([40, 200, 60])).astype(np.uint8)
        tiles = [_zoom(f.image, zoom) for f in faces] + [_zoom(overlay, zoom)]
        label = _label(LABEL_W, size * zoom, [f"AU{au}", AU_NAMES[au]])
        rows.append(np.hstack([label] + tiles))
    return np.vstack(rows)


def random_grid(size: int, zoom: int, columns: int, rows: int, split: str = "test") -> np.ndarray:
    """Random faces of a split (indices 0..columns*rows-1), as rendered for training."""
    faces = [render(face_params(split, i), size, with_masks=False).image for i in range(columns * rows)]
    grid = [np.hstack([_zoom(f, zoom) for f in faces[r * columns : (r + 1) * columns]]) for r in range(rows)]
    return np.vstack(grid)


def contact_sheet(size: int = 112, zoom: int = 2) -> np.ndarray:
    """The whole sheet, RGB uint8."""
    top = au_rows(size, zoom)
    width = top.shape[1]
    columns = (width - LABEL_W) // (size * zoom)
    bottom = random_grid(size, zoom, columns, 2)
    title = _label(
        width,
        36,
        [
            "Random SynthFACS test-split faces (pose, light, skin, hair, background, "
            "blur, noise, JPEG, occluders)"
        ],
    )
    pad = np.full((bottom.shape[0], width - bottom.shape[1], 3), 255, np.uint8)
    return np.vstack([top, title, np.hstack([pad, bottom])])


def main() -> None:
    parser = argparse.ArgumentParser(
        prog="python -m fatauva.synthfacs.contact", description=__doc__.splitlines()[0]
    )
    parser.add_argument("--out", type=Path, default=Path("docs/synthfacs_contact.png"))
    parser.add_argument("--size", type=int, default=112)
    parser.add_argument("--zoom", type=int, default=2)
    args = parser.parse_args()
    sheet = contact_sheet(args.size, args.zoom)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    if not cv2.imwrite(str(args.out), sheet[..., ::-1], [cv2.IMWRITE_PNG_COMPRESSION, 9]):
        raise OSError(f"could not write {args.out}")
    print(f"wrote {args.out} ({sheet.shape[1]}x{sheet.shape[0]})")


if __name__ == "__main__":
    main()
