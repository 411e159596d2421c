"""Synthetic lab network: the shared workload of every test and benchmark.

Never real data: identities are drawn from pools seeded once from Faker fr_FR,
NIRs, FINESS and RPPS numbers are computed with their real check keys so that
validators meet the same shapes as in the 2020 leak, at the same scale.
"""

from etanche.synth._contacts import staff_rpps
from etanche.synth._network import SynthConfig, SynthNetwork, generate
from etanche.synth._twins import (
    CHILD_ON_PARENT_NIR,
    DUPLICATE,
    ORIGINAL,
    DuplicateMix,
    Truth,
    read_truth,
    true_pairs,
    write_truth,
)

__all__ = [
    "CHILD_ON_PARENT_NIR",
    "DUPLICATE",
    "ORIGINAL",
    "DuplicateMix",
    "SynthConfig",
    "SynthNetwork",
    "Truth",
    "generate",
    "read_truth",
    "staff_rpps",
    "true_pairs",
    "write_truth",
]
