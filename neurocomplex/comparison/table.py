"""Many recordings x many measures -> one tidy table; subsampling curves; surrogate data."""

from __future__ import annotations

import inspect
import math
import warnings
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import numpy as np

from neurocomplex._progress import progress_bar
from neurocomplex._validation import check_choice, check_int, did_you_mean
from neurocomplex.errors import InvalidParameterError, NeurocomplexError
from neurocomplex.estimate import Estimate
from neurocomplex.measures import get_estimator
from neurocomplex.recording import Recording

__all__ = ["measure", "scaling_curve", "surrogate"]

_COLUMNS = ["recording", "group", "measure", "value", "ci_low", "ci_high", "bias", "n_samples", "n_units",
            "method", "warnings"]


def _recording_estimator(name: str) -> Any:
    """The spec of estimator ``name``, which must take one Recording."""
    spec = get_estimator(name)
    if spec.input != "recording":
        raise InvalidParameterError(
            f"{name!r} does not take one Recording (it takes a {spec.input}); call nc.{name} directly."
        )
    return spec


def _call(name: str, rec: Recording, params: Mapping[str, Any]) -> Estimate:
    """Call estimator ``name`` with the subset of ``params`` its signature accepts."""
    spec = _recording_estimator(name)
    sig = inspect.signature(spec.func).parameters
    accepted = {k: v for k, v in params.items() if k in sig}
    return spec.func(rec, **accepted)


def _accepted(name: str) -> tuple[set[str], bool]:
    """Keyword names estimator ``name`` takes, and whether it takes any (``**kwargs``)."""
    params = list(inspect.signature(get_estimator(name).func).parameters.values())[1:]
    return {p.name for p in params}, any(p.kind is p.VAR_KEYWORD for p in params)


def _check_taken(caller: str, name: str, given: Iterable[str], where: str = "") -> None:
    """Reject a keyword that estimator ``name`` does not take, naming the closest one it does.

    The one rule for every keyword forwarded to a single estimator (``nc.measure``'s ``params``,
    ``nc.scaling_curve``'s ``**params``): a typo such as ``bse=math.e`` must not run silently
    with the default.
    """
    accepted, any_kw = _accepted(name)
    if any_kw:
        return
    for key in given:
        if key not in accepted:
            hint = did_you_mean(key, sorted(accepted))
            raise InvalidParameterError(
                f"{caller}: {name} takes no keyword {key!r}{where}; {hint}its keywords: {sorted(accepted)}."
            )


def _check_keywords(names: Sequence[str], common: Mapping[str, Any], params: Mapping[str, Mapping[str, Any]]) -> None:
    """Reject a keyword that no requested measure takes (``n_bot=0`` must not run the bootstrap)."""
    taken = {n: _accepted(n) for n in names}
    everything = sorted(set().union(*(t[0] for t in taken.values())))
    if not any(t[1] for t in taken.values()):
        for key in common:
            if key not in everything:
                hint = did_you_mean(key, everything)
                raise InvalidParameterError(
                    f"nc.measure: no requested measure ({', '.join(names)}) takes the keyword {key!r}; {hint}"
                    f"their keywords: {everything}."
                )
    for name, given in params.items():
        _check_taken("nc.measure", name, given, f" (params[{name!r}])")


def _row(rec_name: str, group: str, name: str, est: Estimate) -> dict[str, Any]:
    low, high = est.ci if est.ci is not None else (math.nan, math.nan)
    bias = est.diagnostics.get("bias", math.nan) if est.ci is not None else math.nan
    return {"recording": rec_name, "group": group, "measure": name, "value": float(est.value),
            "ci_low": low, "ci_high": high, "bias": float(bias) if np.ndim(bias) == 0 else math.nan,
            "n_samples": est.n_samples, "n_units": est.n_units,
            "method": est.method, "warnings": " | ".join(est.warnings)}


def measure(
    recordings: Recording | Mapping[str, Recording],
    measures: str | Sequence[str],
    by: str | None = "group",
    *,
    params: Mapping[str, Mapping[str, Any]] | None = None,
    errors: str = "raise",
    progress: bool | None = None,
    **common: Any,
) -> Any:
    """Run several estimators on one or many Recordings and return one tidy DataFrame.

    Parameters
    ----------
    recordings : Recording or mapping of name -> Recording
        A single Recording is named ``"recording"``.
    measures : str or sequence of str
        Registered estimator names (see :func:`neurocomplex.list_estimators`).
    by : {"group", None}
        ``"group"``: one row per group of units (brain area, layer) and an ``"all"`` row when there
        is more than one group; None: the whole Recording only.
    params : mapping of measure name -> dict, optional
        Parameters for one estimator, e.g. ``{"pattern_entropy": {"method": "plugin"}}``.
    errors : {"raise", "warn"}
        ``"warn"`` turns a failing estimate into a NaN row (with the reason in ``warnings``)
        and a warning, so one sparse group does not stop a whole table.
    progress : bool, optional
        Progress bar; default on only in a terminal.
    **common
        Parameters passed to every estimator that accepts them (``seed``, ``n_boot``, ...). A
        keyword that no requested measure takes is an error (a misspelt ``n_bot=0`` would
        otherwise be ignored).

    Returns
    -------
    pandas.DataFrame
        Columns: recording, group, measure, value, ci_low, ci_high, bias (the bootstrap's bias
        estimate, mean of the replicates minus the value; NaN without an interval), n_samples,
        n_units, method, warnings. One row per recording x group x measure.

    Raises
    ------
    InvalidParameterError
        No measure requested; an unknown measure; ``params`` for a measure not requested; a
        keyword (in ``**common`` or ``params``) that the measures do not take (the message names
        the closest one they do).

    Examples
    --------
    >>> import numpy as np, neurocomplex as nc
    >>> rec = nc.Recording.from_array(np.random.default_rng(0).normal(size=(200, 6)),
    ...                               groups=["A"] * 3 + ["B"] * 3)
    >>> nc.measure(rec, ["participation_ratio"], n_boot=0)[["group", "measure"]]
      group              measure
    0     A  participation_ratio
    1     B  participation_ratio
    2   all  participation_ratio
    """
    import pandas as pd

    check_choice("by", by, ("group", None))
    check_choice("errors", errors, ("raise", "warn"))
    recs = {"recording": recordings} if isinstance(recordings, Recording) else dict(recordings)
    names = [measures] if isinstance(measures, str) else list(measures)
    if not names:
        raise InvalidParameterError(
            "nc.measure: no measure requested; name at least one (see nc.list_estimators())."
        )
    for rec_name, rec in recs.items():
        if not isinstance(rec, Recording):
            raise InvalidParameterError(f"recording {rec_name!r} is a {type(rec).__name__}, not a Recording.")
    for name in names:
        get_estimator(name)  # unknown names fail before any work
    params = dict(params or {})
    unknown = set(params) - set(names)
    if unknown:
        raise InvalidParameterError(f"params given for measures not requested: {sorted(unknown)}.")
    _check_keywords(names, common, params)
    jobs = []
    for rec_name, rec in recs.items():
        parts = rec.by_group() if by == "group" else {}
        if len(parts) <= 1 or by is None:
            parts = {str(rec.groups[0]) if len(parts) == 1 else "all": rec}
        else:
            parts["all"] = rec
        for group, part in parts.items():
            jobs.extend((rec_name, group, part, name) for name in names)
    rows = []
    for rec_name, group, part, name in progress_bar(jobs, len(jobs), progress, "measures"):
        try:
            est = _call(name, part, {**common, **params.get(name, {})})
        except NeurocomplexError as err:
            if errors == "raise":
                raise
            warnings.warn(f"{name} on {rec_name}/{group}: {err}", stacklevel=2)
            est = Estimate(math.nan, None, "failed", {}, part.n_samples, part.n_units, {}, (str(err),))
        rows.append(_row(rec_name, group, name, est))
    return pd.DataFrame(rows, columns=_COLUMNS)


def scaling_curve(
    recording: Recording,
    measure: str,
    n_units: Sequence[int] | None = None,
    n_samples: Sequence[int] | None = None,
    n_repeats: int = 5,
    seed: int = 0,
    progress: bool | None = None,
    **params: Any,
) -> Any:
    """The measure on random subsamples of units and samples, to see whether it has converged.

    Parameters
    ----------
    recording : Recording
    measure : str
        Registered estimator name.
    n_units, n_samples : sequence of int, optional
        Subsample sizes (default: the full size only, along that axis).
    n_repeats : int
        Random subsamples per size (different seeds).
    seed : int
        Base seed; repeat ``r`` of every size uses ``seed + r``.
    **params
        Passed to the estimator (``n_boot=0`` is used unless given, to keep this fast, when the
        estimator takes ``n_boot``). A keyword the estimator does not take is an error, by the same
        rule as ``nc.measure``'s ``params`` (a misspelt ``bse=math.e`` would otherwise give bits).

    Returns
    -------
    pandas.DataFrame
        Columns: n_units, n_samples, repeat, value, method. An entropy or dimension that still
        changes between the two largest sizes has not converged.

    Raises
    ------
    InvalidParameterError
        An unknown measure, one that does not take a Recording, ``n_repeats`` < 1, or a keyword in
        ``**params`` that the measure does not take (the message names the closest one it does).

    Examples
    --------
    >>> import numpy as np, neurocomplex as nc
    >>> rec = nc.Recording.from_array(np.random.default_rng(1).normal(size=(400, 10)))
    >>> df = nc.scaling_curve(rec, "participation_ratio", n_units=[5, 10], n_repeats=2)
    >>> df.groupby("n_units")["value"].size().tolist()
    [2, 2]
    """
    import pandas as pd

    check_int("n_repeats", n_repeats, 1)
    _recording_estimator(measure)  # before any subsampling
    _check_taken("nc.scaling_curve", measure, params)
    if "n_boot" in _accepted(measure)[0]:
        params.setdefault("n_boot", 0)
    sizes_u = list(n_units) if n_units is not None else [recording.n_units]
    sizes_s = list(n_samples) if n_samples is not None else [recording.n_samples]
    jobs = [(u, s, r) for u in sizes_u for s in sizes_s for r in range(n_repeats)]
    rows = []
    for u, s, r in progress_bar(jobs, len(jobs), progress, f"scaling {measure}"):
        sub = recording.subsample(n_units=u if u != recording.n_units else None,
                                  n_samples=s if s != recording.n_samples else None, seed=seed + r)
        est = _call(measure, sub, params)
        rows.append({"n_units": u, "n_samples": s, "repeat": r, "value": float(est.value), "method": est.method})
    return pd.DataFrame(rows)


def surrogate(recording: Recording, method: str = "shuffle_time", seed: int = 0) -> Recording:
    """Surrogate data that keep each unit's rate and destroy the correlations between units.

    Parameters
    ----------
    recording : Recording
    method : {"shuffle_time", "shuffle_units"}
        ``"shuffle_time"``: each unit's samples are permuted independently (keeps each unit's
        distribution, destroys both correlations between units and temporal structure).
        ``"shuffle_units"``: each *sample*'s values are permuted across units (keeps each
        sample's population activity, e.g. the number of active units, destroys unit identity);
        each unit's rate is then kept only on average.
    seed : int

    Returns
    -------
    Recording
        Same shape, ids and times, ``metadata["surrogate"]`` set.

    Examples
    --------
    >>> import numpy as np, neurocomplex as nc
    >>> rec = nc.Recording.from_array(np.arange(12.0).reshape(6, 2))
    >>> s = nc.surrogate(rec, seed=3)
    >>> bool(np.all(np.sort(s.data, axis=0) == rec.data))
    True
    """
    check_choice("method", method, ("shuffle_time", "shuffle_units"))
    rng = np.random.default_rng(seed)
    x = recording.data
    if method == "shuffle_time":
        # argsort of random keys per column gives an independent permutation of every column
        order = np.argsort(rng.random(x.shape), axis=0)
        data = np.take_along_axis(x, order, axis=0)
    else:
        order = np.argsort(rng.random(x.shape), axis=1)
        data = np.take_along_axis(x, order, axis=1)
    meta = dict(recording.metadata, surrogate=method, surrogate_seed=seed)
    return recording.replace(data=data, metadata=meta)
