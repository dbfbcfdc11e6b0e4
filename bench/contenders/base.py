"""What a contender offers the benchmark, and the workloads' shared parameters."""

from __future__ import annotations

from dataclasses import dataclass

from bench.database import Databases
from bench.harness import Work

#: Workloads per database phase. W5/W5f need no database; they run in the
#: PostgreSQL phase (SQL compiled for PostgreSQL).
PG_WORKLOADS = ("W1", "W2", "W3", "W4", "W5", "W5f", "W6", "B1")
SQLITE_WORKLOADS = ("W1", "W2")

#: The W5 query: a join, a two-term where, order_by and limit.
W5_POPULARITY = 10
W5_MANAGER = "manager-1"
W5_LIMIT = 20


@dataclass(frozen=True)
class Params:
    rows: int
    w3_queries: int
    w4_rows: int
    w5_iterations: int
    m1_rows: int
    #: Rows B1 loads in one call (100,000).
    b1_rows: int = 100_000

    @property
    def w5_peer_iterations(self) -> int:
        """The peers build queries 30-100x slower: a tenth of the loop gives the
        same per-query precision in a tenth of the time."""
        return max(100, self.w5_iterations // 10)

    def w3_ids(self) -> list[int]:
        """Primary keys spread over the table, the same for everyone."""
        step = max(1, self.rows // self.w3_queries)
        return [(i * step) % self.rows + 1 for i in range(self.w3_queries)]


class BandSlots:
    """The limit's object: a plain ``__slots__`` class."""

    __slots__ = ("id", "name", "manager", "popularity")

    def __init__(self, id: int, name: str, manager: int | None, popularity: int) -> None:
        self.id = id
        self.name = name
        self.manager = manager
        self.popularity = popularity


class Contender:
    """One library (or one way of using it) under test."""

    #: The label in the report.
    name = "?"
    #: "limit" (the raw drivers), "ours" or "peer".
    kind = "peer"
    #: Per workload, a note shown in the report (what exactly is measured).
    notes: dict[str, str] = {}

    async def start(self, db: Databases, engine: str, params: Params) -> None:
        """Connect to ``engine`` ("pg" or "sqlite")."""

    async def stop(self, engine: str) -> None:
        """Disconnect from ``engine``."""

    def workloads(self, engine: str, params: Params) -> dict[str, Work]:
        """The workloads this contender runs on ``engine``, by key."""
        return {}
