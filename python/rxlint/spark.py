"""rxlint on Spark: a checker over a DataFrame, on every executor.

``check(df)`` runs :meth:`rxlint.Checker.check_arrow` through
``DataFrame.mapInArrow`` (Spark 3.3 and later, also over Spark Connect) and
returns a DataFrame of results, one row per regimen. Only the ``rxlint``
wheel is needed on the cluster: the checker is pickled with its rule texts
and unpickled once per Python worker.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Iterator, List, Optional, Sequence

from . import Checker
from ._layout import Layout, hold_back_last, results_schema_for

if TYPE_CHECKING:
    import pyarrow as pa
    from pyspark.sql import DataFrame

__all__ = ["check"]

LARGE_VAR_TYPES = "spark.sql.execution.arrow.useLargeVarTypes"


def check(
    df: "DataFrame",
    checker: Optional[Checker] = None,
    *,
    partitions: Optional[int] = None,
    columns: Optional[Sequence[str]] = None,
) -> "DataFrame":
    """Checks every regimen of ``df`` and returns a DataFrame of results.

    ``df`` holds either one row per regimen (phases as a list of structs in
    a ``phases`` column) or one row per phase with ``id`` and ``phase``
    columns, the flat columns of the CSV format. Spark keeps no row order,
    so in the second layout the rows are first brought together by ``id``
    (``repartition`` into ``partitions`` partitions, by default the
    session's shuffle partitions, and sorted by ``id`` within each); the
    ``phase`` column orders each regimen's rows.

    The result has one row per regimen: ``id``, ``input``, ``drug``,
    ``verdict``, ``findings`` and ``json`` (the line ``rxlint check
    --format json`` writes), or the ones named in ``columns``; the others
    are not built, nor carried back to Spark. Its strings are Spark's usual
    ones, or large strings when the session sets
    ``spark.sql.execution.arrow.useLargeVarTypes``.

    A record that cannot be read is an ``invalid`` row, never a task
    failure; a column problem (a misspelt column name) raises here, on the
    driver, before any task runs.
    """
    from pyspark.sql.pandas.types import from_arrow_schema, to_arrow_schema

    checker = checker if checker is not None else Checker()
    # Fails on the driver, with did-you-mean, for a column problem.
    layout = Layout.check(checker, to_arrow_schema(df.schema), "Spark")
    # Fails on the driver, with did-you-mean, for a name that is no result column.
    results = checker.results_schema_of(columns)
    large = str(df.sparkSession.conf.get(LARGE_VAR_TYPES, "false")).lower() == "true"
    schema = results_schema_for(results, large)
    if layout.grouped:
        # A number given, so that adaptive execution keeps it rather than
        # coalescing a small input's partitions into one task: the check
        # is CPU work, which every executor core should share.
        if partitions is None:
            partitions = int(df.sparkSession.conf.get("spark.sql.shuffle.partitions", "200"))
        keys = [partitions, layout.id]
        # Sorted by id, a regimen's rows are consecutive, so that a batch
        # can be cut after its last whole regimen (hold_back_last); the
        # core orders each regimen's rows by its `phase` column.
        df = df.repartition(*keys).sortWithinPartitions(layout.id)
    columns = None if columns is None else list(columns)
    return df.mapInArrow(_Check(checker, schema, layout, columns), from_arrow_schema(results))


class _Check:
    """The function each Python worker runs over its partition's batches.

    A class rather than a closure, so that it pickles by reference to this
    module and with its checker's own ``__reduce__``.
    """

    def __init__(
        self, checker: Checker, schema: "pa.Schema", layout: Layout, columns: Optional[List[str]]
    ) -> None:
        self.checker = checker
        self.schema = schema
        self.layout = layout
        self.columns = columns

    def __call__(self, batches: Iterator["pa.RecordBatch"]) -> Iterator["pa.RecordBatch"]:
        if self.layout.grouped:
            batches = hold_back_last(batches, self.layout.id)
        for batch in batches:
            if batch.num_rows == 0:
                continue
            results = self.checker.check_arrow(batch, self.columns)
            # The core writes normal strings; large ones only when the
            # session asks for them.
            if results.schema != self.schema:
                results = results.cast(self.schema)
            yield from results.to_batches()
