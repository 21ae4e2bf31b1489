"""Where along the network the AU evidence stops being where the AU is: LayerCAM's pointing game for
every AU at every stage of the core, at the part branch the AU grows on and at its AU branch tap.

    python -m experiments.localisation_depth [--model SOURCE] [--faces 300] [--split val]

On the first `--faces` SynthFACS faces of `--split` (val by default: the faithfulness gate keeps the
test split), for each AU on the faces that show it (the faithfulness check's rule), each layer's
LayerCAM map of the AU's log-odds (positive gradient times activation, summed over channels, then the
library's scaling to the crop, `pytorch_grad_cam.utils.image.scale_cam_image`; equal to explain.cam's
maps, tests/test_localisation_depth.py) is scored by the
pointing game against the AU's mask. It prints a table: one row per layer (with its map side), the
mean over AUs, then one column per AU. It answers the question the next architecture change needs
(docs/explanations.md): after how many 14 x 14 blocks the maps stop pointing at the AU.
"""

import argparse

import numpy as np
import torch
from pytorch_grad_cam.utils.image import scale_cam_image
from tqdm import tqdm

from explain.faithfulness import pointing_hit, present, region_of
from explain.targets import TARGETS, scores
from fatauva.checkpoint import load_model
from fatauva.synthfacs import SynthFACSDataset
from fatauva.template import to_tensor

BATCH = 25


def layers_of(model) -> dict[str, torch.nn.Module]:
    """Every stage of the core by index ('core[i]'), then the part and AU branch taps (per AU, below)."""
    named = {f"core[{i}]": module for i, module in enumerate(model.core)}
    named.update({k: m for k, m in model.feature_modules().items() if k.startswith(("part.", "au."))})
    return named


def layercam(activation: torch.Tensor, gradient: torch.Tensor, size: int) -> np.ndarray:
    """(N, C, h, w) activation and gradient -> (N, size, size) LayerCAM maps in [0, 1]."""
    raw = (gradient.clamp(min=0) * activation).sum(dim=1).clamp(min=0)
    # The library's BaseCAM.forward: scale to the input size, then its one-layer aggregation scales again.
    return scale_cam_image(np.maximum(scale_cam_image(raw.detach().cpu().numpy(), (size, size)), 0))


def measure(model, faces: int, split: str) -> dict[str, dict[str, float]]:
    """{layer: {AU: pointing game}} over the faces that show each AU."""
    model.eval()
    dataset = SynthFACSDataset(split, faces, model.config.input_size)
    aus = [t for t in TARGETS if t.kind == "au"]
    modules = layers_of(model)
    hits: dict[str, dict[str, list[bool]]] = {name: {t.name: [] for t in aus} for name in modules}
    sides: dict[str, int] = {}
    for start in tqdm(range(0, faces, BATCH), desc="localisation", unit="batch"):
        batch = [dataset.face(i) for i in range(start, min(start + BATCH, faces))]
        captured: dict[str, torch.Tensor] = {}
        hooks = [
            m.register_forward_hook(lambda _m, _i, out, name=name, into=captured: into.__setitem__(name, out))
            for name, m in modules.items()
        ]
        try:
            x = to_tensor([f.image for f in batch]).requires_grad_(True)
            out = model(x)
        finally:
            for h in hooks:
                h.remove()
        values = scores(out)
        for t in aus:
            shown = [i for i, f in enumerate(batch) if present(f, t)]
            if not shown:
                continue
            # Layers on this AU's path: the whole core, its part branch, its own AU branch.
            names = [n for n in modules if n.startswith("core[")] + [f"part.{t.part}", t.branch]
            grads = torch.autograd.grad(
                values[:, TARGETS.index(t)].sum(), [captured[n] for n in names], retain_graph=True
            )
            for name, grad in zip(names, grads, strict=True):
                maps = layercam(captured[name][shown], grad[shown], x.shape[-1])
                sides[name] = captured[name].shape[-1]
                hits[name][t.name] += [
                    pointing_hit(m, region_of(batch[i], t)) for m, i in zip(maps, shown, strict=True)
                ]
    table = {}
    for name, per_au in hits.items():
        if name.startswith(("part.", "au.")):
            continue
        table[f"{name} ({sides[name]}x{sides[name]})"] = {
            a: float(np.mean(h)) for a, h in per_au.items() if h
        }
    # The part and AU taps differ per AU: one row each, every AU on its own part / AU branch.
    for kind in ("part", "au"):
        row, side = {}, 0
        for t in aus:
            name = f"part.{t.part}" if kind == "part" else t.branch
            if hits[name][t.name]:
                row[t.name], side = float(np.mean(hits[name][t.name])), sides[name]
        table[f"{kind} branch of each AU ({side}x{side})"] = row
    return table


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        prog="python -m experiments.localisation_depth", description=__doc__.splitlines()[0]
    )
    parser.add_argument("--model", default=None, help="weights: folder or Hub id (default: the bundled ones)")
    parser.add_argument("--faces", type=int, default=300, help="SynthFACS faces")
    parser.add_argument("--split", default="val", help="SynthFACS split")
    args = parser.parse_args(argv)
    torch.manual_seed(0)
    table = measure(load_model(args.model).model, args.faces, args.split)
    aus = [t.name for t in TARGETS if t.kind == "au"]
    print(f"{'layer':34s} {'mean':>5s} " + " ".join(f"{a:>5s}" for a in aus))
    for layer, row in table.items():
        cells = " ".join(f"{row[a]:5.2f}" if a in row else "    -" for a in aus)
        print(f"{layer:34s} {np.mean(list(row.values())):5.2f} {cells}")


if __name__ == "__main__":
    main()
