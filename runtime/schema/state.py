"""The schema-state model: what a database's tables are, in plain data.

One model, three producers: the generated table classes (``of_tables``,
which the generator reaches from the schema files), the replay of migration
files (``runtime.migrations``), and a live database (``runtime.schema.read``,
at the level of SQL, after ``runtime.schema.compile`` lowers a state to it).

Views (``View``) are part of a schema too: a name, the SQL the database
keeps (one text for every dialect, or one per dialect), whether it is
materialized, the columns it gives and their types, and the indexes of a
materialized view. Their SQL is the schema's word, never parsed: a view is
created after the tables and dropped before them.

Everything here is dialect-neutral and holds only what the database holds:
names are database names (``tablename``, ``db_column_name``), a column's
type is its runtime class name with its parameters, its default the value
(or dynamic default) the ``DEFAULT`` clause is made from. What lives only
in the generated code (``choices``, ``help_text``, ``required``, class and
attribute names, many-to-many attributes) is not part of the state: it
needs no migration. States are frozen and compare by value; ``renamed_from``
is a hint for the differ, never part of the comparison, and neither is the
order of tables, of a table's columns, indexes and constraints: that order
is the one ``CREATE TABLE`` writes, while a database that was migrated has
its added columns at the end and its tables in no order, and is the same
schema all the same.
"""

from __future__ import annotations

import copy
import datetime
import decimal
import uuid
from collections.abc import Iterable, Iterator, Mapping, Sequence
from collections.abc import Set as AbstractSet
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any, Final, Literal

from .. import _columns as _c
from .. import _naming
from .._array import Array
from .._columns import BigSerial as _BigSerial
from .._columns import Column as _RuntimeColumn
from .._columns import DynamicDefault
from .._columns import ForeignKey as _RuntimeFK
from .._columns import Serial as _Serial
from .._composite import CompositeForeignKey as _RuntimeCompositeFK
from .checksql import tokens as _sql_tokens

if TYPE_CHECKING:
    from .._table import Table as _RuntimeTable

__all__ = [
    "COLUMN_CLASSES",
    "KINDS",
    "Action",
    "Check",
    "Column",
    "CompositeForeignKey",
    "EnumType",
    "ForeignKey",
    "Index",
    "Schema",
    "SchemaStateError",
    "Table",
    "Type",
    "Unique",
    "View",
    "ViewColumn",
    "is_view",
    "of_tables",
    "view_of",
]

#: The column classes a state's types name, by class name (``Type("Varchar")``).
COLUMN_CLASSES: Final[Mapping[str, type[_RuntimeColumn[Any]]]] = {
    cls.__name__: cls
    for cls in (
        _c.Varchar,
        _c.Char,
        _c.Text,
        _c.Secret,
        _c.Email,
        _c.Integer,
        _c.BigInt,
        _c.SmallInt,
        _c.Serial,
        _c.BigSerial,
        _c.Real,
        _c.DoublePrecision,
        _c.Numeric,
        _c.Boolean,
        _c.Date,
        _c.Time,
        _c.Timestamp,
        _c.Timestamptz,
        _c.Interval,
        _c.UUID,
        _c.JSON,
        _c.JSONB,
        _c.Bytea,
        Array,
        _c.Enum,
    )
}

#: The column kinds a state may hold.
KINDS: Final = frozenset(COLUMN_CLASSES)

Action = Literal["cascade", "restrict", "set_null", "set_default", "no_action"]


class SchemaStateError(ValueError):
    """A state or an operation on it that cannot be: a missing table or column,
    a name taken twice, an unknown column kind."""


@dataclass(frozen=True, slots=True)
class Type:
    """A column type: a runtime column class name and its parameters.

    ``Type("Varchar", length=50)``, ``Type("Numeric", digits=(5, 2))``,
    ``Type("Array", element=Type("Integer"))``, ``Type("Enum", enum="mood")``
    (a native enum type of the schema, by its database name: see ``EnumType``).
    """

    kind: str
    length: int | None = None
    digits: tuple[int, int] | None = None
    element: Type | None = None
    enum: str | None = None

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise SchemaStateError(f"unknown column type {self.kind!r}")
        if (self.kind == "Array") != (self.element is not None):
            raise SchemaStateError("an Array type, and only it, has an element type")
        if (self.kind == "Enum") != (self.enum is not None):
            raise SchemaStateError("an Enum type, and only it, names an enum type")
        if self.digits is not None:
            object.__setattr__(self, "digits", tuple(self.digits))

    def __repr__(self) -> str:
        args = [repr(self.kind)]
        if self.length is not None:
            args.append(f"length={self.length!r}")
        if self.digits is not None:
            args.append(f"digits={self.digits!r}")
        if self.element is not None:
            args.append(f"element={self.element!r}")
        if self.enum is not None:
            args.append(f"enum={self.enum!r}")
        return f"Type({', '.join(args)})"


@dataclass(frozen=True, slots=True)
class EnumType:
    """A native enum type (PostgreSQL ``CREATE TYPE name AS ENUM``): a
    schema-level fact, its database name and its values in order (the order
    the database sorts them in). Columns name it (``Type("Enum", enum=name)``);
    SQLite, which has no such type, holds the column as text with a
    ``CHECK (column IN (values))``."""

    name: str
    values: tuple[str, ...]

    def __post_init__(self) -> None:
        object.__setattr__(self, "values", tuple(self.values))
        if not self.values:
            raise SchemaStateError(f"enum type {self.name!r} has no values")
        if len(set(self.values)) != len(self.values):
            raise SchemaStateError(f"enum type {self.name!r} has a value twice")

    def __repr__(self) -> str:
        return f"EnumType({self.name!r}, {self.values!r})"


@dataclass(frozen=True, slots=True)
class ForeignKey:
    """Where a foreign key column points: a table and a column of it (database names).

    ``deferrable``: the constraint may be checked at commit
    (``DEFERRABLE``); ``initially_deferred``: it is, unless a transaction
    says otherwise (``INITIALLY DEFERRED``), so the rows of a cycle of
    non-null keys can be inserted in one transaction."""

    table: str
    column: str = "id"
    on_delete: Action = "cascade"
    on_update: Action = "cascade"
    deferrable: bool = False
    initially_deferred: bool = False

    def __repr__(self) -> str:
        args = [repr(self.table)]
        if self.column != "id":
            args.append(f"column={self.column!r}")
        if self.on_delete != "cascade":
            args.append(f"on_delete={self.on_delete!r}")
        if self.on_update != "cascade":
            args.append(f"on_update={self.on_update!r}")
        if self.deferrable:
            args.append("deferrable=True")
        if self.initially_deferred:
            args.append("initially_deferred=True")
        return f"ForeignKey({', '.join(args)})"


@dataclass(frozen=True, slots=True)
class CompositeForeignKey:
    """A foreign key over several columns, a table constraint: ``FOREIGN KEY
    (columns) REFERENCES table (to)`` (database names; ``to`` in the order of
    ``columns``, the target's composite key)."""

    name: str
    columns: tuple[str, ...]
    table: str
    to: tuple[str, ...]
    on_delete: Action = "cascade"
    on_update: Action = "cascade"

    def __post_init__(self) -> None:
        object.__setattr__(self, "columns", tuple(self.columns))
        object.__setattr__(self, "to", tuple(self.to))
        if len(self.columns) < 2 or len(self.columns) != len(self.to):
            raise SchemaStateError(
                f"foreign key {self.name!r} needs two or more columns, as many as it points at"
            )

    def __repr__(self) -> str:
        args = [repr(self.name), repr(self.columns), repr(self.table), repr(self.to)]
        if self.on_delete != "cascade":
            args.append(f"on_delete={self.on_delete!r}")
        if self.on_update != "cascade":
            args.append(f"on_update={self.on_update!r}")
        return f"CompositeForeignKey({', '.join(args)})"


#: Python values a ``DEFAULT`` can be made from (besides a ``DynamicDefault``).
DefaultValue = (
    bool
    | int
    | float
    | str
    | bytes
    | decimal.Decimal
    | datetime.date
    | datetime.time
    | datetime.datetime
    | datetime.timedelta
    | uuid.UUID
    | list[Any]
    | dict[str, Any]
    | DynamicDefault
    | None
)


@dataclass(frozen=True, slots=True)
class Column:
    """One column. ``default`` is what its ``DEFAULT`` clause is made from:
    ``None`` for no clause, a Python value, or a dynamic default
    (``TimestampNow()``). A foreign key column's ``type`` is the type its
    values have (``Integer`` for a key to a ``Serial``)."""

    name: str
    type: Type
    null: bool = False
    default: DefaultValue = None
    primary_key: bool = False
    unique: bool = False
    index: bool = False
    references: ForeignKey | None = None
    #: The column's name in the previous state, when the schema renames it
    #: (a hint for the differ; not compared).
    renamed_from: str | None = field(default=None, compare=False)

    def __repr__(self) -> str:
        args = [repr(self.name), repr(self.type)]
        for name in ("null", "primary_key", "unique", "index"):
            if getattr(self, name):
                args.append(f"{name}=True")
        if self.default is not None:
            # ``datetime.UTC`` is how Python 3.11 code spells the UTC zone.
            source = repr(self.default).replace("datetime.timezone.utc", "datetime.UTC")
            args.append(f"default={source}")
        if self.references is not None:
            args.append(f"references={self.references!r}")
        return f"Column({', '.join(args)})"


@dataclass(frozen=True, slots=True)
class Index:
    """An index over columns of a table (database names), declared at table level."""

    name: str
    columns: tuple[str, ...]
    unique: bool = False

    def __post_init__(self) -> None:
        object.__setattr__(self, "columns", tuple(self.columns))

    def __repr__(self) -> str:
        unique = ", unique=True" if self.unique else ""
        return f"Index({self.name!r}, {self.columns!r}{unique})"


@dataclass(frozen=True, slots=True)
class Unique:
    """A ``UNIQUE`` constraint over several columns (database names)."""

    name: str
    columns: tuple[str, ...]

    def __post_init__(self) -> None:
        object.__setattr__(self, "columns", tuple(self.columns))

    def __repr__(self) -> str:
        return f"Unique({self.name!r}, {self.columns!r})"


@dataclass(frozen=True, slots=True)
class Check:
    """A ``CHECK`` constraint: its name (the database's, as the schema gives
    it) and its expression, SQL the database evaluates on each row, kept as
    written."""

    name: str
    sql: str

    def __repr__(self) -> str:
        return f"Check({self.name!r}, {self.sql!r})"


@dataclass(frozen=True, slots=True)
class Table:
    """One table: its columns in order, table-level indexes, unique and check
    constraints."""

    name: str
    columns: tuple[Column, ...]
    indexes: tuple[Index, ...] = ()
    unique: tuple[Unique, ...] = ()
    checks: tuple[Check, ...] = ()
    #: The table's name in the previous state, when the schema renames it.
    renamed_from: str | None = field(default=None, compare=False)
    #: A primary key of several columns (``PRIMARY KEY (a, b)``), in key
    #: order; its columns have no ``primary_key`` flag. A key of one column
    #: is that column's ``primary_key``.
    composite_key: tuple[str, ...] = ()
    #: Foreign keys over several columns (a one-column key is its column's ``references``).
    foreign_keys: tuple[CompositeForeignKey, ...] = ()

    def __post_init__(self) -> None:
        object.__setattr__(self, "columns", tuple(self.columns))
        object.__setattr__(self, "indexes", tuple(self.indexes))
        object.__setattr__(self, "unique", tuple(self.unique))
        object.__setattr__(self, "checks", tuple(self.checks))
        object.__setattr__(self, "composite_key", tuple(self.composite_key))
        object.__setattr__(self, "foreign_keys", tuple(self.foreign_keys))
        if self.composite_key:
            if len(self.composite_key) < 2 or len(set(self.composite_key)) != len(
                self.composite_key
            ):
                raise SchemaStateError(
                    f"the composite key of table {self.name!r} needs two or more columns"
                )
            if any(c.primary_key for c in self.columns):
                raise SchemaStateError(f"table {self.name!r} has two primary keys")
        if len({c.name for c in self.checks}) != len(self.checks):
            raise SchemaStateError(f"table {self.name!r} has two checks of one name")
        seen: set[str] = set()
        for column in self.columns:
            if column.name in seen:
                raise SchemaStateError(f"table {self.name!r} has two columns {column.name!r}")
            seen.add(column.name)
        groups: tuple[Index | Unique, ...] = (*self.indexes, *self.unique)
        for group in groups:
            for name in group.columns:
                if name not in seen:
                    raise SchemaStateError(
                        f"{group.name!r} of table {self.name!r} names no column {name!r}"
                    )
        for fk in self.foreign_keys:
            for name in fk.columns:
                if name not in seen:
                    raise SchemaStateError(
                        f"{fk.name!r} of table {self.name!r} names no column {name!r}"
                    )
        for name in self.composite_key:
            if name not in seen:
                raise SchemaStateError(
                    f"the primary key of table {self.name!r} names no column {name!r}"
                )
            if self.column(name).null:
                raise SchemaStateError(f"key column {self.name}.{name} is nullable")

    def _compared(self) -> tuple[object, ...]:
        return (
            self.name,
            sorted(self.columns, key=lambda c: c.name),
            sorted(self.indexes, key=lambda i: (i.name, i.columns, i.unique)),
            sorted(self.unique, key=lambda u: (u.name, u.columns)),
            sorted(self.checks, key=lambda c: (c.name, c.sql)),
            self.composite_key,
            sorted(self.foreign_keys, key=lambda f: (f.name, f.columns)),
        )

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Table):
            return NotImplemented
        return self._compared() == other._compared()

    def __hash__(self) -> int:
        # Not over the columns' defaults, which may be lists or dicts.
        return hash(
            (
                self.name,
                frozenset(c.name for c in self.columns),
                frozenset(self.indexes),
                frozenset(self.unique),
                frozenset(self.checks),
            )
        )

    def column(self, name: str) -> Column:
        for column in self.columns:
            if column.name == name:
                return column
        raise SchemaStateError(f"table {self.name!r} has no column {name!r}")

    def has_column(self, name: str) -> bool:
        return any(c.name == name for c in self.columns)

    @property
    def primary_key(self) -> Column | None:
        """The key column of a single-column key (``None`` for a composite key)."""
        return next((c for c in self.columns if c.primary_key), None)

    @property
    def key_columns(self) -> tuple[str, ...]:
        """The primary key's column names, in key order (one or several; ``()``: none)."""
        if self.composite_key:
            return self.composite_key
        key = self.primary_key
        return () if key is None else (key.name,)

    def __repr__(self) -> str:
        # Tuples, as the fields are typed: a migration file holding this
        # text passes mypy --strict.
        lines = [f"Table(\n    {self.name!r},\n    columns=("]
        lines += [f"        {c!r}," for c in self.columns]
        lines.append("    ),")
        if self.indexes:
            lines.append(f"    indexes={self.indexes!r},")
        if self.unique:
            lines.append(f"    unique={self.unique!r},")
        if self.checks:
            lines.append(f"    checks={self.checks!r},")
        if self.composite_key:
            lines.append(f"    composite_key={self.composite_key!r},")
        if self.foreign_keys:
            lines.append(f"    foreign_keys={self.foreign_keys!r},")
        lines.append(")")
        return "\n".join(lines)


#: A view's SQL: one text for every dialect, or one per dialect name
#: (``{"postgres": ..., "sqlite": ...}``).
ViewSQL = str | Mapping[str, str]


@dataclass(frozen=True, slots=True)
class ViewColumn:
    """A column a view gives: its name and the type of its values (a view
    column has no default, constraint or nullability of its own)."""

    name: str
    type: Type

    def __repr__(self) -> str:
        return f"ViewColumn({self.name!r}, {self.type!r})"


@dataclass(frozen=True, slots=True, eq=False)
class View:
    """A view: SQL the database keeps and runs whenever the view is read
    (``materialized``: runs once, keeps the rows until refreshed; PostgreSQL
    only, a plain view on SQLite), the columns it gives (those the schema
    declares, by name; its SQL may give more), and, of a materialized view,
    its indexes (what ``REFRESH MATERIALIZED VIEW CONCURRENTLY`` needs)."""

    name: str
    sql: ViewSQL
    columns: tuple[ViewColumn, ...]
    materialized: bool = False
    indexes: tuple[Index, ...] = ()

    def __post_init__(self) -> None:
        object.__setattr__(self, "columns", tuple(self.columns))
        object.__setattr__(self, "indexes", tuple(self.indexes))
        if not isinstance(self.sql, str):
            object.__setattr__(self, "sql", dict(sorted(self.sql.items())))
        texts = [self.sql] if isinstance(self.sql, str) else list(self.sql.values())
        if not texts or not all(t.strip() for t in texts):
            raise SchemaStateError(f"view {self.name!r} has no SQL")
        if not self.columns:
            raise SchemaStateError(f"view {self.name!r} has no columns")
        names = [c.name for c in self.columns]
        if len(set(names)) != len(names):
            twice = next(n for n in names if names.count(n) > 1)
            raise SchemaStateError(f"view {self.name!r} has two columns {twice!r}")
        if self.indexes and not self.materialized:
            raise SchemaStateError(f"view {self.name!r} is not materialized: it has no indexes")
        for index in self.indexes:
            for name in index.columns:
                if name not in names:
                    raise SchemaStateError(
                        f"{index.name!r} of view {self.name!r} names no column {name!r}"
                    )

    def sql_for(self, dialect: str) -> str:
        """The view's SQL on ``dialect``."""
        if isinstance(self.sql, str):
            return self.sql
        if dialect not in self.sql:
            raise SchemaStateError(
                f"view {self.name!r} has no SQL for {dialect} (it has: {', '.join(self.sql)})"
            )
        return self.sql[dialect]

    def column(self, name: str) -> ViewColumn:
        for column in self.columns:
            if column.name == name:
                return column
        raise SchemaStateError(f"view {self.name!r} has no column {name!r}")

    def reads(self, names: AbstractSet[str]) -> set[str]:
        """Those of ``names`` (tables or views) that the view's SQL may read:
        each that an identifier of it names (in any dialect's text; a bare
        word matched without case). Never fewer than it reads, sometimes more."""
        texts = [self.sql] if isinstance(self.sql, str) else list(self.sql.values())
        quoted: set[str] = set()
        bare: set[str] = set()
        for text in texts:
            for kind, token in _sql_tokens(text):
                if kind == "quoted":
                    quoted.add(token[1:-1].replace('""', '"'))
                elif kind == "word":
                    bare.add(token.casefold())
        return {n for n in names if n in quoted or n.casefold() in bare}

    def _compared(self) -> tuple[object, ...]:
        return (
            self.name,
            self.sql,
            self.columns,
            self.materialized,
            sorted(self.indexes, key=lambda i: (i.name, i.columns, i.unique)),
        )

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, View):
            return NotImplemented
        return self._compared() == other._compared()

    def __hash__(self) -> int:
        return hash((self.name, self.columns, self.materialized))

    def __repr__(self) -> str:
        lines = [f"View(\n    {self.name!r},\n    sql={self.sql!r},\n    columns=("]
        lines += [f"        {c!r}," for c in self.columns]
        lines.append("    ),")
        if self.materialized:
            lines.append("    materialized=True,")
        if self.indexes:
            lines.append(f"    indexes={self.indexes!r},")
        lines.append(")")
        return "\n".join(lines)


@dataclass(frozen=True, slots=True)
class Schema:
    """The tables of a database, in an order where each table follows those it
    references (cycles aside), its enum types and its views."""

    tables: tuple[Table, ...] = ()
    #: The native enum types the columns name (``EnumType``), in creation order.
    enums: tuple[EnumType, ...] = ()
    #: The views, in creation order (after every table; a view may read
    #: the views before it).
    views: tuple[View, ...] = ()
    #: The tables by name: the differ and the operations look tables up by
    #: name all the time, and a schema may have hundreds.
    _by_name: dict[str, Table] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "tables", tuple(self.tables))
        by_name = {t.name: t for t in self.tables}
        if len(by_name) != len(self.tables):
            names = [t.name for t in self.tables]
            twice = sorted({n for n in names if names.count(n) > 1})
            raise SchemaStateError(f"two tables named {twice[0]!r}")
        object.__setattr__(self, "_by_name", by_name)
        object.__setattr__(self, "enums", tuple(self.enums))
        if len({e.name for e in self.enums}) != len(self.enums):
            raise SchemaStateError("two enum types of one name")
        object.__setattr__(self, "views", tuple(self.views))
        views = [v.name for v in self.views]
        if len(set(views)) != len(views):
            twice = sorted({n for n in views if views.count(n) > 1})
            raise SchemaStateError(f"two views named {twice[0]!r}")
        # A view and a table share the namespace of relations.
        both = sorted(set(views) & by_name.keys())
        if both:
            raise SchemaStateError(f"{both[0]!r} is the name of a table and of a view")

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Schema):
            return NotImplemented
        key = lambda t: t.name  # noqa: E731
        return (
            sorted(self.tables, key=key) == sorted(other.tables, key=key)
            and sorted(self.enums, key=key) == sorted(other.enums, key=key)
            and sorted(self.views, key=key) == sorted(other.views, key=key)
        )

    def __hash__(self) -> int:
        return hash((frozenset(self.tables), frozenset(self.enums), frozenset(self.views)))

    def view(self, name: str) -> View:
        """The view ``name``."""
        for found in self.views:
            if found.name == name:
                return found
        raise SchemaStateError(f"there is no view {name!r}")

    def has_view(self, name: str) -> bool:
        return any(v.name == name for v in self.views)

    def put_view(self, view: View) -> Schema:
        """This schema with ``view`` replacing the view of its name in place,
        or added at the end."""
        if self.has_view(view.name):
            return replace(
                self, views=tuple(view if v.name == view.name else v for v in self.views)
            )
        return replace(self, views=(*self.views, view))

    def without_view(self, name: str) -> Schema:
        self.view(name)
        return replace(self, views=tuple(v for v in self.views if v.name != name))

    def enum(self, name: str) -> EnumType:
        """The enum type ``name``."""
        for found in self.enums:
            if found.name == name:
                return found
        raise SchemaStateError(f"there is no enum type {name!r}")

    def has_enum(self, name: str) -> bool:
        return any(e.name == name for e in self.enums)

    def enum_values(self) -> dict[str, tuple[str, ...]]:
        """The values of each enum type, by name (what the DDL compilers take)."""
        return {e.name: e.values for e in self.enums}

    def enum_users(self, name: str) -> list[tuple[Table, Column]]:
        """The columns (and their tables) whose type is the enum type ``name``."""
        return [(t, c) for t in self.tables for c in t.columns if c.type.enum == name]

    def __iter__(self) -> Iterator[Table]:
        return iter(self.tables)

    def names(self) -> list[str]:
        return [t.name for t in self.tables]

    def has(self, name: str) -> bool:
        return name in self._by_name

    def table(self, name: str) -> Table:
        found = self._by_name.get(name)
        if found is None:
            raise SchemaStateError(f"there is no table {name!r}")
        return found

    def put(self, table: Table, *, old_name: str | None = None) -> Schema:
        """This schema with ``table`` replacing the table named ``old_name``
        (default: its own name) in place, or added at the end."""
        key = old_name or table.name
        if self.has(key):
            return replace(self, tables=tuple(table if t.name == key else t for t in self.tables))
        return replace(self, tables=(*self.tables, table))

    def without(self, name: str) -> Schema:
        self.table(name)
        return replace(self, tables=tuple(t for t in self.tables if t.name != name))

    def referencing(self, name: str) -> list[tuple[Table, Column]]:
        """The foreign key columns (and their tables) that point at table ``name``."""
        return [
            (t, c)
            for t in self.tables
            for c in t.columns
            if c.references is not None and c.references.table == name
        ]

    def ordered(self) -> Schema:
        """The same tables, each after the tables it references (a stable
        topological order; a cycle keeps the given order)."""
        by_name = {t.name: t for t in self.tables}
        done: dict[str, Table] = {}
        visiting: set[str] = set()

        def visit(table: Table) -> None:
            if table.name in done or table.name in visiting:
                return
            visiting.add(table.name)
            targets = [c.references.table if c.references else None for c in table.columns]
            for target in [*targets, *(fk.table for fk in table.foreign_keys)]:
                if target is not None and target != table.name and target in by_name:
                    visit(by_name[target])
            visiting.discard(table.name)
            done[table.name] = table

        for table in self.tables:
            visit(table)
        order = list(done.values())
        forward = _composite(closing_keys(order))
        if forward:
            # A key over several columns can only close a cycle after the
            # tables exist (``ALTER TABLE ... ADD``), which a migration's
            # CREATE TABLE cannot do: close it with a key over one column
            # where the cycle has one.
            greedy = _closing_by_single_keys(order)
            if len(_composite(closing_keys(greedy))) < len(forward):
                order = greedy
        return replace(self, tables=tuple(order))


def closing_keys(tables: Sequence[Table]) -> list[tuple[Table, Column | CompositeForeignKey]]:
    """The foreign keys of ``tables`` (in creation order) to a table later in
    the list, the keys that close a cycle: a column's reference, or a key
    over several columns."""
    later = {t.name for t in tables}
    found: list[tuple[Table, Column | CompositeForeignKey]] = []
    for table in tables:
        later.discard(table.name)
        found += [
            (table, column)
            for column in table.columns
            if column.references is not None and column.references.table in later
        ]
        found += [(table, fk) for fk in table.foreign_keys if fk.table in later]
    return found


def _composite(keys: list[tuple[Table, Column | CompositeForeignKey]]) -> list[CompositeForeignKey]:
    return [key for _, key in keys if isinstance(key, CompositeForeignKey)]


def _closing_by_single_keys(tables: Sequence[Table]) -> list[Table]:
    """``tables`` in an order where each comes after the tables it references
    where it can, and always after the targets of its keys over several
    columns where they allow it: the first table (in the given order) whose
    targets are all placed, else the first whose keys over several columns
    are (its keys over one column close the cycle), else the first left."""
    names = {t.name for t in tables}
    placed: set[str] = set()
    order: list[Table] = []
    left = list(tables)

    def targets(table: Table, composite_only: bool) -> set[str]:
        found = {fk.table for fk in table.foreign_keys}
        if not composite_only:
            found |= {c.references.table for c in table.columns if c.references is not None}
        return (found & names) - {table.name}

    while left:
        table = next((t for t in left if targets(t, False) <= placed), None)
        table = table or next((t for t in left if targets(t, True) <= placed), left[0])
        left.remove(table)
        placed.add(table.name)
        order.append(table)
    return order


# -- the producer from table classes ------------------------------------------------


def _type_of(column: _RuntimeColumn[Any]) -> Type:
    """The state type of a runtime column (a foreign key: its target key's value type)."""
    if isinstance(column, _RuntimeFK):
        key = column._target_key()
        if isinstance(key, _BigSerial):
            return Type("BigInt")
        if isinstance(key, _Serial):
            return Type("Integer")
        return _type_of(key)
    kind = type(column).__name__
    # Generated code subclasses nothing but foreign keys; a user's subclass
    # of a column class is stored as the runtime class it derives from.
    for base in type(column).__mro__:
        if base.__name__ in KINDS and base.__module__.startswith("runtime."):
            kind = base.__name__
            break
    element = getattr(column, "base_column", None)
    return Type(
        kind,
        length=getattr(column, "length", None),
        digits=getattr(column, "digits", None),
        element=_type_of(element) if kind == "Array" and element is not None else None,
        enum=column.type_name if isinstance(column, _c.Enum) else None,
    )


def default_of(column: _RuntimeColumn[Any]) -> DefaultValue:
    """What ``column``'s ``DEFAULT`` clause is made from (``None``: no clause).

    The column class says (``Column._state_default``): a non-null column
    without a declared default gets its type's zero (Piccolo's rule), a
    dynamic one where that zero is "now" or a fresh UUID; a required column,
    a primary key, a serial and a foreign key without a declared default get
    none.
    """
    value: Any = column._state_default()
    return copy.deepcopy(value) if isinstance(value, (list, dict)) else value


def column_of(column: _RuntimeColumn[Any]) -> Column:
    """The state of one runtime column (bound to its table)."""
    meta = column._meta
    references = None
    if isinstance(column, _RuntimeFK):
        target = column.target()
        references = ForeignKey(
            table=target._meta.tablename,
            column=column._target_key()._meta.db_name,
            on_delete=column.on_delete,
            on_update=column.on_update,
            deferrable=column._deferrable,
            initially_deferred=column._initially_deferred,
        )
    return Column(
        name=meta.db_name,
        type=_type_of(column),
        null=meta.null and not meta.primary_key,
        default=default_of(column),
        primary_key=meta.primary_key,
        unique=meta.unique and not meta.primary_key,
        index=meta.index and not meta.primary_key,
        references=references,
    )


def table_of(table: type[_RuntimeTable[Any]]) -> Table:
    """The state of one table class."""
    meta = table._meta

    def db_names(attributes: tuple[str, ...]) -> tuple[str, ...]:
        return tuple(meta.column_map[a]._meta.db_name for a in attributes)

    indexes = []
    for declared in meta.indexes:
        columns = db_names(declared.columns)
        name = declared.name or _naming.index_name(meta.tablename, columns)
        indexes.append(Index(name, columns, unique=declared.unique))
    unique = [
        Unique(_naming.unique_name(meta.tablename, db_names(group)), db_names(group))
        for group in meta.unique
    ]
    return Table(
        name=meta.tablename,
        columns=tuple(column_of(c) for c in meta.columns),
        indexes=tuple(indexes),
        unique=tuple(unique),
        checks=tuple(Check(c.name, c.sql) for c in meta.checks),
        composite_key=db_names(tuple(c._meta.name for c in meta.key)) if len(meta.key) > 1 else (),
        foreign_keys=tuple(
            _composite_fk_of(meta.tablename, fk) for fk in meta.composite_foreign_keys
        ),
    )


def _composite_fk_of(tablename: str, fk: _RuntimeCompositeFK[Any]) -> CompositeForeignKey:
    columns = tuple(c._meta.db_name for c in fk.columns())
    return CompositeForeignKey(
        name=fk.db_name or _naming.foreign_key_name(tablename, fk.name),
        columns=columns,
        table=fk.target()._meta.tablename,
        to=tuple(c._meta.db_name for c in fk.target_columns()),
        on_delete=fk.on_delete,
        on_update=fk.on_update,
    )


def enums_of(tables: Iterable[type[_RuntimeTable[Any]]]) -> tuple[EnumType, ...]:
    """The native enum types the columns of ``tables`` use, in order of first use.

    Raises ``SchemaStateError`` when two columns give one type name different values.
    """
    found: dict[str, EnumType] = {}
    for table in tables:
        for column in table._meta.columns:
            if isinstance(column, _RuntimeFK):
                continue  # a key to an enum column is not one (the generator refuses it)
            if isinstance(column, _c.Enum):
                enum_type = EnumType(column.type_name, column.values)
                if found.setdefault(enum_type.name, enum_type) != enum_type:
                    raise SchemaStateError(
                        f"enum type {enum_type.name!r} is used with the values "
                        f"{found[enum_type.name].values!r} and {enum_type.values!r}"
                    )
    return tuple(found.values())


def view_of(view: type[_RuntimeTable[Any]]) -> View:
    """The state of one view class (``runtime._view``)."""
    meta = view._meta
    definition = meta.view
    if definition is None:
        raise SchemaStateError(f"{view.__name__} is a table, not a view")
    indexes: list[Index] = []
    if definition.materialized:
        # A materialized view's key and unique columns have unique indexes
        # (what REFRESH ... CONCURRENTLY needs), its indexed columns plain ones.
        for column in meta.columns:
            name = column._meta.db_name
            if column._meta.primary_key:
                indexes.append(Index(_naming.primary_key_name(meta.tablename), (name,), True))
            elif column._meta.unique:
                indexes.append(Index(_naming.unique_name(meta.tablename, (name,)), (name,), True))
            elif column._meta.index:
                indexes.append(Index(_naming.index_name(meta.tablename, (name,)), (name,)))
    return View(
        name=meta.tablename,
        sql=definition.sql,
        columns=tuple(ViewColumn(c._meta.db_name, _type_of(c)) for c in meta.columns),
        materialized=definition.materialized,
        indexes=tuple(indexes),
    )


def is_view(cls: type[_RuntimeTable[Any]]) -> bool:
    """Whether ``cls`` is a view class (``runtime.View``) rather than a table."""
    return cls._meta.view is not None


def of_tables(tables: Iterable[type[_RuntimeTable[Any]]]) -> Schema:
    """The state of a set of table classes, in dependency order; the view
    classes among them (``runtime.View``) are its views, in the order given."""
    tables = list(tables)
    return Schema(
        tuple(table_of(t) for t in tables if not is_view(t)),
        enums=enums_of(tables),
        views=tuple(view_of(t) for t in tables if is_view(t)),
    ).ordered()


def renamed(table: Table, **changes: Any) -> Table:
    """``dataclasses.replace`` for a table (kept for readability at call sites)."""
    return replace(table, **changes)
