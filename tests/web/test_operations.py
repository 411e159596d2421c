"""Every API route names the actions it performs, so a token's scopes mean what they say.

Walks the live application's routes under /fhir and /api/v1 (routes added later
are walked too) and fails if one has no row in ``web/_operations.py``; the
server itself refuses to start then. A route that returns patients must name
``patient.read``: a search that returns resources is a search and a read of each.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from fastapi import APIRouter, FastAPI

from etanche.errors import ConfigError
from etanche.names import Action
from etanche.service import Custody
from etanche.vault import parse_location
from etanche.web import WebConfig, create_app
from etanche.web._operations import OPERATIONS, SCOPED_PREFIXES, bind, routes_of, unmapped

ROOT = Path(__file__).parent.parent.parent


@pytest.fixture(scope="module")
def app(tmp_path_factory: pytest.TempPathFactory) -> FastAPI:
    """The application as served, never started: its routes are all this needs."""
    location = parse_location(str(tmp_path_factory.mktemp("ops") / "vault"))
    return create_app(WebConfig(location, Custody(None, None)))


def test_every_api_route_has_a_row_and_every_row_a_route(app: FastAPI) -> None:
    routes = list(routes_of(app))
    served = {f"{m} {p}" for m, p, _ in routes if m != "HEAD"}
    assert unmapped(routes) == []
    assert sorted(set(OPERATIONS) - served) == []  # no stale row
    assert sum(p.startswith(SCOPED_PREFIXES) for _, p, _ in routes) > 60  # the walk saw them


def test_an_unmapped_route_stops_the_server(app: FastAPI) -> None:
    extra = APIRouter()

    @extra.get("/patients/{patient_id}/everything")
    def everything(patient_id: str) -> dict[str, str]:
        return {"id": patient_id}

    fresh = FastAPI()
    fresh.include_router(extra, prefix="/api/v1")
    with pytest.raises(
        ConfigError, match=re.escape("GET /api/v1/patients/{patient_id}/everything")
    ):
        bind(fresh)


def test_whatever_returns_patients_needs_the_read_scope() -> None:
    for name, actions in OPERATIONS.items():
        if Action.PATIENT_SEARCH in actions:
            assert Action.PATIENT_READ in actions, name
    assert OPERATIONS["POST /fhir/Patient/_search"] >= {Action.PATIENT_SEARCH, Action.PATIENT_READ}
    assert OPERATIONS["POST /api/v1/patients/search"] >= {
        Action.PATIENT_SEARCH,
        Action.PATIENT_READ,
    }


def test_the_scopes_table_is_documented() -> None:
    """docs/scopes.md lists every operation with exactly the actions of the table."""
    text = (ROOT / "docs" / "scopes.md").read_text(encoding="utf-8")
    rows = re.findall(r"^\| `(\w+) ([^`]+)` \| ([^|]*) \|$", text, flags=re.MULTILINE)
    documented = {
        f"{method} {path}": {a.strip(" `") for a in actions.split(",") if a.strip(" `—")}
        for method, path, actions in rows
    }
    expected = {name: {a.value for a in actions} for name, actions in OPERATIONS.items()}
    assert documented == expected
