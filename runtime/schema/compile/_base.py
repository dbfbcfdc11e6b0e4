"""What both dialects' compilers share: steps, the column definitions of
``CREATE TABLE``, and the lowering of a state to what the DDL creates.

Type mapping and default rendering stay in the runtime's column classes:
the compiler builds a column object of the state's type
(``runtime_column``) and asks it, so a column type's SQL is written once.
"""

from __future__ import annotations

from collections.abc import Mapping
from collections.abc import Sequence as _Seq
from dataclasses import dataclass, replace
from typing import Any, Final, Protocol, runtime_checkable

from ... import _naming
from ..._array import Array
from ..._columns import (
    Column,
    DynamicDefault,
    Enum,
    Numeric,
)
from ..._dialect import Dialect
from ..._engine_base import EngineError
from .. import operations as ops
from ..compare import deferrable_sql
from ..database import (
    DbCheck,
    DbColumn,
    DbCompositeForeignKey,
    DbEnum,
    DbForeignKey,
    DbIndex,
    DbSchema,
    DbTable,
    DbUnique,
    DbView,
    DbViewColumn,
)
from ..state import (
    COLUMN_CLASSES,
    Check,
    CompositeForeignKey,
    EnumType,
    Index,
    Schema,
    Table,
    Type,
    View,
    closing_keys,
)
from ..state import Column as StateColumn

__all__ = [
    "ACTIONS",
    "AlterError",
    "Compiler",
    "DdlConnection",
    "RunPythonStep",
    "SQLDefault",
    "Step",
    "StepObject",
    "runtime_column",
    "statements_of",
]


class AlterError(EngineError):
    """A schema change the database cannot make (the message says why)."""


#: Foreign key actions as SQL words.
ACTIONS: Final = {
    "cascade": "CASCADE",
    "restrict": "RESTRICT",
    "no_action": "NO ACTION",
    "set_null": "SET NULL",
    "set_default": "SET DEFAULT",
}


class SQLDefault(DynamicDefault):
    """A default given as the SQL text a database holds (``'a'``,
    ``CURRENT_DATE``), for a state read from a live table where the value it
    was made from does not matter: the compiler writes the text back as it is."""

    __slots__ = ("text",)

    def __init__(self, text: str) -> None:
        self.text = text

    def __eq__(self, other: object) -> bool:
        return isinstance(other, SQLDefault) and other.text == self.text

    def __hash__(self) -> int:
        return hash(self.text)

    def python(self) -> object:
        raise TypeError(f"the database default {self.text} has no Python value here")

    def __repr__(self) -> str:
        return f"SQLDefault({self.text!r})"


class DdlConnection(Protocol):
    """The connection steps run on (``runtime.schema.session.ddl_session``):
    one transaction, unless the session was opened without one."""

    @property
    def dialect(self) -> Dialect: ...

    async def fetch(self, sql: str, params: _Seq[object] = ()) -> list[_Seq[Any]]: ...

    async def execute(self, sql: str, params: _Seq[object] = ()) -> None:
        """Run ``sql``: with ``params``, one statement; without, it may hold several."""
        ...

    @property
    def foreign_keys_enforced(self) -> bool:
        """Whether foreign keys are checked while the steps run (SQLite: a
        session inside an enclosing transaction cannot switch them off)."""
        ...


@runtime_checkable
class StepObject(Protocol):
    """A step that is more than one fixed statement (a table rebuild, Python code)."""

    def statements(self) -> list[str]:
        """The SQL it runs, for printing (``migrations sql``, ``print(alter)``)."""
        ...

    async def run(self, conn: DdlConnection) -> None: ...


#: A step: one SQL statement, or a step object.
Step = str | StepObject


def statements_of(steps: _Seq[Step]) -> list[str]:
    """The SQL of ``steps``, for printing."""
    return [
        sql for step in steps for sql in ([step] if isinstance(step, str) else step.statements())
    ]


@dataclass(frozen=True)
class RunPythonStep:
    """``RunPython``: calls the function with the session's connection."""

    function: Any

    def statements(self) -> list[str]:
        return [f"-- run Python {getattr(self.function, '__name__', 'function')}"]

    async def run(self, conn: DdlConnection) -> None:
        await self.function(conn)


def runtime_column(type: Type, *, name: str = "") -> Column[Any]:
    """A runtime column object of the state type ``type``, to ask for its SQL
    type and to render defaults (nullable, so any value may be checked)."""
    cls = COLUMN_CLASSES[type.kind]
    column: Column[Any]
    if type.kind == "Array":
        assert type.element is not None
        column = Array(runtime_column(type.element), null=True)
    elif type.kind in ("Varchar", "Char", "Email"):
        column = cls(null=True)
        if type.length is not None:
            column.length = type.length  # type: ignore[attr-defined]
    elif type.kind == "Numeric":
        column = Numeric(null=True, digits=type.digits)
    elif type.kind == "Enum":
        column = Enum(type_name=type.enum, null=True)
    else:
        column = cls(null=True)
    column._meta.name = name
    return column


def _named(derived: str, *parts: str) -> list[str]:
    """``CONSTRAINT "derived"``, unless PostgreSQL would choose that name itself.

    PostgreSQL names an unnamed column constraint ``parts`` joined by ``_``
    (``table_column_key``), which is the derived name while it fits: such
    names stay out of the DDL, as they always were. A longer one PostgreSQL
    truncates, and numbers on a clash in the order tables are created, so
    the derived name is given instead.
    """
    return [] if derived == "_".join(parts) else [f"CONSTRAINT {Dialect.quote(derived)}"]


class Compiler:
    """Operations -> SQL for one dialect (``compiler_for(dialect)``).

    ``create_table`` and ``lower`` say what a state's DDL is and what it
    creates; ``compile`` turns one operation, given the state before it, into
    steps. Subclasses hold the dialect's ``ALTER`` knowledge.
    """

    dialect: Dialect

    # -- types and defaults ------------------------------------------------

    def type_sql(self, column: StateColumn) -> str:
        """The SQL type of ``column`` as its DDL writes it."""
        return runtime_column(column.type, name=column.name)._ddl_type(self.dialect)

    def default_sql(self, column: StateColumn) -> str | None:
        """The ``DEFAULT`` text of ``column``; ``None``: no clause."""
        if column.primary_key:
            return None
        if isinstance(column.default, SQLDefault):
            return column.default.text
        return runtime_column(column.type, name=column.name)._default_sql(
            column.default, self.dialect
        )

    def references_sql(self, column: StateColumn) -> str:
        ref = column.references
        assert ref is not None
        quote = Dialect.quote
        return (
            f" REFERENCES {quote(ref.table)} ({quote(ref.column)})"
            f" ON DELETE {ACTIONS[ref.on_delete]} ON UPDATE {ACTIONS[ref.on_update]}"
            + deferrable_sql(ref.deferrable, ref.initially_deferred)
        )

    # -- CREATE TABLE ------------------------------------------------------

    def column_sql(self, table: str, column: StateColumn) -> str:
        """The column's definition in ``CREATE TABLE`` or ``ADD COLUMN`` of table
        ``table``, which its constraint names derive from."""
        parts = [Dialect.quote(column.name), self.type_sql(column)]
        if column.primary_key:
            parts += [*_named(_naming.primary_key_name(table), table, "pkey"), "PRIMARY KEY"]
        else:
            if not column.null:
                parts.append("NOT NULL")
            if column.unique:
                key = _naming.unique_name(table, (column.name,))
                parts += [*_named(key, table, column.name, "key"), "UNIQUE"]
            default = self.default_sql(column)
            if default is not None:
                parts.append(f"DEFAULT {default}")
        if column.references is not None:
            parts += _named(
                _naming.foreign_key_name(table, column.name), table, column.name, "fkey"
            )
        sql = " ".join(parts)
        if column.references is not None:
            sql += self.references_sql(column)
        return sql

    def column_index_sql(self, table: str, column: StateColumn, *, guard: str = "") -> list[str]:
        """The ``CREATE INDEX`` of a column declared ``index=True``."""
        if not column.index or column.primary_key:
            return []
        quote = Dialect.quote
        index = quote(_naming.index_name(table, (column.name,)))
        return [f"CREATE INDEX {guard}{index} ON {quote(table)} ({quote(column.name)})"]

    def index_sql(
        self, table: str, index: Index, *, guard: str = "", concurrently: bool = False
    ) -> str:
        quote = Dialect.quote
        listed = ", ".join(quote(c) for c in index.columns)
        how = "CONCURRENTLY " if concurrently else ""
        return (
            f"CREATE {'UNIQUE ' if index.unique else ''}INDEX {how}{guard}"
            f"{quote(index.name)} ON {quote(table)} ({listed})"
        )

    def create_table(
        self,
        table: Table,
        *,
        if_not_exists: bool = False,
        name: str | None = None,
        enums: Mapping[str, tuple[str, ...]] | None = None,
    ) -> list[str]:
        """``CREATE TABLE`` and ``CREATE INDEX`` statements for ``table``.

        ``name``: create it under another name (a rebuild's temporary table);
        constraint names still derive from the table's own name, and the
        index statements name the table by its own name. ``enums``: the
        values of the enum types the columns name (``Schema.enum_values()``),
        which a dialect without enum types writes as checks.
        """
        quote = Dialect.quote
        parts = [self.column_sql(table.name, c) for c in table.columns]
        if table.composite_key:
            parts.append(self.composite_key_sql(table))
        parts += [self.composite_foreign_key_sql(table.name, fk) for fk in table.foreign_keys]
        for group in table.unique:
            listed = ", ".join(quote(c) for c in group.columns)
            parts.append(f"CONSTRAINT {quote(group.name)} UNIQUE ({listed})")
        parts += [self.check_sql(check) for check in table.checks]
        parts += [self.check_sql(check) for check in self.enum_checks(table, enums or {})]
        guard = "IF NOT EXISTS " if if_not_exists else ""
        created = quote(name or table.name)
        statements = [f"CREATE TABLE {guard}{created} ({', '.join(parts)})"]
        for column in table.columns:
            statements += self.column_index_sql(table.name, column, guard=guard)
        for index in table.indexes:
            statements.append(self.index_sql(table.name, index, guard=guard))
        return statements

    def composite_key_sql(self, table: Table) -> str:
        """``PRIMARY KEY ("a", "b")``: a composite key, as a table constraint."""
        listed = ", ".join(Dialect.quote(c) for c in table.composite_key)
        name = _named(_naming.primary_key_name(table.name), table.name, "pkey")
        return " ".join([*name, f"PRIMARY KEY ({listed})"])

    def composite_foreign_key_sql(self, table: str, fk: CompositeForeignKey) -> str:
        """``FOREIGN KEY ("a", "b") REFERENCES "t" ("x", "y") ...``, a table
        constraint (inline or added by ``ALTER TABLE``: PostgreSQL gives an
        unnamed one the same name either way)."""
        quote = Dialect.quote
        name = _named(fk.name, table, *fk.columns, "fkey")
        return " ".join(
            [
                *name,
                f"FOREIGN KEY ({', '.join(map(quote, fk.columns))})",
                f"REFERENCES {quote(fk.table)} ({', '.join(map(quote, fk.to))})",
                f"ON DELETE {ACTIONS[fk.on_delete]} ON UPDATE {ACTIONS[fk.on_update]}",
            ]
        )

    #: Whether ``CREATE TABLE`` may name a table that does not exist yet in a
    #: ``REFERENCES`` (SQLite resolves a foreign key when a row is written).
    forward_references: bool = False

    def create_tables(
        self,
        tables: _Seq[Table],
        *,
        if_not_exists: bool = False,
        enums: Mapping[str, tuple[str, ...]] | None = None,
    ) -> list[str]:
        """``CREATE TABLE`` (with indexes) of ``tables`` in the order given
        (``enums``: as ``create_table`` takes them).

        A foreign key to a table created later in the list closes a cycle of
        foreign keys: where the dialect cannot name a table before it exists,
        the table is created without that constraint, and it is added once
        all tables exist (``ALTER TABLE ... ADD CONSTRAINT ... FOREIGN KEY``),
        a key over one column or over several alike.
        """
        closing = [] if self.forward_references else self.cycle_closing(tables)
        statements: list[str] = []
        for table in tables:
            mine = [key for owner, key in closing if owner is table]
            columns = tuple(
                replace(column, references=None) if any(column is k for k in mine) else column
                for column in table.columns
            )
            kept = tuple(fk for fk in table.foreign_keys if not any(fk is k for k in mine))
            statements += self.create_table(
                replace(table, columns=columns, foreign_keys=kept),
                if_not_exists=if_not_exists,
                enums=enums,
            )
        return statements + [
            (
                self.add_foreign_key_sql(table.name, key, if_not_exists=if_not_exists)
                if isinstance(key, StateColumn)
                else self.add_constraint_sql(
                    table.name,
                    self.composite_foreign_key_sql(table.name, key),
                    if_not_exists=if_not_exists,
                )
            )
            for table, key in closing
        ]

    def add_foreign_key_sql(
        self, table: str, column: StateColumn, *, if_not_exists: bool = False
    ) -> str:
        """``ALTER TABLE ... ADD CONSTRAINT ... FOREIGN KEY`` of ``column``'s reference."""
        raise AlterError(f"{self.dialect.name} cannot add a foreign key to an existing table")

    def add_constraint_sql(
        self, table: str, constraint: str, *, if_not_exists: bool = False
    ) -> str:
        """``ALTER TABLE table ADD constraint`` (``CONSTRAINT "name" ...``);
        ``if_not_exists``: nothing where it is there already."""
        raise AlterError(f"{self.dialect.name} cannot add a constraint to an existing table")

    def drop_tables(self, tables: _Seq[Table], *, if_exists: bool = False) -> list[str]:
        """``DROP TABLE`` of ``tables``, given in creation order: in reverse, the
        foreign keys that close a cycle (to a table later in the list) first."""
        return [self.drop_table(t.name, if_exists=if_exists) for t in reversed(tables)]

    #: The foreign keys of ``tables`` (in creation order) to a table later in
    #: the list (``state.closing_keys``).
    cycle_closing = staticmethod(closing_keys)

    def enum_checks(self, table: Table, enums: Mapping[str, tuple[str, ...]]) -> list[Check]:
        """The checks this dialect writes for the enum columns of ``table`` (none
        where the database has enum types)."""
        return []

    def create_enum(self, enum: EnumType) -> list[str]:
        """The statements that create the enum type ``enum`` (none where the
        database has no enum types)."""
        return []

    def drop_unused_enum(self, name: str) -> list[str]:
        """The statements that drop the enum type ``name`` if it is there and
        no column has it (``drop_tables()``)."""
        return []

    def check_sql(self, check: Check) -> str:
        """``CONSTRAINT "name" CHECK (expression)``: the expression as the schema wrote it."""
        return f"CONSTRAINT {Dialect.quote(check.name)} CHECK ({check.sql})"

    def drop_table(self, name: str, *, if_exists: bool = False) -> str:
        return f"DROP TABLE {'IF EXISTS ' if if_exists else ''}{Dialect.quote(name)}"

    # -- views -------------------------------------------------------------

    def materialized(self, view: View) -> bool:
        """Whether ``view`` is a materialized view here (a plain one on a
        dialect without them)."""
        return view.materialized and self.dialect.materialized_views

    def create_view(self, view: View, *, if_not_exists: bool = False) -> list[str]:
        """``CREATE [MATERIALIZED] VIEW "name" AS <sql>`` and, of a materialized
        view, its indexes. The SQL is the view's for this dialect, as written
        (without a trailing ``;``); its column names are the view's."""
        quote = Dialect.quote
        kind = "MATERIALIZED VIEW" if self.materialized(view) else "VIEW"
        guard = "IF NOT EXISTS " if if_not_exists else ""
        sql = view.sql_for(self.dialect.name).strip().removesuffix(";").rstrip()
        statements = [f"CREATE {kind} {guard}{quote(view.name)} AS {sql}"]
        if self.materialized(view):
            statements += [self.index_sql(view.name, i, guard=guard) for i in view.indexes]
        return statements

    def drop_view(self, view: View, *, if_exists: bool = False) -> str:
        """``DROP [MATERIALIZED] VIEW "name"`` (its indexes go with it)."""
        kind = "MATERIALIZED VIEW" if self.materialized(view) else "VIEW"
        return f"DROP {kind} {'IF EXISTS ' if if_exists else ''}{Dialect.quote(view.name)}"

    def lower_view(self, view: View) -> DbView:
        """``view`` as this dialect's ``create_view`` makes it: the columns the
        state declares (its SQL may give more), with their SQL types."""
        materialized = self.materialized(view)
        return DbView(
            view.name,
            tuple(
                DbViewColumn(c.name, self.type_sql(StateColumn(c.name, c.type)))
                for c in view.columns
            ),
            materialized,
            (
                tuple(DbIndex(i.name, i.columns, i.unique) for i in view.indexes)
                if materialized
                else ()
            ),
            sql=view.sql if isinstance(view.sql, str) else view.sql.get(self.dialect.name, ""),
        )

    # -- lowering ----------------------------------------------------------

    def unique_constraint_name(self, table: str, column: str) -> str:
        """The name a database keeps for a single-column ``UNIQUE``."""
        return _naming.unique_name(table, (column,))

    def lower_column(self, column: StateColumn) -> DbColumn:
        ref = column.references
        return DbColumn(
            name=column.name,
            type=self.type_sql(column),
            notnull=not column.null,
            default=self.default_sql(column),
            primary_key=column.primary_key,
            references=(
                None
                if ref is None
                else DbForeignKey(
                    ref.table,
                    ref.column,
                    ACTIONS[ref.on_delete],
                    ACTIONS[ref.on_update],
                    ref.deferrable,
                    ref.initially_deferred,
                )
            ),
        )

    def lower_table(
        self, table: Table, enums: Mapping[str, tuple[str, ...]] | None = None
    ) -> DbTable:
        """``table`` as this dialect's ``create_table`` makes it (``enums``: as
        ``create_table`` takes them)."""
        indexes = [
            DbIndex(_naming.index_name(table.name, (c.name,)), (c.name,))
            for c in table.columns
            if c.index and not c.primary_key
        ]
        indexes += [DbIndex(i.name, i.columns, i.unique) for i in table.indexes]
        unique = [
            DbUnique(self.unique_constraint_name(table.name, c.name), (c.name,))
            for c in table.columns
            if c.unique and not c.primary_key
        ]
        unique += [DbUnique(u.name, u.columns) for u in table.unique]
        return DbTable(
            table.name,
            tuple(self.lower_column(c) for c in table.columns),
            tuple(indexes),
            tuple(unique),
            tuple(
                DbCheck(c.name, c.sql)
                for c in (*table.checks, *self.enum_checks(table, enums or {}))
            ),
            composite_key=table.composite_key,
            foreign_keys=tuple(
                DbCompositeForeignKey(
                    fk.name,
                    fk.columns,
                    fk.table,
                    fk.to,
                    ACTIONS[fk.on_delete],
                    ACTIONS[fk.on_update],
                )
                for fk in table.foreign_keys
            ),
        )

    def lower_enums(self, schema: Schema) -> tuple[DbEnum, ...]:
        """The enum types of ``schema`` as the database holds them (none here)."""
        return ()

    def lower(self, schema: Schema) -> DbSchema:
        """``schema`` as this dialect's DDL creates it."""
        values = schema.enum_values()
        return DbSchema(
            self.dialect.name,
            tuple(self.lower_table(t, values) for t in schema.tables),
            self.lower_enums(schema),
            tuple(self.lower_view(v) for v in schema.views),
        )

    # -- operations --------------------------------------------------------

    def compile(
        self, op: ops.Operation, before: Schema, *, derived_names: bool = True
    ) -> list[Step]:
        """The steps that take a database in state ``before`` through ``op``.

        ``derived_names``: the database's index and constraint names are the
        ones the state derives (a database made by ``create_table`` and these
        compilers), so renames rename them too. ``alter()`` passes ``False``:
        its renames keep the old names, as they always did, and constraints
        are found by their columns.
        """
        op.apply(before)  # refuses what cannot be, with the state's message
        if isinstance(op, ops.Sequence):
            steps: list[Step] = []
            state = before
            for inner in op.operations:
                steps += self.compile(inner, state, derived_names=derived_names)
                state = inner.apply(state)
            return steps
        if isinstance(op, ops.CreateTable):
            return list(self.create_table(op.table, enums=before.enum_values()))
        if isinstance(op, ops.DropTable):
            return [self.drop_table(op.name)]
        if isinstance(op, ops.CreateView):
            return list(self.create_view(op.view))
        if isinstance(op, ops.DropView):
            return [self.drop_view(before.view(op.name))]
        if isinstance(op, ops.RunSQL):
            return [op.sql_for(self.dialect.name)]
        if isinstance(op, ops.RunPython):
            return [RunPythonStep(op.forwards)]
        if isinstance(op, ops.AddIndex):
            return [
                self.index_sql(op.table, op.index, concurrently=self._concurrently(op.concurrently))
            ]
        if isinstance(op, ops.DropIndex):
            how = "CONCURRENTLY " if self._concurrently(op.concurrently) else ""
            return [f"DROP INDEX {how}{Dialect.quote(op.name)}"]
        return self._compile_alter(op, before, derived_names=derived_names)

    def _concurrently(self, wanted: bool) -> bool:
        return False

    def _compile_alter(
        self, op: ops.Operation, before: Schema, *, derived_names: bool
    ) -> list[Step]:
        raise AlterError(f"{type(op).__name__} has no SQL on {self.dialect.name}")


def renamed_names(before: Table, after: Table) -> list[tuple[str, str, str]]:
    """The derived index and constraint names a rename changes:
    ``(kind, old, new)`` with kind ``index``, ``constraint`` (matched by
    position: a rename keeps the order of columns, indexes and constraints)."""
    changed: list[tuple[str, str, str]] = []

    def note(kind: str, old: str, new: str) -> None:
        if old != new:
            changed.append((kind, old, new))

    note("constraint", _naming.primary_key_name(before.name), _naming.primary_key_name(after.name))
    for old, new in zip(before.columns, after.columns, strict=True):
        if old.index and not old.primary_key:
            note(
                "index",
                _naming.index_name(before.name, (old.name,)),
                _naming.index_name(after.name, (new.name,)),
            )
        if old.unique and not old.primary_key:
            note(
                "constraint",
                _naming.unique_name(before.name, (old.name,)),
                _naming.unique_name(after.name, (new.name,)),
            )
        if old.references is not None:
            note(
                "constraint",
                _naming.foreign_key_name(before.name, old.name),
                _naming.foreign_key_name(after.name, new.name),
            )
    for i, j in zip(before.indexes, after.indexes, strict=True):
        note("index", i.name, j.name)
    for u, v in zip(before.unique, after.unique, strict=True):
        note("constraint", u.name, v.name)
    return changed
