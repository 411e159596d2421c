"""A migration package's rows (not vault patients) marked, then traced through the ledger."""

from __future__ import annotations

import csv
import json
import uuid
from pathlib import Path
from typing import Any

import pytest

from etanche.audit._decoys import is_decoy
from etanche.leak.trace import Ledger, MarkedOutbound, canonical_row
from etanche.leak.trace._canaries import make_canaries
from etanche.leak.trace._files import trace_file
from etanche.synth import SynthConfig, generate
from etanche.vault import Vault


def package_rows(n: int) -> list[tuple[str, dict[str, Any]]]:
    """Rows as the package builder hands them over: a legacy source, uuid5 row keys."""
    network = generate(SynthConfig(patients=n, labs=1, seed=404))
    namespace = uuid.uuid4()
    return [
        (str(uuid.uuid5(namespace, str(i))), {"lab": "L01", "fields": canonical_row(p),
                                               "specimens": []})
        for i, p in enumerate(network.patients(), start=1)
    ]  # fmt: skip


def build(outbound: MarkedOutbound, rows: list[tuple[str, dict[str, Any]]]) -> list[dict[str, Any]]:
    """What etanche.migrate's build_package does with an Outbound, for one part."""
    rendered = [(key, outbound.render(row, row_key=key)) for key, row in rows]
    extra = outbound.canaries(1, len(rows))
    rendered += [(key, outbound.render(row, row_key=key)) for key, row in extra]
    keys = [key for key, _ in rendered]
    written = [{"ref": rendered[i][0], **rendered[i][1]} for i in outbound.order(keys)]
    outbound.finish([key for key, _ in rows])
    return written


def test_a_leaked_package_is_traced_without_its_patients_in_the_vault(
    loaded_vault: Vault, tmp_path: Path
) -> None:
    rows = package_rows(60)
    outbound = MarkedOutbound(
        loaded_vault, recipient="New lab system", purpose="plan P-7", retention_days=30,
        canary_rate=0.01,
    )  # fmt: skip
    written = build(outbound, rows)
    canary_keys = json.loads(outbound.sealed_list())
    assert len(canary_keys) == 2 and len(written) == 62
    assert all(is_decoy(loaded_vault, pid) for pid in outbound.canary_keys.values())
    assert all(len(k) == 36 and k[14] == "5" for k in canary_keys)  # shaped like the others
    # our importer drops the canaries by ref
    assert len([r for r in written if r["ref"] not in canary_keys]) == 60
    # the vendor's copy leaks: 20 rows with their names and phones, no canary
    leaked = [r for r in written if r["ref"] not in canary_keys][:20]
    path = tmp_path / "leak.csv"
    with path.open("w", encoding="utf-8", newline="") as handle:
        out = csv.writer(handle)
        out.writerow(["nom", "prenom", "date de naissance", "telephone", "email", "adresse"])
        for r in leaked:
            f = r["fields"]
            out.writerow([f.get(k, "") for k in ("birth_name", "first_names", "birth_date",
                                                  "phone", "email", "address_line")])  # fmt: skip
    entries = Ledger(loaded_vault).entries()
    assert [e.export_id for e in entries] == [outbound.mark.export_id]
    result = trace_file(path, entries, vault=loaded_vault).result
    assert result.identified == 20
    assert [s.export_id for s in result.sources] == [outbound.mark.export_id]


def test_a_resumed_package_marks_the_same_way(loaded_vault: Vault) -> None:
    rows = package_rows(10)
    first = MarkedOutbound(loaded_vault, recipient="R", purpose="p", retention_days=1,
                           marks=["phone", "case"], canary_rate=0)  # fmt: skip
    a = [first.render(row, row_key=key) for key, row in rows[:5]]
    again = MarkedOutbound.from_state(loaded_vault, json.loads(json.dumps(first.to_state())))
    assert [again.render(row, row_key=key) for key, row in rows[:5]] == a
    keys = [key for key, _ in rows]
    assert again.order(keys) == list(range(10))  # no order mark: source order
    assert again.canaries(1, 10) == []


def test_canaries_of_a_resumed_package_still_count_in_a_trace(
    loaded_vault: Vault, tmp_path: Path
) -> None:
    """Earlier parts' canaries leave no tokens after a resume: the vault recognises them."""
    rows = package_rows(40)
    first = MarkedOutbound(loaded_vault, recipient="R", purpose="p", retention_days=30,
                           canary_rate=0.05)  # fmt: skip
    rendered = [(key, first.render(row, row_key=key)) for key, row in rows]
    canaries = [(key, first.render(row, row_key=key)) for key, row in first.canaries(1, 40)]
    resumed = MarkedOutbound.from_state(loaded_vault, json.loads(json.dumps(first.to_state())))
    for key, row in rows:  # what build_package re-renders on resume: the real rows only
        resumed.render(row, row_key=key)
    resumed.finish([key for key, _ in rows])
    path = tmp_path / "leak.csv"
    with path.open("w", encoding="utf-8", newline="") as handle:
        out = csv.writer(handle)
        out.writerow(["nom", "prenom", "date de naissance", "nir", "telephone"])
        for _, r in [*rendered[:20], *canaries]:
            f = r["fields"]
            out.writerow([f.get(k, "") for k in ("birth_name", "first_names", "birth_date",
                                                  "nir", "phone")])  # fmt: skip
    result = trace_file(path, Ledger(loaded_vault).entries(), vault=loaded_vault).result
    assert [s.export_id for s in result.sources] == [first.mark.export_id]
    assert result.sources[0].canary_hits == len(canaries) >= 2


def test_canaries_are_planted_in_batches_and_the_spares_erased(
    loaded_vault: Vault, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Twenty parts plant a handful of times, not twenty; nothing planted stays unexported."""
    import etanche.leak.trace._outbound as outbound_module

    plantings: list[int] = []

    def counted(*args: Any, **kwargs: Any) -> Any:
        plantings.append(args[1])
        return make_canaries(*args, **kwargs)

    monkeypatch.setattr(outbound_module, "make_canaries", counted)
    rows = package_rows(20 * 10)
    marker = MarkedOutbound(loaded_vault, recipient="R", purpose="p", retention_days=30,
                            canary_rate=0.1)  # fmt: skip
    live_before = loaded_vault.count()
    written: list[str] = []
    for part in range(20):
        chunk = rows[part * 10 : (part + 1) * 10]
        for key, row in chunk:
            marker.render(row, row_key=key)
        written += [key for key, _ in marker.canaries(part + 1, len(chunk))]
    marker.finish([key for key, _ in rows])
    assert len(written) == len(set(written)) == 21  # two in the first part, then one a part
    assert len(plantings) <= 6 and sum(plantings) > len(written)  # batches, some spare
    assert loaded_vault.count() == live_before + len(written)  # the spares were erased
    assert all(is_decoy(loaded_vault, marker.canary_keys[key]) for key in written)
