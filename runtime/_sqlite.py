"""The SQLite engine, on the standard library's ``sqlite3``.

Queries run directly on the calling thread, inside the coroutine, with no
hop to a worker thread: SQLite calls are short (microseconds for the queries
an ORM sends), and a thread hop per query would cost more than the query
(aiosqlite pays about that much on every call). The price: a query outside
a transaction that waits for SQLite's file lock blocks its event loop for up
to the busy timeout. This engine avoids the one case where that would
deadlock a single loop (see "Transactions" below), and a transaction waits
for its locks without blocking the loop.

Connections
    Each thread keeps one cached connection in autocommit mode
    (``isolation_level=None``) for queries outside transactions, so a query
    does not reconnect. A connection is used by one thread only; it is opened
    with ``check_same_thread=False`` solely so that ``close()`` and garbage
    collection may close it from any thread. Every new connection runs
    ``PRAGMA foreign_keys = ON`` (SQLite leaves foreign keys unenforced
    otherwise) and gets a busy timeout (``timeout``, 5 s by default).
    No adapters or converters are registered: values arrive converted by
    the column layer, and process-wide registrations would leak into the
    application's own sqlite3 use. SQL functions are registered on each
    connection the engine opens: ``piccolo_fold_case`` (``ilike``, see
    ``runtime._text``), ``piccolo_json_path`` (JSON paths, see
    ``runtime._json``), ``piccolo_array_cat`` (see ``runtime._array``) and
    the numeric functions of ``runtime._numeric``.

Transactions
    A transaction gets a dedicated connection (a spare one is kept per
    thread) and runs ``BEGIN IMMEDIATE`` (by default; see
    ``SQLiteEngine.transaction()`` for why) or ``DEFERRED|EXCLUSIVE``; the
    lock that ``BEGIN IMMEDIATE|EXCLUSIVE`` and ``COMMIT`` need is waited
    for by the engine, polling, not by SQLite's busy handler (see
    ``SQLiteEngine._wait_for_lock``). SQLite admits one writer at a time:
    if a second task of the same loop began writing while the first held
    the write lock, a wait in SQLite's busy handler (a statement of a
    deferred transaction, a query outside transactions) would block the
    loop, so the first could never finish. Transactions of one engine on
    one event loop are therefore serialized with an ``asyncio.Lock``, and a
    query outside any transaction waits (without blocking the loop) while a
    transaction of another task holds it.
"""

from __future__ import annotations

import asyncio
import contextvars
import os
import sqlite3
import threading
import weakref
from collections.abc import AsyncGenerator, Callable, Iterable, Sequence
from typing import Any, Final, Literal, TypeVar, get_args

from . import _numeric
from ._array import ARRAY_CAT_FUNCTION, sqlite_array_cat
from ._dialect import SQLITE
from ._engine_base import Engine, Transaction, TransactionError
from ._errors import from_sqlite
from ._json import JSON_PATH_FUNCTION, sqlite_json_path
from ._text import FOLD_FUNCTION, fold_case

__all__ = ["SQLiteEngine", "SQLiteTransaction", "SQLiteTransactionType"]

_R = TypeVar("_R")
_P = TypeVar("_P")

#: ``BEGIN DEFERRED`` takes locks as the statements need them; ``IMMEDIATE``
#: takes the write lock at once; ``EXCLUSIVE`` also keeps readers out (in
#: rollback-journal mode).
SQLiteTransactionType = Literal["deferred", "immediate", "exclusive"]
_TRANSACTION_TYPES: Final = get_args(SQLiteTransactionType)

_DEFAULT_BUSY_TIMEOUT: Final = 5.0
#: The primary result code of "database is locked" (sqlite_errorcode & 0xFF).
_SQLITE_BUSY: Final = 5
#: Seconds between two attempts to take a lock for a transaction (see
#: ``SQLiteEngine._wait_for_lock``).
_LOCK_POLL: Final = 0.001


class _Slot:
    """One thread's cached connections; lives in the engine's thread-local."""

    __slots__ = ("conn", "spare", "__weakref__")

    def __init__(self, conn: sqlite3.Connection) -> None:
        #: The autocommit connection; None once the engine closed it.
        self.conn: sqlite3.Connection | None = conn
        #: An idle connection for the next transaction of this thread.
        self.spare: sqlite3.Connection | None = None

    def close(self) -> None:
        conn, spare, self.conn, self.spare = self.conn, self.spare, None, None
        for connection in (conn, spare):
            if connection is not None:
                connection.close()

    def __del__(self) -> None:
        # The thread died (its thread-local went away): close explicitly
        # rather than wait for the connection object to be collected.
        self.close()


def _fetch(conn: sqlite3.Connection, sql: str, params: Sequence[object]) -> list[Sequence[Any]]:
    cursor = conn.execute(sql, params)
    try:
        rows: list[Sequence[Any]] = cursor.fetchall()
    finally:
        cursor.close()
    return rows


def _fetch_dicts(
    conn: sqlite3.Connection, sql: str, params: Sequence[object]
) -> list[dict[str, Any]]:
    cursor = conn.execute(sql, params)
    try:
        rows = cursor.fetchall()
        if cursor.description is None:
            return []
        names = [column[0] for column in cursor.description]
    finally:
        cursor.close()
    return [dict(zip(names, row)) for row in rows]


def _execute(conn: sqlite3.Connection, sql: str, params: Sequence[object]) -> None:
    # Closing the cursor ends the statement, so a SELECT passed here does not
    # keep its read lock until the cursor is collected.
    conn.execute(sql, params).close()


def _executemany(conn: sqlite3.Connection, sql: str, params: Iterable[Sequence[object]]) -> None:
    if conn.in_transaction:
        conn.executemany(sql, params).close()
        return
    # Outside a transaction each row would commit on its own: slow, and not
    # atomic. asyncpg's executemany() is atomic; match it. IMMEDIATE, as
    # for transactions (see SQLiteEngine.transaction()).
    conn.execute("BEGIN IMMEDIATE")
    try:
        conn.executemany(sql, params).close()
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    conn.execute("COMMIT")


def _register_functions(conn: sqlite3.Connection) -> None:
    # Functions the compiled SQL calls, on this connection only (the
    # application's own sqlite3 connections are left as they are).
    # Deterministic, so SQLite may use them in indexes and factor them out.
    conn.create_function(FOLD_FUNCTION, 1, fold_case, deterministic=True)
    conn.create_function(JSON_PATH_FUNCTION, -1, sqlite_json_path, deterministic=True)
    conn.create_function(ARRAY_CAT_FUNCTION, 2, sqlite_array_cat, deterministic=True)
    _numeric.register(conn)  # PostgreSQL's numeric arithmetic (see _numeric)


class SQLiteEngine(Engine):
    """An SQLite database file, through the standard library's ``sqlite3``.

    ``path`` is resolved to an absolute path at construction, so every
    connection opens the same file whatever the working directory is later.
    ``connect_kwargs`` go to ``sqlite3.connect()`` (``timeout``: the busy
    timeout in seconds, 5 by default; ``uri=True`` to pass a ``file:`` URI,
    which is then used as is). ``isolation_level`` and ``check_same_thread``
    are managed by the engine.
    """

    dialect = SQLITE

    def __init__(
        self, path: str | os.PathLike[str] = "piccolo.sqlite", **connect_kwargs: Any
    ) -> None:
        location = os.fspath(path)
        if location in ("", ":memory:"):
            raise ValueError(
                "SQLiteEngine needs a database file: every connection to "
                f"{location or 'an empty path'!r} is a separate, private database, "
                "and transactions use a connection of their own"
            )
        for managed in ("isolation_level", "check_same_thread", "autocommit"):
            if managed in connect_kwargs:
                raise ValueError(f"SQLiteEngine manages {managed!r} itself")
        #: The database file (or the URI, with ``uri=True``).
        self.path: str = location if connect_kwargs.get("uri") else os.path.abspath(location)
        #: Extra arguments of ``sqlite3.connect()``.
        self.connect_kwargs: dict[str, Any] = {"timeout": _DEFAULT_BUSY_TIMEOUT, **connect_kwargs}
        self._current: contextvars.ContextVar[SQLiteTransaction | None] = contextvars.ContextVar(
            f"piccolo_gen_sqlite_transaction_{id(self)}", default=None
        )
        self._local = threading.local()
        self._slots: weakref.WeakSet[_Slot] = weakref.WeakSet()
        self._slots_lock = threading.Lock()

    def __repr__(self) -> str:
        return f"SQLiteEngine(path={self.path!r})"

    # -- queries ------------------------------------------------------------

    async def fetch(self, sql: str, params: Sequence[object] = ()) -> list[Sequence[Any]]:
        """Run a statement and return its rows (sqlite3 tuples)."""
        return await self._call(_fetch, sql, params)

    async def fetch_dicts(self, sql: str, params: Sequence[object] = ()) -> list[dict[str, Any]]:
        """Run a statement and return its rows as ``{column name: value}``."""
        return await self._call(_fetch_dicts, sql, params)

    async def execute(self, sql: str, params: Sequence[object] = ()) -> None:
        """Run a statement, discarding any rows."""
        await self._call(_execute, sql, params)

    async def executemany(self, sql: str, params: Iterable[Sequence[object]]) -> None:
        """Run a statement once per parameter row, atomically (``cursor.executemany``)."""
        await self._call(_executemany, sql, params)

    # A SQLite connection has no session state to reset: the query layer's
    # own statements take the public methods directly (no extra call).
    _fetch_built = fetch
    _execute_built = execute
    _executemany_built = executemany

    async def _fetch_converted(
        self, sql: str, params: Sequence[object], convert: Callable[[list[Sequence[Any]]], _R]
    ) -> _R:
        return convert(await self._call(_fetch, sql, params))

    async def batches(
        self, sql: str, params: Sequence[object], size: int
    ) -> AsyncGenerator[list[Sequence[Any]], None]:
        """Run a statement and yield its rows ``size`` at a time (``cursor.fetchmany``).

        Reads on the connection of the open transaction, else on the thread's
        autocommit connection. While the cursor is open the database file
        holds a read lock: a transaction of another connection cannot commit
        a write until the iteration ends (see docs/select.md).
        """
        transaction = self._current.get()
        if transaction is not None:
            conn = transaction._connection()
        else:
            lock = self._held_lock()
            if lock is not None:
                async with lock:  # let another task's transaction finish first
                    pass
            conn = self._slot_connection()
        try:
            cursor = conn.execute(sql, params)
        except sqlite3.Error as exc:
            raise from_sqlite(exc) from exc
        try:
            while True:
                try:
                    rows: list[Sequence[Any]] = cursor.fetchmany(size)
                except sqlite3.Error as exc:
                    raise from_sqlite(exc) from exc
                if rows:
                    yield rows
                if len(rows) < size:
                    break
        finally:
            try:
                cursor.close()
            except sqlite3.ProgrammingError:
                pass  # closed late, after its connection: nothing left to release

    async def _call(
        self,
        operation: Callable[[sqlite3.Connection, str, _P], _R],
        sql: str,
        params: _P,
    ) -> _R:
        # Every statement of the public methods passes here: the one place
        # where sqlite3's exceptions become the runtime's (free until one is
        # raised).
        try:
            transaction = self._current.get()
            if transaction is not None:
                return operation(transaction._connection(), sql, params)
            lock = self._held_lock()
            if lock is None:
                return operation(self._slot_connection(), sql, params)
            # A transaction of another task of this loop holds the write lock
            # (or may take it): wait for it instead of blocking the loop.
            async with lock:
                return operation(self._slot_connection(), sql, params)
        except sqlite3.Error as exc:
            raise from_sqlite(exc) from exc

    # -- transactions -------------------------------------------------------

    def transaction(
        self, *, transaction_type: SQLiteTransactionType = "immediate"
    ) -> SQLiteTransaction:
        """A new transaction: ``async with engine.transaction():``.

        ``transaction_type`` picks ``BEGIN IMMEDIATE`` (default), ``DEFERRED``
        or ``EXCLUSIVE``; it does not apply to a nested transaction, which is
        a savepoint of the enclosing one.

        Why immediate: a deferred transaction that reads and then writes
        must upgrade its read lock to the write lock, and when another
        connection (another process, say) holds or wants the write lock,
        SQLite answers ``SQLITE_BUSY`` at once, without waiting for the busy
        timeout, since waiting could deadlock (in WAL mode, too, when another
        connection committed since the read: ``SQLITE_BUSY_SNAPSHOT``). The
        read-modify-write then fails with "database is locked" however long
        the timeout. ``BEGIN IMMEDIATE`` takes the write lock first, where the
        busy timeout applies. The cost: two immediate transactions never run
        at once, even if both only read (readers outside transactions, and
        ``transaction_type="deferred"`` ones, still do).
        """
        return SQLiteTransaction(self, transaction_type=transaction_type)

    def current_transaction(self) -> SQLiteTransaction | None:
        """The innermost transaction of the current context, if any (in any state)."""
        return self._current.get()

    async def close(self) -> None:
        """Close every cached connection, of every thread.

        Call it when no query of this engine is running; the engine reconnects
        on the next query. A transaction still open keeps its connection.
        """
        with self._slots_lock:
            slots = list(self._slots)
            self._slots.clear()
        for slot in slots:
            slot.close()

    # -- connections --------------------------------------------------------

    def _connect(self, *, wait_in_sqlite: bool = True) -> sqlite3.Connection:
        """A new connection; ``wait_in_sqlite=False`` gives it no busy timeout
        (a transaction's: the engine waits for locks itself, see ``_wait_for_lock``)."""
        try:
            conn: sqlite3.Connection = sqlite3.connect(
                self.path, isolation_level=None, check_same_thread=False, **self.connect_kwargs
            )
            try:
                conn.execute("PRAGMA foreign_keys = ON")
                if not wait_in_sqlite:
                    conn.execute("PRAGMA busy_timeout = 0")
                _register_functions(conn)
            except BaseException:
                conn.close()
                raise
        except sqlite3.Error as exc:  # unable to open database file, ...
            raise from_sqlite(exc) from exc
        return conn

    def _busy_timeout_ms(self) -> int:
        return round(float(self.connect_kwargs["timeout"]) * 1000)

    def _slot(self) -> _Slot:
        slot: _Slot | None = getattr(self._local, "slot", None)
        if slot is None or slot.conn is None:
            slot = _Slot(self._connect())
            self._local.slot = slot
            with self._slots_lock:
                self._slots.add(slot)
        return slot

    def _slot_connection(self) -> sqlite3.Connection:
        slot = self._slot()
        conn = slot.conn
        if conn is None:  # closed by another thread just now
            raise TransactionError("the engine was closed while a query was starting")
        return conn

    def _take_spare(self) -> sqlite3.Connection:
        """A connection for a transaction; it has no busy timeout of its own
        (see ``_wait_for_lock``)."""
        slot = self._slot()
        spare, slot.spare = slot.spare, None
        if spare is not None:
            return spare
        return self._connect(wait_in_sqlite=False)

    async def _wait_for_lock(self, conn: sqlite3.Connection, sql: str) -> None:
        """Run ``sql`` (``BEGIN IMMEDIATE|EXCLUSIVE``, ``COMMIT``), retrying
        while another connection holds the lock it needs, for up to the
        busy timeout, without blocking the event loop.

        SQLite's own busy handler would block the loop, and it backs off to
        100 ms between attempts: with a few processes taking turns, a
        connection sleeping that long keeps finding the lock taken again and
        times out ("database is locked") while others get through. Here the
        connection has no busy timeout, and attempts come every millisecond.
        A failed ``BEGIN`` has started nothing, and a ``COMMIT`` that found
        the database busy leaves its transaction open to be committed again
        (https://www.sqlite.org/lang_transaction.html).
        """
        loop = asyncio.get_running_loop()
        deadline = loop.time() + float(self.connect_kwargs["timeout"])
        while True:
            try:
                conn.execute(sql)
                return
            except sqlite3.OperationalError as exc:
                busy = getattr(exc, "sqlite_errorcode", 0) & 0xFF == _SQLITE_BUSY
                if not busy or loop.time() >= deadline:
                    raise
            await asyncio.sleep(_LOCK_POLL)

    def _give_back(self, conn: sqlite3.Connection) -> None:
        slot: _Slot | None = getattr(self._local, "slot", None)
        if slot is not None and slot.conn is not None and slot.spare is None:
            slot.spare = conn
        else:
            conn.close()

    def _transaction_lock(self) -> asyncio.Lock:
        """The lock serializing this engine's transactions on the running loop."""
        loop = asyncio.get_running_loop()
        held: tuple[asyncio.AbstractEventLoop, asyncio.Lock] | None = getattr(
            self._local, "lock", None
        )
        if held is None or held[0] is not loop:
            # An asyncio.Lock belongs to one loop; a thread runs one loop at
            # a time, so one lock per thread, renewed when the loop changes.
            held = (loop, asyncio.Lock())
            self._local.lock = held
        return held[1]

    def _held_lock(self) -> asyncio.Lock | None:
        held: tuple[asyncio.AbstractEventLoop, asyncio.Lock] | None = getattr(
            self._local, "lock", None
        )
        if held is None or not held[1].locked() or held[0] is not asyncio.get_running_loop():
            return None
        return held[1]


class SQLiteTransaction(Transaction):
    """A transaction of an :class:`SQLiteEngine` (see ``Transaction``)."""

    def __init__(
        self, engine: SQLiteEngine, *, transaction_type: SQLiteTransactionType = "immediate"
    ) -> None:
        if transaction_type not in _TRANSACTION_TYPES:
            raise ValueError(
                f"transaction_type must be one of {', '.join(_TRANSACTION_TYPES)}, "
                f"not {transaction_type!r}"
            )
        super().__init__(engine._current)
        self.engine = engine
        #: ``deferred``, ``immediate`` or ``exclusive`` (top level only).
        self.transaction_type: SQLiteTransactionType = transaction_type
        self._conn: sqlite3.Connection | None = None
        self._lock: asyncio.Lock | None = None

    def _connection(self) -> sqlite3.Connection:
        conn = self._active_root()._conn
        if conn is None:  # pragma: no cover - a started transaction has one
            raise TransactionError("the transaction has no connection")
        return conn

    async def _begin(self) -> None:
        lock = self.engine._transaction_lock()
        await lock.acquire()
        try:
            conn = self.engine._take_spare()
            try:
                if self.transaction_type == "deferred":
                    # Takes no lock now; its statements take them as they go,
                    # and wait for them in SQLite's busy handler.
                    conn.execute("BEGIN DEFERRED")
                    conn.execute(f"PRAGMA busy_timeout = {self.engine._busy_timeout_ms()}")
                else:
                    await self.engine._wait_for_lock(conn, f"BEGIN {self.transaction_type.upper()}")
            except BaseException as exc:
                conn.close()
                if isinstance(exc, sqlite3.Error):
                    raise from_sqlite(exc) from exc
                raise
        except BaseException:
            lock.release()
            raise
        self._conn, self._lock = conn, lock

    async def _commit(self) -> None:
        try:
            # In rollback-journal mode COMMIT waits for readers to finish.
            await self.engine._wait_for_lock(self._connection_of_root(), "COMMIT")
        except sqlite3.Error as exc:  # a deferred foreign key, a busy file, ...
            raise from_sqlite(exc) from exc

    async def _rollback(self) -> None:
        conn = self._connection_of_root()
        # Some errors (SQLITE_FULL, SQLITE_IOERR, ...) end the transaction by
        # themselves; ROLLBACK would then fail with "no transaction is active".
        if conn.in_transaction:
            self._run_control("ROLLBACK")

    async def _control(self, sql: str) -> None:
        self._run_control(sql)

    def _run_control(self, sql: str) -> None:
        try:
            self._connection_of_root().execute(sql)
        except sqlite3.Error as exc:
            raise from_sqlite(exc) from exc

    async def _end(self, *, clean: bool) -> None:
        conn, lock, self._conn, self._lock = self._conn, self._lock, None, None
        try:
            if conn is not None:
                if clean and not conn.in_transaction:
                    if self.transaction_type == "deferred":
                        conn.execute("PRAGMA busy_timeout = 0")  # as _take_spare() gives it
                    self.engine._give_back(conn)
                else:
                    conn.close()  # closing discards whatever is left open
        except Exception:
            pass  # the connection is gone either way
        finally:
            if lock is not None:
                lock.release()

    def _connection_of_root(self) -> sqlite3.Connection:
        conn = self._conn
        if conn is None:
            raise TransactionError(f"the transaction is {self.state.value}")
        return conn
