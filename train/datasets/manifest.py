"""Plain CSV manifests, for AU or V-A data in no published layout (own recordings, other datasets).

AU manifest (`au_manifest_index`):

    path,AU1,AU2,AU4,...            header: `path`, then AU columns ("AU1", "AU01" or "1");
    faces/0001.jpg,1,0,9,...        1 present, 0 absent, 9 or empty = not labelled (-1)

V-A manifest (`va_manifest_index`):

    path,valence,arousal            values in [-1, 1]; empty = not labelled (nan)
    faces/0001.jpg,0.25,-0.5

Paths are relative to the manifest's folder (or absolute). An optional `split` column
(train / val / test) selects rows; without it every row belongs to every split. AUs the
manifest has no column for are -1. A missing image is an error naming the manifest line.
"""

import csv
import math
from pathlib import Path

from fatauva.topology import AUS

from .base import DatasetError, FaceIndex, IndexBuilder, au_number, require_file, unlabelled_aus

AU_CODES = {"0": 0, "1": 1, "9": -1, "": -1}


def au_manifest_index(path: str | Path, split: str = "all") -> FaceIndex:
    """The rows of an AU manifest CSV (module doc) in `split` ("all" = every row)."""
    path = require_file(Path(path), "AU manifest CSV")
    header, rows = read_manifest(path, split)
    columns = {AUS.index(au): c for c, name in enumerate(header) if (au := au_number(name)) in AUS}
    if not columns:
        raise DatasetError(f"{path.name} line 1: no column names one of our AUs ({', '.join(map(str, AUS))})")
    builder = IndexBuilder(path.stem)
    for number, image, row in rows:
        aus = unlabelled_aus()
        for k, c in columns.items():
            code = row[c].strip()
            if code not in AU_CODES:
                raise DatasetError(
                    f"{path.name} line {number}: AU{AUS[k]} must be 0, 1, 9 or empty, got {code!r}"
                )
            aus[k] = AU_CODES[code]
        builder.add(image, path.stem, aus=aus)
    return builder.build()


def va_manifest_index(path: str | Path, split: str = "all") -> FaceIndex:
    """The rows of a `path,valence,arousal` manifest CSV in `split` ("all" = every row)."""
    path = require_file(Path(path), "V-A manifest CSV")
    header, rows = read_manifest(path, split)
    missing = [c for c in ("valence", "arousal") if c not in header]
    if missing:
        raise DatasetError(f"{path.name} line 1: missing column(s) {', '.join(missing)}")
    columns = [header.index("valence"), header.index("arousal")]
    builder = IndexBuilder(path.stem)
    for number, image, row in rows:
        builder.add(image, path.stem, va=[_va_value(row[c], path, number) for c in columns])
    return builder.build()


def _va_value(text: str, path: Path, number: int) -> float:
    text = text.strip()
    if not text:
        return math.nan
    try:
        value = float(text)
    except ValueError:
        value = math.inf
    if not -1.0 <= value <= 1.0:
        raise DatasetError(
            f"{path.name} line {number}: V-A values must lie in [-1, 1] or be empty, got {text!r}"
        )
    return value


def read_manifest(path: Path, split: str) -> tuple[list[str], list[tuple[int, Path, list[str]]]]:
    """The header (lower-cased names) and the (line number, image path, fields) rows of `split`."""
    with path.open(newline="", encoding="utf-8-sig") as f:
        reader = csv.reader(f)
        header = [h.strip() for h in next(reader, [])]
        lowered = [h.lower() for h in header]
        if "path" not in lowered:
            raise DatasetError(f"{path.name} line 1: expected a header starting with `path`, got {header}")
        path_col = lowered.index("path")
        split_col = lowered.index("split") if "split" in lowered else None
        rows = []
        for row in reader:
            number = reader.line_num
            if not any(c.strip() for c in row):
                continue
            if len(row) != len(header):
                raise DatasetError(
                    f"{path.name} line {number}: expected {len(header)} fields, got {len(row)}"
                )
            if split != "all" and split_col is not None and row[split_col].strip() != split:
                continue
            image = path.parent / row[path_col].strip()
            if not image.is_file():
                raise DatasetError(f"{path.name} line {number}: image {row[path_col].strip()} not found")
            rows.append((number, image, row))
    return lowered, rows
