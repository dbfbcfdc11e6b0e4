"""What both readers share: the note type, the fetch signature, the history table."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Final

__all__ = ["HISTORY_TABLE", "Fetch", "Note"]

#: The table in which the migrations runner records what it applied.
HISTORY_TABLE: Final = "piccolo_gen_migrations"

#: ``engine._fetch_built``: a statement and its parameters -> the rows.
Fetch = Callable[[str, Sequence[object]], Awaitable[list[Sequence[Any]]]]


@dataclass(frozen=True, slots=True)
class Note:
    """Something of table ``table`` that the model cannot hold and the read left out.

    ``index``: the index the note is about, left out of the read or kept in
    a form the model holds (a partial index read as a plain one), for those
    that must tell such an index from one the model holds whole (a SQLite
    rebuild by ``alter()`` recreates it from its own SQL). Not compared: the
    text says it all.
    """

    table: str
    what: str
    index: str | None = field(default=None, compare=False)

    def __str__(self) -> str:
        return f"{self.table}: {self.what}"


def skipped(name: str, wanted: frozenset[str] | None) -> bool:
    """Whether table ``name`` stays out of a read of the tables ``wanted`` (None: all)."""
    if wanted is not None:
        return name not in wanted
    return name == HISTORY_TABLE
