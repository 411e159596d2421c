"""Shared CLI plumbing: where the vault is, the passphrase, the console, who is logged in."""

from __future__ import annotations

import os
import stat
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

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

from etanche._files import write_private
from etanche.access import Action, Actor, ApiTokens, Resource, Sessions, can
from etanche.audit import Outcome
from etanche.audit._events import DetailValue
from etanche.domain import Compartment
from etanche.errors import AccessError, EtancheError, PermissionDenied, UsageError
from etanche.service import KeyService, PatientService, Trail, shred_expired_artefacts
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
    """Open the vault; what has passed its retention date is shredded first."""
    store = Vault.open(location(vault, keyfile), passphrase(), compartments=compartments)
    rules = os.environ.get("ETANCHE_RULES")
    shred_expired_artefacts(store, lambda: Trail.for_vault(store, rules), client=CLIENT)
    return store


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


# -- who is logged in ------------------------------------------------------------
SESSION_FILE_ENV = "ETANCHE_SESSION_FILE"
TOKEN_ENV = "ETANCHE_TOKEN"  # noqa: S105 (the name of an environment variable)


def session_file() -> Path:
    """Where ``etanche login`` keeps the session token (ETANCHE_SESSION_FILE overrides)."""
    given = os.environ.get(SESSION_FILE_ENV)
    if given:
        return Path(given).expanduser()
    return Path.home() / ".config" / "etanche" / "session"


def write_session(token: str) -> Path:
    """Save a session token readable by its owner only (0600, directory 0700)."""
    path = session_file()
    write_private(path, token.encode("ascii") + b"\n")
    return path


def read_session() -> str | None:
    """The saved session token, or None; refuses a file others can read."""
    path = session_file()
    try:
        mode = path.stat().st_mode
    except FileNotFoundError:
        return None
    if mode & (stat.S_IRWXG | stat.S_IRWXO):
        raise AccessError(f"session file {path}: readable by others; delete it and log in again")
    token = path.read_text(encoding="ascii").strip()
    return token or None


def forget_session() -> None:
    session_file().unlink(missing_ok=True)


def current_actor(vault: Vault) -> Actor:
    """Who runs this command: ETANCHE_TOKEN (an API token) or the saved session."""
    token = os.environ.get(TOKEN_ENV, "").strip()
    if token:
        return ApiTokens(vault).actor_for_token(token)
    saved = read_session()
    if saved is None:
        raise AccessError("login: no session (run `etanche login`)")
    return Sessions(vault).resume(saved)


# -- a person at work: vault + actor + audit trail ---------------------------------
CLIENT = "cli"


@dataclass
class PersonAtWork:
    """One CLI command run by a logged-in person: every operation audited."""

    vault: Vault
    trail: Trail
    actor: Actor
    reveal: bool = False
    clinical: bool = True

    def patients(self) -> PatientService:
        purpose = "reveal requested on the command line" if self.reveal else None
        service = PatientService(self.vault, self.trail, self.actor, client=CLIENT, purpose=purpose)
        if not self.clinical:
            service.without_clinical()
        return service

    def keys(self) -> KeyService:
        return KeyService(self.vault, self.trail, self.actor, client=CLIENT)


@contextmanager
def person(
    vault: str | None,
    keyfile: str | None,
    *,
    reveal: bool = False,
    clinical: bool = True,
) -> Iterator[PersonAtWork]:
    """Open the vault with no compartment, identify the person, then work audited.

    Compartment keys are unwrapped later, by the services, only as the policy
    grants them for each action.
    """
    store = Vault.open(location(vault, keyfile), passphrase(), compartments=())
    try:
        trail = Trail.for_vault(store, os.environ.get("ETANCHE_RULES"))
        shred_expired_artefacts(store, trail, client=CLIENT)
        try:
            actor = current_actor(store)
        except AccessError as exc:
            trail.record(
                None,
                Action.LOGIN,
                Outcome.FAILED,
                client=CLIENT,
                details={"reason": type(exc).__name__},
            )
            raise
        try:
            yield PersonAtWork(store, trail, actor, reveal, clinical)
        finally:
            trail.close()
    finally:
        store.close()


@contextmanager
def audited(
    store: Vault,
    who: Actor | str | None,
    action: Action,
    details: dict[str, DetailValue] | None = None,
    *,
    client: str = CLIENT,
) -> Iterator[dict[str, DetailValue]]:
    """Record the command's outcome (ok, denied or failed) as one audit event.

    The body may add details (ids, counts) to the yielded dict; the outcome is
    read from how the body ends.
    """
    trail = Trail.for_vault(store, os.environ.get("ETANCHE_RULES"))
    extra: dict[str, DetailValue] = dict(details or {})
    try:
        yield extra
    except PermissionDenied:
        trail.record(who, action, Outcome.DENIED, client=client, details=extra)
        raise
    except EtancheError as exc:
        extra["error"] = type(exc).__name__
        trail.record(who, action, Outcome.FAILED, client=client, details=extra)
        raise
    else:
        trail.record(who, action, Outcome.OK, client=client, details=extra)
    finally:
        trail.close()


@contextmanager
def authorized(
    vault: str | None,
    keyfile: str | None,
    action: Action,
    details: dict[str, DetailValue] | None = None,
    *,
    lab_id: str | None = None,
) -> Iterator[tuple[Vault, Actor, dict[str, DetailValue]]]:
    """A logged-in person allowed by the policy to do ``action``; audited either way."""
    with person(vault, keyfile) as who:
        extra: dict[str, DetailValue] = dict(details or {})
        decision = can(who.actor, action, Resource(action.value.split(".")[0], lab_id))
        if not decision.allowed:
            extra["reason"] = decision.reason
            who.trail.record(who.actor, action, Outcome.DENIED, client=CLIENT, details=extra)
            raise PermissionDenied(decision.reason)
        who.vault.unlock(decision.compartments)
        try:
            yield who.vault, who.actor, extra
        except EtancheError as exc:
            extra["error"] = type(exc).__name__
            who.trail.record(who.actor, action, Outcome.FAILED, client=CLIENT, details=extra)
            raise
        who.trail.record(who.actor, action, Outcome.OK, client=CLIENT, details=extra)
