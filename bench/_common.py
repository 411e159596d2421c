"""Shared helpers of the benchmarks: machine facts, the plain baseline, docs update.

The plain baseline stores the same patients with the same columns in clear and
the same four search indexes, in the same engine: the honest denominator for
"what does encryption cost".
"""

from __future__ import annotations

import json
import os
import platform
import re
import resource
import time
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import (
    Boolean,
    Column,
    Connection,
    Date,
    DateTime,
    Index,
    MetaData,
    String,
    Table,
    Text,
)

from etanche.domain import (
    Address,
    BloodGroup,
    Clinical,
    IdentityStatus,
    Insurance,
    Patient,
    Physician,
    Sex,
    Specimen,
)
from etanche.vault._bulk import BulkInsert

ROOT = Path(__file__).resolve().parents[1]
DOC = ROOT / "docs" / "benchmarks.md"

plain_meta = MetaData()
plain_patients = Table(
    "plain_patients",
    plain_meta,
    Column("id", String(32), primary_key=True),
    Column("lab_id", String(16), nullable=False),
    Column("birth_name", String(100), nullable=False),
    Column("used_name", String(100)),
    Column("first_names", String(200), nullable=False),
    Column("first_name", String(100), nullable=False),
    Column("sex", String(1), nullable=False),
    Column("birth_date", Date, nullable=False),
    Column("birthplace_insee", String(5)),
    Column("nir", String(15)),
    Column("identity_status", String(5), nullable=False),
    Column("address_line", String(200)),
    Column("postcode", String(10)),
    Column("city", String(100)),
    Column("phone", String(20)),
    Column("email", String(200)),
    Column("physician_name", String(100)),
    Column("physician_rpps", String(11)),
    Column("amo_regime", String(2)),
    Column("amo_caisse", String(3)),
    Column("amc_name", String(100)),
    Column("amc_member_number", String(40)),
    Column("blood_group", String(3)),
    Column("comments", Text),
    Column("pregnant", Boolean),
    Column("treatments", Text),
    Column("pathologies", Text),
    Column("last_visit", Date),
    Index("ix_plain_nir", "nir"),
    Index("ix_plain_name_dob", "birth_name", "first_name", "birth_date"),
    Index("ix_plain_phone", "phone"),
    Index("ix_plain_email", "email"),
)
plain_specimens = Table(
    "plain_specimens",
    plain_meta,
    Column("id", String(32), primary_key=True),
    Column("patient_id", String(32), nullable=False),
    Column("lab_id", String(16), nullable=False),
    Column("accession", String(40), nullable=False),
    Column("collected_at", DateTime, nullable=False),
    Column("specimen_type", String(60), nullable=False),
    Column("prescriber_name", String(100)),
    Column("prescriber_rpps", String(11)),
    Index("ix_plain_spec_lab_date", "lab_id", "collected_at"),
    Index("ix_plain_spec_patient", "patient_id"),
)


def plain_row(p: Patient) -> dict[str, Any]:
    address = p.addresses[0] if p.addresses else None
    ins = p.insurance
    c = p.clinical
    return {
        "id": p.id,
        "lab_id": p.lab_id,
        "birth_name": p.birth_name,
        "used_name": p.used_name,
        "first_names": " ".join(p.first_names),
        "first_name": p.first_first_name,
        "sex": p.sex.value,
        "birth_date": p.birth_date,
        "birthplace_insee": p.birthplace_insee,
        "nir": p.nir,
        "identity_status": p.identity_status.value,
        "address_line": address.line if address else None,
        "postcode": address.postcode if address else None,
        "city": address.city if address else None,
        "phone": p.phones[0] if p.phones else None,
        "email": p.emails[0] if p.emails else None,
        "physician_name": p.physician.name if p.physician else None,
        "physician_rpps": p.physician.rpps if p.physician else None,
        "amo_regime": ins.amo_regime if ins else None,
        "amo_caisse": ins.amo_caisse if ins else None,
        "amc_name": ins.amc_name if ins else None,
        "amc_member_number": ins.amc_member_number if ins else None,
        "blood_group": str(c.blood_group) if c.blood_group else None,
        "comments": "\n".join(c.comments),
        "pregnant": c.pregnant,
        "treatments": "\n".join(f"{t.name}|{t.atc}" for t in c.treatments),
        "pathologies": "\n".join(c.pathologies),
        "last_visit": p.last_visit,
    }


def plain_specimen_row(s: Specimen) -> dict[str, Any]:
    return {
        "id": s.id,
        "patient_id": s.patient_id,
        "lab_id": s.lab_id,
        "accession": s.accession,
        "collected_at": s.collected_at,
        "specimen_type": s.specimen_type,
        "prescriber_name": s.prescriber.name if s.prescriber else None,
        "prescriber_rpps": s.prescriber.rpps if s.prescriber else None,
    }


def patient_from_plain(r: Any) -> Patient:
    """The plain read path builds the same domain object the vault returns."""
    blood = BloodGroup(r.blood_group[:-1], r.blood_group[-1]) if r.blood_group else None
    return Patient(
        id=r.id,
        lab_id=r.lab_id,
        birth_name=r.birth_name,
        first_names=tuple(r.first_names.split(" ")),
        sex=Sex(r.sex),
        birth_date=r.birth_date,
        birthplace_insee=r.birthplace_insee,
        used_name=r.used_name,
        nir=r.nir,
        identity_status=IdentityStatus(r.identity_status),
        addresses=(Address(r.address_line, r.postcode, r.city),) if r.address_line else (),
        phones=(r.phone,) if r.phone else (),
        emails=(r.email,) if r.email else (),
        physician=Physician(r.physician_name, r.physician_rpps) if r.physician_name else None,
        insurance=Insurance(r.amo_regime, r.amo_caisse, r.amc_name, r.amc_member_number)
        if r.amo_regime
        else None,
        clinical=Clinical(
            blood_group=blood,
            comments=tuple(r.comments.split("\n")) if r.comments else (),
            pregnant=r.pregnant,
            pathologies=tuple(r.pathologies.split("\n")) if r.pathologies else (),
        ),
        last_visit=r.last_visit,
    )


def insert_plain(
    conn: Connection, items: Iterable[tuple[Patient, list[Specimen]]], batch: int = 2_000
) -> int:
    """Same batching and same fast executemany as the vault's bulk path."""
    patients_insert = BulkInsert(conn, plain_patients, [c.name for c in plain_patients.c])
    specimens_insert = BulkInsert(conn, plain_specimens, [c.name for c in plain_specimens.c])
    rows: list[dict[str, Any]] = []
    spec_rows: list[dict[str, Any]] = []
    total = 0
    for patient, specimens in items:
        rows.append(plain_row(patient))
        spec_rows.extend(plain_specimen_row(s) for s in specimens)
        total += 1
        if len(rows) >= batch:
            patients_insert.run(conn, rows)
            specimens_insert.run(conn, spec_rows)
            rows, spec_rows = [], []
    if rows:
        patients_insert.run(conn, rows)
        specimens_insert.run(conn, spec_rows)
    return total


class TimedSource:
    """Wraps a generator and keeps the time spent producing items apart."""

    def __init__(self, source: Iterable[Any]) -> None:
        self._source = iter(source)
        self.producing_s = 0.0

    def __iter__(self) -> Iterator[Any]:
        while True:
            started = time.perf_counter()
            try:
                item = next(self._source)
            except StopIteration:
                self.producing_s += time.perf_counter() - started
                return
            self.producing_s += time.perf_counter() - started
            yield item


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def machine() -> str:
    python = platform.python_version()
    return f"{platform.machine()} {os.cpu_count()} cores, Python {python}, {platform.system()}"


def today() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")


def emit(result: dict[str, Any], as_json: bool, section: str, markdown: str) -> None:
    """Print the result and replace this benchmark's section of docs/benchmarks.md."""
    if as_json:
        print(json.dumps(result))
    else:
        for key, value in result.items():
            print(f"{key:>22}: {value}")
    update_doc(section, markdown)


def update_doc(section: str, markdown: str) -> None:
    start, end = f"<!-- bench:{section} -->", f"<!-- /bench:{section} -->"
    block = f"{start}\n{markdown.strip()}\n{end}"
    text = DOC.read_text(encoding="utf-8") if DOC.exists() else "# Benchmarks\n"
    pattern = re.compile(re.escape(start) + r".*?" + re.escape(end), re.S)
    text = (
        pattern.sub(lambda _: block, text)
        if pattern.search(text)
        else text.rstrip() + "\n\n" + block + "\n"
    )
    DOC.write_text(text, encoding="utf-8")
