"""Files at rest readable by their owner only, whatever the umask.

The operator of the server is an adversary (DESIGN.md, threat 6): a vault file, a
migration package, an export or a report left 0644 by a permissive umask is the
2020 leak again. Every file Étanche writes goes through this module, so there is
one rule: files 0600, folders Étanche creates 0700. Modes are set with
``fchmod``/``chmod`` after creation because the umask can only narrow what
``open``/``mkdir`` ask for, and a pre-existing file keeps its old mode on
truncation.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import IO, BinaryIO, Literal, TextIO, overload

__all__ = ["PRIVATE_DIR", "PRIVATE_FILE", "open_private", "private_dir", "write_private"]

PRIVATE_FILE = 0o600
PRIVATE_DIR = 0o700

_TRUNCATE = os.O_WRONLY | os.O_CREAT | os.O_TRUNC | getattr(os, "O_CLOEXEC", 0)
_APPEND = os.O_WRONLY | os.O_CREAT | os.O_APPEND | getattr(os, "O_CLOEXEC", 0)


def _mkdir(folder: Path) -> None:
    """Create ``folder`` 0700 (chmod: the umask may have narrowed it further)."""
    os.mkdir(folder, PRIVATE_DIR)
    os.chmod(folder, PRIVATE_DIR)


def _missing_parents(path: Path) -> None:
    """Create the missing folders above ``path`` 0700; existing ones are not ours to touch."""
    missing: list[Path] = []
    folder = path.absolute().parent
    while not folder.exists():
        missing.append(folder)
        folder = folder.parent
    for folder in reversed(missing):
        _mkdir(folder)


def private_dir(path: Path) -> Path:
    """Make ``path`` (and any missing parent) a folder only its owner can enter (0700).

    An existing ``path`` is tightened too: it is the caller's own folder (a vault,
    a package, a letters run), possibly created empty by someone under a wide umask.
    """
    _missing_parents(path)
    if path.is_dir():
        os.chmod(path, PRIVATE_DIR)
    else:
        _mkdir(path)
    return path


def _open_fd(path: Path, flags: int) -> int:
    """An fd on ``path`` whose mode is exactly 0600 (``fchmod`` beats umask and old files)."""
    fd = os.open(path, flags, PRIVATE_FILE)
    try:
        os.fchmod(fd, PRIVATE_FILE)
    except BaseException:
        os.close(fd)
        raise
    return fd


def write_private(path: Path, data: bytes | str) -> None:
    """Write ``data`` to ``path`` atomically, 0600 from the first byte.

    The temporary file (``<name>.tmp``, so a killed run's leftover is overwritten,
    not multiplied) is created 0600, fsynced, then renamed over ``path``: a reader
    never sees half a file and no moment exists where the bytes are wider readable.
    Text is written as UTF-8.
    """
    payload = data.encode("utf-8") if isinstance(data, str) else data
    _missing_parents(path)
    temporary = path.with_name(path.name + ".tmp")
    with os.fdopen(_open_fd(temporary, _TRUNCATE), "wb") as handle:
        handle.write(payload)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(temporary, path)


@overload
def open_private(
    path: Path,
    mode: Literal["w", "a"] = "w",
    *,
    encoding: str = "utf-8",
    errors: str | None = None,
    newline: str | None = None,
) -> TextIO: ...


@overload
def open_private(
    path: Path,
    mode: Literal["wb", "ab"],
    *,
    encoding: None = None,
    errors: None = None,
    newline: None = None,
) -> BinaryIO: ...


def open_private(
    path: Path,
    mode: Literal["w", "a", "wb", "ab"] = "w",
    *,
    encoding: str | None = "utf-8",
    errors: str | None = None,
    newline: str | None = None,
) -> IO[str] | IO[bytes]:
    """Open ``path`` for streaming writes (exports too large for one buffer), 0600.

    ``w`` truncates, ``a`` appends; a ``b`` suffix gives a binary handle. Missing
    parent folders are created 0700.
    """
    _missing_parents(path)
    fd = _open_fd(path, _APPEND if mode.startswith("a") else _TRUNCATE)
    if mode.endswith("b"):
        return os.fdopen(fd, mode)
    return os.fdopen(fd, mode, encoding=encoding, errors=errors, newline=newline)
