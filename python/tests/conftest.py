"""Shared fixtures: the repository's release binary and generator."""

import os
import subprocess

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
RELEASE = os.path.join(ROOT, "target", "release")


def release(name: str) -> str:
    path = os.path.join(RELEASE, name)
    if not os.path.exists(path):
        pytest.skip(f"{path} is not built (cargo build --release --bin rxlint --example gen)")
    return path


@pytest.fixture(scope="session")
def rxlint_bin() -> str:
    return release("rxlint")


@pytest.fixture(scope="session")
def gen_bin() -> str:
    return release(os.path.join("examples", "gen"))


def cli_results(rxlint_bin: str, path: str, *args: str) -> list:
    """The JSON lines of `rxlint check --format json` on path, as dicts."""
    import json

    out = subprocess.run(
        [rxlint_bin, "check", "--format", "json", "--quiet", *args, path],
        stdout=subprocess.PIPE,
        check=False,
    )
    assert out.returncode in (0, 1), out.returncode
    return [json.loads(line) for line in out.stdout.splitlines() if line.strip()]


CLUSTER_RECORDS = int(os.environ.get("RXLINT_CLUSTER_RECORDS", "200000"))


PHASE_COLUMNS = ("dose_mg", "daily_dose_mg", "frequency_per_day", "duration_weeks", "with_food", "phase")


class Batch:
    """A generated batch: its CSV, the CLI's results, and the same rows as
    Parquet in both layouts, each in several files: one row per phase with
    a `phase` column (`parquet`), and one row per regimen with its phases
    as a list of structs (`nested`)."""

    def __init__(self, directory: str, records: int, rxlint_bin: str, gen_bin: str) -> None:
        import pyarrow as pa
        import pyarrow.csv
        import pyarrow.parquet as pq

        self.records = records
        self.csv = os.path.join(directory, "batch.csv")
        with open(self.csv, "wb") as out:
            subprocess.run([gen_bin, "--records", str(records), "--format", "csv"], stdout=out, check=True)
        self.expected = {}
        for r in cli_results(rxlint_bin, self.csv):
            self.expected[r["id"]] = r
        assert len(self.expected) == records
        table = pyarrow.csv.read_csv(self.csv)
        # The CSV's rows of one regimen follow each other; Spark and Dask
        # keep no order, so each row says which phase it is.
        ids = table.column("id").to_pylist()
        phase, previous, n = [], None, 0
        for i in ids:
            n = n + 1 if i == previous else 1
            previous = i
            phase.append(n)
        table = table.append_column("phase", pa.array(phase, pa.int32()))
        self.rows = table.num_rows
        self.parquet = write_parts(table, os.path.join(directory, "batch.parquet"))
        # One row per regimen: the regimen's columns from its first row.
        table = table.combine_chunks()
        starts = [i for i, p in enumerate(phase) if p == 1]
        phases = pa.StructArray.from_arrays(
            [table.column(c).chunk(0) for c in PHASE_COLUMNS], names=list(PHASE_COLUMNS)
        )
        offsets = pa.array(starts + [table.num_rows], pa.int32())
        nested = table.drop_columns(list(PHASE_COLUMNS)).take(pa.array(starts))
        nested = nested.append_column("phases", pa.ListArray.from_arrays(offsets, phases))
        assert nested.num_rows == records
        self.nested = write_parts(nested, os.path.join(directory, "nested.parquet"))


def write_parts(table, directory: str, files: int = 8) -> str:
    """The table as a directory of `files` Parquet files."""
    import pyarrow.parquet as pq

    os.makedirs(directory)
    step = -(-table.num_rows // files)
    for k in range(files):
        pq.write_table(table.slice(k * step, step), os.path.join(directory, f"part-{k}.parquet"))
    return directory


@pytest.fixture(scope="session")
def batch(tmp_path_factory, rxlint_bin, gen_bin) -> Batch:
    return Batch(str(tmp_path_factory.mktemp("batch")), CLUSTER_RECORDS, rxlint_bin, gen_bin)


def comparable(record: dict) -> dict:
    """A result without where it was read from: the CLI names the CSV file,
    its lines (`input`, a finding's `line`) and rows (`row 6, column
    weight_kg`, counting the header), a table its own rows."""
    import re

    def unplaced(text):
        return re.sub(r"\brow \d+", "row N", text) if isinstance(text, str) else text

    record = dict(record)
    record.pop("input", None)
    record["findings"] = [
        {k: unplaced(v) for k, v in f.items() if k != "line"} for f in record["findings"]
    ]
    return record


def assert_same_as_cli(json_lines, batch: "Batch") -> None:
    """Every result's JSON line, sorted by id, is the CLI's for that id."""
    import json

    got = [json.loads(line) for line in json_lines]
    assert len(got) == batch.records, "one row per regimen"
    ids = sorted(r["id"] for r in got)
    assert ids == sorted(batch.expected), "every regimen once"
    mismatched = [r["id"] for r in got if comparable(r) != comparable(batch.expected[r["id"]])]
    assert not mismatched, f"{len(mismatched)} results differ from the CLI's, first {mismatched[:3]}"
