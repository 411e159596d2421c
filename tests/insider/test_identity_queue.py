"""Moves against the duplicate queue that must fail.

- A DPO's API token scoped to reading the queue cannot start a linkage run (which
  decrypts every identity in the service), and a receptionist's token cannot read
  the queue at all: each refusal is an audited denial.
- The operator with the vault's file finds record ids and level codes in the
  queue, never a value: covered by ``tests/service/test_identity_linkage.py``.
"""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from _cli import run
from _service import served
from etanche.access import Role
from etanche.synth import SynthConfig, generate


def _token(capsys: pytest.CaptureFixture[str], *scopes: str) -> str:
    argv = ["tokens", "create", "script"]
    for scope in scopes:
        argv += ["--scope", scope]
    code, out, err = run(capsys, *argv)
    assert code == 0, err
    return out.strip().splitlines()[-1]


def test_tokens_cannot_reach_beyond_their_scope_or_role(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    network = generate(SynthConfig(patients=20, labs=2, seed=4))
    with served(tmp_path, monkeypatch, network) as site:
        site.add_person("aleroux", "Anne Le Roux", Role.DPO, ["*"])
        site.add_person("mleguen", "Marie Le Guen", Role.RECEPTION, ["L01"])
        site.as_person("aleroux")
        reader = _token(capsys, "identity.pairs")
        code, _, err = run(capsys, "tokens", "create", "x", "--scope", "identity.link")
        assert code == 0, err  # the DPO may hold it; this token just does not
        site.as_person("mleguen")
        code, _, err = run(capsys, "tokens", "create", "y", "--scope", "identity.pairs")
        assert code != 0 and "identity.pairs" in err  # not the receptionist's to hold
        desk = _token(capsys, "patient.search", "patient.read")

        transport = httpx.HTTPTransport(uds=site.address.removeprefix("unix:"))
        answers = {}
        for who, token in (("reader", reader), ("desk", desk)):
            headers = {"Authorization": f"Bearer {token}"}
            with httpx.Client(
                transport=transport, base_url="http://etanche", headers=headers
            ) as http:
                answers[who] = (
                    http.post("/api/v1/identity/link").status_code,
                    http.get("/api/v1/identity/pairs").status_code,
                )
    assert answers == {"reader": (403, 200), "desk": (403, 403)}
