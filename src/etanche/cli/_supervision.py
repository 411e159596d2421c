"""``etanche alerts`` and ``etanche decoys``: supervision from the command line (F8)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from etanche.access import Action
from etanche.audit._alerts import Alert, AlertEngine
from etanche.audit._decoys import decoy_count, plant_decoys
from etanche.audit._events import DetailValue
from etanche.audit._rules import read_config
from etanche.audit._sinks import build_sinks
from etanche.cli import _legacy as ctx
from etanche.cli._app import app
from etanche.cli._legacy import Keyfile, Vault_
from etanche.vault import ALL_COMPARTMENTS

alerts_app = typer.Typer(help="Supervision alerts: list and acknowledge.", no_args_is_help=True)
decoys_app = typer.Typer(
    help="Decoy patients: realistic records whose touch raises a critical alert.",
    no_args_is_help=True,
)
app.add_typer(alerts_app, name="alerts")
app.add_typer(decoys_app, name="decoys")

Rules = Annotated[
    Path | None,
    typer.Option(
        "--rules",
        envvar="ETANCHE_RULES",
        help="Alert rules and sinks (YAML) laid over the packaged defaults.",
    ),
]


@alerts_app.command("list")
def alerts_list(
    show_all: Annotated[bool, typer.Option("--all", help="Acknowledged alerts too.")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="JSON on stdout.")] = False,
    rules: Rules = None,
    vault: Vault_ = None,
    keyfile: Keyfile = None,
) -> None:
    """List open alerts, newest first (--all for acknowledged ones too)."""
    config = read_config(rules)
    with ctx.authorized(vault, keyfile, Action.ALERT_READ) as (store, _, event):
        engine = AlertEngine(store.engine, config.rules, build_sinks(config))
        found = engine.list_alerts(open_only=not show_all)
        event["count"] = len(found)
    if as_json:
        typer.echo(json.dumps({"count": len(found), "alerts": [a.to_dict() for a in found]}))
        return
    if not found:
        ctx.console.print("No open alert." if not show_all else "No alert.")
        return
    ctx.console.print(_table(found))


@alerts_app.command("ack")
def alerts_ack(
    alert_id: Annotated[str, typer.Argument(help="Alert id (as printed by `alerts list`).")],
    note: Annotated[str | None, typer.Option(help="What was checked or done.")] = None,
    rules: Rules = None,
    vault: Vault_ = None,
    keyfile: Keyfile = None,
) -> None:
    """Acknowledge an alert as the logged-in person: records who, when and the note; once."""
    config = read_config(rules)
    details: dict[str, DetailValue] = {"alert": alert_id}
    with ctx.authorized(vault, keyfile, Action.ALERT_ACK, details) as (store, actor, _):
        engine = AlertEngine(store.engine, config.rules, build_sinks(config))
        alert = engine.acknowledge(alert_id, actor.username, note)
    ctx.console.print(f"Alert {alert.id} ({alert.rule}) acknowledged by {alert.acknowledged_by}.")


@alerts_app.command("rules")
def alerts_rules(
    as_json: Annotated[bool, typer.Option("--json", help="JSON on stdout.")] = False,
    rules: Rules = None,
) -> None:
    """Validate the rules file and show the rules in force and the sinks."""
    config = read_config(rules)
    sinks = build_sinks(config)
    described = [r.describe() for r in config.rules]
    if as_json:
        doc = {
            "source": config.source,
            "rules": described,
            "sinks": [{"name": s.name, "type": type(s).__name__} for s in sinks],
        }
        typer.echo(json.dumps(doc))
        return
    table = Table("rule", "enabled", "severity", "parameters", title=f"Rules ({config.source})")
    for rule in described:
        params = "; ".join(f"{k}={_shown(v)}" for k, v in rule["parameters"].items()) or "-"
        table.add_row(rule["name"], "yes" if rule["enabled"] else "no", rule["severity"], params)
    ctx.console.print(table)
    names = ", ".join(f"{s.name} ({type(s).__name__})" for s in sinks) or "none"
    ctx.console.print(f"Sinks: {names}.")


@decoys_app.command("plant")
def decoys_plant(
    n: Annotated[int, typer.Argument(min=1, max=100_000, help="How many decoys to add.")],
    vault: Vault_ = None,
    keyfile: Keyfile = None,
) -> None:
    """Add N realistic decoy patients; their ids are neither shown nor stored in clear."""
    details: dict[str, DetailValue] = {"operation": "plant", "count": n}
    with ctx.authorized(vault, keyfile, Action.DECOY_MANAGE, details) as (store, _, _e):
        # Planting writes sealed records under the lab keys; nothing is decrypted.
        store.unlock(ALL_COMPARTMENTS)
        planted = plant_decoys(store, n)
        total = decoy_count(store)
    ctx.console.print(
        f"Planted {len(planted)} decoy patients ({total} in the registry, kept as keyed "
        "digests only)."
    )


@decoys_app.command("count")
def decoys_count(vault: Vault_ = None, keyfile: Keyfile = None) -> None:
    """How many decoys the registry holds."""
    details: dict[str, DetailValue] = {"operation": "count"}
    with ctx.authorized(vault, keyfile, Action.DECOY_MANAGE, details) as (store, _, _e):
        total = decoy_count(store)
    ctx.console.print(f"{total} decoy patients in the registry.")


def _shown(value: object) -> str:
    return ", ".join(map(str, value)) if isinstance(value, list) else str(value)


def _table(found: list[Alert]) -> Table:
    table = Table("id", "raised (UTC)", "severity", "rule", "actor", "summary", "acknowledged")
    for alert in found:
        acked = (
            f"{alert.acknowledged_by} {alert.acknowledged_at:%Y-%m-%d %H:%M}"
            if alert.acknowledged_at
            else "-"
        )
        table.add_row(
            alert.id,
            f"{alert.created_at:%Y-%m-%d %H:%M}",
            alert.severity.value,
            alert.rule,
            alert.actor or "-",
            alert.summary,
            acked,
        )
    return table
