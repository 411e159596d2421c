"""The demo's migration and supervision, as people run them through the service.

The old system's flat export (synthetic) is the source; the migration operator
registers a plan for one lab and a few fields, the lab admin and the DPO approve
it, the dry run reports, the service builds the package (fingerprinted, with
canaries, age-encrypted to the new system), the recipient verifies it on their
side, and the DPO closes the plan with a signed deletion certificate. Then the
DPO plants decoys and the auditor verifies the whole log with its public key.

The only bulk output of the demo is that package, through an approved plan; the
legacy CSV it starts from is synthetic (``write_legacy_csv`` of the generated
network, 0600) and is deleted when the plan closes.
"""

from __future__ import annotations

import json
import time
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import yaml

from etanche._files import private_dir, write_private
from etanche.cli import _context as ctx
from etanche.cli._demo_cast import Cast

__all__ = ["migration_tour", "supervision_tour"]


def _plan(folder: Path, lab: str, labs: list[str], recipient: str) -> Path:
    plan = {
        "plan": f"demo-{lab.lower()}-new-lis",
        "controller": {"name": "Réseau de démonstration", "labs": labs},
        "processor": {"name": "Éditeur SIL SAS (fictif)", "contact": "dpo@sil.example"},
        "purpose": f"Transfert des dossiers patients de {lab} vers le nouveau SIL",
        "source": {"format": "legacy-csv", "path": "legacy-export.csv"},
        "scope": {"labs": [lab]},
        "fields": {
            "admin": ["birth_name", "first_names", "sex", "birth_date", "nir", "phone", "email"],
            "clinical": ["blood_group"],
        },
        "recipients": [{"name": "Nouveau SIL (fictif)", "age": recipient}],
        "retention": {"expires": (date.today() + timedelta(days=90)).isoformat()},
        "approvers": [
            {"username": "ylegoff", "role": "lab_admin"},
            {"username": "aleroux", "role": "dpo"},
        ],
        "canary_rate": 0.002,
    }
    path = folder / "plan.yaml"
    write_private(path, yaml.safe_dump(plan, allow_unicode=True))
    return path


def _body(plan: Path) -> dict[str, Any]:
    return {"text": plan.read_text(encoding="utf-8"), "name": plan.name, "folder": str(plan.parent)}


def migration_tour(cast: Cast, network: Any, directory: Path) -> None:
    """Plan, approve, check, run, verify and close one lab's migration."""
    from etanche.exchange import LEGACY_COLUMNS, write_legacy_csv
    from etanche.migrate import (
        Reconciliation,
        new_recipient_identity,
        open_received,
        package_rows,
    )

    say = ctx.console.print
    folder = directory / "migration"
    private_dir(folder)
    source = folder / "legacy-export.csv"
    write_legacy_csv(network, source)  # the old system's extract (synthetic)
    secret, public = new_recipient_identity()
    lab = network.labs[0].id
    plan = _plan(folder, lab, [x.id for x in network.labs], public)
    operator = cast.client("tguivarch")
    registered = operator.post("/migrations/plan", _body(plan))
    for approver in ("ylegoff", "aleroux"):
        cast.client(approver).post("/migrations/approve", _body(plan))
    fields = len(yaml.safe_load(plan.read_text())["fields"]["admin"]) + 1
    say(
        f"\n[bold]Thomas Guivarch (migration operator)[/bold] registers plan "
        f"{registered['plan']}: lab {lab}, {fields} fields of the {len(LEGACY_COLUMNS)} columns "
        "of the old export; Yannick Le Goff and Anne Le Roux approve it (signed)."
    )
    checked = ctx.follow(
        operator.stream("POST", "/migrations/check", {**_body(plan), "workers": 1}),
        "Dry run",
    )
    report = checked["report"]
    refused = ", ".join(report["columns"]["refused_credentials"]) or "none"
    say(
        f"  dry run: {report['records']:,} rows read, {report['valid']:,} valid in scope, "
        f"{report['rejected']} rejected, {report['out_of_scope']:,} out of scope; "
        f"credential columns refused: {refused}."
    )
    package = folder / "package"
    result = ctx.follow(
        operator.stream(
            "POST", "/migrations/run", {**_body(plan), "out": str(package), "workers": 1}
        ),
        "Packaging",
    )
    say(
        f"  package {result['package']}: {result['records']:,} records and {result['canaries']} "
        f"canaries in {result['parts']} age-encrypted parts, manifest signed, fingerprinted for "
        "its recipient (written by the service, folder 0700, files 0600)."
    )
    opened = open_received(package, secret, signer_key_pem=None)
    reconciliation = Reconciliation(opened.manifest)
    received = sum(1 for _ in package_rows(opened, reconciliation))
    say(
        f"  the new system verifies signature and hashes on its side: {received:,} records, "
        f"{reconciliation.canaries_dropped} canaries dropped, counts match the manifest: "
        f"{reconciliation.matches}."
    )
    signed = cast.client("aleroux").post(f"/migrations/{registered['plan']}/close")
    certificate = folder / "deletion-certificate.json"
    write_private(certificate, json.dumps(signed, indent=1, sort_keys=True))
    source.unlink()
    body = signed.get("certificate", signed)
    say(
        f"  Anne Le Roux closes it: {len(body['artefacts'])} files destroyed, "
        f"{len(body['keys_shredded'])} key shredded, certificate signed "
        f"({certificate.name}); the legacy export is deleted."
    )


def supervision_tour(cast: Cast, directory: Path) -> None:
    """Decoys planted by the DPO; the log verified by the auditor with its public key only."""
    from etanche import verify as offline
    from etanche.cli._audit import _pages

    say = ctx.console.print
    dpo = cast.client("aleroux")
    planted = dpo.post("/decoys/plant", {"count": 10})
    alerts = dpo.get("/alerts", all="true")
    auditor = cast.client("lpriol")
    auditor.post("/audit/head")
    pinned = directory / "audit-public.pem"  # exported once, kept outside the server
    keys = auditor.get("/audit/public-key")
    write_private(pinned, str(keys["pem"]))
    listing = directory.with_name(directory.name + "-witnesses.txt")
    log = offline.NoteKey.parse(str(keys["vkey"]))
    witnesses = offline.read_keys(listing, "witness") if listing.exists() else []
    for _ in range(50):  # the witness cosigns in the background: wait for the latest head
        snapshot = auditor.get("/audit/log")
        heads = offline.heads_from_wire(snapshot)
        if not witnesses or (heads and heads[-1].cosignatures):
            break
        time.sleep(0.2)
    reported = {}
    for key, url in witnesses:
        if url is not None and heads:
            endpoint = offline.WitnessEndpoint(key, url)
            reported[key.name] = offline.ask_witness_size(endpoint, heads[-1].note(log.public))
    pins = offline.Pins(log, tuple(k for k, _ in witnesses), len(witnesses), reported)
    report = offline.verify_download(snapshot, _pages(auditor, int(snapshot["size"])), pins)
    witnessed = (
        f"cosigned up to event {report.witnessed} by the witness in its own folder"
        if report.witnessed is not None
        else "not witnessed"
    )
    say(
        f"\n[bold]Audit log[/bold]: {report.events} events, {report.heads} signed heads, "
        f"downloaded and verified by Louise Priol (auditor) with the pinned log key and "
        f"witness: {'OK' if report.ok else 'FAILED'}, {witnessed}; "
        f"{planted.get('planted', 10)} decoy patients planted; "
        f"{alerts.get('count', len(alerts.get('alerts', [])))} alerts so far."
    )
