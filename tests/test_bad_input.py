"""Bad and surprising inputs: each raises a named error whose message says what and where, or is
accepted with the documented meaning; on the command line each exits with code 2 and one line on
stderr, never a traceback."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import neurocomplex as nc
from neurocomplex._atomic import atomic_open, write_text
from neurocomplex._memory import ENV_VAR, check_allocation, memory_limit
from neurocomplex.batch import measure_stream
from neurocomplex.cli import main
from neurocomplex.cli._common import write_csv
from neurocomplex.errors import MemoryLimitError, OutputError
from neurocomplex.io.results import read_results, write_results
from neurocomplex.io.stream import check_stream_memory, plan_stream, stream_blocks
from neurocomplex.report import make_provenance, write_report
from tests._sessions import write_series_only, write_session
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


# =========================================================================== files, results, reports, batches
# Inputs written once per module: each a small NWB file with one thing wrong (or surprising).
def _units_file(path: Path, trains: list, locations: list | None = None) -> Path:
    import pynwb
    from hdmf.common import ElementIdentifiers, VectorData, VectorIndex
    from pynwb.misc import Units

    flat = np.concatenate([np.asarray(t, dtype=float) for t in trains]) if trains else np.zeros(0)
    spikes = VectorData(name="spike_times", description="spike times (s)", data=flat)
    columns = [spikes, VectorIndex(name="spike_times_index", data=np.cumsum([len(t) for t in trains]).astype(np.int64),
                                   target=spikes)]
    if locations is not None:
        columns.append(VectorData(name="location", description="brain area", data=list(locations)))
    nwb = pynwb.NWBFile(session_description="bad input", identifier=path.stem,
                        session_start_time=datetime(2024, 1, 1, tzinfo=UTC))
    nwb.units = Units(name="units", description="units", id=ElementIdentifiers(name="id", data=np.arange(len(trains))),
                      columns=columns)
    with pynwb.NWBHDF5IO(str(path), "w") as io:
        io.write(nwb)
    return path


def _series_file(path: Path, data: np.ndarray, **scaling: object) -> Path:
    """An ElectricalSeries on electrodes in two areas, with conversion / channel_conversion / offset."""
    import pynwb
    from pynwb.ecephys import ElectricalSeries

    nwb = pynwb.NWBFile(session_description="series", identifier=path.stem,
                        session_start_time=datetime(2024, 1, 1, tzinfo=UTC))
    device = nwb.create_device("probe")
    group = nwb.create_electrode_group("shank", description="shank", location="CA1", device=device)
    for i in range(data.shape[1]):
        nwb.add_electrode(group=group, location="CA1" if i < data.shape[1] // 2 else "V1")
    region = nwb.create_electrode_table_region(list(range(data.shape[1])), "all electrodes")
    nwb.add_acquisition(ElectricalSeries(name="es", data=data, electrodes=region, rate=100.0, **scaling))
    with pynwb.NWBHDF5IO(str(path), "w") as io:
        io.write(nwb)
    return path


def _million_units(path: Path) -> Path:
    """10**6 units of one spike each: a covariance of 7.28 TiB."""
    import pynwb
    from hdmf.common import ElementIdentifiers, VectorData, VectorIndex
    from pynwb.misc import Units

    n = 10**6
    spikes = VectorData(name="spike_times", description="spike times (s)", data=np.arange(n) * 1e-4)
    nwb = pynwb.NWBFile(session_description="wide", identifier="wide", session_start_time=datetime(2024, 1, 1, tzinfo=UTC))
    nwb.units = Units(name="units", description="units", id=ElementIdentifiers(name="id", data=np.arange(n)),
                      columns=[spikes, VectorIndex(name="spike_times_index", data=np.arange(1, n + 1), target=spikes)])
    with pynwb.NWBHDF5IO(str(path), "w") as io:
        io.write(nwb)
    return path


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("bad_files")
    out = {"root": root}
    out["good"] = root / "good.nwb"
    write_session(out["good"], n_units=6, duration=40.0, rate=8.0, seed=1)
    out["good2"] = root / "good2.nwb"
    write_session(out["good2"], n_units=6, duration=40.0, rate=8.0, seed=2)
    out["far"] = _units_file(root / "far.nwb", [[0.5, 1.0, 1e12], [0.7]])  # a last spike at 1e12 s
    out["million"] = _million_units(root / "million.nwb")
    out["nan"] = _units_file(root / "nan.nwb", [[0.1, np.nan], [0.2]])
    out["unsorted"] = _units_file(root / "unsorted.nwb", [[0.1, 0.5, 0.3, 0.9] * 3, [0.2]])
    out["no_units"] = _units_file(root / "no_units.nwb", [])
    out["series_only"] = root / "series_only.nwb"
    write_series_only(out["series_only"])
    data = np.random.default_rng(0).integers(-50, 200, size=(400, 4)).astype(np.int16)
    out["series"] = _series_file(root / "series.nwb", data, conversion=0.5, offset=-3.0,
                                 channel_conversion=[1.0, -2.0, 0.5, 3.0])
    out["bad_channels"] = _series_file(root / "bad_channels.nwb", data, channel_conversion=[1.0, 2.0])
    out["text"] = root / "text.nwb"
    out["text"].write_text("not an NWB file\n")
    out["truncated"] = root / "truncated.nwb"
    whole = out["good"].read_bytes()
    out["truncated"].write_bytes(whole[: len(whole) // 2])
    out["empty"] = root / "empty.nwb"
    out["empty"].write_bytes(b"")
    out["regular"] = root / "regular.txt"
    out["regular"].write_text("a regular file\n")
    out["results"] = root / "results.nwb"
    write_results(_TABLE, out["results"])
    return out


_TABLE = pd.DataFrame({"session": ["s1"], "group": ["all"], "measure": ["effective_dimension"], "value": [2.5]})
_PNG = b"\x89PNG\r\n\x1a\n"


class _Ctx:
    """What a case may use: the generated files and a fresh folder of its own."""

    def __init__(self, files: dict[str, Path], tmp: Path) -> None:
        self.f, self.tmp = files, tmp

    def __getattr__(self, name: str) -> Path:
        return self.f[name]

    def s(self, name: str) -> str:
        return str(self.f[name])


def _stream(c: _Ctx, name: str = "good", measures: object = ("activation_ratio",), **kw: object) -> object:
    return measure_stream(c.f[name], measures, **{"n_boot": 0, **kw})


def _many(c: _Ctx, paths: object = None, measures: object = ("activation_ratio",), **kw: object) -> object:
    return nc.measure_many(c.s("good") if paths is None else paths, measures, progress=False, **kw)


def _report(c: _Ctx, folder: object = None, tables: object = None, figures: object = None, **kw: object) -> object:
    tables = {"measures": _TABLE} if tables is None else tables
    return write_report(c.tmp / "report" if folder is None else folder, tables, figures or {}, make_provenance(seed=0),
                        **kw)


def _foreign_then_report(c: _Ctx) -> object:
    (c.tmp / "report").mkdir()
    (c.tmp / "report" / "notes.txt").write_text("mine")
    return _report(c, overwrite=False)


def _hard_link_to_source(c: _Ctx) -> object:
    src = c.tmp / "session.nwb"
    src.write_bytes(c.good.read_bytes())
    os.link(src, c.tmp / "linked.nwb")
    return write_results(_TABLE, c.tmp / "linked.nwb", source=src, overwrite=True)


def _exists(c: _Ctx, writer: str) -> object:
    target = c.tmp / "exists.nwb"
    target.write_bytes(b"")
    if writer == "results":
        return write_results(_TABLE, target)
    return nc.write_nwb(_REC, target)


def _env_limit(value: str) -> object:
    old = os.environ.get(ENV_VAR)
    os.environ[ENV_VAR] = value
    try:
        return memory_limit()
    finally:
        if old is None:
            del os.environ[ENV_VAR]
        else:
            os.environ[ENV_VAR] = old


_IPE, _MLE, _OE = nc.InvalidParameterError, MemoryLimitError, OutputError
FILE_CASES = [
    # streaming one session: file faults, sizes before work, parameters
    ("stream missing file", lambda c: measure_stream(c.tmp / "nope.nwb", "activation_ratio"), nc.MissingFileError,
     "not found"),
    ("stream text file", lambda c: _stream(c, "text"), nc.CorruptFileError, "not an HDF5 file"),
    ("stream 0-byte file", lambda c: _stream(c, "empty"), nc.CorruptFileError, "empty|not an HDF5 file"),
    ("stream truncated file", lambda c: _stream(c, "truncated"), nc.CorruptFileError, "truncated"),
    ("stream no Units table", lambda c: _stream(c, "series_only"), nc.MissingTableError, "no Units table"),
    ("stream no such series", lambda c: _stream(c, "good", series="acquisition/nope"), nc.MissingTableError,
     "has no time series at 'acquisition/nope'"),
    ("stream last spike at 1e12 s", lambda c: _stream(c, "far", bin_size=0.001), _IPE,
     r"999,999,999,999,501 bins x 2 units .* more than max_cells=100,000,000,000"),
    ("stream last spike at 1e12 s, 10 ms", lambda c: _stream(c, "far", bin_size=0.01), _IPE, "more than max_cells"),
    ("stream 10^6 units covariance", lambda c: _stream(c, "million", ["effective_dimension"], bin_size=1.0), _MLE,
     r"covariance of 1,000,000 units .*7\.28 TiB"),
    ("stream 10^6 units participation", lambda c: _stream(c, "million", ["participation_ratio"], bin_size=1.0), _MLE,
     "more than the memory limit"),
    ("stream NaN spike", lambda c: _stream(c, "nan"), nc.InvalidDataError, "NaN or inf"),
    ("stream unsorted spikes", lambda c: _stream(c, "unsorted", window=0.2), nc.InvalidDataError, "not sorted"),
    ("stream no units", lambda c: _stream(c, "no_units"), nc.InvalidDataError, "no units"),
    ("stream channel_conversion shape", lambda c: _stream(c, "bad_channels", series="acquisition/es"),
     nc.CorruptFileError, r"channel_conversion has shape \(2,\) but the data have 4 channels"),
    ("stream series window outside", lambda c: _stream(c, "series", series="acquisition/es", t_start=100.0),
     _IPE, "no sample of series"),
    ("stream window 0", lambda c: _stream(c, window=0), _IPE, "window"),
    ("stream window negative", lambda c: _stream(c, window=-1.0), _IPE, "window"),
    ("stream window text", lambda c: _stream(c, window="1s"), _IPE, "window"),
    ("stream n_blocks 0", lambda c: _stream(c, n_blocks=0), _IPE, "n_blocks"),
    ("stream n_blocks float", lambda c: _stream(c, n_blocks=2.5), _IPE, "n_blocks"),
    ("stream t_stop before t_start", lambda c: _stream(c, t_start=5.0, t_stop=1.0), _IPE, "t_stop"),
    ("stream max_cells 0", lambda c: _stream(c, max_cells=0), _IPE, "max_cells"),
    ("stream max_cells small", lambda c: _stream(c, max_cells=1000), _IPE, "more than max_cells=1,000"),
    ("stream by area", lambda c: _stream(c, by="area"), _IPE, "by"),
    ("stream memory_limit negative", lambda c: _stream(c, memory_limit=-1), _IPE, "memory_limit"),
    ("stream two thresholds", lambda c: _stream(c, measures=["activation_ratio", "pattern_entropy"],
                                                params={"activation_ratio": {"threshold": 1.0}}),
     _IPE, "one threshold"),
    ("stream misspelt n_boot", lambda c: measure_stream(c.good, ["activation_ratio"], n_bot=0), _IPE,
     "takes the keyword 'n_bot'; did you mean 'n_boot'"),
    ("stream misspelt own param", lambda c: _stream(c, params={"activation_ratio": {"treshold": 1.0}}), _IPE,
     "takes no keyword 'treshold'; did you mean 'threshold'"),
    ("stream blocks out of range", lambda c: stream_blocks(plan_stream(c.good, 0.1), [99]), _IPE, "blocks must lie"),
    ("stream blocks not consecutive", lambda c: stream_blocks(plan_stream(c.good, 0.1, n_blocks=4), [0, 2]), _IPE,
     "consecutive"),
    ("stream kinds unknown", lambda c: stream_blocks(plan_stream(c.good, 0.1), None, ["spectrum"]), _IPE, "kinds"),
    ("stream threshold text", lambda c: stream_blocks(plan_stream(c.good, 0.1), None, ["activity"], "high"), _IPE,
     "threshold"),
    ("stream memory of 10^6 units", lambda c: check_stream_memory(plan_stream(c.million, 1.0), ["covariance"]), _MLE,
     "7.28 TiB"),
]
for _value, _why in [(0, "must be"), (-0.01, "must be"), (float("nan"), "finite|must be"), (float("inf"), "finite|must be"),
                     ("10ms", "must be a number"), (True, "must be a number"), (None, "must be a number")]:
    FILE_CASES.append((f"stream bin_size {_value!r}", lambda c, v=_value: _stream(c, bin_size=v), _IPE, _why))
    FILE_CASES.append((f"many bin_size {_value!r}", lambda c, v=_value: _many(c, bin_size=v), _IPE, _why))
for _label, _measures, _why in [("empty", [], "measures is empty"), ("number", 3, "a name or a list of names"),
                                ("list of numbers", [3], r"must be names \(str\)"),
                                ("mapping", {"effective_dimension": 1}, "a name or a list of names"),
                                ("unknown", ["no_such"], "no_such"), ("bytes", b"effective_dimension", "a name or a list"),
                                ("pair", ["cka"], "does not take one Recording")]:
    FILE_CASES.append((f"stream measures {_label}", lambda c, m=_measures: _stream(c, measures=m), _IPE, _why))
    FILE_CASES.append((f"many measures {_label}", lambda c, m=_measures: _many(c, measures=m), _IPE, _why))
for _label, _params, _why in [("list", [1], "params must map"), ("number value", {"activation_ratio": 3}, "params must map"),
                              ("not requested", {"pattern_entropy": {}}, "not requested")]:
    FILE_CASES.append((f"stream params {_label}", lambda c, p=_params: _stream(c, params=p), _IPE, _why))
    FILE_CASES.append((f"many params {_label}", lambda c, p=_params: _many(c, params=p), _IPE, _why))
FILE_CASES += [
    # many sessions: everything is checked before a cluster starts
    ("many no paths", lambda c: _many(c, []), _IPE, "no files given"),
    ("many path number", lambda c: _many(c, 3), _IPE, "paths must be"),
    ("many list with number", lambda c: _many(c, [3]), _IPE, "paths must be str"),
    ("many bytes path", lambda c: _many(c, b"x.nwb"), _IPE, "paths must be"),
    ("many empty path", lambda c: _many(c, [""]), _IPE, "is not a path"),
    ("many NUL in path", lambda c: _many(c, ["a\x00.nwb"]), _IPE, "is not a path"),
    ("many glob matches nothing", lambda c: _many(c, str(c.tmp / "*.nwb")), _IPE, r"matches no \.nwb file"),
    ("many empty folder", lambda c: _many(c, str(c.tmp)), _IPE, r"matches no \.nwb file"),
    ("many out is a file", lambda c: _many(c, out=c.regular), _IPE, "is a file, not a folder"),
    ("many out below a file", lambda c: _many(c, out=c.regular / "out"), _OE, "is a regular file, not a folder"),
    ("many out number", lambda c: _many(c, out=3), _IPE, "out must be a folder path"),
    ("many workers 0", lambda c: _many(c, workers=0), _IPE, "workers"),
    ("many workers negative", lambda c: _many(c, workers=-2), _IPE, "workers"),
    ("many workers text", lambda c: _many(c, workers="2"), _IPE, "workers"),
    ("many workers float", lambda c: _many(c, workers=1.5), _IPE, "workers"),
    ("many task_cells 0", lambda c: _many(c, task_cells=0), _IPE, "task_cells"),
    ("many n_blocks 0", lambda c: _many(c, n_blocks=0), _IPE, "n_blocks"),
    ("many max_cells 0", lambda c: _many(c, max_cells=0), _IPE, "max_cells"),
    ("many memory_limit text", lambda c: _many(c, memory_limit="1GB"), _IPE, "memory_limit"),
    ("many by text", lambda c: _many(c, by="areas"), _IPE, "by"),
    ("many misspelt seed", lambda c: _many(c, sed=1), _IPE, "did you mean 'seed'"),
    # write_results: the table, the path, the parameters, the source
    ("results list", lambda c: write_results([1, 2], c.tmp / "r.nwb"), _IPE, "takes a pandas DataFrame"),
    ("results dict", lambda c: write_results({"a": [1]}, c.tmp / "r.nwb"), _IPE, "takes a pandas DataFrame"),
    ("results None", lambda c: write_results(None, c.tmp / "r.nwb"), _IPE, "takes a pandas DataFrame"),
    ("results array", lambda c: write_results(np.ones((2, 2)), c.tmp / "r.nwb"), _IPE, "takes a pandas DataFrame"),
    ("results Series", lambda c: write_results(_TABLE["value"], c.tmp / "r.nwb"), _IPE, "takes a pandas DataFrame"),
    ("results no rows", lambda c: write_results(_TABLE.iloc[:0], c.tmp / "r.nwb"), _IPE, "is empty"),
    ("results no columns", lambda c: write_results(pd.DataFrame(index=[0]), c.tmp / "r.nwb"), _IPE, "is empty"),
    ("results number column", lambda c: write_results(pd.DataFrame({0: [1.0]}), c.tmp / "r.nwb"), _IPE,
     "column names must be"),
    ("results empty column name", lambda c: write_results(pd.DataFrame({"": [1.0]}), c.tmp / "r.nwb"), _IPE,
     "column names must be"),
    ("results slash column", lambda c: write_results(pd.DataFrame({"a/b": [1.0]}), c.tmp / "r.nwb"), _IPE,
     "without '/'"),
    ("results duplicate columns", lambda c: write_results(pd.DataFrame([[1, 2]], columns=["a", "a"]), c.tmp / "r.nwb"),
     _IPE, "distinct"),
    ("results .h5 path", lambda c: write_results(_TABLE, c.tmp / "r.h5"), _IPE, r"writes \.nwb files"),
    ("results .csv path", lambda c: write_results(_TABLE, c.tmp / "r.csv"), _IPE, r"writes \.nwb files"),
    ("results no suffix", lambda c: write_results(_TABLE, c.tmp / "r"), _IPE, r"writes \.nwb files"),
    ("results path number", lambda c: write_results(_TABLE, 3), _IPE, "path must be a file path"),
    ("results path None", lambda c: write_results(_TABLE, None), _IPE, "path must be a file path"),
    ("results path bytes", lambda c: write_results(_TABLE, b"r.nwb"), _IPE, "path must be a file path"),
    ("results path is a folder", lambda c: write_results(_TABLE, _mkdir(c.tmp / "d.nwb")), _IPE, "is a directory"),
    ("results path exists", lambda c: _exists(c, "results"), _IPE, "already exists; pass overwrite=True"),
    ("results path below a file", lambda c: write_results(_TABLE, c.regular / "r.nwb"), _OE,
     "is a regular file, not a folder"),
    ("results parameters list", lambda c: write_results(_TABLE, c.tmp / "r.nwb", parameters=[1, 2]), _IPE,
     r"parameters must be a mapping .* got list \[1, 2\]"),
    ("results parameters text", lambda c: write_results(_TABLE, c.tmp / "r.nwb", parameters="bin=0.01"), _IPE,
     "parameters must be a mapping"),
    ("results parameters number", lambda c: write_results(_TABLE, c.tmp / "r.nwb", parameters=3), _IPE,
     "parameters must be a mapping"),
    ("results parameters tuple", lambda c: write_results(_TABLE, c.tmp / "r.nwb", parameters=(("a", 1),)), _IPE,
     "parameters must be a mapping"),
    ("results attrs parameters list", lambda c: write_results(_TABLE_BAD_ATTRS, c.tmp / "r.nwb"), _IPE,
     r"table.attrs\['parameters'\] must be a mapping"),
    ("results description number", lambda c: write_results(_TABLE, c.tmp / "r.nwb", session_description=3), _IPE,
     "session_description"),
    ("results description empty", lambda c: write_results(_TABLE, c.tmp / "r.nwb", session_description=" "), _IPE,
     "session_description"),
    ("results subject number", lambda c: write_results(_TABLE, c.tmp / "r.nwb", subject=3), _IPE, "subject must be"),
    ("results subject field", lambda c: write_results(_TABLE, c.tmp / "r.nwb", subject={"nope": 1}), _IPE, "subject"),
    ("results source missing", lambda c: write_results(_TABLE, c.tmp / "r.nwb", source=c.tmp / "no.nwb"),
     nc.MissingFileError, "not found"),
    ("results source text", lambda c: write_results(_TABLE, c.tmp / "r.nwb", source=c.text), nc.CorruptFileError,
     "not an HDF5 file"),
    ("results source truncated", lambda c: write_results(_TABLE, c.tmp / "r.nwb", source=c.truncated),
     nc.CorruptFileError, "truncated"),
    ("results source is path", lambda c: write_results(_TABLE, c.good, source=c.good, overwrite=True), _IPE,
     "the same file"),
    ("results hard link to source", _hard_link_to_source, _IPE, "hard link"),
    # read_results
    ("read results missing", lambda c: read_results(c.tmp / "no.nwb"), nc.MissingFileError, "not found"),
    ("read results text", lambda c: read_results(c.text), nc.CorruptFileError, "not an HDF5 file"),
    ("read results truncated", lambda c: read_results(c.truncated), nc.CorruptFileError, "truncated"),
    ("read results session file", lambda c: read_results(c.good), nc.MissingTableError, "has no table 'measures'"),
    ("read results other table", lambda c: read_results(c.results, "nope"), nc.MissingTableError,
     r"tables there: \['measure_parameters', 'measures'\]"),
    # write_nwb
    ("nwb not a Recording", lambda c: nc.write_nwb(np.ones((3, 2)), c.tmp / "a.nwb"), _IPE, "Recording"),
    ("nwb None", lambda c: nc.write_nwb(None, c.tmp / "a.nwb"), _IPE, "Recording"),
    ("nwb .txt", lambda c: nc.write_nwb(_REC, c.tmp / "a.txt"), _IPE, r"writes \.nwb files"),
    ("nwb path number", lambda c: nc.write_nwb(_REC, 3), _IPE, "path must be a file path"),
    ("nwb exists", lambda c: _exists(c, "nwb"), _IPE, "already exists"),
    ("nwb below a file", lambda c: nc.write_nwb(_REC, c.regular / "a.nwb"), _OE, "is a regular file, not a folder"),
    ("nwb folder", lambda c: nc.write_nwb(_REC, _mkdir(c.tmp / "d.nwb"), overwrite=True), _IPE, "is a directory"),
    # write_report
    ("report folder number", lambda c: _report(c, folder=3), _IPE, "folder must be a folder path"),
    ("report folder is a file", lambda c: _report(c, folder=c.regular), _IPE, "is a file, not a folder"),
    ("report folder below a file", lambda c: _report(c, folder=c.regular / "rep"), _OE, "is a regular file"),
    ("report nothing", lambda c: _report(c, tables={}), _IPE, "at least one table or figure"),
    ("report table list", lambda c: _report(c, tables={"t": [1, 2]}), _IPE, "must be a pandas DataFrame"),
    ("report figure bytes", lambda c: _report(c, figures={"f": b"GIF89a"}), _IPE, "must be a PNG"),
    ("report figure object", lambda c: _report(c, figures={"f": 3}), _IPE, "must be matplotlib Figures"),
    ("report same file names", lambda c: _report(c, tables={"a b": _TABLE, "a_b": _TABLE}), _IPE,
     "map to the same file"),
    ("report empty file name", lambda c: _report(c, tables={"///": _TABLE}), _IPE, "empty file name"),
    ("report provenance clash", lambda c: write_report(c.tmp / "r", {"t": _TABLE.assign(seed=5)}, {},
                                                       make_provenance(seed=0)), _IPE, "clash"),
    ("report overwrite text", lambda c: _report(c, overwrite="yes"), _IPE, "overwrite must be True or False"),
    ("report foreign files", _foreign_then_report, _IPE, r"holds files that no earlier report wrote \(notes.txt\)"),
    # memory limit and atomic writes
    ("allocation above the limit", lambda c: check_allocation(8 * 10**12, "the covariance", "use fewer units."),
     _MLE, r"the covariance needs 7\.28 TiB, more than the memory limit"),
    ("allocation NaN", lambda c: check_allocation(float("nan"), "x", "y"), _MLE, "more than the memory limit"),
    ("memory limit env text", lambda c: _env_limit("lots"), _IPE, "is not a size"),
    ("memory limit env negative", lambda c: _env_limit("-5GB"), _IPE, "is not a size"),
    ("memory limit env zero", lambda c: _env_limit("0"), _IPE, "is not a size"),
    ("memory limit env unit", lambda c: _env_limit("5 parsecs"), _IPE, "is not a size"),
    ("atomic write to a folder", lambda c: write_text(_mkdir(c.tmp / "d"), "x"), _OE, "the path is a folder"),
    ("atomic write below a file", lambda c: write_text(c.regular / "x.txt", "x"), _OE, "is a regular file"),
    ("atomic open append", lambda c: atomic_open(c.tmp / "x.txt", "a").__enter__(), _IPE, "mode 'w' or 'wb'"),
    ("csv of CLI below a file", lambda c: write_csv(_TABLE, str(c.regular / "out"), "t"), _OE, "is a regular file"),
]
_TABLE_BAD_ATTRS = _TABLE.copy()
_TABLE_BAD_ATTRS.attrs["parameters"] = [1, 2]


def _mkdir(path: Path) -> Path:
    path.mkdir(parents=True, exist_ok=True)
    return path


@pytest.mark.parametrize(("make", "error", "fragment"), [c[1:] for c in FILE_CASES], ids=[c[0] for c in FILE_CASES])
def test_bad_file_or_output_raises_named_error(make, error, fragment, files, tmp_path):
    with pytest.raises(error, match=fragment) as info:
        make(_Ctx(files, tmp_path))
    assert isinstance(info.value, nc.NeurocomplexError)
    assert not any(p.name.endswith(".tmp") for p in tmp_path.rglob("*"))  # no temporary file left behind


# --------------------------------------------------------------------------- command line, on the generated files
FILE_CLI_CASES = [
    (["analyze", "{far}", "--bin-size", "0.001"], "TiB, more than this machine's memory"),
    (["analyze", "{text}"], "not an HDF5 file"),
    (["analyze", "{truncated}"], "truncated"),
    (["analyze", "{series_only}"], "no Units table"),
    (["analyze", "{good}", "--series", "acquisition/nope"], "has no time series"),
    (["analyze", "{good}", "--window", "0", "1"], "--window needs --trials"),
    (["analyze", "{good}", "--out", "{regular}/out"], "is a file, so the folder cannot be created"),
    (["analyze", "{root}/good*.nwb", "--out", "{regular}"], "is a file, not a folder"),
    (["analyze", "{root}/good*.nwb", "--trials", "trials"], "--trials applies to one file"),
    (["analyze", "{root}/good*.nwb", "--workers", "0"], "--workers must be at least 1"),
    (["analyze", "{root}/good*.nwb", "--measures", "no_such"], "no estimator called 'no_such'"),
    (["analyze", "{root}/nothing*.nwb"], "matches no .nwb file"),
    (["analyze", "{good}", "--bin-size", "0"], "must be a positive number"),
    (["analyze", "{good}", "--bin-size", "nan"], "must be a positive number"),
]


@pytest.mark.parametrize(("argv", "fragment"), FILE_CLI_CASES, ids=[" ".join(c[0]) for c in FILE_CLI_CASES])
def test_cli_bad_file_exits_2_without_traceback(argv, fragment, files, capsys):
    assert main([a.format(**{k: str(v) for k, v in files.items()}) for a in argv]) == 2
    captured = capsys.readouterr()
    assert fragment in captured.err
    assert "Traceback" not in captured.err


# --------------------------------------------------------------------------- any parameters travel with the results
PARAMETER_SETS = {
    "flat": {"bin_size": 0.01, "n_boot": 20},
    "nested dict": {"params": {"pattern_entropy": {"method": "plugin", "base": 2.0}}},
    "empty dict": {"params": {}},
    "deep": {"a": {"b": {"c": {"d": [1, 2, 3]}}}},
    "list of dicts": {"windows": [{"start": 0.0, "stop": 0.5}, {"start": 1.0, "stop": 1.5}]},
    "dict inside list inside list": {"x": [[{"k": 1}], 2]},
    "braces in text": {"note": "{a: b} and {c:d}"},
    "braces in key": {"{weird}": 1, "a/b": 2, "~tilde": 3, "[0]": 4},
    "json-looking text": {"blob": '{"a": 1, "b": {"c": 2}}'},
    "None and bools": {"by": None, "standardize": False, "flag": True},
    "numpy values": {"seed": np.int64(3), "rate": np.float32(0.5), "weights": np.array([1.0, 2.0])},
    "nan and inf": {"low": float("nan"), "high": float("inf")},
    "unicode": {"area": "CA1 – hippocampe, μ"},
    "tuple": {"window": (0.0, 0.5)},
    "empty list": {"units": []},
    "long list": {"ids": list(range(500))},
    "number keys": {"params": {1: "one", 2: {"x": 3}}},
    "measure_many": {"measures": ["effective_dimension"], "by": "group", "bin_size": 0.02,
                     "params": {"pattern_complexity": {"n_boot": 0}}, "n_boot": 20, "seed": 0, "t_start": None,
                     "t_stop": None, "series": None, "window": None, "n_blocks": 20, "group_column": None,
                     "memory_limit": 1073741824},
    "path object": {"model": Path("models/net.pt")},
    "object": {"generator": object},
}


def _expected(value: object) -> object:
    """What JSON gives back: tuples as lists, numpy as numbers, keys as text, objects as their text."""
    if isinstance(value, dict):
        return {str(k): _expected(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_expected(v) for v in value]
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, Path):
        return str(value)
    if value is object:
        return str(value)
    return value


@pytest.mark.parametrize("name", list(PARAMETER_SETS))
def test_any_parameters_are_restored_and_pass_nwbinspector(name, tmp_path):
    from nwbinspector import Importance, inspect_nwbfile

    params = PARAMETER_SETS[name]
    subject = {"subject_id": "m1", "species": "Mus musculus", "sex": "F", "age": "P90D"}
    path = write_results(_TABLE, tmp_path / "r.nwb", parameters=params, subject=subject)
    serious = [m.message for m in inspect_nwbfile(nwbfile_path=str(path))
               if m.importance.value > Importance.BEST_PRACTICE_SUGGESTION.value]
    assert serious == []
    back = read_results(path).attrs["parameters"]
    assert back.pop("neurocomplex_version") == nc.__version__
    got, want = json_dumps(back), json_dumps(_expected(params))
    assert got == want


def json_dumps(value: object) -> str:
    import json

    return json.dumps(value, sort_keys=True)  # NaN == NaN as text


# =========================================================================== faults: full disk, read-only, kills, damage
class _Disk:
    """A small tmpfs of our own: filled to the last byte, or remounted read-only."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.filler = path / ".filler"

    def fill(self, leave: int = 0) -> None:
        fd = os.open(self.filler, os.O_WRONLY | os.O_CREAT | os.O_APPEND)
        try:
            while True:
                os.write(fd, b"\0" * 4096)
        except OSError:  # full
            pass
        finally:
            os.close(fd)
        if leave:
            os.truncate(self.filler, max(0, self.filler.stat().st_size - leave))

    def free(self) -> None:
        self.filler.unlink(missing_ok=True)

    def readonly(self, flag: bool = True) -> None:
        subprocess.run(["mount", "-o", f"remount,{'ro' if flag else 'rw'}", str(self.path)], check=True)


@pytest.fixture
def disk(tmp_path: Path):
    mount = tmp_path / "disk"
    mount.mkdir()
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=4m", "tmpfs", str(mount)], capture_output=True, text=True)
    if done.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here ({done.stderr.strip() or 'needs root'})")
    try:
        yield _Disk(mount)
    finally:
        subprocess.run(["umount", "-l", str(mount)], capture_output=True)


@pytest.fixture(scope="module")
def client():
    distributed = pytest.importorskip("dask.distributed")
    with distributed.LocalCluster(n_workers=1, threads_per_worker=1, processes=False, dashboard_address=":0") as cl, \
            distributed.Client(cl) as c:
        yield c


def _complete_files_only(folder: Path) -> None:
    """Every file is whole: no temporary file, no empty CSV, each session CSV matched by its record."""
    names = [p.name for p in folder.iterdir() if p.name != ".filler"]
    assert not [n for n in names if n.endswith(".tmp")], names
    for p in folder.glob("*.csv"):
        assert p.stat().st_size > 0, p


def _earlier(disk: _Disk, name: str) -> bytes:
    return (disk.path / name).read_bytes()


WRITERS = {
    "results new": (None, lambda d, f: write_results(_TABLE, d / "r.nwb")),
    "results overwrite": ("r.nwb", lambda d, f: write_results(_TABLE.assign(value=9.0), d / "r.nwb", overwrite=True)),
    "results from source": (None, lambda d, f: write_results(_TABLE, d / "r.nwb", source=f["good"])),
    "results from source overwrite": ("r.nwb", lambda d, f: write_results(_TABLE, d / "r.nwb", source=f["good"],
                                                                          overwrite=True)),
    "nwb new": (None, lambda d, f: nc.write_nwb(_REC, d / "a.nwb")),
    "nwb overwrite": ("a.nwb", lambda d, f: nc.write_nwb(_REC.replace(data=_REC.data * 2), d / "a.nwb", overwrite=True)),
    "report": ("rep/report.html", lambda d, f: write_report(d / "rep", {"m2": _TABLE, "m3": _TABLE}, {},
                                                              make_provenance(seed=1))),
    "CLI csv": ("t.csv", lambda d, f: write_csv(_TABLE.assign(value=7.0), str(d), "t")),
}


def _prepare(disk: _Disk, files: dict[str, Path], earlier: str | None) -> None:
    if earlier is None:
        return
    if earlier == "r.nwb":
        write_results(_TABLE, disk.path / "r.nwb")
    elif earlier == "a.nwb":
        nc.write_nwb(_REC, disk.path / "a.nwb")
    elif earlier.startswith("rep/"):
        write_report(disk.path / "rep", {"m1": _TABLE}, {}, make_provenance(seed=0))
    else:
        write_csv(_TABLE, str(disk.path), "t")


@pytest.mark.parametrize("writer", list(WRITERS))
def test_full_disk_leaves_the_earlier_file_or_none(writer, disk, files, capsys):
    earlier, write = WRITERS[writer]
    _prepare(disk, files, earlier)
    before = None if earlier is None else _earlier(disk, earlier)
    disk.fill()
    with pytest.raises(OutputError, match="no space left on the device") as info:
        write(disk.path, files)
    assert str(disk.path) in str(info.value)
    if earlier is None:
        assert [p.name for p in disk.path.rglob("*") if p.name != ".filler"] == []
    else:
        assert _earlier(disk, earlier) == before  # untouched, not truncated
    _complete_files_only(disk.path)
    disk.free()
    write(disk.path, files)  # with space again the same call succeeds
    _complete_files_only(disk.path)


@pytest.mark.parametrize("writer", list(WRITERS))
def test_read_only_file_system_leaves_the_earlier_file(writer, disk, files, capsys):
    earlier, write = WRITERS[writer]
    _prepare(disk, files, earlier)
    before = None if earlier is None else _earlier(disk, earlier)
    disk.readonly()
    with pytest.raises(OutputError, match="read-only") as info:
        write(disk.path, files)
    assert str(disk.path) in str(info.value)
    if earlier is not None:
        assert _earlier(disk, earlier) == before


def test_permission_denied_is_named(tmp_path, monkeypatch):
    import errno

    def deny(*args, **kwargs):
        raise PermissionError(errno.EACCES, "Permission denied")

    monkeypatch.setattr(os, "replace", deny)  # as root nothing is denied; the rename stands for any refused step
    with pytest.raises(OutputError, match=r"permission denied .*Check the folder's permissions"):
        write_text(tmp_path / "x.txt", "x")
    assert list(tmp_path.iterdir()) == []


def test_full_disk_stops_measure_many_and_a_rerun_completes(disk, files, client):
    paths = [files["good"], files["good2"]]
    disk.fill(leave=12 * 1024)  # room for about one session
    with pytest.raises(OutputError, match="no space left on the device"):
        nc.measure_many(paths, MEASURES, client=client, out=disk.path, progress=False, **PARAMS)
    _complete_files_only(disk.path)
    for csv in disk.path.glob("*.csv"):  # what was written is complete: read back as a session
        assert (disk.path / f"{csv.stem}.json").is_file()
    disk.free()
    table = nc.measure_many(paths, MEASURES, client=client, out=disk.path, progress=False, **PARAMS)
    fresh = nc.measure_many(paths, MEASURES, client=client, progress=False, **PARAMS)
    _same(table, fresh)


def test_full_disk_on_the_command_line(disk, files, capsys):
    disk.fill()
    assert main(["analyze", str(files["good"]), "--measures", "activation_ratio", "--out", str(disk.path)]) == 2
    err = capsys.readouterr().err
    assert "no space left on the device" in err and "Traceback" not in err
    _complete_files_only(disk.path)
    assert not list(disk.path.glob("*.csv"))


MEASURES = ["effective_dimension", "activation_ratio", "mean_rate", "pattern_entropy"]
PARAMS = {"n_boot": 10, "seed": 3}


def _same(a: pd.DataFrame, b: pd.DataFrame) -> None:
    pd.testing.assert_frame_equal(a.drop(columns="created_utc"), b.drop(columns="created_utc"))


@pytest.fixture(scope="module")
def stored(files, client, tmp_path_factory):
    """Two sessions computed once, and the folder they were stored in (copied per test)."""
    out = tmp_path_factory.mktemp("stored")
    table = nc.measure_many([files["good"], files["good2"]], MEASURES, bin_size=0.02, client=client, out=out,
                            progress=False, **PARAMS)
    return table, out


def _copy_store(stored, tmp_path: Path) -> Path:
    import shutil

    return Path(shutil.copytree(stored[1], tmp_path / "out"))


def _cut_mid_row(p: Path) -> None:
    data = p.read_bytes()
    p.write_bytes(data[: data.index(b"\n", len(data) // 2) + 20])


def _cut_header(p: Path) -> None:
    p.write_bytes(p.read_bytes()[30:])


DAMAGE = {
    "csv cut mid-row": ("good.csv", _cut_mid_row, "differs from what was written"),
    "csv header cut": ("good.csv", _cut_header, "differs from what was written"),
    "csv 0 bytes": ("good.csv", lambda p: p.write_bytes(b""), r"empty \(0 bytes\)"),
    "csv a value edited": ("good.csv", lambda p: p.write_bytes(p.read_bytes().replace(b",bits,", b",nats,", 1)),
                           "differs from what was written"),
    "record missing": ("good.json", lambda p: p.unlink(), "is missing"),
    "record 0 bytes": ("good.json", lambda p: p.write_bytes(b""), "cannot be read"),
    "record cut": ("good.json", lambda p: p.write_bytes(p.read_bytes()[:40]), "cannot be read"),
    "record of another tool": ("good.json", lambda p: p.write_text('{"a": 1}'), "not a session record"),
}


@pytest.mark.parametrize("damage", list(DAMAGE))
def test_damaged_stored_session_is_recomputed_with_a_warning(damage, stored, client, files, tmp_path):
    name, hurt, why = DAMAGE[damage]
    out = _copy_store(stored, tmp_path)
    hurt(out / name)
    kept = (out / "good2.csv").stat().st_mtime_ns
    with pytest.warns(nc.NeurocomplexWarning, match=why):
        again = nc.measure_many([files["good"], files["good2"]], MEASURES, bin_size=0.02, client=client, out=out,
                                progress=False, **PARAMS)
    _same(again, stored[0])
    assert (out / "good2.csv").stat().st_mtime_ns == kept  # the intact session was reused
    assert (out / "good.json").is_file() and (out / "good.csv").stat().st_size > 0  # and the damaged one replaced


ASKED_OTHERWISE = {
    "other measures": {"measures": ["activation_ratio", "constant_fraction"]},
    "other bin size": {"bin_size": 0.05},
    "other n_boot": {"n_boot": 5},
    "other seed": {"seed": 4},
    "other window": {"window": 2.0},
    "other t_start": {"t_start": 10.0},
    "other t_stop": {"t_stop": 30.0},
    "other n_blocks": {"n_blocks": 5},
    "other by": {"by": None},
    "other params": {"params": {"activation_ratio": {"threshold": 1.0}}, "measures": ["activation_ratio"]},
    "other memory_limit": {"memory_limit": 10},
}


@pytest.mark.parametrize("change", list(ASKED_OTHERWISE))
def test_rerun_asking_otherwise_recomputes(change, stored, client, files, tmp_path):
    out = _copy_store(stored, tmp_path)
    records = {p.name: p.read_text() for p in out.glob("*.json")}
    asked = {"measures": MEASURES, "bin_size": 0.02, **PARAMS, **ASKED_OTHERWISE[change]}
    measures = asked.pop("measures")
    paths = [files["good"], files["good2"]]
    again = nc.measure_many(paths, measures, client=client, out=out, progress=False, **asked)
    fresh = nc.measure_many(paths, measures, client=client, progress=False, **asked)
    _same(again, fresh)
    assert all((out / name).read_text() != text for name, text in records.items())  # computed again, recorded anew
    reused = nc.measure_many(paths, measures, client=client, out=out, progress=False, **asked)
    _same(reused, fresh)  # and the new result is what is kept now


def test_rerun_after_the_input_changed_recomputes(files, client, tmp_path):
    session = tmp_path / "s.nwb"
    write_session(session, n_units=6, duration=40.0, rate=8.0, seed=1)
    first = nc.measure_many([session], MEASURES, client=client, out=tmp_path / "out", progress=False, **PARAMS)
    write_session(session, n_units=6, duration=40.0, rate=8.0, seed=5)  # same name, other spikes
    again = nc.measure_many([session], MEASURES, client=client, out=tmp_path / "out", progress=False, **PARAMS)
    fresh = nc.measure_many([session], MEASURES, client=client, progress=False, **PARAMS)
    _same(again, fresh)
    assert not np.allclose(again.value, first.value)


def test_same_request_is_reused(stored, client, files, tmp_path):
    out = _copy_store(stored, tmp_path)
    stamps = {p.name: p.stat().st_mtime_ns for p in out.iterdir()}
    again = nc.measure_many([files["good"], files["good2"]], MEASURES, bin_size=0.02, client=client, out=out,
                            progress=False, **PARAMS)
    pd.testing.assert_frame_equal(again, stored[0])  # the time it was computed included
    assert {p.name: p.stat().st_mtime_ns for p in out.iterdir()} == stamps


def test_sizes_checked_before_work_in_a_batch(files, client):
    table = nc.measure_many([files["far"], files["million"], files["good"]], ["effective_dimension"], bin_size=0.001,
                            client=client, progress=False, n_boot=0)
    errors = dict(zip(table.session, table.error))
    assert errors["far"].startswith("InvalidParameterError: ") and "more than max_cells" in errors["far"]
    assert errors["million"].startswith("MemoryLimitError: ") and "7.28 TiB" in errors["million"]
    assert errors["good"] == ""


_KILLED_RUN = """
import sys, neurocomplex as nc
from dask.distributed import Client, LocalCluster
if __name__ == "__main__":
    with LocalCluster(n_workers=1, threads_per_worker=1, processes=False, dashboard_address=":0") as cl, Client(cl) as c:
        nc.measure_many(sys.argv[2:], {measures!r}, client=c, out=sys.argv[1], progress=False, **{params!r})
    print("FINISHED")
"""


def test_killed_process_then_resume_equals_an_uninterrupted_run(files, client, tmp_path):
    import signal
    import time

    paths = []
    for i in range(6):
        p = tmp_path / f"sub-{i}.nwb"
        write_session(p, n_units=8, duration=120.0, rate=8.0, seed=10 + i)
        paths.append(str(p))
    out = tmp_path / "out"
    script = tmp_path / "run.py"
    script.write_text(_KILLED_RUN.format(measures=MEASURES, params=PARAMS))
    with subprocess.Popen([sys.executable, str(script), str(out), *paths], start_new_session=True,
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                          cwd=Path(__file__).resolve().parents[1]) as proc:  # its pipes closed on leaving
        deadline = time.monotonic() + 180
        while time.monotonic() < deadline and proc.poll() is None and len(list(out.glob("*.json"))) < 2:
            time.sleep(0.02)
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
    done_before = sorted(p.stem for p in out.glob("*.json"))
    assert 2 <= len(done_before) < 6, done_before  # killed midway
    # A kill during a write can leave only that write's temporary file (named with the killed
    # process's id, never a partial file under a session's name); the resumed run removes it.
    left = [p.name for p in out.iterdir() if p.name.endswith(".tmp")]
    assert all(f".{proc.pid}." in name for name in left), left
    for p in out.glob("*.csv"):
        assert p.stat().st_size > 0, p
    stamps = {n: (out / f"{n}.csv").stat().st_mtime_ns for n in done_before}
    resumed = nc.measure_many(paths, MEASURES, client=client, out=out, progress=False, **PARAMS)
    _complete_files_only(out)
    whole = nc.measure_many(paths, MEASURES, client=client, progress=False, **PARAMS)
    _same(resumed, whole)
    assert {n: (out / f"{n}.csv").stat().st_mtime_ns for n in done_before} == stamps  # not computed again


def test_killed_worker_then_the_same_table(files, tmp_path):
    import signal
    import threading
    import time

    from dask.distributed import Client, LocalCluster

    paths = []
    for i in range(4):
        p = tmp_path / f"w-{i}.nwb"
        write_session(p, n_units=8, duration=200.0, rate=8.0, seed=20 + i)
        paths.append(p)
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=":0") as cluster, \
            Client(cluster) as c:
        whole = nc.measure_many(paths, MEASURES, client=c, progress=False, **PARAMS)
        pids = c.run(os.getpid)
        killed = []

        def kill_one_busy_worker() -> None:
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline and not killed:
                busy = [w for w, tasks in c.processing().items() if tasks]
                if busy:
                    os.kill(pids[busy[0]], signal.SIGKILL)
                    killed.append(busy[0])
                time.sleep(0.01)

        killer = threading.Thread(target=kill_one_busy_worker)
        killer.start()
        table = nc.measure_many(paths, MEASURES, client=c, out=tmp_path / "out", progress=False, **PARAMS)
        killer.join()
        assert killed
        failed = table.error != ""
        assert (table.error[failed].str.startswith("KilledWorker")).all()  # if a task died too often: named
        resumed = nc.measure_many(paths, MEASURES, client=c, out=tmp_path / "out", progress=False, **PARAMS)
    _same(resumed, whole)


def test_stale_temporary_files_of_dead_processes_are_removed(tmp_path):
    from neurocomplex._atomic import _HOST

    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    stale = tmp_path / f".x.csv.{_HOST}.{int(dead.stdout)}.abcd.tmp"
    alive = tmp_path / f".x.csv.{_HOST}.{os.getppid()}.abcd.tmp"
    stale.write_text("partial")
    alive.write_text("being written")
    write_text(tmp_path / "x.csv", "a,b\n")
    assert not stale.exists() and alive.exists() and (tmp_path / "x.csv").read_text() == "a,b\n"


def test_hard_linked_target_gets_a_new_file_and_the_other_name_keeps_the_old(tmp_path):
    first = tmp_path / "first.nwb"
    write_results(_TABLE, first)
    before = first.read_bytes()
    os.link(first, tmp_path / "second.nwb")
    write_results(_TABLE.assign(value=4.0), tmp_path / "second.nwb", overwrite=True)
    assert first.read_bytes() == before
    assert read_results(tmp_path / "second.nwb").value.tolist() == [4.0]


def test_symbolic_link_target_is_written_through(tmp_path):
    real = tmp_path / "real" / "r.nwb"
    real.parent.mkdir()
    write_results(_TABLE, real)
    (tmp_path / "link.nwb").symlink_to(real)
    write_results(_TABLE.assign(value=5.0), tmp_path / "link.nwb", overwrite=True)
    assert (tmp_path / "link.nwb").is_symlink() and read_results(real).value.tolist() == [5.0]


def test_a_session_that_fails_now_loses_its_earlier_result(files, client, tmp_path):
    session = tmp_path / "s.nwb"
    session.write_bytes(files["good"].read_bytes())
    out = tmp_path / "out"
    nc.measure_many([session], MEASURES, client=client, out=out, progress=False, **PARAMS)
    assert (out / "s.csv").is_file()
    session.write_bytes(files["truncated"].read_bytes())  # the same name, now damaged
    table = nc.measure_many([session], MEASURES, client=client, out=out, progress=False, **PARAMS)
    assert table.error.iloc[0].startswith("CorruptFileError: ") and table.value.isna().all()
    assert sorted(p.name for p in out.iterdir()) == []  # no result of the earlier file beside this run's error
