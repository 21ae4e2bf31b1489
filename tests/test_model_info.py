"""fatauva.checkpoint.ModelInfo: what the Model page and the weights line read, from the card and
metrics saved with the weights (never from the kind of source alone)."""

import pytest

from fatauva.checkpoint import LoadedModel, card_sections, load_model, model_info, training_sources
from fatauva.model import FatauvaConfig

SYNTH_TRAINED_ON = (
    "stage 1 (attributes and AUs at weight 1, outside the paper's recipe): synthfacs, 16 epoch(s); "
    "stage 2 (aus): synthfacs, 3 epoch(s); stage 3 (va): synthfacs, 6 epoch(s)."
)
MIXED_TRAINED_ON = (
    "stage 1 (attributes): synthfacs 40% + celeba 60%, 4 epoch(s), images 0.5 colour-jittered; "
    "stage 3 (va): fer2013 (/data/fer), 2 epoch(s)."
)


def card(trained_on: str | None, limitations: str | None) -> str:
    parts = ["---\nlibrary_name: fatauva\n---\n\n# FATAUVA-Net\n\nWeights of FATAUVA-Net.\n"]
    if trained_on:
        parts.append(f"## Training data\n\n{trained_on}\n")
    if limitations:
        parts.append(f"## Limitations\n\n{limitations}\n")
    parts.append("## How these weights were made\n\n```bash\npython -m train.train cfg.json\n```\n")
    parts.append("## Evaluation\n\nNo evaluation was recorded with these weights.\n")
    return "\n".join(parts)


def loaded(kind="local", location="/w", card_text="", metrics=None) -> LoadedModel:
    return LoadedModel(
        model=None,
        kind=kind,
        location=location,
        sha256="ab" * 32,
        tried=[],
        config=FatauvaConfig(),
        metrics=metrics or {},
        card=card_text,
    )


def test_card_sections_split_on_second_level_headings():
    sections = card_sections(card(SYNTH_TRAINED_ON, "Do not use for decisions."))
    assert sections["Training data"] == SYNTH_TRAINED_ON
    assert sections["Limitations"] == "Do not use for decisions."
    assert "python -m train.train cfg.json" in sections["How these weights were made"]


def test_training_sources_read_every_stage():
    assert training_sources(SYNTH_TRAINED_ON) == ["synthfacs"]
    assert training_sources(MIXED_TRAINED_ON) == ["synthfacs", "celeba", "fer2013"]


def test_synthetic_only_weights_say_so():
    info = model_info(loaded(card_text=card(SYNTH_TRAINED_ON, "Every stage saw SynthFACS faces only.")))
    assert info.synthetic_only and not info.research_only
    assert "synthetic faces only" in info.usage_note
    assert info.command == "python -m train.train cfg.json"


def test_research_only_weights_say_so():
    terms = "Research use only, not commercial: trained on CelebA (non-commercial research)."
    info = model_info(loaded(card_text=card(MIXED_TRAINED_ON, terms)))
    assert not info.synthetic_only and info.research_only
    assert info.usage_note.startswith("Research use only")


def test_weights_without_a_card_are_of_unknown_provenance():
    info = model_info(loaded(card_text=""))
    assert info.sources == [] and info.trained_on is None and info.command is None
    assert "does not say what these weights were trained on" in info.usage_note


def test_untrained_weights_warn_that_outputs_are_noise():
    assert "noise" in model_info(loaded(kind="untrained", card_text="")).usage_note


def test_hub_location_gives_repo_and_revision():
    info = model_info(loaded(kind="hub", location="owner/name@" + "c" * 40))
    assert (info.repo_id, info.revision) == ("owner/name", "c" * 40)
    assert model_info(loaded()).repo_id is None


def test_metrics_split_into_evaluation_and_faithfulness_tables():
    metrics = {
        "synthfacs_test": {"data": "synthfacs", "aus": {"mean_f1": 0.7}},
        "faithfulness_synthfacs": {"pointing_game": {"AU12": 0.8, "Smiling": 0.4}},
    }
    info = model_info(loaded(metrics=metrics))
    evaluated = [name for table in info.evaluation for name, _ in table.rows]
    assert "data" in evaluated and "aus" in evaluated and "pointing_game" not in evaluated
    assert info.faithfulness[0].rows == [("pointing_game", ["0.8000", "0.4000"])]


def test_bundled_weights_read_their_own_card():
    info = model_info(load_model())
    if info.kind != "bundled":
        pytest.skip("no bundled checkpoint in weights/")
    assert info.sha256 and info.config["input_size"] > 0
    assert info.sources and info.trained_on and info.limitations
    assert info.evaluation
