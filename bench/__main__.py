"""`python -m bench [--json PATH]`: run every measurement section, print it, write one flat JSON.

Each module in SECTIONS exposes `measure() -> dict[str, float]`; their keys must not collide.

How OpenMP threads wait between parallel ops is chosen from the load on the cores, unless
the caller sets OMP_WAIT_POLICY: the machine's 2 cores are shared with other processes. When
they are busy (1-min load average above the core count), spin-waiting makes every parallel
op of a batch-1 forward stall a scheduler time slice on a descheduled partner thread, and
PASSIVE waiting is far faster; on idle cores, PASSIVE pays a thread wake-up per op
(measurements: docs/speed.md). The policy is read once, when torch's OpenMP runtime loads,
hence it is set here before any section imports torch.
"""

import argparse
import importlib
import json
import os
from pathlib import Path


def _omp_wait_policy() -> str:
    """PASSIVE when the cores are already busy with other processes, else ACTIVE."""
    busy = os.getloadavg()[0] > (os.cpu_count() or 1)
    return "PASSIVE" if busy else "ACTIVE"


os.environ.setdefault("OMP_WAIT_POLICY", _omp_wait_policy())

# Rendering first: with ACTIVE waiting, the OpenMP threads the model section leaves behind spin on a
# core for the rest of the process and slow the rendering workers (docs/speed.md).
SECTIONS = [
    "bench.synth",
    "bench.model",
    "bench.explain",
    "bench.augment",
    "bench.app",
    "bench.live",
    "bench.video",
    "bench.facelab",
]


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.splitlines()[0])
    parser.add_argument("--json", type=Path, help="write the measurements to this JSON file")
    args = parser.parse_args()
    results: dict[str, float] = {}
    for name in SECTIONS:
        section = importlib.import_module(name).measure()
        clash = set(section) & set(results)
        if clash:
            raise RuntimeError(f"bench section {name} repeats keys {sorted(clash)}")
        for key, value in section.items():
            print(f"{name:14s} {key:28s} {value:14.4g}")
        results.update(section)
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(results, indent=2, sort_keys=True) + "\n")
        print(f"wrote {args.json}")


if __name__ == "__main__":
    main()
