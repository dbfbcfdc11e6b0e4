"""The column kinds of the schema language: what the generator knows of each.

One ``ColumnKind`` per column type, in the order of the language reference
(``model.ColumnTypeName``, which pydantic and the JSON Schema need as a
literal type; ``tests/test_pipeline.py`` holds the two to the same names).
The stages read a kind's facts here rather than keeping tables of their own:
``model`` (the option a type cannot do without, for the JSON Schema),
``column_checks`` (required options, primary-key types), ``defaults`` (the
named dynamic default, integer ranges) and ``resolve`` (runtime class, Python value type,
the runtime class of the dynamic default, keys that fill themselves).
docs/generator.md lists what is still kept elsewhere.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import runtime

__all__ = ["KINDS", "ColumnKind"]


@dataclass(frozen=True)
class ColumnKind:
    """What the generator knows of one column type."""

    name: str
    #: The runtime's column class and the Python type of a value, for the
    #: types declared by a class of their own (``None`` for ``array``,
    #: ``foreign_key`` and ``m2m``, which the resolver builds from their target).
    runtime_class: str | None = None
    python_type: str | None = None
    #: The option the type cannot do without, and the message when it is missing.
    required_option: tuple[str, str] | None = None
    #: Whether a primary key may be of this type.
    primary_key: bool = False
    #: The default named by a word (``default: now``) and the runtime class
    #: computing it.
    dynamic_default: tuple[str, str] | None = None

    @property
    def _runtime_class(self) -> Any:
        return getattr(runtime, self.runtime_class) if self.runtime_class else None

    @property
    def fills_key(self) -> bool:
        """Whether a primary key of this type gives each row a distinct value
        without being told (numbered by the database, or a fresh uuid4): the
        runtime class says (``Column._fills_key``)."""
        cls = self._runtime_class
        return cls is not None and bool(cls._fills_key)

    @property
    def value_range(self) -> tuple[int, int] | None:
        """Smallest and largest value of an integer type: the runtime class's
        (PostgreSQL's limits), from 1 for a serial, which numbers from 1."""
        cls = self._runtime_class
        if cls is None or not hasattr(cls, "_min"):
            return None
        low: int = cls._min
        return (max(low, 1) if cls._fills_key else low), cls._max


KINDS: Mapping[str, ColumnKind] = {
    kind.name: kind
    for kind in (
        ColumnKind(
            "varchar",
            "Varchar",
            "str",
            required_option=(
                "length",
                "varchar needs a length, e.g. {type: varchar, length: 100}",
            ),
            primary_key=True,
        ),
        ColumnKind("char", "Char", "str"),
        ColumnKind("text", "Text", "str", primary_key=True),
        ColumnKind("secret", "Secret", "str"),
        ColumnKind("email", "Email", "str"),
        ColumnKind("integer", "Integer", "int", primary_key=True),
        ColumnKind("bigint", "BigInt", "int", primary_key=True),
        ColumnKind("smallint", "SmallInt", "int", primary_key=True),
        ColumnKind("serial", "Serial", "int", primary_key=True),
        ColumnKind("bigserial", "BigSerial", "int", primary_key=True),
        ColumnKind("real", "Real", "float"),
        ColumnKind("double_precision", "DoublePrecision", "float"),
        ColumnKind("numeric", "Numeric", "decimal.Decimal"),
        ColumnKind("boolean", "Boolean", "bool"),
        ColumnKind("date", "Date", "datetime.date", dynamic_default=("today", "DateNow")),
        ColumnKind("time", "Time", "datetime.time", dynamic_default=("now", "TimeNow")),
        ColumnKind(
            "timestamp",
            "Timestamp",
            "datetime.datetime",
            dynamic_default=("now", "TimestampNow"),
        ),
        ColumnKind(
            "timestamptz",
            "Timestamptz",
            "datetime.datetime",
            dynamic_default=("now", "TimestamptzNow"),
        ),
        ColumnKind("interval", "Interval", "datetime.timedelta"),
        ColumnKind(
            "uuid",
            "UUID",
            "uuid.UUID",
            primary_key=True,
            dynamic_default=("uuid4", "UUID4"),
        ),
        ColumnKind("json", "JSON", "str"),
        ColumnKind("jsonb", "JSONB", "str"),
        ColumnKind("bytea", "Bytea", "bytes"),
        ColumnKind(
            "enum",
            "Enum",
            "str",
            required_option=(
                "choices",
                "an enum column needs choices, a native enum of the file, "
                "e.g. {type: enum, choices: Mood}",
            ),
        ),
        ColumnKind(
            "array",
            required_option=(
                "of",
                "array needs an element type, e.g. {type: array, of: {type: integer}}",
            ),
        ),
        ColumnKind(
            "foreign_key",
            required_option=(
                "references",
                "foreign_key needs 'references', the table it points to, e.g. "
                "{type: foreign_key, references: Manager}",
            ),
        ),
        ColumnKind(
            "m2m",
            required_option=(
                "through",
                "m2m needs 'through', the joining table with a foreign key to each side, e.g. "
                "{type: m2m, through: GenreToBand}",
            ),
        ),
    )
}
