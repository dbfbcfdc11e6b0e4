"""The connection and transaction schema changes run in.

``async with ddl_session(engine) as conn:`` yields a ``DdlConnection``
(``fetch(sql, params)``, ``execute(sql)``, ``dialect``) inside one
transaction: everything run on it is committed together when the block
ends, or rolled back, schema and data, when anything in it raises. Run
compiled steps on it with ``runtime.schema.compile.run_steps``:

    steps = compiler_for(engine.dialect).compile(op, before)
    async with ddl_session(engine) as conn:
        await run_steps(conn, steps)

PostgreSQL: the engine's transaction (a savepoint inside an open
``engine.transaction()``). ``ddl_session(engine, transaction=False)`` runs
each statement on its own, for ``CREATE INDEX CONCURRENTLY``, which
PostgreSQL refuses inside a transaction (a failure then leaves what ran;
inside an open ``engine.transaction()`` the statements run in it). On SQLite,
which has no such statement, a session is always one transaction.

SQLite: outside a transaction, a connection of its own, with
``PRAGMA foreign_keys = OFF`` set before ``BEGIN IMMEDIATE`` (a table
rebuild drops the old table, whose foreign key actions would otherwise run);
before it commits it runs ``PRAGMA foreign_key_check`` and compiles every
view and trigger, and fails (rolling back) when the change broke a foreign
key or something that compiled before. It holds the engine's transaction
lock meanwhile, so no transaction of this event loop waits on SQLite's write
lock; inside the block, statements go through the session's connection (the
engine's own queries would wait for the session to end). Inside an open
``engine.transaction()`` it is a savepoint of that transaction, where
foreign keys stay on: a rebuild of a referenced table then raises
``AlterError``. The view and trigger check runs there too.
"""

from __future__ import annotations

import itertools
import re
import sqlite3
from collections.abc import AsyncIterator, Awaitable, Callable
from collections.abc import Sequence as _Seq
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING, Any

from .._dialect import Dialect
from .._errors import DatabaseError, from_sqlite
from .._sqlite import SQLiteEngine, _fetch
from .compile import AlterError, DdlConnection

if TYPE_CHECKING:
    from .._engine import Engine

__all__ = ["EngineConnection", "SQLiteConnection", "ddl_session", "schema_problems"]


class EngineConnection:
    """Statements on the engine (in its current transaction, if any)."""

    def __init__(self, engine: Engine, *, foreign_keys_enforced: bool = True) -> None:
        self._engine = engine
        self._enforced = foreign_keys_enforced

    @property
    def dialect(self) -> Dialect:
        return self._engine.dialect

    @property
    def foreign_keys_enforced(self) -> bool:
        return self._enforced

    async def fetch(self, sql: str, params: _Seq[object] = ()) -> list[_Seq[Any]]:
        return await self._engine._fetch_built(sql, params)

    async def execute(self, sql: str, params: _Seq[object] = ()) -> None:
        if params or self.dialect.numbered_params:
            # Without parameters asyncpg runs several statements in one call.
            await self._engine._execute_built(sql, params)
            return
        for statement in split_sqlite(sql):
            await self._engine._execute_built(statement)


class SQLiteConnection:
    """A session's own SQLite connection (foreign keys off)."""

    def __init__(self, conn: sqlite3.Connection, dialect: Dialect) -> None:
        self._conn = conn
        self._dialect = dialect

    @property
    def dialect(self) -> Dialect:
        return self._dialect

    @property
    def foreign_keys_enforced(self) -> bool:
        return False

    async def fetch(self, sql: str, params: _Seq[object] = ()) -> list[_Seq[Any]]:
        try:
            return _fetch(self._conn, sql, params)
        except sqlite3.Error as exc:
            raise from_sqlite(exc) from exc

    async def execute(self, sql: str, params: _Seq[object] = ()) -> None:
        try:
            if params:
                self._conn.execute(sql, params).close()
                return
            for statement in split_sqlite(sql):
                self._conn.execute(statement).close()
        except sqlite3.Error as exc:
            raise from_sqlite(exc) from exc


def split_sqlite(sql: str) -> list[str]:
    """The statements of ``sql`` (sqlite3 runs one per call; ``executescript``
    would commit the transaction)."""
    statements: list[str] = []
    current = ""
    for piece in sql.split(";"):
        current = f"{current};{piece}" if current else piece
        if sqlite3.complete_statement(current + ";"):
            if current.strip():
                statements.append(current.strip())
            current = ""
    if current.strip():
        statements.append(current.strip())
    return statements or [sql]


@asynccontextmanager
async def ddl_session(engine: Engine, *, transaction: bool = True) -> AsyncIterator[DdlConnection]:
    """A connection for schema changes, all or nothing (see the module docstring)."""
    if engine.dialect.alters_in_place:
        if not transaction:
            yield EngineConnection(engine)
            return
        async with engine.transaction():
            yield EngineConnection(engine)
        return
    if engine.transaction_exists():
        # A savepoint of the caller's transaction: a failed check undoes
        # the change, not the caller's work.
        async with engine.transaction():
            inner = EngineConnection(engine, foreign_keys_enforced=True)
            before = await schema_problems(inner.fetch)
            yield inner
            await _check_schema(inner.fetch, before)
        return
    assert isinstance(engine, SQLiteEngine)
    async with _own_connection(engine) as conn:
        yield conn


@asynccontextmanager
async def _own_connection(engine: SQLiteEngine) -> AsyncIterator[SQLiteConnection]:
    lock = engine._transaction_lock()
    async with lock:
        # No busy timeout of its own: the engine waits for the lock without
        # blocking the event loop (``SQLiteEngine._wait_for_lock``).
        raw = engine._connect(wait_in_sqlite=False)
        try:
            raw.execute("PRAGMA foreign_keys = OFF")
            await engine._wait_for_lock(raw, "BEGIN IMMEDIATE")
            conn = SQLiteConnection(raw, engine.dialect)
            try:
                before = await schema_problems(conn.fetch)
                yield conn
                problems = _fetch(raw, "PRAGMA foreign_key_check", ())
                if problems:
                    raise AlterError(
                        f"the change breaks foreign keys: {[tuple(p) for p in problems]}"
                        " (nothing was changed)"
                    )
                await _check_schema(conn.fetch, before)
            except BaseException:
                raw.execute("ROLLBACK")
                raise
            try:
                await engine._wait_for_lock(raw, "COMMIT")
            except sqlite3.Error as exc:
                raw.execute("ROLLBACK")
                raise from_sqlite(exc) from exc
        except sqlite3.Error as exc:
            raise from_sqlite(exc) from exc
        finally:
            raw.close()


_Fetch = Callable[[str, _Seq[object]], Awaitable[list[_Seq[Any]]]]

_CHECK_NUMBERS = itertools.count()

_UPDATE_OF = re.compile(r"\bUPDATE\s+OF\s+(.*?)\s+ON\s", re.IGNORECASE | re.DOTALL)


async def _check_schema(fetch: _Fetch, before: dict[str, str]) -> None:
    # Only what the change breaks is its fault: a view that was broken
    # already (SQLite lets one be created) stays the user's business.
    broken = {k: v for k, v in (await schema_problems(fetch)).items() if k not in before}
    if broken:
        found = "; ".join(f"{what}: {why}" for what, why in broken.items())
        raise AlterError(
            f"this change would break {found}; SQLite resolves views"
            " and triggers by column name when they run, so drop or change them first"
            " (nothing was changed)"
        )


def _update_of(sql: str) -> list[str]:
    """The columns of a trigger's ``UPDATE OF a, b`` clause (none without one)."""
    head = re.split(r"\bBEGIN\b", sql, maxsplit=1, flags=re.IGNORECASE)[0]
    match = _UPDATE_OF.search(head)
    if match is None:
        return []
    names = [name.strip() for name in match.group(1).split(",")]
    return [_unquote(name) for name in names if name]


def _unquote(name: str) -> str:
    """An SQLite identifier as written (``"a""b"``, `` `x` ``, ``[x]`` or bare) -> its name."""
    if name[0] in '"`' and name[-1] == name[0]:
        return name[1:-1].replace(name[0] * 2, name[0])
    if name[0] == "[" and name[-1] == "]":
        return name[1:-1]
    return name


async def schema_problems(fetch: _Fetch) -> dict[str, str]:
    """What in an SQLite schema does not compile now: ``{what: SQLite's message}``.

    SQLite checks neither a view nor a trigger when it is created (one that
    names a missing column is accepted) but when a statement uses it, so
    each view is compiled with ``EXPLAIN SELECT``, and the triggers of each
    table (or view) with ``EXPLAIN`` of an INSERT, an UPDATE of every column
    and a DELETE, which compile the triggers they would fire; nothing runs.
    (This finds more than SQLite's own check in ``RENAME`` and ``DROP
    COLUMN``, which misses a trigger body's ``INSERT INTO t (missing)``.)
    A trigger ``UPDATE OF`` a missing column is never compiled (it can no
    longer fire): its column list is read from its SQL.
    """
    quote = Dialect.quote
    problems: dict[str, str] = {}

    async def compiles(what: str, sql: str) -> None:
        try:
            # A text of its own each time: sqlite3 caches prepared statements
            # by text, and SQLite (seen with 3.40.1) crashes the process when
            # it re-prepares a cached EXPLAIN after a schema change and the
            # new compile fails.
            await fetch(f"/* piccolo-gen check {next(_CHECK_NUMBERS)} */ EXPLAIN {sql}", ())
        # The engine reports sqlite3's error as one of its own classes; its
        # message is sqlite3's, here without the migrations hint.
        except Exception as error:  # noqa: BLE001
            problems[what] = str(error.__cause__ if isinstance(error, DatabaseError) else error)

    rows = await fetch(
        "SELECT type, name, tbl_name, sql FROM sqlite_master"
        " WHERE type IN ('view', 'trigger') ORDER BY rowid",
        (),
    )
    triggers: dict[str, list[tuple[str, str]]] = {}
    for kind, name, table, sql in rows:
        if kind == "view":
            await compiles(f"view {name!r}", f"SELECT * FROM {quote(name)}")
        else:
            triggers.setdefault(table, []).append((name, sql or ""))
    for table, named in triggers.items():
        info = await fetch(f"PRAGMA table_xinfo({quote(table)})", ())
        known = {row[1].casefold() for row in info}
        for name, sql in named:
            for column in _update_of(sql):
                if column.casefold() not in known:
                    problems[f"trigger {name!r} (UPDATE OF {column})"] = f"no such column: {column}"
        # Hidden (generated) columns cannot be assigned.
        assigned = ", ".join(f"{quote(r[1])} = {quote(r[1])}" for r in info if r[6] == 0)
        listed = ", ".join(repr(name) for name, _ in named)
        for event, sql in (
            ("INSERT", f"INSERT INTO {quote(table)} DEFAULT VALUES"),
            ("UPDATE", f"UPDATE {quote(table)} SET {assigned}"),
            ("DELETE", f"DELETE FROM {quote(table)}"),
        ):
            # A view without an INSTEAD OF trigger for the event cannot be
            # written to: that problem is there before and after, so it is
            # ignored like any other problem the change did not cause.
            await compiles(f"the {event} triggers on {table!r} ({listed})", sql)
    return problems
