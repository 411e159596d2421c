"""The RNIV status rules: every move from every status, and what evidence each needs."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime

import pytest

from etanche.domain import (
    DowngradeReason,
    IdentityStatus,
    InsRetrieval,
    InsTraits,
    Patient,
    Sex,
    apply_trait_change,
    check_document,
    downgrade,
    ins_mismatches,
    qualify,
    record_ins,
    restore,
    strict_traits,
    supported_status,
)
from etanche.errors import ValidationError

AT = datetime(2026, 12, 3, 9, 30, tzinfo=UTC)
NIR_OID = "1.2.250.1.213.1.4.8"
P, R, V, Q = (
    IdentityStatus.PROVISIONAL,
    IdentityStatus.RECOVERED,
    IdentityStatus.VALIDATED,
    IdentityStatus.QUALIFIED,
)


def _patient(status: IdentityStatus = P) -> Patient:
    return Patient(
        id="p1",
        lab_id="L01",
        birth_name="Le Goff",
        first_names=("Anne-Marie", "Jeanne"),
        sex=Sex.FEMALE,
        birth_date=date(1961, 4, 2),
        birthplace_insee="29019",
        identity_status=status,
    )


def _ins(patient: Patient, **changes: object) -> InsRetrieval:
    traits = replace(
        InsTraits("LE GOFF", ("ANNE MARIE", "JEANNE"), Sex.FEMALE, date(1961, 4, 2), "29019"),
        **changes,  # type: ignore[arg-type]
    )
    return InsRetrieval("261042901912345", NIR_OID, traits, AT, "mleguen")


def _at(status: IdentityStatus) -> Patient:
    """A record at ``status`` with the evidence that status needs."""
    patient = _patient()
    if status in (R, Q):
        patient = record_ins(patient, _ins(patient))
    if status in (V, Q):
        patient = check_document(patient, "cni", "mleguen", AT)
    assert patient.identity_status is status
    return patient


def test_validation_needs_a_high_trust_document() -> None:
    validated = check_document(_patient(), "passeport", "mleguen", AT)
    assert validated.identity_status is V
    assert validated.identity_document is not None
    assert (validated.identity_document.kind.value, validated.identity_document.checked_by) == (
        "passeport",
        "mleguen",
    )
    for kind in ("permis", "carte_vitale", "facture"):
        with pytest.raises(ValidationError, match=r"document: .*(high-trust|not an identity)"):
            check_document(_patient(), kind, "mleguen", AT)


def test_an_ins_whose_traits_match_makes_a_retrieved_identity() -> None:
    patient = _patient()
    assert ins_mismatches(patient, _ins(patient).traits) == []  # case, accents and hyphens
    assert record_ins(patient, _ins(patient)).identity_status is R
    other = _ins(patient, birth_date=date(1961, 2, 4), sex=Sex.MALE)
    kept = record_ins(patient, other)
    assert kept.identity_status is P and kept.ins == other
    assert ins_mismatches(patient, other.traits) == ["sex", "birth_date"]


@pytest.mark.parametrize(
    ("matricule", "oid", "field"),
    [("12345", NIR_OID, "matricule"), ("261042901912345", "1.2.3", "oid")],
)
def test_an_insi_result_is_checked_before_it_is_kept(matricule: str, oid: str, field: str) -> None:
    patient = _patient()
    bad = replace(_ins(patient), matricule=matricule, oid=oid)
    with pytest.raises(ValidationError) as caught:
        record_ins(patient, bad)
    assert caught.value.field == field


def test_qualification_needs_document_and_matching_ins() -> None:
    with pytest.raises(ValidationError, match="no high-trust document"):
        qualify(_at(R))
    with pytest.raises(ValidationError, match="no INS was retrieved"):
        qualify(_at(V))
    validated = _at(V)
    mismatched = record_ins(validated, _ins(validated, birthplace_insee="35238"))
    assert mismatched.identity_status is V
    with pytest.raises(ValidationError, match="differ from the record's: birthplace_insee"):
        qualify(mismatched)
    ready = record_ins(validated, _ins(validated))
    assert qualify(ready).identity_status is Q
    assert check_document(_at(R), "cni", "mleguen", AT).identity_status is Q


# every status x every move: the status reached, or refused (None)
MOVES: dict[str, dict[IdentityStatus, IdentityStatus | None]] = {
    "validate": {P: V, R: Q, V: None, Q: None},
    "qualify": {P: None, R: None, V: None, Q: None},  # ready records below
    "retrieve": {P: R, R: R, V: V, Q: None},
    "restore": {P: None, R: None, V: None, Q: None},  # nothing downgraded yet
}


@pytest.mark.parametrize("move", sorted(MOVES))
@pytest.mark.parametrize("status", [P, R, V, Q])
def test_every_move_from_every_status(move: str, status: IdentityStatus) -> None:
    patient = _at(status)
    expected = MOVES[move][status]

    def run() -> Patient:
        if move == "validate":
            return check_document(patient, "cni", "mleguen", AT)
        if move == "qualify":
            return qualify(patient)
        if move == "retrieve":
            return record_ins(patient, _ins(patient))
        return restore(patient)

    if expected is None:
        with pytest.raises(ValidationError):
            run()
    else:
        assert run().identity_status is expected


def test_downgrades_only_lower_and_drop_what_the_reason_discredits() -> None:
    qualified = _at(Q)
    to_validated = downgrade(qualified, V, DowngradeReason.INS_DOUBT, "officer", AT)
    assert to_validated.identity_status is V and to_validated.ins is None
    assert to_validated.identity_downgrade is not None
    assert to_validated.identity_downgrade.from_status is Q
    to_recovered = downgrade(qualified, R, DowngradeReason.DOCUMENT_DOUBT, "officer", AT)
    assert to_recovered.identity_status is R and to_recovered.identity_document is None
    with pytest.raises(ValidationError, match="récupérée needs the INS"):
        downgrade(qualified, R, DowngradeReason.INS_DOUBT, "officer", AT)
    for status, target in ((P, P), (V, V), (V, Q), (R, V)):
        with pytest.raises(ValidationError):
            downgrade(_at(status), target, DowngradeReason.IDENTITY_DOUBT, "officer", AT)


def test_restore_lifts_a_doubt_as_far_as_the_evidence_goes() -> None:
    doubted = downgrade(_at(Q), P, DowngradeReason.IDENTITY_DOUBT, "officer", AT)
    assert doubted.identity_status is P
    restored = restore(doubted)
    assert restored.identity_status is Q and restored.identity_downgrade is None
    no_document = downgrade(_at(Q), R, DowngradeReason.DOCUMENT_DOUBT, "officer", AT)
    with pytest.raises(ValidationError, match="no longer supports"):
        restore(no_document)


def test_changing_a_strict_trait_downgrades_with_a_reason() -> None:
    for status in (R, V, Q):
        before = _at(status)
        edited = replace(before, birth_date=date(1961, 2, 4), identity_status=Q)
        stored, lowered = apply_trait_change(before, edited, "mleguen", AT)
        assert lowered and stored.identity_status is P and stored.identity_document is None
        assert stored.identity_downgrade is not None
        assert stored.identity_downgrade.reason is DowngradeReason.STRICT_TRAIT_CHANGED
    before = _at(Q)
    phone_only = replace(before, phones=("+33612345678",), identity_status=P)
    stored, lowered = apply_trait_change(before, phone_only, "mleguen", AT)
    assert not lowered and stored.identity_status is Q  # a form cannot set the status


def test_supported_status_reads_the_evidence() -> None:
    assert [supported_status(_at(s)) for s in (P, R, V, Q)] == [P, R, V, Q]
    assert strict_traits(_patient()).birth_name == "Le Goff"
