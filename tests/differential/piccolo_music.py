"""The music schema declared for Piccolo, and Piccolo's sqlite3 registrations kept in a box.

The Piccolo tables here have the table and column names of ``generated/music.py``, so
both ORMs can share one database: piccolo-gen creates and seeds it, and both query it.

Importing ``piccolo.engine.sqlite`` registers adapters (``Decimal`` -> ``float``,
``datetime`` -> ``str``, ``list`` -> JSON, ...) and converters process-wide in the
``sqlite3`` module. piccolo-gen's SQLite engine registers nothing and converts values
in its column layer; its own tests must see a plain ``sqlite3``. So this module takes
Piccolo's registrations out again right after the import, and :func:`piccolo_sqlite3`
puts them back only while a Piccolo query runs (Piccolo needs them: its SQLite engine
reads with ``detect_types`` and binds ``Decimal`` parameters).
"""

from __future__ import annotations

import contextlib
import enum
import sqlite3
import sys
from collections.abc import Iterator
from typing import Any

_adapters_before = dict(sqlite3.adapters)
_converters_before = dict(sqlite3.converters)
_already_imported = "piccolo.engine.sqlite" in sys.modules

from piccolo.columns import (  # noqa: E402 - imported between the two snapshots
    ForeignKey,
    Integer,
    Numeric,
    Timestamp,
    Varchar,
)
from piccolo.columns.base import OnDelete  # noqa: E402
from piccolo.columns.defaults.timestamp import TimestampNow  # noqa: E402
from piccolo.columns.m2m import M2M  # noqa: E402
from piccolo.columns.reference import LazyTableReference  # noqa: E402
from piccolo.engine.postgres import PostgresEngine  # noqa: E402
from piccolo.engine.sqlite import SQLiteEngine  # noqa: E402
from piccolo.query.functions.aggregate import Avg, Count, Max, Min, Sum  # noqa: E402
from piccolo.table import Table  # noqa: E402

__all__ = [
    "Avg",
    "Band",
    "Concert",
    "Count",
    "Genre",
    "GenreToBand",
    "Manager",
    "Max",
    "Min",
    "PostgresEngine",
    "SQLiteEngine",
    "Shirt",
    "Size",
    "Sum",
    "TABLES",
    "Ticket",
    "Venue",
    "bind",
    "piccolo_sqlite3",
]


def _from_piccolo(function: Any) -> bool:
    return str(getattr(function, "__module__", "")).startswith("piccolo")


_PICCOLO_ADAPTERS = {k: v for k, v in sqlite3.adapters.items() if _from_piccolo(v)}
_PICCOLO_CONVERTERS = {k: v for k, v in sqlite3.converters.items() if _from_piccolo(v)}


def _restore_plain() -> None:
    """sqlite3's registrations as they were before Piccolo came."""
    sqlite3.adapters.clear()
    sqlite3.converters.clear()
    if _already_imported:
        # Someone imported Piccolo before us: drop its entries, keep the rest.
        before_a = {k: v for k, v in _adapters_before.items() if not _from_piccolo(v)}
        before_c = {k: v for k, v in _converters_before.items() if not _from_piccolo(v)}
    else:
        before_a, before_c = _adapters_before, _converters_before
    sqlite3.adapters.update(before_a)
    sqlite3.converters.update(before_c)


_restore_plain()
_PLAIN_ADAPTERS = dict(sqlite3.adapters)
_PLAIN_CONVERTERS = dict(sqlite3.converters)


@contextlib.contextmanager
def piccolo_sqlite3() -> Iterator[None]:
    """Piccolo's sqlite3 adapters and converters, for the duration of the block.

    Process-wide, so only for code that awaits its Piccolo query inside the block
    (aiosqlite's worker thread has finished with the statement when the await returns).
    """
    sqlite3.adapters.update(_PICCOLO_ADAPTERS)
    sqlite3.converters.update(_PICCOLO_CONVERTERS)
    try:
        yield
    finally:
        sqlite3.adapters.clear()
        sqlite3.adapters.update(_PLAIN_ADAPTERS)
        sqlite3.converters.clear()
        sqlite3.converters.update(_PLAIN_CONVERTERS)


class Size(enum.StrEnum):
    """Piccolo's way to declare the choices of ``Shirt.size``."""

    small = "s"
    medium = "m"
    large = "l"


class Manager(Table, tablename="manager"):
    name = Varchar(length=50)


class Band(Table, tablename="band"):
    name = Varchar(length=50, unique=True)
    manager = ForeignKey(references=Manager, null=True, on_delete=OnDelete.set_null)
    popularity = Integer(default=0, index=True)
    genres = M2M(LazyTableReference("GenreToBand", module_path=__name__))


class Genre(Table, tablename="genre"):
    name = Varchar(length=50)
    bands = M2M(LazyTableReference("GenreToBand", module_path=__name__))


class GenreToBand(Table, tablename="genre_to_band"):
    # Nullable on Piccolo's side, as in Piccolo's docs: its add_m2m() builds the joining
    # row before it sets the keys, which a non-null key without a default refuses.
    band = ForeignKey(references=Band, index=True)
    genre = ForeignKey(references=Genre, index=True)


class Venue(Table, tablename="venue"):
    name = Varchar(length=100)
    capacity = Integer(null=True, default=None)


class Concert(Table, tablename="concert"):
    band_1 = ForeignKey(references=Band, null=False)
    band_2 = ForeignKey(references=Band, null=False)
    venue = ForeignKey(references=Venue, null=False)
    starts = Timestamp(default=TimestampNow())


class Ticket(Table, tablename="ticket"):
    concert = ForeignKey(references=Concert, null=False)
    price = Numeric(digits=(5, 2))


class Shirt(Table, tablename="shirt"):
    size = Varchar(length=1, choices=Size)


TABLES: tuple[type[Table], ...] = (
    Manager,
    Band,
    Genre,
    GenreToBand,
    Venue,
    Concert,
    Ticket,
    Shirt,
)


def bind(engine: SQLiteEngine | PostgresEngine) -> None:
    """Point every Piccolo table of the schema at ``engine``."""
    for table in TABLES:
        table._meta.db = engine
