"""`python -m bench [--json PATH]`: run every measurement section, print it, write one flat JSON.

Each module in SECTIONS exposes `measure() -> dict[str, float]`; their keys must not collide.

OpenMP threads wait passively (OMP_WAIT_POLICY=PASSIVE) unless the caller sets the policy:
this machine's 2 cores are shared, and with the default spin-waiting every parallel op of a
batch-1 forward can stall a whole scheduler time slice on a descheduled partner thread
(measured under load: forward/roofline 3-5x spinning, 1.3-1.5x passive). It must be set
before torch (and its OpenMP runtime) is imported, hence here, before any section loads.
"""

import argparse
import importlib
import json
import os
from pathlib import Path

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

SECTIONS = ["bench.model", "bench.synth"]


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
