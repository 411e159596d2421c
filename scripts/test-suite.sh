#!/usr/bin/env bash
# The whole test suite on a fresh Debian machine with only Python 3.11: installs
# what the tests start themselves (PostgreSQL's server binaries and
# pg_auto_failover for the failover test, Debian's
# Chromium for the browser tests, the stock age CLI that must decrypt migration
# packages, SoftHSM2 for the PKCS#11 key custody, DejaVu fonts for the French
# PDFs), creates the virtualenv, installs the package with its test extras and
# runs pytest. README's test command and .ci/run both call this script.
#
# Debian packages need root (or sudo). Under CI (CI set), a missing tool fails
# its tests instead of skipping them. Extra arguments go to pytest.
set -euo pipefail
cd "$(dirname "$0")/.."

missing=()
if ! ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 && ! command -v initdb >/dev/null 2>&1; then
  missing+=(postgresql)
fi
# pg_auto_failover: the failover test starts a monitor, a primary and a secondary
command -v pg_autoctl >/dev/null 2>&1 || missing+=(postgresql-15-auto-failover)
[ -x /usr/bin/chromium ] || missing+=(chromium)
# accents in the tube labels, breach notification and letters (PDF)
[ -f /usr/share/fonts/truetype/dejavu/DejaVuSans.ttf ] || missing+=(fonts-dejavu-core)
command -v age >/dev/null 2>&1 || missing+=(age)  # must decrypt migration packages
[ -f /usr/lib/softhsm/libsofthsm2.so ] || missing+=(softhsm2)  # the PKCS#11 token of the KEKs
command -v java >/dev/null 2>&1 || missing+=(openjdk-17-jre-headless)  # local Spark runs the linkage model

if [ ${#missing[@]} -gt 0 ]; then
  echo "installing from Debian: ${missing[*]}"
  if [ "$(id -u)" = 0 ]; then SUDO=""; else SUDO="sudo"; fi
  $SUDO apt-get update -q
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q --no-install-recommends "${missing[@]}"
fi

PYTHON="${PYTHON:-python3.11}"
[ -x .venv/bin/python ] || "$PYTHON" -m venv .venv
.venv/bin/pip install -q -e '.[test]'
# One worker more than cores: part of the suite's time is spent waiting (servers
# starting, a browser, the JVM, fsyncs), which the extra worker fills (on 2 cores:
# pytest took 648 s with 3 workers, 666 s with 4). worksteal: a worker that runs
# out of tests takes half of what another still has queued (tests/conftest.py
# queues the slow modules first).
exec .venv/bin/python -m pytest -n "${PYTEST_WORKERS:-$(( $(nproc) + 1 ))}" --dist worksteal "$@"
