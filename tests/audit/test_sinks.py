"""Sinks: a 0600 JSON-lines file, a signed webhook, e-mail; every one on loopback only."""

from __future__ import annotations

import ipaddress
import json
import socket
import stat
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email import message_from_bytes
from email.message import Message
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, AuthResult, Envelope, LoginPassword, Session
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from sqlalchemy import Engine, create_engine

from etanche.audit._alerts import Alert, AlertEngine
from etanche.audit._events import AuditEvent, Outcome
from etanche.audit._rules import Severity, load_rules, read_config
from etanche.audit._schema import metadata
from etanche.audit._sinks import LogFileSink, SmtpSink, WebhookSink, build_sinks
from etanche.crypto import sign_payload, verify_payload
from etanche.errors import ConfigError

LOOPBACK = "127.0.0.1"
SECRET = "s3cret-shared-with-the-soc-0123456789"
T0 = datetime(2024, 4, 2, 9, 0, tzinfo=UTC)


def an_alert(**changes: Any) -> Alert:
    values: dict[str, Any] = {
        "id": "a" * 32,
        "rule": "bulk_reads",
        "severity": Severity.HIGH,
        "created_at": T0,
        "actor": "alice",
        "summary": "alice read or searched 51 distinct patients within 1h (threshold 50).",
        "event_seq": 50,
        "dedup_key": "bulk_reads|alice|20240402T090000000000Z",
    }
    values.update(changes)
    return Alert(**values)


@pytest.fixture(autouse=True)
def _no_proxy(monkeypatch: pytest.MonkeyPatch) -> None:
    """Loopback traffic must never be sent to a proxy from the environment."""
    for name in ("http_proxy", "https_proxy", "HTTP_PROXY", "HTTPS_PROXY"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("no_proxy", "*")


# -- log file -----------------------------------------------------------------------


def test_log_file_is_json_lines_readable_by_its_owner_only(tmp_path: Path) -> None:
    path = tmp_path / "logs" / "alerts.jsonl"
    sink = LogFileSink(path)
    sink.send(an_alert())
    sink.send(an_alert(id="b" * 32, rule="export", severity=Severity.MEDIUM))
    lines = [json.loads(line) for line in path.read_text("utf-8").splitlines()]
    assert [(d["id"], d["rule"], d["severity"]) for d in lines] == [
        ("a" * 32, "bulk_reads", "high"),
        ("b" * 32, "export", "medium"),
    ]
    assert lines[0]["created_at"] == "2024-04-02T09:00:00+00:00" and lines[0]["event_seq"] == 50
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    path.chmod(0o644)  # someone widened it: the next write tightens it again
    sink.send(an_alert(id="c" * 32))
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert len(path.read_text("utf-8").splitlines()) == 3


# -- webhook ------------------------------------------------------------------------


@dataclass
class Hook:
    url: str
    status: list[int]
    received: list[tuple[dict[str, str], bytes]] = field(default_factory=list)


@pytest.fixture
def hook() -> Iterator[Hook]:
    state = Hook(url="", status=[204])

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers["Content-Length"]))
            state.received.append(({k.lower(): v for k, v in self.headers.items()}, body))
            code = state.status[0]
            self.send_response(code)
            if code in (301, 302, 307, 308):
                self.send_header("Location", "http://127.0.0.1:9/elsewhere")
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer((LOOPBACK, 0), Handler)
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    state.url = f"http://{LOOPBACK}:{server.server_address[1]}/hooks/etanche"
    yield state
    server.shutdown()
    server.server_close()
    thread.join()


def test_webhook_posts_the_alert_signed(hook: Hook) -> None:
    alert = an_alert()
    WebhookSink(hook.url, SECRET, timeout=3).send(alert)
    [(headers, body)] = hook.received
    assert headers["content-type"].startswith("application/json")
    assert json.loads(body) == alert.to_dict() and body == alert.to_json()
    signature = headers["x-etanche-signature"]
    assert signature.startswith("sha256=") and len(signature) == 7 + 64
    # The receiving side checks the signature with the shared secret.
    assert verify_payload(SECRET, body, signature)
    assert not verify_payload(SECRET, body.replace(b"alice", b"mallory"), signature)
    assert not verify_payload("another-secret-of-enough-length", body, signature)


@pytest.mark.parametrize("status", [500, 403, 302])
def test_webhook_errors_and_redirects_fail_the_delivery(hook: Hook, status: int) -> None:
    hook.status[0] = status
    with pytest.raises(OSError, match=f"HTTP {status}"):
        WebhookSink(hook.url, SECRET, timeout=3).send(an_alert())
    assert len(hook.received) == 1  # never re-sent to the redirect target


def test_webhook_unreachable_is_an_os_error() -> None:
    with socket.socket() as probe:
        probe.bind((LOOPBACK, 0))
        port = probe.getsockname()[1]  # bound, never listening: connection refused
        with pytest.raises(OSError):
            WebhookSink(f"http://{LOOPBACK}:{port}/", SECRET, timeout=2).send(an_alert())


def test_signatures() -> None:
    body = b'{"id":"x"}'
    header = sign_payload(SECRET, body)
    assert verify_payload(SECRET.encode(), body, header)
    assert verify_payload(SECRET, body, "  " + header + " ")
    assert not verify_payload(SECRET, body, None)
    assert not verify_payload(SECRET, body, "sha256=" + "0" * 64)
    assert not verify_payload(SECRET, body, "sha256=é")
    with pytest.raises(ValueError, match="at least 16 bytes"):
        sign_payload("short", body)
    with pytest.raises(ValueError, match="url"):
        WebhookSink("ftp://127.0.0.1/x", SECRET)


# -- SMTP ---------------------------------------------------------------------------


class Inbox:
    def __init__(self) -> None:
        self.messages: list[tuple[str, list[str], Message]] = []

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        content = envelope.original_content or b""
        self.messages.append(
            (str(envelope.mail_from), list(envelope.rcpt_tos), message_from_bytes(content))
        )
        return "250 OK"


class Authenticator:
    def __init__(self) -> None:
        self.logins: list[tuple[bytes, bytes]] = []

    def __call__(
        self, server: SMTP, session: Session, envelope: Envelope, mechanism: str, data: Any
    ) -> AuthResult:
        assert isinstance(data, LoginPassword)
        self.logins.append((data.login, data.password))
        return AuthResult(success=data.password == b"mail-password")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind((LOOPBACK, 0))
        return int(probe.getsockname()[1])


@pytest.fixture
def smtp_server() -> Iterator[tuple[Inbox, int]]:
    inbox, port = Inbox(), free_port()
    controller = Controller(inbox, hostname=LOOPBACK, port=port)
    controller.start()
    yield inbox, port
    controller.stop()


def body_of(message: Message) -> str:
    payload = message.get_payload(decode=True)
    assert isinstance(payload, bytes)
    return payload.decode(message.get_content_charset() or "utf-8")


def test_smtp_sends_an_english_mail_with_ids_only(smtp_server: tuple[Inbox, int]) -> None:
    inbox, port = smtp_server
    alert = an_alert()
    sink = SmtpSink(LOOPBACK, "etanche@lab.test", ["dpo@lab.test", "soc@lab.test"], port=port)
    sink.send(alert)
    [(sender, recipients, message)] = inbox.messages
    assert sender == "etanche@lab.test" and recipients == ["dpo@lab.test", "soc@lab.test"]
    assert "HIGH alert: bulk_reads" in str(message["Subject"])
    assert message["X-Etanche-Alert-Id"] == alert.id
    text = body_of(message)
    assert alert.summary in text and f"etanche alerts ack {alert.id}" in text
    assert "no patient data" in text


def write_certificate(tmp_path: Path) -> tuple[Path, Path]:
    """A throw-away self-signed certificate for 127.0.0.1."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "etanche test relay")])
    now = datetime.now(UTC)
    public = key.public_key()
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(public)
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(days=1))
        .not_valid_after(now + timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address(LOOPBACK))]),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(public), critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(public), critical=False)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = tmp_path / "relay.pem", tmp_path / "relay.key"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert_path, key_path


def test_smtp_starttls_and_login(tmp_path: Path) -> None:
    import ssl

    cert, key = write_certificate(tmp_path)
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)
    inbox, auth, port = Inbox(), Authenticator(), free_port()
    controller = Controller(
        inbox,
        hostname=LOOPBACK,
        port=port,
        tls_context=context,
        require_starttls=True,
        authenticator=auth,
        auth_require_tls=True,
    )
    controller.start()
    try:
        sink = SmtpSink(
            LOOPBACK,
            "etanche@lab.test",
            ["dpo@lab.test"],
            port=port,
            starttls=True,
            username="etanche",
            password="mail-password",
            cafile=cert,
        )
        sink.send(an_alert())
        assert auth.logins == [(b"etanche", b"mail-password")]
        assert len(inbox.messages) == 1
        untrusted = SmtpSink(
            LOOPBACK, "etanche@lab.test", ["dpo@lab.test"], port=port, starttls=True
        )
        with pytest.raises(OSError):  # ssl.SSLCertVerificationError: the CA is not trusted
            untrusted.send(an_alert())
    finally:
        controller.stop()


def test_smtp_refuses_a_password_in_clear_to_a_remote_host() -> None:
    with pytest.raises(ValueError, match="in clear"):
        SmtpSink("smtp.example.invalid", "a@b.test", ["c@d.test"], username="u", password="p")


# -- from the rules file, and the whole path: one breach, every sink ----------------------


def test_sinks_from_the_rules_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SOC_SECRET", SECRET)
    monkeypatch.setenv("MAIL_PASSWORD", "mail-password")
    path = tmp_path / "rules.yaml"
    path.write_text(
        """
sinks:
  - type: logfile
    path: alerts.jsonl
  - type: webhook
    name: soc
    url: http://127.0.0.1:8999/hook
    secret_env: SOC_SECRET
    timeout: 2
    min_severity: critical
  - type: smtp
    host: 127.0.0.1
    port: 2525
    from: etanche@lab.test
    to: dpo@lab.test
    username: etanche
    password_env: MAIL_PASSWORD
""",
        encoding="utf-8",
    )
    sinks = build_sinks(read_config(path))
    assert [(s.name, type(s).__name__) for s in sinks] == [
        ("logfile", "LogFileSink"),
        ("soc", "WebhookSink"),
        ("smtp", "SmtpSink"),
    ]
    log_sink = sinks[0]
    assert isinstance(log_sink, LogFileSink) and log_sink.path == tmp_path / "alerts.jsonl"
    assert sinks[1].min_severity is Severity.CRITICAL
    assert isinstance(sinks[2], SmtpSink) and sinks[2].recipients == ("dpo@lab.test",)


@pytest.mark.parametrize(
    ("entry", "field", "reason"),
    [
        ({"type": "pager"}, "type", "expected one of"),
        ({"type": "logfile"}, "path", "missing"),
        ({"type": "logfile", "path": "x", "colour": "red"}, "colour", "unknown field"),
        ({"type": "logfile", "path": "x", "min_severity": "urgent"}, "min_severity", "expected"),
        ({"type": "webhook", "url": "ftp://127.0.0.1/", "secret_env": "S"}, "url", "http"),
        ({"type": "webhook", "url": "http://127.0.0.1/"}, "secret_env", "missing"),
        ({"type": "webhook", "url": "http://127.0.0.1/", "secret_env": "NOPE_UNSET"},
         "secret_env", "NOPE_UNSET is not set"),
        ({"type": "webhook", "url": "http://127.0.0.1/", "secret_env": "SHORT"},
         "secret_env", "at least 16 bytes"),
        ({"type": "webhook", "url": "http://127.0.0.1/", "secret_env": "S", "timeout": 0},
         "timeout", "positive"),
        ({"type": "smtp", "host": "127.0.0.1", "from": "nobody", "to": ["a@b.test"]},
         "from", "e-mail address"),
        ({"type": "smtp", "host": "127.0.0.1", "from": "e@b.test", "to": []}, "to", "list"),
        ({"type": "smtp", "host": "127.0.0.1", "from": "e@b.test", "to": ["a@b.test"],
          "port": 70000}, "port", "1-65535"),
        ({"type": "smtp", "host": "smtp.example.invalid", "from": "e@b.test", "to": ["a@b.test"],
          "username": "u", "password_env": "S"}, "starttls", "in clear"),
        ({"type": "smtp", "host": "127.0.0.1", "from": "e@b.test", "to": ["a@b.test"],
          "username": "u"}, "password_env", "go together"),
        ({"type": "smtp", "host": "127.0.0.1", "from": "e@b.test", "to": ["a@b.test"],
          "cafile": "/nonexistent/ca.pem"}, "cafile", "not found"),
    ],
)  # fmt: skip
def test_sink_errors_name_the_sink_and_the_field(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    entry: dict[str, Any],
    field: str,
    reason: str,
) -> None:
    monkeypatch.setenv("S", SECRET)
    monkeypatch.setenv("SHORT", "tiny")
    monkeypatch.delenv("NOPE_UNSET", raising=False)
    path = tmp_path / "rules.yaml"
    path.write_text(json.dumps({"sinks": [{"name": "mine", **entry}]}), encoding="utf-8")
    with pytest.raises(ConfigError) as caught:
        build_sinks(read_config(path))
    assert (caught.value.entry, caught.value.field) == ("sink mine", field)
    assert reason in caught.value.reason


def test_duplicate_sink_names_are_refused(tmp_path: Path) -> None:
    path = tmp_path / "rules.yaml"
    path.write_text(
        json.dumps({"sinks": [{"type": "logfile", "path": "a"}, {"type": "logfile", "path": "b",
                                                                 "name": "logfile"}]})
    )  # fmt: skip
    with pytest.raises(ConfigError, match="already named logfile"):
        build_sinks(read_config(path))


@pytest.fixture
def audit_engine(tmp_path: Path) -> Iterator[Engine]:
    engine = create_engine(f"sqlite:///{tmp_path / 'audit.sqlite'}")
    metadata.create_all(engine)
    yield engine
    engine.dispose()


def test_one_breach_reaches_each_sink_once(
    tmp_path: Path, hook: Hook, smtp_server: tuple[Inbox, int], audit_engine: Engine
) -> None:
    inbox, port = smtp_server
    log_path = tmp_path / "alerts.jsonl"
    sinks = [
        LogFileSink(log_path),
        WebhookSink(hook.url, SECRET, timeout=3),
        SmtpSink(LOOPBACK, "etanche@lab.test", ["dpo@lab.test"], port=port),
    ]
    engine = AlertEngine(audit_engine, load_rules(), sinks)
    fired: list[Alert] = []
    for i in range(120):  # 120 distinct patients read in two minutes: one breach
        read = AuditEvent(
            "alice",
            "biologist",
            "patient.read",
            Outcome.OK,
            (f"p{i}",),
            at=T0 + timedelta(seconds=i),
        )
        fired += engine.observe(read, seq=i)
    assert [a.rule for a in fired] == ["bulk_reads"]
    alert = fired[0]
    assert [json.loads(line)["id"] for line in log_path.read_text().splitlines()] == [alert.id]
    assert [json.loads(body)["id"] for _, body in hook.received] == [alert.id]
    headers, body = hook.received[0]
    assert verify_payload(SECRET, body, headers["x-etanche-signature"])
    assert [m["X-Etanche-Alert-Id"] for _, _, m in inbox.messages] == [alert.id]
    assert list(engine.failures) == []
