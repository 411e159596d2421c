"""A developer (or a vendor's patch) adds a CLI or web module that reaches for the keys.

The layer contract of ``tests/test_layers.py`` must name it: a copy of the real
adapters with one rogue module added fails, the real adapters pass.
"""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent.parent))

from test_layers import SRC, adapter_breaches

ROGUE = {
    "reads the vault": "from etanche.vault import Vault\n",
    "unwraps keys": "from etanche.crypto import PassphraseKeyFile\n",
    "decides itself": "from etanche.access import can\n\ndef ok(a):\n    return can(a, 1, 2)\n",
    "logs itself": "def done(trail):\n    trail.record(None, 'patient.read', 'ok')\n",
}


def _breaches(folder: Path) -> list[str]:
    found: list[str] = []
    for path in sorted(folder.rglob("*.py")):
        module = "etanche." + ".".join(path.relative_to(folder.parent).with_suffix("").parts)
        found += [str(b) for b in adapter_breaches(path.read_text(encoding="utf-8"), module)]
    return found


@pytest.mark.parametrize("move", sorted(ROGUE))
def test_a_rogue_adapter_module_fails_the_contract(move: str, tmp_path: Path) -> None:
    copy = tmp_path / "cli"
    shutil.copytree(SRC / "cli", copy)
    assert _breaches(copy) == []  # the real CLI holds no key and decides nothing
    (copy / "_backdoor.py").write_text(ROGUE[move], encoding="utf-8")
    found = _breaches(copy)
    assert found and all("_backdoor" in b for b in found)
