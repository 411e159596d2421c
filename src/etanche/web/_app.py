"""The FastAPI application: pages for lab staff and the DPO, and the FHIR API.

A thin adapter: every decision, audit event and alert comes from the service
and access rooms. Routers live in their own modules (pages, FHIR).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import Depends, FastAPI, Request
from fastapi.exception_handlers import request_validation_exception_handler
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates
from starlette.exceptions import HTTPException as StarletteHTTPException

from etanche.errors import (
    AccessError,
    DuplicateUnconfirmed,
    EtancheError,
    PermissionDenied,
    ServiceError,
    SessionExpired,
    UsageError,
    exit_code_for,
)
from etanche.web._auth import CsrfRejected, LoginRequired, any_person
from etanche.web._config import WebConfig
from etanche.web._durable import DurableAnswers
from etanche.web._operations import bind
from etanche.web._routing import by_prefix
from etanche.web._security import SecurityHeaders
from etanche.web._state import STATIC, TEMPLATES, Person, ServerState

# Routes reachable without a person: everything else depends on page_person,
# form_person or api_person (tests/web check every route of the OpenAPI document).
PUBLIC_PATHS = (
    "/login",
    "/login/enrol",
    "/health",
    "/static",
    "/fhir/metadata",
    "/api/v1/status",
    "/api/v1/custody/unseal",
    "/api/v1/custody/approve",
    "/api/v1/login",
)


def create_app(config: WebConfig) -> FastAPI:
    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        templates = Jinja2Templates(directory=str(TEMPLATES))
        templates.env.auto_reload = False  # shipped templates: no stat() of each per page
        state = ServerState(config, templates=templates)
        app.state.etanche = state
        try:
            yield
        finally:
            state.close()

    app = FastAPI(
        title="Étanche",
        summary="Encrypted, audited patient data for a network of medical biology labs",
        version="0.1.0",
        lifespan=lifespan,
        # The API description is for people of the network only (F6): no public docs.
        openapi_url=None,
        docs_url=None,
        redoc_url=None,
    )

    @app.get("/openapi.json", include_in_schema=False)
    def openapi_document(person: Person = Depends(any_person)) -> JSONResponse:
        """The OpenAPI document, for a logged-in person or a bearer token."""
        return JSONResponse(app.openapi())

    app.add_middleware(DurableAnswers)
    app.add_middleware(SecurityHeaders)
    app.mount("/static", StaticFiles(directory=str(STATIC)), name="static")

    @app.get("/health", include_in_schema=True, tags=["health"])
    def health() -> dict[str, str]:
        """Liveness for a load balancer: says nothing about the data."""
        return {"status": "ok"}

    _include_routers(app)
    app.state.operations = bind(app)  # every API route has its scopes, or no server
    _error_handlers(app)
    by_prefix(app)  # a request is matched against its first segment's routes only
    return app


def _include_routers(app: FastAPI) -> None:
    from etanche.web import _pages, api, fhir

    app.include_router(api.router, prefix=api.PREFIX)
    app.include_router(_pages.router)
    app.include_router(fhir.router, prefix="/fhir")


def _wants_html(request: Request) -> bool:
    return not request.url.path.startswith(("/fhir", "/api/")) and "text/html" in (
        request.headers.get("accept", "text/html")
    )


def _is_api(request: Request) -> bool:
    return request.url.path.startswith("/api/")


def _api_error(exc: EtancheError, status: int) -> JSONResponse:
    from etanche.web.api._common import error_body

    return JSONResponse(error_body(exc), status_code=status)


def _error_handlers(app: FastAPI) -> None:
    @app.exception_handler(LoginRequired)
    async def login_required(request: Request, exc: LoginRequired) -> Response:
        if _is_api(request):
            return _api_error(SessionExpired(str(exc)), 401)
        if request.url.path.startswith("/fhir"):
            from etanche.web.fhir import operation_outcome

            return operation_outcome(401, "login", str(exc))
        if _wants_html(request):
            return RedirectResponse("/login", status_code=303)
        return JSONResponse({"error": str(exc)}, status_code=401)

    @app.exception_handler(RequestValidationError)
    async def invalid_request(request: Request, exc: RequestValidationError) -> Response:
        problems = exc.errors()
        first = problems[0] if problems else {}
        where = ".".join(str(p) for p in first.get("loc", ()) if p != "body") or "request"
        error = UsageError(f"{where}: {first.get('msg', 'invalid')}")
        if _is_api(request):
            return _api_error(error, 400)
        return await request_validation_exception_handler(request, exc)

    @app.exception_handler(CsrfRejected)
    async def csrf_rejected(request: Request, exc: CsrfRejected) -> Response:
        if _wants_html(request):
            return _error_page(request, 403)
        return JSONResponse({"error": str(exc)}, status_code=403)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> Response:
        if _is_api(request):
            error = (
                UsageError(f"api: {exc.detail}")
                if exc.status_code < 500
                else EtancheError("api: internal error")
            )
            return _api_error(error, exc.status_code)
        if request.url.path.startswith("/fhir"):
            from etanche.web.fhir import operation_outcome

            return operation_outcome(exc.status_code, "http", str(exc.detail))
        if _wants_html(request):
            return _error_page(request, exc.status_code)
        return JSONResponse({"error": str(exc.detail)}, status_code=exc.status_code)

    @app.exception_handler(EtancheError)
    async def etanche_error(request: Request, exc: EtancheError) -> Response:
        status = _status_for(exc)
        if _is_api(request):
            return _api_error(exc, status)
        if request.url.path.startswith("/fhir"):
            from etanche.web.fhir import operation_outcome

            return operation_outcome(status, type(exc).__name__, str(exc))
        state: ServerState = request.app.state.etanche
        return state.templates.TemplateResponse(
            request,
            "error.html",
            {"status": status, "message": str(exc)},
            status_code=status,
        )


def _error_page(request: Request, status: int) -> Response:
    state: ServerState = request.app.state.etanche
    return state.templates.TemplateResponse(
        request, "error.html", {"status": status, "message": ""}, status_code=status
    )


def _status_for(exc: EtancheError) -> int:
    if isinstance(exc, ServiceError):
        return 503
    if isinstance(exc, PermissionDenied):
        return 403
    if isinstance(exc, DuplicateUnconfirmed):
        return 409
    if isinstance(exc, AccessError):
        return 401
    return {2: 400, 3: 422, 4: 404, 5: 500, 6: 422, 8: 409}.get(exit_code_for(exc), 500)
