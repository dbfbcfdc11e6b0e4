"""piccolo-gen's runtime: the small library that generated modules import.

Everything public is importable from ``runtime`` itself; the ``_modules``
are private.
"""

from ._aggregate import Aggregate, Avg, Count, Max, Min, Sum
from ._alter import Alter, AlterError
from ._api import create_tables, drop_tables, use_engine
from ._array import Array
from ._columns import (
    JSON,
    JSONB,
    UUID,
    UUID4,
    BigInt,
    BigSerial,
    Boolean,
    Bytea,
    Char,
    Column,
    Date,
    DateNow,
    DoublePrecision,
    DynamicDefault,
    Email,
    ForeignKey,
    Integer,
    Interval,
    Numeric,
    Real,
    Secret,
    Serial,
    SmallInt,
    Text,
    Time,
    TimeNow,
    Timestamp,
    TimestampNow,
    Timestamptz,
    TimestamptzNow,
    Varchar,
)
from ._ddl import CreateTable, DropTables, Index
from ._dialect import Dialect
from ._discovery import engine_finder
from ._engine import Engine, EngineError, PostgresEngine, SQLiteEngine
from ._m2m import M2M, M2MAddRelated, M2MGetRelated, M2MRemoveRelated, M2MRows, M2MSelect
from ._objects import Create, GetOrCreate, Objects, Refresh, Related
from ._query import Callback, First, Query
from ._select import (
    Batch,
    CountQuery,
    Exists,
    Frozen,
    Raw,
    Select,
    SelectJSON,
)
from ._sql import Condition
from ._sync import run_sync
from ._table import Table
from ._text import escape_like
from ._write import Delete, Insert, Returning, Update

__all__ = [
    "Alter",
    "AlterError",
    "Index",
    "Array",
    "Aggregate",
    "Avg",
    "Batch",
    "BigInt",
    "BigSerial",
    "Boolean",
    "Bytea",
    "Callback",
    "Char",
    "Column",
    "Condition",
    "Count",
    "Create",
    "CountQuery",
    "CreateTable",
    "Date",
    "DateNow",
    "Delete",
    "Dialect",
    "DoublePrecision",
    "DropTables",
    "DynamicDefault",
    "Email",
    "Engine",
    "EngineError",
    "Exists",
    "First",
    "ForeignKey",
    "Frozen",
    "GetOrCreate",
    "Insert",
    "Integer",
    "Interval",
    "JSON",
    "JSONB",
    "M2M",
    "M2MAddRelated",
    "M2MGetRelated",
    "M2MRemoveRelated",
    "M2MRows",
    "M2MSelect",
    "Max",
    "Min",
    "Numeric",
    "Objects",
    "PostgresEngine",
    "Query",
    "Raw",
    "Real",
    "Refresh",
    "Related",
    "Returning",
    "SQLiteEngine",
    "Secret",
    "Select",
    "SelectJSON",
    "Serial",
    "SmallInt",
    "Sum",
    "Table",
    "Text",
    "Time",
    "TimeNow",
    "Timestamp",
    "TimestampNow",
    "Timestamptz",
    "TimestamptzNow",
    "UUID",
    "UUID4",
    "Update",
    "Varchar",
    "create_tables",
    "drop_tables",
    "engine_finder",
    "escape_like",
    "run_sync",
    "use_engine",
]
