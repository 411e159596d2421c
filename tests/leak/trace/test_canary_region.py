"""Canaries look like the exported lab's patients and are recognised from one identifier."""

from __future__ import annotations

import random
from dataclasses import replace

from etanche.leak.trace import (
    PATIENT_FIELDS,
    CanaryList,
    ExportModel,
    MemoryIdentifier,
    attribute,
    canary_list,
    canonical_row,
    filter_survival,
    identify_rows,
    localise,
    make_canaries,
    new_export_mark,
    observe_rows,
    render_row,
)
from etanche.synth import SynthConfig, generate
from etanche.vault import Vault

COLUMNS = [c for c in PATIENT_FIELDS if c != "lab"]


def test_no_single_column_filter_removes_the_canaries() -> None:
    network = generate(SynthConfig(patients=2000, labs=3, seed=41))
    lab = network.labs[0].id
    real = [p for p in network.patients() if p.lab_id == lab]
    drawn = [
        replace(p, lab_id=lab) for p in generate(SynthConfig(patients=400, seed=99)).patients()
    ]
    rng = random.Random(1)
    rows = [canonical_row(p) for p in real]
    local = [canonical_row(localise(p, real, rng)) for p in drawn]
    best = filter_survival(rows, local[:200], COLUMNS, held_out=local[200:])
    assert best.real_kept >= 0.9 and best.canaries_kept >= 0.85, best
    # canaries drawn for a made-up lab (before) are singled out by their physicians, towns…
    elsewhere = [canonical_row(p) for p in drawn]
    assert (
        filter_survival(rows, elsewhere[:200], COLUMNS, held_out=elsewhere[200:]).canaries_kept
        < 0.5
    )


def test_planted_canaries_carry_the_labs_own_places_physicians_and_offices(
    loaded_vault: Vault,
) -> None:
    own = [canonical_row(p) for p in loaded_vault.get_many(loaded_vault.patient_ids("L02"))]
    canaries = make_canaries("e1", 6, vault=loaded_vault, lab_id="L02", seed=4242)
    for column in ("postcode", "city", "physician_rpps", "amo_caisse", "amc_name"):
        values = {r.get(column) for r in own}
        assert all(c.fields.get(column) in values for c in canaries), column
    for c in canaries:  # the NIR agrees with the canary's sex, birth date and birthplace
        nir = c.fields["nir"]
        assert nir[0] == ("2" if c.fields["sex"] == "F" else "1")
        assert nir[1:5] == c.fields["birth_date"][2:4] + c.fields["birth_date"][5:7]
        assert nir[5:10] == c.fields["birthplace_insee"]


def test_the_importer_recognises_a_canary_from_any_one_identifier(loaded_vault: Vault) -> None:
    canaries = make_canaries("e2", 4, vault=loaded_vault, lab_id="L01", seed=777)
    listed = CanaryList.from_dict(canary_list(canaries).to_dict())
    for c in canaries:
        for name in ("nir", "phone", "email"):
            if c.fields.get(name):
                assert listed.matches({name: c.fields[name].split("\n")[0]}), name


def test_a_canary_is_hit_from_its_nir_and_name_alone() -> None:
    network = generate(SynthConfig(patients=600, labs=2, seed=5))
    rows = {p.id: canonical_row(p) for p in network.patients()}
    lab = network.labs[0].id
    donors = [p for p in network.patients() if p.lab_id == lab]
    rng = random.Random(2)
    drawn = generate(SynthConfig(patients=10, labs=2, seed=6)).patients()
    canaries = {f"canary-{i}": canonical_row(localise(p, donors, rng)) for i, p in enumerate(drawn)}
    mark = new_export_mark()
    scope = [p.id for p in donors]
    export = ExportModel(mark.export_id, "r", mark, frozenset(scope), frozenset(canaries))
    other = new_export_mark()
    innocent = ExportModel(other.export_id, "s", other, frozenset(scope), frozenset())
    identifier = MemoryIdentifier({**rows, **canaries})
    columns = ("birth_name", "first_names", "nir")
    leaked = [render_row(rows[p], mark=mark, row_key=p) for p in scope[:30]]
    leaked += [render_row(c, mark=mark, row_key=k) for k, c in canaries.items()]
    found = observe_rows(columns, [[r.get(c, "") for c in columns] for r in leaked])
    result = attribute(identify_rows(found, identifier), [export, innocent])
    top = result.rounds[0].scores[0]
    assert top.export_id == export.export_id
    assert top.canary_hits == len(canaries)  # every canary holds a NIR
    assert top.log10_p_canary < -9
    assert result.rounds[0].scores[1].canary_hits == 0
