"""measure_many over NWB files on the web: a real HTTP server on 127.0.0.1 that honours Range requests
(and sends ETag and Last-Modified, as DANDI's S3 does) serves the files; the table equals the local
files' table, sessions are named after the URL, and a re-run reuses what it stored."""

from __future__ import annotations

import email.utils
import json
import shutil
from pathlib import Path

import numpy as np
import pytest

import neurocomplex as nc
from neurocomplex.batch import expand_paths, measure_stream
from tests._sessions import write_session
from tests.io.test_remote import _Handler, serve  # noqa: F401  (serve: the fixture that starts servers)

pytest.importorskip("remfile")
pytest.importorskip("dask.distributed")

MEASURES = ["effective_dimension", "activation_ratio", "pattern_entropy", "population_sparseness"]
PARAMS = {"n_boot": 20, "seed": 3}
VALUES = ["group", "measure", "value", "ci_low", "ci_high", "n_samples", "n_units", "t_start_s", "t_stop_s"]


class _Validators(_Handler):
    """The test server's handler, plus ETag and Last-Modified (from the file's size and modification time)."""

    def end_headers(self) -> None:
        path = self._target()
        if path is not None and getattr(self.server, "validators", True):
            st = path.stat()
            self.send_header("ETag", f'"{st.st_size:x}-{st.st_mtime_ns:x}"')
            self.send_header("Last-Modified", email.utils.formatdate(st.st_mtime, usegmt=True))
        super().end_headers()


@pytest.fixture()
def web(serve, tmp_path):  # noqa: F811
    """Two sessions, each served at a plain path and at a DANDI-style asset URL."""
    server = serve()
    server.RequestHandlerClass = _Validators
    local = []
    for i in range(2):
        path = tmp_path / "local" / f"sub-{i}_ses-1.nwb"
        path.parent.mkdir(exist_ok=True)
        write_session(path, n_units=10, duration=150.0, rate=6.0, seed=i)
        local.append(path)
        shutil.copy(path, serve.root / path.name)
    asset = serve.root / "api" / "assets" / "0a1b2c3d-4e5f" / "download"
    asset.parent.mkdir(parents=True)
    shutil.copy(local[1], asset)
    urls = [f"{server.url}/{p.name}" for p in local]
    return {"server": server, "local": local, "urls": urls, "asset": f"{server.url}/api/assets/0a1b2c3d-4e5f/download/"}


@pytest.fixture(scope="module")
def threads():
    from dask.distributed import Client, LocalCluster

    with LocalCluster(n_workers=2, threads_per_worker=1, processes=False, dashboard_address=":0") as cluster, \
            Client(cluster) as client:
        yield client


def _sent(server: object) -> int:
    with server.lock:  # type: ignore[attr-defined]
        return int(server.sent)  # type: ignore[attr-defined]


def test_urls_give_the_local_files_table(web, threads):
    remote = nc.measure_many(web["urls"], MEASURES, bin_size=0.02, client=threads, progress=False, **PARAMS)
    local = nc.measure_many(web["local"], MEASURES, bin_size=0.02, client=threads, progress=False, **PARAMS)
    assert (remote.error == "").all()
    assert remote.session.unique().tolist() == ["sub-0_ses-1", "sub-1_ses-1"]
    assert remote.recording.unique().tolist() == web["urls"]
    # population_sparseness is not streamed: the session is loaded in memory, over HTTP too
    assert remote[VALUES].equals(local[VALUES])
    one = measure_stream(web["urls"][0], ["activation_ratio"], bin_size=0.02, n_boot=0)
    assert one.session.unique().tolist() == ["sub-0_ses-1"] and one.recording.iloc[0] == web["urls"][0]


def test_dandi_asset_urls_are_named_by_their_asset_id_and_queries_are_not_globs(web, threads):
    signed = web["urls"][0] + "?X-Amz-Signature=secret&X-Amz-Expires=3600"
    assert expand_paths([signed, web["asset"]]) == sorted([signed, web["asset"]])
    table = nc.measure_many([signed, web["asset"]], ["mean_rate"], bin_size=0.02, client=threads, progress=False,
                            n_boot=0)
    assert (table.error == "").all()
    assert table.session.unique().tolist() == ["0a1b2c3d-4e5f", "sub-0_ses-1"]  # in URL order
    assert "secret" not in table.to_csv()  # the signature of a signed URL stays out of the table
    for session, path in (("0a1b2c3d-4e5f", web["local"][1]), ("sub-0_ses-1", web["local"][0])):
        local = measure_stream(path, ["mean_rate"], bin_size=0.02, n_boot=0)
        np.testing.assert_array_equal(table[table.session == session].value.to_numpy(), local.value.to_numpy())


def test_rerun_reuses_stored_sessions_while_the_server_reports_the_same_file(web, threads, tmp_path):
    out = tmp_path / "out"
    first = nc.measure_many(web["urls"], MEASURES, bin_size=0.02, client=threads, out=out, progress=False, **PARAMS)
    key = json.loads(json.loads((out / "sub-0_ses-1.json").read_text())["key"])
    assert key["input"]["size"] == web["local"][0].stat().st_size and key["input"]["etag"].startswith('"')
    assert key["input"]["url"] == web["urls"][0] and key["input"]["last_modified"]
    stamps = {p.name: p.stat().st_mtime_ns for p in out.glob("*.csv")}
    before = _sent(web["server"])
    again = nc.measure_many(web["urls"], MEASURES, bin_size=0.02, client=threads, out=out, progress=False, **PARAMS)
    assert _sent(web["server"]) - before <= 2 * 8  # one 8-byte probe per URL: nothing else was read
    assert {p.name: p.stat().st_mtime_ns for p in out.glob("*.csv")} == stamps
    assert again[VALUES].equals(first[VALUES])
    # the file at one URL changes: its session is computed again, the other one is reused
    served = web["server"].root / web["local"][0].name
    write_session(served, n_units=10, duration=150.0, rate=6.0, seed=7)
    changed = nc.measure_many(web["urls"], MEASURES, bin_size=0.02, client=threads, out=out, progress=False, **PARAMS)
    assert (out / "sub-1_ses-1.csv").stat().st_mtime_ns == stamps["sub-1_ses-1.csv"]
    assert (out / "sub-0_ses-1.csv").stat().st_mtime_ns != stamps["sub-0_ses-1.csv"]
    fresh = measure_stream(served, MEASURES, bin_size=0.02, **PARAMS)
    np.testing.assert_array_equal(changed[changed.session == "sub-0_ses-1"].value.to_numpy(), fresh.value.to_numpy())


def test_without_validators_nothing_is_reused(web, threads, tmp_path):
    web["server"].validators = False
    out = tmp_path / "out"
    nc.measure_many(web["urls"][:1], ["mean_rate"], bin_size=0.02, client=threads, out=out, progress=False, n_boot=0)
    stamp = (out / "sub-0_ses-1.csv").stat().st_mtime_ns
    assert json.loads((out / "sub-0_ses-1.json").read_text())["key"] is None
    nc.measure_many(web["urls"][:1], ["mean_rate"], bin_size=0.02, client=threads, out=out, progress=False, n_boot=0)
    assert (out / "sub-0_ses-1.csv").stat().st_mtime_ns != stamp


def test_a_cache_folder_keeps_the_fetched_parts(web, threads, tmp_path):
    cache = tmp_path / "cache"
    kw = {"bin_size": 0.02, "client": threads, "progress": False, "n_boot": 0}
    before = _sent(web["server"])
    first = nc.measure_many(web["urls"], ["activation_ratio", "population_sparseness"], cache=cache, **kw)
    fetched = _sent(web["server"]) - before
    assert fetched > 0 and any(cache.iterdir())
    before = _sent(web["server"])
    again = nc.measure_many(web["urls"], ["activation_ratio", "population_sparseness"], cache=cache, **kw)
    assert _sent(web["server"]) - before < fetched / 10  # the probes only
    assert again[VALUES].equals(first[VALUES])
    assert "cache" not in first.attrs["parameters"]  # where parts are kept changes no value
    with pytest.raises(nc.InvalidParameterError, match="cache"):
        nc.measure_many(web["urls"], ["activation_ratio"], cache=True, **kw)


def test_cli_analyze_url(web, tmp_path):
    from neurocomplex.cli import main

    out = tmp_path / "out"
    signed = web["asset"] + "?X-Amz-Signature=secret"
    assert main(["analyze", signed, "--measures", "activation_ratio", "--n-boot", "0", "--bin-size", "0.02",
                 "--cache", str(tmp_path / "cache"), "--t-stop", "100", "--out", str(out)]) == 0
    csv = out / "0a1b2c3d-4e5f_measures.csv"
    assert csv.is_file() and "secret" not in csv.read_text()
    import pandas as pd

    table = pd.read_csv(csv)
    rec = nc.load(web["local"][1], bin_size=0.02, t_stop=100.0)
    expected = nc.measure(rec, ["activation_ratio"], n_boot=0, progress=False)
    assert table.recording.unique().tolist() == ["0a1b2c3d-4e5f"]
    np.testing.assert_array_equal(table.value.to_numpy(), expected.value.to_numpy())
    assert any(Path(tmp_path / "cache").iterdir())
