"""The same model on local Spark: what a network beyond one machine would run.

Needs Java (Debian's openjdk-17-jre-headless, installed by .ci/run) and pyspark
(test extras). Skipped only when Java is absent outside CI.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from etanche.linkage import (
    LinkageConfig,
    link_in_memory,
    link_on_spark,
    score,
    spark_jar,
    traits,
)
from etanche.synth import SynthConfig, generate, true_pairs

if shutil.which("java") is None:
    if os.environ.get("CI"):
        pytest.fail("Java is missing: scripts/test-suite.sh should have installed it")
    pytest.skip("Java is absent (install openjdk-17-jre-headless)", allow_module_level=True)

pyspark = pytest.importorskip("pyspark") if not os.environ.get("CI") else __import__("pyspark")

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def spark(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    from pyspark.sql import SparkSession

    local = tmp_path_factory.mktemp("spark")
    session = (
        SparkSession.builder.master("local[2]")
        .appName("etanche-linkage-test")
        .config("spark.jars", spark_jar())
        .config("spark.sql.shuffle.partitions", "2")
        .config("spark.default.parallelism", "2")
        .config("spark.local.dir", str(local))
        .config("spark.ui.enabled", "false")
        .config("spark.driver.memory", "1g")
        .config("spark.sql.warehouse.dir", str(local / "warehouse"))
        .getOrCreate()
    )
    session.sparkContext.setCheckpointDir(str(local / "checkpoints"))
    yield session
    session.stop()


def test_spark_finds_the_same_duplicates_as_duckdb(spark: Any, tmp_path: Path) -> None:
    network = generate(SynthConfig(patients=2_000, seed=3, duplicates=0.06))
    rows = [traits(p) for p in network.patients()]
    truth = true_pairs(network.truth())
    on_spark = link_on_spark(rows, LinkageConfig(), spark)
    in_memory = link_in_memory(rows, LinkageConfig())
    spark_pairs = {(p.left, p.right) for p in on_spark.pairs}
    duck_pairs = {(p.left, p.right) for p in in_memory.pairs}
    found = score(spark_pairs, truth)
    assert on_spark.records == len(rows)
    assert found.precision >= 0.9 and found.recall >= 0.9, found
    # One model, two engines: the pairs agree but for a few near the threshold.
    assert len(spark_pairs ^ duck_pairs) <= 0.05 * len(duck_pairs)
