"""The art. 15 access report: every stored field, no other patient, the log's accesses, proved.

The report is built for one patient among look-alikes (same names and birth
date); it must hold every field of the ``Patient`` and ``Specimen`` dataclasses
(walked, so a new field fails here until the report writes it), none of the
look-alikes' values, and exactly the log's events naming the record, each with
an inclusion proof that verifies offline with the log's verifier key alone.
"""

from __future__ import annotations

import base64
import copy
import dataclasses
import json
import os
import pty
import select
import subprocess
from datetime import date, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from fhir.resources.R4B import get_fhir_model_class

from etanche.access import Actor, Role
from etanche.audit import AuditLog, Outcome
from etanche.audit._alerts import AlertEngine
from etanche.audit._rules import load_rules
from etanche.domain import (
    DOWNGRADE_REASONS_FR,
    IDENTITY_DOCUMENTS_FR,
    Address,
    BloodGroup,
    DocumentCheck,
    Downgrade,
    DowngradeReason,
    IdentityDocument,
    IdentityStatus,
    InsRetrieval,
    InsTraits,
    Patient,
    Physician,
    Sex,
    Specimen,
    Treatment,
    load_retention,
)
from etanche.errors import IntegrityError, PermissionDenied
from etanche.service import AccessReports, PatientService, Trail
from etanche.service._access_fhir import report_bundle
from etanche.synth import SynthNetwork
from etanche.vault import Vault
from etanche.verify import CLAIM_URL, PROOF_URL, verify_access_report

PARIS = ZoneInfo("Europe/Paris")
PASSPHRASE = "correct horse battery staple"

# How the report writes each leaf of the model (a field not handled here fails the walk).
_SEX = {"M": "masculin", "F": "féminin", "I": "indéterminé"}
_STATUS = {"PROV": "provisoire", "RECUP": "récupérée", "VALI": "validée", "QUAL": "qualifiée"}


def _rendered(name: str, value: Any) -> list[str]:
    """What must appear in the report text for one leaf value."""
    if isinstance(value, bool):
        return [f"Grossesse : {'oui' if value else 'non'}"]
    if value is None or value == ():
        return []  # a field left empty reads "non renseigné"
    if name.endswith(("checked_by", "entered_by", "identity_downgrade.by")):
        return []  # staff: pseudonymised like the access list's, never named here
    if name.endswith("sex"):
        return [_SEX[value.value]]
    if name.endswith(("identity_status", "from_status")):
        return [_STATUS[value.value]]
    if name == "identity_document.kind":
        return [IDENTITY_DOCUMENTS_FR[value]]
    if name == "identity_downgrade.reason":
        return [DOWNGRADE_REASONS_FR[value]]
    if isinstance(value, datetime):
        local = value.astimezone(PARIS)
        return [f"{local:%d/%m/%Y} à {local:%H} h {local:%M}"]
    if isinstance(value, date):
        return [value.strftime("%d/%m/%Y")]
    if isinstance(value, str):
        return [value]
    raise AssertionError(f"field {name}: a {type(value).__name__} the report does not write")


def _leaves(obj: Any, prefix: str = "") -> list[tuple[str, Any]]:
    """Every (field path, leaf value) of a dataclass tree; tuples are walked item by item."""
    out: list[tuple[str, Any]] = []
    for f in dataclasses.fields(obj):
        value = getattr(obj, f.name)
        name = f"{prefix}{f.name}"
        items = value if isinstance(value, tuple) else (value,)
        for item in items:
            if dataclasses.is_dataclass(item):
                out += _leaves(item, f"{name}.")
            elif hasattr(item, "abo"):
                out.append((name, str(item)))
            else:
                out.append((f.name if not prefix else name, item))
    return out


def _trail(vault: Vault) -> Trail:
    log = AuditLog.for_vault(vault, head_every=50, head_interval_s=3600)
    return Trail(log, AlertEngine(vault.engine, load_rules()))


def _actor(username: str, role: Role, labs: frozenset[str]) -> Actor:
    return Actor(username, f"u-{username}", role, labs)


def _full(network: SynthNetwork) -> tuple[Patient, list[Specimen]]:
    """A synthetic patient with every optional field filled, and two specimens."""
    base, specimens = next(
        (p, s) for batch in network.batches() for p, s in batch if len(s) >= 2 and p.insurance
    )
    pid = "f" * 8 + base.id[8:]
    clinical = dataclasses.replace(
        base.clinical,
        blood_group=BloodGroup("AB", "-"),
        comments=("Patiente sous anticoagulant",),
        treatments=(Treatment("Warfarine", "B01AA03"),),
        pathologies=("Fibrillation atriale",),
        pregnant=False,
    )
    patient = dataclasses.replace(
        base,
        id=pid,
        used_name="Kerjean",
        birthplace_insee="29019",
        phones=("+33298000001",),
        emails=("cible@exemple.fr",),
        physician=Physician("Dr Anne Le Gall", "10003456786"),
        clinical=clinical,
        last_visit=date(2026, 11, 30),
        identity_status=IdentityStatus.VALIDATED,
        identity_document=DocumentCheck(
            IdentityDocument.PASSPORT, "mleguen", datetime(2026, 11, 30, 9, 5, tzinfo=PARIS)
        ),
        ins=InsRetrieval(
            matricule="2840629019042" + "65",
            oid="1.2.250.1.213.1.4.8",
            traits=InsTraits("Insmatch", ("Ninon", "Aude"), Sex.FEMALE, date(1984, 6, 2), "29020"),
            retrieved_at=datetime(2026, 11, 30, 9, 7, tzinfo=PARIS),
            entered_by="mleguen",
        ),
        identity_downgrade=Downgrade(
            IdentityStatus.QUALIFIED,
            DowngradeReason.INS_DOUBT,
            "akerhervé",
            datetime(2026, 11, 30, 10, 12, tzinfo=PARIS),
        ),
    )
    kept = [
        dataclasses.replace(s, id="f" * 8 + s.id[8:], patient_id=pid, accession=f"A{i}X9")
        for i, s in enumerate(specimens[:2])
    ]
    return patient, kept


@pytest.fixture
def scene(loaded_vault: Vault, small_network: SynthNetwork) -> dict[str, Any]:
    """A target patient, two look-alikes, staff who open them, and the DPO's service."""
    vault = loaded_vault
    target, specimens = _full(small_network)
    vault.add(target, specimens)
    assert not [name for name, value in _leaves(target) if value is None]
    twins = [
        dataclasses.replace(
            target,
            id=f"{target.id[:-4]}tw{i}x"[-len(target.id) :],
            nir=None,
            phones=(f"+3361234567{i}",),
            emails=(f"jumeau{i}@exemple.fr",),
            addresses=(Address(f"{i} rue des Lilas", "29200", "Brest"),),
        )
        for i in range(2)
    ]
    vault.add_many((t, []) for t in twins)
    trail = _trail(vault)
    labs = frozenset(lab.id for lab in small_network.labs)
    front = PatientService(vault.session(()), trail, _actor("mleguen", Role.RECEPTION, labs))
    bio = PatientService(vault.session(()), trail, _actor("akerhervé", Role.BIOLOGIST, labs))
    front.get(target.id)
    bio.get(target.id)
    bio.specimens_of(target.id)
    bio.get(twins[0].id)
    front.get(twins[1].id)
    bio.get(target.id)
    dpo = _actor("nquillec", Role.DPO, frozenset({"*"}))
    reports = AccessReports(vault.session(()), trail, dpo, retention=load_retention())
    return {"vault": vault, "trail": trail, "target": target, "specimens": specimens,
            "twins": twins, "reports": reports}  # fmt: skip


def test_holds_every_stored_field_of_the_patient_and_its_specimens(scene: dict[str, Any]) -> None:
    text = scene["reports"].markdown(scene["target"].id)
    missing = [
        (name, value)
        for obj in (scene["target"], *scene["specimens"])
        for name, value in _leaves(obj)
        for shown in _rendered(name, value)
        if shown not in text
    ]
    assert missing == []
    assert "Grossesse :" in text and "Durée de conservation" in text
    assert "CSP art. L.1142-28" in text  # the retention's French source


def test_holds_no_value_of_another_patient(
    scene: dict[str, Any], small_network: SynthNetwork
) -> None:
    reports: AccessReports = scene["reports"]
    report = reports.build(scene["target"].id)
    text = reports.markdown(scene["target"].id) + json.dumps(report_bundle(report))
    own = {v for _, v in _leaves(scene["target"]) if isinstance(v, str)}
    for twin in scene["twins"]:
        theirs = {v for _, v in _leaves(twin) if isinstance(v, str) and v not in own}
        assert theirs and not [v for v in theirs if v in text]
    for other in small_network.patients():
        if other.id == scene["target"].id:
            continue
        distinct = {other.id, other.nir, *other.phones, *other.emails} - own - {None}
        assert not [v for v in distinct if v in text], other.id


def test_access_list_equals_the_log_events_of_the_patient(scene: dict[str, Any]) -> None:
    report = scene["reports"].build(scene["target"].id)
    logged = scene["trail"].log.events(object_id=scene["target"].id, limit=10_000)
    expected = [(seq, e.action, e.role) for seq, e in logged if seq < report.head.tree_size]
    assert [(e.seq, e.action, e.role) for e in report.entries] == expected
    assert {e.action for e in report.entries} >= {"patient.read", "specimen.list"}
    assert {e.staff for e in report.entries if e.role != "system"} == {"Personne 1", "Personne 2"}
    twins = {t.id for t in scene["twins"]}
    assert not any(twins & set(e.proof.event().object_ids) for e in report.entries)  # type: ignore[union-attr]


def test_every_proof_verifies_offline_and_tampering_fails(scene: dict[str, Any]) -> None:
    report = scene["reports"].build(scene["target"].id)
    key = scene["trail"].log.note_key()
    bundle = report_bundle(report)
    checked = verify_access_report(json.dumps(bundle), key)
    assert checked.entries == len(report.entries) >= 4
    assert checked.tree_size == report.head.tree_size
    get_fhir_model_class("Bundle").model_validate(bundle)
    for entry in bundle["entry"]:
        resource = entry["resource"]
        get_fhir_model_class(resource["resourceType"]).model_validate(resource)

    def events(doc: dict[str, Any]) -> list[dict[str, Any]]:
        return [
            e["resource"] for e in doc["entry"] if e["resource"]["resourceType"] == "AuditEvent"
        ]

    bad_path = copy.deepcopy(bundle)
    ext = next(x for x in events(bad_path)[0]["extension"] if x["url"] == PROOF_URL)
    proof = json.loads(ext["valueString"])
    proof["path"][0] = "00" * 32
    ext["valueString"] = json.dumps(proof)
    with pytest.raises(IntegrityError, match="not included in the signed checkpoint"):
        verify_access_report(json.dumps(bad_path), key)

    moved = copy.deepcopy(bundle)
    events(moved)[1]["recorded"] = "2020-01-01T00:00:00+00:00"
    with pytest.raises(IntegrityError, match="at differs"):
        verify_access_report(json.dumps(moved), key)

    renamed = copy.deepcopy(bundle)
    ext = next(x for x in events(renamed)[1]["extension"] if x["url"] == CLAIM_URL)
    claim = json.loads(ext["valueString"])
    claim["staff"] = events(renamed)[1]["agent"][0]["who"]["display"] = "Personne 9"
    ext["valueString"] = json.dumps(claim)
    with pytest.raises(IntegrityError, match="not the one the log key signed"):
        verify_access_report(json.dumps(renamed), key)

    dropped = copy.deepcopy(bundle)
    first = events(dropped)[0]
    dropped["entry"] = [e for e in dropped["entry"] if e["resource"] is not first]
    with pytest.raises(IntegrityError, match="not the one the log key signed"):
        verify_access_report(json.dumps(dropped), key)


def test_named_staff_carry_the_logged_event_body(scene: dict[str, Any]) -> None:
    reports: AccessReports = scene["reports"]
    reports.staff_named = True
    report = reports.build(scene["target"].id)
    assert {"mleguen", "akerhervé"} <= {e.staff for e in report.entries}
    bundle = report_bundle(report)
    assert verify_access_report(json.dumps(bundle), scene["trail"].log.note_key()).entries
    body = next(
        x for e in bundle["entry"] if e["resource"]["resourceType"] == "AuditEvent"
        for x in e["resource"]["extension"] if x["url"].endswith("audit-event-body")
    )  # fmt: skip
    assert base64.b64decode(body["valueBase64Binary"]).startswith(b"{")


def test_producing_is_audited_and_refused_to_a_receptionist(scene: dict[str, Any]) -> None:
    target = scene["target"]
    delivery = scene["reports"].produce(target.id, printed=True)
    assert not delivery.encrypted and list(delivery.files) == [f"acces-{target.id[-8:]}.pdf"]
    assert next(iter(delivery.files.values())).startswith(b"%PDF")
    last = scene["trail"].log.events(object_id=target.id, newest_first=True, limit=1)[0][1]
    assert (last.action, last.outcome, last.actor) == (
        "rights.access_report",
        Outcome.OK,
        "nquillec",
    )
    front = AccessReports(
        scene["vault"].session(()),
        scene["trail"],
        _actor("mleguen", Role.RECEPTION, frozenset({target.lab_id})),
        retention=load_retention(),
    )
    with pytest.raises(PermissionDenied, match=r"rights\.access_report: not allowed"):
        front.produce(target.id, printed=True)
    last = scene["trail"].log.events(object_id=target.id, newest_first=True, limit=1)[0][1]
    assert (last.outcome, last.actor) == (Outcome.DENIED, "mleguen")


def _age_decrypt_with_passphrase(path: Path, passphrase: str) -> bytes:
    """Run the stock ``age -d`` on a terminal (it reads passphrases from the TTY only)."""
    out = path.with_suffix(".out")
    pid, fd = pty.fork()
    if pid == 0:  # pragma: no cover - the child becomes age
        os.execvp("age", ["age", "-d", "-o", str(out), str(path)])
    buffer = b""
    sent = False
    while True:
        ready, _, _ = select.select([fd], [], [], 20)
        if not ready:
            break
        try:
            chunk = os.read(fd, 1024)
        except OSError:
            break
        if not chunk:
            break
        buffer += chunk
        if not sent and b"passphrase" in buffer.lower():
            os.write(fd, passphrase.encode() + b"\n")
            sent = True
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0, buffer.decode(errors="replace")
    return out.read_bytes()


def test_encrypted_delivery_opens_with_the_stock_age_cli(
    scene: dict[str, Any], tmp_path: Path
) -> None:
    target = scene["target"]
    delivery = scene["reports"].produce(target.id, passphrase=PASSPHRASE)
    assert delivery.encrypted and len(delivery.files) == 2
    for name, data in delivery.files.items():
        assert data.startswith(b"age-encryption.org/v1")
        (tmp_path / name).write_bytes(data)
    pdf = _age_decrypt_with_passphrase(tmp_path / f"acces-{target.id[-8:]}.pdf.age", PASSPHRASE)
    assert pdf.startswith(b"%PDF")
    bundle = _age_decrypt_with_passphrase(
        tmp_path / f"acces-{target.id[-8:]}.fhir.json.age", PASSPHRASE
    )
    assert verify_access_report(bundle, scene["trail"].log.note_key()).entries > 0
    key = tmp_path / "patient.key"
    subprocess.run(["age-keygen", "-o", str(key)], check=True, capture_output=True)
    recipient = next(
        line.split(": ")[1] for line in key.read_text().splitlines() if "public key" in line
    )
    sealed = scene["reports"].produce(target.id, recipient=recipient)
    path = tmp_path / "to-key.age"
    path.write_bytes(sealed.files[f"acces-{target.id[-8:]}.fhir.json.age"])
    opened = subprocess.run(
        ["age", "-d", "-i", str(key), str(path)], check=True, capture_output=True
    ).stdout
    assert json.loads(opened)["resourceType"] == "Bundle"


def test_the_checkpoint_carries_the_witness_cosignature_the_patient_pins(
    loaded_vault: Vault, small_network: SynthNetwork, tmp_path: Path
) -> None:
    from _witness import running_witness
    from etanche.audit import Cosigner, NoteKey, WitnessEndpoint

    vault = loaded_vault
    log_key = AuditLog.for_vault(vault).note_key()
    with running_witness(tmp_path / "w", log_key.text()) as witness:
        key = NoteKey.parse(witness.vkey)
        cosigner = Cosigner(vault.engine, log_key.public, [WitnessEndpoint(key, witness.url)])
        log = AuditLog.for_vault(vault, head_every=50, witnesses=[cosigner])
        trail = Trail(log, AlertEngine(vault.engine, load_rules()), cosigner=cosigner, quorum=1)
        patient = next(iter(small_network.patients()))
        bio = _actor("akerhervé", Role.BIOLOGIST, frozenset({patient.lab_id}))
        PatientService(vault.session(()), trail, bio).get(patient.id)
        dpo = _actor("nquillec", Role.DPO, frozenset({"*"}))
        reports = AccessReports(vault.session(()), trail, dpo, retention=load_retention())
        report = reports.build(patient.id)
    assert len(report.head.cosignatures) == 1
    assert witness.vkey.split("+")[0] in report.checkpoint
    bundle = json.dumps(report_bundle(report))
    checked = verify_access_report(bundle, log_key, [key], 1)
    assert checked.witnesses == (key.name,) and checked.entries >= 1
    other = NoteKey.parse(_other_witness_key(tmp_path, log_key.text()))
    with pytest.raises(IntegrityError, match="0 valid cosignature"):
        verify_access_report(bundle, log_key, [other], 1)


def _other_witness_key(tmp_path: Path, log_key: str) -> str:
    """A witness the patient pins but that never cosigned this log."""
    from etanche.witness import init_witness

    return init_witness(tmp_path / "other", "witness.test/other", [log_key])
