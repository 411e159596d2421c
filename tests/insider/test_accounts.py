"""A lab admin who makes privileged accounts alone: nothing takes effect without a second person.

The attack seen on main: a lab admin created a biologist, a migration operator
and another lab admin under invented names, enough to read clinical data and
approve a plan, and no alert fired. Here each privileged account or role waits
for a second, independent person; every account change is alerted to the DPO.

The served vault holds ``ylegoff`` (network-wide lab admin, made by init) and
``nquillec`` (the DPO, second approver); each test adds the people it needs.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pyotp
import pytest

from _cli import run
from _service import Served, running_service, served
from _staff import STAFF_PASSWORD
from etanche.access import Role
from etanche.client import connect
from etanche.errors import PermissionDenied
from etanche.service.bootstrap import DemoPlan, custody_folder, initialise, open_custody
from etanche.synth import SynthConfig, generate, staff_rpps
from etanche.vault import parse_location

NEW_PASSWORD = "Sillon-de-Talbert-22-Goemon"
SEED = 12


@contextmanager
def _site(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Served]:
    network = generate(SynthConfig(patients=30, labs=2, seed=SEED))
    with served(tmp_path, monkeypatch, network) as site:
        site.add_person("ptanguy", "Pierre Tanguy", Role.LAB_ADMIN, ["L01"])
        site.add_person("mriou", "Maiwenn Riou", Role.LAB_ADMIN, ["L01"])
        site.add_person("gquere", "Gwenn Quere", Role.LAB_ADMIN, ["L02"])
        monkeypatch.setenv("ETANCHE_NEW_PASSWORD", NEW_PASSWORD)
        yield site


def _as(
    site: Served, capsys: pytest.CaptureFixture[str], who: str, *argv: str
) -> tuple[int, str, str]:
    site.as_person(who)
    return run(capsys, *argv)


def _request_biologist(
    site: Served, capsys: pytest.CaptureFixture[str], by: str, username: str, name: str
) -> str:
    code, out, err = _as(
        site, capsys, by, "users", "add", username, "--name", name, "--role", "biologist",
        "--lab", "L01", "--rpps", staff_rpps(username),
    )  # fmt: skip
    assert code == 0, err
    return out


def _web_login(site: Served, username: str, password: str) -> httpx.Response:
    """The login form of the web pages, over the service's socket: password, no code yet."""
    path = site.address.removeprefix("unix:")
    with httpx.Client(transport=httpx.HTTPTransport(uds=path), base_url="http://etanche") as web:
        form = web.get("/login")
        found = re.search(r'name="csrf" value="([^"]+)"', form.text)
        assert found is not None
        return web.post(
            "/login",
            data={"username": username, "password": password, "code": "", "csrf": found[1]},
        )


def _api_login(site: Served, username: str) -> tuple[int, str]:
    """The JSON login behind `etanche login` (the door to sessions and API tokens)."""
    path = site.address.removeprefix("unix:")
    with httpx.Client(transport=httpx.HTTPTransport(uds=path), base_url="http://etanche") as api:
        response = api.post("/api/v1/login", json={"username": username, "password": NEW_PASSWORD})
    return response.status_code, response.text


def _enrol(site: Served, username: str) -> str:
    return _enrol_at(site.address, username)[0]


def _enrol_at(address: str, username: str) -> tuple[str, str]:
    """First login through the API: the seed shown once, confirmed by a code; a session token."""
    anonymous = connect(address)
    secret = str(
        anonymous.post("/login", {"username": username, "password": NEW_PASSWORD})["secret"]
    )
    left = 30 - time.time() % 30
    if left < 3:  # the service, a request later, could be a step on: out of the window
        time.sleep(left + 0.2)
    code = pyotp.TOTP(secret).at(time.time() - 30)  # the previous step: the next login is fresh
    session = anonymous.post(
        "/login", {"username": username, "password": NEW_PASSWORD, "code": code}
    )
    return str(session["token"]), secret


def test_a_new_biologist_logs_in_nowhere_before_the_second_approval(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    with _site(tmp_path, monkeypatch) as site:
        out = _request_biologist(site, capsys, "ptanguy", "jbodiguel", "Jeanne Bodiguel")
        assert "waits for a second person's approval" in out
        # web: the password is right, yet no session and no TOTP seed
        page = _web_login(site, "jbodiguel", NEW_PASSWORD)
        assert page.status_code == 401 and "/login/enrol" not in page.text
        # API (sessions of the CLI, and the only way to mint an API token): refused
        status, body = _api_login(site, "jbodiguel")
        assert status == 401 and "second person" in str(body)
        # CLI
        monkeypatch.setenv("ETANCHE_USER", "jbodiguel")
        monkeypatch.setenv("ETANCHE_PASSWORD", NEW_PASSWORD)
        monkeypatch.setenv("ETANCHE_SESSION_FILE", str(tmp_path / "jbodiguel.session"))
        code, _, err = run(capsys, "login")
        assert code == 7 and "second person's approval" in err
        assert not (tmp_path / "jbodiguel.session").exists()

        code, out, err = _as(site, capsys, "nquillec", "users", "approve", "jbodiguel")
        assert code == 0 and "may now log in" in out, err

        page = _web_login(site, "jbodiguel", NEW_PASSWORD)
        assert page.status_code == 200 and "/login/enrol" in page.text  # on to her TOTP seed
        token, secret = _enrol_at(site.address, "jbodiguel")
        as_her = connect(site.address, token)
        assert as_her.get("/whoami")["role"] == "biologist"
        api_token = as_her.post("/tokens", {"name": "bench", "scopes": ["patient.search"]})
        assert connect(site.address, api_token["token"]).get("/whoami")["via"] == "token"
        monkeypatch.setenv("ETANCHE_TOTP", pyotp.TOTP(secret).now())
        code, out, err = run(capsys, "login")
        assert code == 0 and "Logged in as jbodiguel (biologist" in out, err


def test_who_may_be_the_second_person(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    with _site(tmp_path, monkeypatch) as site:
        _request_biologist(site, capsys, "ptanguy", "jbodiguel", "Jeanne Bodiguel")
        code, _, err = _as(site, capsys, "ptanguy", "users", "approve", "jbodiguel")
        assert code == 7 and "requester cannot approve their own request" in err
        code, _, err = _as(site, capsys, "mriou", "users", "approve", "jbodiguel")
        assert code == 7 and "same lab cannot be the second approver" in err
        code, _, err = _as(site, capsys, "ylegoff", "users", "approve", "jbodiguel")
        assert code == 7 and "same lab" in err  # a network-wide admin shares every lab
        code, out, _ = _as(site, capsys, "gquere", "users", "pending", "--json")
        assert [r["you_may_approve"] for r in json.loads(out)["requests"]] == [True]
        code, out, err = _as(site, capsys, "gquere", "users", "approve", "jbodiguel")
        assert code == 0 and "may now log in" in out, err  # a lab admin of another lab
        code, _, err = _as(site, capsys, "gquere", "users", "approve", "jbodiguel")
        assert code == 4 and "no request waiting" in err  # once

        _request_biologist(site, capsys, "mriou", "ylebras", "Yann Le Bras")
        code, out, err = _as(site, capsys, "nquillec", "users", "approve", "ylebras")
        assert code == 0, err  # the DPO

        # network roles: the DPO only, never a lab admin of another lab
        for username, name, role in (
            ("tguivarch", "Thomas Guivarch", "migration_operator"),
            ("lpriol", "Louise Priol", "auditor"),
            ("kmorvan", "Katell Morvan", "dpo"),
        ):
            code, _, err = _as(
                site, capsys, "ylegoff", "users", "add", username, "--name", name,
                "--role", role, "--lab", "*",
            )  # fmt: skip
            assert code == 0, err
            code, _, err = _as(site, capsys, "gquere", "users", "approve", username)
            assert code == 7 and "approved by a DPO" in err
            code, _, err = _as(site, capsys, "ylegoff", "users", "approve", username)
            assert code == 7 and "requester cannot approve" in err
            code, _, err = _as(site, capsys, "nquillec", "users", "approve", username)
            assert code == 0, err
        # a DPO is approved by another DPO: the new one may not approve herself later
        token = _enrol(site, "kmorvan")
        assert connect(site.address, token).get("/whoami")["role"] == "dpo"


def test_an_elevation_waits_and_the_old_role_keeps_working(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    with _site(tmp_path, monkeypatch) as site:
        site.add_person("mleguen", "Marie Le Guen", Role.RECEPTION, ["L01"])
        patient = next(p for p in generate(SynthConfig(patients=30, labs=2, seed=SEED)).patients()
                       if p.lab_id == "L01" and p.clinical.comments)  # fmt: skip
        code, out, err = _as(
            site, capsys, "ptanguy", "users", "role", "mleguen", "--role", "biologist",
            "--rpps", staff_rpps("mleguen"),
        )  # fmt: skip
        assert code == 0 and "keeps reception" in out, err
        code, out, _ = _as(site, capsys, "mleguen", "whoami", "--json")
        assert json.loads(out)["role"] == "reception"  # her session is untouched
        code, out, err = run(capsys, "show", patient.id, "--json", "--reveal")
        assert code == 0, err
        assert json.loads(out)["clinical"] == "(not available in this session)"
        code, _, err = _as(site, capsys, "ptanguy", "users", "approve", "mleguen")
        assert code == 7 and "requester cannot approve" in err

        code, out, err = _as(site, capsys, "gquere", "users", "approve", "mleguen")
        assert code == 0 and "is biologist" in out, err
        code, _, err = _as(site, capsys, "mleguen", "whoami")
        assert code == 7  # a role change ends the person's sessions
        later = pyotp.TOTP(site.staff.secrets["mleguen"]).at(time.time() + 30)  # not a replay
        again = connect(site.address).post(
            "/login", {"username": "mleguen", "password": STAFF_PASSWORD, "code": later}
        )
        assert again["role"] == "biologist"
        site._save("mleguen", again["token"])
        code, out, err = _as(site, capsys, "mleguen", "show", patient.id, "--json", "--reveal")
        assert code == 0 and json.loads(out)["clinical"] != "(not available in this session)"


def test_a_biologist_needs_a_valid_rpps_number(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    with _site(tmp_path, monkeypatch) as site:
        base = ("users", "add", "jbodiguel", "--name", "Jeanne Bodiguel", "--role", "biologist",
                "--lab", "L01")  # fmt: skip
        code, _, err = _as(site, capsys, "ptanguy", *base)
        assert code == 3 and err.startswith("error: rpps: required for the biologist role")
        good = staff_rpps("jbodiguel")
        wrong_key = good[:-1] + str((int(good[-1]) + 1) % 10)
        code, _, err = _as(site, capsys, "ptanguy", *base, "--rpps", wrong_key)
        assert code == 3 and "rpps: invalid RPPS check digit (Luhn)" in err
        code, _, err = _as(site, capsys, "ptanguy", *base, "--rpps", good[:10])
        assert code == 3 and "rpps: invalid RPPS number (expected exactly 11 digits)" in err
        code, _, err = _as(site, capsys, "ptanguy", *base, "--rpps", good)
        assert code == 0, err
        code, _, err = _as(
            site, capsys, "gquere", "users", "add", "aprigent", "--name", "Anne Prigent",
            "--role", "biologist", "--lab", "L02", "--rpps", good,
        )  # fmt: skip
        assert code == 3 and "rpps: already carried by another active account" in err
        code, out, _ = _as(site, capsys, "ptanguy", "users", "list", "--json")
        assert "aprigent" not in out


def _alerts(site: Served, capsys: pytest.CaptureFixture[str]) -> list[dict[str, object]]:
    code, out, err = _as(site, capsys, "nquillec", "alerts", "list", "--json")
    assert code == 0, err
    alerts: list[dict[str, object]] = json.loads(out)["alerts"]
    return alerts


def test_every_account_change_is_audited_and_alerted_to_the_dpo(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    with _site(tmp_path, monkeypatch) as site:
        site.add_person("mleguen", "Marie Le Guen", Role.RECEPTION, ["L01"])
        before = {a["id"] for a in _alerts(site, capsys)}
        steps = [
            ("ptanguy", ("users", "add", "ekerjean", "--name", "Erwan Kerjean", "--role",
                         "reception", "--lab", "L01"), "created account ekerjean"),
            ("ptanguy", ("users", "add", "jbodiguel", "--name", "Jeanne Bodiguel", "--role",
                         "biologist", "--lab", "L01", "--rpps", staff_rpps("jbodiguel")),
             "created account jbodiguel (biologist)"),
            ("gquere", ("users", "approve", "jbodiguel"),
             "approved the request for account jbodiguel"),
            ("ptanguy", ("users", "role", "mleguen", "--role", "biologist", "--rpps",
                         staff_rpps("mleguen")), "asked for a new role for account mleguen"),
            ("nquillec", ("users", "refuse", "mleguen"), "refused the request for account mleguen"),
            ("ptanguy", ("users", "reset-password", "ekerjean"),
             "reset the password of account ekerjean"),
            ("ptanguy", ("users", "reset-totp", "mleguen"), "reset the TOTP of account mleguen"),
            ("ptanguy", ("users", "disable", "ekerjean"), "disabled account ekerjean"),
        ]  # fmt: skip
        for who, argv, _ in steps:
            code, _, err = _as(site, capsys, who, *argv)
            assert code == 0, (argv, err)
        fresh = [a for a in _alerts(site, capsys) if a["id"] not in before]
        changes = [str(a["summary"]) for a in fresh if a["rule"] == "account_change"]
        for who, _, wording in steps:
            assert any(s.startswith(f"{who} {wording}") for s in changes), (wording, changes)
        assert len(changes) == len(steps)
        assert all(a["severity"] == "medium" for a in fresh if a["rule"] == "account_change")
        code, out, _ = _as(site, capsys, "nquillec", "audit", "show", "--action", "user.manage",
                           "--json")  # fmt: skip
        assert len(json.loads(out)["events"]) >= len(steps)
        # the refused role left her a receptionist; the mass-creation rule is still quiet
        assert not [a for a in fresh if a["rule"] == "account_burst"]


def test_mass_creation_of_privileged_accounts_raises_a_high_alert(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """The attack on main: a biologist, a migration operator and another lab admin, alone."""
    with _site(tmp_path, monkeypatch) as site:
        requests = [
            ("jbodiguel", "Jeanne Bodiguel", "biologist", "L01"),
            ("tguivarch", "Thomas Guivarch", "migration_operator", "*"),
            ("rlefur", "Ronan Le Fur", "lab_admin", "L01"),
        ]
        for count, (username, name, role, lab) in enumerate(requests, 1):
            argv = ["users", "add", username, "--name", name, "--role", role, "--lab", lab]
            if role == "biologist":
                argv += ["--rpps", staff_rpps(username)]
            code, _, err = _as(site, capsys, "ylegoff", *argv)
            assert code == 0, err
            burst = [a for a in _alerts(site, capsys) if a["rule"] == "account_burst"]
            assert len(burst) == (1 if count == 3 else 0)
        assert burst[0]["severity"] == "high" and burst[0]["actor"] == "ylegoff"
        assert "3 privileged accounts or roles within 1h" in str(burst[0]["summary"])
        # and none of the three can do anything yet
        for username, *_ in requests:
            status, _ = _api_login(site, username)
            assert status == 401
        code, out, _ = _as(site, capsys, "nquillec", "users", "pending", "--json")
        assert sorted(r["username"] for r in json.loads(out)["requests"]) == sorted(
            r[0] for r in requests
        )


def test_the_first_dpo_needs_the_custodians(tmp_path: Path) -> None:
    """With no other DPO, the lab admin made by init cannot make one alone: the custodian
    approves ``approve-dpo`` (`etanche unseal --for approve-dpo`), then she applies it."""
    location = parse_location(str(tmp_path / "v"))
    share_file = tmp_path / "share.txt"
    initialise(
        location,
        custody_folder(location, None),
        DemoPlan(share_file),
        ("ylegoff", "Yannick Le Goff", NEW_PASSWORD),
    )
    share = share_file.read_text().strip()
    custody = open_custody(custody_folder(location, None))
    with running_service(location, custody, tmp_path / "run") as address:
        anonymous = connect(address)
        assert not anonymous.post("/custody/unseal", {"share": share})["sealed"]
        admin = connect(address, _enrol_at(address, "ylegoff")[0])
        made = admin.post(
            "/users",
            {"username": "aleroux", "full_name": "Anne Le Roux", "role": "dpo", "labs": ["*"],
             "password": NEW_PASSWORD},
        )  # fmt: skip
        assert made["pending"]
        with pytest.raises(PermissionDenied, match="approve-dpo: needs 1 custodians' approval"):
            admin.post("/users/aleroux/approve")
        anonymous.post("/custody/approve", {"operation": "approve-dpo", "share": share})
        assert admin.post("/users/aleroux/approve")["decision"] == "approved"
        dpo = connect(address, _enrol_at(address, "aleroux")[0])
        assert dpo.get("/whoami")["role"] == "dpo"
        # the custodians' approval was used once: the next DPO needs the DPO, not them
        admin.post(
            "/users",
            {"username": "kmorvan", "full_name": "Katell Morvan", "role": "dpo", "labs": ["*"],
             "password": NEW_PASSWORD},
        )  # fmt: skip
        with pytest.raises(PermissionDenied, match="requester cannot approve"):
            admin.post("/users/kmorvan/approve")
        assert dpo.post("/users/kmorvan/approve")["decision"] == "approved"
        events = dpo.post("/audit/events", {"action": "user.manage", "limit": 20})["events"]
        assert any(e["details"].get("custodians") == "demo" for e in events)
