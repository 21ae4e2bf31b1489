"""Why the AU layer stops where it does: how much each AU shows in the pixels, and how much of
it the frozen part maps still carry. Diagnostics for docs/training-log.md ("What limits the AUs
and V-A", "AU4 (brow lowerer) on real neutral faces").

`python -m experiments.probe_aus cue [--faces 60] [--size 112]` renders neutral SynthFACS faces with one
AU at FACS level 1 (trace, labelled absent) and at level 2 (present), everything else equal, and
prints per AU the summed per-pixel change between the two (the largest of the RGB changes, in
full-scale pixels), with 0 -> 5 for scale. A small trace-to-present change is a label that is hard
to see, whatever the network.

`python -m experiments.probe_aus features --model SOURCE [--train 8000] [--val 2000] [--grid 3]` fits a
logistic regression (scikit-learn) per AU on the part map its AU branch grows on (Table 3), frozen
as stage 1 left it and averaged over a grid x grid of cells, and prints its validation AUC. Stages
2 and 3 never change the part maps, so a finished model (any `load_model` source) probes its stage 1.

`python -m experiments.probe_aus levels --model SOURCE [--faces 2000]` scores the test split and prints, per
AU, the AUC of P(AU) that separates the faces at each FACS level 1-5 from the faces at level 0, and
the AU's AUC over all faces with and without its trace-level (1, labelled absent) faces. It tells a
model that confuses trace with present from one that misses clearly present AUs.

`python -m experiments.probe_aus va-ceiling [--train 24000] [--test 2000]` fits a gradient-boosted regressor
(scikit-learn) of valence and of arousal on the train split's *true* AU labels and prints its CCC on
the test split: from the 14 present/absent labels the AU layer is trained on, and from the FACS levels
0-5. That is what a V-A layer reading perfect AU features of each kind could reach; no image is drawn.

`python -m experiments.probe_aus geometry-ceiling [--train 5000] [--test 2000]` fits a gradient-boosted
classifier (scikit-learn) per AU on the renderer's own frontal contours of each face (lids, brows, lips,
jaw; `geometry_features`: no pose, lighting or pixels, identity traits mixed in) and prints its F1 at
0.5 and its AUC on the test split. It tells whether the AU labels can be read from the shapes SynthFACS
draws at all. If they can, a shortfall of the AU layer lies between those shapes and the network:
in how visibly they are drawn at 112 px (`cue`), or in learning to see them.

`python -m experiments.probe_aus real-occlusion --model SOURCE [--au 4] [--split dev] [--smile 0]` asks where
an AU call on real photos comes from. It aligns the London photos of `../shared/realfaces` of one split
and expression (as train.realfaces does; scored only, never trained on), blurs one square patch at a
time (16 px, stride 8, a Gaussian of sigma 5 px) and prints the mean drop of the AU's logit per patch
position, then mean P(AU) with whole bands blurred (brows to nose top, mouth, all). A large drop marks
the pixels the call rests on; `dev` is the split to study (docs/training-log.md, "AU4"). With
`--png PATH` it also draws the map over the mean crop of those photos (red: the call rests there).
"""

import argparse
from collections.abc import Callable
from dataclasses import replace

import cv2
import numpy as np
import torch
from sklearn.ensemble import HistGradientBoostingClassifier, HistGradientBoostingRegressor
from sklearn.linear_model import LogisticRegression

from fatauva import topology
from fatauva.checkpoint import load_model
from fatauva.metrics import ccc, f1, roc_auc
from fatauva.model import FatauvaNet, FatauvaOutput, pool_cells
from fatauva.synthfacs.align import aligned
from fatauva.synthfacs.dataset import face_params
from fatauva.synthfacs.geometry import build
from fatauva.synthfacs.params import FaceParams
from fatauva.synthfacs.render import labels_of, render
from fatauva.template import to_tensor
from train.datasets import synthfacs_dataset
from train.datasets.synthpool import SynthFACSPool, render_pool
from train.evaluate import predict

TRACE, PRESENT, FULL = 1.0, 2.0, 5.0
# Bands of the aligned crop, (top, bottom, left, right) as fractions of its side.
BANDS = {"brows": (0.18, 0.45, 0.13, 0.87), "mouth": (0.62, 0.90, 0.22, 0.78), "all": (0.0, 1.0, 0.0, 1.0)}


def neutral_faces(n: int, seed: int = 7) -> list[FaceParams]:
    """n random faces with every AU at 0 (identity, scene and pose as drawn), framed as the splits are."""
    rng = np.random.default_rng(seed)
    faces = []
    while len(faces) < n:
        p = FaceParams.random(rng, "emotion")
        faces.append(aligned(replace(p, au={au: 0.0 for au in topology.AUS}, emotion="neutral"), rng))
    return faces


def _change(a: FaceParams, b: FaceParams, size: int) -> float:
    """Summed per-pixel change between two renders: max over RGB of |a - b|, in full-scale pixels."""
    ia = render(a, size, with_masks=False).image.astype(np.float32)
    ib = render(b, size, with_masks=False).image.astype(np.float32)
    return float(np.abs(ia - ib).max(axis=-1).sum() / 255.0)


def au_cues(n_faces: int = 60, size: int = 112) -> dict[int, tuple[float, float]]:
    """AU -> (mean change trace -> present, mean change 0 -> 5) over `n_faces` neutral faces."""
    faces = neutral_faces(n_faces)
    cues = {}
    for au in topology.AUS:
        step = [_change(p.with_au(au, TRACE), p.with_au(au, PRESENT), size) for p in faces]
        span = [_change(p, p.with_au(au, FULL), size) for p in faces]
        cues[au] = (float(np.mean(step)), float(np.mean(span)))
    return cues


def part_features(
    model: FatauvaNet, pool: SynthFACSPool, grid: int, batch: int = 250
) -> dict[str, np.ndarray]:
    """Part name -> (N, C * grid**2) cell averages of that part map for every face of `pool`."""
    out: dict[str, list[np.ndarray]] = {p: [] for p in topology.PARTS}
    model.eval()
    with torch.no_grad():
        for s in range(0, len(pool), batch):
            features = model.part_maps(to_tensor(np.ascontiguousarray(pool.images[s : s + batch])))
            for p in topology.PARTS:
                out[p].append(pool_cells(features[f"part.{p}"], grid).float().numpy())
    return {p: np.concatenate(v) for p, v in out.items()}


def probe_parts(
    model: FatauvaNet, train: SynthFACSPool, val: SynthFACSPool, grid: int = 3
) -> dict[str, float]:
    """AU key -> validation AUC of a logistic regression on its part map (standardised cells)."""
    ftr, fva = part_features(model, train, grid), part_features(model, val, grid)
    for p in topology.PARTS:  # standardise each part's cells with the training faces' statistics
        mu, sd = ftr[p].mean(0), ftr[p].std(0) + 1e-6
        ftr[p], fva[p] = (ftr[p] - mu) / sd, (fva[p] - mu) / sd
    ytr, yva = train.labels("aus"), val.labels("aus")
    aucs = {}
    for j, au in enumerate(topology.AUS):
        part = topology.AU_PART[au]
        if len(np.unique(ytr[:, j])) < 2 or len(np.unique(yva[:, j])) < 2:
            aucs[topology.au_key(au)] = float("nan")  # a label without both classes cannot be probed
            continue
        clf = LogisticRegression(C=0.05, max_iter=1000).fit(ftr[part], ytr[:, j])
        aucs[topology.au_key(au)] = roc_auc(yva[:, j], clf.predict_proba(fva[part])[:, 1])
    return aucs


def auc_by_level(probs: np.ndarray, intensity: np.ndarray, min_faces: int = 5) -> dict[str, dict[int, float]]:
    """AU key -> {FACS level k: AUC of probs separating the level-k faces from the level-0 faces}.

    probs (N, 14) P(AU present), intensity (N, 14) FACS levels 0-5, both in topology.AUS order;
    a level held by fewer than `min_faces` faces is left out (its AUC would be noise).
    """
    out = {}
    for j, au in enumerate(topology.AUS):
        off = probs[intensity[:, j] == 0, j]
        levels = {}
        for k in range(1, int(FULL) + 1):
            on = probs[intensity[:, j] == k, j]
            if len(on) >= min_faces and len(off) >= min_faces:
                levels[k] = roc_auc(np.r_[np.zeros(len(off)), np.ones(len(on))], np.r_[off, on])
        out[topology.au_key(au)] = levels
    return out


def auc_without_trace(probs: np.ndarray, intensity: np.ndarray) -> dict[str, tuple[float, float]]:
    """AU key -> (AUC over every face, AUC without the trace-level faces), present = level >= PRESENT."""
    out = {}
    for j, au in enumerate(topology.AUS):
        present, keep = (intensity[:, j] >= PRESENT).astype(int), intensity[:, j] != TRACE
        out[topology.au_key(au)] = (
            roc_auc(present, probs[:, j]),
            roc_auc(present[keep], probs[keep, j]),
        )
    return out


def au_va_labels(split: str, n: int) -> dict[str, np.ndarray]:
    """Faces 0..n-1 of a SynthFACS split, without drawing them: their AU labels as 'present' (n, 14)
    0/1 and as 'intensity' (n, 14) FACS levels, and 'va' (n, 2)."""
    return labels_of_params([face_params(split, i) for i in range(n)])


def labels_of_params(params: list[FaceParams]) -> dict[str, np.ndarray]:
    """`au_va_labels` of faces whose parameters are already drawn."""
    no_landmarks = np.zeros((5, 2), np.float32)
    labels = [labels_of(p, no_landmarks) for p in params]
    return {
        "present": np.stack([lab.au_present for lab in labels]),
        "intensity": np.stack([lab.au_intensity for lab in labels]),
        "va": np.array([[lab.valence, lab.arousal] for lab in labels]),
    }


def va_ceiling(n_train: int = 24000, n_test: int = 2000) -> dict[str, tuple[float, float]]:
    """AU feature kind ('present', 'intensity') -> (valence CCC, arousal CCC) on the test split of a
    regressor fitted on the train split's true AU labels of that kind."""
    train, test = au_va_labels("train", n_train), au_va_labels("test", n_test)
    out = {}
    for kind in ("present", "intensity"):
        cccs = []
        for t in range(2):
            reg = HistGradientBoostingRegressor(max_iter=300, random_state=0)
            reg.fit(train[kind], train["va"][:, t])
            cccs.append(ccc(test["va"][:, t], reg.predict(test[kind])))
        out[kind] = (cccs[0], cccs[1])
    return out


def geometry_features(params: FaceParams, size: int = 112) -> np.ndarray:
    """One face's frontal contours as a flat float32 vector, in pixels of a size x size crop: each
    eye's lids, crease and brow relative to its centre, with its opening; the lips, their corners,
    the closed-lip line and the nostrils relative to the nose tip; the mouth opening, chin height,
    jaw drop, cheek, jaw and nose half-widths. The same length for every face."""
    g = build(params, size)
    parts: list = []
    for eye, brow in zip(g.eyes, g.brows, strict=True):
        for contour in (eye.upper, eye.lower, eye.crease, brow.centre, brow.top, brow.bottom):
            parts.append(contour - eye.centre)
        parts.append([eye.opening, eye.height_up, eye.height_low])
    m = g.mouth
    for contour in (m.upper_top, m.upper_bottom, m.lower_top, m.lower_bottom, m.corners, m.line, g.nostrils):
        parts.append(contour - g.nose_tip)
    parts.append([m.opening, g.chin_y, g.jaw_drop, g.cheek_half_width, g.jaw_half_width, g.nose_half_width])
    return np.concatenate([np.asarray(x, np.float32).ravel() for x in parts])


def au_geometry_ceiling(
    n_train: int = 5000, n_test: int = 2000, max_iter: int = 300
) -> dict[str, tuple[float, float]]:
    """AU key -> (F1 at P > 0.5, AUC) on test-split faces 0..n_test-1 of a gradient-boosted classifier
    fitted per AU on `geometry_features` of train-split faces 0..n_train-1 (labels: present from FACS
    level 2, as the AU layer is trained; a tenth held out to stop the boosting). No image is drawn."""
    data = {}
    for split, n in (("train", n_train), ("test", n_test)):
        params = [face_params(split, i) for i in range(n)]
        data[split] = (np.stack([geometry_features(p) for p in params]), labels_of_params(params)["present"])
    (x_train, y_train), (x_test, y_test) = data["train"], data["test"]
    out = {}
    for j, au in enumerate(topology.AUS):
        clf = HistGradientBoostingClassifier(max_iter=max_iter, early_stopping=True, random_state=0)
        clf.fit(x_train, y_train[:, j])
        prob = clf.predict_proba(x_test)[:, 1]
        out[topology.au_key(au)] = (f1(y_test[:, j], prob > 0.5), roc_auc(y_test[:, j], prob))
    return out


@torch.no_grad()
def pair_logits(
    model: torch.nn.Module,
    crops: np.ndarray,
    pick: Callable[[FatauvaOutput], torch.Tensor],
    batch_size: int = 64,
) -> np.ndarray:
    """log P(present) - log P(absent) of one binary output of each crop (M, S, S, 3) uint8: (M,).
    `pick` takes that output's (N, 2) logits from a forward pass."""
    out = []
    for i in range(0, len(crops), batch_size):
        pair = pick(model(to_tensor(crops[i : i + batch_size]))).float()
        out.append((pair[:, 1] - pair[:, 0]).cpu().numpy())
    return np.concatenate(out) if out else np.zeros(0)


def au_logits(model: torch.nn.Module, crops: np.ndarray, au: int, batch_size: int = 64) -> np.ndarray:
    """The AU's logit, log P(present) - log P(absent), of each crop (M, S, S, 3) uint8: (M,)."""
    j = topology.AUS.index(au)
    return pair_logits(model, crops, lambda out: out.au_logits[:, j], batch_size)


def occlusion(
    model: torch.nn.Module, crops: np.ndarray, au: int, patch: int = 16, stride: int = 8, sigma: float = 5.0
) -> tuple[np.ndarray, np.ndarray, dict[str, float]]:
    """Where an AU call rests. Returns the AU logit of each crop (M,), the mean drop of that logit when
    the patch at each grid position is replaced by the same pixels blurred (R, R), row-major from the top
    left, and mean P(AU) with each of BANDS blurred."""
    model.eval()
    crops = np.asarray(crops)
    size = crops.shape[1]
    blurred = np.stack([cv2.GaussianBlur(c, (0, 0), sigma) for c in crops])
    base = au_logits(model, crops, au)

    def blur(y0: int, y1: int, x0: int, x1: int) -> np.ndarray:
        out = crops.copy()
        out[:, y0:y1, x0:x1] = blurred[:, y0:y1, x0:x1]
        return au_logits(model, out, au)

    starts = range(0, size - patch + 1, stride)
    drop = np.array(
        [[float(np.mean(base - blur(y, y + patch, x, x + patch))) for x in starts] for y in starts]
    )
    bands = {
        name: float(np.mean(1.0 / (1.0 + np.exp(-blur(*(round(f * size) for f in box))))))
        for name, box in BANDS.items()
    }
    return base, drop, bands


def occlusion_image(
    crops: np.ndarray, drop: np.ndarray, stride: int = 8, patch: int = 16, scale: int = 4
) -> np.ndarray:
    """The mean crop (uint8 RGB, `scale` x its size) with the positive part of an occlusion map laid
    over it in red: each pixel gets the mean drop of the patches covering it, scaled so the strongest
    drop is full red. Negative drops (blurring raised the call) are not drawn."""
    size = crops.shape[1]
    heat, cover = np.zeros((size, size)), np.zeros((size, size))
    for i in range(drop.shape[0]):
        for j in range(drop.shape[1]):
            heat[i * stride : i * stride + patch, j * stride : j * stride + patch] += drop[i, j]
            cover[i * stride : i * stride + patch, j * stride : j * stride + patch] += 1
    heat = np.clip(heat / np.maximum(cover, 1), 0, None)
    heat = heat / heat.max() if heat.max() > 0 else heat
    base = crops.astype(np.float32).mean(axis=0)
    red = np.zeros_like(base)
    red[..., 0] = 255
    alpha = 0.65 * heat[..., None]
    out = np.clip((1 - alpha) * base + alpha * red, 0, 255).astype(np.uint8)
    return cv2.resize(out, (size * scale, size * scale), interpolation=cv2.INTER_NEAREST)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=" ".join(__doc__.split("\n\n")[0].split()))
    sub = parser.add_subparsers(dest="command", required=True)
    cue = sub.add_parser("cue", help="pixel change from trace to present, per AU")
    cue.add_argument("--faces", type=int, default=60)
    cue.add_argument("--size", type=int, default=112)
    feats = sub.add_parser("features", help="logistic-regression AUC of each AU on its frozen part map")
    feats.add_argument("--model", required=True, help="any fatauva.checkpoint.load_model source")
    feats.add_argument("--train", type=int, default=8000)
    feats.add_argument("--val", type=int, default=2000)
    feats.add_argument("--grid", type=int, default=3)
    feats.add_argument("--workers", type=int, default=2)
    levels = sub.add_parser("levels", help="AUC of each AU per FACS level against its level-0 faces")
    levels.add_argument("--model", required=True, help="any fatauva.checkpoint.load_model source")
    levels.add_argument("--faces", type=int, default=2000)
    ceiling = sub.add_parser("va-ceiling", help="V-A CCC reachable from perfect AU labels")
    ceiling.add_argument("--train", type=int, default=24000)
    ceiling.add_argument("--test", type=int, default=2000)
    geo = sub.add_parser("geometry-ceiling", help="AU F1 and AUC reachable from the renderer's own contours")
    geo.add_argument("--train", type=int, default=5000)
    geo.add_argument("--test", type=int, default=2000)
    occ = sub.add_parser("real-occlusion", help="which pixels of real photos an AU call rests on")
    occ.add_argument("--model", required=True, help="any fatauva.checkpoint.load_model source")
    occ.add_argument("--au", type=int, default=4, choices=topology.AUS)
    occ.add_argument("--split", default="dev", choices=("dev", "test"))
    occ.add_argument("--smile", default="0", choices=("0", "1"), help="0 neutral, 1 smiling photos")
    occ.add_argument("--root", default=None, help="real-face folder (default ../shared/realfaces)")
    occ.add_argument("--png", default=None, help="also draw the map over the mean crop into this PNG")
    args = parser.parse_args(argv)
    if args.command == "va-ceiling":
        print(f"{'AU features':<14}{'valence CCC':>12}{'arousal CCC':>13}   (test split, {args.test} faces)")
        for kind, (v, a) in va_ceiling(args.train, args.test).items():
            print(f"{kind:<14}{v:12.3f}{a:13.3f}")
        return
    if args.command == "geometry-ceiling":
        print(f"{'AU':<6}{'F1':>7}{'AUC':>8}   (test split, {args.test} faces; {args.train} training faces)")
        rows = au_geometry_ceiling(args.train, args.test)
        for key, (f1_at_half, auc) in rows.items():
            print(f"{key:<6}{f1_at_half:7.3f}{auc:8.3f}")
        f1s, aucs = zip(*rows.values(), strict=True)
        print(f"{'mean':<6}{np.mean(f1s):7.3f}{np.mean(aucs):8.3f}")
        return
    if args.command == "cue":
        print(f"{'AU':<6}{'trace->present':>16}{'0->5':>10}   (summed per-pixel change, {args.faces} faces)")
        for au, (step, span) in au_cues(args.faces, args.size).items():
            print(f"{topology.au_key(au):<6}{step:16.2f}{span:10.2f}")
        return
    model = load_model(args.model).model
    size = model.config.input_size
    if args.command == "real-occlusion":
        _print_occlusion(model, args)
        return
    if args.command == "levels":
        probs = predict(model, synthfacs_dataset("test", args.faces, size)).au_probs
        intensity = au_va_labels("test", args.faces)["intensity"]
        by_level, overall = auc_by_level(probs, intensity), auc_without_trace(probs, intensity)
        print(
            f"{'AU':<6}" + "".join(f"{f'L{k} vs 0':>9}" for k in range(1, 6)) + f"{'all':>8}{'no trace':>10}"
        )
        for key, row in by_level.items():
            cells = "".join(f"{row[k]:9.3f}" if k in row else f"{'-':>9}" for k in range(1, 6))
            print(f"{key:<6}{cells}{overall[key][0]:8.3f}{overall[key][1]:10.3f}")
        means = np.mean([v for v in overall.values()], axis=0)
        print(f"{'mean':<6}{'':>45}{means[0]:8.3f}{means[1]:10.3f}   (test split, {args.faces} faces)")
        return
    train = render_pool("train", args.train, size, workers=args.workers)
    val = render_pool("val", args.val, size, workers=args.workers)
    print(f"{'AU':<6}{'part':<10}{'AUC':>7}   (logistic regression, {args.grid}x{args.grid} cells)")
    aucs = probe_parts(model, train, val, args.grid)
    for au, (key, auc) in zip(topology.AUS, aucs.items(), strict=True):
        print(f"{key:<6}{topology.AU_PART[au]:<10}{auc:7.3f}")


def _print_occlusion(model: FatauvaNet, args: argparse.Namespace) -> None:
    from pathlib import Path

    from train.realfaces import default_root, london_split, read_photos

    photos = read_photos(Path(args.root) if args.root else default_root(), model.config.input_size)
    keep, smile = london_split(photos, args.split)
    chosen = [
        photos[i].crop
        for i, s in zip(keep, smile, strict=True)
        if s == int(args.smile) and photos[i].crop is not None
    ]
    if not chosen:
        raise SystemExit(f"no London {args.split} photos with smile={args.smile} and a detected face")
    base, drop, bands = occlusion(model, np.stack(chosen), args.au)
    key = topology.au_key(args.au)
    kind = "smiling" if args.smile == "1" else "neutral"
    mean_p = float(np.mean(1 / (1 + np.exp(-base))))
    print(f"{key} on {len(chosen)} {kind} London {args.split} photos: mean P {mean_p:.3f}")
    print(f"mean drop of the {key} logit when a 16 px patch is blurred (rows: patch top, px)")
    for y, row in zip(range(0, 8 * len(drop), 8), drop, strict=True):
        print(f"{y:4d} " + " ".join(f"{v:5.2f}" for v in row))
    for name, p in bands.items():
        print(f"mean P({key}) with the {name} band blurred: {p:.3f}")
    if args.png:
        image = occlusion_image(np.stack(chosen), drop)
        if not cv2.imwrite(args.png, cv2.cvtColor(image, cv2.COLOR_RGB2BGR)):
            raise SystemExit(f"could not write {args.png}")
        print(f"map drawn into {args.png}")


if __name__ == "__main__":
    main()
