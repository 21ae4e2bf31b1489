"""The real command line on real SynthFACS faces: a dry run of every stage, single-process and
under `torchrun --nproc_per_node 2` (gloo on CPU), writing the same checkpoint format."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
from safetensors import safe_open

from fatauva.checkpoint import load_model
from tests.test_train import TINY_MODEL
from train.state import load_state

ROOT = Path(__file__).resolve().parents[1]
DRY = [
    "--dry-run",
    "--dry_run_steps=2",
    "--threads=1",
    "--eval_batch_size=16",
    *[f"--stage{k}.{key}" for k in (1, 2, 3) for key in ("batch_size=4", "val_size=8", "balance=false")],
    *TINY_MODEL,
]


def _run(launcher: list[str], out_dir: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONPATH": str(ROOT)}
    pool = ["--synth_pool=64", "--num_workers=0", f"--cache_dir={out_dir / 'cache'}"]
    cmd = [*launcher, "-m", "train.train", *DRY, *pool, f"--out_dir={out_dir}"]
    result = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=240)
    assert result.returncode == 0, result.stderr[-3000:]
    return result


def _layout(path: Path) -> tuple[set[str], dict]:
    with safe_open(str(path), "pt") as f:
        return set(f.keys()), load_state(path).progress


@pytest.mark.slow
def test_a_two_process_dry_run_writes_what_a_single_process_writes(tmp_path):
    single = _run([sys.executable], tmp_path / "single")
    torchrun = [sys.executable, "-m", "torch.distributed.run", "--nproc_per_node=2", "--master_port=29533"]
    ddp = _run(torchrun, tmp_path / "ddp")
    # The dry run's 8-face pool: one process renders it whole, two render half each and share one cache.
    assert "rendering 8 SynthFACS train faces:" in single.stderr
    assert "rendering 4 SynthFACS train faces (0-3)" in ddp.stderr
    assert "rendering 4 SynthFACS train faces (4-7)" in ddp.stderr
    assert [p.name for p in (tmp_path / "ddp" / "cache" / "synthfacs").iterdir()] == [
        "synthfacs_train_emotion_32px_8.npz"
    ]
    for name in ("last", "stage1", "stage2", "stage3"):
        single, ddp = (_layout(tmp_path / run / f"{name}.safetensors") for run in ("single", "ddp"))
        assert ddp == single, name
    assert load_state(tmp_path / "ddp" / "last.safetensors").progress.step == 6
    assert load_model(tmp_path / "ddp" / "model").kind == "local"
