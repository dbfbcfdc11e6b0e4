"""What every engine offers the query layer, and the transaction machinery.

An engine moves SQL and rows between Python and a driver, nothing more. The
SQL it receives is already compiled for ``engine.dialect`` (``$n`` or ``?``
placeholders) and its parameters are already converted to what the driver
accepts; rows go back unconverted (an asyncpg ``Record`` or a sqlite3
tuple), because the column layer converts them in one pass anyway.

Transactions follow asyncpg's model:

* the open transaction lives in a ``ContextVar`` of its engine, so every query
  of that task (and of tasks it starts) joins it without being passed it;
* entering a transaction while one is open in the context opens a SAVEPOINT;
  leaving it normally releases the savepoint, an exception rolls back to it
  and propagates (and so rolls back the outer transaction too, unless caught
  on the way);
* a :class:`TransactionState` records where a transaction is, and any use
  that its state does not allow (running a query after ``commit()``,
  entering a transaction object twice, using it on another event loop)
  raises :class:`TransactionError` instead of doing something surprising.
"""

from __future__ import annotations

import abc
import asyncio
import contextvars
import enum
import inspect
from collections.abc import AsyncGenerator, Awaitable, Callable, Generator, Iterable, Sequence
from types import TracebackType
from typing import Any, ClassVar, Protocol, Self, TypeAlias, TypeVar, cast

from . import _sync
from ._dialect import Dialect
from ._errors import EngineError, TransactionError
from ._naming import is_plain_name

__all__ = [
    "Atomic",
    "AtomicItem",
    "Engine",
    "EngineError",
    "Savepoint",
    "Transaction",
    "TransactionError",
    "TransactionState",
]


class TransactionState(enum.Enum):
    """Where a transaction is in its life."""

    NEW = "new"
    STARTED = "started"
    COMMITTED = "committed"
    ROLLED_BACK = "rolled back"
    #: BEGIN, COMMIT, ROLLBACK or a savepoint statement failed; the
    #: connection was discarded (top level) or the outer transaction is in an
    #: unknown state (nested) and should be rolled back.
    FAILED = "failed"


_R = TypeVar("_R")
_R_co = TypeVar("_R_co", covariant=True)


class _Routable(Protocol[_R_co]):
    """What an engine's routing needs of a query."""

    def _read_only(self) -> bool | None: ...
    def _run(self, engine: Any, /) -> Awaitable[_R_co]: ...


class Engine(abc.ABC):
    """A database: runs compiled SQL and hands out transactions.

    Subclasses: ``SQLiteEngine`` (stdlib ``sqlite3``) and ``PostgresEngine``
    (asyncpg).
    """

    #: The SQL dialect the query layer compiles for.
    dialect: ClassVar[Dialect]

    @abc.abstractmethod
    async def fetch(self, sql: str, params: Sequence[object] = ()) -> list[Sequence[Any]]:
        """Run a statement and return its rows, indexable by column position.

        Rows are the driver's own objects (asyncpg ``Record``, sqlite3
        ``tuple``), not copies.
        """

    @abc.abstractmethod
    async def fetch_dicts(self, sql: str, params: Sequence[object] = ()) -> list[dict[str, Any]]:
        """Run a statement and return its rows as ``{column name: value}``."""

    @abc.abstractmethod
    async def execute(self, sql: str, params: Sequence[object] = ()) -> None:
        """Run a statement, discarding any rows."""

    @abc.abstractmethod
    async def executemany(self, sql: str, params: Iterable[Sequence[object]]) -> None:
        """Run a statement once per parameter row, atomically (all rows or none)."""

    async def batches(
        self, sql: str, params: Sequence[object], size: int
    ) -> AsyncGenerator[list[Sequence[Any]], None]:
        """Run a statement and yield its rows ``size`` at a time (the last list
        may be shorter; no empty list).

        Engines read through a cursor, so the rows are never all in memory;
        this fallback fetches them at once. Close the generator (``aclose()``)
        when leaving early, so the cursor is released at once.
        """
        rows = await self.fetch(sql, params)
        for start in range(0, len(rows), size):
            yield rows[start : start + size]

    # The query layer sends the statements it builds itself through these.
    # Those statements never change session state (no SET, LISTEN, advisory
    # lock, cursor outliving its transaction), so an engine with a pool may
    # give the connection back as it is, where the public methods above, which
    # run any SQL, must assume the session changed. By default they are the
    # public methods.

    def _fetch_built(
        self, sql: str, params: Sequence[object] = ()
    ) -> Awaitable[list[Sequence[Any]]]:
        """``fetch()`` of a statement the query layer built."""
        return self.fetch(sql, params)

    async def _fetch_converted(
        self, sql: str, params: Sequence[object], convert: Callable[[list[Sequence[Any]]], _R]
    ) -> _R:
        """``convert(await self._fetch_built(sql, params))``, in one coroutine
        where an engine overrides it (frozen queries run through it)."""
        return convert(await self._fetch_built(sql, params))

    def _execute_built(self, sql: str, params: Sequence[object] = ()) -> Awaitable[None]:
        """``execute()`` of a statement the query layer built."""
        return self.execute(sql, params)

    def _executemany_built(self, sql: str, params: Iterable[Sequence[object]]) -> Awaitable[None]:
        """``executemany()`` of a statement the query layer built."""
        return self.executemany(sql, params)

    def _batches_built(
        self, sql: str, params: Sequence[object], size: int
    ) -> AsyncGenerator[list[Sequence[Any]], None]:
        """``batches()`` of a statement the query layer built."""
        return self.batches(sql, params, size)

    def _bulk_insert_built(
        self, table: str, columns: Sequence[str], rows: Iterable[Sequence[object]]
    ) -> Awaitable[None]:
        """Insert ``rows`` (values in the driver's representation, in the order
        of ``columns``, database names) into ``table`` at once, atomically
        (``insert_many()``). By default one ``INSERT`` run for every row
        (``executemany``); PostgreSQL overrides it with ``COPY``."""
        quote = self.dialect.quote
        if self.dialect.numbered_params:
            marks = ", ".join(f"${n}" for n in range(1, len(columns) + 1))
        else:
            marks = ", ".join("?" * len(columns))
        names = ", ".join(map(quote, columns))
        sql = f"INSERT INTO {quote(table)} ({names}) VALUES ({marks})"
        return self._executemany_built(sql, rows)

    @abc.abstractmethod
    def transaction(self) -> Transaction:
        """A new transaction, to use as ``async with engine.transaction():``.

        Inside an open transaction of the same context it becomes a savepoint.
        """

    @abc.abstractmethod
    def current_transaction(self) -> Transaction | None:
        """The innermost transaction of the current context, if any (in any state)."""

    def transaction_exists(self) -> bool:
        """Whether queries of the current context run inside an open transaction."""
        transaction = self.current_transaction()
        return transaction is not None and transaction.state is TransactionState.STARTED

    def atomic(self) -> Atomic:
        """Collect queries with ``add()`` and run them later in one transaction."""
        return Atomic(self)

    #: Whether queries go through ``_routed()`` (an engine with extra nodes):
    #: else they run on the engine itself, unless ``node=`` is given.
    _routes: bool = False

    async def _choose(self, node: str | None, read: bool | None) -> Engine:
        """The engine a query runs on: this one, or the extra node ``node``
        (``read``: see ``Query._read_only()``). Engines with replicas override it."""
        return self if node is None else self.get_node(node)

    async def _routed(self, query: _Routable[_R], node: str | None) -> _R:
        """Run ``query`` on the engine ``_choose()`` picks."""
        return await query._run(await self._choose(node, query._read_only()))

    def get_node(self, name: str) -> Engine:
        """The engine of the extra node ``name``, for ``query.run(node=name)``.

        Only ``PostgresEngine(extra_nodes={...})`` has extra nodes (read
        replicas); every other engine raises ``EngineError``.
        """
        raise EngineError(
            f"{type(self).__name__} has no extra nodes, so node={name!r} cannot be used; "
            "read replicas are a PostgresEngine(extra_nodes={...}) feature"
        )

    @abc.abstractmethod
    async def close(self) -> None:
        """Close the connections (and pool) the engine keeps open.

        The engine stays usable: later queries open connections again.
        """


class Transaction(abc.ABC):
    """An ``async with`` block whose queries commit or roll back together.

    Created by ``engine.transaction()``. The top-level transaction holds a
    connection of its own from entry to exit; a nested one is a savepoint on
    its parent's connection. ``commit()`` and ``rollback()`` end it early;
    queries of the block are refused after that.
    """

    def __init__(self, context_var: contextvars.ContextVar[Any]) -> None:
        # The engine's variable holds the engine's own transaction class;
        # typed loosely here since a ContextVar is invariant in its value type.
        self._var = context_var
        self._state = TransactionState.NEW
        self._parent: Self | None = None
        self._root: Self = cast(Self, self)
        #: The savepoint behind a nested transaction (quoted).
        self._savepoint: str | None = None
        self._token: contextvars.Token[Any] | None = None
        self._loop_token: contextvars.Token[asyncio.AbstractEventLoop | None] | None = None
        # Kept on the top-level transaction only:
        self._loop: asyncio.AbstractEventLoop | None = None
        #: Open transactions of this tree, outermost first.
        self._stack: list[Transaction] = []
        self._names = 0

    @property
    def state(self) -> TransactionState:
        """Where the transaction is in its life."""
        return self._state

    @property
    def nested(self) -> bool:
        """Whether this transaction is a savepoint inside another one."""
        return self._parent is not None

    def __repr__(self) -> str:
        kind = "nested " if self.nested else ""
        return f"<{type(self).__name__} {kind}{self._state.value}>"

    # -- the async context manager --------------------------------------

    async def __aenter__(self) -> Self:
        if self._state is not TransactionState.NEW:
            raise TransactionError(
                f"this transaction is already {self._state.value}; a transaction "
                "object serves one `async with` block: call engine.transaction() again"
            )
        loop = asyncio.get_running_loop()
        parent: Self | None = self._var.get()
        if parent is not None and parent._state is TransactionState.STARTED:
            root = parent._root
            root._check_loop()
            if root._stack[-1] is not parent:
                raise TransactionError(
                    "another nested transaction of the enclosing transaction is "
                    "open (in a concurrent task?); nested transactions share one "
                    "connection and must be entered and left in strict order"
                )
            name = root._new_name("transaction")
            try:
                await root._control(f"SAVEPOINT {name}")
            except BaseException:
                self._state = TransactionState.FAILED
                raise
            self._parent, self._root, self._savepoint = parent, root, name
            root._stack.append(self)
        else:
            # No transaction, or one already ended by commit()/rollback():
            # start a top-level transaction.
            self._loop = loop
            try:
                await self._begin()
            except BaseException:
                self._state = TransactionState.FAILED
                raise
            self._stack = [self]
        self._state = TransactionState.STARTED
        self._token = self._var.set(self)
        self._loop_token = _sync.transaction_loop.set(loop)
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self._restore_context()
        if self._state is not TransactionState.STARTED:
            return  # ended early by commit()/rollback(), or failed
        if exc is None:
            try:
                await self.commit()
            except TransactionError:
                # Refused (a nested transaction is still open): do not keep
                # the connection; roll everything of this one back.
                if self._state is TransactionState.STARTED:
                    await self.rollback()
                raise
            return
        try:
            await self.rollback()
        except Exception as error:
            # The block's own exception is the one worth seeing.
            exc.add_note(f"rolling back the transaction failed too: {error!r}")

    def _restore_context(self) -> None:
        token, self._token = self._token, None
        if token is not None:
            try:
                self._var.reset(token)
            except ValueError:
                # __aexit__ runs in another Context than __aenter__ did (an
                # async generator fixture, say); undo by hand.
                self._var.set(self._parent)
        loop_token, self._loop_token = self._loop_token, None
        if loop_token is not None:
            try:
                _sync.transaction_loop.reset(loop_token)
            except ValueError:
                _sync.transaction_loop.set(self._root._loop if self._parent else None)

    # -- ending and savepoints --------------------------------------------

    async def commit(self) -> None:
        """Commit now (for a nested transaction: release its savepoint)."""
        self._check_started("commit")
        root = self._root
        if root._stack[-1] is not self:
            raise TransactionError(
                "cannot commit: a nested transaction inside this one is still open"
            )
        if self is root:
            try:
                await self._commit()
            except BaseException:
                self._state = TransactionState.FAILED
                await self._end(clean=False)
                raise
            self._state = TransactionState.COMMITTED
            await self._end(clean=True)
            return
        try:
            await root._control(f"RELEASE SAVEPOINT {self._savepoint}")
        except BaseException:
            self._state = TransactionState.FAILED
            raise
        else:
            self._state = TransactionState.COMMITTED
        finally:
            root._stack.pop()

    async def rollback(self) -> None:
        """Roll back now (for a nested transaction: to its savepoint).

        Nested transactions still open inside this one are rolled back with it.
        """
        self._check_started("roll back")
        root = self._root
        position = root._stack.index(self)
        for inner in root._stack[position + 1 :]:
            inner._state = TransactionState.ROLLED_BACK
        del root._stack[position + 1 :]
        if self is root:
            try:
                await self._rollback()
            except BaseException:
                self._state = TransactionState.FAILED
                await self._end(clean=False)
                raise
            self._state = TransactionState.ROLLED_BACK
            await self._end(clean=True)
            return
        try:
            await root._control(f"ROLLBACK TO SAVEPOINT {self._savepoint}")
            await root._control(f"RELEASE SAVEPOINT {self._savepoint}")
        except BaseException:
            self._state = TransactionState.FAILED
            raise
        else:
            self._state = TransactionState.ROLLED_BACK
        finally:
            root._stack.pop()

    async def savepoint(self, name: str | None = None) -> Savepoint:
        """Set a savepoint that can be rolled back to without ending the transaction.

        ``name`` must look like an identifier; by default one is made up.
        """
        self._check_started("set a savepoint")
        root = self._root
        if name is None:
            quoted = root._new_name("savepoint")
        elif is_plain_name(name):
            quoted = Dialect.quote(name)
        else:
            raise ValueError(
                f"invalid savepoint name {name!r}: use letters, digits and "
                "underscores (at most 63), not starting with a digit"
            )
        await root._control(f"SAVEPOINT {quoted}")
        return Savepoint(self, quoted)

    # -- for engines ------------------------------------------------------

    def _active_root(self) -> Self:
        """The top-level transaction whose connection this context's queries use."""
        if self._state is not TransactionState.STARTED:
            raise TransactionError(
                f"the transaction of this context is {self._state.value}; queries "
                "in its block after commit() or rollback() are refused (they "
                "would silently run outside any transaction)"
            )
        root = self._root
        root._check_loop()
        return root

    def _check_started(self, action: str) -> None:
        if self._state is not TransactionState.STARTED:
            raise TransactionError(f"cannot {action}: the transaction is {self._state.value}")
        self._root._check_loop()

    def _check_loop(self) -> None:
        if asyncio.get_running_loop() is not self._loop:
            raise TransactionError(
                "this transaction was opened on another event loop; its connection "
                "cannot be used from this one (was the query run through "
                "run_sync() or another thread inside the transaction's block?)"
            )

    def _new_name(self, kind: str) -> str:
        self._names += 1
        return Dialect.quote(f"piccolo_gen_{kind}_{self._names}")

    @abc.abstractmethod
    async def _begin(self) -> None:
        """Get a connection and start the top-level transaction on it."""

    @abc.abstractmethod
    async def _commit(self) -> None:
        """COMMIT the top-level transaction."""

    @abc.abstractmethod
    async def _rollback(self) -> None:
        """ROLLBACK the top-level transaction."""

    @abc.abstractmethod
    async def _control(self, sql: str) -> None:
        """Run a savepoint statement on the top-level transaction's connection."""

    @abc.abstractmethod
    async def _end(self, *, clean: bool) -> None:
        """Give the connection back; ``clean=False``: it cannot be trusted. Never raises."""


class Savepoint:
    """A named point inside a transaction to roll back to.

    Made by ``await transaction.savepoint()``. Usable while its transaction
    is open and no nested transaction entered after it is still open.
    """

    def __init__(self, transaction: Transaction, quoted_name: str) -> None:
        self._transaction = transaction
        self._quoted = quoted_name
        self._released = False

    @property
    def name(self) -> str:
        """The savepoint's name as given (or made up)."""
        return self._quoted[1:-1].replace('""', '"')

    def __repr__(self) -> str:
        return f"<Savepoint {self.name}{' released' if self._released else ''}>"

    async def rollback_to(self) -> None:
        """Undo everything done since the savepoint; the savepoint stays usable."""
        self._check("roll back to")
        await self._transaction._root._control(f"ROLLBACK TO SAVEPOINT {self._quoted}")

    async def release(self) -> None:
        """Forget the savepoint, keeping its work (as part of the transaction)."""
        self._check("release")
        await self._transaction._root._control(f"RELEASE SAVEPOINT {self._quoted}")
        self._released = True

    def _check(self, action: str) -> None:
        if self._released:
            raise TransactionError(f"savepoint {self.name!r} was already released")
        transaction = self._transaction
        transaction._check_started(f"{action} savepoint {self.name!r}")
        if transaction._root._stack[-1] is not transaction:
            raise TransactionError(
                f"cannot {action} savepoint {self.name!r}: a nested transaction "
                "entered after it is still open"
            )


class _Runnable(Protocol):
    def run(self) -> Awaitable[object]: ...


#: What ``Atomic.add()`` takes: a query (anything with an ``async def run()``)
#: or a zero-argument coroutine function.
AtomicItem: TypeAlias = _Runnable | Callable[[], Awaitable[object]]


class Atomic:
    """Queries collected now and run later, in order, in one transaction.

    ``atomic = engine.atomic(); atomic.add(q1, q2); await atomic.run()``.
    """

    def __init__(self, engine: Engine) -> None:
        self._engine = engine
        self._calls: list[Callable[[], Awaitable[object]]] = []

    def add(self, *items: AtomicItem) -> None:
        """Add queries (or zero-argument coroutine functions) to run."""
        calls: list[Callable[[], Awaitable[object]]] = []
        for item in items:
            run = getattr(item, "run", None)
            if callable(run):
                calls.append(cast(Callable[[], Awaitable[object]], run))
            elif inspect.isawaitable(item):
                raise TypeError(
                    "Atomic.add() takes queries or zero-argument coroutine "
                    "functions, not an awaitable: an awaitable can only be "
                    "awaited once"
                )
            elif callable(item):
                calls.append(item)
            else:
                raise TypeError(f"Atomic.add() cannot run {item!r}")
        self._calls.extend(calls)

    async def run(self) -> list[object]:
        """Run everything added, in one transaction; return each result in order."""
        results: list[object] = []
        async with self._engine.transaction():
            for call in self._calls:
                results.append(await call())
        return results

    def run_sync(self) -> list[object]:
        """``run()`` from synchronous code (see ``run_sync()``)."""
        return _sync.run_sync(self.run())

    def __await__(self) -> Generator[Any, None, list[object]]:
        return self.run().__await__()
