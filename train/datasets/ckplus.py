"""CK+ (Lucey et al., CVPRW 2010), the "CK+48" crops with their FACS codes: AU checks on real faces.

For VALIDATION AND CALIBRATION ONLY, never for training the weights the project ships: it is small
(59 subjects, posed, in a lab), and its agreement allows research use only. Use it to check AU
predictions on real faces (paper Tables 5-6 layout) and to fit a teacher's AU thresholds.

Expected tree:

    <root>/<emotion>/S010_004_00000017.png ...   48x48 greyscale crops, Sxxx_sss_fffffff.png
        <emotion>: anger, contempt, disgust, fear, happy, sadness, surprise
    <root>/au_labels.csv     header `image,AU1,AU2,...,emotion,subject,sequence,frame,is_peak`;
                             one row per frame: `S010_004_00000017.png,0,0,1,...,anger,S010,
                             S010_004,17,0`; AU columns 0/1, in any order and number

AUs: the 13 of `topology.AUS` that CK+ codes (1, 2, 4, 6, 7, 10, 12, 15, 17, 23, 24, 25, 26) from
their columns; AU45 (and any of ours without a column) -1, unlabelled; AU columns we do not model
are ignored. CK+ codes the peak frame of a sequence (`is_peak` 1); the frames before it in the
CSV inherit its codes. Emotion: `FaceIndex.emotions` in the names of `train.datasets.emotions`
(happy -> happiness; contempt stays contempt). Attributes -1, V-A nan. Groups: the subject.
Images on disk without a CSV row are not indexed (they have no codes); a row whose image is
missing is skipped and counted (`FaceIndex.skipped`); a malformed row is a DatasetError naming
file and line.

Splits:
- all: every frame of the CSV (the split the project reports);
- peak: the peak frames only (`is_peak` 1);
- calib / check: subject-level halves for fitting thresholds on one and checking on the other:
  the subjects sorted by id, alternately calib (1st, 3rd, ...) and check (2nd, 4th, ...).

The crops are face-centred with one framing, so a face the detector misses is placed by the mean
framing of the faces it finds (`FaceIndex.centred`).
"""

import csv
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from fatauva.topology import AUS

from .base import DatasetError, FaceIndex, IndexBuilder, au_number, check_split, require_file, unlabelled_aus
from .emotions import canonical_emotion

SPLITS = ("all", "peak", "calib", "check")
CSV_FILE = "au_labels.csv"
REQUIRED = ("image", "emotion", "subject", "is_peak")


@dataclass
class CodedFrame:
    """One row of au_labels.csv: `folder` is the emotion as spelled on disk, `emotion` ours."""

    image: str
    folder: str
    emotion: str
    subject: str
    is_peak: bool
    aus: np.ndarray  # int64 (14,) in topology.AUS order, -1 = not coded


def ckplus_index(root: str | Path, split: str = "all") -> FaceIndex:
    """The CK+48 frames of `split` ("all", "peak", "calib" or "check") with their AU codes."""
    root = Path(root)
    check_split(split, SPLITS, "CK+")
    rows = read_rows(require_file(root / CSV_FILE, "CK+ AU codes"))
    calib = set(sorted({row.subject for row in rows})[::2])
    builder = IndexBuilder("ckplus")
    for row in rows:
        path = root / row.folder / row.image
        if not path.is_file():
            builder.skipped += 1
            continue
        keep = {
            "all": True,
            "peak": row.is_peak,
            "calib": row.subject in calib,
            "check": row.subject not in calib,
        }[split]
        if keep:
            builder.add(path, row.subject, aus=row.aus, emotion=row.emotion)
    if builder.skipped:
        builder.notes.append(f"{builder.skipped} coded frames without an image: skipped")
    builder.centred = True
    return builder.build()


def read_rows(path: Path) -> list[CodedFrame]:
    """The rows of au_labels.csv, checked."""
    where = path.name
    with path.open(newline="", encoding="utf-8-sig") as f:
        reader = csv.reader(f)
        header = [h.strip() for h in next(reader, [])]
        missing = [c for c in REQUIRED if c not in header]
        if missing:
            raise DatasetError(f"{where} line 1: header lacks the columns {', '.join(missing)}")
        columns = {au_number(h): k for k, h in enumerate(header) if h.upper().startswith("AU")}
        ours = {j: columns[au] for j, au in enumerate(AUS) if au in columns}
        if not ours:
            raise DatasetError(f"{where} line 1: no AU column of {', '.join(f'AU{a}' for a in AUS)}")
        at = {name: header.index(name) for name in REQUIRED}
        rows = []
        for fields in reader:
            if fields:
                rows.append(parse_row(fields, header, at, ours, where, reader.line_num))
    return rows


def parse_row(
    fields: list[str], header: list[str], at: dict[str, int], ours: dict[int, int], where: str, line: int
) -> CodedFrame:
    """One CSV row; `at` maps the REQUIRED names and `ours` our AU index to their column."""
    if len(fields) != len(header):
        raise DatasetError(f"{where} line {line}: expected {len(header)} fields, got {len(fields)}")
    aus = unlabelled_aus()
    for j, k in ours.items():
        if fields[k].strip() not in ("0", "1"):
            raise DatasetError(f"{where} line {line}: {header[k]} must be 0 or 1, got {fields[k]!r}")
        aus[j] = int(fields[k])
    folder = fields[at["emotion"]].strip()
    emotion = canonical_emotion(folder)
    if emotion is None:
        raise DatasetError(f"{where} line {line}: unknown emotion {folder!r}")
    if fields[at["is_peak"]].strip() not in ("0", "1"):
        raise DatasetError(f"{where} line {line}: is_peak must be 0 or 1, got {fields[at['is_peak']]!r}")
    return CodedFrame(
        image=fields[at["image"]].strip(),
        folder=folder,
        emotion=emotion,
        subject=fields[at["subject"]].strip(),
        is_peak=fields[at["is_peak"]].strip() == "1",
        aus=aus,
    )
