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
* ``release_reset()`` first runs the ``reset`` function the pool was made
  with, for a connection that ran SQL the runtime did not write, whose
  statement failed, or whose statement was cancelled: asyncpg sends the next
  statement only after the server acknowledged the cancel request of the
  previous one, so the reset also waits for the cancelled statement to stop.
  The reset runs to its end even when the caller is cancelled again meanwhile
  (``asyncio.shield``);
* ``discard()`` closes a connection that must not serve again (left inside a
  transaction, or its reset failed).

Connections that go away are closed gracefully (asyncpg's ``close()``
finishes a pending cancel request first, then asks the server to end the
session and waits until it has) and keep counting against ``max_size`` until
they are gone: the server never holds more than ``max_size`` sessions of the
pool, even while cancelled statements wind down. (Terminating the socket
instead would drop asyncpg's cancel request, and the server, which notices
a vanished client only when it next reads from or writes to it, would run the
statement to its end, a write included.)

Connections the server or the network closed are forgotten as soon as asyncpg
reports it (a termination listener), and the pool opens replacements in the
background up to ``min_size``, retrying while the server is unreachable.

asyncpg's own ``Pool`` resets every connection it gets back, one more round
trip per query, under ``asyncio.shield`` with a timer per release: about 1.6x
to 2.8x the cost of a one-row query on a held connection, against about 1.0x
here.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any, Final, Generic, Protocol, TypeVar

from ._engine_base import EngineError

__all__ = ["DEFAULT_MIN_SIZE", "Pool", "PoolConnection", "close_connection", "close_shielded"]

#: Seconds to wait for a graceful close, or for a reset (which first waits for
#: a cancelled statement to stop), before dropping the socket.
CLOSE_TIMEOUT: Final = 10.0
#: ``min_size`` when not given (asyncpg's default), lowered to ``max_size``
#: when that is smaller.
DEFAULT_MIN_SIZE: Final = 10
#: Seconds between attempts to open the connections missing below
#: ``min_size`` while the server is unreachable: doubling up to the maximum.
REFILL_DELAY: Final = 0.05
REFILL_MAX_DELAY: Final = 2.0


class PoolConnection(Protocol):
    """What the pool uses of an asyncpg connection."""

    async def close(self, *, timeout: float | None = None) -> None: ...
    def terminate(self) -> None: ...
    def is_closed(self) -> bool: ...
    def is_in_transaction(self) -> bool: ...
    def add_termination_listener(self, callback: Callable[[Any], object], /) -> None: ...


_C = TypeVar("_C", bound=PoolConnection)


async def close_connection(conn: PoolConnection) -> None:
    """Close a connection gracefully (after any pending cancel request); never
    raise for it."""
    try:
        await conn.close(timeout=CLOSE_TIMEOUT)
    except Exception:
        conn.terminate()  # asyncpg aborted it already; make sure


#: Closes that outlived a cancelled caller (the loop keeps only weak
#: references to tasks).
_BACKGROUND: Final[set[asyncio.Task[None]]] = set()


async def close_shielded(conn: PoolConnection) -> None:
    """``close_connection()`` that goes on when the caller is cancelled
    (which then gets its ``CancelledError`` at once)."""
    task = asyncio.get_running_loop().create_task(close_connection(conn))
    _BACKGROUND.add(task)
    task.add_done_callback(_BACKGROUND.discard)
    await asyncio.shield(task)


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

    ``connect`` opens a connection; ``reset(conn)`` returns a connection's
    session to the state of a new one (or raises). ``min_size`` connections
    are opened by ``open()``, are never closed for inactivity and are
    replaced when they die (default: ``DEFAULT_MIN_SIZE``, or ``max_size``
    when smaller); at most ``max_size`` are open (or being opened or closed)
    at once. A connection is closed (and replaced on demand) after it was
    given back ``max_queries`` times, or after it sat idle for
    ``max_inactive_connection_lifetime`` seconds (0: never) while more than
    ``min_size`` are open. ``init(conn)`` runs once on each new connection,
    ``setup(conn)`` on each acquisition.
    """

    def __init__(
        self,
        connect: Callable[[], Awaitable[_C]],
        *,
        reset: Callable[[_C], Awaitable[object]],
        min_size: int | None = None,
        max_size: int = 10,
        max_queries: int = 50_000,
        max_inactive_connection_lifetime: float = 300.0,
        init: Callable[[_C], Awaitable[object]] | None = None,
        setup: Callable[[_C], Awaitable[object]] | None = None,
    ) -> None:
        self._max_size = _check_count("max_size", max_size, 1)
        if min_size is None:
            min_size = min(DEFAULT_MIN_SIZE, self._max_size)
        self._min_size = _check_count("min_size", min_size, 0)
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
        self._reset = reset
        self._init = init
        self._setup = setup
        self._loop = asyncio.get_running_loop()
        #: Idle connections, the most recently given back last.
        self._idle: deque[_C] = deque()
        #: Every open connection, idle or in use.
        self._slots: dict[_C, _Slot] = {}
        #: Connections being opened.
        self._opening = 0
        #: Connections being closed (their sessions may still exist on the server).
        self._leaving: set[_C] = set()
        #: Acquirers waiting for a connection (or, given None, for the right
        #: to open one), first come first served.
        self._waiters: deque[asyncio.Future[_C | None]] = deque()
        self._timer: asyncio.TimerHandle | None = None
        self._started = False
        self._closing = False
        self._drained: asyncio.Future[None] | None = None
        #: Background work: graceful closes, resets, the refill.
        self._tasks: set[asyncio.Task[None]] = set()
        self._refilling: asyncio.Task[None] | None = None

    def __repr__(self) -> str:
        state = " closed" if self._closing else ""
        return f"<Pool{state} size={self.size} idle={len(self._idle)} max_size={self._max_size}>"

    @property
    def size(self) -> int:
        """Connections open (idle or in use), being opened, or being closed:
        the sessions the server may hold for the pool."""
        return len(self._slots) + self._opening + len(self._leaving)

    @property
    def idle_size(self) -> int:
        """Connections waiting to be acquired."""
        return len(self._idle)

    @property
    def min_size(self) -> int:
        """Connections kept open (and replaced when they die)."""
        return self._min_size

    @property
    def max_size(self) -> int:
        """The most connections open at once."""
        return self._max_size

    async def open(self) -> None:
        """Open ``min_size`` connections (the first alone, so that a wrong
        address or password fails once, the others at once)."""
        if self._min_size:
            try:
                self._opening += 1
                opened = [await self._open_reserved()]
                if self._min_size > 1:
                    self._opening += self._min_size - 1
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
        self._started = True

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
            self._forget(conn)  # closed while idle, not reported yet
        return None

    async def acquire(self) -> _C:
        """A connection for the calling task, which must give it back with
        ``release()``, ``release_reset()`` or ``discard()``."""
        if self._closing:
            raise EngineError("the connection pool is closed")
        conn = self._pop_idle()
        if conn is None:
            if self.size < self._max_size:
                self._opening += 1
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
                    self._opening -= 1
                    self._slot_freed()
                else:
                    self._give(handed)
            else:
                try:
                    self._waiters.remove(waiter)
                except ValueError:
                    pass
            raise
        if conn is None:  # a place came free: open a connection in it
            return await self._open_reserved()
        return conn

    async def _open_reserved(self) -> _C:
        """Open a connection for a place already counted in ``_opening``."""
        try:
            conn = await self._connect()
        except BaseException:
            self._opening -= 1
            self._slot_freed()
            raise
        try:
            conn.add_termination_listener(self._terminated)
            if self._init is not None:
                await self._init(conn)
            if self._closing:
                raise EngineError("the connection pool was closed while connecting")
        except BaseException:
            self._opening -= 1
            self._close_later(conn)
            raise
        self._opening -= 1
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
            self.discard(conn)
        else:
            self._give(conn)

    async def release_reset(self, conn: _C) -> None:
        """Reset a connection's session, then give it back (or close it if it
        is inside a transaction or the reset fails).

        The work runs in a task of the pool that a second cancellation of the
        caller does not interrupt (the connection is not handed out before
        it is done); raises only the caller's cancellation.
        """
        await asyncio.shield(self._spawn(self._reset_and_give(conn)))

    async def _reset_and_give(self, conn: _C) -> None:
        if conn not in self._slots:
            conn.terminate()
            return
        if conn.is_closed() or conn.is_in_transaction() or self._closing:
            # Nothing to reset, or a transaction to end: the server rolls it
            # back when the session ends (a ROLLBACK might find the
            # connection's protocol state unknown).
            self.discard(conn)
            return
        try:
            # asyncpg sends the reset only once a pending cancel request was
            # acknowledged, that is once a cancelled statement has stopped.
            async with asyncio.timeout(CLOSE_TIMEOUT):
                await self._reset(conn)
        except Exception:
            self.discard(conn)
            return
        except BaseException:
            self.discard(conn)
            raise
        self.release(conn)

    def discard(self, conn: _C) -> None:
        """Close a connection that must not serve again, and forget it.

        It counts against ``max_size`` until closed."""
        if self._slots.pop(conn, None) is None:
            conn.terminate()  # not (or no longer) ours
        elif conn.is_closed():
            self._slot_freed()
        else:
            self._close_later(conn)

    def _forget(self, conn: _C) -> None:
        """Forget an open connection that is closed already."""
        if self._slots.pop(conn, None) is not None:
            self._slot_freed()

    def _terminated(self, conn: Any) -> None:
        """asyncpg's termination listener: a connection is closed. If it was
        idle (the server ended the session, or the network failed), forget it
        now, so that the refill replaces it; a connection in use is dealt
        with when it comes back."""
        if conn in self._slots and conn in self._idle:
            self._idle.remove(conn)
            self._forget(conn)

    def _give(self, conn: _C) -> None:
        """Hand a connection to the first waiter, or make it idle."""
        slot = self._slots.get(conn)
        if slot is None:
            conn.terminate()
        elif conn.is_in_transaction() or conn.is_closed() or self._closing:
            self.discard(conn)  # must not serve anyone as it is
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

    def _slot_freed(self) -> None:
        """A place is free: let the first waiter open a connection in it, or
        refill up to ``min_size``."""
        waiters = self._waiters
        while waiters and self.size < self._max_size:
            waiter = waiters.popleft()
            if not waiter.done():
                self._opening += 1
                waiter.set_result(None)
        if self._closing:
            if not self.size and self._drained is not None and not self._drained.done():
                self._drained.set_result(None)
        elif self._started and self._refilling is None and self._missing():
            self._refilling = self._spawn(self._refill())

    def _missing(self) -> bool:
        """Whether fewer than ``min_size`` connections are open or being
        opened, and there is room for one more."""
        live = len(self._slots) + self._opening
        return live < self._min_size and self.size < self._max_size

    async def _refill(self) -> None:
        """Open connections until ``min_size`` are open again."""
        delay = REFILL_DELAY
        try:
            while not self._closing and self._missing():
                self._opening += 1
                try:
                    conn = await self._open_reserved()
                except Exception:
                    # The server is unreachable (restarting?): try again later;
                    # queries meanwhile get the error themselves.
                    await asyncio.sleep(delay)
                    delay = min(delay * 2, REFILL_MAX_DELAY)
                    continue
                delay = REFILL_DELAY
                self._put(conn, self._slots[conn])
        finally:
            self._refilling = None

    def _spawn(self, coro: Coroutine[Any, Any, None]) -> asyncio.Task[None]:
        """Run ``coro`` in a task the pool keeps a reference to."""
        task = self._loop.create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    def _close_later(self, conn: _C) -> None:
        """Close a connection in the background; it counts against
        ``max_size`` until it is closed."""
        self._leaving.add(conn)
        self._spawn(self._close(conn))

    async def _close(self, conn: _C) -> None:
        try:
            await close_connection(conn)
        finally:
            if conn in self._leaving:  # (terminate() already let it go)
                self._leaving.discard(conn)
                self._slot_freed()

    def _close_inactive(self) -> None:
        """The pool's one timer: close connections idle for too long, oldest first."""
        self._timer = None
        idle, now = self._idle, self._loop.time()
        while idle and len(self._slots) > self._min_size:
            due = self._slots[idle[0]].idle_since + self._lifetime
            if due > now:
                self._timer = self._loop.call_later(due - now, self._close_inactive)
                return
            self.discard(idle.popleft())

    # -- close ------------------------------------------------------------------

    async def close(self) -> None:
        """Wait for the connections in use to come back, then close them all.

        Acquirers still waiting get ``EngineError``; a cancelled close
        terminates what is left.
        """
        try:
            self._stop()
            while self._idle:
                self.discard(self._idle.popleft())
            if self.size:
                if self._drained is None:
                    self._drained = self._loop.create_future()
                await asyncio.shield(self._drained)
            await asyncio.gather(*self._tasks, return_exceptions=True)
        except BaseException:
            self.terminate()
            raise

    def terminate(self) -> None:
        """Close every connection at once, in use or not."""
        self._stop()
        self._idle.clear()
        slots, self._slots = self._slots, {}
        leaving, self._leaving = self._leaving, set()
        for conn in (*slots, *leaving):  # those being opened are closed when they are
            conn.terminate()
        if self._drained is not None and not self._drained.done():
            self._drained.set_result(None)

    def _stop(self) -> None:
        self._closing = True
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        if self._refilling is not None:
            self._refilling.cancel()
        waiters, self._waiters = self._waiters, deque()
        for waiter in waiters:
            if not waiter.done():
                waiter.set_exception(EngineError("the connection pool was closed"))
