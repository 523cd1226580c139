"""The HTML report: tables, units, provenance, embedded figures, escaping; rendered by a browser."""

from __future__ import annotations

import base64
import json
import re
import shutil
import subprocess

import numpy as np
import pandas as pd
import pytest

matplotlib = pytest.importorskip("matplotlib")
matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

import neurocomplex as nc  # noqa: E402
from neurocomplex.report import add_units, make_provenance, measure_unit, write_report  # noqa: E402


@pytest.fixture(autouse=True)
def _close():
    yield
    plt.close("all")


def _tables():
    measures = pd.DataFrame({
        "recording": ["brain", "brain", "net"], "group": ["CA1", "<b>CA3</b>", "layer 1"],
        "measure": ["pattern_entropy", "mean_rate", "effective_dimension"],
        "value": [3.25, 4.0, 7.5], "ci_low": [3.0, 3.5, np.nan], "ci_high": [3.5, 4.5, np.nan],
    })
    sim = pd.DataFrame({"area": ["CA1", "CA1"], "layer": ["1", "3"], "metric": "cka", "value": [0.8, 0.3]})
    return {"measures": measures, "layer area map": sim}


def _figure():
    fig, ax = plt.subplots(figsize=(3, 2))
    ax.plot([0, 1], [0, 1])
    return fig


def test_units_of_measures():
    assert measure_unit("pattern_entropy") == "bits"
    assert measure_unit("mean_rate") == "per sample"
    assert measure_unit("mean_rate", "spike_counts", 0.01) == "Hz"
    assert measure_unit("mean_rate", "spike_counts", None) == "per sample"
    assert measure_unit("effective_dimension") == "dimensions"
    assert measure_unit("not_a_measure") == ""
    rec = nc.Recording.from_spike_times([np.array([0.1, 0.2])], bin_size=0.1, t_stop=1.0)
    table = add_units(_tables()["measures"], {"brain": rec})
    assert table["unit"].tolist() == ["bits", "Hz", "dimensions"]
    assert add_units(table.assign(unit="mine"))["unit"].eq("mine").all()  # an existing column is kept
    # every registered estimator that takes a recording or a pair has a unit
    names = nc.list_estimators("recording") + nc.list_estimators("pair")
    missing = [k for k in names if not measure_unit(k)]
    assert missing == []
    assert measure_unit("cka") == "dimensionless" and measure_unit("shape_distance") == "radians"


def test_report_writes_tables_with_units_and_provenance(tmp_path):
    prov = make_provenance(bin_size=0.01, binarization="count > 0 (spike in the bin)", n_boot=100, seed=7,
                           window="0.0-0.5 s")
    path = write_report(tmp_path / "out", _tables(), {"A line <script>alert(1)</script>": _figure()}, prov,
                        title="Brain & network", notes=["Areas vs <layers>"])
    folder = path.parent
    assert sorted(p.name for p in folder.iterdir()) == [
        ".neurocomplex_report.json", "layer_area_map.csv", "measures.csv", "provenance.json", "report.html"]
    measures = pd.read_csv(folder / "measures.csv")
    assert measures["unit"].tolist() == ["bits", "per sample", "dimensions"]
    np.testing.assert_array_equal(measures["value"], [3.25, 4.0, 7.5])
    for key in ("bin_size_s", "binarization", "n_boot", "seed", "neurocomplex_version", "window"):
        assert measures[key].nunique() == 1
    assert measures["bin_size_s"].iloc[0] == 0.01 and measures["n_boot"].iloc[0] == 100
    assert measures["seed"].iloc[0] == 7 and measures["neurocomplex_version"].iloc[0] == nc.__version__
    sim = pd.read_csv(folder / "layer_area_map.csv")
    assert sim["unit"].eq("dimensionless").all() and sim["seed"].eq(7).all()  # CKA's unit, from "metric"
    assert json.loads((folder / "provenance.json").read_text())["binarization"] == prov["binarization"]

    text = path.read_text(encoding="utf-8")
    # escaped everywhere: title, notes, captions, cells
    assert "<script>" not in text and "<b>CA3</b>" not in text and "<layers>" not in text
    assert "Brain &amp; network" in text and "&lt;b&gt;CA3&lt;/b&gt;" in text
    assert "A line &lt;script&gt;alert(1)&lt;/script&gt;" in text
    # provenance, units and links to the CSVs
    for key, value in prov.items():
        assert f"<dt>{key}</dt>" in text and str(value) in text.replace("&gt;", ">")
    assert "bits" in text and 'href="measures.csv"' in text
    # the figure is embedded as a decodable PNG; no external asset is referenced
    (data,) = re.findall(r'src="data:image/png;base64,([A-Za-z0-9+/=]+)"', text)
    assert base64.b64decode(data)[:8] == b"\x89PNG\r\n\x1a\n"
    assert not re.search(r'(src|href)="(https?:)?//', text)
    assert "<link" not in text
    # NaN shown as an empty cell, numbers in 4 significant digits
    assert "<td class=\"num\">3.25</td>" in text and "<td class=\"num\"></td>" in text


def test_report_bad_input(tmp_path):
    prov = make_provenance(seed=0)
    with pytest.raises(nc.InvalidParameterError, match="at least one"):
        write_report(tmp_path, {}, {}, prov)
    with pytest.raises(nc.InvalidParameterError, match="DataFrame"):
        write_report(tmp_path, {"t": [1, 2]}, {}, prov)
    with pytest.raises(nc.InvalidParameterError, match="clash"):
        write_report(tmp_path, {"t": pd.DataFrame({"seed": [0, 1]})}, {}, prov)
    with pytest.raises(nc.InvalidParameterError, match="same file"):
        write_report(tmp_path, {"a b": pd.DataFrame({"x": [1]}), "a_b": pd.DataFrame({"x": [1]})}, {}, prov)
    with pytest.raises(nc.InvalidParameterError, match="Figures"):
        write_report(tmp_path, {}, {"f": "not a figure"}, prov)
    with pytest.raises(nc.InvalidParameterError, match="PNG"):
        write_report(tmp_path, {}, {"f": b"GIF89a"}, prov)
    assert list(tmp_path.iterdir()) == []  # nothing written when the input is bad


def test_provenance_column_already_in_a_table_is_kept_once(tmp_path):
    path = write_report(tmp_path, {"t": pd.DataFrame({"seed": [3, 3], "x": [1, 2]})}, {}, make_provenance(seed=3))
    table = pd.read_csv(path.parent / "t.csv")
    assert list(table.columns[:2]) == ["seed", "x"] and table["seed"].tolist() == [3, 3]


def test_report_accepts_axes_arrays_and_png_bytes(tmp_path):
    from neurocomplex.plotting import plot_measures

    axes = plot_measures(_tables()["measures"])
    fig = _figure()
    import io

    buffer = io.BytesIO()
    fig.savefig(buffer, format="png")
    path = write_report(tmp_path, {}, {"axes": axes[0], "png": buffer.getvalue()}, make_provenance())
    assert len(re.findall(r"data:image/png;base64,", path.read_text())) == 2


def _browser():
    return next((b for b in ("chromium", "chromium-browser", "google-chrome") if shutil.which(b)), None)


@pytest.mark.skipif(_browser() is None, reason="no headless chromium installed")
def test_report_renders_in_a_headless_browser(tmp_path):
    from neurocomplex.plotting import plot_measures, plot_similarity_map

    tables = _tables()
    figures = {"measures": plot_measures(tables["measures"])[0].figure,
               "map": plot_similarity_map(tables["layer area map"]).figure}
    path = write_report(tmp_path / "r", tables, figures, make_provenance(seed=0))
    shot = tmp_path / "shot.png"
    proc = subprocess.run(
        [_browser(), "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
         "--window-size=1200,1600", f"--screenshot={shot}", path.as_uri()],
        capture_output=True, text=True, timeout=120,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    image = plt.imread(shot)
    assert image.shape[:2] == (1600, 1200)
    # the page is not blank: text and the two embedded figures leave many non-white pixels
    dark = (image[..., :3].mean(axis=2) < 0.8).mean()
    assert dark > 0.01


def _names(folder) -> list[str]:
    return sorted(p.name for p in folder.iterdir())


def test_a_rerun_leaves_only_this_report_files(tmp_path):
    folder = tmp_path / "out"
    t = _tables()
    write_report(folder, t, {}, make_provenance(seed=0))
    (folder / "my_notes.txt").write_text("kept")
    write_report(folder, {"measures": t["measures"]}, {}, make_provenance(seed=1))
    # the earlier report's 'layer_area_map.csv' is gone; what no report wrote stays
    assert _names(folder) == [".neurocomplex_report.json", "measures.csv", "my_notes.txt", "provenance.json",
                              "report.html"]
    manifest = json.loads((folder / ".neurocomplex_report.json").read_text())
    assert manifest["files"] == ["measures.csv", "provenance.json", "report.html"]
    assert pd.read_csv(folder / "measures.csv").seed.eq(1).all()


def test_overwrite_false_refuses_files_no_report_wrote(tmp_path):
    folder = tmp_path / "out"
    write_report(folder, _tables(), {}, make_provenance(seed=0), overwrite=False)  # a new folder
    write_report(folder, _tables(), {}, make_provenance(seed=1), overwrite=False)  # its own earlier report
    (folder / "old_run.csv").write_text("a\n1\n")  # e.g. a CSV of a version without manifest
    before = {n: (folder / n).read_bytes() for n in _names(folder)}
    with pytest.raises(nc.InvalidParameterError, match=r"holds files that no earlier report wrote \(old_run.csv\)"):
        write_report(folder, {"x": _tables()["measures"]}, {}, make_provenance(seed=2), overwrite=False)
    assert {n: (folder / n).read_bytes() for n in _names(folder)} == before  # nothing written
    write_report(folder, {"x": _tables()["measures"]}, {}, make_provenance(seed=2), overwrite=True)
    assert "old_run.csv" in _names(folder) and "measures.csv" not in _names(folder)


def test_a_tampered_manifest_removes_nothing_outside_the_report(tmp_path):
    folder = tmp_path / "out"
    folder.mkdir()
    (tmp_path / "precious.csv").write_text("a\n")
    (folder / "data.nwb").write_text("x")
    (folder / ".neurocomplex_report.json").write_text(json.dumps({"files": ["../precious.csv", "data.nwb", "/etc/x"]}))
    write_report(folder, {"measures": _tables()["measures"]}, {}, make_provenance(seed=0))
    assert (tmp_path / "precious.csv").exists() and (folder / "data.nwb").exists()
