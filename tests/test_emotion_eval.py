"""FER2013's emotion-based measures: valence / arousal AUCs and the prototype-AU AUCs."""

import numpy as np
import pytest
from sklearn.metrics import roc_auc_score

from fatauva import topology
from train.emotion_eval import EMOTION_AU_GROUPS, canonical_emotion, emotion_report, group_auc


def test_group_auc_compares_only_the_two_groups_and_matches_sklearn():
    emotions = ["happy", "sad", "angry", "neutral", "happiness", "fear"]
    scores = np.array([0.9, 0.1, 0.5, 0.99, 0.3, 0.6])
    got = group_auc(scores, emotions, (("happy",), ("sad", "angry", "fear")))
    keep = [0, 1, 2, 4, 5]  # neutral is in neither group
    expected = roc_auc_score([1, 0, 0, 1, 0], scores[keep])
    assert got == pytest.approx(expected)


def test_group_auc_is_nan_when_a_group_is_missing():
    assert np.isnan(group_auc(np.ones(2), ["happy", "happy"], (("happy",), ("sad",))))


def test_spellings_of_the_datasets_map_onto_fer2013s():
    assert canonical_emotion("Happiness") == "happy"
    assert canonical_emotion("sadness") == "sad"
    assert canonical_emotion("anger") == "angry"


def test_a_model_that_reads_the_prototypes_scores_one_and_a_blind_one_half():
    rng = np.random.default_rng(0)
    emotions = list(rng.choice(["angry", "disgust", "fear", "happy", "neutral", "sad", "surprise"], 700))
    au_probs = np.zeros((700, len(topology.AUS)))
    for au, (positive, _) in EMOTION_AU_GROUPS.items():
        au_probs[:, topology.AUS.index(au)] = [1.0 if e in positive else 0.0 for e in emotions]
    va = np.stack(
        [
            [1.0 if e == "happy" else -1.0 for e in emotions],
            [1.0 if e in ("surprise", "fear", "angry") else -1.0 for e in emotions],
        ],
        axis=1,
    )
    perfect = emotion_report(va, au_probs, emotions)
    assert perfect["valence_auc"] == 1.0 and perfect["arousal_auc"] == 1.0
    assert perfect["emotion_au_auc"] == 1.0
    assert set(perfect["emotion_au"]) == {"AU12", "AU06", "AU01", "AU02", "AU04", "AU26", "AU15"}
    blind = emotion_report(rng.random((700, 2)), rng.random((700, 14)), emotions)
    assert abs(blind["emotion_au_auc"] - 0.5) < 0.05
    assert sum(blind["n_per_emotion"].values()) == 700
