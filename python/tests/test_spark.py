"""The checker on a real Spark cluster: two executors on 127.0.0.1."""

import os
import sys
import time

import pytest

import rxlint
import rxlint.spark
from rxlint import Checker

from conftest import assert_same_as_cli

pyspark = pytest.importorskip("pyspark")


@pytest.fixture(scope="module")
def spark():
    from pyspark.sql import SparkSession

    # Executors start their Python workers with this interpreter (the
    # virtualenv that has the wheel), and bind to loopback only.
    os.environ["PYSPARK_PYTHON"] = sys.executable
    os.environ["SPARK_LOCAL_IP"] = "127.0.0.1"
    session = (
        SparkSession.builder.master("local-cluster[2,1,1024]")
        .appName("rxlint-cluster-test")
        .config("spark.driver.host", "127.0.0.1")
        .config("spark.driver.bindAddress", "127.0.0.1")
        .config("spark.ui.enabled", "false")
        .config("spark.sql.shuffle.partitions", "8")
        .config("spark.sql.files.maxPartitionBytes", str(1 << 20))
        # Tasks go to whichever executor is free, not to the one that holds
        # the shuffle's map output: both must take part.
        .config("spark.locality.wait", "0")
        .config("spark.shuffle.reduceLocality.enabled", "false")
        .config("spark.executorEnv.PYSPARK_PYTHON", sys.executable)
        .config("spark.executorEnv.SPARK_LOCAL_IP", "127.0.0.1")
        .getOrCreate()
    )
    # Both executors registered (with the driver, three block managers)
    # before any job, or the first could take every task.
    status = session.sparkContext._jsc.sc().getExecutorMemoryStatus()
    deadline = time.monotonic() + 180
    while status.size() < 3:
        assert time.monotonic() < deadline, "the executors did not start"
        time.sleep(0.5)
        status = session.sparkContext._jsc.sc().getExecutorMemoryStatus()
    yield session
    session.stop()


def with_worker(df):
    """The results with the pid of the daemon that forked the Python worker
    of each row's task: one daemon per executor."""
    import pyarrow as pa
    from pyspark.sql.types import LongType, StructField, StructType

    schema = StructType(df.schema.fields + [StructField("worker", LongType())])

    def add(batches):
        for b in batches:
            yield b.append_column("worker", pa.array([os.getppid()] * b.num_rows, pa.int64()))

    return df.mapInArrow(add, schema)


@pytest.mark.parametrize("layout", ["parquet", "nested"])
def test_two_executors_check_every_regimen_as_the_cli_does(spark, batch, layout):
    # One row per phase (shuffled by id), or one row per regimen.
    df = spark.read.parquet(getattr(batch, layout))
    assert df.rdd.getNumPartitions() >= 2
    results = with_worker(rxlint.spark.check(df, Checker())).select("id", "json", "worker").toArrow()
    assert results.num_rows == batch.records
    workers = set(results.column("worker").to_pylist())
    assert len(workers) == 2, f"rows came from {len(workers)} executors"
    assert_same_as_cli(results.column("json").to_pylist(), batch)


def test_large_var_types_follow_the_session(spark):
    # Spark refuses batches whose string types differ from what the session
    # expects, so each setting must give one result row.
    df = spark.createDataFrame(
        [("RX-1", 1, "isotretinoin", 70.0, 20.0, 2, 16)],
        "id string, phase int, drug string, weight_kg double, dose_mg double, frequency_per_day int, duration_weeks int",
    )
    for large in ("true", "false"):
        spark.conf.set(rxlint.spark.LARGE_VAR_TYPES, large)
        try:
            got = rxlint.spark.check(df).toArrow()
        finally:
            spark.conf.unset(rxlint.spark.LARGE_VAR_TYPES)
        assert got.num_rows == 1
        assert got.column("verdict").to_pylist() != [None]


def test_result_columns_are_chosen_and_checked_on_the_driver(spark):
    df = spark.createDataFrame(
        [("RX-1", 1, "isotretinoin", 70.0, 20.0, 2, 16)],
        "id string, phase int, drug string, weight_kg double, dose_mg double, frequency_per_day int, duration_weeks int",
    )
    got = rxlint.spark.check(df, columns=["verdict", "id"])
    assert got.columns == ["id", "verdict"]
    assert got.toArrow() == rxlint.spark.check(df).select("id", "verdict").toArrow()
    with pytest.raises(ValueError, match="did you mean `findings`"):
        rxlint.spark.check(df, columns=["finding"])


def test_rows_per_phase_without_a_phase_column_fail_on_the_driver(spark):
    # Spark keeps no row order: a regimen's phases would come in any order.
    df = spark.createDataFrame(
        [("RX-1", "isotretinoin", 70.0, 20.0, 2, 4), ("RX-1", "isotretinoin", 70.0, 40.0, 2, 16)],
        "id string, drug string, weight_kg double, dose_mg double, frequency_per_day int, duration_weeks int",
    )
    with pytest.raises(rxlint.SchemaError, match="no `phase` column: Spark keeps no row order"):
        rxlint.spark.check(df)


def test_a_misspelt_column_fails_on_the_driver_with_a_suggestion(spark):
    df = spark.createDataFrame(
        [("RX-1", 1, "isotretinoin", 20.0, 2, 16)],
        "id string, phase int, drug string, doze_mg double, frequency_per_day int, duration_weeks int",
    )
    with pytest.raises(rxlint.SchemaError, match="(?s)doze_mg.*did you mean `dose_mg`"):
        rxlint.spark.check(df)
