"""What every command and the server do on opening the vault: shred what expired.

A migration's artefacts must not outlive the plan's retention date even if
nobody remembers to close it (finding F5: the extract was never deleted). The
first command or server start after the date closes the plan, destroys its
packages and keys, signs the deletion certificate and logs it as the system.
"""

from __future__ import annotations

from collections.abc import Callable

from etanche.access import Action
from etanche.audit import Outcome
from etanche.migrate import shred_expired
from etanche.service._trail import SYSTEM, Trail
from etanche.vault import Vault

__all__ = ["shred_expired_artefacts"]


def shred_expired_artefacts(
    vault: Vault, trail: Trail | Callable[[], Trail], *, client: str
) -> list[str]:
    """Close every migration plan past its retention date, audited; return their ids.

    ``trail`` may be a factory: a command that keeps no trail of its own opens
    one only on the rare day something has expired.
    """
    closed = shred_expired(vault)
    if not closed:
        return closed
    opened = trail() if callable(trail) else trail
    try:
        for plan_id in closed:
            opened.record(
                SYSTEM,
                Action.MIGRATION_CLOSE,
                Outcome.OK,
                client=client,
                details={"plan": plan_id, "reason": "retention date passed"},
            )
    finally:
        if opened is not trail:
            opened.close()
    return closed
