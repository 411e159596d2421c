"""Custody ceremonies: operations that change custody need a fresh quorum of custodians.

KEK rotation and resharing hurt every patient at once if done by one person, so a
lab admin's request is carried out only after M custodians (or the token's PIN
holder) approved that operation in the last minutes. Each custodian approves on
their own, with their share, checked alone against its public check value; the
approval is a sealed document of the vault (no share is kept), so any worker
process of the service sees it, and it is used once. The first DPO account, which
has no other DPO to approve it, is approved this way too (``approve-dpo``).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from etanche.access import Actor, Resource, can
from etanche.audit import DetailValue, Outcome
from etanche.crypto import Custodian, QuorumKeyProvider
from etanche.errors import EtancheError, PermissionDenied, UsageError
from etanche.names import Action
from etanche.service._custody import Custody
from etanche.service._trail import Trail
from etanche.vault import Documents, Vault

APPROVAL_KIND = "custody-approval"
OPERATIONS = ("rotate-kek", "reshare", "approve-dpo")  # approve-dpo: the first DPO account
WINDOW = timedelta(minutes=15)


class Ceremonies:
    """Approvals of custody operations by the custodians, and their use."""

    def __init__(self, vault: Vault, trail: Trail, custody: Custody) -> None:
        self.docs = Documents(vault)
        self.trail = trail
        self.custody = custody

    @property
    def threshold(self) -> int:
        opener = self.custody.opener
        return int(opener.status().get("threshold", 1)) if opener is not None else 0

    def approve(self, operation: str, secret: str, *, client: str | None = None) -> dict[str, Any]:
        """One custodian's approval of ``operation``, with their share (or the token PIN)."""
        if operation not in OPERATIONS:
            raise UsageError(f"--for: one of {', '.join(OPERATIONS)}")
        opener = self.custody.opener
        if opener is None:
            raise UsageError("custody: this service was opened without custodians")
        try:
            name = opener.check(secret)
        except Exception as exc:
            self.trail.record(
                None,
                Action.CUSTODY_APPROVE,
                Outcome.FAILED,
                client=client,
                details={"operation": operation, "error": type(exc).__name__},
            )
            raise
        now = datetime.now(UTC)
        self.docs.put(
            APPROVAL_KIND,
            f"{operation}:{name}"[:64],
            {"operation": operation, "custodian": name, "at": now.isoformat()},
            state="approved",
            expires_at=now + WINDOW,
        )
        self.trail.record(
            None,
            Action.CUSTODY_APPROVE,
            Outcome.OK,
            client=client,
            details={"operation": operation, "custodian": name},
        )
        return self.status(operation)

    def _current(self, operation: str) -> list[str]:
        now = datetime.now(UTC)
        names: list[str] = []
        for document in self.docs.list(APPROVAL_KIND):
            body = document.body
            at = datetime.fromisoformat(str(body.get("at")))
            if body.get("operation") == operation and now - at <= WINDOW:
                names.append(str(body["custodian"]))
        return sorted(set(names))

    def status(self, operation: str) -> dict[str, Any]:
        return {
            "operation": operation,
            "approved_by": self._current(operation),
            "threshold": self.threshold,
        }

    def consume(self, operation: str) -> tuple[str, ...]:
        """The custodians who approved ``operation``; used once. Refused below the quorum."""
        if self.custody.opener is None:
            return ()  # custody opened by its caller (tests): no custodian to ask
        names = self._current(operation)
        if len(names) < self.threshold:
            raise PermissionDenied(
                f"{operation}: needs {self.threshold} custodians' approval in the last "
                f"{int(WINDOW.total_seconds() // 60)} minutes ({len(names)} given; "
                f"`etanche unseal --for {operation}`)"
            )
        for name in names:
            self.docs.delete(APPROVAL_KIND, f"{operation}:{name}"[:64])
        return tuple(names)


def reshare(
    ceremonies: Ceremonies,
    actor: Actor,
    custodians: list[tuple[str, str]],
    threshold: int,
    *,
    client: str | None = None,
) -> dict[str, bytes]:
    """New custodians (or a new threshold): a lab admin asks, a fresh quorum approved.

    A new unseal secret is drawn and every KEK resealed under it; the old shares
    open nothing any more. Returns each new custodian's share, encrypted to them.
    """
    decision = can(actor, Action.KEYS_ROTATE, Resource("keys", None))
    details: dict[str, DetailValue] = {
        "operation": "reshare",
        "custodians": ",".join(name for name, _ in custodians),
        "threshold": threshold,
    }
    if not decision.allowed:
        ceremonies.trail.record(
            actor, Action.KEY_OPERATION, Outcome.DENIED, client=client,
            details={**details, "reason": decision.reason},
        )  # fmt: skip
        raise PermissionDenied(decision.reason)
    provider = ceremonies.custody.provider()
    if not isinstance(provider, QuorumKeyProvider):
        raise UsageError("reshare: this custody has no custodians (an HSM token, or tests)")
    try:
        approved = ceremonies.consume("reshare")
        shares = provider.reshare([Custodian(n, r) for n, r in custodians], threshold)
    except EtancheError as exc:
        ceremonies.trail.record(
            actor, Action.KEY_OPERATION, Outcome.FAILED, client=client,
            details={**details, "error": type(exc).__name__},
        )  # fmt: skip
        raise
    ceremonies.trail.record(
        actor, Action.KEY_OPERATION, Outcome.OK, client=client,
        details={**details, "approved_by": ",".join(approved)},
    )  # fmt: skip
    return shares
