"""The PostgreSQL engine, on asyncpg.

Connections
    Without a pool, each query opens a connection and closes it afterwards
    (as Piccolo does): simple and always correct, but slow, so applications
    call ``start_connection_pool()`` at startup.

    An asyncpg pool belongs to the event loop it was created on; using it from
    another loop fails with "attached to a different loop" or "another
    operation is in progress". The engine remembers the pool's loop, and a
    query running on any other loop (``asyncio.run()`` in a thread, or
    ``run_sync()`` while the pool lives on the application's loop) uses a
    fresh direct connection instead.

Transactions
    A top-level transaction acquires a connection (from the pool when it
    belongs to the running loop, else a direct one) for its whole block, and
    gives it back afterwards: a pooled connection is released under
    ``asyncio.shield`` (asyncpg's ``Pool.release`` does that, and resets it),
    a connection left inside a transaction by a failure is terminated rather
    than reused. Queries on a transaction's connection are serialized by a
    lock, so tasks started inside the block may share it safely.
"""

from __future__ import annotations

import asyncio
import contextvars
from collections.abc import (
    AsyncGenerator,
    Awaitable,
    Callable,
    Generator,
    Iterable,
    Iterator,
    Mapping,
    Sequence,
)
from typing import Any, Final, Literal, Protocol, TypeVar, cast, get_args

import asyncpg  # type: ignore[import-untyped]

from . import _sync
from ._dialect import POSTGRES
from ._engine_base import Engine, EngineError, Transaction, TransactionError

__all__ = ["PostgresEngine", "PostgresIsolationLevel", "PostgresTransaction"]

_R = TypeVar("_R")

#: The isolation levels of ``BEGIN ISOLATION LEVEL ...``.
PostgresIsolationLevel = Literal["read_committed", "repeatable_read", "serializable"]
_ISOLATION_LEVELS: Final = get_args(PostgresIsolationLevel)

# Seconds to wait for a graceful close before dropping the socket.
_CLOSE_TIMEOUT: Final = 10.0


# asyncpg ships no type information: these protocols state exactly what this
# module uses of it, so nothing untyped leaks further.


class _Record(Protocol):
    def __getitem__(self, key: int | str, /) -> Any: ...
    def __len__(self) -> int: ...
    def items(self) -> Iterator[tuple[str, Any]]: ...


class _Executor(Protocol):
    """What a connection and a pool both offer."""

    async def fetch(self, query: str, *args: object) -> list[_Record]: ...
    async def execute(self, query: str, *args: object) -> str: ...
    async def executemany(self, command: str, args: Iterable[Sequence[object]]) -> None: ...


class _Cursor(Protocol):
    async def fetch(self, n: int, /) -> list[_Record]: ...


class _CursorFactory(Protocol):
    def __await__(self) -> Generator[Any, None, _Cursor]: ...


class _Connection(_Executor, Protocol):
    def cursor(self, query: str, *args: object) -> _CursorFactory: ...
    async def close(self, *, timeout: float | None = None) -> None: ...
    def terminate(self) -> None: ...
    def is_in_transaction(self) -> bool: ...


class _Pool(_Executor, Protocol):
    def acquire(self) -> Awaitable[_Connection]: ...
    async def release(self, connection: _Connection) -> None: ...
    async def close(self) -> None: ...
    def terminate(self) -> None: ...


async def _close(conn: _Connection) -> None:
    """Close a connection of our own; never raise for it."""
    try:
        await conn.close(timeout=_CLOSE_TIMEOUT)
    except Exception:
        conn.terminate()  # asyncpg aborted it already; make sure


def _rows(records: list[_Record]) -> list[Sequence[Any]]:
    # A Record is indexable by position like a tuple; no copy is made.
    return cast(list[Sequence[Any]], records)


class PostgresEngine(Engine):
    """A PostgreSQL database, through asyncpg.

    ``config`` holds the keyword arguments of ``asyncpg.connect()``:
    ``host``, ``port``, ``user``, ``password``, ``database``, or a ``dsn``
    URL, and so on; what it leaves out comes from the ``PG*`` environment
    variables, as with libpq.
    """

    dialect = POSTGRES

    def __init__(
        self,
        config: Mapping[str, Any] | None = None,
        extra_nodes: Mapping[str, PostgresEngine] | None = None,
    ) -> None:
        #: Keyword arguments of ``asyncpg.connect()`` / ``asyncpg.create_pool()``.
        self.config: dict[str, Any] = dict(config or {})
        #: Other servers (read replicas) by name: ``query.run(node="read_1")``.
        self.extra_nodes: dict[str, PostgresEngine] = dict(extra_nodes or {})
        for name, node in self.extra_nodes.items():
            if not isinstance(node, PostgresEngine):
                raise TypeError(f"extra_nodes[{name!r}] must be a PostgresEngine, not {node!r}")
        self._current: contextvars.ContextVar[PostgresTransaction | None] = contextvars.ContextVar(
            f"piccolo_gen_postgres_transaction_{id(self)}", default=None
        )
        self._pool: _Pool | None = None
        self._pool_loop: asyncio.AbstractEventLoop | None = None

    def __repr__(self) -> str:
        shown = {key: value for key, value in self.config.items() if key != "password"}
        return f"PostgresEngine(config={shown!r})"

    # -- queries ------------------------------------------------------------

    async def fetch(self, sql: str, params: Sequence[object] = ()) -> list[Sequence[Any]]:
        """Run a statement and return its rows (asyncpg ``Record`` objects)."""
        return _rows(await self._call(lambda db: db.fetch(sql, *params)))

    async def fetch_dicts(self, sql: str, params: Sequence[object] = ()) -> list[dict[str, Any]]:
        """Run a statement and return its rows as ``{column name: value}``."""
        records = await self._call(lambda db: db.fetch(sql, *params))
        return [dict(record.items()) for record in records]

    async def execute(self, sql: str, params: Sequence[object] = ()) -> None:
        """Run a statement, discarding any rows."""
        await self._call(lambda db: db.execute(sql, *params))

    async def executemany(self, sql: str, params: Sequence[Sequence[object]]) -> None:
        """Run a statement once per parameter row, atomically (asyncpg ``executemany``)."""
        await self._call(lambda db: db.executemany(sql, params))

    async def batches(
        self, sql: str, params: Sequence[object], size: int
    ) -> AsyncGenerator[list[Sequence[Any]], None]:
        """Run a statement and yield its rows ``size`` at a time, through a
        server-side cursor.

        Inside an open transaction the cursor lives on its connection (other
        queries of the block may run between batches); otherwise on a
        connection of its own, in a transaction that ends with the iteration.
        """
        transaction = self._current.get()
        if transaction is not None:
            conn, lock = transaction._connection()
            async with lock:
                cursor = await conn.cursor(sql, *params)
            while True:
                async with lock:
                    records = await cursor.fetch(size)
                if records:
                    yield _rows(records)
                if len(records) < size:
                    return
        pool = self._loop_pool()
        conn = await pool.acquire() if pool is not None else await self._connect()
        clean = False
        try:
            await conn.execute("BEGIN")
            cursor = await conn.cursor(sql, *params)
            while True:
                records = await cursor.fetch(size)
                if records:
                    yield _rows(records)
                if len(records) < size:
                    break
            await conn.execute("COMMIT")
            clean = True
        except (Exception, GeneratorExit):
            # An error, or the consumer left the loop early: end the read
            # (and release any lock_rows() locks) before giving the connection back.
            try:
                await conn.execute("ROLLBACK")
                clean = True
            except Exception:
                pass
            raise
        finally:
            await _give_back(conn, pool, clean=clean)

    async def _call(self, operation: Callable[[_Executor], Awaitable[_R]]) -> _R:
        transaction = self._current.get()
        if transaction is not None:
            conn, lock = transaction._connection()
            async with lock:
                return await operation(conn)
        pool = self._loop_pool()
        if pool is not None:
            # Pool.fetch() & co. acquire and release (shielded) by themselves.
            return await operation(pool)
        conn = await self._connect()
        try:
            result = await operation(conn)
        except Exception:
            await _close(conn)
            raise
        except BaseException:
            conn.terminate()  # cancelled mid-query: the protocol state is unknown
            raise
        await _close(conn)
        return result

    def get_node(self, name: str) -> PostgresEngine:
        """The engine of the extra node ``name`` (see ``extra_nodes``)."""
        node = self.extra_nodes.get(name)
        if node is None:
            known = ", ".join(map(repr, self.extra_nodes)) or "none"
            raise EngineError(f"no extra node {name!r}; this engine's extra nodes: {known}")
        return node

    # -- connections and the pool -------------------------------------------

    async def _connect(self) -> _Connection:
        return cast(_Connection, await asyncpg.connect(**self.config))

    def _loop_pool(self) -> _Pool | None:
        """The pool, when it belongs to the running event loop."""
        pool = self._pool
        if pool is not None and self._pool_loop is asyncio.get_running_loop():
            return pool
        return None

    async def start_connection_pool(self, **pool_kwargs: Any) -> None:
        """Open a connection pool on the running event loop.

        ``pool_kwargs`` (``min_size``, ``max_size``, ...) go to
        ``asyncpg.create_pool()`` along with ``config``. Queries on this loop
        use the pool from now on; queries on other loops use direct
        connections.
        """
        if self._pool is not None:
            if self._pool_loop is not None and not self._pool_loop.is_closed():
                raise EngineError(
                    "a connection pool is already open; call close_connection_pool() first"
                )
            # Its loop is gone, and with it any way to close it gracefully.
            self._pool = self._pool_loop = None
        pool = await asyncpg.create_pool(**{**self.config, **pool_kwargs})
        self._pool, self._pool_loop = cast(_Pool, pool), asyncio.get_running_loop()

    async def close_connection_pool(self) -> None:
        """Close the pool (waiting for connections in use), if one is open.

        Works from any loop: a pool opened on another loop that is still
        running is closed there.
        """
        pool, loop = self._pool, self._pool_loop
        if pool is None or loop is None:
            return
        running = asyncio.get_running_loop()
        if loop is not running and loop.is_running() and _sync.loop_is_waiting(loop):
            raise EngineError(
                "the pool belongs to the event loop that is waiting in run_sync() "
                "right now; close it with `await engine.close_connection_pool()` "
                "on that loop"
            )
        self._pool = self._pool_loop = None
        if loop is running:
            await pool.close()
        elif loop.is_running():
            # Its connections are driven by their own loop (for example the
            # pool was opened through run_sync()): close them there.
            await asyncio.wrap_future(asyncio.run_coroutine_threadsafe(pool.close(), loop))
        elif not loop.is_closed():
            # A stopped loop cannot run a graceful close.
            pool.terminate()
        # A closed loop has already lost its sockets' event handling; drop the pool.

    async def close(self) -> None:
        """Close the connection pool, if any (queries then connect directly)."""
        await self.close_connection_pool()

    # -- transactions -------------------------------------------------------

    def transaction(
        self,
        *,
        isolation_level: PostgresIsolationLevel | None = None,
        read_only: bool = False,
        deferrable: bool = False,
    ) -> PostgresTransaction:
        """A new transaction: ``async with engine.transaction():``.

        The options shape ``BEGIN`` (``isolation_level`` defaults to the
        server's, normally read committed); they do not apply to a nested
        transaction, which is a savepoint of the enclosing one.
        """
        return PostgresTransaction(
            self, isolation_level=isolation_level, read_only=read_only, deferrable=deferrable
        )

    def current_transaction(self) -> PostgresTransaction | None:
        """The innermost transaction of the current context, if any (in any state)."""
        return self._current.get()


class PostgresTransaction(Transaction):
    """A transaction of a :class:`PostgresEngine` (see ``Transaction``)."""

    def __init__(
        self,
        engine: PostgresEngine,
        *,
        isolation_level: PostgresIsolationLevel | None = None,
        read_only: bool = False,
        deferrable: bool = False,
    ) -> None:
        begin = "BEGIN"
        if isolation_level is not None:
            if isolation_level not in _ISOLATION_LEVELS:
                raise ValueError(
                    f"isolation_level must be one of {', '.join(_ISOLATION_LEVELS)}, "
                    f"not {isolation_level!r}"
                )
            begin += " ISOLATION LEVEL " + isolation_level.replace("_", " ").upper()
        if read_only:
            begin += " READ ONLY"
        if deferrable:
            begin += " DEFERRABLE"
        super().__init__(engine._current)
        self.engine = engine
        #: The statement that starts the transaction.
        self.begin_sql = begin
        self._conn: _Connection | None = None
        self._pool: _Pool | None = None
        self._lock: asyncio.Lock | None = None

    def _connection(self) -> tuple[_Connection, asyncio.Lock]:
        root = self._active_root()
        if root._conn is None or root._lock is None:  # pragma: no cover
            raise TransactionError("the transaction has no connection")
        return root._conn, root._lock

    async def _begin(self) -> None:
        pool = self.engine._loop_pool()
        conn = await pool.acquire() if pool is not None else await self.engine._connect()
        try:
            await conn.execute(self.begin_sql)
        except BaseException:
            await _give_back(conn, pool, clean=False)
            raise
        self._conn, self._pool, self._lock = conn, pool, asyncio.Lock()

    async def _commit(self) -> None:
        await self._run_control("COMMIT")

    async def _rollback(self) -> None:
        await self._run_control("ROLLBACK")

    async def _control(self, sql: str) -> None:
        await self._run_control(sql)

    async def _run_control(self, sql: str) -> None:
        conn, lock = self._conn, self._lock
        if conn is None or lock is None:
            raise TransactionError(f"the transaction is {self.state.value}")
        async with lock:  # wait for a query of a task sharing the connection
            await conn.execute(sql)

    async def _end(self, *, clean: bool) -> None:
        conn, pool = self._conn, self._pool
        self._conn = self._pool = self._lock = None
        if conn is not None:
            await _give_back(conn, pool, clean=clean)


async def _give_back(conn: _Connection, pool: _Pool | None, *, clean: bool) -> None:
    """Return a transaction's connection to its pool, or close it. Never raises
    (except for cancellation of the caller)."""
    dirty = not clean or conn.is_in_transaction()
    if dirty:
        # Its state is unknown or still inside a transaction: it must not
        # serve anyone else (asyncpg would also complain when resetting it).
        conn.terminate()
    if pool is not None:
        try:
            await pool.release(conn)  # shielded inside asyncpg; resets the session
        except Exception:
            conn.terminate()
    elif not dirty:
        await _close(conn)
