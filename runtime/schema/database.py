"""The state as a database shows it: SQL types and ``DEFAULT`` text, per dialect.

Two producers meet here, and the tests hold them equal:

- ``runtime.schema.compile`` lowers a ``state.Schema`` for a dialect
  (``compiler.lower(schema)``): what its DDL creates;
- ``runtime.schema.read`` reads a live database (``await read_schema(engine)``).

So "the database is what the schema says" is ``read == lower`` (the
migrations oracle and ``migrations check --database``, drift). The spelling is
the compiler's: ``type`` is the SQL type exactly as the DDL writes it
(``VARCHAR(50)``, ``INTEGER``, ``NUMERIC(5, 2)``, ``TEXT[]``, ``TIMESTAMPTZ``;
on PostgreSQL a serial key is ``SERIAL``/``BIGSERIAL`` with no default), and
``default`` the ``DEFAULT`` expression exactly as the DDL writes it; the
reader turns what a database gives back (``'a'::character varying``,
``nextval('band_id_seq'::regclass)``, declared types in another case) into
that spelling. Names that a database does not keep are empty: SQLite keeps
no names of column constraints (``name`` of a single-column unique is the
empty string there).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field, replace

from .checksql import comparison_key

__all__ = [
    "DbCheck",
    "DbColumn",
    "DbCompositeForeignKey",
    "DbEnum",
    "DbForeignKey",
    "DbIndex",
    "DbSchema",
    "DbTable",
    "DbUnique",
    "DbView",
    "DbViewColumn",
]


@dataclass(frozen=True, slots=True)
class DbForeignKey:
    """``REFERENCES table (column) ON DELETE ... ON UPDATE ...`` (actions as SQL words:
    ``CASCADE``, ``SET NULL``, ``NO ACTION``, ...), maybe ``DEFERRABLE`` and
    ``INITIALLY DEFERRED``."""

    table: str
    column: str
    on_delete: str
    on_update: str
    deferrable: bool = False
    initially_deferred: bool = False


@dataclass(frozen=True, slots=True)
class DbCompositeForeignKey:
    """``FOREIGN KEY (columns) REFERENCES table (to) ON DELETE ... ON UPDATE ...``
    over several columns; ``name`` is empty where the database keeps none (SQLite)."""

    name: str
    columns: tuple[str, ...]
    table: str
    to: tuple[str, ...]
    on_delete: str
    on_update: str


@dataclass(frozen=True, slots=True)
class DbColumn:
    name: str
    type: str
    notnull: bool
    default: str | None
    primary_key: bool = False
    references: DbForeignKey | None = None


@dataclass(frozen=True, slots=True)
class DbIndex:
    """An index made by ``CREATE [UNIQUE] INDEX`` (not one backing a constraint)."""

    name: str
    columns: tuple[str, ...]
    unique: bool = False


@dataclass(frozen=True, slots=True)
class DbUnique:
    """A ``UNIQUE`` constraint (of one column or several); ``name`` is empty where
    the database keeps none."""

    name: str
    columns: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class DbCheck:
    """A ``CHECK`` constraint: its name and expression. The expression is the
    text our DDL wrote, or the one the database gives back (PostgreSQL
    deparses it: ``(price >= (0)::numeric)``); two checks compare by name
    and by ``key``, the expression's ``checksql.comparison_key``, on which
    both spellings agree."""

    name: str
    sql: str = field(compare=False)
    key: str = field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "key", comparison_key(self.sql))


@dataclass(frozen=True, slots=True)
class DbTable:
    """One table. ``columns`` in table order; ``indexes``, ``unique`` and ``checks`` sorted
    (by name, then columns), so two reads of one database compare equal."""

    name: str
    columns: tuple[DbColumn, ...]
    indexes: tuple[DbIndex, ...] = ()
    unique: tuple[DbUnique, ...] = ()
    checks: tuple[DbCheck, ...] = ()
    #: A primary key of several columns, in key order (its columns are not
    #: ``primary_key``; a one-column key is its column's ``primary_key``).
    composite_key: tuple[str, ...] = ()
    #: Foreign keys over several columns, sorted (by columns, then name).
    foreign_keys: tuple[DbCompositeForeignKey, ...] = ()

    def __post_init__(self) -> None:
        object.__setattr__(self, "columns", tuple(self.columns))
        object.__setattr__(self, "composite_key", tuple(self.composite_key))
        object.__setattr__(
            self,
            "foreign_keys",
            tuple(sorted(self.foreign_keys, key=lambda f: (f.columns, f.name))),
        )
        object.__setattr__(self, "checks", tuple(sorted(self.checks, key=lambda c: c.name)))
        object.__setattr__(
            self, "indexes", tuple(sorted(self.indexes, key=lambda i: (i.name, i.columns)))
        )
        object.__setattr__(
            self, "unique", tuple(sorted(self.unique, key=lambda u: (u.name, u.columns)))
        )


@dataclass(frozen=True, slots=True)
class DbEnum:
    """A native enum type (PostgreSQL): its name and its labels in sort order."""

    name: str
    values: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class DbViewColumn:
    """A column of a view: its name and its SQL type, ``None`` where the
    database keeps none (SQLite types only a view column that is a column
    of a table; an expression's column has no declared type)."""

    name: str
    type: str | None


@dataclass(frozen=True, slots=True)
class DbView:
    """A view: its columns in order, whether it is materialized and, if so,
    its indexes (sorted). ``sql`` is its SELECT, as our DDL wrote it or as the
    database gives it back (PostgreSQL keeps a parse tree and deparses it);
    not compared, as no spelling of it is the database's own."""

    name: str
    columns: tuple[DbViewColumn, ...]
    materialized: bool = False
    indexes: tuple[DbIndex, ...] = ()
    sql: str = field(default="", compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "columns", tuple(self.columns))
        object.__setattr__(
            self, "indexes", tuple(sorted(self.indexes, key=lambda i: (i.name, i.columns)))
        )


@dataclass(frozen=True, slots=True)
class DbSchema:
    """Tables by name (sorted), as a database of one dialect holds them, the
    enum types their columns use (PostgreSQL; sorted by name) and the views
    (sorted by name)."""

    dialect: str
    tables: tuple[DbTable, ...]
    enums: tuple[DbEnum, ...] = ()
    views: tuple[DbView, ...] = ()

    def __post_init__(self) -> None:
        object.__setattr__(self, "tables", tuple(sorted(self.tables, key=lambda t: t.name)))
        object.__setattr__(self, "enums", tuple(sorted(self.enums, key=lambda e: e.name)))
        object.__setattr__(self, "views", tuple(sorted(self.views, key=lambda v: v.name)))

    def __iter__(self) -> Iterator[DbTable]:
        return iter(self.tables)

    def table(self, name: str) -> DbTable:
        for table in self.tables:
            if table.name == name:
                return table
        raise KeyError(name)

    def view(self, name: str) -> DbView:
        for view in self.views:
            if view.name == name:
                return view
        raise KeyError(name)

    def only(self, names: set[str]) -> DbSchema:
        """The same schema with only the tables and views named (to ignore
        others in a database)."""
        tables = tuple(t for t in self.tables if t.name in names)
        views = tuple(v for v in self.views if v.name in names)
        enums = _used_enums(self.enums, tables, views)
        return replace(self, tables=tables, enums=enums, views=views)


def _used_enums(
    enums: tuple[DbEnum, ...], tables: tuple[DbTable, ...], views: tuple[DbView, ...] = ()
) -> tuple[DbEnum, ...]:
    """The enum types of ``enums`` that a column of ``tables`` or ``views`` has
    (its type is the quoted name)."""
    types: set[str | None] = {c.type for t in tables for c in t.columns}
    types |= {c.type for v in views for c in v.columns}
    return tuple(e for e in enums if '"' + e.name.replace('"', '""') + '"' in types)
