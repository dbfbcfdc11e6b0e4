"""piccolo-gen's runtime: the small library that generated modules import.

Everything public is importable from ``runtime`` itself; the ``_modules``
are private.
"""

from ._api import create_tables, drop_tables, use_engine
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
from ._ddl import CreateTable, DropTables
from ._dialect import Dialect
from ._discovery import engine_finder
from ._engine import Engine, PostgresEngine, SQLiteEngine
from ._objects import GetOrCreate, Objects, Related
from ._query import First, Query
from ._select import Count, Exists, Frozen, Raw, Select, SelectJSON
from ._sql import Condition
from ._sync import run_sync
from ._table import Table
from ._write import Delete, Insert, Update

__all__ = [
    "BigInt",
    "BigSerial",
    "Boolean",
    "Bytea",
    "Char",
    "Column",
    "Condition",
    "Count",
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
    "Numeric",
    "Objects",
    "PostgresEngine",
    "Query",
    "Raw",
    "Real",
    "Related",
    "SQLiteEngine",
    "Secret",
    "Select",
    "SelectJSON",
    "Serial",
    "SmallInt",
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
    "run_sync",
    "use_engine",
]
