"""What a migration file holds, the connection its ``RunPython`` functions get,
and the error a migration raises."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Final, Protocol

from .._dialect import Dialect
from .._errors import EngineError
from ..schema.operations import Operation
from ..schema.operations import Sequence as _OperationSequence

__all__ = ["HISTORY_TABLE", "ID_PATTERN", "Migration", "MigrationDB", "MigrationError"]

#: The table that records which migrations a database has applied.
HISTORY_TABLE: Final = "piccolo_gen_migrations"

#: A migration id, which is also its file's name without ``.py``:
#: ``0001_initial``, ``0002_add_tags`` (four or more digits, a slug of
#: lowercase letters, digits and underscores).
ID_PATTERN: Final = re.compile(r"(?P<number>[0-9]{4,})_(?P<slug>[a-z0-9_]+)")


class MigrationError(EngineError):
    """A migration that cannot be loaded, ordered, applied or reverted.

    ``migration`` and ``operation`` name where it went wrong when it happened
    while running one; the database's own error, if any, is ``__cause__``.
    """

    def __init__(
        self, message: str, *, migration: str | None = None, operation: str | None = None
    ) -> None:
        super().__init__(message)
        #: The id of the migration that failed (when one did).
        self.migration = migration
        #: The operation of that migration that failed (its one-line description).
        self.operation = operation


@dataclass(frozen=True)
class Migration:
    """One migration file's content: ``migration = Migration(...)`` at module level.

    ``id`` is the file's name without ``.py``; ``parent`` the id of the
    migration before it (``None`` for the first). ``operations`` run in
    order, in one transaction, with the history row written in the same
    transaction; ``atomic=False`` runs them outside one, for statements a
    transaction refuses (PostgreSQL's ``CREATE INDEX CONCURRENTLY``), and
    such a file should hold only those. ``acknowledged`` lists the
    destructive lint findings the author has accepted
    (``"drop-column band.title"``); ``migrations lint`` fails on the others.
    A squashed migration lists the ids it ``replaces``: a database that
    applied all of them counts it as applied.
    """

    id: str
    parent: str | None
    operations: Sequence[Operation] = ()
    atomic: bool = True
    acknowledged: Sequence[str] = ()
    replaces: Sequence[str] = ()
    #: Where it was loaded from (set by the loader; not part of the file).
    path: str | None = field(default=None, compare=False)
    #: The sha256 of the file's bytes, hex (set by the loader).
    checksum: str | None = field(default=None, compare=False)

    def __post_init__(self) -> None:
        if not isinstance(self.id, str) or not ID_PATTERN.fullmatch(self.id):
            raise MigrationError(
                f"migration id {self.id!r} is not of the form NNNN_slug "
                "(four digits, an underscore, lowercase letters, digits and underscores)"
            )
        if self.parent is not None and not isinstance(self.parent, str):
            raise MigrationError(f"migration {self.id}: parent must be an id or None")
        if isinstance(self.operations, Operation) or not isinstance(self.operations, Sequence):
            raise MigrationError(f"migration {self.id}: operations must be a list of operations")
        for op in self.operations:
            if not isinstance(op, Operation):
                raise MigrationError(
                    f"migration {self.id}: {op!r} is not an operation "
                    "(CreateTable, AddColumn, RunSQL, ...)"
                )
        for name in ("acknowledged", "replaces"):
            value = getattr(self, name)
            if isinstance(value, str) or not all(isinstance(v, str) for v in value):
                raise MigrationError(
                    f"migration {self.id}: {name} must be a tuple of strings, e.g. ({value!r},)"
                )
        object.__setattr__(self, "operations", tuple(self.operations))
        object.__setattr__(self, "acknowledged", tuple(self.acknowledged))
        object.__setattr__(self, "replaces", tuple(self.replaces))

    @property
    def number(self) -> int:
        match = ID_PATTERN.fullmatch(self.id)
        assert match is not None
        return int(match.group("number"))

    def flat_operations(self) -> list[Operation]:
        """The operations with any nested sequence spread out."""
        return flatten(self.operations)


def flatten(operations: Sequence[Operation]) -> list[Operation]:
    out: list[Operation] = []
    for op in operations:
        out += op.flatten() if isinstance(op, _OperationSequence) else [op]
    return out


class _Connection(Protocol):
    @property
    def dialect(self) -> Dialect: ...

    async def fetch(self, sql: str, params: Sequence[object] = ()) -> list[Sequence[Any]]: ...


class MigrationDB:
    """What a ``RunPython`` function gets: the migration's connection.

    Its statements run inside the migration's transaction (so a failure
    later in the migration undoes them too). SQL is the dialect's own:
    ``dialect`` is ``"sqlite"`` or ``"postgres"``, and ``placeholder(n)``
    gives the marker of the ``n``-th parameter (``?`` or ``$n``). Rows are
    sequences, indexed by position::

        async def split_names(db: MigrationDB) -> None:
            p = db.placeholder
            for id_, name in await db.fetch("SELECT id, name FROM author"):
                first, _, last = name.partition(" ")
                await db.execute(
                    f"UPDATE author SET first_name = {p(1)}, last_name = {p(2)} WHERE id = {p(3)}",
                    [first, last, id_],
                )
    """

    def __init__(self, conn: _Connection) -> None:
        self._conn = conn
        #: ``"sqlite"`` or ``"postgres"``.
        self.dialect: str = conn.dialect.name

    def placeholder(self, index: int) -> str:
        """The bound-parameter marker of the ``index``-th parameter (1-based)."""
        return self._conn.dialect.placeholder(index)

    async def fetch(self, sql: str, params: Sequence[object] = ()) -> list[Sequence[Any]]:
        """Run a query and return its rows."""
        return await self._conn.fetch(sql, params)

    async def execute(self, sql: str, params: Sequence[object] = ()) -> None:
        """Run a statement, discarding any rows."""
        await self._conn.fetch(sql, params)
