"""The saved login session: a token in a file only its owner can read."""

from __future__ import annotations

import os
import stat
from pathlib import Path

from etanche.errors import AccessError


def write_session(path: Path, token: str) -> Path:
    """Save a session token readable by its owner only (0600, directory 0700)."""
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        os.fchmod(fd, 0o600)
        os.write(fd, token.encode("ascii") + b"\n")
    finally:
        os.close(fd)
    return path


def read_session(path: Path) -> str | None:
    """The saved session token, or None; refuses a file others can read."""
    try:
        mode = path.stat().st_mode
    except FileNotFoundError:
        return None
    if mode & (stat.S_IRWXG | stat.S_IRWXO):
        raise AccessError(f"session file {path}: readable by others; delete it and log in again")
    token = path.read_text(encoding="ascii").strip()
    return token or None


def forget_session(path: Path) -> None:
    path.unlink(missing_ok=True)
