"""How weights trained without real labels transfer to real photos (evaluation only, never training).

The photos of `<repo>/../shared/realfaces` (README there): the London set, each person neutral
and smiling, split by person into `dev` and `test` (labels/london_faces.csv), and the Canada set
(neutral). Every photo is aligned the way the app aligns it (the largest face of
fatauva.faces.detect_faces, cut by fatauva.faces.align_face: crop_largest_face, with the face
count kept) and scored with:

- smile_auc / smile_auc_dev: AUC of P(Smiling), smiling vs neutral, London `test` / `dev` split;
- smile_accuracy / smile_accuracy_dev: the same photos at P > 0.5;
- male_accuracy: P(Male) > 0.5 against the `male` column, London and Canada;
- one_face_rate: share of photos where exactly one face is detected; n_faces: photos with a face.
"""

import csv
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch

from fatauva import topology
from fatauva.faces import align_face, detect_faces
from fatauva.metrics import accuracy, roc_auc
from fatauva.model import FatauvaNet
from fatauva.template import to_tensor
from train.preprocess import load_rgb

LABEL_FILES = ("labels/london_faces.csv", "labels/canada_faces.csv")
SMILING = topology.ATTRIBUTES.index("Smiling")
MALE = topology.ATTRIBUTES.index("Male")


def default_root() -> Path:
    """<repo>/../shared/realfaces, where the project keeps the photos (outside the repository)."""
    return Path(__file__).resolve().parents[2] / "shared" / "realfaces"


@dataclass
class Photo:
    """One labelled photo: its file, its CSV row, and what the detector made of it."""

    path: Path
    row: dict[str, str]
    n_detected: int
    crop: np.ndarray | None


def read_photos(root: Path, input_size: int) -> list[Photo]:
    """Every photo listed in the London and Canada label CSVs, detected and aligned."""
    if not root.is_dir():
        raise FileNotFoundError(f"no real-face folder at {root} (pass --root DIR)")
    photos = []
    for name in LABEL_FILES:
        table = root / name
        if not table.is_file():
            raise FileNotFoundError(f"{table} is missing from the real-face folder")
        with table.open(newline="") as f:
            for row in csv.DictReader(f):
                image = load_rgb(root / row["file"])
                faces = detect_faces(image)
                crop = align_face(image, faces[0].landmarks, input_size) if faces else None
                photos.append(Photo(root / row["file"], row, len(faces), crop))
    return photos


@torch.no_grad()
def attribute_probs(
    model: FatauvaNet, crops: list[np.ndarray], device: str, batch_size: int = 64
) -> np.ndarray:
    """P(present) (M, 10) of every crop, in topology.ATTRIBUTES order."""
    model.eval()
    chunks = [
        model(to_tensor(np.stack(crops[i : i + batch_size])).to(device))
        .attribute_probs()
        .float()
        .cpu()
        .numpy()
        for i in range(0, len(crops), batch_size)
    ]
    return np.concatenate(chunks) if chunks else np.zeros((0, len(topology.ATTRIBUTES)))


def _smile_scores(photos: list[Photo], probs: np.ndarray, split: str) -> tuple[float, float]:
    keep = [i for i, p in enumerate(photos) if p.row.get("split") == split]
    y = np.array([int(photos[i].row["smile"]) for i in keep])
    p = probs[keep, SMILING]
    return roc_auc(y, p), accuracy(y, (p > 0.5).astype(int))


def evaluate_realfaces(model: FatauvaNet, root: Path, device: str = "cpu") -> dict[str, Any]:
    """The real-photo figures of the module docstring as a JSON-ready dict."""
    photos = read_photos(root, model.config.input_size)
    found = [p for p in photos if p.crop is not None]
    probs = attribute_probs(model, [p.crop for p in found], device)
    smile_auc, smile_acc = _smile_scores(found, probs, "test")
    smile_auc_dev, smile_acc_dev = _smile_scores(found, probs, "dev")
    male = np.array([int(p.row["male"]) for p in found])
    return {
        "smile_auc": smile_auc,
        "smile_accuracy": smile_acc,
        "smile_auc_dev": smile_auc_dev,
        "smile_accuracy_dev": smile_acc_dev,
        "male_accuracy": accuracy(male, (probs[:, MALE] > 0.5).astype(int)),
        "one_face_rate": float(np.mean([p.n_detected == 1 for p in photos])),
        "n_faces": len(found),
        "n_photos": len(photos),
    }


def format_realfaces(rep: dict[str, Any]) -> str:
    """The figures as aligned `name value` lines."""
    return "\n".join(f"{k:<20}{v:.4f}" if isinstance(v, float) else f"{k:<20}{v}" for k, v in rep.items())
