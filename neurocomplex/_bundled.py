"""Where the bundled data (data/ in the repository, neurocomplex/_data in a wheel) are found."""

from __future__ import annotations

from pathlib import Path

from neurocomplex.errors import MissingFileError

__all__ = ["bundled_path"]

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
