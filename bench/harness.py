"""Timing: medians of repetitions, with the garbage collector off and on."""

from __future__ import annotations

import gc
import inspect
import statistics
import time
import tracemalloc
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

#: A workload: a call that does the work once (sync, or returning an awaitable).
Work = Callable[[], Any]
Cleanup = Callable[[], Awaitable[None]] | None


@dataclass
class Cell:
    """One contender on one workload in one GC mode."""

    times: list[float] = field(default_factory=list)
    error: str | None = None
    note: str | None = None
    #: Operations per timed call (W3: queries, W5: compilations); the median is divided by it.
    per: int = 1

    @property
    def median(self) -> float | None:
        if self.error is not None or not self.times:
            return None
        return statistics.median(self.times) / self.per


async def call(work: Work) -> Any:
    result = work()
    if inspect.isawaitable(result):
        result = await result
    return result


async def time_once(work: Work, *, gc_on: bool) -> float:
    """Seconds for one call of ``work``, starting from a collected heap."""
    gc.collect()
    if not gc_on:
        gc.disable()
    try:
        start = time.perf_counter()
        result = work()
        if inspect.isawaitable(result):
            result = await result
        elapsed = time.perf_counter() - start
    finally:
        gc.enable()
    del result
    return elapsed


async def peak_memory(work: Work) -> tuple[int, Any]:
    """Peak bytes allocated while ``work`` runs and its result is alive."""
    gc.collect()
    tracemalloc.start()
    try:
        base, _ = tracemalloc.get_traced_memory()
        tracemalloc.reset_peak()
        result = await call(work)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    return peak - base, result


def describe(error: BaseException) -> str:
    text = f"{type(error).__name__}: {error}".replace("\n", " ").replace("|", "/")
    return text[:160]
