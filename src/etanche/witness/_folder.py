"""A witness's own folder: its key, the logs it watches, what it cosigned, what it refused.

Nothing here comes from a vault. ``witness.key`` is the witness's Ed25519 seed
(0600, in a 0700 folder, held by whoever runs the witness); ``witness.json``
names the witness and pins each log's verifier key by origin; ``state.json``
keeps, per origin, the size and root of the latest checkpoint it cosigned,
written (temporary file, fsync, rename) before any cosignature leaves;
``refusals.jsonl`` is the append-only record of every refused checkpoint.
"""

from __future__ import annotations

import base64
import json
import os
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from etanche._files import open_private, private_dir, write_private
from etanche.audit import COSIGNATURE_V1, ED25519, NoteKey
from etanche.crypto import Signer, new_seed
from etanche.errors import SourceError, UsageError

KEY_FILE = "witness.key"
CONFIG_FILE = "witness.json"
STATE_FILE = "state.json"
REFUSALS_FILE = "refusals.jsonl"
FORMAT = "etanche-witness/1"


@dataclass(frozen=True, slots=True)
class Cosigned:
    """The latest checkpoint a witness cosigned for one log."""

    size: int
    root: bytes


class WitnessFolder:
    """Reads and writes one witness's folder; the caller serialises writes."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        config = _read_json(folder / CONFIG_FILE)
        if config.get("format") != FORMAT:
            raise UsageError(f"witness {folder}: not a witness folder (run `etanche witness init`)")
        self.name = str(config["name"])
        self.logs = {
            key.name: key
            for key in (NoteKey.parse(text, "witness.json log key") for text in config["logs"])
        }
        try:
            seed = (folder / KEY_FILE).read_bytes()
        except OSError as exc:
            raise UsageError(
                f"witness {folder}: cannot read its key ({type(exc).__name__})"
            ) from None
        self.signer = Signer.from_seed(seed)
        self.key = NoteKey.for_signer(self.name, COSIGNATURE_V1, self.signer)
        doc = _read_json(folder / STATE_FILE) if (folder / STATE_FILE).exists() else {}
        self.state = {
            origin: Cosigned(int(entry["size"]), base64.b64decode(entry["root"]))
            for origin, entry in doc.get("logs", {}).items()
        }

    @classmethod
    def create(cls, folder: Path, name: str, log_keys: list[NoteKey]) -> WitnessFolder:
        """A new witness: fresh key, the logs it will watch (pinned), empty state."""
        if (folder / CONFIG_FILE).exists():
            raise UsageError(f"witness {folder}: already exists")
        if not log_keys or any(key.kind != ED25519 for key in log_keys):
            raise UsageError("witness: give each log's Ed25519 verifier key (--log-key)")
        NoteKey.of(name, COSIGNATURE_V1, bytes(32))  # checks the name
        private_dir(folder)
        write_private(folder / KEY_FILE, new_seed())
        doc = {"format": FORMAT, "name": name, "logs": [key.text() for key in log_keys]}
        write_private(folder / CONFIG_FILE, json.dumps(doc, indent=2) + "\n")
        return cls(folder)

    def save(self, origin: str, cosigned: Cosigned) -> None:
        """Persist the new state before the cosignature is returned (fsync, rename)."""
        self.state[origin] = cosigned
        doc = {
            "format": FORMAT,
            "logs": {
                o: {"size": c.size, "root": base64.b64encode(c.root).decode("ascii")}
                for o, c in sorted(self.state.items())
            },
        }
        write_private(self.folder / STATE_FILE, json.dumps(doc, indent=2) + "\n")

    def refuse(
        self, origin: str, old: int | None, size: int | None, status: int, reason: str
    ) -> None:
        """Append one refusal (no checkpoint body: sizes, status and the reason)."""
        entry = {
            "at": datetime.now(UTC).isoformat(timespec="seconds"),
            "origin": origin[:200],
            "old": old,
            "size": size,
            "status": status,
            "reason": reason,
        }
        with open_private(self.folder / REFUSALS_FILE, "a") as handle:
            handle.write(json.dumps(entry, sort_keys=True) + "\n")
            handle.flush()
            os.fsync(handle.fileno())

    def refusals(self) -> list[dict[str, Any]]:
        path = self.folder / REFUSALS_FILE
        if not path.exists():
            return []
        return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line]


def _read_json(path: Path) -> dict[str, Any]:
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise UsageError(f"witness {path.parent}: {path.name} is missing") from None
    except (OSError, ValueError) as exc:
        raise SourceError(f"{path.name}: unreadable ({type(exc).__name__})") from None
    if not isinstance(doc, dict):
        raise SourceError(f"{path.name}: expected a JSON object")
    return doc
