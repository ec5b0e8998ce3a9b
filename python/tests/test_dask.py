"""The checker on a real Dask cluster: a LocalCluster of two workers on 127.0.0.1."""

import os

import pytest

import rxlint
import rxlint.dask
from rxlint import Checker

from conftest import assert_same_as_cli

dd = pytest.importorskip("dask.dataframe")


@pytest.fixture(scope="module")
def client():
    from distributed import Client, LocalCluster

    cluster = LocalCluster(
        n_workers=2,
        threads_per_worker=1,
        processes=True,
        host="127.0.0.1",
        dashboard_address=":0",
    )
    with Client(cluster) as c:
        yield c
    cluster.close()


def with_worker(ddf):
    """The results with the pid of the worker that made each row."""

    def add(part):
        return part.assign(worker=os.getpid())

    meta = ddf._meta.assign(worker=0)
    return ddf.map_partitions(add, meta=meta)


@pytest.mark.parametrize("layout", ["parquet", "nested"])
def test_two_workers_check_every_regimen_as_the_cli_does(client, batch, layout):
    # One row per phase (shuffled by id), or one row per regimen.
    ddf = dd.read_parquet(getattr(batch, layout))
    assert ddf.npartitions >= 2
    results = with_worker(rxlint.dask.check(ddf, Checker()))[["id", "json", "worker"]].compute()
    assert len(results) == batch.records
    workers = set(results["worker"])
    assert len(workers) == 2, f"rows came from {len(workers)} workers"
    assert_same_as_cli(list(results["json"]), batch)


def test_result_columns_are_chosen_and_checked_before_any_task(client):
    import pandas as pd

    part = pd.DataFrame(
        {
            "id": ["RX-1"],
            "phase": [1],
            "drug": ["isotretinoin"],
            "weight_kg": [70.0],
            "dose_mg": [20.0],
            "frequency_per_day": [2],
            "duration_weeks": [16],
        }
    )
    ddf = dd.from_pandas(part, npartitions=1)
    got = rxlint.dask.check(ddf, columns=["verdict", "id"])
    assert list(got.columns) == ["id", "verdict"]
    assert got.compute().reset_index(drop=True).equals(
        rxlint.dask.check(ddf)[["id", "verdict"]].compute().reset_index(drop=True)
    )
    with pytest.raises(ValueError, match="did you mean `json`"):
        rxlint.dask.check(ddf, columns=["jason"])


def test_rows_per_phase_without_a_phase_column_fail_before_any_task(client):
    import pandas as pd

    part = pd.DataFrame({"id": ["RX-1", "RX-1"], "drug": ["isotretinoin"] * 2, "dose_mg": [20.0, 40.0],
                         "frequency_per_day": [2, 2], "duration_weeks": [4, 16]})
    with pytest.raises(rxlint.SchemaError, match="no `phase` column: Dask keeps no row order"):
        rxlint.dask.check(dd.from_pandas(part, npartitions=1))
