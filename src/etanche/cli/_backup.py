"""``etanche backup``, ``etanche restore`` and ``etanche restore drill``.

``backup`` and ``restore drill`` are person commands: the service holds the
custody that keys every backup, writes it and audits it. ``restore`` is a
bootstrap command: it builds a new vault from a backup with a fresh quorum of
the custodians' shares, so no single person restores one.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from etanche.cli import _context as ctx
from etanche.cli._app import AsJson, app
from etanche.cli._bootstrap import CustodyOption, ShareFiles, _read_secret
from etanche.errors import IntegrityError, UsageError

restore_app = typer.Typer(
    help="Restore a backup into a new vault (custodians' quorum), or drill a restore.",
    invoke_without_command=True,
)
app.add_typer(restore_app, name="restore")

Shares = Annotated[
    list[Path] | None,
    typer.Option(
        "--share", help="A custodian's share, encrypted to them (repeat with --identity)."
    ),
]
Identities = Annotated[
    list[Path] | None,
    typer.Option("--identity", help="The age secret key opening the --share at the same place."),
]


@app.command()
def backup(
    out: Annotated[Path, typer.Option("--out", help="Folder for backups (on the service's host).")],
    as_json: AsJson = False,
) -> None:
    """Write an encrypted backup of the vault: a consistent copy, age-encrypted, manifest."""
    manifest = ctx.service().post("/backups", {"out": str(out.resolve())})
    if as_json:
        ctx.echo_json(manifest)
        return
    counts = manifest["counts"]
    ctx.say(
        f"Backup {manifest['id']} written to {out.resolve() / manifest['id']}: "
        f"{counts['patients']} patients, {counts['erased']} erased, audit log at "
        f"{manifest['audit']['tree_size']} events, sha256 {manifest['payload']['sha256']}."
    )


def _shares(
    files: list[Path] | None, shares: list[Path] | None, keys: list[Path] | None
) -> list[str]:
    from etanche.service.bootstrap import share_from

    lines = [_read_secret(p, "--share-file") for p in files or []]
    if len(shares or []) != len(keys or []):
        raise UsageError("--share/--identity: give one --identity per --share")
    lines += [share_from(None, s, k) for s, k in zip(shares or [], keys or [], strict=True)]
    if not lines:
        raise UsageError("restore: the custodians' shares are needed (--share-file, or --share)")
    return lines


@restore_app.callback()
def restore(
    typer_ctx: typer.Context,
    source: Annotated[
        Path | None, typer.Option("--from", help="A backup folder, or a folder of backups.")
    ] = None,
    to: Annotated[
        str | None, typer.Option("--to", help="New vault: a folder, or an empty postgresql:// DB.")
    ] = None,
    shred_ledger: Annotated[
        Path | None,
        typer.Option("--shred-ledger", help="The shred ledger kept apart [ETANCHE_SHRED_LEDGER]."),
    ] = None,
    custody: CustodyOption = None,
    share_file: ShareFiles = None,
    share: Shares = None,
    identity: Identities = None,
    as_json: AsJson = False,
) -> None:
    """Restore a backup into a new vault with a quorum of custodians' shares.

    Every patient of the shred ledger is shredded again before the vault serves.
    """
    if typer_ctx.invoked_subcommand is not None:
        return
    from etanche.service.bootstrap import restore_from_backup

    if source is None or to is None:
        raise UsageError("restore: give --from BACKUP and --to TARGET (or `restore drill`)")
    ledger = shred_ledger or (Path(s) if (s := ctx.config().shred_ledger) else None)
    if ledger is None:
        raise UsageError("restore: give --shred-ledger (or ETANCHE_SHRED_LEDGER)")
    lines = _shares(share_file, share, identity)
    report = restore_from_backup(source.resolve(), to, custody, ledger.resolve(), lines)
    _report(report, as_json, "restored")


@restore_app.command("drill")
def drill(
    source: Annotated[Path, typer.Option("--from", help="The folder of backups (newest drilled).")],
    scratch: Annotated[
        str | None,
        typer.Option("--scratch", help="An empty postgresql:// database (PostgreSQL backups)."),
    ] = None,
    as_json: AsJson = False,
) -> None:
    """Restore the newest backup into a scratch location, verify it, report, delete it."""
    body: dict[str, Any] = {"folder": str(source.resolve()), "scratch": scratch}
    _report(ctx.service().post("/backups/drill", body), as_json, "drilled")


def _report(report: dict[str, Any], as_json: bool, done: str) -> None:
    if as_json:
        ctx.echo_json(report)
    else:
        state = "verified" if report.get("verified", True) else "NOT VERIFIED"
        ctx.say(
            f"Backup {report['backup']} {done} ({report['engine']}): {state}; "
            f"{report['records_decrypted']} patients decrypted, "
            f"{report['index_mismatches']} index mismatches, audit log "
            f"{'ok' if report['audit_ok'] else 'FAILED'}, counts "
            f"{'match' if report['counts_match'] else 'DIFFER'}; "
            f"{report['erasures_reapplied']} erasures re-applied, "
            f"{report['erased_resurrected']} erased patients resurrected."
        )
    if not report.get("verified", True):
        raise IntegrityError(f"backup {report['backup']}: the restore did not verify")
