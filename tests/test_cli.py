"""`python -m demo.cli`: files and folders in, one CSV row per face out; bad files named on stderr."""

import contextlib
import csv
import io
import json
import subprocess
import sys
from pathlib import Path

import cv2
import numpy as np
import pytest
from PIL import Image

from demo import cli
from demo.examples import EXAMPLES, compose
from demo.photo import CSV_COLUMNS
from fatauva import topology
from fatauva.synthfacs import face_params, render

ROOT = Path(__file__).resolve().parents[1]


def write_rgb(path: Path, rgb: np.ndarray) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(rgb).save(path)
    return path


@pytest.fixture(scope="module")
def face_crop() -> np.ndarray:
    """One SynthFACS face in the aligned crop, (112, 112, 3) uint8 RGB."""
    return render(face_params("test", 2), size=112, with_masks=False).image


@pytest.fixture(scope="module")
def photo_tree(tmp_path_factory, face_crop) -> Path:
    """A folder of photos: one face, two faces, no face, small photos, a sub-folder, bad files."""
    root = tmp_path_factory.mktemp("photos")
    write_rgb(root / "one.png", compose(EXAMPLES[0][1]))
    write_rgb(root / "nested" / "deeper" / "two.jpg", compose(EXAMPLES[1][1]))
    write_rgb(root / "wall.png", np.full((240, 320, 3), 127, np.uint8))
    write_rgb(root / "crop48.png", cv2.resize(face_crop, (48, 48), interpolation=cv2.INTER_AREA))
    grey = cv2.cvtColor(cv2.resize(face_crop, (120, 128), interpolation=cv2.INTER_AREA), cv2.COLOR_RGB2GRAY)
    Image.fromarray(grey, "L").save(root / "portrait_grey.png")
    write_rgb(root / "café_写真.png", compose(EXAMPLES[0][1]))
    exif = Image.Exif()
    exif[0x0112] = 8  # stored a quarter turn clockwise; viewers turn it back
    sideways = Image.fromarray(compose(EXAMPLES[0][1])).transpose(Image.Transpose.ROTATE_270)
    sideways.save(root / "phone.jpg", exif=exif.tobytes(), quality=92)
    indices = (2, 6, 7, 11, 1, 3, 9, 0)  # SynthFACS test faces the detector finds (not 4 and 5)
    crowd = tuple((i, 130, 20 + (k % 4) * 155, 20 + (k // 4) * 230) for k, i in enumerate(indices))
    write_rgb(root / "crowd.png", compose(crowd))
    (root / "empty.jpg").write_bytes(b"")
    (root / "cut.png").write_bytes((root / "one.png").read_bytes()[:4000])
    (root / "notes.txt").write_text("not a photo, and not an image suffix: skipped in a folder walk")
    return root


def read_rows(path: Path) -> list[dict[str, str]]:
    with open(path, newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))


@pytest.fixture(scope="module")
def run(photo_tree, tmp_path_factory):
    """main() once over the whole tree: (exit status, rows by file name, JSON, stderr lines)."""
    out = tmp_path_factory.mktemp("out")
    stderr = io.StringIO()
    with contextlib.redirect_stderr(stderr):
        status = cli.main([str(photo_tree), "--csv", f"{out}/faces.csv", "--json", f"{out}/faces.json"])
    rows: dict[str, list[dict]] = {}
    for row in read_rows(out / "faces.csv"):
        rows.setdefault(Path(row["file"]).name, []).append(row)
    results = json.loads((out / "faces.json").read_text(encoding="utf-8"))
    return status, rows, results, stderr.getvalue().splitlines()


def test_columns_are_the_documented_ones():
    assert list(CSV_COLUMNS[:6]) == ["file", "face", "x", "y", "w", "h"]
    assert list(CSV_COLUMNS[6:16]) == list(topology.ATTRIBUTES)
    assert list(CSV_COLUMNS[16:30]) == [
        *("AU01", "AU02", "AU04", "AU06", "AU07", "AU10", "AU12"),
        *("AU15", "AU17", "AU23", "AU24", "AU25", "AU26", "AU45"),
    ]
    assert list(CSV_COLUMNS[30:]) == ["valence", "arousal"]


def test_one_row_per_face_with_box_and_outputs_in_range(run):
    _, rows, _, _ = run
    assert [r["face"] for r in rows["one.png"]] == ["1"]
    assert [r["face"] for r in rows["two.jpg"]] == ["1", "2"]  # found in a sub-sub-folder
    for row in rows["one.png"] + rows["two.jpg"]:
        assert int(row["w"]) > 50 and int(row["h"]) > 50
        assert all(0.0 <= float(row[c]) <= 1.0 for c in CSV_COLUMNS[6:30])
        assert -1.0 <= float(row["valence"]) <= 1.0 and -1.0 <= float(row["arousal"]) <= 1.0


def test_photo_without_a_face_gets_one_row_with_face_empty(run):
    _, rows, _, _ = run
    assert len(rows["wall.png"]) == 1
    assert rows["wall.png"][0]["face"] == "" and rows["wall.png"][0]["valence"] == ""


def test_small_photos_are_upsampled_for_the_detector(run):
    _, rows, _, _ = run
    assert [r["face"] for r in rows["crop48.png"]] == ["1"]
    assert [r["face"] for r in rows["portrait_grey.png"]] == ["1"]


def test_exif_rotated_photo_is_read_upright(run):
    _, rows, _, _ = run
    assert [r["face"] for r in rows["phone.jpg"]] == ["1"]
    (row,) = rows["phone.jpg"]
    assert int(row["x"]) + int(row["w"]) <= 640 and int(row["y"]) + int(row["h"]) <= 480  # landscape again


def test_many_faces_get_a_row_each(run):
    _, rows, _, _ = run
    assert [r["face"] for r in rows["crowd.png"]] == [str(n) for n in range(1, 9)]


def test_unicode_file_names_keep_their_rows(run):
    _, rows, _, _ = run
    assert [r["face"] for r in rows["café_写真.png"]] == ["1"]


def test_each_unreadable_file_is_one_line_on_stderr_and_the_status_is_nonzero(run, photo_tree):
    status, rows, results, stderr = run
    assert status == 1
    failed = [line for line in stderr if line.startswith(str(photo_tree))]
    assert len(failed) == 2
    assert any("empty.jpg is empty" in line for line in failed)
    assert any("cut.png could not be decoded" in line for line in failed)
    assert not any("Traceback" in line for line in stderr)
    assert "empty.jpg" not in rows and "cut.png" not in rows and "notes.txt" not in rows
    errors = {Path(r["file"]).name: r["error"] for r in results if "error" in r}
    assert set(errors) == {"empty.jpg", "cut.png"}


def test_json_holds_every_readable_photo_with_its_faces(run):
    _, rows, results, _ = run
    faces = {Path(r["file"]).name: len(r["faces"]) for r in results if "faces" in r}
    assert faces["two.jpg"] == 2 and faces["wall.png"] == 0
    assert set(faces) == set(rows)


def test_command_line_exits_zero_when_every_file_reads(photo_tree, tmp_path):
    out = tmp_path / "one.csv"
    done = subprocess.run(
        [sys.executable, "-m", "demo.cli", str(photo_tree / "one.png"), "--csv", str(out)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    assert [r["face"] for r in read_rows(out)] == ["1"]
    assert "Traceback" not in done.stderr


def test_command_line_names_a_missing_path_without_a_traceback(photo_tree, tmp_path):
    out = tmp_path / "x.csv"
    done = subprocess.run(
        [sys.executable, "-m", "demo.cli", str(photo_tree / "nope.jpg"), str(photo_tree / "empty.jpg")]
        + ["--csv", str(out)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 1
    assert "nope.jpg: no such file or folder" in done.stderr and "empty.jpg is empty" in done.stderr
    assert "Traceback" not in done.stderr
    assert read_rows(out) == []


@pytest.mark.slow
def test_cams_writes_every_faces_maps_and_numbers(tmp_path, face_crop):
    photos = tmp_path / "in"
    write_rgb(photos / "a" / "same.png", compose(EXAMPLES[1][1]))  # two faces
    write_rgb(photos / "b" / "same.png", compose(EXAMPLES[0][1]))  # the same stem again
    cams = tmp_path / "cams"
    assert cli.main([str(photos), "--csv", str(tmp_path / "f.csv"), "--cams", str(cams)]) == 0
    assert sorted(p.name for p in cams.iterdir()) == ["same-2_face1", "same_face1", "same_face2"]
    targets = (*topology.ATTRIBUTES, *topology.AU_KEYS, *topology.VA_TARGETS)
    expected = {f"{t}.png" for t in targets} | {f"{p}_response.png" for p in topology.PARTS}
    face = cams / "same_face1"
    assert {p.name for p in face.glob("*.png")} == expected
    smile = cv2.imread(str(face / "Smiling.png"))
    assert smile.shape == face_crop.shape and smile.std() > 5  # a blended picture, not a blank file
    numbers = json.loads((face / "explanation.json").read_text())
    assert set(numbers["scores"]) == set(targets)
    assert set(numbers["flow"]["aus_to_va"]) == set(topology.VA_TARGETS)
