"""People commands: login, logout, whoami, break-glass, users and API tokens.

A thin adapter over ``etanche.access``: every rule (who may create whom, which
scopes a token may hold) is decided there. Passwords and codes come from the
environment or a hidden prompt and are never printed; tokens are printed once.
"""

from __future__ import annotations

import json
import os
import socket
import sys
from datetime import datetime
from typing import Annotated

import typer
from rich.table import Table

from etanche.access import (
    NETWORK_WIDE,
    Accounts,
    Action,
    Actor,
    ApiTokens,
    Resource,
    Role,
    Sessions,
    User,
    can,
    check_full_name,
    check_labs,
    check_username,
)
from etanche.audit._events import DetailValue
from etanche.cli import _context as ctx
from etanche.cli._app import Keyfile, Vault_, app
from etanche.domain import Compartment
from etanche.errors import AccessError, EnrolmentRequired, PermissionDenied, UsageError
from etanche.vault import Vault

__all__ = ["account_password", "ask"]

NO_KEYS: tuple[Compartment, ...] = ()  # people commands never unwrap a patient key

users_app = typer.Typer(
    help="Accounts of named people: add, list, disable, reset TOTP.", no_args_is_help=True
)
tokens_app = typer.Typer(help="Personal API tokens for scripts.", no_args_is_help=True)
app.add_typer(users_app, name="users")
app.add_typer(tokens_app, name="tokens")


def _interactive() -> bool:
    return sys.stdin.isatty()


def ask(env: str, label: str, *, hide: bool = False) -> str:
    """A value from ``env``, else a prompt on a terminal; never echoed when hidden."""
    value = os.environ.get(env)
    if value:
        return value
    if not _interactive():
        raise UsageError(f"{label.lower()}: set {env} or run in a terminal to be prompted")
    return str(typer.prompt(label, hide_input=hide))


def account_password(env: str = "ETANCHE_PASSWORD") -> str:
    """A new account password: from ``env``, else a hidden prompt asked twice."""
    value = os.environ.get(env)
    if value:
        return value
    if not _interactive():
        raise UsageError(f"password: set {env} or run in a terminal to be prompted")
    return str(typer.prompt("Password", hide_input=True, confirmation_prompt=True))


def _open(vault: str | None, keyfile: str | None) -> Vault:
    return ctx.open_vault(vault, keyfile, NO_KEYS)


def _client() -> str:
    return f"cli@{socket.gethostname()}"[:64]


def _time(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%d %H:%M UTC")


def _labs(labs: frozenset[str]) -> str:
    return "every lab" if NETWORK_WIDE in labs else ", ".join(sorted(labs))


# -- sessions --------------------------------------------------------------------
@app.command()
def login(vault: Vault_ = None, keyfile: Keyfile = None) -> None:
    """Log in with user name, password and TOTP code; the session is saved (mode 0600).

    Non-interactive: ETANCHE_USER, ETANCHE_PASSWORD, ETANCHE_TOTP. The first login
    of an account shows its TOTP secret once and asks for a code to confirm it.
    """
    username = ask("ETANCHE_USER", "User name")
    password = ask("ETANCHE_PASSWORD", "Password", hide=True)
    with (
        _open(vault, keyfile) as store,
        ctx.audited(store, username, Action.LOGIN, client=_client()) as event,
    ):
        sessions = Sessions(store)
        user = sessions.accounts.check_password(username, password)
        if user.totp_enrolled:
            code = ask("ETANCHE_TOTP", "TOTP code")
        else:
            if not _interactive():
                raise EnrolmentRequired(
                    "login: this account has no TOTP yet; run `etanche login` in a terminal "
                    "to enrol"
                )
            secret, uri = sessions.totp.begin_enrolment(user)
            ctx.console.print(
                "First login: add this account to an authenticator app (shown only now).",
                markup=False,
            )
            ctx.console.print(f"  URI:    {uri}", markup=False, highlight=False)
            ctx.console.print(f"  Secret: {secret}", markup=False, highlight=False)
            code = str(typer.prompt("Code shown by the app"))
        session, token = sessions.authenticate(
            username, password, code, client=_client(), kind="cli"
        )
        event["kind"] = "cli"
    path = ctx.write_session(token)
    ctx.console.print(
        f"Logged in as {session.username} ({session.role}, {_labs(session.labs)}); the session "
        f"ends after {int(sessions.policy.idle.total_seconds() // 60)} min idle or at "
        f"{_time(session.expires_at)}. Saved to {path}.",
        markup=False,
        highlight=False,
    )


@app.command()
def logout(vault: Vault_ = None, keyfile: Keyfile = None) -> None:
    """End the saved session and delete its file."""
    token = ctx.read_session()
    if token is None:
        ctx.console.print("No session.")
        return
    with _open(vault, keyfile) as store:
        actor = ctx.current_actor(store)
        with ctx.audited(store, actor, Action.LOGOUT, client=_client()):
            Sessions(store).logout(token)
    ctx.forget_session()
    ctx.console.print("Logged out.")


@app.command()
def whoami(
    as_json: Annotated[bool, typer.Option("--json", help="JSON on stdout.")] = False,
    vault: Vault_ = None,
    keyfile: Keyfile = None,
) -> None:
    """Who the current session or API token belongs to, and what it may do."""
    with _open(vault, keyfile) as store:
        actor = ctx.current_actor(store)
        user = Accounts(store).get_by_id(actor.user_id)
        expires: datetime | None = None
        if not actor.via_token:
            token = ctx.read_session()
            assert token is not None
            expires = Sessions(store).current(token).expires_at
    doc = {
        "username": actor.username,
        "full_name": user.full_name,
        "role": actor.role.value,
        "labs": sorted(actor.labs),
        "via": "token" if actor.via_token else "session",
        "scopes": sorted(actor.scopes) if actor.scopes is not None else None,
        "session_ends": expires.isoformat() if expires else None,
        "break_glass_until": actor.break_glass.until.isoformat() if actor.break_glass else None,
    }
    if as_json:
        typer.echo(json.dumps(doc, ensure_ascii=False))
        return
    lines = [
        f"{actor.username} — {user.full_name}",
        f"role {actor.role}, {_labs(actor.labs)}",
        f"via an API token, scopes: {', '.join(sorted(actor.scopes))}"
        if actor.scopes is not None
        else f"session ends at {_time(expires) if expires else '?'} at the latest",
    ]
    if actor.break_glass:
        lines.append(f"break-glass active until {_time(actor.break_glass.until)}")
    for line in lines:
        ctx.console.print(line, markup=False, highlight=False)


@app.command("break-glass")
def break_glass(
    reason: Annotated[
        str,
        typer.Option(
            "--reason", help="Why emergency access is needed (15+ characters, no patient name)."
        ),
    ],
    minutes: Annotated[int, typer.Option(help="How long it lasts.")] = 30,
    vault: Vault_ = None,
    keyfile: Keyfile = None,
) -> None:
    """Emergency access to patients outside your labs (search and read only), audited."""
    token = ctx.read_session()
    if token is None:
        raise AccessError("login: no session (run `etanche login`)")
    with _open(vault, keyfile) as store:
        actor = ctx.current_actor(store)
        with ctx.audited(
            store, actor, Action.BREAK_GLASS, {"minutes": minutes, "break_glass": True}
        ):
            session = Sessions(store).break_glass(token, reason, minutes)
    assert session.break_glass is not None
    ctx.console.print(
        f"Break-glass active until {_time(session.break_glass.until)}: patient search and read "
        "outside your labs are allowed, and every use raises an alert.",
        markup=False,
        highlight=False,
    )


# -- users -----------------------------------------------------------------------
@users_app.command("add")
def users_add(
    username: Annotated[str, typer.Argument(help="Personal user name, e.g. mdupont.")],
    name: Annotated[str, typer.Option("--name", help="Full name of the person.")],
    role: Annotated[Role, typer.Option("--role", help="Role of the account.")],
    lab: Annotated[list[str], typer.Option("--lab", help="Lab code (repeat); '*' for every lab.")],
    vault: Vault_ = None,
    keyfile: Keyfile = None,
) -> None:
    """Create the account of one named person (password: ETANCHE_NEW_PASSWORD or prompt)."""
    check_username(username)
    check_full_name(name)
    check_labs(role, lab)
    with _open(vault, keyfile) as store:
        accounts = Accounts(store)
        by = None if accounts.count() == 0 else ctx.current_actor(store)
        details: dict[str, DetailValue] = {
            "operation": "add",
            "account": username,
            "role": role.value,
            "labs": ",".join(sorted(lab)),
        }
        with ctx.audited(store, by, Action.USER_MANAGE, details):
            password = account_password("ETANCHE_NEW_PASSWORD")
            user = accounts.add(username, name, role, lab, password, by)
    ctx.console.print(
        f"Account {user.username} created ({user.role}, {_labs(user.labs)}); the person sets up "
        "TOTP at the first `etanche login`.",
        markup=False,
        highlight=False,
    )


def _manageable(actor: Actor, users: list[User]) -> list[User]:
    def covered(user: User) -> bool:
        return any(
            can(actor, Action.USER_MANAGE, Resource("user", None if lab == NETWORK_WIDE else lab))
            for lab in user.labs
        )

    probe = next(iter(sorted(actor.labs)), NETWORK_WIDE)
    decision = can(
        actor, Action.USER_MANAGE, Resource("user", None if probe == NETWORK_WIDE else probe)
    )
    if not decision:
        raise PermissionDenied(decision.reason)
    return [u for u in users if covered(u)]


def _state(user: User) -> str:
    if user.disabled_at is not None:
        return "disabled"
    if user.locked_until is not None and user.locked_until > datetime.now(user.locked_until.tzinfo):
        return "locked"
    return "active"


@users_app.command("list")
def users_list(
    as_json: Annotated[bool, typer.Option("--json", help="JSON on stdout.")] = False,
    vault: Vault_ = None,
    keyfile: Keyfile = None,
) -> None:
    """Accounts of the labs you manage."""
    with _open(vault, keyfile) as store:
        actor = ctx.current_actor(store)
        shown = _manageable(actor, Accounts(store).list())
    rows = [
        {
            "username": u.username,
            "full_name": u.full_name,
            "role": u.role.value,
            "labs": sorted(u.labs),
            "totp": u.totp_enrolled,
            "state": _state(u),
            "created_at": u.created_at.isoformat(),
        }
        for u in shown
    ]
    if as_json:
        typer.echo(json.dumps({"count": len(rows), "users": rows}, ensure_ascii=False))
        return
    table = Table("user name", "full name", "role", "labs", "TOTP", "state")
    for row in rows:
        table.add_row(
            str(row["username"]),
            str(row["full_name"]),
            str(row["role"]),
            ", ".join(row["labs"]),  # type: ignore[arg-type]
            "yes" if row["totp"] else "no",
            str(row["state"]),
        )
    ctx.console.print(table)


@users_app.command("disable")
def users_disable(
    username: Annotated[str, typer.Argument(help="User name.")],
    vault: Vault_ = None,
    keyfile: Keyfile = None,
) -> None:
    """Disable an account for good: its sessions and API tokens stop at once."""
    with _open(vault, keyfile) as store:
        actor = ctx.current_actor(store)
        details: dict[str, DetailValue] = {"operation": "disable", "account": username}
        with ctx.audited(store, actor, Action.USER_MANAGE, details):
            user = Accounts(store).disable(username, actor)
    ctx.console.print(f"Account {user.username} disabled.", markup=False, highlight=False)


@users_app.command("reset-totp")
def users_reset_totp(
    username: Annotated[str, typer.Argument(help="User name.")],
    vault: Vault_ = None,
    keyfile: Keyfile = None,
) -> None:
    """Forget a lost TOTP device; the person enrols again at the next login."""
    with _open(vault, keyfile) as store:
        actor = ctx.current_actor(store)
        details: dict[str, DetailValue] = {
            "operation": "reset-totp",
            "account": username,
        }
        with ctx.audited(store, actor, Action.USER_MANAGE, details):
            Accounts(store).reset_totp(username, actor)
    ctx.console.print(f"TOTP of {username.strip().lower()} reset.", markup=False, highlight=False)


# -- API tokens ------------------------------------------------------------------
@tokens_app.command("create")
def tokens_create(
    name: Annotated[str, typer.Argument(help="What the token is for, e.g. 'nightly export'.")],
    scope: Annotated[list[str], typer.Option("--scope", help="Action the token may do (repeat).")],
    days: Annotated[int, typer.Option(help="Days until it expires (at most 90).")] = 30,
    vault: Vault_ = None,
    keyfile: Keyfile = None,
) -> None:
    """Create a personal API token; it is printed once, store it now."""
    try:
        scopes = {Action(s) for s in scope}
    except ValueError:
        known = ", ".join(a.value for a in Action)
        raise UsageError(f"--scope: unknown action (one of {known})") from None
    with _open(vault, keyfile) as store:
        actor = ctx.current_actor(store)
        details: dict[str, DetailValue] = {
            "operation": "create",
            "scopes": " ".join(sorted(scopes)),
            "days": days,
        }
        with ctx.audited(store, actor, Action.TOKEN_MANAGE, details) as event:
            token_id, token = ApiTokens(store).create_token(actor, name, scopes, days)
            event["token"] = token_id
    ctx.console.print(
        f"Token {token_id} created ({', '.join(sorted(scopes))}; {days} days). "
        "It is shown only now; use it as ETANCHE_TOKEN:",
        markup=False,
        highlight=False,
    )
    typer.echo(token)


@tokens_app.command("revoke")
def tokens_revoke(
    token_id: Annotated[str, typer.Argument(help="Token id, as printed at creation.")],
    vault: Vault_ = None,
    keyfile: Keyfile = None,
) -> None:
    """Revoke an API token at once."""
    with _open(vault, keyfile) as store:
        actor = ctx.current_actor(store)
        details: dict[str, DetailValue] = {"operation": "revoke", "token": token_id}
        with ctx.audited(store, actor, Action.TOKEN_MANAGE, details):
            ApiTokens(store).revoke(token_id, actor)
    ctx.console.print(f"Token {token_id} revoked.", markup=False, highlight=False)


@tokens_app.command("list")
def tokens_list(
    as_json: Annotated[bool, typer.Option("--json", help="JSON on stdout.")] = False,
    vault: Vault_ = None,
    keyfile: Keyfile = None,
) -> None:
    """Your API tokens (never the tokens themselves)."""
    with _open(vault, keyfile) as store:
        actor = ctx.current_actor(store)
        found = ApiTokens(store).list_for(actor.user_id)
    rows = [
        {
            "id": t.id,
            "name": t.name,
            "scopes": sorted(t.scopes),
            "expires_at": t.expires_at.isoformat(),
            "revoked": t.revoked_at is not None,
        }
        for t in found
    ]
    if as_json:
        typer.echo(json.dumps({"count": len(rows), "tokens": rows}, ensure_ascii=False))
        return
    table = Table("id", "name", "scopes", "expires", "state")
    for t in found:
        table.add_row(
            t.id,
            t.name,
            " ".join(sorted(t.scopes)),
            _time(t.expires_at),
            "revoked" if t.revoked_at else "live",
        )
    ctx.console.print(table)
