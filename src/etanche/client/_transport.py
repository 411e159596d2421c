"""JSON over HTTP to the service, on a TCP port or a Unix socket (``unix:/path``).

The standard library's ``http.client`` keeps a command's start fast. Errors come
back as ``{"error": {"type", "exit", "message"}}`` and are raised again here as
the same ``etanche.errors`` class, so the CLI prints one line and the documented
exit code whether the failure happened in the client or in the service.
"""

from __future__ import annotations

import http.client
import json
import socket
from collections.abc import Iterator, Mapping
from typing import Any
from urllib.parse import quote, urlencode, urlsplit

from etanche import errors
from etanche.errors import EtancheError, ServiceUnavailable

API = "/api/v1"
_LOOPBACK = frozenset({"127.0.0.1", "localhost", "::1"})
TIMEOUT_S = 3600.0  # long operations (rotations, packages) stream progress lines


class _UnixConnection(http.client.HTTPConnection):
    """An HTTP connection over a Unix domain socket (the service's 0600 socket)."""

    def __init__(self, path: str, timeout: float) -> None:
        super().__init__("localhost", timeout=timeout)
        self._path = path

    def connect(self) -> None:
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        sock.settimeout(self.timeout)
        sock.connect(self._path)
        self.sock = sock


def error_from(payload: Mapping[str, Any]) -> EtancheError:
    """The error the service reported, as the same class when it is one of ours."""
    body = payload.get("error")
    if not isinstance(body, Mapping):
        return ServiceUnavailable("service: answered with an unexpected error body")
    message = str(body.get("message") or "refused")
    cls = getattr(errors, str(body.get("type", "")), None)
    if not (isinstance(cls, type) and issubclass(cls, EtancheError)):
        cls = _by_exit(_int(body.get("exit")))
    # Built without its own constructor: some take structured fields (ValidationError);
    # the message the service composed is all the client prints.
    error = cls.__new__(cls)
    Exception.__init__(error, message)
    return error


def _int(value: object) -> int:
    return value if isinstance(value, int) else 1


def _by_exit(code: int) -> type[EtancheError]:
    for cls, exit_code in errors.EXIT_CODES.items():
        if exit_code == code:
            return cls
    return EtancheError


class ServiceClient:
    """One person's requests to the service; ``token`` is a session or an API token."""

    def __init__(self, address: str, token: str | None = None, *, timeout: float = TIMEOUT_S):
        self.address = address
        self.token = token
        self.timeout = timeout
        parts = urlsplit(address)
        if parts.scheme == "unix":
            self._unix: str | None = parts.path or address.split(":", 1)[1]
            self._host = ""
            self._port: int | None = None
            self._tls = False
        elif parts.scheme in ("http", "https") and parts.hostname:
            if parts.scheme == "http" and parts.hostname not in _LOOPBACK:
                # passwords, TOTP codes, tokens and custodian shares travel in these requests
                raise errors.UsageError(
                    "ETANCHE_SERVICE: plain http only to this machine (127.0.0.1, localhost, "
                    "::1); use https:// to reach another host"
                )
            self._unix = None
            self._host = parts.hostname
            self._port = parts.port
            self._tls = parts.scheme == "https"
        else:
            raise errors.UsageError(
                "ETANCHE_SERVICE: expected http://host:port, https://host:port or unix:/path"
            )

    # -- requests --------------------------------------------------------------
    def get(self, path: str, **query: Any) -> Any:
        return self.call("GET", path, query=query)

    def post(self, path: str, body: Mapping[str, Any] | None = None) -> Any:
        return self.call("POST", path, body=body)

    def call(
        self,
        method: str,
        path: str,
        *,
        body: Mapping[str, Any] | None = None,
        query: Mapping[str, Any] | None = None,
    ) -> Any:
        """One request; returns the decoded JSON answer or raises the service's error."""
        response, connection = self._send(method, path, body, query)
        try:
            raw = response.read()
        finally:
            connection.close()
        payload = _decode(raw)
        if response.status >= 400 or (isinstance(payload, Mapping) and "error" in payload):
            raise error_from(payload if isinstance(payload, Mapping) else {})
        return payload

    def stream(
        self, method: str, path: str, body: Mapping[str, Any] | None = None
    ) -> Iterator[Mapping[str, Any]]:
        """A long operation: one JSON object per line (progress, then a result or an error)."""
        response, connection = self._send(method, path, body, None)
        try:
            if response.status >= 400:
                raise error_from(_decode(response.read()))
            for line in response:
                if not line.strip():
                    continue
                item = _decode(line)
                if not isinstance(item, Mapping):
                    raise ServiceUnavailable("service: sent an unexpected progress line")
                if "error" in item:
                    raise error_from(item)
                yield item
        finally:
            connection.close()

    # -- plumbing --------------------------------------------------------------
    def _connection(self) -> http.client.HTTPConnection:
        if self._unix is not None:
            return _UnixConnection(self._unix, self.timeout)
        if self._tls:
            return http.client.HTTPSConnection(self._host, self._port, timeout=self.timeout)
        return http.client.HTTPConnection(self._host, self._port, timeout=self.timeout)

    def _send(
        self,
        method: str,
        path: str,
        body: Mapping[str, Any] | None,
        query: Mapping[str, Any] | None,
    ) -> tuple[http.client.HTTPResponse, http.client.HTTPConnection]:
        target = API + quote(path, safe="/-_.~")
        given = {k: v for k, v in (query or {}).items() if v is not None}
        if given:
            target += "?" + urlencode(given, doseq=True)
        headers = {"Accept": "application/json", "User-Agent": "etanche-cli"}
        data = None
        if body is not None:
            data = json.dumps(body, ensure_ascii=False).encode("utf-8")
            headers["Content-Type"] = "application/json"
        if self.token:
            headers["Authorization"] = f"Bearer {self.token}"
        connection = self._connection()
        try:
            connection.request(method, target, body=data, headers=headers)
            return connection.getresponse(), connection
        except (OSError, http.client.HTTPException) as exc:
            connection.close()
            raise ServiceUnavailable(
                f"service: no answer at {self.address} ({type(exc).__name__}); "
                "is `etanche serve` running? (ETANCHE_SERVICE sets the address)"
            ) from None


def _decode(raw: bytes) -> Any:
    try:
        return json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        raise ServiceUnavailable("service: answered something that is not JSON") from None


def connect(address: str, token: str | None = None) -> ServiceClient:
    """A client of the service at ``address`` acting with ``token``."""
    return ServiceClient(address, token)
