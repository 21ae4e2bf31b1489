"""The trainer's configuration: defaults, a JSON file, then `--key=value` typed by the dataclass field."""

import json
from pathlib import Path

import pytest

from train.config import describe, load_config, parse_args


def test_overrides_are_typed_by_their_dataclass_field():
    cfg = load_config(None, ["--stage1.lr=0.01", "--stage2.epochs=7", "--model.input_size=48", "--seed=3"])
    assert cfg.stage1.lr == 0.01 and isinstance(cfg.stage1.lr, float)
    assert cfg.stage2.epochs == 7 and isinstance(cfg.stage2.epochs, int)
    assert cfg.model.input_size == 48
    assert cfg.seed == 3


def test_a_bare_flag_sets_a_bool_and_dashes_mean_underscores():
    cfg = load_config(None, ["--dry-run", "--stage3.balance=false"])
    assert cfg.dry_run is True
    assert cfg.stage3.balance is False


def test_tuples_accept_commas_or_json_lists():
    assert load_config(None, ["--stages=3,2"]).stages == (2, 3)
    assert load_config(None, ["--model.core_widths=[8,16,24]"]).model.core_widths == (8, 16, 24)


def test_the_command_line_wins_over_the_file_which_wins_over_the_defaults(tmp_path):
    path = tmp_path / "run.json"
    path.write_text(json.dumps({"seed": 5, "stage1": {"lr": 0.5, "epochs": 4}, "model": {"va_head": "cls"}}))
    cfg = load_config(path, ["--stage1.lr=0.25"])
    assert (cfg.seed, cfg.stage1.lr, cfg.stage1.epochs, cfg.model.va_head) == (5, 0.25, 4, "cls")
    assert cfg.stage2.epochs == load_config().stage2.epochs


def test_the_config_round_trips_through_json(tmp_path):
    cfg = load_config(
        None, ["--stages=1,3", "--model.va_head=cls", "--stage3.data=va_csv", "--stage3.root=x.csv"]
    )
    path = tmp_path / "again.json"
    path.write_text(json.dumps(cfg.to_dict()))
    assert load_config(path) == cfg


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--stage1.lrr=1"], "unknown config key.*stage1.lrr"),
        (["--stage1.epochs=two"], "'stage1.epochs' expects int"),
        (["--dry_run=maybe"], "'dry_run' expects true or false"),
        (["--stage3.data=celeba"], "stage3.data must be one of"),
        (["--stages=4"], "stages must be a subset"),
        (["--model.va_head=softmax"], "va_head"),
        (["stage1.lr=1"], "expected --key=value"),
        (["--stage2.au_weight=1"], "stage2.au_weight=1.0: an AU loss can only be added to stage 1"),
        (["--stage1.au_weight=-1"], "stage1.au_weight=-1.0: .* with a weight >= 0"),
        (["--stage1.randconv=1.5"], r"stage1.randconv=1.5: a share of the training images, in \[0, 1\]"),
        (["--stage2.colour_aug=-0.1"], "stage2.colour_aug=-0.1: a share"),
    ],
)
def test_mistakes_are_one_clear_sentence(args, message):
    with pytest.raises(ValueError, match=message):
        load_config(None, args)


def test_a_missing_or_broken_config_file_is_named(tmp_path):
    with pytest.raises(FileNotFoundError, match="nope.json"):
        load_config(tmp_path / "nope.json")
    bad = tmp_path / "bad.json"
    bad.write_text("{")
    with pytest.raises(ValueError, match="bad.json is not valid JSON"):
        load_config(bad)


def test_the_command_line_splits_into_one_config_file_and_overrides():
    assert parse_args(["a.json", "--x=1", "--y"]) == ("a.json", ["--x=1", "--y"])
    assert parse_args(["--x=1"]) == (None, ["--x=1"])
    with pytest.raises(ValueError, match="at most one config file"):
        parse_args(["a.json", "b.json"])


CONFIGS = Path(__file__).resolve().parents[1] / "train" / "configs"


def test_the_bundled_config_trains_each_stage_on_real_photos_and_synthfacs():
    cfg = load_config(CONFIGS / "bundled.json")
    assert cfg.stages == (1, 2, 3)
    assert (cfg.model.va_head, cfg.model.use_au_layer, cfg.model.head_grid) == ("reg", True, 1)
    assert set(cfg.sources(1)) == {"synthfacs", "celeba", "utkface", "genki4k"}
    assert "synthfacs" in cfg.sources(2) and cfg.stage2.teacher_aus
    assert set(cfg.sources(3)) == {"synthfacs", "fer2013"}
    assert cfg.eval_size >= 2000


def test_the_synthfacs_config_trains_the_same_network_on_synthfacs_alone():
    synth, bundled = load_config(CONFIGS / "synthfacs.json"), load_config(CONFIGS / "bundled.json")
    assert synth.model == bundled.model
    assert all(synth.sources(k) == {"synthfacs": 1.0} for k in (1, 2, 3))


def test_help_lists_every_settable_key_with_its_default():
    lines = describe()
    assert "--stage2.lr=0.002  (float)" in lines
    assert "--model.va_head=reg  (str)" in lines
    assert "--stages=1,2,3  (tuple)" in lines
    assert len(lines) == len(set(lines)) > 40
