"""Shared CLI plumbing: where the vault is, the passphrase, the console."""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager

import typer
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)

from etanche.domain import Compartment
from etanche.errors import UsageError
from etanche.vault import ALL_COMPARTMENTS, Vault, VaultLocation, parse_location

console = Console()
err_console = Console(stderr=True)

VAULT_OPTION = typer.Option(
    "--vault", envvar="ETANCHE_VAULT", help="Vault directory (SQLite) or postgresql:// URL."
)
KEYFILE_OPTION = typer.Option(
    "--keyfile",
    envvar="ETANCHE_KEYFILE",
    help="Key file (default: keys.json inside a SQLite vault; required for PostgreSQL).",
)


def location(vault: str | None, keyfile: str | None) -> VaultLocation:
    if not vault:
        raise UsageError("vault: no location given (use --vault or ETANCHE_VAULT)")
    return parse_location(vault, keyfile)


def passphrase(*, confirm: bool = False) -> str:
    """From ETANCHE_PASSPHRASE, else a hidden prompt on a terminal."""
    value = os.environ.get("ETANCHE_PASSPHRASE")
    if value:
        return value
    if not sys.stdin.isatty():
        raise UsageError("passphrase: set ETANCHE_PASSPHRASE or run in a terminal to be prompted")
    return str(typer.prompt("Vault passphrase", hide_input=True, confirmation_prompt=confirm))


def open_vault(
    vault: str | None,
    keyfile: str | None,
    compartments: tuple[Compartment, ...] = ALL_COMPARTMENTS,
) -> Vault:
    return Vault.open(location(vault, keyfile), passphrase(), compartments=compartments)


@contextmanager
def progress_bar(description: str, total: int | None) -> Iterator[Progress]:
    """A Rich progress bar on stderr, so --json output on stdout stays clean."""
    bar = Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
        console=err_console,
        transient=False,
    )
    with bar:
        bar.add_task(description, total=total)
        yield bar


def advance(bar: Progress, amount: int) -> None:
    bar.advance(bar.task_ids[0], amount)
