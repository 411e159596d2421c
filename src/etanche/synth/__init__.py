"""Synthetic lab network: the shared workload of every test and benchmark.

Never real data: identities are drawn from pools seeded once from Faker fr_FR,
NIRs, FINESS and RPPS numbers are computed with their real check keys so that
validators meet the same shapes as in the 2020 leak, at the same scale.
"""

from etanche.synth._contacts import staff_rpps
from etanche.synth._network import SynthConfig, SynthNetwork, generate

__all__ = ["SynthConfig", "SynthNetwork", "generate", "staff_rpps"]
