"""Operations: the steps from one schema state to the next.

Each operation is plain data (database names only) with three abilities:
``apply(schema)`` gives the state after it (pure; refuses what cannot be),
``inverse(before)`` gives the operation that undoes it, given the state it
was applied to, and ``repr()`` is the Python source a migration file holds.
Turning an operation into SQL is the dialect compiler's job
(``runtime.schema.compile``), so the same file runs on both engines.

Renaming a table or a column also renames the derived names of its indexes
and constraints (``band_name_key`` -> ``group_name_key``), so the state after
a rename is the state of a schema that had the new name from the start.
"""

from __future__ import annotations

import enum
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any, Final

from .. import _naming
from .checksql import column_names
from .checksql import renamed as _renamed_sql
from .state import (
    Check,
    Column,
    DefaultValue,
    EnumType,
    ForeignKey,
    Index,
    Schema,
    SchemaStateError,
    Table,
    Type,
    Unique,
    View,
)

if TYPE_CHECKING:
    pass

__all__ = [
    "UNCHANGED",
    "AddCheck",
    "AddColumn",
    "AddIndex",
    "AddUnique",
    "AddEnumValue",
    "AlterColumn",
    "CreateEnum",
    "CreateTable",
    "CreateView",
    "DropCheck",
    "DropColumn",
    "DropEnum",
    "DropEnumValue",
    "DropIndex",
    "DropTable",
    "DropUnique",
    "DropView",
    "IrreversibleError",
    "Operation",
    "RenameColumn",
    "RenameEnumValue",
    "RenameTable",
    "RunPython",
    "RunSQL",
]


class IrreversibleError(SchemaStateError):
    """An operation that has no inverse (a ``RunSQL`` without ``backwards``)."""


class Operation:
    """Base of the operations."""

    def apply(self, schema: Schema) -> Schema:
        raise NotImplementedError

    def inverse(self, before: Schema) -> Operation:
        """The operation that undoes this one, applied to the state ``before`` it."""
        raise NotImplementedError

    def describe(self) -> str:
        """One line for progress output and lint (``add column band.rating``)."""
        raise NotImplementedError


# -- tables ------------------------------------------------------------------------


@dataclass(frozen=True, repr=False)
class CreateTable(Operation):
    table: Table

    def apply(self, schema: Schema) -> Schema:
        if schema.has(self.table.name):
            raise SchemaStateError(f"table {self.table.name!r} exists already")
        if schema.has_view(self.table.name):
            raise SchemaStateError(f"a view named {self.table.name!r} exists already")
        _check_targets(schema.put(self.table), self.table)
        return schema.put(self.table)

    def inverse(self, before: Schema) -> Operation:
        return DropTable(self.table.name)

    def describe(self) -> str:
        return f"create table {self.table.name}"

    def __repr__(self) -> str:
        return f"CreateTable({self.table!r})"


@dataclass(frozen=True)
class DropTable(Operation):
    name: str

    def apply(self, schema: Schema) -> Schema:
        schema.table(self.name)
        others = [
            f"{t.name}.{c.name}" for t, c in schema.referencing(self.name) if t.name != self.name
        ]
        others += [
            f"{t.name}.{f.name}"
            for t in schema.tables
            for f in t.foreign_keys
            if f.table == self.name and t.name != self.name
        ]
        if others:
            raise SchemaStateError(
                f"table {self.name!r} is referenced by {', '.join(others)}; drop those first"
            )
        return schema.without(self.name)

    def inverse(self, before: Schema) -> Operation:
        return CreateTable(before.table(self.name))

    def describe(self) -> str:
        return f"drop table {self.name}"


@dataclass(frozen=True)
class RenameTable(Operation):
    old: str
    new: str

    def apply(self, schema: Schema) -> Schema:
        table = schema.table(self.old)
        if schema.has(self.new) or schema.has_view(self.new):
            raise SchemaStateError(f"a table or view named {self.new!r} exists already")
        renamed = replace(
            table,
            name=self.new,
            indexes=tuple(
                replace(i, name=_rederive(i.name, self.old, i.columns, self.new, i.columns, ""))
                for i in table.indexes
            ),
            unique=tuple(
                replace(u, name=_rederive(u.name, self.old, u.columns, self.new, u.columns, "key"))
                for u in table.unique
            ),
        )
        schema = schema.put(renamed, old_name=self.old)
        return _retarget(schema, self.old, None, self.new, None)

    def inverse(self, before: Schema) -> Operation:
        return RenameTable(self.new, self.old)

    def describe(self) -> str:
        return f"rename table {self.old} to {self.new}"


# -- columns -----------------------------------------------------------------------


@dataclass(frozen=True)
class AddColumn(Operation):
    table: str
    column: Column

    def apply(self, schema: Schema) -> Schema:
        table = schema.table(self.table)
        if table.has_column(self.column.name):
            raise SchemaStateError(
                f"table {self.table!r} has a column {self.column.name!r} already"
            )
        if self.column.primary_key:
            raise SchemaStateError("a primary key column cannot be added to a table")
        after = schema.put(replace(table, columns=(*table.columns, self.column)))
        _check_targets(after, after.table(self.table))
        return after

    def inverse(self, before: Schema) -> Operation:
        return DropColumn(self.table, self.column.name)

    def describe(self) -> str:
        return f"add column {self.table}.{self.column.name}"


@dataclass(frozen=True)
class DropColumn(Operation):
    table: str
    name: str

    def apply(self, schema: Schema) -> Schema:
        table = schema.table(self.table)
        column = table.column(self.name)
        if column.primary_key or self.name in table.composite_key:
            raise SchemaStateError(f"the primary key {self.table}.{self.name} cannot be dropped")
        held = [f.name for f in table.foreign_keys if self.name in f.columns]
        if held:
            raise SchemaStateError(
                f"{self.table}.{self.name} holds the foreign key {held[0]!r} over several"
                " columns; drop the table, or change it with RunSQL"
            )
        users = [
            f"{t.name}.{c.name}"
            for t, c in schema.referencing(self.table)
            if c.references is not None and c.references.column == self.name
        ]
        if users:
            raise SchemaStateError(
                f"{self.table}.{self.name} is referenced by {', '.join(users)}; drop those first"
            )
        # Indexes and constraints over the column go with it (as in SQL).
        return schema.put(
            replace(
                table,
                columns=tuple(c for c in table.columns if c.name != self.name),
                indexes=tuple(i for i in table.indexes if self.name not in i.columns),
                unique=tuple(u for u in table.unique if self.name not in u.columns),
                checks=tuple(c for c in table.checks if self.name not in column_names(c.sql)),
            )
        )

    def inverse(self, before: Schema) -> Operation:
        table = before.table(self.table)
        column = table.column(self.name)
        # The indexes and constraints the drop took along come back too.
        lost: list[Operation] = [
            AddIndex(self.table, i) for i in table.indexes if self.name in i.columns
        ]
        lost += [AddUnique(self.table, u) for u in table.unique if self.name in u.columns]
        lost += [AddCheck(self.table, c) for c in table.checks if self.name in column_names(c.sql)]
        add = AddColumn(self.table, column)
        return add if not lost else Sequence((add, *lost))

    def describe(self) -> str:
        return f"drop column {self.table}.{self.name}"


@dataclass(frozen=True)
class RenameColumn(Operation):
    table: str
    old: str
    new: str

    def apply(self, schema: Schema) -> Schema:
        table = schema.table(self.table)
        table.column(self.old)
        if table.has_column(self.new):
            raise SchemaStateError(f"table {self.table!r} has a column {self.new!r} already")

        def swap(names: tuple[str, ...]) -> tuple[str, ...]:
            return tuple(self.new if n == self.old else n for n in names)

        t = table.name
        renamed = replace(
            table,
            columns=tuple(
                replace(c, name=self.new) if c.name == self.old else c for c in table.columns
            ),
            indexes=tuple(
                replace(
                    i,
                    name=_rederive(i.name, t, i.columns, t, swap(i.columns), ""),
                    columns=swap(i.columns),
                )
                for i in table.indexes
            ),
            unique=tuple(
                replace(
                    u,
                    name=_rederive(u.name, t, u.columns, t, swap(u.columns), "key"),
                    columns=swap(u.columns),
                )
                for u in table.unique
            ),
            # Both databases rewrite a check's expression on a column rename.
            checks=tuple(
                replace(c, sql=_renamed_sql(c.sql, self.old, self.new)) for c in table.checks
            ),
            composite_key=swap(table.composite_key),
            foreign_keys=tuple(replace(f, columns=swap(f.columns)) for f in table.foreign_keys),
        )
        return _retarget(schema.put(renamed), self.table, self.old, self.table, self.new)

    def inverse(self, before: Schema) -> Operation:
        return RenameColumn(self.table, self.new, self.old)

    def describe(self) -> str:
        return f"rename column {self.table}.{self.old} to {self.new}"


class _Unchanged(enum.Enum):
    UNCHANGED = "UNCHANGED"

    def __repr__(self) -> str:
        return "UNCHANGED"


#: An ``AlterColumn`` field left as it was.
UNCHANGED: Final = _Unchanged.UNCHANGED

_ALTERABLE: Final = ("type", "null", "default", "unique", "index", "references")


@dataclass(frozen=True)
class AlterColumn(Operation):
    """Changes to one column: each field given is the new value, the others stay."""

    table: str
    name: str
    type: Type | _Unchanged = UNCHANGED
    null: bool | _Unchanged = UNCHANGED
    default: DefaultValue | _Unchanged = UNCHANGED
    unique: bool | _Unchanged = UNCHANGED
    index: bool | _Unchanged = UNCHANGED
    references: ForeignKey | None | _Unchanged = UNCHANGED

    def changes(self) -> dict[str, Any]:
        """The fields this operation sets, with their new values."""
        return {n: getattr(self, n) for n in _ALTERABLE if getattr(self, n) is not UNCHANGED}

    def apply(self, schema: Schema) -> Schema:
        table = schema.table(self.table)
        column = table.column(self.name)
        if not self.changes():
            raise SchemaStateError(f"AlterColumn of {self.table}.{self.name} changes nothing")
        in_key = column.primary_key or self.name in table.composite_key
        if in_key and any(k not in ("type", "references") for k in self.changes()):
            raise SchemaStateError(
                f"only the type of the primary key {self.table}.{self.name} can change"
            )
        new = replace(column, **self.changes())
        after = schema.put(
            replace(table, columns=tuple(new if c.name == self.name else c for c in table.columns))
        )
        _check_targets(after, after.table(self.table))
        return after

    def inverse(self, before: Schema) -> Operation:
        old = before.table(self.table).column(self.name)
        return AlterColumn(self.table, self.name, **{k: getattr(old, k) for k in self.changes()})

    def describe(self) -> str:
        return f"alter column {self.table}.{self.name} ({', '.join(self.changes())})"

    def __repr__(self) -> str:
        args = [repr(self.table), repr(self.name)]
        args += [f"{k}={v!r}" for k, v in self.changes().items()]
        return f"AlterColumn({', '.join(args)})"


# -- indexes and constraints -------------------------------------------------------


@dataclass(frozen=True)
class AddIndex(Operation):
    table: str
    index: Index
    #: PostgreSQL: ``CREATE INDEX CONCURRENTLY`` (the migration must then run
    #: outside a transaction; see ``Migration.atomic``).
    concurrently: bool = False

    def apply(self, schema: Schema) -> Schema:
        table = schema.table(self.table)
        _check_free_name(schema, self.index.name)
        return schema.put(replace(table, indexes=(*table.indexes, self.index)))

    def inverse(self, before: Schema) -> Operation:
        return DropIndex(self.table, self.index.name, concurrently=self.concurrently)

    def describe(self) -> str:
        return f"add index {self.index.name} on {self.table} ({', '.join(self.index.columns)})"

    def __repr__(self) -> str:
        extra = ", concurrently=True" if self.concurrently else ""
        return f"AddIndex({self.table!r}, {self.index!r}{extra})"


@dataclass(frozen=True)
class DropIndex(Operation):
    table: str
    name: str
    concurrently: bool = False

    def apply(self, schema: Schema) -> Schema:
        return _drop_named(schema, self.table, "indexes", self.name, "index")

    def inverse(self, before: Schema) -> Operation:
        index = _named(before, self.table, "indexes", self.name, "index")
        return AddIndex(self.table, index, concurrently=self.concurrently)

    def describe(self) -> str:
        return f"drop index {self.name} on {self.table}"

    def __repr__(self) -> str:
        extra = ", concurrently=True" if self.concurrently else ""
        return f"DropIndex({self.table!r}, {self.name!r}{extra})"


@dataclass(frozen=True)
class AddUnique(Operation):
    table: str
    unique: Unique

    def apply(self, schema: Schema) -> Schema:
        table = schema.table(self.table)
        _check_free_name(schema, self.unique.name)
        return schema.put(replace(table, unique=(*table.unique, self.unique)))

    def inverse(self, before: Schema) -> Operation:
        return DropUnique(self.table, self.unique.name)

    def describe(self) -> str:
        return f"add unique {self.unique.name} on {self.table} ({', '.join(self.unique.columns)})"


@dataclass(frozen=True)
class DropUnique(Operation):
    table: str
    name: str

    def apply(self, schema: Schema) -> Schema:
        return _drop_named(schema, self.table, "unique", self.name, "unique constraint")

    def inverse(self, before: Schema) -> Operation:
        return AddUnique(self.table, _named(before, self.table, "unique", self.name, "unique"))

    def describe(self) -> str:
        return f"drop unique {self.name} on {self.table}"


@dataclass(frozen=True)
class AddCheck(Operation):
    """Add a check constraint: the database checks the rows already there,
    and the step fails (changing nothing) when one is refused."""

    table: str
    check: Check

    def apply(self, schema: Schema) -> Schema:
        table = schema.table(self.table)
        if any(c.name == self.check.name for c in table.checks):
            raise SchemaStateError(f"table {self.table!r} has a check {self.check.name!r} already")
        missing = [n for n in column_names(self.check.sql) if not table.has_column(n)]
        if missing:
            raise SchemaStateError(
                f"check {self.check.name!r} of table {self.table!r} names no column {missing[0]!r}"
            )
        return schema.put(replace(table, checks=(*table.checks, self.check)))

    def inverse(self, before: Schema) -> Operation:
        return DropCheck(self.table, self.check.name)

    def describe(self) -> str:
        return f"add check {self.check.name} on {self.table} ({self.check.sql})"


@dataclass(frozen=True)
class DropCheck(Operation):
    table: str
    name: str

    def apply(self, schema: Schema) -> Schema:
        return _drop_named(schema, self.table, "checks", self.name, "check")

    def inverse(self, before: Schema) -> Operation:
        return AddCheck(self.table, _named(before, self.table, "checks", self.name, "check"))

    def describe(self) -> str:
        return f"drop check {self.name} on {self.table}"


# -- enum types --------------------------------------------------------------------


@dataclass(frozen=True, repr=False)
class CreateEnum(Operation):
    """Create a native enum type (PostgreSQL ``CREATE TYPE ... AS ENUM``; on
    SQLite, which has none, the state alone: its columns carry checks)."""

    enum: EnumType

    def apply(self, schema: Schema) -> Schema:
        if schema.has_enum(self.enum.name):
            raise SchemaStateError(f"enum type {self.enum.name!r} exists already")
        return replace(schema, enums=(*schema.enums, self.enum))

    def inverse(self, before: Schema) -> Operation:
        return DropEnum(self.enum.name)

    def describe(self) -> str:
        return f"create enum type {self.enum.name} ({', '.join(self.enum.values)})"

    def __repr__(self) -> str:
        return f"CreateEnum({self.enum!r})"


@dataclass(frozen=True)
class DropEnum(Operation):
    name: str

    def apply(self, schema: Schema) -> Schema:
        schema.enum(self.name)
        users = [f"{t.name}.{c.name}" for t, c in schema.enum_users(self.name)]
        users += [
            f"{v.name}.{c.name}"
            for v in schema.views
            for c in v.columns
            if c.type.enum == self.name
        ]
        if users:
            raise SchemaStateError(
                f"enum type {self.name!r} is the type of {', '.join(users)}; drop those first"
            )
        return replace(schema, enums=tuple(e for e in schema.enums if e.name != self.name))

    def inverse(self, before: Schema) -> Operation:
        return CreateEnum(before.enum(self.name))

    def describe(self) -> str:
        return f"drop enum type {self.name}"


@dataclass(frozen=True, repr=False)
class AddEnumValue(Operation):
    """Add a value to an enum type: at the end, or ``before``/``after`` a value
    it has (PostgreSQL ``ALTER TYPE ... ADD VALUE``, which PostgreSQL 12 and
    later run in a transaction, but whose new value that transaction cannot
    use: ``migrations new --auto`` writes these in a migration of their own;
    SQLite: its columns' tables are rebuilt with the new check)."""

    enum: str
    value: str
    before: str | None = None
    after: str | None = None

    def apply(self, schema: Schema) -> Schema:
        found = schema.enum(self.enum)
        if self.value in found.values:
            raise SchemaStateError(f"enum type {self.enum!r} has the value {self.value!r} already")
        if self.before is not None and self.after is not None:
            raise SchemaStateError("AddEnumValue takes before or after, not both")
        values = list(found.values)
        neighbour = self.before if self.before is not None else self.after
        if neighbour is None:
            values.append(self.value)
        elif neighbour not in values:
            raise SchemaStateError(f"enum type {self.enum!r} has no value {neighbour!r}")
        else:
            at = values.index(neighbour) + (0 if self.before is not None else 1)
            values.insert(at, self.value)
        return _put_enum(schema, EnumType(self.enum, tuple(values)))

    def inverse(self, before: Schema) -> Operation:
        return DropEnumValue(self.enum, self.value)

    def describe(self) -> str:
        return f"add value {self.value!r} to enum type {self.enum}"

    def __repr__(self) -> str:
        args = [repr(self.enum), repr(self.value)]
        args += [
            f"{k}={v!r}"
            for k, v in (("before", self.before), ("after", self.after))
            if v is not None
        ]
        return f"AddEnumValue({', '.join(args)})"


@dataclass(frozen=True)
class DropEnumValue(Operation):
    """Remove a value from an enum type. PostgreSQL cannot remove one in
    place: the type is made again without it and its columns converted, which
    fails (changing nothing) when a row holds the value. SQLite: its columns'
    tables are rebuilt with the new check, which fails the same way."""

    enum: str
    value: str

    def apply(self, schema: Schema) -> Schema:
        found = schema.enum(self.enum)
        if self.value not in found.values:
            raise SchemaStateError(f"enum type {self.enum!r} has no value {self.value!r}")
        if len(found.values) == 1:
            raise SchemaStateError(f"the last value of enum type {self.enum!r} cannot be removed")
        for table, column in schema.enum_users(self.enum):
            if column.default == self.value:
                raise SchemaStateError(
                    f"{table.name}.{column.name} defaults to {self.value!r}; change the "
                    "default first"
                )
        values = tuple(v for v in found.values if v != self.value)
        return _put_enum(schema, EnumType(self.enum, values))

    def inverse(self, before: Schema) -> Operation:
        values = before.enum(self.enum).values
        at = values.index(self.value)
        if at + 1 < len(values):
            return AddEnumValue(self.enum, self.value, before=values[at + 1])
        return AddEnumValue(self.enum, self.value)

    def describe(self) -> str:
        return f"drop value {self.value!r} from enum type {self.enum}"


@dataclass(frozen=True)
class RenameEnumValue(Operation):
    """Rename a value of an enum type, in place (PostgreSQL ``ALTER TYPE ...
    RENAME VALUE``; SQLite: the rows' values and the check change, the latter
    by a rebuild). Columns that default to it default to the new name. Not
    written by the differ, which cannot tell a rename from a removal and an
    addition: a migration states it."""

    enum: str
    old: str
    new: str

    def apply(self, schema: Schema) -> Schema:
        found = schema.enum(self.enum)
        if self.old not in found.values:
            raise SchemaStateError(f"enum type {self.enum!r} has no value {self.old!r}")
        if self.new in found.values:
            raise SchemaStateError(f"enum type {self.enum!r} has the value {self.new!r} already")
        values = tuple(self.new if v == self.old else v for v in found.values)
        schema = _put_enum(schema, EnumType(self.enum, values))
        for table, column in schema.enum_users(self.enum):
            if column.default == self.old:
                moved = replace(column, default=self.new)
                columns = tuple(moved if c.name == column.name else c for c in table.columns)
                schema = schema.put(replace(table, columns=columns))
        return schema

    def inverse(self, before: Schema) -> Operation:
        return RenameEnumValue(self.enum, self.new, self.old)

    def describe(self) -> str:
        return f"rename value {self.old!r} of enum type {self.enum} to {self.new!r}"


def _put_enum(schema: Schema, enum: EnumType) -> Schema:
    return replace(schema, enums=tuple(enum if e.name == enum.name else e for e in schema.enums))


def _check_enums(schema: Schema, table: Table) -> None:
    """The enum types the columns of ``table`` name exist."""
    for column in table.columns:
        name = column.type.enum
        if name is not None and not schema.has_enum(name):
            raise SchemaStateError(
                f"{table.name}.{column.name} has the enum type {name!r}, which does not exist"
            )


# -- views -------------------------------------------------------------------------


@dataclass(frozen=True, repr=False)
class CreateView(Operation):
    """Create a view (``CREATE [MATERIALIZED] VIEW ... AS <sql>``; on SQLite a
    materialized view is a plain one). Its SQL is not read: the tables and
    views it reads must exist when it runs, which the differ sees to by
    creating views after every table and in the schema's order. A changed
    view is dropped and created again (``DropView``, ``CreateView``)."""

    view: View

    def apply(self, schema: Schema) -> Schema:
        name = self.view.name
        if schema.has_view(name) or schema.has(name):
            raise SchemaStateError(f"a table or view named {name!r} exists already")
        for column in self.view.columns:
            enum = column.type.enum
            if enum is not None and not schema.has_enum(enum):
                raise SchemaStateError(
                    f"{name}.{column.name} has the enum type {enum!r}, which does not exist"
                )
        return schema.put_view(self.view)

    def inverse(self, before: Schema) -> Operation:
        return DropView(self.view.name)

    def describe(self) -> str:
        kind = "materialized view" if self.view.materialized else "view"
        return f"create {kind} {self.view.name}"

    def __repr__(self) -> str:
        return f"CreateView({self.view!r})"


@dataclass(frozen=True)
class DropView(Operation):
    name: str

    def apply(self, schema: Schema) -> Schema:
        return schema.without_view(self.name)

    def inverse(self, before: Schema) -> Operation:
        return CreateView(before.view(self.name))

    def describe(self) -> str:
        return f"drop view {self.name}"


# -- data --------------------------------------------------------------------------

#: SQL for every dialect, or per dialect name (``{"postgres": ..., "sqlite": ...}``).
SQLText = str | Mapping[str, str]


@dataclass(frozen=True)
class RunSQL(Operation):
    """SQL that changes data (or anything the state does not model).

    ``backwards`` undoes it; without one the migration cannot be reverted.
    The state is unchanged: a ``RunSQL`` that changes tables must be paired
    with the operations that say so, or the next ``check`` reports drift.
    """

    forwards: SQLText
    backwards: SQLText | None = None

    def apply(self, schema: Schema) -> Schema:
        return schema

    def inverse(self, before: Schema) -> Operation:
        if self.backwards is None:
            raise IrreversibleError("this RunSQL has no backwards SQL")
        return RunSQL(self.backwards, self.forwards)

    def sql_for(self, dialect: str) -> str:
        if isinstance(self.forwards, str):
            return self.forwards
        if dialect not in self.forwards:
            raise SchemaStateError(f"this RunSQL has no SQL for {dialect}")
        return self.forwards[dialect]

    def describe(self) -> str:
        text = (
            self.forwards if isinstance(self.forwards, str) else next(iter(self.forwards.values()))
        )
        first = " ".join(text.split())
        return f"run SQL {first[:60]}{'...' if len(first) > 60 else ''}"


@dataclass(frozen=True)
class RunPython(Operation):
    """A Python function that changes data: ``async def f(db: MigrationDB) -> None``.

    It runs on the migration's connection, inside its transaction; ``db``
    has ``fetch``, ``execute`` and ``dialect`` (see ``runtime.migrations``).
    """

    forwards: Callable[[Any], Awaitable[None]]
    backwards: Callable[[Any], Awaitable[None]] | None = None

    def apply(self, schema: Schema) -> Schema:
        return schema

    def inverse(self, before: Schema) -> Operation:
        if self.backwards is None:
            raise IrreversibleError("this RunPython has no backwards function")
        return RunPython(self.backwards, self.forwards)

    def describe(self) -> str:
        return f"run Python {getattr(self.forwards, '__name__', 'function')}"

    def __repr__(self) -> str:
        names = [getattr(f, "__name__", "?") for f in (self.forwards, self.backwards) if f]
        return f"RunPython({', '.join(names)})"


@dataclass(frozen=True)
class Sequence(Operation):
    """Several operations as one (the inverse of a drop that took indexes along)."""

    operations: tuple[Operation, ...] = field(default=())

    def apply(self, schema: Schema) -> Schema:
        for op in self.operations:
            schema = op.apply(schema)
        return schema

    def inverse(self, before: Schema) -> Operation:
        inverses: list[Operation] = []
        state = before
        for op in self.operations:
            inverses.append(op.inverse(state))
            state = op.apply(state)
        return Sequence(tuple(reversed(inverses)))

    def describe(self) -> str:
        return "; ".join(op.describe() for op in self.operations)

    def flatten(self) -> list[Operation]:
        out: list[Operation] = []
        for op in self.operations:
            out += op.flatten() if isinstance(op, Sequence) else [op]
        return out


# -- helpers -----------------------------------------------------------------------


def _rederive(
    name: str,
    table: str,
    columns: tuple[str, ...],
    new_table: str,
    new_columns: tuple[str, ...],
    suffix: str,
) -> str:
    """``name``, or its new derived form when it is the derived name of the old table/columns."""
    if name == _naming.derived_name(table, *columns, suffix=suffix):
        return _naming.derived_name(new_table, *new_columns, suffix=suffix)
    return name


def _retarget(
    schema: Schema, table: str, column: str | None, new_table: str, new_column: str | None
) -> Schema:
    """Point foreign keys at ``table`` (or its ``column``) to the new names."""
    tables = []
    for t in schema.tables:
        columns = []
        for c in t.columns:
            ref = c.references
            if ref is not None and ref.table == table and (column is None or ref.column == column):
                ref = replace(ref, table=new_table, column=new_column or ref.column)
                c = replace(c, references=ref)
            columns.append(c)
        groups = tuple(
            (
                replace(
                    f,
                    table=new_table,
                    to=tuple(new_column or n if n == column else n for n in f.to),
                )
                if f.table == table and (column is None or column in f.to)
                else f
            )
            for f in t.foreign_keys
        )
        tables.append(replace(t, columns=tuple(columns), foreign_keys=groups))
    return replace(schema, tables=tuple(tables))


def _check_targets(schema: Schema, table: Table) -> None:
    """The foreign keys of ``table`` point at existing columns (and its enum
    types exist)."""
    _check_enums(schema, table)
    for column in table.columns:
        ref = column.references
        if ref is None:
            continue
        if not schema.has(ref.table):
            raise SchemaStateError(
                f"{table.name}.{column.name} references a missing table {ref.table!r}"
            )
        schema.table(ref.table).column(ref.column)


def _named(schema: Schema, table: str, field: str, name: str, what: str) -> Any:
    """The index, unique constraint or check ``name`` of ``table`` (``field``:
    ``"indexes"``, ``"unique"`` or ``"checks"``)."""
    for item in getattr(schema.table(table), field):
        if item.name == name:
            return item
    raise SchemaStateError(f"table {table!r} has no {what} {name!r}")


def _drop_named(schema: Schema, table: str, field: str, name: str, what: str) -> Schema:
    """``schema`` without the index, unique constraint or check ``name`` of ``table``."""
    _named(schema, table, field, name, what)
    found = schema.table(table)
    kept: dict[str, Any] = {field: tuple(i for i in getattr(found, field) if i.name != name)}
    return schema.put(replace(found, **kept))


def _check_free_name(schema: Schema, name: str) -> None:
    for table in schema.tables:
        groups: tuple[Index | Unique, ...] = (*table.indexes, *table.unique)
        for group in groups:
            if group.name == name:
                raise SchemaStateError(f"an index or constraint named {name!r} exists already")
