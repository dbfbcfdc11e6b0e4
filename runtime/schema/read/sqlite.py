"""The SQLite reader: the PRAGMAs, as table-valued functions over ``sqlite_master``.

``pragma_table_xinfo(name)`` and its siblings joined with ``sqlite_master``
read every table in one statement per kind (columns, indexes, foreign
keys), as the PostgreSQL reader does with the catalog.

SQLite keeps a table's definition as the text of its ``CREATE TABLE``, so
most of it reads back as our DDL wrote it: declared types as written (upper
case here, as the DDL writes them), defaults as written, except that the
PRAGMA drops the parentheses around a default expression, which are put
back. What SQLite keeps no name of (a column's ``UNIQUE``) has the empty
name; a table-level ``CONSTRAINT "x" UNIQUE (...)`` keeps its name in the
``CREATE TABLE`` text, where it is read from.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any, Final

from ... import _naming
from ..._errors import DatabaseError
from ..checksql import tokens
from ..database import (
    DbCheck,
    DbColumn,
    DbCompositeForeignKey,
    DbForeignKey,
    DbIndex,
    DbTable,
    DbUnique,
    DbView,
    DbViewColumn,
)
from ._common import Fetch, Note, skipped

if TYPE_CHECKING:
    from ..._engine_base import Engine

__all__ = ["db_default", "db_type", "read", "read_views", "unique_names", "view_body"]


def db_type(declared: str) -> str:
    """A declared type as our DDL writes it: upper case, one space after a comma,
    none inside the parentheses (``numeric(5,2)`` -> ``NUMERIC(5, 2)``)."""
    text = " ".join(declared.split()).upper()
    text = re.sub(r"\s*\(\s*", "(", text)
    text = re.sub(r"\s*\)", ")", text)
    return re.sub(r"\s*,\s*", ", ", text)


#: A default the PRAGMA gives as written: a literal (``DEFAULT 'a'``,
#: ``DEFAULT -1``, ``DEFAULT CURRENT_TIMESTAMP``). Anything else was an
#: expression in parentheses, which the PRAGMA drops.
_LITERAL: Final = re.compile(
    r"""'(?:[^']|'')*'
      | [xX]'[0-9a-fA-F]*'
      | [+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?
      | [+-]?0[xX][0-9a-fA-F]+
      | (?i:null|true|false|current_time|current_date|current_timestamp)""",
    re.VERBOSE,
)


def db_default(value: str | None) -> str | None:
    """A ``dflt_value`` of ``pragma_table_xinfo`` as the ``DEFAULT`` clause wrote it."""
    if value is None:
        return None
    return value if _LITERAL.fullmatch(value) else f"({value})"


_NAME: Final = r'(?:"(?:[^"]|"")+"|`(?:[^`]|``)+`|\[[^\]]+\]|[A-Za-z_][A-Za-z0-9_$]*)'
_NAMED_UNIQUE: Final = re.compile(
    rf"CONSTRAINT\s+({_NAME})\s+UNIQUE\s*\(((?:\s*{_NAME}\s*,)*\s*{_NAME}\s*)\)", re.IGNORECASE
)


def _unquote(name: str) -> str:
    name = name.strip()
    if name[:1] == '"':
        return name[1:-1].replace('""', '"')
    if name[:1] == "`":
        return name[1:-1].replace("``", "`")
    if name[:1] == "[":
        return name[1:-1]
    return name


def unique_names(create_sql: str) -> dict[tuple[str, ...], str]:
    """The named table-level ``UNIQUE`` constraints of a ``CREATE TABLE``: columns -> name."""
    return {
        tuple(_unquote(c) for c in re.findall(_NAME, columns)): _unquote(name)
        for name, columns in _NAMED_UNIQUE.findall(create_sql)
    }


_CHECK: Final = re.compile(rf"(?:CONSTRAINT\s+({_NAME})\s+)?CHECK\s*\(", re.IGNORECASE)
_SKIP: Final = re.compile(r"'(?:[^']|'')*'|\"(?:[^\"]|\"\")*\"|--[^\n]*|/\*.*?\*/", re.DOTALL)


def checks_of(create_sql: str) -> list[tuple[str | None, str]]:
    """The ``CHECK`` constraints of a ``CREATE TABLE`` (of the table or of a
    column): ``(name or None, expression)``, the expression as written
    (SQLite keeps the statement's text)."""
    found: list[tuple[str | None, str]] = []
    pos = 0
    while (match := _CHECK.search(create_sql, pos)) is not None:
        skipped_text = _SKIP.search(create_sql, pos)
        if skipped_text is not None and skipped_text.start() < match.start():
            pos = skipped_text.end()  # in a string, quoted name or comment
            continue
        depth, i = 1, match.end()
        while i < len(create_sql) and depth:
            inner = _SKIP.match(create_sql, i)
            if inner is not None:
                i = inner.end()
                continue
            depth += {"(": 1, ")": -1}.get(create_sql[i], 0)
            i += 1
        name = _unquote(match[1]) if match[1] else None
        found.append((name, create_sql[match.end() : i - 1].strip()))
        pos = i
    return found


_TABLE_FOREIGN_KEY: Final = re.compile(
    rf"\s*(?:CONSTRAINT\s+{_NAME}\s+)?FOREIGN\s+KEY\s*\(\s*({_NAME})\s*\)", re.IGNORECASE
)
_DEFERRABLE: Final = re.compile(
    r"\b(NOT\s+)?DEFERRABLE(?:\s+INITIALLY\s+(DEFERRED|IMMEDIATE))?\b", re.IGNORECASE
)


def _definitions(create_sql: str) -> list[str]:
    """The column and table constraint definitions of a ``CREATE TABLE``: its
    parenthesised body split at the commas outside strings and parentheses."""
    start = create_sql.find("(")
    if start < 0:
        return []
    parts: list[str] = []
    depth, i, begin = 0, start + 1, start + 1
    while i < len(create_sql):
        inner = _SKIP.match(create_sql, i)
        if inner is not None:
            i = inner.end()
            continue
        char = create_sql[i]
        if char == "(":
            depth += 1
        elif char == ")":
            if depth == 0:
                break
            depth -= 1
        elif char == "," and depth == 0:
            parts.append(create_sql[begin:i])
            begin = i + 1
        i += 1
    parts.append(create_sql[begin:i])
    return parts


def deferrable_keys(create_sql: str) -> dict[str, tuple[bool, bool]]:
    """The foreign keys of a ``CREATE TABLE`` declared ``DEFERRABLE``: source
    column -> (deferrable, initially deferred). The PRAGMA does not say;
    SQLite keeps the statement's text. (SQLite defers only ``DEFERRABLE
    INITIALLY DEFERRED``; ``DEFERRABLE`` alone is checked at once, as its
    ``INITIALLY IMMEDIATE`` default says.)"""
    found: dict[str, tuple[bool, bool]] = {}
    for part in _definitions(create_sql):
        words = _SKIP.sub(lambda m: " " * len(m[0]), part)
        if not re.search(r"\bREFERENCES\b", words, re.IGNORECASE):
            continue
        table_level = _TABLE_FOREIGN_KEY.match(part)
        if table_level is not None:
            column = table_level[1]
        else:
            first = re.match(rf"\s*({_NAME})", part)
            if first is None:
                continue
            column = first[1]
        match = _DEFERRABLE.search(words)
        if match is not None and not match[1]:
            deferred = (match[2] or "").upper() == "DEFERRED"
            found[_unquote(column)] = (True, deferred)
    return found


_TABLES: Final = """
SELECT m.name, m.sql FROM {schema}.sqlite_master m
WHERE m.type = 'table' AND m.name NOT LIKE 'sqlite\\_%' ESCAPE '\\'
ORDER BY m.name
"""

_COLUMNS: Final = """
SELECT m.name, p.name, p.type, p."notnull", p.dflt_value, p.pk, p.hidden
FROM {schema}.sqlite_master m, pragma_table_xinfo(m.name, ?) p
WHERE m.type = 'table' AND m.name NOT LIKE 'sqlite\\_%' ESCAPE '\\'
ORDER BY m.name, p.cid
"""

_INDEXES: Final = """
SELECT m.name, l.name, l."unique", l.origin, l.partial, x.cid, x.name, x."desc", i.sql
FROM {schema}.sqlite_master m, pragma_index_list(m.name, ?) l, pragma_index_xinfo(l.name, ?) x
LEFT JOIN {schema}.sqlite_master i ON i.type = 'index' AND i.name = l.name
WHERE m.type = 'table' AND m.name NOT LIKE 'sqlite\\_%' ESCAPE '\\' AND x.key
ORDER BY m.name, l.name, x.seqno
"""

_FOREIGN_KEYS: Final = """
SELECT m.name, f.id, f."table", f."from", f."to", f.on_update, f.on_delete, f."match"
FROM {schema}.sqlite_master m, pragma_foreign_key_list(m.name, ?) f
WHERE m.type = 'table' AND m.name NOT LIKE 'sqlite\\_%' ESCAPE '\\'
ORDER BY m.name, f.id, f.seq
"""


@dataclass(slots=True)
class _Table:
    name: str
    sql: str
    columns: list[DbColumn] = field(default_factory=list)
    indexes: list[DbIndex] = field(default_factory=list)
    unique: list[DbUnique] = field(default_factory=list)
    checks: list[DbCheck] = field(default_factory=list)
    #: The primary key's columns by their position in it (``pragma_table_xinfo.pk``).
    key: dict[int, str] = field(default_factory=dict)
    foreign_keys: list[DbCompositeForeignKey] = field(default_factory=list)


@dataclass(slots=True)
class _Index:
    table: str
    name: str
    unique: bool
    origin: str
    partial: bool
    sql: str | None
    columns: list[str | None] = field(default_factory=list)
    descending: bool = False


async def read(
    fetch: Fetch, wanted: frozenset[str] | None, schema: str
) -> tuple[list[DbTable], list[Note]]:
    """The tables of database ``schema`` (``public``: the main one), those
    named in ``wanted`` or all, and the notes."""
    database = "main" if schema == "public" else schema
    quoted = '"' + database.replace('"', '""') + '"'
    notes: list[Note] = []
    tables: dict[str, _Table] = {}
    for name, sql in await fetch(_TABLES.format(schema=quoted), ()):
        if not skipped(name, wanted):
            tables[name] = _Table(name, sql or "")
    # Every table's key, read or not: a foreign key naming no column points at it.
    positions: dict[str, dict[int, str]] = {}
    for table, name, type_, notnull, default, pk, hidden in await fetch(
        _COLUMNS.format(schema=quoted), (database,)
    ):
        if pk:
            positions.setdefault(table, {})[pk] = name
        if table not in tables:
            continue
        if hidden == 1:  # a hidden column of a virtual table: not a column of its rows
            continue
        if hidden:
            notes.append(Note(table, f"column {name!r} is generated; read as a plain column"))
        # A key is NOT NULL in the model, as on PostgreSQL. SQLite makes an
        # INTEGER PRIMARY KEY so (NULL picks a new rowid) but, for backwards
        # compatibility, lets another key hold NULL unless declared NOT NULL,
        # which our DDL does not write: a quirk the model does not follow.
        tables[table].columns.append(
            DbColumn(name, db_type(type_ or ""), bool(notnull or pk), db_default(default), bool(pk))
        )
        if pk:
            tables[table].key[pk] = name
    # In key order (``pk`` is the position in the key), for a composite key.
    keys = {t: [found[i] for i in sorted(found)] for t, found in positions.items()}
    for table in tables.values():
        if re.match(r"\s*CREATE\s+VIRTUAL\b", table.sql, re.IGNORECASE):
            notes.append(Note(table.name, "is a virtual table; read as a plain one"))
        if len(table.key) > 1:
            # A table-level key, in key order; its columns carry no key flag.
            table.columns = [replace(c, primary_key=False) for c in table.columns]
        if re.search(r"\bAUTOINCREMENT\b", table.sql, re.IGNORECASE):
            notes.append(Note(table.name, "the key is AUTOINCREMENT (left out)"))
        for name, sql in checks_of(table.sql):
            if name is None:
                notes.append(Note(table.name, f"unnamed CHECK ({sql}) (left out)"))
            else:
                table.checks.append(DbCheck(name, sql))
    await _read_indexes(fetch, quoted, database, tables, notes)
    await _read_foreign_keys(fetch, quoted, database, tables, keys, notes)
    return [
        DbTable(
            t.name,
            tuple(t.columns),
            tuple(t.indexes),
            tuple(t.unique),
            tuple(t.checks),
            composite_key=tuple(t.key[i] for i in sorted(t.key)) if len(t.key) > 1 else (),
            foreign_keys=tuple(t.foreign_keys),
        )
        for t in tables.values()
    ], notes


async def _read_indexes(
    fetch: Fetch, quoted: str, database: str, tables: dict[str, _Table], notes: list[Note]
) -> None:
    indexes: dict[tuple[str, str], _Index] = {}
    rows = await fetch(_INDEXES.format(schema=quoted), (database, database))
    for table, name, unique, origin, partial, cid, column, desc, sql in rows:
        if table not in tables:
            continue
        index = indexes.setdefault(
            (table, name), _Index(table, name, bool(unique), origin, bool(partial), sql)
        )
        index.columns.append(None if cid < 0 else column)
        index.descending = index.descending or bool(desc)
    named = {t.name: unique_names(t.sql) for t in tables.values()}
    for index in indexes.values():
        table = tables[index.table]
        if index.origin == "pk":
            continue
        if any(c is None for c in index.columns):
            notes.append(
                Note(
                    table.name,
                    f"index {index.name!r} is over expressions: {index.sql}",
                    index=index.name,
                )
            )
            continue
        columns = tuple(c for c in index.columns if c is not None)
        if index.origin == "u":
            table.unique.append(DbUnique(named[table.name].get(columns, ""), columns))
            continue
        extras = []
        if index.partial:
            extras.append("is partial (its WHERE clause is left out)")
        if index.descending:
            extras.append("orders a column DESC (left out)")
        if extras:
            notes.append(
                Note(
                    table.name,
                    f"index {index.name!r} {', '.join(extras)}: {index.sql}",
                    index=index.name,
                )
            )
        table.indexes.append(DbIndex(index.name, columns, index.unique))


async def _read_foreign_keys(
    fetch: Fetch,
    quoted: str,
    database: str,
    tables: dict[str, _Table],
    keys: dict[str, list[str]],
    notes: list[Note],
) -> None:
    grouped: dict[tuple[str, int], list[Sequence[Any]]] = {}
    for row in await fetch(_FOREIGN_KEYS.format(schema=quoted), (database,)):
        if row[0] in tables:
            grouped.setdefault((row[0], row[1]), []).append(row)
    deferrable: dict[str, dict[str, tuple[bool, bool]]] = {}
    for (name, _), rows in grouped.items():
        table = tables[name]
        _, _, target, source, to, on_update, on_delete, match = rows[0]
        if len(rows) > 1:
            _composite_foreign_key(table, rows, keys, notes)
            continue
        if to is None:
            # ``REFERENCES t`` alone: the target's primary key.
            key = keys.get(target, [])
            if len(key) != 1:
                notes.append(Note(name, f"foreign key {source!r} -> {target}: no single key"))
                continue
            to = key[0]
        if match and match.upper() != "NONE":
            notes.append(Note(name, f"foreign key {source!r} is MATCH {match}"))
        position = next(i for i, c in enumerate(table.columns) if c.name == source)
        column = table.columns[position]
        if column.references is not None:
            notes.append(Note(name, f"column {source!r} has a second foreign key -> {target}"))
            continue
        if name not in deferrable:
            deferrable[name] = deferrable_keys(table.sql)
        is_deferrable, deferred = deferrable[name].get(source, (False, False))
        references = DbForeignKey(
            target, to, on_delete.upper(), on_update.upper(), is_deferrable, deferred
        )
        table.columns[position] = replace(column, references=references)


_NAMED_FOREIGN_KEY: Final = re.compile(
    rf"CONSTRAINT\s+({_NAME})\s+FOREIGN\s+KEY\s*\(([^)]*)\)", re.IGNORECASE
)


def _composite_foreign_key(
    table: _Table, rows: list[Sequence[Any]], keys: dict[str, list[str]], notes: list[Note]
) -> None:
    """A foreign key over several columns (``rows``: one per column, in order).

    SQLite keeps no constraint names: a ``CONSTRAINT name`` of the table's SQL
    names it, else it has the name PostgreSQL would give it (our DDL leaves
    that one out)."""
    _, _, target, _, _, on_update, on_delete, match = rows[0]
    columns = tuple(r[3] for r in rows)
    to = [r[4] for r in rows]
    if any(t is None for t in to):
        # ``REFERENCES t`` alone: the target's primary key, in key order.
        to = keys.get(target, [])
    if len(to) != len(columns) or (match and match.upper() != "NONE"):
        listed = ", ".join(columns)
        notes.append(Note(table.name, f"a foreign key over several columns ({listed}) -> {target}"))
        return
    named = {
        tuple(_unquote(c.strip()) for c in listed.split(",")): _unquote(name)
        for name, listed in _NAMED_FOREIGN_KEY.findall(table.sql)
    }
    name = named.get(columns) or _naming.foreign_key_name(table.name, "_".join(columns))
    table.foreign_keys.append(
        DbCompositeForeignKey(
            name, columns, target, tuple(to), on_delete.upper(), on_update.upper()
        )
    )


_VIEWS: Final = """
SELECT m.name, m.sql FROM {schema}.sqlite_master m WHERE m.type = 'view' ORDER BY m.name
"""

_VIEW_COLUMNS: Final = """
SELECT m.name, p.name, p.type
FROM {schema}.sqlite_master m, pragma_table_info(m.name, ?) p
WHERE m.type = 'view'
ORDER BY m.name, p.cid
"""


def view_body(create_sql: str) -> str:
    """The SELECT of a ``CREATE VIEW`` statement as SQLite keeps it: what
    follows the first ``AS`` outside parentheses (after the name and any
    column list)."""
    depth, position = 0, 0
    for kind, text in tokens(create_sql):
        position += len(text)
        if text == "(":
            depth += 1
        elif text == ")":
            depth -= 1
        elif kind == "word" and text.upper() == "AS" and depth == 0:
            return create_sql[position:].strip().removesuffix(";").rstrip()
    return create_sql


async def read_views(
    engine: Engine, wanted: frozenset[str] | None, schema: str
) -> tuple[list[DbView], list[Note]]:
    """The views of database ``schema`` (those named in ``wanted``, or all),
    each with its SELECT and its columns: typed where SQLite declares a type
    (a column of a table), ``None`` where it has none (an expression). A view
    that does not compile (it reads a table that is gone) is left out, with
    a note."""
    fetch = engine._fetch_built
    database = "main" if schema == "public" else schema
    quoted = '"' + database.replace('"', '""') + '"'
    views = {
        name: sql
        for name, sql in await fetch(_VIEWS.format(schema=quoted), ())
        if wanted is None or name in wanted
    }
    notes: list[Note] = []
    columns: dict[str, list[DbViewColumn]] = {name: [] for name in views}
    try:
        rows = await fetch(_VIEW_COLUMNS.format(schema=quoted), (database,))
    except DatabaseError:
        # One view that does not compile fails the statement over all: read
        # each on its own, to tell which.
        rows = []
        for name in views:
            try:
                rows += [
                    (name, *row)
                    for row in await fetch(
                        "SELECT name, type FROM pragma_table_info(?, ?)", (name, database)
                    )
                ]
            except DatabaseError as exc:
                notes.append(Note(name, f"is a view that does not compile ({exc}); not read"))
                del columns[name]
    for name, column, declared in rows:
        if name in columns:
            columns[name].append(DbViewColumn(column, db_type(declared) if declared else None))
    return [
        DbView(name, tuple(found), sql=view_body(views[name] or ""))
        for name, found in columns.items()
    ], notes


async def read_engine(
    engine: Engine, wanted: frozenset[str] | None, schema: str
) -> tuple[list[DbTable], list[Note]]:
    """``read`` on ``engine``'s connection."""
    return await read(engine._fetch_built, wanted, schema)


async def table_exists(fetch: Fetch, name: str) -> bool:
    """Whether the main database has a table ``name``."""
    rows = await fetch(
        "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = ?", [name]
    )
    return bool(rows[0][0])
