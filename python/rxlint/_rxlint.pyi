"""Type stubs of the extension module ``rxlint._rxlint``."""

import os
from typing import Any, Dict, Iterable, List, Mapping, Optional, Sequence, Union

import pyarrow as pa

__version__: str

class RulesError(ValueError):
    """The rule files have problems; the message lists every one."""

class SchemaError(ValueError):
    """A table's columns cannot be read as regimens (a misspelt or missing
    column, a column given twice, or on a cluster rows per phase without a
    ``phase`` column); the message says which, with a suggestion. It names
    columns only, never a value (a cell of a type rxlint does not read
    makes its record ``invalid``)."""

ArrowData = Union[pa.Table, pa.RecordBatch, pa.RecordBatchReader]

class Checker:
    """Checks medication regimens against rule packs.

    ``rules`` is ``None`` for the packs shipped inside the package, a
    directory, the text of one rule file, or a mapping of file name to
    text. The rules are compiled once; a checker pickles as its rule texts.
    Raises :class:`RulesError` for problems in the rules and ``ValueError``
    for a profile no pack names.
    """

    def __init__(
        self,
        rules: Union[None, str, "os.PathLike[str]", Mapping[str, str]] = None,
        profile: str = "us",
        strict: bool = False,
    ) -> None: ...
    @property
    def profile(self) -> str:
        """The profile whose rules are checked."""
    @property
    def strict(self) -> bool:
        """Whether unevaluated rules count as errors."""
    @property
    def rules(self) -> Optional[Dict[str, str]]:
        """The rule files as ``{name: text}``, or ``None`` for the shipped packs."""
    @property
    def results_schema(self) -> pa.Schema:
        """The schema of :meth:`check_arrow`'s results, every column."""
    def results_schema_of(self, columns: Optional[Sequence[str]] = None) -> pa.Schema:
        """The schema of ``check_arrow(data, columns=columns)``'s results.
        Raises ``ValueError`` for a name that is not a result column."""
    def check_records(self, records: Iterable[Mapping[str, Any]]) -> List[Dict[str, Any]]:
        """One result dict per record, with the fields of ``rxlint check
        --format json``; a record that cannot be read is ``invalid``."""
    def check_arrow(self, data: ArrowData, columns: Optional[Sequence[str]] = None) -> pa.Table:
        """One result row per regimen of ``data`` (see :attr:`results_schema`),
        with the result columns named in ``columns`` only (of ``id``,
        ``input``, ``drug``, ``verdict``, ``findings``, ``json``), or all.
        Raises :class:`SchemaError` when the columns cannot be read and
        ``ValueError`` for a name that is not a result column."""
    def check_schema(self, schema: pa.Schema) -> Dict[str, Any]:
        """Checks the columns of a table of this schema as :meth:`check_arrow`
        would, without any data, and says how its rows make regimens:
        ``{"nested": bool, "id": Optional[str], "phase": Optional[str]}``.
        Raises :class:`SchemaError` when the columns cannot be read."""
    def __reduce__(self) -> Any: ...
