"""No answer leaves the server before the audit events of its request are durable.

A buffered trail (``etanche serve``) queues events and commits them in batches;
an answer sent before that commit would acknowledge an operation whose event a
crash or a failover could still lose. Every request therefore waits, after its
handler, until everything recorded so far is committed (on PostgreSQL with a
synchronous standby: on both replicas). Concurrent requests share the commit.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable

from fastapi import Request, Response
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool
from starlette.middleware.base import BaseHTTPMiddleware

from etanche.errors import EtancheError

logger = logging.getLogger("etanche.web")


class DurableAnswers(BaseHTTPMiddleware):
    """Settle the service's audit trail before the response goes out."""

    async def dispatch(
        self, request: Request, call_next: Callable[[Request], Awaitable[Response]]
    ) -> Response:
        response = await call_next(request)
        state = getattr(request.app.state, "etanche", None)
        if state is None or request.url.path.startswith("/static/"):
            return response
        try:
            await run_in_threadpool(state.core.settle)
        except EtancheError as exc:  # the trail failed closed: the answer is withheld
            logger.warning("audit events not committed (%s); answer withheld", type(exc).__name__)
            return JSONResponse(
                {"error": "audit log unavailable: the operation is not confirmed"},
                status_code=503,
            )
        return response
