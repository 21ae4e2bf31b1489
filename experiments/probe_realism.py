"""Quick SynthFACS realism probe: train a small CNN on synthetic faces only, score real photos.

`python -m experiments.probe_realism [--faces 8000] [--steps 1200] [--splits dev [test]]` renders SynthFACS
train faces, trains two small CNNs on their Smiling and Male labels (class-balanced loss, as the
trainer's sampler balances) for a fixed number of steps, then
reports smile AUC / accuracy at 0.5 and male accuracy on the London photos of each split, aligned
exactly as the app aligns them. It never trains on a real photo: the London set is only scored.
Use `dev` to guide renderer changes; report `test` (DESIGN.md, "What is known about SynthFACS
realism").
"""

import argparse
import json
import time

import numpy as np
import torch
from torch import nn

from fatauva.metrics import accuracy, roc_auc
from fatauva.template import to_tensor
from fatauva.topology import ATTRIBUTES
from train.datasets.synthpool import render_pool
from train.realfaces import default_root, read_photos

SMILING, MALE = ATTRIBUTES.index("Smiling"), ATTRIBUTES.index("Male")


def synthetic(n: int, workers: int) -> tuple[np.ndarray, np.ndarray]:
    """n rendered train faces (n, 112, 112, 3) uint8 and their (smiling, male) labels (n, 2)."""
    pool = render_pool("train", n, 112, workers=workers)
    return pool.images, pool.labels("attributes")[:, [SMILING, MALE]]


def _tower(out: int) -> nn.Sequential:
    layers, width = [], 3
    for w in (24, 48, 96):
        layers += [nn.Conv2d(width, w, 3, 2, 1, bias=False), nn.BatchNorm2d(w), nn.ReLU(inplace=True)]
        width = w
    return nn.Sequential(
        *layers, nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Dropout(0.2), nn.Linear(width, out)
    )


class ProbeNet(nn.Module):
    """Two small CNNs: Smiling from the lower-middle 56 x 56 window of the crop at full
    resolution (mouth, cheeks, chin), Male from the whole crop halved to 56 x 56. Cheap enough
    for several hundred steps in two minutes on a loaded 2-core CPU."""

    def __init__(self):
        super().__init__()
        self.smile, self.male = _tower(1), _tower(1)
        self.pool = nn.AvgPool2d(2)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        s = x.shape[-1]
        mouth = x[..., s // 2 :, s // 4 : s // 4 + s // 2]
        return torch.cat([self.smile(mouth), self.male(self.pool(x))], 1)


def train(images: np.ndarray, labels: np.ndarray, steps: int, seed: int = 0) -> nn.Module:
    """Adam on class-balanced BCE for a fixed number of steps of 64 faces; random horizontal
    flips. A step budget (not a time budget) keeps runs comparable on a shared, loaded CPU."""
    torch.manual_seed(seed)
    net = ProbeNet()
    opt = torch.optim.Adam(net.parameters(), lr=2e-3, weight_decay=1e-4)
    x_all, y_all = to_tensor(images), torch.from_numpy(labels).float()
    positives = y_all.mean(0).clamp(0.01, 0.99)
    pos_weight = (1 - positives) / positives  # balanced classes: a calibrated 0.5 threshold
    rng = np.random.default_rng(seed)
    net.train()
    for _ in range(steps):
        idx = torch.from_numpy(rng.choice(len(x_all), 64, replace=False))
        x = x_all[idx]
        if rng.random() < 0.5:
            x = x.flip(3)
        loss = nn.functional.binary_cross_entropy_with_logits(net(x), y_all[idx], pos_weight=pos_weight)
        opt.zero_grad()
        loss.backward()
        opt.step()
    net.eval()
    return net


def score(net: nn.Module, photos: list, split: str) -> dict[str, float]:
    """Smile AUC / accuracy@0.5 and male accuracy on the London photos of `split`."""
    photos = [
        p for p in photos if p.crop is not None and p.row.get("split") == split and "london" in str(p.path)
    ]
    with torch.no_grad():
        probs = torch.sigmoid(net(to_tensor(np.stack([p.crop for p in photos])))).numpy()
    smile = np.array([int(p.row["smile"]) for p in photos])
    male = np.array([int(p.row["male"]) for p in photos])
    return {
        "smile_auc": roc_auc(smile, probs[:, 0]),
        "smile_accuracy": accuracy(smile, probs[:, 0] > 0.5),
        "male_accuracy": accuracy(male, probs[:, 1] > 0.5),
        "n_photos": float(len(photos)),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--faces", type=int, default=8000)
    parser.add_argument("--steps", type=int, default=1200)
    parser.add_argument("--splits", nargs="+", choices=("dev", "test"), default=["dev"])
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()
    torch.set_num_threads(2)
    t0 = time.perf_counter()
    images, labels = synthetic(args.faces, args.workers)
    render_s = time.perf_counter() - t0
    held = max(args.faces // 8, 1)  # synthetic hold-out: did the probe learn the synthetic task?
    t1 = time.perf_counter()
    net = train(images[held:], labels[held:], args.steps)
    train_s = time.perf_counter() - t1
    with torch.no_grad():
        synth_probs = torch.sigmoid(net(to_tensor(images[:held]))).numpy()
    photos = read_photos(default_root(), 112)
    result = {
        "faces": args.faces,
        "train_steps": args.steps,
        "train_s": round(train_s, 1),
        "render_s": round(render_s, 1),
        "synthetic_smiling_rate": float(labels[:, 0].mean()),
        "synthetic_smile_auc": roc_auc(labels[:held, 0], synth_probs[:, 0]),
        "synthetic_male_auc": roc_auc(labels[:held, 1], synth_probs[:, 1]),
    }
    for split in args.splits:
        result.update({f"{split}_{k}": v for k, v in score(net, photos, split).items()})
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
