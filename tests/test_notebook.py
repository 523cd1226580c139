"""A tutorial executed as a notebook (jupytext + nbclient): what notebook users see is tested."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

jupytext = pytest.importorskip("jupytext")
nbclient = pytest.importorskip("nbclient")
pytest.importorskip("ipykernel")
pytest.importorskip("torch")

# also tests/test_tutorials.py's AS_NOTEBOOK: there it is not run again as a script
TUTORIAL = Path(__file__).resolve().parents[1] / "tutorials" / "04_brain_vs_network.py"


@pytest.mark.slow
def test_tutorial_runs_as_a_notebook(tmp_path, monkeypatch):
    import nbformat

    from tests.test_tutorials import AS_NOTEBOOK, NOTEBOOK_TESTED

    assert TUTORIAL.stem == AS_NOTEBOOK and NOTEBOOK_TESTED  # the script run leaves this one to this test

    nb = jupytext.read(TUTORIAL)
    # two cells a notebook user would run: is a progress bar shown here, and an Estimate's display
    nb.cells.append(nbformat.v4.new_code_cell("from neurocomplex._progress import watched\nprint(watched())"))
    nb.cells.append(nbformat.v4.new_code_cell("nc.participation_ratio(brain, n_boot=20)"))
    monkeypatch.setenv("NC_TUTORIAL_OUT", str(tmp_path))
    monkeypatch.setenv("MPLBACKEND", "Agg")
    client = nbclient.NotebookClient(nb, timeout=600, kernel_name="python3",
                                     resources={"metadata": {"path": str(TUTORIAL.parent)}})
    client.execute()
    outputs = [out for cell in nb.cells if cell.cell_type == "code" for out in cell.get("outputs", [])]
    assert not [o for o in outputs if o.output_type == "error"]
    html = [o["data"]["text/html"] for o in outputs if o.output_type == "execute_result" and "text/html" in o["data"]]
    assert any("<b>Recording</b>" in h for h in html)  # the Recording's table
    assert "<b>Estimate</b>" in html[-1]                  # an Estimate's table, value and interval
    assert nb.cells[-2].outputs[0]["text"].strip() == "True"  # progress bars are shown in a kernel
    assert os.listdir(tmp_path)  # the tutorial's figures were written
