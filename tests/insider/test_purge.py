"""The operator against the retention purge: backdating dates, forging holds, editing reports.

The operator has a shell, the database and the server's files, not the keys.
What holds: a clear day backdated in the database (a patient's retention day or
a specimen's collection day) differs from the day sealed in the record, so the
purge refuses that record and says so in the report and the audit event; a
report edited to hide a purge, or re-signed with another key, fails against the
pinned log key; a hold typed into the table is kept but reported as unsealed.
What does not hold (docs/retention.md): a whole record rolled back to an older
authentic ciphertext is not caught by the purge (``vault verify`` catches it),
and a retention file shortened by whoever runs the service is obeyed; its hash
is in the report and the event.
"""

from __future__ import annotations

import copy
import json
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from sqlalchemy import insert, update

from _purge import OLD, RECENT, TODAY, public_pem, purge_world, raw, service
from etanche.crypto import Signer, new_seed
from etanche.errors import IntegrityError
from etanche.vault import ALL_COMPARTMENTS, patients_table, specimens_table
from etanche.vault._schema import retention_holds
from etanche.verify import verify_purge_report

LONG_AGO = date(2001, 1, 1)


def test_backdated_retention_day_is_refused(tmp_path: Path) -> None:
    with purge_world(tmp_path) as (core, groups):
        target = groups[RECENT][0]
        with core.vault.engine.begin() as conn:
            conn.execute(
                update(patients_table)
                .where(patients_table.c.id == target)
                .values(last_visit_on=LONG_AGO)
            )
            conn.execute(
                update(specimens_table)
                .where(specimens_table.c.patient_id == target)
                .values(collected_on=LONG_AGO)
            )
        signed = service(core).purge(today=TODAY)
        refused = {r["id"] for r in signed["report"]["refused"]}
        assert target in refused
        assert target not in {r["id"] for r in signed["report"]["records"]}
        assert core.vault.session(ALL_COMPARTMENTS).get(target).id == target
        events = core.trail.log.events(action="retention.purge")
        assert events[-1][1].details["refused"] >= 1


def test_backdated_specimen_keeps_its_patient(tmp_path: Path) -> None:
    """The clinic's recent specimen backdated: the old patient it keeps alive is not shredded."""
    with purge_world(tmp_path) as (core, groups):
        target = groups["mixed"][0]
        with core.vault.engine.begin() as conn:
            conn.execute(
                update(specimens_table)
                .where(specimens_table.c.patient_id == target)
                .values(collected_on=LONG_AGO)
            )
        signed = service(core).purge(today=TODAY)
        assert target in {r["id"] for r in signed["report"]["refused"]}
        assert raw(core, target)[0].erased_at is None


def test_edited_or_resigned_report_fails(tmp_path: Path) -> None:
    with purge_world(tmp_path) as (core, groups):
        signed = service(core).purge(today=TODAY)
        pem = public_pem(core)
        hidden = copy.deepcopy(signed)
        hidden["report"]["records"] = [
            r for r in hidden["report"]["records"] if r["id"] != groups[OLD][0]
        ]
        hidden["report"]["counts"]["patient_admin"] = {
            lab: n - (1 if lab == signed["report"]["records"][0]["lab"] else 0)
            for lab, n in hidden["report"]["counts"]["patient_admin"].items()
        }
        with pytest.raises(IntegrityError):
            verify_purge_report(hidden, pem)
        # re-signed by a key the operator holds: the pinned key refuses it
        from etanche.audit import sign_purge_report

        forged = sign_purge_report(
            hidden["report"],
            signed["event"]["seq"],
            signed["event"]["body"].encode(),
            Signer.from_seed(new_seed()),
        )
        with pytest.raises(IntegrityError):
            verify_purge_report(json.loads(json.dumps(forged)), pem)


def test_hold_typed_into_the_table_is_reported(tmp_path: Path) -> None:
    with purge_world(tmp_path) as (core, groups):
        target = groups[OLD][0]
        with core.vault.engine.begin() as conn:
            conn.execute(
                insert(retention_holds),
                [
                    {
                        "patient_id": target,
                        "reason": b"not sealed",
                        "set_by": "dpo1",
                        "set_at": datetime.now(UTC),
                    }
                ],
            )
        signed = service(core).purge(today=TODAY)
        assert signed["report"]["kept"]["unsealed_holds"] == 1
        assert raw(core, target)[0].erased_at is None  # kept: keeping is the safe side
