"""GENKI-4K (UCSD MPLab): `Smiling` for stage 1 (paper §3.1, Table 2).

Two label layouts are read, with the images in `files/` either way:

    <root>/files/file0001.jpg ... file4000.jpg
    <root>/labels.csv      this copy's: header `file,smile,yaw,pitch,roll`, then
                           `file0002.jpg,1,-0.057745,0.083098,-0.094952` (one row per image)
    <root>/labels.txt      the original GENKI-4K_Labels.txt (that name is accepted too): one line
                           per image in file order, `smile yaw pitch roll`, e.g.
                           `1 -0.021162 0.059530 -0.039662`; line k labels file%04d.jpg k

labels.csv wins when both exist. smile is 1 (smiling) or 0; the head pose (radians) is checked
to be numeric and not used. Labels: `Smiling` only, the nine other attributes -1 (unlabelled,
masked in the loss); AUs -1, V-A nan. A labelled image that is missing from files/ is skipped
and counted (`FaceIndex.skipped`): copies hold some images back. A malformed row is a
DatasetError naming file and line.

Splits (GENKI-4K publishes none): by file number k, k % 10 == 0 test, k % 10 == 9 val, else
train (80/10/10). Interleaved rather than contiguous because the original numbering is sorted by
label (files 1-2162 smile, 2163-4000 do not): ranges of numbers would give splits of one class.
GENKI has no identity labels; groups are the file names.

This copy's images are 64x64 crops cut by a Haar cascade, not one framing, and some of them hold
no face at all (the cascade's false detections: a neck, a mouth, hair, a texture). Of 16 test-split
images the detector missed at its own threshold, 9 held no face. So a face the detector misses is
skipped and counted, not placed by a mean framing (`FaceIndex.centred` stays False): 225 of the
3,000 here.
"""

import csv
from pathlib import Path

from fatauva.topology import ATTRIBUTES

from .base import (
    DatasetError,
    FaceIndex,
    IndexBuilder,
    check_split,
    numbered_lines,
    require_dir,
    shown,
    unlabelled_attributes,
)

SPLITS = ("train", "val", "test", "all")
CSV_FILE = "labels.csv"
TXT_FILES = ("labels.txt", "GENKI-4K_Labels.txt")
CSV_HEADER = ["file", "smile", "yaw", "pitch", "roll"]


def genki4k_index(root: str | Path, split: str = "train") -> FaceIndex:
    """The GENKI-4K images of `split` ("train", "val", "test" or "all") with `Smiling`."""
    root = Path(root)
    check_split(split, SPLITS, "GENKI-4K")
    files = require_dir(root / "files", "GENKI-4K images")
    if (root / CSV_FILE).is_file():
        smiles = read_csv_labels(root / CSV_FILE, root)
    else:
        txt = next((root / n for n in TXT_FILES if (root / n).is_file()), None)
        if txt is None:
            raise DatasetError(f"{root / CSV_FILE}: file not found (nor {', '.join(TXT_FILES)})")
        smiles = read_txt_labels(txt, root)
    builder = IndexBuilder("genki4k")
    smiling = ATTRIBUTES.index("Smiling")
    for number, smile in sorted(smiles.items()):
        path = files / file_name(number)
        if not path.is_file():
            builder.skipped += 1
            continue
        if split != "all" and split_of(number) != split:
            continue
        attributes = unlabelled_attributes()
        attributes[smiling] = smile
        builder.add(path, path.name, attributes=attributes)
    if builder.skipped:
        builder.notes.append(f"{builder.skipped} labelled images not in files/ (held back): skipped")
    return builder.build()


def file_name(number: int) -> str:
    return f"file{number:04d}.jpg"


def split_of(number: int) -> str:
    return "test" if number % 10 == 0 else "val" if number % 10 == 9 else "train"


def read_csv_labels(path: Path, root: Path) -> dict[int, int]:
    """File number -> smile (0/1) from this copy's labels.csv."""
    where = shown(path, root)
    lines = list(numbered_lines(path, root))
    if not lines or [c.strip() for c in lines[0][1].split(",")] != CSV_HEADER:
        raise DatasetError(f"{where} line 1: expected the header {','.join(CSV_HEADER)}")
    smiles: dict[int, int] = {}
    for (number, _), row in zip(lines[1:], csv.reader(line for _, line in lines[1:]), strict=True):
        name = row[0].strip() if row else ""
        if len(row) != 5 or not (name.startswith("file") and name.endswith(".jpg") and name[4:-4].isdigit()):
            raise DatasetError(f"{where} line {number}: expected `fileNNNN.jpg,smile,yaw,pitch,roll`")
        smiles[int(name[4:-4])] = _smile(row[1:], where, number)
    return smiles


def read_txt_labels(path: Path, root: Path) -> dict[int, int]:
    """File number -> smile (0/1) from the original labels.txt: line k labels file k."""
    where = shown(path, root)
    try:
        text = path.read_text(encoding="utf-8-sig").rstrip().splitlines()  # trailing blank lines: none
    except UnicodeDecodeError as err:
        raise DatasetError(f"{where}: not a UTF-8 text file ({err.reason})") from None
    smiles: dict[int, int] = {}
    for number, line in enumerate(text, start=1):
        fields = line.split()
        if len(fields) != 4:
            raise DatasetError(f"{where} line {number}: expected `smile yaw pitch roll`, got {line!r}")
        smiles[number] = _smile(fields, where, number)
    return smiles


def _smile(fields: list[str], where: str, number: int) -> int:
    """The smile label of one row (`smile yaw pitch roll`), checked."""
    smile = fields[0].strip()
    if smile not in ("0", "1"):
        raise DatasetError(f"{where} line {number}: smile must be 0 or 1, got {smile!r}")
    try:
        [float(v) for v in fields[1:]]
    except ValueError:
        raise DatasetError(
            f"{where} line {number}: head pose must be three numbers, got {fields[1:]}"
        ) from None
    return int(smile)
