"""The denominator of `bench/web.py`'s CPU ratio: the sheet page without protection.

    python bench/_plain_sheet.py DB PORT WORKERS

Serves ``GET /patients/{id}`` from the same template (``patient.html`` in the same
layout, with the same French filters) on the same server stack (uvicorn workers
forked over one socket, as ``etanche serve`` does), but from a plaintext row: the
patient and its specimens as msgpack, the vault's own encoding, with no session,
no policy, no audit trail and no decryption. The header and menus are those of a
biologist of every lab, computed once: what a page costs when nothing protects it.

It imports the web room's private helpers on purpose (a benchmark, not product
code): the page must be the product's, down to the filters.
"""

from __future__ import annotations

import sqlite3
import sys
import threading
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import msgspec
from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates

from etanche.access import Actor, Role
from etanche.domain import Lab, Patient, Specimen
from etanche.service import actions_of
from etanche.web import bind_tcp, run_workers
from etanche.web._pages_common import install_filters, labs_label, nav_for
from etanche.web._pages_fr import IDENTITY_STATUSES, role_label
from etanche.web._pages_identity import DOCUMENTS, INS_OIDS, REASONS, TRAITS
from etanche.web._state import TEMPLATES

SCHEMA = (
    "CREATE TABLE IF NOT EXISTS plain_sheet (id TEXT PRIMARY KEY, patient BLOB NOT NULL)",
    "CREATE TABLE IF NOT EXISTS plain_specimens (patient_id TEXT NOT NULL, specimen BLOB NOT NULL)",
    "CREATE INDEX IF NOT EXISTS plain_specimens_patient ON plain_specimens (patient_id)",
    "CREATE TABLE IF NOT EXISTS plain_labs (lab BLOB NOT NULL)",
)
_encoder = msgspec.msgpack.Encoder()


def write_plain(
    db: Path, patients: list[Patient], specimens: list[Specimen], labs: list[Lab]
) -> None:
    """The same patients, specimens and labs, in the clear, for the plain server."""
    with sqlite3.connect(db) as conn:
        for statement in SCHEMA:
            conn.execute(statement)
        conn.executemany(
            "INSERT INTO plain_sheet VALUES (?, ?)", ((p.id, _encoder.encode(p)) for p in patients)
        )
        conn.executemany(
            "INSERT INTO plain_specimens VALUES (?, ?)",
            ((s.patient_id, _encoder.encode(s)) for s in specimens),
        )
        conn.executemany("INSERT INTO plain_labs VALUES (?)", ((_encoder.encode(x),) for x in labs))


def make_app(db: Path) -> FastAPI:
    """One worker's app: a per-thread SQLite connection, the template environment."""
    patient_decoder = msgspec.msgpack.Decoder(Patient)
    specimen_decoder = msgspec.msgpack.Decoder(Specimen)
    local = threading.local()

    def conn() -> sqlite3.Connection:
        if not hasattr(local, "conn"):
            local.conn = sqlite3.connect(db, check_same_thread=False)
        return local.conn  # type: ignore[no-any-return]

    lab_decoder = msgspec.msgpack.Decoder(Lab)
    labs = {
        lab.id: lab
        for lab in (
            lab_decoder.decode(row[0]) for row in conn().execute("SELECT lab FROM plain_labs")
        )
    }
    templates = Jinja2Templates(directory=str(TEMPLATES))
    install_filters(SimpleNamespace(templates=templates, door=SimpleNamespace(labs=labs.values)))  # type: ignore[arg-type]
    actor = Actor("jmartin", "plain", Role.BIOLOGIST, frozenset(labs))
    allowed = {a.value for a in actions_of(actor)}
    constant: dict[str, Any] = {
        "person": SimpleNamespace(actor=actor, csrf_token="plain"),
        "actor": actor,
        "role_label": role_label(actor.role, "F"),
        "labs_label": labs_label(actor.labs),
        "csrf": "plain",
        "flash": None,
        "allowed": allowed,
        "labs": labs,
        "clinical_open": True,
        "can_edit": True,
        "can_edit_clinical": True,
        "can_add_specimen": True,
        "can_label": True,
        "break_glass": False,
        "new_specimen": None,
        "restricted": False,
        "identity_notice": None,
        "documents": DOCUMENTS,
        "downgrade_reasons": REASONS,
        "traits_fr": TRAITS,
        "ins_oids": INS_OIDS,
        "ins_differ": [],
        "may": allowed,
        "merge": None,
        "merged_into": None,
        "merged_specimens": [],
        "merged_hidden": 0,
        "statuses": IDENTITY_STATUSES,
    }
    app = FastAPI()

    @app.get("/patients/{patient_id}")
    def sheet(request: Request, patient_id: str) -> HTMLResponse:
        row = (
            conn().execute("SELECT patient FROM plain_sheet WHERE id = ?", (patient_id,)).fetchone()
        )
        patient = patient_decoder.decode(row[0])
        specimens = [
            specimen_decoder.decode(r[0])
            for r in conn().execute(
                "SELECT specimen FROM plain_specimens WHERE patient_id = ?", (patient_id,)
            )
        ]
        context = {
            **constant,
            "nav": nav_for(actor, request.url.path),
            "patient": patient,
            "specimens": specimens,
            "lab": labs.get(patient.lab_id),
        }
        return templates.TemplateResponse(request, "patient.html", context)

    return app


def main() -> None:
    db, port, workers = Path(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
    sockets = [bind_tcp("127.0.0.1", port)]
    run_workers(lambda: make_app(db), sockets, workers)


if __name__ == "__main__":
    main()
