"""SQL dialects: every difference between SQLite and PostgreSQL lives here."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

__all__ = ["Dialect", "POSTGRES", "SQLITE"]


@dataclass(frozen=True, slots=True)
class Dialect:
    """What a query compiler needs to know about one database."""

    name: str
    #: ``$n`` placeholders (asyncpg) when true, ``?`` (sqlite3) when false.
    numbered_params: bool

    def placeholder(self, index: int) -> str:
        """The bound-parameter marker for the ``index``-th parameter (1-based)."""
        return f"${index}" if self.numbered_params else "?"

    @staticmethod
    def quote(identifier: str) -> str:
        """Quote an identifier; identifiers come only from a validated schema."""
        return '"' + identifier.replace('"', '""') + '"'


POSTGRES: Final = Dialect(name="postgres", numbered_params=True)
SQLITE: Final = Dialect(name="sqlite", numbered_params=False)
