"""People on the command line: init with a first account, login with TOTP enrolment,
users, tokens, break-glass; exit code 7 for access errors and no secret in any output."""

from __future__ import annotations

import io
import json
import os
import stat
import sys
from collections.abc import Iterator
from contextlib import ExitStack
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from access_support import PASSWORD, cheap_passwords

from _cli import run
from _service import running_service
from etanche.access import _passwords, _totp, current_code
from etanche.domain import Lab
from etanche.service.bootstrap import custody_folder, open_custody, opened_provider
from etanche.vault import Vault, parse_location

ADMIN_SECRET = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"
DESK_SECRET = "KRSXG5CTMVRXEZLUKRSXG5CTMVRXEZLU"
REASON = "Emergency admission, patient unconscious"


class Terminal(io.StringIO):
    """Standard input that says it is a terminal, with the lines a person would type."""

    def isatty(self) -> bool:
        return True


def code_for(secret: str, steps_ahead: int = 0) -> str:
    return current_code(secret, datetime.now(UTC) + timedelta(seconds=30 * steps_ahead))


_SERVICES: dict[Path, ExitStack] = {}  # the service each test's vault runs in


@pytest.fixture
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A fresh vault location, a private session file, cheap argon2 for accounts.

    ``init`` creates demo custody (one share in clear in ``share.txt``); the
    service is started (sealed) once the vault exists, and unsealed by the CLI.
    """
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.setenv("ETANCHE_VAULT", str(tmp_path / "v"))
    monkeypatch.setenv("ETANCHE_SESSION_FILE", str(tmp_path / "conf" / "session"))
    monkeypatch.setenv("ETANCHE_SERVICE", f"unix:{tmp_path / 'run' / 'service.sock'}")
    monkeypatch.setenv("COLUMNS", "200")
    for name in ("ETANCHE_TOKEN", "ETANCHE_USER", "ETANCHE_TOTP", "ETANCHE_NEW_PASSWORD"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("ETANCHE_PASSWORD", PASSWORD)
    monkeypatch.setattr(_passwords, "default_hasher", lambda: cheap_passwords().hasher)
    with ExitStack() as services:
        _SERVICES[tmp_path] = services
        try:
            yield tmp_path
        finally:
            del _SERVICES[tmp_path]


def init(capsys: pytest.CaptureFixture[str], where: Path, *args: str) -> tuple[int, str, str]:
    """``etanche init`` with demo custody, then the service started and unsealed."""
    result = run(capsys, "init", "--demo-share", str(where / "share.txt"), *args)
    if result[0] != 0:
        return result
    location = parse_location(str(where / "v"))
    custody = open_custody(custody_folder(location, None))
    _SERVICES[where].enter_context(running_service(location, custody, where / "run"))
    code, out, err = run(capsys, "unseal", "--share-file", str(where / "share.txt"))
    assert code == 0 and "unsealed" in out, err
    return result


def add_labs(where: Path) -> None:
    location = parse_location(str(where / "v"))
    share = (where / "share.txt").read_text()
    provider = opened_provider(custody_folder(location, None), [share])
    with Vault.open_with(location, provider) as store:
        for code, city in (("L01", "Nantes"), ("L02", "Rennes")):
            store.add_lab(Lab(code, f"Laboratoire de {city}", "440000000", city))


def first_login(
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    username: str,
    secret: str,
) -> tuple[int, str, str]:
    monkeypatch.setattr(_totp, "new_secret", lambda: secret)
    monkeypatch.setenv("ETANCHE_USER", username)
    monkeypatch.setattr(sys, "stdin", Terminal(code_for(secret) + "\n"))
    result = run(capsys, "login")
    monkeypatch.setattr(sys, "stdin", io.StringIO(""))
    return result


@pytest.fixture
def admin(env: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> Path:
    """A vault with labs L01, L02 and the first account (cmorvan) logged in."""
    code, out, err = init(capsys, env, "--admin-user", "cmorvan", "--admin-name", "Claire Morvan")
    assert code == 0, err
    assert "First account cmorvan" in out and PASSWORD not in out + err
    add_labs(env)
    code, out, err = first_login(capsys, monkeypatch, "cmorvan", ADMIN_SECRET)
    assert code == 0, err
    return env


def test_first_login_enrols_totp_and_saves_a_private_session(
    env: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    assert init(capsys, env, "--admin-user", "cmorvan", "--admin-name", "Claire Morvan")[0] == 0
    code, _, err = run(capsys, "whoami")
    assert code == 7 and "no session (run `etanche login`)" in err
    monkeypatch.setenv("ETANCHE_USER", "cmorvan")
    code, _, err = run(capsys, "login")  # not a terminal: cannot show the secret
    assert code == 7 and "no TOTP yet" in err
    code, out, err = first_login(capsys, monkeypatch, "cmorvan", ADMIN_SECRET)
    assert code == 0, err
    assert "otpauth://totp/" in out and out.count(ADMIN_SECRET) == 2  # in the URI and alone
    assert PASSWORD not in out + err
    session = env / "conf" / "session"
    assert stat.S_IMODE(session.stat().st_mode) == 0o600
    token = session.read_text().strip()
    assert token not in out + err
    code, out, _ = run(capsys, "whoami", "--json")
    me = json.loads(out)
    assert code == 0 and me["username"] == "cmorvan" and me["role"] == "lab_admin"
    assert me["labs"] == ["*"] and me["via"] == "session" and me["full_name"] == "Claire Morvan"
    # later logins are non-interactive with ETANCHE_TOTP (next step: the first is spent)
    monkeypatch.setenv("ETANCHE_TOTP", code_for(ADMIN_SECRET, 1))
    code, out, err = run(capsys, "login")
    assert code == 0, err
    assert ADMIN_SECRET not in out
    monkeypatch.setenv("ETANCHE_TOTP", code_for(ADMIN_SECRET, 1))
    code, _, err = run(capsys, "login")
    assert code == 7 and "wrong user name, password or code" in err  # replayed code


def test_wrong_password_exit_7_without_echo(
    admin: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    typed = "Mauvais-mot-de-passe-tape-42"
    monkeypatch.setenv("ETANCHE_PASSWORD", typed)
    monkeypatch.setenv("ETANCHE_TOTP", "123456")
    code, out, err = run(capsys, "login")
    assert code == 7 and typed not in out + err and "cmorvan" not in err


def test_users_and_tokens(
    admin: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    new_password = "Phare d'Eckmühl au loin"
    monkeypatch.setenv("ETANCHE_NEW_PASSWORD", new_password)
    code, out, err = run(
        capsys, "users", "add", "mleguen", "--name", "Marie Le Guen", "--role", "reception",
        "--lab", "L01",
    )  # fmt: skip
    assert code == 0, err
    assert new_password not in out + err
    code, _, err = run(
        capsys, "users", "add", "accueil", "--name", "Accueil Nantes", "--role", "reception",
        "--lab", "L01",
    )  # fmt: skip
    assert code == 3 and "username" in err
    code, _, err = run(
        capsys, "users", "add", "pjaouen", "--name", "Paul Jaouen", "--role", "reception",
        "--lab", "*",
    )  # fmt: skip
    assert code == 3 and "labs" in err
    code, out, _ = run(capsys, "users", "list", "--json")
    listed = {u["username"]: u for u in json.loads(out)["users"]}
    assert set(listed) == {"cmorvan", "mleguen"}
    assert listed["mleguen"]["totp"] is False and listed["mleguen"]["state"] == "active"

    code, out, err = run(capsys, "tokens", "create", "nightly", "--scope", "user.manage")
    assert code == 0, err
    token = out.strip().splitlines()[-1]
    token_id = out.split()[1]
    monkeypatch.setenv("ETANCHE_TOKEN", token)
    code, out, _ = run(capsys, "whoami", "--json")
    me = json.loads(out)
    assert code == 0 and me["via"] == "token" and me["scopes"] == ["user.manage"]
    code, _, err = run(capsys, "tokens", "create", "child", "--scope", "user.manage")
    assert code == 7 and "not in the scopes of this API token" in err
    monkeypatch.delenv("ETANCHE_TOKEN")
    code, _, err = run(capsys, "tokens", "create", "x", "--scope", "patient.read")
    assert code == 7 and "scopes" in err  # not a lab_admin action: a refusal
    code, _, err = run(capsys, "tokens", "create", "x", "--scope", "patient.steal")
    assert code == 2
    assert run(capsys, "tokens", "revoke", token_id)[0] == 0
    monkeypatch.setenv("ETANCHE_TOKEN", token)
    code, _, err = run(capsys, "whoami")
    assert code == 7 and "revoked" in err
    monkeypatch.delenv("ETANCHE_TOKEN")

    code, _, err = run(capsys, "users", "disable", "mleguen")
    assert code == 0, err
    code, out, _ = run(capsys, "users", "list", "--json")
    assert {u["username"]: u["state"] for u in json.loads(out)["users"]}["mleguen"] == "disabled"
    code, _, err = run(capsys, "users", "disable", "cmorvan")
    assert code == 7

    code, out, _ = run(capsys, "logout")
    assert code == 0 and "Logged out" in out
    assert not (admin / "conf" / "session").exists()
    code, _, err = run(capsys, "users", "list")
    assert code == 7 and "no session" in err


def test_reception_break_glass(
    admin: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    code, _, err = run(capsys, "break-glass", "--reason", REASON)
    assert code == 7 and "only reception and biologist" in err
    monkeypatch.setenv("ETANCHE_NEW_PASSWORD", PASSWORD)
    code, _, err = run(
        capsys, "users", "add", "mleguen", "--name", "Marie Le Guen", "--role", "reception",
        "--lab", "L01",
    )  # fmt: skip
    assert code == 0, err
    code, out, err = first_login(capsys, monkeypatch, "mleguen", DESK_SECRET)
    assert code == 0, err
    code, _, err = run(capsys, "users", "list")
    assert code == 7 and "user.manage" in err
    code, _, err = run(capsys, "break-glass", "--reason", "urgence")
    assert code == 3 and "reason" in err
    code, out, err = run(capsys, "break-glass", "--reason", REASON, "--minutes", "15")
    assert code == 0, err
    assert "Break-glass active until" in out
    code, out, _ = run(capsys, "whoami", "--json")
    assert json.loads(out)["break_glass_until"] is not None


def test_session_file_readable_by_others_is_refused(
    admin: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    session = admin / "conf" / "session"
    os.chmod(session, 0o644)
    code, _, err = run(capsys, "whoami")
    assert code == 7 and "readable by others" in err


def test_init_checks_the_first_account_before_creating_anything(
    env: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    code, _, err = init(capsys, env, "--admin-user", "cmorvan")
    assert code == 2 and "--admin-name" in err
    code, _, err = init(capsys, env, "--admin-user", "admin", "--admin-name", "Claire Morvan")
    assert code == 3 and "username" in err
    monkeypatch.setenv("ETANCHE_PASSWORD", "trop court")
    code, _, err = init(capsys, env, "--admin-user", "cmorvan", "--admin-name", "Claire Morvan")
    assert code == 3 and "password" in err and "trop court" not in err
    assert not (env / "v").exists()
    assert not (env / "v-custody").exists() and not (env / "share.txt").exists()


def test_init_needs_its_first_account(env: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """No unauthenticated door: the first lab admin is created by init, never afterwards."""
    code, _, err = init(capsys, env)
    assert code == 2 and "--admin-user" in err
    assert not (env / "v").exists()


def test_the_api_login_is_rate_limited_per_address(
    admin: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Guessing passwords through the CLI's API meets the login page's limit (10 a minute)."""
    monkeypatch.setenv("ETANCHE_PASSWORD", "Mauvais-mot-de-passe-tape-42")
    monkeypatch.setenv("ETANCHE_TOTP", "123456")
    codes = [run(capsys, "login")[0] for _ in range(12)]
    assert set(codes) == {7}
    code, _, err = run(capsys, "login")
    assert code == 7 and "too many failed attempts" in err
