"""The paper's wiring, written once as data (Tables 2 and 3, §3.3).

Every other module (model, trainer, explainer, app) reads names and wiring from here;
adding an AU or an attribute is one line in this file.
"""

from dataclasses import dataclass

# Table 2: attribute layer (facial part) -> the CelebA attributes of its FC heads.
PART_ATTRIBUTES: dict[str, tuple[str, ...]] = {
    "face": ("Attractive", "Male", "No_Beard", "Young"),
    "eyebrows": ("Arched_Eyebrows", "Bushy_Eyebrows"),
    "eyes": ("Eyeglasses", "Narrow_Eyes"),
    "mouth": ("Mouth_Slightly_Open", "Smiling"),
}


@dataclass(frozen=True)
class AUBranch:
    """One branch of the AU layer (Table 3): its name, the part branch it grows on, its AUs."""

    name: str
    part: str
    aus: tuple[int, ...]


# Table 3 and §3.2: AU branch -> part branch it is attached to -> AUs of its FC heads.
AU_BRANCHES: tuple[AUBranch, ...] = (
    AUBranch("AU6_7", "eyes", (6, 7)),
    AUBranch("AU45", "eyes", (45,)),
    AUBranch("AU1", "eyebrows", (1,)),
    AUBranch("AU2", "eyebrows", (2,)),
    AUBranch("AU4", "eyebrows", (4,)),
    AUBranch("Chin", "mouth", (17, 26)),
    AUBranch("Lip_c", "mouth", (12, 15)),
    AUBranch("Lip_u", "mouth", (10,)),
    AUBranch("Mouth_au", "mouth", (23, 24, 25)),
)

# §3.3, Fig. 5: the AU branches concatenated into Con_Val and Con_Aro.
CON_VAL: tuple[str, ...] = ("AU6_7", "AU45", "AU4", "Lip_c", "Mouth_au")
CON_ARO: tuple[str, ...] = ("AU45", "AU1", "AU2", "AU4", "Chin")
VA_INPUTS: dict[str, tuple[str, ...]] = {"valence": CON_VAL, "arousal": CON_ARO}

# §4.1.3: the class head predicts the integer V-A values -5..5, mapped /5 to [-1, 1].
VA_CLASS_VALUES: tuple[int, ...] = tuple(range(-5, 6))

PARTS: tuple[str, ...] = tuple(PART_ATTRIBUTES)
ATTRIBUTES: tuple[str, ...] = tuple(sorted(a for attrs in PART_ATTRIBUTES.values() for a in attrs))
ATTRIBUTE_PART: dict[str, str] = {a: p for p, attrs in PART_ATTRIBUTES.items() for a in attrs}
AUS: tuple[int, ...] = tuple(sorted(au for b in AU_BRANCHES for au in b.aus))
AU_BRANCH: dict[int, str] = {au: b.name for b in AU_BRANCHES for au in b.aus}
AU_PART: dict[int, str] = {au: b.part for b in AU_BRANCHES for au in b.aus}  # the part map an AU reads
AU_BRANCH_NAMES: tuple[str, ...] = tuple(b.name for b in AU_BRANCHES)
VA_TARGETS: tuple[str, ...] = tuple(VA_INPUTS)

# FACS names, for tables and tooltips.
AU_NAMES: dict[int, str] = {
    1: "inner brow raiser",
    2: "outer brow raiser",
    4: "brow lowerer",
    6: "cheek raiser",
    7: "lid tightener",
    10: "upper lip raiser",
    12: "lip corner puller",
    15: "lip corner depressor",
    17: "chin raiser",
    23: "lip tightener",
    24: "lip pressor",
    25: "lips part",
    26: "jaw drop",
    45: "blink",
}


def au_key(au: int) -> str:
    """The label key of an AU, zero-padded as BP4D/FERA write it: 1 -> 'AU01'."""
    return f"AU{au:02d}"


AU_KEYS: tuple[str, ...] = tuple(au_key(au) for au in AUS)
# AUs a posed neutral face may still show: lips apart (AU25) and a blink (AU45). Every other AU of
# Table 3 called on a neutral face is a false alarm (train.realfaces, the app's real-photo summary).
AT_REST_AUS: tuple[int, ...] = (25, 45)
