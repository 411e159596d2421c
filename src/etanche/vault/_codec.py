"""Compartment payloads: which fields go where, and their binary encoding.

msgpack via msgspec: compact and about a microsecond per record, so encryption,
not encoding, is what ingest pays for.
"""

from __future__ import annotations

from dataclasses import fields
from datetime import date, datetime

import msgspec

from etanche.domain import Clinical, Patient, Specimen

_EMPTY_CLINICAL = Clinical()
_encoder = msgspec.msgpack.Encoder()
_patient_decoder = msgspec.msgpack.Decoder(Patient)
_clinical_decoder = msgspec.msgpack.Decoder(Clinical)
_specimen_decoder = msgspec.msgpack.Decoder(Specimen)
_ADMIN_FIELDS = tuple(f.name for f in fields(Patient) if f.name != "clinical")


def encode_admin(patient: Patient) -> bytes:
    """Identity, identifiers, contacts, insurance, physician: everything but clinical."""
    # A field-by-field copy with the clinical part emptied: the same bytes as
    # ``replace(patient, clinical=...)``, without re-running the frozen __init__
    # (a third of the cost, paid once per patient of a bulk load).
    admin = object.__new__(Patient)
    for name in _ADMIN_FIELDS:
        object.__setattr__(admin, name, getattr(patient, name))
    object.__setattr__(admin, "clinical", _EMPTY_CLINICAL)
    return _encoder.encode(admin)


def encode_clinical(patient: Patient) -> bytes:
    return _encoder.encode(patient.clinical)


def decode_patient(admin: bytes, clinical: bytes | None) -> Patient:
    """Rebuild a patient; without the clinical payload the clinical part is empty."""
    patient = _patient_decoder.decode(admin)
    if clinical is not None:
        # The patient was decoded just now and nothing else holds it: set its clinical
        # part in place (``replace`` would rebuild and re-check every field per read).
        object.__setattr__(patient, "clinical", _clinical_decoder.decode(clinical))
    return patient


def encode_specimen(specimen: Specimen) -> bytes:
    return _encoder.encode(specimen)


def decode_specimen(data: bytes) -> Specimen:
    return _specimen_decoder.decode(data)


class _Visit(msgspec.Struct):
    """The two admin fields the retention purge checks; the rest is not decoded."""

    id: str
    last_visit: date | None = None


class _Collected(msgspec.Struct):
    id: str
    collected_at: datetime


_visit_decoder = msgspec.msgpack.Decoder(_Visit)
_collected_decoder = msgspec.msgpack.Decoder(_Collected)


def last_visit_of(admin: bytes) -> tuple[str, date | None]:
    """(patient id, last visit) of an admin payload, decoding nothing else."""
    found = _visit_decoder.decode(admin)
    return found.id, found.last_visit


def collected_at_of(data: bytes) -> tuple[str, datetime]:
    """(specimen id, collection time) of a specimen payload, decoding nothing else."""
    found = _collected_decoder.decode(data)
    return found.id, found.collected_at
