"""What differs between the three training stages of §3: their loss, their data, their schedule.

Stage 1 trains the core and attribute layers on attribute labels, stage 2 the AU layer on AU
labels, stage 3 the V-A layer on valence / arousal (class or regression loss, §4.1.3); each
freezes what came before (`FatauvaNet.set_stage`).
"""

import functools
import math
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
import torch.distributed as dist
from torch import Tensor, nn
from torch.utils.data import ConcatDataset, Dataset, Subset

from fatauva.losses import VARegressionLoss, masked_cross_entropy, va_class_loss
from fatauva.model import FatauvaNet
from train.config import PHOTO_SETS, SYNTH, StageConfig, TrainConfig
from train.datasets import real_dataset, synthfacs_dataset
from train.datasets.synthpool import SynthFACSPool, render_pool
from train.mixing import Flipped, MixedDataset, mix_weights
from train.sampling import binary_balance_weights, va_balance_weights

STAGE_TASK = {1: "attributes", 2: "aus", 3: "va"}


class StageObjective(nn.Module):
    """The network and the loss of one stage in one module, so DistributedDataParallel wraps
    both (the centre-loss centres are buffers it keeps equal across ranks).

    forward: images (N, 3, S, S), targets of the stage's task ((N, 10) / (N, 14) int64, -1 =
    unlabelled, or (N, 2) float, nan = unlabelled) -> scalar loss.
    """

    def __init__(self, model: FatauvaNet, stage: int, cfg: TrainConfig):
        super().__init__()
        self.model = model
        self.stage = stage
        self.au_weight = cfg.stage(stage).au_weight if stage == 1 else 0.0
        self.va_loss: VARegressionLoss | None = None
        if stage == 3 and model.config.va_head == "reg":
            self.va_loss = VARegressionLoss(
                model.config.fc_hidden[-1], t_paper=cfg.va_t_paper, lam=cfg.va_center_lambda
            )

    def forward(self, images: Tensor, targets: Tensor, au_targets: Tensor | None = None) -> Tensor:
        if self.au_weight:
            if au_targets is None:
                raise ValueError("stage1.au_weight > 0 needs the AU labels of the batch (au_targets)")
            attribute_logits, au_logits = self.model.attribute_and_au_logits(images)
            attribute_loss = masked_cross_entropy(attribute_logits.float(), targets)
            return attribute_loss + self.au_weight * masked_cross_entropy(au_logits.float(), au_targets)
        logits, embedding = self.model.stage_logits(images, self.stage)
        if self.stage in (1, 2):
            return masked_cross_entropy(logits.float(), targets)
        if self.va_loss is None:
            return va_class_loss(logits.float(), targets)
        return self.va_loss(logits.float(), embedding.float(), targets)


def make_optimizer(objective: StageObjective, sc: StageConfig) -> torch.optim.AdamW:
    """AdamW over the stage's parameters; weight decay on conv / FC weights only (nanoGPT's rule:
    decaying biases and BN scales only hurts)."""
    params = [p for p in objective.model.parameters() if p.requires_grad]  # as set_stage left them
    decay = [p for p in params if p.dim() >= 2]
    no_decay = [p for p in params if p.dim() < 2]
    groups = [
        {"params": decay, "weight_decay": sc.weight_decay},
        {"params": no_decay, "weight_decay": 0.0},
    ]
    return torch.optim.AdamW(groups, lr=sc.lr, betas=(0.9, 0.99))


def learning_rate(sc: StageConfig, step: int, total_steps: int) -> float:
    """Linear warm-up then cosine decay to `lr * min_lr_ratio`, a pure function of the stage's
    step (so resuming needs no scheduler state)."""
    if step < sc.warmup_steps:
        return sc.lr * (step + 1) / sc.warmup_steps
    progress = min(1.0, (step - sc.warmup_steps) / max(1, total_steps - sc.warmup_steps))
    floor = sc.lr * sc.min_lr_ratio
    return floor + 0.5 * (sc.lr - floor) * (1.0 + math.cos(math.pi * progress))


@dataclass
class StageData:
    """A stage's training and validation sets, and the per-sample draw weights of the training set
    (§4.1.1 over-/under-sampling, train.sampling; all ones when balancing is off)."""

    train: Dataset
    val: Dataset | list[dict[str, Tensor]]
    weights: np.ndarray


def _spread(dataset: Dataset, n: int) -> Dataset:
    """At most `n` samples spread evenly over `dataset` (a cheap validation subset)."""
    if len(dataset) <= n:
        return dataset
    return Subset(dataset, np.linspace(0, len(dataset) - 1, n).round().astype(int).tolist())


@functools.lru_cache(maxsize=1)
def _pool(split: str, n: int, size: int, mode: str, workers: int, cache_dir: str) -> SynthFACSPool:
    """One rendered pool per process, shared by the stages that train on the same faces; under
    torchrun each process renders its share of the faces (train.datasets.synthpool.render_pool)."""
    ranked = dist.is_available() and dist.is_initialized()
    rank, world = (dist.get_rank(), dist.get_world_size()) if ranked else (0, 1)
    # Rendering comes before training, so it may take every core this process's share allows.
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1
    workers = max(workers, cores // world)
    return render_pool(
        split,
        n,
        size,
        mode,
        workers=workers,
        cache_dir=Path(cache_dir) / "synthfacs",
        rank=rank,
        world=world,
        barrier=dist.barrier if ranked else None,
    )


def _synth_source(cfg: TrainConfig, stage: int, input_size: int, val_size: int) -> tuple[Dataset, list]:
    """SynthFACS training faces (a rendered pool or on the fly) and rendered validation faces."""
    sc = cfg.stage(stage)
    train_size = cfg.dry_run_steps * sc.batch_size if cfg.dry_run else sc.train_size
    if cfg.synth_pool:
        n = min(cfg.synth_pool, train_size)
        train = _pool(sc.train_split, n, input_size, cfg.synth_mode, cfg.num_workers, cfg.cache_dir)
    else:
        train = synthfacs_dataset(sc.train_split, train_size, input_size, cfg.synth_mode)
    # Rendered once per stage rather than once per epoch: validation is scored every epoch.
    rendered = synthfacs_dataset(sc.val_split, val_size, input_size, cfg.synth_mode)
    return train, [rendered[i] for i in range(len(rendered))]


def _real_source(
    cfg: TrainConfig, stage: int, name: str, input_size: int, val_size: int
) -> tuple[Dataset, Dataset]:
    """A real dataset cropped once into `cfg.cache_dir`; its AU labels completed by the teacher
    where the stage asks for it (the set's own AU codes always win)."""
    sc = cfg.stage(stage)
    root = cfg.source_root(stage, name)
    if not root:
        raise ValueError(f"stage{stage}.data={name} needs stage{stage}.root (the dataset folder)")
    train, _ = real_dataset(name, root, sc.train_split, cfg.cache_dir, input_size, workers=cfg.num_workers)
    val, _ = real_dataset(name, root, sc.val_split, cfg.cache_dir, input_size, workers=cfg.num_workers)
    if sc.teacher_aus and name in PHOTO_SETS:
        from train.teacher_map import teacher_aus

        for data in (train, val):
            taught = teacher_aus(
                list(data.index.paths),
                cfg.teacher_dir,
                margin=cfg.teacher_margin,
                min_auc=cfg.teacher_min_auc,
            )
            data.index.aus = np.where(data.index.aus >= 0, data.index.aus, taught)
    return Flipped(train), _spread(val, val_size)


def stage_data(cfg: TrainConfig, stage: int, input_size: int) -> StageData:
    """Build the data of `stage` as configured: each source of its mix (SynthFACS rendered, or a
    real dataset cropped once into `cfg.cache_dir`, train.datasets), drawn by its share of every
    batch, the §4.1.1 balance applied inside each source (train.mixing)."""
    sc = cfg.stage(stage)
    val_size = min(sc.val_size, 2 * sc.batch_size) if cfg.dry_run else sc.val_size
    task = STAGE_TASK[stage]
    mix = cfg.sources(stage)
    names, trains, vals = [], [], []
    for name in mix:
        if name == SYNTH:
            train, val = _synth_source(cfg, stage, input_size, val_size)
        else:
            train, val = _real_source(cfg, stage, name, input_size, val_size)
        if sc.balance and not hasattr(train, "labels"):
            raise ValueError(
                f"stage{stage}.balance needs the labels of {name} without rendering (Dataset.labels), "
                f"which it does not offer; run with --stage{stage}.balance=false"
            )
        names.append(name)
        trains.append(train)
        vals.append(val)
    if len(names) == 1:
        train, val = trains[0], vals[0]
        weights = _balance(train, task, sc.balance)
    else:
        train = MixedDataset(names, trains)
        val = ConcatDataset([v if isinstance(v, Dataset) else _ListDataset(v) for v in vals])
        weights = mix_weights([_balance(t, task, sc.balance) for t in trains], list(mix.values()))
    return StageData(train=train, val=val, weights=weights)


class _ListDataset(Dataset):
    """Samples held in a list (rendered SynthFACS validation faces) as a Dataset."""

    def __init__(self, samples: list):
        self.samples = samples

    def __len__(self) -> int:
        return len(self.samples)

    def __getitem__(self, i: int):
        return self.samples[i]


def _balance(train: Dataset, task: str, balance: bool) -> np.ndarray:
    """§4.1.1 draw weights of one source for `task` (all ones when balancing is off)."""
    if not balance:
        return np.ones(len(train))
    if task == "va":
        return va_balance_weights(train.labels(task))
    return binary_balance_weights(train.labels(task))
