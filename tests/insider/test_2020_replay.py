"""The 2020 case replayed: the vendor's operator, alone, tries to take a whole lab out.

In 2020 one person at the vendor extracted every patient of the labs with their
health comments, unasked, unencrypted, unsupervised (findings F1, F2, F7, F8,
F10). Here that person has a real migration-operator account, a shell on the
server and the database file. Every path they try alone is refused, and every
refusal is an audited ``denied`` event that the DPO sees as an alert.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from _cli import run
from _service import Served, served
from etanche.access import Role
from etanche.audit import AuditLog, Outcome
from etanche.crypto import AgeIdentity
from etanche.synth import SynthConfig, generate

NETWORK = SynthConfig(patients=80, labs=2, seed=2020)
VENDOR = "gprigent"  # the vendor's migration operator, a named person
CLINICAL = ["blood_group", "treatments", "pathologies", "comments"]


@pytest.fixture
def site(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Served]:
    """The network served, the vendor's operator logged in; ylegoff and nquillec exist."""
    with served(tmp_path, monkeypatch, generate(NETWORK)) as service:
        service.add_person(VENDOR, "Gaël Prigent", Role.MIGRATION_OPERATOR, ["*"])
        service.as_person(VENDOR)
        yield service


def whole_lab_plan(site: Served, approvers: list[dict[str, str]], name: str) -> Path:
    """Every patient of L02 with identity, NIR and the clinical columns, to the vendor."""
    data: dict[str, Any] = {
        "plan": name,
        "kind": "export",
        "controller": {"name": "Groupe BioNord", "labs": ["L01", "L02"]},
        "processor": {"name": "Prestataire (synthetic)", "contact": "support@vendor.example"},
        "purpose": "Migration to the new system",
        "scope": {"labs": ["L02"]},
        "fields": {
            "admin": ["birth_name", "first_names", "birth_date", "nir", "phone", "email"],
            "clinical": CLINICAL,
        },
        "recipients": [{"name": "Prestataire", "age": AgeIdentity.generate().public_text()}],
        "retention": {"expires": "2099-12-31"},
        "approvers": approvers,
        "marks": ["phone", "case", "order"],
    }
    path = site.root / f"{name}.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return path


def test_the_vendors_operator_alone_takes_nothing_out(
    site: Served,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("ETANCHE_NEW_PASSWORD", "un mot de passe assez long 2020")
    out = tmp_path / "l02.csv"
    tried: list[tuple[str, tuple[int, str]]] = []

    def attempt(action: str, *argv: str) -> str:
        code, _, err = run(capsys, *argv)
        tried.append((action, (code, err)))
        assert code != 0, f"{argv[:2]} was not refused"
        assert "Traceback" not in err
        return err

    # 1. The 2020 command, verbatim: a whole lab with its clinical columns, no marks.
    attempt(
        "export.create",
        "export", "--lab", "L02", "--fields", ",".join(["nir", "birth_name", *CLINICAL]),
        "--marks", "none", "--canary-rate", "0", "--out", str(out),
    )  # fmt: skip
    # 2. A plan approved by themself and an invented colleague.
    invented = [
        {"username": VENDOR, "role": "migration_operator"},
        {"username": "jdupont", "role": "dpo"},
    ]
    err = attempt(
        "migration.plan", "migrate", "plan", str(whole_lab_plan(site, invented, "migration-p1"))
    )
    assert "approvers" in err
    # 3. A plan naming the real approvers, approved by the vendor instead of them.
    real = [{"username": "ylegoff", "role": "lab_admin"}, {"username": "nquillec", "role": "dpo"}]
    plan = whole_lab_plan(site, real, "migration-p2")
    assert run(capsys, "migrate", "plan", str(plan))[0] == 0  # asking is allowed, and seen
    attempt("migration.approve", "migrate", "approve", str(plan))
    # 4. The export on the unapproved plan anyway.
    attempt("export.create", "export", "--plan", str(plan), "--out", str(out))
    # 5. An accomplice with clinical access, made by the vendor.
    attempt(
        "user.manage",
        "users", "add", "complice", "--name", "Paul Complice", "--role", "biologist",
        "--lab", "L02", "--rpps", "10003456786",
    )  # fmt: skip
    # 6. Browsing patients one by one instead.
    attempt(
        "patient.search",
        "find", "--name", "MARTIN", "--first-name", "Marie", "--birth-date", "1980-01-01",
    )  # fmt: skip
    # 7. A token to do it from a script.
    attempt("token.manage", "tokens", "create", "script", "--scope", "patient.search")
    assert not out.exists()

    # 8. With the shell: the database file holds no NIR, phone or e-mail of the lab in
    #    clear (names are common words: staff share some, so unique values are checked).
    network = generate(NETWORK)
    taken = [p for p in network.patients() if p.lab_id == "L02"]
    assert sum(p.nir is not None for p in taken) >= 10
    assert sum(bool(p.phones) for p in taken) >= 10
    database = b"".join(f.read_bytes() for f in site.directory.rglob("*") if f.is_file())
    for patient in taken:
        for value in (patient.nir, *patient.phones, *patient.emails):
            assert value is None or value.encode() not in database

    # Every refusal is an audited denied event of the vendor ...
    with site.open() as store, AuditLog.for_vault(store) as log:
        denied = [e for _, e in log.events() if e.actor == VENDOR and e.outcome is Outcome.DENIED]
    assert {e.action for e in denied} >= {action for action, _ in tried}
    assert len(denied) >= len(tried)
    # ... that the DPO sees as alerts naming the vendor, without any personal value.
    site.as_person("nquillec")
    code, listed, err = run(capsys, "alerts", "list", "--json")
    assert code == 0, err
    alerts = [a for a in json.loads(listed)["alerts"] if a["actor"] == VENDOR]
    rules = {a["rule"] for a in alerts}
    assert {"refused", "export"} <= rules
    refused = next(a for a in alerts if a["rule"] == "refused")
    assert refused["severity"] == "high" and refused["event_seq"] is not None
    assert sum(a["rule"] == "export" for a in alerts) == sum(
        e.action == "export.create" for e in denied
    )
    for patient in taken:
        assert patient.nir is None or patient.nir not in listed
        assert not any(phone in listed for phone in patient.phones)
