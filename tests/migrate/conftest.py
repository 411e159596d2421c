"""Fixtures of the migration tests (helpers live in migrate_support)."""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.append(str(Path(__file__).parent))  # after tests/: `conftest` stays the root one

from migrate_support import migration, sqlite_vault

__all__ = ["migration", "sqlite_vault"]
