"""`python -m bench [--json PATH]`: run every measurement section, print it, write one flat JSON.

Each module in SECTIONS exposes `measure() -> dict[str, float]`; their keys must not collide.
"""

import argparse
import importlib
import json
from pathlib import Path

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
