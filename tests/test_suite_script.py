"""A fresh machine runs the whole suite with one script, and CI skips nothing.

README's test command and ``.ci/run`` both call ``scripts/test-suite.sh``, which
installs every Debian package a test starts itself. Every skip in the suite is
for a missing tool, and under ``CI`` a missing tool must fail instead: each
``pytest.skip`` call sits right after a ``CI`` check that fails, and each
``skipif`` condition spares CI.
"""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SCRIPT = ROOT / "scripts" / "test-suite.sh"
PACKAGES = (
    "postgresql",
    "postgresql-15-auto-failover",
    "chromium",
    "fonts-dejavu-core",
    "age",
    "softhsm2",
)


def test_readme_and_ci_call_the_one_script() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert "```sh\nscripts/test-suite.sh\n```" in readme
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    assert re.search(r"^CI=\S+ exec scripts/test-suite\.sh", ci, re.MULTILINE)
    assert "pytest" not in ci  # the script, not a second copy of the command


def test_the_script_installs_every_tool_the_tests_start() -> None:
    text = SCRIPT.read_text(encoding="utf-8")
    assert SCRIPT.stat().st_mode & 0o111, "scripts/test-suite.sh must be executable"
    for package in PACKAGES:
        assert re.search(rf"missing\+=\({re.escape(package)}\)", text), package
    assert "apt-get install" in text
    assert "-m venv .venv" in text and "pip install -q -e '.[test]'" in text
    assert "-m pytest" in text


def test_no_test_skips_under_ci() -> None:
    loose: list[str] = []
    for path in sorted((ROOT / "tests").rglob("*.py")):
        if path == Path(__file__):
            continue
        lines = path.read_text(encoding="utf-8").splitlines()
        for number, line in enumerate(lines):
            where = f"{path.relative_to(ROOT)}:{number + 1}"
            if "pytest.skip(" in line:
                before = "\n".join(lines[max(0, number - 4) : number])
                if 'os.environ.get("CI")' not in before or "pytest.fail(" not in before:
                    loose.append(where)
            if "skipif(" in line:
                condition = "\n".join(lines[number : number + 3])
                if 'not os.environ.get("CI")' not in condition:
                    loose.append(where)
    assert loose == [], f"skips that would also skip under CI: {loose}"
