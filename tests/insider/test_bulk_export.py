"""One migration operator with a shell and a real account tries to take a lab out alone.

The 2020 extraction again (findings F1 and F10): `export --marks none
--canary-rate 0` by one person, no plan, a plaintext 0644 file. Here bulk data
leaves only through an export plan that two named accounts holding an approving
role signed, neither of them its author; what leaves is marked, carries
canaries and is age-encrypted to the plan's recipient, 0600. Every refusal is
audited and raises an alert.
"""

from __future__ import annotations

import csv
import io
import json
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from _cli import run
from _service import Served, served
from conftest import mode_of
from etanche.access import Role
from etanche.audit import AuditEvent, AuditLog, Outcome
from etanche.client._transport import _UnixConnection
from etanche.crypto import AgeIdentity, age_decrypt
from etanche.leak.trace import Ledger
from etanche.migrate import Plans, load_plan
from etanche.synth import SynthConfig, generate

NETWORK = SynthConfig(patients=90, labs=2, seed=17)
AUTHOR = "kmorvan"  # migration operator: writes plans, runs exports
ATTACK = (
    "export", "--lab", "L02",
    "--fields", "birth_name,first_names,nir,phone,blood_group,treatments,pathologies,comments",
    "--marks", "none", "--canary-rate", "0",
)  # fmt: skip


@pytest.fixture
def site(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Served]:
    """The network served; ylegoff (lab admin, from ``served``) and aleroux (DPO) approve."""
    with served(tmp_path, monkeypatch, generate(NETWORK)) as service:
        service.add_person(AUTHOR, "Katell Morvan", Role.MIGRATION_OPERATOR, ["*"])
        service.add_person("aleroux", "Anne Le Roux", Role.DPO, ["*"])
        service.add_person("jmartin", "Jeanne Martin", Role.BIOLOGIST, ["L02"])
        service.add_person("pgirard", "Pierre Girard", Role.MIGRATION_OPERATOR, ["*"])
        service.as_person(AUTHOR)
        yield service


def export_plan(
    site: Served, recipient: AgeIdentity, name: str = "plan.yaml", **changes: Any
) -> Path:
    data: dict[str, Any] = {
        "plan": name.removesuffix(".yaml"),
        "kind": "export",
        "controller": {"name": "Groupe BioNord", "labs": ["L01", "L02"]},
        "processor": {"name": "Registre régional (synthetic)", "contact": "dpo@registre.example"},
        "purpose": "Yearly identity extract of L02 for the regional registry",
        "scope": {"labs": ["L02"]},
        "fields": {"admin": ["birth_name", "first_names", "birth_date", "phone"]},
        "recipients": [{"name": "Registre régional", "age": recipient.public_text()}],
        "retention": {"expires": "2099-12-31"},
        "approvers": [
            {"username": "ylegoff", "role": "lab_admin"},
            {"username": "aleroux", "role": "dpo"},
        ],
        "marks": ["phone", "case", "order"],
    }
    data.update(changes)
    path = site.root / name
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return path


def events(site: Served, action: str) -> list[AuditEvent]:
    with site.open() as store, AuditLog.for_vault(store) as log:
        return [e for _, e in log.events(action=action)]


def export_alerts(site: Served, capsys: pytest.CaptureFixture[str]) -> list[dict[str, Any]]:
    """The open alerts of the export rule, as the DPO lists them."""
    site.as_person("aleroux")
    code, out, err = run(capsys, "alerts", "list", "--json")
    site.as_person(AUTHOR)
    assert code == 0, err
    return [a for a in json.loads(out)["alerts"] if a["rule"] == "export"]


def approve_as(site: Served, capsys: pytest.CaptureFixture[str], who: str, plan: Path) -> int:
    site.as_person(who)
    code, _, _ = run(capsys, "migrate", "approve", str(plan))
    site.as_person(AUTHOR)
    return code


def api(
    site: Served, who: str, path: str, body: dict[str, Any], *, line: int = 0
) -> tuple[int, dict[str, Any]]:
    """POST to /api/v1 as ``who`` over the service's socket; one line of the answer
    (the first by default; -1: a streamed job's result or error)."""
    connection = _UnixConnection(site.address.removeprefix("unix:"), 30.0)
    token = site.sessions[who].read_text().strip()
    headers = {"Content-Type": "application/json", "Authorization": f"Bearer {token}"}
    try:
        connection.request(
            "POST", "/api/v1" + path, body=json.dumps(body).encode(), headers=headers
        )
        response = connection.getresponse()
        raw = response.read()
    finally:
        connection.close()
    return response.status, json.loads(raw.splitlines()[line])


def test_one_operator_cannot_export_alone(
    site: Served, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "l02.csv"
    code, _, err = run(capsys, *ATTACK, "--out", str(out))  # the 2020 command, verbatim
    assert code == 2 and "--lab: the approved plan names the lab" in err
    assert "Traceback" not in err and not out.exists()
    code, _, err = run(capsys, "export", "--out", str(out))  # no option at all: no plan
    assert code == 8 and "nothing leaves without an export plan approved by two" in err
    plan = export_plan(site, AgeIdentity.generate())
    assert run(capsys, "migrate", "plan", str(plan))[0] == 0
    assert approve_as(site, capsys, "ylegoff", plan) == 0  # one approval is not two
    code, _, err = run(capsys, "export", "--plan", str(plan), "--out", str(out))
    assert code == 8 and "waiting for the approval of aleroux" in err
    assert not out.exists()
    refused = events(site, "export.create")
    assert [(e.actor, e.outcome) for e in refused] == [(AUTHOR, Outcome.DENIED)] * 3
    assert "no plan" in str(refused[1].details["reason"])
    assert refused[2].details["plan"] == "plan"
    alerts = export_alerts(site, capsys)
    assert len(alerts) == 3 and all("denied" in a["summary"] for a in alerts)

    # the JSON route, yesterday's body: refused by name, audited, alerted
    attack = {
        "lab": "L02",
        "recipient": "anyone",
        "fields": "nir,blood_group,comments",
        "marks": "none",
        "canary_rate": 0,
        "out": str(out),
    }
    status, answer = api(site, AUTHOR, "/exports", attack)
    assert status == 400 and answer["error"]["message"].startswith("--lab:")
    status, answer = api(site, AUTHOR, "/exports", {"out": str(out)})
    assert status == 409 and answer["error"]["type"] == "PlanNotApproved"
    status, answer = api(site, AUTHOR, "/exports", {"out": str(out), "encrypt": False})
    assert status == 400 and answer["error"]["message"].startswith("encrypt:")
    assert not out.exists()
    assert [e.outcome for e in events(site, "export.create")] == [Outcome.DENIED] * 5
    assert len(export_alerts(site, capsys)) == 5


def test_no_option_removes_marks_canaries_or_encryption(
    umask_022: None, site: Served, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    recipient = AgeIdentity.generate()
    plan = export_plan(site, recipient)
    assert run(capsys, "migrate", "plan", str(plan))[0] == 0
    for approver in ("ylegoff", "aleroux"):
        assert approve_as(site, capsys, approver, plan) == 0
    out = tmp_path / "l02.csv.age"
    for option, value, named in (
        ("--marks", "none", "--marks: the approved plan sets the mark families"),
        ("--canary-rate", "0", "--canary-rate: the approved plan sets the canary rate"),
        ("--fields", "nir,comments", "--fields: the approved plan lists the fields"),
    ):
        code, _, err = run(capsys, "export", "--plan", str(plan), "--out", str(out), option, value)
        assert code == 2 and named in err, err
    code, _, err = run(capsys, "export", "--plan", str(plan), "--out", str(out), "--plaintext")
    assert code == 2 and "--plaintext: an export is always age-encrypted" in err
    assert not out.exists()
    status, answer = api(
        site,
        AUTHOR,
        "/exports",
        {
            "plan": {"text": plan.read_text(), "name": plan.name, "folder": str(plan.parent)},
            "out": str(out),
            "plaintext": True,
        },
    )
    assert status == 400 and answer["error"]["message"].startswith("--plaintext:")
    assert not out.exists()

    code, stdout, err = run(capsys, "export", "--plan", str(plan), "--out", str(out))
    assert code == 0, err
    assert "age-encrypted to the recipient, 0600" in stdout
    assert mode_of(out) == 0o600  # whatever the umask
    sealed = out.read_bytes()
    assert sealed.startswith(b"age-encryption.org/v1")
    with site.open() as store:
        (entry,) = Ledger(store).entries()
        names = {p.birth_name for p in generate(NETWORK).patients() if p.lab_id == "L02"}
    assert not any(name.encode() in sealed for name in names)
    rows = list(csv.DictReader(io.StringIO(age_decrypt(sealed, [recipient], what="x").decode())))
    assert len(rows) == len(entry.rows) + len(entry.canaries)
    assert len(entry.canaries) >= 2 and entry.mark.marks == {"phone", "case", "order"}
    assert entry.recipient == "Registre régional" and entry.lab_id == "L02"
    assert {r["lab"] for r in rows} == {"L02"} and not any(r["nir"] for r in rows)
    done = events(site, "export.create")[-1]
    assert done.outcome is Outcome.OK and done.details["plan"] == "plan"

    # an approved plan is used once; a plan may narrow the marks, never to none
    code, _, err = run(capsys, "export", "--plan", str(plan), "--out", str(tmp_path / "again"))
    assert code == 8 and "already used for an export" in err
    unmarked = export_plan(site, recipient, "unmarked.yaml", marks=[], canary_rate=0)
    code, _, err = run(capsys, "migrate", "plan", str(unmarked))
    assert code == 2 and "marks: expected a non-empty list" in err


@pytest.mark.parametrize(
    ("approver", "problem"),
    [
        ({"username": "ghost", "role": "dpo"}, "ghost: no account with that user name"),
        ({"username": "jmartin", "role": "biologist"}, "jmartin: may not approve this plan"),
        ({"username": "jmartin", "role": "dpo"}, "holds the biologist role, not dpo"),
        ({"username": "pgirard", "role": "migration_operator"}, "pgirard: may not approve"),
        ({"username": AUTHOR, "role": "migration_operator"}, "the plan's author cannot approve"),
        ({"username": "aleroux", "role": "controller lab"}, "role: expected a role of the policy"),
    ],
)
def test_a_plan_naming_invented_approvers_is_refused_at_registration(
    site: Served,
    capsys: pytest.CaptureFixture[str],
    approver: dict[str, str],
    problem: str,
) -> None:
    plan = export_plan(
        site,
        AgeIdentity.generate(),
        approvers=[{"username": "ylegoff", "role": "lab_admin"}, approver],
    )
    code, _, err = run(capsys, "migrate", "plan", str(plan))
    assert code == 2 and problem in err and "Traceback" not in err
    with site.open() as store:
        assert Plans(store).all() == []


def test_approval_by_a_person_who_may_not_approve_is_refused_and_audited(
    site: Served, capsys: pytest.CaptureFixture[str]
) -> None:
    """A plan slipped into the vault without the registration checks still gets no approval."""
    plan = export_plan(
        site,
        AgeIdentity.generate(),
        approvers=[
            {"username": "ylegoff", "role": "lab_admin"},
            {"username": "jmartin", "role": "dpo"},  # a biologist: may read clinical data
        ],
    )
    with site.open() as store:
        Plans(store).register(load_plan(plan), AUTHOR)
    assert approve_as(site, capsys, "jmartin", plan) == 7  # the policy: no approving role
    assert approve_as(site, capsys, "ylegoff", plan) == 7  # the other named one is invalid
    assert approve_as(site, capsys, "aleroux", plan) == 7  # not named in the plan
    refused = events(site, "migration.approve")
    assert [(e.actor, e.outcome) for e in refused] == [
        ("jmartin", Outcome.DENIED),
        ("ylegoff", Outcome.DENIED),
        ("aleroux", Outcome.DENIED),
    ]
    assert "holds the biologist role, not dpo" in str(refused[1].details["reason"])
    with site.open() as store:
        record = Plans(store).get("plan")
    assert record.approvals == () and record.state == "pending"
    code, _, err = run(capsys, "export", "--plan", str(plan), "--out", str(site.root / "x"))
    assert code == 8 and "waiting for the approval" in err and not (site.root / "x").exists()


def test_two_exports_at_once_on_one_plan_give_one_file(
    site: Served, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The operator starts the same approved export twice at the same instant, hoping
    for two copies; one gets the plan, the other is refused. A run that wrote
    nothing (a missing folder) does not spend the plan."""
    plan = export_plan(site, AgeIdentity.generate())
    assert run(capsys, "migrate", "plan", str(plan))[0] == 0
    for approver in ("ylegoff", "aleroux"):
        assert approve_as(site, capsys, approver, plan) == 0
    body = {"text": plan.read_text(), "name": plan.name, "folder": str(plan.parent)}
    missing = tmp_path / "no-such-folder" / "l02.csv.age"
    _, answer = api(site, AUTHOR, "/exports", {"plan": body, "out": str(missing)}, line=-1)
    assert "does not exist" in answer["error"]["message"]

    outs = [tmp_path / f"copy-{i}.csv.age" for i in range(2)]
    barrier = threading.Barrier(2)
    answers: list[dict[str, Any]] = []

    def export(out: Path) -> None:
        barrier.wait()
        answers.append(api(site, AUTHOR, "/exports", {"plan": body, "out": str(out)}, line=-1)[1])

    threads = [threading.Thread(target=export, args=(out,)) for out in outs]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    done = [a for a in answers if "result" in a]
    refused = [a["error"] for a in answers if "error" in a]
    assert len(done) == 1 and len(refused) == 1, answers
    assert "already used for an export" in refused[0]["message"]
    assert sum(out.exists() for out in outs) == 1
    with site.open() as store:
        assert len(Ledger(store).entries()) == 1
