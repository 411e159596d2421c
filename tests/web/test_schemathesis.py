"""Property-based tests of every operation of the OpenAPI document (schemathesis).

For each operation (pages and FHIR alike) schemathesis generates requests from
the document; each one is sent twice:

- as a named person (bearer token and session cookie of a role that may use the
  operation): the answer must never be a server error (5xx). Half the examples
  use ids that exist (a known patient, her observation and coverage) and a valid
  CSRF token, so the happy paths run and not only the 404s and 403s;
- anonymously: a non-public operation must answer 401, 403 or a 303 redirect
  to /login, never a success.

Bounded (25 examples per operation, no deadline, derandomized) to stay well
under a minute.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis.checks import not_a_server_error

sys.path.insert(0, str(Path(__file__).parent))

from fhir_support import ALICE, PASSPHRASE, build_vault, new_patient, new_specimen

from _service import passphrase_custody
from etanche.service import Custody
from etanche.vault import VaultLocation, parse_location
from etanche.web import PUBLIC_PATHS, WebConfig, create_app
from etanche.web._state import COOKIE

# Who calls which part of the API: a role that may use it, so the happy paths run too.
_SUPERVISION = ("/fhir/AuditEvent", "/audit", "/alerts", "/decoys")
_ADMINISTRATION = ("/users",)
# Path parameters that name something that exists, for the "known" half of the examples.
_KNOWN_IDS = {
    "patient_id": ALICE.id,
    "observation_id": f"blood-group-{ALICE.id}",
    "coverage_id": f"amo-{ALICE.id}",
}
# Bodies the FHIR creates accept, so the "known" half also creates.
_VALID_BODIES: dict[str, Callable[[], dict[str, Any]]] = {
    "/fhir/Patient": new_patient,
    "/fhir/Specimen": lambda: new_specimen(ALICE.id),
}
# Forms whose valid submission would end the test's own session.
_NO_CSRF = ("/logout",)


@pytest.fixture(scope="module")
def location(tmp_path_factory: pytest.TempPathFactory) -> VaultLocation:
    return parse_location(str(tmp_path_factory.mktemp("schemathesis") / "vault"))


@pytest.fixture(scope="module")
def tokens(location: VaultLocation) -> dict[str, str]:
    return build_vault(location)


@pytest.fixture(scope="module")
def api_schema(location: VaultLocation, tokens: dict[str, str]) -> Any:
    """The app's own OpenAPI document; schemathesis runs the app's lifespan itself.

    Fetched as a person, so the test holds once /openapi.json is protected.
    """
    app = create_app(WebConfig(location, passphrase_custody(location, PASSPHRASE)))
    headers = {"Authorization": f"Bearer {tokens['bjaouen']}"}
    return schemathesis.openapi.from_asgi("/openapi.json", app, headers=headers)


def _operations() -> list[tuple[str, str]]:
    """(METHOD, path) of every operation of the document, read at collection time.

    Building the app opens nothing (the vault opens in its lifespan), so the
    operations are known before any fixture runs and each one is its own test.
    """
    app = create_app(WebConfig(parse_location("/nonexistent-collection-only"), Custody()))
    document: dict[str, dict[str, Any]] = app.openapi()["paths"]
    return [
        (method.upper(), path)
        for path, item in document.items()
        for method in item
        if method in ("get", "post", "put", "patch", "delete")
    ]


def _public(path: str) -> bool:
    return any(path == p or path.startswith(p.rstrip("/") + "/") for p in PUBLIC_PATHS)


def _who(path: str) -> str:
    if path.startswith(_SUPERVISION):
        return "dleroux"
    if path.startswith(_ADMINISTRATION):
        return "ylegoff"
    return "bjaouen"


def _use_known(case: schemathesis.Case, token: str) -> dict[str, str]:
    """Existing ids in the path and the session's CSRF token in the form; extra headers."""
    for name in list(case.path_parameters or {}):
        if name in _KNOWN_IDS:
            case.path_parameters[name] = _KNOWN_IDS[name]  # type: ignore[index]
    if case.operation.path in _VALID_BODIES:
        case.body = _VALID_BODIES[case.operation.path]()
    if case.operation.method.upper() != "POST" or case.operation.path in _NO_CSRF:
        return {}
    state = case.operation.schema.app.state.etanche  # the running app (lifespan started)
    csrf: str = state.csrf.token_for(token)
    if isinstance(case.body, dict) and "csrf" in case.body:
        case.body["csrf"] = csrf
    return {"X-CSRF-Token": csrf}


def _exercise(case: schemathesis.Case, tokens: dict[str, str], known: bool) -> None:
    path = case.operation.path
    token = tokens[_who(path)]
    extra = _use_known(case, token) if known else {}
    response = case.call(
        headers={"Authorization": f"Bearer {token}", **extra},
        cookies={COOKIE: token},
        allow_redirects=False,
    )
    case.validate_response(response, checks=[not_a_server_error])

    if _public(path):
        return
    case.headers = {k: v for k, v in (case.headers or {}).items() if k.lower() != "authorization"}
    anonymous = case.call(allow_redirects=False)
    case.validate_response(anonymous, checks=[not_a_server_error])
    status = anonymous.status_code
    to_login = status == 303 and anonymous.headers.get("location", [""])[0].endswith("/login")
    assert status in (401, 403) or to_login, (
        f"{case.operation.method.upper()} {path} answered {status} to an anonymous request"
    )


@pytest.mark.parametrize(("method", "path"), _operations())
def test_no_server_error_and_no_anonymous_success(
    api_schema: Any, tokens: dict[str, str], method: str, path: str
) -> None:
    operation = api_schema[path][method]

    @given(case=operation.as_strategy(), known=st.booleans())
    @settings(
        max_examples=25,
        deadline=None,
        derandomize=True,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    def run(case: schemathesis.Case, known: bool) -> None:
        _exercise(case, tokens, known)

    run()
