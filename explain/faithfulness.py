"""`python -m explain.faithfulness`: can each map be trusted? Measured on SynthFACS, where the
region every AU and part acts on is known, and on real photos, where landmarks outline it.

    python -m explain.faithfulness --model weights --n 500 --json runs/faithfulness.json
    python -m explain.faithfulness --model weights --n 500 --json out.json \
        --write-metrics weights/metrics.json

On the first `--n` SynthFACS test faces, for every attribute and AU on the faces that show it
(an AU at intensity >= 2, an attribute labelled present), against the mask of its region (an
AU's own mask; an attribute's part mask):
- pointing game: the share of faces where the map's maximum lies inside the region;
- energy in region: the share of the map's mass inside the region, averaged over faces;
- deletion AUC (on the first `--deletion-n` such faces): P(present) as the most-attributed
  pixels are greyed first, in tenths, against the same pixels greyed in a random order;
  faithful maps fall faster (lower AUC);
- weight randomisation (Adebayo et al. 2018, on `--randomisation-n` faces): Spearman rank
  correlation between each map and the map of the same model with freshly initialised weights;
  maps that survive randomisation show the image, not the network;
- agreement with occlusion (on the first `--occlusion-n` faces that show the unit; V-A on all of
  them): Spearman rank correlation between the map and captum's occlusion map of the same
  target (explain.occlusion), the reference for where the network reads.
`pointing_game_gradcam_branch_mean` repeats the AU pointing game with plain GradCAM at each AU
branch map, whatever `--method`; `part_response.pointing_game.<part>` scores the part responses
against the part masks on all faces; `energy_in_region.part.<part>` is the mean over the
part's attributes.

With `--real DIR` (default ../shared/realfaces; evaluation only), on the smiling London `test`
photos: the share of AU12 and Smiling map energy inside the mouth region, and of AU45 and
Narrow_Eyes energy inside the eye regions, regions cut from dlib's 68 landmarks (hull of the
points, grown by REGION_MARGIN of the distance between the eyes).

The JSON is flat (keys below); `--write-metrics PATH` also stores the record with per-target
verdicts (explain.gate) in a weights folder's metrics.json: under 'faithfulness' for the app's
default method and layer (explain.explanation.DEFAULT_METHOD on DEFAULT_LAYER), under
'faithfulness (<method> on <layer>)' for any other, so the app can mark the maps of either.
"""

import argparse
import csv
import json
import time
from pathlib import Path

import cv2
import numpy as np
import torch
from scipy.stats import spearmanr
from tqdm import tqdm

from explain.cam import BRANCH, batched_cams, canonical_method
from explain.explanation import DEFAULT_LAYER, DEFAULT_METHOD
from explain.gate import RANDOMISATION_MAX, merge_into_metrics, passes
from explain.maps import photo_to_crop
from explain.occlusion import occlusion_maps, rank_agreement
from explain.parts import part_responses
from explain.targets import TARGETS, Target, log_odds, target
from fatauva import topology
from fatauva.checkpoint import load_model, untrained_model
from fatauva.faces import align_face, detect_faces, landmarks_68
from fatauva.model import FatauvaNet
from fatauva.synthfacs import SynthFACSDataset
from fatauva.template import to_tensor

MASKED = tuple(t for t in TARGETS if t.kind != "va")
DELETION_STEPS = 10
REGION_MARGIN = 0.15
BATCH = 16
DEFAULT_REAL = Path(__file__).resolve().parents[2] / "shared" / "realfaces"


def region_of(face, t: Target) -> np.ndarray:
    """The bool (S, S) region a target should read on a SynthFACS face."""
    return face.masks[t.name] if t.kind == "au" else face.masks[t.part]


def present(face, t: Target) -> bool:
    if t.kind == "au":
        return bool(face.labels.au_present[t.index])
    return bool(face.labels.attributes[t.index])


def pointing_hit(cam: np.ndarray, region: np.ndarray) -> bool:
    """The map's maximum inside the region (first maximum in row-major order)."""
    return bool(region.flat[int(np.argmax(cam))])


def energy_in(cam: np.ndarray, region: np.ndarray) -> float:
    """Share of the map's (non-negative) mass inside the region; 0 for an empty map."""
    total = float(cam.sum())
    return float(cam[region].sum()) / total if total > 0 else 0.0


def deletion_curves(
    model: FatauvaNet, x: torch.Tensor, cam: np.ndarray, t: Target, rng: np.random.Generator
) -> tuple[float, float]:
    """(AUC ordered by the map, AUC in a random order) of P(present) as pixels are greyed
    (set to 0 in the normalised input: the dataset's mean colour) in DELETION_STEPS steps."""
    n_pixels = cam.size
    orders = [np.argsort(-cam.ravel(), kind="stable"), rng.permutation(n_pixels)]
    batch = []
    for order in orders:
        for k in range(DELETION_STEPS + 1):
            keep = torch.ones(n_pixels)
            keep[torch.from_numpy(order[: round(k * n_pixels / DELETION_STEPS)])] = 0
            batch.append(x[0] * keep.view(1, *cam.shape))
    with torch.inference_mode():
        out = model(torch.stack(batch))
    logits = out.attribute_logits if t.kind == "attribute" else out.au_logits
    probs = torch.sigmoid(log_odds(logits[:, t.index])).view(2, DELETION_STEPS + 1).numpy()
    aucs = np.trapezoid(probs, dx=1.0 / DELETION_STEPS, axis=1)
    return float(aucs[0]), float(aucs[1])


def _rho(a: np.ndarray, b: np.ndarray) -> float:
    if np.ptp(a) == 0 or np.ptp(b) == 0:
        return 0.0  # a constant map carries no ranking to keep
    return float(spearmanr(a.ravel(), b.ravel()).statistic)


def synthetic(
    model: FatauvaNet,
    n: int,
    method: str,
    layer: str,
    deletion_n: int,
    randomisation_n: int,
    occlusion_n: int = 0,
) -> tuple[dict[str, float], dict[str, dict[str, float]]]:
    """Flat summary keys and per-target rows on the first n SynthFACS test faces."""
    data = SynthFACSDataset("test", n, model.config.input_size)
    fused = model.fused()
    random_model = untrained_model(model.config).eval()
    rng = np.random.default_rng(0)
    hits = {t.name: [] for t in MASKED}
    energy = {t.name: [] for t in MASKED}
    gradcam_hits = {t.name: [] for t in MASKED if t.kind == "au"}
    deletion = {t.name: [] for t in MASKED}
    rhos = {t.name: [] for t in TARGETS}
    occluded = {t.name: [] for t in TARGETS}
    part_hits = {p: [] for p in topology.PARTS}
    for start in tqdm(range(0, n, BATCH), desc="faithfulness (SynthFACS)", unit="batch"):
        faces = [data.face(i) for i in range(start, min(start + BATCH, n))]
        x = to_tensor([f.image for f in faces])
        cams = batched_cams(model, x, TARGETS, method, layer)
        plain = cams
        if (cams.method, layer) != ("GradCAM", BRANCH):
            plain = batched_cams(model, x, tuple(t for t in MASKED if t.kind == "au"), "GradCAM", BRANCH)
        if start < randomisation_n:
            shuffled = batched_cams(random_model, x, TARGETS, method, layer)
            for t in TARGETS:
                rhos[t.name] += [
                    _rho(a, b) for a, b in zip(cams.maps[t.name], shuffled.maps[t.name], strict=True)
                ]
        for i, face in enumerate(faces):
            wanted = [
                t
                for t in TARGETS
                if len(occluded[t.name]) < occlusion_n and (t.kind == "va" or present(face, t))
            ]
            if wanted:
                reference = occlusion_maps(fused, x[i : i + 1], tuple(wanted))
                for t in wanted:
                    occluded[t.name].append(rank_agreement(cams.maps[t.name][i], reference[t.name]))
            responses = part_responses(cams.output.features, x.shape[-1], i)
            for p in topology.PARTS:
                part_hits[p].append(pointing_hit(responses[p].map, face.masks[p]))
            for t in MASKED:
                if not present(face, t):
                    continue
                cam, region = cams.maps[t.name][i], region_of(face, t)
                hits[t.name].append(pointing_hit(cam, region))
                energy[t.name].append(energy_in(cam, region))
                if t.name in gradcam_hits:
                    gradcam_hits[t.name].append(pointing_hit(plain.maps[t.name][i], region))
                if len(deletion[t.name]) < deletion_n:
                    deletion[t.name].append(deletion_curves(fused, x[i : i + 1], cam, t, rng))
    rows = {}
    for t in TARGETS:
        row = {"randomisation_rho": float(np.mean(rhos[t.name])) if rhos[t.name] else float("nan")}
        ranked = [r for r in occluded[t.name] if not np.isnan(r)]  # nan: a constant map
        if ranked:
            row["occlusion_rho"] = float(np.mean(ranked))
        if t.kind != "va" and hits[t.name]:
            curves = np.array(deletion[t.name])
            row.update(
                n_faces=len(hits[t.name]),
                pointing_game=float(np.mean(hits[t.name])),
                energy_in_region=float(np.mean(energy[t.name])),
                deletion_auc=float(curves[:, 0].mean()),
                deletion_auc_random=float(curves[:, 1].mean()),
            )
        row["passed"] = passes(row, t.kind)
        rows[t.name] = row
    return _summary(rows, gradcam_hits, part_hits), rows


def _summary(rows: dict, gradcam_hits: dict, part_hits: dict) -> dict[str, float]:
    au_rows = {k: rows[k] for k in topology.AU_KEYS if "pointing_game" in rows[k]}
    attr_rows = {a: rows[a] for a in topology.ATTRIBUTES if "pointing_game" in rows[a]}
    summary: dict[str, float] = {
        "pointing_game_mean": float(np.mean([r["pointing_game"] for r in au_rows.values()])),
        "pointing_game_min": float(min(r["pointing_game"] for r in au_rows.values())),
        "pointing_game_gradcam_branch_mean": float(np.mean([np.mean(h) for h in gradcam_hits.values() if h])),
        "energy_in_region_mean": float(np.mean([r["energy_in_region"] for r in au_rows.values()])),
        "deletion_auc_mean": float(np.mean([r["deletion_auc"] for r in au_rows.values()])),
        "deletion_auc_random_mean": float(np.mean([r["deletion_auc_random"] for r in au_rows.values()])),
        "deletion_below_random_aus": float(
            sum(r["deletion_auc"] < r["deletion_auc_random"] for r in au_rows.values())
        ),
        "pointing_game_attribute_mean": float(np.mean([r["pointing_game"] for r in attr_rows.values()])),
        "randomisation_rho_mean": float(np.nanmean([r["randomisation_rho"] for r in rows.values()])),
    }
    summary["randomisation_check_passed"] = float(
        all(
            r["randomisation_rho"] < RANDOMISATION_MAX
            for r in rows.values()
            if not np.isnan(r["randomisation_rho"])
        )
    )
    occlusion_rhos = [r["occlusion_rho"] for r in au_rows.values() if "occlusion_rho" in r]
    if occlusion_rhos:
        summary["occlusion_rho_mean"] = float(np.mean(occlusion_rhos))
    for name, r in au_rows.items():
        summary[f"pointing_game.{name}"] = r["pointing_game"]
        summary[f"energy_in_region.{name}"] = r["energy_in_region"]
        if "occlusion_rho" in r:
            summary[f"occlusion_rho.{name}"] = r["occlusion_rho"]
    for part in topology.PARTS:
        names = [a for a in topology.PART_ATTRIBUTES[part] if a in attr_rows]
        if names:
            summary[f"pointing_game.part.{part}"] = float(np.mean([rows[a]["pointing_game"] for a in names]))
            summary[f"energy_in_region.part.{part}"] = float(
                np.mean([rows[a]["energy_in_region"] for a in names])
            )
        summary[f"part_response.pointing_game.{part}"] = float(np.mean(part_hits[part]))
    return summary


# ----- real photos (evaluation only) ---------------------------------------------------------------
MOUTH = slice(48, 68)
EYES = (slice(36, 42), slice(42, 48))
REAL_TARGETS = {"AU12": "mouth", "Smiling": "mouth", "AU45": "eyes", "Narrow_Eyes": "eyes"}


def landmark_regions(points: np.ndarray, size: int) -> dict[str, np.ndarray]:
    """Mouth and eye regions (bool (size, size)) from 68 crop-pixel landmarks: hulls of the
    points, grown by REGION_MARGIN of the distance between the eye centres."""
    grow = REGION_MARGIN * float(np.linalg.norm(points[EYES[0]].mean(0) - points[EYES[1]].mean(0)))
    regions = {}
    for name, groups in (("mouth", (MOUTH,)), ("eyes", EYES)):
        canvas = np.zeros((size, size), np.uint8)
        for group in groups:
            hull = cv2.convexHull(points[group].astype(np.float32)).reshape(-1, 2)
            centre = hull.mean(0)
            away = hull - centre
            grown = centre + away * (1 + grow / (np.linalg.norm(away, axis=1, keepdims=True) + 1e-6))
            cv2.fillPoly(canvas, [np.round(grown).astype(np.int32)], 1)
        regions[name] = canvas.astype(bool)
    return regions


def smiling_test_photos(root: Path) -> list[Path]:
    """The smiling London photos of the `test` split (labels/london_faces.csv)."""
    table = root / "labels" / "london_faces.csv"
    if not table.is_file():
        raise FileNotFoundError(f"no {table}: pass --real DIR, the folder holding labels/ and images/")
    with table.open(newline="") as f:
        return [root / r["file"] for r in csv.DictReader(f) if r["split"] == "test" and r["smile"] == "1"]


def real(model: FatauvaNet, root: Path, method: str, layer: str) -> dict[str, float]:
    """Over the smiling London test faces: the mean share of each target's map energy in its landmark
    region (`real_<target>_<region>_energy`), how often the map's maximum falls inside it
    (`..._pointing`), and the region's share of the crop (`real_<region>_share`: what a map spread
    evenly over the face would score, the chance level of both)."""
    size = model.config.input_size
    energies = {name: [] for name in REAL_TARGETS}
    hits = {name: [] for name in REAL_TARGETS}
    shares = {region: [] for region in set(REAL_TARGETS.values())}
    chosen = tuple(target(name) for name in REAL_TARGETS)
    for path in tqdm(smiling_test_photos(root), desc="faithfulness (real photos)", unit="photo"):
        image = cv2.imread(str(path), cv2.IMREAD_COLOR)
        if image is None:
            continue
        photo = cv2.cvtColor(image, cv2.COLOR_BGR2RGB)
        faces = detect_faces(photo)
        if not faces:
            continue
        crop = align_face(photo, faces[0].landmarks, size)
        matrix = photo_to_crop(faces[0].landmarks, size)
        points = landmarks_68(photo, faces[0]) @ matrix[:, :2].T + matrix[:, 2]
        regions = landmark_regions(points, size)
        cams = batched_cams(model, to_tensor(crop), chosen, method, layer)
        for region in shares:
            shares[region].append(float(regions[region].mean()))
        for name, region in REAL_TARGETS.items():
            energies[name].append(energy_in(cams.maps[name][0], regions[region]))
            hits[name].append(pointing_hit(cams.maps[name][0], regions[region]))
    out = {}
    for name, region in REAL_TARGETS.items():
        out[f"real_{name.lower()}_{region}_energy"] = float(np.mean(energies[name]))
        out[f"real_{name.lower()}_{region}_pointing"] = float(np.mean(hits[name]))
    out.update({f"real_{region}_share": float(np.mean(v)) for region, v in sorted(shares.items())})
    out["real_n_faces"] = float(len(energies["AU12"]))
    return out


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(
        prog="python -m explain.faithfulness", description=__doc__.splitlines()[0]
    )
    parser.add_argument(
        "--model", default=None, help="weights: folder, Hub id (default: FATAUVA_MODEL, bundled)"
    )
    parser.add_argument("--n", type=int, default=500, help="SynthFACS test faces")
    parser.add_argument("--json", type=Path, required=True, help="write the flat results here")
    parser.add_argument("--method", default=DEFAULT_METHOD, help="CAM method (explain.cam.METHODS)")
    parser.add_argument(
        "--layer", default=DEFAULT_LAYER, help="'branch' (each target's own branch) or a feature name"
    )
    parser.add_argument("--deletion-n", type=int, default=30, help="faces per target in the deletion test")
    parser.add_argument("--randomisation-n", type=int, default=32, help="faces in the randomisation check")
    parser.add_argument(
        "--occlusion-n", type=int, default=8, help="faces per target scored against occlusion (0: skip)"
    )
    parser.add_argument(
        "--real", type=Path, nargs="?", const=DEFAULT_REAL, default=None, help="real-photo folder"
    )
    parser.add_argument("--write-metrics", type=Path, help="merge the record into this metrics.json")
    args = parser.parse_args(argv)
    torch.set_num_threads(1)
    loaded = load_model(args.model)
    model = loaded.model.eval()
    method = canonical_method(args.method)
    started = time.perf_counter()
    summary, rows = synthetic(
        model, args.n, method, args.layer, args.deletion_n, args.randomisation_n, args.occlusion_n
    )
    summary.update(method=method, layers=args.layer, n=args.n, model=loaded.location, sha256=loaded.sha256)
    if args.real is not None:
        summary.update(real(model, args.real, method, args.layer))
    summary["seconds"] = time.perf_counter() - started
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps({**summary, "targets": rows}, indent=2) + "\n")
    if args.write_metrics:
        default = (method, args.layer) == (DEFAULT_METHOD, DEFAULT_LAYER)
        merge_into_metrics(args.write_metrics, {**summary, "layer": args.layer, "targets": rows}, default)
    for key, value in summary.items():
        print(f"{key:44s} {value}")
    return summary


if __name__ == "__main__":
    main()
