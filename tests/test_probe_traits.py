"""experiments.probe_traits: counterfactual SynthFACS faces, one trait switched, and the logit change."""

import csv
import shutil
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
import torch

from experiments import probe_traits
from fatauva.model import FatauvaNet
from fatauva.synthfacs.attributes import attribute_values
from fatauva.synthfacs.dataset import face_params
from fatauva.synthfacs.render import render
from fatauva.template import to_tensor
from tests.tiny import tiny_config

pytestmark = pytest.mark.experiment  # a study, not the product: deselect with -m 'not experiment'

TINY = tiny_config(input_size=56)
REAL = Path(__file__).resolve().parents[1].parent / "shared" / "realfaces"


@pytest.fixture(scope="module")
def tiny() -> FatauvaNet:
    torch.manual_seed(0)
    return FatauvaNet(TINY).eval()


def test_each_change_is_the_mean_logit_difference_of_the_rerendered_faces(tiny):
    effects = probe_traits.trait_effects(tiny, "Male", n_faces=10)
    faces = [face_params("test", i) for i in range(10)]
    men = [p for p in faces if p.traits.male]
    women = [p for p in faces if not p.traits.male]
    assert effects.n == {"present": len(men), "absent": len(women)}
    assert men and women

    def logits(params):
        crops = np.stack([render(p, 56, with_masks=False).image for p in params])
        return probe_traits.attribute_logits(tiny, crops, "Male")

    before = logits(men)
    assert effects.base["present"] == pytest.approx(before.mean(), abs=1e-5)
    no_beard = [replace(p, traits=replace(p.traits, beard=0.0)) for p in men]
    expected = (logits(no_beard) - before).mean()
    assert effects.change["present"]["beard and stubble removed"] == pytest.approx(expected, abs=1e-5)
    assert list(effects.change["absent"]) == list(probe_traits.SWITCHES["Male"].absent)


def test_the_logit_is_log_p_present_over_p_absent(tiny):
    crops = np.stack([render(face_params("test", i), 56, with_masks=False).image for i in range(3)])
    with torch.no_grad():
        p = tiny(to_tensor(crops)).attribute_probs()[:, 0].double().numpy()  # Arched_Eyebrows
    np.testing.assert_allclose(
        probe_traits.attribute_logits(tiny, crops, "Arched_Eyebrows"), np.log(p / (1 - p)), atol=1e-4
    )


@pytest.mark.parametrize("attribute", sorted(probe_traits.SWITCHES))
def test_every_switch_redraws_some_face_of_its_group_and_keeps_the_rest_of_the_face(attribute):
    faces = [face_params("test", i) for i in range(40)]
    switches = probe_traits.SWITCHES[attribute]
    for group, wanted in (("present", True), ("absent", False)):
        members = [p for p in faces if attribute_values(p)[attribute] == wanted][:12]
        assert members, f"no {group} faces among the first 40"
        for name, switch in getattr(switches, group).items():
            changed = [switch(p) for p in members]
            assert all(c.scene == p.scene for c, p in zip(changed, members, strict=True)), name
            images = [
                (render(c, 56, with_masks=False).image, render(p, 56, with_masks=False).image)
                for c, p in zip(changed, members, strict=True)
            ]
            assert any(not np.array_equal(a, b) for a, b in images), f"{attribute}: {name!r} changes no face"


def test_an_attribute_without_switches_is_a_clear_error(tiny):
    with pytest.raises(ValueError, match="no switches for 'Young'"):
        probe_traits.trait_effects(tiny, "Young", n_faces=2)


@pytest.mark.skipif(not REAL.is_dir(), reason="../shared/realfaces is not beside the checkout")
def test_real_photos_are_grouped_by_their_labels(tiny, tmp_path):
    with (REAL / "labels/london_faces.csv").open(newline="") as f:
        rows = list(csv.DictReader(f))
    picked = [r for r in rows if r["split"] == "dev" and r["smile"] == "1"][:2]
    picked += [r for r in rows if r["split"] == "dev" and r["smile"] == "0" and r["male"] == "1"][:1]
    picked += [r for r in rows if r["split"] == "test"][:1]  # never in a Smiling group: dev only
    (tmp_path / "labels").mkdir()
    for name, chosen in (("london_faces.csv", picked), ("canada_faces.csv", [])):
        with (tmp_path / "labels" / name).open("w", newline="") as f:
            writer = csv.DictWriter(f, fieldnames=list(rows[0]))
            writer.writeheader()
            writer.writerows(chosen)
    for r in picked:
        (tmp_path / r["file"]).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(REAL / r["file"], tmp_path / r["file"])
    smiling = probe_traits.real_logits(tiny, "Smiling", tmp_path)
    assert [n for _, n in smiling.values()] == [2, 1]
    male = probe_traits.real_logits(tiny, "Male", tmp_path)
    assert sum(n for _, n in male.values()) == 4
    assert male["men"][1] == sum(r["male"] == "1" for r in picked)


def test_the_command_prints_both_groups_and_every_switch(tiny, tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(probe_traits, "load_model", lambda source: type("L", (), {"model": tiny})())
    missing = str(tmp_path / "none")
    probe_traits.main(["--model", "x", "--attribute", "Smiling", "--faces", "12", "--root", missing])
    out = capsys.readouterr().out
    for name in [*probe_traits.SWITCHES["Smiling"].present, *probe_traits.SWITCHES["Smiling"].absent]:
        assert name in out
    assert "real photos skipped" in out
