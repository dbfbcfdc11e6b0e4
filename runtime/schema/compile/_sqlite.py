"""SQLite: native ``ALTER TABLE`` where SQLite allows it, else the table rebuild.

SQLite's ``ALTER TABLE`` can rename a table, rename, add and drop a column.
Adding runs natively for a nullable or constantly defaulted column without
UNIQUE or REFERENCES, dropping for a column in no index, constraint or
foreign key; every other change rebuilds the table with the procedure of
https://www.sqlite.org/lang_altertable.html#otheralter: remember the
table's triggers, create the new table (from the state after the operation,
by ``create_table``) under a temporary name, copy the rows, drop the old
table, rename the new one, recreate the indexes and triggers; the session
(``runtime.schema.session``) checks the foreign keys and that every view and
trigger still compiles before it commits.

Views are left in place: SQLite stores them as SQL text and resolves them
when they are used, so after the rename they read the new table. Only the
rename itself would trip over them: since SQLite 3.26 ``RENAME TO`` checks
every view and trigger of the schema, and those naming the table fail
while it is dropped ("error in view v: no such table"). The rename runs with
``PRAGMA legacy_alter_table = ON``, which skips that check (and rewrites no
references, of which there are none to the temporary name).

Dropping the old table would run its foreign-key actions (``ON DELETE
CASCADE`` would empty the tables that reference it), so a table that is
referenced (or references itself) is rebuilt only with foreign keys off,
which the session does on a connection of its own; SQLite ignores that
switch inside a transaction, so inside ``engine.transaction()`` such a
rebuild raises ``AlterError`` instead of losing rows.
"""

from __future__ import annotations

from collections.abc import Mapping
from collections.abc import Sequence as _Seq
from dataclasses import dataclass, field
from typing import Any

from ... import _naming
from ..._columns import DynamicDefault
from ..._dialect import SQLITE, Dialect
from .. import operations as ops
from ..checksql import column_names
from ..state import Check, Column, Index, Schema, Table
from ._base import AlterError, Compiler, DdlConnection, Step, renamed_names

__all__ = ["SQLiteCompiler", "TableRebuild"]


def _writes_on_delete(table: Table, target: str) -> bool:
    """Whether a key of ``table`` to ``target`` writes ``table`` when a target
    row is deleted (``CASCADE``, ``SET NULL``, ``SET DEFAULT``)."""
    return any(
        c.references is not None
        and c.references.table == target
        and c.references.on_delete in ("cascade", "set_null", "set_default")
        for c in table.columns
    )


def _drop_order(tables: _Seq[Table]) -> list[Table]:
    """``tables`` in an order where, as each is dropped, every table whose ON
    DELETE action it runs still has all its targets; latest created first
    where there is a choice (reverse creation order when nothing forces
    another). A bounded search; without a result, reverse creation order."""
    budget = [10_000]
    failed: set[frozenset[str]] = set()

    def droppable(table: Table, remaining: tuple[Table, ...], names: frozenset[str]) -> bool:
        return all(
            c.references is None or c.references.table in names
            for referrer in remaining
            if _writes_on_delete(referrer, table.name)
            for c in referrer.columns
        )

    def search(remaining: tuple[Table, ...]) -> list[Table] | None:
        if not remaining:
            return []
        names = frozenset(t.name for t in remaining)
        if names in failed or budget[0] <= 0:
            return None
        budget[0] -= 1
        for table in reversed(remaining):
            if droppable(table, remaining, names):
                rest = search(tuple(t for t in remaining if t is not table))
                if rest is not None:
                    return [table, *rest]
        failed.add(names)
        return None

    return search(tuple(tables)) or list(reversed(tables))


class SQLiteCompiler(Compiler):
    dialect = SQLITE
    forward_references = True

    def drop_tables(self, tables: _Seq[Table], *, if_exists: bool = False) -> list[str]:
        if not self.cycle_closing(tables):
            return super().drop_tables(tables, if_exists=if_exists)
        # Dropping a table deletes its rows first, running the ON DELETE
        # actions of the keys that reference it; an action that writes a
        # table whose other target is gone already fails to compile ("no such
        # table"), which a cycle can make unavoidable in reverse creation
        # order. ``_drop_order`` finds an order without (foreign keys off,
        # outside a transaction, any order does). The row checks wait for the
        # commit (``defer_foreign_keys``, reset by it), when every table of
        # the set is gone.
        guard = "IF EXISTS " if if_exists else ""
        return [
            "PRAGMA defer_foreign_keys = ON",
            *(f"DROP TABLE {guard}{Dialect.quote(t.name)}" for t in _drop_order(tables)),
        ]

    def type_sql(self, column: Column) -> str:
        # A key to a BIGSERIAL is declared BIGINT, as the foreign key column
        # class declares it (INTEGER affinity either way).
        if column.references is not None and column.type.kind == "BigInt":
            return "BIGINT"
        return super().type_sql(column)

    def unique_constraint_name(self, table: str, column: str) -> str:
        return ""  # SQLite keeps no name of a column constraint

    def enum_checks(self, table: Table, enums: Mapping[str, tuple[str, ...]]) -> list[Check]:
        # No enum types: a text column that takes only the type's values.
        checks = []
        for column in table.columns:
            name = column.type.enum
            if name is None:
                continue
            if name not in enums:
                raise AlterError(
                    f"the values of enum type {name!r} of {table.name}.{column.name} are unknown"
                )
            listed = ", ".join("'" + v.replace("'", "''") + "'" for v in enums[name])
            checks.append(
                Check(
                    _naming.derived_name(table.name, column.name, suffix="enum"),
                    f"{Dialect.quote(column.name)} IN ({listed})",
                )
            )
        return checks

    def rebuild(
        self,
        before: Table,
        after: Table,
        *,
        renamed: Table | None = None,
        enums: Mapping[str, tuple[str, ...]] | None = None,
    ) -> TableRebuild:
        """The rebuild of table ``before`` into ``after`` (same name);
        ``renamed``: the table before a native rename, whose index names the
        database still has; ``enums``: the values of the enum types after it."""
        kept = tuple(c.name for c in after.columns if before.has_column(c.name))
        tables = (before, after, *([renamed] if renamed else []))
        values = dict(enums or {})
        known = frozenset(i.name for t in tables for i in self.lower_table(t, values).indexes)
        return TableRebuild(self, after, kept, known, values)

    def _compile_alter(
        self, op: ops.Operation, before: Schema, *, derived_names: bool
    ) -> list[Step]:
        quote = Dialect.quote
        after = op.apply(before)
        values = after.enum_values()
        if isinstance(op, (ops.CreateEnum, ops.DropEnum)):
            return []  # no enum types here: the state alone
        if isinstance(op, (ops.AddEnumValue, ops.DropEnumValue, ops.RenameEnumValue)):
            # The check of each column of the type changes: a rebuild each.
            rows: list[Step] = []
            tables = {t.name: t for t, _ in before.enum_users(op.enum)}
            if isinstance(op, ops.RenameEnumValue) and tables:
                # The rows first, past the old check, which the rebuild replaces.
                rows.append("PRAGMA ignore_check_constraints = ON")
                for table, column in before.enum_users(op.enum):
                    name = quote(column.name)
                    rows.append(
                        f"UPDATE {quote(table.name)} SET {name} = {_text(op.new)}"
                        f" WHERE {name} = {_text(op.old)}"
                    )
                rows.append("PRAGMA ignore_check_constraints = OFF")
            return [
                *rows,
                *(
                    self.rebuild(table, after.table(table.name), enums=values)
                    for table in tables.values()
                ),
            ]
        if isinstance(op, ops.RenameTable):
            steps: list[Step] = [f"ALTER TABLE {quote(op.old)} RENAME TO {quote(op.new)}"]
            if derived_names:
                steps += self._renames(before.table(op.old), after.table(op.new), values)
            return steps
        if isinstance(op, ops.RenameColumn):
            steps = [
                f"ALTER TABLE {quote(op.table)} RENAME COLUMN {quote(op.old)} TO {quote(op.new)}"
            ]
            if derived_names:
                steps += self._renames(before.table(op.table), after.table(op.table), values)
            return steps
        old, new = before.table(_table_of(op)), after.table(_table_of(op))
        if isinstance(op, ops.AddColumn):
            column = op.column
            # SQLite refuses UNIQUE, NOT NULL without a default, a non-constant
            # default, and REFERENCES with a non-NULL default.
            native = not column.unique and not (not column.null and column.default is None)
            native = native and not isinstance(column.default, DynamicDefault)
            native = native and not (column.references is not None and column.default is not None)
            # An enum column's check is a table constraint: a rebuild writes it.
            native = native and column.type.enum is None
            if native:
                return [
                    f"ALTER TABLE {quote(op.table)} ADD COLUMN {self.column_sql(op.table, column)}",
                    *self.column_index_sql(op.table, column),
                ]
            return [self.rebuild(old, new, enums=values)]
        if isinstance(op, ops.DropColumn):
            column = old.column(op.name)
            used = (
                column.unique
                or column.index
                or column.references is not None
                or any(op.name in i.columns for i in old.indexes)
                or any(op.name in u.columns for u in old.unique)
                or any(op.name in column_names(c.sql) for c in old.checks)
                or column.type.enum is not None
            )
            if not used:
                return [f"ALTER TABLE {quote(op.table)} DROP COLUMN {quote(op.name)}"]
            return [self.rebuild(old, new, enums=values)]
        if isinstance(op, ops.AlterColumn) and set(op.changes()) == {"index"}:
            was, now = old.column(op.name), new.column(op.name)
            if was.index == now.index:
                return []
            if now.index:
                return list(self.column_index_sql(op.table, now))
            return [f"DROP INDEX {quote(_naming.index_name(op.table, (op.name,)))}"]
        # SQLite has no ALTER TABLE for constraints: a rebuild, whose copy
        # of the rows is checked against an added check.
        if isinstance(
            op, (ops.AlterColumn, ops.AddUnique, ops.DropUnique, ops.AddCheck, ops.DropCheck)
        ):
            return [self.rebuild(old, new, enums=values)]
        return super()._compile_alter(op, before, derived_names=derived_names)

    def _renames(
        self, old: Table, new: Table, enums: Mapping[str, tuple[str, ...]] | None = None
    ) -> list[Step]:
        """Give a renamed table's derived names their new form: SQLite renames
        no index, and constraint names written in ``CREATE TABLE`` (table-level
        uniques, long names, the checks of enum columns) change only with a
        rebuild."""
        changed = renamed_names(old, new)
        values = dict(enums or {})
        if [c.name for c in self.enum_checks(old, values)] != [
            c.name for c in self.enum_checks(new, values)
        ]:
            return [self.rebuild(new, new, renamed=old, enums=values)]
        if not changed:
            return []
        created = self.create_table(old, enums=values)[0]
        if any(
            kind == "constraint" and f"CONSTRAINT {Dialect.quote(was)}" in created
            for kind, was, _ in changed
        ):
            # Rebuilt after the native rename (the same columns), so that its
            # CREATE TABLE writes the new names.
            return [self.rebuild(new, new, renamed=old, enums=values)]
        steps: list[Step] = []
        by_name = {i.name: i for i in self.lower_table(new, values).indexes}
        for kind, was, now in changed:
            if kind == "index":
                index = by_name[now]
                steps.append(f"DROP INDEX {Dialect.quote(was)}")
                steps.append(
                    self.index_sql(new.name, Index(index.name, index.columns, index.unique))
                )
        return steps


def _text(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def _table_of(op: ops.Operation) -> str:
    name = getattr(op, "table", None)
    if not isinstance(name, str):
        raise AlterError(f"{type(op).__name__} names no table")
    return name


@dataclass(frozen=True)
class TableRebuild:
    """One table rebuild: SQLite's documented procedure, steps 3 to 8.

    The triggers to recreate are read from the database when the rebuild
    runs, after the steps before it (a native ``RENAME COLUMN`` rewrites
    them), so they are not part of the printed plan; so are indexes that no
    state can hold (partial or over expressions), which are recreated from
    their SQL as SQLite has it.
    """

    compiler: SQLiteCompiler
    #: The table as it will be.
    table: Table
    #: The columns whose values are copied (those of the old table still there).
    copied: tuple[str, ...]
    #: Names of the indexes the states before and after know of.
    known_indexes: frozenset[str]
    #: The values of the enum types (the checks of their columns).
    enums: Mapping[str, tuple[str, ...]] = field(default_factory=dict)

    @property
    def temporary(self) -> str:
        # A temporary name, renamed at the end: renaming the old table away
        # instead would make SQLite rewrite the references to it in views,
        # triggers and foreign keys to that name.
        return f"{self.table.name}__piccolo_gen_new"

    def _parts(self) -> tuple[str, str, str, str, list[str]]:
        quote = Dialect.quote
        create, *indexes = self.compiler.create_table(
            self.table, name=self.temporary, enums=self.enums
        )
        listed = ", ".join(quote(c) for c in self.copied)
        name = quote(self.table.name)
        return (
            create,
            f"INSERT INTO {quote(self.temporary)} ({listed}) SELECT {listed} FROM {name}",
            f"DROP TABLE {name}",
            f"ALTER TABLE {quote(self.temporary)} RENAME TO {name}",
            indexes,
        )

    def statements(self) -> list[str]:
        """The statements, for printing the plan (without the triggers)."""
        create, copy, drop, rename, indexes = self._parts()
        return [create, copy, drop, rename, *indexes]

    async def run(self, conn: DdlConnection) -> None:
        name = self.table.name
        if conn.foreign_keys_enforced and await referencing_tables(conn, name):
            raise AlterError(
                f"SQLite cannot alter table {name!r} this way inside a transaction: "
                "the step rebuilds the table, and since other tables reference it, "
                "foreign keys must be switched off for that, which SQLite ignores "
                "inside a transaction; run the alter outside engine.transaction()"
            )
        create, copy, drop, rename, indexes = self._parts()
        # Step 3: the triggers, which DROP TABLE drops with the table.
        # Recreated in creation order, so they fire in the order they did
        # (SQLite leaves that order undocumented; it follows creation).
        triggers = await conn.fetch(
            "SELECT sql FROM sqlite_master WHERE type = 'trigger'"
            " AND tbl_name = ? COLLATE NOCASE AND sql IS NOT NULL ORDER BY rowid",
            (name,),
        )
        others = [
            row[1]
            for row in await conn.fetch(
                "SELECT name, sql FROM sqlite_master WHERE type = 'index'"
                " AND tbl_name = ? COLLATE NOCASE AND sql IS NOT NULL ORDER BY rowid",
                (name,),
            )
            if row[0] not in self.known_indexes
        ]
        for sql in (create, copy, drop):
            await conn.execute(sql)
        # See the module docstring: without it, a view naming the table
        # would fail the rename. A connection setting: put back as found.
        (legacy,) = (await conn.fetch("PRAGMA legacy_alter_table", ()))[0]
        await conn.execute("PRAGMA legacy_alter_table = ON")
        try:
            await conn.execute(rename)
        finally:
            await conn.execute(f"PRAGMA legacy_alter_table = {'ON' if legacy else 'OFF'}")
        for sql in (*indexes, *others, *(row[0] for row in triggers)):
            await conn.execute(sql)


async def referencing_tables(conn: DdlConnection, table: str) -> list[str]:
    """The tables with a foreign key to ``table`` (itself included)."""
    rows: _Seq[_Seq[Any]] = await conn.fetch(
        "SELECT DISTINCT m.name FROM sqlite_master m, pragma_foreign_key_list(m.name) f "
        "WHERE m.type = 'table' AND f.\"table\" = ? COLLATE NOCASE",
        (table,),
    )
    return [row[0] for row in rows]
