"""``etanche identity``: the desk and the officer through the service, values never printed."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from _cli import run
from _service import served
from etanche.access import Role
from etanche.domain import IdentityStatus
from etanche.synth import SynthConfig, generate

NETWORK = generate(SynthConfig(patients=30, labs=2, seed=18))


def test_identity_commands_from_desk_to_merge_and_back(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    mine = [p for p in NETWORK.patients() if p.lab_id == "L01"]
    victim, other = mine[0], mine[1]
    with served(tmp_path, monkeypatch, NETWORK) as site:
        site.add_person("mleguen", "Morgane Le Guen", Role.RECEPTION, ["L01"])
        site.add_person("kriou", "Katell Riou", Role.IDENTITY_OFFICER, ["L01"])
        site.as_person("kriou")
        code, out, err = run(
            capsys, "identity", "downgrade", victim.id, "--to", "PROV", "--reason", "identity_doubt"
        )
        assert code == 0, err
        site.as_person("mleguen")
        code, out, err = run(capsys, "identity", "downgrade", victim.id, "--to", "PROV",
                             "--reason", "identity_doubt")  # fmt: skip
        assert code == 7 and "Traceback" not in err
        code, out, err = run(capsys, "identity", "validate", victim.id, "--document", "permis")
        assert code == 3 and "document" in err and err.count("\n") == 1
        code, out, err = run(capsys, "identity", "validate", victim.id, "--document", "cni")
        assert code == 0 and "identity status VALI" in out, err
        code, out, err = run(capsys, "identity", "qualify", victim.id)
        assert code == 3 and "no INS was retrieved" in err
        result = tmp_path / "insi.json"
        result.write_text(
            json.dumps(
                {
                    "matricule": "285072901912345",
                    "oid": "1.2.250.1.213.1.4.8",
                    "birth_name": victim.birth_name.upper(),
                    "first_names": list(victim.first_names),
                    "sex": victim.sex.value,
                    "birth_date": victim.birth_date.isoformat(),
                    "birthplace_insee": victim.birthplace_insee,
                    "retrieved_on": "2026-12-02",
                }
            )
        )
        code, out, err = run(capsys, "identity", "retrieve-ins", victim.id, "--result", str(result))
        assert code == 0, err
        code, out, err = run(capsys, "identity", "qualify", victim.id, "--json")
        assert code == 0, err
        doc = json.loads(out)
        assert doc["status"] == IdentityStatus.QUALIFIED.value
        assert doc["ins"]["traits_differ"] == [] and "•" in doc["ins"]["matricule"]
        assert victim.birth_name not in out

        site.as_person("kriou")
        code, out, err = run(capsys, "identity", "merge", victim.id, other.id, "--yes", "--json")
        assert code == 0, err
        merge = json.loads(out)
        assert merge["state"] == "merged" and merge["approvers"] == ["kriou"]
        code, out, err = run(capsys, "identity", "unmerge", merge["id"], "--yes")
        assert code == 0 and "unmerged" in out, err
        code, out, err = run(capsys, "identity", "merges", "--json")
        assert [m["state"] for m in json.loads(out)["merges"]] == ["unmerged"]
