"""``neurocomplex compare`` and ``analyze --trials``: exit codes, messages, tables and report."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

import neurocomplex as nc
from neurocomplex._bundled import bundled_path
from neurocomplex.cli import main
from neurocomplex.cli.compare import COMPARE_MEASURES

torch = pytest.importorskip("torch")
pytest.importorskip("matplotlib")


@pytest.fixture(scope="module")
def case():
    truth = json.loads(bundled_path("comparison_case_truth.json").read_text())
    return {"nwb": str(bundled_path("comparison_case.nwb")),
            "stimuli": str(bundled_path("comparison_case_stimuli.npy")),
            "model": str(bundled_path("demo_network.pt")), "truth": truth}


def _compare(case, out, *extra):
    return ["compare", case["nwb"], "--trials", "trials", "--window", "0", "0.5", "--model", case["model"],
            "--stimuli", case["stimuli"], "--out", str(out), "--no-progress", *extra]


def _clean_error(capsys, fragment):
    captured = capsys.readouterr()
    assert "Traceback" not in captured.err
    assert fragment in captured.err, captured.err
    return captured


# --------------------------------------------------------------------------- bad input: exit 2
def test_model_file_that_is_not_a_state_dict(case, tmp_path, capsys):
    bad = tmp_path / "tensor.pt"
    torch.save(torch.zeros(3), bad)
    args = _compare(case, tmp_path / "out")
    args[args.index(case["model"])] = str(bad)
    assert main(args) == 2
    _clean_error(capsys, "is not a state dict")
    assert not (tmp_path / "out" / "report.html").exists()


def test_weights_only_file_needs_its_widths(case, tmp_path, capsys):
    from neurocomplex.torch.models import load_demo_network

    plain = tmp_path / "plain.pt"
    torch.save(load_demo_network().state_dict(), plain)
    args = _compare(case, tmp_path / "out")
    args[args.index(case["model"])] = str(plain)
    assert main(args) == 2
    _clean_error(capsys, "holds weights only")
    assert main([*args, "--widths", "64", "16", "10"]) == 2  # wrong architecture
    _clean_error(capsys, "do not fit")


def test_missing_trial_table(case, tmp_path, capsys):
    args = _compare(case, tmp_path)
    args[args.index("trials")] = "no_such_table"
    assert main(args) == 2
    _clean_error(capsys, "no interval table named 'no_such_table'")


def test_window_longer_than_a_trial(case, tmp_path, capsys):
    args = _compare(case, tmp_path)
    args[args.index("--window") + 2] = "0.9"
    assert main(args) == 2
    _clean_error(capsys, "longer than trial")


@pytest.mark.parametrize(("change", "fragment"), [
    (lambda a: a[:a.index("--model")] + a[a.index("--stimuli"):], "--model and --stimuli go together"),
    (lambda a: a[:a.index("--trials")] + a[a.index("--model"):], "give --trials NAME"),
    (lambda a: [*a[:2], a[1], *a[2:]], "give one NWB file"),
    (lambda a: [*a, "--window", "0.5", "0.1"], "START < STOP"),
    (lambda a: [*a, "--n-draws", "0"], "--n-draws must be"),
    (lambda a: ["compare", a[1], "--out", a[a.index("--out") + 1]], "two or more NWB files"),
])
def test_argument_errors(case, tmp_path, capsys, change, fragment):
    assert main(change(_compare(case, tmp_path))) == 2
    _clean_error(capsys, fragment)


def test_bad_stimuli(case, tmp_path, capsys):
    objects = tmp_path / "objects.npy"
    np.save(objects, np.array([{"a": 1}, None], dtype=object), allow_pickle=True)
    few = tmp_path / "few.npy"
    np.save(few, np.zeros((5, 64), dtype=np.float32))
    text = tmp_path / "stimuli.txt"
    text.write_text("1 2 3")
    for path, fragment in [(objects, "holds Python objects"), (few, "indexing the 5 stimuli"),
                           (text, "must be an .npy array or a folder"), (tmp_path / "absent.npy", "do not exist"),
                           (tmp_path, "holds no image")]:
        args = _compare(case, tmp_path / "out")
        args[args.index(case["stimuli"])] = str(path)
        assert main(args) == 2, fragment
        _clean_error(capsys, fragment)


def test_stimuli_from_a_folder_of_images(tmp_path):
    from PIL import Image

    from neurocomplex.cli.compare import load_stimuli, stimulus_rows

    rng = np.random.default_rng(0)
    pixels = rng.integers(0, 256, size=(3, 8, 8), dtype=np.uint8)
    for i, name in enumerate(["b.png", "a.png", "c.png"]):
        Image.fromarray(pixels[i]).save(tmp_path / name)
    stimuli = load_stimuli(tmp_path)
    np.testing.assert_allclose(stimuli, pixels[[1, 0, 2]] / 255.0, rtol=1e-6)  # sorted by file name
    Image.fromarray(np.zeros((4, 4), dtype=np.uint8)).save(tmp_path / "d.png")
    with pytest.raises(nc.InvalidDataError, match="different shapes"):
        load_stimuli(tmp_path)
    labels = pd.DataFrame({"stimulus_index": [2, 0, 2]})
    rows, column = stimulus_rows(labels, 3)
    assert rows.tolist() == [2, 0, 2] and column == "stimulus_index"
    assert stimulus_rows(pd.DataFrame({"x": [1, 1, 1]}), 3)[0].tolist() == [0, 1, 2]  # trial order
    with pytest.raises(nc.InvalidParameterError, match="--stimulus-column"):
        stimulus_rows(pd.DataFrame({"x": [1, 1]}), 3)
    with pytest.raises(nc.InvalidDataError, match="integers"):
        stimulus_rows(pd.DataFrame({"stimulus_index": [0.5, 1.0]}), 3)


# --------------------------------------------------------------------------- analyze --trials
def test_analyze_trials_counts_spikes_per_trial(case, tmp_path, capsys):
    code = main(["analyze", case["nwb"], "--trials", "trials", "--window", "0", "0.4", "--by", "group",
                 "--measures", "activation_ratio", "participation_ratio", "--n-boot", "0", "--out", str(tmp_path)])
    assert code == 0
    table = pd.read_csv(tmp_path / "comparison_case_measures.csv")
    resp = nc.load(case["nwb"], bin_size=0.01).trial_responses("trials", window=(0.0, 0.4))
    assert set(table.n_samples) == {case["truth"]["n_trials"]} == {resp.n_samples}
    assert table.groupby("measure").unit.first().to_dict() == {"activation_ratio": "fraction",
                                                               "participation_ratio": "dimensions"}
    assert table.trials.eq("trials").all()
    assert table.window_s.eq("0 to 0.4").all() and table.seed.eq(0).all() and "neurocomplex_version" in table
    pr = table[table.measure == "participation_ratio"].set_index("group").value
    for area, rec in resp.by_group().items():
        assert pr[area] == pytest.approx(nc.participation_ratio(rec, n_boot=0).value)
    assert main(["analyze", case["nwb"], "--window", "0", "0.4"]) == 2
    _clean_error(capsys, "--window needs --trials")


# --------------------------------------------------------------------------- the comparison
@pytest.fixture(scope="module")
def report(case, tmp_path_factory):
    out = tmp_path_factory.mktemp("compare")
    # 40 replicates: the fewest that give the matched differences a p-value at 5%
    code = main(_compare(case, out, "--n-boot", "40", "--n-draws", "5", "--metrics", "cka", "predictivity"))
    return code, out


def test_compare_writes_tables_and_report(report, case):
    code, out = report
    assert code == 0
    names = {p.name for p in out.iterdir()}
    assert {"report.html", "measures.csv", "matched.csv", "matched_values.csv", "similarity_cka.csv",
            "similarity_predictivity.csv", "best_layer_cka.csv", "provenance.json"} <= names
    measures = pd.read_csv(out / "measures.csv")
    areas, layers = set(case["truth"]["area_layer"]), {"relu1", "relu2", "output"}
    assert set(measures[measures.recording == "area"].group) == areas
    assert set(measures[measures.recording == "layer"].group) == layers
    assert (measures[measures.measure == "pattern_entropy"].unit == "bits").all()
    for key in ("seed", "n_boot", "binarization", "neurocomplex_version", "window_s", "trials"):
        assert measures[key].nunique() == 1
    assert measures["n_boot"].iloc[0] == 40 and measures["window_s"].iloc[0] == "0 to 0.5"
    sim = pd.read_csv(out / "similarity_cka.csv")
    assert len(sim) == len(areas) * len(layers)
    text = (out / "report.html").read_text()
    # measures, profiles, matched, and per metric a similarity map and its profile over depth
    assert text.count("data:image/png;base64,") == 7
    assert "comparison_case.nwb" in text and "demo_network.pt" in text


def test_compare_finds_the_known_answer(report, case):
    _, out = report
    for metric in ("cka", "predictivity"):
        best = pd.read_csv(out / f"best_layer_{metric}.csv").set_index("area")["best_layer"].to_dict()
        assert best == case["truth"]["area_layer"], metric
    # the matched table: every pair of the six populations, for every measure but activation_ratio
    matched = pd.read_csv(out / "matched.csv")
    assert set(matched.measure) == set(COMPARE_MEASURES) - {"activation_ratio"}
    assert len(matched) == 15 * 4 and matched.p_value.between(0, 1).all()
    np.testing.assert_allclose(matched.difference, matched.value_a - matched.value_b, rtol=1e-9, atol=1e-12)
    values = pd.read_csv(out / "matched_values.csv")
    assert set(values.recording) == {"area", "layer"} and (values[values.measure == "pattern_entropy"].unit == "bits").all()


def test_compare_progress_lines_when_not_a_terminal(case, tmp_path, capsys):
    code = main(["compare", case["nwb"], "--trials", "trials", "--model", case["model"], "--stimuli",
                 case["stimuli"], "--out", str(tmp_path), "--n-boot", "0", "--n-draws", "2", "--metrics", "cka",
                 "--measures", "participation_ratio"])
    assert code == 0
    steps = [line for line in capsys.readouterr().err.splitlines() if line.startswith("[") and "/8]" in line]
    assert [line.split("]")[0] for line in steps] == [f"[{i}" + "/8" for i in range(1, 9)]
    assert steps[0].startswith("[1/8] loading") and steps[-1].startswith("[8/8] writing")


# --------------------------------------------------------------------------- the demo
def test_demo_shows_a_brain_vs_network_comparison(tmp_path, capsys):
    assert main(["demo", "--n-boot", "10", "--out", str(tmp_path), "--no-progress"]) == 0
    out = capsys.readouterr().out
    assert "3. Brain against network" in out
    assert "6 of 6 (metric, area) pairs find the layer the area was generated from" in out
    assert "area_2 and area_2b were generated identically" in out
    names = {p.name for p in tmp_path.iterdir()}
    assert {"report.html", "best_layer_cka.csv", "best_layer_predictivity.csv", "matched.csv",
            "demo_recording_measures.csv", "demo_network_measures.csv"} <= names
    for name in ("demo_recording_measures", "demo_network_measures"):
        table = pd.read_csv(tmp_path / f"{name}.csv")
        assert (table[table.measure == "pattern_entropy"].unit == "bits").all() and table.n_boot.eq(10).all()
    best = pd.read_csv(tmp_path / "best_layer_cka.csv")
    assert best["correct"].all() and (best["best_layer"] == best["truth"]).all()
    text = (tmp_path / "report.html").read_text()
    assert "known answer" in text and "generator_seed" in text


# --------------------------------------------------------------------------- several files
def test_compare_two_files(case, tmp_path, capsys):
    import shutil

    copy = tmp_path / "copy.nwb"
    shutil.copyfile(case["nwb"], copy)
    out = tmp_path / "same"
    code = main(["compare", case["nwb"], str(copy), "--trials", "trials", "--window", "0", "0.5", "--out", str(out),
                 "--n-boot", "10", "--n-draws", "3", "--metrics", "cka", "--measures", "participation_ratio"])
    assert code == 0
    sim = pd.read_csv(out / "similarity_cka.csv")
    same = sim[sim.layer == "copy:" + sim.area]
    assert len(same) == 3 and np.allclose(same.value, 1.0)  # an area against its own copy
    assert set(pd.read_csv(out / "measures.csv").recording) == {"comparison_case", "copy"}
    # files that share no samples: measures and matched comparison, no similarity map, said why
    out2 = tmp_path / "different"
    with pytest.warns(nc.NeurocomplexWarning, match="obs_intervals do not cover the window"):  # whole sessions
        code = main(["compare", case["nwb"], str(bundled_path("demo_recording.nwb")), "--bin-size", "0.5",
                     "--out", str(out2), "--n-boot", "0", "--n-draws", "3", "--measures", "participation_ratio"])
    assert code == 0
    assert not (out2 / "similarity_cka.csv").exists()
    assert "No similarity map: the files do not share their samples" in (out2 / "report.html").read_text()
    matched = pd.read_csv(out2 / "matched.csv")
    assert {"comparison_case:area_1", "demo_recording:area_A"} <= set(matched.a) | set(matched.b)
    assert "writing" in capsys.readouterr().err
    # two files with one name cannot be told apart in the tables
    assert main(["compare", case["nwb"], case["nwb"], "--out", str(tmp_path / "x")]) == 2
    _clean_error(capsys, "two files named comparison_case")


def _browser():
    import shutil

    return next((b for b in ("chromium", "chromium-browser", "google-chrome") if shutil.which(b)), None)


@pytest.mark.skipif(_browser() is None, reason="no headless chromium installed")
def test_compare_report_renders_in_a_headless_browser(report, tmp_path):
    import subprocess

    import matplotlib.pyplot as plt

    _, out = report
    shot = tmp_path / "report.png"
    proc = subprocess.run([_browser(), "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
                           "--window-size=1200,3000", f"--screenshot={shot}", (out / "report.html").as_uri()],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr[-2000:]
    image = plt.imread(shot)[..., :3]
    assert image.shape[:2] == (3000, 1200)
    # the figures are drawn (colour: the heat maps and coloured points), not only black text on white
    colourful = (image.max(axis=2) - image.min(axis=2)) > 0.25
    assert colourful.mean() > 0.005


def test_figure_caption_names_intervals_beside_their_value():
    from neurocomplex.comparison._bvn_figures import intervals_caption as _intervals_caption

    table = pd.DataFrame({"measure": ["pattern_complexity", "participation_ratio"], "value": [265.0, 14.7],
                          "ci_low": [370.0, 13.9], "ci_high": [390.0, 16.6]})
    caption = _intervals_caption(table, "Measures")
    assert caption.startswith("Measures. Intervals beside, not around, their value (pattern complexity)")
    assert _intervals_caption(table.iloc[1:], "Measures") == "Measures"


# --------------------------------------------------------------------------- any architecture
_ARCHITECTURE = '''
import torch.nn as nn


def small_cnn():
    return nn.Sequential(nn.Conv2d(1, 4, 3, padding=1), nn.ReLU(), nn.Conv2d(4, 4, 3, padding=1), nn.ReLU(),
                         nn.Flatten(), nn.Linear(4 * 8 * 8, 10))
'''


def test_stimuli_scaled_by_one_rule_for_arrays_and_images(tmp_path):
    from PIL import Image

    from neurocomplex.cli.compare import load_stimuli

    pixels = np.random.default_rng(1).integers(0, 256, size=(4, 8, 8), dtype=np.uint8)
    folder = tmp_path / "images"
    folder.mkdir()
    for i, p in enumerate(pixels):
        Image.fromarray(p).save(folder / f"{i:02d}.png")
    np.save(tmp_path / "pixels.npy", pixels)
    from_images, from_array = load_stimuli(folder), load_stimuli(tmp_path / "pixels.npy")
    np.testing.assert_array_equal(from_images, from_array)  # the same numbers reach the network
    assert from_array.dtype == np.float32 and from_array.max() <= 1.0 and from_array.max() > 0.9
    np.save(tmp_path / "wide.npy", (pixels.astype(np.uint16) * 257))  # 16-bit pixels: / 65535
    np.testing.assert_allclose(load_stimuli(tmp_path / "wide.npy"), from_array, rtol=1e-6)
    floats = np.linspace(-2, 3, 4 * 64, dtype=np.float32).reshape(4, 8, 8)
    np.save(tmp_path / "floats.npy", floats)
    np.testing.assert_array_equal(load_stimuli(tmp_path / "floats.npy"), floats)  # floats as they are


def test_compare_loads_any_architecture_from_a_file(case, tmp_path, capsys):
    arch = tmp_path / "arch.py"
    arch.write_text(_ARCHITECTURE)
    namespace: dict = {}
    exec(_ARCHITECTURE, namespace)  # the same function, to save weights that fit it
    torch.manual_seed(0)
    net = namespace["small_cnn"]()
    torch.save(net.state_dict(), tmp_path / "cnn.pt")
    images = np.load(case["stimuli"]).reshape(-1, 8, 8)
    np.save(tmp_path / "images.npy", np.round(images * 255).astype(np.uint8))
    args = _compare(case, tmp_path / "out", "--architecture", f"{arch}:small_cnn", "--measures",
                    "participation_ratio", "--metrics", "cka", "--n-boot", "10", "--n-draws", "2")
    args[args.index(case["model"])] = str(tmp_path / "cnn.pt")
    args[args.index(case["stimuli"])] = str(tmp_path / "images.npy")
    assert main(args) == 0, capsys.readouterr().err
    sim = pd.read_csv(tmp_path / "out" / "similarity_cka.csv")
    assert list(dict.fromkeys(sim["layer"])) == ["1", "3", "output"]  # the CNN's ReLUs and its output
    prov = json.loads((tmp_path / "out" / "provenance.json").read_text())
    assert prov["architecture"] == f"{arch}:small_cnn" and prov["conditions"] == "stimulus_index"
    # the layers were recorded on the stimuli of each trial, scaled to [0, 1], channel-first
    layers = nc.torch.record(net, (np.round(images * 255).astype(np.float32) / 255)[:, None], progress=False)
    rec = nc.load(case["nwb"], bin_size=0.01).trial_responses("trials", window=(0.0, 0.5))
    area = rec.by_group()[sorted(rec.by_group())[0]]
    rows = rec.labels["stimulus_index"].to_numpy()
    direct = nc.cka(area, nc.Recording.from_array(layers["1"].data[rows]), n_boot=0)
    got = sim[(sim["area"] == sorted(rec.by_group())[0]) & (sim["layer"] == "1")]["value"].item()
    assert got == pytest.approx(direct.value, rel=1e-6)


@pytest.mark.parametrize(("spec", "fragment"), [
    ("no_colon.py", "must read FILE.py:FUNCTION"),
    ("absent.py:build", "does not exist"),
    ("neurocomplex.no_such_module:build", "importing neurocomplex.no_such_module failed"),
    ("neurocomplex.torch.models:no_such_function", "has no function 'no_such_function'"),
])
def test_bad_architecture_is_a_clean_error(case, tmp_path, capsys, spec, fragment):
    assert main(_compare(case, tmp_path / "out", "--architecture", spec)) == 2
    _clean_error(capsys, fragment)


def test_help_says_the_architecture_file_runs(capsys):
    assert main(["compare", "--help"]) == 0
    out = " ".join(capsys.readouterr().out.split())
    assert "this is code, and it runs" in out and "weights_only=True" in out
