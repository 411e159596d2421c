"""A synthetic network exported to 100 recipients, in memory: the trace drills' ground."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.append(str(Path(__file__).parent))  # _tracedrill (last: "conftest" stays the root one)

from _tracedrill import Ground, make_ground


@pytest.fixture(scope="session")
def ground() -> Ground:
    return make_ground()
