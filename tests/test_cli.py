"""The `neurocomplex` command: info on NWB files, help, version and error handling."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

import neurocomplex as nc
from neurocomplex.cli import main
from tests.io.test_nwb import make_spike_times, write_units_file


@pytest.fixture(scope="module")
def units_path(tmp_path_factory):
    return write_units_file(tmp_path_factory.mktemp("cli") / "units.nwb", make_spike_times())


def test_info_prints_units_duration_tables(units_path, capsys):
    assert main(["info", str(units_path), "--bin-size", "0.05"]) == 0
    out = capsys.readouterr().out
    spikes = make_spike_times()
    first = min(st.min() for st in spikes if st.size)
    last = max(st.max() for st in spikes if st.size)
    assert f"units: 5 units, {sum(st.size for st in spikes)} spikes" in out
    assert f"duration {last - first:.6g} s" in out
    assert "trials: 3 rows; columns: start_time, stop_time, condition" in out
    assert "sleep: 1 rows" in out
    assert "groups (electrodes/location): CA1: 2, V1: 3" in out
    n_samples = nc.load(units_path, bin_size=0.05).n_samples
    assert f"bin_size=0.05) -> Recording(kind='spike_counts', n_samples={n_samples}, n_units=5" in out


def test_info_real_file(mtl_nwb_path, capsys):
    assert main(["info", str(mtl_nwb_path)]) == 0
    out = capsys.readouterr().out
    assert "35 units, 214278 spikes" in out
    assert "encoding_table: 90 rows" in out


@pytest.mark.parametrize(
    ("argv", "fragment"),
    [
        (["info", "missing.nwb"], "neurocomplex: error: NWB file not found: 'missing.nwb'"),
        (["info", "data.csv"], "neurocomplex: error: cannot load 'data.csv'"),
    ],
)
def test_errors_go_to_stderr_with_code_2(argv, fragment, capsys):
    assert main(argv) == 2
    captured = capsys.readouterr()
    assert fragment in captured.err
    assert "Traceback" not in captured.err and captured.out == ""


def test_bad_bin_size_and_usage_errors(units_path, capsys):
    assert main(["info", str(units_path), "--bin-size", "-1"]) == 2
    assert "bin_size=-1.0" in capsys.readouterr().err
    assert main([]) == 2  # a command is required
    assert main(["frobnicate"]) == 2
    assert "invalid choice" in capsys.readouterr().err


def test_help_and_version(capsys):
    assert main(["--help"]) == 0
    assert "info" in capsys.readouterr().out
    assert main(["info", "--help"]) == 0
    assert "--bin-size" in capsys.readouterr().out
    assert main(["--version"]) == 0
    assert capsys.readouterr().out.strip() == f"neurocomplex {nc.__version__}"


def test_help_in_subprocess_and_light_import():
    done = subprocess.run([sys.executable, "-m", "neurocomplex.cli", "--help"], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0 and "usage: neurocomplex" in done.stdout
    code = "import sys, neurocomplex.cli; print(sorted(m for m in ('pynwb', 'h5py', 'torch') if m in sys.modules))"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert done.stdout.strip() == "[]"


def test_analyze_writes_the_table_and_matches_the_api(tmp_path, capsys):
    import pandas as pd

    from tests.conftest import DEMO_NWB

    code = main(["analyze", str(DEMO_NWB), "--bin-size", "0.5", "--measures", "effective_dimension",
                 "participation_ratio", "--n-boot", "0", "--out", str(tmp_path)])
    assert code == 0
    table = pd.read_csv(tmp_path / "demo_recording_measures.csv")
    assert set(table.group) == {"area_A", "area_B", "all"}
    ed = table[table.measure == "effective_dimension"].set_index("group").value
    rec = nc.load(DEMO_NWB, bin_size=0.5)
    assert ed["area_A"] == pytest.approx(nc.effective_dimension(rec.select(groups="area_A"), n_boot=0).value)
    # the generator drives area_B with 10 latent variables and area_A with 2
    assert ed["area_B"] > 1.5 * ed["area_A"]
    out = capsys.readouterr().out
    assert "effective_dimension" in out and "area_B" in out


def test_analyze_unknown_measure_is_a_clean_error(capsys):
    from tests.conftest import DEMO_NWB

    assert main(["analyze", str(DEMO_NWB), "--measures", "no_such_measure"]) == 2
    assert "no estimator called 'no_such_measure'" in capsys.readouterr().err


def test_demo_runs_on_bundled_data(tmp_path, capsys):
    assert main(["demo", "--n-boot", "0", "--out", str(tmp_path)]) == 0
    assert (tmp_path / "demo_recording_measures.csv").exists()
    assert (tmp_path / "demo_network_measures.csv").exists()
    out = capsys.readouterr().out
    assert "Known answer" in out and "relu1" in out


def _no_traceback(captured) -> None:
    assert "Traceback" not in captured.err and captured.out == ""  # failed before printing any table


@pytest.mark.parametrize(
    ("extra", "fragment"),
    [
        (["--n-boot", "-3"], "argument --n-boot: -3 is negative"),
        (["--n-boot", "many"], "argument --n-boot: 'many' is not an integer"),
        (["--bin-size", "0"], "argument --bin-size: 0 must be a positive number"),
        (["--bin-size", "1e-9"], "a counts matrix of at least"),  # checked before allocating it
    ],
)
def test_analyze_bad_options_exit_2(units_path, extra, fragment, capsys):
    assert main(["analyze", str(units_path), *extra]) == 2
    captured = capsys.readouterr()
    assert fragment in captured.err
    _no_traceback(captured)


def test_analyze_out_checked_before_computing(units_path, tmp_path, capsys):
    a_file = tmp_path / "table.csv"
    a_file.write_text("x\n")
    assert main(["analyze", str(units_path), "--out", str(a_file)]) == 2
    captured = capsys.readouterr()
    assert "is a file, not a folder" in captured.err
    _no_traceback(captured)
    assert main(["analyze", str(units_path), "--out", str(a_file / "sub")]) == 2
    captured = capsys.readouterr()
    assert "is a file, so the folder cannot be created" in captured.err
    _no_traceback(captured)
    assert a_file.read_text() == "x\n"


def test_analyze_out_unwritable(units_path, tmp_path, capsys):
    import os

    locked = tmp_path / "locked"
    locked.mkdir()
    locked.chmod(0o500)
    try:
        if os.access(locked, os.W_OK):  # root ignores folder modes; /proc/1 refuses even root
            locked = Path("/proc/1")
            if not locked.is_dir() or os.access(locked, os.W_OK):
                pytest.skip("no folder here refuses writes to this user")
        assert main(["analyze", str(units_path), "--out", str(locked / "new")]) == 2
        captured = capsys.readouterr()
        assert "is not writable" in captured.err
        _no_traceback(captured)
    finally:
        (tmp_path / "locked").chmod(0o700)


def test_analyze_defaults_say_what_runs_with_an_interval_for_every_measure(capsys):
    from tests.conftest import DEMO_NWB

    assert main(["analyze", str(DEMO_NWB)]) == 0
    captured = capsys.readouterr()
    assert "[6/6] pattern_complexity" in captured.err and "slowest:" in captured.err
    lines = [ln.split() for ln in captured.out.splitlines() if "demo_recording" in ln and "pattern_" in ln]
    complexity = [ln for ln in lines if ln[2] == "pattern_complexity"]
    entropy = [ln for ln in lines if ln[2] == "pattern_entropy"]
    # pattern_complexity's replicates reuse the data's merge, so it keeps the default 100 replicates too
    assert len(complexity) == 3 and all(ln[4] != "NaN" and float(ln[4]) < float(ln[5]) for ln in complexity)
    assert len(entropy) == 3 and all(ln[4] != "NaN" for ln in entropy)


def test_analyze_many_rerun_with_other_options_computes_what_was_asked(tmp_path, capsys):
    import pandas as pd

    from tests._sessions import write_session

    (tmp_path / "data").mkdir()
    for i in range(2):
        write_session(tmp_path / "data" / f"s{i}.nwb", n_units=6, duration=30.0, rate=8.0, seed=i)
    out = tmp_path / "out"
    common = ["analyze", str(tmp_path / "data"), "--workers", "1", "--n-boot", "0", "--out", str(out)]
    assert main([*common, "--measures", "activation_ratio", "--bin-size", "0.02"]) == 0
    assert main([*common, "--measures", "mean_rate", "--bin-size", "0.05"]) == 0
    capsys.readouterr()
    table = pd.read_csv(out / "all_sessions.csv", keep_default_na=False, na_values=[""])
    assert table.measure.unique().tolist() == ["mean_rate"] and table.bin_size_s.eq(0.05).all()
    assert table.recording.unique().tolist() == ["s0.nwb", "s1.nwb"] and table.unit.eq("Hz").all()
    rec = nc.load(tmp_path / "data" / "s0.nwb", bin_size=0.05)
    first = table[(table.session == "s0") & (table.group == "all")].value.iloc[0]
    assert first == pytest.approx(nc.mean_rate(rec).value, rel=1e-12)
    session = pd.read_csv(out / "s1.csv", keep_default_na=False, na_values=[""])
    assert session.measure.unique().tolist() == ["mean_rate"]


def test_analyze_csv_names_the_file_not_its_folder(tmp_path, capsys):
    import pandas as pd

    from tests.conftest import DEMO_NWB

    assert main(["analyze", str(DEMO_NWB), "--measures", "activation_ratio", "--n-boot", "0", "--out",
                 str(tmp_path)]) == 0
    capsys.readouterr()
    table = pd.read_csv(tmp_path / "demo_recording_measures.csv")
    assert table.file.unique().tolist() == ["demo_recording.nwb"]
    assert str(DEMO_NWB.parent) not in (tmp_path / "demo_recording_measures.csv").read_text()
    assert [p.name for p in tmp_path.iterdir()] == ["demo_recording_measures.csv"]  # no temporary file left
