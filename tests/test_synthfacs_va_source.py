"""SynthFACS V-A labels that do not follow the network's wiring (docs/architecture.md, the ablation
caveat): mode "circumplex" labels the faces of mode "emotion" by the emotion's circumplex place."""

from dataclasses import replace

import numpy as np
import pytest

from fatauva.synthfacs import FaceParams, emotions, face_params, render
from fatauva.synthfacs.render import labels_of


def test_circumplex_mode_draws_the_emotion_mode_faces_and_only_relabels_va():
    for index in range(3):
        emotion, circumplex = face_params("test", index), face_params("test", index, mode="circumplex")
        assert circumplex.va_source == "circumplex" and emotion.va_source == "con_aus"
        assert replace(circumplex, va_source="con_aus") == emotion
        a = render(emotion, 64, with_masks=False)
        b = render(circumplex, 64, with_masks=False)
        assert a.image.tobytes() == b.image.tobytes()
        np.testing.assert_array_equal(a.labels.au_present, b.labels.au_present)


def test_circumplex_va_is_the_emotion_place_at_its_intensity_plus_the_noise():
    params = FaceParams(
        emotion="anger", emotion_intensity=0.5, va_noise=(0.02, -0.03), va_source="circumplex"
    )
    labels = labels_of(params, np.zeros((5, 2), np.float32))
    neutral, anger = emotions.EMOTION_BY_NAME["neutral"], emotions.EMOTION_BY_NAME["anger"]
    assert labels.valence == pytest.approx(0.5 * (anger.valence + neutral.valence) + 0.02)
    assert labels.arousal == pytest.approx(0.5 * (anger.arousal + neutral.arousal) - 0.03)


def test_circumplex_va_ignores_the_con_val_aus_that_drive_the_default_labels():
    base = FaceParams(emotion="happiness", emotion_intensity=0.8)
    smiling = base.with_au(12, 5.0)
    points = np.zeros((5, 2), np.float32)
    assert labels_of(smiling, points).valence > labels_of(base, points).valence + 0.3
    place = replace(base, va_source="circumplex")
    assert (
        labels_of(replace(smiling, va_source="circumplex"), points).valence
        == labels_of(place, points).valence
    )


def test_an_unknown_va_source_is_refused():
    with pytest.raises(ValueError, match="va_source"):
        FaceParams(va_source="pixels")
