"""The one door of a server process: each request's operations, built on the core.

Adapters hold a ``Door`` and ask it for the operations of one person (patients,
keys, supervision, people); the vault sessions and the trail behind them stay
in this room.
"""

from __future__ import annotations

import time

from etanche import settings
from etanche.access import Actor
from etanche.audit import Outcome
from etanche.crypto import sign_payload, verify_payload
from etanche.domain import Lab
from etanche.errors import PermissionDenied
from etanche.names import Action
from etanche.service._access_report import AccessReports
from etanche.service._acts import Acts
from etanche.service._backups import BackupService
from etanche.service._ceremony import Ceremonies, reshare
from etanche.service._core import Core
from etanche.service._identity import IdentityService
from etanche.service._incidents import IncidentService
from etanche.service._keys import KeyService
from etanche.service._leaks import LeakService
from etanche.service._linkage import IdentityLinkage
from etanche.service._migrations import MigrationService
from etanche.service._patients import PatientService
from etanche.service._people import People
from etanche.service._purge import RetentionService
from etanche.service._reindex import Reindex
from etanche.service._revisions import Revisions
from etanche.service._rights import holds_clinical_role
from etanche.service._rights_requests import RightsRequests
from etanche.service._search_tally import SearchTally
from etanche.service._supervision import Supervision
from etanche.service._supervision_read import Oversight
from etanche.service._throttle import LoginThrottle

_LABS_TTL_S = 5.0  # reference data read on every page, changed a few times a year


class Door:
    """Per-person operations of one server's core (sealed: each fails with ServiceSealed)."""

    def __init__(self, core: Core) -> None:
        self.core = core
        self._labs: tuple[float, tuple[Lab, ...]] | None = None

    def people(self, client: str | None = None) -> People:
        def quorum() -> tuple[str, ...]:
            return self.ceremonies().consume("approve-dpo")

        return People(self.core.vault, self.core.trail, client=client, quorum=quorum)

    def login_throttle(self, limit: int) -> LoginThrottle:
        """The login limit per client address, shared by every worker through the vault."""
        return LoginThrottle(self.core.vault, limit)

    def patients(
        self, actor: Actor, *, client: str | None = None, purpose: str | None = None
    ) -> PatientService:
        """A patient service on a request-scoped vault session holding no key yet:
        the service unwraps exactly the compartments the policy grants per action."""
        return PatientService(
            self.core.vault.session(()), self.core.trail, actor, client=client, purpose=purpose
        )

    def identity(
        self, actor: Actor, *, client: str | None = None, purpose: str | None = None
    ) -> IdentityService:
        """Identity vigilance operations (statuses, review, merges) on a keyless session."""
        return IdentityService(
            self.core.vault.session(()), self.core.trail, actor, client=client, purpose=purpose
        )

    def counting_patients(
        self, actor: Actor, *, client: str | None = None
    ) -> tuple[PatientService, SearchTally]:
        """A patient service whose searches also report the matches hidden by the policy."""
        tally = SearchTally(self.core.trail)
        service = PatientService(self.core.vault.session(()), tally, actor, client=client)
        return service, tally

    def clinical_patients(
        self,
        actor: Actor,
        patient_id: str | None,
        *,
        resource: str,
        client: str | None = None,
    ) -> PatientService:
        """A patient service for clinical reads (FHIR Observation), or a refusal, audited,
        for roles that never hold the clinical key."""
        if not holds_clinical_role(actor):
            reason = (
                f"{Action.PATIENT_READ}: the clinical compartment is not granted to the "
                f"{actor.role} role"
            )
            self.acts(actor, client=client).note(
                Action.PATIENT_READ,
                Outcome.DENIED,
                {"resource": resource, "reason": reason},
                [patient_id] if patient_id else [],
            )
            raise PermissionDenied(reason)
        return self.patients(actor, client=client)

    def keys(self, actor: Actor, *, client: str | None = None) -> KeyService:
        return KeyService(
            self.core.vault.session(()),
            self.core.trail,
            actor,
            client=client,
            ceremonies=self.ceremonies(),
        )

    def backups(self, actor: Actor, *, client: str | None = None) -> BackupService:
        """Backups and restore drills, keyed by the custody the service holds."""
        core = self.core
        return BackupService(
            core.vault, core.trail, actor, core.custody.provider(), core.shred_ledger, client=client
        )

    def reshare(
        self,
        actor: Actor,
        custodians: list[tuple[str, str]],
        threshold: int,
        *,
        client: str | None = None,
    ) -> dict[str, bytes]:
        return reshare(self.ceremonies(), actor, custodians, threshold, client=client)

    def ceremonies(self) -> Ceremonies:
        """Custodians' approvals of custody operations (KEK rotation, resharing)."""
        return Ceremonies(self.core.vault, self.core.trail, self.core.custody)

    def migrations(self, actor: Actor, *, client: str | None = None) -> MigrationService:
        return MigrationService(self.core.vault.session(()), self.core.trail, actor, client=client)

    def leaks(self, actor: Actor, *, client: str | None = None) -> LeakService:
        return LeakService(self.core.vault.session(()), self.core.trail, actor, client=client)

    def incidents(self, actor: Actor, *, client: str | None = None) -> IncidentService:
        return IncidentService(self.core.vault.session(()), self.core.trail, actor, client=client)

    def rights(self, actor: Actor, *, client: str | None = None) -> RightsRequests:
        """The DPO's rights requests, on a session holding no key until a step needs one."""
        return RightsRequests(
            self.core.vault.session(()),
            self.core.trail,
            actor,
            retention=self.core.retention,
            client=client,
        )

    def supervision(self, actor: Actor, *, client: str | None = None) -> Supervision:
        return Supervision(
            self.core.vault.session(()),
            self.core.trail,
            actor,
            rules=self.core.rules,
            retention=self.core.retention,
            client=client,
        )

    def retention(self, actor: Actor, *, client: str | None = None) -> RetentionService:
        """The retention purge and legal holds (DPO)."""
        return RetentionService(
            self.core.vault.session(()),
            self.core.trail,
            actor,
            retention=self.core.retention,
            client=client,
        )

    def access_reports(self, actor: Actor, *, client: str | None = None) -> AccessReports:
        """The patient's right of access (art. 15): copy of the record, who opened it."""
        return AccessReports(
            self.core.vault.session(()),
            self.core.trail,
            actor,
            retention=self.core.retention,
            staff_named=settings.current().access_report_staff == "named",
            client=client,
        )

    def linkage(self, actor: Actor, *, client: str | None = None) -> IdentityLinkage:
        """Duplicate linkage and its review queue (the service decrypts, in memory)."""
        return IdentityLinkage(self.core.vault.session(()), self.core.trail, actor, client=client)

    def reindex(self, actor: Actor, *, client: str | None = None) -> Reindex:
        """The front-desk index backfill (a network-wide lab admin)."""
        return Reindex(self.core.vault.session(()), self.core.trail, actor, client=client)

    def revisions(self, actor: Actor, *, client: str | None = None) -> Revisions:
        """Rollback detection: stored ciphertexts against their logged writes."""
        return Revisions(self.core.vault.session(()), self.core.trail, actor, client=client)

    def oversight(self, actor: Actor, *, client: str | None = None) -> Oversight:
        return Oversight(
            self.core.vault, self.core.trail, actor, client=client, rules=self.core.rules
        )

    def acts(self, actor: Actor, *, client: str | None = None) -> Acts:
        return Acts(self.core.trail, actor, client=client)

    def labs(self) -> list[Lab]:
        """The network's labs (reference data: names and ids, nothing personal).

        Every page shows lab names: the list is kept for ``_LABS_TTL_S`` seconds per
        process, so a lab added or renamed in another worker shows within that time.
        """
        now = time.monotonic()
        kept = self._labs
        if kept is not None and now - kept[0] < _LABS_TTL_S:
            return list(kept[1])
        labs = self.core.vault.labs()
        self._labs = (now, tuple(labs))
        return labs


class FormTokens:
    """Per-session form (CSRF) tokens: an HMAC of the session token under a secret."""

    def __init__(self, secret: bytes) -> None:
        self._secret = secret

    def token_for(self, session_token: str) -> str:
        return sign_payload(self._secret, session_token.encode()).removeprefix("sha256=")

    def valid(self, session_token: str, submitted: str | None) -> bool:
        if not submitted:
            return False
        return verify_payload(self._secret, session_token.encode(), "sha256=" + submitted)
