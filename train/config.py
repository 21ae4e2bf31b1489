"""The trainer's configuration as data: typed dataclasses, a JSON file, `--key=value` overrides.

nanoGPT's `train.py` keeps its defaults as plain variables and lets a config file and the
command line override them; we keep that shape but type every value by its dataclass field
(no `exec`): `--stage1.lr=0.003`, `--model.va_head=cls`, `--dry-run` (a bare flag is `True`).
"""

import dataclasses
import json
import types
import typing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from fatauva.model import FatauvaConfig

SYNTH = "synthfacs"
PRECISIONS = ("auto", "fp32", "bf16", "fp16")
# Real photo sets without AU codes: in a stage with an AU loss they take the AU teacher's labels
# (train.teacher_map) when the stage sets `teacher_aus`.
PHOTO_SETS: tuple[str, ...] = ("celeba", "utkface", "genki4k", "fer2013")
# Data sources per stage (§3): the stage's labels come from the named adapter of train.datasets.
STAGE_DATA: dict[int, tuple[str, ...]] = {
    1: (SYNTH, "celeba", "utkface", "genki4k"),
    2: (SYNTH, "bp4d", "disfa", "au_csv", *PHOTO_SETS),
    3: (SYNTH, "affwild", "affwild2", "va_csv", "fer2013"),
}
# Sources whose own labels include the stage's task; the others need the teacher (stage 2 only).
STAGE_LABELLED: dict[int, tuple[str, ...]] = {
    1: STAGE_DATA[1],
    2: (SYNTH, "bp4d", "disfa", "au_csv"),
    3: STAGE_DATA[3],
}


@dataclass
class StageConfig:
    """One training stage of §3: its data, its length and its optimiser."""

    data: str = SYNTH
    root: str = ""  # dataset folder (the CSV file for au_csv / va_csv); unused for synthfacs
    # Several sources at once: {source: share of each batch} (train.mixing); empty = `data` alone.
    # A real source's folder is TrainConfig.roots[name], else <data_root>/<name>.
    mix: dict[str, float] = field(default_factory=dict)
    # Real photo sources take the AU teacher's labels (train.teacher_map, cached by train.teacher)
    # for the AUs they do not code; used wherever the stage has an AU loss.
    teacher_aus: bool = False
    train_split: str = "train"  # split names as the adapter knows them (DISFA: subject lists)
    val_split: str = "val"
    train_size: int = 4096  # synthfacs faces in the training split (real data: its own size)
    val_size: int = 256  # faces scored after every epoch (kept small: evaluation is not free)
    epochs: int = 2
    steps_per_epoch: int = 0  # 0 = one pass over the sampled training set
    batch_size: int = 64
    lr: float = 2e-3
    min_lr_ratio: float = 0.05  # cosine decay ends at lr * min_lr_ratio
    warmup_steps: int = 20
    weight_decay: float = 1e-4
    grad_clip: float = 5.0  # 0 disables
    balance: bool = True  # §4.1.1: over-/under-sample rare labels (train.sampling)
    # Stage 1 only, outside the paper's recipe: weight of an AU loss added to the attribute loss,
    # which then trains the AU layer with the core so the core learns to see the AU regions
    # (SynthFACS labels every face with both; CelebA cannot). 0 = the paper's stage 1.
    au_weight: float = 0.0
    # Appearance augmentation (train.augment), outside the paper's recipe: the share of training
    # images given a random colour jitter, and the share given a random-convolution texture change.
    colour_aug: float = 0.0
    randconv: float = 0.0


@dataclass
class TrainConfig:
    """A full run: the model, the three stages, and where and how to run them."""

    out_dir: str = "runs/fatauva"
    stages: tuple[int, ...] = (1, 2, 3)
    init_from: str = ""  # weights to start from (a training checkpoint or a load_model source)
    resume: bool = True  # continue from out_dir/last.safetensors when it exists
    seed: int = 1337
    device: str = "auto"  # auto = cuda when available, else cpu
    num_workers: int = 0  # DataLoader workers rendering / decoding faces
    # torch threads of the training process (0 = torch's default). On a small shared CPU one
    # thread plus rendering workers beats two threads, which spin-wait whenever a core is busy.
    threads: int = 0
    channels_last: bool = True  # NHWC weights and inputs: ~15% faster training on a CPU (oneDNN)
    cache_dir: str = "cache/crops"  # aligned crops of the real datasets, made once
    data_root: str = "../shared/data"  # real sets of a mix, each in <data_root>/<source name>
    roots: dict[str, str] = field(default_factory=dict)  # a source's folder, where not under data_root
    teacher_dir: str = "cache/teacher"  # the AU teacher's cached blendshapes (python -m train.teacher)
    # Teacher scores within this distance below an AU's threshold stay unlabelled (train.teacher_map).
    teacher_margin: float = 0.0
    # Teacher labels kept only for the AUs whose CK+ AUC (train.teacher_map.CKPLUS_AUC) reaches this;
    # the others stay unlabelled on real photos and are learnt from SynthFACS alone. 0 keeps all.
    teacher_min_auc: float = 0.0
    synth_mode: str = "emotion"  # FaceParams.random mode of the SynthFACS splits
    # SynthFACS train faces rendered once (num_workers processes) and reused by every epoch and
    # stage, flipped at random (train.datasets.synthpool); 0 = render every sample on the fly.
    synth_pool: int = 0
    # autocast: "auto" = fp16 on CUDA, bf16 on a CPU with native bf16 (AVX512-BF16 / AMX), else fp32;
    # or "fp32", "bf16", "fp16" (CUDA only). Evaluation always runs in fp32.
    precision: str = "auto"
    # Eq. 2's smooth-l1 turning point t in the paper's -5..5 V-A units; the loss runs on [-1, 1]
    # values with t / 5 (fatauva.losses.VARegressionLoss says why).
    va_t_paper: float = 5.0
    va_center_lambda: float = 0.01  # weight of the centre loss, eq. 1
    eval_size: int = 2000  # SynthFACS test faces scored for the final model card
    eval_batch_size: int = 128
    log_every: int = 10  # steps between CSV / TensorBoard rows
    dry_run: bool = False  # a few steps of every stage, tiny splits, no final evaluation
    dry_run_steps: int = 3
    model: FatauvaConfig = field(default_factory=FatauvaConfig)
    stage1: StageConfig = field(default_factory=StageConfig)
    stage2: StageConfig = field(default_factory=StageConfig)
    stage3: StageConfig = field(default_factory=StageConfig)

    def __post_init__(self) -> None:
        self.stages = tuple(sorted(set(int(s) for s in self.stages)))
        if not self.stages or not set(self.stages) <= {1, 2, 3}:
            raise ValueError(f"stages must be a subset of 1,2,3, got {self.stages}")
        if self.precision not in PRECISIONS:
            raise ValueError(f"precision must be one of {', '.join(PRECISIONS)}, got {self.precision!r}")
        if self.synth_pool < 0:
            raise ValueError(
                f"synth_pool must be 0 (render on the fly) or a number of faces, got {self.synth_pool}"
            )
        for k in (1, 2, 3):
            sc = self.stage(k)
            for name in self.sources(k):
                if name not in STAGE_DATA[k]:
                    what = f"stage{k} source" if sc.mix else f"stage{k}.data"
                    raise ValueError(f"{what} must be one of {', '.join(STAGE_DATA[k])}, got {name!r}")
            if sc.au_weight < 0 or (k != 1 and sc.au_weight):
                raise ValueError(
                    f"stage{k}.au_weight={sc.au_weight}: an AU loss can only be added to stage 1, "
                    "with a weight >= 0"
                )
            for name in ("colour_aug", "randconv"):
                share = getattr(sc, name)
                if not 0.0 <= share <= 1.0:
                    raise ValueError(f"stage{k}.{name}={share}: a share of the training images, in [0, 1]")
            if k == 2 and not sc.teacher_aus:
                unlabelled = [n for n in self.sources(k) if n not in STAGE_LABELLED[2]]
                if unlabelled:
                    raise ValueError(
                        f"stage2 sources {', '.join(unlabelled)} have no AU labels: set "
                        "--stage2.teacher_aus=true to train on the AU teacher's labels "
                        "(python -m train.teacher), or drop them"
                    )
        au_sources = [n for n in self.sources(1) if n == SYNTH or self.stage1.teacher_aus]
        if self.stage1.au_weight and not au_sources:
            raise ValueError(
                f"stage1.au_weight={self.stage1.au_weight} needs faces labelled with AUs: synthfacs in "
                "the mix, or --stage1.teacher_aus=true for real photos; run with --stage1.au_weight=0"
            )

    def sources(self, k: int) -> dict[str, float]:
        """Stage k's sources and their shares: its `mix`, or its `data` alone."""
        sc = self.stage(k)
        return dict(sc.mix) if sc.mix else {sc.data: 1.0}

    def source_root(self, k: int, name: str) -> str:
        """The folder (or CSV file) of source `name` in stage k: `root` when it is the stage's only
        `data`, else `roots[name]`, else `<data_root>/<name>` for the photo sets of shared/data
        (PHOTO_SETS); "" when none is known."""
        sc = self.stage(k)
        if not sc.mix and name == sc.data and sc.root:
            return sc.root
        if name in self.roots:
            return self.roots[name]
        return str(Path(self.data_root) / name) if name in PHOTO_SETS else ""

    def stage(self, k: int) -> StageConfig:
        """The configuration of stage k (1, 2 or 3)."""
        return getattr(self, f"stage{k}")

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict that `from_dict` turns back into an equal config."""
        return dataclasses.asdict(self)


def _hints(cls: type) -> dict[str, Any]:
    return typing.get_type_hints(cls)


def _convert(value: Any, tp: Any, key: str) -> Any:
    """Coerce a JSON value or a command-line string to the field type `tp`."""
    origin = typing.get_origin(tp)
    if dataclasses.is_dataclass(tp):
        if not isinstance(value, dict):
            raise ValueError(f"config key {key!r} must be an object, got {value!r}")
        return _build(tp, value, key + ".")
    if origin in (typing.Union, types.UnionType):
        args = [a for a in typing.get_args(tp) if a is not type(None)]
        if value is None or (isinstance(value, str) and value.lower() == "none"):
            return None
        return _convert(value, args[0], key)
    if origin is dict or tp is dict:
        if isinstance(value, str):
            value = parse_pairs(value)
        if not isinstance(value, dict):
            raise ValueError(f"config key {key!r} must be an object, got {value!r}")
        kt, vt = typing.get_args(tp) or (str, str)
        return {_convert(k, kt, key): _convert(v, vt, f"{key}.{k}") for k, v in value.items()}
    if origin is tuple or tp is tuple:
        if isinstance(value, str):
            value = json.loads(value) if value.strip().startswith("[") else value.split(",")
        args = typing.get_args(tp)
        inner = args[0] if args else str
        return tuple(_convert(v, inner, key) for v in value)
    if tp is bool:
        if isinstance(value, bool):
            return value
        if str(value).lower() in ("1", "true", "yes", "on"):
            return True
        if str(value).lower() in ("0", "false", "no", "off"):
            return False
        raise ValueError(f"config key {key!r} expects true or false, got {value!r}")
    if tp in (int, float, str):
        try:
            return tp(value)
        except (TypeError, ValueError):
            raise ValueError(f"config key {key!r} expects {tp.__name__}, got {value!r}") from None
    return value


def parse_pairs(text: str) -> dict[str, str]:
    """A mapping written on a command line: a JSON object, or `name:value,name:value`."""
    text = text.strip()
    if not text:
        return {}
    if text.startswith("{"):
        value = json.loads(text)
        if not isinstance(value, dict):
            raise ValueError(f"expected a JSON object, got {text!r}")
        return value
    pairs = {}
    for part in text.split(","):
        name, sep, value = part.partition(":")
        if not sep:
            raise ValueError(f"expected name:value pairs, got {part!r}")
        pairs[name.strip()] = value.strip()
    return pairs


def _build(cls: type, values: dict[str, Any], prefix: str = "") -> Any:
    hints = _hints(cls)
    known = {f.name for f in dataclasses.fields(cls)}
    unknown = sorted(set(values) - known)
    if unknown:
        raise ValueError(f"unknown config key(s): {', '.join(prefix + k for k in unknown)}")
    return cls(**{k: _convert(v, hints[k], prefix + k) for k, v in values.items()})


def _set_nested(tree: dict[str, Any], dotted: str, value: str) -> None:
    head, _, rest = dotted.partition(".")
    if rest:
        sub = tree.setdefault(head, {})
        if not isinstance(sub, dict):
            raise ValueError(f"config key {head!r} is not an object, cannot set {dotted!r}")
        _set_nested(sub, rest, value)
    else:
        tree[head] = value


def from_dict(values: dict[str, Any]) -> TrainConfig:
    """Build a TrainConfig from nested plain values (a parsed JSON file); unknown keys are errors."""
    return _build(TrainConfig, values)


def read_json(path: Path, what: str) -> Any:
    """The parsed JSON of `path`; a missing or malformed file is one clear error naming `what`."""
    if not path.is_file():
        raise FileNotFoundError(f"{what} {path} does not exist")
    try:
        return json.loads(path.read_text())
    except json.JSONDecodeError as err:
        raise ValueError(f"{what} {path} is not valid JSON: {err}") from None


def load_config(path: str | Path | None = None, overrides: list[str] | tuple[str, ...] = ()) -> TrainConfig:
    """The config of a run: the defaults, then the JSON file at `path`, then `--key=value` overrides.

    A bare `--flag` sets a bool to True; dashes in keys mean underscores (`--dry-run`).
    """
    values: dict[str, Any] = {}
    if path is not None:
        values = read_json(Path(path), "config file")
    for arg in overrides:
        if not arg.startswith("--"):
            raise ValueError(f"expected --key=value, got {arg!r}")
        key, eq, value = arg[2:].partition("=")
        _set_nested(values, key.replace("-", "_"), value if eq else "true")
    return from_dict(values)


def describe(cls: type = TrainConfig, prefix: str = "") -> list[str]:
    """Every settable key with its type and default, one `--key=default  (type)` line each."""
    lines = []
    hints = _hints(cls)
    for f in dataclasses.fields(cls):
        default = f.default if f.default is not dataclasses.MISSING else f.default_factory()
        if dataclasses.is_dataclass(default):
            lines += describe(type(default), prefix + f.name + ".")
            continue
        shown = ",".join(map(str, default)) if isinstance(default, tuple) else default
        name = getattr(hints[f.name], "__name__", str(hints[f.name]))
        lines.append(f"--{prefix}{f.name}={shown}  ({name})")
    return lines


def parse_args(argv: list[str]) -> tuple[str | None, list[str]]:
    """Split a command line into (config file or None, the --key=value overrides)."""
    paths = [a for a in argv if not a.startswith("--")]
    if len(paths) > 1:
        raise ValueError(f"expected at most one config file, got {paths}")
    return (paths[0] if paths else None), [a for a in argv if a.startswith("--")]
