"""The differ: two schema states in, the operations from one to the other out.

``diff(old, new)`` gives operations such that applying them to ``old``, in
order, gives ``new`` (``Schema`` equality: order of tables and columns
aside), each one valid on the state it meets:

1. renames, from the ``renamed_from`` hints of ``new`` (never guessed), so
   that every later operation uses the new names;
2. indexes, unique and check constraints that go or change (a changed one is
   dropped and added again), before the columns under them;
3. new enum types and new values of enum types (``CreateEnum``,
   ``AddEnumValue``, each value at its place), before the columns of them;
4. new tables, each after the tables it references;
5. new columns, then changed columns (one ``AlterColumn`` each, with exactly
   the fields that changed), then values an enum type loses
   (``DropEnumValue``, which fails on a database whose rows hold one);
6. dropped columns and tables, each after whatever references it, then the
   enum types no column needs;
7. new indexes, unique and check constraints, once their columns exist and the
   names they take are free.

Views are neither renamed nor altered: one that is new is created, one that
is gone is dropped, and one that changed (its SQL, kind, columns or
indexes) is dropped and created again. Drops come first and creations
last, around every other operation, so that a view never stands in the way
of a change to what it reads and is created once all of it exists. A view
that did not change is dropped and created again too when the operations
change a column of a table it reads in a way the database refuses under a
view (PostgreSQL: a column's type, or the enum type of a column, is
changed), or when it reads a view that is dropped and created again.
Which tables and views a view reads is told from the identifiers of its
SQL (``View.reads``): never fewer than it reads.

An enum type whose values the new state orders otherwise is refused
(``SchemaStateError``): neither database can reorder the values in place, and
a rebuild would change what every comparison and ``ORDER BY`` of its
columns means; declare the new order as a new type instead.

A drop and an add that look like a rename (a column of the same type, a
table with the same columns) are written as a drop and an add, and flagged
in ``Diff.hints`` with the ``renamed_from`` that would make them a rename.

Renames and their hints. ``renamed_from`` names the table or column in the
previous state (database names). A hint whose new name already exists in
the previous state while the old one does not is one an earlier migration
carried out: the schema files keep it, so it is ignored. So is a hint whose
old and new names both exist in both states (a swap of names cannot be told
from a swap carried out, so it is not one: it needs two migrations). A hint
whose old name and new name are both missing from the previous state names
nothing, and is an error (``SchemaStateError``).
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable
from dataclasses import dataclass, field, replace
from typing import Literal

from .. import _naming
from .operations import (
    UNCHANGED,
    AddCheck,
    AddColumn,
    AddEnumValue,
    AddIndex,
    AddUnique,
    AlterColumn,
    CreateEnum,
    CreateTable,
    CreateView,
    DropCheck,
    DropColumn,
    DropEnum,
    DropEnumValue,
    DropIndex,
    DropTable,
    DropUnique,
    DropView,
    Operation,
    RenameColumn,
    RenameTable,
)
from .state import Column, Schema, SchemaStateError, Table, View

__all__ = ["Diff", "HintEffect", "diff", "hint_effect", "renames"]

#: The fields an ``AlterColumn`` can change, in its order.
_ALTERED = ("type", "null", "default", "unique", "index", "references")


@dataclass
class Diff:
    """The operations from one state to another, and what a reviewer should know."""

    operations: list[Operation] = field(default_factory=list)
    #: Drops and adds that may be meant as renames, as advice to the user.
    hints: list[str] = field(default_factory=list)

    def __bool__(self) -> bool:
        return bool(self.operations)


#: What a ``renamed_from`` does: a rename, nothing (carried out already, or
#: a swap), or an error (it names nothing).
HintEffect = Literal["rename", "ignored", "missing"]


def hint_effect(
    old_names: Collection[str], new_names: Collection[str], name: str, source: str
) -> HintEffect:
    """What the hint "``name`` is renamed from ``source``" does between states
    whose items (tables, or columns of one table) have ``old_names`` and
    ``new_names`` (see the module docstring)."""
    if source not in old_names:
        return "ignored" if name in old_names else "missing"
    if source == name or (name in old_names and source in new_names):
        return "ignored"
    return "rename"


def renames(
    old_names: Collection[str],
    new: Iterable[tuple[str, str | None]],
    new_label: Callable[[str], str] = lambda name: f"table {name}",
    old_label: Callable[[str], str] | None = None,
) -> dict[str, str]:
    """The renames ``old name -> new name`` that hints ask for (see the module docstring).

    ``new`` gives each new item's name and its ``renamed_from``; the labels
    name a new and an old item in messages (``table band``, ``column
    band.name``). Raises ``SchemaStateError`` for a hint that names nothing,
    and for two hints naming one old item.
    """
    old_label = old_label or new_label
    items = list(new)
    new_names = {name for name, _ in items}
    found: dict[str, str] = {}
    for name, source in items:
        if source is None:
            continue
        effect = hint_effect(old_names, new_names, name, source)
        if effect == "missing":
            raise SchemaStateError(
                f"{new_label(name)} is renamed from {source!r}, but the previous state has "
                f"no {old_label(source)}"
            )
        if effect == "ignored":
            continue
        if source in found:
            raise SchemaStateError(
                f"{new_label(found[source])} and {new_label(name)} are both renamed from "
                f"{old_label(source)}"
            )
        found[source] = name
    return found


def diff(old: Schema, new: Schema) -> Diff:
    """The operations that turn ``old`` into ``new``, and hints about possible renames."""
    tables = _Differ(replace(old, views=()), replace(new, views=())).run()
    return _with_views(old, new, tables)


def _with_views(old: Schema, new: Schema, tables: Diff) -> Diff:
    """``tables`` (the operations between the states without their views)
    with the views' drops before them and their creations after (see the
    module docstring)."""
    wanted = {v.name: v for v in new.views}
    # The tables (by their names in ``old``) changed in a way no view survives.
    touched: set[str] = set()
    enums: set[str] = set()
    was: dict[str, str] = {}  # a renamed table's new name -> its name in ``old``
    state = replace(old, views=())
    for op in tables.operations:
        if isinstance(op, RenameTable):
            was[op.new] = was.pop(op.old, op.old)
        elif isinstance(op, AlterColumn) and op.type is not UNCHANGED:
            touched.add(was.get(op.table, op.table))
        elif isinstance(op, DropEnumValue):
            enums.add(op.enum)
            touched |= {was.get(t.name, t.name) for t, _ in state.enum_users(op.enum)}
        state = op.apply(state)
    relations = set(old.names()) | {v.name for v in old.views}
    doomed: list[View] = []
    for view in old.views:
        reads = view.reads(relations)
        if (
            wanted.get(view.name) != view
            or reads & touched
            or reads & {v.name for v in doomed}
            or any(c.type.enum in enums for c in view.columns)
        ):
            doomed.append(view)
    operations: list[Operation] = [DropView(v.name) for v in reversed(doomed)]
    operations += tables.operations
    gone = {v.name for v in doomed}
    kept = {v.name for v in old.views} - gone
    operations += [CreateView(v) for v in new.views if v.name not in kept]
    after = old
    for op in operations:
        after = op.apply(after)
    if after != new:
        raise SchemaStateError(
            "the differ's operations do not lead to the new state; this is a bug in "
            "piccolo-gen: please report it with the two states"
        )
    return Diff(operations, tables.hints)


class _Differ:
    def __init__(self, old: Schema, new: Schema) -> None:
        self.old = old
        self.new = new
        self.state = old
        self.operations: list[Operation] = []
        self.hints: list[str] = []
        #: Temporary names of doomed items that stood in a rename's way -> their names.
        self.moved: dict[str, str] = {}
        #: New name -> old name of the renamed tables.
        self.old_table_names: dict[str, str] = {}

    def emit(self, operation: Operation) -> None:
        self.state = operation.apply(self.state)
        self.operations.append(operation)

    def run(self) -> Diff:
        self.rename_tables()
        self.rename_columns()
        # From here on, a table (or column) of one name in the state and in
        # ``new`` is the same one.
        new = self.new
        mid = self.state
        kept = [t for t in new if mid.has(t.name)]
        created = [t for t in new.ordered() if not mid.has(t.name)]
        dropped = [t for t in reversed(mid.ordered().tables) if not new.has(t.name)]
        self.table_hints(dropped, created)
        for table in kept:
            before = mid.table(table.name)
            self.column_hints(
                table.name,
                [c for c in before.columns if not table.has_column(c.name)],
                [c for c in table.columns if not before.has_column(c.name)],
            )
        for table in kept:
            self.check_primary_key(mid.table(table.name), table)
        for table in kept:
            self.drop_groups(mid.table(table.name), table)
        self.add_enums()
        deferred: list[Operation] = []
        for table in created:
            self.create_table(_plain_table(table), deferred)
        for table in kept:
            before = mid.table(table.name)
            for column in table.columns:
                if not before.has_column(column.name):
                    self.add_column(table.name, _plain_column(column), deferred)
        for table in kept:
            before = mid.table(table.name)
            for column in table.columns:
                if before.has_column(column.name):
                    self.alter_column(table.name, before.column(column.name), column)
        for operation in deferred:
            if isinstance(operation, AlterColumn):
                self.emit(operation)
        self.drop_enum_values()
        self.drop(kept, dropped)
        for gone in self.old.enums:
            if not new.has_enum(gone.name):
                self.emit(DropEnum(gone.name))
        for operation in deferred:
            if not isinstance(operation, AlterColumn):
                self.emit(operation)
        for table in kept:
            self.add_groups(mid.table(table.name), table)
        if self.state != new:
            raise SchemaStateError(
                "the differ's operations do not lead to the new state; this is a bug in "
                "piccolo-gen: please report it with the two states"
            )
        return Diff(self.operations, self.hints)

    # -- enum types

    def add_enums(self) -> None:
        """Create the new enum types, and add the new values of the others at
        their places; refuse a new order of values the types keep."""
        for wanted in self.new.enums:
            if not self.state.has_enum(wanted.name):
                self.emit(CreateEnum(wanted))
                continue
            kept = [v for v in self.state.enum(wanted.name).values if v in wanted.values]
            if kept != [v for v in wanted.values if v in kept]:
                raise SchemaStateError(
                    f"the values of enum type {wanted.name!r} change order "
                    f"({', '.join(kept)} become {', '.join(v for v in wanted.values if v in kept)});"
                    " neither database can reorder an enum type's values: add a new type"
                    " with the new order and move the columns to it"
                )
            for position, value in enumerate(wanted.values):
                if value in self.state.enum(wanted.name).values:
                    continue
                following = [
                    v
                    for v in wanted.values[position + 1 :]
                    if v in self.state.enum(wanted.name).values
                ]
                self.emit(
                    AddEnumValue(wanted.name, value, before=following[0] if following else None)
                )

    def drop_enum_values(self) -> None:
        for wanted in self.new.enums:
            for value in self.state.enum(wanted.name).values:
                if value not in wanted.values:
                    self.emit(DropEnumValue(wanted.name, value))

    # -- renames

    def rename_tables(self) -> None:
        found = renames(self.old.names(), ((t.name, t.renamed_from) for t in self.new))
        self.old_table_names = {b: a for a, b in found.items()}
        matched = set(found) | {n for n in self.old.names() if self.new.has(n)} - set(
            found.values()
        )
        self.move(
            found,
            doomed=[n for n in self.old.names() if n not in matched],
            taken=lambda name: self.state.has(name) or self.new.has(name),
            rename=lambda a, b: self.emit(RenameTable(a, b)),
        )

    def rename_columns(self) -> None:
        for table in self.new:
            self.rename_columns_of(table)

    def rename_columns_of(self, table: Table) -> None:
        name = table.name
        if not self.state.has(name):
            hinted = [c for c in table.columns if c.renamed_from is not None]
            if hinted:
                raise SchemaStateError(
                    f"column {name}.{hinted[0].name} is renamed from "
                    f"{hinted[0].renamed_from!r}, but table {name} is new"
                )
            return
        before = self.state.table(name)
        old_table = self.old_table_names.get(name, name)
        old_names = [c.name for c in before.columns]
        found = renames(
            old_names,
            ((c.name, c.renamed_from) for c in table.columns),
            lambda c: f"column {name}.{c}",
            lambda c: f"column {old_table}.{c}",
        )
        if not found:
            return
        matched = set(found) | {n for n in old_names if table.has_column(n)} - set(found.values())
        self.move(
            found,
            doomed=[n for n in old_names if n not in matched],
            taken=lambda c: self.state.table(name).has_column(c)
            or self.new.table(name).has_column(c),
            rename=lambda a, b: self.emit(RenameColumn(name, a, b)),
        )

    def move(
        self,
        found: dict[str, str],
        *,
        doomed: list[str],
        taken: Callable[[str], bool],
        rename: Callable[[str, str], None],
    ) -> None:
        """Carry out the renames ``found``, each once its new name is free.

        An item to be dropped that holds a new name moves to a temporary name
        first (and is dropped under it later); renames form no cycle (see
        ``renames``), so every other one waits for the rename of the item
        holding its new name.
        """
        targets = set(found.values())
        for name in doomed:
            if name in targets:
                temporary = _free(name, taken)
                rename(name, temporary)
                self.moved[temporary] = name
        pending = dict(found)
        while pending:
            # A new name is held only by an item that is renamed in turn.
            ready = [(a, b) for a, b in pending.items() if b not in pending]
            if not ready:
                raise SchemaStateError(f"renames form a cycle: {pending!r}")
            for a, b in ready:
                rename(a, b)
                del pending[a]

    # -- hints

    def table_hints(self, dropped: list[Table], created: list[Table]) -> None:
        for gone in dropped:
            name = self.moved.get(gone.name, gone.name)
            for table in created:
                if _shape(gone) == _shape(table):
                    self.hints.append(
                        f"table {name} dropped and table {table.name} added with the same "
                        f"columns: if this is a rename, add `renamed_from: {name}` to the table"
                    )

    def column_hints(self, table: str, dropped: list[Column], added: list[Column]) -> None:
        for gone in dropped:
            name = self.moved.get(gone.name, gone.name)
            for column in added:
                if gone.type == column.type:
                    self.hints.append(
                        f"{table}.{name} dropped and {table}.{column.name} added with the same "
                        f"type: if this is a rename, add `renamed_from: {name}` to the column"
                    )

    # -- tables and columns

    def check_primary_key(self, before: Table, after: Table) -> None:
        def groups(table: Table) -> list[str]:
            return sorted(repr(f) for f in table.foreign_keys)

        if groups(before) != groups(after):
            raise SchemaStateError(
                f"the foreign keys over several columns of table {after.name!r} change; a"
                " migration adds or drops them only with their table (write the change with"
                " RunSQL on PostgreSQL, or create a new table and copy the rows)"
            )
        # A composite key is compared in key order, as its index is.
        old_key, new_key = before.key_columns, after.key_columns
        if old_key != new_key:

            def shown(key: tuple[str, ...]) -> str:
                return repr(key[0]) if len(key) == 1 else repr(key) if key else "None"

            raise SchemaStateError(
                f"the primary key of table {after.name!r} changes from {shown(old_key)} to "
                f"{shown(new_key)}; a migration cannot change which columns are the primary key"
                " (write the change with RunSQL, or create a new table and copy the rows)"
            )

    def create_table(self, table: Table, deferred: list[Operation]) -> None:
        """Create ``table``; foreign keys into a cycle, and indexes whose names are
        still held by something to be dropped, follow later."""
        columns = []
        for column in table.columns:
            if column.references is not None and not self.target_exists(
                column.references.table, column.references.column, table
            ):
                deferred.append(AlterColumn(table.name, column.name, references=column.references))
                column = replace(column, references=None)
            columns.append(column)
        indexes = []
        for index in table.indexes:
            if self.name_taken(index.name):
                deferred.append(AddIndex(table.name, index))
            else:
                indexes.append(index)
        unique = []
        for group in table.unique:
            if self.name_taken(group.name):
                deferred.append(AddUnique(table.name, group))
            else:
                unique.append(group)
        self.emit(
            CreateTable(
                replace(table, columns=tuple(columns), indexes=tuple(indexes), unique=tuple(unique))
            )
        )

    def target_exists(self, table: str, column: str, creating: Table) -> bool:
        if table == creating.name:
            return creating.has_column(column)
        return self.state.has(table) and self.state.table(table).has_column(column)

    def name_taken(self, name: str) -> bool:
        return any(i.name == name for t in self.state for i in t.indexes) or any(
            u.name == name for t in self.state for u in t.unique
        )

    def add_column(self, table: str, column: Column, deferred: list[Operation]) -> None:
        ref = column.references
        if ref is not None and not (
            self.state.has(ref.table) and self.state.table(ref.table).has_column(ref.column)
        ):
            deferred.append(AlterColumn(table, column.name, references=ref))
            column = replace(column, references=None)
        self.emit(AddColumn(table, column))

    def alter_column(self, table: str, before: Column, after: Column) -> None:
        changes = {
            name: getattr(after, name)
            for name in _ALTERED
            if not _same(getattr(before, name), getattr(after, name))
        }
        if changes:
            self.emit(AlterColumn(table, after.name, **changes))

    # -- drops

    def drop_groups(self, before: Table, after: Table) -> None:
        """Drop the indexes and constraints of ``before`` that ``after`` does not
        have as they are (they come back in ``add_groups`` when changed)."""
        for index in before.indexes:
            if index not in after.indexes:
                self.emit(DropIndex(before.name, index.name))
        for group in before.unique:
            if group not in after.unique:
                self.emit(DropUnique(before.name, group.name))
        for check in before.checks:
            if check not in after.checks:
                self.emit(DropCheck(before.name, check.name))

    def add_groups(self, before: Table, after: Table) -> None:
        for index in after.indexes:
            if index not in before.indexes:
                self.emit(AddIndex(after.name, index))
        for group in after.unique:
            if group not in before.unique:
                self.emit(AddUnique(after.name, group))
        for check in after.checks:
            if check not in before.checks:
                self.emit(AddCheck(after.name, check))

    def drop(self, kept: list[Table], dropped: list[Table]) -> None:
        """Drop columns and tables, each once nothing references it.

        A cycle of foreign keys among dropped tables is cut by dropping the
        reference of one of them first.
        """
        pending: list[DropColumn | DropTable] = []
        for table in kept:
            before = self.state.table(table.name)
            gone = [c for c in before.columns if not table.has_column(c.name)]
            pending += [DropColumn(table.name, c.name) for c in gone]
        pending += [DropTable(t.name) for t in dropped]
        while pending:
            progress = False
            for operation in list(pending):
                try:
                    after = operation.apply(self.state)
                except SchemaStateError:
                    continue
                self.state = after
                self.operations.append(operation)
                pending.remove(operation)
                progress = True
            if not progress:
                self.cut_cycle([op.name for op in pending if isinstance(op, DropTable)])

    def cut_cycle(self, tables: list[str]) -> None:
        doomed = set(tables)
        for name in tables:
            for column in self.state.table(name).columns:
                ref = column.references
                if ref is not None and ref.table in doomed and ref.table != name:
                    self.emit(AlterColumn(name, column.name, references=None))
                    return
        raise SchemaStateError(f"cannot find an order to drop {', '.join(tables)}")


def _free(name: str, taken: Callable[[str], bool]) -> str:
    """A temporary name for ``name`` that nothing holds."""
    for count in range(1, 1000):
        candidate = _naming.derived_name(name, "old" if count == 1 else f"old{count}")
        if not taken(candidate):
            return candidate
    raise SchemaStateError(f"no temporary name for {name!r}")


def _same(a: object, b: object) -> bool:
    # 1 == True and 0 == 0.0 in Python, not in a DEFAULT clause.
    return type(a) is type(b) and a == b


def _shape(table: Table) -> frozenset[tuple[str, object, bool]]:
    return frozenset((c.name, c.type, c.primary_key) for c in table.columns)


def _plain_column(column: Column) -> Column:
    return column if column.renamed_from is None else replace(column, renamed_from=None)


def _plain_table(table: Table) -> Table:
    """``table`` without the rename hints, as an operation carries it."""
    return replace(table, renamed_from=None, columns=tuple(_plain_column(c) for c in table.columns))
