"""measure_many on dask.distributed: many NWB files, failures as named errors, re-runs that skip."""

from __future__ import annotations

import hashlib
import json
import os
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import neurocomplex as nc
from neurocomplex.batch import COLUMNS, expand_paths, measure_stream
from neurocomplex.errors import InvalidParameterError
from tests._sessions import write_series_only, write_session

pytest.importorskip("dask.distributed")

MEASURES = ["effective_dimension", "activation_ratio", "mean_rate", "pattern_entropy"]
PARAMS = {"n_boot": 20, "seed": 3}


def _sha(path: os.PathLike[str] | str) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


@pytest.fixture(scope="module")
def study(tmp_path_factory: pytest.TempPathFactory) -> dict[str, object]:
    root = tmp_path_factory.mktemp("study")
    good = []
    for i in range(6):
        path = root / f"sub-{i}_ses-1.nwb"
        write_session(path, n_units=12, duration=200.0, rate=6.0, seed=i)
        good.append(path)
    truncated = root / "sub-6_ses-1.nwb"
    write_session(truncated, n_units=12, duration=200.0, seed=6)
    data = truncated.read_bytes()
    truncated.write_bytes(data[: len(data) // 2])
    no_units = root / "sub-7_ses-1.nwb"
    write_series_only(no_units)
    files = sorted(root.glob("*.nwb"))
    return {"root": root, "good": good, "truncated": truncated, "no_units": no_units, "files": files,
            "sha": {p: _sha(p) for p in files}}


def test_eight_files_on_two_workers_then_rerun_skips_written(study, tmp_path, capsys):
    out = tmp_path / "results"
    table = nc.measure_many(str(study["root"] / "*.nwb"), MEASURES, bin_size=0.02, workers=2, out=out,
                            progress=False, **PARAMS)
    assert "dask dashboard: http" in capsys.readouterr().err
    assert list(table.columns) == COLUMNS
    assert table.attrs["parameters"]["bin_size"] == 0.02 and table.attrs["parameters"]["n_boot"] == 20
    assert table.session.nunique() == 8
    errors = table[table.error != ""]
    assert errors.session.tolist() == ["sub-6_ses-1", "sub-7_ses-1"]
    assert errors.error.iloc[0].startswith("CorruptFileError: ") and "truncated" in errors.error.iloc[0]
    assert errors.error.iloc[1].startswith("MissingTableError: ") and "no Units table" in errors.error.iloc[1]
    ok = table[table.error == ""]
    assert ok.session.nunique() == 6
    assert len(ok) == 6 * 3 * len(MEASURES)  # CA1, V1, all
    assert np.isfinite(ok.value).all() and np.isfinite(ok.ci_low).all()
    # each session as streamed in this process, and as nc.measure in memory (point values)
    for path in study["good"][:2]:
        one = measure_stream(path, MEASURES, bin_size=0.02, **PARAMS)
        got = ok[ok.session == path.stem].reset_index(drop=True)
        same = [c for c in COLUMNS[2:] if c != "created_utc"]
        pd.testing.assert_frame_equal(got[same], one[same])
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", nc.NeurocomplexWarning)  # caveats: not compared here
            mem = nc.measure(nc.load(path, bin_size=0.02), MEASURES, n_boot=0)
        np.testing.assert_allclose(got.value, mem.value, rtol=1e-9)
        assert got.n_samples.tolist() == mem.n_samples.tolist()
    written = sorted(p.name for p in out.glob("*.csv"))
    assert written == [f"{p.stem}.csv" for p in study["good"]]  # failed sessions are not written
    stamps = {p: p.stat().st_mtime_ns for p in out.glob("*.csv")}
    again = nc.measure_many(str(study["root"]), MEASURES, bin_size=0.02, workers=2, out=out, progress=False, **PARAMS)
    pd.testing.assert_frame_equal(again.drop(columns="created_utc"), table.drop(columns="created_utc"))
    kept = table.error == ""  # read back with the time they were computed; failed sessions are tried again
    assert again.created_utc[kept].tolist() == table.created_utc[kept].tolist()
    assert {p: p.stat().st_mtime_ns for p in out.glob("*.csv")} == stamps  # read back, not recomputed
    assert {p: _sha(p) for p in study["files"]} == study["sha"]  # inputs byte-identical


def test_existing_client_and_sessions_split_into_block_tasks(study):
    from dask.distributed import Client, LocalCluster

    files = [str(p) for p in study["good"][:2]]
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=":0") as cluster, \
            Client(cluster) as client:
        whole = nc.measure_many(files, MEASURES, bin_size=0.02, client=client, progress=False, **PARAMS)
        split = nc.measure_many(files, MEASURES, bin_size=0.02, client=client, progress=False,
                                task_cells=2000, **PARAMS)  # ~ one task per bootstrap block
        assert client.status == "running"  # a given client is left open
    pd.testing.assert_frame_equal(split.drop(columns="created_utc"), whole.drop(columns="created_utc"))
    assert (whole.error == "").all()


def test_measures_outside_the_streamed_set_load_in_memory_when_they_fit(study):
    path = study["good"][0]
    names = ["multi_information", "pattern_complexity"]  # complexity at the default scale 0.1 is not streamed
    table = measure_stream(path, names, bin_size=0.02, n_boot=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", nc.NeurocomplexWarning)  # caveats: not compared here
        mem = nc.measure(nc.load(path, bin_size=0.02), names, n_boot=0)
    np.testing.assert_allclose(table.value, mem.value, rtol=1e-12)
    refused = measure_stream(path, [*names, "activation_ratio"], bin_size=0.02, n_boot=0, memory_limit=1000)
    not_run = refused[refused.measure != "activation_ratio"]
    assert len(not_run) == 2 and not_run.error.str.startswith("InvalidParameterError: ").all()
    assert "memory_limit" in not_run.error.iloc[0] and not_run.value.isna().all()
    assert (refused[refused.measure == "activation_ratio"].error == "").all()


def test_pattern_complexity_at_scale_zero_is_streamed(study):
    path = study["good"][1]
    table = measure_stream(path, ["pattern_complexity"], by=None, bin_size=0.02, scale=0.0, n_boot=10)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", nc.NeurocomplexWarning)  # caveats: not compared here
        est = nc.pattern_complexity(nc.load(path, bin_size=0.02), scale=0.0, n_boot=10)
    assert table.method.iloc[0] == est.method == "nested_leader_merging"
    np.testing.assert_allclose(table.value.iloc[0], est.value, rtol=1e-12)
    np.testing.assert_allclose([table.ci_low.iloc[0], table.ci_high.iloc[0]], est.ci, rtol=1e-12)
    # C(0) = exp(H) with H the plug-in entropy in nats
    plugin = nc.pattern_entropy(nc.load(path, bin_size=0.02), method="plugin", base=np.e, n_boot=0).value
    np.testing.assert_allclose(table.value.iloc[0], np.exp(plugin), rtol=1e-12)


def test_expand_paths(study, tmp_path):
    root = study["root"]
    assert expand_paths(root) == [str(p) for p in study["files"]]
    assert expand_paths(str(root / "sub-[01]_*.nwb")) == [str(p) for p in study["good"][:2]]
    with pytest.raises(InvalidParameterError, match=r"matches no \.nwb file"):
        expand_paths(str(tmp_path / "*.nwb"))
    with pytest.raises(InvalidParameterError, match="no files given"):
        expand_paths([])
    with pytest.raises(InvalidParameterError, match="params given for measures not requested"):
        nc.measure_many(root, ["activation_ratio"], params={"pattern_entropy": {"method": "plugin"}})


def test_cli_analyze_folder_with_workers(study, tmp_path, capsys):
    from neurocomplex.cli import main

    out = tmp_path / "cli"
    code = main(["analyze", str(study["root"] / "sub-*.nwb"), "--workers", "2", "--bin-size", "0.02", "--measures",
                 "activation_ratio", "effective_dimension", "--n-boot", "10", "--out", str(out)])
    captured = capsys.readouterr()
    assert code == 1  # two sessions failed
    assert "8 sessions, 2 failed" in captured.out and "dask dashboard: http" in captured.err
    assert "failed: sub-6_ses-1" in captured.err and "CorruptFileError" in captured.err
    assert "failed: sub-7_ses-1" in captured.err and "MissingTableError" in captured.err
    table = pd.read_csv(out / "all_sessions.csv", keep_default_na=False, na_values=[""])
    api = nc.measure_many(study["good"], ["activation_ratio", "effective_dimension"], bin_size=0.02, out=out,
                          n_boot=10, seed=0, progress=False)  # every session already written by the CLI
    got = table[table.error.isna()].reset_index(drop=True)
    np.testing.assert_array_equal(got.value.to_numpy(), api.value.to_numpy())
    assert main(["analyze", str(study["root"]), "--workers", "0"]) == 2
    assert "--workers must be at least 1" in capsys.readouterr().err


def test_code_from_standard_input_falls_back_to_worker_threads(study):
    # worker processes re-import the main module, which code piped to python does not have
    import subprocess
    import sys

    path = study["good"][0]
    code = ("import warnings, neurocomplex as nc\n"
            "with warnings.catch_warnings(record=True) as seen:\n"
            "    warnings.simplefilter('always')\n"
            f"    t = nc.measure_many([{str(path)!r}], 'activation_ratio', by=None, progress=False, workers=1)\n"
            "print('ROWS', len(t), t['error'].eq('').all())\n"
            "print('WARNED', any('worker threads' in str(w.message) for w in seen))\n")
    done = subprocess.run([sys.executable, "-"], input=code, capture_output=True, text=True, timeout=180,
                          cwd=os.path.dirname(path))
    assert done.returncode == 0, done.stderr[-2000:]
    assert "ROWS 1 True" in done.stdout
    assert "WARNED True" in done.stdout


# --------------------------------------------------------------------------- the same numbers on every path
@pytest.fixture(scope="module")
def threads():
    from dask.distributed import Client, LocalCluster

    with LocalCluster(n_workers=2, threads_per_worker=1, processes=False, dashboard_address=":0") as cluster, \
            Client(cluster) as client:
        yield client


def test_batch_streamed_and_in_memory_agree_on_every_streamed_measure(study, threads, tmp_path):
    from tests.io.test_stream import SCALINGS, STREAMED_CASES, _options, _scaled_series

    series = [_scaled_series(tmp_path / f"es{i}.nwb", *SCALINGS[k][:1], **SCALINGS[k][1])
              for i, k in enumerate(["channel_conversion with signs", "float32 with channel_conversion"])]
    for paths, kw in ((study["good"][:2], {"bin_size": 0.02}), (series, {"series": "acquisition/es"})):
        for name in STREAMED_CASES:
            batch = nc.measure_many(paths, [name], client=threads, progress=False, **kw, **_options(name))
            assert (batch.error == "").all()
            for path in paths:
                streamed = measure_stream(path, [name], **kw, **_options(name))
                got = batch[batch.session == path.stem].reset_index(drop=True)
                np.testing.assert_array_equal(got.value.to_numpy(), streamed.value.to_numpy())
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore", nc.NeurocomplexWarning)  # caveats: not compared here
                    rec = nc.load(path, **kw)
                    memory = nc.measure(rec, [name], **_options(name))
                np.testing.assert_allclose(got.value.to_numpy(), memory.value.to_numpy(), rtol=1e-9, atol=1e-12)


# --------------------------------------------------------------------------- results that travel
def test_names_are_relative_and_rows_carry_units_and_provenance(study, threads, tmp_path):
    import shutil

    for sub in ("mouse-a", "mouse-b"):
        (tmp_path / "study" / sub).mkdir(parents=True)
        shutil.copy(study["good"][0], tmp_path / "study" / sub / "ses-1.nwb")
    table = nc.measure_many(tmp_path / "study", ["mean_rate", "pattern_entropy"], bin_size=0.02, client=threads,
                            progress=False, n_boot=5, seed=2)
    assert table.session.unique().tolist() == ["mouse-a__ses-1", "mouse-b__ses-1"]
    assert table.recording.unique().tolist() == ["mouse-a/ses-1.nwb", "mouse-b/ses-1.nwb"]
    assert str(tmp_path) not in table.to_csv()  # no folder of this machine in the table
    row = table.iloc[0]
    assert (row.unit, row.bin_size_s, row.source, row.n_boot, row.seed) == ("Hz", 0.02, "units", 5, 2)
    assert table.n_blocks.isna().all()  # both intervals resample single rows (or word counts), as in memory
    assert row.binarization == "" and row.neurocomplex_version == nc.__version__  # a mean rate binarizes nothing
    assert table[table.measure == "pattern_entropy"].binarization.eq("value > 0").all()
    assert row.t_start_s < row.t_stop_s
    assert table[table.measure == "pattern_entropy"].unit.eq("bits").all()
    full = nc.measure_many(tmp_path / "study", ["mean_rate"], bin_size=0.02, client=threads, progress=False,
                           full_paths=True, n_boot=0)
    assert full.recording.unique().tolist() == [str(tmp_path / "study" / s / "ses-1.nwb") for s in ("mouse-a", "mouse-b")]
    one = measure_stream(study["good"][0], ["mean_rate"], bin_size=0.02, n_boot=0)
    assert one.recording.tolist() == [study["good"][0].name] * 3


def test_results_file_of_a_batch_names_no_machine_path_and_restores_parameters(study, threads, tmp_path):
    from nwbinspector import Importance, inspect_nwbfile

    table = nc.measure_many(study["good"][:2], ["activation_ratio", "pattern_entropy"], bin_size=0.02, client=threads,
                            progress=False, params={"pattern_entropy": {"method": "plugin"}}, n_boot=5, seed=1)
    subject = {"subject_id": "m", "species": "Mus musculus", "sex": "F", "age": "P90D"}
    path = nc.write_results(table, tmp_path / "results.nwb", subject=subject)
    assert str(study["root"]).encode() not in path.read_bytes()
    back = nc.read_results(path)
    assert back.attrs["parameters"] == {"neurocomplex_version": nc.__version__, **table.attrs["parameters"]}
    assert back.attrs["parameters"]["params"] == {"pattern_entropy": {"method": "plugin"}}
    assert back.recording.unique().tolist() == ["sub-0_ses-1.nwb", "sub-1_ses-1.nwb"]
    assert back.unit.tolist() == table.unit.tolist()
    assert [m.message for m in inspect_nwbfile(nwbfile_path=str(path))
            if m.importance.value > Importance.BEST_PRACTICE_SUGGESTION.value] == []


def test_rerun_with_other_measures_or_bin_size_returns_what_was_asked(study, threads, tmp_path):
    out = tmp_path / "out"
    paths = study["good"][:2]
    nc.measure_many(paths, ["activation_ratio"], bin_size=0.02, client=threads, out=out, progress=False, n_boot=0)
    other = nc.measure_many(paths, ["mean_rate"], bin_size=0.05, client=threads, out=out, progress=False, n_boot=0)
    assert other.measure.unique().tolist() == ["mean_rate"] and (other.bin_size_s == 0.05).all()
    fresh = nc.measure_many(paths, ["mean_rate"], bin_size=0.05, client=threads, progress=False, n_boot=0)
    np.testing.assert_array_equal(other.value.to_numpy(), fresh.value.to_numpy())
    record = json.loads((out / "sub-0_ses-1.json").read_text())
    key = json.loads(record["key"])
    assert key["parameters"]["measures"] == ["mean_rate"] and key["parameters"]["bin_size"] == 0.05
    assert key["input"]["size"] == paths[0].stat().st_size and key["neurocomplex_version"] == nc.__version__


def test_own_cluster_workers_allocate_as_a_plain_process():
    # dask's MALLOC_TRIM_THRESHOLD_ turns off glibc's adaptive mmap threshold (every array above 128 KiB
    # faults its pages in again); measure_many's own cluster leaves it unset and keeps BLAS single-threaded
    from dask.distributed import Client

    from neurocomplex.batch._many import local_cluster

    if "MALLOC_TRIM_THRESHOLD_" in os.environ:
        pytest.skip("MALLOC_TRIM_THRESHOLD_ is set in this process's environment, which workers inherit")
    with local_cluster(1) as cluster, Client(cluster) as client:
        env = next(iter(client.run(lambda: {k: os.environ.get(k) for k in
                                            ("MALLOC_TRIM_THRESHOLD_", "OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS")})
                        .values()))
    assert env == {"MALLOC_TRIM_THRESHOLD_": None, "OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1"}
