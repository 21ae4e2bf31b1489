"""explain/: where each branch of FATAUVA-Net looked, how the parts fed the AUs and the AUs V-A,
and whether each map can be trusted (docs/explanations.md).

    from explain import explain_face
    e = explain_face(model, crop)          # one aligned crop, uint8 RGB (S, S, 3)
    e.maps["AU12"], e.parts["mouth"].map, e.flow.edges(), e.passed["AU12"]

Layers: demo -> explain -> fatauva; nothing here knows of Gradio. The submodules stay importable
by name (`explain.flow`, `explain.occlusion`, `explain.gate` are modules; their functions are
exported below under their own names). `explain.faithfulness` is the command line
`python -m explain.faithfulness` and is not imported here.
"""

from explain import cam, flow, gate, maps, occlusion, parts, targets
from explain.cam import BRANCH, METHODS, CamResult, batched_cams, library_cam
from explain.explanation import DEFAULT_LAYER, DEFAULT_METHOD, Explanation, explain_face
from explain.flow import AUFlow, Flow, VAFlow, au_to_va, parts_to_aus
from explain.gate import passes, verdicts
from explain.maps import normalise, overlay, photo_overlay, to_photo
from explain.occlusion import occlusion_map, occlusion_maps, rank_agreement
from explain.parts import PartResponse, part_responses
from explain.targets import TARGET_NAMES, TARGETS, Target, target

__all__ = [
    "AUFlow",
    "BRANCH",
    "CamResult",
    "DEFAULT_LAYER",
    "DEFAULT_METHOD",
    "Explanation",
    "Flow",
    "METHODS",
    "PartResponse",
    "TARGETS",
    "TARGET_NAMES",
    "Target",
    "VAFlow",
    "au_to_va",
    "batched_cams",
    "cam",
    "explain_face",
    "flow",
    "gate",
    "library_cam",
    "maps",
    "normalise",
    "occlusion",
    "occlusion_map",
    "occlusion_maps",
    "overlay",
    "part_responses",
    "parts",
    "parts_to_aus",
    "passes",
    "photo_overlay",
    "rank_agreement",
    "target",
    "targets",
    "to_photo",
    "verdicts",
]
