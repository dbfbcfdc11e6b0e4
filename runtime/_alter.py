"""``ALTER TABLE``: ``Band.alter().add_column(...)``, ``.rename_column(...)``, ...

Each step of an ``Alter`` returns a new query (builders are immutable); all
steps run in order, in one transaction (PostgreSQL and SQLite both have
transactional DDL).

An alter is operations on the schema state (``runtime.schema.operations``)
compiled by the dialect's DDL compiler (``runtime.schema.compile``) and run
in a DDL session (``runtime.schema.session``), as migrations are: each step
becomes an operation (``add_column`` an ``AddColumn`` of the new column's
state, ``set_null`` an ``AlterColumn``, ...), compiled against the table's
state read from the database when the alter runs, so earlier alters are
kept. PostgreSQL runs every step as ``ALTER TABLE`` (or ``DROP TABLE``);
SQLite alters natively where it can and rebuilds the table otherwise (see
``runtime.schema.compile._sqlite``), and after every alter, every view and
trigger of the schema that compiled before must still compile, else the
alter raises ``AlterError`` and is undone, leaving schema and data as they
were.

Unlike a migration, an alter's renames keep index and constraint names as
they were (``alter_pet_age`` stays the name of the index over the renamed
column ``years``), as they always have; a printed alter (``print(query)``)
shows the plan for the table as its class declares it.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any, TypeVar

from ._columns import Column, ForeignKey, Serial, Varchar
from ._dialect import Dialect
from ._naming import index_name, is_plain_name
from ._query import Query
from .schema import operations as ops
from .schema import state
from .schema.compile import (
    AlterError,
    Compiler,
    Step,
    TableRebuild,
    compiler_for,
    run_steps,
    statements_of,
)
from .schema.read import TableStateError, read_table_state
from .schema.session import ddl_session
from .schema.state import SchemaStateError

if TYPE_CHECKING:
    from ._engine import Engine
    from ._table import Table

__all__ = ["Alter", "AlterError"]

T = TypeVar("T")


def _check_name(name: str, what: str) -> str:
    if not is_plain_name(name):
        raise ValueError(
            f"invalid {what} {name!r}: use letters, digits and underscores "
            "(at most 63), not starting with a digit"
        )
    return name


@dataclass(frozen=True)
class _Step:
    """One step of an ``Alter``; ``column`` is the database column name.

    ``sources`` holds the column object the step takes (the new column of
    ``add_column``, the column of ``set_default``), ``value`` its argument.
    """

    kind: str
    column: str = ""
    new_name: str = ""
    flag: bool = False
    value: object = None
    # A tuple: a Column class attribute would read as a descriptor.
    sources: tuple[Column[Any], ...] = ()


class Alter(Query[None]):
    """``ALTER TABLE`` steps on one table, run in order in one transaction.

    Made by ``Band.alter()``; chain ``add_column``, ``drop_column``,
    ``rename_column``, ``rename_table``, ``set_null``, ``set_unique``,
    ``set_default``, ``drop_default``, ``set_length`` or ``drop_table``.
    The table class is not changed: regenerate it from the schema to match.
    """

    def __init__(self, table: type[Table[Any]]) -> None:
        self._table = table
        self._steps: tuple[_Step, ...] = ()

    def _then(self, step: _Step) -> Alter:
        if self._steps and self._steps[-1].kind == "drop_table":
            raise ValueError("nothing can follow drop_table() in an alter")
        new = self._copy()
        new._steps = (*self._steps, step)
        return new

    def _column(self, column: Column[Any] | str) -> str:
        """The database name of a column of this table (a name may be a new one)."""
        if isinstance(column, str):
            known = self._table._meta.column_map.get(column)
            return known._meta.db_name if known is not None else _check_name(column, "column name")
        if column._meta.path or column._meta.table is not self._table:
            raise ValueError(f"{column!r} is not a column of {self._table.__name__}")
        return column._meta.db_name

    # -- the steps ------------------------------------------------------------

    def add_column(self, name: str, column: Column[Any]) -> Alter:
        """``ADD COLUMN name``, typed and constrained like ``column`` (a new column
        object, e.g. ``Integer(default=0)``)."""
        _check_name(name, "column name")
        if not isinstance(column, Column):
            raise TypeError(f"add_column() takes a column object such as Integer(); got {column!r}")
        if column._meta.primary_key or isinstance(column, Serial):
            raise AlterError("add_column() cannot add a primary key or serial column")
        added = column.__class__.__new__(column.__class__)
        added.__dict__.update(column.__dict__)
        added._meta = replace(column._meta, name=name, table=self._table)
        return self._then(_Step("add_column", column=added._meta.db_name, sources=(added,)))

    def drop_column(self, column: Column[Any] | str) -> Alter:
        """``DROP COLUMN`` (and the indexes that use it)."""
        return self._then(_Step("drop_column", column=self._column(column)))

    def rename_column(self, column: Column[Any] | str, new_name: str) -> Alter:
        """``RENAME COLUMN column TO new_name`` (the database name)."""
        return self._then(
            _Step(
                "rename_column",
                column=self._column(column),
                new_name=_check_name(new_name, "column name"),
            )
        )

    def rename_table(self, new_name: str) -> Alter:
        """``RENAME TO new_name``; later steps apply to the renamed table."""
        return self._then(_Step("rename_table", new_name=_check_name(new_name, "table name")))

    def set_null(self, column: Column[Any] | str, boolean: bool = True) -> Alter:
        """Allow NULL in the column (``boolean=False``: make it ``NOT NULL``)."""
        return self._then(_Step("set_null", column=self._column(column), flag=boolean))

    def set_unique(self, column: Column[Any] | str, boolean: bool = True) -> Alter:
        """Add a UNIQUE constraint on the column (``boolean=False``: remove it)."""
        return self._then(_Step("set_unique", column=self._column(column), flag=boolean))

    def set_default(self, column: Column[T], value: T) -> Alter:
        """Change the column's ``DEFAULT`` (``None``: no default)."""
        checked = None if value is None else column._check(value)
        return self._then(
            _Step("set_default", column=self._column(column), value=checked, sources=(column,))
        )

    def drop_default(self, column: Column[Any] | str) -> Alter:
        """Remove the column's ``DEFAULT`` (inserts must then give a value)."""
        return self._then(_Step("set_default", column=self._column(column)))

    def set_length(self, column: Varchar[Any], length: int) -> Alter:
        """Change a varchar's maximum length (``VARCHAR(length)``)."""
        if not isinstance(column, Varchar):
            raise TypeError(f"set_length() applies to varchar columns; got {column!r}")
        if not isinstance(length, int) or isinstance(length, bool) or length < 1:
            raise ValueError(f"set_length() takes a positive int; got {length!r}")
        return self._then(_Step("set_length", column=self._column(column), value=length))

    def drop_table(self, cascade: bool = False, if_exists: bool = False) -> Alter:
        """``DROP TABLE`` (``cascade``: PostgreSQL's ``CASCADE``, not on SQLite)."""
        return self._then(_Step("drop_table", flag=cascade, value=if_exists))

    # -- SQL ------------------------------------------------------------------

    def _sql(self, dialect: Dialect) -> tuple[str, list[object]]:
        # The plan for the table as its class declares it.
        steps = self._plan(compiler_for(dialect), self._class_state(), printing=True)
        return ";\n".join(statements_of(steps)), []

    def _drop_statements(self, dialect: Dialect, name: str, step: _Step) -> list[str]:
        sql = compiler_for(dialect).drop_table(name, if_exists=bool(step.value))
        if not step.flag:
            return [sql]
        if not dialect.alters_in_place:
            raise AlterError(
                "SQLite has no DROP TABLE ... CASCADE; drop the referencing tables first"
            )
        return [f"{sql} CASCADE"]

    def _class_state(self) -> state.Schema:
        """The table as its class declares it, with the tables it references."""
        tables = {self._table._meta.tablename: state.table_of(self._table)}
        for column in self._table._meta.columns:
            if isinstance(column, ForeignKey):
                target = column.target()
                tables.setdefault(target._meta.tablename, state.table_of(target))
        return self._with_targets(
            state.Schema(tuple(tables.values()), enums=state.enums_of([self._table]))
        )

    def _with_targets(self, schema: state.Schema) -> state.Schema:
        """``schema`` with the tables that added foreign keys reference (by
        their classes' state), so the operations find them."""
        for step in self._steps:
            for source in step.sources:
                if step.kind == "add_column" and isinstance(source, ForeignKey):
                    target = source.target()
                    if not schema.has(target._meta.tablename):
                        schema = schema.put(state.table_of(target))
        return schema

    def _operation(self, step: _Step, table: state.Table) -> ops.Operation:
        name = table.name
        match step.kind:
            case "add_column":
                (added,) = step.sources
                return ops.AddColumn(name, state.column_of(added))
            case "drop_column":
                return ops.DropColumn(name, step.column)
            case "rename_column":
                return ops.RenameColumn(name, step.column, step.new_name)
            case "rename_table":
                return ops.RenameTable(name, step.new_name)
            case "set_null":
                return ops.AlterColumn(name, step.column, null=step.flag)
            case "set_unique":
                return ops.AlterColumn(name, step.column, unique=step.flag)
            case "set_default":
                value: Any = step.value
                if isinstance(value, enum.Enum):  # a member of a choices enum: its value
                    value = value.value
                return ops.AlterColumn(name, step.column, default=value)
            case "set_length":
                kind = table.column(step.column).type
                if kind.kind not in ("Varchar", "Char", "Email"):
                    raise AlterError(
                        f"set_length() applies to varchar columns; {name}.{step.column} is {kind}"
                    )
                assert isinstance(step.value, int)
                return ops.AlterColumn(name, step.column, type=replace(kind, length=step.value))
        raise AssertionError(step.kind)

    def _plan(
        self, compiler: Compiler, before: state.Schema, *, printing: bool = False
    ) -> list[Step]:
        """The steps of this alter on a database whose state is ``before``.

        ``printing``: the plan for the table as its class declares it, where
        a step may name a column by its class attribute after an earlier
        step renamed it; such a column is taken as the class declares it.
        """
        name = self._table._meta.tablename
        steps: list[Step] = []
        current = before
        for step in self._steps:
            table = current.table(name)
            if step.kind == "drop_table":
                steps += self._drop_statements(compiler.dialect, name, step)
                break
            if printing and step.column and not table.has_column(step.column):
                declared = [c for c in self._table._meta.columns if c._meta.db_name == step.column]
                if declared and step.kind != "add_column":
                    table = replace(table, columns=(*table.columns, state.column_of(declared[0])))
                    current = current.put(table)
            try:
                op = self._operation(step, table)
                steps += compiler.compile(op, current, derived_names=False)
                current = _apply_keeping_names(op, current)
            except SchemaStateError as error:
                raise AlterError(str(error)) from error
            if isinstance(op, ops.RenameTable):
                name = op.new
        return _merge_rebuilds(compiler, steps)

    async def _run(self, engine: Engine) -> None:
        compiler = compiler_for(engine.dialect)
        name = self._table._meta.tablename
        if self._steps and self._steps[0].kind == "drop_table":
            # Nothing follows a drop (see _then), and the table may not exist.
            drop = self._drop_statements(engine.dialect, name, self._steps[0])
            async with ddl_session(engine) as conn:
                await run_steps(conn, list(drop))
            return
        async with ddl_session(engine) as conn:
            try:
                read = await read_table_state(conn.fetch, conn.dialect, name)
            except TableStateError as error:
                raise AlterError(f"{error}; alter() cannot change it: use SQL") from None
            if read is None:
                raise AlterError(f"{engine.dialect.name} has no table {name!r}")
            table = read.table
            tables = {name: table}
            for column in table.columns:
                ref = column.references
                if ref is not None and ref.table != name:
                    # Only looked up (an operation checks that a key's target
                    # exists): the columns the foreign keys point at will do.
                    stub = tables.get(ref.table, state.Table(ref.table, ()))
                    if not stub.has_column(ref.column):
                        first = not stub.columns
                        key = state.Column(ref.column, state.Type("Integer"), primary_key=first)
                        stub = replace(stub, columns=(*stub.columns, key))
                    tables[ref.table] = stub
            # The enum types the table's columns have: the class's, where it
            # knows them (PostgreSQL's ALTER needs only their names).
            known = {e.name: e for e in state.enums_of([self._table])}
            used = {c.type.enum for c in table.columns if c.type.enum is not None}
            enums = tuple(known.get(n, state.EnumType(n, ("",))) for n in sorted(used))
            before = self._with_targets(state.Schema(tuple(tables.values()), enums=enums))
            steps = self._plan(compiler, before)
            lost = [note.what for note in read.notes if note.index is None]
            if lost and any(isinstance(step, TableRebuild) for step in steps):
                # A rebuild writes the table from its state, which holds none
                # of these (indexes it cannot hold are recreated from their SQL).
                raise AlterError(
                    f"SQLite rebuilds table {name!r} for this alter, which would lose what"
                    f" the table has beyond its columns and keys: {'; '.join(lost)}."
                    " Change it with SQL"
                )
            await run_steps(conn, steps)


def _apply_keeping_names(op: ops.Operation, before: state.Schema) -> state.Schema:
    """The state after ``op`` where a rename keeps index and constraint names
    as they were (as ``alter()``'s renames do in the database)."""
    after = op.apply(before)
    if isinstance(op, ops.RenameTable):
        old, new = before.table(op.old), after.table(op.new)
    elif isinstance(op, ops.RenameColumn):
        old, new = before.table(op.table), after.table(op.table)
    else:
        return after
    columns = []
    pinned = []
    for was, now in zip(old.columns, new.columns, strict=True):
        if was.index and index_name(old.name, (was.name,)) != index_name(new.name, (now.name,)):
            # The column's index keeps its old name: an index of its own now.
            pinned.append(state.Index(index_name(old.name, (was.name,)), (now.name,)))
            now = replace(now, index=False)
        columns.append(now)
    kept = replace(
        new,
        columns=tuple(columns),
        indexes=(
            *pinned,
            *(replace(i, name=j.name) for i, j in zip(new.indexes, old.indexes, strict=True)),
        ),
        unique=tuple(replace(u, name=v.name) for u, v in zip(new.unique, old.unique, strict=True)),
    )
    return after.put(kept)


def _merge_rebuilds(compiler: Compiler, steps: list[Step]) -> list[Step]:
    """Adjacent rebuilds of one table as one rebuild (one copy of the rows)."""
    merged: list[Step] = []
    for step in steps:
        last = merged[-1] if merged else None
        if (
            isinstance(step, TableRebuild)
            and isinstance(last, TableRebuild)
            and last.table.name == step.table.name
        ):
            copied = tuple(c for c in step.copied if c in last.copied)
            merged[-1] = TableRebuild(
                step.compiler, step.table, copied, last.known_indexes | step.known_indexes
            )
        else:
            merged.append(step)
    return merged
