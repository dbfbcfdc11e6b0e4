"""Foreign keys over several columns, to a table's composite primary key.

A ``CompositeForeignKey`` is declared in a table class body beside the
columns it is made of, which are plain columns of their own::

    entry: CompositeForeignKey[PlaylistTrack] = CompositeForeignKey(
        ("playlist_id", "track_id"), lambda: PlaylistTrack, on_delete="cascade"
    )

It has no value of its own (the row holds its columns' values): it is the
constraint ``FOREIGN KEY (playlist_id, track_id) REFERENCES playlist_track
(playlist, track)``, and ``row.get_related(PlayCount.entry)`` loads the row it
points at. Joins through it (``PlayCount.entry.note``) are not offered: a
condition on the target is written with the columns of both tables.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Generic, Literal, TypeVar

from ._columns import Column

if TYPE_CHECKING:
    from ._table import Table

__all__ = ["CompositeForeignKey"]

#: The related row as ``get_related`` gives it (``None`` included when a column is nullable).
R_co = TypeVar("R_co", covariant=True)

Action = Literal["cascade", "restrict", "set_null", "set_default", "no_action"]


class CompositeForeignKey(Generic[R_co]):
    """A foreign key over the columns ``columns`` (attribute names, in the order
    of the target's primary key) to the composite primary key of ``target``;
    ``name``: the constraint's name in the database (default: the table's name,
    the attribute's and ``fkey``, as in ``play_count_entry_fkey``)."""

    def __init__(
        self,
        columns: tuple[str, ...],
        target: Callable[[], type[Table[Any]]],
        *,
        on_delete: Action = "cascade",
        on_update: Action = "cascade",
        name: str | None = None,
    ) -> None:
        self._names = tuple(columns)
        #: The constraint's name in the database; default ``table_attribute_fkey``.
        self.db_name = name
        self._target = target
        self.on_delete: Action = on_delete
        self.on_update: Action = on_update
        self.name = ""
        self._owner: type[Table[Any]] | None = None

    def __set_name__(self, owner: type[Any], name: str) -> None:
        self.name = name
        self._owner = owner

    def __repr__(self) -> str:
        owner = self._owner.__name__ if self._owner is not None else "?"
        return f"<CompositeForeignKey {owner}.{self.name}>"

    @property
    def owner(self) -> type[Table[Any]]:
        """The table whose columns hold the key."""
        if self._owner is None:
            raise TypeError("a CompositeForeignKey must be declared in a Table class body")
        return self._owner

    def target(self) -> type[Table[Any]]:
        """The table pointed at."""
        return self._target()

    def columns(self) -> tuple[Column[Any], ...]:
        """The owner's columns that hold the key, in the target key's order."""
        column_map = self.owner._meta.column_map
        return tuple(column_map[name] for name in self._names)

    def target_columns(self) -> tuple[Column[Any], ...]:
        """The target's primary key columns, which ``columns()`` point at one by one."""
        key = self.target()._meta.key
        if len(key) != len(self._names):
            raise TypeError(
                f"{self!r} has {len(self._names)} columns; the primary key of"
                f" {self.target().__name__} has {len(key)}"
            )
        return key
