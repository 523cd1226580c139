"""Where the bundled data (data/ in the repository, neurocomplex/_data in a wheel) are found."""

from __future__ import annotations

from pathlib import Path

from neurocomplex.errors import MissingFileError

__all__ = ["bundled_path", "comparison_case_paths"]

_CANDIDATES = (
    Path(__file__).resolve().parent / "_data",  # installed wheel (force-included by pyproject)
    Path(__file__).resolve().parents[1] / "data",  # source checkout / editable install
)


def bundled_path(name: str) -> Path:
    """Path of a bundled data file such as ``"demo_recording.nwb"``.

    Raises
    ------
    MissingFileError
        The file is in neither location (a partial install); the message says where it looked.
    """
    for folder in _CANDIDATES:
        path = folder / name
        if path.exists():
            return path
    raise MissingFileError(
        f"bundled file {name!r} not found in {[str(c) for c in _CANDIDATES]}; "
        "reinstall neurocomplex or run the generator script in data/."
    )


def comparison_case_paths() -> dict[str, Path]:
    """The bundled brain-versus-network case: ``{"nwb", "stimuli", "truth"}`` -> path.

    ``nwb`` is ``comparison_case.nwb`` (three areas reading out layers of the demo network, a
    ``trials`` table with ``stimulus_index`` and ``digit``), ``stimuli`` the ``.npy`` of the digits
    shown (float32, ``(150, 64)``, the network's input), ``truth`` the JSON with ``area_layer``
    (made by ``data/make_comparison_case.py``; see data/README.md).

    Raises
    ------
    MissingFileError
        A file is missing (a partial install).

    Examples
    --------
    >>> import json
    >>> json.loads(comparison_case_paths()["truth"].read_text())["area_layer"]["area_1"]
    'relu1'
    """
    return {key: bundled_path(f"comparison_case{suffix}")
            for key, suffix in (("nwb", ".nwb"), ("stimuli", "_stimuli.npy"), ("truth", "_truth.json"))}
