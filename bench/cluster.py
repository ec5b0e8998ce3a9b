#!/usr/bin/env python3
"""rxlint's Python and Spark benchmark.

    target/venv/bin/python bench/cluster.py [--records 1000000] [--runs 3] [--no-spark]

Needs the release binary and generator (`cargo build --release --bin rxlint
--example gen`) and the `rxlint` wheel installed in the interpreter that
runs it (`.ci/python` builds both). Generates the benchmark's synthetic
prescriptions (fixed seed) as CSV and reports:

1. `rxlint check --format json --jobs 1` on the CSV against
   `Checker.check_arrow` on the same rows already in Arrow (one row per
   phase, in batches of 65,536 rows, read as a stream), both on one core:
   records/s, and the Python path's time as a ratio to the CLI's;
2. this machine's two-process ceiling: two `--jobs 1` CLI runs at once
   against one alone (what two cores give two independent processes);
3. on a loopback Spark cluster (`local-cluster`, one core per executor)
   with one and with two executors: the session's start-up, then the
   steady records/s of `rxlint.spark.check` over the same rows as Parquet
   (one row per regimen, phases as a list), written to Spark's `noop`
   sink, per executor core, as a ratio to a no-op `mapInArrow` over the
   same data, and the speed-up from one executor to two; also with fewer
   result columns (`columns=`): ids and verdicts only, which splits
   rxlint's time over the no-op into checking and Spark taking back the
   results, and without the JSON line.

Machines here are shared: every figure is the best of `--runs` runs.
"""

import argparse
import os

# numpy (for the phase numbers) starts OpenBLAS threads that spin while
# idle, taking CPU from the one-core runs measured here.
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from run import RXLINT, generate, measure, measure_pair  # noqa: E402

# One `--jobs 1` run of the CLI on a file.
CLI = [RXLINT, "check", "--format", "json", "--quiet", "--jobs", "1"]


def flat_table(csv_path):
    """The CSV's rows as Arrow, with each row's phase number."""
    import numpy as np
    import pyarrow as pa
    import pyarrow.csv

    table = pyarrow.csv.read_csv(csv_path)
    ids = table.column("id").combine_chunks()
    starts = np.flatnonzero(np.r_[True, ids.slice(1).to_numpy(zero_copy_only=False) != ids.slice(0, len(ids) - 1).to_numpy(zero_copy_only=False)])
    position = np.arange(len(ids))
    first = np.repeat(starts, np.diff(np.r_[starts, len(ids)]))
    return table.append_column("phase", pa.array(position - first + 1, pa.int32())), starts


PHASE_COLUMNS = ("dose_mg", "daily_dose_mg", "frequency_per_day", "duration_weeks", "with_food", "phase")


def nested_table(flat, starts):
    """One row per regimen: the regimen's columns from its first row, its
    phases as a list of structs."""
    import numpy as np
    import pyarrow as pa

    flat = flat.combine_chunks()
    phases = pa.StructArray.from_arrays(
        [flat.column(c).chunk(0) for c in PHASE_COLUMNS], names=list(PHASE_COLUMNS)
    )
    offsets = pa.array(np.r_[starts, flat.num_rows].astype(np.int32))
    top = flat.drop_columns(list(PHASE_COLUMNS)).take(pa.array(starts))
    return top.append_column("phases", pa.ListArray.from_arrays(offsets, phases))


def check_arrow_rate(flat, runs):
    """Best wall and CPU seconds of check_arrow over the table as a stream."""
    import pyarrow as pa

    from rxlint import Checker

    checker = Checker()
    batches = flat.to_batches(max_chunksize=65536)
    best = None
    for _ in range(runs):
        reader = pa.RecordBatchReader.from_batches(flat.schema, batches)
        cpu, start = time.process_time(), time.perf_counter()
        results = checker.check_arrow(reader)
        wall, cpu = time.perf_counter() - start, time.process_time() - cpu
        best = (wall, cpu) if best is None or wall < best[0] else best
    return best, results.num_rows


def spark_session(executors):
    from pyspark.sql import SparkSession

    os.environ["PYSPARK_PYTHON"] = sys.executable
    os.environ["SPARK_LOCAL_IP"] = "127.0.0.1"
    start = time.perf_counter()
    spark = (
        SparkSession.builder.master(f"local-cluster[{executors},1,1536]")
        .appName(f"rxlint-bench-{executors}")
        .config("spark.driver.host", "127.0.0.1")
        .config("spark.driver.bindAddress", "127.0.0.1")
        .config("spark.ui.enabled", "false")
        .config("spark.executorEnv.PYSPARK_PYTHON", sys.executable)
        .config("spark.executorEnv.SPARK_LOCAL_IP", "127.0.0.1")
        .getOrCreate()
    )
    # Started once every executor has run a task.
    spark.sparkContext.parallelize(range(executors * 4), executors * 4).map(lambda x: x).collect()
    return spark, time.perf_counter() - start


def identity(batches):
    yield from batches


def spark_rates(parquet, executors, runs):
    import rxlint.spark

    spark, startup = spark_session(executors)
    try:
        df = spark.read.parquet(parquet)
        best = {}
        for _ in range(runs):
            for name, job in (
                ("noop", df.mapInArrow(identity, df.schema)),
                ("verdicts", rxlint.spark.check(df, columns=["id", "verdict"])),
                ("findings", rxlint.spark.check(df, columns=["id", "verdict", "findings"])),
                ("rxlint", rxlint.spark.check(df)),
            ):
                start = time.perf_counter()
                job.write.format("noop").mode("overwrite").save()
                wall = time.perf_counter() - start
                best[name] = min(best.get(name, wall), wall)
        return startup, best
    finally:
        spark.stop()


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--records", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--no-spark", action="store_true")
    args = parser.parse_args()
    import pyarrow as pa
    import pyarrow.parquet as pq

    # One core for the Python path, as the CLI's --jobs 1.
    pa.set_cpu_count(1)
    pa.set_io_thread_count(1)
    n = args.records
    with tempfile.TemporaryDirectory(prefix="rxlint-cluster-bench-") as tmp:
        csv_path = os.path.join(tmp, "input.csv")
        generate(csv_path, n, "csv")
        flat, starts = flat_table(csv_path)
        # (wall, CPU) seconds of the best run.
        one = min(((w, c) for w, _, c in (measure(CLI + [csv_path]) for _ in range(args.runs))), key=lambda r: r[0])
        (arrow_wall, arrow_cpu), rows = check_arrow_rate(flat, args.runs)
        assert rows == n, rows
        pair = min(measure_pair(CLI + [csv_path])[0] for _ in range(args.runs))
        ceiling = 2 * one[0] / pair
        print(f"\n{n:,} records ({flat.num_rows:,} rows), best of {args.runs} runs, {os.cpu_count()} cores\n")
        print("| run | wall s | CPU s | records/s | x CLI |")
        print("|---|---|---|---|---|")
        print(f"| `rxlint check --jobs 1` (CSV) | {one[0]:.2f} | {one[1]:.2f} | {n / one[0]:,.0f} | 1.00 |")
        print(
            f"| `Checker.check_arrow` (Arrow, 1 core) | {arrow_wall:.2f} | {arrow_cpu:.2f} | "
            f"{n / arrow_wall:,.0f} | {arrow_wall / one[0]:.2f} |"
        )
        print(f"\n- two CLI `--jobs 1` runs at once: {pair:.2f} s against {one[0]:.2f} s alone: "
              f"two cores give two processes {ceiling:.2f}x one")
        if args.no_spark:
            return
        parquet = os.path.join(tmp, "nested.parquet")
        pq.write_table(nested_table(flat, starts), parquet, row_group_size=65536)
        del flat
        results = {}
        for executors in (1, 2):
            results[executors] = spark_rates(parquet, executors, args.runs)
        print(
            "\n| Spark executors (1 core each) | start-up s | no-op s | rxlint s | records/s | per core "
            "| x no-op | id, verdict s (x no-op) | and findings s (x no-op) |"
        )
        print("|---|---|---|---|---|---|---|---|---|")
        for executors, (startup, best) in results.items():
            rate = n / best["rxlint"]
            ratio = {name: best[name] / best["noop"] for name in best}
            print(
                f"| {executors} | {startup:.1f} | {best['noop']:.2f} | {best['rxlint']:.2f} | {rate:,.0f} | "
                f"{rate / executors:,.0f} | {ratio['rxlint']:.2f} | {best['verdicts']:.2f} "
                f"({ratio['verdicts']:.2f}) | {best['findings']:.2f} ({ratio['findings']:.2f}) |"
            )
        speedup = results[1][1]["rxlint"] / results[2][1]["rxlint"]
        print(f"\n- 1 to 2 executors: {speedup:.2f}x, against the machine's two-process ceiling of {ceiling:.2f}x")


if __name__ == "__main__":
    main()
