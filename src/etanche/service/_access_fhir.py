"""The access report as a FHIR R4 Bundle: the record, the accesses with proofs, the checkpoint.

The record's resources are the exchange room's FHIR mapping (the one exports and
migrations write), so a patient's copy reads like any other FHIR file of the
network. Each access is an AuditEvent carrying its claim and inclusion proof in
an extension; the checkpoint (signed note, cosignatures) is a Binary; the log
key's signature over every claim is the Bundle's ``signature``. ``etanche
access-report verify`` checks all of it with pinned keys only.
"""

from __future__ import annotations

import base64
import html
import io
import json
from typing import Any

from etanche.exchange import patient_fields, write_fhir_records_to
from etanche.service._access_model import AccessEntry, AccessReport
from etanche.service._access_text import ROLES_SHORT_FR, access_action_fr, report_sections
from etanche.verify import BODY_URL, CHECKPOINT_ID, CLAIM_URL, PROOF_URL

__all__ = ["report_bundle"]

_DCM = "http://dicom.nema.org/resources/ontology/DCM"
_ACTION_CODES = {"create": "C", "read": "R", "list": "R", "search": "E", "update": "U"}
_OUTCOMES = {"ok": "0", "denied": "4", "failed": "4", "error": "8"}
_SIG_TYPE = "urn:iso-astm:E1762-95:2013"


def _record_resources(report: AccessReport) -> list[dict[str, Any]]:
    record = patient_fields(report.patient, report.specimens)
    out = io.BytesIO()
    write_fhir_records_to([(report.patient.id, record)], out, ndjson=True)
    return [json.loads(line) for line in out.getvalue().splitlines() if line.strip()]


def _audit_event(entry: AccessEntry, patient_ref: str, with_body: bool) -> dict[str, Any]:
    verb = entry.action.rsplit(".", 1)[-1]
    proof = {
        "seq": entry.seq,
        "leaf_hash": entry.proof.leaf_hash.hex(),
        "tree_size": entry.proof.tree_size,
        "path": [h.hex() for h in entry.proof.path],
    }
    extensions = [
        {"url": CLAIM_URL, "valueString": json.dumps(entry.claim(), sort_keys=True)},
        {"url": PROOF_URL, "valueString": json.dumps(proof, sort_keys=True)},
    ]
    if with_body and entry.proof.body is not None:
        body = base64.b64encode(entry.proof.body).decode("ascii")
        extensions.append({"url": BODY_URL, "valueBase64Binary": body})
    event: dict[str, Any] = {
        "resourceType": "AuditEvent",
        "id": f"access-{entry.seq}",
        "extension": extensions,
        "type": {"system": _DCM, "code": "110110", "display": "Patient Record"},
        "subtype": [{"code": entry.action, "display": access_action_fr(entry.action)}],
        "action": _ACTION_CODES.get(verb, "E"),
        "recorded": entry.at.isoformat(),
        "outcome": _OUTCOMES.get(entry.outcome, "8"),
        "agent": [
            {
                "type": {"text": ROLES_SHORT_FR.get(entry.role, entry.role)},
                "who": {"display": entry.staff},
                "requestor": True,
            }
        ],
        "source": {"observer": {"display": "Étanche"}},
        "entity": [{"what": {"reference": patient_ref}}],
    }
    if entry.lab:
        event["agent"][0]["location"] = {"display": entry.lab}
    if entry.purpose:
        event["purposeOfEvent"] = [{"text": entry.purpose}]
    return event


def _composition(report: AccessReport, patient_ref: str) -> dict[str, Any]:
    title, _, sections = report_sections(report)
    kept = [s for s in sections if s.heading in _COMPOSED]
    return {
        "resourceType": "Composition",
        "id": "access-report",
        "status": "final",
        "type": {"text": "Copie des données (article 15 du RGPD)"},
        "subject": {"reference": patient_ref},
        "date": report.produced_at.isoformat(),
        "author": [{"display": "Délégué à la protection des données"}],
        "title": title,
        "section": [
            {"title": s.heading, "text": _narrative([*s.paragraphs, *s.items])} for s in kept
        ],
    }


_COMPOSED = ("Finalités du traitement", "Destinataires", "Durée de conservation")


def _narrative(lines: list[str]) -> dict[str, str]:
    body = "".join(f"<p>{html.escape(line)}</p>" for line in lines)
    return {"status": "generated", "div": f'<div xmlns="http://www.w3.org/1999/xhtml">{body}</div>'}


def report_bundle(report: AccessReport) -> dict[str, Any]:
    """The Bundle (type collection) as a JSON-ready dict."""
    resources = _record_resources(report)
    patient = next(r for r in resources if r["resourceType"] == "Patient")
    ref = f"Patient/{patient['id']}"
    resources.append(_composition(report, ref))
    resources += [_audit_event(e, ref, report.staff_named) for e in report.entries]
    resources.append(
        {
            "resourceType": "Binary",
            "id": CHECKPOINT_ID,
            "contentType": "text/plain",
            "data": base64.b64encode(report.checkpoint.encode()).decode("ascii"),
        }
    )
    return {
        "resourceType": "Bundle",
        "id": f"access-report-{report.patient.id}",
        "type": "collection",
        "timestamp": report.produced_at.isoformat(),
        "identifier": {"system": "urn:etanche:patient", "value": report.patient.id},
        "entry": [
            {"fullUrl": f"urn:etanche:{r['resourceType']}/{r['id']}", "resource": r}
            for r in resources
        ],
        "signature": {
            "type": [{"system": _SIG_TYPE, "code": "1.2.840.10065.1.12.1.5"}],
            "when": report.produced_at.isoformat(),
            "who": {"display": report.log_key},
            "sigFormat": "application/octet-stream",
            "data": base64.b64encode(report.signature).decode("ascii"),
        },
    }
