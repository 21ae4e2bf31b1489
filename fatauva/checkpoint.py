"""Weights in and out, on the Hugging Face Hub's terms: a folder (or Hub repo) holding
`model.safetensors` + `config.json` (PyTorchModelHubMixin) + a README.md model card.

`load_model` resolves, in order (DESIGN.md "Weights resolve in this order"):
  1. the explicit `source`, else the FATAUVA_MODEL environment variable:
     - an existing local folder (or its model.safetensors) -> loaded; any problem RAISES, since a
       path the user typed is either right or a mistake to show at once (FileNotFoundError for a
       path that does not exist and is no Hub id);
     - else a Hub repo id "owner/name" -> the local HF cache first (works offline, instantly),
       then online unless HF_HUB_OFFLINE=1, after a bounded reachability probe so a machine
       without network never waits out huggingface_hub's retries. An unreachable, missing or
       uncached repo FALLS BACK (and says why in `tried`); a repo that downloads but holds no
       usable weights (pickle only, mismatched keys) RAISES like a bad local folder;
  2. the checkpoint bundled in the repository at <repo>/weights/ (a mismatch there is our bug: raises);
  3. an untrained model (seeded, so it is reproducible), kind "untrained".

Loading is strict (every tensor of the file must fit the model and every model tensor must be
in the file) and never unpickles: pytorch_model.bin / *.pt / *.pth / *.ckpt are refused.
"""

import hashlib
import json
import os
import re
import tempfile
import threading
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path

import httpx2
import safetensors
import safetensors.torch
import torch
from huggingface_hub import HfApi, constants, get_session, snapshot_download

from fatauva.card import MetricTable, metric_tables, plain_metrics, render_card
from fatauva.model import FatauvaConfig, FatauvaNet

WEIGHTS_NAME = "model.safetensors"
CONFIG_NAME = "config.json"
METRICS_NAME = "metrics.json"
HUB_FILES = [WEIGHTS_NAME, CONFIG_NAME, METRICS_NAME, "README.md"]
PICKLE_SUFFIXES = (".bin", ".pt", ".pth", ".ckpt", ".pkl", ".pickle")
BUNDLED_DIR = Path(__file__).resolve().parents[1] / "weights"
PROBE_TIMEOUT_S = 1.5  # the whole reachability probe, DNS included
UNTRAINED_SEED = 0
_REPO_ID = re.compile(r"^[A-Za-z0-9][\w.-]*/[\w.-]+$")
_TRUE = {"1", "true", "yes", "on"}


class CheckpointError(ValueError):
    """Weights that exist but cannot be used: pickle only, keys or shapes that do not fit, bad config."""


@dataclass
class LoadedModel:
    """A model ready for inference and where it came from.

    kind: "local" | "hub" | "bundled" | "untrained"; location: folder path or "owner/name@commit";
    sha256: of model.safetensors ("" when untrained); tried: what was tried before and why it
    failed; requested: the source asked for (argument or FATAUVA_MODEL), None if none;
    metrics: the metrics.json saved with the weights ({} when absent).
    """

    model: FatauvaNet
    kind: str
    location: str
    sha256: str
    tried: list[str]
    config: FatauvaConfig
    requested: str | None = None
    metrics: dict = field(default_factory=dict)
    card: str = ""  # the README.md model card saved with the weights ("" when absent)

    @property
    def warning(self) -> str | None:
        """One sentence for the app when the requested model could not be used, else None."""
        if self.requested is None or self.kind in ("local", "hub"):
            return None
        return f"Could not load {self.requested!r} ({'; '.join(self.tried)}); running the {self.kind} model."


# ----- saving -----------------------------------------------------------------------------------
def save_model(
    model: FatauvaNet,
    folder: str | Path,
    *,
    metrics: dict | None = None,
    command: str | None = None,
    trained_on: str | None = None,
    limitations: str | None = None,
    repo_id: str | None = None,
) -> Path:
    """Write model.safetensors + config.json (the Hub mixin), metrics.json and a README.md card.

    metrics: nested mapping of numbers (or fatauva.metrics reports), shown as tables in the card;
    command: the command line that trained the weights; trained_on: one sentence on the data;
    limitations: what the weights are not good for (the card's "Limitations" section).
    Returns the folder. Refuses a `fused()` copy, whose weights a fresh model could not load.
    """
    if not isinstance(model, FatauvaNet):
        raise TypeError(f"save_model expects a FatauvaNet, got {type(model).__name__}")
    expected = set(untrained_model(model.config).state_dict())
    if set(model.state_dict()) != expected:
        raise ValueError(
            "this model's weights do not match its config (a fused() copy?): save the unfused model"
        )
    folder = Path(folder)
    model.save_pretrained(folder)
    plain = plain_metrics(metrics or {})
    (folder / METRICS_NAME).write_text(json.dumps(plain, indent=2) + "\n", encoding="utf-8")
    sha256 = file_sha256(folder / WEIGHTS_NAME)
    card = render_card(
        model,
        sha256=sha256,
        metrics=plain,
        command=command,
        trained_on=trained_on,
        limitations=limitations,
        repo_id=repo_id,
    )
    card.save(folder / "README.md")
    return folder


def push_model(
    model: FatauvaNet,
    repo_id: str,
    *,
    metrics: dict | None = None,
    command: str | None = None,
    trained_on: str | None = None,
    limitations: str | None = None,
    private: bool | None = None,
    token: str | None = None,
    commit_message: str = "Upload FATAUVA-Net weights",
) -> str:
    """save_model into a temporary folder and upload it as one commit; returns the commit URL."""
    api = HfApi(token=token)
    repo_id = api.create_repo(repo_id, private=private, exist_ok=True).repo_id
    with tempfile.TemporaryDirectory() as tmp:
        folder = save_model(
            model,
            tmp,
            metrics=metrics,
            command=command,
            trained_on=trained_on,
            limitations=limitations,
            repo_id=repo_id,
        )
        commit = api.upload_folder(
            repo_id=repo_id, folder_path=folder, repo_type="model", commit_message=commit_message
        )
    return str(commit)


# ----- loading one folder -------------------------------------------------------------------------
def file_sha256(path: Path) -> str:
    """Hex sha256 of a file, read in 1 MiB chunks."""
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _weights_file(folder: Path) -> Path:
    weights = folder / WEIGHTS_NAME
    if weights.is_file():
        return weights
    pickles = sorted(p.name for p in folder.iterdir() if p.suffix in PICKLE_SUFFIXES)
    if pickles:
        raise CheckpointError(
            f"{folder} holds only pickle checkpoints ({', '.join(pickles)}), which can run code when "
            f"loaded; FATAUVA-Net loads {WEIGHTS_NAME} only (convert with safetensors.torch.save_model)"
        )
    raise FileNotFoundError(f"No {WEIGHTS_NAME} in {folder}")


def read_config(folder: Path) -> FatauvaConfig:
    """FatauvaConfig from folder/config.json; unknown settings are an error, not silently dropped."""
    path = folder / CONFIG_NAME
    if not path.is_file():
        raise FileNotFoundError(f"No {CONFIG_NAME} next to the weights in {folder}")
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as e:
        raise CheckpointError(f"{path} is not valid JSON: {e}") from e
    if not isinstance(data, dict):
        raise CheckpointError(f"{path} must hold a JSON object of FatauvaConfig settings")
    unknown = sorted(set(data) - {f.name for f in fields(FatauvaConfig)})
    if unknown:
        raise CheckpointError(f"{path} has settings this FatauvaNet does not know: {', '.join(unknown)}")
    try:
        return FatauvaConfig(**data)
    except (TypeError, ValueError) as e:
        raise CheckpointError(f"{path}: {e}") from e


def load_weights_strict(model: FatauvaNet, weights: Path) -> None:
    """Load a safetensors file into `model`; raise one CheckpointError naming every missing or
    unexpected key (PyTorchModelHubMixin alone would let them pass) or the shape mismatch."""
    try:
        missing, unexpected = safetensors.torch.load_model(model, weights, strict=False)
    except (RuntimeError, safetensors.SafetensorError) as e:
        raise CheckpointError(f"{weights} does not fit FatauvaNet({model.config}): {e}") from e
    if missing or unexpected:
        raise CheckpointError(
            f"{weights} does not match FatauvaNet({model.config}): "
            f"missing keys {sorted(missing)}, unexpected keys {sorted(unexpected)}"
        )


def _read_metrics(folder: Path) -> dict:
    path = folder / METRICS_NAME
    return json.loads(path.read_text(encoding="utf-8")) if path.is_file() else {}


def _read_card(folder: Path) -> str:
    path = folder / "README.md"
    return path.read_text(encoding="utf-8") if path.is_file() else ""


def load_folder(
    folder: Path,
    *,
    kind: str,
    location: str,
    tried: list[str],
    device: str | torch.device,
    requested: str | None,
) -> LoadedModel:
    """Strictly load the checkpoint in `folder`: (weights, config) -> LoadedModel in eval on `device`."""
    weights = _weights_file(folder)
    config = read_config(folder)
    model = untrained_model(config)  # seeded init, so loading leaves the caller's RNG untouched
    load_weights_strict(model, weights)
    return LoadedModel(
        model=model.to(device).eval(),
        kind=kind,
        location=location,
        sha256=file_sha256(weights),
        tried=tried,
        config=config,
        requested=requested,
        metrics=_read_metrics(folder),
        card=_read_card(folder),
    )


# ----- the Hub -------------------------------------------------------------------------------------
def looks_like_repo_id(source: str) -> bool:
    """'owner/name' with Hub-legal characters, and not a path spelling (./x, /x, ~/x, x.pt)."""
    return bool(_REPO_ID.match(source)) and ".." not in source and not source.endswith(PICKLE_SUFFIXES)


def _env_true(*names: str) -> bool:
    return any(os.environ.get(n, "").strip().lower() in _TRUE for n in names)


def hub_offline() -> bool:
    """HF_HUB_OFFLINE read now: huggingface_hub reads it only once, at import."""
    return _env_true("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE") or constants.HF_HUB_OFFLINE


def _hub_endpoint() -> str:
    return os.environ.get("HF_ENDPOINT", "").rstrip("/") or constants.ENDPOINT


def _hub_cache() -> str | None:
    # huggingface_hub fixes its default cache at import; read the variables at call time.
    cache = os.environ.get("HF_HUB_CACHE")
    if cache:
        return cache
    return str(Path(os.environ["HF_HOME"]) / "hub") if os.environ.get("HF_HOME") else None


def probe_hub(endpoint: str, timeout: float = PROBE_TIMEOUT_S) -> str | None:
    """None if `endpoint` answers an HTTP request within `timeout` seconds, else why not.

    Run in a daemon thread so that a slow DNS lookup (not covered by socket timeouts) is bounded too.
    """
    outcome: list[str | None] = []

    def attempt() -> None:
        try:
            get_session().head(endpoint, timeout=timeout)
            outcome.append(None)
        except (httpx2.HTTPError, OSError) as e:
            outcome.append(f"{endpoint} unreachable ({type(e).__name__})")

    worker = threading.Thread(target=attempt, daemon=True)
    worker.start()
    worker.join(timeout)
    return outcome[0] if outcome else f"{endpoint} did not answer within {timeout:g} s"


def _snapshot(repo_id: str, revision: str | None, *, online: bool) -> Path:
    kwargs = {} if not online else {"endpoint": _hub_endpoint(), "etag_timeout": 5}
    folder = snapshot_download(
        repo_id,
        revision=revision,
        cache_dir=_hub_cache(),
        allow_patterns=HUB_FILES,
        local_files_only=not online,
        **kwargs,
    )
    return Path(folder)


def fetch_from_hub(repo_id: str, revision: str | None, tried: list[str]) -> Path | None:
    """The snapshot folder of `repo_id@revision`: from the cache, else online; None (with the
    reasons appended to `tried`) when neither works."""
    label = f"Hub {repo_id}@{revision or 'main'}"
    try:
        folder = _snapshot(repo_id, revision, online=False)
        if (folder / WEIGHTS_NAME).is_file():
            return folder
        tried.append(f"{label}: cached snapshot has no {WEIGHTS_NAME}")
    except OSError as e:
        tried.append(f"{label}: not in the local Hugging Face cache ({type(e).__name__})")
    if hub_offline():
        tried.append(f"{label}: not tried online because HF_HUB_OFFLINE=1")
        return None
    unreachable = probe_hub(_hub_endpoint())
    if unreachable:
        tried.append(f"{label}: {unreachable}")
        return None
    try:
        return _snapshot(repo_id, revision, online=True)
    except (OSError, httpx2.HTTPError) as e:
        reason = str(e).strip().splitlines()[0] if str(e).strip() else ""
        tried.append(f"{label}: download failed ({type(e).__name__}: {reason})")
        return None


# ----- resolution ----------------------------------------------------------------------------------
def _local_folder(path: Path) -> Path | None:
    """The checkpoint folder a local path names, None if the path does not exist."""
    if path.is_dir():
        return path
    if path.is_file() and path.name == WEIGHTS_NAME:
        return path.parent
    if path.is_file() and path.suffix in PICKLE_SUFFIXES:
        raise CheckpointError(
            f"{path} is a pickle checkpoint, which can run code when loaded; use {WEIGHTS_NAME}"
        )
    if path.is_file():
        raise ValueError(f"{path} is a file; give the folder holding {WEIGHTS_NAME} and {CONFIG_NAME}")
    return None


def _load_requested(
    source: str, revision: str | None, device: str | torch.device, tried: list[str]
) -> LoadedModel | None:
    path = Path(source).expanduser()
    folder = _local_folder(path)
    if folder is not None:
        return load_folder(
            folder, kind="local", location=str(folder.resolve()), tried=tried, device=device, requested=source
        )
    if not looks_like_repo_id(source):
        raise FileNotFoundError(f"No model folder at {path} (and {source!r} is not a Hub repo id owner/name)")
    snapshot = fetch_from_hub(source, revision, tried)
    if snapshot is None:
        return None
    location = f"{source}@{snapshot.name}"  # the snapshot folder is named after the commit
    return load_folder(snapshot, kind="hub", location=location, tried=tried, device=device, requested=source)


def untrained_model(config: FatauvaConfig | None = None) -> FatauvaNet:
    """A freshly initialised FatauvaNet, the same on every call (seeded, global RNG untouched)."""
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(UNTRAINED_SEED)
        return FatauvaNet(config or FatauvaConfig())


def load_model(
    source: str | Path | None = None, *, revision: str | None = None, device: str | torch.device = "cpu"
) -> LoadedModel:
    """Resolve and strictly load FATAUVA-Net weights (order and error policy: module docstring).

    source: a local folder, its model.safetensors, or a Hub repo id "owner/name"; None reads
    FATAUVA_MODEL. revision: Hub branch, tag or commit. Returns the model in eval mode on `device`.
    """
    requested = str(source) if source is not None else (os.environ.get("FATAUVA_MODEL") or None)
    tried: list[str] = []
    if requested:
        loaded = _load_requested(requested, revision, device, tried)
        if loaded is not None:
            return loaded
    if (BUNDLED_DIR / WEIGHTS_NAME).is_file():
        return load_folder(
            BUNDLED_DIR,
            kind="bundled",
            location=str(BUNDLED_DIR),
            tried=tried,
            device=device,
            requested=requested,
        )
    tried.append(f"bundled checkpoint: no {WEIGHTS_NAME} in {BUNDLED_DIR}")
    model = untrained_model()
    return LoadedModel(
        model=model.to(device).eval(),
        kind="untrained",
        location="untrained (random weights)",
        sha256="",
        tried=tried,
        config=model.config,
        requested=requested,
    )


# ----- what the app's Model page shows -------------------------------------------------------------
SYNTHETIC_SOURCES = {"synthfacs"}
_CARD_SECTION = re.compile(r"^## (.+?)\n(.*?)(?=^## |\Z)", re.MULTILINE | re.DOTALL)


def card_sections(card: str) -> dict[str, str]:
    """The `## Heading` sections of a model card (fatauva/model_card.md): heading -> stripped body."""
    return {m.group(1).strip(): m.group(2).strip() for m in _CARD_SECTION.finditer(card)}


def training_sources(trained_on: str) -> list[str]:
    """The dataset names of a card's "Training data" sentence (train.train.trained_on writes
    "stage 1 (task): synthfacs 70% + celeba 30% (root), 16 epoch(s); stage 2 ..."), first seen first."""
    names = []
    for stage in trained_on.rstrip(".").split(";"):
        _, _, data = stage.partition("): ")
        for source in data.split(",")[0].split(" + "):
            if source.strip():
                names.append(source.split()[0].lower())
    return list(dict.fromkeys(names))


@dataclass(frozen=True)
class ModelInfo:
    """Which weights run and what is known of them, for the app's Model page.

    kind: "local" | "hub" | "bundled" | "untrained"; location: folder path or "owner/name@commit";
    repo_id / revision: the Hub repository and commit (None unless kind is "hub"); config: the
    FatauvaConfig settings; trained_on / limitations / command: the model card's sections (None when
    the card lacks them); sources: the datasets trained on ([] when unknown); evaluation and
    faithfulness: metrics.json as tables (faithfulness = top-level keys starting "faithfulness");
    warning: why the requested weights are not the ones running (None when they are).
    """

    kind: str
    location: str
    repo_id: str | None
    revision: str | None
    sha256: str
    config: dict[str, object]
    trained_on: str | None
    limitations: str | None
    command: str | None
    sources: list[str]
    evaluation: list[MetricTable]
    faithfulness: list[MetricTable]
    warning: str | None

    @property
    def synthetic_only(self) -> bool:
        return bool(self.sources) and set(self.sources) <= SYNTHETIC_SOURCES

    @property
    def research_only(self) -> bool:
        return "research use only" in (self.limitations or "").lower()

    @property
    def usage_note(self) -> str | None:
        """One sentence for every page when the weights' outputs need a caveat, else None."""
        if self.kind == "untrained":
            return "These weights are untrained (random): every output is noise."
        notes = []
        if self.synthetic_only:
            notes.append(
                "These weights were trained on synthetic faces only (SynthFACS): on real photos they are "
                "a demonstration, not a measurement."
            )
        elif not self.sources:
            notes.append("Their model card does not say what these weights were trained on.")
        if self.research_only:
            notes.append("Research use only: the terms of their training data bind these weights.")
        return " ".join(notes) or None


FAITHFULNESS_KEY = "faithfulness"


def faithfulness_records(metrics: dict) -> dict:
    """The explanation-faithfulness part of a metrics.json tree: its top-level keys starting with
    FAITHFULNESS_KEY (explain.faithfulness --write-metrics writes them, explain.gate reads them); the
    rest are scores."""
    return {k: v for k, v in metrics.items() if k.startswith(FAITHFULNESS_KEY)}


def model_info(loaded: LoadedModel) -> ModelInfo:
    """The Model page's view of `loaded`: its card sections and metrics.json, typed."""
    sections = card_sections(loaded.card)
    command = sections.get("How these weights were made", "").strip("`").removeprefix("bash").strip()
    repo_id, _, revision = loaded.location.partition("@") if loaded.kind == "hub" else (None, "", "")
    metrics = plain_metrics(loaded.metrics)
    faith = faithfulness_records(metrics)
    scores = {k: v for k, v in metrics.items() if k not in faith}
    trained_on = sections.get("Training data") or None
    return ModelInfo(
        kind=loaded.kind,
        location=loaded.location,
        repo_id=repo_id,
        revision=revision or None,
        sha256=loaded.sha256,
        config=asdict(loaded.config),
        trained_on=trained_on,
        limitations=sections.get("Limitations") or None,
        command=command if command and command != "# not recorded" else None,
        sources=training_sources(trained_on) if trained_on else [],
        evaluation=metric_tables(scores) if scores else [],
        faithfulness=metric_tables(faith) if faith else [],
        warning=loaded.warning,
    )
