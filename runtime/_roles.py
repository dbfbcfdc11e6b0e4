"""What a runtime object is, for the modules that cannot import its class.

Tables build queries, queries hold columns and conditions, and conditions
hold columns: each layer imports the one below it, never the one above. Yet
a condition must tell a column operand from a value (``Band.a == Band.b``),
and a foreign key a related row from a key value (``Band(manager=row)``).
They check against the empty base classes here, which the concrete classes
derive from: this module imports nothing from the runtime, so every module
can import it, and ``isinstance`` against a base class costs what it costs
against the class itself.

Only the class named in each docstring derives from its role, so a module
may tell the type checker that the role *is* that class (an import under
``TYPE_CHECKING``, which narrows to it); ``tests/test_import_graph.py``
checks that no other class derives from a role.
"""

from __future__ import annotations

__all__ = ["ColumnRole", "ForeignKeyRole", "TableRole"]


class ColumnRole:
    """Base of ``runtime._columns.Column``: a column, or a column derived from one."""

    __slots__ = ()


class ForeignKeyRole(ColumnRole):
    """Base of ``runtime._columns.ForeignKey``."""

    __slots__ = ()


class TableRole:
    """Base of ``runtime._table.Table``: a row of some table class."""

    __slots__ = ()
