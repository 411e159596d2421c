"""Riding out a PostgreSQL failover: wait for a primary, retry what is safe to retry.

When the primary dies, pg_auto_failover promotes the secondary within seconds.
Three things make the service carry on by itself, without a restart:

- every new connection waits (up to the reconnect window) until one host of the
  multi-host URL accepts it as read-write (``target_session_attrs``), so work
  started during the failover waits instead of failing;
- pooled connections are pinged before use and dropped when their server died;
- a unit of work cut by the failure is run again on a fresh connection, but only
  when running it twice cannot apply it twice: reads, and writes whose
  client-generated ids let the retry first ask whether the cut commit landed
  (``landed``). A commit whose outcome is unknown is never blindly replayed.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Any, TypeVar

from sqlalchemy import Engine, event
from sqlalchemy import exc as sa_exc

from etanche.errors import VaultError

_T = TypeVar("_T")
PAUSE_S = 0.2
DEFAULT_WINDOW_S = 30.0  # pg_auto_failover's default timers fail over within ~30 s

logger = logging.getLogger("etanche.vault.reconnect")


def window_s() -> float:
    """How long an operation waits for a primary (ETANCHE_DB_RECONNECT_S)."""
    from etanche import settings

    return settings.current().db_reconnect_s


def is_disconnect(exc: BaseException) -> bool:
    """Whether ``exc`` is a lost or refused server connection (not a bad statement)."""
    if isinstance(exc, sa_exc.DBAPIError):
        if exc.connection_invalidated:
            return True
        exc = exc.orig if exc.orig is not None else exc
    try:
        import psycopg
    except ImportError:  # pragma: no cover - psycopg is a dependency
        return False
    return isinstance(exc, psycopg.OperationalError)


def wait_for_primary(engine: Engine, window: float) -> None:
    """Make each new connection of ``engine`` retry until a host takes it, or ``window``."""

    @event.listens_for(engine, "do_connect")
    def _connect(dialect: Any, _record: Any, cargs: Any, cparams: Any) -> Any:
        deadline = time.monotonic() + window
        while True:
            try:
                return dialect.connect(*cargs, **cparams)
            except Exception as exc:
                if not is_disconnect(exc) or time.monotonic() >= deadline:
                    raise
                time.sleep(PAUSE_S)


def retrying(
    work: Callable[[], _T],
    *,
    landed: Callable[[], _T | None] | None = None,
    window: float | None = None,
) -> _T:
    """Run ``work``; on a lost connection run it again on a fresh one, within the window.

    ``landed`` (for writes) is asked before each new attempt: a result other
    than None means the cut attempt had committed, and it is returned instead of
    writing again. Without ``landed``, ``work`` must be safe to repeat (a read).
    """
    deadline: float | None = None  # counted from the first loss
    limit = 0.0
    while True:
        try:
            if deadline is not None and landed is not None:
                done = landed()
                if done is not None:
                    return done
            return work()
        except sa_exc.DBAPIError as exc:
            if not is_disconnect(exc):
                raise
            if deadline is None:
                limit = window_s() if window is None else window
                deadline = time.monotonic() + limit
            if time.monotonic() >= deadline:
                raise VaultError(
                    f"database: connection lost and no primary answered within {limit:g} s"
                ) from None
            logger.warning("database connection lost (%s); retrying", type(exc.orig).__name__)
            time.sleep(PAUSE_S)
