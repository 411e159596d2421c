"""Property: no package ever carries a field or a record outside its plan.

Random allow-lists, lab scopes and specimen windows, over an HL7 v2 source with
specimens and over the legacy export (with its credential columns); every row of
every package, canaries included, is decrypted and checked against the plan that
produced it.
"""

from __future__ import annotations

import itertools
import json
from datetime import date, datetime
from pathlib import Path

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from migrate_support import Migration, approved

from etanche.crypto import age_decrypt
from etanche.exchange import FIELDS, SPECIMEN_FIELDS, write_hl7v2
from etanche.migrate import build_package, check_plan
from etanche.service import marker_for

ADMIN = sorted(
    n for n, s in FIELDS.items() if s.compartment == "admin" and n not in SPECIMEN_FIELDS
)
CLINICAL = sorted(n for n, s in FIELDS.items() if s.compartment == "clinical")
counter = itertools.count()


def _package_rows(directory: Path, migration: Migration) -> list[dict[str, object]]:
    manifest = json.loads((directory / "manifest.json").read_bytes())
    rows: list[dict[str, object]] = []
    for part in manifest["parts"]:
        blob = (directory / part["name"]).read_bytes()
        rows += [
            json.loads(x)
            for x in age_decrypt(blob, [migration.recipient], what="p").split(b"\n")
            if x
        ]
    return rows


@pytest.mark.parametrize("source_format", ["hl7v2", "legacy-csv"])
@settings(
    max_examples=8,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    admin=st.lists(st.sampled_from(ADMIN), unique=True, min_size=1),
    clinical=st.lists(st.sampled_from(CLINICAL), unique=True),
    specimen=st.lists(st.sampled_from(list(SPECIMEN_FIELDS)), unique=True),
    labs=st.lists(st.sampled_from(["L01", "L02", "L03"]), unique=True, min_size=1),
    window=st.tuples(st.integers(2015, 2020), st.integers(0, 3)),
)
def test_packages_hold_nothing_outside_their_plan(
    migration: Migration,
    source_format: str,
    admin: list[str],
    clinical: list[str],
    specimen: list[str],
    labs: list[str],
    window: tuple[int, int],
) -> None:
    source = migration.source
    if source_format == "hl7v2":
        source = migration.folder / "source.hl7"
        if not source.exists():
            write_hl7v2(migration.network, source)
    start, end = date(window[0], 1, 1), date(min(window[0] + window[1], 2020), 12, 31)
    fields = {"admin": admin + specimen}
    if clinical:
        fields["clinical"] = clinical
    name = f"plan-{next(counter)}.yaml"
    path = migration.write_plan(
        name,
        plan=f"prop-{next(counter)}",
        source={"format": source_format, "path": str(source)},
        scope={"labs": labs, "specimens": {"from": start.isoformat(), "to": end.isoformat()}},
        fields=fields,
    )
    plan = approved(migration, path)
    expected = check_plan(plan).valid
    out = migration.folder / f"pkg-{next(counter)}"
    marked = marker_for(plan, migration.vault)  # fingerprints and canaries, as the CLI runs it
    result = build_package(plan, migration.vault, out, actor="pgirard", outbound=marked)
    rows = _package_rows(out, migration)
    canaries = set(
        json.loads(
            age_decrypt((out / "canaries.age").read_bytes(), [migration.recipient], what="c")
        )
    )
    assert len(canaries) == result.canaries >= 2
    assert len([r for r in rows if r["ref"] not in canaries]) == expected
    allowed = set(admin) | set(clinical)
    for row in rows:
        assert row["lab"] in labs
        assert set(row["fields"]) <= allowed  # type: ignore[arg-type]
        for kept in row["specimens"]:  # type: ignore[attr-defined]
            assert set(kept) <= set(specimen)
            if "specimen.collected_at" in kept:
                assert start <= datetime.fromisoformat(kept["specimen.collected_at"]).date() <= end
    assert not any("portail" in json.dumps(r).lower() for r in rows)
    plan_text = yaml.safe_load(path.read_text())
    assert plan_text["fields"] == fields
