"""What Spark and Dask share: which layout a table has, and the results'
string types."""

from __future__ import annotations

from typing import TYPE_CHECKING, Iterable, Iterator, NamedTuple, Optional

from ._rxlint import SchemaError

if TYPE_CHECKING:
    import pyarrow as pa

    from ._rxlint import Checker


class Layout(NamedTuple):
    """How a table's rows make regimens, as the core reads its columns:
    one row each (a ``phases`` list of structs), or one row per phase,
    grouped by the ``id`` column and ordered by the ``phase`` column."""

    #: The id column of the per-phase layout, if any.
    id: Optional[str]
    #: Whether one row is one regimen.
    nested: bool
    #: The phase column of the per-phase layout, if any.
    phase: Optional[str]

    @property
    def grouped(self) -> bool:
        """Rows of one regimen must be brought together by id."""
        return not self.nested and self.id is not None

    @classmethod
    def check(cls, checker: "Checker", schema: "pa.Schema", engine: str) -> "Layout":
        """The layout of a table of ``schema``, its columns checked by the
        core (``SchemaError``, with did-you-mean, for a column problem).

        A cluster keeps no row order, so rows grouped by id must say their
        order: one row per phase without a ``phase`` column is refused,
        rather than a regimen's phases checked in whatever order ``engine``
        hands them over."""
        layout = cls(**checker.check_schema(schema))
        if layout.grouped and layout.phase is None:
            raise SchemaError(
                f"the table has one row per phase (an `{layout.id}` column) and no `phase` column: "
                f"{engine} keeps no row order, so a regimen's phases could be read in any order; "
                "add a `phase` column numbering each regimen's rows 1, 2, ... (1 for a regimen "
                "of one row), or give one row per regimen with a `phases` list"
            )
        return layout


def results_schema_for(schema: "pa.Schema", large: bool) -> "pa.Schema":
    """``schema`` with every string as a large string, or as a normal one."""
    import pyarrow as pa

    def convert(t: "pa.DataType") -> "pa.DataType":
        if pa.types.is_string(t) or pa.types.is_large_string(t):
            return pa.large_string() if large else pa.string()
        if pa.types.is_list(t) or pa.types.is_large_list(t):
            item = t.value_field.with_type(convert(t.value_type))
            return pa.list_(item)
        if pa.types.is_struct(t):
            return pa.struct([t.field(i).with_type(convert(t.field(i).type)) for i in range(t.num_fields)])
        return t

    return pa.schema([f.with_type(convert(f.type)) for f in schema], metadata=schema.metadata)


def hold_back_last(batches: Iterable["pa.RecordBatch"], id_column: str) -> Iterator["pa.RecordBatch"]:
    """The batches of a table sorted by id, each cut after its last whole
    regimen: the rows of the last id wait for the next batch, where the
    regimen may go on."""
    import pyarrow as pa
    import pyarrow.compute as pc

    carry: Optional[pa.RecordBatch] = None
    for batch in batches:
        if batch.num_rows == 0:
            continue
        if carry is not None:
            batch = pa.Table.from_batches([carry, batch]).combine_chunks().to_batches()[0]
        ids = batch.column(id_column)
        last = ids[batch.num_rows - 1]
        same = pc.is_null(ids) if not last.is_valid else pc.equal(ids, last)
        tail = pc.sum(same.fill_null(False)).as_py() or 0
        cut = batch.num_rows - tail
        carry = batch.slice(cut)
        if cut > 0:
            yield batch.slice(0, cut)
    if carry is not None and carry.num_rows > 0:
        yield carry
