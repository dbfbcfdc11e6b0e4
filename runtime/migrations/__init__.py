"""Migrations: how a database that holds data follows the schema files.

A migration file (``migrations/0002_add_rating.py``) imports only this
module and holds one ``Migration``::

    from runtime.migrations import AddColumn, Column, Migration, Type

    migration = Migration(
        id="0002_add_rating",
        parent="0001_initial",
        operations=[AddColumn("band", Column("rating", Type("Integer"), default=0))],
    )

Everything such a file needs is importable from here: ``Migration``, the
operations (``runtime.schema.operations``), the state classes they are made
of (``runtime.schema.state``), the dynamic defaults, and ``MigrationDB``, the
connection a ``RunPython`` function gets. Reading the files lives in
``runtime.migrations.files``, applying them in ``runtime.migrations.runner``,
the lint in ``runtime.migrations.lint``.
"""

from .._columns import UUID4, DateNow, DynamicDefault, TimeNow, TimestampNow, TimestamptzNow
from ..schema.operations import (
    UNCHANGED,
    AddCheck,
    AddColumn,
    AddEnumValue,
    AddIndex,
    AddUnique,
    AlterColumn,
    CreateEnum,
    CreateTable,
    CreateView,
    DropCheck,
    DropColumn,
    DropEnum,
    DropEnumValue,
    DropIndex,
    DropTable,
    DropUnique,
    DropView,
    IrreversibleError,
    Operation,
    RenameColumn,
    RenameEnumValue,
    RenameTable,
    RunPython,
    RunSQL,
)
from ..schema.state import (
    Check,
    Column,
    CompositeForeignKey,
    EnumType,
    ForeignKey,
    Index,
    Schema,
    Table,
    Type,
    Unique,
    View,
    ViewColumn,
)
from ._base import HISTORY_TABLE, Migration, MigrationDB, MigrationError

__all__ = [
    "HISTORY_TABLE",
    "UNCHANGED",
    "UUID4",
    "AddCheck",
    "AddColumn",
    "AddEnumValue",
    "AddIndex",
    "AddUnique",
    "AlterColumn",
    "Check",
    "Column",
    "CompositeForeignKey",
    "CreateEnum",
    "CreateTable",
    "CreateView",
    "DateNow",
    "DropCheck",
    "DropColumn",
    "DropEnum",
    "DropEnumValue",
    "DropIndex",
    "DropTable",
    "DropUnique",
    "DropView",
    "DynamicDefault",
    "EnumType",
    "ForeignKey",
    "Index",
    "IrreversibleError",
    "Migration",
    "MigrationDB",
    "MigrationError",
    "Operation",
    "RenameColumn",
    "RenameEnumValue",
    "RenameTable",
    "RunPython",
    "RunSQL",
    "Schema",
    "Table",
    "TimeNow",
    "TimestampNow",
    "TimestamptzNow",
    "Type",
    "Unique",
    "View",
    "ViewColumn",
]
