"""A running Étanche for the FHIR tests: two labs, named staff with bearer tokens, known patients.

Built once per test module (``fhir_world``): a vault with labs L01 and L02, a
patient of L01 with a blood group, insurance and a specimen, a homonym of hers in
L02 sharing her phone number (so "absent from search" is observable), the staff
of both labs, a DPO and an auditor, then the app served by Starlette's
TestClient with its lifespan. Imported by tests/web/test_fhir*.py,
test_routes.py and test_schemathesis.py (tests/web/conftest.py belongs to the
pages).
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any

import httpx
from fastapi import FastAPI
from fastapi.testclient import TestClient
from fhir.resources.R4B import get_fhir_model_class

sys.path.insert(0, str(Path(__file__).parent.parent))  # tests/: _staff

from _service import passphrase_custody
from _staff import Staff
from etanche.access import Action, ApiTokens, Role
from etanche.crypto import KdfCost
from etanche.domain import (
    Address,
    BloodGroup,
    Clinical,
    IdentityStatus,
    Insurance,
    Lab,
    Patient,
    Physician,
    Sex,
    Specimen,
)
from etanche.vault import Vault, VaultLocation, parse_location
from etanche.web import WebConfig, create_app

PASSPHRASE = "Phare du Creac'h, feu blanc"
FHIR_JSON = "application/fhir+json"
IDENTITY = "https://hl7.fr/ig/fhir/core/StructureDefinition/fr-core-identity-reliability"
BIRTH_PLACE = "http://hl7.org/fhir/StructureDefinition/patient-birthPlace"
NIR_SYSTEM = "urn:oid:1.2.250.1.213.1.4.8"
NIA_SYSTEM = "urn:oid:1.2.250.1.213.1.4.9"
RPPS_SYSTEM = "urn:oid:1.2.250.1.71.4.2.1"
RPPS = "10507989589"

LABS = (
    Lab("L01", "Laboratoire de biologie médicale BioBrest", "357481514", "Brest"),
    Lab("L02", "Laboratoire de biologie médicale BioQuimper", "447907593", "Quimper"),
)

# username → (full name, role, labs)
STAFF = {
    "rmorvan": ("Rozenn Morvan", Role.RECEPTION, {"L01"}),
    "bjaouen": ("Bleuenn Jaouen", Role.BIOLOGIST, {"L01"}),
    "bkerbrat": ("Brieuc Kerbrat", Role.BIOLOGIST, {"L02"}),
    "rquere": ("Ronan Quéré", Role.RECEPTION, {"L01", "L02"}),
    "dleroux": ("Dominique Le Roux", Role.DPO, {"*"}),
    "agwenn": ("Anna Gwenn", Role.AUDITOR, {"*"}),
}


def nir(first13: str) -> str:
    """A NIR with its check key (97 - N mod 97)."""
    return first13 + f"{97 - int(first13) % 97:02d}"


# Fixed ids (the vault's own are random) so test ids are the same in every xdist worker.
ALICE = Patient(
    id="a11ce0000000400080000000000000a1",
    lab_id="L01",
    birth_name="Le Bihan",
    first_names=("Maëlle", "Anne"),
    sex=Sex.FEMALE,
    birth_date=date(1985, 7, 14),
    birthplace_insee="29019",
    used_name="Morvan",
    nir=nir("2850729019123"),
    identity_status=IdentityStatus.QUALIFIED,
    addresses=(Address("12 rue de Siam", "29200", "Brest"),),
    phones=("+33612345678",),
    emails=("maelle.lebihan@example.org",),
    physician=Physician("Dr Céline Courtois", RPPS),
    insurance=Insurance("01", "291", "MGEN", "380460560"),
    clinical=Clinical(blood_group=BloodGroup("A", "+")),
)
# A homonym of Alice in the other lab, with the same phone: never in L01's results.
BOB = Patient(
    id="b0b00000000040008000000000000b0b",
    lab_id="L02",
    birth_name="Le Bihan",
    first_names=("Maëlle",),
    sex=Sex.FEMALE,
    birth_date=date(1985, 7, 14),
    phones=("+33612345678",),
    identity_status=IdentityStatus.PROVISIONAL,
    clinical=Clinical(blood_group=BloodGroup("O", "-")),
)
ALICE_SPECIMEN = Specimen(
    id="5a11ce00000040008000000000000001",
    patient_id=ALICE.id,
    lab_id="L01",
    accession="L0126030100001",
    collected_at=datetime(2026, 3, 1, 8, 15),
    specimen_type="sang veineux",
    prescriber=Physician("Dr Céline Courtois", RPPS),
)
BOB_SPECIMEN = Specimen(
    id="5b0b0000000040008000000000000002",
    patient_id=BOB.id,
    lab_id="L02",
    accession="L0226030100002",
    collected_at=datetime(2026, 3, 1, 9, 40),
    specimen_type="urine",
)


def new_patient(**changes: Any) -> dict[str, Any]:
    """A FHIR Patient as a registration client would send it (INS traits, contacts, doctor)."""
    doc: dict[str, Any] = {
        "resourceType": "Patient",
        "extension": [
            {
                "url": IDENTITY,
                "extension": [
                    {
                        "url": "identityStatus",
                        "valueCoding": {
                            "system": "https://hl7.fr/ig/fhir/core/CodeSystem/fr-core-cs-identity-status",
                            "code": "VALI",
                        },
                    }
                ],
            },
            {
                "url": BIRTH_PLACE,
                "valueAddress": {
                    "extension": [
                        {
                            "url": "https://hl7.fr/ig/fhir/core/StructureDefinition/fr-core-address-insee-code",
                            "valueCoding": {"code": "56260"},
                        }
                    ]
                },
            },
        ],
        "identifier": [{"system": NIR_SYSTEM, "value": nir("1920556260017")}],
        "name": [
            {"use": "official", "family": "Guillou", "given": ["Erwan", "Pierre"]},
            {"use": "usual", "family": "Guillou-Tanguy"},
        ],
        "gender": "male",
        "birthDate": "1992-05-03",
        "telecom": [
            {"system": "phone", "value": "06 98 76 54 32"},
            {"system": "email", "value": "erwan.guillou@example.org"},
        ],
        "address": [{"line": ["3 quai de la Douane"], "postalCode": "29200", "city": "Brest"}],
        "contained": [
            {
                "resourceType": "Practitioner",
                "id": "gp",
                "identifier": [{"system": RPPS_SYSTEM, "value": RPPS}],
                "name": [{"text": "Dr Céline Courtois"}],
            }
        ],
        "generalPractitioner": [{"reference": "#gp"}],
    }
    doc.update(changes)
    return doc


def new_specimen(patient_id: str, **changes: Any) -> dict[str, Any]:
    doc: dict[str, Any] = {
        "resourceType": "Specimen",
        "accessionIdentifier": {"value": "L0126030200042"},
        "type": {"coding": [{"system": "http://snomed.info/sct", "code": "122575003"}]},
        "subject": {"reference": f"Patient/{patient_id}"},
        "collection": {"collectedDateTime": "2026-03-02T07:45:00+01:00"},
        "contained": [
            {
                "resourceType": "ServiceRequest",
                "id": "order",
                "status": "active",
                "intent": "order",
                "subject": {"reference": f"Patient/{patient_id}"},
                "requester": {"reference": "#doc"},
            },
            {
                "resourceType": "Practitioner",
                "id": "doc",
                "identifier": [{"system": RPPS_SYSTEM, "value": "10628039637"}],
                "name": [{"prefix": ["Dr"], "given": ["Sabine"], "family": "Le Goff"}],
            },
        ],
        "request": [{"reference": "#order"}],
    }
    doc.update(changes)
    return doc


@dataclass
class FhirWorld:
    """The served app and who can call it."""

    app: FastAPI
    client: TestClient
    tokens: dict[str, str]  # username (or "lims" for an API token) → bearer token

    def headers(self, who: str | None) -> dict[str, str]:
        if who is None:
            return {}
        return {"Authorization": f"Bearer {self.tokens[who]}"}

    def get(self, who: str | None, url: str, **params: str) -> httpx.Response:
        return self.client.get(url, params=params or None, headers=self.headers(who))

    def search(self, who: str | None, kind: str, **params: str) -> httpx.Response:
        """``POST /fhir/<kind>/_search`` with the parameters as a form: none in the URL."""
        return self.client.post(f"/fhir/{kind}/_search", data=params, headers=self.headers(who))

    def post(self, who: str | None, url: str, doc: dict[str, Any]) -> httpx.Response:
        headers = {**self.headers(who), "Content-Type": FHIR_JSON}
        return self.client.post(url, json=doc, headers=headers)


def build_vault(location: VaultLocation) -> dict[str, str]:
    """Create the vault, labs, patients and staff; returns bearer tokens by user name."""
    vault = Vault.create(location, PASSPHRASE, kdf_cost=KdfCost.fast_for_tests())
    try:
        for lab in LABS:
            vault.add_lab(lab)
        vault.add(ALICE, [ALICE_SPECIMEN])
        vault.add(BOB, [BOB_SPECIMEN])
        staff = Staff(vault)
        tokens = {
            username: staff.add(username, full_name, role, labs)
            for username, (full_name, role, labs) in STAFF.items()
        }
        assert staff.root_token is not None
        tokens["ylegoff"] = staff.root_token  # the network-wide lab_admin
        biologist = staff.sessions.resume(tokens["bjaouen"])
        _, tokens["lims"] = ApiTokens(vault).create_token(
            biologist, "lims", [Action.PATIENT_SEARCH, Action.PATIENT_READ], 30
        )
        return tokens
    finally:
        vault.close()


@contextmanager
def fhir_world(directory: Path) -> Iterator[FhirWorld]:
    location = parse_location(str(directory / "vault"))
    tokens = build_vault(location)
    app = create_app(WebConfig(location, passphrase_custody(location, PASSPHRASE)))
    with TestClient(app) as client:
        yield FhirWorld(app, client, tokens)


def valid(resource: dict[str, Any]) -> Any:
    """The resource validated by fhir.resources' R4B model of its type (raises if not)."""
    return get_fhir_model_class(resource["resourceType"]).model_validate(resource)


def outcome(response: httpx.Response, status: int) -> list[dict[str, Any]]:
    """The issues of an OperationOutcome answer with ``status``, after validating it."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith(FHIR_JSON)
    doc = response.json()
    assert doc["resourceType"] == "OperationOutcome"
    valid(doc)
    issues: list[dict[str, Any]] = doc["issue"]
    return issues


def entries(response: httpx.Response) -> list[dict[str, Any]]:
    """The resources of a searchset answer, after validating the Bundle."""
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith(FHIR_JSON)
    bundle = response.json()
    valid(bundle)
    assert bundle["resourceType"] == "Bundle"
    assert bundle["type"] == "searchset"
    found = bundle.get("entry", [])
    assert bundle["total"] == len(found)
    for entry in found:
        resource = entry["resource"]
        assert entry["fullUrl"].endswith(f"/fhir/{resource['resourceType']}/{resource['id']}")
        assert entry["fullUrl"].startswith("http")
        valid(resource)
    return [entry["resource"] for entry in found]
