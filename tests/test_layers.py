"""The architecture as a test: adapters hold no keys, rooms keep their private modules.

DESIGN.md draws the rooms and the way dependencies point. This file fails when a
module breaks them: the CLI and the web adapters may not import ``vault``,
``crypto``, ``access`` or ``audit``, call the policy (``can``) or record audit
events themselves; no room imports another room's ``_private`` module; and a
person command starts without loading the server's heavy libraries.
"""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

SRC = Path(__file__).parent.parent / "src" / "etanche"
ADAPTERS = ("cli", "web")
KEY_ROOMS = ("etanche.vault", "etanche.crypto", "etanche.access", "etanche.audit")
HEAVY = ("fastapi", "sqlalchemy", "polars", "edsnlp", "spacy", "uvicorn", "alembic")


@dataclass(frozen=True)
class Breach:
    module: str
    line: int
    what: str

    def __str__(self) -> str:
        return f"{self.module}:{self.line}: {self.what}"


def _module_name(path: Path) -> str:
    parts = path.relative_to(SRC.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imported(node: ast.AST, module: str) -> list[str]:
    """The absolute names an import statement brings in."""
    if isinstance(node, ast.Import):
        return [alias.name for alias in node.names]
    if isinstance(node, ast.ImportFrom):
        base = node.module or ""
        if node.level:
            package = module.split(".")[: -node.level] if module else []
            base = ".".join([*package, base]) if base else ".".join(package)
        return [f"{base}.{alias.name}" for alias in node.names] + [base]
    return []


def adapter_breaches(source: str, module: str) -> list[Breach]:
    """What an adapter module (cli, web) does that only the service may do."""
    found: list[Breach] = []
    for node in ast.walk(ast.parse(source)):
        for name in _imported(node, module):
            if any(name == room or name.startswith(room + ".") for room in KEY_ROOMS):
                found.append(Breach(module, node.lineno, f"imports {name}"))  # type: ignore[attr-defined]
        if isinstance(node, ast.Call):
            func = node.func
            if isinstance(func, ast.Name) and func.id == "can":
                found.append(Breach(module, node.lineno, "calls can()"))
            if isinstance(func, ast.Attribute) and func.attr == "record":
                found.append(Breach(module, node.lineno, "records an audit event"))
    return sorted(set(found), key=str)


def private_breaches(source: str, module: str) -> list[Breach]:
    """Imports of another room's private (``_name``) module."""
    room = ".".join(module.split(".")[:2])
    found: list[Breach] = []
    for node in ast.walk(ast.parse(source)):
        if not isinstance(node, ast.Import | ast.ImportFrom):
            continue
        for name in _imported(node, module):
            parts = name.split(".")
            if parts[0] != "etanche" or len(parts) < 3:
                continue
            other = ".".join(parts[:2])
            if other != room and parts[2].startswith("_"):
                target = ".".join(parts[:3])
                found.append(Breach(module, node.lineno, f"imports private {target}"))
    return sorted(set(found), key=str)


def _modules(*rooms: str) -> list[tuple[str, str]]:
    folders = [SRC / room for room in rooms] if rooms else [SRC]
    return [
        (_module_name(path), path.read_text(encoding="utf-8"))
        for folder in folders
        for path in sorted(folder.rglob("*.py"))
    ]


def test_adapters_hold_no_key_and_decide_nothing() -> None:
    breaches = [b for m, s in _modules(*ADAPTERS) for b in adapter_breaches(s, m)]
    assert [str(b) for b in breaches] == []


def test_no_room_imports_another_rooms_private_module() -> None:
    breaches = [b for m, s in _modules() for b in private_breaches(s, m)]
    assert [str(b) for b in breaches] == []


@pytest.mark.parametrize(
    ("snippet", "what"),
    [
        ("from etanche.vault import Vault", "imports etanche.vault"),
        ("import etanche.crypto._aead", "imports etanche.crypto._aead"),
        ("from ..access import can", "imports etanche.access"),
        ("def f(a):\n    return can(a, 1, 2)", "calls can()"),
        ("def f(trail):\n    trail.record(None, 'x', 'ok')", "records an audit event"),
    ],
)
def test_the_adapter_check_sees_a_breach(snippet: str, what: str) -> None:
    """The contract can fail: each forbidden move in a made-up adapter module is named."""
    found = adapter_breaches(snippet, "etanche.cli._bad")
    assert any(b.what.startswith(what) for b in found), found


def test_the_private_check_sees_a_breach() -> None:
    found = private_breaches("from etanche.vault._store import Vault", "etanche.leak._x")
    assert [b.what for b in found] == ["imports private etanche.vault._store"]
    assert private_breaches("from etanche.vault._store import Vault", "etanche.vault._x") == []


def _loaded_after(code: str) -> set[str]:
    probe = f"{code}\nimport json, sys\nprint(json.dumps(sorted(sys.modules)))"
    done = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True, timeout=60
    )
    return set(json.loads(done.stdout.strip().splitlines()[-1]))


def _heavy(loaded: set[str]) -> list[str]:
    rooms = [r for r in KEY_ROOMS if r in loaded]
    return sorted({m.split(".")[0] for m in loaded if m.split(".")[0] in HEAVY} | set(rooms))


def test_help_and_client_commands_load_nothing_heavy() -> None:
    """`etanche --help` and a person command start without the server's libraries."""
    loaded = _loaded_after(
        "from etanche.cli import main\n"
        "try:\n    main(['--help'])\nexcept SystemExit:\n    pass\n"
        "try:\n    main(['whoami'])\nexcept SystemExit:\n    pass\n"
    )
    assert _heavy(loaded) == []


def test_the_heavy_check_sees_a_heavy_import() -> None:
    assert "sqlalchemy" in _heavy(_loaded_after("import sqlalchemy"))
