"""The paper's V-A ablation (§4.4, Fig. 9-10) on SynthFACS, one command:

    python -m train.ablation train/configs/ablation.json [--key=value ...]
    python -m train.ablation CONFIG --shared=runs/bundled [--key=value ...]   # reuse stages 1-2

FATVA_Cls (no AU layer: the V-A layer reads the part branches, class loss), FATAUVA_Cls (class
loss) and FATAUVA_Reg (regression loss: smooth-l1 + centre loss), each scored by valence /
arousal MSE and CCC on the SynthFACS test split -> `<out_dir>/ablation.md` and `.json`.

What is shared, and why that is honest: the variants differ only in the V-A layer (its input
and its loss), which stage 3 trains with everything before it frozen. Stage 1 (core +
attribute layer) is therefore trained once and used by all three; stage 2 (AU layer) is
trained once on top of it and used by both FATAUVA variants; FATVA starts from the same
stage-1 weights and never uses an AU layer. Stage 3 is trained separately for each variant,
with the same data, seed and schedule. Runs are single-process (no torchrun). `--shared=DIR`
takes stages 1 and 2 from an earlier run of the same config (its stage1/stage2.safetensors, e.g.
the bundled weights' run) instead of training them again.

The shared stage 1 is the paper's: `stage1.au_weight` must be 0 in the config and in the `--shared`
run, since an AU loss in stage 1 would teach FATVA's core the AUs it is meant to do without.
"""

import dataclasses
import json
import shlex
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from fatauva.checkpoint import METRICS_NAME
from fatauva.topology import VA_TARGETS
from train.config import TrainConfig, load_config, parse_args
from train.train import run


@dataclass(frozen=True)
class Variant:
    """One column of Fig. 9-10: whether the V-A layer reads the AU layer, and the V-A loss."""

    name: str
    use_au_layer: bool
    va_head: str

    @property
    def starts_from(self) -> str:
        """The shared checkpoint its stage 3 starts from (module docstring)."""
        return "stage2" if self.use_au_layer else "stage1"


VARIANTS = (
    Variant("FATVA_Cls", use_au_layer=False, va_head="cls"),
    Variant("FATAUVA_Cls", use_au_layer=True, va_head="cls"),
    Variant("FATAUVA_Reg", use_au_layer=True, va_head="reg"),
)


def variant_config(base: TrainConfig, variant: Variant, shared: Path) -> TrainConfig:
    """Stage 3 of `variant`, starting from the shared checkpoint, in its own folder."""
    model = dataclasses.replace(base.model, use_au_layer=variant.use_au_layer, va_head=variant.va_head)
    return dataclasses.replace(
        base,
        model=model,
        stages=(3,),
        init_from=str(shared / f"{variant.starts_from}.safetensors"),
        out_dir=str(Path(base.out_dir) / variant.name),
    )


def va_scores(model_folder: Path) -> dict[str, Any]:
    """{valence: {mse, ccc}, arousal: {mse, ccc}, n_faces} from the metrics.json saved with a model."""
    metrics = json.loads((model_folder / METRICS_NAME).read_text())
    scores: dict[str, Any] = {t: {"mse": metrics[t]["mse"], "ccc": metrics[t]["ccc"]} for t in VA_TARGETS}
    return {**scores, "n_faces": metrics["n_faces"]}


def markdown(results: dict[str, Any]) -> str:
    """The ablation table (Fig. 9-10 as numbers)."""
    head = "| variant | AU layer | V-A loss | valence MSE | valence CCC | arousal MSE | arousal CCC |"
    lines = [head, "|---|---|---|---:|---:|---:|---:|"]
    for v in VARIANTS:
        s = results["variants"][v.name]

        def cell(x: float | None) -> str:
            return "n/a" if x is None else f"{x:.4f}"

        scores = [cell(s[t][m]) for t in VA_TARGETS for m in ("mse", "ccc")]
        loss = "class (11 bins)" if v.va_head == "cls" else "smooth-l1 + centre"
        lines.append(
            f"| {v.name} | {'yes' if v.use_au_layer else 'no'} | {loss} | " + " | ".join(scores) + " |"
        )
    n_faces = results["variants"][VARIANTS[0].name]["n_faces"]
    lines += ["", f"SynthFACS test split, {n_faces} faces. {results['shared']}"]
    return "\n".join(lines) + "\n"


def _stage1_au_weight(run_dir: Path) -> float:
    """stage1.au_weight of the run in `run_dir` (from the config.json the trainer writes; 0 without one)."""
    path = run_dir / "config.json"
    return load_config(path).stage1.au_weight if path.is_file() else 0.0


def run_ablation(base: TrainConfig, command: str, shared: Path | None = None) -> dict[str, Any]:
    """Train the shared stages once (or take them from `shared`), stage 3 per variant; write
    ablation.md / .json to base.out_dir."""
    out = Path(base.out_dir)
    if base.stage1.au_weight:
        raise ValueError(
            f"stage1.au_weight={base.stage1.au_weight:g}: the ablation needs the paper's stage 1, without "
            "an AU loss (FATVA's core would learn the AUs); run it with --stage1.au_weight=0"
        )
    if shared is not None:
        shared_weight = _stage1_au_weight(shared)
        if shared_weight:
            raise ValueError(
                f"--shared={shared} trained stage 1 with an AU loss (stage1.au_weight={shared_weight:g}); "
                "the ablation needs the paper's stage 1: leave out --shared to train it"
            )
    out.mkdir(parents=True, exist_ok=True)
    if shared is None:
        shared = out / "shared"
        run(dataclasses.replace(base, stages=(1, 2), out_dir=str(shared)), command=command)
    missing = [n for n in ("stage1.safetensors", "stage2.safetensors") if not (shared / n).is_file()]
    if missing:
        raise FileNotFoundError(f"--shared={shared} lacks {' and '.join(missing)} (a finished stage 1-2 run)")
    variants = {}
    for variant in VARIANTS:
        folder = run(variant_config(base, variant, shared), command=command)
        variants[variant.name] = va_scores(folder)
    results = {
        "variants": variants,
        "shared": "Stage 1 is shared by all variants, stage 2 by the two FATAUVA variants; "
        "stage 3 is trained per variant (train/ablation.py).",
        "command": command,
    }
    (out / "ablation.json").write_text(json.dumps(results, indent=2) + "\n")
    (out / "ablation.md").write_text(markdown(results))
    return results


def main(argv: list[str] | None = None) -> None:
    argv = sys.argv[1:] if argv is None else argv
    shared = next((Path(a.split("=", 1)[1]) for a in argv if a.startswith("--shared=")), None)
    try:
        path, overrides = parse_args([a for a in argv if not a.startswith("--shared=")])
        base = load_config(path, overrides)
        results = run_ablation(base, shlex.join(["python", "-m", "train.ablation", *argv]), shared)
    except (ValueError, FileNotFoundError) as err:
        sys.exit(f"error: {err}")
    print(markdown(results))


if __name__ == "__main__":
    main()
