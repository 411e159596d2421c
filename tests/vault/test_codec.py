"""The admin payload: every field but the clinical part, byte for byte what encoding a
copy with an empty clinical part gives."""

from __future__ import annotations

import dataclasses

import msgspec

from etanche.domain import Clinical
from etanche.synth import SynthNetwork
from etanche.vault._codec import decode_patient, encode_admin


def test_admin_payload_leaves_the_clinical_part_out(small_network: SynthNetwork) -> None:
    encoder = msgspec.msgpack.Encoder()
    with_clinical = [p for p in small_network.patients() if p.clinical != Clinical()]
    assert with_clinical
    for patient in with_clinical[:50]:
        admin = encode_admin(patient)
        assert admin == encoder.encode(dataclasses.replace(patient, clinical=Clinical()))
        decoded = decode_patient(admin, None)
        assert decoded.clinical == Clinical()
        assert decoded == dataclasses.replace(patient, clinical=Clinical())
