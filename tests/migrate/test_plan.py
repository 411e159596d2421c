"""Plans are validated on load: each error names the file, the entry and the field."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from migrate_support import Migration

from etanche.errors import ConfigError
from etanche.migrate import load_plan, parse_plan


def _error(migration: Migration, **changes: object) -> str:
    with pytest.raises(ConfigError) as caught:
        load_plan(migration.write_plan(**changes))
    return str(caught.value)


def test_a_valid_plan_loads_with_its_hash(migration: Migration) -> None:
    plan = load_plan(migration.write_plan())
    assert plan.id == "bionord-2026-01" and plan.labs == ("L01", "L02")
    assert plan.allowed >= {"nir", "blood_group"} and len(plan.sha256) == 64
    assert plan.source_path == migration.source
    other = load_plan(migration.write_plan("other.yaml", purpose="Another purpose"))
    assert other.sha256 != plan.sha256


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        ({"extra": 1}, "extra: unknown key"),
        ({"recipients": [{"name": "X", "age": "age1nope"}]}, "recipients[1]: age"),
        ({"fields": {"admin": ["nir", "password"]}}, "fields: admin: unknown field password"),
        ({"fields": {"admin": ["blood_group"]}}, "belongs to the clinical compartment"),
        ({"scope": {"labs": ["L09"]}}, "L09 not among the controller's labs"),
        ({"approvers": [{"username": "cbernard", "role": "dpo"}]}, "two different named persons"),
        (
            {"approvers": [{"username": "cbernard", "role": "controller lab"}]},
            "approvers[1]: role: expected a role of the policy",
        ),
        ({"kind": "dump"}, "kind: expected one of migration, export"),
        ({"canary_rate": 0}, "canary_rate: expected a number between"),
        ({"marks": []}, "marks: expected a non-empty list"),
        ({"marks": None}, "marks: expected a non-empty list"),
        ({"source": {"format": "csv", "path": "x.csv"}}, "mapping: required for format csv"),
        ({"source": {"format": "dbase", "path": "x"}}, "format: expected one of"),
        ({"retention": {"expires": "soon"}}, "retention: expires: expected a date"),
        (
            {"scope": {"labs": ["L01"], "specimens": {"from": "2020-01-02", "to": "2019-01-01"}}},
            "before 'from'",
        ),
    ],
)
def test_errors_name_the_entry(
    migration: Migration, changes: dict[str, object], expected: str
) -> None:
    assert expected in _error(migration, **changes)


def test_missing_key_and_bad_yaml(migration: Migration, tmp_path: Path) -> None:
    data = migration.plan_data()
    del data["purpose"]
    with pytest.raises(ConfigError, match="purpose: required"):
        parse_plan(yaml.safe_dump(data).encode(), source="p.yaml", base=tmp_path)
    with pytest.raises(ConfigError, match="not valid UTF-8 YAML"):
        parse_plan(b"plan: [unclosed", source="p.yaml", base=tmp_path)


def test_marks_absent_all_or_some_never_none(migration: Migration) -> None:
    from etanche.service import plan_marks

    assert load_plan(migration.write_plan()).marks is None
    assert plan_marks(load_plan(migration.write_plan())) is None  # every mark
    assert plan_marks(load_plan(migration.write_plan(marks=["phone", "NFD"]))) == {"phone", "nfd"}
    with pytest.raises(ConfigError, match="marks: unknown mark"):
        plan_marks(load_plan(migration.write_plan(marks=["glitter"])))
