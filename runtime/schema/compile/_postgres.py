"""PostgreSQL: every operation is native ``ALTER TABLE``, in one transaction."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Final

from ... import _naming
from ..._dialect import POSTGRES, Dialect
from .. import operations as ops
from ..database import DbEnum
from ..state import Column, EnumType, Schema, Table, View
from ._base import Compiler, Step, renamed_names

__all__ = ["PostgresCompiler"]

_SERIALS: Final = ("Serial", "BigSerial")
_SERIAL_TYPES: Final = {"SERIAL": "INTEGER", "BIGSERIAL": "BIGINT"}


class PostgresCompiler(Compiler):
    dialect = POSTGRES

    def _concurrently(self, wanted: bool) -> bool:
        return wanted

    def create_enum(self, enum: EnumType) -> list[str]:
        values = ", ".join(_literal(v) for v in enum.values)
        return [f"CREATE TYPE {Dialect.quote(enum.name)} AS ENUM ({values})"]

    def drop_unused_enum(self, name: str) -> list[str]:
        return [
            f"DO $$BEGIN DROP TYPE IF EXISTS {Dialect.quote(name)}; "
            "EXCEPTION WHEN dependent_objects_still_exist THEN NULL; END$$"
        ]

    def create_view(self, view: View, *, if_not_exists: bool = False) -> list[str]:
        if not if_not_exists or view.materialized:
            return super().create_view(view, if_not_exists=if_not_exists)
        # CREATE VIEW has no IF NOT EXISTS (CREATE OR REPLACE would change a
        # view that is there): the statement in a block that ignores the clash,
        # dollar-quoted with a tag the view's SQL cannot close early.
        (sql,) = super().create_view(view)
        tag = "$piccolo_gen$"
        while tag in sql:
            tag = tag[:-1] + "_$"
        return [f"DO {tag}BEGIN {sql}; EXCEPTION WHEN duplicate_table THEN NULL; END{tag}"]

    def lower_enums(self, schema: Schema) -> tuple[DbEnum, ...]:
        return tuple(DbEnum(e.name, e.values) for e in schema.enums)

    def _enum_steps(self, op: ops.Operation, before: Schema) -> list[Step] | None:
        """The steps of an enum type operation (``None``: ``op`` is none)."""
        quote = Dialect.quote
        if isinstance(op, ops.CreateEnum):
            return list(self.create_enum(op.enum))
        if isinstance(op, ops.DropEnum):
            return [f"DROP TYPE {quote(op.name)}"]
        if isinstance(op, ops.AddEnumValue):
            where = ""
            if op.before is not None:
                where = f" BEFORE {_literal(op.before)}"
            elif op.after is not None:
                where = f" AFTER {_literal(op.after)}"
            return [f"ALTER TYPE {quote(op.enum)} ADD VALUE {_literal(op.value)}{where}"]
        if isinstance(op, ops.RenameEnumValue):
            return [
                f"ALTER TYPE {quote(op.enum)} RENAME VALUE {_literal(op.old)} TO {_literal(op.new)}"
            ]
        if isinstance(op, ops.DropEnumValue):
            # No DROP VALUE in PostgreSQL: make the type again without it and
            # convert the columns through text (a row holding the value fails
            # the conversion, and with it the step).
            after = op.apply(before)
            old = _naming.derived_name(op.enum, "old")
            steps: list[Step] = [f"ALTER TYPE {quote(op.enum)} RENAME TO {quote(old)}"]
            steps += self.create_enum(after.enum(op.enum))
            for table, column in before.enum_users(op.enum):
                alter = f"ALTER TABLE {quote(table.name)} ALTER COLUMN {quote(column.name)}"
                default = self.default_sql(column)
                if default is not None:
                    steps.append(f"{alter} DROP DEFAULT")
                steps.append(
                    f"{alter} TYPE {quote(op.enum)} USING {quote(column.name)}::text::"
                    f"{quote(op.enum)}"
                )
                if default is not None:
                    steps.append(f"{alter} SET DEFAULT {default}")
            steps.append(f"DROP TYPE {quote(old)}")
            return steps
        return None

    def _compile_alter(
        self, op: ops.Operation, before: Schema, *, derived_names: bool
    ) -> list[Step]:
        quote = Dialect.quote
        enum_steps = self._enum_steps(op, before)
        if enum_steps is not None:
            return enum_steps
        if isinstance(op, ops.RenameTable):
            steps: list[Step] = [f"ALTER TABLE {quote(op.old)} RENAME TO {quote(op.new)}"]
            if derived_names:
                old = before.table(op.old)
                steps += self._renames(op.new, old, op.apply(before).table(op.new))
            return steps
        if isinstance(op, ops.RenameColumn):
            table = quote(op.table)
            steps = [f"ALTER TABLE {table} RENAME COLUMN {quote(op.old)} TO {quote(op.new)}"]
            if derived_names:
                old = before.table(op.table)
                steps += self._renames(op.table, old, op.apply(before).table(op.table))
            return steps
        if isinstance(op, ops.AddColumn):
            return [
                f"ALTER TABLE {quote(op.table)} ADD COLUMN {self.column_sql(op.table, op.column)}",
                *self.column_index_sql(op.table, op.column),
            ]
        if isinstance(op, ops.DropColumn):
            return [f"ALTER TABLE {quote(op.table)} DROP COLUMN {quote(op.name)}"]
        if isinstance(op, ops.AlterColumn):
            return self._alter_column(op, before, derived_names=derived_names)
        if isinstance(op, ops.AddUnique):
            listed = ", ".join(quote(c) for c in op.unique.columns)
            return [
                f"ALTER TABLE {quote(op.table)} ADD CONSTRAINT {quote(op.unique.name)}"
                f" UNIQUE ({listed})"
            ]
        if isinstance(op, (ops.DropUnique, ops.DropCheck)):
            return [f"ALTER TABLE {quote(op.table)} DROP CONSTRAINT {quote(op.name)}"]
        if isinstance(op, ops.AddCheck):
            # Checks the rows there: one that fails it fails the step.
            return [f"ALTER TABLE {quote(op.table)} ADD {self.check_sql(op.check)}"]
        return super()._compile_alter(op, before, derived_names=derived_names)

    def _renames(self, name: str, old: Table, new: Table) -> list[Step]:
        """Rename the derived index and constraint names (and the serial key's
        sequence) of a renamed table or column, so the database has the names
        a table created under the new names would have."""
        quote = Dialect.quote
        steps: list[Step] = []
        for kind, before, after in renamed_names(old, new):
            if kind == "index":
                steps.append(f"ALTER INDEX {quote(before)} RENAME TO {quote(after)}")
            else:
                steps.append(
                    f"ALTER TABLE {quote(name)} RENAME CONSTRAINT {quote(before)} TO {quote(after)}"
                )
        for was, now in zip(old.columns, new.columns, strict=True):
            if now.type.kind not in _SERIALS or not now.primary_key:
                continue
            sequence = f"{new.name}_{now.name}_seq"
            if (old.name, was.name) == (new.name, now.name) or not _naming.fits(sequence):
                continue  # a long name: PostgreSQL's own truncation is not ours to guess
            steps.append(
                "DO $$BEGIN EXECUTE format('ALTER SEQUENCE %s RENAME TO %I', "
                f"pg_get_serial_sequence({_literal(quote(new.name))}, {_literal(now.name)}), "
                f"{_literal(sequence)}); END$$"
            )
        return steps

    def _alter_column(
        self, op: ops.AlterColumn, before: Schema, *, derived_names: bool
    ) -> list[Step]:
        quote = Dialect.quote
        table, name = quote(op.table), quote(op.name)
        old = before.table(op.table).column(op.name)
        new = op.apply(before).table(op.table).column(op.name)
        alter = f"ALTER TABLE {table} ALTER COLUMN {name}"
        changes = op.changes()
        steps: list[Step] = []
        if "references" in changes and old.references is not None:
            steps.append(self._drop_constraint(op.table, old, "f", derived_names))
        if "unique" in changes and old.unique and not new.unique:
            steps.append(self._drop_constraint(op.table, old, "u", derived_names))
        if "index" in changes and old.index and not new.index:
            steps.append(f"DROP INDEX {quote(_naming.index_name(op.table, (op.name,)))}")
        if "type" in changes and new.type != old.type:
            # A serial is an integer with a sequence: its type changes as one.
            target = _SERIAL_TYPES.get(self.type_sql(new), self.type_sql(new))
            sql = f"{alter} TYPE {target}"
            converted = old.type.kind != new.type.kind or old.type.element != new.type.element
            if converted and new.type.kind == "Enum":
                # Text, and another enum type, become an enum type through text.
                sql += f" USING {name}::text::{target}"
            elif converted:
                # Another kind of value: cast each (a length or digits change needs none).
                sql += f" USING {name}::{target}"
            if converted and old.default is not None and "default" not in changes:
                # The old default may not cast to the new type: set it again.
                steps += [f"{alter} DROP DEFAULT", sql]
                default = self.default_sql(new)
                if default is not None:
                    steps.append(f"{alter} SET DEFAULT {default}")
            else:
                steps.append(sql)
                default = self.default_sql(new)
                if (
                    old.default is not None
                    and "default" not in changes
                    and default is not None
                    and default != self.default_sql(old)
                ):
                    # PostgreSQL keeps the default's text through a change of
                    # digits ('1.500' stays when the scale becomes 2): set it
                    # again so the catalog has what the new type renders.
                    steps.append(f"{alter} SET DEFAULT {default}")
        if "null" in changes and new.null != old.null:
            steps.append(f"{alter} {'DROP NOT NULL' if new.null else 'SET NOT NULL'}")
        if "default" in changes:
            default = self.default_sql(new)
            steps.append(
                f"{alter} DROP DEFAULT" if default is None else f"{alter} SET DEFAULT {default}"
            )
        if "unique" in changes and new.unique and not old.unique:
            constraint = quote(_naming.unique_name(op.table, (op.name,)))
            steps.append(f"ALTER TABLE {table} ADD CONSTRAINT {constraint} UNIQUE ({name})")
        if "index" in changes and new.index and not old.index:
            steps += self.column_index_sql(op.table, new)
        if "references" in changes and new.references is not None:
            steps.append(self.add_foreign_key_sql(op.table, new))
        return steps

    def add_foreign_key_sql(
        self, table: str, column: Column, *, if_not_exists: bool = False
    ) -> str:
        quote = Dialect.quote
        constraint = quote(_naming.foreign_key_name(table, column.name))
        return self.add_constraint_sql(
            table,
            f"CONSTRAINT {constraint} FOREIGN KEY ({quote(column.name)})"
            + self.references_sql(column),
            if_not_exists=if_not_exists,
        )

    def add_constraint_sql(
        self, table: str, constraint: str, *, if_not_exists: bool = False
    ) -> str:
        sql = f"ALTER TABLE {Dialect.quote(table)} ADD {constraint}"
        if not if_not_exists:
            return sql
        # PostgreSQL has no ADD CONSTRAINT IF NOT EXISTS: a table that was
        # there already has its constraint (42710, duplicate_object).
        return f"DO $$BEGIN {sql}; EXCEPTION WHEN duplicate_object THEN NULL; END$$"

    def drop_tables(self, tables: Sequence[Table], *, if_exists: bool = False) -> list[str]:
        # A cycle of foreign keys: drop the keys that close it, then the
        # tables in reverse creation order, as for any other set.
        quote = Dialect.quote
        guard = "IF EXISTS " if if_exists else ""
        steps = [
            f"ALTER TABLE {guard}{quote(table.name)} DROP CONSTRAINT {guard}"
            + quote(
                _naming.foreign_key_name(table.name, key.name)
                if isinstance(key, Column)
                else key.name
            )
            for table, key in self.cycle_closing(tables)
        ]
        return steps + super().drop_tables(tables, if_exists=if_exists)

    def _drop_constraint(self, table: str, column: Column, kind: str, derived_names: bool) -> str:
        """Drop the single-column unique (``u``) or foreign key (``f``) constraint of ``column``."""
        quote = Dialect.quote
        if derived_names:
            if kind == "u":
                name = _naming.unique_name(table, (column.name,))
            else:
                name = _naming.foreign_key_name(table, column.name)
            return f"ALTER TABLE {quote(table)} DROP CONSTRAINT {quote(name)}"
        # The constraint may have PostgreSQL's generated name or ours, and keeps
        # its name through an alter()'s table renames: look it up in the catalog.
        quoted = quote(table).replace("'", "''")
        return (
            "DO $$DECLARE constraint_name text; BEGIN "
            "FOR constraint_name IN SELECT con.conname FROM pg_constraint con "
            "JOIN pg_attribute att ON att.attrelid = con.conrelid AND att.attnum = con.conkey[1] "
            f"WHERE con.conrelid = '{quoted}'::regclass AND con.contype = '{kind}' "
            f"AND array_length(con.conkey, 1) = 1 AND att.attname = {_literal(column.name)} LOOP "
            f"EXECUTE format('ALTER TABLE %s DROP CONSTRAINT %I', '{quoted}', constraint_name); "
            "END LOOP; END$$"
        )


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"
