"""Migrations as people run them: plan, approve, check, run, import, close.

Each operation is decided by the policy (the lab is taken from the plan: one
lab for a single-lab plan, network-wide for several), performed on the
service's own host (it reads the plan's sources and writes the package
itself) and audited once, denials and failures included. The plan arrives as
its YAML text and the absolute folder it was read from, so relative source
paths resolve as they did when the operator's command read the file itself.

Named approvers are checked against the live accounts and the policy when the
plan is registered and again at every approval; a refused approval is audited
as denied. Export plans (``kind: export``) are approved here and used by
``LeakService.export``, never by ``run``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from etanche.access import Action, Actor, Decision, Resource, can
from etanche.audit import DetailValue, Outcome
from etanche.crypto import SIGNING_PURPOSE, Signer
from etanche.errors import (
    ConfigError,
    EtancheError,
    PermissionDenied,
    PlanNotApproved,
    RecordNotFound,
    UsageError,
)
from etanche.leak.trace import unmark_row
from etanche.migrate import (
    CERTIFICATE_KIND,
    EXPORT,
    PACKAGE_KIND,
    CheckReport,
    MigrationPlan,
    PackageResult,
    PlanRecord,
    Plans,
    Reconciliation,
    build_package,
    check_plan,
    close_plan,
    import_rows,
    open_received,
    parse_plan,
)
from etanche.service._approvers import check_approvers, plan_lab
from etanche.service._housekeeping import shred_expired_artefacts
from etanche.service._migration import marker_for, plan_marks
from etanche.service._migration_views import (
    MigrationOverview,
    PackageSummary,
    PlanView,
    package_summary,
    scope_of,
    view_action,
    visible_to,
)
from etanche.service._rights import actions_of
from etanche.service._trail import Trail
from etanche.vault import Documents, Vault

__all__ = ["MigrationService", "PlanText"]

Progress = Callable[[int], None]
MIGRATION = "migration"
# Approving reads no source: a registered text is parsed against this folder.
_REGISTERED = "/"


@dataclass(frozen=True)
class PlanText:
    """A plan as the operator's command read it: its text, its file name, its folder."""

    text: str
    name: str
    folder: str

    def parse(self) -> MigrationPlan:
        """Validate the plan; relative source paths resolve against ``folder``."""
        base = Path(self.folder)
        if not base.is_absolute():
            raise UsageError(f"{self.name}: the plan's folder must be an absolute path")
        return parse_plan(self.text.encode("utf-8"), source=self.name, base=base)


_lab_of = plan_lab


def _details(plan: MigrationPlan) -> dict[str, DetailValue]:
    return {"plan": plan.id, "plan_sha256": plan.sha256[:16]}


def _absolute(path: str, option: str) -> Path:
    folder = Path(path)
    if not folder.is_absolute():
        raise UsageError(f"{option}: give an absolute path (the service resolves no other)")
    return folder


_REFUSED = "_refused"
"""Key an operation sets, with its reason, when its error is a refusal (audited as denied)."""


class MigrationService:
    """One person's migration operations on one vault session, each audited once."""

    def __init__(self, vault: Vault, trail: Trail, actor: Actor, *, client: str | None = None):
        self.vault = vault
        self.trail = trail
        self.actor = actor
        self.client = client

    # -- the sender's side ---------------------------------------------------------
    def register(self, given: PlanText) -> tuple[PlanRecord, tuple[str, ...]]:
        """Register a plan's exact text (a changed text resets its approvals).

        Returns the record and the user names of the approvers it waits for.
        """
        plan = given.parse()
        plan_marks(plan)
        with self._allowed(Action.MIGRATION_PLAN, _details(plan), _lab_of(plan)) as event:
            event["kind"] = plan.kind
            try:
                check_approvers(self.vault, plan, author=self.actor.username)
            except ConfigError as exc:  # named approvers who may not approve: a refusal
                event[_REFUSED] = str(exc)[:300]
                raise
            record = Plans(self.vault).register(plan, self.actor.username)
        return record, tuple(a.username for a in plan.approvers)

    def approve(self, given: PlanText) -> PlanRecord:
        """Sign the plan as one of its two named approvers, each checked live.

        Refused (and audited as denied) when I am not named, hold another role
        than the plan names for me, wrote the plan, or when the other named
        approver is not an account that may approve it.
        """
        plan = given.parse()
        with self._allowed(Action.MIGRATION_APPROVE, _details(plan), _lab_of(plan)) as event:
            plans = Plans(self.vault)
            self._may_approve(plans, plan)
            record = plans.approve(plan, self.actor.username)
            event["state"] = record.state
        return record

    def _may_approve(self, plans: Plans, plan: MigrationPlan) -> None:
        """PermissionDenied unless the plan's approvers are all live accounts able to approve."""
        me = self.actor.username
        if me not in {a.username for a in plan.approvers}:
            raise PermissionDenied(f"migration.approve: {me} is not a named approver of {plan.id}")
        try:
            author = plans.get(plan.id).registered_by
        except RecordNotFound:
            raise PlanNotApproved(f"plan {plan.id}: not registered") from None
        try:
            check_approvers(self.vault, plan, author=author)
        except ConfigError as exc:
            raise PermissionDenied(f"migration.approve: {exc}") from None

    def check(
        self, given: PlanText, *, workers: int = 1, progress: Progress | None = None
    ) -> CheckReport:
        """Dry run over the whole source: counts and located problems, nothing written."""
        plan = given.parse()
        details = {**_details(plan), "step": "check"}
        with self._allowed(Action.MIGRATION_PLAN, details, _lab_of(plan)) as event:
            if plan.kind == EXPORT:
                raise UsageError(
                    f"plan {plan.id}: an export plan reads the vault; nothing to check"
                )
            report = check_plan(plan, progress=progress, workers=workers)
            event.update(
                records=report.records,
                valid=report.valid,
                rejected=report.in_scope - report.valid,
            )
        return report

    def run(
        self,
        given: PlanText,
        out: str,
        *,
        workers: int = 1,
        progress: Progress | None = None,
    ) -> PackageResult:
        """Build (or resume) the package of an approved plan in ``out`` (0700, files 0600)."""
        plan = given.parse()
        folder = _absolute(out, "--out")
        with self._allowed(Action.MIGRATION_RUN, _details(plan), _lab_of(plan)) as event:
            if plan.kind == EXPORT:
                raise UsageError(f"plan {plan.id}: an export plan; write it with `etanche export`")
            Plans(self.vault).require_approved(plan)  # refuse before any progress
            result = build_package(
                plan,
                self.vault,
                folder,
                actor=self.actor.username,
                progress=progress,
                outbound=marker_for(plan, self.vault),
                workers=workers,
            )
            event.update(
                package=result.package_id,
                records=result.records,
                parts=result.parts,
                resumed_parts=result.resumed_parts,
            )
        return result

    def close(self, plan_id: str) -> dict[str, Any]:
        """Destroy the plan's packages, shred their keys; the signed deletion certificate."""
        with self._allowed(Action.MIGRATION_CLOSE, {"plan": plan_id}, None) as event:
            signed = close_plan(
                self.vault, plan_id, actor=self.actor.username, reason="closed on demand"
            )
            event["artefacts"] = len(signed["certificate"]["artefacts"])
        return signed

    def certificate(self, plan_id: str) -> dict[str, Any]:
        """The signed deletion certificate of a closed plan."""
        with self._allowed(Action.MIGRATION_CLOSE, {"plan": plan_id}, None):
            return self._certificate_body(plan_id)

    def signer_key(self) -> tuple[str, bytes]:
        """The network's package and certificate signing key (PEM), for recipients to pin.

        Not the audit log's key: that one is held by custody and exported by
        `audit export-key`.
        """
        with self._allowed(Action.MIGRATION_CLOSE, {"operation": "export-key"}, None):
            signer = Signer.from_seed(self.vault.network_key(SIGNING_PURPOSE))
            return signer.key_id, signer.public_key_pem()

    def status(self) -> list[PlanRecord]:
        """Every plan, its approvals and expiry."""
        with self._allowed(Action.MIGRATION_CLOSE, {}, None):
            return Plans(self.vault).all()

    # -- what the pages show -------------------------------------------------------
    # Seeing the plans needs any one migration action (operator, approver, DPO);
    # a person bound to labs sees only the plans of those labs.
    def overview(self) -> MigrationOverview:
        """Every plan of the person's labs, with its packages and deletion certificate."""
        action = view_action(self.actor)
        details: dict[str, DetailValue] = {"operation": "list"}
        with self._allowed(action, details, scope_of(self.actor), unlock=False) as event:
            docs = Documents(self.vault)
            packages: dict[str, list[PackageSummary]] = {}
            for document in docs.list(PACKAGE_KIND):
                plan_id = str(document.body["plan_id"])
                packages.setdefault(plan_id, []).append(package_summary(document))
            certificates = {d.id: d.body["certificate"] for d in docs.list(CERTIFICATE_KIND)}
            plans = [p for p in Plans(self.vault).all() if visible_to(self.actor, p.labs)]
            event["count"] = len(plans)
        return MigrationOverview(plans=plans, packages=packages, certificates=certificates)

    def plan_view(self, plan_id: str) -> PlanView:
        """One plan's exact registered text, its named approvers, and whether I may sign now.

        Reading a plan is decided (a refusal is audited) but not logged on
        success: the text holds no patient value.
        """
        short = plan_id[:48]
        self._decide(view_action(self.actor), {"plan": short}, scope_of(self.actor))
        plans = Plans(self.vault)
        record = self._visible_plan(plans, plan_id)
        text = str(plans.body(plan_id).get("text", ""))
        approvers: tuple[str, ...] = ()
        if text:
            approvers = tuple(a.username for a in self._registered(plan_id, text).approvers)
        me = self.actor.username
        can_approve = (
            Action.MIGRATION_APPROVE in actions_of(self.actor)
            and me in approvers
            and me not in {a["username"] for a in record.approvals}
            and record.state == "pending"
        )
        return PlanView(plan=record, text=text, approvers=approvers, can_approve=can_approve)

    def approve_by_id(self, plan_id: str) -> PlanRecord:
        """Sign the plan's registered text (what the page showed) as a named approver."""
        text = str(Plans(self.vault).body(plan_id).get("text", ""))
        if not text:
            raise PermissionDenied(f"migration.approve: plan {plan_id[:48]} is closed")
        return self.approve(PlanText(text, f"plan {plan_id}", _REGISTERED))

    def certificate_for_view(self, plan_id: str) -> dict[str, Any]:
        """The signed deletion certificate of a plan the person may see (page download)."""
        details: dict[str, DetailValue] = {"plan": plan_id[:48], "operation": "certificate"}
        action = view_action(self.actor)
        with self._allowed(action, details, scope_of(self.actor), unlock=False):
            self._visible_plan(Plans(self.vault), plan_id)
            return self._certificate_body(plan_id)

    def _visible_plan(self, plans: Plans, plan_id: str) -> PlanRecord:
        """The plan's record; a plan of other labs is as unknown as a missing one."""
        try:
            record = plans.get(plan_id)
        except RecordNotFound:
            raise RecordNotFound(f"plan {plan_id[:48]}: not registered") from None
        if not visible_to(self.actor, record.labs):
            raise RecordNotFound(f"plan {plan_id[:48]}: not registered")
        return record

    @staticmethod
    def _registered(plan_id: str, text: str) -> MigrationPlan:
        return PlanText(text, f"plan {plan_id}", _REGISTERED).parse()

    def _certificate_body(self, plan_id: str) -> dict[str, Any]:
        body: dict[str, Any] = Documents(self.vault).get(CERTIFICATE_KIND, plan_id).body
        return body

    # -- the recipient's side ------------------------------------------------------
    def import_package(
        self,
        package: str,
        identity_text: str,
        signer_key_pem: str | None,
        *,
        workers: int = 1,
        progress: Progress | None = None,
    ) -> tuple[Reconciliation, bool]:
        """Verify a received package against the pinned key and import it, all or nothing.

        The signature first; then each part is checked (hashes, counts) in the
        same pass that imports it, and the one transaction commits only if every
        part and the totals agree with the manifest. Progress is rows imported.
        Returns the reconciliation and whether the signature was pinned.
        """
        if not signer_key_pem:
            # the manifest's own key proves nothing about who sent it: never import on it
            raise UsageError("--import: pin the sender's public key with --signer-key")
        folder = _absolute(package, "package")
        with self._allowed(Action.MIGRATION_IMPORT, {}, None) as event:
            checked = open_received(
                folder, identity_text, signer_key_pem=signer_key_pem.encode("utf-8"), parts=False
            )
            event["package"] = str(checked.manifest["package_id"])
            report = import_rows(
                checked, self.vault, workers=workers, normalise=unmark_row, progress=progress
            )
            event.update(imported=report.imported, canaries_dropped=report.canaries_dropped)
        return report, checked.pinned

    # -- decision and audit --------------------------------------------------------
    @contextmanager
    def _allowed(
        self,
        action: Action,
        details: dict[str, DetailValue],
        lab_id: str | None,
        *,
        unlock: bool = True,
    ) -> Iterator[dict[str, DetailValue]]:
        """Decide, unwrap the granted compartments, then one event with the outcome.

        ``unlock=False`` for reads of plans and certificates: they hold no
        patient value, so no compartment key is unwrapped for them.
        """
        extra: dict[str, DetailValue] = dict(details)
        decision = self._decide(action, extra, lab_id)
        if unlock:
            self.vault.unlock(decision.compartments)
        try:
            yield extra
        except PermissionDenied as exc:
            extra["reason"] = str(exc)[:300]
            self._event(action, Outcome.DENIED, extra)
            raise
        except EtancheError as exc:
            extra["error"] = type(exc).__name__
            refused = extra.pop(_REFUSED, None)
            if refused is not None:
                extra["reason"] = refused
            self._event(action, Outcome.FAILED if refused is None else Outcome.DENIED, extra)
            raise
        self._event(action, Outcome.OK, extra)

    def _decide(
        self, action: Action, details: dict[str, DetailValue], lab_id: str | None
    ) -> Decision:
        """Shred what expired, ask the policy; a refusal is audited with its reason, raised."""
        shred_expired_artefacts(self.vault, self.trail, client=self.client or "server")
        decision = can(self.actor, action, Resource(MIGRATION, lab_id))
        if not decision.allowed:
            self._event(action, Outcome.DENIED, {**details, "reason": decision.reason})
            raise PermissionDenied(decision.reason)
        return decision

    def _event(self, action: Action, outcome: Outcome, details: dict[str, DetailValue]) -> None:
        self.trail.record(self.actor, action, outcome, client=self.client, details=details)
