"""Which rendered traits a model reads for Male or Smiling: counterfactual SynthFACS faces.

`python -m experiments.probe_traits --model SOURCE [--attribute Male] [--faces 600] [--root DIR]` takes the
first `--faces` faces of the SynthFACS test split, splits them into those with the attribute and those
without, and renders each face again with one trait switched (the `SWITCHES` of that attribute,
everything else equal: same identity, expression, pose, light and background). It prints the
attribute's mean logit, log P(present) - log P(absent), on each group, and the mean change of that
logit when each switch is applied to the group it belongs to. A switch that moves the logit a lot is
a cue the model reads. It then prints the mean logit on the real photos of `DIR` (default
../shared/realfaces, aligned as train.realfaces aligns them; scored only, never trained on) for the
same two groups: real men and women for Male, London `dev` smiling and neutral photos for Smiling.
Comparing the two tells which synthetic cues the real faces lack (docs/training-log.md, "Why Male
fails on real photos").
"""

import argparse
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

from experiments.probe_aus import pair_logits
from fatauva import topology
from fatauva.checkpoint import load_model
from fatauva.model import FatauvaNet
from fatauva.synthfacs.attributes import attribute_values
from fatauva.synthfacs.dataset import face_params
from fatauva.synthfacs.params import FaceParams
from fatauva.synthfacs.render import render
from train.realfaces import default_root, london_split, read_photos

Switch = Callable[[FaceParams], FaceParams]


def _traits(**changes: object) -> Switch:
    return lambda p: replace(p, traits=replace(p.traits, **changes))


def _aus(**levels: float) -> Switch:
    return lambda p: replace(p, au={**p.au, **{int(k[2:]): v for k, v in levels.items()}})


@dataclass(frozen=True)
class Switches:
    """Named one-trait changes for faces with the attribute (`present`) and without it (`absent`)."""

    present: dict[str, Switch]
    absent: dict[str, Switch]
    real_groups: tuple[str, str]  # how the real photos of each group are named in the printout


SWITCHES: dict[str, Switches] = {
    # Traits.male also sets the renderer's sex dimorphism: jaw, nose, brow position and thickness,
    # lip thickness, lashes and the brow-ridge relief (fatauva/synthfacs/geometry.py, shading.py).
    "Male": Switches(
        present={
            "dimorphism to female (male=False)": _traits(male=False),
            "beard and stubble removed": _traits(beard=0.0),
            "long hair": _traits(hair_style=2),
            "all three": _traits(male=False, beard=0.0, hair_style=2),
        },
        absent={
            "dimorphism to male (male=True)": _traits(male=True),
            "short hair": _traits(hair_style=1),
            "no make-up": _traits(makeup=0.0),
            "all three": _traits(male=True, hair_style=1, makeup=0.0),
        },
        real_groups=("men", "women"),
    ),
    "Smiling": Switches(
        present={
            "AU12 off": _aus(AU12=0.0),
            "AU12 at trace (1)": _aus(AU12=1.0),
            "AU6 off": _aus(AU6=0.0),
            "lips closed (AU25, AU26 off)": _aus(AU25=0.0, AU26=0.0),
        },
        absent={
            "AU12 at 2": _aus(AU12=2.0),
            "AU12 at 3": _aus(AU12=3.0),
            "AU12 at 3 with AU6 at 2": _aus(AU12=3.0, AU6=2.0),
        },
        real_groups=("London dev smiling", "London dev neutral"),
    ),
}


def attribute_logits(
    model: FatauvaNet, crops: np.ndarray, attribute: str, batch_size: int = 64
) -> np.ndarray:
    """log P(present) - log P(absent) of `attribute` on each crop (M, S, S, 3) uint8: (M,)."""
    model.eval()
    j = topology.ATTRIBUTES.index(attribute)
    return pair_logits(model, crops, lambda out: out.attribute_logits[:, j], batch_size)


def _render_all(faces: list[FaceParams], size: int) -> np.ndarray:
    return np.stack([render(p, size, with_masks=False).image for p in faces])


@dataclass
class TraitEffects:
    """Mean logit of each group of synthetic faces and the mean change each switch makes to it."""

    base: dict[str, float]  # "present" / "absent" -> mean logit
    n: dict[str, int]
    change: dict[str, dict[str, float]]  # group -> switch name -> mean logit change


def trait_effects(model: FatauvaNet, attribute: str, n_faces: int = 600) -> TraitEffects:
    """Switch each trait of `SWITCHES[attribute]` on the first n_faces test faces (module docstring)."""
    if attribute not in SWITCHES:
        raise ValueError(f"no switches for {attribute!r}; choose from {sorted(SWITCHES)}")
    size = model.config.input_size
    faces = [face_params("test", i) for i in range(n_faces)]
    has = [attribute_values(p)[attribute] for p in faces]
    groups = {
        "present": [p for p, h in zip(faces, has, strict=True) if h],
        "absent": [p for p, h in zip(faces, has, strict=True) if not h],
    }
    switches = SWITCHES[attribute]
    base, n, change = {}, {}, {}
    for group, members in groups.items():
        n[group] = len(members)
        if not members:
            base[group], change[group] = float("nan"), {}
            continue
        before = attribute_logits(model, _render_all(members, size), attribute)
        base[group] = float(before.mean())
        change[group] = {}
        for name, switch in getattr(switches, group).items():
            after = attribute_logits(model, _render_all([switch(p) for p in members], size), attribute)
            change[group][name] = float((after - before).mean())
    return TraitEffects(base, n, change)


def real_logits(model: FatauvaNet, attribute: str, root: Path) -> dict[str, tuple[float, int]]:
    """Mean logit and count of the real photos of each group of `SWITCHES[attribute].real_groups`."""
    photos = [p for p in read_photos(root, model.config.input_size) if p.crop is not None]
    if attribute == "Male":
        picks = [[p for p in photos if p.row.get("male") == v] for v in ("1", "0")]
    else:
        keep, smile = london_split(photos, "dev")
        picks = [[photos[i] for i, s in zip(keep, smile, strict=True) if s == v] for v in (1, 0)]
    out = {}
    for name, chosen in zip(SWITCHES[attribute].real_groups, picks, strict=True):
        if not chosen:
            out[name] = (float("nan"), 0)
            continue
        logits = attribute_logits(model, np.stack([p.crop for p in chosen]), attribute)
        out[name] = (float(logits.mean()), len(chosen))
    return out


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", required=True, help="any fatauva.checkpoint.load_model source")
    parser.add_argument("--attribute", default="Male", choices=sorted(SWITCHES))
    parser.add_argument("--faces", type=int, default=600, help="SynthFACS test faces to switch")
    parser.add_argument("--root", default=None, help="real-face folder (default ../shared/realfaces)")
    args = parser.parse_args(argv)
    if args.faces < 1:
        parser.error("--faces must be at least 1")
    model = load_model(args.model).model
    effects = trait_effects(model, args.attribute, args.faces)
    print(f"{args.attribute} logit on SynthFACS test faces (first {args.faces})")
    for group in ("present", "absent"):
        print(f"  {group} ({effects.n[group]} faces): mean {effects.base[group]:+.2f}")
        for name, delta in effects.change[group].items():
            print(f"    {name:<36}{delta:+7.2f}")
    root = Path(args.root) if args.root else default_root()
    if not root.is_dir():
        print(f"no real-face folder at {root}: real photos skipped (pass --root DIR)")
        return
    print(f"{args.attribute} logit on real photos ({root})")
    for name, (mean, count) in real_logits(model, args.attribute, root).items():
        print(f"  {name} ({count} photos): mean {mean:+.2f}")


if __name__ == "__main__":
    main()
