"""Every tutorial runs top to bottom as a script (they are jupytext percent-format notebooks).

The one that ``tests/test_notebook.py`` executes cell by cell as a notebook (every cell, the same
code) is run as a script only where that test cannot run (no jupytext, nbclient or ipykernel).
"""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
from pathlib import Path

import pytest

TUTORIALS = sorted((Path(__file__).resolve().parents[1] / "tutorials").glob("[0-9][0-9]_*.py"))
AS_NOTEBOOK = "04_brain_vs_network"  # tests/test_notebook.py's TUTORIAL
NOTEBOOK_TESTED = all(importlib.util.find_spec(m) is not None for m in ("jupytext", "nbclient", "ipykernel", "torch"))


@pytest.mark.slow
@pytest.mark.parametrize("path", TUTORIALS, ids=[p.stem for p in TUTORIALS])
def test_tutorial_runs(path, tmp_path):
    if path.stem == AS_NOTEBOOK and NOTEBOOK_TESTED:
        pytest.skip("executed cell by cell by tests/test_notebook.py")
    env = dict(os.environ, NC_TUTORIAL_OUT=str(tmp_path), MPLBACKEND="Agg")
    proc = subprocess.run([sys.executable, str(path)], cwd=path.parent, env=env,
                          capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, f"{path.name} failed:\n{proc.stdout[-3000:]}\n{proc.stderr[-5000:]}"
