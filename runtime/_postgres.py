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

    Every statement outside a transaction, every batch read and every
    transaction holds its connection through one ``_Lease``, the only code
    that acquires and gives back; so no path can forget the give-back or
    make it in the wrong order.

    A pooled connection goes back without a round trip when it ran only
    statements the query layer built (``_fetch_built()`` & co.): those never
    change session state. The public ``fetch()``, ``fetch_dicts()``,
    ``execute()``, ``executemany()`` and ``batches()`` run any SQL (``SET``,
    ``SET ROLE``, ``PREPARE``, temporary tables, ``LISTEN``, advisory locks,
    ``WITH HOLD`` cursors...), so a connection that ran one of them, or
    whose statement failed or was cancelled, is reset (``_RESET_SESSION``:
    what ``DISCARD ALL`` does, in one round trip) before it serves anyone
    else.

Cancellation
    When the task awaiting a statement is cancelled (``asyncio.wait_for``,
    ``asyncio.timeout``, ``task.cancel()``), asyncpg sends the server a
    cancel request on a separate connection and, before the next statement
    on the connection, waits for the server to acknowledge it. The give-back
    lets that happen: it never terminates a connection with a statement in
    flight (the server would not notice and would run the statement to its
    end, committing a write); the reset that follows a cancellation waits
    for the cancelled statement to stop, and a connection that cannot be
    reused is closed gracefully (asyncpg's ``close()`` also finishes the
    cancel request first). The give-back runs under ``asyncio.shield``, so
    a second cancellation does not interrupt it.

    A statement that fails because the server or the network closed its
    connection raises asyncpg's ``ConnectionDoesNotExistError``, also when
    asyncpg itself reported a client-side state error for it (during a
    server restart an idle connection receives the server's FATAL message
    some time before the end of its stream; a statement started in between
    fails with ``InternalClientError: ... another operation is in
    progress``).

Transactions
    A top-level transaction leases a connection (from the pool when it
    belongs to the running loop, else a direct one) for its whole block, and
    gives it back afterwards: reset first if the block ran raw SQL or its
    end failed, closed rather than reused if a failure left it inside a
    transaction. Queries on a transaction's connection are serialized by a
    lock, so tasks started inside the block may share it safely.

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
from types import TracebackType
from typing import Any, Final, Literal, NoReturn, Protocol, TypeVar, cast, get_args

from . import _sync
from ._dialect import POSTGRES
from ._engine_base import Engine, EngineError, Transaction, TransactionError
from ._errors import OperationalError, from_asyncpg
from ._pool import Pool, PoolConnection, close_shielded
from ._replicas import ReadPolicy, Router

__all__ = ["PostgresEngine", "PostgresIsolationLevel", "PostgresPooler", "PostgresTransaction"]

_R = TypeVar("_R")

#: The isolation levels of ``BEGIN ISOLATION LEVEL ...``.
PostgresIsolationLevel = Literal["read_committed", "repeatable_read", "serializable"]
_ISOLATION_LEVELS: Final = get_args(PostgresIsolationLevel)

#: What stands between the engine and the server: ``"transaction"`` is a
#: pooler in transaction pooling mode (PgBouncer's ``pool_mode =
#: transaction``), which hands each transaction (and each statement outside
#: one) to any of its server connections.
PostgresPooler = Literal["transaction"]
_POOLERS: Final = get_args(PostgresPooler)

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
    async def copy_records_to_table(
        self, table_name: str, *, records: Iterable[Sequence[object]], columns: Sequence[str]
    ) -> str: ...
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
        _raise_database_error(exc)


#: What ``DISCARD ALL`` does, written out because ``DISCARD ALL`` cannot run
#: inside a transaction block, which a string of several statements is (an
#: implicit one), and would cost a round trip of its own; its
#: ``DEALLOCATE ALL`` is left out, as it would also drop asyncpg's own
#: prepared statements (its statement cache). ``RESET ROLE`` and ``SET
#: SESSION AUTHORIZATION DEFAULT`` come first, so the rest runs as the user
#: who connected; ``RESET ALL`` does not touch role and session
#: authorization (they are not reset by it, PostgreSQL's GUC_NO_RESET_ALL).
#: The last statement counts the prepared statements made by SQL ``PREPARE``:
#: its status is ``SELECT <count>``.
_RESET_SESSION: Final = (
    "RESET ROLE; SET SESSION AUTHORIZATION DEFAULT; RESET ALL; CLOSE ALL; UNLISTEN *; "
    "SELECT pg_advisory_unlock_all(); DISCARD PLANS; DISCARD TEMP; DISCARD SEQUENCES; "
    "SELECT FROM pg_prepared_statements WHERE from_sql"
)
#: Deallocates the statements of SQL ``PREPARE`` (asyncpg's are prepared
#: through the protocol: ``from_sql`` is false for them).
_DEALLOCATE_SQL_PREPARED: Final = """DO $piccolo_gen$ DECLARE name text; BEGIN
  FOR name IN SELECT p.name FROM pg_prepared_statements AS p WHERE p.from_sql LOOP
    EXECUTE format('DEALLOCATE %I', name);
  END LOOP;
END $piccolo_gen$"""


async def _reset_session(conn: _Connection) -> None:
    """Return a pooled connection's session to the state of a new one (its
    ``server_settings`` included), keeping asyncpg's statement cache."""
    if await conn.execute(_RESET_SESSION) != "SELECT 0":
        await conn.execute(_DEALLOCATE_SQL_PREPARED)


async def _no_reset(conn: _Connection) -> None:
    """The reset behind a transaction pooler: none (the next statement waits
    for a pending cancel request, as after any cancellation)."""


def _raise_database_error(error: Exception, conn: _Connection | None = None) -> NoReturn:
    """Raise the runtime's exception for ``error``, from it, when it comes
    from asyncpg or its socket (see ``_errors.from_asyncpg``); else raise
    ``error`` itself (the runtime's own exceptions pass here too).

    ``conn``: the connection of the statement that failed. asyncpg's
    client-side state error about a connection that is closed now (the
    server or the network closed it) is the lost connection, and reads as
    one: an ``OperationalError``.
    """
    if conn is not None and conn.is_closed():
        asyncpg = _asyncpg()
        if isinstance(error, asyncpg.InternalClientError | asyncpg.InterfaceError):
            raise OperationalError(
                "the connection was closed by the server or the network"
            ) from error
    translated = from_asyncpg(error)
    if translated is None:
        raise error
    raise translated from error


class _Lease:
    """A connection for one statement, batch read or transaction, and the
    one way to give it back.

    The connection comes from the engine's pool when it belongs to the
    running loop, else it is opened for the lease (and closed at the end).
    ``async with _Lease(engine, raw=...) as conn:`` for a block of code;
    ``await lease.acquire()`` then ``await lease.give_back(failed=...)`` for
    a transaction, whose connection outlives the method that acquired it.
    ``raw``: SQL the query layer did not build runs on it, so the session is
    reset before the connection serves again.
    """

    __slots__ = ("_engine", "_pool", "_conn", "raw")

    def __init__(self, engine: PostgresEngine, *, raw: bool) -> None:
        self._engine = engine
        self._pool: Pool[_Connection] | None = None
        self._conn: _Connection | None = None
        self.raw = raw

    async def acquire(self) -> _Connection:
        """Acquire the connection: an idle one of the pool at once, else a new
        or freed one of the pool, or a direct connection (another loop)."""
        pool = self._engine._loop_pool()
        conn = None if pool is None else pool.acquire_nowait()
        if conn is None:
            conn = await (self._engine._connect() if pool is None else pool.acquire())
        self._conn, self._pool = conn, pool
        return conn

    def _return(self, *, failed: bool) -> Awaitable[None] | None:
        """Give the connection back (once): at once when it goes back as it
        is, else return what to await (a reset, or closing a direct
        connection). ``failed``: a statement on it failed or was cancelled,
        so its session is reset."""
        conn, pool = self._conn, self._pool
        if conn is None:
            return None
        self._conn = self._pool = None
        if pool is None:
            # Gracefully even when cancelled: close() first waits for a
            # pending cancel request, and the server ends the session.
            return close_shielded(conn)
        if failed or self.raw:
            return pool.release_reset(conn)
        pool.release(conn)
        return None

    async def give_back(self, *, failed: bool) -> None:
        """Give the connection back (see ``_return``). Never raises, except
        for the caller's cancellation (the give-back goes on regardless)."""
        pending = self._return(failed=failed)
        if pending is not None:
            await pending

    # The statement's own path: one coroutine each way.
    __aenter__ = acquire

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        if exc is None:
            pending = self._return(failed=False)
            if pending is not None:
                await pending
            return
        conn = self._conn
        # GeneratorExit: the consumer of a batch read left early; the read
        # rolled its transaction back itself.
        await self.give_back(failed=not isinstance(exc, GeneratorExit))
        if conn is not None and isinstance(exc, Exception):
            _raise_database_error(exc, conn)


class PostgresEngine(Engine):
    """A PostgreSQL database, through asyncpg.

    ``config`` holds the keyword arguments of ``asyncpg.connect()``:
    ``host``, ``port``, ``user``, ``password``, ``database``, or a ``dsn``
    URL, and so on; what it leaves out comes from the ``PG*`` environment
    variables, as with libpq. Several hosts (``host=[a, b], port=[p, q]``)
    with ``target_session_attrs="read-write"`` follow a failover: new
    connections go to whichever host is the primary now.

    ``extra_nodes``: read replicas by name, for ``query.run(node="...")``;
    ``read_policy`` (a :class:`ReadPolicy`) sends reads to them without
    ``node=``, bounds their lag and pins a context that wrote to the primary
    for a while (see ``runtime._replicas``). Writes and queries inside a
    transaction always run on this engine, the primary.

    variables, as with libpq.

    ``pooler="transaction"``: the server is reached through a pooler in
    transaction pooling mode (PgBouncer's ``pool_mode = transaction``), where
    consecutive transactions of one connection may run on different server
    sessions. The engine then keeps no state in the session between
    transactions: no named prepared statements (asyncpg's statement cache is
    off: ``statement_cache_size=0``, each statement is prepared unnamed
    within its own round trips) and no session reset after raw SQL (it would
    reach whichever server session the pooler picks, not the one the SQL ran
    on). Raw SQL that sets session state (``SET``, ``SET ROLE``, ``LISTEN``,
    session advisory locks, ``PREPARE``, temporary tables) does not belong
    there; inside a transaction, ``SET LOCAL`` and transaction-level locks
    work. Without the option, such a pooler makes queries fail with a
    ``ProgrammingError`` about a missing or duplicate prepared statement,
    whose message names the option (see docs/scaling.md).
    """

    dialect = POSTGRES

    def __init__(
        self,
        config: Mapping[str, Any] | None = None,
        extra_nodes: Mapping[str, PostgresEngine] | None = None,
        read_policy: ReadPolicy | None = None,
        *,
        pooler: PostgresPooler | None = None,
    ) -> None:
        if pooler is not None and pooler not in _POOLERS:
            raise ValueError(f"pooler must be one of {', '.join(_POOLERS)} or None, not {pooler!r}")
        config = dict(config or {})
        if pooler is not None:
            if config.get("statement_cache_size", 0) != 0:
                raise ValueError(
                    f"pooler={pooler!r} needs statement_cache_size=0 (named prepared "
                    f"statements do not survive a transaction there); config has "
                    f"{config['statement_cache_size']!r}"
                )
            config["statement_cache_size"] = 0
        #: Keyword arguments of ``asyncpg.connect()`` (for every connection, pooled or not).
        self.config: dict[str, Any] = config
        #: The pooler between the engine and the server (``pooler=``), if any.
        self.pooler: PostgresPooler | None = pooler
        #: Other servers (read replicas) by name: ``query.run(node="read_1")``.
        self.extra_nodes: dict[str, PostgresEngine] = dict(extra_nodes or {})
        for name, node in self.extra_nodes.items():
            if not isinstance(node, PostgresEngine):
                raise TypeError(f"extra_nodes[{name!r}] must be a PostgresEngine, not {node!r}")
        if read_policy is not None and not self.extra_nodes:
            raise ValueError("read_policy needs extra_nodes to send reads to")
        self._router = Router(self, self.extra_nodes, read_policy) if self.extra_nodes else None
        self._routes = self._router is not None
        self._current: contextvars.ContextVar[PostgresTransaction | None] = contextvars.ContextVar(
            f"piccolo_gen_postgres_transaction_{id(self)}", default=None
        )
        self._pool: Pool[_Connection] | None = None
        self._pool_loop: asyncio.AbstractEventLoop | None = None

    def __repr__(self) -> str:
        shown = {key: value for key, value in self.config.items() if key != "password"}
        if self.pooler is not None:
            return f"PostgresEngine(config={shown!r}, pooler={self.pooler!r})"
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

    async def executemany(self, sql: str, params: Iterable[Sequence[object]]) -> None:
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

    async def _fetch_converted(
        self, sql: str, params: Sequence[object], convert: Callable[[list[Sequence[Any]]], _R]
    ) -> _R:
        return convert(_rows(await self._call(lambda db: db.fetch(sql, *params), raw=False)))

    async def _execute_built(self, sql: str, params: Sequence[object] = ()) -> None:
        await self._call(lambda db: db.execute(sql, *params), raw=False)

    async def _executemany_built(self, sql: str, params: Iterable[Sequence[object]]) -> None:
        await self._call(lambda db: db.executemany(sql, params), raw=False)

    def _batches_built(
        self, sql: str, params: Sequence[object], size: int
    ) -> AsyncGenerator[list[Sequence[Any]], None]:
        return self._batches(sql, params, size, raw=False)

    async def _bulk_insert_built(
        self, table: str, columns: Sequence[str], rows: Iterable[Sequence[object]]
    ) -> None:
        # COPY ... FROM STDIN (binary), one statement: atomic on its own.
        await self._call(
            lambda db: db.copy_records_to_table(table, records=rows, columns=columns), raw=False
        )

    async def _batches(
        self, sql: str, params: Sequence[object], size: int, *, raw: bool
    ) -> AsyncGenerator[list[Sequence[Any]], None]:
        transaction = self._current.get()
        if transaction is not None:
            conn, lock = transaction._connection(raw=raw)
            try:
                async with lock:
                    cursor = await conn.cursor(sql, *params)
                while True:
                    async with lock:
                        records = await cursor.fetch(size)
                    if records:
                        yield _rows(records)
                    if len(records) < size:
                        return
            except Exception as error:
                _raise_database_error(error, conn)
        async with _Lease(self, raw=raw) as conn:
            await conn.execute("BEGIN")
            try:
                cursor = await conn.cursor(sql, *params)
                while True:
                    records = await cursor.fetch(size)
                    if records:
                        yield _rows(records)
                    if len(records) < size:
                        break
                await conn.execute("COMMIT")
            except (Exception, GeneratorExit):
                # An error, or the consumer left the loop early: end the read
                # (and release any lock_rows() locks) before giving the
                # connection back (one still inside the transaction is closed).
                try:
                    await conn.execute("ROLLBACK")
                except Exception:
                    pass
                raise

    async def _call(self, operation: Callable[[_Connection], Awaitable[_R]], *, raw: bool) -> _R:
        transaction = self._current.get()
        if transaction is not None:
            conn, lock = transaction._connection(raw=raw)
            async with lock:
                try:
                    return await operation(conn)
                except Exception as error:
                    _raise_database_error(error, conn)
        async with _Lease(self, raw=raw) as conn:
            return await operation(conn)

    async def _choose(self, node: str | None, read: bool | None) -> PostgresEngine:
        if self._router is None:
            return self if node is None else self.get_node(node)
        return await self._router.choose(node, read)

    async def _routed(self, query: Any, node: str | None) -> Any:
        if self._router is None:
            return await super()._routed(query, node)
        return await self._router.run(query, node)

    @property
    def read_policy(self) -> ReadPolicy | None:
        """How reads are routed to the extra nodes (``None`` without extra nodes)."""
        return None if self._router is None else self._router.policy

    async def replication_lag(self, node: str) -> float | None:
        """Seconds the extra node ``node`` lags behind in replaying the
        primary's changes: 0 when it replayed all it received, else the time
        since the last transaction it replayed (``None``: none replayed yet).
        Raises ``OperationalError`` when the node cannot be reached."""
        self.get_node(node)  # an unknown name is an error
        assert self._router is not None  # there are extra nodes
        return await self._router.lag(node)

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

    def _loop_pool(self) -> Pool[_Connection] | None:
        """The pool, when it belongs to the running event loop."""
        pool = self._pool
        if pool is not None and self._pool_loop is asyncio.get_running_loop():
            return pool
        return None

    async def start_connection_pool(self, **pool_kwargs: Any) -> None:
        """Open a connection pool on the running event loop.

        Pool options, named as in ``asyncpg.create_pool()``: ``min_size``
        (default 10, or ``max_size`` when smaller; opened now, and kept:
        connections that die are replaced), ``max_size`` (10: the most
        sessions the server holds for the pool at once), ``max_queries`` (a
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
        if self.pooler is not None and pool_kwargs.get("statement_cache_size", 0) != 0:
            raise TypeError(
                f"start_connection_pool(): pooler={self.pooler!r} needs statement_cache_size=0"
            )
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
        # Behind a transaction pooler the session is not the connection's own
        # (see the class docstring): nothing to reset.
        reset = _reset_session if self.pooler is None else _no_reset
        pool: Pool[_Connection] = Pool(lambda: _connect(connect_kwargs), reset=reset, **options)
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
        self._lease: _Lease | None = None
        self._conn: _Connection | None = None
        self._lock: asyncio.Lock | None = None

    def _connection(self, *, raw: bool) -> tuple[_Connection, asyncio.Lock]:
        root = self._active_root()
        lease = root._lease
        if lease is None or root._conn is None or root._lock is None:  # pragma: no cover
            raise TransactionError("the transaction has no connection")
        if raw:  # the session may change: reset it before the connection is reused
            lease.raw = True
        return root._conn, root._lock

    async def _begin(self) -> None:
        lease = _Lease(self.engine, raw=False)
        conn = await lease.acquire()
        try:
            await conn.execute(self.begin_sql)
        except BaseException as error:
            await lease.give_back(failed=True)
            if isinstance(error, Exception):
                _raise_database_error(error, conn)
            raise
        self._lease, self._conn, self._lock = lease, conn, asyncio.Lock()

    async def _commit(self) -> None:
        await self._run_control("COMMIT")
        router = self.engine._router
        if router is not None:
            router.wrote()  # the read-your-writes window starts at the commit

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
            except Exception as error:
                _raise_database_error(error, conn)

    async def _end(self, *, clean: bool) -> None:
        lease = self._lease
        self._lease = self._conn = self._lock = None
        if lease is not None:
            await lease.give_back(failed=not clean)
