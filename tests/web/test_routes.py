"""No route answers an anonymous request, except the few that must (finding F6).

Walks the live application's routes, pages and FHIR alike (whatever routes are
added later are walked too), and calls every method of every route without a
session cookie or bearer token, path parameters filled with dummy ids. Only
``etanche.web.PUBLIC_PATHS`` may answer; everything else must answer 401, 403
or a 303 redirect to /login.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi import APIRouter, FastAPI, HTTPException
from fastapi.testclient import TestClient
from starlette.routing import Mount

sys.path.insert(0, str(Path(__file__).parent))

from fhir_support import PASSPHRASE, build_vault

from _service import passphrase_custody
from etanche.vault import parse_location
from etanche.web import PUBLIC_PATHS, WebConfig, create_app

DUMMY_ID = "0123456789abcdef0123456789abcdef"
# FastAPI's own API-description routes. They hold no data, but they are not in
# PUBLIC_PATHS: create_app (not this test's to change) still serves them to anyone.
FRAMEWORK_DOCS = ("/openapi.json", "/docs", "/docs/oauth2-redirect", "/redoc")
_PARAM = re.compile(r"\{([^}:]+)(?::[^}]+)?\}")
_REFUSED = (401, 403)


def _refused(client: TestClient, method: str, path: str, accept: str) -> int | None:
    """None if an anonymous request is refused (401, 403, 303 to /login), else its status."""
    response = client.request(method, _fill(path), headers={"Accept": accept})
    status = response.status_code
    to_login = status == 303 and response.headers.get("location", "").endswith("/login")
    return None if status in _REFUSED or to_login else status


def _public(path: str) -> bool:
    return any(path == p or path.startswith(p.rstrip("/") + "/") for p in PUBLIC_PATHS)


def _fill(path: str) -> str:
    """``/patients/{patient_id}`` → ``/patients/0123…``; ``{rest:path}`` too."""
    return _PARAM.sub(DUMMY_ID, path)


def walk(app: FastAPI) -> list[tuple[str, str]]:
    """(method, path) of every route and mount of the live app, nested routers included."""
    try:  # FastAPI ≥ 0.150 keeps included routers lazily; this flattens them
        from fastapi.routing import iter_route_contexts

        routes = [(r.path, r.methods, r.original_route) for r in iter_route_contexts(app.routes)]
    except ImportError:  # pragma: no cover - older FastAPI lists routes flat
        routes = [(r.path, getattr(r, "methods", None), r) for r in app.routes]  # type: ignore[attr-defined]
    found: list[tuple[str, str]] = []
    for path, methods, original in routes:
        if isinstance(original, Mount) or methods is None:
            found.append(("GET", path.rstrip("/") + "/" + DUMMY_ID))
            continue
        found.extend((method, path) for method in sorted(methods) if method != "HEAD")
    return found


@pytest.fixture(scope="module")
def app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[FastAPI]:
    location = parse_location(str(tmp_path_factory.mktemp("routes") / "vault"))
    build_vault(location)
    application = create_app(WebConfig(location, passphrase_custody(location, PASSPHRASE)))
    with TestClient(application):
        yield application


def test_the_walk_sees_pages_fhir_and_mounts(app: FastAPI) -> None:
    paths = {path for _, path in walk(app)}
    assert "/fhir/Patient/{patient_id}" in paths
    assert "/fhir/metadata" in paths
    assert "/health" in paths
    assert any(p.startswith("/static/") for p in paths)
    assert len(paths) > 15


@pytest.mark.parametrize("accept", ["text/html", "application/fhir+json"])
def test_every_non_public_route_refuses_an_anonymous_request(app: FastAPI, accept: str) -> None:
    answered: list[str] = []
    with TestClient(app, follow_redirects=False) as client:
        for method, path in walk(app):
            if _public(path) or path in FRAMEWORK_DOCS:
                continue
            status = _refused(client, method, path, accept)
            if status is not None:
                answered.append(f"{method} {path} → {status}")
    assert not answered, "anonymous requests answered:\n" + "\n".join(answered)


def test_the_api_description_is_not_public(app: FastAPI) -> None:
    answered: list[str] = []
    with TestClient(app, follow_redirects=False) as client:
        for method, path in walk(app):
            if path in FRAMEWORK_DOCS:
                status = _refused(client, method, path, "text/html")
                if status is not None:
                    answered.append(f"{method} {path} → {status}")
    assert not answered, "anonymous requests answered:\n" + "\n".join(answered)


def test_the_walk_and_the_check_catch_an_open_route() -> None:
    """The check itself: an included route that answers anyone is found and flagged."""
    router = APIRouter()

    @router.get("/open/{thing_id}")
    def opened(thing_id: str) -> dict[str, str]:
        return {"thing": thing_id}

    @router.post("/closed")
    def closed() -> None:
        raise HTTPException(401)

    leaky = FastAPI()
    leaky.include_router(router, prefix="/x")
    found = walk(leaky)
    assert ("GET", "/x/open/{thing_id}") in found
    assert ("POST", "/x/closed") in found
    with TestClient(leaky) as client:
        assert _refused(client, "GET", "/x/open/{thing_id}", "text/html") == 200
        assert _refused(client, "POST", "/x/closed", "text/html") is None


def test_public_paths_are_only_the_allowed_ones() -> None:
    assert set(PUBLIC_PATHS) == {
        "/login",
        "/login/enrol",
        "/health",
        "/static",
        "/fhir/metadata",
        # the CLI's login, and custodians unsealing a sealed service (no person exists yet)
        "/api/v1/login",
        "/api/v1/status",
        "/api/v1/custody/unseal",
        "/api/v1/custody/approve",
    }
