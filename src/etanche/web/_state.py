"""What one running server holds, and what each request gets from it."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from fastapi import Request
from fastapi.templating import Jinja2Templates

from etanche.names import Action
from etanche.service import (
    AccessReports,
    Actor,
    BackupService,
    Core,
    Door,
    FormTokens,
    IdentityLinkage,
    IdentityService,
    IncidentService,
    KeyService,
    LeakService,
    LoginThrottle,
    MigrationService,
    Oversight,
    PatientService,
    People,
    Reindex,
    RetentionService,
    Revisions,
    RightsRequests,
    Supervision,
)
from etanche.web._config import WebConfig

TEMPLATES = Path(__file__).parent / "templates"
STATIC = Path(__file__).parent / "static"
COOKIE = "etanche_session"


class ServerState:
    """What one server process holds: the service core and its door, and web helpers."""

    def __init__(self, config: WebConfig, templates: Jinja2Templates) -> None:
        self.config = config
        self.core = Core(
            config.location,
            config.custody,
            rules=config.rules,
            retention=config.retention,
            trail_mode=config.trail_mode,
            verify_interval_s=config.verify_interval_s,
            purge_interval_s=config.purge_interval_s,
            witnesses=config.witnesses,
            witness_quorum=config.witness_quorum,
            shred_ledger=config.shred_ledger,
        )
        self.door = Door(self.core)
        self.templates = templates
        self._csrf: FormTokens | None = None

    @property
    def sealed(self) -> bool:
        return self.core.sealed

    @property
    def login_limit(self) -> LoginThrottle:
        """Login attempts per client address, counted in the vault (all workers share it)."""
        return self.door.login_throttle(self.config.login_attempts_per_minute)

    @property
    def csrf(self) -> FormTokens:
        if self._csrf is None:
            self._csrf = FormTokens(self.core.form_secret)
        return self._csrf

    def people(self, client: str | None = None) -> People:
        return self.door.people(client)

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
    gender: str | None = None  # of a page's person: the form of their role's label

    @property
    def csrf_token(self) -> str:
        return self.state.csrf.token_for(self.token)

    def patients(self, purpose: str | None = None) -> PatientService:
        """This person's patient operations (the service unwraps keys per action)."""
        return self.state.door.patients(self.actor, client=self.client, purpose=purpose)

    def identity(self, purpose: str | None = None) -> IdentityService:
        """This person's identity vigilance operations (RNIV statuses, review, merges)."""
        return self.state.door.identity(self.actor, client=self.client, purpose=purpose)

    def require_scopes(self, operation: str, actions: Iterable[Action]) -> None:
        """An API token must hold every action of the operation it calls (audited refusal)."""
        self.state.door.acts(self.actor, client=self.client).require_scopes(operation, actions)

    def keys(self) -> KeyService:
        return self.state.door.keys(self.actor, client=self.client)

    def backups(self) -> BackupService:
        return self.state.door.backups(self.actor, client=self.client)

    def oversight(self) -> Oversight:
        """This person's supervision operations (audit, alerts, decoys)."""
        return self.state.door.oversight(self.actor, client=self.client)

    def people(self) -> People:
        return self.state.door.people(self.client)

    def migrations(self) -> MigrationService:
        return self.state.door.migrations(self.actor, client=self.client)

    def leaks(self) -> LeakService:
        return self.state.door.leaks(self.actor, client=self.client)

    def reshare(self, custodians: list[tuple[str, str]], threshold: int) -> dict[str, bytes]:
        """New custodians for the service's custody (a quorum must have approved)."""
        return self.state.door.reshare(self.actor, custodians, threshold, client=self.client)

    def incidents(self) -> IncidentService:
        return self.state.door.incidents(self.actor, client=self.client)

    def rights(self) -> RightsRequests:
        """This person's rights requests (the DPO's workflow)."""
        return self.state.door.rights(self.actor, client=self.client)

    def access_reports(self) -> AccessReports:
        """The DPO's art. 15 access reports (who opened a record, the patient's copy)."""
        return self.state.door.access_reports(self.actor, client=self.client)

    def reindex(self) -> Reindex:
        """This person's front-desk index backfill (a network-wide lab admin)."""
        return self.state.door.reindex(self.actor, client=self.client)

    def revisions(self) -> Revisions:
        """This person's rollback check of the vault (auditor, DPO)."""
        return self.state.door.revisions(self.actor, client=self.client)

    def retention(self) -> RetentionService:
        """This person's retention purge and legal holds (DPO)."""
        return self.state.door.retention(self.actor, client=self.client)

    def linkage(self) -> IdentityLinkage:
        """This person's duplicate linkage and review queue."""
        return self.state.door.linkage(self.actor, client=self.client)

    def supervision(self) -> Supervision:
        """This person's audit, alert and decoy operations of the CLI's API."""
        return self.state.door.supervision(self.actor, client=self.client)


async def server(request: Request) -> ServerState:
    """The server's state (async: a plain attribute read, no trip to the thread pool)."""
    state: ServerState = request.app.state.etanche
    return state


def client_of(request: Request) -> str | None:
    return request.client.host if request.client else None
