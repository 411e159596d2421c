"""The web is an adapter: it calls the service and renders, nothing more.

Every module under ``src/etanche/web`` is parsed; none may import the rooms
behind the service (vault, crypto, access, audit, or any of their private
modules), call the policy (``can(...)``) or write an audit event
(``….record(...)``). Those belong to ``etanche.service``, once.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import etanche.web

WEB = Path(etanche.web.__file__).parent
FORBIDDEN_ROOMS = ("etanche.vault", "etanche.crypto", "etanche.access", "etanche.audit")

# Modules not yet converted to service operations; remove an
# entry when its module passes (test_pending_modules_still_listed_for_a_reason).
PENDING: frozenset[str] = frozenset()


def _forbidden_module(name: str) -> bool:
    return any(name == room or name.startswith(room + ".") for room in FORBIDDEN_ROOMS)


def door_violations(source: str, filename: str = "<module>") -> list[str]:
    """What in ``source`` goes around the service: one line per forbidden import or call."""
    found: list[str] = []
    for node in ast.walk(ast.parse(source, filename)):
        if isinstance(node, ast.Import):
            found += [
                f"{filename}:{node.lineno}: imports {alias.name}"
                for alias in node.names
                if _forbidden_module(alias.name)
            ]
        elif isinstance(node, ast.ImportFrom):
            module = node.module or ""
            if node.level == 0 and _forbidden_module(module):
                found.append(f"{filename}:{node.lineno}: imports from {module}")
            elif node.level == 0 and module == "etanche":
                found += [
                    f"{filename}:{node.lineno}: imports etanche.{alias.name}"
                    for alias in node.names
                    if _forbidden_module(f"etanche.{alias.name}")
                ]
        elif isinstance(node, ast.Call):
            func = node.func
            if isinstance(func, ast.Name) and func.id == "can":
                found.append(f"{filename}:{node.lineno}: calls can()")
            elif isinstance(func, ast.Attribute) and func.attr in ("can", "record"):
                found.append(f"{filename}:{node.lineno}: calls .{func.attr}()")
    return found


def _modules() -> list[Path]:
    return sorted(WEB.rglob("*.py"))


def test_the_web_goes_through_the_service_only() -> None:
    problems: list[str] = []
    for path in _modules():
        if path.name in PENDING and path.parent == WEB:
            continue
        problems += door_violations(path.read_text(encoding="utf-8"), str(path.relative_to(WEB)))
    assert not problems, "web modules going around the service:\n" + "\n".join(problems)


def test_pending_modules_still_listed_for_a_reason() -> None:
    for name in PENDING:
        source = (WEB / name).read_text(encoding="utf-8")
        assert door_violations(source, name), f"{name} passes now: remove it from PENDING"


def test_every_web_module_is_checked() -> None:
    names = {str(p.relative_to(WEB)) for p in _modules()}
    assert {"_auth.py", "_pages_users.py", "fhir/_audit_event.py", "api/_people.py"} <= names


BAD = """
import etanche.vault
import etanche.crypto._aead as aead
from etanche.access import can
from etanche.audit._alerts import AlertEngine
from etanche import access
from etanche.service import People  # allowed

def page(person, trail, resource):
    decision = can(person.actor, "patient.read", resource)
    policy.can(person.actor, "patient.read", resource)
    trail.record(person.actor, "patient.read", "ok")
    return decision
"""


def test_the_checker_catches_a_bad_module() -> None:
    found = door_violations(BAD, "bad.py")
    assert found == [
        "bad.py:2: imports etanche.vault",
        "bad.py:3: imports etanche.crypto._aead",
        "bad.py:4: imports from etanche.access",
        "bad.py:5: imports from etanche.audit._alerts",
        "bad.py:6: imports etanche.access",
        "bad.py:10: calls can()",
        "bad.py:11: calls .can()",
        "bad.py:12: calls .record()",
    ]


@pytest.mark.parametrize(
    "good",
    [
        "from etanche.service import Door, People\n",
        "from etanche.names import Action, Role\nfrom etanche.domain import Patient\n",
        "from etanche.vaulted import x\n",  # a name that merely starts alike
        "def f(tally):\n    return tally.hidden\n",
    ],
)
def test_the_checker_lets_an_adapter_be(good: str) -> None:
    assert door_violations(good) == []
