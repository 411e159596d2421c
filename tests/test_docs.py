"""The documents keep up with the code: every command and every setting is written down.

Like datasette's own test: a command nobody documented, or an environment variable
read but not listed, fails here.
"""

from __future__ import annotations

import re
from pathlib import Path

import typer

from etanche import settings
from etanche.cli._app import app

ROOT = Path(__file__).parent.parent


def _commands(group: typer.Typer, prefix: str = "") -> list[str]:
    names: list[str] = []
    for command in group.registered_commands:
        name = command.name or (command.callback.__name__ if command.callback else "")
        names.append(f"{prefix}{name.replace('_', '-')}")
    for sub in group.registered_groups:
        assert sub.typer_instance is not None and sub.name is not None
        names += _commands(sub.typer_instance, f"{prefix}{sub.name} ")
    return names


def test_every_command_is_in_the_readme() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    missing = [c for c in _commands(app) if f"etanche {c}" not in readme]
    assert missing == []


def test_every_setting_is_documented_and_read_in_one_place() -> None:
    documented = (ROOT / "docs" / "settings.md").read_text(encoding="utf-8")
    assert [name for name in settings.ENVIRONMENT if f"`{name}`" not in documented] == []
    read_elsewhere = [
        f"{path.relative_to(ROOT)}"
        for path in (ROOT / "src" / "etanche").rglob("*.py")
        if path.name != "settings.py"
        and re.search(r"os\.environ\.get\(|os\.getenv\(|environ\[\"ETANCHE", path.read_text())
    ]
    assert read_elsewhere == []
