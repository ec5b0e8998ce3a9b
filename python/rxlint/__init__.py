"""rxlint: checks medication regimens against drug-label and guideline limits.

The same checker as the ``rxlint`` command line, for Python callers:

>>> from rxlint import Checker
>>> checker = Checker()                      # the shipped packs, profile "us"
>>> [r["verdict"] for r in checker.check_records([{"drug": "isotretinoin"}])]
['invalid']

``Checker.check_records`` takes dicts in the regimen format (as in a
``.jsonl`` file) and gives one dict per record with the fields of
``rxlint check --format json``. ``Checker.check_arrow`` takes pyarrow data
and gives a pyarrow Table. ``rxlint.spark.check`` and ``rxlint.dask.check``
run a checker over a Spark or Dask DataFrame on every worker; a checker
pickles as its rule texts, so the workers need no rules folder.

A record that cannot be read is an ``invalid`` result, never an exception:
no exception raised here carries a record's content.
"""

from ._rxlint import Checker, RulesError, SchemaError, __version__

__all__ = ["Checker", "RulesError", "SchemaError", "__version__"]
