"""``etanche audit``: verify the tamper-evident log, prove events, sign and show heads.

``verify`` and ``verify-proof`` need no passphrase: only the database (or the
proof) and the log's public key. Keep a copy of ``audit-public.pem`` and of signed
heads outside the vault: a key or head an attacker can rewrite proves nothing.
"""

from __future__ import annotations

import json
import os
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table
from sqlalchemy import Engine

from etanche._files import write_private
from etanche.access import Action
from etanche.audit import (
    AuditLog,
    SignedTreeHead,
    read_heads,
    verify_inclusion_proof,
    verify_log,
)
from etanche.audit._alerts import AlertEngine
from etanche.audit._events import DetailValue
from etanche.cli import _legacy as ctx
from etanche.cli._app import app
from etanche.cli._legacy import Keyfile, Vault_
from etanche.errors import IntegrityError, SourceError, UsageError, VaultNotFound
from etanche.vault import Vault, VaultLocation
from etanche.vault._location import make_engine

PUBLIC_KEY_FILE = "audit-public.pem"

audit_app = typer.Typer(
    help="Tamper-evident audit log: verify, prove inclusion, sign heads, show events.",
    no_args_is_help=True,
)
app.add_typer(audit_app, name="audit")

PublicKey = Annotated[
    Path | None,
    typer.Option(
        "--public-key",
        help=f"PEM public key of the log (default: {PUBLIC_KEY_FILE} in a SQLite vault).",
    ),
]


@audit_app.command("verify")
def verify(
    against: Annotated[
        Path | None,
        typer.Option(help="Saved head (JSON) or witness file (JSON lines) to check against."),
    ] = None,
    public_key: PublicKey = None,
    head_every: Annotated[int, typer.Option(min=1, help="The writer's head_every.")] = 1000,
    head_interval: Annotated[
        float, typer.Option(min=0, help="The writer's head interval, in seconds.")
    ] = 60.0,
    as_json: Annotated[bool, typer.Option("--json", help="JSON report on stdout.")] = False,
    vault: Vault_ = None,
    keyfile: Keyfile = None,
) -> None:
    """Verify every event and head with the public key only; exit 5 if the log was altered."""
    where = ctx.location(vault, keyfile)
    pem = _public_key(where, public_key)
    saved = read_heads(against) if against is not None else []
    engine = _database(where)
    try:
        report = verify_log(
            engine, pem, against=saved, head_every=head_every, head_interval_s=head_interval
        )
        if not report.ok:  # the critical alert of the supervision rules, to every sink
            alerts = AlertEngine.from_config(engine, os.environ.get("ETANCHE_RULES"))
            alerts.report_verification_failure(report.problems)
    finally:
        engine.dispose()
    if as_json:
        typer.echo(json.dumps(report.to_dict()))
    else:
        for problem in report.problems:
            typer.echo(f"problem: {problem}")
        latest = report.latest_head
        covered = f"latest valid head {latest.tree_size}" if latest else "no valid head"
        status = "ok" if report.ok else "ALTERED"
        typer.echo(
            f"audit log {status}: {report.events} events, {report.heads} heads, {covered}, "
            f"{report.unsigned_tail} unsigned, {len(saved)} saved heads checked"
        )
    if not report.ok:
        raise IntegrityError(f"audit log: {len(report.problems)} problems found; it was altered")


@audit_app.command("export-key")
def export_key(
    file: Annotated[
        Path | None,
        typer.Argument(help=f"Where to write the PEM (default: {PUBLIC_KEY_FILE} in the vault)."),
    ] = None,
    vault: Vault_ = None,
    keyfile: Keyfile = None,
) -> None:
    """Write the log's public key (PEM): all a verifier needs."""
    where = ctx.location(vault, keyfile)
    target = file if file is not None else _default_key_path(where)
    if target is None:
        raise UsageError("export-key: give a FILE (a PostgreSQL vault has no directory)")
    with ctx.authorized(vault, keyfile, Action.AUDIT_VERIFY, {"operation": "export-key"}) as (
        store,
        _,
        _e,
    ):
        log = AuditLog.for_vault(store)
        write_private(target, log.public_key_pem())
    ctx.console.print(f"Public key {log.key_id} written to {target}.")


@audit_app.command("prove")
def prove(
    event_id: Annotated[int, typer.Argument(min=0, help="Event seq, as shown by `audit show`.")],
    out: Annotated[Path | None, typer.Option(help="Write the proof JSON here.")] = None,
    vault: Vault_ = None,
    keyfile: Keyfile = None,
) -> None:
    """Inclusion proof of one event in the latest signed head (JSON)."""
    details: dict[str, DetailValue] = {"operation": "prove", "event": event_id}
    with ctx.authorized(vault, keyfile, Action.AUDIT_VERIFY, details) as (store, _, _e):
        proof = AuditLog.for_vault(store).prove(event_id)
    _emit(proof.to_json(indent=2), out, f"Proof of event {event_id} in head {proof.tree_size}")


@audit_app.command("verify-proof")
def verify_proof(
    proof_file: Annotated[Path, typer.Argument(help="Proof JSON from `audit prove`.")],
    public_key: Annotated[Path, typer.Option("--public-key", help="PEM public key of the log.")],
) -> None:
    """Check an inclusion proof offline with the public key; exit 5 if it fails."""
    proof = verify_inclusion_proof(_read(proof_file), _read(public_key))
    typer.echo(
        f"proof ok: event {proof.seq} is in the log of head {proof.tree_size} "
        f"(key {proof.head.key_id}, signed {proof.head.to_dict()['signed_at']})"
    )


@audit_app.command("head")
def head(
    out: Annotated[Path | None, typer.Option(help="Write the head JSON here.")] = None,
    vault: Vault_ = None,
    keyfile: Keyfile = None,
) -> None:
    """Sign a tree head now (or return the latest if no event is new); keep it safe."""
    details: dict[str, DetailValue] = {"operation": "head"}
    with ctx.authorized(vault, keyfile, Action.AUDIT_VERIFY, details) as (store, _, _e):
        signed: SignedTreeHead = AuditLog.for_vault(store).sign_head()
    _emit(signed.to_json(), out, f"Head {signed.tree_size}")


@audit_app.command("show")
def show(
    actor: Annotated[str | None, typer.Option(help="User name of the actor.")] = None,
    patient: Annotated[str | None, typer.Option(help="Patient (or other object) id.")] = None,
    action: Annotated[str | None, typer.Option(help="Action, e.g. patient.read.")] = None,
    since: Annotated[str | None, typer.Option(help="From this UTC date or time (ISO).")] = None,
    until: Annotated[str | None, typer.Option(help="Before this UTC date or time (ISO).")] = None,
    limit: Annotated[int, typer.Option(min=1, help="At most this many events.")] = 100,
    as_json: Annotated[bool, typer.Option("--json", help="JSON on stdout.")] = False,
    vault: Vault_ = None,
    keyfile: Keyfile = None,
) -> None:
    """List events, newest first, filtered by actor, patient, action and time."""
    details: dict[str, DetailValue] = {"operation": "show"}
    with ctx.authorized(vault, keyfile, Action.AUDIT_READ, details) as (store, _, event):
        found = AuditLog.for_vault(store).events(
            actor=actor,
            object_id=patient,
            action=action,
            since=_parse_time(since, "--since"),
            until=_parse_time(until, "--until"),
            limit=limit,
            newest_first=True,
        )
        event["count"] = len(found)
    rows = [{"seq": seq, **json.loads(event.canonical())} for seq, event in found]
    if as_json:
        typer.echo(json.dumps({"count": len(rows), "events": rows}, ensure_ascii=False))
        return
    if not rows:
        ctx.console.print("No event found.")
        return
    table = Table("seq", "at (UTC)", "actor", "role", "action", "outcome", "objects")
    for row in rows:
        table.add_row(
            str(row["seq"]),
            row["at"],
            row["actor"],
            row["role"],
            row["action"],
            row["outcome"],
            " ".join(row["objects"]),
        )
    ctx.console.print(table)


def _database(where: VaultLocation) -> Engine:
    """The vault's database alone, without its keys (verification needs none)."""
    if where.directory is not None and not where.sqlite_path.exists():
        raise VaultNotFound(f"vault {where.describe()}: not found")
    return make_engine(where)


def _default_key_path(where: VaultLocation) -> Path | None:
    return where.directory / PUBLIC_KEY_FILE if where.directory is not None else None


def _public_key(where: VaultLocation, given: Path | None) -> bytes:
    """The given PEM, else the exported one, else derived from the vault (passphrase)."""
    if given is not None:
        return _read(given)
    default = _default_key_path(where)
    if default is not None and default.exists():
        return default.read_bytes()
    with Vault.open(where, ctx.passphrase(), compartments=()) as store:
        return AuditLog.for_vault(store).public_key_pem()


def _read(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except OSError as exc:
        raise SourceError(f"{path.name}: cannot read ({type(exc).__name__})") from None


def _emit(text: str, out: Path | None, what: str) -> None:
    if out is None:
        typer.echo(text)
        return
    write_private(out, text + "\n")
    ctx.console.print(f"{what} written to {out}.")


def _parse_time(value: str | None, option: str) -> datetime | None:
    if value is None:
        return None
    try:
        if len(value) == 10:
            day = date.fromisoformat(value)
            return datetime(day.year, day.month, day.day, tzinfo=UTC)
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise UsageError(f"{option}: expected YYYY-MM-DD or an ISO date and time") from None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
