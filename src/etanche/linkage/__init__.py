"""Duplicate detection: a Fellegi–Sunter model (Splink) trained without labels.

Runs inside the service on traits decrypted in memory; returns candidate pairs
with their match weight and the comparison levels (codes, never values) that
drove them. DuckDB in memory by default, Spark for a network beyond one machine.
"""

from etanche.linkage._measure import Scores, score
from etanche.linkage._model import LEVELS
from etanche.linkage._run import (
    LinkageConfig,
    LinkageResult,
    Pair,
    link_in_memory,
    link_on_spark,
    memory_connection,
    spark_jar,
)
from etanche.linkage._traits import Digests, traits

__all__ = [
    "LEVELS",
    "Digests",
    "LinkageConfig",
    "LinkageResult",
    "Pair",
    "Scores",
    "link_in_memory",
    "link_on_spark",
    "memory_connection",
    "score",
    "spark_jar",
    "traits",
]
