"""Training checkpoints: one safetensors file per save, written atomically, no pickle.

Weights, optimiser moments, the loss module (centre-loss centres) and the RNG state are
tensors in the file; scalars (stage, epoch, step, optimiser hyper-parameters, grad-scaler
scale) are JSON in the file's metadata. One file rather than several so a kill can never
leave a new weights file next to an old optimiser file: the save is a single `os.replace`
of a fully written, fsynced temporary file in the same folder.
"""

import json
import os
import random
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
from safetensors.torch import load as load_bytes
from safetensors.torch import save as save_bytes
from torch import nn

FORMAT = "fatauva-train-state/1"


def atomic_write(path: Path, data: bytes) -> None:
    """Write `data` to `path` so that readers see either the old or the new file, never a torn one."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    dir_fd = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(dir_fd)  # the rename itself must reach the disk too
    finally:
        os.close(dir_fd)


@dataclass
class Progress:
    """Where training stands: `epoch` epochs of `stage` are complete, `step` optimiser steps overall."""

    stage: int
    epoch: int
    step: int


@dataclass
class TrainState:
    """A loaded checkpoint: the tensors by prefix and the JSON metadata."""

    progress: Progress
    model: dict[str, torch.Tensor]
    criterion: dict[str, torch.Tensor]
    optimizer: dict[str, Any] | None
    scaler: dict[str, Any] | None
    rng: dict[str, Any]
    config: dict[str, Any]


def _split_optimizer(optimizer: torch.optim.Optimizer) -> tuple[dict[str, torch.Tensor], dict[str, Any]]:
    sd = optimizer.state_dict()
    tensors, scalars = {}, {}
    for idx, entries in sd["state"].items():
        for name, value in entries.items():
            if torch.is_tensor(value):
                tensors[f"optim.{idx}.{name}"] = value
            else:
                scalars[f"{idx}.{name}"] = value
    return tensors, {"param_groups": sd["param_groups"], "scalars": scalars}


def _join_optimizer(tensors: dict[str, torch.Tensor], meta: dict[str, Any]) -> dict[str, Any]:
    state: dict[int, dict[str, Any]] = {}
    for key, value in tensors.items():
        idx, name = key.split(".", 1)
        state.setdefault(int(idx), {})[name] = value
    for key, value in meta["scalars"].items():
        idx, name = key.split(".", 1)
        state.setdefault(int(idx), {})[name] = value
    return {"state": state, "param_groups": meta["param_groups"]}


def _rng_state() -> tuple[dict[str, torch.Tensor], dict[str, Any]]:
    tensors = {"rng.torch": torch.get_rng_state()}
    if torch.cuda.is_available():
        for i, s in enumerate(torch.cuda.get_rng_state_all()):
            tensors[f"rng.cuda.{i}"] = s
    name, keys, pos, has_gauss, gauss = np.random.get_state()
    py_version, py_state, py_gauss = random.getstate()
    numpy_state = [name, keys.tolist(), pos, has_gauss, gauss]
    return tensors, {"numpy": numpy_state, "python": [py_version, list(py_state), py_gauss]}


def restore_rng(rng: dict[str, Any]) -> None:
    """Put the torch, CUDA, numpy and Python generators back where the checkpoint left them."""
    torch.set_rng_state(rng["torch"])
    if torch.cuda.is_available() and rng["cuda"]:
        torch.cuda.set_rng_state_all(rng["cuda"])
    name, keys, pos, has_gauss, gauss = rng["numpy"]
    np.random.set_state((name, np.asarray(keys, dtype=np.uint32), pos, has_gauss, gauss))
    version, state, gauss = rng["python"]
    random.setstate((version, tuple(state), gauss))


def save_state(
    path: Path,
    *,
    progress: Progress,
    model: nn.Module,
    criterion: nn.Module | None,
    optimizer: torch.optim.Optimizer | None,
    scaler: torch.amp.GradScaler | None,
    config: dict[str, Any],
) -> None:
    """Write a complete training checkpoint to `path` atomically."""
    tensors = {f"model.{k}": v for k, v in model.state_dict().items()}
    if criterion is not None:
        tensors.update({f"criterion.{k}": v for k, v in criterion.state_dict().items()})
    optim_meta = None
    if optimizer is not None:
        optim_tensors, optim_meta = _split_optimizer(optimizer)
        tensors.update(optim_tensors)
    rng_tensors, rng_meta = _rng_state()
    tensors.update(rng_tensors)
    meta = {
        "format": FORMAT,
        "progress": vars(progress),
        "optimizer": optim_meta,
        "scaler": scaler.state_dict() if scaler is not None and scaler.is_enabled() else None,
        "rng": rng_meta,
        "config": config,
    }
    tensors = {k: v.detach().cpu().contiguous() for k, v in tensors.items()}
    atomic_write(path, save_bytes(tensors, metadata={"state": json.dumps(meta)}))


def _read_metadata(data: bytes) -> dict[str, str]:
    header_len = int.from_bytes(data[:8], "little")
    return json.loads(data[8 : 8 + header_len]).get("__metadata__", {})


def load_state(path: Path) -> TrainState:
    """Read a checkpoint written by `save_state`; a file of another kind is a clear error."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"training checkpoint {path} does not exist")
    data = path.read_bytes()
    try:
        meta = json.loads(_read_metadata(data)["state"])
        tensors = load_bytes(data)
    except (KeyError, ValueError) as err:
        raise ValueError(f"{path} is not a FATAUVA training checkpoint ({err})") from None
    if meta.get("format") != FORMAT:
        raise ValueError(f"{path} has checkpoint format {meta.get('format')!r}, expected {FORMAT!r}")

    def prefixed(prefix: str) -> dict[str, torch.Tensor]:
        return {k[len(prefix) :]: v for k, v in tensors.items() if k.startswith(prefix)}

    cuda = prefixed("rng.cuda.")
    rng = {**meta["rng"], "torch": tensors["rng.torch"], "cuda": [cuda[k] for k in sorted(cuda, key=int)]}
    optimizer = _join_optimizer(prefixed("optim."), meta["optimizer"]) if meta["optimizer"] else None
    return TrainState(
        progress=Progress(**meta["progress"]),
        model=prefixed("model."),
        criterion=prefixed("criterion."),
        optimizer=optimizer,
        scaler=meta["scaler"],
        rng=rng,
        config=meta["config"],
    )
