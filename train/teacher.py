"""The real-photo AU teacher: cache MediaPipe's 52 face blendshapes for every image of a dataset.

Its labels are an input to training (stage 2 reads them through `train.teacher_map`), never a
dependency of the app or the tests. `mediapipe` pulls the full opencv-contrib-python 5.x, which
must not share an environment with the app's opencv-python-headless 4.x, so the teacher runs in
a venv of its own, from the repository root:

    python3 -m venv .venv-teacher && .venv-teacher/bin/pip install -r requirements-teacher.txt
    .venv-teacher/bin/python -m train.teacher --data genki4k --root ../shared/data/genki4k --out cache/teacher

`--data` walks a set's published layout (`LAYOUTS`); `--paths FILE` takes one image path a line
instead. Rows land in `<out>/<set>/part-NNNNN.npz` (format in `train.teacher_map`), keyed by the
resolved image path; a rerun skips the images already cached. The model file is MediaPipe's
`face_landmarker.task` (../shared/models/, Apache-2.0). This is the only module that imports
mediapipe, and only inside functions.

Preparation (`prepare`): these crops are 48-200 px and fill the frame, which MediaPipe's face
detector often misses as they are, so each image is upsampled to 256 px on its short side and
padded with its own replicated border (a quarter of that side); an image with no face is tried
once more with three quarters. Detection and presence confidence 0.3 rather than the default 0.5
(on 200 images each, GENKI-4K 91% -> 92%, FER2013 92% -> 96% with the retry).

Measured (the full runs of 3 Dec 2026, one process, the other core busy with a training run):

    set                images  face found  time    ms / image
    genki4k             3,000     0.934     270 s     90
    celeba              9,000     0.994     852 s     95
    utkface             9,780     0.999     738 s     75
    fer2013 train      28,709     0.947    2036 s     71
    fer2013 test        3,589     0.950     152 s     43
    ckplus48              468     1.000     (under a minute)

    67 min for the other five. What the labels are worth (`python -m train.teacher_fit`): CK+ mean
    AUC 0.794 over the 13 coded AUs (issue 19: 0.791 through its map), FER2013 public test
    emotion_au_auc 0.694 (issue 19: 0.692); GENKI-4K smile against AU12 AUC 0.978, CelebA Smiling 0.955.
"""

import argparse
import sys
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from train.teacher_map import BLENDSHAPES, read_cache

MODEL = Path(__file__).resolve().parents[1].parent / "shared" / "models" / "face_landmarker.task"

# Each set's published layout, as globs under its root; fer2013 has a train/ and a test/ split.
LAYOUTS: dict[str, dict[str, tuple[str, ...]]] = {
    "celeba": {"all": ("img_align_celeba/*.jpg",)},
    "utkface": {"all": ("crop_part1/*.jpg",)},
    "genki4k": {"all": ("files/*.jpg",)},
    "fer2013": {"train": ("train/*/*.jpg",), "test": ("test/*/*.jpg",)},
    "ckplus48": {"all": ("*/*.png",)},
}

SHORT_SIDE = 256
PADS = (0.25, 0.75)  # border as a fraction of SHORT_SIDE: first try, retry when no face was found
MIN_CONFIDENCE = 0.3


def dataset_paths(name: str, root: str | Path, split: str = "all") -> list[Path]:
    """The resolved image paths of set `name` under `root`, sorted; split 'all' joins a set's splits."""
    if name not in LAYOUTS:
        raise SystemExit(f"unknown dataset {name!r}: choose one of {', '.join(LAYOUTS)} or pass --paths")
    splits = LAYOUTS[name]
    if split != "all" and split not in splits:
        raise SystemExit(f"{name} has no split {split!r}: choose one of {', '.join(('all', *splits))}")
    patterns = [p for s, globs in splits.items() if split in ("all", s) for p in globs]
    paths = sorted({p.resolve() for pattern in patterns for p in Path(root).glob(pattern)})
    if not paths:
        raise SystemExit(f"no images of {name} under {root} (looked for {', '.join(patterns)})")
    return paths


def listed_paths(list_file: str | Path) -> list[Path]:
    """The resolved paths of a text file with one image path a line (blank lines skipped)."""
    lines = Path(list_file).read_text().splitlines()
    return [Path(line.strip()).resolve() for line in lines if line.strip()]


def prepare(rgb: np.ndarray, pad: float) -> np.ndarray:
    """(H, W, 3) uint8 RGB -> contiguous uint8 RGB, short side SHORT_SIDE, border pad * SHORT_SIDE."""
    import cv2

    h, w = rgb.shape[:2]
    scale = SHORT_SIDE / min(h, w)
    big = cv2.resize(rgb, (round(w * scale), round(h * scale)), interpolation=cv2.INTER_CUBIC)
    border = round(pad * SHORT_SIDE)
    return np.ascontiguousarray(cv2.copyMakeBorder(big, border, border, border, border, cv2.BORDER_REPLICATE))


@contextmanager
def landmarker(model: Path = MODEL) -> Iterator[object]:
    """MediaPipe's FaceLandmarker in IMAGE mode, one face, blendshapes on; closed on exit."""
    from mediapipe.tasks.python import BaseOptions
    from mediapipe.tasks.python.vision import FaceLandmarker, FaceLandmarkerOptions, RunningMode

    if not model.is_file():
        raise SystemExit(f"MediaPipe model not found: {model} (pass --model)")
    options = FaceLandmarkerOptions(
        base_options=BaseOptions(model_asset_path=str(model)),
        running_mode=RunningMode.IMAGE,
        num_faces=1,
        output_face_blendshapes=True,
        min_face_detection_confidence=MIN_CONFIDENCE,
        min_face_presence_confidence=MIN_CONFIDENCE,
    )
    with FaceLandmarker.create_from_options(options) as model_task:
        yield model_task


def blendshapes_of(task: object, path: Path) -> np.ndarray | None:
    """(52,) float32 blendshapes of the face in image `path` (BLENDSHAPES order), None when none is found."""
    import cv2
    import mediapipe as mp

    bgr = cv2.imread(str(path), cv2.IMREAD_COLOR)
    if bgr is None:
        raise SystemExit(f"{path}: not a readable image")
    rgb = cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)
    for pad in PADS:
        result = task.detect(mp.Image(image_format=mp.ImageFormat.SRGB, data=prepare(rgb, pad)))
        if result.face_blendshapes:
            categories = result.face_blendshapes[0]
            if tuple(c.category_name for c in categories) != BLENDSHAPES:
                raise RuntimeError("MediaPipe's blendshape names differ from train.teacher_map.BLENDSHAPES")
            return np.array([c.score for c in categories], dtype=np.float32)
    return None


@dataclass
class CacheWriter:
    """Buffers rows and writes them as `<folder>/part-NNNNN.npz` every `every` rows (and on flush)."""

    folder: Path
    every: int = 500

    def __post_init__(self) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        self.paths: list[str] = []
        self.scores: list[np.ndarray] = []
        self.found: list[bool] = []

    def add(self, path: Path, scores: np.ndarray | None) -> None:
        self.paths.append(str(path))
        self.scores.append(np.zeros(len(BLENDSHAPES), np.float32) if scores is None else scores)
        self.found.append(scores is not None)
        if len(self.paths) >= self.every:
            self.flush()

    def flush(self) -> None:
        if not self.paths:
            return
        taken = [int(p.stem.split("-")[1]) for p in self.folder.glob("part-*.npz")]
        target = self.folder / f"part-{max(taken, default=-1) + 1:05d}.npz"
        tmp = self.folder / f".{target.name}.tmp"  # a killed run leaves no half-written part behind
        with open(tmp, "wb") as f:
            np.savez(
                f,
                paths=np.array(self.paths),
                scores=np.stack(self.scores),
                found=np.array(self.found),
                names=np.array(BLENDSHAPES),
            )
        tmp.rename(target)
        self.paths, self.scores, self.found = [], [], []


def run(paths: Sequence[Path], out: Path, set_name: str, model: Path = MODEL) -> dict[str, float]:
    """Cache the blendshapes of every not yet cached path under out/set_name; returns the run's figures:
    images, newly processed, face-found rate over all `paths`, seconds and ms per processed image."""
    from tqdm import tqdm

    done = read_cache(out)
    todo = [p for p in paths if str(p) not in done]
    writer = CacheWriter(out / set_name)
    start = time.perf_counter()
    with landmarker(model) as task:
        for path in tqdm(todo, desc=set_name, unit="img", mininterval=10):
            writer.add(path, blendshapes_of(task, path))
        writer.flush()
    seconds = time.perf_counter() - start
    cache = read_cache(out)
    found = [cache[str(p)][1] for p in paths]
    return {
        "images": len(paths),
        "processed": len(todo),
        "found_rate": float(np.mean(found)),
        "seconds": seconds,
        "ms_per_image": 1000 * seconds / max(len(todo), 1),
    }


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument("--data", choices=sorted(LAYOUTS), help="walk this set's published layout")
    source.add_argument("--paths", type=Path, help="text file with one image path a line")
    parser.add_argument("--root", type=Path, help="the set's folder (with --data)")
    parser.add_argument("--split", default="all", help="fer2013: train, test or all (default)")
    parser.add_argument("--out", type=Path, default=Path("cache/teacher"))
    parser.add_argument("--name", help="cache subfolder (default: the --data name or the --paths stem)")
    parser.add_argument("--model", type=Path, default=MODEL)
    args = parser.parse_args(argv)
    if args.data and args.root is None:
        parser.error("--data needs --root")
    paths = dataset_paths(args.data, args.root, args.split) if args.data else listed_paths(args.paths)
    name = args.name or args.data or args.paths.stem
    figures = run(paths, args.out, name, args.model)
    print(
        f"{name} ({args.split}): {figures['images']} images, {figures['processed']} processed, "
        f"face found {figures['found_rate']:.4f}, {figures['seconds']:.0f} s "
        f"({figures['ms_per_image']:.1f} ms per image)",
        file=sys.stdout,
    )


if __name__ == "__main__":
    main()
