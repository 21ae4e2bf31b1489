"""notebooks/walkthrough.ipynb (issue 22 item 4): runs top to bottom on this CPU in under 3 minutes,
draws every figure it promises, and is committed without outputs.

Without outputs because step 8 reads a real photo from ../shared/realfaces at run time: saved outputs
would carry that photo (evaluation only, never in the repository) into git, and figures of the weights
go stale silently when the weights change. The kernel runs the notebook from notebooks/, as Jupyter does.
"""

import time
from pathlib import Path

import pytest

nbformat = pytest.importorskip("nbformat")
nbclient = pytest.importorskip("nbclient")
pytest.importorskip("ipykernel")

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOK = ROOT / "notebooks" / "walkthrough.ipynb"
REALFACES = ROOT.parent / "shared" / "realfaces"  # the notebook's default; evaluation only
BUDGET_S = 180  # issue 22: "runs top to bottom on this CPU in under 3 minutes"


def read() -> "nbformat.NotebookNode":
    return nbformat.read(NOTEBOOK, as_version=4)


def execute(notebook) -> float:
    """Run `notebook` in a fresh python3 kernel from notebooks/; returns the wall time in seconds.
    Raises nbclient's CellExecutionError (with the cell and its traceback) on the first failing cell."""
    client = nbclient.NotebookClient(
        notebook,
        timeout=BUDGET_S,
        kernel_name="python3",
        resources={"metadata": {"path": str(NOTEBOOK.parent)}},
    )
    start = time.perf_counter()
    client.execute()  # the kernel inherits this process's environment
    return time.perf_counter() - start


def code_cells(notebook) -> list:
    return [c for c in notebook.cells if c.cell_type == "code"]


def tagged(notebook, tag: str):
    found = [c for c in code_cells(notebook) if tag in c.metadata.get("tags", [])]
    assert len(found) == 1, f"expected one code cell tagged {tag!r}, found {len(found)}"
    return found[0]


def stdout(cell) -> str:
    return "".join(
        o.get("text", "") for o in cell.outputs if o.output_type == "stream" and o.name == "stdout"
    )


def test_the_walkthrough_is_committed_without_outputs():
    cells = code_cells(read())
    assert cells
    kept = [i for i, c in enumerate(cells) if c.outputs or c.execution_count is not None]
    assert not kept, (
        f"code cells {kept} keep outputs: clear them before committing (see this module's docstring)"
    )


@pytest.mark.slow
def test_the_walkthrough_runs_top_to_bottom_in_under_three_minutes(monkeypatch):
    monkeypatch.delenv("FATAUVA_MODEL", raising=False)  # the bundled weights, as the notebook says
    monkeypatch.delenv("FATAUVA_REALFACES", raising=False)
    notebook = read()
    seconds = execute(notebook)
    assert seconds < BUDGET_S, f"the walkthrough took {seconds:.0f} s (bar: under {BUDGET_S} s)"
    cells = code_cells(notebook)
    assert all(c.execution_count is not None for c in cells)
    errors = [o for c in cells for o in c.outputs if o.output_type == "error"]
    assert not errors
    drawing = [c for c in cells if "plt.show()" in c.source]
    blank = [
        c.source.splitlines()[0]
        for c in drawing
        if not any("image/png" in o.get("data", {}) for o in c.outputs)
    ]
    assert len(drawing) >= 8 and not blank, f"cells that drew no figure: {blank}"
    source = stdout(tagged(notebook, "real-photo"))
    if (REALFACES / "labels" / "london_faces.csv").is_file():
        assert "real photo: images/london_smiling/" in source and "CC BY 4.0" in source
    else:
        assert "no real photo found" in source


@pytest.mark.slow
def test_without_real_photos_the_walkthrough_falls_back_to_a_synthfacs_photo(tmp_path, monkeypatch):
    monkeypatch.setenv("FATAUVA_REALFACES", str(tmp_path))  # an empty folder: no London photos
    notebook = read()
    notebook.cells = [
        tagged(notebook, "setup"),
        tagged(notebook, "real-photo"),
        nbformat.v4.new_code_cell("print(photo.shape, photo.dtype, photo_is_real)"),
    ]
    execute(notebook)
    said = stdout(notebook.cells[1])
    assert "no real photo found" in said and str(tmp_path) in said
    assert "CC BY 4.0" not in said
    assert stdout(notebook.cells[2]).split() == ["(480,", "640,", "3)", "uint8", "False"]
