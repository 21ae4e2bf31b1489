"""SynthFACS rendering speed, alone and against one training step of the shipped FatauvaNet.

- synth_faces_per_s: faces of the train split rendered per second at 112 px (parameters drawn,
  face drawn, no masks: what SynthFACSDataset does) by 2 worker processes (the machine's cores);
- synth_faces_per_s_1proc: the same in this process alone;
- synth_cpu_ms_per_face: CPU time of one face on this thread (load from other processes barely
  changes it), and synth_faces_per_s_2cores_cpu_bound = 2000 / it: what 2 idle cores would give;
- synth_masks_faces_per_s_1proc: with the 18 masks (what the explainer's faithfulness check uses);
- synth_to_train_step_ratio: seconds to render one training batch (64 faces, 2 workers) divided
  by seconds of one stage-1 training step on it (forward, loss, backward, SGD step); < 1 means
  rendering keeps up with training.
Other processes share the CPU, so each figure is the median of several rounds.
"""

import statistics
import time
from multiprocessing import Pool

import cv2
import torch

from fatauva.model import FatauvaNet
from fatauva.synthfacs import face_params, render

SIZE = 112
BATCH = 64
ROUNDS = 3


def _one_thread() -> None:
    # OpenCV's own thread pool only adds overhead on 112 px images and oversubscribes the cores.
    cv2.setNumThreads(1)


def _render(index: int, with_masks: bool = False) -> int:
    return int(render(face_params("train", index), SIZE, with_masks=with_masks).image[0, 0, 0])


def _render_masks(index: int) -> int:
    return _render(index, with_masks=True)


def _rate(fn, n: int) -> float:
    rates = []
    for r in range(ROUNDS):
        start = time.perf_counter()
        fn(range(r * n, (r + 1) * n))
        rates.append(n / (time.perf_counter() - start))
    return statistics.median(rates)


def train_step_seconds() -> float:
    """Median seconds of one stage-1 step of the shipped model (FatauvaConfig()) on a batch of 64."""
    torch.manual_seed(0)
    model = FatauvaNet()
    model.set_stage(1)
    model.train()
    opt = torch.optim.SGD([p for p in model.parameters() if p.requires_grad], lr=0.01)
    x = torch.randn(BATCH, 3, SIZE, SIZE)
    y = torch.randint(0, 2, (BATCH, 10))
    times = []
    for i in range(ROUNDS + 1):
        start = time.perf_counter()
        out = model(x)
        loss = torch.nn.functional.cross_entropy(out.attribute_logits.reshape(-1, 2), y.reshape(-1))
        opt.zero_grad()
        loss.backward()
        opt.step()
        if i:  # the first step warms up allocators
            times.append(time.perf_counter() - start)
    return statistics.median(times)


def measure() -> dict[str, float]:
    threads = cv2.getNumThreads()
    _one_thread()
    _render(0)  # builds this process's texture banks
    one = _rate(lambda idx: [_render(i) for i in idx], 100)
    cpu = time.thread_time()
    for i in range(100):
        _render(1000 + i)
    cpu_ms = (time.thread_time() - cpu) * 10.0
    with_masks = _rate(lambda idx: [_render_masks(i) for i in idx], 50)
    with Pool(2, initializer=_one_thread) as pool:
        pool.map(_render, range(8))  # builds the workers' texture banks
        two = _rate(lambda idx: pool.map(_render, idx, chunksize=16), 256)
    cv2.setNumThreads(threads)
    step = train_step_seconds()
    return {
        "synth_faces_per_s": two,
        "synth_faces_per_s_1proc": one,
        "synth_cpu_ms_per_face": cpu_ms,
        "synth_faces_per_s_2cores_cpu_bound": 2000.0 / cpu_ms,
        "synth_masks_faces_per_s_1proc": with_masks,
        "synth_train_step_s": step,
        "synth_to_train_step_ratio": (BATCH / two) / step,
    }
