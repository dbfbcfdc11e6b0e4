"""Column types: one generic descriptor, subclassed once per SQL type.

A column is a descriptor generic in its Python value type ``T``: read on the
class it is the column (``Band.name: Varchar[str]``), read on an instance it
is the value (``band.name: str``), and read through a foreign-key join object
it is the column reached through that join (``Band.manager.name``).

Speed: a column is a *non-data* descriptor at run time (no ``__set__``), so an
instance's values live in its ``__dict__`` and ``band.name`` is a plain
attribute lookup. ``__set__`` exists only for the type checkers, which then
reject ``band.popularity = "x"``; at run time ``Table.__setattr__`` checks an
assigned value as the constructor checks it (reads stay plain lookups).
"""

from __future__ import annotations

import copy
import datetime
import decimal
import enum
import itertools
import json
import struct
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from typing import (
    TYPE_CHECKING,
    Any,
    ClassVar,
    Final,
    Generic,
    Literal,
    ParamSpec,
    TypeVar,
    overload,
)

from ._dialect import Dialect
from ._expr import IntegerOps, NumericOps, RealOps, TextOps
from ._naming import snake_case as _snake_case
from ._numeric import check_finite, fit, from_sqlite
from ._roles import ColumnRole, ForeignKeyRole, TableRole
from ._sql import Compare, Compiler, Condition, InList, IsNull
from ._text import FOLD_FUNCTION, checked_pattern, escape_like, fold_case, sqlite_glob

if TYPE_CHECKING:
    from ._table import Table

__all__ = [
    "Column",
    "ColumnMeta",
    "Varchar",
    "Char",
    "Text",
    "Secret",
    "Password",
    "Email",
    "Integer",
    "BigInt",
    "SmallInt",
    "Serial",
    "BigSerial",
    "Real",
    "DoublePrecision",
    "Numeric",
    "Boolean",
    "Date",
    "Time",
    "Timestamp",
    "Timestamptz",
    "Interval",
    "UUID",
    "JSON",
    "JSONB",
    "Bytea",
    "Enum",
    "ForeignKey",
    "DynamicDefault",
    "TimestampNow",
    "TimestamptzNow",
    "DateNow",
    "TimeNow",
    "UUID4",
    "OnDelete",
    "OnUpdate",
]

T = TypeVar("T")
K = TypeVar("K")
R = TypeVar("R")
ColumnT = TypeVar("ColumnT", bound="Column[Any]")
P = ParamSpec("P")
J = TypeVar("J")
# Any object, and any row type: see Column.__get__.
_Obj = TypeVar("_Obj")
_Row = TypeVar("_Row")

OnDelete = Literal["cascade", "restrict", "no_action", "set_null", "set_default"]
OnUpdate = OnDelete


class _Missing(enum.Enum):
    MISSING = enum.auto()


MISSING: Literal[_Missing.MISSING] = _Missing.MISSING


class DynamicDefault:
    """A default computed when a row is constructed (and in the table's DDL)."""

    __slots__ = ()
    #: SQL ``DEFAULT`` expression per dialect name.
    sql: ClassVar[dict[str, str]] = {}

    # Stateless: two defaults of one class are the same default (schema
    # states compare them).
    def __eq__(self, other: object) -> bool:
        return type(other) is type(self)

    def __hash__(self) -> int:
        return hash(type(self))

    def python(self) -> object:
        """The value for a new row."""
        raise NotImplementedError

    def __repr__(self) -> str:
        return f"{type(self).__name__}()"


class TimestampNow(DynamicDefault):
    """The current local time, without a time zone (Piccolo's ``TimestampNow``)."""

    __slots__ = ()
    # SQLite's CURRENT_TIMESTAMP is UTC; the Python default is local time.
    sql = {"postgres": "LOCALTIMESTAMP", "sqlite": "(datetime('now', 'localtime'))"}

    def python(self) -> datetime.datetime:
        return datetime.datetime.now()


class TimestamptzNow(DynamicDefault):
    """The current time in UTC, time-zone aware."""

    __slots__ = ()
    sql = {"postgres": "CURRENT_TIMESTAMP", "sqlite": "CURRENT_TIMESTAMP"}

    def python(self) -> datetime.datetime:
        return datetime.datetime.now(datetime.UTC)


class DateNow(DynamicDefault):
    """Today's date."""

    __slots__ = ()
    sql = {"postgres": "CURRENT_DATE", "sqlite": "(date('now', 'localtime'))"}

    def python(self) -> datetime.date:
        return datetime.date.today()


class TimeNow(DynamicDefault):
    """The current local time of day."""

    __slots__ = ()
    sql = {"postgres": "LOCALTIME", "sqlite": "(time('now', 'localtime'))"}

    def python(self) -> datetime.time:
        return datetime.datetime.now().time()


class UUID4(DynamicDefault):
    """A random UUID."""

    __slots__ = ()
    sql = {
        "postgres": "gen_random_uuid()",
        # SQLite has no UUID function: random hex laid out as a version 4 UUID
        # (version nibble 4, variant nibble 8-b).
        "sqlite": (
            "(lower(hex(randomblob(4)) || '-' || hex(randomblob(2)) || '-4' ||"
            " substr(hex(randomblob(2)), 2) || '-' ||"
            " substr('89ab', 1 + (abs(random()) % 4), 1) ||"
            " substr(hex(randomblob(2)), 2) || '-' || hex(randomblob(6))))"
        ),
    }

    def python(self) -> uuid.UUID:
        return uuid.uuid4()


@dataclass(slots=True)
class ColumnMeta:
    """What the runtime knows about a column; filled in when its table is created."""

    name: str = ""
    db_column_name: str | None = None
    table: type[Table[Any]] | None = None
    #: Foreign keys walked from the queried table to reach this column.
    path: tuple[ForeignKey[Any, Any], ...] = ()
    null: bool = False
    primary_key: bool = False
    unique: bool = False
    index: bool = False
    required: bool = False
    default: object = MISSING
    help_text: str | None = None
    choices: type[enum.Enum] | None = None
    extra: dict[str, Any] = field(default_factory=dict)
    #: The output key given by ``as_alias()`` (``SELECT ... AS alias``).
    alias: str | None = None

    @property
    def db_name(self) -> str:
        """The column's name in the database."""
        return self.db_column_name or self.name

    @property
    def key(self) -> str:
        """The dotted name of the column from the queried table (``manager.name``)."""
        return ".".join([*(fk._meta.name for fk in self.path), self.name])


#: The types a column guard tests for, each by ``type(v) is __<name>``.
_GUARDED_TYPES: Final = (str, int, bool)

#: The names column guards use (``Column._guard``), bound where a guard is
#: compiled: no column can shadow them (names starting ``__`` are refused).
GUARD_NAMES: Final[dict[str, object]] = {
    "__type": type,
    "__len": len,
    **{f"__{t.__name__}": t for t in _GUARDED_TYPES},
}


class Column(ColumnRole, Generic[T]):
    """A table column whose Python value type is ``T``."""

    #: Python types a value may have (``None`` is checked through ``null``).
    _py_types: ClassVar[tuple[type, ...]] = (object,)
    #: DDL type per dialect name; ``{length}`` etc. are filled from ``_ddl_args``.
    _ddl: ClassVar[dict[str, str]] = {}
    #: For a derived column: renders the SQL expression around the column's
    #: quoted reference (see ``_derive``); ``None`` for a plain column.
    _expr: Callable[[Compiler, str], str] | None = None
    #: True for a numeric expression: SQLite computes it as exact decimal
    #: text (see ``_numeric``), so it is compared, sorted and aggregated
    #: through the numeric functions there.
    _decimal_text: bool = False
    #: False for columns that are not one (aggregates): never cached by shape.
    _plain: ClassVar[bool] = True
    #: Whether ``_to_db`` returns int, str, float and bool values as they are
    #: (true unless a subclass overrides it; see ``__init_subclass__``).
    _to_db_as_is: ClassVar[bool] = True
    #: Whether a primary key of this type gets a distinct value for a row that
    #: gives none: numbered by the database (serial) or a fresh UUID (the zero
    #: default of uuid). Any other key without a default is required, as its
    #: zero default (0, "") would repeat from the second row on.
    _fills_key: ClassVar[bool] = False
    #: An enum column's values in order (``Enum``): where the database has no
    #: enum types, ``ORDER BY`` and ``<`` go by position (``_sql.enum_position``).
    _enum_values: tuple[str, ...] = ()
    #: Why ``update()`` refuses to write this column (``None``: it does not),
    #: with ``{table}`` for the table's class name. ``save()`` leaves such a
    #: column out of its ``UPDATE`` too.
    _update_refusal: ClassVar[str | None] = None

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if "_to_db" in cls.__dict__ and "_to_db_as_is" not in cls.__dict__:
            cls._to_db_as_is = False

    def __init__(
        self,
        *,
        null: bool = False,
        primary_key: bool = False,
        unique: bool = False,
        index: bool = False,
        required: bool = False,
        default: object = MISSING,
        help_text: str | None = None,
        db_column_name: str | None = None,
        choices: type[enum.Enum] | None = None,
    ) -> None:
        self._meta = ColumnMeta(
            null=null,
            primary_key=primary_key,
            unique=unique,
            index=index,
            required=required or (primary_key and default is MISSING and not self._fills_key),
            default=default,
            help_text=help_text,
            db_column_name=db_column_name,
            choices=choices,
        )

    # -- descriptor protocol -------------------------------------------------

    # On a row, the value; on anything else (the class: ``obj`` is None; a
    # join path: ``obj`` is the foreign key), the column. Written for jedi
    # too, which picks the first overload whose annotations match the
    # arguments and, when none does, offers the union of all (the int
    # methods of the value on ``Band.manager.``, beside Manager's columns):
    # its matching takes a TypeVar for anything, but not ``None`` (read as
    # the value, not NoneType), ``Any``, or a generic class with other
    # parameters (``Table[Any]`` against ``Table[BandRow]``). And
    # ``self: ColumnT`` rather than ``Self``: jedi resolves the former to the
    # subclass (a generated join class), so editors complete join paths.
    @overload
    def __get__(self, obj: Table[_Row], owner: object) -> T: ...
    @overload
    def __get__(
        self: ColumnT, obj: _Obj, owner: object  # pyright: ignore[reportInvalidTypeVarUse]
    ) -> ColumnT: ...
    def __get__(self, obj: object, owner: object) -> Any:
        if obj is None:
            return self
        # Reached only when the instance has no value for this column: its
        # primary key before the row is saved, or a column left out of a load.
        raise AttributeError(
            f"{type(obj).__name__}.{self._meta.name} has no value yet"
            + (" (the row has not been saved)" if self._meta.primary_key else "")
        )

    if TYPE_CHECKING:

        def __set__(self, obj: Table[Any], value: T) -> None: ...

    def __set_name__(self, owner: type[Any], name: str) -> None:
        self._meta.name = name

    def as_alias(self: ColumnT, name: str) -> ColumnT:
        """This column under another key in ``select()`` results (``AS name``)."""
        if not isinstance(name, str) or not name:
            raise ValueError(f"as_alias() takes a non-empty name; got {name!r}")
        aliased = copy.copy(self)
        aliased._meta = replace(self._meta, alias=name)
        return aliased

    # -- values ---------------------------------------------------------------

    def _check(self, value: object) -> Any:
        """Validate a Python value for this column; return it normalised.

        Raises before anything reaches the database.
        """
        if value is None:
            # ``None`` for a serial key means "let the database number it"; a
            # key the database does not number cannot be NULL (SQLite would
            # even store a NULL in a non-integer PRIMARY KEY column).
            if self._meta.null or (self._meta.primary_key and isinstance(self, Serial)):
                return None
            raise ValueError(f"{self._label()} is not nullable; got None")
        choices = self._meta.choices
        if choices is None and type(value) in self._py_types:
            # The common case, decided at once: a value of a listed type
            # passes the checks below (a bool only when bool is listed).
            return self._normalise(value)
        if choices is not None and not isinstance(value, choices):
            try:
                return choices(value)
            except ValueError:
                allowed = ", ".join(repr(m.value) for m in choices)
                raise ValueError(
                    f"{self._label()}: {value!r} is not one of {choices.__name__} " f"({allowed})"
                ) from None
        if not isinstance(value, self._py_types) or (
            isinstance(value, bool) and bool not in self._py_types
        ):
            expected = " or ".join(t.__name__ for t in self._py_types)
            raise TypeError(
                f"{self._label()} expects {expected}; got {type(value).__name__} " f"{value!r}"
            )
        return self._normalise(value)

    def _normalise(self, value: Any) -> Any:
        return value

    def _guard(self, v: str) -> str | None:
        """A Python expression over the variable ``v``, true only for a value
        that ``_check`` returns as it is without raising, or ``None`` when
        there is none. The table's straight-line constructor stores a value
        the guard admits without calling ``_check`` (half of a row's
        construction time); every other value still goes through ``_check``.
        The expression names builtins only as ``GUARD_NAMES`` binds them."""
        value = self._value_guard(v)
        if value is None:
            return None
        return f"({v} is None or {value})" if self._meta.null else value

    def _value_guard(self, v: str) -> str | None:
        """``_guard()`` for values other than None: known only for the
        ``_check`` and ``_normalise`` written here (a column class overriding
        either gets no guard unless it says otherwise)."""
        if type(self)._check is not Column._check or self._meta.choices is not None:
            return None
        if len(self._py_types) != 1 or self._py_types[0] not in _GUARDED_TYPES:
            return None
        # type() is exact: a subclass of str or int (a bool, an enum member)
        # goes through _check.
        exact = f"__type({v}) is __{self._py_types[0].__name__}"
        normalise = type(self)._normalise
        if normalise is Column._normalise:
            return exact
        if isinstance(self, Varchar) and normalise is Varchar._normalise:
            return f"{exact} and __len({v}) <= {int(self.length)}"
        if isinstance(self, _IntegerColumn) and normalise is _IntegerColumn._normalise:
            return f"{exact} and {int(self._min)} <= {v} <= {int(self._max)}"
        return None

    def _to_db(self, value: Any, dialect: Dialect) -> object:
        """A checked value in the driver's representation for ``dialect``."""
        if isinstance(value, enum.Enum):
            return value.value
        return value

    def _to_db_many(self, values: list[Any], dialect: Dialect) -> list[Any]:
        """``_to_db`` of each of ``values`` (a bulk load's column)."""
        return list(map(self._to_db, values, itertools.repeat(dialect)))

    def _as_is_on(self, dialect: Dialect) -> bool:
        """Whether ``_to_db`` gives every value as it is on ``dialect`` (an
        enum member as its value): inserts then skip the call per value.
        A column class that keeps ``Column._to_db`` does (``_to_db_as_is``)."""
        return self._to_db_as_is

    def _from_db(self, dialect: Dialect) -> Callable[[Any], Any] | None:
        """A decoder for values read from ``dialect``, or ``None`` for identity."""
        choices = self._meta.choices
        if choices is None:
            return None

        def decode(value: Any) -> Any:
            return None if value is None else choices(value)

        return decode

    def _default_value(self) -> object:
        """The value a new row gets when the constructor is not given one."""
        default = self._meta.default
        if isinstance(default, DynamicDefault):
            return default.python()
        if default is MISSING:
            if self._meta.null:
                return None
            return self._zero_value()
        if isinstance(default, (list, dict)):
            return copy.deepcopy(default)
        return default

    def _zero(self) -> object:
        """The type's zero default (Piccolo's rule for non-null columns)."""
        return None

    def _zero_value(self) -> object:
        # A column with choices holds only members: its zero is the first one.
        choices = self._meta.choices
        if choices is not None:
            return next(iter(choices))
        return self._zero()

    def _derive(self, cls: type[ColumnT], expr: Callable[[Compiler, str], str]) -> ColumnT:
        """A copy of this column as ``cls`` whose SQL is ``expr`` around its reference.

        Used for values computed from the column (``doc -> 'key'``, an array
        concatenation): selectable, comparable and usable as an update value.
        """
        derived = object.__new__(cls)
        derived.__dict__.update(self.__dict__)
        derived._meta = replace(self._meta)
        derived._expr = expr
        return derived

    def _label(self) -> str:
        table = self._meta.table
        return f"{table.__name__}.{self._meta.key}" if table else self._meta.name

    # -- DDL -----------------------------------------------------------------

    def _ddl_type(self, dialect: Dialect) -> str:
        return self._ddl[dialect.name]

    def _zero_default(self) -> object:
        """The default of a non-null column that declares none: the type's zero
        (Piccolo's rule), or a dynamic default where the zero is "now" or a
        fresh value (a date column's is today's date, in the DDL too)."""
        return self._zero_value()

    def _state_default(self) -> object:
        """What the column's ``DEFAULT`` clause is made from: ``None`` for no
        clause, a database value (an enum member as its value), or a
        ``DynamicDefault``. The one rule for DDL and the schema state.

        A required column without a default has no clause: the constructor
        refuses a row without its value, so a zero default in the database
        would only hide a missing value from other writers (raw SQL, another
        program), and a database that has none (an adopted one) would differ
        from its schema file."""
        meta = self._meta
        if meta.primary_key:
            return None
        default = meta.default
        if isinstance(default, DynamicDefault):
            return default
        if default is MISSING:
            if meta.null or meta.required:
                return None
            default = self._zero_default()
            if isinstance(default, DynamicDefault):
                return default
        if default is None:
            return None
        value = self._check(default)
        return value.value if isinstance(value, enum.Enum) else value

    def _default_sql(self, value: object, dialect: Dialect) -> str | None:
        """``value`` (a state default: see ``_state_default``) as the SQL of a
        ``DEFAULT`` clause on ``dialect``; ``None`` for no clause."""
        if isinstance(value, DynamicDefault):
            return value.sql.get(dialect.name)
        if value is None:
            return None
        return self._literal_sql(self._check(value), dialect)

    def _literal_sql(self, value: Any, dialect: Dialect) -> str:
        """A checked value (not ``None``) as a SQL literal on ``dialect``: a
        ``DEFAULT`` clause, or an element of an array's. Written as the
        database keeps it, so that the schema read back from the database
        says what the DDL wrote."""
        return _sql_literal(self._to_db(value, dialect))

    # -- conditions ------------------------------------------------------------

    def __eq__(self, other: T | Column[T]) -> Condition:  # type: ignore[override]  # pyright: ignore[reportIncompatibleMethodOverride]
        if other is None:
            return IsNull(self, negate=False)
        return Compare(self, "=", other)

    def __ne__(self, other: T | Column[T]) -> Condition:  # type: ignore[override]  # pyright: ignore[reportIncompatibleMethodOverride]
        if other is None:
            return IsNull(self, negate=True)
        return Compare(self, "!=", other)

    def __lt__(self, other: T | Column[T]) -> Condition:
        return Compare(self, "<", other)

    def __le__(self, other: T | Column[T]) -> Condition:
        return Compare(self, "<=", other)

    def __gt__(self, other: T | Column[T]) -> Condition:
        return Compare(self, ">", other)

    def __ge__(self, other: T | Column[T]) -> Condition:
        return Compare(self, ">=", other)

    def __hash__(self) -> int:
        return id(self)

    def is_in(self, values: Sequence[T]) -> Condition:
        """``column IN (...)``; values are bound parameters."""
        return InList(self, list(values), negate=False)

    def not_in(self, values: Sequence[T]) -> Condition:
        """``column NOT IN (...)``."""
        return InList(self, list(values), negate=True)

    def is_null(self) -> Condition:
        """``column IS NULL``."""
        return IsNull(self, negate=False)

    def is_not_null(self) -> Condition:
        """``column IS NOT NULL``."""
        return IsNull(self, negate=True)

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self._label()}>"


def _sql_literal(value: object) -> str:
    """A literal for DDL ``DEFAULT`` clauses (DDL cannot take bound parameters)."""
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, decimal.Decimal):
        return decimal_text(value)
    if isinstance(value, (int, float)):
        return str(value)
    if isinstance(value, datetime.timedelta):
        return f"'{value}'"
    return "'" + str(value).replace("'", "''") + "'"


def decimal_text(value: decimal.Decimal) -> str:
    """A finite decimal as PostgreSQL prints a numeric: positional notation
    (``1E+3`` is ``1000``, ``1E-7`` is ``0.0000001``), the scale kept, and
    no sign on zero (``-0.00`` is ``0.00``)."""
    if value.is_zero():
        value = abs(value)
    return format(value, "f")


def seconds_text(value: datetime.timedelta) -> str:
    """A timedelta's length in seconds, exactly: ``90.0``, ``-1.5``, ``0.000001``.

    Not ``total_seconds()``, a float: it prints ``1e-06`` for a microsecond
    (PostgreSQL's interval input refuses the exponent) and rounds the
    microseconds of a span of years (``99999 days, 0:00:00.000001``).
    """
    micros = value // datetime.timedelta(microseconds=1)
    whole, fraction = divmod(abs(micros), 1_000_000)
    digits = f"{fraction:06d}".rstrip("0") or "0"
    return f"{'-' if micros < 0 else ''}{whole}.{digits}"


# -- text ----------------------------------------------------------------------


class _TextColumn(TextOps[T], Column[T]):
    """A column holding text; adds the pattern operators.

    Patterns mean what they mean to PostgreSQL, on both engines (see
    ``runtime._text`` and docs/columns.md): ``%`` any run of characters,
    ``_`` one character, ``\\`` escapes the next character; ``like`` is
    case-sensitive, ``ilike`` folds case (non-ASCII letters included).
    """

    _py_types = (str,)

    def like(self, pattern: str) -> Condition:
        """``column LIKE pattern``: case-sensitive."""
        return _Pattern(self, pattern, fold=False, negate=False)

    def ilike(self, pattern: str) -> Condition:
        """``column ILIKE pattern``: ``like`` ignoring case (``lower()`` of both sides)."""
        return _Pattern(self, pattern, fold=True, negate=False)

    def not_like(self, pattern: str) -> Condition:
        """``column NOT LIKE pattern``."""
        return _Pattern(self, pattern, fold=False, negate=True)

    def not_ilike(self, pattern: str) -> Condition:
        """``column NOT ILIKE pattern``."""
        return _Pattern(self, pattern, fold=True, negate=True)

    def contains(self, text: str) -> Condition:
        """The value contains ``text``, taken literally (``%``, ``_``, ``\\`` included)."""
        return _Pattern(self, f"%{escape_like(text)}%", fold=False, negate=False)

    def icontains(self, text: str) -> Condition:
        """``contains`` ignoring case."""
        return _Pattern(self, f"%{escape_like(text)}%", fold=True, negate=False)

    def startswith(self, text: str) -> Condition:
        """The value starts with ``text``, taken literally."""
        return _Pattern(self, f"{escape_like(text)}%", fold=False, negate=False)

    def istartswith(self, text: str) -> Condition:
        """``startswith`` ignoring case."""
        return _Pattern(self, f"{escape_like(text)}%", fold=True, negate=False)

    def endswith(self, text: str) -> Condition:
        """The value ends with ``text``, taken literally."""
        return _Pattern(self, f"%{escape_like(text)}", fold=False, negate=False)

    def iendswith(self, text: str) -> Condition:
        """``endswith`` ignoring case."""
        return _Pattern(self, f"%{escape_like(text)}", fold=True, negate=False)

    def _to_db(self, value: Any, dialect: Dialect) -> object:
        if type(value) is str:
            if not dialect.text_holds_nul and "\x00" in value:
                # Refused here, where the dialect is known: PostgreSQL's text
                # types cannot hold NUL, SQLite's can (docs/columns.md).
                raise ValueError(
                    f"{self._label()}: {dialect.name} text cannot hold NUL ('\\x00', at "
                    f"index {value.index(chr(0))}); got {_excerpt(value)}"
                )
            return value
        return value.value if isinstance(value, enum.Enum) else value

    def _as_is_on(self, dialect: Dialect) -> bool:
        return dialect.text_holds_nul and type(self)._to_db is _TextColumn._to_db

    def _to_db_many(self, values: list[Any], dialect: Dialect) -> list[Any]:
        # All text and no NUL among it (one search over the joined text, in
        # C): every value is as it is; else each goes through _to_db.
        if type(self)._to_db is _TextColumn._to_db and set(map(type, values)) <= {str}:
            if "\x00" not in "".join(values):
                return values
        return super()._to_db_many(values, dialect)

    def _zero(self) -> object:
        return ""


def _excerpt(value: str) -> str:
    return repr(value) if len(value) <= 40 else repr(value[:40]) + "..."


class _Pattern(Condition):
    """``column [NOT] LIKE|ILIKE pattern``; the pattern is a bound parameter.

    On SQLite it compiles to ``GLOB`` (over ``fold_case(column)`` for ILIKE),
    with the pattern translated before it is bound (see ``runtime._text``).
    """

    __slots__ = ("column", "pattern", "fold", "negate")

    def __init__(self, column: Column[Any], pattern: str, *, fold: bool, negate: bool) -> None:
        self.column = column
        self.pattern = checked_pattern(pattern)
        self.fold = fold
        self.negate = negate

    def compile(self, c: Compiler) -> str:
        ref = c.column(self.column)
        not_ = "NOT " if self.negate else ""
        if c.dialect.like_patterns:
            if c.dialect.pads_char and isinstance(self.column, Char):
                # CHAR(n) is blank-padded and its LIKE sees the padding
                # ('ab'::char(5) LIKE 'ab' is false); as text it reads as written.
                ref = f"CAST({ref} AS TEXT)"
            op = "ILIKE" if self.fold else "LIKE"
            return f"{ref} {not_}{op} {c.param(self.pattern)}"
        if self.fold:
            folded = fold_case(self.pattern)
            assert folded is not None
            return f"{FOLD_FUNCTION}({ref}) {not_}GLOB {c.param(sqlite_glob(folded))}"
        return f"{ref} {not_}GLOB {c.param(sqlite_glob(self.pattern))}"


class Varchar(_TextColumn[T]):
    """``VARCHAR(length)``; longer values are refused before reaching the database."""

    def __init__(self, *, length: int = 255, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.length = length

    def _ddl_type(self, dialect: Dialect) -> str:
        return f"VARCHAR({self.length})"

    def _normalise(self, value: Any) -> Any:
        if len(value) > self.length:
            raise ValueError(
                f"{self._label()} holds at most {self.length} characters; " f"got {len(value)}"
            )
        return value


class Char(Varchar[T]):
    """``CHAR(length)``."""

    def __init__(self, *, length: int = 1, **kwargs: Any) -> None:
        super().__init__(length=length, **kwargs)

    def _ddl_type(self, dialect: Dialect) -> str:
        return f"CHAR({self.length})"

    def _from_db(self, dialect: Dialect) -> Callable[[Any], Any] | None:
        decode = super()._from_db(dialect)
        if not dialect.pads_char:
            return decode
        # PostgreSQL pads CHAR(n) with spaces, which it treats as insignificant
        # (also in comparisons); strip them so a value reads back as written,
        # as on SQLite.
        if decode is None:
            return _decode_rstrip
        inner = decode
        return lambda value: None if value is None else inner(value.rstrip(" "))


def _decode_rstrip(value: Any) -> Any:
    return None if value is None else value.rstrip(" ")


class Text(_TextColumn[T]):
    """``TEXT``."""

    _ddl = {"postgres": "TEXT", "sqlite": "TEXT"}


class Secret(Text[T]):
    """Text that ``select()`` leaves out unless asked for (passwords, tokens)."""


#: How every argon2 hash in its PHC string form starts (``$argon2id$v=19$...``).
_ARGON2_PREFIXES = ("$argon2id$", "$argon2i$", "$argon2d$")


class Password(Secret[T]):
    """The password hash of a user table (``auth: true``; see ``runtime.BaseUser``).

    It holds an argon2 hash (or ``""``: no password, no login), never a
    password: a value that is no argon2 hash is refused. ``update()`` refuses
    to write it and ``save()`` leaves it alone; ``create_user()`` and
    ``update_password()`` hash a password and write it.
    """

    _update_refusal = (
        "update() does not write the password column; use "
        "{table}.update_password(user, password), which hashes the password"
    )

    def _normalise(self, value: Any) -> Any:
        value = super()._normalise(value)
        if value and not value.startswith(_ARGON2_PREFIXES):
            raise ValueError(
                f"{self._label()} holds an argon2 hash, not a password; create the user "
                "with create_user() or set the password with update_password()"
            )
        return value


class Email(Varchar[T]):
    """An email address stored as ``VARCHAR``."""


# -- native enum types ----------------------------------------------------------


class Enum(Column[T]):
    """A column of a native enum type: ``Enum(Mood, type_name="mood")``.

    PostgreSQL: the column's type is ``CREATE TYPE "mood" AS ENUM (...)``
    with the values of ``choices`` in declaration order, which is the order
    it compares and sorts them in. SQLite has no enum types: the column is
    ``TEXT`` with a ``CHECK (column IN (...))`` (the DDL compiler writes it),
    and sorts as text. Values are members of ``choices`` (a ``StrEnum``), in
    and out; a value that is none is refused before the database is asked.
    There are no pattern operators (``like``): an enum value is no text.
    """

    _py_types = (str,)

    def __init__(
        self,
        choices: type[enum.Enum] | None = None,
        *,
        type_name: str | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(choices=choices, **kwargs)
        if type_name is None:
            if choices is None:
                raise TypeError("Enum() needs its enum class or its type_name")
            type_name = _snake_case(choices.__name__)
        #: The enum type's name in the database.
        self.type_name = type_name
        #: Its values, in order (empty for a column built from a schema state alone).
        self.values: tuple[str, ...] = (
            () if choices is None else tuple(str(m.value) for m in choices)
        )
        self._enum_values = self.values

    def _ddl_type(self, dialect: Dialect) -> str:
        return Dialect.quote(self.type_name) if dialect.native_enums else "TEXT"


# -- numbers -------------------------------------------------------------------


class _IntegerColumn(IntegerOps[T], Column[T]):
    _py_types = (int,)
    #: The type's range (PostgreSQL's). SQLite's INTEGER holds any 64-bit
    #: value, so without this check a value that PostgreSQL refuses (late,
    #: as a driver error) would be stored there silently.
    _min: ClassVar[int] = -(2**31)
    _max: ClassVar[int] = 2**31 - 1

    def _normalise(self, value: Any) -> Any:
        if self._min <= value <= self._max:
            return value
        raise ValueError(
            f"{self._label()}: {value!r} is out of range for {self._ddl['postgres']} "
            f"({self._min} to {self._max})"
        )

    def _zero(self) -> object:
        return 0


class Integer(_IntegerColumn[T]):
    """``INTEGER`` (32 bits: -2**31 to 2**31 - 1)."""

    _ddl = {"postgres": "INTEGER", "sqlite": "INTEGER"}


class BigInt(_IntegerColumn[T]):
    """``BIGINT`` (64 bits: -2**63 to 2**63 - 1)."""

    _ddl = {"postgres": "BIGINT", "sqlite": "INTEGER"}
    _min = -(2**63)
    _max = 2**63 - 1


class SmallInt(_IntegerColumn[T]):
    """``SMALLINT`` (16 bits: -2**15 to 2**15 - 1)."""

    _ddl = {"postgres": "SMALLINT", "sqlite": "INTEGER"}
    _min = -(2**15)
    _max = 2**15 - 1


class Serial(_IntegerColumn[T]):
    """An auto-incrementing integer, the implicit primary key."""

    # SQLite: an ``INTEGER PRIMARY KEY`` is the rowid and numbers itself.
    _ddl = {"postgres": "SERIAL", "sqlite": "INTEGER"}
    _fills_key = True

    def _zero(self) -> object:
        return None

    def _state_default(self) -> object:
        return None  # numbered by the database


class BigSerial(Serial[T]):
    """A 64-bit auto-incrementing integer."""

    _ddl = {"postgres": "BIGSERIAL", "sqlite": "INTEGER"}
    _min = -(2**63)
    _max = 2**63 - 1


class Real(RealOps[T], Column[T]):
    """``REAL``: single precision (``float4``) on PostgreSQL.

    A finite value beyond single precision's range is refused on both engines:
    PostgreSQL refuses one that would become infinite (asyncpg: "value out of
    float32 range") and silently stores 0 for a non-zero one that would
    underflow, while SQLite's REAL (a double) keeps both.
    """

    _py_types = (float, int)
    _ddl = {"postgres": "REAL", "sqlite": "REAL"}

    def _normalise(self, value: Any) -> Any:
        number = _to_float(self, value)
        if _FLOAT4_MIN <= abs(number) <= _FLOAT4_MAX or number == 0.0 or number != number:
            return number  # a normal float4 magnitude, zero or NaN
        if abs(number) != _INF:
            # The rare case, decided exactly by rounding to single precision.
            try:
                single = struct.unpack("f", struct.pack("f", number))[0]
            except OverflowError:
                single = _INF
            if single == 0.0 or abs(single) == _INF:
                raise ValueError(
                    f"{self._label()}: {value!r} is out of range for REAL (single precision: "
                    f"magnitudes {_FLOAT4_TRUE_MIN!r} to {_FLOAT4_MAX!r}); "
                    "use double_precision"
                )
        return number

    def _to_db(self, value: Any, dialect: Dialect) -> object:
        if value != value and not dialect.float_holds_nan:
            raise ValueError(
                f"{self._label()}: {dialect.name} cannot store NaN (it would be stored as NULL)"
            )
        return value

    def _as_is_on(self, dialect: Dialect) -> bool:
        return dialect.float_holds_nan and type(self)._to_db is Real._to_db

    def _literal_sql(self, value: Any, dialect: Dialect) -> str:
        self._to_db(value, dialect)  # refuses a NaN the database cannot hold
        number = float(value)
        if number == 0.0:
            # PostgreSQL reads ``-0.0`` as the numeric -0.0, which is 0.
            return "0.0"
        if number in (_INF, -_INF) or number != number:
            if dialect.typed_storage:
                # Text the float types' input reads; ``inf`` would be a column name.
                return (
                    "'NaN'" if number != number else ("'Infinity'" if number > 0 else "'-Infinity'")
                )
            # SQLite has no word for infinity: a literal beyond a double's
            # range is one (as SQLite itself prints an infinite REAL).
            return "9e999" if number > 0 else "-9e999"
        return repr(number)

    def _zero(self) -> object:
        return 0.0


class DoublePrecision(Real[T]):
    """``DOUBLE PRECISION``."""

    _ddl = {"postgres": "DOUBLE PRECISION", "sqlite": "REAL"}

    def _normalise(self, value: Any) -> Any:
        return _to_float(self, value)


_INF = float("inf")
#: Single precision's largest finite value, smallest normal and smallest
#: subnormal magnitude (C's FLT_MAX, FLT_MIN, FLT_TRUE_MIN).
_FLOAT4_MAX = 3.4028234663852886e38
_FLOAT4_MIN = 1.1754943508222875e-38
_FLOAT4_TRUE_MIN = 1.401298464324817e-45


def _to_float(column: Column[Any], value: Any) -> float:
    if type(value) is float:
        return value
    try:
        return float(value)
    except OverflowError:
        raise ValueError(
            f"{column._label()}: {value!r} is too large for a float (at most about 1.8e308)"
        ) from None


class Numeric(NumericOps[T], Column[T]):
    """``NUMERIC(precision, scale)``, as :class:`decimal.Decimal`.

    Values are finite (NaN and infinities are refused on both engines) and
    rounded to the scale when checked. SQLite stores them with numeric
    affinity (a REAL, or an INTEGER when whole), so values beyond 15
    significant digits lose precision there; they are re-quantised to the
    column's scale when read back. Arithmetic on them is exact on both
    engines (see ``_expr`` and ``_numeric``).
    """

    _py_types = (decimal.Decimal, int, float)

    def __init__(self, *, digits: tuple[int, int] | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.digits = digits

    def _ddl_type(self, dialect: Dialect) -> str:
        if self.digits is None:
            return "NUMERIC"
        return f"NUMERIC({self.digits[0]}, {self.digits[1]})"

    def _normalise(self, value: Any) -> Any:
        number = value if isinstance(value, decimal.Decimal) else decimal.Decimal(str(value))
        # The label as a function: built only for a refused value.
        check_finite(number, self._label)
        if self.digits is None:
            return number
        # Rounded to the column's scale as PostgreSQL does (half away from
        # zero), so both engines store, compare and return the same number;
        # a value too large for the precision is refused here, not by the database.
        return fit(number, self.digits[0], self.digits[1], self._label)

    def _to_db(self, value: Any, dialect: Dialect) -> object:
        if not dialect.exact_numeric and value is not None:
            return str(value)
        return value

    def _from_db(self, dialect: Dialect) -> Callable[[Any], Any] | None:
        if dialect.exact_numeric:
            return None
        scale = self.digits[1] if self.digits is not None else None

        def decode(value: Any) -> Any:
            return from_sqlite(value, scale)

        return decode

    def _zero(self) -> object:
        return decimal.Decimal(0)


class Boolean(Column[T]):
    """``BOOLEAN``."""

    _py_types = (bool,)
    _ddl = {"postgres": "BOOLEAN", "sqlite": "BOOLEAN"}

    def _from_db(self, dialect: Dialect) -> Callable[[Any], Any] | None:
        if dialect.typed_storage:
            return None
        return _decode_bool

    def _to_db(self, value: Any, dialect: Dialect) -> object:
        return value

    def _zero(self) -> object:
        return False


def _decode_bool(value: Any) -> Any:
    return None if value is None else bool(value)


# -- time ------------------------------------------------------------------------


def _decoder(parse: Callable[[Any], Any]) -> Callable[[Any], Any]:
    def decode(value: Any) -> Any:
        return None if value is None else parse(value)

    return decode


class Date(Column[T]):
    """``DATE``, as :class:`datetime.date` (ISO text on SQLite)."""

    _ddl = {"postgres": "DATE", "sqlite": "DATE"}
    _py_types = (datetime.date,)

    def _normalise(self, value: Any) -> Any:
        if isinstance(value, datetime.datetime):
            raise TypeError(f"{self._label()} expects a date; got a datetime")
        return value

    def _to_db(self, value: Any, dialect: Dialect) -> object:
        if not dialect.typed_storage and value is not None:
            return value.isoformat()
        return value

    def _from_db(self, dialect: Dialect) -> Callable[[Any], Any] | None:
        return _decoder(datetime.date.fromisoformat) if not dialect.typed_storage else None

    def _zero(self) -> object:
        return datetime.date.today()

    def _zero_default(self) -> object:
        return DateNow()


class Time(Column[T]):
    """``TIME``, as :class:`datetime.time`."""

    _ddl = {"postgres": "TIME", "sqlite": "TIME"}
    _py_types = (datetime.time,)

    def _normalise(self, value: Any) -> Any:
        if value.tzinfo is not None and value.utcoffset() is not None:
            # TIME has no time zone: PostgreSQL drops the offset silently,
            # SQLite would keep it and give an aware time back.
            raise ValueError(
                f"{self._label()} is a time without time zone and takes a naive time; "
                f"got {value!r}"
            )
        return value

    def _to_db(self, value: Any, dialect: Dialect) -> object:
        if not dialect.typed_storage and value is not None:
            return value.isoformat()
        return value

    def _from_db(self, dialect: Dialect) -> Callable[[Any], Any] | None:
        return _decoder(datetime.time.fromisoformat) if not dialect.typed_storage else None

    def _zero(self) -> object:
        return datetime.datetime.now().time()

    def _zero_default(self) -> object:
        return TimeNow()


class Timestamp(Column[T]):
    """``TIMESTAMP`` (without time zone), as a naive :class:`datetime.datetime`."""

    _ddl = {"postgres": "TIMESTAMP", "sqlite": "TIMESTAMP"}
    _py_types = (datetime.datetime,)

    def _normalise(self, value: Any) -> Any:
        if value.tzinfo is not None and value.utcoffset() is not None:
            # PostgreSQL refuses it late (asyncpg: "can't subtract offset-naive
            # and offset-aware datetimes"); SQLite would store the offset and
            # give an aware datetime back.
            raise ValueError(
                f"{self._label()} is a timestamp without time zone and takes a naive "
                f"datetime; got {value!r} (use timestamptz, or convert with "
                ".astimezone(zone).replace(tzinfo=None))"
            )
        return value

    def _to_db(self, value: Any, dialect: Dialect) -> object:
        if not dialect.typed_storage and value is not None:
            # ``YYYY-MM-DD HH:MM:SS[.ffffff]``: sorts and compares as text,
            # and is the format of SQLite's own CURRENT_TIMESTAMP.
            return value.isoformat(sep=" ")
        return value

    def _from_db(self, dialect: Dialect) -> Callable[[Any], Any] | None:
        if not dialect.typed_storage:
            return _decoder(datetime.datetime.fromisoformat)
        return None

    def _zero(self) -> object:
        return datetime.datetime.now()

    def _zero_default(self) -> object:
        return TimestampNow()


class Timestamptz(Timestamp[T]):
    """``TIMESTAMPTZ``, as an aware :class:`datetime.datetime` (UTC when read)."""

    _ddl = {"postgres": "TIMESTAMPTZ", "sqlite": "TIMESTAMPTZ"}

    def _normalise(self, value: Any) -> Any:
        if value.tzinfo is None or value.utcoffset() is None:
            # Refused rather than guessed: asyncpg takes a naive value as UTC,
            # SQLite's conversion to UTC (astimezone) as local time.
            raise ValueError(
                f"{self._label()} needs a time-zone aware datetime; got {value!r} "
                "(e.g. value.replace(tzinfo=datetime.UTC) for a UTC time)"
            )
        return value

    def _to_db(self, value: Any, dialect: Dialect) -> object:
        if not dialect.typed_storage and value is not None:
            return value.astimezone(datetime.UTC).isoformat(sep=" ")
        return value

    def _literal_sql(self, value: Any, dialect: Dialect) -> str:
        # The UTC instant, as it is stored: PostgreSQL keeps no offset.
        return super()._literal_sql(value.astimezone(datetime.UTC), dialect)

    def _from_db(self, dialect: Dialect) -> Callable[[Any], Any] | None:
        if not dialect.typed_storage:
            return _decoder(_parse_utc)
        return None

    def _zero(self) -> object:
        return datetime.datetime.now(datetime.UTC)

    def _zero_default(self) -> object:
        return TimestamptzNow()


def _parse_utc(value: str) -> datetime.datetime:
    parsed = datetime.datetime.fromisoformat(value)
    # SQLite's CURRENT_TIMESTAMP is UTC without an offset.
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=datetime.UTC)


class Interval(Column[T]):
    """``INTERVAL``, as :class:`datetime.timedelta` (seconds as REAL on SQLite)."""

    _ddl = {"postgres": "INTERVAL", "sqlite": "INTERVAL"}
    _py_types = (datetime.timedelta,)

    def _to_db(self, value: Any, dialect: Dialect) -> object:
        if not dialect.typed_storage and value is not None:
            return value.total_seconds()
        return value

    def _from_db(self, dialect: Dialect) -> Callable[[Any], Any] | None:
        if not dialect.typed_storage:
            return _decoder(lambda v: datetime.timedelta(seconds=v))
        return None

    def _zero(self) -> object:
        return datetime.timedelta(0)

    def _default_sql(self, value: object, dialect: Dialect) -> str | None:
        if isinstance(value, datetime.timedelta):
            seconds = seconds_text(self._check(value))
            return seconds if not dialect.typed_storage else f"'{seconds} seconds'"
        return super()._default_sql(value, dialect)


# -- other scalars ---------------------------------------------------------------


class UUID(Column[T]):
    """``UUID``, as :class:`uuid.UUID` (text on SQLite)."""

    _ddl = {"postgres": "UUID", "sqlite": "UUID"}
    _py_types = (uuid.UUID,)
    _fills_key = True  # the zero default is a fresh uuid4

    def _to_db(self, value: Any, dialect: Dialect) -> object:
        if not dialect.typed_storage and value is not None:
            return str(value)
        return value

    def _from_db(self, dialect: Dialect) -> Callable[[Any], Any] | None:
        if not dialect.typed_storage:
            return _decoder(uuid.UUID)
        # asyncpg returns its own UUID subclass; give back the stdlib type.
        return _decoder(lambda v: uuid.UUID(bytes=v.bytes))

    def _zero(self) -> object:
        return uuid.uuid4()

    def _zero_default(self) -> object:
        return UUID4()


class JSON(Column[T]):
    """``JSON``: the value is JSON text (a ``dict``/``list`` given is serialised)."""

    _ddl = {"postgres": "JSON", "sqlite": "JSON"}
    _py_types = (str, dict, list, int, float, bool)

    def _normalise(self, value: Any) -> Any:
        # NaN and Infinity are not JSON, though Python's json reads and writes
        # them: PostgreSQL refuses them, so both engines refuse them here.
        if isinstance(value, str):
            # Refused here rather than by PostgreSQL alone (SQLite stores any text).
            try:
                json.loads(value, parse_constant=_not_json)
            except ValueError:
                raise ValueError(f"{self._label()} expects JSON text; got {value!r}") from None
            return value
        try:
            # Unicode as it is, not as ``\uXXXX`` escapes: the stored text reads
            # as written in both databases (SQL paths decode escapes anyway).
            return json.dumps(value, ensure_ascii=False, allow_nan=False)
        except ValueError:
            raise ValueError(f"{self._label()}: NaN and Infinity are not JSON") from None

    def _from_db(self, dialect: Dialect) -> Callable[[Any], Any] | None:
        return _decode_sqlite_json if not dialect.typed_storage else None

    def _zero(self) -> object:
        return "{}"

    def arrow(self, key: str | int) -> JSON[str | None]:
        """The JSON value at ``key`` (an object key or an array index): ``data -> key``.

        Select it, compare it with JSON text (``.arrow("a") == '"x"'``) or chain
        it; ``None`` when the key is missing.
        """
        # Here, not at the top: ``_json`` defines ``JSONPath``, a subclass of
        # this class, so it imports this module. Building a path runs it, not
        # compiling or loading rows.
        from ._json import json_path

        return json_path(self, [key], arrow=True)

    def from_path(self, path: Sequence[str | int]) -> JSON[str | None]:
        """The JSON value at ``path`` (keys and indexes, e.g. ``["a", 0, "b"]``): ``data #> path``."""
        from ._json import json_path  # see arrow()

        return json_path(self, path, arrow=False)


def _not_json(constant: str) -> Any:
    raise ValueError(f"{constant} is not JSON")


def _decode_sqlite_json(value: Any) -> Any:
    # A JSON column has NUMERIC affinity on SQLite (its declared type names no
    # text type), which stores the JSON text ``3`` as the integer 3 and
    # ``1.5`` as a real: give the text back, as PostgreSQL does.
    if value is None or isinstance(value, str):
        return value
    return json.dumps(value)


class JSONB(JSON[T]):
    """``JSONB`` on PostgreSQL (JSON text on SQLite)."""

    _ddl = {"postgres": "JSONB", "sqlite": "JSONB"}

    def _literal_sql(self, value: Any, dialect: Dialect) -> str:
        if dialect.typed_storage:
            # PostgreSQL keeps a jsonb value in its own form, not as written.
            value = jsonb_text(value)
        return super()._literal_sql(value, dialect)


def jsonb_text(text: str) -> str:
    """JSON text as PostgreSQL prints it back from ``jsonb``.

    Objects have their keys shorter first, then in byte order (of UTF-8),
    the last of a repeated key kept; ``", "`` and ``": "`` separate; numbers
    are numerics (``1e+20`` is ``100000000000000000000``); strings are
    escaped as ``json.dumps`` escapes them without ``ensure_ascii``, which
    is PostgreSQL's escaping.
    """
    return _jsonb(json.loads(text, parse_float=decimal.Decimal, parse_int=decimal.Decimal))


def _jsonb(value: Any) -> str:
    if isinstance(value, dict):
        keys = sorted(value, key=lambda k: (len(k.encode()), k.encode()))
        return "{" + ", ".join(f"{_jsonb(k)}: {_jsonb(value[k])}" for k in keys) + "}"
    if isinstance(value, list):
        return "[" + ", ".join(_jsonb(item) for item in value) + "]"
    if isinstance(value, decimal.Decimal):
        return decimal_text(value)
    return json.dumps(value, ensure_ascii=False)


class Bytea(Column[T]):
    """``BYTEA`` (``BLOB`` on SQLite), as :class:`bytes`."""

    _ddl = {"postgres": "BYTEA", "sqlite": "BLOB"}
    _py_types = (bytes, bytearray, memoryview)

    def _normalise(self, value: Any) -> Any:
        return bytes(value)

    def _zero(self) -> object:
        return b""

    def _literal_sql(self, value: Any, dialect: Dialect) -> str:
        return dialect.bytes_literal.format(bytes(value).hex())


# -- foreign keys ------------------------------------------------------------------

_ACTIONS = {
    "cascade": "CASCADE",
    "restrict": "RESTRICT",
    "no_action": "NO ACTION",
    "set_null": "SET NULL",
    "set_default": "SET DEFAULT",
}


class ForeignKey(ForeignKeyRole, Column[K], Generic[K, R]):
    """A foreign key whose value type is ``K`` and whose related row is ``R``.

    ``R`` is ``Manager`` or ``Manager | None`` (a nullable key): it is what
    ``get_related`` gives. The key holds the target's primary key, or with
    ``to`` another column of the target that is unique (``to="email"``: the
    key stores an email, and joins match it). Generated code subclasses this
    once per target table and column (``ManagerJoin`` /
    ``ManagerNullableJoin``, ``CustomerByEmailJoin``) and annotates the
    target's columns on the subclass, so ``Band.manager.name`` is typed; at
    run time those attributes are made on first access, bound to the join path.
    """

    def __init__(
        self,
        references: Callable[[], type[Table[Any]]],
        *,
        to: str | None = None,
        on_delete: OnDelete = "cascade",
        on_update: OnUpdate = "cascade",
        deferrable: bool = False,
        initially_deferred: bool = False,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self._references = references
        # The target column's attribute name (``None``: its primary key).
        # Private: a public attribute would hide a target column named ``to``
        # from join paths (``Message.sender.to``).
        self._to = to
        self.on_delete = on_delete
        self.on_update = on_update
        # Private, as ``_to``: join paths reach the target's columns by name.
        self._deferrable = deferrable or initially_deferred
        self._initially_deferred = initially_deferred

    def target(self) -> type[Table[Any]]:
        """The referenced table."""
        return self._references()

    def _target_key(self) -> Column[Any]:
        """The target's column whose values this key holds (its primary key
        unless ``to`` names another)."""
        target = self._references()
        if self._to is None:
            return target._meta.primary_key
        column = target._meta.column_map.get(self._to)
        if column is None:
            raise TypeError(f"{self._label()}: {target.__name__} has no column {self._to!r}")
        return column

    def _value_guard(self, v: str) -> str | None:
        # A value other than None (and not a row) is the target key's.
        if type(self)._check is not ForeignKey._check:
            return None
        try:
            target = self._target_key()
        except Exception:  # not resolvable yet: every value goes through _check
            return None
        return target._value_guard(v)

    def _check(self, value: object) -> Any:
        if isinstance(value, TableRole):
            # Passing the related row itself stores its key (its primary
            # key, or the column named by ``to``).
            value = value.__dict__.get(self._target_key()._meta.name)
            if value is None:
                raise ValueError(f"{self._label()}: the related row has not been saved")
        if value is None:
            return super()._check(value)
        try:
            return self._target_key()._check(value)
        except (TypeError, ValueError) as error:
            # Name this column, not only the target's key.
            raise type(error)(f"{self._label()}: {error}") from None

    def _to_db(self, value: Any, dialect: Dialect) -> object:
        return self._target_key()._to_db(value, dialect)

    def _from_db(self, dialect: Dialect) -> Callable[[Any], Any] | None:
        return self._target_key()._from_db(dialect)

    def _zero(self) -> object:
        return None

    def _ddl_type(self, dialect: Dialect) -> str:
        pk = self._target_key()
        if isinstance(pk, BigSerial):
            return "BIGINT"
        if isinstance(pk, Serial):
            return "INTEGER"
        return pk._ddl_type(dialect)

    def _state_default(self) -> object:
        # A key has no zero: a row that gives none gets NULL (or fails NOT NULL).
        if self._meta.default is MISSING:
            return None
        return super()._state_default()

    def _references_clause(self, dialect: Dialect) -> str:
        target = self._references()
        quote = dialect.quote
        return (
            f" REFERENCES {quote(target._meta.tablename)}"
            f" ({quote(self._target_key()._meta.db_name)})"
            f" ON DELETE {_ACTIONS[self.on_delete]} ON UPDATE {_ACTIONS[self.on_update]}"
        )

    if not TYPE_CHECKING:

        def __getattr__(self, name: str) -> Column[Any]:
            # ``Band.manager.name``: the target's column, bound to this join
            # path. Hidden from type checkers, which see the generated join
            # class's annotations instead (so a misspelt column is an error).
            if name.startswith("_"):
                raise AttributeError(name)
            target = self._references()
            column = target._meta.column_map.get(name)
            if column is None:
                raise AttributeError(
                    f"{target.__name__} has no column {name!r} (via {self._label()})"
                )
            joined = copy.copy(column)
            joined._meta = replace(column._meta, path=(*self._meta.path, self))
            if isinstance(joined, ForeignKey):
                # Drop join objects cached on the original: they carry its path.
                for key in [k for k, v in vars(joined).items() if isinstance(v, Column)]:
                    del joined.__dict__[key]
            # Cache on this join object: the next access is a dict lookup.
            self.__dict__[name] = joined
            return joined


def forward_key(join: Callable[P, J], *args: P.args, **kwargs: P.kwargs) -> J:
    """``join(*args, **kwargs)``: a foreign key column of the join class ``join``.

    Generated code declares a key to a table further down its module (the key
    that closes a cycle of foreign keys) with it: ``manager: EmployeeJoin =
    forward_key(EmployeeJoin, lambda: Employee, deferrable=True)``. The column
    is the same as calling the class; the call goes through a function for
    pyright, which, to decide whether a class body can end, looks at every call
    in it: calling ``EmployeeJoin`` there means evaluating its base
    ``ForeignKey[int, "Employee"]``, so the later ``Employee``, whose body calls
    the join class of the first table in turn, and pyright reports "Class
    definition for EmployeeJoin depends on itself" (depending on the order it
    checks the files in). A function's declared return type ends that walk.
    The arguments are checked against ``join``'s constructor all the same.
    """
    return join(*args, **kwargs)
