"""A run killed with SIGKILL at random points resumes to the same content, leaving no plaintext."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
from pathlib import Path

from migrate_support import Migration, approved

from etanche.migrate import build_package

CHILD = Path(__file__).with_name("killable_run.py")


def _run(
    migration: Migration, plan: Path, out: Path, point: str, tmp: Path
) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "TMPDIR": str(tmp), "PYTHONPATH": os.pathsep.join(sys.path)}
    return subprocess.run(
        [sys.executable, str(CHILD), str(migration.folder / "vault"), str(plan), str(out), point],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )


def test_sigkill_at_random_points_then_resume(migration: Migration, tmp_path: Path) -> None:
    plan_path = migration.write_plan()
    plan = approved(migration, plan_path)
    import etanche.migrate._package as package

    package.PART_ROWS, saved = 15, package.PART_ROWS
    try:
        reference = build_package(plan, migration.vault, tmp_path / "ref", actor="pgirard")
    finally:
        package.PART_ROWS = saved
    out, scratch = tmp_path / "pkg", tmp_path / "scratch"
    scratch.mkdir()
    rng = random.Random(20261128)
    writes_total = reference.parts + 3  # parts, canary list, manifest, signature
    kills = 0
    for _ in range(6):
        point = f"{rng.randint(1, writes_total)}:{rng.choice(['mid', 'after'])}"
        done = _run(migration, plan_path, out, point, scratch)
        if done.returncode == -signal.SIGKILL:
            kills += 1
            continue
        assert done.returncode == 0, done.stderr[-2000:]
        break
    assert kills >= 1
    final = _run(migration, plan_path, out, "none", scratch)
    if final.returncode != 0:  # already finished: the folder is a built package now
        assert "not empty" in final.stderr or final.returncode == 0, final.stderr[-2000:]
    manifest = (out / "manifest.json").read_text()
    assert reference.content_sha256 in manifest
    assert not list(out.glob("*.tmp")) and not (out / ".run-state.json").exists()
    leftovers = b"".join(p.read_bytes() for p in out.iterdir()) + b"".join(
        p.read_bytes() for p in scratch.rglob("*") if p.is_file()
    )
    for patient in migration.network.patients():
        if patient.nir and patient.lab_id in ("L01", "L02"):
            assert patient.nir.encode() not in leftovers
            assert patient.birth_name.encode() not in leftovers
