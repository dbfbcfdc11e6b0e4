"""``run_sync()``: run a coroutine to completion from synchronous code.

Every coroutine runs on one long-lived event loop owned by the runtime, in a
daemon thread created on first use. The caller's thread only waits for the
result. This gives the three guarantees the design asks for:

* a plain script can call ``run_sync()`` any number of times;
* resources bound to an event loop stay valid between calls: an asyncpg pool
  opened with ``run_sync(engine.start_connection_pool())`` lives on the
  runtime's loop, and so do all later ``run_sync()`` queries (with
  ``asyncio.run()`` per call, the second call would meet a pool "attached to
  a different loop");
* sync code that runs inside a running event loop (Jupyter, a sync function
  called from a coroutine) does not deadlock: its loop is merely blocked
  while the runtime's loop does the work.

The caller's ``contextvars`` are copied into the coroutine, so ContextVars
set by the caller are seen by the code it runs.
"""

from __future__ import annotations

import asyncio
import contextvars
import os
import threading
from collections.abc import Coroutine
from typing import Any, TypeVar

__all__ = ["run_sync"]

_T = TypeVar("_T")

#: The event loop of the transaction open in the current context, if any.
#: Engines set it on entering a transaction; ``run_sync()`` reads it to
#: refuse a call that could only deadlock.
transaction_loop: contextvars.ContextVar[asyncio.AbstractEventLoop | None] = contextvars.ContextVar(
    "piccolo_gen_transaction_loop", default=None
)

# Loops whose thread is blocked in run_sync() right now, with a nesting count.
# An engine must not schedule work on such a loop and wait for it.
_waiting: dict[asyncio.AbstractEventLoop, int] = {}
_waiting_lock = threading.Lock()


def loop_is_waiting(loop: asyncio.AbstractEventLoop) -> bool:
    """Whether ``loop``'s thread is blocked in ``run_sync()`` (so the loop runs nothing)."""
    return loop in _waiting


class _LoopThread:
    """An event loop running forever in a daemon thread."""

    def __init__(self) -> None:
        self.pid = os.getpid()
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self._main, name="piccolo-gen-run-sync", daemon=True)
        self.thread.start()

    def _main(self) -> None:
        asyncio.set_event_loop(self.loop)
        self.loop.run_forever()

    def usable(self) -> bool:
        # After a fork the child has the object but not the thread.
        return self.pid == os.getpid() and self.thread.is_alive()


_runner: _LoopThread | None = None
_runner_lock = threading.Lock()


def _get_runner() -> _LoopThread:
    global _runner
    runner = _runner
    if runner is not None and runner.usable():
        return runner
    with _runner_lock:
        if _runner is None or not _runner.usable():
            _runner = _LoopThread()
        return _runner


async def _in_context(coro: Coroutine[Any, Any, _T], ctx: contextvars.Context) -> _T:
    # run_coroutine_threadsafe() cannot take a context; a task created with
    # one can (3.11+). Cancelling the outer task cancels this one.
    return await asyncio.get_running_loop().create_task(coro, context=ctx)


def _run_in_new_thread(coro: Coroutine[Any, Any, _T], ctx: contextvars.Context) -> _T:
    """Run ``coro`` with ``asyncio.run()`` in a short-lived thread of its own."""
    outcome: list[_T] = []
    failure: list[BaseException] = []

    def main() -> None:
        try:
            # asyncio.run() copies the current context into its task, so
            # running it inside ``ctx`` hands the caller's ContextVars over.
            outcome.append(ctx.run(asyncio.run, coro))
        except BaseException as error:
            failure.append(error)

    thread = threading.Thread(target=main, name="piccolo-gen-run-sync-nested")
    thread.start()
    thread.join()
    if failure:
        raise failure[0]
    return outcome[0]


def run_sync(coro: Coroutine[Any, Any, _T]) -> _T:
    """Run ``coro`` to completion and return its result, from synchronous code.

    Works in a plain script, repeatedly, with a connection pool opened through
    ``run_sync()``, and from sync code running inside an event loop (whose
    loop is blocked until the result is there). ContextVars of the caller are
    visible to the coroutine.

    Raises ``RuntimeError`` when called inside an open transaction on the
    current thread's running loop: the transaction's connection belongs to
    that loop, which cannot run while it waits here. Await the query instead.
    """
    if not asyncio.iscoroutine(coro):
        raise TypeError(f"run_sync() takes a coroutine, not {type(coro).__name__}")
    try:
        running: asyncio.AbstractEventLoop | None = asyncio.get_running_loop()
    except RuntimeError:
        running = None
    if running is not None and transaction_loop.get() is running:
        coro.close()
        raise RuntimeError(
            "run_sync() was called inside an open transaction on this thread's "
            "running event loop; it would deadlock, because the transaction's "
            "connection can only be used by that loop, which cannot run while "
            "run_sync() waits. Use `await query` (or `await query.run()`) instead."
        )
    ctx = contextvars.copy_context()
    runner = _get_runner()
    if running is not None:
        with _waiting_lock:
            _waiting[running] = _waiting.get(running, 0) + 1
    try:
        if threading.current_thread() is runner.thread:
            # run_sync() inside a coroutine that run_sync() is running: the
            # runtime's loop is busy waiting for us, so use a loop of our own.
            return _run_in_new_thread(coro, ctx)
        future = asyncio.run_coroutine_threadsafe(_in_context(coro, ctx), runner.loop)
        try:
            return future.result()
        except BaseException:
            # KeyboardInterrupt while waiting: do not leave the work running.
            future.cancel()
            raise
    finally:
        if running is not None:
            with _waiting_lock:
                count = _waiting.pop(running) - 1
                if count:
                    _waiting[running] = count
