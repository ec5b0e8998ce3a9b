"""What Spark and Dask share: which layout a table has, and the results'
string types."""

from __future__ import annotations

from typing import TYPE_CHECKING, Iterable, Iterator, NamedTuple, Optional, Sequence

if TYPE_CHECKING:
    import pyarrow as pa


class Layout(NamedTuple):
    """How a table's rows make regimens: one row each (a ``phases`` list
    column), or one row per phase, grouped by the ``id`` column."""

    #: The id column of the per-phase layout, if any.
    id: Optional[str]
    #: Whether one row is one regimen.
    nested: bool

    @property
    def grouped(self) -> bool:
        """Rows of one regimen must be brought together by id."""
        return not self.nested and self.id is not None

    @classmethod
    def of(cls, columns: Sequence[str]) -> "Layout":
        # Names match as the core matches them: case and spaces aside.
        def find(name: str) -> Optional[str]:
            for c in columns:
                if "".join(c.split()).lower() == name:
                    return c
            return None

        return cls(id=find("id"), nested=find("phases") is not None)


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
