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
    #: Whether a primary key of this type gives each row a distinct value
    #: without being told (numbered by the database, or a fresh uuid4): the
    #: runtime's ``Column._fills_key`` says the same for its classes.
    fills_key: bool = False
    #: The default named by a word (``default: now``) and the runtime class
    #: computing it.
    dynamic_default: tuple[str, str] | None = None
    #: Smallest and largest value of an integer type (PostgreSQL's limits;
    #: a serial numbers from 1).
    value_range: tuple[int, int] | None = None


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
        ColumnKind(
            "integer", "Integer", "int", primary_key=True, value_range=(-(2**31), 2**31 - 1)
        ),
        ColumnKind("bigint", "BigInt", "int", primary_key=True, value_range=(-(2**63), 2**63 - 1)),
        ColumnKind(
            "smallint", "SmallInt", "int", primary_key=True, value_range=(-(2**15), 2**15 - 1)
        ),
        ColumnKind(
            "serial", "Serial", "int", primary_key=True, fills_key=True, value_range=(1, 2**31 - 1)
        ),
        ColumnKind(
            "bigserial",
            "BigSerial",
            "int",
            primary_key=True,
            fills_key=True,
            value_range=(1, 2**63 - 1),
        ),
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
            fills_key=True,
            dynamic_default=("uuid4", "UUID4"),
        ),
        ColumnKind("json", "JSON", "str"),
        ColumnKind("jsonb", "JSONB", "str"),
        ColumnKind("bytea", "Bytea", "bytes"),
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
