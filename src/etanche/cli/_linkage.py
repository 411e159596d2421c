"""``etanche identity link|pairs``: duplicate linkage across the network, via the service.

The service decrypts the identities in its own memory, links them and keeps the
queue; these commands print counts, pseudonymous record ids, weights and
comparison level codes, never an identity value.
"""

from __future__ import annotations

from typing import Annotated

import typer

from etanche.cli import _context as ctx
from etanche.cli._app import AsJson
from etanche.cli._identity import identity_app


@identity_app.command("link")
def link(as_json: AsJson = False) -> None:
    """Run the duplicate linkage over the network and replace the review queue (dpo).

    Splink's Fellegi–Sunter model, trained without labels, on identities the service
    decrypts in memory only; prints how many records were compared and pairs queued.
    """
    run = ctx.service().post("/identity/link", {})
    if as_json:
        ctx.echo_json(run)
        return
    ctx.say(
        f"Linked {run['records']} records: {run['pairs']} candidate pairs at or above "
        f"probability {run['threshold']} (run {run['run']}, {run['seconds']} s)."
    )


@identity_app.command("pairs")
def pairs(
    limit: Annotated[int, typer.Option(min=1, max=1000, help="Pairs to list.")] = 50,
    offset: Annotated[int, typer.Option(min=0, help="Pairs to skip.")] = 0,
    as_json: AsJson = False,
) -> None:
    """List the review queue, strongest first: record ids, labs, weight, levels (dpo)."""
    found = ctx.service().get("/identity/pairs", limit=limit, offset=offset)
    if as_json:
        ctx.echo_json(found)
        return
    from rich.table import Table

    table = Table("left", "right", "labs", "weight", "probability", "levels", title=None)
    for p in found["pairs"]:
        levels = ", ".join(
            f"{name}={code}" for name, code in p["levels"].items() if code not in ("null",)
        )
        table.add_row(
            p["left"],
            p["right"],
            f"{p['left_lab']}/{p['right_lab']}",
            f"{p['match_weight']:.1f}",
            f"{p['match_probability']:.4f}",
            levels,
        )
    ctx.console.print(table)
    ctx.say(f"{len(found['pairs'])} of {found['total']} pairs shown.")
