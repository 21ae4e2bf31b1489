"""The ten attributes of a SynthFACS face (topology.ATTRIBUTES), by documented visual rules.

Traits drawn directly: Male, Eyeglasses. Thresholds on a drawn trait: Arched_Eyebrows
(brow_arch >= 0.6: arch height 0.019 S or more), Bushy_Eyebrows (brow_thickness >= 0.62),
No_Beard (beard density < 0.35; lighter stubble counts as no beard), Young (age < 38).
From the AUs, as FACS reads them: Smiling = AU12 >= 2 (lip corners visibly pulled, the same
"present" threshold as DISFA); Mouth_Slightly_Open = AU25 >= 2 and AU26 < 3 (lips apart, jaw
not dropped wide). From the lid geometry: Narrow_Eyes = lid opening < 0.62 of an average
neutral eye (narrow lids, or narrowed by AU6/AU7/AU45).
Attractive follows three correlates of rated attractiveness (Rhodes 2006) that a 112 px crop
shows: symmetry (asymmetry < 0.3), clear skin (blemish < 0.35) and youth (Young). Rhodes'
fourth, averageness, is left out: face-shape offsets of a few pixels are not visible at this size.
Random faces keep clear of every threshold (params.py, the *_GAP constants).
"""

import numpy as np

from fatauva.synthfacs.geometry import eye_opening
from fatauva.synthfacs.params import FaceParams
from fatauva.topology import ATTRIBUTES

ARCH_MIN, BUSHY_MIN, BEARD_MIN, YOUNG_MAX_AGE = 0.6, 0.62, 0.35, 38.0
NARROW_MAX_OPENING = 0.62
ASYMMETRY_MAX, BLEMISH_MAX = 0.3, 0.35
PRESENT_MIN = 2.0  # AU intensity >= 2 (FACS B) = present, as DISFA


def attractive(params: FaceParams) -> bool:
    """Symmetric, clear-skinned and young (the module docstring's rule)."""
    tr = params.traits
    return bool(tr.asymmetry < ASYMMETRY_MAX and tr.blemish < BLEMISH_MAX and tr.age < YOUNG_MAX_AGE)


def attribute_values(params: FaceParams) -> dict[str, bool]:
    """Every attribute of topology.ATTRIBUTES -> present?"""
    tr, au = params.traits, params.au
    return {
        "Arched_Eyebrows": tr.brow_arch >= ARCH_MIN,
        "Attractive": attractive(params),
        "Bushy_Eyebrows": tr.brow_thickness >= BUSHY_MIN,
        "Eyeglasses": tr.glasses > 0,
        "Male": bool(tr.male),
        "Mouth_Slightly_Open": au[25] >= PRESENT_MIN and au[26] < 3.0,
        "Narrow_Eyes": eye_opening(tr, au) < NARROW_MAX_OPENING,
        "No_Beard": tr.beard < BEARD_MIN,
        "Smiling": au[12] >= PRESENT_MIN,
        "Young": tr.age < YOUNG_MAX_AGE,
    }


def attribute_vector(params: FaceParams) -> np.ndarray:
    """(10,) int64 0/1 in topology.ATTRIBUTES order."""
    values = attribute_values(params)
    return np.array([int(values[name]) for name in ATTRIBUTES], np.int64)
