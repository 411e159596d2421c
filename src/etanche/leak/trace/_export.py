"""`etanche export`: a lab's patients written for one recipient, marked, with canaries.

Rows leave in the export's keyed order, every row through ``render_row``;
canaries (decoys planted for this export only) are mixed in; the ledger entry is
written once the file is complete. Decoys already in the vault are never
exported (they would be canaries shared by every export).

There is no unmarked, canary-free or plaintext export: the request must name at
least one mark family and a positive canary rate, and the file is built in the
service's memory and written age-encrypted to the recipient's key, 0600. The
plaintext never touches a disk; only the recipient's ``age -d`` reveals it.
"""

from __future__ import annotations

import io
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

from etanche._files import write_private
from etanche.audit import is_decoy
from etanche.crypto import KeyedPrf, age_encrypt, age_recipient
from etanche.errors import UsageError
from etanche.exchange import SourceRecord, write_canonical_csv_to, write_fhir_records_to
from etanche.leak.trace._canaries import CanaryRecord, canary_count, make_canaries
from etanche.leak.trace._ledger import LedgerEntry, record_export
from etanche.leak.trace._mark import ExportMark, keyed_order, new_export_mark, render_row
from etanche.leak.trace._rows import ADMIN_FIELDS, PATIENT_FIELDS, canonical_row
from etanche.vault import RightsStore, Vault

__all__ = ["FORMATS", "ExportRequest", "check_request", "parse_fields", "write_export"]

FORMATS = ("csv", "fhir")
READ_BATCH = 500


@dataclass(frozen=True)
class ExportRequest:
    """What an approved export plan allows: one lab, one recipient and its age key."""

    lab_id: str
    recipient: str
    recipient_key: str  # age1… X25519 public key: the file is encrypted to it
    purpose: str
    fmt: str
    out: Path
    marks: frozenset[str]
    canary_rate: float = 0.001
    retention_days: int = 365
    fields: tuple[str, ...] = ADMIN_FIELDS


def check_request(request: ExportRequest) -> None:
    """UsageError naming the option when the request would leave unmarked or in clear."""
    if request.fmt not in FORMATS:
        raise UsageError(f"--format: expected one of {', '.join(FORMATS)}")
    if not request.marks:
        raise UsageError("marks: an export always carries marks (at least one family)")
    if request.canary_rate <= 0:
        raise UsageError("canary rate: an export always carries canaries (a rate above 0)")
    age_recipient(request.recipient_key, field="recipient age key")


def parse_fields(text: str | None) -> tuple[str, ...]:
    """ "birth_name,nir,phone" -> the fields (contract A names); None -> admin fields."""
    if text is None:
        return ADMIN_FIELDS
    fields = tuple(dict.fromkeys(p.strip() for p in text.split(",") if p.strip()))
    unknown = [f for f in fields if f not in PATIENT_FIELDS]
    if unknown or not fields:
        raise UsageError(f"--fields: unknown field(s) {', '.join(unknown) or '(none given)'}")
    return fields


def _records(
    vault: Vault,
    order: list[str],
    canaries: dict[str, CanaryRecord],
    request: ExportRequest,
    mark: ExportMark,
    progress: Callable[[int], None] | None,
) -> Iterator[tuple[str, SourceRecord]]:
    """Rows in keyed order, patients read from the vault in bulk (``READ_BATCH`` a query)."""
    keep = set(request.fields) | {"lab"}
    pseudonyms = KeyedPrf(mark.key, "export-pseudonyms")
    for start in range(0, len(order), READ_BATCH):
        chunk = order[start : start + READ_BATCH]
        wanted = [key for key in chunk if key not in canaries]
        read = dict(zip(wanted, vault.get_many(wanted), strict=True))
        for number, key in enumerate(chunk, start=start + 1):
            canary = canaries.get(key)
            full = canary.fields if canary else canonical_row(read[key], lab_id=request.lab_id)
            row = {name: value for name, value in full.items() if name in keep}
            rendered = render_row(row, mark=mark, row_key=key)
            yield "x" + pseudonyms.hexdigest(key, 12), SourceRecord(f"row {number}", rendered)
        if progress is not None:
            progress(start + len(chunk))


def _plaintext(records: Iterator[tuple[str, SourceRecord]], fmt: str) -> bytes:
    """The file's bytes, in memory only (they leave this function to be encrypted)."""
    buffer = io.BytesIO()
    if fmt == "csv":
        text = io.TextIOWrapper(buffer, encoding="utf-8", newline="")
        write_canonical_csv_to((record for _, record in records), text)
        text.flush()
        text.detach()
    else:
        write_fhir_records_to(records, buffer, ndjson=True)
    return buffer.getvalue()


def write_export(
    vault: Vault,
    request: ExportRequest,
    *,
    seed: int | None = None,
    progress: Callable[[int], None] | None = None,
) -> LedgerEntry:
    """Write the marked file and its ledger entry; the session must hold every compartment.

    ``progress`` hears the running number of rows written.
    """
    check_request(request)
    if request.lab_id not in {lab.id for lab in vault.labs()}:
        raise UsageError(f"--lab: no lab {request.lab_id} in this vault")
    if not request.out.parent.is_dir():
        raise UsageError(f"--out: folder {request.out.parent} does not exist")
    # a restricted record (GDPR art. 18) is kept, never sent anywhere
    restricted = RightsStore(vault).restricted()
    ids = [
        pid
        for pid in vault.patient_ids(request.lab_id)
        if not is_decoy(vault, pid) and pid not in restricted
    ]
    if not ids:
        raise UsageError(f"export: lab {request.lab_id} has no patient")
    mark = new_export_mark(request.marks)
    count = canary_count(len(ids), request.canary_rate)
    planted = make_canaries(mark, count, vault=vault, lab_id=request.lab_id, seed=seed)
    canaries = {c.row_key: c for c in planted}
    # sorted by id first: without an order mark, canaries (random ids) still land anywhere
    order = keyed_order(sorted([*ids, *canaries]), mark)
    records = _records(vault, order, canaries, request, mark, progress)
    write_private(
        request.out, age_encrypt(_plaintext(records, request.fmt), [request.recipient_key])
    )
    return record_export(
        vault,
        mark,
        recipient=request.recipient,
        purpose=request.purpose,
        lab_id=request.lab_id,
        fmt=request.fmt,
        rows=ids,
        canaries=list(canaries),
        retention_days=request.retention_days,
        fields=request.fields,
    )
