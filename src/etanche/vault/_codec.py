"""Compartment payloads: which fields go where, and their binary encoding.

msgpack via msgspec: compact and about a microsecond per record, so encryption,
not encoding, is what ingest pays for.
"""

from __future__ import annotations

from dataclasses import replace

import msgspec

from etanche.domain import Clinical, Patient, Specimen

_EMPTY_CLINICAL = Clinical()
_encoder = msgspec.msgpack.Encoder()
_patient_decoder = msgspec.msgpack.Decoder(Patient)
_clinical_decoder = msgspec.msgpack.Decoder(Clinical)
_specimen_decoder = msgspec.msgpack.Decoder(Specimen)


def encode_admin(patient: Patient) -> bytes:
    """Identity, identifiers, contacts, insurance, physician: everything but clinical."""
    return _encoder.encode(replace(patient, clinical=_EMPTY_CLINICAL))


def encode_clinical(patient: Patient) -> bytes:
    return _encoder.encode(patient.clinical)


def decode_patient(admin: bytes, clinical: bytes | None) -> Patient:
    """Rebuild a patient; without the clinical payload the clinical part is empty."""
    patient = _patient_decoder.decode(admin)
    if clinical is None:
        return patient
    return replace(patient, clinical=_clinical_decoder.decode(clinical))


def encode_specimen(specimen: Specimen) -> bytes:
    return _encoder.encode(specimen)


def decode_specimen(data: bytes) -> Specimen:
    return _specimen_decoder.decode(data)
