"""What appearance augmentation (train.augment) adds to a stage-1 training step.

One batch of 64 SynthFACS-sized inputs; the augmentation of `bundled.json` and one optimiser step of
the shipped network with the stage-1 loss of that config (attributes plus AUs) are timed in
alternating rounds, so load from other processes hits both alike. The ratio is the figure to read.
"""

import statistics
import time

import torch

from fatauva.model import FatauvaNet
from train.augment import Augment
from train.config import load_config
from train.stages import StageObjective

ROUNDS = 12
BATCH = 64
CONFIG = "train/configs/bundled.json"


def measure() -> dict[str, float]:
    torch.manual_seed(0)
    cfg = load_config(CONFIG)
    model = FatauvaNet(cfg.model).to(memory_format=torch.channels_last)
    model.set_stage(1, 2)
    objective = StageObjective(model, 1, cfg)
    optimizer = torch.optim.AdamW([p for p in objective.parameters() if p.requires_grad], lr=1e-4)
    augment = Augment(colour=cfg.stage1.colour_aug, randconv=cfg.stage1.randconv)
    if not augment.enabled:
        augment = Augment(colour=0.8, randconv=0.5)
    size = cfg.model.input_size
    x = torch.randn(BATCH, 3, size, size)
    attributes, aus = torch.randint(0, 2, (BATCH, 10)), torch.randint(0, 2, (BATCH, 14))

    def step() -> None:
        loss = objective(x.contiguous(memory_format=torch.channels_last), attributes, aus)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()

    def seconds(fn) -> float:
        start = time.perf_counter()
        fn()
        return time.perf_counter() - start

    step()  # warm-up: first calls allocate
    augment(x)
    step_s, augment_s = [], []
    for _ in range(ROUNDS):
        step_s.append(seconds(step))
        augment_s.append(seconds(lambda: augment(x)))
    step_ms, augment_ms = statistics.median(step_s) * 1e3, statistics.median(augment_s) * 1e3
    return {
        "augment_ms": augment_ms,
        "augment_train_step_ms": step_ms,
        "augment_step_ratio": augment_ms / step_ms,
        "augment_colour_share": augment.colour,
        "augment_randconv_share": augment.randconv,
    }
