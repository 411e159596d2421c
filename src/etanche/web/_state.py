"""What one running server holds, and what each request gets from it."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from fastapi import Request
from fastapi.templating import Jinja2Templates

from etanche.access import Actor, Sessions
from etanche.service import Core, KeyService, PatientService, Supervision, Trail
from etanche.vault import Vault
from etanche.web._config import WebConfig
from etanche.web._security import Csrf, RateLimit

TEMPLATES = Path(__file__).parent / "templates"
STATIC = Path(__file__).parent / "static"
COOKIE = "etanche_session"


class ServerState:
    """What one server process holds: the service core, and per-process web helpers."""

    def __init__(
        self, config: WebConfig, login_limit: RateLimit, templates: Jinja2Templates
    ) -> None:
        self.config = config
        self.core = Core(
            config.location, config.custody, rules=config.rules, trail_mode=config.trail_mode
        )
        self.login_limit = login_limit
        self.templates = templates
        self._csrf: Csrf | None = None

    @property
    def sealed(self) -> bool:
        return self.core.sealed

    @property
    def vault(self) -> Vault:
        return self.core.vault

    @property
    def trail(self) -> Trail:
        return self.core.trail

    @property
    def csrf(self) -> Csrf:
        if self._csrf is None:
            self._csrf = Csrf(self.core.form_secret)
        return self._csrf

    def sessions(self) -> Sessions:
        return Sessions(self.vault)

    def close(self) -> None:
        self.core.close()


@dataclass
class Person:
    """The authenticated person behind one request (session cookie or bearer token)."""

    actor: Actor
    token: str
    client: str | None
    state: ServerState
    via_cookie: bool = True

    @property
    def csrf_token(self) -> str:
        return self.state.csrf.token_for(self.token)

    def patients(self, purpose: str | None = None) -> PatientService:
        """A patient service on a request-scoped vault session holding no key yet:
        the service unwraps exactly the compartments the policy grants per action."""
        return PatientService(
            self.state.vault.session(()),
            self.state.trail,
            self.actor,
            client=self.client,
            purpose=purpose,
        )

    def keys(self) -> KeyService:
        return KeyService(
            self.state.vault.session(()), self.state.trail, self.actor, client=self.client
        )

    def supervision(self) -> Supervision:
        state = self.state
        return Supervision(
            state.vault.session(()),
            state.trail,
            self.actor,
            rules=state.config.rules,
            client=self.client,
        )


def server(request: Request) -> ServerState:
    state: ServerState = request.app.state.etanche
    return state


def client_of(request: Request) -> str | None:
    return request.client.host if request.client else None
