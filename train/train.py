"""Train FATAUVA-Net in the three stages of §3, one command for one stage or all three.

    python -m train.train train/configs/bundled.json                 # all stages of the config
    python -m train.train train/configs/bundled.json --stages=3 --stage3.lr=1e-3
    python -m train.train --dry-run --out_dir=/tmp/dry               # a few steps of every stage
    torchrun --nproc_per_node 2 -m train.train CONFIG                # data-parallel (gloo / nccl)

Shaped after nanoGPT's train.py: config as data, then one straight loop. Each epoch ends with
an atomic checkpoint (`out_dir/last.safetensors`, see train.state) and `out_dir/stage<k>.safetensors`
at the end of a stage; a restarted command resumes exactly where the last checkpoint left off.
The finished run is saved with fatauva.checkpoint.save_model to `out_dir/model/`, its model card
carrying the SynthFACS test metrics and this exact command.
"""

import csv
import json
import os
import shlex
import sys
import time
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass
from pathlib import Path

import torch
import torch.distributed as dist
from torch import nn
from torch.nn.parallel import DistributedDataParallel
from torch.utils.data import DataLoader
from torch.utils.tensorboard import SummaryWriter
from tqdm import tqdm

from fatauva.checkpoint import load_model, save_model
from fatauva.model import FatauvaNet
from train.augment import Augment
from train.config import SYNTH, TrainConfig, describe, load_config, parse_args
from train.evaluate import evaluate_synthfacs, stage_metric
from train.sampling import DistributedWeightedSampler
from train.stages import STAGE_TASK, StageData, StageObjective, learning_rate, make_optimizer, stage_data
from train.state import Progress, TrainState, load_state, restore_rng, save_state


@dataclass
class Runtime:
    """Where this process runs: its rank among `world` processes and its device."""

    rank: int
    world: int
    device: torch.device

    @property
    def main(self) -> bool:
        return self.rank == 0


def setup_runtime(device: str) -> Runtime:
    """Join the torchrun process group when launched by torchrun (gloo on CPU, nccl on GPU)."""
    if device == "auto":
        device = "cuda" if torch.cuda.is_available() else "cpu"
    world = int(os.environ.get("WORLD_SIZE", "1"))
    if world == 1:
        return Runtime(0, 1, torch.device(device))
    local_rank = int(os.environ["LOCAL_RANK"])
    if device.startswith("cuda"):
        torch.cuda.set_device(local_rank)
        dist.init_process_group("nccl")
        return Runtime(dist.get_rank(), world, torch.device("cuda", local_rank))
    dist.init_process_group("gloo")
    return Runtime(dist.get_rank(), world, torch.device(device))


class RunLog:
    """Scalars to `log.csv` (long format: step, stage, epoch, tag, value) and TensorBoard."""

    def __init__(self, out_dir: Path, enabled: bool):
        self.enabled = enabled
        if not enabled:
            return
        self.csv_path = out_dir / "log.csv"
        new = not self.csv_path.exists()
        self.file = self.csv_path.open("a", newline="")
        self.writer = csv.writer(self.file)
        if new:
            self.writer.writerow(["time", "step", "stage", "epoch", "tag", "value"])
        self.tb = SummaryWriter(str(out_dir / "tensorboard"))

    def scalars(self, step: int, stage: int, epoch: int, values: dict[str, float]) -> None:
        if not self.enabled:
            return
        for tag, value in values.items():
            self.writer.writerow([f"{time.time():.3f}", step, stage, epoch, tag, f"{value:.6g}"])
            self.tb.add_scalar(tag, value, step)
        self.file.flush()

    def close(self) -> None:
        if self.enabled:
            self.file.close()
            self.tb.close()


def steps_per_epoch(cfg: TrainConfig, stage: int, train_size: int) -> int:
    sc = cfg.stage(stage)
    if cfg.dry_run:
        return cfg.dry_run_steps
    return sc.steps_per_epoch or max(1, train_size // sc.batch_size)


def epochs_of(cfg: TrainConfig, stage: int) -> int:
    return 1 if cfg.dry_run else cfg.stage(stage).epochs


def initial_weights(cfg: TrainConfig, model: FatauvaNet) -> None:
    """Load `init_from` (a training checkpoint or any fatauva.checkpoint.load_model source)
    into `model`; keys the source lacks (e.g. an AU layer the FATVA variant does not have) stay."""
    source = cfg.init_from
    if source.endswith(".safetensors") and Path(source).is_file():
        weights = load_state(Path(source)).model
    else:
        weights = load_model(source).model.state_dict()
    own = model.state_dict()
    shared = {k: v for k, v in weights.items() if k in own and own[k].shape == v.shape}
    if not shared:
        raise ValueError(f"init_from={source} shares no weights with this model")
    model.load_state_dict(shared, strict=False)


@dataclass
class StageRun:
    """Everything one stage trains with; built fresh at the start (or resumption) of the stage."""

    stage: int
    data: StageData
    objective: StageObjective
    wrapped: nn.Module  # the objective, in DistributedDataParallel when there are several processes
    optimizer: torch.optim.Optimizer
    scaler: torch.amp.GradScaler
    sampler: DistributedWeightedSampler
    loader: DataLoader
    n_steps: int
    n_epochs: int
    augment: Augment


def build_stage(cfg: TrainConfig, rt: Runtime, model: FatauvaNet, stage: int) -> StageRun:
    sc = cfg.stage(stage)
    if sc.batch_size % rt.world:
        raise ValueError(f"stage{stage}.batch_size={sc.batch_size} is not divisible by {rt.world} processes")
    data = stage_data(cfg, stage, model.config.input_size)
    objective = StageObjective(model, stage, cfg).to(rt.device)
    model.set_stage(stage, *((2,) if objective.au_weight else ()))
    n_steps = steps_per_epoch(cfg, stage, len(data.train))
    # Same seed on every rank: each keeps its own slice of one global weighted draw per epoch.
    sampler = DistributedWeightedSampler(
        data.weights, n_steps * sc.batch_size, rt.world, rt.rank, seed=cfg.seed * 1000 + stage * 100
    )
    loader = DataLoader(
        data.train,
        batch_size=sc.batch_size // rt.world,
        sampler=sampler,
        num_workers=cfg.num_workers,
        drop_last=True,
    )
    return StageRun(
        stage=stage,
        data=data,
        objective=objective,
        wrapped=DistributedDataParallel(objective) if rt.world > 1 else objective,
        optimizer=make_optimizer(objective, sc),
        scaler=torch.amp.GradScaler(
            "cuda", enabled=autocast_dtype(cfg.precision, rt.device) == torch.float16
        ),
        sampler=sampler,
        loader=loader,
        n_steps=n_steps,
        n_epochs=epochs_of(cfg, stage),
        augment=Augment(colour=sc.colour_aug, randconv=sc.randconv),
    )


def autocast_dtype(precision: str, device: torch.device) -> torch.dtype | None:
    """The autocast dtype of `precision` on `device` (None = fp32); see TrainConfig.precision."""
    if precision == "fp32":
        return None
    if precision == "fp16":
        if device.type != "cuda":
            raise ValueError("precision=fp16 needs a CUDA device; on a CPU use bf16 or fp32")
        return torch.float16
    if precision == "bf16":
        return torch.bfloat16
    if device.type == "cuda":
        return torch.float16
    native = device.type == "cpu" and torch.backends.mkldnn.is_available()
    return torch.bfloat16 if native and torch.ops.mkldnn._is_mkldnn_bf16_supported() else None


def autocast(precision: str, device: torch.device) -> AbstractContextManager:
    """Mixed precision for the forward pass and the loss (the GradScaler handles fp16 gradients)."""
    dtype = autocast_dtype(precision, device)
    return nullcontext() if dtype is None else torch.autocast(device.type, dtype=dtype)


def restore_stage(run: StageRun, state: TrainState) -> None:
    """Put the optimiser, loss module, grad scaler and RNG back where `state` left them."""
    if run.objective.va_loss is not None:
        run.objective.va_loss.load_state_dict(state.criterion)
    if state.optimizer is not None:
        run.optimizer.load_state_dict(state.optimizer)
    if state.scaler is not None:
        run.scaler.load_state_dict(state.scaler)
    restore_rng(state.rng)


def train_epoch(cfg: TrainConfig, rt: Runtime, run: StageRun, epoch: int, step: int, log: RunLog) -> int:
    """One epoch of `run`; returns the global optimiser step count after it."""
    sc = cfg.stage(run.stage)
    task = STAGE_TASK[run.stage]
    amp = autocast(cfg.precision, rt.device)
    run.sampler.set_epoch(epoch)
    run.objective.train()
    desc = f"stage {run.stage} epoch {epoch + 1}/{run.n_epochs}"
    bar = tqdm(run.loader, total=run.n_steps, desc=desc, disable=not rt.main)
    tic, seen, smooth = time.perf_counter(), 0, 0.0
    for i, batch in enumerate(bar):
        lr = learning_rate(sc, epoch * run.n_steps + i, run.n_epochs * run.n_steps)
        for group in run.optimizer.param_groups:
            group["lr"] = lr
        images = run.augment(batch["image"].to(rt.device, non_blocking=True))
        if cfg.channels_last:
            images = images.contiguous(memory_format=torch.channels_last)
        extra = (batch["aus"].to(rt.device, non_blocking=True),) if run.objective.au_weight else ()
        with amp:
            loss = run.wrapped(images, batch[task].to(rt.device, non_blocking=True), *extra)
        run.optimizer.zero_grad(set_to_none=True)
        run.scaler.scale(loss).backward()
        if sc.grad_clip > 0:
            run.scaler.unscale_(run.optimizer)
            torch.nn.utils.clip_grad_norm_(run.objective.parameters(), sc.grad_clip)
        run.scaler.step(run.optimizer)
        run.scaler.update()
        step += 1
        seen += images.shape[0] * rt.world
        value = loss.item()
        smooth = value if i == 0 else 0.9 * smooth + 0.1 * value
        rate = seen / (time.perf_counter() - tic)
        bar.set_postfix(loss=f"{smooth:.4f}", img_s=f"{rate:.1f}", lr=f"{lr:.2e}")
        if step % cfg.log_every == 0 or i == run.n_steps - 1:
            log.scalars(
                step, run.stage, epoch, {"train/loss": value, "train/lr": lr, "train/img_per_s": rate}
            )
    bar.close()
    return step


def end_epoch(
    cfg: TrainConfig, rt: Runtime, run: StageRun, progress: Progress, log: RunLog, out_dir: Path
) -> None:
    """Validate, log and checkpoint (rank 0), then wait for every rank."""
    if rt.main:
        model = run.objective.model
        metrics = stage_metric(model, run.data.val, run.stage, rt.device, cfg.eval_batch_size)
        log.scalars(progress.step, run.stage, progress.epoch - 1, {f"val/{k}": v for k, v in metrics.items()})
        shown = ", ".join(f"{k} {v:.4f}" for k, v in metrics.items())
        tqdm.write(f"stage {run.stage} epoch {progress.epoch}: {shown}")
        targets = [out_dir / "last.safetensors"]
        if progress.epoch == run.n_epochs:
            targets.append(out_dir / f"stage{run.stage}.safetensors")
        for path in targets:
            save_state(
                path,
                progress=progress,
                model=model,
                criterion=run.objective.va_loss,
                optimizer=run.optimizer,
                scaler=run.scaler,
                config=cfg.to_dict(),
            )
    if rt.world > 1:
        dist.barrier()


def train_stage(
    cfg: TrainConfig,
    rt: Runtime,
    model: FatauvaNet,
    stage: int,
    step: int,
    resume: TrainState | None,
    log: RunLog,
) -> int:
    """Train `stage` to its last epoch (from the checkpoint `resume` of this stage, if given)."""
    run = build_stage(cfg, rt, model, stage)
    first = 0
    if resume is not None:
        restore_stage(run, resume)
        first, step = resume.progress.epoch, resume.progress.step
    for epoch in range(first, run.n_epochs):
        step = train_epoch(cfg, rt, run, epoch, step, log)
        end_epoch(cfg, rt, run, Progress(stage, epoch + 1, step), log, Path(cfg.out_dir))
    return step


def run(cfg: TrainConfig, command: str) -> Path:
    """Run the configured stages, resuming from out_dir/last.safetensors when there is one;
    returns the folder of the final model (out_dir/model)."""
    rt = setup_runtime(cfg.device)
    if cfg.threads > 0:
        torch.set_num_threads(cfg.threads)
    out_dir = Path(cfg.out_dir)
    if rt.main:
        out_dir.mkdir(parents=True, exist_ok=True)
        (out_dir / "config.json").write_text(json.dumps(cfg.to_dict(), indent=2) + "\n")
    torch.manual_seed(cfg.seed)
    model = FatauvaNet(cfg.model).to(rt.device)
    if cfg.channels_last:
        model = model.to(memory_format=torch.channels_last)
    if cfg.init_from:
        initial_weights(cfg, model)
    last = out_dir / "last.safetensors"
    state = load_state(last) if cfg.resume and last.is_file() else None
    if state is not None:
        model.load_state_dict(state.model)
        if rt.main:
            done = state.progress
            tqdm.write(f"resuming from {last}: stage {done.stage}, {done.epoch} epoch(s) done")
    log = RunLog(out_dir, rt.main)
    step = state.progress.step if state is not None else 0
    try:
        for stage in cfg.stages:
            resume = None
            if state is not None:
                done = state.progress
                if stage < done.stage or (stage == done.stage and done.epoch >= epochs_of(cfg, stage)):
                    continue
                if stage == done.stage:
                    resume = state
                else:
                    restore_rng(state.rng)  # the checkpoint ended a stage: continue its random stream
                state = None
            step = train_stage(cfg, rt, model, stage, step, resume, log)
    finally:
        log.close()
    folder = out_dir / "model"
    if rt.main:
        metrics = evaluate_synthfacs(model, cfg, rt.device)
        save_model(
            model.cpu(),
            folder,
            metrics=metrics,
            command=command,
            trained_on=trained_on(cfg),
            limitations=limitations(cfg),
        )
        tqdm.write(f"saved {folder}")
    if rt.world > 1:
        dist.barrier()
        dist.destroy_process_group()
    return folder


# Terms of the real sets a stage can train on (shared/data/README.md); they bind the weights too.
DATASET_TERMS: dict[str, str] = {
    "celeba": "CelebA (Liu et al., ICCV 2015): non-commercial research only (MMLAB, CUHK)",
    "utkface": "UTKFace (Zhang, Song, Qi, CVPR 2017): non-commercial research only",
    "genki4k": "GENKI-4K (The MPLab GENKI-4K Dataset, http://mplab.ucsd.edu): research use",
    "fer2013": "FER2013 (Goodfellow et al., ICML 2013 challenge): no terms stated, treated as research only",
    "bp4d": "BP4D-Spontaneous: its licence agreement, research only",
    "disfa": "DISFA: its licence agreement, research only",
    "affwild": "Aff-Wild: its licence agreement, research only",
    "affwild2": "Aff-Wild2: its licence agreement, research only",
}
TEACHER = (
    "AU labels on real photos from MediaPipe's FaceLandmarker blendshape model (face_landmarker.task, "
    "Google, Apache-2.0) through the thresholds of train.teacher_map"
)


def trained_on(cfg: TrainConfig) -> str:
    """One sentence on the data of each stage, for the model card."""
    parts = []
    for k in cfg.stages:
        sc = cfg.stage(k)
        mix = cfg.sources(k)
        where = f" ({sc.root})" if sc.root and not sc.mix else ""
        task = STAGE_TASK[k]
        if sc.au_weight:
            task += f" and AUs at weight {sc.au_weight:g}, outside the paper's recipe"
        shares = [
            f"{share:g} {name}"
            for name, share in (("colour-jittered", sc.colour_aug), ("random-convolved", sc.randconv))
            if share
        ]
        seen = f", images {' and '.join(shares)}" if shares else ""
        total = sum(mix.values())
        data = " + ".join(f"{n} {v / total:.0%}" if len(mix) > 1 else n for n, v in mix.items())
        taught = ", real-photo AUs from the teacher" if sc.teacher_aus else ""
        parts.append(f"stage {k} ({task}): {data}{where}, {epochs_of(cfg, k)} epoch(s){seen}{taught}")
    sentence = "; ".join(parts) + "."
    if cfg.synth_mode != "emotion" and any("synthfacs" in cfg.sources(k) for k in cfg.stages):
        sentence += f" SynthFACS faces drawn in its '{cfg.synth_mode}' mode ({SYNTH_MODES[cfg.synth_mode]})."
    return sentence


# What a SynthFACS mode other than the default "emotion" (AUs from emotion prototypes) changes.
SYNTH_MODES = {
    "independent": "every AU drawn on its own, not from emotion prototypes",
    "circumplex": "valence and arousal from each emotion's circumplex place, not from the AUs",
}


SYNTHETIC_ONLY = (
    "Every stage saw SynthFACS faces only: procedural drawings in the aligned template crop, not "
    "photographs, and no real face or label. The SynthFACS figures under Evaluation are on synthetic "
    "faces like those of training; on real photos (the realfaces figures, where given, measure the "
    "transfer) the weights are a demonstration, not a measurement instrument: expect errors that "
    "follow lighting, skin tone, age and face shape in ways the renderer does not cover, and do not "
    "use them for decisions about people (hiring, security, health, or emotion surveillance). "
    "Faces must be detected and aligned with fatauva.faces first; profiles beyond about 25 degrees "
    "of yaw, strong occlusion and very small faces are outside what they were trained on."
)


def real_sources(cfg: TrainConfig) -> list[str]:
    """The real datasets any stage of `cfg` trains on, in first-seen order."""
    return list(dict.fromkeys(n for k in cfg.stages for n in cfg.sources(k) if n != SYNTH))


def limitations(cfg: TrainConfig) -> str:
    """What the weights are not good for, and the terms they carry, for the model card."""
    real = real_sources(cfg)
    if not real:
        return SYNTHETIC_ONLY
    terms = "; ".join(DATASET_TERMS.get(n, n) for n in real)
    teacher = any(cfg.stage(k).teacher_aus for k in cfg.stages)
    return (
        f"Research use only, not commercial: trained on {terms}. These terms bind the weights. "
        + (f"{TEACHER}. " if teacher else "")
        + "No FACS-coded AU data and no continuous valence-arousal data were used: AUs come from "
        "SynthFACS truth and the teacher, valence and arousal from SynthFACS and FER2013 emotion "
        "categories placed on the circumplex, so both are coarse on real faces. The training sets carry "
        "their own population and labelling biases (CelebA celebrities, UTKFace's age and ethnicity mix, "
        "FER2013's web images); do not use the weights for decisions about people (hiring, security, "
        "health, or emotion surveillance)."
    )


def main(argv: list[str] | None = None) -> None:
    argv = sys.argv[1:] if argv is None else argv
    if {"-h", "--help"} & set(argv):
        print(__doc__ + "\nSettings (file keys nest the same way):\n  " + "\n  ".join(describe()))
        return
    try:
        path, overrides = parse_args(argv)
        cfg = load_config(path, overrides)
    except (ValueError, FileNotFoundError) as err:
        sys.exit(f"error: {err}")
    run(cfg, command=shlex.join(["python", "-m", "train.train", *argv]))


if __name__ == "__main__":
    main()
