"""rxlint on Dask: a checker over a Dask DataFrame, on every worker.

``check(ddf)`` runs :meth:`rxlint.Checker.check_arrow` on each partition
through ``map_partitions``, with the results' ``meta`` given, so that Dask
builds the graph without running the checker. The checker is pickled with
its rule texts to each worker.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, List, Optional, Sequence

from . import Checker
from ._layout import Layout

if TYPE_CHECKING:
    import dask.dataframe as dd
    import pandas as pd

__all__ = ["check"]


def check(
    ddf: "dd.DataFrame",
    checker: Optional[Checker] = None,
    *,
    columns: Optional[Sequence[str]] = None,
) -> "dd.DataFrame":
    """Checks every regimen of ``ddf`` and returns a Dask DataFrame of results.

    ``ddf`` holds one row per regimen (phases as a list of structs in a
    ``phases`` column) or one row per phase with ``id`` and ``phase``
    columns; in the second layout its rows are first shuffled by ``id`` so
    that each regimen's phases are in one partition.

    The result has one row per regimen: ``id``, ``input``, ``drug``,
    ``verdict``, ``findings`` (a list of dicts) and ``json`` (the line
    ``rxlint check --format json`` writes), or the ones named in
    ``columns``; the others are not built. A record that cannot be read is
    an ``invalid`` row; a column problem raises here, before any task runs.
    """
    checker = checker if checker is not None else Checker()
    # Fails here, with did-you-mean, for a column problem.
    layout = Layout.check(checker, _arrow_schema(ddf), "Dask")
    if layout.grouped:
        ddf = ddf.shuffle(on=layout.id)
    # Fails here, with did-you-mean, for a name that is no result column.
    meta = checker.results_schema_of(columns).empty_table().to_pandas()
    columns = None if columns is None else list(columns)
    return ddf.map_partitions(_check_partition, checker=checker, columns=columns, meta=meta)


def _arrow_schema(ddf: "dd.DataFrame"):
    """The Arrow schema of ``ddf``'s partitions. A column of Python
    objects (a ``phases`` list read without ``dtype_backend="pyarrow"``)
    tells its Arrow type only by its values: the schema is then taken from
    the first row of the first partition, computed here."""
    import pandas as pd
    import pyarrow as pa

    meta = ddf._meta
    if any(pd.api.types.is_object_dtype(t) for t in meta.dtypes):
        sample = ddf.head(1, npartitions=1, compute=True)
        if len(sample) > 0:
            return pa.Schema.from_pandas(sample, preserve_index=False)
    return pa.Schema.from_pandas(meta, preserve_index=False)


def _check_partition(
    part: "pd.DataFrame", checker: Checker, columns: Optional[List[str]]
) -> "pd.DataFrame":
    import pyarrow as pa

    # A partition is checked whole: the core groups a regimen's rows by id
    # wherever they are, and orders them by their `phase` column.
    table = pa.Table.from_pandas(part, preserve_index=False)
    return checker.check_arrow(table, columns).to_pandas()
