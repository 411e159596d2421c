"""No answer leaves the server before the audit events of its request are durable.

A buffered trail (``etanche serve``) queues events and commits them in batches;
an answer sent before that commit would acknowledge an operation whose event a
crash or a failover could still lose. Every request therefore waits, when its
handler starts the answer, until everything recorded so far is committed (on
PostgreSQL with a synchronous standby: on both replicas). Concurrent requests
share the commit.

A plain ASGI middleware: it holds the response's first message (status and
headers) until the trail is settled, then lets the answer go, or replaces it
with a 503 if the trail failed. The request waits on the event loop, woken by
the trail's writer (``Core.settled``), not in a thread of the pool; Starlette's
``BaseHTTPMiddleware`` would cost a task group and a memory stream per request
for the same guarantee.
"""

from __future__ import annotations

import json
import logging

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from etanche.errors import EtancheError

logger = logging.getLogger("etanche.web")

_WITHHELD = json.dumps({"error": "audit log unavailable: the operation is not confirmed"}).encode()


class DurableAnswers:
    """Settle the service's audit trail before the response goes out."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"].startswith("/static/"):
            await self.app(scope, receive, send)
            return
        state = getattr(scope["app"].state, "etanche", None) if "app" in scope else None
        if state is None:
            await self.app(scope, receive, send)
            return
        withheld = False

        async def settled_send(message: Message) -> None:
            nonlocal withheld
            if withheld:
                return  # the rest of an answer replaced by the 503
            if message["type"] == "http.response.start":
                try:
                    await state.core.settled()
                except EtancheError as exc:  # the trail failed closed: the answer is withheld
                    logger.warning(
                        "audit events not committed (%s); answer withheld", type(exc).__name__
                    )
                    withheld = True
                    await _unavailable(send)
                    return
            await send(message)

        await self.app(scope, receive, settled_send)


async def _unavailable(send: Send) -> None:
    """503 with a JSON reason: the operation is not confirmed."""
    headers = [
        (b"content-type", b"application/json"),
        (b"content-length", str(len(_WITHHELD)).encode()),
    ]
    await send({"type": "http.response.start", "status": 503, "headers": headers})
    await send({"type": "http.response.body", "body": _WITHHELD})
