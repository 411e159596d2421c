"""Registered plans and their two approvals, kept as sealed documents.

Registering stores the plan's exact text and hash. Each named approver then
signs ``(plan id, plan hash, username, time)`` with the network's Ed25519 key;
a plan with two valid approvals from its two named approvers is approved. The
hash is checked again before every run, so editing the file after approval
only produces an unapproved plan. An export plan is used once: its one export
is recorded on it, and a second export needs a new plan and new approvals.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from etanche.crypto import SIGNING_PURPOSE, Signer
from etanche.errors import (
    ArtefactExpired,
    EtancheError,
    PermissionDenied,
    PlanNotApproved,
    RecordNotFound,
)
from etanche.migrate._plan import EXPORT, MigrationPlan
from etanche.vault import Documents, Vault

__all__ = ["PLAN_KIND", "PlanRecord", "PlanState", "Plans"]

PLAN_KIND = "migration.plan"


class PlanState:
    PENDING = "pending"  # registered, waiting for approvals
    APPROVED = "approved"
    RUN = "packaged"  # at least one package built
    CLOSED = "closed"  # artefacts destroyed, certificate written


@dataclass(frozen=True, slots=True)
class PlanRecord:
    """What the vault knows of a plan."""

    id: str
    sha256: str
    state: str
    registered_by: str
    registered_at: str
    approvals: tuple[dict[str, str], ...]
    expires_at: datetime | None
    purpose: str
    recipients: tuple[str, ...]
    labs: tuple[str, ...]

    @property
    def approved(self) -> bool:
        return len({a["username"] for a in self.approvals}) >= 2


def _approval_message(plan_id: str, sha256: str, username: str, at: str) -> bytes:
    return f"etanche-plan-approval/1\n{plan_id}\n{sha256}\n{username}\n{at}".encode()


class Plans:
    """Register, approve and check plans of one vault."""

    def __init__(self, vault: Vault) -> None:
        self._docs = Documents(vault)
        self._signer = Signer.from_seed(vault.network_key(SIGNING_PURPOSE))

    @property
    def signer(self) -> Signer:
        return self._signer

    def register(self, plan: MigrationPlan, username: str) -> PlanRecord:
        """Record a plan (again): a changed text resets its approvals."""
        try:
            current = self.get(plan.id)
        except RecordNotFound:
            current = None
        if current is not None and current.state == PlanState.CLOSED:
            raise PlanNotApproved(f"plan {plan.id}: closed; a new migration needs a new plan id")
        if current is not None and current.sha256 == plan.sha256:
            return current
        body = {
            "sha256": plan.sha256,
            "text": plan.text,
            "registered_by": username,
            "registered_at": datetime.now(UTC).isoformat(),
            "approvals": [],
            "purpose": plan.purpose,
            "recipients": [r.name for r in plan.recipients],
            "labs": list(plan.labs),
            "kind": plan.kind,
            "packages": [],
        }
        self._docs.put(
            PLAN_KIND, plan.id, body, state=PlanState.PENDING, expires_at=plan.expires_at
        )
        return self.get(plan.id)

    def approve(self, plan: MigrationPlan, username: str) -> PlanRecord:
        """Sign the plan's hash as ``username``, one of its two named approvers."""
        if username not in {a.username for a in plan.approvers}:
            raise PermissionDenied(
                f"migration.approve: {username} is not a named approver of plan {plan.id}"
            )
        document = self._docs.get(PLAN_KIND, plan.id)
        body = document.body
        if body["sha256"] != plan.sha256:
            raise PlanNotApproved(
                f"plan {plan.id}: the file differs from the registered plan; register it again"
            )
        if body["registered_by"] == username:
            raise PermissionDenied(
                f"migration.approve: {username} registered plan {plan.id} and cannot approve it"
            )
        if plan.expired():
            raise ArtefactExpired(f"plan {plan.id}: retention date passed")
        approvals: list[dict[str, str]] = [
            a for a in body["approvals"] if a["username"] != username
        ]
        at = datetime.now(UTC).isoformat()
        signature = self._signer.sign(_approval_message(plan.id, plan.sha256, username, at))
        approvals.append(
            {
                "username": username,
                "at": at,
                "signature": base64.b64encode(signature).decode(),
                "key_id": self._signer.key_id,
            }
        )
        body["approvals"] = approvals
        state = PlanState.APPROVED if len(approvals) >= 2 else PlanState.PENDING
        self._docs.put(PLAN_KIND, plan.id, body, state=state, expires_at=plan.expires_at)
        return self.get(plan.id)

    def get(self, plan_id: str) -> PlanRecord:
        document = self._docs.get(PLAN_KIND, plan_id)
        body = document.body
        return PlanRecord(
            id=plan_id,
            sha256=body["sha256"],
            state=document.state,
            registered_by=body["registered_by"],
            registered_at=body["registered_at"],
            approvals=tuple(body["approvals"]),
            expires_at=document.expires_at,
            purpose=body["purpose"],
            recipients=tuple(body["recipients"]),
            labs=tuple(body.get("labs", ())),
        )

    def all(self) -> list[PlanRecord]:
        return [self.get(d.id) for d in self._docs.list(PLAN_KIND)]

    def body(self, plan_id: str) -> dict[str, Any]:
        return self._docs.get(PLAN_KIND, plan_id).body

    def update_body(self, plan_id: str, body: dict[str, Any], state: str) -> None:
        document = self._docs.get(PLAN_KIND, plan_id)
        self._docs.put(PLAN_KIND, plan_id, body, state=state, expires_at=document.expires_at)

    def claim_export(self, plan: MigrationPlan) -> None:
        """Take the one export an approved export plan allows, atomically: of two exports
        started at once on the same plan, one gets it and the other is refused."""
        if not self._docs.claim(PLAN_KIND, plan.id, PlanState.APPROVED, PlanState.RUN):
            raise PlanNotApproved(
                f"plan {plan.id}: already used for an export; a new export needs a new plan"
            )

    def release_export(self, plan: MigrationPlan) -> None:
        """Give the claim back when the export failed before anything was written."""
        self._docs.claim(PLAN_KIND, plan.id, PlanState.RUN, PlanState.APPROVED)

    def record_export(self, plan: MigrationPlan, export_id: str) -> None:
        """Note the one export an export plan allowed; the plan cannot be used again."""
        body = self.body(plan.id)
        body["exports"] = [*body.get("exports", []), export_id]
        self.update_body(plan.id, body, PlanState.RUN)

    def require_approved(self, plan: MigrationPlan) -> PlanRecord:
        """The record of an approved, unchanged, unexpired, open plan; else why not."""
        try:
            record = self.get(plan.id)
        except RecordNotFound:
            raise PlanNotApproved(
                f"plan {plan.id}: not registered (run `etanche migrate plan`)"
            ) from None
        if record.state == PlanState.CLOSED:
            raise PlanNotApproved(f"plan {plan.id}: closed")
        if plan.kind == EXPORT and record.state == PlanState.RUN:
            raise PlanNotApproved(
                f"plan {plan.id}: already used for an export; a new export needs a new plan"
            )
        if record.sha256 != plan.sha256:
            raise PlanNotApproved(f"plan {plan.id}: the file changed since it was registered")
        if plan.expired():
            raise ArtefactExpired(f"plan {plan.id}: retention date passed; close it")
        named = {a.username for a in plan.approvers}
        valid = set()
        for approval in record.approvals:
            message = _approval_message(plan.id, plan.sha256, approval["username"], approval["at"])
            try:
                self._signer.verifier.verify(message, base64.b64decode(approval["signature"]))
            except (EtancheError, ValueError):
                raise PlanNotApproved(
                    f"plan {plan.id}: the approval of {approval['username']} does not verify"
                ) from None
            if approval["username"] in named:
                valid.add(approval["username"])
        if len(valid) < 2:
            missing = ", ".join(sorted(named - valid))
            raise PlanNotApproved(f"plan {plan.id}: waiting for the approval of {missing}")
        return record
