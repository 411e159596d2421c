"""Fixtures of the exchange tests: a few hundred synthetic patients with specimens."""

from __future__ import annotations

import pytest

from etanche.domain import Patient, Specimen
from etanche.synth import SynthConfig, SynthNetwork, generate

PATIENTS = 300


@pytest.fixture(scope="session")
def exchange_network() -> SynthNetwork:
    return generate(SynthConfig(patients=PATIENTS, labs=6, seed=11))


@pytest.fixture(scope="session")
def exchange_pairs(exchange_network: SynthNetwork) -> list[tuple[Patient, list[Specimen]]]:
    return [pair for batch in exchange_network.batches() for pair in batch]
