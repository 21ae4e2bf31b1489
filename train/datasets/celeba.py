"""CelebA (Liu et al. 2015), the attribute data of stage 1 (paper §3.1, Table 2).

Expected tree, as CelebA publishes it (Anno/ and Eval/ files may also sit in the root):

    <root>/
      img_align_celeba/000001.jpg ...          aligned 178x218 JPEGs (or these scaled by any
                                               factor, e.g. the half-size 89x109 copy of shared/data)
      Anno/list_attr_celeba.txt                line 1: image count; line 2: the 40 attribute
                                               names; then `000001.jpg -1  1 ...` (40 values, +-1)
      Eval/list_eval_partition.txt             optional; `000001.jpg 0`: 0 train, 1 val, 2 test
      Anno/list_landmarks_align_celeba.txt     optional; line 1 count, line 2 the 10 names
                                               lefteye_x lefteye_y righteye_x ... rightmouth_y,
                                               then `000001.jpg 69 109 106 113 77 142 73 152 108 154`

Only the ten attributes of `topology.ATTRIBUTES` are kept (-1 -> 0). AUs are -1 and V-A nan.
With the landmark file the five points (left eye, right eye, nose, left and right mouth
corner, "left" = image left as in our template) align each face without a detector.

Without list_eval_partition.txt (a partial copy, such as the 9,000 official-train images of
shared/data) the split is fixed by image id: the ids listed in list_attr_celeba.txt, sorted,
first 80% train, next 10% val, last 10% test (`fallback_partition`); for ids 000001-009000 that
is 1-7200 train, 7201-8100 val, 8101-9000 test. Without CelebA's identity file nothing keeps
one person in one split: the same celebrity may appear in train and test (identity leakage,
so held-out accuracy is somewhat optimistic).

Without the landmark file the detector finds the faces; where it misses one, the face is placed
by CelebA's own alignment (`ALIGNED_POINTS`, scaled to the image size): every image of
img_align_celeba was warped so that the eyes and the mouth centre sit at fixed points. On the
89x109 copy the mean five points the detector finds on 200 images lie within 0.96 px of them
(tests/test_datasets_preprocess.py checks 40 images to 2.5 px).
"""

from pathlib import Path

import numpy as np

from fatauva.template import TEMPLATE_POINTS, similarity_transform
from fatauva.topology import ATTRIBUTES

from .base import DatasetError, FaceIndex, IndexBuilder, check_split, numbered_lines, require_dir, shown

SPLITS = {"train": 0, "val": 1, "test": 2}
ATTR_FILE = "list_attr_celeba.txt"
PARTITION_FILE = "list_eval_partition.txt"
LANDMARK_FILE = "list_landmarks_align_celeba.txt"
PARTITION_SHARES = (0.8, 0.1)  # train, val shares of the sorted ids without a partition file
# CelebA's alignment (`pos_align` of align_face_celeba.m, the MATLAB function that made
# img_align_celeba): left eye, right eye and mouth centre of every aligned 178x218 image, in
# 1-based MATLAB pixels.
ALIGNED_SIZE = (178, 218)
ALIGNED_EYES_MOUTH = np.array([[70.745, 112.0], [108.237, 112.0], [89.432, 153.514]])
LANDMARK_NAMES = (
    "lefteye_x lefteye_y righteye_x righteye_y nose_x nose_y "
    "leftmouth_x leftmouth_y rightmouth_x rightmouth_y"
).split()


def celeba_index(root: str | Path, split: str = "train") -> FaceIndex:
    """The CelebA images of `split` ("train", "val", "test" or "all") with their ten attributes."""
    root = Path(root)
    check_split(split, (*SPLITS, "all"), "CelebA")
    images = require_dir(root / "img_align_celeba", "CelebA images")
    attributes = read_attributes(find_annotation(root, ATTR_FILE), root)
    partition_path = find_annotation(root, PARTITION_FILE, required=False)
    if partition_path is None:
        partition = fallback_partition(list(attributes))
    else:
        partition = read_partition(partition_path, root)
    landmark_path = find_annotation(root, LANDMARK_FILE, required=False)
    landmarks = read_landmarks(landmark_path, root) if landmark_path else {}
    on_disk = {p.name for p in images.iterdir()}
    builder = IndexBuilder("celeba")
    for name, (line, values) in attributes.items():
        if name not in partition:
            raise DatasetError(f"{PARTITION_FILE}: no entry for {name} (listed in {ATTR_FILE} line {line})")
        if name not in on_disk:
            raise DatasetError(f"{ATTR_FILE} line {line}: image img_align_celeba/{name} not found")
        if split != "all" and partition[name] != SPLITS[split]:
            continue
        builder.add(images / name, name, attributes=values, landmarks=landmarks.get(name))
    if partition_path is None:
        builder.notes.append(
            f"no {PARTITION_FILE}: split 80/10/10 by sorted image id (identities may repeat)"
        )
    if landmark_path is None:
        builder.notes.append(f"no {LANDMARK_FILE}: faces are found by the detector")
    builder.centred = True
    builder.alignment = ALIGNED_POINTS
    return builder.build()


def fallback_partition(names: list[str]) -> dict[str, int]:
    """Image name -> 0 train / 1 val / 2 test when CelebA's partition file is absent (module doc)."""
    ordered = sorted(names)
    n_train = round(PARTITION_SHARES[0] * len(ordered))
    n_val = round(PARTITION_SHARES[1] * len(ordered))
    return {name: 0 if k < n_train else 1 if k < n_train + n_val else 2 for k, name in enumerate(ordered)}


def aligned_points() -> np.ndarray:
    """CelebA's alignment as five template-order points (5, 2), fractions of image width and height.

    The template's eyes and mouth centre are mapped onto CelebA's (`ALIGNED_EYES_MOUTH`) by a
    similarity; its five points under that map are where CelebA puts them, so aligning an
    img_align_celeba image by them gives exactly the template crop of CelebA's own framing.
    """
    unit = TEMPLATE_POINTS.astype(np.float64)
    eyes_mouth = np.vstack([unit[:2], unit[3:].mean(axis=0)])
    matrix = similarity_transform(eyes_mouth, ALIGNED_EYES_MOUTH - 1.0)  # 1-based -> 0-based pixels
    pixels = unit @ matrix[:, :2].T + matrix[:, 2]
    return ((pixels + 0.5) / np.array(ALIGNED_SIZE)).astype(np.float32)


ALIGNED_POINTS = aligned_points()


def find_annotation(root: Path, name: str, required: bool = True) -> Path | None:
    for folder in (root, root / "Anno", root / "Eval"):
        if (folder / name).is_file():
            return folder / name
    if required:
        raise DatasetError(f"{root / 'Anno' / name}: file not found (looked in {root}, Anno/ and Eval/)")
    return None


def read_attributes(path: Path, root: Path) -> dict[str, tuple[int, np.ndarray]]:
    """image name -> (line number, int64 (10,) in ATTRIBUTES order, 1 present / 0 absent)."""
    lines = list(numbered_lines(path, root))
    where = shown(path, root)
    if len(lines) < 2:
        raise DatasetError(f"{where}: expected a count line and a header line, got {len(lines)} lines")
    count = _count(lines[0], where)
    names = lines[1][1].split()
    missing = [a for a in ATTRIBUTES if a not in names]
    if missing:
        raise DatasetError(f"{where} line {lines[1][0]}: header lacks attributes {', '.join(missing)}")
    columns = [names.index(a) + 1 for a in ATTRIBUTES]
    rows: dict[str, tuple[int, np.ndarray]] = {}
    for number, line in lines[2:]:
        fields = line.split()
        if len(fields) != len(names) + 1:
            raise DatasetError(f"{where} line {number}: expected {len(names) + 1} fields, got {len(fields)}")
        wrong = [v for v in fields[1:] if v not in ("1", "-1")]
        if wrong:
            raise DatasetError(f"{where} line {number}: attribute values must be 1 or -1, got {wrong[0]!r}")
        rows[fields[0]] = (number, np.array([fields[c] == "1" for c in columns], dtype=np.int64))
    if count != len(rows):
        raise DatasetError(f"{where}: line 1 announces {count} images, the file lists {len(rows)}")
    return rows


def read_partition(path: Path, root: Path) -> dict[str, int]:
    where = shown(path, root)
    partition: dict[str, int] = {}
    for number, line in numbered_lines(path, root):
        fields = line.split()
        if len(fields) != 2 or fields[1] not in ("0", "1", "2"):
            raise DatasetError(f"{where} line {number}: expected `<image> <0|1|2>`, got {line!r}")
        partition[fields[0]] = int(fields[1])
    return partition


def read_landmarks(path: Path, root: Path) -> dict[str, np.ndarray]:
    """image name -> float32 (5, 2) pixel points in template order."""
    lines = list(numbered_lines(path, root))
    where = shown(path, root)
    if len(lines) < 2 or lines[1][1].split() != LANDMARK_NAMES:
        raise DatasetError(f"{where} line 2: expected the header {' '.join(LANDMARK_NAMES)}")
    _count(lines[0], where)
    points: dict[str, np.ndarray] = {}
    for number, line in lines[2:]:
        fields = line.split()
        try:
            if len(fields) != 11:
                raise ValueError
            points[fields[0]] = np.array(fields[1:], dtype=np.float32).reshape(5, 2)
        except ValueError:
            raise DatasetError(
                f"{where} line {number}: expected an image name and 10 numbers, got {line!r}"
            ) from None
    return points


def _count(line: tuple[int, str], where: str) -> int:
    number, text = line
    if not text.isdigit():
        raise DatasetError(f"{where} line {number}: expected the image count, got {text!r}")
    return int(text)
