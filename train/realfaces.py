"""How weights trained without real labels transfer to real photos (evaluation only, never training).

The photos of `<repo>/../shared/realfaces` (README there): the London set, each person neutral
and smiling, split by person into `dev` and `test` (labels/london_faces.csv), and the Canada set
(neutral). Every photo is aligned the way the app aligns it (the largest face of
fatauva.faces.detect_faces, cut by fatauva.faces.align_face, with the face count kept) and scored with:

- smile_auc / smile_auc_dev: AUC of P(Smiling), smiling vs neutral, London `test` / `dev` split;
- smile_accuracy / smile_accuracy_dev: the same photos at P > 0.5;
- male_accuracy: P(Male) > 0.5 against the `male` column, London and Canada; male_auc: how well
  P(Male) ranks men above women on those faces (ranking without the 0.5 threshold);
- one_face_rate: share of photos where exactly one face is detected; n_faces: photos with a face.

The AU and V-A outputs have no real labels here, but the posed expressions bound them: a smile
is AU12 (FACS, Ekman & Friesen 2002), and a posed neutral face shows none of the AUs listed in
`NEUTRAL_ABSENT` (lips may part, AU25, and eyes may close, AU45, on a neutral face).
So, on the London photos of each split (`_dev` for `dev`, no suffix for `test`):

- au12_smile_auc: AUC of P(AU12), smiling vs neutral;
- valence_smile_auc: AUC of the predicted valence, smiling vs neutral (a smile reads as more
  pleasant: Fig. 1's circumplex puts happiness at positive valence);
- neutral_au_rate: share of (neutral photo, AU of NEUTRAL_ABSENT) pairs with P(AU) > 0.5, the
  false-alarm rate of the AU layer on faces that show no expression;
- au_mean_prob.{neutral,smiling}.AUxx (`test` only): mean P(AU) of each AU on those photos, and
  va_mean.{neutral,smiling}.{valence,arousal}: the mean predicted valence and arousal.
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
AU12 = topology.AUS.index(12)
NEUTRAL_ABSENT = tuple(a for a in topology.AUS if a not in topology.AT_REST_AUS)
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


@dataclass
class Scores:
    """The network's outputs on M crops: P(attribute) (M, 10), P(AU) (M, 14), valence, arousal (M, 2)."""

    attributes: np.ndarray
    aus: np.ndarray
    va: np.ndarray


@torch.no_grad()
def score_crops(model: FatauvaNet, crops: list[np.ndarray], device: str, batch_size: int = 64) -> Scores:
    """Every output the real-photo figures need, in topology order."""
    model.eval()
    parts: list[tuple[np.ndarray, ...]] = []
    for i in range(0, len(crops), batch_size):
        out = model(to_tensor(np.stack(crops[i : i + batch_size])).to(device))
        parts.append(
            tuple(t.float().cpu().numpy() for t in (out.attribute_probs(), out.au_probs(), out.va()))
        )
    if not parts:
        return Scores(
            np.zeros((0, len(topology.ATTRIBUTES))), np.zeros((0, len(topology.AUS))), np.zeros((0, 2))
        )
    return Scores(*(np.concatenate(column) for column in zip(*parts, strict=True)))


def london_split(photos: list[Photo], split: str) -> tuple[list[int], np.ndarray]:
    """Indices of the London photos of `split` and their smile labels (0/1)."""
    keep = [i for i, p in enumerate(photos) if p.row.get("split") == split]
    return keep, np.array([int(photos[i].row["smile"]) for i in keep])


def _split_figures(photos: list[Photo], scores: Scores, split: str) -> dict[str, float]:
    keep, y = london_split(photos, split)
    smile = scores.attributes[keep, SMILING]
    absent = [topology.AUS.index(a) for a in NEUTRAL_ABSENT]
    neutral_aus = scores.aus[keep][y == 0][:, absent]
    return {
        "smile_auc": roc_auc(y, smile),
        "smile_accuracy": accuracy(y, (smile > 0.5).astype(int)),
        "au12_smile_auc": roc_auc(y, scores.aus[keep, AU12]),
        "valence_smile_auc": roc_auc(y, scores.va[keep, 0]),
        "neutral_au_rate": float((neutral_aus > 0.5).mean()) if neutral_aus.size else float("nan"),
    }


def _mean_probs(photos: list[Photo], scores: Scores, split: str) -> dict[str, Any]:
    keep, y = london_split(photos, split)
    out: dict[str, Any] = {"au_mean_prob": {}, "va_mean": {}}
    for name, label in (("neutral", 0), ("smiling", 1)):
        rows = [i for i, s in zip(keep, y, strict=True) if s == label]
        out["au_mean_prob"][name] = {
            key: float(scores.aus[rows, j].mean()) if rows else float("nan")
            for j, key in enumerate(topology.AU_KEYS)
        }
        out["va_mean"][name] = {
            target: float(scores.va[rows, t].mean()) if rows else float("nan")
            for t, target in enumerate(topology.VA_TARGETS)
        }
    return out


def _male_figures(found: list[Photo], scores: Scores) -> dict[str, float]:
    """male_accuracy and male_auc over every photo with a face (London and Canada)."""
    male = np.array([int(p.row["male"]) for p in found])
    p_male = scores.attributes[:, MALE]
    return {"male_accuracy": accuracy(male, (p_male > 0.5).astype(int)), "male_auc": roc_auc(male, p_male)}


def evaluate_realfaces(model: FatauvaNet, root: Path, device: str = "cpu") -> dict[str, Any]:
    """The real-photo figures of the module docstring as a JSON-ready dict."""
    photos = read_photos(root, model.config.input_size)
    found = [p for p in photos if p.crop is not None]
    scores = score_crops(model, [p.crop for p in found], device)
    test, dev = _split_figures(found, scores, "test"), _split_figures(found, scores, "dev")
    rep: dict[str, Any] = {}
    for key in test:
        rep[key], rep[f"{key}_dev"] = test[key], dev[key]
    rep.update(_male_figures(found, scores))
    rep.update(
        {
            "one_face_rate": float(np.mean([p.n_detected == 1 for p in photos])),
            "n_faces": len(found),
            "n_photos": len(photos),
        }
    )
    rep.update(_mean_probs(found, scores, "test"))
    return rep


def _flat(rep: dict[str, Any], prefix: str = "") -> list[tuple[str, Any]]:
    items: list[tuple[str, Any]] = []
    for key, value in rep.items():
        if isinstance(value, dict):
            items += _flat(value, f"{prefix}{key}.")
        else:
            items.append((prefix + key, value))
    return items


def format_realfaces(rep: dict[str, Any]) -> str:
    """The figures as aligned `name value` lines, nested ones under dotted names."""
    items = _flat(rep)
    width = max(len(k) for k, _ in items) + 2
    return "\n".join(f"{k:<{width}}{v:.4f}" if isinstance(v, float) else f"{k:<{width}}{v}" for k, v in items)
