"""People commands: login, logout, whoami, break-glass, users and API tokens.

Clients of the service: every rule (who may create whom, which scopes a token
may hold) is decided there. Passwords and codes come from the environment or a
hidden prompt and are never printed; tokens are printed once.
"""

from __future__ import annotations

import sys
from datetime import datetime
from typing import Annotated, Any

import typer

from etanche.cli import _context as ctx
from etanche.cli._app import AsJson, app
from etanche.client import forget_session, read_session, write_session
from etanche.errors import AccessError, EnrolmentRequired
from etanche.names import Action, Role

users_app = typer.Typer(
    help=(
        "Accounts of named people: add, list, roles, second approvals, disable, resets. "
        "A privileged account or role takes effect only after a second person approves it."
    ),
    no_args_is_help=True,
)
tokens_app = typer.Typer(help="Personal API tokens for scripts.", no_args_is_help=True)
app.add_typer(users_app, name="users")
app.add_typer(tokens_app, name="tokens")


def _time(moment: str | None) -> str:
    if not moment:
        return "?"
    return datetime.fromisoformat(moment).strftime("%Y-%m-%d %H:%M UTC")


def _labs(labs: list[str]) -> str:
    return "every lab" if "*" in labs else ", ".join(sorted(labs))


# -- sessions --------------------------------------------------------------------
@app.command()
def login() -> None:
    """Log in with user name, password and TOTP code; the session is saved (mode 0600).

    Non-interactive: ETANCHE_USER, ETANCHE_PASSWORD, ETANCHE_TOTP. The first login
    of an account shows its TOTP secret once and asks for a code to confirm it.
    """
    settings = ctx.config()
    username = ctx.ask(settings.user, "User name", "ETANCHE_USER")
    password = ctx.ask(settings.password, "Password", "ETANCHE_PASSWORD", hide=True)
    client = ctx.service(anonymous=True)
    body: dict[str, Any] = {"username": username, "password": password, "code": settings.totp}
    if settings.totp is None:
        need = client.post("/login", body)
        if need.get("need") == "enrolment":
            if not sys.stdin.isatty():
                raise EnrolmentRequired(
                    "login: this account has no TOTP yet; run `etanche login` in a terminal "
                    "to enrol"
                )
            ctx.say("First login: add this account to an authenticator app (shown only now).")
            ctx.say(f"  URI:    {need['uri']}")
            ctx.say(f"  Secret: {need['secret']}")
            body["code"] = str(typer.prompt("Code shown by the app"))
        else:
            body["code"] = ctx.ask(None, "TOTP code", "ETANCHE_TOTP")
    session = client.post("/login", body)
    path = write_session(settings.session_path, session["token"])
    ctx.say(
        f"Logged in as {session['username']} ({session['role']}, {_labs(session['labs'])}); the "
        f"session ends after {session['idle_minutes']} min idle or at "
        f"{_time(session['expires_at'])}. Saved to {path}."
    )


@app.command()
def logout() -> None:
    """End the saved session and delete its file."""
    settings = ctx.config()
    if read_session(settings.session_path) is None:
        ctx.say("No session.")
        return
    ctx.service().post("/logout")
    forget_session(settings.session_path)
    ctx.say("Logged out.")


@app.command()
def whoami(as_json: AsJson = False) -> None:
    """Who the current session or API token belongs to, and what it may do."""
    doc = ctx.service().get("/whoami")
    if as_json:
        ctx.echo_json(doc)
        return
    lines = [
        f"{doc['username']} — {doc['full_name']}",
        f"role {doc['role']}, {_labs(doc['labs'])}",
        f"via an API token, scopes: {', '.join(doc['scopes'])}"
        if doc["scopes"] is not None
        else f"session ends at {_time(doc['session_ends'])} at the latest",
    ]
    if doc["break_glass_until"]:
        lines.append(f"break-glass active until {_time(doc['break_glass_until'])}")
    for line in lines:
        ctx.say(line)


@app.command("break-glass")
def break_glass(
    reason: Annotated[
        str,
        typer.Option(
            "--reason", help="Why emergency access is needed (15+ characters, no patient name)."
        ),
    ],
    minutes: Annotated[int, typer.Option(help="How long it lasts.")] = 30,
) -> None:
    """Emergency access to patients outside your labs (search and read only), audited."""
    if read_session(ctx.config().session_path) is None:
        raise AccessError("login: no session (run `etanche login`)")
    done = ctx.service().post("/break-glass", {"reason": reason, "minutes": minutes})
    ctx.say(
        f"Break-glass active until {_time(done['until'])}: patient search and read outside "
        "your labs are allowed, and every use raises an alert."
    )


# -- users -----------------------------------------------------------------------
@users_app.command("add")
def users_add(
    username: Annotated[str, typer.Argument(help="Personal user name, e.g. mdupont.")],
    name: Annotated[str, typer.Option("--name", help="Full name of the person.")],
    role: Annotated[Role, typer.Option("--role", help="Role of the account.")],
    lab: Annotated[list[str], typer.Option("--lab", help="Lab code (repeat); '*' for every lab.")],
    rpps: Annotated[
        str | None, typer.Option("--rpps", help="RPPS number (11 digits); biologists need one.")
    ] = None,
    gender: Annotated[
        str | None,
        typer.Option("--gender", help="F or M: how the web words the role (Déléguée, Délégué)."),
    ] = None,
) -> None:
    """Create the account of one named person (password: ETANCHE_NEW_PASSWORD or prompt).

    A privileged account (every role but reception) logs in only after a second
    person approves it: `etanche users approve USER`.
    """
    client = ctx.service()
    password = ctx.new_password(ctx.config().new_password, "ETANCHE_NEW_PASSWORD")
    user = client.post(
        "/users",
        {
            "username": username,
            "full_name": name,
            "role": role.value,
            "labs": lab,
            "password": password,
            "rpps": rpps,
            "gender": gender,
        },
    )
    if user["pending"]:
        ctx.say(
            f"Account {user['username']} requested ({user['role']}, {_labs(user['labs'])}); it "
            "waits for a second person's approval (`etanche users approve "
            f"{user['username']}`), then the person sets up TOTP at the first `etanche login`."
        )
        return
    ctx.say(
        f"Account {user['username']} created ({user['role']}, {_labs(user['labs'])}); the "
        "person sets up TOTP at the first `etanche login`."
    )


@users_app.command("role")
def users_role(
    username: Annotated[str, typer.Argument(help="User name.")],
    role: Annotated[Role, typer.Option("--role", help="The new role.")],
    lab: Annotated[
        list[str] | None, typer.Option("--lab", help="Lab code (repeat); default: the same labs.")
    ] = None,
    rpps: Annotated[
        str | None, typer.Option("--rpps", help="RPPS number, if the new role needs one.")
    ] = None,
) -> None:
    """Give an account another role or labs; a privileged one waits for a second approval."""
    done = ctx.service().post(
        f"/users/{username}/role", {"role": role.value, "labs": lab or None, "rpps": rpps}
    )
    if done["pending"]:
        ctx.say(
            f"Role {role.value} for {done['username']} requested; until a second person approves "
            f"it, the account keeps {done['role']} ({_labs(done['labs'])})."
        )
        return
    ctx.say(f"Account {done['username']} is now {done['role']} ({_labs(done['labs'])}).")


@users_app.command("pending")
def users_pending(as_json: AsJson = False) -> None:
    """Privileged accounts and roles waiting for a second person's approval."""
    found = ctx.service().get("/users/requests")
    if as_json:
        ctx.echo_json(found)
        return
    if not found["requests"]:
        ctx.say("No request waits for approval.")
        return
    from rich.table import Table

    table = Table("user name", "asks for", "labs", "now", "RPPS", "requested by", "you may approve")
    for row in found["requests"]:
        table.add_row(
            row["username"],
            row["role"],
            ", ".join(row["labs"]),
            row["current_role"] or "(new account)",
            row["rpps"] or "",
            row["requested_by"] or "?",
            "yes" if row["you_may_approve"] else "no",
        )
    ctx.console.print(table)


@users_app.command("approve")
def users_approve(username: Annotated[str, typer.Argument(help="User name.")]) -> None:
    """Be the second person on a pending account or role: it takes effect at once."""
    done = ctx.service().post(f"/users/{username}/approve")
    ctx.say(
        f"Approved: {done['username']} is {done['role']} ({_labs(done['labs'])})."
        if done["kind"] == "role"
        else f"Approved: account {done['username']} ({done['role']}) may now log in."
    )


@users_app.command("refuse")
def users_refuse(username: Annotated[str, typer.Argument(help="User name.")]) -> None:
    """Refuse a pending account or role (its requester may withdraw it the same way)."""
    done = ctx.service().post(f"/users/{username}/refuse")
    ctx.say(
        f"Refused: {done['username']} keeps its current role."
        if done["kind"] == "role"
        else f"Refused: account {done['username']} is disabled for good."
    )


@users_app.command("list")
def users_list(as_json: AsJson = False) -> None:
    """Accounts of the labs you manage."""
    found = ctx.service().get("/users")
    if as_json:
        ctx.echo_json(found)
        return
    from rich.table import Table

    table = Table("user name", "full name", "role", "labs", "TOTP", "state")
    for row in found["users"]:
        table.add_row(
            row["username"],
            row["full_name"],
            row["role"],
            ", ".join(row["labs"]),
            "yes" if row["totp"] else "no",
            row["state"],
        )
    ctx.console.print(table)


@users_app.command("disable")
def users_disable(username: Annotated[str, typer.Argument(help="User name.")]) -> None:
    """Disable an account for good: its sessions and API tokens stop at once."""
    done = ctx.service().post(f"/users/{username}/disable")
    ctx.say(f"Account {done['username']} disabled.")


@users_app.command("reset-password")
def users_reset_password(username: Annotated[str, typer.Argument(help="User name.")]) -> None:
    """Set a new password for a person of your labs (ETANCHE_NEW_PASSWORD or prompt)."""
    password = ctx.new_password(ctx.config().new_password, "ETANCHE_NEW_PASSWORD")
    done = ctx.service().post(f"/users/{username}/reset-password", {"password": password})
    ctx.say(f"Password of {done['username']} reset; their sessions ended.")


@users_app.command("reset-totp")
def users_reset_totp(username: Annotated[str, typer.Argument(help="User name.")]) -> None:
    """Forget a lost TOTP device; the person enrols again at the next login."""
    done = ctx.service().post(f"/users/{username}/reset-totp")
    ctx.say(f"TOTP of {done['username']} reset.")


# -- API tokens ------------------------------------------------------------------
@tokens_app.command("create")
def tokens_create(
    name: Annotated[str, typer.Argument(help="What the token is for, e.g. 'nightly export'.")],
    scope: Annotated[list[str], typer.Option("--scope", help="Action the token may do (repeat).")],
    days: Annotated[int, typer.Option(help="Days until it expires (at most 90).")] = 30,
) -> None:
    """Create a personal API token; it is printed once, store it now."""
    known = {a.value for a in Action}
    unknown = [s for s in scope if s not in known]
    if unknown:
        from etanche.errors import UsageError

        raise UsageError(f"--scope: unknown action (one of {', '.join(sorted(known))})")
    done = ctx.service().post("/tokens", {"name": name, "scopes": scope, "days": days})
    ctx.say(
        f"Token {done['id']} created ({', '.join(done['scopes'])}; {days} days). "
        "It is shown only now; use it as ETANCHE_TOKEN:"
    )
    typer.echo(done["token"])


@tokens_app.command("revoke")
def tokens_revoke(
    token_id: Annotated[str, typer.Argument(help="Token id, as printed at creation.")],
) -> None:
    """Revoke an API token at once."""
    ctx.service().post(f"/tokens/{token_id}/revoke")
    ctx.say(f"Token {token_id} revoked.")


@tokens_app.command("list")
def tokens_list(as_json: AsJson = False) -> None:
    """Your API tokens (never the tokens themselves)."""
    found = ctx.service().get("/tokens")
    if as_json:
        ctx.echo_json(found)
        return
    from rich.table import Table

    table = Table("id", "name", "scopes", "expires", "state")
    for t in found["tokens"]:
        table.add_row(
            t["id"],
            t["name"],
            " ".join(t["scopes"]),
            _time(t["expires_at"]),
            "revoked" if t["revoked"] else "live",
        )
    ctx.console.print(table)
