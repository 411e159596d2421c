"""Fixtures of the crypto tests: a fresh SoftHSM2 token per test."""

from __future__ import annotations

from pathlib import Path

import pytest

from _softhsm import SoftToken, fresh_token


@pytest.fixture(scope="session")
def softhsm_state(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One SoftHSM2 configuration and token directory per pytest worker."""
    return tmp_path_factory.mktemp("softhsm")


@pytest.fixture
def softhsm_token(softhsm_state: Path) -> SoftToken:
    """A newly initialised token (module path, unique label, user PIN)."""
    return fresh_token(softhsm_state)
