"""The runtime's exceptions, and the translation of the drivers' ones into them.

One hierarchy, the same on both engines::

    EngineError                   the runtime's own refusals (misuse, closed pool, ...)
    ├── TransactionError          a transaction used in a way its state does not allow
    ├── AlterError                a schema change (alter(), a migration) the database cannot make
    └── DatabaseError             the database (or the driver talking to it) failed
        ├── IntegrityError        a constraint refused the write
        │   ├── UniqueViolation
        │   ├── ForeignKeyViolation
        │   ├── NotNullViolation
        │   └── CheckViolation
        ├── DataError             a value the database cannot take (division by zero, ...)
        ├── OperationalError      connection lost or refused, database locked, timeout
        └── ProgrammingError      bad SQL: a missing table or column, a syntax error
            └── SchemaMismatch    check_schema(strict=True): the database lacks or
                                  types differently what the tables declare

A ``DatabaseError`` carries the driver's exception as ``__cause__``, and the
names the database gave (``table``, ``columns``, ``constraint``); what a
database does not say is ``None`` (or ``()``).

Each engine translates with one function, called only from its ``except``
clauses (``raise ... from exc``), so a query that succeeds pays nothing:
``from_sqlite()`` reads sqlite3's extended result code (``sqlite_errorname``,
Python 3.11+) and its message; ``from_asyncpg()`` reads the SQLSTATE (its
class, the first two characters, for all but the four violations) and the
fields the server sends (``table_name``, ``constraint_name``,
``column_name``, ``detail``).
"""

from __future__ import annotations

import re
import sqlite3
from typing import TYPE_CHECKING, Final

if TYPE_CHECKING:
    from ._check import SchemaReport

__all__ = [
    "CheckViolation",
    "DataError",
    "DatabaseError",
    "EngineError",
    "ForeignKeyViolation",
    "IntegrityError",
    "NotNullViolation",
    "OperationalError",
    "ProgrammingError",
    "SchemaMismatch",
    "TransactionError",
    "UniqueViolation",
    "from_asyncpg",
    "from_sqlite",
]


class EngineError(Exception):
    """Base class of every error an engine raises: its own refusals (this
    class, ``TransactionError``, ...) and what the database reported
    (``DatabaseError``)."""


class TransactionError(EngineError):
    """A transaction or savepoint was used in a way its state does not allow."""


class DatabaseError(EngineError):
    """The database refused a statement or could not be reached.

    The driver's exception (``asyncpg.PostgresError``, ``sqlite3.Error``,
    ``OSError``) is ``__cause__``. ``code`` is the SQLSTATE on PostgreSQL
    (``"23505"``) and sqlite3's extended result code name on SQLite
    (``"SQLITE_CONSTRAINT_UNIQUE"``), or ``None``.
    """

    def __init__(
        self,
        message: str,
        *,
        table: str | None = None,
        columns: tuple[str, ...] = (),
        constraint: str | None = None,
        code: str | None = None,
    ) -> None:
        super().__init__(message)
        #: The table the database named, if it named one.
        self.table = table
        #: The columns the database named (a unique or not-null violation, a
        #: missing column), in its order.
        self.columns = columns
        #: The constraint the database named (PostgreSQL always does for a
        #: violation; SQLite only for a check, by name or else by expression).
        self.constraint = constraint
        #: The driver's error code (see the class docstring).
        self.code = code


class IntegrityError(DatabaseError):
    """A constraint refused an insert, update or delete."""


class UniqueViolation(IntegrityError):
    """A unique constraint or primary key already holds the value.

    PostgreSQL names the table, the constraint and the columns; SQLite the
    table and the columns.
    """


class ForeignKeyViolation(IntegrityError):
    """A foreign key points at no row, or a row still referenced was deleted.

    PostgreSQL names the table and the constraint; SQLite says neither.
    """


class NotNullViolation(IntegrityError):
    """``NULL`` in a ``NOT NULL`` column (both databases name table and column)."""


class CheckViolation(IntegrityError):
    """A check constraint refused the row. PostgreSQL names the table and the
    constraint; SQLite the constraint (its expression when it has no name),
    and a query of a table class adds the table when the check is one of
    that class's ``checks``."""


class DataError(DatabaseError):
    """A value the database cannot take: division by zero, a value out of
    range, text that is not a number, a type mismatch."""


class OperationalError(DatabaseError):
    """Not the statement's fault: the connection was lost or refused, the
    database is locked or busy, a statement or lock timed out, a
    serialization failure or deadlock (retry the transaction), the disk is full."""


class ProgrammingError(DatabaseError):
    """The statement is wrong for this database: a missing table or column
    (``table`` / ``columns`` say which; usually the database is behind the
    schema files), a syntax error, wrong parameters."""


#: Added to a missing table's or column's message.
MIGRATIONS_HINT: Final = (
    "the database is behind the schema: run `piccolo-gen migrations forwards`? "
    "(or create_tables() on a new database)"
)


#: The problems of ``SchemaMismatch`` that are about a column.
_COLUMN_KINDS: Final = frozenset(
    {"missing_column", "extra_column", "type", "null", "default", "primary_key", "foreign_key"}
)


class SchemaMismatch(ProgrammingError):
    """``check_schema(..., strict=True)`` found errors: the database lacks a
    table or column the tables declare, or has one of another type,
    nullability or key. A ``ProgrammingError`` because that is what the
    tables' queries would raise; raised before any of them runs, by the
    runtime itself (no ``__cause__``).

    The message lists the errors and warnings, one a line; ``report`` is the
    whole ``SchemaReport``; ``table`` is set when one table has them all,
    and ``columns`` then names its columns among them.
    """

    def __init__(self, report: SchemaReport) -> None:
        shown = [p for p in report.problems if p.severity != "info"]
        tables = sorted({p.table for p in shown})
        columns = [p.name for p in shown if p.kind in _COLUMN_KINDS and len(tables) == 1]
        lines = [
            f"the database does not match the tables ({report.dialect}): "
            + report.summary(infos=False),
            *(f"  {p}" for p in shown),
            "HINT: the database is behind the schema (on a new one, create_tables()); "
            "run `piccolo-gen migrations forwards`?",
        ]
        super().__init__(
            "\n".join(lines),
            table=tables[0] if len(tables) == 1 else None,
            columns=tuple(dict.fromkeys(columns)),
        )
        #: The report the check made (every problem, infos too).
        self.report = report


def _missing(
    driver_message: str, table: str | None, column: str | None, code: str | None
) -> ProgrammingError:
    if column is not None:
        where = f" of table {table!r}" if table else ""
        what = f"column {column!r}{where} does not exist"
    else:
        what = f"table {table!r} does not exist"
    return ProgrammingError(
        f"{driver_message}\nHINT: {what}; {MIGRATIONS_HINT}",
        table=table,
        columns=(column,) if column is not None else (),
        code=code,
    )


# -- SQLite -------------------------------------------------------------------

_SQLITE_INTEGRITY: Final[dict[str, type[IntegrityError]]] = {
    "SQLITE_CONSTRAINT_UNIQUE": UniqueViolation,
    "SQLITE_CONSTRAINT_PRIMARYKEY": UniqueViolation,
    "SQLITE_CONSTRAINT_FOREIGNKEY": ForeignKeyViolation,
    "SQLITE_CONSTRAINT_NOTNULL": NotNullViolation,
    "SQLITE_CONSTRAINT_CHECK": CheckViolation,
}
#: Primary result codes that are the environment's fault, not the statement's
#: (https://www.sqlite.org/rescode.html).
_SQLITE_OPERATIONAL: Final = frozenset(
    {
        "SQLITE_BUSY",
        "SQLITE_LOCKED",
        "SQLITE_IOERR",
        "SQLITE_FULL",
        "SQLITE_CANTOPEN",
        "SQLITE_READONLY",
        "SQLITE_NOMEM",
        "SQLITE_INTERRUPT",
        "SQLITE_PROTOCOL",
        "SQLITE_CORRUPT",
        "SQLITE_NOTADB",
        "SQLITE_PERM",
        "SQLITE_AUTH",
        "SQLITE_NOLFS",
        "SQLITE_ABORT",
    }
)
_SQLITE_DATA: Final = frozenset({"SQLITE_MISMATCH", "SQLITE_TOOBIG", "SQLITE_CONSTRAINT_DATATYPE"})
# The messages SQLite gives for a missing table or column (sqlite3 3.40):
# "no such table: t", "no such column: c" or "...: t.c", and, on INSERT,
# "table t has no column named c".
_NO_SUCH_TABLE: Final = re.compile(r"no such table: (.+)\Z")
_NO_SUCH_COLUMN: Final = re.compile(r"no such column: (.+)\Z")
_NO_COLUMN_NAMED: Final = re.compile(r"table (.+) has no column named (.+)\Z")
# "UNIQUE constraint failed: t.a, t.b", "NOT NULL constraint failed: t.c",
# "CHECK constraint failed: name_or_expression".
_CONSTRAINT_FAILED: Final = re.compile(r"[A-Z ]+ constraint failed: (.+)\Z", re.DOTALL)


def from_sqlite(exc: sqlite3.Error) -> DatabaseError:
    """The runtime's exception for a ``sqlite3`` one: ``raise from_sqlite(exc) from exc``."""
    message = str(exc)
    # The extended result code (SQLITE_CONSTRAINT_UNIQUE), and its primary
    # code (SQLITE_CONSTRAINT); None for the sqlite3 module's own errors.
    name: str | None = getattr(exc, "sqlite_errorname", None)
    primary = "_".join(name.split("_")[:2]) if name else None
    if name in _SQLITE_DATA or primary in _SQLITE_DATA:
        return DataError(message, code=name)
    if primary == "SQLITE_CONSTRAINT" or isinstance(exc, sqlite3.IntegrityError):
        return _sqlite_integrity(message, name)
    if primary == "SQLITE_ERROR":
        # SQLite's "SQL error": a missing table or column, a syntax error, ...
        if found := _NO_SUCH_TABLE.match(message):
            return _missing(message, found[1], None, name)
        if found := _NO_SUCH_COLUMN.match(message):
            table, _, column = found[1].rpartition(".")
            return _missing(message, table or None, column, name)
        if found := _NO_COLUMN_NAMED.match(message):
            return _missing(message, found[1], found[2], name)
        if message.startswith("user-defined function raised exception"):
            # One of the runtime's SQL functions refused its value (the
            # rounding of a numeric(p, s) column, say): PostgreSQL fails such
            # a value with a data exception ("numeric field overflow").
            return DataError(message, code=name)
        return ProgrammingError(message, code=name)
    if primary in _SQLITE_OPERATIONAL:
        return OperationalError(message, code=name)
    if primary in ("SQLITE_RANGE", "SQLITE_MISUSE"):
        return ProgrammingError(message, code=name)
    if primary is not None:
        return DatabaseError(message, code=name)
    # The sqlite3 module's own refusals: a parameter of an unsupported type,
    # a closed connection (ProgrammingError), ...
    kind: type[DatabaseError] = DatabaseError
    if isinstance(exc, (sqlite3.ProgrammingError, sqlite3.InterfaceError)):
        kind = ProgrammingError
    elif isinstance(exc, sqlite3.OperationalError):
        kind = OperationalError
    elif isinstance(exc, sqlite3.DataError):
        kind = DataError
    return kind(message)


def _sqlite_integrity(message: str, name: str | None) -> IntegrityError:
    kind = _SQLITE_INTEGRITY.get(name or "", IntegrityError)
    failed = _CONSTRAINT_FAILED.match(message)
    if failed is None:
        return kind(message, code=name)
    if kind is CheckViolation:
        return kind(message, constraint=failed[1], code=name)
    if (kind is UniqueViolation or kind is NotNullViolation) and "." in failed[1]:
        # "t.a, t.b": one table, each column prefixed with it (split on the
        # prefix, since names may hold ", ").
        table = failed[1].partition(".")[0]
        columns = tuple(failed[1][len(table) + 1 :].split(f", {table}."))
        return kind(message, table=table, columns=columns, code=name)
    return kind(message, code=name)


# -- PostgreSQL (asyncpg) -----------------------------------------------------

_PG_INTEGRITY: Final[dict[str, type[IntegrityError]]] = {
    "23505": UniqueViolation,
    "23503": ForeignKeyViolation,
    "23502": NotNullViolation,
    "23514": CheckViolation,
}
#: SQLSTATE classes (https://www.postgresql.org/docs/current/errcodes-appendix.html),
#: grouped as psycopg groups them into the PEP 249 classes.
#: The names asyncpg gives its prepared statements.
_ASYNCPG_STATEMENT: Final = re.compile(r'prepared statement "__asyncpg_')
_POOLER_HINT: Final = (
    "\nHINT: the connection's session changed between statements, as it does "
    "behind a connection pooler in transaction pooling mode (PgBouncer's "
    "pool_mode = transaction), which cannot keep named prepared statements; "
    'create the engine with PostgresEngine(config, pooler="transaction") '
    "(see docs/scaling.md)"
)

_PG_CLASSES: Final[dict[str, type[DatabaseError]]] = {
    "22": DataError,
    "23": IntegrityError,
    "08": OperationalError,  # connection exception
    "28": OperationalError,  # invalid authorization
    "40": OperationalError,  # serialization failure, deadlock
    "53": OperationalError,  # insufficient resources (too many connections, disk full)
    "54": OperationalError,  # program limit exceeded
    "55": OperationalError,  # object not in prerequisite state (lock_timeout: 55P03)
    "57": OperationalError,  # operator intervention (statement_timeout: 57014, shutdown)
    "58": OperationalError,  # system error
    "20": ProgrammingError,
    "21": ProgrammingError,
    "25": ProgrammingError,  # invalid transaction state (read-only, aborted, ...)
    "26": ProgrammingError,
    "34": ProgrammingError,
    "3D": ProgrammingError,  # unknown database
    "3F": ProgrammingError,  # unknown schema
    "42": ProgrammingError,  # syntax error or access rule violation
    "44": ProgrammingError,
}
_RELATION_MISSING: Final = re.compile(r'relation "(.+)" does not exist\Z')
# 'column "c" does not exist', 'column t.c does not exist',
# 'column "c" of relation "t" does not exist'.
_COLUMN_OF_RELATION: Final = re.compile(r'column "(.+)" of relation "(.+)" does not exist\Z')
_COLUMN_QUOTED: Final = re.compile(r'column "(.+)" does not exist\Z')
_COLUMN_QUALIFIED: Final = re.compile(r"column (.+)\.([^.]+) does not exist\Z")
# A unique violation's detail: 'Key (a, b)=(1, 2) already exists.'
_KEY_DETAIL: Final = re.compile(r"Key \((.+?)\)=\(")


def from_asyncpg(exc: Exception) -> DatabaseError | None:
    """The runtime's exception for an asyncpg one, or an ``OSError`` of its
    socket (``None`` for any other exception).

    ``TimeoutError`` is left as it is: asyncpg raises it from its own timers
    (``command_timeout``, the connect ``timeout``), as ``asyncio.wait_for``
    and ``asyncio.timeout`` do, and code that bounds a query's time catches
    ``TimeoutError`` whichever way the bound was set. The server's timeouts
    (``statement_timeout``, ``lock_timeout``) are ``OperationalError``.
    """
    if isinstance(exc, TimeoutError):
        return None
    if isinstance(exc, OSError):
        return OperationalError(f"connection to PostgreSQL failed: {exc}")
    if not type(exc).__module__.startswith("asyncpg"):
        return None
    message = str(exc)
    sqlstate: str | None = getattr(exc, "sqlstate", None)
    if sqlstate is None:
        # asyncpg's client-side errors (InterfaceError, InternalClientError):
        # "connection is closed" is a lost connection; the rest is misuse.
        # No host fit target_session_attrs: during a failover, none is the
        # primary yet; a connection failure too.
        lost = "closed" in message or type(exc).__name__ == "TargetServerAttributeNotMatched"
        kind: type[DatabaseError] = OperationalError if lost else DatabaseError
        return kind(message)
    if sqlstate in ("26000", "42P05") and _ASYNCPG_STATEMENT.search(message):
        # asyncpg's own prepared statement, gone or already there: the
        # session changed under the connection, which is what a pooler in
        # transaction mode does (asyncpg#837).
        message = message.split("\n")[0] + _POOLER_HINT
    elif sqlstate == "42P01" and (found := _RELATION_MISSING.search(message.split("\n")[0])):
        return _missing(message, found[1], None, sqlstate)
    if sqlstate == "42703":
        first = message.split("\n")[0]
        if found := _COLUMN_OF_RELATION.search(first):
            return _missing(message, found[2], found[1], sqlstate)
        if found := _COLUMN_QUOTED.search(first):
            return _missing(message, None, found[1], sqlstate)
        if found := _COLUMN_QUALIFIED.search(first):
            return _missing(message, found[1], found[2], sqlstate)
    kind = _PG_INTEGRITY.get(sqlstate) or _PG_CLASSES.get(sqlstate[:2], DatabaseError)
    columns: tuple[str, ...] = ()
    column: str | None = getattr(exc, "column_name", None)
    if column:
        columns = (column,)
    elif kind is UniqueViolation and (key := _KEY_DETAIL.match(getattr(exc, "detail", "") or "")):
        columns = tuple(_unquote(name) for name in key[1].split(", "))
    return kind(
        message,
        table=getattr(exc, "table_name", None),
        columns=columns,
        constraint=getattr(exc, "constraint_name", None),
        code=sqlstate,
    )


def _unquote(name: str) -> str:
    # PostgreSQL quotes a name in a detail when it needs quotes ("My Col").
    if len(name) >= 2 and name[0] == name[-1] == '"':
        return name[1:-1].replace('""', '"')
    return name
