"""``Array``: a list of one element type.

PostgreSQL stores a native array (``INTEGER[]``); SQLite, which has none,
stores the list as JSON text, each element in the representation the element
column gives it on SQLite (dates as ISO text, decimals as strings, ...). The
operators compile to ``ANY``/``ALL`` and the array functions on PostgreSQL,
and on SQLite to ``json_each`` subqueries and :func:`sqlite_array_cat` (a
function the engine registers on its connections), with the same results.

SQLite's JSON functions decode a string element up to an escaped NUL
(``"a\\u0000b"`` reads as ``a``). So in a text array holding an escaped NUL
each element's JSON text (``->``, which gives it as stored) is compared with
the JSON text of the value, and concatenation is done in Python.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Final, TypeVar, overload

from ._columns import Column, _TextColumn
from ._dialect import Dialect
from ._sql import Condition, json_list

if TYPE_CHECKING:
    from ._sql import Compiler

__all__ = ["Array", "ARRAY_CAT_FUNCTION", "sqlite_array_cat"]

#: The name of the per-connection SQLite function running :func:`sqlite_array_cat`.
ARRAY_CAT_FUNCTION: Final = "piccolo_array_cat"


def sqlite_array_cat(left: str | None, right: str | None) -> str:
    """The JSON array of ``left``'s elements followed by ``right``'s.

    A NULL side counts as empty, as with PostgreSQL's ``array_cat``.
    """
    items: list[Any] = json.loads(left) if left is not None else []
    if right is not None:
        items.extend(json.loads(right))
    return json_list(items)


T = TypeVar("T")
E = TypeVar("E")


class Array(Column[T]):
    """``base_column[]``: ``Array[list[int]]`` is ``Array(Integer())``.

    The element column gives the element type, its checks and its storage;
    elements are never ``None``.
    """

    _py_types = (list,)

    def __init__(self, base_column: Column[Any], **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.base_column = base_column

    def __set_name__(self, owner: type[Any], name: str) -> None:
        super().__set_name__(owner, name)
        self.base_column._meta.name = f"{name}[]"

    # -- values -------------------------------------------------------------------

    def _normalise(self, value: Any) -> Any:
        check = self.base_column._check
        return [check(item) for item in value]

    def _to_db(self, value: Any, dialect: Dialect) -> object:
        if value is None:
            return None
        to_db = self.base_column._to_db
        items = [to_db(item, dialect) for item in value]
        if not dialect.native_arrays:
            try:
                return json_list(items)
            except TypeError:
                raise TypeError(
                    f"{self._label()}: an array is JSON text on SQLite, which cannot hold "
                    f"{type(self.base_column).__name__} elements"
                ) from None
            except ValueError:
                # Python would write Infinity, which is not JSON: SQLite's
                # JSON functions would then fail on every read of the row.
                raise ValueError(
                    f"{self._label()}: an array is JSON text on SQLite, which cannot hold "
                    "an infinite float"
                ) from None
        return items

    def _from_db(self, dialect: Dialect) -> Callable[[Any], Any] | None:
        item = self.base_column._from_db(dialect)
        if not dialect.native_arrays:
            if item is None:
                return _decode_json
            decode = item

            def decode_json(value: Any) -> Any:
                return None if value is None else [decode(v) for v in json.loads(value)]

            return decode_json
        if item is None:
            return None
        decode_item = item

        def decode_list(value: Any) -> Any:
            return None if value is None else [decode_item(v) for v in value]

        return decode_list

    def _zero(self) -> object:
        return []

    # -- DDL --------------------------------------------------------------------------

    def _ddl_type(self, dialect: Dialect) -> str:
        if not dialect.native_arrays:
            return "TEXT"
        return f"{self.base_column._ddl_type(dialect)}[]"

    def _default_sql(self, value: object, dialect: Dialect) -> str | None:
        if not isinstance(value, list):
            return super()._default_sql(value, dialect)
        items: list[Any] = self._check(value)
        if not dialect.native_arrays:
            return "'" + str(self._to_db(items, dialect)).replace("'", "''") + "'"
        if not items:
            return "'{}'"
        base = self.base_column
        literals = ", ".join(base._literal_sql(item, dialect) for item in items)
        return f"ARRAY[{literals}]::{self._ddl_type(dialect)}"

    # -- conditions -----------------------------------------------------------------

    @overload
    def any(self: Array[list[E]], value: E) -> Condition: ...
    @overload
    def any(self: Array[list[E] | None], value: E) -> Condition: ...
    def any(self, value: Any) -> Condition:
        """The array holds ``value``: ``value = ANY(column)``."""
        return _ArrayCondition(self, "any", value)

    @overload
    def all(self: Array[list[E]], value: E) -> Condition: ...
    @overload
    def all(self: Array[list[E] | None], value: E) -> Condition: ...
    def all(self, value: Any) -> Condition:
        """Every element equals ``value`` (true for an empty array): ``value = ALL(column)``."""
        return _ArrayCondition(self, "all", value)

    @overload
    def not_any(self: Array[list[E]], value: E) -> Condition: ...
    @overload
    def not_any(self: Array[list[E] | None], value: E) -> Condition: ...
    def not_any(self, value: Any) -> Condition:
        """The array does not hold ``value`` (a null array matches neither this nor ``any``)."""
        return _ArrayCondition(self, "not_any", value)

    # -- update values ----------------------------------------------------------------

    @overload
    def cat(self: Array[list[E]], values: list[E]) -> Array[list[E]]: ...
    @overload
    def cat(self: Array[list[E] | None], values: list[E]) -> Array[list[E] | None]: ...
    def cat(self, values: list[Any]) -> Array[Any]:
        """The array followed by ``values``, for ``update()``: ``array_cat(column, values)``.

        A null array counts as empty.
        """
        return self._combined(self._check_items(values), "cat")

    @overload
    def append(self: Array[list[E]], value: E) -> Array[list[E]]: ...
    @overload
    def append(self: Array[list[E] | None], value: E) -> Array[list[E] | None]: ...
    def append(self, value: Any) -> Array[Any]:
        """The array with ``value`` added at the end, for ``update()``."""
        return self._combined(self._check_items([value]), "append")

    @overload
    def prepend(self: Array[list[E]], value: E) -> Array[list[E]]: ...
    @overload
    def prepend(self: Array[list[E] | None], value: E) -> Array[list[E] | None]: ...
    def prepend(self, value: Any) -> Array[Any]:
        """The array with ``value`` added at the start, for ``update()``."""
        return self._combined(self._check_items([value]), "prepend")

    def _check_items(self, values: Any) -> list[Any]:
        if not isinstance(values, list):
            raise TypeError(f"{self._label()} expects a list; got {type(values).__name__}")
        check = self.base_column._check
        return [check(item) for item in values]

    def _combined(self, items: list[Any], how: str) -> Array[Any]:
        column = self
        inner = self._expr

        def expr(c: Compiler, ref: str) -> str:
            if inner is not None:  # a chain: ``tags.append(1).append(2)``
                ref = inner(c, ref)
            if not c.dialect.native_arrays:
                value = c.param(column._to_db(items, c.dialect))
                if how == "prepend":
                    return f"{ARRAY_CAT_FUNCTION}({value}, {ref})"
                return f"{ARRAY_CAT_FUNCTION}({ref}, {value})"
            base = column.base_column
            if how == "cat":
                return f"array_cat({ref}, {c.param(column._to_db(items, c.dialect))})"
            item = c.param(base._to_db(items[0], c.dialect))
            if how == "append":
                return f"array_append({ref}, {item})"
            return f"array_prepend({item}, {ref})"

        return self._derive(Array, expr)


def _decode_json(value: Any) -> Any:
    return None if value is None else json.loads(value)


class _ArrayCondition(Condition):
    """``value = ANY(column)``, ``value = ALL(column)`` or ``NOT (value = ANY(column))``."""

    __slots__ = ("column", "op", "value")

    def __init__(self, column: Array[Any], op: str, value: object) -> None:
        self.column = column
        self.op = op
        # Checked now: a wrong element raises before the database is asked.
        self.value = column.base_column._check(value)

    def compile(self, c: Compiler) -> str:
        ref = c.column(self.column)
        db_value = self.column.base_column._to_db(self.value, c.dialect)
        if c.dialect.native_arrays:
            value = c.param(db_value)
            if self.op == "any":
                return f"{value} = ANY({ref})"
            if self.op == "all":
                return f"{value} = ALL({ref})"
            return f"NOT ({value} = ANY({ref}))"
        # SQLite: the JSON text's elements as rows; a NULL array matches nothing,
        # as with PostgreSQL's ANY/ALL, whose result is then NULL.
        elements = f'json_each({ref}) AS "_e"'
        # any: an element equals the value; all: none differs; not_any: none equals.
        negate = self.op == "all"
        if isinstance(self.column.base_column, _TextColumn):
            # Text may hold NUL, which "value" would cut (see the module's
            # docstring). Only an array whose JSON text holds an escaped NUL
            # takes the slow way, comparing JSON texts (both written by
            # ``json.dumps``, so a string has one spelling); decoded values
            # are exact otherwise. The test is made once per row.
            as_json = c.param(json.dumps(db_value, ensure_ascii=False))
            plain = c.param(db_value)
            slow = f'({ref} -> "_e"."fullkey") = {as_json}'
            fast = f'"_e"."value" = {plain}'
            if negate:
                slow, fast = f"NOT ({slow})", f"NOT ({fast})"
            found = (
                f"CASE WHEN instr({ref}, '\\u0000') > 0"
                f" THEN EXISTS (SELECT 1 FROM {elements} WHERE {slow})"
                f" ELSE EXISTS (SELECT 1 FROM {elements} WHERE {fast}) END"
            )
        else:
            value = c.param(db_value)
            test = f'"_e"."value" {"IS NOT" if negate else "="} {value}'
            found = f"EXISTS (SELECT 1 FROM {elements} WHERE {test})"
        if self.op == "any":
            return found
        return f"({ref} IS NOT NULL AND NOT {found})"
