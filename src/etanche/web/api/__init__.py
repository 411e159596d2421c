"""The JSON API (``/api/v1``): every operation of the CLI, behind a person.

The CLI is a client of this API; each route calls one operation of the service
and returns what it answered. Versioned by its prefix and described in the
OpenAPI document (``/openapi.json``, for logged-in people only).
"""

from fastapi import APIRouter

from etanche.web.api import (
    _access_report,
    _backups,
    _custody,
    _identity,
    _incidents,
    _keys,
    _leaks,
    _linkage,
    _migrations,
    _patients,
    _people,
    _retention,
    _rights,
    _supervision,
    _vault,
)

PREFIX = "/api/v1"

router = APIRouter()
for _module in (
    _custody,
    _people,
    _patients,
    _identity,
    _keys,
    _backups,
    _leaks,
    _incidents,
    _rights,
    _migrations,
    _supervision,
    _retention,
    _access_report,
    _linkage,
    _vault,
):
    router.include_router(_module.router)

__all__ = ["PREFIX", "router"]
