"""Where a database differs from what is expected of it, one difference at a time.

Both sides are ``runtime.schema.database`` schemas: what the DDL compiler
lowers a state to (expected) and what the reader reads (found). Two users
ask, with different policies and words, and share this one comparison:

- drift (``runtime.migrations.drift``, ``migrations check --database``):
  every difference, either way, against what the applied migrations make;
- ``check_schema()`` (``runtime._check``): whether a database can serve
  the given table classes, where what the database has beyond them is fine.

So ``compare`` says *what* differs, as data (``Difference``: its kind, the
table, the column or index, the SQL expected and found), and leaves the
weighing and the wording to them. ``str(difference)`` is a neutral line.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Final, Literal

from .database import (
    DbCheck,
    DbColumn,
    DbCompositeForeignKey,
    DbForeignKey,
    DbIndex,
    DbSchema,
    DbTable,
    DbUnique,
    DbView,
)

__all__ = ["COLUMN_FIELDS", "Difference", "Kind", "comparable", "compare"]

#: What a difference is about. ``missing_*``: expected, not in the database;
#: ``extra_*``: in the database, not expected; the column fields (``type``,
#: ``null``, ``default``, ``primary_key``, ``foreign_key``): a column on both
#: sides that differs in that one respect; ``index`` / ``unique``: an index or
#: unique constraint of the same name on both sides, over other columns (or,
#: an index, of other uniqueness); ``index_name`` / ``unique_name``: one over
#: the same columns on both sides, named otherwise; ``check``: a check
#: constraint of the same name with another expression (compared by
#: ``DbCheck.key``, which PostgreSQL's deparsed spelling does not change);
#: ``enum``: an enum type (``name``; no table) missing, extra or with other
#: values (``expected``/``found``: ``ENUM ('a', 'b')``, ``None`` where absent);
#: ``missing_view`` / ``extra_view``: a view (``name``; no table) on one side
#: only; ``view``: one on both sides whose kind (materialized or not), columns
#: or indexes differ (``expected``/``found``: ``VIEW (name VARCHAR(50), n
#: BIGINT)``). A view's columns are those the schema declares, by name: a
#: column the database's view has beyond them is no difference (its SQL may
#: give more than the class reads), nor a type the database does not declare
#: (SQLite types only a view column that is a table's column). Its SQL is not
#: compared (PostgreSQL keeps only its own rewrite of it).
Kind = Literal[
    "missing_table",
    "extra_table",
    "missing_column",
    "extra_column",
    "type",
    "null",
    "default",
    "primary_key",
    "foreign_key",
    "missing_index",
    "extra_index",
    "index",
    "index_name",
    "missing_unique",
    "extra_unique",
    "unique",
    "unique_name",
    "missing_check",
    "extra_check",
    "check",
    "enum",
    "missing_view",
    "extra_view",
    "view",
]

#: The kinds of a column on both sides, in the order a column's are listed.
COLUMN_FIELDS: Final[tuple[Kind, ...]] = ("type", "null", "default", "primary_key", "foreign_key")


@dataclass(frozen=True, slots=True)
class Difference:
    """One way the database differs from what is expected.

    ``name`` is the column's (the column kinds), the index's, or the unique
    constraint's (empty for a table, and for a constraint whose name the
    database keeps none of: a single-column ``UNIQUE`` on SQLite).
    ``expected`` and ``found`` are SQL text (a type, ``NOT NULL``, a
    ``DEFAULT``, ``REFERENCES ...``, an index or constraint as its name and
    columns), ``None`` where that side has nothing. ``required``: an extra
    column that is ``NOT NULL`` without a default, which every ``INSERT``
    that leaves it out (all of the tables' own) fails on.
    """

    kind: Kind
    table: str
    name: str = ""
    expected: str | None = None
    found: str | None = None
    required: bool = False

    @property
    def where(self) -> str:
        """What differs: ``table band``, ``column band.name``, ``index
        band_popularity (popularity) of band``, ``unique constraint (name) of band``."""
        kind = self.kind
        if kind in ("missing_table", "extra_table"):
            return f"table {self.table}"
        if kind in ("missing_index", "extra_index", "index", "index_name"):
            sql = self.found if kind == "extra_index" else self.expected
            return f"index {sql} of {self.table}"
        if kind in ("missing_unique", "extra_unique", "unique", "unique_name"):
            sql = self.found if kind == "extra_unique" else self.expected
            return f"unique constraint {sql} of {self.table}"
        if kind in ("missing_check", "extra_check", "check"):
            return f"check {self.name} of {self.table}"
        if kind == "primary_key" and not self.name:
            return f"the primary key of {self.table}"
        if kind == "foreign_key" and not self.name:
            return f"the foreign keys over several columns of {self.table}"
        if kind == "enum":
            return f"enum type {self.name}"
        if kind in ("missing_view", "extra_view", "view"):
            return f"view {self.name}"
        return f"column {self.table}.{self.name}"

    def __str__(self) -> str:
        kind, where = self.kind, self.where
        if kind.startswith("missing_"):
            shown = kind in ("missing_column", "missing_check")
            detail = f" (expected {self.expected})" if shown else ""
            return f"{where} is missing{detail}"
        if kind.startswith("extra_"):
            detail = f" ({self.found})" if kind in ("extra_column", "extra_check") else ""
            line = f"{where} is in the database only{detail}"
            if self.required:
                line += ": NOT NULL without a default, so inserts that leave it out fail"
            return line
        if kind in ("index", "index_name", "unique", "unique_name"):
            return f"{where} is {self.found} in the database"
        if kind in ("check", "enum", "view"):
            return f"{where} is {self.found} in the database, expected {self.expected}"
        return f"{where}: {self.found_text}, expected {self.expected_text}"

    @property
    def expected_text(self) -> str:
        """``expected`` as a phrase (``no default``, ``nullable``, ...)."""
        return _phrase(self.kind, self.expected)

    @property
    def found_text(self) -> str:
        """``found`` as a phrase."""
        return _phrase(self.kind, self.found)


def _phrase(kind: Kind, sql: str | None) -> str:
    if sql is not None:
        return f"type {sql}" if kind == "type" else sql
    return {
        "null": "nullable",
        "default": "no default",
        "primary_key": "not the primary key",
        "foreign_key": "no foreign key",
    }.get(kind, "nothing")


def comparable(schema: DbSchema) -> DbSchema:
    """``schema`` with what does not tell two databases apart left out: the
    order of a table's columns (a migrated table has its added columns at the
    end, and is the same table; ``state.Table`` compares so too), and the
    ``NOT NULL`` of a primary key (a key is never null; SQLite reports the
    flag as declared, which the DDL leaves off, and PostgreSQL sets it)."""
    return DbSchema(
        schema.dialect,
        tuple(
            replace(
                t,
                columns=tuple(
                    sorted(
                        (replace(c, notnull=True) if c.primary_key else c for c in t.columns),
                        key=lambda c: c.name,
                    )
                ),
            )
            for t in schema.tables
        ),
        schema.enums,
        schema.views,
    )


def compare(expected: DbSchema, found: DbSchema) -> list[Difference]:
    """Every difference between ``expected`` and ``found`` (both made
    ``comparable`` first): missing tables, then extra ones, then table by
    table (by name) its columns (by name, each column's kinds in the order
    of ``COLUMN_FIELDS``), indexes and unique constraints. Empty: the same."""
    expected, found = comparable(expected), comparable(found)
    want = {t.name: t for t in expected.tables}
    have = {t.name: t for t in found.tables}
    out = [Difference("missing_table", name) for name in sorted(want.keys() - have.keys())]
    out += [Difference("extra_table", name) for name in sorted(have.keys() - want.keys())]
    for name in sorted(want.keys() & have.keys()):
        out += _table(want[name], have[name])
    want_enums = {e.name: _enum_sql(e.values) for e in expected.enums}
    have_enums = {e.name: _enum_sql(e.values) for e in found.enums}
    for name in sorted(want_enums.keys() | have_enums.keys()):
        if want_enums.get(name) != have_enums.get(name):
            out.append(Difference("enum", "", name, want_enums.get(name), have_enums.get(name)))
    want_views = {v.name: v for v in expected.views}
    have_views = {v.name: v for v in found.views}
    for name in sorted(want_views.keys() - have_views.keys()):
        out.append(Difference("missing_view", "", name, expected=_view_sql(want_views[name])))
    for name in sorted(have_views.keys() - want_views.keys()):
        out.append(Difference("extra_view", "", name, found=_view_sql(have_views[name])))
    for name in sorted(want_views.keys() & have_views.keys()):
        w, h = want_views[name], have_views[name]
        if not _same_view(w, h):
            out.append(Difference("view", "", name, _view_sql(w), _view_sql(h, like=w)))
    return out


def _same_view(want: DbView, have: DbView) -> bool:
    """Whether ``have`` is the view ``want`` says (see ``Kind``: its declared
    columns there, of their types where the database declares one)."""
    columns = {c.name: c for c in have.columns}
    for column in want.columns:
        found = columns.get(column.name)
        if found is None:
            return False
        if found.type is not None and column.type is not None and found.type != column.type:
            return False
    return want.materialized == have.materialized and want.indexes == have.indexes


def _view_sql(view: DbView, *, like: DbView | None = None) -> str:
    """``MATERIALIZED VIEW (name VARCHAR(50), n BIGINT) INDEXES (...)``; ``like``:
    of a found view, only the columns ``like`` declares (and those missing)."""
    columns = view.columns
    if like is not None:
        declared = {c.name for c in like.columns}
        columns = tuple(c for c in columns if c.name in declared)
    listed = ", ".join(c.name if c.type is None else f"{c.name} {c.type}" for c in columns)
    text = f"{'MATERIALIZED VIEW' if view.materialized else 'VIEW'} ({listed})"
    if view.indexes:
        text += " INDEXES (" + ", ".join(map(_group_sql, view.indexes)) + ")"
    return text


def _enum_sql(values: tuple[str, ...]) -> str:
    return "ENUM (" + ", ".join("'" + v.replace("'", "''") + "'" for v in values) + ")"


def _table(want: DbTable, have: DbTable) -> list[Difference]:
    t = want.name
    out: list[Difference] = []
    want_columns = {c.name: c for c in want.columns}
    have_columns = {c.name: c for c in have.columns}
    for name in sorted(want_columns.keys() | have_columns.keys()):
        w, h = want_columns.get(name), have_columns.get(name)
        if h is None:
            assert w is not None
            out.append(Difference("missing_column", t, name, expected=column_sql(w)))
        elif w is None:
            required = h.notnull and h.default is None and not h.primary_key
            out.append(Difference("extra_column", t, name, found=column_sql(h), required=required))
        else:
            out += [
                Difference(kind, t, name, expected=_field(w, kind), found=_field(h, kind))
                for kind in COLUMN_FIELDS
                if _field(w, kind) != _field(h, kind)
            ]
    if want.composite_key != have.composite_key:
        # A composite key is the table's (its columns carry no key flag).
        out.append(Difference("primary_key", t, "", _key_sql(want), _key_sql(have)))
    if want.foreign_keys != have.foreign_keys:
        # Foreign keys over several columns: each side's, as SQL, in one difference.
        out.append(
            Difference(
                "foreign_key",
                t,
                "",
                "; ".join(map(_composite_fk_sql, want.foreign_keys)) or None,
                "; ".join(map(_composite_fk_sql, have.foreign_keys)) or None,
            )
        )
    out += _groups(t, "index", want.indexes, have.indexes)
    out += _groups(t, "unique", want.unique, have.unique)
    want_checks = {c.name: c for c in want.checks}
    have_checks = {c.name: c for c in have.checks}
    for name in sorted(want_checks.keys() | have_checks.keys()):
        wc, hc = want_checks.get(name), have_checks.get(name)
        if hc is None:
            assert wc is not None
            out.append(Difference("missing_check", t, name, expected=_check_sql(wc)))
        elif wc is None:
            out.append(Difference("extra_check", t, name, found=_check_sql(hc)))
        elif wc != hc:
            out.append(Difference("check", t, name, _check_sql(wc), _check_sql(hc)))
    return out


def _composite_fk_sql(fk: DbCompositeForeignKey) -> str:
    """``fk (a, b) REFERENCES t (x, y) ON DELETE ... ON UPDATE ...``."""
    return (
        f"{fk.name} ({', '.join(fk.columns)}) REFERENCES {fk.table} ({', '.join(fk.to)})"
        f" ON DELETE {fk.on_delete} ON UPDATE {fk.on_update}"
    )


def _key_sql(table: DbTable) -> str | None:
    """``PRIMARY KEY (a, b)`` of a table (``None``: it has no key)."""
    key = table.composite_key or tuple(c.name for c in table.columns if c.primary_key)
    return f"PRIMARY KEY ({', '.join(key)})" if key else None


def _check_sql(check: DbCheck) -> str:
    return f"CHECK ({check.sql})"


def _groups(
    table: str,
    what: Literal["index", "unique"],
    want: tuple[DbIndex, ...] | tuple[DbUnique, ...],
    have: tuple[DbIndex, ...] | tuple[DbUnique, ...],
) -> list[Difference]:
    """Indexes or unique constraints: those on one side only, and those on
    both (the same name, else the same columns) that differ. A name is
    matched first because a database keeps it, and the columns next because
    an index of other name over the same columns does the same work."""
    missing = [g for g in want if g not in have]
    extra = [g for g in have if g not in want]
    out: list[Difference] = []
    renamed: Kind = "index_name" if what == "index" else "unique_name"
    for key, kind in ((_name, what), (_columns, renamed)):
        for w in list(missing):
            h = next((g for g in extra if key(g) and key(g) == key(w)), None)
            if h is not None:
                missing.remove(w)
                extra.remove(h)
                out.append(Difference(kind, table, w.name, _group_sql(w), _group_sql(h)))
    missing_kind: Kind = "missing_index" if what == "index" else "missing_unique"
    extra_kind: Kind = "extra_index" if what == "index" else "extra_unique"
    out += [Difference(missing_kind, table, g.name, expected=_group_sql(g)) for g in missing]
    out += [Difference(extra_kind, table, g.name, found=_group_sql(g)) for g in extra]
    return out


def _name(group: DbIndex | DbUnique) -> object:
    return group.name


def _columns(group: DbIndex | DbUnique) -> object:
    return (group.columns, isinstance(group, DbIndex) and group.unique)


def _group_sql(group: DbIndex | DbUnique) -> str:
    """``band_popularity (popularity)``, ``UNIQUE band_a_b (a, b)``; a
    constraint without a name (SQLite's) is its columns alone."""
    columns = "(" + ", ".join(group.columns) + ")"
    unique = "UNIQUE " if isinstance(group, DbIndex) and group.unique else ""
    name = f"{group.name} " if group.name else ""
    return f"{unique}{name}{columns}"


def _field(column: DbColumn, kind: Kind) -> str | None:
    """One respect of ``column`` as SQL text (``None``: it has nothing there)."""
    if kind == "type":
        return column.type
    if kind == "null":
        return "NOT NULL" if column.notnull else None
    if kind == "default":
        return None if column.default is None else f"DEFAULT {column.default}"
    if kind == "primary_key":
        return "PRIMARY KEY" if column.primary_key else None
    return None if column.references is None else references_sql(column.references)


def references_sql(ref: DbForeignKey) -> str:
    """``REFERENCES manager (id) ON DELETE SET NULL ON UPDATE CASCADE``."""
    return (
        f"REFERENCES {ref.table} ({ref.column}) "
        f"ON DELETE {ref.on_delete} ON UPDATE {ref.on_update}"
        + deferrable_sql(ref.deferrable, ref.initially_deferred)
    )


def deferrable_sql(deferrable: bool, initially_deferred: bool) -> str:
    """`` DEFERRABLE INITIALLY DEFERRED`` (with its space), `` DEFERRABLE
    INITIALLY IMMEDIATE``, or nothing (the databases' default: not deferrable)."""
    if not deferrable:
        return ""
    return f" DEFERRABLE INITIALLY {'DEFERRED' if initially_deferred else 'IMMEDIATE'}"


def column_sql(column: DbColumn) -> str:
    """A column's definition as one line of SQL (without its name)."""
    return " ".join(part for kind in COLUMN_FIELDS if (part := _field(column, kind)) is not None)
