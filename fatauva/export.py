"""FATAUVA-Net as an ONNX file, for running it without PyTorch:
`python -m fatauva.export --onnx PATH [--model SOURCE] [--no-verify]`.

SOURCE resolves as in the app (`fatauva.checkpoint.load_model`: a local folder, a Hub repo id,
else the checkpoint bundled in weights/). The file holds the fused inference model
(`FatauvaNet.fused`: every BatchNorm folded into its convolution), written by PyTorch's
`torch.export`-based ONNX exporter (opset 20), with a dynamic batch axis. After writing, the
command runs the file under onnxruntime on random inputs and prints the largest difference from
the PyTorch model per output (skipped with --no-verify or when onnxruntime is not installed).
Writing needs the packages `onnx` and `onnxscript` (requirements-dev.txt), not the app.

Preprocessing contract (the same as `fatauva.template.to_tensor`; docs/export.md shows it in
plain numpy, alignment included):

- input `image`: float32 (N, 3, S, S), NCHW, N >= 1 (dynamic), S = the model's input size (112 for
  the shipped weights; stored in the file's metadata as `input_size`).
- each crop is a face aligned to the template of `fatauva.template`: a least-squares similarity
  (rotation, uniform scale, translation; no reflection) moves five landmarks onto
  `TEMPLATE_POINTS * S`, bilinear warp, border replicated (`fatauva.faces.align_face`). The five
  points, "left" meaning image left: the left and right eye centres (means of the iBUG 68-point
  indices 36-41 and 42-47), the nose tip (30), the left and right mouth corners (48, 54). A crop
  that shrinks the photo below half its size is area-resized first.
- channels in RGB order (OpenCV reads BGR: convert), values uint8 / 255 in [0, 1], then
  (x - MEAN) / STD per channel with the ImageNet MEAN (0.485, 0.456, 0.406) and STD
  (0.229, 0.224, 0.225).

Outputs, in `OUTPUT_NAMES` order (orders of the columns: topology.ATTRIBUTES, topology.AUS,
topology.VA_TARGETS, also stored in the metadata):
`attributes` (N, 10) and `aus` (N, 14) P(present); `va` (N, 2) valence, arousal in [-1, 1];
`attribute_logits` (N, 10, 2), `au_logits` (N, 14, 2) and `va_logits` (N, 2) for the regression
head or (N, 2, 11) for the class head, as `FatauvaOutput`. Branch maps and explanations stay
in PyTorch.
"""

import argparse
import json
import sys
from dataclasses import asdict
from pathlib import Path

import numpy as np
import torch
from torch import Tensor, nn

from fatauva import topology
from fatauva.checkpoint import LoadedModel, load_model
from fatauva.model import FatauvaNet
from fatauva.template import MEAN, STD, TEMPLATE_POINTS

INPUT_NAME = "image"
OUTPUT_NAMES = ("attributes", "aus", "va", "attribute_logits", "au_logits", "va_logits")
OPSET = 20
EXPORT_PACKAGES = ("onnx", "onnxscript")  # what torch.onnx.export(dynamo=True) imports
VERIFY_BATCHES = (1, 3)  # batch sizes of the check after writing: both sides of the dynamic axis
TOLERANCE = 1e-4  # largest |onnxruntime - PyTorch| accepted on any output


class ExportDependencyError(RuntimeError):
    """A package the ONNX export needs is not installed."""


class OnnxOutputs(nn.Module):
    """FatauvaNet with the outputs of the ONNX file: image -> the tensors of `OUTPUT_NAMES`."""

    def __init__(self, net: FatauvaNet):
        super().__init__()
        self.net = net

    def forward(self, image: Tensor) -> tuple[Tensor, ...]:
        out = self.net(image)
        return (
            out.attribute_probs(),
            out.au_probs(),
            out.va(),
            out.attribute_logits,
            out.au_logits,
            out.va_logits,
        )


def require(*packages: str) -> None:
    """Raise ExportDependencyError naming every one of `packages` that does not import."""
    missing = []
    for name in packages:
        try:
            __import__(name)
        except ImportError:
            missing.append(name)
    if missing:
        raise ExportDependencyError(
            f"ONNX export needs the package(s) {', '.join(missing)}, which are not installed: "
            f"pip install -r requirements-dev.txt (or pip install {' '.join(missing)})"
        )


def metadata(net: FatauvaNet, source: str = "", sha256: str = "") -> dict[str, str]:
    """The preprocessing contract and output orders, as the file's metadata_props (strings)."""
    size = net.config.input_size
    return {
        "input_size": str(size),
        "layout": "NCHW",
        "channel_order": "RGB",
        "scale": "1/255",
        "mean": json.dumps(list(MEAN)),
        "std": json.dumps(list(STD)),
        "template_points": json.dumps((TEMPLATE_POINTS * size).round(4).tolist()),
        "template_landmarks": "left_eye,right_eye,nose,mouth_left,mouth_right (image left first)",
        "attributes": ",".join(topology.ATTRIBUTES),
        "aus": ",".join(topology.AU_KEYS),
        "va_targets": ",".join(topology.VA_TARGETS),
        "va_head": net.config.va_head,
        "config": json.dumps(asdict(net.config)),
        "source": source,
        "weights_sha256": sha256,
    }


def export_onnx(net: FatauvaNet, path: str | Path, *, source: str = "", sha256: str = "") -> Path:
    """Write the fused copy of `net` to `path` as one ONNX file (no external data); returns the path.

    `net` itself is left as it was. Raises ExportDependencyError when onnx / onnxscript are missing.
    """
    require(*EXPORT_PACKAGES)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    wrapper = OnnxOutputs(net.fused()).eval()
    size = net.config.input_size
    example = torch.zeros(2, 3, size, size)  # batch 2: a batch of 1 would be specialised by torch.export
    program = torch.onnx.export(
        wrapper,
        (example,),
        dynamo=True,
        input_names=[INPUT_NAME],
        output_names=list(OUTPUT_NAMES),
        dynamic_shapes={INPUT_NAME: {0: torch.export.Dim("batch", min=1)}},
        opset_version=OPSET,
        verbose=False,
    )
    program.model.metadata_props.update(metadata(net, source, sha256))
    program.model.doc_string = "FATAUVA-Net; preprocessing contract: docs/export.md of fatauva-net-studio"
    program.save(path, external_data=False)
    return path


def torch_outputs(net: FatauvaNet, image: Tensor) -> dict[str, np.ndarray]:
    """What the PyTorch model (eval mode, not fused) says for `image`, by output name."""
    with torch.inference_mode():
        outputs = OnnxOutputs(net.eval())(image)
    return {name: t.cpu().numpy() for name, t in zip(OUTPUT_NAMES, outputs, strict=True)}


def onnx_outputs(path: str | Path, image: np.ndarray) -> dict[str, np.ndarray]:
    """What onnxruntime (CPU) says for `image` (float32 (N, 3, S, S)) from the file at `path`."""
    import onnxruntime

    session = onnxruntime.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    names = [o.name for o in session.get_outputs()]
    return dict(zip(names, session.run(None, {INPUT_NAME: image}), strict=True))


def max_differences(net: FatauvaNet, path: str | Path, image: Tensor) -> dict[str, float]:
    """Largest absolute difference per output between the file under onnxruntime and `net`."""
    expected = torch_outputs(net, image)
    got = onnx_outputs(path, image.cpu().numpy())
    return {name: float(np.abs(got[name] - expected[name]).max()) for name in OUTPUT_NAMES}


def verify(net: FatauvaNet, path: str | Path, seed: int = 0) -> dict[str, float]:
    """`max_differences` over random inputs of each batch size in VERIFY_BATCHES (worst case)."""
    generator = torch.Generator().manual_seed(seed)
    size = net.config.input_size
    worst = dict.fromkeys(OUTPUT_NAMES, 0.0)
    for n in VERIFY_BATCHES:
        image = torch.randn(n, 3, size, size, generator=generator)
        for name, diff in max_differences(net, path, image).items():
            worst[name] = max(worst[name], diff)
    return worst


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m fatauva.export", description="Export FATAUVA-Net to ONNX (docs/export.md)"
    )
    parser.add_argument("--onnx", required=True, type=Path, help="where to write the .onnx file")
    parser.add_argument(
        "--model", help="local checkpoint folder or Hub repo id (default: the bundled weights)"
    )
    parser.add_argument("--revision", help="Hub branch, tag or commit of --model")
    parser.add_argument(
        "--no-verify", action="store_true", help="skip the onnxruntime check against PyTorch after writing"
    )
    return parser.parse_args(argv)


def _describe(loaded: LoadedModel) -> str:
    sha = f", sha256 {loaded.sha256[:12]}" if loaded.sha256 else ""
    return f"{loaded.kind} model from {loaded.location}{sha}"


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    try:
        require(*EXPORT_PACKAGES)
    except ExportDependencyError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    loaded = load_model(args.model, revision=args.revision)
    if loaded.warning:
        print(f"warning: {loaded.warning}", file=sys.stderr)
    print(f"exporting the {_describe(loaded)}")
    path = export_onnx(loaded.model, args.onnx, source=loaded.location, sha256=loaded.sha256)
    print(
        f"wrote {path} ({path.stat().st_size / 1e6:.1f} MB, opset {OPSET}, input {INPUT_NAME!r} float32 "
        f"(N, 3, {loaded.config.input_size}, {loaded.config.input_size}))"
    )
    if args.no_verify:
        return 0
    try:
        require("onnxruntime")
    except ExportDependencyError as err:
        print(f"not verified: {err}", file=sys.stderr)
        return 0
    diffs = verify(loaded.model, path)
    worst = max(diffs.values())
    print("max |onnxruntime - PyTorch| per output: " + ", ".join(f"{k} {v:.2e}" for k, v in diffs.items()))
    if worst > TOLERANCE:
        print(f"MISMATCH: onnxruntime differs from PyTorch by {worst:.2e} > {TOLERANCE:g}", file=sys.stderr)
        return 1
    print(f"verified: every output within {worst:.2e} of PyTorch (tolerance {TOLERANCE:g})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
