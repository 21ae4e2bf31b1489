"""ONNX export (fatauva/export.py, docs/export.md): the file's outputs match PyTorch within 1e-4.

Two exports, each shared by the tests of its module-scoped fixture (an export takes about a minute
on the 2-core machine): a small untrained network with the V-A class head and a 3 x 3 head grid,
and the bundled weights through the command line. The reference is the PyTorch model in eval mode,
not its fused copy, so folding the BatchNorms is part of what is checked.
"""

import contextlib
import io
import json
import re
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

from fatauva import export, topology
from fatauva.checkpoint import load_model, untrained_model
from fatauva.faces import align_face, detect_faces
from fatauva.model import FatauvaConfig
from fatauva.synthfacs import face_params, render
from fatauva.template import to_tensor

pytest.importorskip("onnx")
pytest.importorskip("onnxscript")
onnxruntime = pytest.importorskip("onnxruntime")

pytestmark = pytest.mark.slow
TOLERANCE = 1e-4
DOC = Path(__file__).resolve().parents[1] / "docs" / "export.md"
SMALL = FatauvaConfig(
    va_head="cls",
    head_grid=3,
    stem_width=8,
    core_widths=(16, 32, 32),
    part_width=16,
    au_width=8,
    va_width=16,
    fc_hidden=(16, 8),
)


@pytest.fixture(scope="module")
def small(tmp_path_factory):
    net = untrained_model(SMALL).eval()
    path = export.export_onnx(net, tmp_path_factory.mktemp("small") / "small.onnx", source="untrained")
    return net, path


@pytest.fixture(scope="module")
def bundled(tmp_path_factory):
    """The bundled weights, exported by the command line; its printed lines are kept."""
    path = tmp_path_factory.mktemp("bundled") / "sub" / "fatauva.onnx"
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        code = export.main(["--onnx", str(path)])
    return load_model().model.eval(), path, code, printed.getvalue()


@pytest.fixture(scope="module")
def synth_crop():
    """One aligned crop as the app cuts it: SynthFACS test face 2, rendered at 160 px, found by the
    detector and warped onto the template by fatauva.faces."""
    image = render(face_params("test", 2), size=160, with_masks=False).image
    faces = detect_faces(image)
    assert faces, "the detector found no face in SynthFACS test face 2"
    return image, faces[0], align_face(image, faces[0].landmarks)


@pytest.fixture(scope="module")
def doc_code():
    """The numpy + onnxruntime block of docs/export.md, executed."""
    blocks = re.findall(r"```python\n(.*?)```", DOC.read_text(), re.DOTALL)
    assert len(blocks) == 1, "docs/export.md should hold exactly one python block"
    namespace: dict = {}
    exec(compile(blocks[0], str(DOC), "exec"), namespace)
    return namespace


def assert_close(net, path, image: torch.Tensor) -> dict[str, float]:
    diffs = export.max_differences(net, path, image)
    assert set(diffs) == set(export.OUTPUT_NAMES)
    assert max(diffs.values()) <= TOLERANCE, diffs
    return diffs


@pytest.mark.parametrize("batch", [1, 3, 7])
def test_small_model_matches_pytorch_on_random_inputs(small, batch):
    net, path = small
    image = torch.randn(batch, 3, 112, 112, generator=torch.Generator().manual_seed(batch))
    assert_close(net, path, image)


def test_small_model_exercises_the_class_head(small):
    net, path = small
    outputs = export.onnx_outputs(path, torch.randn(2, 3, 112, 112).numpy())
    assert outputs["va_logits"].shape == (2, 2, len(topology.VA_CLASS_VALUES))
    assert outputs["va"].shape == (2, 2) and np.abs(outputs["va"]).max() <= 1.0


def test_bundled_weights_export_from_the_command_line(bundled):
    _, path, code, printed = bundled
    assert code == 0, printed
    assert path.is_file()
    assert "bundled model" in printed and "verified: every output within" in printed


@pytest.mark.parametrize("batch", [1, 4])
def test_bundled_weights_match_pytorch_on_random_inputs(bundled, batch):
    net, path, _, _ = bundled
    image = torch.randn(batch, 3, 112, 112, generator=torch.Generator().manual_seed(10 + batch))
    assert_close(net, path, image)


def test_bundled_weights_match_pytorch_on_an_aligned_synthfacs_crop(bundled, synth_crop, doc_code):
    """The deployment path of docs/export.md (numpy preprocessing, onnxruntime) against the
    PyTorch path of the app (to_tensor, the model) on the same aligned crop."""
    net, path, _, _ = bundled
    crop = synth_crop[2]
    expected = export.torch_outputs(net, to_tensor(crop))
    got = doc_code["predict"](str(path), crop[None])
    for name in export.OUTPUT_NAMES:
        assert np.abs(got[name] - expected[name]).max() <= TOLERANCE, name
    # a real face, not a degenerate input: the outputs are probabilities that differ from each other
    assert got["aus"].std() > 1e-3 and 0.0 <= got["aus"].min() and got["aus"].max() <= 1.0


def test_batch_axis_is_dynamic_and_metadata_states_the_contract(bundled):
    import onnx

    net, path, _, _ = bundled
    model = onnx.load(str(path))
    (graph_input,) = model.graph.input
    dims = graph_input.type.tensor_type.shape.dim
    assert graph_input.name == export.INPUT_NAME
    assert dims[0].dim_param and not dims[0].HasField("dim_value")
    assert [d.dim_value for d in dims[1:]] == [3, net.config.input_size, net.config.input_size]
    assert [o.name for o in model.graph.output] == list(export.OUTPUT_NAMES)
    meta = {p.key: p.value for p in model.metadata_props}
    assert meta["input_size"] == str(net.config.input_size)
    assert meta["channel_order"] == "RGB" and meta["layout"] == "NCHW"
    assert json.loads(meta["mean"]) == pytest.approx([0.485, 0.456, 0.406])
    assert json.loads(meta["std"]) == pytest.approx([0.229, 0.224, 0.225])
    assert meta["attributes"].split(",") == list(topology.ATTRIBUTES)
    assert meta["aus"].split(",") == list(topology.AU_KEYS)
    assert meta["va_targets"].split(",") == list(topology.VA_TARGETS)
    assert len(meta["weights_sha256"]) == 64


def test_doc_alignment_and_preprocessing_equal_the_projects(synth_crop, doc_code):
    image, face, crop = synth_crop
    assert np.array_equal(doc_code["align"](image, face.landmarks), crop)
    # the shrinking branch (scale < 0.5): the same face in a photo three times larger
    big = np.repeat(np.repeat(image, 3, axis=0), 3, axis=1)
    points = face.landmarks * 3 + 1
    assert np.array_equal(doc_code["align"](big, points), align_face(big, points))
    batch = np.stack([crop, crop[::-1]])
    np.testing.assert_allclose(doc_code["preprocess"](batch), to_tensor(batch).numpy(), atol=1e-6)


def test_doc_lists_the_output_columns_in_order():
    text = DOC.read_text()
    assert ", ".join(topology.ATTRIBUTES) in text
    aus = "AU01, " + ", ".join(f"{au:02d}" for au in topology.AUS[1:])
    assert aus in text


def test_a_missing_onnx_package_gets_a_clear_message(monkeypatch, tmp_path, capsys):
    monkeypatch.setitem(sys.modules, "onnxscript", None)  # makes `import onnxscript` fail
    with pytest.raises(export.ExportDependencyError, match=r"onnxscript.*pip install"):
        export.export_onnx(untrained_model(SMALL), tmp_path / "x.onnx")
    assert export.main(["--onnx", str(tmp_path / "y.onnx")]) == 2
    assert "pip install -r requirements-dev.txt" in capsys.readouterr().err
    assert not (tmp_path / "y.onnx").exists()
