"""The PostgreSQL engine, on asyncpg.

Connections
    Without a pool, each query opens a connection and closes it afterwards
    (as Piccolo does): simple and always correct, but slow, so applications
    call ``start_connection_pool()`` at startup.

    The pool (``_pool.Pool``) belongs to the event loop it was opened on; a
    connection used from another loop fails with "attached to a different
    loop" or "another operation is in progress". The engine remembers the
    pool's loop, and a query running on any other loop (``asyncio.run()`` in a
    thread, or ``run_sync()`` while the pool lives on the application's loop)
    uses a fresh direct connection instead.

    A pooled connection goes back without a round trip when it ran only
    statements the query layer built (``_fetch_built()`` & co.): those never
    change session state. The public ``fetch()``, ``fetch_dicts()``,
    ``execute()``, ``executemany()`` and ``batches()`` run any SQL (``SET``,
    ``LISTEN``, advisory locks, ``WITH HOLD`` cursors...), so a connection
    that ran one of them, or whose statement failed, is reset (asyncpg's
    ``Connection.reset()``) before it serves anyone else; a statement
    cancelled half-way terminates its connection.

Transactions
    A top-level transaction acquires a connection (from the pool when it
    belongs to the running loop, else a direct one) for its whole block, and
    gives it back afterwards: reset first if the block ran raw SQL,
    terminated rather than reused if a failure left it inside a transaction.
    Queries on a transaction's connection are serialized by a lock, so tasks
    started inside the block may share it safely.

asyncpg is imported when the first connection opens, so applications that
only use SQLite never load it.
"""

from __future__ import annotations

import asyncio
import contextvars
import inspect
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

from . import _sync
from ._dialect import POSTGRES
from ._engine_base import Engine, EngineError, Transaction, TransactionError
from ._errors import raise_from_asyncpg
from ._pool import Pool, PoolConnection, close_connection

__all__ = ["PostgresEngine", "PostgresIsolationLevel", "PostgresTransaction"]

_R = TypeVar("_R")

#: The isolation levels of ``BEGIN ISOLATION LEVEL ...``.
PostgresIsolationLevel = Literal["read_committed", "repeatable_read", "serializable"]
_ISOLATION_LEVELS: Final = get_args(PostgresIsolationLevel)

#: ``start_connection_pool()`` keywords that configure the pool itself (as
#: ``asyncpg.create_pool()`` names them); the others go to ``asyncpg.connect()``.
_POOL_OPTIONS: Final = frozenset(
    {"min_size", "max_size", "max_queries", "max_inactive_connection_lifetime", "init", "setup"}
)
#: ``asyncpg.create_pool()`` keywords the pool does not offer.
_REFUSED_POOL_OPTIONS: Final = frozenset({"init_size", "connect", "reset", "loop"})


# asyncpg ships no type information: these protocols state exactly what this
# module uses of it, so nothing untyped leaks further.


class _Record(Protocol):
    def __getitem__(self, key: int | str, /) -> Any: ...
    def __len__(self) -> int: ...
    def items(self) -> Iterator[tuple[str, Any]]: ...


class _Cursor(Protocol):
    async def fetch(self, n: int, /) -> list[_Record]: ...


class _CursorFactory(Protocol):
    def __await__(self) -> Generator[Any, None, _Cursor]: ...


class _Connection(PoolConnection, Protocol):
    async def fetch(self, query: str, *args: object) -> list[_Record]: ...
    async def execute(self, query: str, *args: object) -> str: ...
    async def executemany(self, command: str, args: Iterable[Sequence[object]]) -> None: ...
    def cursor(self, query: str, *args: object) -> _CursorFactory: ...


def _rows(records: list[_Record]) -> list[Sequence[Any]]:
    # A Record is indexable by position like a tuple; no copy is made.
    return cast(list[Sequence[Any]], records)


def _asyncpg() -> Any:
    """The asyncpg module, imported on first use (tens of milliseconds that
    SQLite-only applications skip)."""
    import asyncpg  # type: ignore[import-untyped]

    return asyncpg


async def _connect(kwargs: Mapping[str, Any]) -> _Connection:
    try:
        return cast(_Connection, await _asyncpg().connect(**kwargs))
    except Exception as exc:  # refused, unknown database, bad password, ...
        raise_from_asyncpg(exc)


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
        #: Keyword arguments of ``asyncpg.connect()`` (for every connection, pooled or not).
        self.config: dict[str, Any] = dict(config or {})
        #: Other servers (read replicas) by name: ``query.run(node="read_1")``.
        self.extra_nodes: dict[str, PostgresEngine] = dict(extra_nodes or {})
        for name, node in self.extra_nodes.items():
            if not isinstance(node, PostgresEngine):
                raise TypeError(f"extra_nodes[{name!r}] must be a PostgresEngine, not {node!r}")
        self._current: contextvars.ContextVar[PostgresTransaction | None] = contextvars.ContextVar(
            f"piccolo_gen_postgres_transaction_{id(self)}", default=None
        )
        self._pool: Pool[_Connection] | None = None
        self._pool_loop: asyncio.AbstractEventLoop | None = None

    def __repr__(self) -> str:
        shown = {key: value for key, value in self.config.items() if key != "password"}
        return f"PostgresEngine(config={shown!r})"

    # -- queries ------------------------------------------------------------
    #
    # The public methods run any SQL, so a pooled connection they used is
    # reset before it is reused; the ``_built`` ones run the query layer's own
    # statements, which leave no session state behind (see the module
    # docstring).

    async def fetch(self, sql: str, params: Sequence[object] = ()) -> list[Sequence[Any]]:
        """Run a statement and return its rows (asyncpg ``Record`` objects)."""
        return _rows(await self._call(lambda db: db.fetch(sql, *params), raw=True))

    async def fetch_dicts(self, sql: str, params: Sequence[object] = ()) -> list[dict[str, Any]]:
        """Run a statement and return its rows as ``{column name: value}``."""
        records = await self._call(lambda db: db.fetch(sql, *params), raw=True)
        return [dict(record.items()) for record in records]

    async def execute(self, sql: str, params: Sequence[object] = ()) -> None:
        """Run a statement, discarding any rows."""
        await self._call(lambda db: db.execute(sql, *params), raw=True)

    async def executemany(self, sql: str, params: Sequence[Sequence[object]]) -> None:
        """Run a statement once per parameter row, atomically (asyncpg ``executemany``)."""
        await self._call(lambda db: db.executemany(sql, params), raw=True)

    def batches(
        self, sql: str, params: Sequence[object], size: int
    ) -> AsyncGenerator[list[Sequence[Any]], None]:
        """Run a statement and yield its rows ``size`` at a time, through a
        server-side cursor.

        Inside an open transaction the cursor lives on its connection (other
        queries of the block may run between batches); otherwise on a
        connection of its own, in a transaction that ends with the iteration.
        """
        return self._batches(sql, params, size, raw=True)

    async def _fetch_built(self, sql: str, params: Sequence[object] = ()) -> list[Sequence[Any]]:
        return _rows(await self._call(lambda db: db.fetch(sql, *params), raw=False))

    async def _execute_built(self, sql: str, params: Sequence[object] = ()) -> None:
        await self._call(lambda db: db.execute(sql, *params), raw=False)

    async def _executemany_built(self, sql: str, params: Sequence[Sequence[object]]) -> None:
        await self._call(lambda db: db.executemany(sql, params), raw=False)

    def _batches_built(
        self, sql: str, params: Sequence[object], size: int
    ) -> AsyncGenerator[list[Sequence[Any]], None]:
        return self._batches(sql, params, size, raw=False)

    async def _batches(
        self, sql: str, params: Sequence[object], size: int, *, raw: bool
    ) -> AsyncGenerator[list[Sequence[Any]], None]:
        transaction = self._current.get()
        if transaction is not None:
            conn, lock = transaction._connection(raw=raw)
            try:
                async with lock:
                    cursor = await conn.cursor(sql, *params)
            except Exception as exc:
                raise_from_asyncpg(exc)
            while True:
                try:
                    async with lock:
                        records = await cursor.fetch(size)
                except Exception as exc:
                    raise_from_asyncpg(exc)
                if records:
                    yield _rows(records)
                if len(records) < size:
                    return
        conn, pool = await self._acquire()
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
        except (Exception, GeneratorExit) as error:
            # An error, or the consumer left the loop early: end the read
            # (and release any lock_rows() locks) before giving the connection back.
            try:
                await conn.execute("ROLLBACK")
                clean = True
            except Exception:
                pass
            if isinstance(error, Exception):
                raise_from_asyncpg(error)
            raise
        finally:
            await _give_back(conn, pool, clean=clean, reset=raw)

    async def _call(self, operation: Callable[[_Connection], Awaitable[_R]], *, raw: bool) -> _R:
        transaction = self._current.get()
        if transaction is not None:
            conn, lock = transaction._connection(raw=raw)
            async with lock:
                try:
                    return await operation(conn)
                except Exception as exc:  # asyncpg's exceptions become the runtime's
                    raise_from_asyncpg(exc)
        conn, pool = await self._acquire()
        try:
            result = await operation(conn)
        except Exception as exc:
            # The session is most likely intact, but not worth trusting blindly.
            await _give_back(conn, pool, clean=True, reset=True)
            raise_from_asyncpg(exc)
        except BaseException:
            # Cancelled mid-query: the protocol state is unknown.
            await _give_back(conn, pool, clean=False, reset=False)
            raise
        await _give_back(conn, pool, clean=True, reset=raw)
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
        return await _connect(self.config)

    async def _acquire(self) -> tuple[_Connection, Pool[_Connection] | None]:
        """A connection for one statement or transaction, and the pool it came
        from (``None``: a direct connection, for a loop without the pool).
        Give it back with ``_give_back``."""
        pool = self._loop_pool()
        if pool is None:
            return await self._connect(), None
        return pool.acquire_nowait() or await pool.acquire(), pool

    def _loop_pool(self) -> Pool[_Connection] | None:
        """The pool, when it belongs to the running event loop."""
        pool = self._pool
        if pool is not None and self._pool_loop is asyncio.get_running_loop():
            return pool
        return None

    async def start_connection_pool(self, **pool_kwargs: Any) -> None:
        """Open a connection pool on the running event loop.

        Pool options, named as in ``asyncpg.create_pool()``: ``min_size``
        (default 10, opened now), ``max_size`` (10), ``max_queries`` (a
        connection is replaced after this many uses; 50,000),
        ``max_inactive_connection_lifetime`` (seconds an idle connection
        beyond ``min_size`` stays open; 300, 0: forever), ``init`` (an async
        function run on each new connection) and ``setup`` (run on each
        acquisition). Every other keyword goes to ``asyncpg.connect()`` along
        with ``config`` (``command_timeout``, ``server_settings``,
        ``statement_cache_size``, ...).

        Queries on this loop use the pool from now on; queries on other loops
        use direct connections.
        """
        if self._pool is not None:
            if self._pool_loop is not None and not self._pool_loop.is_closed():
                raise EngineError(
                    "a connection pool is already open; call close_connection_pool() first"
                )
            # Its loop is gone, and with it any way to close it gracefully.
            self._pool = self._pool_loop = None
        refused = sorted(_REFUSED_POOL_OPTIONS.intersection(pool_kwargs))
        if refused:
            raise TypeError(
                f"start_connection_pool() does not take {', '.join(refused)}: the pool "
                f"options are {', '.join(sorted(_POOL_OPTIONS))}"
            )
        options = {key: value for key, value in pool_kwargs.items() if key in _POOL_OPTIONS}
        connect_kwargs = {
            **self.config,
            **{key: value for key, value in pool_kwargs.items() if key not in _POOL_OPTIONS},
        }
        try:
            inspect.signature(_asyncpg().connect).bind(**connect_kwargs)
        except TypeError as error:
            raise TypeError(
                f"start_connection_pool(): asyncpg.connect() rejects the connection "
                f"keywords ({error}); the pool options are {', '.join(sorted(_POOL_OPTIONS))}"
            ) from None
        pool: Pool[_Connection] = Pool(lambda: _connect(connect_kwargs), **options)
        await pool.open()
        self._pool, self._pool_loop = pool, asyncio.get_running_loop()

    async def close_connection_pool(self) -> None:
        """Close the pool, if one is open: wait for the connections in use to
        come back (queries still waiting for one get ``EngineError``), then
        close them all. Queries started meanwhile connect directly.

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
        self._pool: Pool[_Connection] | None = None
        self._lock: asyncio.Lock | None = None
        #: Whether a statement of the block was raw SQL (so the session may
        #: have changed): the connection is reset before it is reused.
        self._raw = False

    def _connection(self, *, raw: bool) -> tuple[_Connection, asyncio.Lock]:
        root = self._active_root()
        if root._conn is None or root._lock is None:  # pragma: no cover
            raise TransactionError("the transaction has no connection")
        if raw:
            root._raw = True
        return root._conn, root._lock

    async def _begin(self) -> None:
        conn, pool = await self.engine._acquire()
        try:
            await conn.execute(self.begin_sql)
        except BaseException as exc:
            await _give_back(conn, pool, clean=False, reset=False)
            if isinstance(exc, Exception):
                raise_from_asyncpg(exc)
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
            try:
                await conn.execute(sql)
            except Exception as exc:  # a deferred constraint at COMMIT, a lost connection
                raise_from_asyncpg(exc)

    async def _end(self, *, clean: bool) -> None:
        conn, pool = self._conn, self._pool
        self._conn = self._pool = self._lock = None
        if conn is not None:
            await _give_back(conn, pool, clean=clean, reset=self._raw)


async def _give_back(
    conn: _Connection, pool: Pool[_Connection] | None, *, clean: bool, reset: bool
) -> None:
    """Return a connection to its pool (``reset``: after a reset), or close it.
    Never raises (except for cancellation of the caller)."""
    if not clean or conn.is_in_transaction():
        # Its state is unknown or still inside a transaction: it must not
        # serve anyone else (asyncpg would also complain when resetting it).
        if pool is None:
            conn.terminate()
        else:
            pool.discard(conn)
    elif pool is None:
        await close_connection(conn)
    elif reset:
        await pool.release_reset(conn)
    else:
        pool.release(conn)
