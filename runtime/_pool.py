"""The PostgreSQL engine's connection pool.

A pool serves one event loop (the one it was opened on). Its idle
connections wait in a LIFO deque, so the most recently used one, the likeliest
to be warm, serves next:

* ``acquire_nowait()`` pops an idle connection without awaiting anything;
  ``acquire()`` opens a new one while fewer than ``max_size`` are open, else
  waits its turn (waiters are served in arrival order);
* ``release()`` gives a connection back synchronously: to the first waiter, or
  to the deque. No statement runs: the caller states that the connection's
  session is as it found it (the statements the runtime builds never change
  session state);
* ``release_reset()`` first runs asyncpg's ``Connection.reset()`` (rollback,
  ``CLOSE ALL``, ``UNLISTEN *``, ``RESET ALL``, release of advisory locks),
  for a connection that ran SQL the runtime did not write, or whose statement
  failed;
* ``discard()`` terminates a connection whose protocol state is unknown (a
  statement cancelled half-way, a transaction left open).

asyncpg's own ``Pool`` resets every connection it gets back, one more round
trip per query, under ``asyncio.shield`` with a timer per release: about 1.6x
to 2.8x the cost of a one-row query on a held connection, against about 1.0x
here.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Awaitable, Callable
from typing import Final, Generic, Protocol, TypeVar

from ._engine_base import EngineError

__all__ = ["Pool", "PoolConnection", "close_connection"]

# Seconds to wait for a graceful close before dropping the socket.
CLOSE_TIMEOUT: Final = 10.0


class PoolConnection(Protocol):
    """What the pool uses of an asyncpg connection."""

    async def close(self, *, timeout: float | None = None) -> None: ...
    def terminate(self) -> None: ...
    def is_closed(self) -> bool: ...
    def is_in_transaction(self) -> bool: ...
    async def reset(self, *, timeout: float | None = None) -> None: ...


_C = TypeVar("_C", bound=PoolConnection)


async def close_connection(conn: PoolConnection) -> None:
    """Close a connection gracefully; never raise for it."""
    try:
        await conn.close(timeout=CLOSE_TIMEOUT)
    except Exception:
        conn.terminate()  # asyncpg aborted it already; make sure


def _check_count(name: str, value: object, minimum: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise ValueError(f"{name} must be an integer >= {minimum}, not {value!r}")
    return value


class _Slot:
    """Bookkeeping of one open connection."""

    __slots__ = ("uses", "idle_since")

    def __init__(self) -> None:
        #: Times the connection was given back (queries, transactions, batch reads).
        self.uses = 0
        #: ``loop.time()`` when it last went idle.
        self.idle_since = 0.0


class Pool(Generic[_C]):
    """Connections of one event loop, handed out one task at a time.

    ``connect`` opens a connection. ``min_size`` connections are opened by
    ``open()`` and are never closed for inactivity; at most ``max_size`` are
    open at once. A connection is closed (and replaced on demand) after it was
    given back ``max_queries`` times, or after it sat idle for
    ``max_inactive_connection_lifetime`` seconds (0: never) while more than
    ``min_size`` are open. ``init(conn)`` runs once on each new connection,
    ``setup(conn)`` on each acquisition.
    """

    def __init__(
        self,
        connect: Callable[[], Awaitable[_C]],
        *,
        min_size: int = 10,
        max_size: int = 10,
        max_queries: int = 50_000,
        max_inactive_connection_lifetime: float = 300.0,
        init: Callable[[_C], Awaitable[object]] | None = None,
        setup: Callable[[_C], Awaitable[object]] | None = None,
    ) -> None:
        self._min_size = _check_count("min_size", min_size, 0)
        self._max_size = _check_count("max_size", max_size, 1)
        if min_size > max_size:
            raise ValueError(f"min_size ({min_size}) must not exceed max_size ({max_size})")
        self._max_queries = _check_count("max_queries", max_queries, 1)
        lifetime = max_inactive_connection_lifetime
        if isinstance(lifetime, bool) or not isinstance(lifetime, int | float) or lifetime < 0:
            raise ValueError(
                "max_inactive_connection_lifetime must be a number of seconds >= 0 "
                f"(0: never), not {lifetime!r}"
            )
        for name, hook in (("init", init), ("setup", setup)):
            if hook is not None and not callable(hook):
                raise ValueError(f"{name} must be an async function of a connection, not {hook!r}")
        self._lifetime = float(lifetime)
        self._connect = connect
        self._init = init
        self._setup = setup
        self._loop = asyncio.get_running_loop()
        #: Idle connections, the most recently given back last.
        self._idle: deque[_C] = deque()
        #: Every open connection, idle or in use.
        self._slots: dict[_C, _Slot] = {}
        #: Open connections plus those being opened.
        self._size = 0
        #: Acquirers waiting for a connection (or, given None, for the right
        #: to open one), first come first served.
        self._waiters: deque[asyncio.Future[_C | None]] = deque()
        self._timer: asyncio.TimerHandle | None = None
        self._closing = False
        self._drained: asyncio.Future[None] | None = None
        self._closers: set[asyncio.Task[None]] = set()

    def __repr__(self) -> str:
        state = " closed" if self._closing else ""
        return f"<Pool{state} size={self._size} idle={len(self._idle)} max_size={self._max_size}>"

    @property
    def size(self) -> int:
        """Connections open (idle or in use) or being opened."""
        return self._size

    @property
    def idle_size(self) -> int:
        """Connections waiting to be acquired."""
        return len(self._idle)

    async def open(self) -> None:
        """Open ``min_size`` connections (the first alone, so that a wrong
        address or password fails once, the others at once)."""
        if not self._min_size:
            return
        try:
            self._size += 1
            opened = [await self._open_reserved()]
            if self._min_size > 1:
                self._size += self._min_size - 1
                results = await asyncio.gather(
                    *(self._open_reserved() for _ in range(self._min_size - 1)),
                    return_exceptions=True,
                )
                for result in results:
                    if isinstance(result, BaseException):
                        raise result
                    opened.append(result)
        except BaseException:
            self.terminate()  # closes those that did open
            raise
        for conn in reversed(opened):  # the first opened is the first served
            self._put(conn, self._slots[conn])

    # -- acquire ----------------------------------------------------------------

    def acquire_nowait(self) -> _C | None:
        """An idle connection, or None: then ``await acquire()``."""
        if self._setup is not None:
            return None  # setup() must run first
        return self._pop_idle()

    def _pop_idle(self) -> _C | None:
        idle = self._idle
        while idle:
            conn = idle.pop()
            if not conn.is_closed():
                return conn
            self._forget(conn)  # the server or the network closed it while idle
        return None

    async def acquire(self) -> _C:
        """A connection for the calling task, which must give it back with
        ``release()``, ``release_reset()`` or ``discard()``."""
        if self._closing:
            raise EngineError("the connection pool is closed")
        conn = self._pop_idle()
        if conn is None:
            if self._size < self._max_size:
                self._size += 1
                conn = await self._open_reserved()
            else:
                conn = await self._wait()
        if self._setup is not None:
            try:
                await self._setup(conn)
            except BaseException:
                self.discard(conn)  # its state is unknown
                raise
        return conn

    async def _wait(self) -> _C:
        waiter: asyncio.Future[_C | None] = self._loop.create_future()
        self._waiters.append(waiter)
        try:
            conn = await waiter
        except asyncio.CancelledError:
            if waiter.done() and not waiter.cancelled() and waiter.exception() is None:
                # Cancelled after being served: pass the turn on.
                handed = waiter.result()
                if handed is None:
                    self._free_slot()
                else:
                    self._give(handed)
            else:
                try:
                    self._waiters.remove(waiter)
                except ValueError:
                    pass
            raise
        if conn is None:  # a connection was dropped: open its replacement
            return await self._open_reserved()
        return conn

    async def _open_reserved(self) -> _C:
        """Open a connection for a place already counted in ``_size``."""
        try:
            conn = await self._connect()
        except BaseException:
            self._free_slot()
            raise
        try:
            if self._init is not None:
                await self._init(conn)
            if self._closing:
                raise EngineError("the connection pool was closed while connecting")
        except BaseException:
            self._close_later(conn)
            self._free_slot()
            raise
        self._slots[conn] = _Slot()
        return conn

    # -- give back --------------------------------------------------------------

    def release(self, conn: _C) -> None:
        """Give back a connection whose session is as it was when acquired."""
        slot = self._slots.get(conn)
        if slot is None:  # not (or no longer, after terminate()) one of ours
            conn.terminate()
            return
        slot.uses += 1
        if slot.uses >= self._max_queries:
            if conn.is_in_transaction():
                self.discard(conn)
            else:
                self._retire(conn)
        else:
            self._give(conn)

    async def release_reset(self, conn: _C) -> None:
        """Reset a connection's session, then give it back (or drop it if the
        reset fails). Raises only the caller's cancellation."""
        if conn not in self._slots:
            conn.terminate()
            return
        if conn.is_closed() or conn.is_in_transaction():
            # asyncpg would roll back (and log an error): drop it instead.
            self.discard(conn)
            return
        try:
            await conn.reset()
        except Exception:
            self.discard(conn)
            return
        except BaseException:
            self.discard(conn)
            raise
        self.release(conn)

    def discard(self, conn: _C) -> None:
        """Terminate a connection that must not be reused, and forget it."""
        conn.terminate()
        self._forget(conn)

    def _forget(self, conn: _C) -> None:
        if self._slots.pop(conn, None) is not None:
            self._free_slot()

    def _retire(self, conn: _C) -> None:
        """Close a healthy connection in the background, and forget it."""
        self._forget(conn)
        self._close_later(conn)

    def _give(self, conn: _C) -> None:
        """Hand a connection to the first waiter, or make it idle."""
        slot = self._slots.get(conn)
        if slot is None:
            conn.terminate()
        elif conn.is_in_transaction() or conn.is_closed():
            self.discard(conn)  # must not serve anyone as it is
        elif self._closing:
            self._retire(conn)
        else:
            self._put(conn, slot)

    def _put(self, conn: _C, slot: _Slot) -> None:
        waiters = self._waiters
        while waiters:
            waiter = waiters.popleft()
            if not waiter.done():
                waiter.set_result(conn)
                return
        if self._lifetime:
            slot.idle_since = self._loop.time()
            if self._timer is None:
                self._timer = self._loop.call_later(self._lifetime, self._close_inactive)
        self._idle.append(conn)

    def _free_slot(self) -> None:
        """A place is free: let the first waiter open a connection in it."""
        self._size -= 1
        waiters = self._waiters
        while waiters and self._size < self._max_size:
            waiter = waiters.popleft()
            if not waiter.done():
                self._size += 1
                waiter.set_result(None)
        if self._size == 0 and self._drained is not None and not self._drained.done():
            self._drained.set_result(None)

    def _close_later(self, conn: _C) -> None:
        task = self._loop.create_task(close_connection(conn))
        self._closers.add(task)
        task.add_done_callback(self._closers.discard)

    def _close_inactive(self) -> None:
        """The pool's one timer: close connections idle for too long, oldest first."""
        self._timer = None
        idle, now = self._idle, self._loop.time()
        while idle and self._size > self._min_size:
            due = self._slots[idle[0]].idle_since + self._lifetime
            if due > now:
                self._timer = self._loop.call_later(due - now, self._close_inactive)
                return
            self._retire(idle.popleft())

    # -- close ------------------------------------------------------------------

    async def close(self) -> None:
        """Wait for the connections in use to come back, then close them all.

        Acquirers still waiting get ``EngineError``; a cancelled close
        terminates what is left.
        """
        try:
            self._stop()
            while self._idle:
                self._retire(self._idle.popleft())
            if self._size:
                if self._drained is None:
                    self._drained = self._loop.create_future()
                await asyncio.shield(self._drained)
            await asyncio.gather(*self._closers)
        except BaseException:
            self.terminate()
            raise

    def terminate(self) -> None:
        """Close every connection at once, in use or not."""
        self._stop()
        self._idle.clear()
        slots, self._slots = self._slots, {}
        self._size -= len(slots)  # those being opened are closed when they are
        for conn in slots:
            conn.terminate()
        if self._drained is not None and not self._drained.done():
            self._drained.set_result(None)

    def _stop(self) -> None:
        self._closing = True
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        waiters, self._waiters = self._waiters, deque()
        for waiter in waiters:
            if not waiter.done():
                waiter.set_exception(EngineError("the connection pool was closed"))
