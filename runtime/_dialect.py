"""SQL dialects: every difference between SQLite and PostgreSQL lives here."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

__all__ = ["Dialect", "POSTGRES", "SQLITE"]


@dataclass(frozen=True, slots=True)
class Dialect:
    """What a query compiler needs to know about one database.

    Code asks these attributes what to do; it does not compare ``name``,
    which is only a key for per-engine data (a column type's DDL, default
    SQL, compiled statements and row loaders).
    """

    name: str
    #: ``$n`` placeholders (asyncpg) when true, ``?`` (sqlite3) when false.
    numbered_params: bool
    #: Whether text may contain NUL (``"\\x00"``). PostgreSQL's text types
    #: cannot hold it ("invalid byte sequence for encoding UTF8: 0x00");
    #: SQLite stores it.
    text_holds_nul: bool
    #: Whether a float NaN is stored as NaN. sqlite3 binds NaN as NULL (SQLite
    #: has no NaN), so it would come back as ``None`` or fail a NOT NULL.
    float_holds_nan: bool
    #: Whether values keep their declared type. SQLite stores every value in
    #: one of five storage classes, whatever the column's declared type
    #: (https://www.sqlite.org/datatype3.html): dates, times and timestamps
    #: go in as ISO text, intervals as seconds, UUIDs as text and booleans as
    #: 0/1, and the runtime converts them both ways; JSON text read back under
    #: NUMERIC affinity is given back as text.
    typed_storage: bool
    #: Whether the database has exact decimal arithmetic. SQLite has none
    #: (NUMERIC affinity stores 1.10 as the REAL 1.1): numeric values are bound as decimal
    #: text, and their comparisons, arithmetic, ordering and aggregates go
    #: through the runtime's functions (``_numeric``).
    exact_numeric: bool
    #: Whether the database has array types (``col[]``, ``ANY``,
    #: ``array_cat``, ``ARRAY(SELECT ...)``). SQLite has none: an array is
    #: JSON text, read with ``json_each`` and built with ``json_group_array``.
    #: A long ``IN`` list is bound as one parameter the same way (see
    #: ``_sql.InList``): a native array (``col = ANY($1)``) or JSON text
    #: (``col IN (SELECT value FROM json_each(?))``).
    native_arrays: bool
    #: Whether JSON has path operators (PostgreSQL's ``->`` and ``#>``);
    #: on SQLite a path goes through the runtime's function and compares
    #: with canonical JSON text (``_json``).
    json_operators: bool
    #: Whether ``LIKE`` and ``ILIKE`` match as written. SQLite's ``LIKE``
    #: ignores ASCII case and has no ``ILIKE``: patterns become ``GLOB``
    #: (over the folded text for ``ILIKE``, see ``_text``).
    like_patterns: bool
    #: Whether ``CHAR(n)`` reads back blank-padded (PostgreSQL pads it, and
    #: its ``LIKE`` sees the padding); SQLite stores the text as written.
    pads_char: bool
    #: Whether the PostgreSQL-only clauses ``FOR UPDATE`` (``lock_rows()``)
    #: and ``DISTINCT ON`` exist.
    row_locks_and_distinct_on: bool
    #: Whether ``OFFSET`` needs a ``LIMIT`` before it (SQLite's grammar).
    offset_needs_limit: bool
    #: Whether ``ALTER TABLE`` changes columns in place (PostgreSQL); SQLite
    #: alters little and the DDL compiler rebuilds the table (``schema.compile``).
    alters_in_place: bool
    #: A ``bytes`` literal, ``{}`` the hex digits: ``X'..'`` on SQLite,
    #: ``'\x..'`` (bytea's hex format) on PostgreSQL.
    bytes_literal: str
    #: Whether one call runs a script of several statements (asyncpg's
    #: ``execute`` without parameters); sqlite3 runs one statement per call,
    #: so a script is split first (``schema.session.split_sqlite``).
    runs_scripts: bool
    #: Whether the database has advisory locks (PostgreSQL's
    #: ``pg_advisory_xact_lock``), which the migrations runner holds; on
    #: SQLite the session's ``BEGIN IMMEDIATE`` is the one write lock.
    advisory_locks: bool
    #: Whether the database has enum types (PostgreSQL's ``CREATE TYPE ... AS
    #: ENUM``), which compare and sort in declaration order. On SQLite an enum
    #: column is checked text: ordering and ``<`` go through its position
    #: (``CASE col WHEN 'a' THEN 0 ...``), so both engines agree.
    native_enums: bool = True
    #: Whether the database has materialized views (PostgreSQL's ``CREATE
    #: MATERIALIZED VIEW``, ``REFRESH MATERIALIZED VIEW``). SQLite has none: a
    #: materialized view is created as a plain view there, always current.
    materialized_views: bool = True
    #: Whether bulk loads (``insert_many()``) stream rows with ``COPY ... FROM
    #: STDIN`` (PostgreSQL, asyncpg's ``copy_records_to_table``); elsewhere
    #: they run one ``INSERT`` per row (``executemany``) in one transaction.
    copies_rows: bool = True

    def placeholder(self, index: int) -> str:
        """The bound-parameter marker for the ``index``-th parameter (1-based)."""
        return f"${index}" if self.numbered_params else "?"

    @staticmethod
    def quote(identifier: str) -> str:
        """Quote an identifier; identifiers come only from a validated schema."""
        return '"' + identifier.replace('"', '""') + '"'


POSTGRES: Final = Dialect(
    name="postgres",
    numbered_params=True,
    text_holds_nul=False,
    float_holds_nan=True,
    typed_storage=True,
    exact_numeric=True,
    native_arrays=True,
    json_operators=True,
    like_patterns=True,
    pads_char=True,
    row_locks_and_distinct_on=True,
    offset_needs_limit=False,
    alters_in_place=True,
    bytes_literal="'\\x{}'",
    runs_scripts=True,
    advisory_locks=True,
)
SQLITE: Final = Dialect(
    name="sqlite",
    numbered_params=False,
    text_holds_nul=True,
    float_holds_nan=False,
    typed_storage=False,
    exact_numeric=False,
    native_arrays=False,
    json_operators=False,
    like_patterns=False,
    pads_char=False,
    row_locks_and_distinct_on=False,
    offset_needs_limit=True,
    native_enums=False,
    materialized_views=False,
    copies_rows=False,
    runs_scripts=False,
    advisory_locks=False,
    alters_in_place=False,
    bytes_literal="X'{}'",
)
