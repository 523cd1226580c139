"""The `neurocomplex` command: info on NWB files, help, version and error handling."""

from __future__ import annotations

import subprocess
import sys

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
