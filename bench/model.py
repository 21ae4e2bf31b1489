"""Forward cost of the shipped FatauvaNet (`FatauvaConfig()`) against the machine's float32 matmul roofline.

roofline = FLOPs of one forward (torch.utils.flop_counter: convolutions and matmuls) divided
by the rate of a large float32 `torch.mm` on the same threads. The matmul and the forward are
timed in alternating rounds so that load from other processes hits both alike.
"""

import os
import statistics
import time

import torch
from torch.utils.flop_counter import FlopCounterMode

from fatauva.model import FatauvaConfig, FatauvaNet

MATMUL_SIZE = 2048
ROUNDS = 15
FORWARDS_PER_ROUND = 10
WARMUP = 20


def count_flops(model: torch.nn.Module, x: torch.Tensor) -> float:
    """FLOPs of one forward of `model` on `x` (2 per multiply-add)."""
    with FlopCounterMode(display=False) as counter, torch.inference_mode():
        model(x)
    return float(counter.get_total_flops())


def _seconds(fn) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def measure(config: FatauvaConfig | None = None) -> dict[str, float]:
    """Median forward latency (batch 1, fused model, inference mode) and its roofline ratio."""
    torch.manual_seed(0)
    model = FatauvaNet(config)
    params = sum(p.numel() for p in model.parameters())
    fused = model.fused()
    size = model.config.input_size
    x = torch.randn(1, 3, size, size)
    flops = count_flops(fused, x)
    a, b = torch.randn(MATMUL_SIZE, MATMUL_SIZE), torch.randn(MATMUL_SIZE, MATMUL_SIZE)
    matmul_s, forward_s = [], []
    with torch.inference_mode():
        for _ in range(WARMUP):
            fused(x)
        torch.mm(a, b)
        for _ in range(ROUNDS):
            matmul_s.append(_seconds(lambda: torch.mm(a, b)))
            forward_s += [_seconds(lambda: fused(x)) for _ in range(FORWARDS_PER_ROUND)]
    matmul_rate = 2 * MATMUL_SIZE**3 / statistics.median(matmul_s) / 1e9
    forward_ms = statistics.median(forward_s) * 1e3
    gflops = flops / 1e9
    return {
        "params": float(params),
        "forward_gflops": gflops,
        "matmul_gflops_per_s": matmul_rate,
        "forward_ms": forward_ms,
        "forward_roofline_ratio": forward_ms / (gflops / matmul_rate * 1e3),
        "threads": float(torch.get_num_threads()),
        "omp_wait_passive": float(os.environ.get("OMP_WAIT_POLICY", "").upper() == "PASSIVE"),
        "load_average_1min": os.getloadavg()[0],
    }
