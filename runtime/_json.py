"""Reading inside JSON columns: ``Doc.data.arrow("key")``, ``Doc.data.from_path([...])``.

A path is a derived column (see ``Column._derive``): it can be selected,
compared in ``where()`` and ordered by. Its value is JSON text, or ``None``
when the path does not exist, on both engines:

- PostgreSQL: ``(data -> $1)::jsonb`` / ``(data #> $1)::jsonb``. The cast to
  ``jsonb`` gives ``json`` columns an equality operator (``json`` has none) and
  one text form of the result, whatever the column's type.
- SQLite (3.38+): ``data -> ?`` with a JSON path (``$."a"[0]."b"``), whose
  result is minified JSON text; compared values are minified the same way.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from ._columns import JSON
from ._dialect import Dialect

if TYPE_CHECKING:
    from ._sql import Compiler

__all__ = ["JSONPath", "json_path"]


class JSONPath(JSON[Any]):
    """A value inside a JSON column, reached by a path of keys and indexes."""

    _path: tuple[str | int, ...] = ()

    def _to_db(self, value: Any, dialect: Dialect) -> object:
        if dialect.name == "sqlite" and isinstance(value, str):
            # SQLite compares the text of ``->``'s result, which is minified.
            return json.dumps(json.loads(value), separators=(",", ":"), ensure_ascii=False)
        return value

    def __repr__(self) -> str:
        return f"<JSONPath {self._label()} {list(self._path)!r}>"


def _checked_path(path: Sequence[str | int]) -> tuple[str | int, ...]:
    if isinstance(path, str):
        raise TypeError("from_path() takes a list of keys and indexes, e.g. ['a', 0, 'b']")
    items = tuple(path)
    if not items:
        raise ValueError("a JSON path needs at least one key or index")
    for item in items:
        if isinstance(item, bool) or not isinstance(item, (str, int)):
            raise TypeError(f"a JSON path holds str keys and int indexes; got {item!r}")
        if isinstance(item, str) and '"' in item:
            # SQLite's path syntax has no escape for a quote inside a key.
            raise ValueError(f"a JSON path key cannot contain '\"'; got {item!r}")
    return items


def _sqlite_path(path: tuple[str | int, ...]) -> str:
    return "$" + "".join(f"[{p}]" if isinstance(p, int) else f'."{p}"' for p in path)


def json_path(column: JSON[Any], path: Sequence[str | int], *, arrow: bool) -> JSONPath:
    """The derived column for ``path`` inside ``column``."""
    items = _checked_path(path)

    inner = column._expr

    def expr(c: Compiler, ref: str) -> str:
        if inner is not None:  # a path on a path: ``data.arrow("a").arrow("b")``
            ref = inner(c, ref)
        if c.dialect.name == "sqlite":
            return f"{ref} -> {c.param(_sqlite_path(items))}"
        if arrow:
            key = items[0]
            cast = "integer" if isinstance(key, int) else "text"
            return f"({ref} -> {c.param(key)}::{cast})::jsonb"
        return f"({ref} #> {c.param([str(p) for p in items])})::jsonb"

    derived = column._derive(JSONPath, expr)
    derived._path = items
    # A missing key reads as NULL, whatever the column's own nullability.
    derived._meta.null = True
    derived._meta.default = None
    return derived
