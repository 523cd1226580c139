"""NWB files over HTTP: a real threaded HTTP server on 127.0.0.1 that honours Range requests serves
a folder; values read over HTTP equal the local file's, and a window reads a small part of it."""

from __future__ import annotations

import http.server
import os
import re
import threading
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

import neurocomplex as nc
from neurocomplex.io.nwb import describe
from tests.io.test_nwb import _nwbfile, _write

pytest.importorskip("remfile")

REAL = Path(__file__).resolve().parents[3] / "shared" / "data" / "human_mtl_rutishauser_sub-4_ses-4.nwb"


class _Handler(http.server.BaseHTTPRequestHandler):
    """GET with byte ranges (206), HEAD, a redirect under /redirect/, and a counter of bytes sent."""

    def log_message(self, *args: object) -> None:  # keep the test output quiet
        pass

    def _target(self) -> Path | None:
        name = self.path.split("?", 1)[0].lstrip("/")
        path = self.server.root / name  # type: ignore[attr-defined]
        return path if path.is_file() else None

    def do_GET(self) -> None:
        server = self.server
        if self.path.startswith("/redirect/"):
            self.send_response(302)
            self.send_header("Location", self.path[len("/redirect"):])
            self.end_headers()
            return
        path = self._target()
        if path is None:
            self.send_error(404)
            return
        with server.lock:  # type: ignore[attr-defined]
            server.requests += 1  # type: ignore[attr-defined]  # counted on arrival: a client may hang up early
        data = path.read_bytes()
        size = len(data)
        match = re.fullmatch(r"bytes=(\d+)-(\d*)", self.headers.get("Range", ""))
        if match and server.ranges:  # type: ignore[attr-defined]
            lo = int(match.group(1))
            hi = min(int(match.group(2)) if match.group(2) else size - 1, size - 1)
            body = data[lo : hi + 1]
            self.send_response(206)
            self.send_header("Content-Range", f"bytes {lo}-{hi}/{size}")
        else:
            body = data
            self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Accept-Ranges", "bytes" if server.ranges else "none")  # type: ignore[attr-defined]
        self.end_headers()
        try:
            self.wfile.write(body)
        except (BrokenPipeError, ConnectionResetError):  # the client read only the first bytes
            return
        with server.lock:  # type: ignore[attr-defined]
            server.sent += len(body)  # type: ignore[attr-defined]


@pytest.fixture()
def serve(tmp_path) -> Iterator[object]:
    """Start servers on 127.0.0.1 (free ports) serving ``tmp_path / "www"``; stopped after the test."""
    servers = []
    root = tmp_path / "www"
    root.mkdir()

    def start(ranges: bool = True) -> http.server.ThreadingHTTPServer:
        server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
        server.root, server.ranges, server.lock, server.sent, server.requests = root, ranges, threading.Lock(), 0, 0
        server.daemon_threads = True
        threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
        server.url = f"http://127.0.0.1:{server.server_address[1]}"
        servers.append(server)
        return server

    start.root = root  # type: ignore[attr-defined]
    yield start
    for server in servers:
        server.shutdown()
        server.server_close()


def _long_session(path: Path, n_units: int = 20, n_spikes: int = 100_000, duration: float = 4000.0,
                  chunks: int | None = 4096) -> Path:
    """A session of about 16 MB of spike times, with trials, so that a window is a small part of it.
    ``chunks``: HDF5 chunk length of ``units/spike_times`` (None: hdmf's default, 4 MiB here)."""
    rng = np.random.default_rng(11)
    nwbfile = _nwbfile()
    device = nwbfile.create_device(name="probe")
    groups = [nwbfile.create_electrode_group(name=f"shank{i}", description="s", location=loc, device=device)
              for i, loc in enumerate(("CA1", "V1"))]
    for i in range(4):
        nwbfile.add_electrode(group=groups[i % 2], location=groups[i % 2].location)
    for uid in range(n_units):
        nwbfile.add_unit(spike_times=np.sort(rng.uniform(0, duration, n_spikes)), electrodes=[uid % 4], id=uid)
    for start in np.arange(10.0, duration - 10, 20.0):
        nwbfile.add_trial(start_time=start, stop_time=start + 2.0)
    if chunks is not None:
        from hdmf.backends.hdf5 import H5DataIO

        nwbfile.units.spike_times.set_data_io(H5DataIO, {"chunks": (chunks,)})
    return _write(nwbfile, path)


def _same(a: nc.Recording, b: nc.Recording) -> None:
    np.testing.assert_array_equal(a.data, b.data)
    np.testing.assert_array_equal(a.times, b.times)
    np.testing.assert_array_equal(a.unit_ids, b.unit_ids)
    np.testing.assert_array_equal(a.groups, b.groups)
    assert sorted(a.intervals) == sorted(b.intervals)
    for name in a.intervals:
        assert a.intervals[name].equals(b.intervals[name])


def test_window_over_http_equals_local_and_reads_a_small_part(serve, tmp_path):
    server = serve()
    local = _long_session(serve.root / "long.nwb")
    size = local.stat().st_size
    url = f"{server.url}/long.nwb"
    window = {"bin_size": 0.01, "t_start": 1000.0, "t_stop": 1020.0}
    before = local.read_bytes()
    rec = nc.load(url, **window)
    _same(rec, nc.load(local, **window))
    assert rec.source == url and rec.n_units == 20 and rec.data.sum() > 1000
    # a 20 s window of a 4000 s session: the server sent a small part of the file (the file's
    # metadata, the HDF5 chunks that hold each unit's first and last spike and the window), and says so
    print(f"\nwindow 20 s of 4000 s: {server.sent:,} of {size:,} bytes ({server.sent / size:.2%}) in {server.requests} requests")
    assert server.sent < 0.2 * size, (server.sent, size)
    remote = rec.metadata["remote"]
    assert remote["size"] == size and remote["bytes_fetched"] == server.sent and remote["requests"] == server.requests
    assert local.read_bytes() == before  # read-only
    # trial responses on the remote Recording equal the local ones
    resp = rec.trial_responses(rec.intervals["trials"].query("start_time >= 1000 and stop_time <= 1020"))
    assert resp.n_samples == 1
    np.testing.assert_array_equal(resp.data, nc.load(local, **window).trial_responses(resp.labels).data)


def test_whole_file_describe_and_redirect(serve):
    server = serve()
    local = _write_small(serve.root / "small.nwb")
    url = f"{server.url}/redirect/small.nwb"  # followed once, then ranges go to the final address
    _same(nc.load(url, bin_size=0.05), nc.load(local, bin_size=0.05))
    a, b = describe(url), describe(local)
    for key in ("file", "units", "intervals", "series", "session_end"):
        assert a[key] == b[key], key
    assert a["remote"]["size"] == local.stat().st_size


def _write_small(path: Path) -> Path:
    from tests.io.test_nwb import make_spike_times, write_units_file

    return write_units_file(path, make_spike_times())


def test_disk_cache_fetches_nothing_the_second_time(serve, tmp_path):
    server = serve()
    local = _long_session(serve.root / "long.nwb", n_units=10, n_spikes=20_000)
    url = f"{server.url}/long.nwb"
    window = {"bin_size": 0.1, "t_start": 500.0, "t_stop": 600.0}
    first = nc.load(url, cache=tmp_path / "cache", **window)
    sent = server.sent
    second = nc.load(url, cache=tmp_path / "cache", **window)
    # only the first ranged request (size and redirect check, 8 bytes) reaches the server again
    assert server.sent - sent == 8
    _same(first, second)
    _same(first, nc.load(local, **window))
    with pytest.raises(nc.InvalidParameterError, match="cache must be a folder"):
        nc.load(url, cache=True, **window)


def test_named_errors(serve, tmp_path):
    server = serve()
    _write_small(serve.root / "small.nwb")
    (serve.root / "text.nwb").write_text("not an hdf5 file at all")
    with pytest.raises(nc.MissingFileError, match="404"):
        nc.load(f"{server.url}/absent.nwb")
    with pytest.raises(nc.CorruptFileError, match="not an HDF5 file"):
        nc.load(f"{server.url}/text.nwb")
    no_ranges = serve(ranges=False)
    with pytest.raises(nc.CorruptFileError, match="206 Partial Content"):
        nc.load(f"{no_ranges.url}/small.nwb")
    assert no_ranges.requests == 1  # refused at the first answer, not retried
    port = server.server_address[1]
    server.shutdown()
    server.server_close()
    with pytest.raises(nc.MissingFileError, match="cannot reach"):
        nc.load(f"http://127.0.0.1:{port}/small.nwb")


def test_info_command_on_a_url(serve, capsys):
    from neurocomplex.cli import main

    server = serve()
    local = _write_small(serve.root / "small.nwb")
    assert main(["info", f"{server.url}/small.nwb"]) == 0
    out = capsys.readouterr().out
    assert "units: 5 units, 491 spikes" in out and "interval tables: 2" in out
    assert f"of {local.stat().st_size:,} bytes in" in out


def test_streaming_plan_over_http_equals_local(serve):
    from neurocomplex.io.stream import plan_stream

    server = serve()
    local = _write_small(serve.root / "small.nwb")
    a, b = plan_stream(f"{server.url}/small.nwb", bin_size=0.05), plan_stream(local, bin_size=0.05)
    assert (a.n_samples, a.t_start, a.t_stop, a.n_spikes) == (b.n_samples, b.t_start, b.t_stop, b.n_spikes)
    np.testing.assert_array_equal(a.groups, b.groups)


@pytest.mark.skipif(not REAL.exists(), reason="shared data not present")
def test_real_file_over_http(serve):
    server = serve()
    os.symlink(REAL, serve.root / "mtl.nwb")
    url = f"{server.url}/mtl.nwb"
    window = {"bin_size": 0.1, "t_start": 100.0, "t_stop": 400.0}
    rec = nc.load(url, **window)
    _same(rec, nc.load(REAL, **window))
    print(f"\nreal file, 300 s of 2821 s: {server.sent:,} of {REAL.stat().st_size:,} bytes in {server.requests} requests")
    assert rec.data.sum() > 1000 and server.sent < REAL.stat().st_size
