"""`etanche migrate` as the operator, the approvers and the recipient run it.

Every person command is a client of the service (``served``): the service reads
the plan's sources and writes the package on its own host; the CLI holds only
session files. ``verify`` without ``--import`` and ``verify-certificate`` stay
offline recipient tools.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
import yaml

from _cli import run
from _service import Served, served
from conftest import mode_of
from etanche.access import Role
from etanche.audit import AuditLog
from etanche.crypto import AgeIdentity
from etanche.exchange import write_legacy_csv
from etanche.synth import SynthConfig, generate

NETWORK = SynthConfig(patients=150, labs=3, seed=5, invalid_nir_key=0.04)
PEOPLE = {
    "pgirard": ("Pierre Girard", Role.MIGRATION_OPERATOR),
    "cbernard": ("Claire Bernard", Role.LAB_ADMIN),
    "alefevre": ("Anne Lefevre", Role.DPO),
}


@pytest.fixture
def setup(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, object]]:
    """A served vault holding the network's labs (its patients are in the source file)."""
    network = generate(NETWORK)
    with served(tmp_path, monkeypatch) as service:
        with service.open() as store:
            for lab in network.labs:
                store.add_lab(lab)
        for username, (full_name, role) in PEOPLE.items():
            service.add_person(username, full_name, role, ["*"])
        source = tmp_path / "export.csv"
        write_legacy_csv(network, source)
        recipient = AgeIdentity.generate()
        (tmp_path / "recipient.key").write_text(recipient.secret_text() + "\n")
        plan = {
            "plan": "bionord-2026-02",
            "controller": {"name": "Groupe BioNord", "labs": ["L01", "L02", "L03"]},
            "processor": {"name": "LabSoft SAS", "contact": "dpo@labsoft.example"},
            "purpose": "Move L01 to the new lab system",
            "source": {"format": "legacy-csv", "path": "export.csv"},
            "scope": {"labs": ["L01"]},
            "fields": {"admin": ["birth_name", "first_names", "sex", "birth_date", "nir"]},
            "recipients": [{"name": "NewLIS SAS", "age": recipient.public_text()}],
            "retention": {"expires": "2099-01-31"},
            "approvers": [
                {"username": "cbernard", "role": "lab_admin"},
                {"username": "alefevre", "role": "dpo"},
            ],
        }
        (tmp_path / "plan.yaml").write_text(yaml.safe_dump(plan))
        yield {"served": service, "tmp": tmp_path, "network": network}


def _as(monkeypatch: pytest.MonkeyPatch, setup: dict[str, object], username: str) -> None:
    service = setup["served"]
    assert isinstance(service, Served)
    service.as_person(username)


def _unconverted(monkeypatch: pytest.MonkeyPatch, setup: dict[str, object]) -> None:
    """Commands of other groups not yet clients of the service (audit export-key,
    trace) still open the vault themselves."""
    service = setup["served"]
    assert isinstance(service, Served)
    monkeypatch.setenv("ETANCHE_VAULT", str(service.directory))
    monkeypatch.setenv("ETANCHE_PASSPHRASE", service.passphrase)


def _events(setup: dict[str, object], action: str | None = None) -> list:  # type: ignore[type-arg]
    service = setup["served"]
    assert isinstance(service, Served)
    with service.open() as store:
        return [e for _, e in AuditLog.for_vault(store).events(action=action)]


def test_plan_approve_check_run_verify_close(umask_022, setup, monkeypatch, capsys) -> None:
    tmp = setup["tmp"]
    plan = str(tmp / "plan.yaml")
    _as(monkeypatch, setup, "pgirard")
    code, out, err = run(capsys, "migrate", "plan", plan)
    assert code == 0, err
    code, _, err = run(capsys, "migrate", "run", plan, "--out", str(tmp / "pkg"))
    assert code == 8 and "waiting for the approval" in err and "Traceback" not in err
    _as(monkeypatch, setup, "cbernard")
    assert run(capsys, "migrate", "approve", plan)[0] == 0
    _as(monkeypatch, setup, "pgirard")
    code, _, err = run(capsys, "migrate", "approve", plan)
    assert code == 7, err  # the operator has no right to approve
    assert len(err.strip().splitlines()) == 1 and "Traceback" not in err
    _as(monkeypatch, setup, "alefevre")
    code, out, _ = run(capsys, "migrate", "approve", plan)
    assert code == 0 and "state approved" in out

    _as(monkeypatch, setup, "pgirard")
    code, out, err = run(capsys, "migrate", "check", plan, "--json", "--html", str(tmp / "c.html"))
    assert code == 0, err
    report = json.loads(out)
    assert report["records"] == 150 and report["out_of_scope"] > 0
    assert "Identifiant portail" in report["columns"]["refused_credentials"]
    assert "<table>" in (tmp / "c.html").read_text()
    assert mode_of(tmp / "c.html") == 0o600
    for patient in setup["network"].patients():  # type: ignore[attr-defined]
        assert patient.birth_name not in out
    code, out, err = run(capsys, "migrate", "run", plan, "--out", str(tmp / "pkg"))
    assert code == 0 and f"{report['valid']} records" in out, err
    assert mode_of(tmp / "pkg") == 0o700
    assert {mode_of(p) for p in (tmp / "pkg").iterdir()} == {0o600}

    public_key = tmp / "network.pem"
    _as(monkeypatch, setup, "alefevre")
    _unconverted(monkeypatch, setup)
    assert run(capsys, "migrate", "export-key", str(public_key))[0] == 0
    code, out, err = run(
        capsys,
        "migrate",
        "verify",
        str(tmp / "pkg"),
        "--identity",
        str(tmp / "recipient.key"),
        "--signer-key",
        str(public_key),
        "--to-csv",
        str(tmp / "out.csv"),
        "--json",
    )
    assert code == 0, err
    reconciliation = json.loads(out)
    assert reconciliation["matches"] and reconciliation["signature"] == "pinned key"
    assert (tmp / "out.csv").read_text().count("\n") == report["valid"] + 1
    assert mode_of(tmp / "out.csv") == mode_of(public_key) == 0o600

    _as(monkeypatch, setup, "alefevre")
    code, out, err = run(
        capsys, "migrate", "close", "bionord-2026-02", "--certificate", str(tmp / "cert.json")
    )
    assert code == 0 and "destroyed" in out, err
    assert not (tmp / "pkg").exists()
    assert mode_of(tmp / "cert.json") == 0o600
    code, out, _ = run(
        capsys,
        "migrate",
        "verify-certificate",
        str(tmp / "cert.json"),
        "--public-key",
        str(public_key),
    )
    assert code == 0 and "verifies" in out
    certificate = json.loads((tmp / "cert.json").read_text())
    certificate["certificate"]["reason"] = "something else"
    (tmp / "cert.json").write_text(json.dumps(certificate))
    assert run(capsys, "migrate", "verify-certificate", str(tmp / "cert.json"))[0] == 5

    events = _events(setup)
    actions = [e.action for e in events]
    for action in ("migration.plan", "migration.approve", "migration.run", "migration.close"):
        assert action in actions
    outcomes = {(e.action, e.actor, str(e.outcome)) for e in events}
    assert ("migration.approve", "pgirard", "denied") in outcomes  # refusals are audited
    assert ("migration.run", "pgirard", "failed") in outcomes  # so are failures
    checked = next(e for e in events if e.details.get("step") == "check")
    assert checked.details["plan"] == "bionord-2026-02" and checked.details["records"] == 150
    ran = next(e for e in events if e.action == "migration.run" and str(e.outcome) == "ok")
    assert ran.details["records"] == report["valid"] and ran.client != "cli"


def test_a_bad_plan_is_one_clear_line(setup, monkeypatch, capsys) -> None:
    tmp = setup["tmp"]
    (tmp / "bad.yaml").write_text("plan: x1x\npurpose: [\n")
    _as(monkeypatch, setup, "pgirard")
    code, _, err = run(capsys, "migrate", "plan", str(tmp / "bad.yaml"))
    assert code == 2 and "bad.yaml" in err and len(err.strip().splitlines()) == 1


def test_the_next_command_after_expiry_shreds_the_package(setup, monkeypatch, capsys) -> None:
    from sqlalchemy import update

    from etanche.vault._documents import documents_table

    tmp = setup["tmp"]
    plan = str(tmp / "plan.yaml")
    _as(monkeypatch, setup, "pgirard")
    assert run(capsys, "migrate", "plan", plan)[0] == 0
    for approver in ("cbernard", "alefevre"):
        _as(monkeypatch, setup, approver)
        assert run(capsys, "migrate", "approve", plan)[0] == 0
    _as(monkeypatch, setup, "pgirard")
    assert run(capsys, "migrate", "run", plan, "--out", str(tmp / "pkg"))[0] == 0
    assert (tmp / "pkg" / "manifest.json").exists()
    service = setup["served"]
    assert isinstance(service, Served)
    with (
        service.open() as store,
        store.engine.begin() as conn,  # the retention date has come
    ):
        conn.execute(
            update(documents_table)
            .where(documents_table.c.id == "bionord-2026-02")
            .values(expires_at=datetime(2020, 1, 1, tzinfo=UTC))
        )
    # the service's next migration operation, whoever asks, shreds what expired first
    code, out, err = run(capsys, "migrate", "status", "--json")
    assert code == 0, err
    assert not (tmp / "pkg").exists()
    assert json.loads(out)["plans"][0]["state"] == "closed"
    closes = [e for e in _events(setup, "migration.close") if e.details.get("plan")]
    assert closes and closes[-1].actor == "system"


def test_a_leaked_package_is_traced_to_its_plan(setup, monkeypatch, capsys) -> None:
    """The seam at work: rows a recipient leaks from a package name the package."""
    import csv

    from etanche.crypto import age_decrypt
    from etanche.leak.trace import Ledger

    tmp = setup["tmp"]
    plan_path = tmp / "plan.yaml"
    plan = yaml.safe_load(plan_path.read_text())
    plan["fields"]["admin"] += ["phone", "email", "address_line", "postcode", "city"]
    plan_path.write_text(yaml.safe_dump(plan))
    _as(monkeypatch, setup, "pgirard")
    assert run(capsys, "migrate", "plan", str(plan_path))[0] == 0
    for approver in ("cbernard", "alefevre"):
        _as(monkeypatch, setup, approver)
        assert run(capsys, "migrate", "approve", str(plan_path))[0] == 0
    _as(monkeypatch, setup, "pgirard")
    code, out, err = run(capsys, "migrate", "run", str(plan_path), "--out", str(tmp / "pkg"))
    assert code == 0 and "canaries" in out, err

    # the recipient's employee decrypts the package and sells its rows as a CSV
    key = AgeIdentity.from_text((tmp / "recipient.key").read_text())
    manifest = json.loads((tmp / "pkg" / "manifest.json").read_text())
    rows = []
    for part in manifest["parts"]:
        plain = age_decrypt((tmp / "pkg" / part["name"]).read_bytes(), [key], what="part")
        rows += [json.loads(line)["fields"] for line in plain.splitlines()]
    columns = sorted({name for row in rows for name in row})
    with (tmp / "leak.csv").open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=columns, delimiter=";")
        writer.writeheader()
        writer.writerows(rows)

    _as(monkeypatch, setup, "alefevre")
    _unconverted(monkeypatch, setup)
    code, out, err = run(capsys, "trace", str(tmp / "leak.csv"), "--json")
    assert code == 0, err
    service = setup["served"]
    assert isinstance(service, Served)
    with service.open() as store:
        exports = [e for e in Ledger(store).entries() if "bionord-2026-02" in e.purpose]
    assert len(exports) == 1
    sources = json.loads(out)["files"][0]["sources"]
    assert [s["export_id"] for s in sources] == [exports[0].export_id]
    assert sources[0]["canary_hits"] >= 2  # the package's canaries were leaked with it


def test_the_recipient_imports_and_the_marks_are_undone(setup, monkeypatch, capsys) -> None:
    tmp = setup["tmp"]
    plan_path = tmp / "plan.yaml"
    plan = yaml.safe_load(plan_path.read_text())
    plan["fields"]["admin"] += ["phone", "email", "address_line", "postcode", "city"]
    plan["marks"] = ["phone", "nfd", "case", "street", "order"]
    plan_path.write_text(yaml.safe_dump(plan))
    _as(monkeypatch, setup, "pgirard")
    assert run(capsys, "migrate", "plan", str(plan_path))[0] == 0
    for approver in ("cbernard", "alefevre"):
        _as(monkeypatch, setup, approver)
        assert run(capsys, "migrate", "approve", str(plan_path))[0] == 0
    _as(monkeypatch, setup, "pgirard")
    assert run(capsys, "migrate", "run", str(plan_path), "--out", str(tmp / "pkg"))[0] == 0

    _as(monkeypatch, setup, "alefevre")
    _unconverted(monkeypatch, setup)
    assert run(capsys, "migrate", "export-key", str(tmp / "sender.pem"))[0] == 0
    monkeypatch.delenv("ETANCHE_VAULT")
    # the recipient organisation's own service, on its own vault
    with served(tmp / "target", monkeypatch) as target:
        target.add_person("nrecipient", "Nora Recipient", Role.MIGRATION_OPERATOR, ["*"])
        target.add_person("vreader", "Victor Reader", Role.AUDITOR, ["*"])
        target.as_person("nrecipient")
        verify = ["migrate", "verify", str(tmp / "pkg"), "--identity", str(tmp / "recipient.key")]
        code, _, err = run(capsys, *verify, "--import")
        assert code == 2 and "--signer-key" in err  # never imported on the manifest's own key
        pinned = ["--signer-key", str(tmp / "sender.pem")]
        target.as_person("vreader")
        code, _, err = run(capsys, *verify, "--import", *pinned)
        assert code == 7, err  # an auditor imports nothing
        target.as_person("nrecipient")
        code, _, err = run(capsys, *verify, "--import", "--signer-key", str(tmp / "recipient.key"))
        assert code == 8 and "signature" in err, err  # the wrong pinned key rejects the package
        code, out, err = run(capsys, *verify, "--import", "--json", *pinned)
        assert code == 0, err
        result = json.loads(out)
        assert result["matches"] and result["canaries_dropped"] >= 2
        assert result["signature"] == "pinned key"
        expected = {
            (p.birth_name, p.nir, p.emails[0] if p.emails else None)
            for p in setup["network"].patients()  # type: ignore[attr-defined]
            if p.lab_id == "L01"
        }
        with target.open() as store:
            got = {
                (p.birth_name, p.nir, p.emails[0] if p.emails else None)
                for p in (store.get(i) for i in store.patient_ids())
            }
            imports = [e for _, e in AuditLog.for_vault(store).events(action="migration.import")]
        assert len(got) == result["imported"] and got <= expected  # same writing as the source
        outcomes = [(e.actor, str(e.outcome), e.details.get("error")) for e in imports]
        assert outcomes == [
            ("vreader", "denied", None),
            ("nrecipient", "failed", "PackageRejected"),
            ("nrecipient", "ok", None),
        ]
        assert imports[-1].details["imported"] == result["imported"]
