"""Files written whole or not at all.

Every file the toolkit writes (CSV tables, reports, NWB files, cached session results) goes
through :func:`atomic_path` or the helpers built on it: the content is written to a temporary
file in the target's folder, flushed and synced to the device, then renamed over the target
(``os.replace``, atomic on POSIX and Windows), and the folder is synced. A failure at any point
(no space, read-only file system, permission, a crash) leaves the earlier file, or no file, under
the target's name, never a partial one that looks complete; the temporary file is removed, and
file-system errors become :class:`~neurocomplex.errors.OutputError` naming the path and the cause.

Temporary files are named ``.<target name>.<host>.<pid>.<random>.tmp``; one left by a killed
process of this host is removed by the next write of the same target.
"""

from __future__ import annotations

import contextlib
import errno
import os
import re
import secrets
import socket
import stat
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import IO, Any

from neurocomplex.errors import InvalidParameterError, NeurocomplexError, OutputError

__all__ = ["atomic_path", "atomic_open", "write_bytes", "write_text", "write_with", "output_error", "prepare_target",
           "is_write_failure"]

_CAUSES = {
    errno.ENOSPC: ("no space left on the device", "free some space or write to another folder"),
    errno.EDQUOT: ("the disk quota is exceeded", "free some space or write to another folder"),
    errno.EFBIG: ("the file is larger than the file system allows", "write to another file system"),
    errno.EROFS: ("the file system is read-only", "write to a writable folder"),
    errno.EACCES: ("permission denied", "check the folder's permissions or write to another folder"),
    errno.EPERM: ("operation not permitted", "check the folder's permissions or write to another folder"),
    errno.ENOTDIR: ("a part of the path is a regular file, not a folder", "give a path inside a folder"),
    errno.EISDIR: ("the path is a folder", "give a file path"),
    errno.ENAMETOOLONG: ("the file name is too long", "choose a shorter name"),
    errno.EIO: ("an input/output error of the device", "check the device, or write to another one"),
    errno.ENOENT: ("the folder disappeared while writing", "check that nothing else removes it"),
    errno.EEXIST: ("a part of the path exists and is not a folder", "give a path inside a folder"),
}
# Errors of the device or of permissions, not of the content being written.
_WRITE_FAILURES = frozenset({errno.ENOSPC, errno.EDQUOT, errno.EFBIG, errno.EROFS, errno.EACCES, errno.EPERM, errno.EIO,
                             errno.ENOTDIR})
_HOST = re.sub(r"[^A-Za-z0-9-]", "", socket.gethostname())[:32] or "host"
# File names longer than this are cut in the temporary name (most file systems allow 255 bytes).
_NAME_ROOM = 120


def _errno_of(err: BaseException) -> int | None:
    code = getattr(err, "errno", None)
    if isinstance(code, int):
        return code
    found = re.search(r"errno = (\d+)", str(err))  # HDF5 reports the C errno inside its message
    return int(found.group(1)) if found else None


def is_write_failure(err: BaseException) -> bool:
    """Whether ``err`` (an OSError, or a library's error carrying its errno) is a failure of the device or
    of permissions (no space, read-only, permission, I/O), as opposed to one of the content.

    Examples
    --------
    >>> import errno
    >>> is_write_failure(OSError(errno.ENOSPC, "No space left on device")), is_write_failure(ValueError("bad"))
    (True, False)
    """
    return _errno_of(err) in _WRITE_FAILURES


def output_error(path: str | os.PathLike[str], err: BaseException, what: str = "file",
                 earlier: bool | None = None) -> OutputError:
    """The :class:`OutputError` for a failed write of ``path``: what, where, the cause and what to do.

    Parameters
    ----------
    path : path-like
        The target that was not written.
    err : BaseException
        The error of the file system (its errno decides the cause).
    what : str
        What the file is (``"CSV table"``, ``"NWB file"``, ...).
    earlier : bool, optional
        Whether an earlier file of that name exists (and is kept): said in the message.

    Returns
    -------
    OutputError

    Examples
    --------
    >>> import errno
    >>> str(output_error("/full/t.csv", OSError(errno.ENOSPC, "No space left on device"), "CSV table", False))
    "could not write CSV table '/full/t.csv': no space left on the device (No space left on device); no file was left there. Free some space or write to another folder."
    """
    code = _errno_of(err)
    cause, advice = _CAUSES.get(code, (f"{type(err).__name__}", "check the path and the device"))
    detail = getattr(err, "strerror", None) or str(err).split("\n")[0]
    kept = "" if earlier is None else ("; the earlier file is unchanged" if earlier else "; no file was left there")
    return OutputError(f"could not write {what} {os.fspath(path)!r}: {cause} ({detail}){kept}. "
                       f"{advice[0].upper()}{advice[1:]}.")


def prepare_target(path: str | os.PathLike[str], what: str = "file") -> Path:
    """The real path to write (a symbolic link's target), its folder created; named errors otherwise.

    Parameters
    ----------
    path : path-like
        The file to write.
    what : str
        What the file is, for messages.

    Returns
    -------
    pathlib.Path
        The path to replace: ``path`` itself, or the file a symbolic link points to.

    Raises
    ------
    OutputError
        The path is a folder, a part of it is a regular file, or its folder cannot be created.
    """
    target = Path(os.fspath(path))
    if target.is_symlink():  # write the file the link names, as an in-place write would
        target = Path(os.path.realpath(target))
    if target.is_dir():
        raise output_error(target, OSError(errno.EISDIR, "Is a directory"), what, True)
    folder = target.parent
    blocker = next((p for p in [folder, *folder.parents] if p.exists() and not p.is_dir()), None)
    if blocker is not None:
        raise OutputError(f"could not write {what} {str(path)!r}: {str(blocker)!r} is a regular file, not a folder, "
                          "so nothing can be written below it. Give a path inside a folder.")
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        raise output_error(target, err, what, False) from err
    return target


def _sync_folder(folder: Path) -> None:
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:  # pragma: no cover - platforms that cannot open folders
        return
    try:
        os.fsync(fd)
    except OSError:  # some file systems cannot sync a folder; the rename is still atomic
        pass
    finally:
        os.close(fd)


def _sync_file(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _remove_stale(target: Path) -> None:
    """Temporary files of ``target`` left by processes of this host that are no longer running."""
    prefix = f".{target.name[:_NAME_ROOM]}.{_HOST}."
    try:
        names = [n for n in os.listdir(target.parent) if n.startswith(prefix) and n.endswith(".tmp")]
    except OSError:
        return
    for name in names:
        pid = name[len(prefix):].split(".")[0]
        if not pid.isdigit() or int(pid) == os.getpid():
            continue
        try:
            os.kill(int(pid), 0)
        except ProcessLookupError:
            with contextlib.suppress(OSError):
                os.unlink(target.parent / name)
        except OSError:  # alive, owned by someone else
            pass


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike[str], what: str = "file") -> Iterator[Path]:
    """A temporary path in ``path``'s folder; when the block ends without error it replaces ``path``.

    Parameters
    ----------
    path : path-like
        The file to write (its folder is created when missing).
    what : str
        What the file is, for messages (``"CSV table"``, ``"NWB file"``).

    Yields
    ------
    pathlib.Path
        An empty file to write to (by name: pynwb, h5py, pandas).

    Raises
    ------
    OutputError
        The file system refused (no space, read-only, permission, not a folder); ``path`` keeps its
        earlier content, or does not exist. Other errors of the block propagate unchanged, with the
        temporary file removed.

    Notes
    -----
    The temporary file is created with the permissions a new file gets (the umask's), or those of
    the file it replaces; it is synced (``fsync``) before the rename and the folder after it, so
    that a power cut leaves the earlier file or the new one.

    Examples
    --------
    >>> import tempfile, os
    >>> target = os.path.join(tempfile.mkdtemp(), "a.txt")
    >>> with atomic_path(target) as tmp:
    ...     _ = tmp.write_text("complete")
    >>> with open(target) as f:
    ...     f.read()
    'complete'
    """
    target = prepare_target(path, what)
    existed = target.exists()
    _remove_stale(target)
    tmp = target.parent / f".{target.name[:_NAME_ROOM]}.{_HOST}.{os.getpid()}.{secrets.token_hex(4)}.tmp"
    try:
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
        os.close(fd)
        if existed:
            with contextlib.suppress(OSError):
                os.chmod(tmp, stat.S_IMODE(target.stat().st_mode))
    except OSError as err:
        raise output_error(path, err, what, existed) from err
    try:
        yield tmp
        _sync_file(tmp)
        os.replace(tmp, target)
    except BaseException as err:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        if isinstance(err, OSError) and not isinstance(err, NeurocomplexError):
            raise output_error(path, err, what, existed) from err
        if is_write_failure(err) and not isinstance(err, NeurocomplexError):  # an OSError wrapped by a library
            raise output_error(path, err, what, existed) from err
        raise
    _sync_folder(target.parent)


@contextlib.contextmanager
def atomic_open(path: str | os.PathLike[str], mode: str = "w", what: str = "file", **kwargs: Any) -> Iterator[IO[Any]]:
    """Open a temporary file for writing; on success it is flushed, synced and renamed to ``path``.

    Parameters
    ----------
    path : path-like
        The file to write.
    mode : {"w", "wb"}
        Text or binary.
    what : str
        What the file is, for messages.
    **kwargs
        Passed to :func:`open` (``encoding``, ``newline``).

    Yields
    ------
    file object

    Raises
    ------
    OutputError
        As :func:`atomic_path`.

    Examples
    --------
    >>> import tempfile, os
    >>> target = os.path.join(tempfile.mkdtemp(), "b.txt")
    >>> with atomic_open(target, encoding="utf-8") as f:
    ...     _ = f.write("whole")
    >>> with open(target) as f:
    ...     f.read()
    'whole'
    """
    if mode not in ("w", "wb"):
        raise InvalidParameterError(f"atomic_open writes with mode 'w' or 'wb', got {mode!r}")
    if mode == "w":
        kwargs.setdefault("encoding", "utf-8")
    with atomic_path(path, what) as tmp, open(tmp, mode, **kwargs) as f:
        yield f
        f.flush()


def write_bytes(path: str | os.PathLike[str], data: bytes, what: str = "file") -> Path:
    """Write ``data`` to ``path`` atomically (see :func:`atomic_path`); returns ``path``.

    Examples
    --------
    >>> import tempfile, os
    >>> write_bytes(os.path.join(tempfile.mkdtemp(), "c.bin"), b"abc").read_bytes()
    b'abc'
    """
    with atomic_open(path, "wb", what) as f:
        f.write(data)
    return Path(path)


def write_text(path: str | os.PathLike[str], text: str, what: str = "file") -> Path:
    """Write ``text`` (UTF-8) to ``path`` atomically (see :func:`atomic_path`); returns ``path``.

    Examples
    --------
    >>> import tempfile, os
    >>> write_text(os.path.join(tempfile.mkdtemp(), "d.txt"), "é").read_text(encoding="utf-8")
    'é'
    """
    with atomic_open(path, "w", what, newline="") as f:
        f.write(text)
    return Path(path)


def write_with(path: str | os.PathLike[str], writer: Callable[[Path], Any], what: str = "file") -> Path:
    """Call ``writer(temporary_path)`` and rename its file into place (see :func:`atomic_path`).

    Examples
    --------
    >>> import tempfile, os
    >>> write_with(os.path.join(tempfile.mkdtemp(), "e.txt"), lambda p: p.write_text("x")).read_text()
    'x'
    """
    with atomic_path(path, what) as tmp:
        writer(tmp)
    return Path(path)
