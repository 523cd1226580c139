"""Bad and surprising inputs: each raises a named error whose message says what and where, or is
accepted with the documented meaning; on the command line each exits with code 2 and one line on
stderr, never a traceback."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pandas as pd
import pytest

import neurocomplex as nc
from neurocomplex.cli import main
from tests.conftest import DEMO_NWB

_REC = nc.Recording.from_array(np.arange(10.0).reshape(5, 2), sampling_rate=1.0)
_TRIALS = pd.DataFrame({"start_time": [0.0], "stop_time": [2.0]})


def _neo_with_unknown_option():
    neo = pytest.importorskip("neo")
    pq = pytest.importorskip("quantities")
    return nc.load([neo.SpikeTrain([0.1, 0.2] * pq.s, t_stop=1.0 * pq.s)], bin_sise=0.1)


def _record_wrong_shape():
    torch = pytest.importorskip("torch")
    model = torch.nn.Sequential(torch.nn.Linear(10, 5), torch.nn.ReLU())
    return nc.torch.record(model, torch.zeros(8, 7), layers=["1"])


def _record_wrong_channels():
    torch = pytest.importorskip("torch")
    model = torch.nn.Sequential(torch.nn.Conv2d(3, 4, 3), torch.nn.ReLU())
    return nc.torch.record(model, torch.zeros(8, 1, 6, 6), layers=["1"])


CASES = [
    # binning: sizes are checked before anything is allocated, and the message says how large
    ("tiny bin size", lambda: nc.Recording.from_spike_times([[0.0, 100.0]], bin_size=1e-12),
     nc.InvalidParameterError, r"100,000,000,000,001 bins x 1 units, a counts matrix of at least 90\.9 TiB"),
    ("bin size True", lambda: nc.Recording.from_spike_times([[0.1]], bin_size=True),
     nc.InvalidParameterError, "bin_size .seconds. must be a number, got True"),
    ("bin size text", lambda: nc.Recording.from_spike_times([[0.1]], bin_size="10ms"),
     nc.InvalidParameterError, "bin_size .seconds. must be a number, got '10ms'"),
    ("t_stop text", lambda: nc.Recording.from_spike_times([[0.1]], t_stop="end"),
     nc.InvalidParameterError, "t_stop must be a number"),
    # spike times that are not one array per unit
    ("number", lambda: nc.Recording.from_spike_times(3.0), nc.InvalidDataError,
     "spike_times must be a sequence of arrays, one per unit, got float"),
    ("None", lambda: nc.Recording.from_spike_times(None), nc.InvalidDataError,
     "spike_times must be a sequence of arrays, one per unit, got NoneType"),
    ("text", lambda: nc.Recording.from_spike_times("0.1 0.2"), nc.InvalidDataError, "got str"),
    ("flat list", lambda: nc.Recording.from_spike_times([0.1, 0.2, 0.3]), nc.InvalidDataError,
     r"one flat list of 3 numbers, not one array per unit; for a single unit pass \[times\]"),
    ("flat array", lambda: nc.Recording.from_spike_times(np.array([0.1, 0.2])), nc.InvalidDataError,
     "one flat array of 2 numbers"),
    ("text spikes", lambda: nc.Recording.from_spike_times([["a"]]), nc.InvalidDataError,
     r"spike_times\[0\] is not an array of numbers"),
    ("no units", lambda: nc.Recording.from_spike_times([]), nc.InvalidDataError, "at least one unit"),
    # arrays
    ("ragged rows", lambda: nc.Recording.from_array([[1, 2], [3]]), nc.InvalidDataError,
     "rows must all have the same number of units"),
    ("text array", lambda: nc.Recording.from_array([["a", "b"]]), nc.InvalidDataError, "must be numeric"),
    ("sampling rate True", lambda: nc.Recording.from_array(np.ones((3, 2)), sampling_rate=True),
     nc.InvalidParameterError, "sampling_rate .samples per second. must be a number, got True"),
    # operations
    ("binarize text", lambda: _REC.binarize("a"), nc.InvalidParameterError, "threshold must be a number, got 'a'"),
    ("binarize nan", lambda: _REC.binarize(float("nan")), nc.InvalidParameterError, "must be finite"),
    ("restrict unknown name", lambda: _REC.restrict("trials"), nc.InvalidParameterError,
     "has no interval table 'trials' .its tables: none.; pass a table name of rec.intervals"),
    ("restrict no stop", lambda: _REC.restrict(2.0), nc.InvalidParameterError,
     r"restrict\(2.0\) needs a stop time: restrict\(start, stop\) in seconds, or pass an interval table"),
    ("restrict list", lambda: _REC.restrict([0, 1]), nc.InvalidParameterError,
     "start must be a time in seconds, an interval table"),
    # loading
    ("load unknown option", lambda: nc.load(DEMO_NWB, foo=1), nc.InvalidParameterError,
     r"the nwb loader takes no option 'foo'; its options are \['bin_size'"),
    ("load misspelt option", lambda: nc.load(DEMO_NWB, bin_szie=0.1), nc.InvalidParameterError,
     "did you mean 'bin_size'"),
    ("load bin size True", lambda: nc.load(DEMO_NWB, bin_size=True), nc.InvalidParameterError,
     "bin_size must be a number, got True"),
    ("load obs option", lambda: nc.load(DEMO_NWB, respect_obs_intervals=1.5), nc.InvalidParameterError,
     "respect_obs_intervals must be None"),
    ("neo loader option", _neo_with_unknown_option, nc.InvalidParameterError,
     "the neo loader takes no option 'bin_sise'; did you mean 'bin_size'"),
    ("array loader option", lambda: nc.load(np.ones((3, 2)), rate=10), nc.InvalidParameterError,
     "the arrays loader takes no option 'rate'"),
    # the measure table
    ("misspelt n_boot", lambda: nc.measure(_REC, ["participation_ratio"], n_bot=0), nc.InvalidParameterError,
     "takes the keyword 'n_bot'; did you mean 'n_boot'"),
    ("no measures", lambda: nc.measure(_REC, []), nc.InvalidParameterError, "no measure requested"),
    # networks
    ("record wrong shape", _record_wrong_shape, nc.InvalidDataError,
     r"inputs of shape \(\d+, 7\) .batch of \d+. failed in layer '0' \(Linear\), which received shape \(\d+, 7\) "
     r"and expects \(batch, \.\.\., 10\)"),
    ("record wrong channels", _record_wrong_channels, nc.InvalidDataError,
     r"failed in layer '0' \(Conv2d\), which received shape \(\d+, 1, 6, 6\) and expects \(batch, 3, \.\.\.\)"),
]


@pytest.mark.parametrize(("make", "error", "fragment"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_bad_input_raises_named_error(make, error, fragment):
    with pytest.raises(error, match=fragment) as info:
        make()
    assert isinstance(info.value, nc.NeurocomplexError)


# --------------------------------------------------------------------------- accepted, with the documented meaning
def test_negative_spike_time_is_in_the_default_window():
    rec = nc.Recording.from_spike_times([[-0.004, 0.0, 0.013]], bin_size=0.01)
    assert rec.data.sum() == 3 and rec.times[0] == -0.01


def test_restrict_by_table_name():
    rec = _REC.replace(intervals={"trials": _TRIALS})
    np.testing.assert_array_equal(rec.restrict("trials").times, [0.0, 1.0])


def test_numpy_scalars_are_numbers():
    rec = nc.Recording.from_spike_times([[0.1, 0.25]], bin_size=np.float32(0.1), t_start=np.int64(0))
    assert rec.data.ravel().tolist() == [1, 0, 1]
    assert _REC.binarize(np.float64(4.5)).data.sum() == 5


# --------------------------------------------------------------------------- command line
CLI_CASES = [
    (["analyze", str(DEMO_NWB), "--n-boot", "-3"], "argument --n-boot: -3 is negative"),
    (["analyze", str(DEMO_NWB), "--bin-size", "1e-9"], "TiB, more than this machine's memory"),
    (["analyze", str(DEMO_NWB), "--bin-size", "-0.1"], "argument --bin-size: -0.1 must be a positive number"),
    (["analyze", str(DEMO_NWB), "--measures"], "expected at least one argument"),
    (["analyze", str(DEMO_NWB), "--measures", "no_such"], "no estimator called 'no_such'"),
    (["analyze", str(DEMO_NWB), "--out", str(DEMO_NWB)], "is a file, not a folder"),
    (["analyze", "missing.nwb"], "NWB file not found"),
]


@pytest.mark.parametrize(("argv", "fragment"), CLI_CASES, ids=[" ".join(c[0][2:] or c[0][1:]) for c in CLI_CASES])
def test_cli_bad_input_exits_2_without_traceback(argv, fragment, capsys):
    assert main(argv) == 2
    captured = capsys.readouterr()
    assert fragment in captured.err
    assert "Traceback" not in captured.err and captured.out == ""


def test_cli_exit_code_in_a_real_process():
    done = subprocess.run([sys.executable, "-m", "neurocomplex.cli", "analyze", str(DEMO_NWB), "--n-boot", "-3"],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 2 and "-3 is negative" in done.stderr and "Traceback" not in done.stderr
