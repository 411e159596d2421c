"""The French pages through Starlette's TestClient: security properties first, then use.

Each test acts as fresh or shared named people from ``web_vault`` on a fresh app
(``client``), so rate limits and CSRF secrets never leak between tests.
"""

from __future__ import annotations

import re
from html import unescape
from html.parser import HTMLParser
from typing import TYPE_CHECKING, Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from _staff import STAFF_PASSWORD
from etanche.access import Role
from etanche.audit._decoys import plant_decoys
from etanche.vault import Vault
from etanche.web import PUBLIC_PATHS, create_app
from etanche.web._pages_login import PRELOGIN_COOKIE
from etanche.web._state import COOKIE

if TYPE_CHECKING:
    from tests.web.conftest import Member, WebVault

HTML = {"Accept": "text/html"}


# -- helpers ---------------------------------------------------------------------------
def login_form(client: TestClient) -> str:
    """GET /login; returns the login form's CSRF token (its cookie is now on the client)."""
    page = client.get("/login")
    assert page.status_code == 200
    found = re.search(r'name="csrf" value="([^"]+)"', page.text)
    assert found is not None
    return found.group(1)


def log_in(client: TestClient, web_vault: WebVault, member: Member) -> object:
    csrf = login_form(client)
    return client.post(
        "/login",
        data={
            "username": member.username,
            "password": STAFF_PASSWORD,
            "code": web_vault.code(member.username),
            "csrf": csrf,
        },
    )


def set_cookie_headers(response: object, name: str) -> list[str]:
    headers = response.headers.get_list("set-cookie")  # type: ignore[attr-defined]
    return [h for h in headers if h.startswith(name + "=")]


class _Inline(HTMLParser):
    """Finds what a strict CSP would block: inline scripts, styles, event handlers."""

    def __init__(self) -> None:
        super().__init__()
        self.problems: list[str] = []
        self._in_script = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        names = {name for name, _ in attrs}
        if tag == "script":
            self._in_script = True
            src = dict(attrs).get("src") or ""
            if not src.startswith("/static/"):  # served by us: no CDN, no inline code
                self.problems.append(f"script not from /static/: {src!r}")
        if tag == "style":
            self.problems.append("style element")
        if "style" in names:
            self.problems.append(f"style attribute on <{tag}>")
        self.problems += [f"{n} on <{tag}>" for n in names if n.startswith("on")]
        for name, value in attrs:
            if value and value.strip().lower().startswith("javascript:"):
                self.problems.append(f"javascript: URL in {name}")

    def handle_endtag(self, tag: str) -> None:
        if tag == "script":
            self._in_script = False

    def handle_data(self, data: str) -> None:
        if self._in_script and data.strip():
            self.problems.append("inline script body")


def inline_problems(html: str) -> list[str]:
    parser = _Inline()
    parser.feed(html)
    return parser.problems


def events_for(web_vault: WebVault, client: TestClient, action: str, object_id: str) -> int:
    web_vault.flush(client.app)
    return len(web_vault.events(action=action, object_id=object_id))


# -- login, cookies, rate limit -------------------------------------------------------
def test_login_sets_a_strict_httponly_session_cookie_and_is_audited(
    web_vault: WebVault, client: TestClient
) -> None:
    member = web_vault.person(Role.RECEPTION)
    response = log_in(client, web_vault, member)
    assert response.status_code == 303
    assert response.headers["location"] == "/patients"
    (cookie,) = set_cookie_headers(response, COOKIE)
    flags = [part.strip().lower() for part in cookie.split(";")]
    assert "httponly" in flags
    assert "samesite=strict" in flags
    assert "path=/" in flags
    assert "secure" not in flags
    assert client.get("/patients").status_code == 200
    web_vault.flush(client.app)
    logins = [e for e in web_vault.events(action="auth.login") if e.actor == member.username]
    assert [(e.outcome.value, e.details.get("kind")) for e in logins] == [("ok", "web")]


def test_cookies_are_secure_only_with_secure_cookies(web_vault: WebVault) -> None:
    member = web_vault.person(Role.BIOLOGIST)
    app = create_app(web_vault.config(secure_cookies=True))
    with TestClient(app, base_url="https://testserver", follow_redirects=False) as client:
        login = client.get("/login")
        (prelogin,) = set_cookie_headers(login, PRELOGIN_COOKIE)
        assert "secure" in [p.strip().lower() for p in prelogin.split(";")]
        response = log_in(client, web_vault, member)
        assert response.status_code == 303
        (cookie,) = set_cookie_headers(response, COOKIE)
        flags = [part.strip().lower() for part in cookie.split(";")]
        assert {"secure", "httponly", "samesite=strict"} <= set(flags)


def test_a_failed_login_is_audited_and_says_nothing_specific(
    web_vault: WebVault, client: TestClient
) -> None:
    member = web_vault.person(Role.RECEPTION)
    csrf = login_form(client)
    response = client.post(
        "/login",
        data={
            "username": member.username,
            "password": STAFF_PASSWORD,
            "code": "000000",
            "csrf": csrf,
        },
    )
    assert response.status_code == 401
    assert "Identifiant, mot de passe ou code incorrect." in response.text
    assert COOKIE not in response.cookies
    web_vault.flush(client.app)
    (event,) = [e for e in web_vault.events(action="auth.login") if e.actor == member.username]
    assert event.outcome.value == "failed"
    assert event.role == "unauthenticated"
    assert dict(event.details) == {"kind": "web", "error": "AuthenticationFailed"}


def test_login_is_rate_limited_per_client(web_vault: WebVault) -> None:
    app = create_app(web_vault.config(login_attempts_per_minute=2))
    # the limit is kept in the session's vault: an address of this test's own
    with TestClient(app, client=("198.51.100.250", 40000), follow_redirects=False) as client:
        csrf = login_form(client)
        statuses = [
            client.post(
                "/login",
                data={"username": "nobodyhere", "password": "x" * 12, "code": "1", "csrf": csrf},
            ).status_code
            for _ in range(3)
        ]
        assert statuses == [401, 401, 429]
        last = client.post("/login", data={"username": "x", "password": "y", "csrf": csrf})
        assert last.status_code == 429
        assert "Trop de tentatives" in last.text
        assert "<script" not in last.text.split("</head>")[1]


def test_login_forms_refuse_a_post_without_their_token(client: TestClient) -> None:
    for path in ("/login", "/login/enrol"):
        response = client.post(path, data={"username": "x", "password": "y", "code": "1"})
        assert response.status_code == 403
        assert "Le formulaire a expiré" in response.text


def test_first_login_shows_a_local_qr_code_then_confirms_the_first_code(
    web_vault: WebVault, client: TestClient
) -> None:
    root = web_vault.staff.root
    assert root is not None
    web_vault.staff.accounts.add(
        "ntanguy", "Nolwenn Tanguy", Role.RECEPTION, {"L01"}, STAFF_PASSWORD, root
    )
    csrf = login_form(client)
    page = client.post(
        "/login", data={"username": "ntanguy", "password": STAFF_PASSWORD, "csrf": csrf}
    )
    assert page.status_code == 200
    assert 'src="data:image/svg+xml' in page.text  # rendered here, no third-party QR service
    secret = re.search(r'id="secret-totp">([A-Z2-7 ]+)<', page.text)
    assert secret is not None
    web_vault.staff.secrets["ntanguy"] = secret.group(1).replace(" ", "")
    done = client.post(
        "/login/enrol",
        data={
            "username": "ntanguy",
            "password": STAFF_PASSWORD,
            "code": web_vault.code("ntanguy"),
            "csrf": csrf,
        },
    )
    assert done.status_code == 303
    assert set_cookie_headers(done, COOKIE)
    assert client.get("/patients").status_code == 200


def test_logout_ends_the_session(web_vault: WebVault, client: TestClient) -> None:
    member = web_vault.person(Role.RECEPTION)
    csrf = web_vault.sign_in(client, member)
    response = client.post("/logout", data={"csrf": csrf})
    assert response.status_code == 303
    assert response.headers["location"].startswith("/login")
    client.cookies.set(COOKIE, member.token)
    assert client.get("/patients", headers=HTML).headers["location"] == "/login"


# -- every route: a person, CSRF, CSP -------------------------------------------------
def _page_routes(client: TestClient) -> list[tuple[str, set[str]]]:
    """(path, methods) of every page route, from the OpenAPI document."""
    app: Any = client.app
    paths: dict[str, dict[str, object]] = app.openapi()["paths"]
    return [
        (path, {method.upper() for method in operations})
        for path, operations in paths.items()
        if not path.startswith(("/fhir", "/api/")) and path != "/health"
    ]


def _concrete(path: str, web_vault: WebVault) -> str:
    return (
        path.replace("{patient_id}", web_vault.patient().id)
        .replace("{username}", web_vault.members[Role.RECEPTION].username)
        .replace("{alert_id}", "0" * 32)
    )


def test_every_api_route_but_custody_and_login_needs_a_person(client: TestClient) -> None:
    """The JSON API of the CLI answers 401 in JSON without a bearer token."""
    app: Any = client.app
    paths: dict[str, dict[str, object]] = app.openapi()["paths"]
    checked = 0
    for path, operations in paths.items():
        if not path.startswith("/api/") or path in PUBLIC_PATHS:
            continue
        for method in operations:
            concrete = path.replace("{", "x").replace("}", "")
            response = client.request(method.upper(), concrete, json={})
            assert response.status_code == 401, (method, path)
            assert response.json()["error"]["exit"] == 7
            checked += 1
    assert checked >= 10


def test_every_page_but_login_needs_a_person(web_vault: WebVault, client: TestClient) -> None:
    checked = 0
    for path, methods in _page_routes(client):
        if path.startswith("/login"):
            continue
        for method in methods:
            response = client.request(method, _concrete(path, web_vault), headers=HTML)
            assert response.status_code == 303, (method, path)
            assert response.headers["location"] == "/login"
            checked += 1
    assert checked >= 20


def test_every_form_refuses_a_post_without_its_csrf_token(
    web_vault: WebVault, client: TestClient
) -> None:
    member = web_vault.members[Role.LAB_ADMIN]
    good = web_vault.sign_in(client, member)
    posts = [
        path
        for path, methods in _page_routes(client)
        if "POST" in methods and not path.startswith("/login")
    ]
    assert set(posts) >= {
        "/logout",
        "/patients/search",
        "/patients/new",
        "/patients/validate",
        "/patients/{patient_id}/edit",
        "/patients/{patient_id}/specimens/new",
        "/users",
        "/users/{username}/disable",
        "/users/{username}/reset-totp",
        "/alerts/{alert_id}/ack",
        "/decoys",
    }
    for route in posts:
        path = _concrete(route, web_vault)
        for data, headers in (
            ({"note": "x"}, {}),
            ({"csrf": "0" * 64}, {}),
            ({"csrf": good + "0"}, {}),
            ({}, {"X-CSRF-Token": "forged"}),
        ):
            response = client.post(path, data=data, headers=headers)
            assert response.status_code == 403, (route, data, headers)
    # the session is still alive: nothing above was acted on
    assert client.get("/users").status_code == 200


def test_htmx_requests_pass_with_the_header_token(web_vault: WebVault, client: TestClient) -> None:
    good = web_vault.sign_in(client, web_vault.members[Role.RECEPTION])
    response = client.post(
        "/patients/validate",
        data={"nir": "1234567890123"},
        headers={"X-CSRF-Token": good, "HX-Request": "true", "HX-Trigger-Name": "nir"},
    )
    assert response.status_code == 200
    assert "15 caractères" in response.text


def _pages_of(web_vault: WebVault, role: Role) -> list[str]:
    patient = web_vault.patient(nir=True)
    pages = {
        Role.RECEPTION: [
            "/patients",
            "/patients/new",
            f"/patients/{patient.id}",
            f"/patients/{patient.id}/edit",
            f"/patients/{patient.id}/specimens/new",
        ],
        Role.BIOLOGIST: [f"/patients/{patient.id}"],
        Role.LAB_ADMIN: ["/users"],
        Role.DPO: ["/audit", "/audit?action=patient.read", "/alerts", "/alerts?tous=1", "/decoys"],
        Role.AUDITOR: ["/audit"],
        Role.MIGRATION_OPERATOR: ["/home"],
        Role.IDENTITY_OFFICER: [
            f"/patients/{patient.id}",
            "/identity/merges",
            f"/identity/review?left={patient.id}&right={web_vault.patient(index=1).id}",
        ],
    }
    return pages[role]


def test_every_page_has_the_csp_and_no_inline_script_or_style(
    web_vault: WebVault, client: TestClient
) -> None:
    seen = 0
    login = client.get("/login")
    assert "script-src 'self'" in login.headers["content-security-policy"]
    assert inline_problems(login.text) == []
    for role in Role:
        web_vault.sign_in(client, web_vault.members[role])
        for url in _pages_of(web_vault, role):
            response = client.get(url)
            assert response.status_code == 200, url
            csp = response.headers["content-security-policy"]
            assert "script-src 'self'" in csp and "unsafe-inline" not in csp
            assert response.headers["cache-control"] == "no-store"
            assert inline_problems(response.text) == [], url
            assert '<html lang="fr">' in response.text
            seen += 1
    fragment = client.get("/audit/verification")
    assert inline_problems(fragment.text) == []
    assert seen >= 14


def test_every_input_has_a_label(web_vault: WebVault, client: TestClient) -> None:
    web_vault.sign_in(client, web_vault.members[Role.RECEPTION])
    patient = web_vault.patient()
    for url in ("/patients", "/patients/new", f"/patients/{patient.id}/specimens/new"):
        html = client.get(url).text
        ids = re.findall(r'<(?:input|select|textarea)[^>]*\bid="([^"]+)"', html)
        visible = [
            i
            for i in ids
            if not re.search(rf'<input[^>]*type="hidden"[^>]*id="{re.escape(i)}"', html)
        ]
        assert visible
        for ident in visible:
            assert f'for="{ident}"' in html, (url, ident)
        assert 'aria-live="polite"' in html


# -- patients ------------------------------------------------------------------------
def test_reception_sees_no_clinical_block_and_a_biologist_does(
    web_vault: WebVault, client: TestClient
) -> None:
    patient = next(
        p for p in web_vault.patients if p.lab_id == "L01" and p.clinical.blood_group is not None
    )
    web_vault.sign_in(client, web_vault.members[Role.RECEPTION])
    sheet = client.get(f"/patients/{patient.id}").text
    assert "Données cliniques non accessibles pour votre rôle" in sheet
    assert "Groupe sanguin" not in sheet
    assert patient.birth_name in sheet  # the admin compartment is there
    web_vault.sign_in(client, web_vault.members[Role.BIOLOGIST])
    sheet = client.get(f"/patients/{patient.id}").text
    assert "non accessibles" not in sheet
    assert f"<dd>{patient.clinical.blood_group}</dd>" in sheet


def test_every_view_of_a_patient_is_an_audited_read(
    web_vault: WebVault, client: TestClient
) -> None:
    patient = web_vault.patient(index=3)
    web_vault.sign_in(client, web_vault.members[Role.RECEPTION])
    for url in (
        f"/patients/{patient.id}",
        f"/patients/{patient.id}/edit",
        f"/patients/{patient.id}/specimens/new",
    ):
        before = events_for(web_vault, client, "patient.read", patient.id)
        assert client.get(url).status_code == 200
        assert events_for(web_vault, client, "patient.read", patient.id) == before + 1, url


def test_another_labs_patient_is_refused_in_french_and_the_refusal_logged(
    web_vault: WebVault, client: TestClient
) -> None:
    other = web_vault.patient("L02", nir=True)
    web_vault.sign_in(client, web_vault.members[Role.RECEPTION])
    before = events_for(web_vault, client, "patient.read", other.id)
    response = client.get(f"/patients/{other.id}")
    assert response.status_code == 403
    assert "Cette action n'est pas permise à votre compte." in unescape(response.text)
    assert other.birth_name not in response.text
    assert "outside" not in response.text  # the policy's English reason stays in the log
    assert events_for(web_vault, client, "patient.read", other.id) == before + 1
    missing = client.get("/patients/" + "f" * 32)
    assert missing.status_code == 404
    assert "Dossier introuvable" in missing.text
    assert client.get("/patients/not-an-id").status_code == 404


def test_search_results_are_masked_and_other_labs_only_counted(
    web_vault: WebVault, client: TestClient
) -> None:
    mine = web_vault.patient(nir=True, phones=True)
    other = web_vault.patient("L02", nir=True)
    csrf = web_vault.sign_in(client, web_vault.members[Role.RECEPTION])
    found = client.post("/patients/search", data={"csrf": csrf, "mode": "nir", "nir": mine.nir})
    assert found.status_code == 200
    assert f'href="/patients/{mine.id}"' in found.text
    assert f"{mine.nir[0]} {mine.nir[1:3]} ••••" in found.text  # type: ignore[index]
    results = found.text.split('id="resultats"')[1]
    assert mine.nir not in results  # type: ignore[operator]
    assert mine.birth_name not in results
    hidden = client.post("/patients/search", data={"csrf": csrf, "mode": "nir", "nir": other.nir})
    assert other.id not in hidden.text
    assert "existe dans un autre laboratoire du réseau" in hidden.text
    by_phone = client.post(
        "/patients/search", data={"csrf": csrf, "mode": "telephone", "phone": mine.phones[0]}
    )
    assert f'href="/patients/{mine.id}"' in by_phone.text
    by_name = client.post(
        "/patients/search",
        data={
            "csrf": csrf,
            "mode": "nom",
            "birth_name": mine.birth_name,
            "first_name": mine.first_names[0],
            "birth_date": mine.birth_date.strftime("%d/%m/%Y"),
        },
    )
    assert f'href="/patients/{mine.id}"' in by_name.text
    short = {"csrf": csrf, "mode": "nir", "nir": "1234567890123"}
    bad = client.post("/patients/search", data=short)
    assert bad.status_code == 422
    assert "15 caractères" in bad.text


def _validate(client: TestClient, csrf: str, trigger: str, **form: str) -> str:
    response = client.post(
        "/patients/validate",
        data={"check_duplicates": "oui", **form},
        headers={"X-CSRF-Token": csrf, "HX-Request": "true", "HX-Trigger-Name": trigger},
    )
    assert response.status_code == 200
    return unescape(response.text)


def test_live_validation_checks_the_nir_key_and_its_consistency(
    web_vault: WebVault, client: TestClient
) -> None:
    csrf = web_vault.sign_in(client, web_vault.members[Role.RECEPTION])
    good = "185077512345678"
    good = good[:13] + f"{97 - int(good[:13]) % 97:02d}"
    wrong_key = good[:13] + f"{(int(good[13:]) + 1) % 97:02d}"
    assert "clé du NIR est incorrecte" in _validate(client, csrf, "nir", nir=wrong_key)
    assert _validate(client, csrf, "nir", nir=good).split("<")[0].strip() == ""
    assert "ne correspond pas au sexe" in _validate(client, csrf, "nir", nir=good, sex="F")
    year = _validate(client, csrf, "birth_date", nir=good, sex="M", birth_date="1990-07-01")
    assert 'id="nir-erreur" hx-swap-oob="innerHTML"' in year
    assert "ne correspond pas à l'année de naissance" in unescape(year)
    assert "n'existe pas dans son pays" in _validate(client, csrf, "phone", phone="0612")
    assert "un seul signe @" in _validate(client, csrf, "email", email="a@b@c")
    assert "obligatoire" in _validate(client, csrf, "birth_name", birth_name="")


def test_live_validation_warns_of_the_same_person_elsewhere_without_showing_it(
    web_vault: WebVault, client: TestClient
) -> None:
    csrf = web_vault.sign_in(client, web_vault.members[Role.RECEPTION])
    other = web_vault.patient("L02", nir=True)
    answer = _validate(client, csrf, "nir", nir=other.nir or "")
    assert "déjà connue dans un autre laboratoire du réseau" in answer
    assert other.id not in answer
    assert other.birth_name not in answer
    mine = web_vault.patient(nir=True)
    traits = {
        "birth_name": mine.birth_name,
        "first_names": " ".join(mine.first_names),
        "birth_date": mine.birth_date.isoformat(),
    }
    answer = _validate(client, csrf, "birth_date", **traits)
    assert "doublon probable" in answer
    assert f'href="/patients/{mine.id}"' in answer
    editing = _validate(client, csrf, "birth_date", patient_id=mine.id, **traits)
    assert "doublon probable" not in editing


def _new_patient(**overrides: str) -> dict[str, str]:
    form = {
        "lab_id": "L01",
        "birth_name": "Le Floch",
        "first_names": "Gwenaëlle Marie",
        "sex": "F",
        "birth_date": "1992-03-14",
        "birthplace_insee": "29019",
        "nir": "292032901912345",
        "identity_status": "VALI",
        "address_line": "3 rue de Siam",
        "postcode": "29200",
        "city": "Brest",
        "phone": "06 98 76 54 32",
        "email": "g.lefloch@example.org",
        "physician_name": "",
        "physician_rpps": "",
    }
    form["nir"] = form["nir"][:13] + f"{97 - int(form['nir'][:13]) % 97:02d}"
    form.update(overrides)
    return form


def test_intake_reports_every_error_then_creates_the_patient(
    web_vault: WebVault, client: TestClient
) -> None:
    csrf = web_vault.sign_in(client, web_vault.members[Role.RECEPTION])
    form = _new_patient()
    bad = client.post(
        "/patients/new",
        data={
            **form,
            "csrf": csrf,
            "nir": form["nir"][:13] + "00",
            "postcode": "1",
            "lab_id": "L02",
            "sex": "",
        },
    )
    assert bad.status_code == 422
    assert "4 points à corriger" in bad.text
    assert "clé du NIR est incorrecte" in bad.text
    assert "Ce laboratoire n'est pas l'un des vôtres." in unescape(bad.text)
    assert 'aria-invalid="true"' in bad.text
    created = client.post("/patients/new", data={**form, "csrf": csrf})
    assert created.status_code == 303
    patient_id = created.headers["location"].split("/")[2].split("?")[0]
    sheet = client.get(created.headers["location"])
    assert "Le dossier patient a été créé." in sheet.text
    assert "2 92 03 29 019" in sheet.text
    assert "06 98 76 54 32" in sheet.text
    assert events_for(web_vault, client, "patient.create", patient_id) == 1
    again = client.post("/patients/new", data={**form, "csrf": csrf})
    assert again.status_code == 409
    assert "doublon probable" in again.text
    unexplained = client.post(
        "/patients/new", data={**form, "csrf": csrf, "confirm_duplicate": "oui"}
    )
    assert unexplained.status_code == 409
    assert "Motif de la création" in unexplained.text
    reason = "Homonyme, pièce d'identité vérifiée"
    confirmed = client.post(
        "/patients/new",
        data={**form, "csrf": csrf, "confirm_duplicate": "oui", "duplicate_reason": reason},
    )
    assert confirmed.status_code == 303


def test_an_edit_keeps_the_clinical_compartment(web_vault: WebVault, client: TestClient) -> None:
    patient = next(
        p
        for p in web_vault.patients[40:]
        if p.lab_id == "L01" and p.clinical.blood_group is not None
    )
    csrf = web_vault.sign_in(client, web_vault.members[Role.RECEPTION])
    page = client.get(f"/patients/{patient.id}/edit")
    assert f'value="{patient.birth_name}"' in page.text
    values = dict(
        re.findall(r'<input id="f-(\w+)" name="\w+" type="[\w-]+" value="([^"]*)"', page.text)
    )
    form = {k: values.get(k, "") for k in _new_patient()}
    form.update(sex=patient.sex.value, identity_status=patient.identity_status.value)
    form.update(phone="06 11 22 33 44", csrf=csrf)
    saved = client.post(f"/patients/{patient.id}/edit", data=form)
    assert saved.status_code == 303, re.findall(r'aria-live="polite">([^<]+)<', saved.text)
    updated = web_vault.vault.get(patient.id)
    assert updated.phones[0] == "+33611223344"
    assert updated.clinical == patient.clinical  # a reception session cannot touch it
    assert events_for(web_vault, client, "patient.update", patient.id) == 1


def test_a_specimen_is_recorded_on_the_sheet(web_vault: WebVault, client: TestClient) -> None:
    patient = web_vault.patient(index=5)
    csrf = web_vault.sign_in(client, web_vault.members[Role.BIOLOGIST])
    form = {
        "csrf": csrf,
        "lab_id": "L01",
        "accession": "L01TEST000123",
        "collected_at": "2025-02-03T08:30",
        "specimen_type": "urine",
        "prescriber_name": "Dr Yann Caradec",
        "prescriber_rpps": "10507989589",
    }
    bad = client.post(
        f"/patients/{patient.id}/specimens/new", data={**form, "prescriber_rpps": "1"}
    )
    assert bad.status_code == 422
    assert "11 chiffres" in bad.text
    future = client.post(
        f"/patients/{patient.id}/specimens/new", data={**form, "collected_at": "2999-01-01T00:00"}
    )
    assert "dans le futur" in future.text
    done = client.post(f"/patients/{patient.id}/specimens/new", data=form)
    assert done.status_code == 303, done.text
    sheet = client.get(done.headers["location"]).text
    assert "L01TEST000123" in sheet
    assert "03/02/2025 08:30" in sheet
    assert events_for(web_vault, client, "specimen.create", patient.id) == 1


# -- lab admins -------------------------------------------------------------------------
def test_a_lab_admin_adds_and_disables_accounts_of_their_labs(
    web_vault: WebVault, client: TestClient
) -> None:
    csrf = web_vault.sign_in(client, web_vault.members[Role.LAB_ADMIN])
    page = client.get("/users")
    assert web_vault.members[Role.RECEPTION].username in page.text
    assert web_vault.members[Role.DPO].username not in page.text  # network-wide: not theirs
    account = {
        "csrf": csrf,
        "username": "yprigent",
        "full_name": "Yves Prigent",
        "role": "reception",
        "labs": "L01",
        "password": "Chaland-Iroise-Marée-42",
        "password_confirm": "Chaland-Iroise-Marée-42",
    }
    generic = client.post("/users", data={**account, "username": "accueil2"})
    assert generic.status_code == 422
    assert "désigne un service ou un rôle" in generic.text
    elsewhere = client.post("/users", data={**account, "labs": "L02"})
    assert elsewhere.status_code in (403, 422)
    assert client.post("/users", data=account).status_code == 303
    assert "yprigent" in client.get("/users").text
    disabled = client.post("/users/yprigent/disable", data={"csrf": csrf})
    assert disabled.status_code == 303
    with web_vault.vault.engine.connect() as conn:
        from etanche.access._schema import users

        row = conn.execute(select(users.c.disabled_at).where(users.c.username == "yprigent")).one()
    assert row.disabled_at is not None
    web_vault.flush(client.app)
    operations = [
        (e.details["operation"], e.outcome.value)
        for e in web_vault.events(action="user.manage")
        if e.details.get("account") == "yprigent"
    ]
    assert operations == [("add", "denied"), ("add", "ok"), ("disable", "ok")]


def test_people_without_the_right_get_a_french_refusal(
    web_vault: WebVault, client: TestClient
) -> None:
    web_vault.sign_in(client, web_vault.members[Role.RECEPTION])
    for url in ("/users", "/audit", "/alerts", "/decoys"):
        response = client.get(url)
        assert response.status_code == 403, url
        assert "n'est pas permise à votre compte" in unescape(response.text)
    web_vault.sign_in(client, web_vault.members[Role.DPO])
    assert client.get(f"/patients/{web_vault.patient().id}").status_code == 403


# -- the DPO ----------------------------------------------------------------------------
def test_the_audit_browser_filters_and_verifies_the_log(
    web_vault: WebVault, client: TestClient
) -> None:
    patient = web_vault.patient(index=7)
    reader = web_vault.person(Role.BIOLOGIST)
    web_vault.sign_in(client, reader)
    client.get(f"/patients/{patient.id}")
    web_vault.sign_in(client, web_vault.members[Role.DPO])
    page = client.get(f"/audit?patient={patient.id}&action=patient.read")
    assert page.status_code == 200
    assert reader.username in page.text
    assert 'hx-get="/audit/verification"' in page.text
    by_actor = client.get(f"/audit?acteur={reader.username}")
    assert "Lecture de dossier" in by_actor.text
    bad = client.get("/audit?du=31/02/2024")
    assert bad.status_code == 422
    verified = client.get("/audit/verification")
    assert "Journal intègre" in verified.text
    key = client.get("/audit/public-key.pem")
    assert key.text.startswith("-----BEGIN PUBLIC KEY-----")


def test_a_dpo_acknowledges_an_alert_with_a_note(web_vault: WebVault, client: TestClient) -> None:
    decoy = _decoy_in(web_vault.vault, "L01")
    reader = web_vault.person(Role.BIOLOGIST)
    web_vault.sign_in(client, reader)
    assert client.get(f"/patients/{decoy}").status_code == 200
    web_vault.flush(client.app)
    csrf = web_vault.sign_in(client, web_vault.members[Role.DPO])
    page = client.get("/alerts")
    assert "Dossier leurre consulté" in page.text
    alert_id = re.search(
        rf'action="/alerts/(\w+)/ack"(?:(?!</li>).)*?{reader.username}|'
        rf'{reader.username}(?:(?!</li>).)*?action="/alerts/(\w+)/ack"',
        page.text,
        re.S,
    )
    assert alert_id is not None
    ident = alert_id.group(1) or alert_id.group(2)
    empty = client.post(f"/alerts/{ident}/ack", data={"csrf": csrf, "note": "  "})
    assert empty.status_code == 422
    done = client.post(f"/alerts/{ident}/ack", data={"csrf": csrf, "note": "Appel au biologiste"})
    assert done.status_code == 303
    everything = client.get("/alerts?tous=1").text
    assert "Appel au biologiste" in everything
    twice = client.post(f"/alerts/{ident}/ack", data={"csrf": csrf, "note": "encore"})
    assert twice.status_code == 400


def test_decoys_are_counted_and_planted(web_vault: WebVault, client: TestClient) -> None:
    csrf = web_vault.sign_in(client, web_vault.members[Role.DPO])
    before = int(re.search(r"<strong>(\d+)</strong>", client.get("/decoys").text).group(1))  # type: ignore[union-attr]
    assert client.post("/decoys", data={"csrf": csrf, "count": "0"}).status_code == 422
    assert client.post("/decoys", data={"csrf": csrf, "count": "2"}).status_code == 303
    after = int(re.search(r"<strong>(\d+)</strong>", client.get("/decoys").text).group(1))  # type: ignore[union-attr]
    assert after == before + 2


def _decoy_in(vault: Vault, lab: str) -> str:
    for _ in range(10):
        for pid in plant_decoys(vault, 3):
            if vault.lab_of(pid) == lab:
                return pid
    pytest.fail("no decoy landed in the lab")
