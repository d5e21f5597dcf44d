"""The planner notebooks: they run on the demo, and they are committed without outputs.

Execution uses nbclient with an ipykernel kernel; parameters are injected the way
papermill does it (a cell after the one tagged ``parameters``), so papermill itself
is not needed. Small districts keep the runs short.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from census.config import PROJECT_ROOT

NOTEBOOK_DIR = PROJECT_ROOT / "notebooks"
NOTEBOOKS = sorted(NOTEBOOK_DIR.glob("*.ipynb"))

# Parameters injected into each notebook: small districts of the demo that still
# exercise every part (Qiantang has the mudflat wind sites and ponds).
PARAMETERS = {
    "01_screen_sites.ipynb": {"district": "Binjiang"},
    "02_solar_yield.ipynb": {"district": "Binjiang"},
    "03_wind_mudflats.ipynb": {"district": "Qiantang"},
    "04_targets_rollup.ipynb": {"district": "Qiantang"},
}

CELL_TIMEOUT_S = 300


def test_the_four_notebooks_exist():
    assert [p.name for p in NOTEBOOKS] == sorted(PARAMETERS)


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_notebook_committed_without_outputs(path: Path):
    nb = json.loads(path.read_text(encoding="utf-8"))
    dirty = [
        i
        for i, cell in enumerate(nb["cells"])
        if cell["cell_type"] == "code" and (cell.get("outputs") or cell.get("execution_count"))
    ]
    assert not dirty, (
        f"{path.name}: code cells {dirty} have outputs or execution counts; clear them "
        "(Jupyter: Edit > Clear All Outputs, or `jupyter nbconvert --clear-output --inplace`)."
    )


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_notebook_layout(path: Path):
    nbformat = pytest.importorskip("nbformat")
    nb = nbformat.read(path, as_version=4)
    nbformat.validate(nb)
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert "parameters" in code[0].metadata.get("tags", []), "first code cell must be tagged"
    ns: dict[str, object] = {}
    exec(code[0].source, ns)  # the parameters cell holds plain assignments
    assert {"district", "config_path"} <= set(ns)
    assert ns["config_path"] is None
    head = "\n".join(c.source for c in nb.cells[:3] if c.cell_type == "markdown")
    assert "SYNTHETIC" in head
    text = "\n".join(c.source for c in code)
    assert "import census" in text
    assert "write=False" in text
    for forbidden in (".to_file(", ".to_csv(", "savefig(", "save_map(", "write=True"):
        assert forbidden not in text, f"{path.name} writes files ({forbidden})"


def _inject(nb, parameters: dict[str, object]):
    """Insert a papermill-style ``injected-parameters`` cell after the ``parameters`` cell."""
    import nbformat

    index = next(i for i, c in enumerate(nb.cells) if "parameters" in c.metadata.get("tags", []))
    source = "\n".join(f"{k} = {v!r}" for k, v in parameters.items())
    cell = nbformat.v4.new_code_cell(source, id="injected-parameters")
    cell.metadata["tags"] = ["injected-parameters"]
    nb.cells.insert(index + 1, cell)
    return nb


@pytest.mark.slow
@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_notebook_runs_on_demo(path: Path, tmp_path: Path, monkeypatch):
    nbformat = pytest.importorskip("nbformat")
    nbclient = pytest.importorskip("nbclient")
    pytest.importorskip("ipykernel")
    nb = _inject(nbformat.read(path, as_version=4), PARAMETERS[path.name])
    # Run in a temporary folder so that any stray file lands there; headless plots.
    monkeypatch.setenv("MPLBACKEND", "module://matplotlib_inline.backend_inline")
    client = nbclient.NotebookClient(
        nb,
        timeout=CELL_TIMEOUT_S,
        kernel_name="python3",
        resources={"metadata": {"path": str(tmp_path)}},
    )
    client.execute()  # raises CellExecutionError with the traceback on failure
    errors = [
        out
        for cell in nb.cells
        if cell.cell_type == "code"
        for out in cell.get("outputs", [])
        if out.get("output_type") == "error"
    ]
    assert not errors
    assert list(tmp_path.iterdir()) == [], "the notebook wrote files"
