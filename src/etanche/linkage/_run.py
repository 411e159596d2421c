"""Run the model: train without labels, predict the candidate pairs, keep codes only.

DuckDB runs in memory with spilling and file access turned off, so decrypted
traits never reach a temporary file; Spark runs the same settings on a cluster
(docs/identity-linkage.md). Splink's own logs name tables and levels, never a
value; they are quietened to warnings anyway.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import duckdb
import pyarrow as pa
from splink import DuckDBAPI, Linker, block_on
from splink.internals.exceptions import SplinkException

from etanche.errors import UsageError
from etanche.linkage._model import LEVELS, PREFIX, TRAINING, settings
from etanche.linkage._traits import COLUMNS, columns

CHUNK_RECORDS = 100_000


@dataclass(frozen=True, slots=True)
class Pair:
    """Two records the model thinks may be one person, and why (level codes, no value)."""

    left: str
    right: str
    weight: float
    probability: float
    levels: dict[str, str]


@dataclass(frozen=True, slots=True)
class LinkageConfig:
    """How to run: review threshold (match probability), memory and threads for DuckDB."""

    threshold: float = 0.95
    memory_limit_mb: int = 3_000
    threads: int = 2
    seed: int = 0
    u_max_pairs: float = 2e6
    em_max_pairs: float = 1e6


@dataclass(frozen=True, slots=True)
class LinkageResult:
    records: int
    pairs: list[Pair]


# Exact agreements that are almost surely one person: the prior is estimated from them.
_DETERMINISTIC = (
    block_on("nir", "birth_date"),
    block_on("surname", "first_name", "birth_date", "birthplace"),
)


def memory_connection(config: LinkageConfig) -> duckdb.DuckDBPyConnection:
    """An in-memory DuckDB that cannot spill, load extensions or touch files."""
    con = duckdb.connect(
        ":memory:",
        config={
            "temp_directory": "",
            "memory_limit": f"{config.memory_limit_mb}MB",
            "threads": config.threads,
            "autoinstall_known_extensions": False,
            "autoload_known_extensions": False,
            "preserve_insertion_order": False,
        },
    )
    return con


def _table(rows: Iterable[dict[str, Any]]) -> pa.Table:
    schema = pa.schema([(c, pa.int32() if c == "birth_year" else pa.string()) for c in COLUMNS])
    return pa.table(columns(rows), schema=schema)


def link_in_memory(rows: Iterable[dict[str, Any]], config: LinkageConfig) -> LinkageResult:
    """The candidate pairs among ``rows`` (from ``traits``, maybe a generator), in memory."""
    con = memory_connection(config)
    try:
        api = DuckDBAPI(con)
        con.execute("SET enable_external_access = false")
        return _link(api, _table(rows), config)
    finally:
        con.close()


def link_on_spark(
    rows: Iterable[dict[str, Any]], config: LinkageConfig, spark: Any
) -> LinkageResult:
    """The same model on a Spark session (a cluster, or local for tests)."""
    from splink import SparkAPI

    api = SparkAPI(spark_session=spark)  # type: ignore[no-untyped-call]
    frame = spark.createDataFrame(_table(rows).to_pandas())
    return _link(api, frame, config)


def spark_jar() -> str:
    """Splink's Scala UDFs (Jaro-Winkler, Damerau-Levenshtein): give it to ``spark.jars``."""
    from splink.backends.spark import similarity_jar_location

    return str(similarity_jar_location())


def _link(api: Any, table: Any, config: LinkageConfig) -> LinkageResult:
    for name in ("splink", "py4j"):
        logging.getLogger(name).setLevel(logging.WARNING)
    records = api.register(table, table_name="identities")
    count = len(table) if isinstance(table, pa.Table) else table.count()
    if count < 2:
        return LinkageResult(count, [])
    linker = Linker(records, settings(1.0 / count), log_level=logging.WARNING)
    try:
        _train(linker, config)
    except (SplinkException, ValueError, ZeroDivisionError, duckdb.Error) as exc:
        # Splink's messages quote SQL and levels, and a value could ride along: only the
        # kinds of error are shown (an out-of-memory names ETANCHE_LINKAGE_MEMORY_MB).
        cause = type(exc.__cause__).__name__ if exc.__cause__ is not None else "none"
        raise UsageError(
            f"identity link: the model cannot be trained on {count} records "
            f"({type(exc).__name__}, caused by {cause}): too few pairs to learn from, "
            "or too little memory (ETANCHE_LINKAGE_MEMORY_MB)"
        ) from None
    # Chunks bound the memory of scoring: DuckDB cannot spill, so a large network is
    # scored a slice of the pairs at a time (about 100,000 records a side per chunk).
    chunks = max(1, -(-count // CHUNK_RECORDS))
    predicted = linker.inference.predict(
        threshold_match_probability=config.threshold,
        num_chunks_left=chunks,
        num_chunks_right=chunks,
    )
    gammas = [f"{PREFIX}{name}" for name in LEVELS]
    wanted = ["unique_id_l", "unique_id_r", "match_weight", "match_probability", *gammas]
    query = f"select {', '.join(wanted)} from {predicted.physical_name}"  # noqa: S608
    frame = linker.misc.query_sql(query, output_type="pandas")  # type: ignore[no-untyped-call]
    pairs = [_pair(row, gammas) for row in frame.itertuples(index=False, name=None)]
    predicted.drop_table_from_database_and_remove_from_cache()
    return LinkageResult(count, pairs)


def _train(linker: Linker, config: LinkageConfig) -> None:
    """u by random sampling, the prior from near-certain rules, m by EM on blocked pairs."""
    training = linker.training
    training.estimate_probability_two_random_records_match(list(_DETERMINISTIC), recall=0.7)
    training.estimate_u_using_random_sampling(max_pairs=config.u_max_pairs, seed=config.seed)
    for rule in TRAINING:
        # A sample of the blocked pairs is enough to learn m, and bounds the memory of a
        # session on a large network (its comparison vectors are materialised).
        training.estimate_parameters_using_expectation_maximisation(
            rule, estimate_without_term_frequencies=True, max_pairs=config.em_max_pairs
        )


def _pair(row: tuple[Any, ...], gammas: list[str]) -> Pair:
    left, right, weight, probability, *levels = row
    if right < left:
        left, right = right, left
    codes = {
        g.removeprefix(PREFIX): LEVELS[g.removeprefix(PREFIX)][int(v)]
        for g, v in zip(gammas, levels, strict=True)
    }
    return Pair(
        str(left),
        str(right),
        float(weight) if math.isfinite(weight) else 99.0,
        float(probability),
        codes,
    )
