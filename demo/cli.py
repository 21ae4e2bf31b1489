"""`python -m demo.cli PATH... --csv OUT.csv [--json OUT.json] [--cams DIR] [--model SOURCE]`

Analyze photos without the app: files and folders (recursively, image suffixes only), one CSV row
per face (demo.photo.CSV_COLUMNS; a photo without a face gets one row with `face` empty). A file
that cannot be read is named in one line on stderr and the others go on; the exit status is 1 when
any file failed, 2 for a usage error.

--cams DIR: every face's explanation (demo.explanations.explain, the app's default method and
layer) as PNG files in DIR/<photo stem>_face<N>/ (a second photo of the same stem gets a -2 suffix):
`<target>.png` for the 26 targets and `<part>_response.png` for the four part responses, each map
blended over the aligned crop, and `explanation.json` with the scores, the faithfulness verdicts
and the AU -> V-A flow's attributions (explanation_numbers). Explaining costs a few hundred ms a
face; the progress bar counts photos.
"""

import argparse
import json
import sys
from pathlib import Path

import cv2
import numpy as np
from tqdm import tqdm

from demo import explanations
from demo.images import ImageError, load_image
from demo.photo import analyze_photo, write_csv
from demo.serving import load_analyzer

IMAGE_SUFFIXES = {".jpg", ".jpeg", ".png", ".bmp", ".gif", ".tif", ".tiff", ".webp", ".ppm", ".pgm", ".jfif"}


def image_files(paths: list[Path]) -> tuple[list[Path], list[str]]:
    """(the photos to read, in the order given and sorted within folders; a message per missing path).

    A file named explicitly is read whatever its suffix (so a bad one is reported, not skipped)."""
    files, missing = [], []
    for path in paths:
        if path.is_dir():
            files += sorted(p for p in path.rglob("*") if p.is_file() and p.suffix.lower() in IMAGE_SUFFIXES)
        elif path.is_file():
            files.append(path)
        else:
            missing.append(f"{path}: no such file or folder")
    return files, missing


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m demo.cli", description=__doc__.splitlines()[0])
    parser.add_argument("paths", nargs="+", type=Path, help="photos and folders of photos")
    parser.add_argument("--csv", type=Path, required=True, help="write one row per face here")
    parser.add_argument("--json", type=Path, help="also write every result (and each error) as JSON")
    parser.add_argument("--cams", type=Path, help="write each face's explanation maps into this folder")
    parser.add_argument("--model", help="local checkpoint folder or Hub repo id[@revision]")
    parser.add_argument("--min-face", type=int, help="smallest face width (px) to look for")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    files, failures = image_files(args.paths)
    analyzer = load_analyzer(args.model)
    rows: list[dict] = []
    results: list[dict] = []
    used: set[str] = set()  # --cams folder names taken in this run
    for path in tqdm(files, desc="photos", unit="photo", file=sys.stderr):
        image, error = read(path)
        if image is None:
            failures.append(error)
            results.append({"file": str(path), "error": error})
            continue
        analysis = analyze_photo(analyzer, image, args.min_face)
        rows += analysis.rows(str(path))
        if args.cams:
            write_cams(args.cams, path.stem, analysis, analyzer, used)
        results.append({"file": str(path), **analysis.as_dict()})
    write_csv(args.csv, rows)
    if args.json:
        args.json.write_text(json.dumps(results, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    for line in failures:
        print(line, file=sys.stderr)
    return 1 if failures else 0


def write_cams(folder: Path, stem: str, analysis, analyzer, used: set[str]) -> None:
    """Write each face's maps and explanation numbers under folder (see the module docstring)."""
    for number, pred in enumerate(analysis.faces, 1):
        explanation = explanations.explain(analyzer, pred.crop)
        name, k = f"{stem}_face{number}", 2
        while name in used:
            name, k = f"{stem}-{k}_face{number}", k + 1
        used.add(name)
        out = folder / name
        out.mkdir(parents=True, exist_ok=True)
        images = {f"{t}.png": m for t, m in explanation.maps.items()}
        images |= {f"{part}_response.png": r.map for part, r in explanation.parts.items()}
        for file, heat in images.items():
            blended = explanations.heat_over(pred.crop, heat)
            cv2.imwrite(str(out / file), cv2.cvtColor(blended, cv2.COLOR_RGB2BGR))
        numbers = explanations.explanation_numbers(explanation)
        (out / "explanation.json").write_text(json.dumps(numbers, indent=2) + "\n", encoding="utf-8")


def read(path: Path) -> tuple[np.ndarray | None, str]:
    """(the photo, "") or (None, one line naming the file and what is wrong with it)."""
    try:
        return load_image(path, name=str(path)), ""
    except ImageError as e:
        return None, str(e)
    except OSError as e:
        return None, f"{path} could not be read ({e.strerror or e})."


if __name__ == "__main__":
    sys.exit(main())
