"""Read replicas: which server a query of a ``PostgresEngine`` runs on.

A ``PostgresEngine`` is the primary; its ``extra_nodes`` are other engines
(hot standbys of the same database) by name. One path picks the server of
every query that goes through the query layer (``Query.run()``,
``Frozen.run()``, ``batch()``): :meth:`Router.choose`.

* Writes, locking reads (``lock_rows()``), ``raw()`` SQL (it may write) and
  every query inside a transaction run on the primary, whatever ``node=``
  says: a standby refuses writes, and a transaction's reads must see its own
  writes.
* Reads name a node with ``run(node="read_1")``, or a :class:`ReadPolicy`
  sends reads to its nodes in turn (round robin) without ``node=``.
* Read-your-writes: after a write (or a committed transaction) in a context,
  its reads go to the primary for ``ReadPolicy.read_your_writes`` seconds
  (a ``ContextVar``, so the window belongs to the task that wrote and the
  tasks it starts, not to other requests).
* A node that is down (its connection fails) or whose replay lags more than
  ``ReadPolicy.max_lag`` seconds is skipped: the read runs on the primary,
  and a :class:`ReplicaFallbackWarning` says so. The node's state is
  rechecked at most every ``ReadPolicy.check_interval`` seconds (one query
  on the node); meanwhile reads use the last state seen.

The lag is measured on the standby (``LAG_SQL``): zero when it has replayed
all the WAL it received, else the time since the last transaction it
replayed. A standby cut off from its primary that has replayed everything it
received reads as caught up; monitor ``pg_stat_replication`` on the primary
for that.
"""

from __future__ import annotations

import contextvars
import math
import time
import warnings
from collections.abc import Awaitable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Final, Protocol

from ._errors import DatabaseError, EngineError, OperationalError

if TYPE_CHECKING:
    from ._postgres import PostgresEngine

__all__ = [
    "EXPLICIT_ONLY",
    "LAG_SQL",
    "ReadPolicy",
    "ReplicaFallbackWarning",
    "Router",
    "unreachable",
]

#: Seconds of replay lag of a standby (0 on a server that is not in recovery):
#: 0 when all the WAL it received is replayed, else the time since the last
#: transaction it replayed (NULL when it replayed none yet: unknown).
LAG_SQL: Final = (
    "SELECT CASE WHEN NOT pg_is_in_recovery() "
    "OR pg_last_wal_receive_lsn() IS NOT DISTINCT FROM pg_last_wal_replay_lsn() THEN 0.0 "
    "ELSE EXTRACT(EPOCH FROM clock_timestamp() - pg_last_xact_replay_timestamp())::float8 END"
)

#: SQLSTATEs of a node that cannot serve: connection exceptions (class 08),
#: and the server shutting down or starting up (57P01-57P03).
_UNREACHABLE: Final = frozenset({"57P01", "57P02", "57P03"})
#: A read cancelled by a standby's recovery (conflict with recovery): run it
#: on the primary instead; the node itself is fine.
_RECOVERY_CONFLICT: Final = frozenset({"40001", "40P01"})


class ReplicaFallbackWarning(RuntimeWarning):
    """A read meant for a replica ran on the primary: the replica is down or
    lags more than ``ReadPolicy.max_lag``."""


@dataclass(frozen=True)
class ReadPolicy:
    """How a ``PostgresEngine`` routes reads to its ``extra_nodes``.

    ``nodes``: the extra nodes that reads without ``node=`` go to, in turn
    (``None``: all of them; ``()``: none, reads go where ``node=`` says).
    ``max_lag``: seconds of replay lag beyond which a node is skipped
    (``None``: no bound). ``read_your_writes``: seconds after a write during
    which the reads of the same context go to the primary (0: off).
    ``check_interval``: seconds between two checks of a node's state (lag,
    or whether a node found down is back).
    """

    nodes: Sequence[str] | None = None
    max_lag: float | None = None
    read_your_writes: float = 0.0
    check_interval: float = 1.0

    def __post_init__(self) -> None:
        if self.nodes is not None:
            if isinstance(self.nodes, str):
                raise TypeError("ReadPolicy(nodes=...) takes a sequence of node names, not a str")
            object.__setattr__(self, "nodes", tuple(self.nodes))
        for name in ("max_lag", "read_your_writes", "check_interval"):
            value = getattr(self, name)
            if value is None and name == "max_lag":
                continue
            if (
                isinstance(value, bool)
                or not isinstance(value, int | float)
                or not math.isfinite(value)
                or value < 0
            ):
                raise ValueError(
                    f"ReadPolicy({name}=...) must be a finite number >= 0, not {value!r}"
                )


#: The policy of an engine given none: reads go where ``node=`` says, a node
#: found down is retried after a second.
EXPLICIT_ONLY: Final = ReadPolicy(nodes=())


class _RunsOn(Protocol):
    def _read_only(self) -> bool | None: ...
    def _run(self, engine: Any, /) -> Awaitable[Any]: ...


@dataclass
class _Health:
    """What is known of one node: whether it serves reads, since when."""

    usable: bool = True
    checked_at: float = -math.inf
    lag: float | None = None
    checking: bool = field(default=False)


def unreachable(error: BaseException) -> bool:
    """Whether ``error`` (a runtime exception) says the node cannot be reached."""
    if not isinstance(error, OperationalError):
        return False
    code = error.code
    # No SQLSTATE: the socket failed, or asyncpg found its connection closed.
    return code is None or code.startswith("08") or code in _UNREACHABLE


class Router:
    """The routing of one primary engine (see the module docstring)."""

    def __init__(
        self,
        primary: PostgresEngine,
        nodes: Mapping[str, PostgresEngine],
        policy: ReadPolicy | None,
    ) -> None:
        policy = EXPLICIT_ONLY if policy is None else policy
        if not isinstance(policy, ReadPolicy):
            raise TypeError(f"read_policy must be a ReadPolicy, not {policy!r}")
        names = tuple(nodes) if policy.nodes is None else policy.nodes
        unknown = [name for name in names if name not in nodes]
        if unknown:
            known = ", ".join(map(repr, nodes)) or "none"
            raise ValueError(
                f"ReadPolicy(nodes=...) names {', '.join(map(repr, unknown))}, which "
                f"extra_nodes does not hold (extra nodes: {known})"
            )
        self.primary = primary
        self.nodes = dict(nodes)
        self.policy = policy
        self._order = names
        self._turn = 0
        self._health = {name: _Health() for name in nodes}
        self._last_write: contextvars.ContextVar[float] = contextvars.ContextVar(
            f"piccolo_gen_last_write_{id(primary)}", default=-math.inf
        )

    # -- the one decision -------------------------------------------------

    async def choose(self, node: str | None, read: bool | None) -> PostgresEngine:
        """The engine a query runs on: the primary, or the node chosen.

        ``read``: ``True`` for a read, ``False`` for a write or a locking
        read, ``None`` for SQL the query layer did not build (``raw()``),
        which goes to a node only when ``node=`` names it.
        """
        primary = self.primary
        if read is False or (read is None and node is None) or primary.transaction_exists():
            return primary
        policy = self.policy
        if policy.read_your_writes and (
            time.monotonic() - self._last_write.get() < policy.read_your_writes
        ):
            return primary
        if node is not None:
            engine = primary.get_node(node)  # an unknown name is an error
            return engine if await self._usable(node) else primary
        order = self._order
        for _ in range(len(order)):
            name = order[self._turn % len(order)]
            self._turn += 1
            if await self._usable(name):
                return self.nodes[name]
        return primary

    async def run(self, query: _RunsOn, node: str | None) -> Any:
        """Run ``query`` where ``choose()`` says; a read that fails because its
        node is unreachable (or a recovery conflict cancelled it) runs again
        on the primary."""
        read = query._read_only()
        engine = await self.choose(node, read)
        if engine is self.primary:
            try:
                return await query._run(engine)
            finally:
                if read is not True:  # a write (raw SQL may write)
                    self.wrote()
        try:
            return await query._run(engine)
        except DatabaseError as error:
            if not self.failed(engine, error):
                raise
        return await query._run(self.primary)

    # -- what the engine tells the router ---------------------------------

    def wrote(self) -> None:
        """A write ran (or a transaction committed) in this context: start
        its read-your-writes window."""
        if self.policy.read_your_writes:
            self._last_write.set(time.monotonic())

    def failed(self, engine: PostgresEngine, error: DatabaseError) -> bool:
        """A read on node ``engine`` failed with ``error``; whether to run it
        on the primary instead (after a warning)."""
        name = self._name(engine)
        if unreachable(error):
            self._mark(name, usable=False, lag=None)
            _warn(f"replica {name!r} is unreachable ({error}); reads go to the primary")
            return True
        if error.code in _RECOVERY_CONFLICT:
            _warn(f"a read on replica {name!r} was cancelled ({error}); it runs on the primary")
            return True
        return False

    # -- node state ---------------------------------------------------------

    async def lag(self, name: str) -> float | None:
        """Seconds of replay lag of node ``name`` (``None``: it replayed no
        transaction yet and has WAL to replay). Raises on a node that is down."""
        rows = await self.primary.get_node(name)._fetch_built(LAG_SQL)
        value = rows[0][0]
        return None if value is None else float(value)

    async def _usable(self, name: str) -> bool:
        health = self._health[name]
        now = time.monotonic()
        if health.checking or now - health.checked_at < self.policy.check_interval:
            return health.usable
        if self.policy.max_lag is None:
            # No bound to check: a node found down is tried again by the next
            # read (which falls back again if it is still down).
            health.usable, health.checked_at = True, now
            return True
        health.checking = True
        try:
            lag = await self.lag(name)
        except DatabaseError as error:
            if not unreachable(error):
                raise
            self._mark(name, usable=False, lag=None)
            _warn(f"replica {name!r} is unreachable ({error}); reads go to the primary")
            return False
        finally:
            health.checking = False
        usable = lag is not None and lag <= self.policy.max_lag
        self._mark(name, usable=usable, lag=lag)
        if not usable:
            shown = "an unknown time" if lag is None else f"{lag:.3f} s"
            _warn(
                f"replica {name!r} lags {shown} behind its primary (max_lag="
                f"{self.policy.max_lag} s); reads go to the primary"
            )
        return usable

    def _mark(self, name: str, *, usable: bool, lag: float | None) -> None:
        health = self._health[name]
        health.usable, health.lag, health.checked_at = usable, lag, time.monotonic()

    def _name(self, engine: PostgresEngine) -> str:
        for name, node in self.nodes.items():
            if node is engine:
                return name
        raise EngineError(
            f"{engine!r} is not an extra node of {self.primary!r}"
        )  # pragma: no cover


def _warn(message: str) -> None:
    # stacklevel 1: the warning is about the engine, not about one call site
    # (the default filter then shows it once per message).
    warnings.warn(message, ReplicaFallbackWarning, stacklevel=1)
