"""The witness's HTTP endpoint: ``POST /add-checkpoint`` (tlog-witness), ``GET /`` (its key).

The standard library's threading server: a witness takes a few requests a
second, and the check-and-persist section is serialised by the witness lock
anyway. Keep-alive (HTTP/1.1) spares the log a connection per head.
"""

from __future__ import annotations

import http.server
import logging
import threading
from typing import Any

from etanche.witness._check import MAX_BODY, Answer, CheckpointWitness

logger = logging.getLogger("etanche.witness")


def make_server(
    witness: CheckpointWitness, host: str, port: int
) -> http.server.ThreadingHTTPServer:
    """A server bound to ``host:port`` (port 0: any free port), not yet serving."""

    class Handler(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        server_version = "etanche-witness"
        disable_nagle_algorithm = True  # headers and body leave at once: no 40 ms ACK wait

        def do_POST(self) -> None:
            if self.path.rstrip("/").rsplit("/", 1)[-1] != "add-checkpoint":
                self._answer(Answer.text(404, "not found"))
                return
            try:
                length = int(self.headers.get("Content-Length", ""))
            except ValueError:
                self._answer(Answer.text(411, "Content-Length required"))
                return
            if not 0 <= length <= MAX_BODY:
                self._answer(Answer.text(413, "request too large"))
                return
            self._answer(witness.add_checkpoint(self.rfile.read(length)))

        def do_GET(self) -> None:
            if self.path not in ("/", ""):
                self._answer(Answer.text(404, "not found"))
                return
            self._answer(Answer.text(200, witness.folder.key.text()))

        def _answer(self, answer: Answer) -> None:
            self.send_response(answer.status)
            self.send_header("Content-Type", answer.content_type)
            self.send_header("Content-Length", str(len(answer.body)))
            self.end_headers()
            self.wfile.write(answer.body)

        def log_message(self, fmt: str, *args: Any) -> None:
            logger.info("witness %s", fmt % args)

    server = http.server.ThreadingHTTPServer((host, port), Handler)
    server.daemon_threads = True
    return server


def serve_in_thread(server: http.server.ThreadingHTTPServer) -> threading.Thread:
    """Serve in a background thread (tests, benchmarks); ``server.shutdown()`` stops it."""
    thread = threading.Thread(target=server.serve_forever, name="etanche-witness", daemon=True)
    thread.start()
    return thread
