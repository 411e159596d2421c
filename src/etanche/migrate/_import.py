"""``migrate verify --import``: a package into a vault, checked and imported in one pass.

Each part is taken by a forked worker: ciphertext hash, decryption, content
hash, rows parsed (canaries dropped, marks undone), record count against the
manifest, patients built and validated. The worker sends them back
msgpack-encoded with the part's tally; the main process only decodes them and
feeds the vault's ingest, which seals in its own workers and writes, all in one
transaction. After the last part, and before that transaction commits, the
tallies must match the manifest's counts: a package with any part or count
wrong lands nothing, so the import need not decrypt and parse every part a
first time to check it (``open_package(..., parts=False)``). Validation is not
repeated by the ingest: it ran, on every row, in this import's own workers.
Record ids are drawn in the main process (time-ordered ids from one clock) and
handed to each worker with its part.
"""

from __future__ import annotations

import gc
import multiprocessing
from collections import Counter, deque
from collections.abc import Callable, Iterator, Mapping, Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import dataclass
from typing import Any

import msgspec

from etanche.domain import Lab, Patient, Specimen, validate_patient, validate_specimen
from etanche.errors import PackageRejected, ValidationError, ValidationErrors
from etanche.exchange import SourceRecord, build_patient
from etanche.migrate._verify import (
    CheckedPackage,
    Reconciliation,
    _parse_part,
    _part_plaintext,
    count_agrees,
)
from etanche.vault import Vault, new_record_id

__all__ = ["import_rows"]

Normalise = Callable[[Mapping[str, str]], dict[str, str]]
Built = list[tuple[Patient, list[Specimen]]]
_encoder = msgspec.msgpack.Encoder()
_decoder = msgspec.msgpack.Decoder(Built)


@dataclass(frozen=True, slots=True)
class _Tally:
    """What one part brought to the reconciliation."""

    per_lab: dict[str, dict[str, int]]
    per_compartment: dict[str, int]
    canaries_dropped: int

    def into(self, report: Reconciliation) -> None:
        for lab, numbers in self.per_lab.items():
            report.per_lab.setdefault(lab, Counter()).update(numbers)
        report.per_compartment.update(self.per_compartment)
        report.canaries_dropped += self.canaries_dropped


def _built_part(
    package: CheckedPackage, part: dict[str, Any], ids: Sequence[str], normalise: Normalise
) -> tuple[_Tally, Built]:
    """One part's real rows as validated patients; PackageRejected or a ValidationError
    naming the part and line otherwise."""
    plaintext = _part_plaintext(package.directory, part, package.identities)
    counted = Reconciliation(package.manifest)
    built: Built = []
    fresh = iter(ids)
    for _, lab, record in _parse_part(plaintext, str(part["name"]), counted, package.canaries):
        patient_id = next(fresh, None)
        if patient_id is None:
            raise PackageRejected(f"{part['name']}: record count differs from the manifest")
        record = SourceRecord(record.location, normalise(record.fields), record.specimens)
        patient, specimens = build_patient(record, patient_id=patient_id, lab_id=lab)
        try:
            validate_patient(patient)
            for specimen in specimens:
                validate_specimen(specimen)
        except ValidationError as refused:
            raise _located(refused, record.location) from None
        built.append((patient, list(specimens)))
    count_agrees(part, len(built) + counted.canaries_dropped)
    per_lab = {lab: dict(numbers) for lab, numbers in counted.per_lab.items()}
    return _Tally(per_lab, dict(counted.per_compartment), counted.canaries_dropped), built


def _located(refused: ValidationError, location: str) -> ValidationError:
    """The problem named by part and line (the record id drawn for it never lands)."""
    each = refused.errors if isinstance(refused, ValidationErrors) else (refused,)
    return ValidationErrors(ValidationError(e.field, e.reason, location) for e in each)


_JOB: tuple[CheckedPackage, Normalise] | None = None  # inherited by forked workers


def _built_in_worker(part: dict[str, Any], ids: list[str]) -> tuple[_Tally, bytes]:
    assert _JOB is not None
    package, normalise = _JOB
    tally, built = _built_part(package, part, ids, normalise)
    return tally, _encoder.encode(built)


def _parts(
    package: CheckedPackage, normalise: Normalise, workers: int
) -> Iterator[tuple[_Tally, Built]]:
    """Every part's tally and patients, in manifest order; at most two parts per
    worker in flight, so memory stays bounded."""
    parts: list[dict[str, Any]] = list(package.manifest["parts"])
    jobs = ((part, [new_record_id() for _ in range(int(part["records"]))]) for part in parts)
    if workers <= 0:
        for part, ids in jobs:
            yield _built_part(package, part, ids, normalise)
        return
    global _JOB
    _JOB = (package, normalise)
    try:
        gc.freeze()  # what the workers inherit: not scanned (so not copied) by their GC
        context = multiprocessing.get_context("fork")
        with ProcessPoolExecutor(max_workers=workers, mp_context=context) as pool:
            pending: deque[Future[tuple[_Tally, bytes]]] = deque()
            for part, ids in jobs:
                pending.append(pool.submit(_built_in_worker, part, ids))
                if len(pending) > 2 * workers:
                    yield _decoded(pending.popleft())
            while pending:
                yield _decoded(pending.popleft())
    finally:
        gc.unfreeze()
        _JOB = None


def _decoded(future: Future[tuple[_Tally, bytes]]) -> tuple[_Tally, Built]:
    tally, encoded = future.result()
    return tally, _decoder.decode(encoded)


def _labs(vault: Vault, manifest: dict[str, Any]) -> None:
    known = {lab.id for lab in vault.labs()}
    for lab in manifest["labs"]:
        if lab["id"] not in known and "finess" in lab:
            vault.add_lab(Lab(lab["id"], lab["name"], lab["finess"], lab["city"]))


def _as_received(fields: Mapping[str, str]) -> dict[str, str]:
    return dict(fields)


def import_rows(
    package: CheckedPackage,
    vault: Vault,
    *,
    progress: Callable[[int], None] | None = None,
    workers: int = 0,
    normalise: Normalise = _as_received,
) -> Reconciliation:
    """Check every part and import every real row into ``vault`` in one transaction;
    all land or none (PackageRejected when a part or the counts differ from the manifest).

    ``normalise`` puts each row's values back in one canonical writing (the
    CLI passes the leak-tracing room's ``unmark_row``): a sender's fingerprint
    renderings must not become differences between our own records.
    """
    report = Reconciliation(package.manifest)
    _labs(vault, package.manifest)

    def items() -> Iterator[tuple[Patient, Sequence[Specimen]]]:
        for tally, built in _parts(package, normalise, workers):
            tally.into(report)
            yield from built
            report.imported += len(built)
            if progress is not None:
                progress(report.imported)
        if not report.matches:  # raised inside the transaction: nothing is committed
            name = package.directory.name
            raise PackageRejected(f"package {name}: counts differ from the manifest")

    # validated above, row by row, by this import's own workers (or this process)
    vault.add_many(items(), workers=workers, validate=False)
    if progress is not None:
        progress(report.imported)
    return report
