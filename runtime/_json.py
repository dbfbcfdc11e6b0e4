"""Reading inside JSON columns: ``Doc.data.arrow("key")``, ``Doc.data.from_path([...])``.

A path is a derived column (see ``Column._derive``): it can be selected,
compared in ``where()`` and ordered by. Its value is JSON text, or ``None``
when the path does not exist, on both engines:

- PostgreSQL: ``(data -> $1)::jsonb`` / ``(data #> $1)::jsonb``. The cast to
  ``jsonb`` gives ``json`` columns an equality operator (``json`` has none) and
  one text form of the result, whatever the column's type.
- SQLite: ``piccolo_json_path(data, mode, key, ...)``, a function the engine
  registers on each of its connections (:func:`sqlite_json_path`). SQLite's
  own ``->`` cannot serve: its path syntax has no escape for ``"`` in a key,
  and it compares a path's key with the key's *spelling* in the stored text
  (``{"caf\\u00e9": 1}`` has no key ``café`` for it) and cuts strings at an
  escaped NUL. The function parses the document with Python's ``json`` and
  returns the value's :func:`canonical_json` text; compared values are
  rewritten the same way, so equality is jsonb's: key order, whitespace,
  escapes and the spelling of numbers (``1.50``, ``1.5``) do not matter, and
  of duplicate keys the last counts.

Both engines follow PostgreSQL's rules: ``arrow(str)`` reads an object's key,
``arrow(int)`` an array's element (negative counts from the end);
``from_path`` items are text for PostgreSQL's ``#>``, so a key of an object
or, when it reads as an integer, an index of an array.
"""

from __future__ import annotations

import decimal
import json
import re
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, Final

from ._columns import JSON
from ._dialect import Dialect

if TYPE_CHECKING:
    from ._sql import Compiler

__all__ = ["JSONPath", "json_path", "canonical_json", "sqlite_json_path", "JSON_PATH_FUNCTION"]

#: The name of the per-connection SQLite function running :func:`sqlite_json_path`.
JSON_PATH_FUNCTION: Final = "piccolo_json_path"


def _jsonb_key_order(key: str) -> tuple[int, bytes]:
    # jsonb keeps an object's keys shorter first, then by their bytes.
    encoded = key.encode("utf-8", "surrogatepass")
    return len(encoded), encoded


def _number(value: int | decimal.Decimal) -> str:
    if isinstance(value, int):
        return str(value)
    if value == value.to_integral_value():
        return str(int(value))  # 1.0, 1e2, -0 -> 1, 100, 0
    return format(value.normalize(), "f")


def _canonical(value: Any) -> str:
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, dict):
        items = sorted(value.items(), key=lambda item: _jsonb_key_order(item[0]))
        return "{" + ",".join(f"{_canonical(k)}:{_canonical(v)}" for k, v in items) + "}"
    if isinstance(value, list):
        return "[" + ",".join(_canonical(v) for v in value) + "]"
    if value is True:
        return "true"
    if value is False:
        return "false"
    if value is None:
        return "null"
    return _number(value)


# Decimal, not float: 0.1 and 1e400 keep their value, as in jsonb's numeric.
# One decoder: ``json.loads`` with options would build a new one per call.
_parse: Final = json.JSONDecoder(parse_float=decimal.Decimal).decode


def canonical_json(text: str) -> str:
    """One text per JSON value: minified, keys in jsonb's order, numbers normalised.

    Two JSON texts are equal as ``jsonb`` values exactly when their canonical
    texts are equal (``'{"b": 1.50, "a": 1}'`` and ``'{"a":1,"b":1.5}'`` are).
    """
    return _canonical(_parse(text))


# PostgreSQL reads a ``#>`` path item as an array index with strtol():
# leading white space and a sign allowed, nothing after the digits.
_INDEX: Final = re.compile(r"[ \t\n\v\f\r]*[+-]?[0-9]+")
_INT32: Final = 2**31


#: What :func:`_step` gives for a path that does not exist (``None`` is JSON null).
_ABSENT: Final = object()


def _step(value: Any, key: str | int, *, text_path: bool) -> Any:
    if isinstance(value, dict):
        if isinstance(key, str):
            return value.get(key, _ABSENT)
        return value.get(str(key), _ABSENT) if text_path else _ABSENT
    if isinstance(value, list):
        if isinstance(key, str):
            if not text_path or not _INDEX.fullmatch(key):
                return _ABSENT
            key = int(key)
            if not -_INT32 <= key < _INT32:
                return _ABSENT
        if key < 0:
            key += len(value)
        return value[key] if 0 <= key < len(value) else _ABSENT
    return _ABSENT  # a scalar (JSON null included) has no keys


def sqlite_json_path(document: object, text_path: int, *keys: str | int) -> str | None:
    """The canonical JSON text at ``keys`` inside ``document``, or ``None`` (SQL NULL).

    ``text_path`` is 1 for ``from_path`` (PostgreSQL's ``#>``), 0 for
    ``arrow`` (``->``). A JSON ``null`` found there is the text ``null``, as
    on PostgreSQL; a missing key is ``None``.
    """
    if not isinstance(document, str):
        # NULL, or a scalar document: a ``JSON`` column has NUMERIC affinity
        # on SQLite, which stores the text ``3`` as the integer 3. Neither
        # has keys, and every path has at least one.
        return None
    value: Any = _parse(document)
    for key in keys:
        value = _step(value, key, text_path=bool(text_path))
        if value is _ABSENT:
            return None
    return _canonical(value)


class JSONPath(JSON[Any]):
    """A value inside a JSON column, reached by a path of keys and indexes."""

    _path: tuple[str | int, ...] = ()

    def _to_db(self, value: Any, dialect: Dialect) -> object:
        if not dialect.json_operators and isinstance(value, str):
            # Compared with the path's canonical text (see the module's docstring).
            return canonical_json(value)
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
        if isinstance(item, int) and not -_INT32 <= item < _INT32:
            # PostgreSQL's ``-> integer`` takes a 32-bit index.
            raise ValueError(f"a JSON array index must fit 32 bits; got {item}")
        if isinstance(item, str) and "\x00" in item:
            # PostgreSQL's text cannot hold NUL, nor jsonb a key with one.
            raise ValueError(f"a JSON path key cannot contain NUL; got {item!r}")
    return items


def json_path(column: JSON[Any], path: Sequence[str | int], *, arrow: bool) -> JSONPath:
    """The derived column for ``path`` inside ``column``."""
    items = _checked_path(path)

    inner = column._expr

    def expr(c: Compiler, ref: str) -> str:
        if inner is not None:  # a path on a path: ``data.arrow("a").arrow("b")``
            ref = inner(c, ref)
        if not c.dialect.json_operators:
            keys = "".join(f", {c.param(item)}" for item in items)
            return f"{JSON_PATH_FUNCTION}({ref}, {0 if arrow else 1}{keys})"
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
