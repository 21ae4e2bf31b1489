"""SynthFACS: procedural faces with known AUs, attributes, V-A and regions (DESIGN.md, "SynthFACS")."""

from fatauva.synthfacs.dataset import SynthFACSDataset, face_params
from fatauva.synthfacs.params import FaceParams, Scene, Traits
from fatauva.synthfacs.render import SynthFace, SynthLabels, render

__all__ = [
    "FaceParams",
    "Scene",
    "SynthFACSDataset",
    "SynthFace",
    "SynthLabels",
    "Traits",
    "face_params",
    "render",
]
