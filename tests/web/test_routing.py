"""Route lookup by first segment chooses exactly the route the full router chooses.

Every route of the live application (pages, API, FHIR, static files), with its
path parameters filled, plus unknown paths, trailing slashes and wrong methods,
goes through the app router's entry (``PrefixDispatch``) and through the full
router it replaced; the route handed the request (or the 404/405/redirect) must
be the same object. Handlers are not run: the test records which one was chosen.
"""

from __future__ import annotations

import asyncio
import re
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.routing import APIRoute
from starlette.exceptions import HTTPException
from starlette.routing import Mount

from etanche.service import Custody
from etanche.vault import parse_location
from etanche.web import WebConfig, create_app
from etanche.web._operations import routes_of
from etanche.web._routing import PrefixDispatch

_PARAM = re.compile(r"\{([^}:]+)(?::[^}]+)?\}")
DUMMY_ID = "0123456789abcdef0123456789abcdef"


@pytest.fixture(scope="module")
def app(tmp_path_factory: pytest.TempPathFactory) -> FastAPI:
    """The application as served, never started: its routes are all this needs."""
    location = parse_location(str(tmp_path_factory.mktemp("routing") / "vault"))
    return create_app(WebConfig(location, Custody(None, None)))


async def _chosen(entry: Any, app: FastAPI, method: str, path: str, picked: list[object]) -> object:
    """The route object ``entry`` hands the request to, or what it answers instead."""
    picked.clear()

    async def sent(message: Any) -> None:
        if message["type"] == "http.response.start":
            picked.append(("answer", message["status"], dict(message["headers"]).get(b"location")))

    async def nothing() -> Any:
        return {"type": "http.request", "body": b"", "more_body": False}

    scope = {
        "type": "http", "method": method, "path": path, "raw_path": path.encode(),
        "root_path": "", "query_string": b"", "headers": [(b"host", b"testserver")],
        "scheme": "http", "server": ("testserver", 80), "app": app,
    }  # fmt: skip
    try:
        await entry(scope, nothing, sent)
    except HTTPException as exc:
        picked.append(("raised", exc.status_code))
    assert len(picked) == 1, (method, path, picked)
    return picked[0]


def _requests(app: FastAPI) -> list[tuple[str, str]]:
    """Every route's method and filled path, and the near misses around them."""
    found: set[tuple[str, str]] = set()
    for i, (method, path, _) in enumerate(routes_of(app)):
        filled = _PARAM.sub(DUMMY_ID, path)
        found.add((method, filled))
        if i % 4 == 0:  # near misses: a trailing slash (redirect), a method none has (405)
            found |= {(method, filled + "/"), ("PATCH", filled)}
    found |= {("GET", "/static/app.css"), ("GET", "/"), ("GET", "/nowhere/at/all")}
    found |= {("GET", "/patients/" + DUMMY_ID + "/nowhere"), ("GET", "/api/v1/nowhere")}
    return sorted(found)


def test_every_request_reaches_the_route_the_full_router_picks(
    app: FastAPI, monkeypatch: pytest.MonkeyPatch
) -> None:
    dispatch = app.router.middleware_stack
    assert isinstance(dispatch, PrefixDispatch)
    requests = _requests(app)
    assert len(requests) > 250  # the walk saw the pages, the API and FHIR
    picked: list[object] = []

    async def record(self: object, scope: Any, receive: Any, send: Any) -> None:
        picked.append(self)  # the route chosen; its handler is not run

    monkeypatch.setattr(APIRoute, "handle", record)
    monkeypatch.setattr(Mount, "handle", record)

    async def compare() -> None:
        for method, path in requests:
            narrow = await _chosen(dispatch, app, method, path, picked)
            full = await _chosen(dispatch.full, app, method, path, picked)
            assert narrow is full or narrow == full, (method, path, narrow, full)

    asyncio.run(compare())


def test_a_segment_router_holds_only_its_segment(app: FastAPI) -> None:
    """The sheet's router holds the patient routes, none of the API's or FHIR's."""
    dispatch = app.router.middleware_stack
    assert isinstance(dispatch, PrefixDispatch)
    table = dispatch._table()
    narrow = FastAPI()
    narrow.router = table["patients"]
    paths = {path for _, path, _ in routes_of(narrow)}
    assert "/patients/{patient_id}" in paths
    assert all(p == "/patients" or p.startswith("/patients/") for p in paths), paths
    everything = {path for _, path, _ in routes_of(app)}
    assert len(paths) * 5 < len(everything)
