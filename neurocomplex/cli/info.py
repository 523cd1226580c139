"""``neurocomplex info FILE``: what an NWB file holds and how it would load.

FILE is a local ``.nwb`` file, an NWB Zarr store (folder), or the http(s) URL of an NWB file, read
lazily (only the parts needed, see :mod:`neurocomplex.io.remote`).
"""

from __future__ import annotations

import argparse
from typing import Any

__all__ = ["build", "run"]


def build(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("file", metavar="FILE",
                        help="an NWB file (.nwb), an NWB Zarr store, or the http(s) URL of an NWB file (e.g. a DANDI "
                             "asset: https://api.dandiarchive.org/api/assets/<asset_id>/download/)")
    parser.add_argument("--bin-size", type=float, default=0.01, metavar="SECONDS",
                        help="bin width used to say how the file would load (default: 0.01)")
    parser.add_argument("--cache", default=None, metavar="FOLDER",
                        help="for a URL: keep the fetched parts of the file in FOLDER, so later reads fetch nothing")


def _fmt_time(value: float | None) -> str:
    return "-" if value is None else f"{value:.6g} s"


def _format_info(info: dict[str, Any]) -> str:
    """Readable text of :func:`neurocomplex.io.nwb.describe`'s dictionary."""
    lines = [f"file: {info['path']}"]
    meta = info.get("file") or {}
    for key in ("session_description", "identifier", "session_start_time", "nwb_version"):
        if meta.get(key):
            lines.append(f"  {key}: {meta[key]}")
    units = info.get("units")
    if units is None:
        lines.append("units: none (no Units table)")
    else:
        t0, t1 = units["t_first"], units["t_last"]
        duration = None if t0 is None else t1 - t0
        lines.append(f"units: {units['n_units']} units, {units['n_spikes']} spikes")
        lines.append(f"  spikes from {_fmt_time(t0)} to {_fmt_time(t1)} (duration {_fmt_time(duration)})")
        groups = ", ".join(f"{k}: {v}" for k, v in units["groups"].items())
        lines.append(f"  groups ({units['group_source']}): {groups}")
    end = info.get("session_end") or {}
    if end.get("t") is not None:
        lines.append(f"session ends at {_fmt_time(end['t'])} ({end['source']}; nc.load's default window ends there "
                     "or at the last spike, whichever is later)")
    intervals = info.get("intervals") or {}
    lines.append(f"interval tables: {len(intervals) or 'none'}")
    for name, table in intervals.items():
        lines.append(f"  {name}: {table['n_rows']} rows; columns: {', '.join(table['columns'])}")
    series = info.get("series") or {}
    lines.append(f"time series: {len(series) or 'none'}")
    for path, s in series.items():
        timing = (f"rate {s['rate']:g} Hz" if "rate" in s else f"{s['n_timestamps']} timestamps")
        span = f"{_fmt_time(s.get('t_first'))} to {_fmt_time(s.get('t_last'))}"
        shape = "x".join(str(n) for n in s["shape"])
        lines.append(f"  {path} ({s['neurodata_type'] or 'series'}): shape {shape} {s['dtype']}, {timing}, {span}")
    lines.append(f"load: {info['load']}")
    remote = info.get("remote")
    if remote:
        lines.append(f"read over HTTP: {remote['bytes_fetched']:,} of {remote['size']:,} bytes in {remote['requests']} "
                     "requests")
    return "\n".join(lines)


def run(args: argparse.Namespace) -> int:
    from neurocomplex.io.nwb import describe

    print(_format_info(describe(args.file, bin_size=args.bin_size, cache=args.cache)))
    return 0
