"""The state of one live table, for ``alter()``: read from the database
(``PRAGMA`` on SQLite, the catalog on PostgreSQL), so that steps made by
earlier alters are kept.

Private, and replaceable by the full reader (``runtime.schema.read``): it
reads exactly what ``alter()`` compiles against. Defaults stay the SQL
text the database holds (``SQLDefault``), which the compiler writes back as
it is; a column type outside the state's kinds is an ``AlterError``.
"""

from __future__ import annotations

import re
from collections.abc import Sequence as _Seq
from typing import Any, Final

from .. import _naming
from .._dialect import Dialect
from .compile import AlterError, DdlConnection, SQLDefault
from .state import Action, Column, ForeignKey, Index, Table, Type, Unique

__all__ = ["read_table"]

_ACTIONS: Final[dict[str, Action]] = {
    "CASCADE": "cascade",
    "RESTRICT": "restrict",
    "NO ACTION": "no_action",
    "SET NULL": "set_null",
    "SET DEFAULT": "set_default",
}

#: Declared SQL types (upper case, as the DDL writes them) -> state kinds.
_SQLITE_KINDS: Final = {
    "TEXT": "Text",
    "INTEGER": "Integer",
    "BIGINT": "BigInt",
    "REAL": "Real",
    "NUMERIC": "Numeric",
    "BOOLEAN": "Boolean",
    "DATE": "Date",
    "TIME": "Time",
    "TIMESTAMP": "Timestamp",
    "TIMESTAMPTZ": "Timestamptz",
    "INTERVAL": "Interval",
    "UUID": "UUID",
    "JSON": "JSON",
    "JSONB": "JSONB",
    "BLOB": "Bytea",
}

#: PostgreSQL's ``format_type`` names -> state kinds.
_POSTGRES_KINDS: Final = {
    "text": "Text",
    "integer": "Integer",
    "bigint": "BigInt",
    "smallint": "SmallInt",
    "real": "Real",
    "double precision": "DoublePrecision",
    "numeric": "Numeric",
    "boolean": "Boolean",
    "date": "Date",
    "time without time zone": "Time",
    "timestamp without time zone": "Timestamp",
    "timestamp with time zone": "Timestamptz",
    "interval": "Interval",
    "uuid": "UUID",
    "json": "JSON",
    "jsonb": "JSONB",
    "bytea": "Bytea",
    "character varying": "Varchar",
    "character": "Char",
}

_SIZED = re.compile(r"^(.*?)\s*\(\s*(\d+)\s*(?:,\s*(\d+)\s*)?\)$")


def _type_of(declared: str, kinds: dict[str, str], table: str, column: str) -> Type:
    text = " ".join(declared.split())
    if text.endswith("[]"):
        return Type("Array", element=_type_of(text[:-2], kinds, table, column))
    sized = _SIZED.match(text)
    base = sized.group(1) if sized else text
    kind = kinds.get(base) or kinds.get(base.upper()) or kinds.get(base.lower())
    if base.upper() == "VARCHAR":
        kind = "Varchar"
    elif base.upper() == "CHAR":
        kind = "Char"
    if kind is None or (kind in ("Varchar", "Char") and not sized):
        raise AlterError(
            f"column {table}.{column} has the type {declared!r}, which alter() does not know;"
            " change it with SQL"
        )
    if sized is None:
        return Type(kind)
    if kind == "Numeric":
        scale = sized.group(3)
        return Type(kind, digits=(int(sized.group(2)), int(scale or 0)))
    if kind in ("Varchar", "Char"):
        return Type(kind, length=int(sized.group(2)))
    raise AlterError(
        f"column {table}.{column} has the type {declared!r}, which alter() does not know"
    )


async def read_table(conn: DdlConnection, name: str) -> Table:
    """The state of table ``name`` as the database has it now."""
    if conn.dialect.alters_in_place:
        return await _read_postgres(conn, name)
    return await _read_sqlite(conn, name)


async def _read_sqlite(conn: DdlConnection, name: str) -> Table:
    quote = Dialect.quote
    info = await conn.fetch(f"PRAGMA table_info({quote(name)})", ())
    if not info:
        raise AlterError(f"SQLite has no table {name!r}")
    keys = [row for row in info if row[5]]
    if len(keys) > 1:
        raise AlterError(f"table {name!r} has a primary key of several columns")
    references: dict[str, ForeignKey] = {}
    groups: dict[int, list[_Seq[Any]]] = {}
    for row in await conn.fetch(f"PRAGMA foreign_key_list({quote(name)})", ()):
        groups.setdefault(row[0], []).append(row)
    for rows in groups.values():
        if len(rows) > 1:
            raise AlterError(f"table {name!r} has a foreign key over several columns")
        _, _, target, source, to, on_update, on_delete, _ = rows[0]
        if to is None:  # REFERENCES t: its primary key
            pk = [r[1] for r in await conn.fetch(f"PRAGMA table_info({quote(target)})", ()) if r[5]]
            to = pk[0] if pk else "rowid"
        references[source] = ForeignKey(
            target, to, on_delete=_ACTIONS[on_delete.upper()], on_update=_ACTIONS[on_update.upper()]
        )
    unique_columns: set[str] = set()
    index_columns: set[str] = set()
    indexes: list[Index] = []
    unique: list[tuple[tuple[str, ...], str]] = []
    listed = await conn.fetch(f"PRAGMA index_list({quote(name)})", ())
    order = {
        row[0]: row[1]
        for row in await conn.fetch(
            "SELECT name, rowid FROM sqlite_master WHERE type = 'index' AND tbl_name = ?", (name,)
        )
    }
    for row in sorted(listed, key=lambda r: order.get(r[1], 0)):
        index, is_unique, origin, partial = row[1], bool(row[2]), row[3], bool(row[4])
        parts = await conn.fetch(f"PRAGMA index_info({quote(index)})", ())
        columns = tuple(r[2] for r in parts)
        if partial or any(c is None for c in columns):
            continue  # over an expression or partial: kept as SQL by a rebuild
        if origin == "u":
            if len(columns) == 1:
                unique_columns.add(columns[0])
            else:
                unique.append((columns, ""))
        elif origin == "c":
            derived = _naming.index_name(name, columns)
            if len(columns) == 1 and not is_unique and index == derived:
                index_columns.add(columns[0])
            else:
                indexes.append(Index(index, columns, unique=is_unique))
    # Named UNIQUE constraints keep their names: read them from the SQL.
    created = await conn.fetch(
        "SELECT sql FROM sqlite_master WHERE type = 'table' AND name = ?", (name,)
    )
    named = {
        tuple(c.strip().strip('"') for c in cols.split(",")): constraint.replace('""', '"')
        for constraint, cols in re.findall(
            r'CONSTRAINT "((?:[^"]|"")+)" UNIQUE \(([^)]*)\)', created[0][0] or ""
        )
    }
    columns_state = []
    for _cid, column, declared, notnull, default, pk in info:
        columns_state.append(
            Column(
                column,
                _type_of(declared, _SQLITE_KINDS, name, column),
                null=not notnull and not pk,
                default=None if default is None or pk else SQLDefault(default),
                primary_key=bool(pk),
                unique=column in unique_columns and not pk,
                index=column in index_columns,
                references=references.get(column),
            )
        )
    return Table(
        name,
        tuple(columns_state),
        tuple(indexes),
        tuple(
            Unique(named.get(cols) or _naming.unique_name(name, cols), cols) for cols, _ in unique
        ),
    )


async def _read_postgres(conn: DdlConnection, name: str) -> Table:
    rows = await conn.fetch(
        "SELECT a.attname, format_type(a.atttypid, a.atttypmod), a.attnotnull,"
        " pg_get_expr(d.adbin, d.adrelid) FROM pg_attribute a"
        " LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum"
        " WHERE a.attrelid = to_regclass($1) AND a.attnum > 0 AND NOT a.attisdropped"
        " ORDER BY a.attnum",
        [Dialect.quote(name)],
    )
    if not rows:
        raise AlterError(f"PostgreSQL has no table {name!r}")
    constraints = await conn.fetch(
        "SELECT c.conname, c.contype::text, ARRAY(SELECT a.attname FROM unnest(c.conkey) WITH"
        " ORDINALITY k(n, i) JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = k.n"
        " ORDER BY k.i)::text[], t.relname, ARRAY(SELECT a.attname FROM unnest(c.confkey) WITH"
        " ORDINALITY k(n, i) JOIN pg_attribute a ON a.attrelid = c.confrelid AND a.attnum = k.n"
        " ORDER BY k.i)::text[], c.confdeltype::text, c.confupdtype::text"
        " FROM pg_constraint c LEFT JOIN pg_class t ON t.oid = c.confrelid"
        " WHERE c.conrelid = to_regclass($1) ORDER BY c.conname",
        [Dialect.quote(name)],
    )
    actions: dict[str, Action] = {
        "a": "no_action",
        "r": "restrict",
        "c": "cascade",
        "n": "set_null",
        "d": "set_default",
    }
    keys: set[str] = set()
    unique_columns: set[str] = set()
    unique: list[Unique] = []
    references: dict[str, ForeignKey] = {}
    for conname, kind, columns, target, target_columns, on_delete, on_update in constraints:
        columns = tuple(columns)
        if kind == "p":
            keys.update(columns)
        elif kind == "u" and len(columns) == 1:
            unique_columns.add(columns[0])
        elif kind == "u":
            unique.append(Unique(conname, columns))
        elif kind == "f" and len(columns) == 1:
            references[columns[0]] = ForeignKey(
                target,
                target_columns[0],
                on_delete=actions[on_delete],
                on_update=actions[on_update],
            )
    found = await conn.fetch(
        "SELECT i.relname, x.indisunique, ARRAY(SELECT a.attname FROM unnest(x.indkey) WITH"
        " ORDINALITY k(n, o) JOIN pg_attribute a ON a.attrelid = x.indrelid AND a.attnum = k.n"
        " ORDER BY k.o)::text[], x.indexprs IS NULL AND x.indpred IS NULL"
        " FROM pg_index x JOIN pg_class i ON i.oid = x.indexrelid"
        " WHERE x.indrelid = to_regclass($1) AND NOT EXISTS"
        " (SELECT 1 FROM pg_constraint c WHERE c.conindid = x.indexrelid) ORDER BY i.oid",
        [Dialect.quote(name)],
    )
    index_columns: set[str] = set()
    indexes: list[Index] = []
    for index, is_unique, columns, plain in found:
        columns = tuple(columns)
        if not plain:
            continue
        if len(columns) == 1 and not is_unique and index == _naming.index_name(name, columns):
            index_columns.add(columns[0])
        else:
            indexes.append(Index(index, columns, unique=is_unique))
    state_columns = []
    for column, declared, notnull, default in rows:
        pk = column in keys
        kind = _type_of(declared, _POSTGRES_KINDS, name, column)
        if (
            default is not None
            and default.startswith("nextval(")
            and kind.kind
            in (
                "Integer",
                "BigInt",
            )
        ):
            kind, default = Type("Serial" if kind.kind == "Integer" else "BigSerial"), None
        state_columns.append(
            Column(
                column,
                kind,
                null=not notnull and not pk,
                default=None if default is None or pk else SQLDefault(default),
                primary_key=pk,
                unique=column in unique_columns and not pk,
                index=column in index_columns,
                references=references.get(column),
            )
        )
    return Table(name, tuple(state_columns), tuple(indexes), tuple(unique))
