"""``etanche audit``: verify the tamper-evident log, prove events, sign and show heads.

``verify`` trusts neither the server nor its database: it downloads the log as
stored and checks every event and head HERE, with the public key you pinned
(``--public-key``, exported once by ``audit export-key`` and kept outside the
server). ``verify-proof`` needs only a proof file and that key. Keep copies of
signed heads outside the server too (``--against``): a key or head an attacker
can rewrite proves nothing.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Annotated, Any

import typer

from etanche._files import write_private
from etanche.cli import _context as ctx
from etanche.cli._app import AsJson, app
from etanche.client import ServiceClient
from etanche.errors import EtancheError, IntegrityError, SourceError, UsageError

PUBLIC_KEY_FILE = "audit-public.pem"
LOG_KEY_FILE = "audit-log.vkey"
PAGE = 5_000  # events per downloaded page

audit_app = typer.Typer(
    help="Tamper-evident audit log: verify, prove inclusion, sign heads, show events.",
    no_args_is_help=True,
)
app.add_typer(audit_app, name="audit")


@audit_app.command("verify")
def verify(
    log_key: Annotated[
        Path | None,
        typer.Option(
            "--log-key",
            help=f"The log's verifier key you pinned ({LOG_KEY_FILE}, from `audit export-key`).",
        ),
    ] = None,
    witnesses: Annotated[
        Path | None,
        typer.Option(help="Pinned witness list: one '<vkey> [url]' line per witness."),
    ] = None,
    quorum: Annotated[
        int | None,
        typer.Option(min=0, help="How many pinned witnesses must cosign (default: all)."),
    ] = None,
    public_key: Annotated[
        Path | None,
        typer.Option(
            "--public-key",
            help=f"Only the PEM key ({PUBLIC_KEY_FILE}): no witness is checked.",
        ),
    ] = None,
    against: Annotated[
        Path | None,
        typer.Option(help="Saved head (JSON) or witness file (JSON lines) to check against."),
    ] = None,
    head_every: Annotated[int, typer.Option(min=1, help="The writer's head_every.")] = 1000,
    head_interval: Annotated[
        float, typer.Option(min=0, help="The writer's head interval, in seconds.")
    ] = 60.0,
    as_json: AsJson = False,
) -> None:
    """Download the log and verify it locally with pinned keys; exit 5 if it was altered.

    With --log-key and --witnesses, the latest checkpoints must carry valid
    cosignatures of --quorum pinned witnesses, and each witness with a URL is
    asked what it last cosigned: more than the log shows is a rewrite.
    """
    if log_key is None and public_key is None:
        raise UsageError(
            f"audit verify: no key pinned; give --log-key {LOG_KEY_FILE} and --witnesses "
            "(exported once by `etanche audit export-key` and kept outside the server): "
            "a key fetched from the server it checks proves nothing"
        )
    if witnesses is not None and log_key is None:
        raise UsageError("audit verify: --witnesses needs --log-key (the log's verifier key)")
    from etanche import verify as offline  # the local verifier, loaded only here

    listed: list[Any] = []
    if log_key is not None:  # every local file is read before the service is asked
        log = offline.NoteKey.parse(_read(log_key).decode("ascii", "replace"), log_key.name)
        listed = offline.read_keys(witnesses, "witness") if witnesses is not None else []
    else:
        assert public_key is not None
        pem = _read(public_key)
        key_id = offline.pinned_key_id(pem)
    client = ctx.service()
    snapshot = client.get("/audit/log")
    key: bytes | offline.Pins = pem if log_key is None else b""
    unreachable: list[str] = []
    if log_key is not None:
        pins = _pins(offline, log, listed, quorum, snapshot, unreachable)
        key, key_id = pins, log.name
    saved = offline.read_heads(against) if against is not None else []
    report = offline.verify_download(
        snapshot,
        _pages(client, int(snapshot["size"])),
        key,
        against=saved,
        head_every=head_every,
        head_interval_s=head_interval,
    )
    if not report.ok:  # the critical alert of the supervision rules, raised by the service
        _report_failure(client, report.problems)
    for name in unreachable:
        ctx.err_console.print(
            f"warning: witness {name} did not answer; its size was not compared",
            markup=False,
            highlight=False,
        )
    if report.ok and not isinstance(key, offline.Pins):
        ctx.err_console.print(
            "warning: no witness pinned (--log-key, --witnesses): whoever holds the server's "
            "files and key could rewrite this log undetected",
            markup=False,
            highlight=False,
        )
    if as_json:
        ctx.echo_json(report.to_dict())
    else:
        for problem in report.problems:
            ctx.say(f"problem: {problem}")
        latest = report.latest_head
        covered = f"latest valid head {latest.tree_size}" if latest else "no valid head"
        status = "ok" if report.ok else "ALTERED"
        witnessed = ""
        if report.quorum:
            witnessed = (
                f", witnessed up to {report.witnessed} by {report.quorum} of "
                f"{len(report.pinned_witnesses)} witnesses ({report.unwitnessed} not yet)"
                if report.witnessed is not None
                else ", NOT witnessed"
            )
        ctx.say(
            f"audit log {status}: {report.events} events, {report.heads} heads, {covered}, "
            f"{report.unsigned_tail} unsigned{witnessed}, {len(saved)} saved heads checked "
            f"(key {key_id}, verified locally)"
        )
    if not report.ok:
        raise IntegrityError(f"audit log: {len(report.problems)} problems found; it was altered")


def _pins(
    offline: Any,
    log: Any,
    listed: list[Any],
    quorum: int | None,
    snapshot: dict[str, Any],
    unreachable: list[str],
) -> Any:
    """The pinned keys, and what each reachable witness says it last cosigned."""
    keys = tuple(key for key, _ in listed)
    heads = offline.heads_from_wire(snapshot)
    reported: dict[str, int] = {}
    if heads:
        note = heads[-1].note(log.public)
        for key, url in listed:
            if url is None:
                continue
            try:
                reported[key.name] = offline.ask_witness_size(
                    offline.WitnessEndpoint(key, url), note
                )
            except offline.WitnessRefused:
                unreachable.append(key.name)
    return offline.Pins(log, keys, len(keys) if quorum is None else quorum, reported)


def _pages(client: ServiceClient, size: int) -> Iterator[dict[str, Any]]:
    """The stored rows below the snapshot's bound, one page at a time."""
    start: int | None = 0
    while start is not None:
        page: dict[str, Any] = client.get("/audit/log/events", start=start, stop=size, limit=PAGE)
        yield page
        following = page.get("next")
        if following is not None and not (isinstance(following, int) and start < following):
            raise SourceError("audit log: the service sent a page that does not move forward")
        start = following


def _report_failure(client: ServiceClient, problems: list[str]) -> None:
    """Tell the service, which raises the alert; a refusal is said, never hidden."""
    try:
        client.post("/audit/verification-failure", {"problems": problems})
    except EtancheError as exc:
        ctx.err_console.print(
            f"warning: the failure could not be reported to the service ({exc})",
            markup=False,
            highlight=False,
        )


@audit_app.command("export-key")
def export_key(
    file: Annotated[
        Path,
        typer.Argument(help=f"Where to write the PEM (default: {PUBLIC_KEY_FILE} here)."),
    ] = Path(PUBLIC_KEY_FILE),
    vkey: Annotated[
        Path | None,
        typer.Option(
            help=f"Where to write the C2SP verifier key, for --log-key and witnesses "
            f"(default: {LOG_KEY_FILE} beside the PEM)."
        ),
    ] = None,
) -> None:
    """Write the log's public key (PEM) and verifier key. Pin them outside the server."""
    vkey = vkey if vkey is not None else file.parent / LOG_KEY_FILE
    answer = ctx.service().get("/audit/public-key")
    write_private(file, answer["pem"])
    write_private(vkey, answer["vkey"] + "\n")
    ctx.say(f"Public key {answer['key_id']} written to {file}, verifier key to {vkey}.")


@audit_app.command("prove")
def prove(
    event_id: Annotated[int, typer.Argument(min=0, help="Event seq, as shown by `audit show`.")],
    out: Annotated[Path | None, typer.Option(help="Write the proof JSON here.")] = None,
) -> None:
    """Inclusion proof of one event in the latest signed head (JSON)."""
    proof = ctx.service().post("/audit/prove", {"seq": event_id})
    text = json.dumps(proof, indent=2, ensure_ascii=False)
    _emit(text, out, f"Proof of event {event_id} in head {proof['tree_size']}")


@audit_app.command("verify-proof")
def verify_proof(
    proof_file: Annotated[Path, typer.Argument(help="Proof JSON from `audit prove`.")],
    public_key: Annotated[Path, typer.Option("--public-key", help="PEM public key of the log.")],
) -> None:
    """Check an inclusion proof offline with the public key; exit 5 if it fails."""
    from etanche import verify as offline

    proof = offline.verify_inclusion_proof(_read(proof_file), _read(public_key))
    ctx.say(
        f"proof ok: event {proof.seq} is in the log of head {proof.tree_size} "
        f"(key {proof.head.key_id}, signed {proof.head.to_dict()['signed_at']})"
    )


@audit_app.command("head")
def head(
    out: Annotated[Path | None, typer.Option(help="Write the head JSON here.")] = None,
) -> None:
    """Sign a tree head now (or return the latest if no event is new); keep it safe."""
    signed = ctx.service().post("/audit/head")
    text = json.dumps(signed, sort_keys=True, separators=(",", ":"))
    _emit(text, out, f"Head {signed['tree_size']}")


@audit_app.command("show")
def show(
    actor: Annotated[str | None, typer.Option(help="User name of the actor.")] = None,
    patient: Annotated[str | None, typer.Option(help="Patient (or other object) id.")] = None,
    action: Annotated[str | None, typer.Option(help="Action, e.g. patient.read.")] = None,
    since: Annotated[str | None, typer.Option(help="From this UTC date or time (ISO).")] = None,
    until: Annotated[str | None, typer.Option(help="Before this UTC date or time (ISO).")] = None,
    limit: Annotated[int, typer.Option(min=1, help="At most this many events.")] = 100,
    as_json: AsJson = False,
) -> None:
    """List events, newest first, filtered by actor, patient, action and time."""
    body = {
        "actor": actor,
        "patient": patient,
        "action": action,
        "since": _iso(_parse_time(since, "--since")),
        "until": _iso(_parse_time(until, "--until")),
        "limit": limit,
    }
    found = ctx.service().post("/audit/events", body)
    if as_json:
        ctx.echo_json(found)
        return
    rows = found["events"]
    if not rows:
        ctx.say("No event found.")
        return
    from rich.table import Table

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
    ctx.say(f"{what} written to {out}.")


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


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
