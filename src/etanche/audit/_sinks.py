"""Where alerts go besides the alerts table: a log file, a webhook, e-mail.

Every sink gets the same alert, which holds ids and counts only, so nothing
personal leaves the vault through supervision. ``send`` raises ``OSError`` (or
a subclass: ``urllib.error.URLError``, ``smtplib.SMTPException``) on failure;
the engine catches it, keeps the alert and reports the failure.
"""

from __future__ import annotations

import ipaddress
import smtplib
import ssl
import urllib.error
import urllib.parse
import urllib.request
from abc import ABC, abstractmethod
from collections.abc import Mapping, Sequence
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from pathlib import Path
from typing import TYPE_CHECKING, Any

from etanche._files import open_private
from etanche.audit._rules import Severity, SupervisionConfig
from etanche.crypto import sign_payload
from etanche.errors import ConfigError
from etanche.settings import secret_from_environment

if TYPE_CHECKING:
    from etanche.audit._alerts import Alert

__all__ = ["LogFileSink", "Sink", "SmtpSink", "WebhookSink", "build_sinks"]

SIGNATURE_HEADER = "X-Etanche-Signature"


class Sink(ABC):
    """A destination for new alerts; ``min_severity`` filters what it receives."""

    def __init__(self, name: str, min_severity: Severity = Severity.LOW) -> None:
        self.name = name
        self.min_severity = min_severity

    def accepts(self, alert: Alert) -> bool:
        return alert.severity.rank >= self.min_severity.rank

    @abstractmethod
    def send(self, alert: Alert) -> None:
        """Deliver one alert or raise ``OSError``."""


class LogFileSink(Sink):
    """JSON lines appended to a file readable by its owner only (0600)."""

    def __init__(
        self, path: str | Path, *, name: str = "logfile", min_severity: Severity = Severity.LOW
    ) -> None:
        super().__init__(name, min_severity)
        self.path = Path(path)

    def send(self, alert: Alert) -> None:
        with open_private(self.path, "ab") as handle:  # tightens a file created wider
            handle.write(alert.to_json() + b"\n")  # flushed in one write: no interleaving


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    """A redirected webhook is a misconfiguration, not a reason to re-send elsewhere."""

    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


class WebhookSink(Sink):
    """HTTP POST of the alert JSON, signed ``X-Etanche-Signature: sha256=<hex HMAC>``."""

    def __init__(
        self,
        url: str,
        secret: bytes | str,
        *,
        timeout: float = 5.0,
        name: str = "webhook",
        min_severity: Severity = Severity.LOW,
    ) -> None:
        super().__init__(name, min_severity)
        parts = urllib.parse.urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError("url: expected an http:// or https:// URL with a host")
        if timeout <= 0:
            raise ValueError("timeout: must be positive")
        sign_payload(secret, b"")  # refuses a short secret now, not at the first alert
        self.url = url
        self._secret = secret
        self.timeout = timeout
        self._opener = urllib.request.build_opener(_NoRedirect)

    def send(self, alert: Alert) -> None:
        body = alert.to_json()
        request = urllib.request.Request(  # noqa: S310 (scheme checked in __init__)
            self.url,
            data=body,
            method="POST",
            headers={
                "Content-Type": "application/json; charset=utf-8",
                "User-Agent": "etanche-alerts/1",
                SIGNATURE_HEADER: sign_payload(self._secret, body),
            },
        )
        try:
            with self._opener.open(request, timeout=self.timeout) as response:
                status = int(response.status)
        except urllib.error.HTTPError as exc:
            raise OSError(f"webhook {self.name}: HTTP {exc.code}") from None
        if not 200 <= status < 300:
            raise OSError(f"webhook {self.name}: HTTP {status}")


class SmtpSink(Sink):
    """One e-mail per alert, in English, with ids and counts only."""

    def __init__(
        self,
        host: str,
        sender: str,
        recipients: Sequence[str],
        *,
        port: int = 25,
        starttls: bool = False,
        username: str | None = None,
        password: str | None = None,
        cafile: str | Path | None = None,
        timeout: float = 10.0,
        name: str = "smtp",
        min_severity: Severity = Severity.LOW,
    ) -> None:
        super().__init__(name, min_severity)
        if not recipients:
            raise ValueError("to: at least one recipient")
        if (username is None) != (password is None):
            raise ValueError("username and password go together")
        if username is not None and not starttls and not _is_loopback(host):
            raise ValueError("username: login without starttls would send the password in clear")
        self.host = host
        self.port = port
        self.sender = sender
        self.recipients = tuple(recipients)
        self.starttls = starttls
        self._username = username
        self._password = password
        self.cafile = str(cafile) if cafile is not None else None
        self.timeout = timeout

    def message(self, alert: Alert) -> EmailMessage:
        """The e-mail for ``alert`` (public so its wording can be checked)."""
        msg = EmailMessage()
        msg["Subject"] = f"[Étanche] {alert.severity.value.upper()} alert: {alert.rule}"
        msg["From"] = self.sender
        msg["To"] = ", ".join(self.recipients)
        msg["Date"] = formatdate(usegmt=True)
        msg["Message-ID"] = make_msgid(domain=self.sender.rpartition("@")[2] or None)
        msg["X-Etanche-Alert-Id"] = alert.id
        seq = alert.event_seq if alert.event_seq is not None else "-"
        msg.set_content(
            f"Étanche raised a {alert.severity.value} alert.\n\n"
            f"Rule:       {alert.rule}\n"
            f"Severity:   {alert.severity.value}\n"
            f"Raised at:  {alert.created_at:%Y-%m-%d %H:%M:%S} UTC\n"
            f"Actor:      {alert.actor or '-'}\n"
            f"Event seq:  {seq}\n"
            f"Alert id:   {alert.id}\n\n"
            f"{alert.summary}\n\n"
            "Review it with `etanche alerts list` and acknowledge it with\n"
            f'`etanche alerts ack {alert.id} --note "what was done"`.\n\n'
            "This message carries no patient data: identifiers and counts only.\n"
        )
        return msg

    def send(self, alert: Alert) -> None:
        msg = self.message(alert)
        with smtplib.SMTP(self.host, self.port, timeout=self.timeout) as smtp:
            smtp.ehlo()
            if self.starttls:
                smtp.starttls(context=ssl.create_default_context(cafile=self.cafile))
                smtp.ehlo()
            if self._username is not None and self._password is not None:
                smtp.login(self._username, self._password)
            smtp.send_message(msg)


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


# -- building sinks from the ``sinks:`` section ----------------------------------

_COMMON = ("type", "name", "min_severity")
_KEYS: dict[str, tuple[str, ...]] = {
    "logfile": ("path",),
    "webhook": ("url", "secret_env", "timeout"),
    "smtp": (
        "host",
        "port",
        "from",
        "to",
        "starttls",
        "username",
        "password_env",
        "cafile",
        "timeout",
    ),
}


class _Entry:
    """One ``sinks:`` entry with typed getters that name the field in their errors."""

    def __init__(self, raw: Mapping[str, Any], entry: str, source: str) -> None:
        self.raw, self.entry, self.source = raw, entry, source

    def error(self, field: str | None, reason: str) -> ConfigError:
        return ConfigError(self.source, self.entry, field, reason)

    def text(self, field: str, *, required: bool = True) -> str | None:
        value = self.raw.get(field)
        if value is None:
            if required:
                raise self.error(field, "missing")
            return None
        if not isinstance(value, str) or not value.strip():
            raise self.error(field, "expected a non-empty string")
        return value.strip()

    def number(self, field: str, default: float) -> float:
        value = self.raw.get(field, default)
        if isinstance(value, bool) or not isinstance(value, int | float) or value <= 0:
            raise self.error(field, "expected a positive number of seconds")
        return float(value)

    def flag(self, field: str, default: bool) -> bool:
        value = self.raw.get(field, default)
        if not isinstance(value, bool):
            raise self.error(field, "expected true or false")
        return value

    def env(self, field: str) -> str | None:
        name = self.text(field, required=False)
        if name is None:
            return None
        value = secret_from_environment(name)
        if not value:
            raise self.error(field, f"environment variable {name} is not set")
        return value


def build_sinks(config: SupervisionConfig) -> list[Sink]:
    """The sinks of a loaded rules file, validated; errors name the sink and field."""
    sinks: list[Sink] = []
    names: set[str] = set()
    for number, raw in enumerate(config.sinks, 1):
        label = raw.get("name")
        entry = _Entry(raw, f"sink {label if isinstance(label, str) else number}", config.source)
        kind = raw.get("type")
        if kind not in _KEYS:
            raise entry.error("type", f"expected one of {list(_KEYS)}, got {kind!r}"[:120])
        for key in raw:
            if key not in (*_COMMON, *_KEYS[kind]):
                raise entry.error(
                    str(key), f"unknown field; expected some of {[*_COMMON, *_KEYS[kind]]}"
                )
        name = entry.text("name", required=False) or (
            kind if kind not in names else f"{kind}-{number}"
        )
        if name in names:
            raise entry.error("name", f"another sink is already named {name}")
        names.add(name)
        level_raw = raw.get("min_severity", Severity.LOW.value)
        try:
            level = Severity(str(level_raw).lower())
        except ValueError:
            raise entry.error(
                "min_severity", f"expected one of {[s.value for s in Severity]}"
            ) from None
        sinks.append(_build_one(kind, entry, name, level, config.base_dir))
    return sinks


def _build_one(kind: str, e: _Entry, name: str, level: Severity, base: Path | None) -> Sink:
    if kind == "logfile":
        path = Path(str(e.text("path"))).expanduser()
        if not path.is_absolute() and base is not None:
            path = base / path
        return LogFileSink(path, name=name, min_severity=level)
    if kind == "webhook":
        url = str(e.text("url"))
        parts = urllib.parse.urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise e.error("url", "expected an http:// or https:// URL with a host")
        if e.raw.get("secret_env") is None:
            raise e.error("secret_env", "missing (the environment variable with the secret)")
        secret = str(e.env("secret_env"))
        timeout = e.number("timeout", 5.0)
        try:
            return WebhookSink(url, secret, timeout=timeout, name=name, min_severity=level)
        except ValueError as exc:  # the secret is too short
            raise e.error("secret_env", str(exc)) from None
    host = str(e.text("host"))
    port = e.raw.get("port", 25)
    if isinstance(port, bool) or not isinstance(port, int) or not 1 <= port <= 65535:
        raise e.error("port", "expected a port number 1-65535")
    sender = str(e.text("from"))
    if "@" not in sender:
        raise e.error("from", "expected an e-mail address")
    to = e.raw.get("to")
    if isinstance(to, str):
        to = [to]
    if not isinstance(to, list) or not to or not all(isinstance(a, str) and "@" in a for a in to):
        raise e.error("to", "expected a list of e-mail addresses")
    starttls = e.flag("starttls", False)
    username = e.text("username", required=False)
    password = e.env("password_env")
    if (username is None) != (password is None):
        raise e.error(
            "password_env" if username else "username", "username and password_env go together"
        )
    if username is not None and not starttls and not _is_loopback(host):
        raise e.error("starttls", "must be true to log in: the password would cross in clear")
    cafile = e.text("cafile", required=False)
    if cafile is not None and not Path(cafile).expanduser().is_file():
        raise e.error("cafile", "file not found")
    return SmtpSink(
        host,
        sender,
        to,
        port=port,
        starttls=starttls,
        username=username,
        password=password,
        cafile=Path(cafile).expanduser() if cafile else None,
        timeout=e.number("timeout", 10.0),
        name=name,
        min_severity=level,
    )
