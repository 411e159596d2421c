"""Fresh SoftHSM2 tokens for tests (any test folder may use it).

SoftHSM2 reads ``SOFTHSM2_CONF`` once, when the library is first initialised in
a process, and only sees tokens that existed at ``C_Initialize``. So a process
(a pytest worker) gets one configuration in a directory of its own, each test
gets a token with a unique label, and the library is re-initialised after a
token is created so it sees it. Re-initialising invalidates every session open
in the process: close providers at the end of each test.
"""

from __future__ import annotations

import os
import secrets
import shutil
import subprocess
from pathlib import Path
from typing import NamedTuple

import pytest

SOFTHSM_MODULE = Path("/usr/lib/softhsm/libsofthsm2.so")
SO_PIN = "so-pin-0000"

_conf: Path | None = None


class SoftToken(NamedTuple):
    """What a PKCS#11 provider needs to log in to a fresh token."""

    module: Path
    label: str
    pin: str


def require_softhsm() -> Path:
    """The SoftHSM2 module; under CI a missing one fails (scripts/test-suite.sh installs it)."""
    if not SOFTHSM_MODULE.exists() or shutil.which("softhsm2-util") is None:
        if os.environ.get("CI"):
            pytest.fail("SoftHSM2 is missing: scripts/test-suite.sh installs softhsm2")
        pytest.skip("SoftHSM2 (Debian softhsm2) is not installed")
    return SOFTHSM_MODULE


def configure(state_dir: Path) -> Path:
    """Point this process's SoftHSM2 at ``state_dir`` (first call wins, later ones reuse it)."""
    global _conf
    if _conf is None:
        tokens = state_dir / "tokens"
        tokens.mkdir(parents=True, exist_ok=True)
        conf = state_dir / "softhsm2.conf"
        conf.write_text(
            f"directories.tokendir = {tokens}\nobjectstore.backend = file\nlog.level = ERROR\n"
        )
        os.environ["SOFTHSM2_CONF"] = str(conf)
        _conf = conf
    return _conf


def fresh_token(state_dir: Path) -> SoftToken:
    """Initialise a new token with a unique label and a random user PIN."""
    module = require_softhsm()
    configure(state_dir)
    label = f"t{os.getpid()}-{secrets.token_hex(6)}"  # at most 32 characters
    pin = secrets.token_hex(8)
    subprocess.run(
        [
            "softhsm2-util",
            "--init-token",
            "--free",
            "--label",
            label,
            "--pin",
            pin,
            "--so-pin",
            SO_PIN,
        ],
        check=True,
        capture_output=True,
        env=os.environ.copy(),
    )
    import pkcs11

    pkcs11.lib(str(module)).reinitialize()  # see the new token in this process
    return SoftToken(module, label, pin)
