"""Route lookup by the path's first segment: a request is matched against its few routes.

FastAPI tries every route of the app in order, and a request to ``/patients/…``
walked the few hundred routes of the API and of every page module, twice (once
to find the route, once to hand it over). Only routes whose path starts with the
same first segment (``patients``, ``api``, ``fhir``…) can match a path, so each
segment gets a router of its own holding just those routes, in the same order,
under the same included routers (prefixes, dependencies, scopes): the route
chosen, its dependencies and its OPERATIONS row are the same objects. A
segment no route names literally (and lifespan events) go to the full router,
as before; so do routes whose first segment is a parameter, which every
segment's router also keeps.
"""

from __future__ import annotations

import copy
from collections.abc import Iterable

from fastapi import FastAPI
from fastapi.routing import APIRouter
from starlette._utils import get_route_path
from starlette.routing import BaseRoute, Host
from starlette.types import ASGIApp, Receive, Scope, Send

try:  # FastAPI >= 0.150 keeps included routers as routes of their own
    from fastapi.routing import _IncludedRouter
except ImportError:  # pragma: no cover - older FastAPI lists routes flat
    _IncludedRouter = None  # type: ignore[assignment,misc]

_ANY = "{"  # a first segment that is a parameter matches any segment


def _segment(path: str) -> str:
    """``/patients/x`` -> ``patients``; a parameter segment -> ``{``."""
    first = path[1:].split("/", 1)[0] if path.startswith("/") else path.split("/", 1)[0]
    return _ANY if "{" in first else first


def _segments(route: BaseRoute, prefix: str) -> set[str]:
    """The first segments of every path ``route`` can answer (``{`` if any)."""
    if _IncludedRouter is not None and isinstance(route, _IncludedRouter):
        inner = prefix + route.include_context.prefix
        found: set[str] = set()
        for child in route.original_router.routes:
            found |= _segments(child, inner)
        return found
    path = getattr(route, "path", None)
    if isinstance(route, Host) or not isinstance(path, str):
        return {_ANY}
    return {_segment(prefix + path)}


def _kept(routes: Iterable[BaseRoute], segment: str, prefix: str) -> list[BaseRoute]:
    """``routes`` that may match a path of ``segment``, nested routers filtered alike."""
    kept: list[BaseRoute] = []
    for route in routes:
        if _IncludedRouter is not None and isinstance(route, _IncludedRouter):
            inner = prefix + route.include_context.prefix
            children = _kept(route.original_router.routes, segment, inner)
            if children:
                kept.append(
                    _IncludedRouter(
                        original_router=_with_routes(route.original_router, children),
                        include_context=route.include_context,
                    )
                )
        elif _segments(route, prefix) & {segment, _ANY}:
            kept.append(route)
    return kept


def _with_routes(router: APIRouter, routes: list[BaseRoute]) -> APIRouter:
    """A copy of ``router`` (its settings) holding only ``routes``."""
    narrow = copy.copy(router)
    narrow.routes = routes
    narrow.middleware_stack = narrow.app
    return narrow


class PrefixDispatch:
    """The app router's entry: hand an HTTP request to its segment's router."""

    def __init__(self, app: FastAPI, full: ASGIApp) -> None:
        self.router, self.full = app.router, full
        self._built_for = -1
        self._by_segment: dict[str, APIRouter] = {}

    def _table(self) -> dict[str, APIRouter]:
        """Built once, again only if top-level routes were added since."""
        routes = self.router.routes
        if len(routes) != self._built_for:
            names = set().union(*(_segments(r, "") for r in routes)) - {_ANY}
            self._by_segment = {
                name: _with_routes(self.router, _kept(routes, name, "")) for name in names
            }
            self._built_for = len(routes)
        return self._by_segment

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            narrow = self._table().get(_segment(get_route_path(scope)))
            if narrow is not None:
                scope.setdefault("router", self.router)  # url_for still sees every route
                await narrow.app(scope, receive, send)
                return
        await self.full(scope, receive, send)


def by_prefix(app: FastAPI) -> None:
    """Route ``app``'s requests by first segment (call once its routes are included)."""
    if _IncludedRouter is None:  # pragma: no cover - older FastAPI: flat list, kept as is
        return
    app.router.middleware_stack = PrefixDispatch(app, app.router.middleware_stack)
