"""``mypy --strict`` on src, started at session start and awaited by its test.

A fresh clone has no mypy cache, so the check takes about a minute of one core,
computing alone while the rest of the suite mostly waits on servers. The
controller starts it in the background before the workers come up and names the
result file in ``ETANCHE_TEST_MYPY_RESULT``; the test reads the outcome from
there, or runs mypy itself when nothing was started (a single file run).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
QUALITY = ROOT / "tests" / "test_quality.py"
TEST = "test_mypy_strict_on_src"
RESULT_VARIABLE = "ETANCHE_TEST_MYPY_RESULT"
COMMAND = [sys.executable, "-m", "mypy", "--no-error-summary", "src"]

# Runs in the background process: mypy, then its outcome written in one rename.
_RUNNER = """
import json, os, subprocess, sys
command, result = json.loads(sys.argv[1]), sys.argv[2]
done = subprocess.run(command, cwd=sys.argv[3], capture_output=True, text=True)
with open(result + ".part", "w", encoding="utf-8") as out:
    json.dump({"returncode": done.returncode, "output": done.stdout + done.stderr}, out)
os.replace(result + ".part", result)
"""


def selected(args: list[str], invocation_dir: Path) -> bool:
    """Whether the paths on the command line hold the mypy test."""
    for arg in [a for a in args if not a.startswith("-")] or ["tests"]:
        path, _, node = arg.partition("::")
        target = (invocation_dir / path).resolve()
        if target in QUALITY.parents or (target == QUALITY and node in ("", TEST)):
            return True
    return False


def start(folder: Path) -> subprocess.Popen[bytes]:
    """Start mypy in the background; its outcome will be ``folder/mypy.json``."""
    result = folder / "mypy.json"
    process = subprocess.Popen(
        [sys.executable, "-c", _RUNNER, json.dumps(COMMAND), str(result), str(ROOT)],
        stdin=subprocess.DEVNULL,
        start_new_session=True,
    )
    os.environ[RESULT_VARIABLE] = str(result)
    return process


def outcome(timeout_s: float = 1800.0) -> tuple[int, str]:
    """mypy's return code and output: from the background run if one was started."""
    named = os.environ.get(RESULT_VARIABLE)
    if not named:
        done = subprocess.run(COMMAND, cwd=ROOT, capture_output=True, text=True)
        return done.returncode, done.stdout + done.stderr
    result = Path(named)
    deadline = time.monotonic() + timeout_s
    while not result.exists():
        if time.monotonic() > deadline:
            return -1, f"the background mypy run wrote no result in {timeout_s:.0f} s"
        time.sleep(0.2)
    data = json.loads(result.read_text(encoding="utf-8"))
    return int(data["returncode"]), str(data["output"])
