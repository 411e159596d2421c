"""The demo's migration: the 2020 case replayed the way Étanche makes it go.

The old system's flat export (synthetic) is the source; the migration operator
registers a plan for one lab and a few fields, the lab admin and the DPO approve
it, the dry run reports, the package is built (fingerprinted, with canaries,
age-encrypted to the new system), the recipient verifies it, and the plan is
closed with a signed deletion certificate. Every step is an audit event.
"""

from __future__ import annotations

import json
from pathlib import Path

import yaml

from etanche._files import private_dir, write_private
from etanche.access import Action, Actor, Resource, can
from etanche.audit import Outcome
from etanche.cli import _legacy as ctx
from etanche.crypto import AgeIdentity
from etanche.exchange import LEGACY_COLUMNS, write_legacy_csv
from etanche.migrate import (
    Plans,
    Reconciliation,
    build_package,
    check_plan,
    close_plan,
    load_plan,
    open_package,
    package_rows,
    verify_certificate,
)
from etanche.service import Trail, marker_for
from etanche.synth import SynthNetwork
from etanche.vault import Vault

__all__ = ["migration_tour"]


def _plan(folder: Path, lab: str, labs: list[str], recipient: str) -> Path:
    plan = {
        "plan": f"demo-{lab.lower()}-new-lis",
        "controller": {"name": "Réseau de démonstration", "labs": labs},
        "processor": {"name": "Éditeur LIS SAS (synthetic)", "contact": "dpo@lis.example"},
        "purpose": f"Move the patient files of {lab} to the new lab system",
        "source": {"format": "legacy-csv", "path": "legacy-export.csv"},
        "scope": {"labs": [lab]},
        "fields": {
            "admin": ["birth_name", "first_names", "sex", "birth_date", "nir", "phone", "email"],
            "clinical": ["blood_group"],
        },
        "recipients": [{"name": "Nouveau LIS (synthetic)", "age": recipient}],
        "retention": {"expires": "2099-12-31"},
        "approvers": [
            {"username": "ylegoff", "role": "controller lab"},
            {"username": "aleroux", "role": "dpo"},
        ],
        "canary_rate": 0.002,
    }
    path = folder / "plan.yaml"
    write_private(path, yaml.safe_dump(plan, allow_unicode=True))
    return path


def _log(trail: Trail, actor: Actor, action: Action, **details: str | int) -> None:
    trail.record(actor, action, Outcome.OK, client="demo", details=dict(details))


def migration_tour(
    store: Vault, trail: Trail, actors: dict[str, Actor], network: SynthNetwork, directory: Path
) -> None:
    """Plan, approve, check, run, verify and close one lab's migration."""
    say = ctx.console.print
    folder = directory / "migration"
    private_dir(folder)
    source = folder / "legacy-export.csv"
    write_legacy_csv(network, source)  # the old system's extract (synthetic)
    recipient = AgeIdentity.generate()
    lab = network.labs[0].id
    plan = load_plan(_plan(folder, lab, [x.id for x in network.labs], recipient.public_text()))
    operator, admin, dpo = actors["tguivarch"], actors["ylegoff"], actors["aleroux"]
    plans = Plans(store)
    plans.register(plan, operator.username)
    _log(trail, operator, Action.MIGRATION_PLAN, plan=plan.id)
    for approver in (admin, dpo):
        plans.approve(plan, approver.username)
        _log(trail, approver, Action.MIGRATION_APPROVE, plan=plan.id)
    say(
        f"\n[bold]Thomas Guivarch (migration operator)[/bold] registers plan {plan.id}: lab "
        f"{lab}, {len(plan.allowed)} fields of the {len(LEGACY_COLUMNS)} columns of the old "
        "export; Yannick Le Goff and Anne Le Roux approve it (signed)."
    )
    report = check_plan(plan, workers=1).to_dict()
    _log(trail, operator, Action.MIGRATION_PLAN, plan=plan.id, step="check")
    refused = ", ".join(report["columns"]["refused_credentials"]) or "none"
    say(
        f"  dry run: {report['records']:,} rows read, {report['valid']:,} valid in scope, "
        f"{report['rejected']} rejected, {report['out_of_scope']:,} out of scope; "
        f"credential columns refused: {refused}."
    )
    decision = can(operator, Action.MIGRATION_RUN, Resource("migration", lab))
    store.unlock(decision.compartments)  # canaries are planted as decoys: lab keys needed
    result = build_package(
        plan,
        store,
        folder / "package",
        actor=operator.username,
        outbound=marker_for(plan, store),
        workers=1,
    )
    _log(trail, operator, Action.MIGRATION_RUN, plan=plan.id, package=result.package_id)
    say(
        f"  package {result.package_id}: {result.records:,} records and {result.canaries} "
        f"canaries in {result.parts} age-encrypted parts, manifest signed, fingerprinted for "
        "its recipient."
    )
    checked = open_package(
        folder / "package", [recipient], signer_key_pem=plans.signer.public_key_pem()
    )
    reconciliation = Reconciliation(checked.manifest)
    received = sum(1 for _ in package_rows(checked, reconciliation))
    say(
        f"  the new system verifies signature and hashes: {received:,} records, "
        f"{reconciliation.canaries_dropped} canaries dropped, counts match the manifest: "
        f"{reconciliation.matches}."
    )
    signed = close_plan(store, plan.id, actor=dpo.username, reason="migration done")
    _log(trail, dpo, Action.MIGRATION_CLOSE, plan=plan.id)
    verify_certificate(signed, plans.signer.public_key_pem())
    certificate = folder / "deletion-certificate.json"
    write_private(certificate, json.dumps(signed, indent=1, sort_keys=True))
    source.unlink()
    say(
        f"  closed: {len(signed['certificate']['artefacts'])} files destroyed, "
        f"{len(signed['certificate']['keys_shredded'])} key shredded, certificate signed "
        f"({certificate.name}); the legacy export is deleted."
    )
