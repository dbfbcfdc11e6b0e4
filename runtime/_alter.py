"""``ALTER TABLE``: ``Band.alter().add_column(...)``, ``.rename_column(...)``, ...

Each step of an ``Alter`` returns a new query (builders are immutable); all
steps run in order, in one transaction (PostgreSQL and SQLite both have
transactional DDL).

PostgreSQL runs every step as one ``ALTER TABLE`` (or ``DROP TABLE``).

SQLite's ``ALTER TABLE`` can only rename a table, rename, add and drop a
column. ``add_column`` and ``drop_column`` run natively when SQLite allows it
(a nullable or defaulted column without UNIQUE or REFERENCES; a column in no
index, constraint or foreign key); every other step (``set_null``,
``set_unique``, ``set_default``, ``set_length``, and the add/drop cases
SQLite refuses) rebuilds the table with the procedure of
https://www.sqlite.org/lang_altertable.html#otheralter: remember the
table's triggers, create the new table under a temporary name, copy the
rows, drop the old table, rename the new one, recreate the indexes and
triggers, check the foreign keys, all in one transaction (a savepoint
inside an enclosing one). After every alter (rebuild or native steps),
every view and trigger of the schema that compiled before must still
compile, else the alter raises ``AlterError`` and is undone, leaving schema
and data as they were. The
table's current definition is read from the database (``PRAGMA table_info``
& co.), so earlier alters are kept.

Views are left in place: SQLite stores them as SQL text and resolves them
when they are used, so after the rename they read the new table. Only the
rename itself would trip over them: since SQLite 3.26 ``RENAME TO`` checks
every view and trigger of the schema, and those naming the table fail
while it is dropped ("error in view v: no such table"). The rename runs with
``PRAGMA legacy_alter_table = ON``, which skips that check (and rewrites no
references, of which there are none to the temporary name); the check is
done afterwards, by compiling each view and each table's triggers.

Dropping the old table would run its foreign-key actions (``ON DELETE
CASCADE`` would empty the tables that reference it), so when another table
references it (or it references itself), the rebuild runs with foreign keys
switched off on a connection of its own. SQLite ignores that switch inside a
transaction: such a rebuild inside ``engine.transaction()`` raises
``AlterError`` instead of losing rows.
"""

from __future__ import annotations

import itertools
import re
import sqlite3
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any, TypeVar

from ._columns import Column, ForeignKey, Serial, Varchar, _sql_literal
from ._ddl import _column_ddl, _db_names, column_index_sql, create_table_sql, run_in_transaction
from ._ddl import unique_name as table_unique_name
from ._dialect import POSTGRES, SQLITE, Dialect
from ._engine_base import EngineError
from ._errors import DatabaseError, from_sqlite
from ._naming import is_plain_name, unique_name
from ._query import Query
from ._sqlite import SQLiteEngine, _fetch

if TYPE_CHECKING:
    from ._engine import Engine
    from ._table import Table

__all__ = ["Alter", "AlterError"]

T = TypeVar("T")


class AlterError(EngineError):
    """An ``ALTER`` step the database cannot do (the message says why)."""


def _check_name(name: str, what: str) -> str:
    if not is_plain_name(name):
        raise ValueError(
            f"invalid {what} {name!r}: use letters, digits and underscores "
            "(at most 63), not starting with a digit"
        )
    return name


# -- the steps ---------------------------------------------------------------------


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

    def default_sql(self, dialect: Dialect) -> str | None:
        """``set_default``: the new default as an SQL literal (``None``: no default)."""
        if self.value is None or not self.sources:
            return None
        return _sql_literal(self.sources[0]._to_db(self.value, dialect))


# -- SQLite: the table definition a rebuild works on ----------------------------


@dataclass
class _ColumnDef:
    name: str
    type: str
    notnull: bool
    default: str | None
    pk: bool
    unique: bool = False
    references: str = ""

    def sql(self) -> str:
        parts = [Dialect.quote(self.name), self.type]
        if self.pk:
            parts.append("PRIMARY KEY")
        else:
            if self.notnull:
                parts.append("NOT NULL")
            if self.unique:
                parts.append("UNIQUE")
        if self.default is not None and not self.pk:
            parts.append(f"DEFAULT {self.default}")
        return " ".join(parts) + self.references


@dataclass
class _TableDef:
    name: str
    columns: list[_ColumnDef]
    #: Table-level UNIQUE constraints: (constraint name or "", columns).
    unique: list[tuple[str, tuple[str, ...]]] = field(default_factory=list)
    #: Indexes made with CREATE INDEX: (columns, their SQL).
    indexes: list[tuple[tuple[str, ...], str]] = field(default_factory=list)
    #: Foreign keys over several columns, as table constraints.
    foreign_keys: list[str] = field(default_factory=list)

    def column(self, name: str) -> _ColumnDef:
        for column in self.columns:
            if column.name == name:
                return column
        raise AlterError(f"table {self.name!r} has no column {name!r}")

    def create_sql(self, name: str) -> str:
        quote = Dialect.quote
        parts = [c.sql() for c in self.columns]
        for constraint, columns in self.unique:
            listed = ", ".join(quote(c) for c in columns)
            prefix = f"CONSTRAINT {quote(constraint)} " if constraint else ""
            parts.append(f"{prefix}UNIQUE ({listed})")
        parts.extend(self.foreign_keys)
        return f"CREATE TABLE {quote(name)} ({', '.join(parts)})"


def _class_definition(table: type[Table[Any]], dialect: Dialect) -> _TableDef:
    """The definition ``create_table()`` would make (for printing a plan)."""
    meta = table._meta
    columns = [
        _ColumnDef(
            name=c._meta.db_name,
            type=c._ddl_type(dialect),
            notnull=not c._meta.null and not c._meta.primary_key,
            default=None if c._meta.primary_key else c._ddl_default(dialect),
            pk=c._meta.primary_key,
            unique=c._meta.unique and not c._meta.primary_key,
            references=c._references_clause(dialect) if isinstance(c, ForeignKey) else "",
        )
        for c in meta.columns
    ]
    definition = _TableDef(meta.tablename, columns)
    definition.unique = [
        (table_unique_name(table, group), tuple(_db_names(table, group))) for group in meta.unique
    ]
    index_sql = create_table_sql(table, dialect)[1:]
    index_columns = [
        (c._meta.db_name,) for c in meta.columns if c._meta.index and not c._meta.primary_key
    ] + [tuple(_db_names(table, i.columns)) for i in meta.indexes]
    definition.indexes = list(zip(index_columns, index_sql, strict=True))
    return definition


_Fetch = Callable[[str, Sequence[object]], Awaitable[list[Sequence[Any]]]]


async def _read_definition(fetch: _Fetch, name: str) -> _TableDef:
    """The definition of table ``name`` as the SQLite database has it now."""
    quote = Dialect.quote
    info = await fetch(f"PRAGMA table_info({quote(name)})", ())
    if not info:
        raise AlterError(f"SQLite has no table {name!r}")
    columns = [
        _ColumnDef(
            name=row[1],
            type=row[2],
            notnull=bool(row[3]),
            default=row[4],
            pk=bool(row[5]),
        )
        for row in info
    ]
    definition = _TableDef(name, columns)
    by_name = {c.name: c for c in columns}
    for row in await fetch(f"PRAGMA index_list({quote(name)})", ()):
        index, origin = row[1], row[3]
        listed = tuple(r[2] for r in await fetch(f"PRAGMA index_info({quote(index)})", ()))
        if origin == "u":
            if len(listed) == 1:
                by_name[listed[0]].unique = True
            else:
                definition.unique.append(("", listed))
        elif origin == "c":
            sql = await fetch(
                "SELECT sql FROM sqlite_master WHERE type = 'index' AND name = ?", (index,)
            )
            definition.indexes.append((listed, sql[0][0]))
    # Named UNIQUE constraints keep their names: read them from the SQL.
    created = await fetch(
        "SELECT sql FROM sqlite_master WHERE type = 'table' AND name = ?", (name,)
    )
    named = dict(
        (tuple(c.strip().strip('"') for c in cols.split(",")), constraint)
        for constraint, cols in re.findall(
            r'CONSTRAINT "((?:[^"]|"")+)" UNIQUE \(([^)]*)\)', created[0][0]
        )
    )
    definition.unique = [(named.get(cols, ""), cols) for _, cols in definition.unique]
    keys: dict[int, list[Sequence[Any]]] = {}
    for row in await fetch(f"PRAGMA foreign_key_list({quote(name)})", ()):
        keys.setdefault(row[0], []).append(row)
    for rows in keys.values():
        rows.sort(key=lambda r: r[1])
        target, on_update, on_delete = rows[0][2], rows[0][5], rows[0][6]
        actions = f" ON DELETE {on_delete} ON UPDATE {on_update}"
        if len(rows) == 1:
            to = f" ({quote(rows[0][4])})" if rows[0][4] is not None else ""
            by_name[rows[0][3]].references = f" REFERENCES {quote(target)}{to}{actions}"
        else:
            sources = ", ".join(quote(r[3]) for r in rows)
            targets = ", ".join(quote(r[4]) for r in rows)
            definition.foreign_keys.append(
                f"FOREIGN KEY ({sources}) REFERENCES {quote(target)} ({targets}){actions}"
            )
    return definition


@dataclass(frozen=True)
class _Rebuild:
    """One table rebuild: SQLite's documented procedure, steps 4 to 8.

    The triggers to recreate are read from the database when the rebuild
    runs, after the native steps before it (a ``rename_column`` rewrites
    them), so they are not part of the plan.
    """

    table: str
    create: str
    copy: str
    drop: str
    rename: str
    indexes: tuple[str, ...]

    @classmethod
    def of(cls, old: _TableDef, new: _TableDef) -> _Rebuild:
        """The rebuild of table ``old`` to the definition ``new`` (same name)."""
        quote = Dialect.quote
        # A temporary name, renamed at the end: renaming the old table away
        # instead would make SQLite rewrite the references to it in views,
        # triggers and foreign keys to that name.
        temporary = f"{new.name}__piccolo_gen_new"
        kept = [c.name for c in new.columns if any(o.name == c.name for o in old.columns)]
        listed = ", ".join(quote(c) for c in kept)
        return cls(
            table=old.name,
            create=new.create_sql(temporary),
            copy=f"INSERT INTO {quote(temporary)} ({listed}) SELECT {listed} FROM {quote(old.name)}",
            drop=f"DROP TABLE {quote(old.name)}",
            rename=f"ALTER TABLE {quote(temporary)} RENAME TO {quote(new.name)}",
            indexes=tuple(sql for _, sql in new.indexes),
        )

    def statements(self) -> list[str]:
        """The statements, for printing the plan (without the triggers)."""
        return [self.create, self.copy, self.drop, self.rename, *self.indexes]

    async def run(self, fetch: _Fetch, execute: _Execute) -> None:
        """Run the rebuild inside the caller's transaction."""
        # Step 3: the triggers, which DROP TABLE drops with the table.
        # Recreated in creation order, so they fire in the order they did
        # (SQLite leaves that order undocumented; it follows creation).
        triggers = await fetch(
            "SELECT sql FROM sqlite_master WHERE type = 'trigger'"
            " AND tbl_name = ? COLLATE NOCASE AND sql IS NOT NULL ORDER BY rowid",
            (self.table,),
        )
        for sql in (self.create, self.copy, self.drop):
            await execute(sql)
        # See the module docstring: without it, a view naming the table
        # would fail the rename. A connection setting: put back as found.
        (legacy,) = (await fetch("PRAGMA legacy_alter_table", ()))[0]
        await execute("PRAGMA legacy_alter_table = ON")
        try:
            await execute(self.rename)
        finally:
            await execute(f"PRAGMA legacy_alter_table = {'ON' if legacy else 'OFF'}")
        for sql in (*self.indexes, *(row[0] for row in triggers)):
            await execute(sql)


_Execute = Callable[[str], Awaitable[object]]

_CHECK_NUMBERS = itertools.count()

_UPDATE_OF = re.compile(r"\bUPDATE\s+OF\s+(.*?)\s+ON\s", re.IGNORECASE | re.DOTALL)


def _update_of(sql: str) -> list[str]:
    """The columns of a trigger's ``UPDATE OF a, b`` clause (none without one)."""
    head = re.split(r"\bBEGIN\b", sql, maxsplit=1, flags=re.IGNORECASE)[0]
    match = _UPDATE_OF.search(head)
    if match is None:
        return []
    names = [name.strip() for name in match.group(1).split(",")]
    return [_unquote(name) for name in names if name]


def _unquote(name: str) -> str:
    """An SQLite identifier as written (``"a""b"``, `` `x` ``, ``[x]`` or bare) -> its name."""
    if name[0] in '"`' and name[-1] == name[0]:
        return name[1:-1].replace(name[0] * 2, name[0])
    if name[0] == "[" and name[-1] == "]":
        return name[1:-1]
    return name


async def _schema_problems(fetch: _Fetch) -> dict[str, str]:
    """What in the schema does not compile now: ``{what: SQLite's message}``.

    SQLite checks neither a view nor a trigger when it is created (one that
    names a missing column is accepted) but when a statement uses it, so
    each view is compiled with ``EXPLAIN SELECT``, and the triggers of each
    table (or view) with ``EXPLAIN`` of an INSERT, an UPDATE of every column
    and a DELETE, which compile the triggers they would fire; nothing runs.
    (This finds more than SQLite's own check in ``RENAME`` and ``DROP
    COLUMN``, which misses a trigger body's ``INSERT INTO t (missing)``.)
    A trigger ``UPDATE OF`` a missing column is never compiled (it can no
    longer fire): its column list is read from its SQL.
    """
    quote = Dialect.quote
    problems: dict[str, str] = {}

    async def compiles(what: str, sql: str) -> None:
        try:
            # A text of its own each time: sqlite3 caches prepared statements
            # by text, and SQLite (seen with 3.40.1) crashes the process when
            # it re-prepares a cached EXPLAIN after a schema change and the
            # new compile fails.
            await fetch(f"/* piccolo-gen check {next(_CHECK_NUMBERS)} */ EXPLAIN {sql}", ())
        # The engine reports sqlite3's error as one of its own classes; its
        # message is sqlite3's, here without the migrations hint.
        except Exception as error:  # noqa: BLE001
            problems[what] = str(error.__cause__ if isinstance(error, DatabaseError) else error)

    rows = await fetch(
        "SELECT type, name, tbl_name, sql FROM sqlite_master"
        " WHERE type IN ('view', 'trigger') ORDER BY rowid",
        (),
    )
    triggers: dict[str, list[tuple[str, str]]] = {}
    for kind, name, table, sql in rows:
        if kind == "view":
            await compiles(f"view {name!r}", f"SELECT * FROM {quote(name)}")
        else:
            triggers.setdefault(table, []).append((name, sql or ""))
    for table, named in triggers.items():
        info = await fetch(f"PRAGMA table_xinfo({quote(table)})", ())
        known = {row[1].casefold() for row in info}
        for name, sql in named:
            for column in _update_of(sql):
                if column.casefold() not in known:
                    problems[f"trigger {name!r} (UPDATE OF {column})"] = f"no such column: {column}"
        # Hidden (generated) columns cannot be assigned.
        assigned = ", ".join(f"{quote(r[1])} = {quote(r[1])}" for r in info if r[6] == 0)
        listed = ", ".join(repr(name) for name, _ in named)
        for event, sql in (
            ("INSERT", f"INSERT INTO {quote(table)} DEFAULT VALUES"),
            ("UPDATE", f"UPDATE {quote(table)} SET {assigned}"),
            ("DELETE", f"DELETE FROM {quote(table)}"),
        ):
            # A view without an INSTEAD OF trigger for the event cannot be
            # written to: that problem is there before and after, so it is
            # ignored like any other problem the alter did not cause.
            await compiles(f"the {event} triggers on {table!r} ({listed})", sql)
    return problems


# -- the query ---------------------------------------------------------------------


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
        kind = "CHAR" if column._ddl_type(POSTGRES).startswith("CHAR") else "VARCHAR"
        return self._then(
            _Step("set_length", column=self._column(column), value=f"{kind}({length})")
        )

    def drop_table(self, cascade: bool = False, if_exists: bool = False) -> Alter:
        """``DROP TABLE`` (``cascade``: PostgreSQL's ``CASCADE``, not on SQLite)."""
        return self._then(_Step("drop_table", flag=cascade, value=if_exists))

    # -- SQL ------------------------------------------------------------------

    def _sql(self, dialect: Dialect) -> tuple[str, list[object]]:
        if dialect.alters_in_place:
            return ";\n".join(self._postgres()), []
        return ";\n".join(self._sqlite_plan()), []

    def _postgres(self) -> list[str]:
        quote = Dialect.quote
        name = self._table._meta.tablename
        statements: list[str] = []
        for step in self._steps:
            table = quote(name)
            column = quote(step.column)
            match step.kind:
                case "add_column":
                    (added,) = step.sources
                    statements.append(
                        f"ALTER TABLE {table} ADD COLUMN {_column_ddl(added, POSTGRES, name)}"
                    )
                    statements.extend(column_index_sql(name, added))
                case "drop_column":
                    statements.append(f"ALTER TABLE {table} DROP COLUMN {column}")
                case "rename_column":
                    statements.append(
                        f"ALTER TABLE {table} RENAME COLUMN {column} TO {quote(step.new_name)}"
                    )
                case "rename_table":
                    statements.append(f"ALTER TABLE {table} RENAME TO {quote(step.new_name)}")
                    name = step.new_name
                case "set_null":
                    action = "DROP NOT NULL" if step.flag else "SET NOT NULL"
                    statements.append(f"ALTER TABLE {table} ALTER COLUMN {column} {action}")
                case "set_unique" if step.flag:
                    constraint = quote(unique_name(name, (step.column,)))
                    statements.append(
                        f"ALTER TABLE {table} ADD CONSTRAINT {constraint} UNIQUE ({column})"
                    )
                case "set_unique":
                    statements.append(_drop_unique_postgres(name, step.column))
                case "set_default":
                    default = step.default_sql(POSTGRES)
                    action = "DROP DEFAULT" if default is None else f"SET DEFAULT {default}"
                    statements.append(f"ALTER TABLE {table} ALTER COLUMN {column} {action}")
                case "set_length":
                    statements.append(
                        f"ALTER TABLE {table} ALTER COLUMN {column} TYPE {step.value}"
                    )
                case "drop_table":
                    guard = "IF EXISTS " if step.value else ""
                    statements.append(f"DROP TABLE {guard}{table}{' CASCADE' if step.flag else ''}")
        return statements

    # -- SQLite ---------------------------------------------------------------

    def _sqlite_plan(self) -> list[str]:
        """The statements for SQLite, assuming the table is as its class declares."""
        definition = _class_definition(self._table, SQLITE)
        plan: list[str | _Rebuild] = []
        self._sqlite_steps(definition, plan.append)
        return [sql for item in plan for sql in _statements(item)]

    def _sqlite_steps(
        self, definition: _TableDef, emit: Callable[[str | _Rebuild], object]
    ) -> set[str]:
        """Apply the steps to ``definition``, emitting the statements that do it.

        Steps SQLite can do natively are emitted as they come; the others
        change ``definition`` and are emitted as one rebuild, before the next
        native step and at the end. Returns the names of the tables rebuilt.
        """
        quote = Dialect.quote
        original = _copy_definition(definition)
        current = definition
        pending = False
        rebuilt: set[str] = set()

        def flush() -> None:
            nonlocal original, pending
            if pending:
                emit(_Rebuild.of(original, current))
                rebuilt.add(original.name)
                pending = False
            original = _copy_definition(current)

        for step in self._steps:
            table = quote(current.name)
            if step.kind == "drop_table":
                if step.flag:
                    raise AlterError(
                        "SQLite has no DROP TABLE ... CASCADE; drop the referencing tables first"
                    )
                flush()
                emit(f"DROP TABLE {'IF EXISTS ' if step.value else ''}{table}")
                continue
            if step.kind == "rename_table":
                flush()
                emit(f"ALTER TABLE {table} RENAME TO {quote(step.new_name)}")
                current.name = step.new_name
                original = _copy_definition(current)
                continue
            if step.kind == "rename_column":
                flush()
                current.column(step.column)
                emit(
                    f"ALTER TABLE {table} RENAME COLUMN {quote(step.column)} TO {quote(step.new_name)}"
                )
                _rename_in(current, step.column, step.new_name)
                original = _copy_definition(current)
                continue
            if step.kind == "add_column":
                (added,) = step.sources
                new = _ColumnDef(
                    name=step.column,
                    type=added._ddl_type(SQLITE),
                    notnull=not added._meta.null,
                    default=added._ddl_default(SQLITE),
                    pk=False,
                    unique=added._meta.unique,
                    references=(
                        added._references_clause(SQLITE) if isinstance(added, ForeignKey) else ""
                    ),
                )
                if any(c.name == new.name for c in current.columns):
                    raise AlterError(f"table {current.name!r} already has a column {new.name!r}")
                index = column_index_sql(current.name, added)
                # SQLite refuses UNIQUE, a NOT NULL column without a default,
                # and a REFERENCES column with a non-NULL default.
                native = not new.unique and not (new.notnull and new.default is None)
                native = native and not (new.references and new.default is not None)
                if native:
                    flush()
                    emit(f"ALTER TABLE {table} ADD COLUMN {new.sql()}")
                    for sql in index:
                        emit(sql)
                current.columns.append(new)
                current.indexes.extend(((new.name,), sql) for sql in index)
                if native:
                    original = _copy_definition(current)
                else:
                    pending = True
                continue
            column = current.column(step.column)
            match step.kind:
                case "drop_column":
                    used = (
                        column.pk
                        or column.unique
                        or bool(column.references)
                        or any(step.column in cols for _, cols in current.unique)
                        or any(step.column in cols for cols, _ in current.indexes)
                        or any(quote(step.column) in fk for fk in current.foreign_keys)
                    )
                    if column.pk:
                        raise AlterError("drop_column() cannot drop the primary key")
                    if not used:
                        flush()
                        emit(f"ALTER TABLE {table} DROP COLUMN {quote(step.column)}")
                    current.columns.remove(column)
                    current.unique = [u for u in current.unique if step.column not in u[1]]
                    current.indexes = [i for i in current.indexes if step.column not in i[0]]
                    if used:
                        pending = True
                    else:
                        original = _copy_definition(current)
                case "set_null":
                    column.notnull = not step.flag
                    pending = True
                case "set_unique":
                    column.unique = step.flag
                    if not step.flag:
                        current.unique = [u for u in current.unique if u[1] != (step.column,)]
                    pending = True
                case "set_default":
                    column.default = step.default_sql(SQLITE)
                    pending = True
                case "set_length":
                    column.type = str(step.value)
                    pending = True
        flush()
        return rebuilt

    async def _run(self, engine: Engine) -> None:
        if engine.dialect.alters_in_place:
            await run_in_transaction(engine, self._postgres())
            return
        assert isinstance(engine, SQLiteEngine)
        await self._run_sqlite(engine)

    async def _run_sqlite(self, engine: SQLiteEngine) -> None:
        name = self._table._meta.tablename
        first = self._steps[0] if self._steps else None
        if first is not None and first.kind == "drop_table":
            # Nothing follows a drop (see _then), and the table may not exist.
            if first.flag:
                raise AlterError(
                    "SQLite has no DROP TABLE ... CASCADE; drop the referencing tables first"
                )
            guard = "IF EXISTS " if first.value else ""
            await engine._execute_built(f"DROP TABLE {guard}{Dialect.quote(name)}")
            return
        definition = await _read_definition(engine._fetch_built, name)
        # Dry run on a copy: does any rebuild drop a table?
        rebuilt = self._sqlite_steps(definition, lambda item: None)
        # A rename_table() earlier in the chain leaves the referencing
        # tables the same: look them up under the name the table has now.
        checked = {name, *rebuilt} if rebuilt else set()
        referenced = [t for t in checked if await _referencing_tables(engine._fetch_built, t)]
        if not referenced:
            # A savepoint inside an enclosing transaction: a failed check
            # undoes the alter, not the caller's work.
            async with engine.transaction():
                await self._apply_sqlite(engine._fetch_built, engine._execute_built)
            return
        if engine.transaction_exists():
            raise AlterError(
                f"SQLite cannot alter table {name!r} this way inside a transaction: "
                "the step rebuilds the table, and since other tables reference it, "
                "foreign keys must be switched off for that, which SQLite ignores "
                "inside a transaction; run the alter outside engine.transaction()"
            )
        try:
            await _run_without_foreign_keys(engine, self)
        except sqlite3.Error as exc:  # from the rebuild's own connection
            raise from_sqlite(exc) from exc

    async def _apply_sqlite(self, fetch: _Fetch, execute: _Execute) -> None:
        """Read the table, run the steps on it, check the schema; in the caller's transaction."""
        name = self._table._meta.tablename
        definition = await _read_definition(fetch, name)
        plan: list[str | _Rebuild] = []
        self._sqlite_steps(definition, plan.append)
        if not plan:
            return
        # Checked after native steps too: SQLite's own check in DROP COLUMN
        # misses a trigger's "UPDATE t SET dropped = ...". Only what the
        # alter breaks is its fault: a view that was broken already (SQLite
        # lets one be created) stays the user's business.
        before = await _schema_problems(fetch)
        for item in plan:
            if isinstance(item, str):
                await execute(item)
            else:
                await item.run(fetch, execute)
        broken = {k: v for k, v in (await _schema_problems(fetch)).items() if k not in before}
        if broken:
            found = "; ".join(f"{what}: {why}" for what, why in broken.items())
            raise AlterError(
                f"this alter of table {name!r} would break {found}; SQLite resolves views"
                " and triggers by column name when they run, so drop or change them first"
                " (nothing was changed)"
            )


def _statements(item: str | _Rebuild) -> list[str]:
    return [item] if isinstance(item, str) else item.statements()


def _copy_definition(definition: _TableDef) -> _TableDef:
    return _TableDef(
        definition.name,
        [replace(c) for c in definition.columns],
        list(definition.unique),
        list(definition.indexes),
        list(definition.foreign_keys),
    )


def _rename_in(definition: _TableDef, old: str, new: str) -> None:
    definition.column(old).name = new
    definition.unique = [
        (name, tuple(new if c == old else c for c in cols)) for name, cols in definition.unique
    ]
    quoted_old, quoted_new = Dialect.quote(old), Dialect.quote(new)
    definition.indexes = [
        (tuple(new if c == old else c for c in cols), sql.replace(quoted_old, quoted_new))
        for cols, sql in definition.indexes
    ]
    definition.foreign_keys = [fk.replace(quoted_old, quoted_new) for fk in definition.foreign_keys]


def _drop_unique_postgres(tablename: str, column: str) -> str:
    # The constraint may have PostgreSQL's generated name or ours, and keeps
    # its name through table renames: look it up in the catalog.
    table = Dialect.quote(tablename)
    return (
        "DO $$DECLARE constraint_name text; BEGIN "
        "FOR constraint_name IN SELECT con.conname FROM pg_constraint con "
        "JOIN pg_attribute att ON att.attrelid = con.conrelid AND att.attnum = con.conkey[1] "
        f"WHERE con.conrelid = '{table}'::regclass AND con.contype = 'u' "
        f"AND array_length(con.conkey, 1) = 1 AND att.attname = '{column}' LOOP "
        f"EXECUTE format('ALTER TABLE %s DROP CONSTRAINT %I', '{table}', constraint_name); "
        "END LOOP; END$$"
    )


async def _referencing_tables(fetch: _Fetch, table: str) -> list[str]:
    rows = await fetch(
        "SELECT DISTINCT m.name FROM sqlite_master m, pragma_foreign_key_list(m.name) f "
        "WHERE m.type = 'table' AND f.\"table\" = ? COLLATE NOCASE",
        (table,),
    )
    return [row[0] for row in rows]


async def _run_without_foreign_keys(engine: SQLiteEngine, alter: Alter) -> None:
    """The rebuild with foreign keys off, on a connection of its own.

    Holds the engine's transaction lock, so no transaction of this event
    loop waits on SQLite's write lock meanwhile; everything below is
    synchronous, so no other task runs in between.
    """
    lock = engine._transaction_lock()
    async with lock:
        conn = engine._connect()
        try:
            conn.execute("PRAGMA foreign_keys = OFF")
            conn.execute("BEGIN IMMEDIATE")
            try:

                async def fetch(sql: str, params: Sequence[object]) -> list[Sequence[Any]]:
                    return _fetch(conn, sql, params)

                async def execute(sql: str) -> None:
                    conn.execute(sql).close()

                await alter._apply_sqlite(fetch, execute)
                problems = _fetch(conn, "PRAGMA foreign_key_check", ())
                if problems:
                    raise AlterError(
                        f"the rebuilt table breaks foreign keys: {[tuple(p) for p in problems]}"
                    )
            except BaseException:
                conn.execute("ROLLBACK")
                raise
            conn.execute("COMMIT")
        finally:
            conn.close()
