"""Child process of the resume test: build a package, SIGKILL itself at a chosen write.

argv: vault folder, plan file, package folder, kill point ("none", or "<n>:<when>"
where n counts atomic writes and when is "mid" (half a temporary file written) or
"after" (renamed, state not yet saved)).
"""

from __future__ import annotations

import os
import signal
import sys
from pathlib import Path

import etanche.migrate._package as package
from etanche.migrate import build_package, load_plan
from etanche.vault import Vault, parse_location

PASSPHRASE = "correct horse battery staple"


def main() -> None:
    vault_dir, plan_file, out, point = sys.argv[1:5]
    package.PART_ROWS = 15
    if point != "none":
        target, when = point.split(":")
        count = [0]
        original = package._write_atomic

        def killing_write(path: Path, data: bytes) -> None:
            count[0] += 1
            if count[0] == int(target):
                if when == "mid":
                    path.with_name(path.name + ".tmp").write_bytes(data[: len(data) // 2])
                else:
                    original(path, data)
                os.kill(os.getpid(), signal.SIGKILL)
            original(path, data)

        package._write_atomic = killing_write
    with Vault.open(parse_location(vault_dir), PASSPHRASE) as store:
        result = build_package(load_plan(Path(plan_file)), store, Path(out), actor="pgirard")
    print(result.content_sha256)


if __name__ == "__main__":
    main()
