"""The marked ``Outbound`` of migration packages (the lead's seam in ``etanche.migrate``).

Package rows are ``{"lab", "fields", "specimens"}`` under row keys the package
builder makes (not vault patient ids: a migration reads a legacy source). Each
row's fields pass ``render_row``; its identity tokens (keyed digests, as the
vault's blind indexes compute them) are kept for the ledger so that trace can
recognise the rows later even though the vault does not hold those patients.
Canaries get row keys shaped like the builder's (UUID version 5), so nothing in
a package tells them apart; the sealed list names their keys for our importer.
"""

from __future__ import annotations

import json
import math
import secrets
import uuid
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from etanche.exchange import patient_fields
from etanche.leak.trace._canaries import CanaryRecord, make_canaries
from etanche.leak.trace._identify import VaultIdentifier
from etanche.leak.trace._identity import row_identity
from etanche.leak.trace._ledger import LedgerEntry, record_export
from etanche.leak.trace._mark import ExportMark, new_export_mark, render_row
from etanche.leak.trace._renderings import ORDER
from etanche.vault import Vault

__all__ = ["MarkedOutbound"]

PACKAGE_FORMAT = "migration-package"
RESERVE_MAX = 256  # canaries planted at most at once ahead of the parts that take them


def _uuid5_shaped() -> str:
    """A random key indistinguishable from the builder's uuid5 row keys."""
    return str(uuid.UUID(bytes=secrets.token_bytes(16), version=5))


class MarkedOutbound:
    """Fingerprints, canaries and the ledger entry of one migration package."""

    def __init__(
        self,
        vault: Vault,
        *,
        recipient: str,
        purpose: str,
        retention_days: int,
        marks: Sequence[str] | None = None,
        canary_rate: float = 0.001,
        lab_id: str | None = None,
        mark: ExportMark | None = None,
    ) -> None:
        self._vault = vault
        self._tokens = VaultIdentifier(vault)
        self.mark = mark or new_export_mark(marks)
        self.recipient = recipient
        self.purpose = purpose
        self.retention_days = retention_days
        self.canary_rate = canary_rate
        self.lab_id = lab_id
        self.canary_keys: dict[str, str] = {}  # package row key -> decoy patient id
        self.identities: dict[str, list[str]] = {}
        # planted for later parts; not in the state: a resumed run plants afresh and
        # what an interrupted run held back stays a decoy of nobody (harmless)
        self._reserve: list[CanaryRecord] = []
        self.entry: LedgerEntry | None = None

    # -- state kept by the builder between runs ----------------------------------
    def to_state(self) -> dict[str, Any]:
        """JSON-able state; store it sealed (it holds the export key).

        Identity tokens are left out: they grow with every row, and a resumed
        package run renders the rows of its finished parts again, which rebuilds
        them.
        """
        return {
            "export_id": self.mark.export_id,
            "key": self.mark.key.hex(),
            "marks": sorted(self.mark.marks),
            "recipient": self.recipient,
            "purpose": self.purpose,
            "retention_days": self.retention_days,
            "canary_rate": self.canary_rate,
            "lab_id": self.lab_id,
            "canary_keys": self.canary_keys,
        }

    @classmethod
    def from_state(cls, vault: Vault, state: Mapping[str, Any]) -> MarkedOutbound:
        mark = ExportMark(
            str(state["export_id"]), bytes.fromhex(state["key"]), frozenset(state["marks"])
        )
        out = cls(
            vault,
            recipient=str(state["recipient"]),
            purpose=str(state["purpose"]),
            retention_days=int(state["retention_days"]),
            canary_rate=float(state["canary_rate"]),
            lab_id=state.get("lab_id"),
            mark=mark,
        )
        out.canary_keys = dict(state["canary_keys"])
        out.identities = {k: list(v) for k, v in state.get("identities", {}).items()}
        return out

    # -- the Outbound protocol ----------------------------------------------------
    def render(self, row: Mapping[str, Any], *, row_key: str) -> dict[str, Any]:
        out, tokens = self._render(row, row_key)
        self.keep(row_key, str(row.get("lab") or ""), tokens)
        return out

    def renderer(self) -> Callable[[Mapping[str, Any], str], tuple[dict[str, Any], Any]]:
        """Rendering and identity tokens need only the export key and the index keys."""
        return self._render

    def _render(self, row: Mapping[str, Any], row_key: str) -> tuple[dict[str, Any], Any]:
        out = dict(row)
        fields = row.get("fields")
        if not isinstance(fields, Mapping):
            return out, None
        plain = {str(k): str(v) for k, v in fields.items()}
        out["fields"] = render_row(plain, mark=self.mark, row_key=row_key)
        return out, [self._tokens.token(n, v) for n, v in row_identity(plain)]

    def keep(self, row_key: str, lab: str, kept: Any) -> None:
        if kept is not None:
            self.identities[row_key] = list(kept)
        if self.lab_id is None and lab:
            self.lab_id = lab

    def order(self, row_keys: Sequence[str]) -> list[int]:
        if ORDER in self.mark.marks:
            return sorted(range(len(row_keys)), key=lambda i: self.mark.order_value(row_keys[i]))
        # source order for real rows; canaries slipped in at keyed places
        real = [i for i, k in enumerate(row_keys) if k not in self.canary_keys]
        for i, key in enumerate(row_keys):
            if key in self.canary_keys:
                real.insert(self.mark.order_value(key) % (len(real) + 1), i)
        return real

    def _drawn(self, wanted: int) -> list[CanaryRecord]:
        """``wanted`` canaries from the reserve, planting more when it runs short.

        Each planting draws a synthetic network, so a package plants in batches
        that double with what it has planted so far (up to ``RESERVE_MAX``),
        not part by part; ``finish`` erases what is left of the reserve.
        """
        if len(self._reserve) < wanted:
            planted = len(self.canary_keys) + len(self._reserve)
            batch = max(wanted - len(self._reserve), min(RESERVE_MAX, planted))
            assert self.lab_id is not None
            self._reserve += make_canaries(self.mark, batch, vault=self._vault, lab_id=self.lab_id)
        drawn, self._reserve = self._reserve[:wanted], self._reserve[wanted:]
        return drawn

    def canaries(self, part: int, records: int) -> list[tuple[str, dict[str, Any]]]:
        if self.canary_rate <= 0 or records <= 0 or self.lab_id is None:
            return []
        wanted = math.ceil(records * self.canary_rate)
        if not self.canary_keys:
            wanted = max(2, wanted)  # every package carries at least two
        if wanted <= 0:
            return []
        out = []
        for canary in self._drawn(wanted):
            key = _uuid5_shaped()
            self.canary_keys[key] = canary.row_key
            # a decoy's specimens too: a row without any would stand out among real ones
            record = patient_fields(
                self._vault.get(canary.row_key), self._vault.specimens_of(canary.row_key)
            )
            specimens = [dict(s) for s in record.specimens]
            out.append((key, {"lab": self.lab_id, "fields": canary.fields, "specimens": specimens}))
        return out

    def sealed_list(self) -> bytes:
        """The canaries' row keys as a JSON list (the package seals it to the recipient)."""
        return json.dumps(sorted(self.canary_keys)).encode()

    def finish(self, exported: Sequence[str]) -> None:
        for spare in self._reserve:  # planted, never written: not a decoy of this export
            self._vault.erase(spare.row_key)
        self._reserve = []
        self.entry = record_export(
            self._vault,
            self.mark,
            recipient=self.recipient,
            purpose=self.purpose,
            lab_id=self.lab_id or "",
            fmt=PACKAGE_FORMAT,
            rows=exported,
            # row keys (recognised through the package's tokens) and the decoys' patient
            # ids (recognised through the vault's blind indexes, even after a resumed run
            # whose earlier canaries left no tokens)
            canaries=[*self.canary_keys, *self.canary_keys.values()],
            retention_days=self.retention_days,
            identities=self.identities,
        )
