"""What the writers accept: a synthetic network, (patient, specimens) pairs, or records."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from typing import Protocol, runtime_checkable

from etanche.domain import Patient, Specimen
from etanche.exchange._convert import patient_fields
from etanche.exchange._model import SourceRecord

__all__ = ["Network", "WriterInput", "iter_records"]


@runtime_checkable
class Network(Protocol):
    """The part of ``etanche.synth.SynthNetwork`` the writers use."""

    def batches(self, size: int = ...) -> Iterator[list[tuple[Patient, list[Specimen]]]]: ...

    def dossier_number(self, patient: Patient) -> str: ...


WriterInput = Network | Iterable[tuple[Patient, Sequence[Specimen]]] | Iterable[SourceRecord]


def iter_records(source: WriterInput) -> Iterator[tuple[str, SourceRecord]]:
    """(key, record) pairs; the key is the patient id when known, else the location."""
    if isinstance(source, Network):
        for batch in source.batches():
            for patient, specimens in batch:
                record = patient_fields(patient, specimens)
                fields = {**record.fields, "dossier": source.dossier_number(patient)}
                yield patient.id, SourceRecord(record.location, fields, record.specimens)
        return
    for item in source:
        if isinstance(item, SourceRecord):
            yield item.location, item
        else:
            yield item[0].id, patient_fields(item[0], item[1])
