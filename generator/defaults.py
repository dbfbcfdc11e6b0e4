"""Check a column's ``default`` against its type.

A default is written in YAML or TOML, so it arrives as JSON-like data; each
column type accepts the literals (and named dynamic defaults such as ``now``)
that the renderer can turn into a Python value of the column's type.
"""

from __future__ import annotations

import datetime
import decimal
import math
import re
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from generator.errors import show, suggest
from generator.kinds import KINDS
from generator.model import ColumnSpec
from generator.positions import NodePath
from runtime import DoublePrecision, Real

__all__ = ["DYNAMIC_DEFAULTS", "INTEGER_RANGES", "TEXT_TYPES", "DefaultContext", "default_problem"]

#: Column types whose Python value is ``str``.
TEXT_TYPES = frozenset({"varchar", "char", "text", "secret", "email"})
#: Smallest and largest value of each integer type (PostgreSQL's limits).
INTEGER_RANGES: Mapping[str, tuple[int, int]] = {
    kind.name: kind.value_range for kind in KINDS.values() if kind.value_range is not None
}
#: Named defaults computed when a row is created, by column type.
DYNAMIC_DEFAULTS: Mapping[str, str] = {
    kind.name: kind.dynamic_default[0]
    for kind in KINDS.values()
    if kind.dynamic_default is not None
}

_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_TIME = re.compile(r"\d{2}:\d{2}(:\d{2}(\.\d{1,6})?)?")


@dataclass(frozen=True)
class DefaultContext:
    """What a default's validity depends on besides the column itself.

    ``enum`` is the enum named by the column's ``choices`` (name, members);
    ``key`` the table a foreign key points to and the column it points at
    (``None`` for the implicit ``id: serial``), ``key_column`` that column's
    name when it is not the primary key.
    """

    enum: tuple[str, Mapping[str, str | int]] | None = None
    key: tuple[str, ColumnSpec | None] | None = None
    key_column: str | None = None


def default_problem(
    value: object, column: ColumnSpec, context: DefaultContext = DefaultContext()
) -> tuple[NodePath, str] | None:
    """Why ``value`` cannot be ``column``'s default, with the path below ``default``.

    ``None`` when the default is fine. ``value`` is not ``None`` (whether
    ``null`` is allowed depends on ``null: true``, checked by the caller).
    The path is ``()`` for the default itself, ``(2,)`` for an array item.
    """
    if context.enum is not None:
        return _member_problem(value, *context.enum)
    if column.type == "foreign_key":
        target, key = context.key or ("", None)
        key = key or ColumnSpec(type="serial")
        # The foreign key holds the target's primary-key value; a serial
        # key is a plain integer once stored.
        as_stored = {"serial": "integer", "bigserial": "bigint"}
        key_column = key.model_copy(update={"type": as_stored.get(key.type, key.type)})
        if not target:
            label = "foreign_key"
        elif context.key_column is not None:
            article = "an" if key.type[0] in "aeiou" else "a"
            label = f"a foreign key to {target}.{context.key_column} ({article} {key.type} column)"
        else:
            label = f"a foreign key to {target!r} (a {key.type} primary key)"
        problem = _literal_problem(value, key_column, dynamic=False, label=label)
    elif column.type == "array" and column.of is not None:
        if not isinstance(value, list):
            return (), f"default {show(value)} is not valid for array; expected a list"
        for index, item in enumerate(value):
            # Items are literals: a dynamic default ("now") is for a whole column.
            found = _literal_problem(item, column.of, dynamic=False)
            if found is not None:
                return (index,), found.replace("default ", "default item ", 1)
        return None
    else:
        problem = _literal_problem(value, column, dynamic=True)
    return None if problem is None else ((), problem)


def _member_problem(
    value: object, enum_name: str, members: Mapping[str, str | int]
) -> tuple[NodePath, str] | None:
    if isinstance(value, str) and value in members:
        return None
    message = f"default {show(value)} is not a member of enum {enum_name!r}"
    by_value = [
        name
        for name, member_value in members.items()
        if member_value == value and not isinstance(value, bool)
    ]
    if by_value:
        return (), f"{message}; write the member name {by_value[0]!r} (its value is {show(value)})"
    hint = suggest(str(value), members)
    return (), f"{message} - {hint}" if hint else f"{message}; members: {', '.join(members)}"


def _literal_problem(
    value: object, column: ColumnSpec, *, dynamic: bool, label: str = ""
) -> str | None:
    type_name = column.type
    if type_name == "bytea":
        return "bytea columns cannot have a default"
    check, expected = _CHECKS.get(type_name, (None, ""))
    if check is None:
        return None
    named = DYNAMIC_DEFAULTS.get(type_name) if dynamic else None
    if named is not None and value == named:
        return None
    problem = check(value, column)
    if problem is None:
        return None
    if problem:
        return f"default {show(value)} {problem}"
    if named is not None:
        expected += f", or {named!r}"
    return f"default {show(value)} is not valid for {label or type_name}; expected {expected}"


# Each check returns None when the value fits, "" when it is of the wrong
# kind (the caller says what was expected) or a specific reason.
_Check = Callable[[object, ColumnSpec], str | None]


def _text(value: object, column: ColumnSpec) -> str | None:
    if not isinstance(value, str):
        return ""
    limit = column.length if column.length is not None else 1 if column.type == "char" else None
    if column.type in ("varchar", "char") and limit is not None and len(value) > limit:
        return f"is longer than the column's length ({limit})"
    if "\x00" in value:
        # PostgreSQL's text cannot hold NUL, and SQLite's SQL parser ends a
        # statement at one, so no DEFAULT clause can carry it.
        return "contains NUL ('\\x00'), which a text column's SQL default cannot hold"
    return None


def _integer(value: object, column: ColumnSpec) -> str | None:
    if not isinstance(value, int) or isinstance(value, bool):
        return ""
    low, high = INTEGER_RANGES[column.type]
    if not low <= value <= high:
        return f"is out of range for {column.type} ({low} to {high})"
    return None


def _number(value: object, _column: ColumnSpec) -> str | None:
    return None if isinstance(value, int | float) and not isinstance(value, bool) else ""


def _float(value: object, column: ColumnSpec) -> str | None:
    """A number for real (single precision) and double_precision columns,
    checked by the runtime's column class (its limits live there)."""
    if _number(value, column) is not None:
        return ""
    assert isinstance(value, int | float)
    try:
        number = float(value)
    except OverflowError:
        return "is too large for a float"
    if not math.isfinite(number):
        # No SQL literal holds it (and ``inf`` is no Python literal either).
        return "is not a finite number, which a SQL default cannot hold"
    try:
        _FLOAT_COLUMNS[column.type]._normalise(number)
    except ValueError:
        return "is out of range for real (single precision); use double_precision"
    return None


#: The runtime's checks of a float value, per column type.
_FLOAT_COLUMNS: Mapping[str, Real[Any]] = {"real": Real(), "double_precision": DoublePrecision()}


def _numeric(value: object, column: ColumnSpec) -> str | None:
    if isinstance(value, str):
        try:
            return None if decimal.Decimal(value).is_finite() else ""
        except decimal.InvalidOperation:
            return ""
    return _number(value, column)


def _boolean(value: object, _column: ColumnSpec) -> str | None:
    return None if isinstance(value, bool) else ""


def _parses(pattern: re.Pattern[str] | None, parse: Callable[[str], object]) -> _Check:
    def check(value: object, _column: ColumnSpec) -> str | None:
        if not isinstance(value, str) or (pattern is not None and not pattern.fullmatch(value)):
            return ""
        try:
            parse(value)
        except ValueError:
            return ""
        return None

    return check


def _timestamp(value: object, column: ColumnSpec) -> str | None:
    if not isinstance(value, str):
        return ""
    try:
        parsed = datetime.datetime.fromisoformat(value)
    except ValueError:
        return ""
    if column.type == "timestamp" and parsed.tzinfo is not None:
        return "has a time zone, which a timestamp column does not store; use timestamptz or drop the offset"
    if column.type == "timestamptz" and parsed.tzinfo is None:
        return "has no time zone, which a timestamptz column needs; add an offset such as +00:00"
    return None


_CHECKS: Mapping[str, tuple[_Check | None, str]] = {
    **{name: (_text, "a string") for name in TEXT_TYPES},
    **{name: (_integer, "an int") for name in ("integer", "bigint", "smallint")},
    "real": (_float, "a number"),
    "double_precision": (_float, "a number"),
    "numeric": (_numeric, "a number or a decimal string such as '9.99'"),
    "boolean": (_boolean, "true or false"),
    "date": (_parses(_DATE, datetime.date.fromisoformat), "a date 'YYYY-MM-DD'"),
    "time": (_parses(_TIME, datetime.time.fromisoformat), "a time 'HH:MM' or 'HH:MM:SS'"),
    "timestamp": (_timestamp, "an ISO 8601 datetime such as '2024-01-31T12:00:00'"),
    "timestamptz": (_timestamp, "an ISO 8601 datetime such as '2024-01-31T12:00:00+00:00'"),
    "interval": (_number, "a number of seconds"),
    "uuid": (_parses(None, uuid.UUID), "a UUID string"),
    "json": (None, "any value"),
    "jsonb": (None, "any value"),
}
