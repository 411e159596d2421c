"""What every API route shares: the person asking and long operations as NDJSON."""

from __future__ import annotations

import json
import queue
import threading
from collections.abc import Callable, Iterator
from typing import Any

from fastapi.responses import StreamingResponse

from etanche.errors import EtancheError, exit_code_for

Progress = Callable[[int], None]
_DONE = object()


def error_body(exc: EtancheError) -> dict[str, Any]:
    """The one shape of an error, read back by the client as the same class."""
    return {"error": {"type": type(exc).__name__, "exit": exit_code_for(exc), "message": str(exc)}}


def streamed(work: Callable[[Progress], dict[str, Any]]) -> StreamingResponse:
    """Run ``work`` in a thread; stream ``{"done": n}`` lines, then its result or error.

    A long operation (a key rotation, a package) tells its client how far it got
    without holding the answer until the end.
    """
    lines: queue.Queue[object] = queue.Queue(maxsize=1024)

    def progress(done: int) -> None:
        lines.put({"done": done})

    def run() -> None:
        try:
            lines.put({"result": work(progress)})
        except EtancheError as exc:
            lines.put(error_body(exc))
        except Exception as exc:  # a bug: one line, no data that may be personal
            lines.put({"error": {"type": "EtancheError", "exit": 1, "message": type(exc).__name__}})
        finally:
            lines.put(_DONE)

    threading.Thread(target=run, name="etanche-api-stream", daemon=True).start()

    def body() -> Iterator[bytes]:
        while True:
            item = lines.get()
            if item is _DONE:
                return
            yield json.dumps(item, ensure_ascii=False).encode("utf-8") + b"\n"

    return StreamingResponse(body(), media_type="application/x-ndjson")
