"""UTKFace (Zhang, Song, Qi, CVPR 2017): `Male` (and age) for stage 1 (paper §3.1, Table 2).

Expected tree, as UTKFace publishes it: the labels are in the file names, there is no label file.

    <root>/crop_part1/<age>_<gender>_<race>_<date>.jpg.chip.jpg    the "crop_part1" archive:
                                                                  200x200 face-centred crops
    (or <root>/UTKFace/..., the "Aligned&Cropped Faces" archive, same names; or the images in
    <root> itself)

    age      integer years, 0-116
    gender   0 male, 1 female
    race     0-4 (White, Black, Asian, Indian, Others)
    date     the upload time, yyyymmddHHMMSSFFF

Two files of crop_part1 have three fields, `61_1_20170109142408075` and `61_3_20170109150557335`:
one of gender and race is missing, and which one is not known (3 is no gender, so there it is
the race). They are accepted with their age and `Male` unlabelled (-1), and counted in the notes.

Labels: `Male` = 1 for gender 0, 0 for gender 1; the nine other attributes -1 (unlabelled, masked
in the loss); age kept in `FaceIndex.ages` (years; not CelebA's `Young`, which is a rater's
judgement). AUs -1, V-A nan. A file name that does not follow the pattern is a DatasetError
naming the file.

Splits (UTKFace publishes none): by a hash of the file name (`base.hash_bucket`, sha1),
bucket 0 of 10 test, bucket 1 val, buckets 2-9 train: 80/10/10, the same on every machine, and
an image keeps its split when others are added or removed. UTKFace has no identity labels, so
one person may appear in several splits. Groups are the file names.

The crops are face-centred with one framing, so a face the detector misses is placed by the
mean framing of the faces it finds (`FaceIndex.centred`).
"""

from pathlib import Path

from fatauva.topology import ATTRIBUTES

from .base import (
    DatasetError,
    FaceIndex,
    IndexBuilder,
    check_split,
    hash_bucket,
    shown,
    unlabelled_attributes,
)

SPLITS = ("train", "val", "test", "all")
SUFFIX = ".jpg.chip.jpg"
FOLDERS = ("crop_part1", "UTKFace")
TEST_BUCKET, VAL_BUCKET, BUCKETS = 0, 1, 10


def utkface_index(root: str | Path, split: str = "train") -> FaceIndex:
    """The UTKFace images of `split` ("train", "val", "test" or "all"), with `Male` and age."""
    root = Path(root)
    check_split(split, SPLITS, "UTKFace")
    folder = images_folder(root)
    builder = IndexBuilder("utkface")
    male = ATTRIBUTES.index("Male")
    images = sorted(p for p in folder.iterdir() if p.name.lower().endswith(".jpg"))
    if not images:
        raise DatasetError(f"{folder}: no UTKFace images (*{SUFFIX}) found")
    short = 0
    for path in images:
        age, gender = parse_name(path, root)
        if split != "all" and split_of(path.name) != split:
            continue
        attributes = unlabelled_attributes()
        if gender is None:
            short += 1
        else:
            attributes[male] = 1 - gender
        builder.add(path, path.name, attributes=attributes, age=float(age))
    if short:
        builder.notes.append(f"{short} names with three fields (gender or race missing): Male unlabelled")
    builder.centred = True
    return builder.build()


def images_folder(root: Path) -> Path:
    """crop_part1/ or UTKFace/ under `root`, else `root` itself if it holds UTKFace images."""
    for name in FOLDERS:
        if (root / name).is_dir():
            return root / name
    if root.is_dir() and any(p.name.endswith(SUFFIX) for p in root.iterdir()):
        return root
    tried = ", ".join(str(root / n) for n in FOLDERS)
    raise DatasetError(f"UTKFace images not found; looked in {tried} and {root}")


def parse_name(path: Path, root: Path) -> tuple[int, int | None]:
    """(age, gender or None) from `<age>_<gender>_<race>_<date>.jpg.chip.jpg`, None for the
    three-field names (module doc); any other name is a DatasetError naming the file."""
    stem = path.name[: -len(SUFFIX)] if path.name.endswith(SUFFIX) else path.name[: -len(".jpg")]
    fields = stem.split("_")
    if all(f.isdigit() for f in fields):
        if len(fields) == 4 and fields[1] in ("0", "1"):
            return int(fields[0]), int(fields[1])
        if len(fields) == 3:
            return int(fields[0]), None
    raise DatasetError(
        f"{shown(path, root)}: expected a name <age>_<gender 0|1>_<race>_<date>{SUFFIX}, got {path.name!r}"
    )


def split_of(name: str) -> str:
    bucket = hash_bucket(name, BUCKETS)
    return "test" if bucket == TEST_BUCKET else "val" if bucket == VAL_BUCKET else "train"
