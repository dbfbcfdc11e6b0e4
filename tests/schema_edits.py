"""Random schema states and random sequences of schema edits, seeded.

The differ's generative test and the migrations oracle share them: a state
is what ``of_tables`` would make of a schema (serial ``id`` keys, derived
index and constraint names, a default on every non-null column but foreign
keys), and an edit sequence is what a user does to the schema files
between two migrations: add, drop and rename tables and columns (renames
carry ``renamed_from`` with the name in the state the sequence started
from), change a type among compatible ones, nullability, a default, a
length, unique, index, a foreign key's actions or target, and add or remove
composite indexes, unique constraints and check constraints (``"price" >= 0``
on a numeric column, which the test rows pass, or ``>= 2``, which one fails).

    rng = random.Random(seed)
    old = random_schema(rng)
    new, steps = random_edits(rng, old)

Values stay within every type a change may lead to (small integers, short
strings), so each state can be created on both engines and each change
applied to a table with rows.
"""

from __future__ import annotations

import datetime
import decimal
import random
from collections.abc import Callable
from dataclasses import dataclass, field

from runtime import _naming
from runtime._columns import TimestampNow
from runtime.schema.checksql import column_names
from runtime.schema.checksql import renamed as renamed_sql
from runtime.schema.state import (
    Action,
    Check,
    Column,
    CompositeForeignKey,
    DefaultValue,
    ForeignKey,
    Index,
    Schema,
    Table,
    Type,
    Unique,
)

__all__ = ["COLUMN_NAMES", "TABLE_NAMES", "random_edits", "random_schema"]

#: Names without underscores, so that no two derived index names of
#: different tables or columns can coincide.
TABLE_NAMES = (
    "band", "album", "venue", "ticket", "shirt", "genre", "tour", "song", "fan",
    "poster", "stage", "label",
)  # fmt: skip
COLUMN_NAMES = (
    "title", "name", "rating", "price", "note", "label", "score", "amount", "code",
    "city", "color", "size", "stock", "year", "genre", "flag", "level", "weight",
)  # fmt: skip

_WORDS = ("", "a", "abc", "hello", "x y")
_NUMERIC_DIGITS = ((8, 2), (10, 2), (12, 3))
_ACTIONS: tuple[Action, ...] = ("cascade", "restrict", "no_action")

_INTEGERS = ("SmallInt", "Integer", "BigInt")
_FLOATS = ("Real", "DoublePrecision")
_PLAIN_KINDS = (
    "Varchar", "Text", *_INTEGERS, *_FLOATS, "Numeric", "Boolean", "Date", "Timestamp",
)  # fmt: skip


def _random_type(rng: random.Random) -> Type:
    kind = rng.choice(_PLAIN_KINDS)
    if kind == "Varchar":
        return Type("Varchar", length=rng.choice((10, 20, 50)))
    if kind == "Numeric":
        return Type("Numeric", digits=rng.choice(_NUMERIC_DIGITS))
    return Type(kind)


def _random_default(rng: random.Random, type_: Type) -> DefaultValue:
    kind = type_.kind
    if kind in ("Varchar", "Text"):
        return rng.choice(_WORDS)
    if kind in _INTEGERS:
        return rng.randint(-100, 100)
    if kind in _FLOATS:
        return rng.choice((0.0, 1.5, -2.25))
    if kind == "Numeric":
        return _quantized(decimal.Decimal(rng.choice(("0", "1.5", "-2.25"))), type_)
    if kind == "Boolean":
        return rng.choice((True, False))
    if kind == "Date":
        return rng.choice((datetime.date(2024, 1, 31), datetime.date(2000, 2, 29)))
    if kind == "Timestamp":
        return rng.choice((TimestampNow(), datetime.datetime(2024, 1, 31, 12, 30)))
    raise AssertionError(kind)


def _quantized(value: decimal.Decimal, type_: Type) -> decimal.Decimal:
    """``value`` at the scale of ``type_``, as a numeric column holds it (``1.50``)."""
    assert type_.digits is not None
    return value.quantize(decimal.Decimal(1).scaleb(-type_.digits[1]))


def _compatible_type(rng: random.Random, type_: Type) -> Type | None:
    """Another type the values of ``type_`` convert to (``None``: there is none)."""
    kind = type_.kind
    if kind == "Varchar":
        options = [Type("Varchar", length=n) for n in (10, 20, 50) if n != type_.length]
        return rng.choice([*options, Type("Text")])
    if kind == "Text":
        return Type("Varchar", length=rng.choice((10, 50)))
    if kind in _INTEGERS:
        return Type(rng.choice([k for k in _INTEGERS if k != kind]))
    if kind in _FLOATS:
        return Type(rng.choice([k for k in _FLOATS if k != kind]))
    if kind == "Numeric":
        return Type("Numeric", digits=rng.choice([d for d in _NUMERIC_DIGITS if d != type_.digits]))
    return None


# -- a mutable model of a schema, with where each item came from -----------------


@dataclass(eq=False)
class _Column:
    name: str
    type: Type
    #: The column's name in the state the edits started from (None: added since).
    origin: str | None
    null: bool = False
    default: DefaultValue = None
    primary_key: bool = False
    unique: bool = False
    index: bool = False
    target: _Table | None = None
    #: The column of ``target`` referenced (its primary key, or a unique column).
    target_column: str = "id"
    on_delete: Action = "cascade"
    on_update: Action = "cascade"
    #: A ``renamed_from`` left over from an earlier migration, naming nothing.
    stale: str | None = None


@dataclass(eq=False)
class _Table:
    name: str
    origin: str | None
    columns: list[_Column] = field(default_factory=list)
    indexes: list[tuple[tuple[str, ...], bool]] = field(default_factory=list)
    unique: list[tuple[str, ...]] = field(default_factory=list)
    #: Check constraints: (name, expression).
    checks: list[tuple[str, str]] = field(default_factory=list)
    stale: str | None = None
    #: A composite primary key's columns (left alone by the edits).
    key: tuple[str, ...] = ()
    #: Foreign keys over several columns: (name, columns, target, target columns,
    #: on_delete, on_update); left alone by the edits, but for their target's renames.
    groups: list[tuple[str, tuple[str, ...], _Table, tuple[str, ...], Action, Action]] = field(
        default_factory=list
    )

    def column(self, name: str) -> _Column:
        return next(c for c in self.columns if c.name == name)

    def free_column_name(self, rng: random.Random) -> str | None:
        used = {c.name for c in self.columns}
        free = [n for n in COLUMN_NAMES if n not in used]
        return rng.choice(free) if free else None

    def forget(self, column: str) -> None:
        """Drop the indexes and constraints over ``column``."""
        self.indexes = [(cols, u) for cols, u in self.indexes if column not in cols]
        self.unique = [cols for cols in self.unique if column not in cols]
        self.checks = [(n, sql) for n, sql in self.checks if column not in column_names(sql)]


class _Model:
    def __init__(self, schema: Schema, *, base: bool) -> None:
        """The model of ``schema``; with ``base``, its items are the origins."""
        self.tables: list[_Table] = []
        by_name: dict[str, _Table] = {}
        for table in schema.ordered():
            t = _Table(table.name, table.name if base else None)
            t.indexes = [(i.columns, i.unique) for i in table.indexes]
            t.unique = [u.columns for u in table.unique]
            t.checks = [(c.name, c.sql) for c in table.checks]
            t.key = table.composite_key
            self.tables.append(t)
            by_name[t.name] = t
        for table in schema:
            t = by_name[table.name]
            t.groups = [
                (f.name, f.columns, by_name[f.table], f.to, f.on_delete, f.on_update)
                for f in table.foreign_keys
            ]
            for c in table.columns:
                ref = c.references
                t.columns.append(
                    _Column(
                        c.name,
                        c.type,
                        c.name if base else None,
                        null=c.null,
                        default=c.default,
                        primary_key=c.primary_key,
                        unique=c.unique,
                        index=c.index,
                        target=by_name[ref.table] if ref else None,
                        target_column=ref.column if ref else "id",
                        on_delete=ref.on_delete if ref else "cascade",
                        on_update=ref.on_update if ref else "cascade",
                    )
                )
        self.base_tables = {t.name: {c.name for c in t.columns} for t in schema}

    def table_names(self) -> set[str]:
        return {t.name for t in self.tables}

    def free_table_name(self, rng: random.Random) -> str | None:
        free = [n for n in TABLE_NAMES if n not in self.table_names()]
        return rng.choice(free) if free else None

    def references_to(self, table: _Table) -> list[tuple[_Table, _Column]]:
        return [(t, c) for t in self.tables for c in t.columns if c.target is table]

    def live_rename(self, table: _Table) -> bool:
        """Whether the differ takes ``table``'s origin as a rename (see runtime.schema.diff)."""
        origin = table.origin
        if origin is None or origin == table.name:
            return False
        return table.name not in self.base_tables or origin not in self.table_names()

    def schema(self) -> Schema:
        tables = []
        for t in self.tables:
            hinted = t.origin is not None and t.origin != t.name
            # A table whose rename the differ cannot take (a swap of names)
            # is matched by name: its columns' origins are another table's.
            columns_renamed = t.origin is not None and (not hinted or self.live_rename(t))
            columns = []
            for c in t.columns:
                renamed_from = c.stale if columns_renamed else None
                if columns_renamed and c.origin is not None and c.origin != c.name:
                    renamed_from = c.origin
                columns.append(
                    Column(
                        c.name,
                        c.type,
                        null=c.null,
                        default=c.default,
                        primary_key=c.primary_key,
                        unique=c.unique,
                        index=c.index,
                        references=(
                            ForeignKey(c.target.name, c.target_column, c.on_delete, c.on_update)
                            if c.target is not None
                            else None
                        ),
                        renamed_from=renamed_from,
                    )
                )
            tables.append(
                Table(
                    t.name,
                    tuple(columns),
                    indexes=tuple(
                        Index(_naming.index_name(t.name, cols), cols, unique=u)
                        for cols, u in t.indexes
                    ),
                    unique=tuple(
                        Unique(_naming.unique_name(t.name, cols), cols) for cols in t.unique
                    ),
                    checks=tuple(Check(name, sql) for name, sql in t.checks),
                    renamed_from=t.origin if hinted else t.stale,
                    composite_key=t.key,
                    foreign_keys=tuple(
                        CompositeForeignKey(name, cols, target.name, to, on_delete, on_update)
                        for name, cols, target, to, on_delete, on_update in t.groups
                    ),
                )
            )
        return Schema(tuple(tables)).ordered()


# -- random columns and tables -----------------------------------------------------


def _new_column(rng: random.Random, model: _Model, table: _Table, name: str) -> _Column:
    targets = [t for t in model.tables if _key_type(t) is not None]
    if targets and rng.random() < 0.25:
        target = rng.choice(targets)
        key_type, key = _key_type(target) or (Type("Integer"), "id")
        null = rng.random() < 0.5
        actions: list[Action] = [*_ACTIONS, "set_null"] if null else list(_ACTIONS)
        return _Column(
            name,
            key_type,
            None,
            null=null,
            target=target,
            target_column=key,
            on_delete=rng.choice(actions),
            on_update=rng.choice(actions),
            index=rng.random() < 0.2,
        )
    type_ = _random_type(rng)
    null = rng.random() < 0.4
    default = None if null and rng.random() < 0.5 else _random_default(rng, type_)
    return _Column(
        name,
        type_,
        None,
        null=null,
        default=default,
        unique=rng.random() < 0.1,
        index=rng.random() < 0.15,
    )


def _key_type(table: _Table) -> tuple[Type, str] | None:
    """The type a foreign key to ``table`` has, and the key it references."""
    key = next((c for c in table.columns if c.primary_key), None)
    if key is None:
        return None
    serials = {"Serial": Type("Integer"), "BigSerial": Type("BigInt")}
    return serials.get(key.type.kind, key.type), key.name


def _new_table(rng: random.Random, model: _Model, name: str) -> _Table:
    table = _Table(name, None, [_Column("id", Type("Serial"), None, primary_key=True)])
    for _ in range(rng.randint(1, 4)):
        column_name = table.free_column_name(rng)
        if column_name is not None:
            table.columns.append(_new_column(rng, model, table, column_name))
    if rng.random() < 0.3:
        _add_group(rng, table, unique_constraint=rng.random() < 0.5)
    if rng.random() < 0.3:
        _add_check_to(rng, table, failing=False)
    return table


_NUMERIC_KINDS = (*_INTEGERS, *_FLOATS, "Numeric")


def _add_check_to(rng: random.Random, table: _Table, *, failing: bool = True) -> bool:
    """A check on a numeric column of ``table`` (not a key): one the test
    rows pass (their values are 1 and up), or, with ``failing``, sometimes
    one the first fails."""
    columns = [
        c.name
        for c in table.columns
        if c.type.kind in _NUMERIC_KINDS and not c.primary_key and c.target is None
    ]
    if not columns:
        return False
    column = rng.choice(columns)
    taken = {name for name, _ in table.checks}
    name = next(n for n in (f"{column}_check_{i}" for i in range(100)) if n not in taken)
    bound = 2 if failing and rng.random() < 0.15 else 0
    table.checks.append((name, f'"{column}" >= {bound}'))
    return True


def _add_group(rng: random.Random, table: _Table, *, unique_constraint: bool) -> bool:
    names = [c.name for c in table.columns if not c.primary_key]
    if len(names) < 2:
        return False
    columns = tuple(rng.sample(names, 2))
    if unique_constraint:
        if any(set(columns) == set(u) for u in table.unique):
            return False
        table.unique.append(columns)
    else:
        if any(cols == columns for cols, _ in table.indexes):
            return False
        table.indexes.append((columns, rng.random() < 0.3))
    return True


def random_schema(rng: random.Random, *, max_tables: int = 5) -> Schema:
    """A random state of 1 to ``max_tables`` tables."""
    model = _Model(Schema(), base=True)
    for _ in range(rng.randint(1, max_tables)):
        name = model.free_table_name(rng)
        if name is not None:
            model.tables.append(_new_table(rng, model, name))
    return model.schema()


# -- edits -------------------------------------------------------------------------

_Edit = Callable[[random.Random, _Model], str | None]


def _some_column(
    rng: random.Random, model: _Model, accept: Callable[[_Column], bool]
) -> tuple[_Table, _Column] | None:
    # A column a foreign key points at (a primary key, or a unique column
    # such as shop's customer.email) is left alone: its edits would need the
    # keys' edits with it.
    held = {(id(c.target), c.target_column) for t in model.tables for c in t.columns if c.target}
    # So are the columns of a composite key and of a foreign key over several columns.
    held |= {(id(t), name) for t in model.tables for name in t.key}
    held |= {(id(t), name) for t in model.tables for g in t.groups for name in g[1]}
    found = [
        (t, c)
        for t in model.tables
        for c in t.columns
        if not c.primary_key and (id(t), c.name) not in held and accept(c)
    ]
    return rng.choice(found) if found else None


def _add_table(rng: random.Random, model: _Model) -> str | None:
    name = model.free_table_name(rng)
    if name is None:
        return None
    model.tables.append(_new_table(rng, model, name))
    return f"add table {name}"


def _drop_table(rng: random.Random, model: _Model) -> str | None:
    if not model.tables:
        return None
    table = rng.choice(model.tables)
    if any(g[2] is table and t is not table for t in model.tables for g in t.groups):
        return None  # a kept table would lose a foreign key over several columns
    if any(c.name in t.key for t, c in model.references_to(table) if t is not table):
        return None  # or a column of its composite key
    for t, c in model.references_to(table):
        if t is not table:
            t.columns.remove(c)
            t.forget(c.name)
    model.tables.remove(table)
    return f"drop table {table.name}"


def _rename_table(rng: random.Random, model: _Model) -> str | None:
    name = model.free_table_name(rng)
    if name is None or not model.tables:
        return None
    table = rng.choice(model.tables)
    old, table.name = table.name, name
    return f"rename table {old} to {name}"


def _add_column(rng: random.Random, model: _Model) -> str | None:
    if not model.tables:
        return None
    table = rng.choice(model.tables)
    name = table.free_column_name(rng)
    if name is None:
        return None
    table.columns.append(_new_column(rng, model, table, name))
    return f"add column {table.name}.{name}"


def _drop_column(rng: random.Random, model: _Model) -> str | None:
    found = _some_column(rng, model, lambda c: True)
    if found is None:
        return None
    table, column = found
    table.columns.remove(column)
    table.forget(column.name)
    return f"drop column {table.name}.{column.name}"


def _rename_column(rng: random.Random, model: _Model) -> str | None:
    found = _some_column(rng, model, lambda c: True)
    if found is None:
        return None
    table, column = found
    name = table.free_column_name(rng)
    if name is None:
        return None
    old, column.name = column.name, name

    def swap(columns: tuple[str, ...]) -> tuple[str, ...]:
        return tuple(name if c == old else c for c in columns)

    table.indexes = [(swap(cols), u) for cols, u in table.indexes]
    table.unique = [swap(cols) for cols in table.unique]
    table.checks = [(n, renamed_sql(sql, old, name)) for n, sql in table.checks]
    return f"rename column {table.name}.{old} to {name}"


def _change_type(rng: random.Random, model: _Model) -> str | None:
    found = _some_column(
        rng, model, lambda c: c.target is None and _compatible_type(rng, c.type) is not None
    )
    if found is None:
        return None
    table, column = found
    new = _compatible_type(rng, column.type)
    assert new is not None
    column.type = new
    if new.kind == "Numeric" and isinstance(column.default, decimal.Decimal):
        column.default = _quantized(column.default, new)
    return f"change type of {table.name}.{column.name} to {new!r}"


def _toggle_null(rng: random.Random, model: _Model) -> str | None:
    # A column becoming NOT NULL gets a default, of a kind this module makes.
    found = _some_column(rng, model, lambda c: c.target is not None or c.type.kind in _PLAIN_KINDS)
    if found is None:
        return None
    table, column = found
    column.null = not column.null
    if not column.null:
        if column.target is None and column.default is None:
            column.default = _random_default(rng, column.type)
        for action in ("on_delete", "on_update"):
            if getattr(column, action) == "set_null":
                setattr(column, action, "cascade")
    return f"{table.name}.{column.name} null={column.null}"


def _change_default(rng: random.Random, model: _Model) -> str | None:
    found = _some_column(rng, model, lambda c: c.target is None and c.type.kind in _PLAIN_KINDS)
    if found is None:
        return None
    table, column = found
    if column.null and column.default is not None and rng.random() < 0.3:
        column.default = None
    else:
        column.default = _random_default(rng, column.type)
    return f"default of {table.name}.{column.name} = {column.default!r}"


def _toggle_unique(rng: random.Random, model: _Model) -> str | None:
    found = _some_column(rng, model, lambda c: True)
    if found is None:
        return None
    table, column = found
    column.unique = not column.unique
    return f"{table.name}.{column.name} unique={column.unique}"


def _toggle_index(rng: random.Random, model: _Model) -> str | None:
    found = _some_column(rng, model, lambda c: True)
    if found is None:
        return None
    table, column = found
    column.index = not column.index
    return f"{table.name}.{column.name} index={column.index}"


def _change_actions(rng: random.Random, model: _Model) -> str | None:
    found = _some_column(rng, model, lambda c: c.target is not None)
    if found is None:
        return None
    table, column = found
    actions: list[Action] = [*_ACTIONS, "set_null"] if column.null else list(_ACTIONS)
    column.on_delete = rng.choice(actions)
    column.on_update = rng.choice(actions)
    return f"{table.name}.{column.name} on_delete={column.on_delete} on_update={column.on_update}"


def _retarget(rng: random.Random, model: _Model) -> str | None:
    found = _some_column(rng, model, lambda c: c.target is not None)
    if found is None:
        return None
    table, column = found
    targets = [t for t in model.tables if (_key_type(t) or (None,))[0] == column.type]
    if not targets:
        return None
    column.target = rng.choice(targets)
    key = _key_type(column.target)
    assert key is not None
    column.target_column = key[1]
    return f"{table.name}.{column.name} references {column.target.name}"


def _add_index(rng: random.Random, model: _Model) -> str | None:
    if not model.tables:
        return None
    table = rng.choice(model.tables)
    return f"add index on {table.name}" if _add_group(rng, table, unique_constraint=False) else None


def _add_unique(rng: random.Random, model: _Model) -> str | None:
    if not model.tables:
        return None
    table = rng.choice(model.tables)
    return f"add unique on {table.name}" if _add_group(rng, table, unique_constraint=True) else None


def _drop_index(rng: random.Random, model: _Model) -> str | None:
    found = [t for t in model.tables if t.indexes]
    if not found:
        return None
    table = rng.choice(found)
    table.indexes.remove(rng.choice(table.indexes))
    return f"drop an index of {table.name}"


def _drop_unique(rng: random.Random, model: _Model) -> str | None:
    found = [t for t in model.tables if t.unique]
    if not found:
        return None
    table = rng.choice(found)
    table.unique.remove(rng.choice(table.unique))
    return f"drop a unique constraint of {table.name}"


def _add_check(rng: random.Random, model: _Model) -> str | None:
    if not model.tables:
        return None
    table = rng.choice(model.tables)
    return f"add check on {table.name}" if _add_check_to(rng, table) else None


def _drop_check(rng: random.Random, model: _Model) -> str | None:
    found = [t for t in model.tables if t.checks]
    if not found:
        return None
    table = rng.choice(found)
    table.checks.remove(rng.choice(table.checks))
    return f"drop a check of {table.name}"


def _change_check(rng: random.Random, model: _Model) -> str | None:
    found = [t for t in model.tables if t.checks]
    if not found:
        return None
    table = rng.choice(found)
    index = rng.randrange(len(table.checks))
    name, sql = table.checks[index]
    changed = sql.replace(">= 0", "> -1") if ">= 0" in sql else sql.replace(">= 2", ">= 0")
    table.checks[index] = (name, changed)
    return f"change check {table.name}.{name} to {changed}"


def _stale_hint(rng: random.Random, model: _Model) -> str | None:
    """A ``renamed_from`` an earlier migration carried out: the old name is gone."""
    tables = [t for t in model.tables if t.origin == t.name]
    if not tables:
        return None
    table = rng.choice(tables)
    columns = [c for c in table.columns if c.origin == c.name and not c.primary_key]
    if columns and rng.random() < 0.5:
        column = rng.choice(columns)
        column.stale = "gone"
        return f"stale hint on {table.name}.{column.name}"
    table.stale = "gone"
    return f"stale hint on {table.name}"


EDITS: dict[str, _Edit] = {
    "add table": _add_table,
    "drop table": _drop_table,
    "rename table": _rename_table,
    "add column": _add_column,
    "drop column": _drop_column,
    "rename column": _rename_column,
    "change type": _change_type,
    "null": _toggle_null,
    "default": _change_default,
    "unique": _toggle_unique,
    "index": _toggle_index,
    "foreign key actions": _change_actions,
    "foreign key target": _retarget,
    "add index": _add_index,
    "drop index": _drop_index,
    "add unique": _add_unique,
    "drop unique": _drop_unique,
    "add check": _add_check,
    "drop check": _drop_check,
    "change check": _change_check,
    "stale hint": _stale_hint,
}


def random_edits(
    rng: random.Random, schema: Schema, *, steps: int | None = None
) -> tuple[Schema, list[str]]:
    """``schema`` after ``steps`` random edits (default 1 to 6), and what they were.

    Renames carry ``renamed_from`` with the name in ``schema``.
    """
    model = _Model(schema, base=True)
    done: list[str] = []
    for _ in range(steps if steps is not None else rng.randint(1, 6)):
        for _attempt in range(10):
            step = EDITS[rng.choice(list(EDITS))](rng, model)
            if step is not None:
                done.append(step)
                break
    return model.schema(), done
