"""The PostgreSQL reader: the catalog, three statements for a whole schema.

One statement per kind (columns, constraints, indexes), each over every
table of the schema at once, so the number of round trips does not grow
with the number of tables.

The catalog speaks its own dialect: ``format_type`` says ``character
varying(50)`` and ``timestamp with time zone``, ``pg_get_expr`` gives a
default back as PostgreSQL parsed it (``'abc'::character varying``,
``'-1'::integer``, ``ARRAY['a'::text]``, ``'00:01:30'::interval``). Both are
turned into what our DDL writes (``VARCHAR(50)``, ``TIMESTAMPTZ``, ``'abc'``,
``-1``, ``ARRAY['a']::TEXT[]``, ``'90.0 seconds'``): a default is parsed to
its value and written again the way the DDL writes a value of the column's
type. A default that is not a value (``LOCALTIMESTAMP``, ``gen_random_uuid()``,
any other expression) is kept as PostgreSQL prints it, which for the
expressions our DDL writes is what it wrote.

Constants are parsed in PostgreSQL's default output styles (``DateStyle``
ISO, ``IntervalStyle`` postgres, ``extra_float_digits`` above 0,
``bytea_output`` hex), which ``read_schema`` sets for its own transaction
whatever the session's are; a time stamp with a time zone is read in any
session time zone (it is written as the UTC instant). Read in other styles
(``read_table_state`` on a connection of a session set so), a default that
does not parse stays in PostgreSQL's text, which is still valid SQL.
"""

from __future__ import annotations

import datetime
import decimal
import math
import re
import uuid
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any, Final, TypeVar

from ..._columns import decimal_text, seconds_text
from ..database import (
    DbCheck,
    DbColumn,
    DbCompositeForeignKey,
    DbEnum,
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

__all__ = ["db_default", "db_type", "read", "read_enums", "read_views"]

# -- types ---------------------------------------------------------------------

#: ``format_type`` spellings -> ours, for the types without parameters.
_TYPES: Final = {
    "text": "TEXT",
    "integer": "INTEGER",
    "bigint": "BIGINT",
    "smallint": "SMALLINT",
    "real": "REAL",
    "double precision": "DOUBLE PRECISION",
    "numeric": "NUMERIC",
    "boolean": "BOOLEAN",
    "date": "DATE",
    "time without time zone": "TIME",
    "time with time zone": "TIMETZ",
    "timestamp without time zone": "TIMESTAMP",
    "timestamp with time zone": "TIMESTAMPTZ",
    "interval": "INTERVAL",
    "uuid": "UUID",
    "json": "JSON",
    "jsonb": "JSONB",
    "bytea": "BYTEA",
    "character varying": "VARCHAR",
    "character": "CHAR",
}

_PARAMETRISED: Final = re.compile(
    r"(character varying|character|numeric|time|timestamp)\(([\d,]+)\)(.*)", re.DOTALL
)

#: Integer types whose serial pseudo-type a column with an owned sequence has.
_SERIALS: Final = {"INTEGER": "SERIAL", "BIGINT": "BIGSERIAL", "SMALLINT": "SMALLSERIAL"}


def db_type(formatted: str) -> str:
    """Our DDL spelling of a ``format_type`` output; an unknown type as it is."""
    if formatted.endswith("[]"):
        return db_type(formatted[:-2]) + "[]"
    known = _TYPES.get(formatted)
    if known is not None:
        return known
    match = _PARAMETRISED.fullmatch(formatted)
    if match is None:
        return formatted
    base, parameters, rest = match.groups()
    if base == "numeric":
        return f"NUMERIC({', '.join(parameters.split(','))})"
    if base in ("time", "timestamp"):
        # ``time(3) without time zone``: the precision goes after our name.
        name = _TYPES.get(base + rest)
        return formatted if name is None else f"{name}({parameters})"
    return f"{_TYPES[base]}({parameters})" if not rest else formatted


# -- defaults ----------------------------------------------------------------------

_TOKEN: Final = re.compile(
    r"""\s*(?:
        (?P<string>'(?:[^']|'')*')
      | (?P<number>(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?)
      | (?P<cast>::)
      | (?P<punct>[()\[\],-])
      | (?P<word>[A-Za-z_][A-Za-z0-9_$]*|"(?:[^"]|"")*")
    )""",
    re.VERBOSE,
)


_END: Final = re.compile(r"\s*\Z")


@dataclass(frozen=True, slots=True)
class _Value:
    """A constant of a default: ``kind`` is ``string``, ``number``, ``bool`` or ``null``."""

    kind: str
    text: str


@dataclass(frozen=True, slots=True)
class _Array:
    items: tuple[_Value | _Array, ...]


class _Unparsed(Exception):
    """The default is no constant (an expression, a function call): keep its text."""


class _Parser:
    """A constant as ``pg_get_expr`` prints it: literals, casts, parentheses,
    unary minus and ``ARRAY[...]``. The casts are dropped: the value is
    written again for the column's type, which says all the casts said."""

    def __init__(self, text: str) -> None:
        self.tokens: list[tuple[str, str]] = []
        position = 0
        while not _END.match(text, position):
            match = _TOKEN.match(text, position)
            if match is None or match.lastgroup is None:
                raise _Unparsed
            self.tokens.append((match.lastgroup, match.group(match.lastgroup)))
            position = match.end()
        self.at = 0

    def peek(self) -> tuple[str, str]:
        return self.tokens[self.at] if self.at < len(self.tokens) else ("end", "")

    def take(self, text: str | None = None) -> tuple[str, str]:
        token = self.peek()
        if token[0] == "end" or (text is not None and token[1].lower() != text):
            raise _Unparsed
        self.at += 1
        return token

    def whole(self) -> _Value | _Array:
        value = self.expression()
        if self.peek()[0] != "end":
            raise _Unparsed
        return value

    def expression(self) -> _Value | _Array:
        value = self.unary()
        while self.peek()[0] == "cast":
            self.take()
            self.type_name()
        return value

    def unary(self) -> _Value | _Array:
        if self.peek() == ("punct", "-"):
            self.take()
            value = self.unary()
            if not isinstance(value, _Value) or value.kind != "number":
                raise _Unparsed
            negated = value.text[1:] if value.text.startswith("-") else "-" + value.text
            return _Value("number", negated)
        return self.primary()

    def primary(self) -> _Value | _Array:
        kind, text = self.take()
        if kind == "string":
            return _Value("string", text[1:-1].replace("''", "'"))
        if kind == "number":
            return _Value("number", text)
        if text == "(":
            value = self.expression()
            self.take(")")
            return value
        if kind == "word" and text.lower() in ("true", "false"):
            return _Value("bool", text.lower())
        if kind == "word" and text.lower() == "null":
            return _Value("null", "NULL")
        if kind == "word" and text.lower() == "array":
            self.take("[")
            items: list[_Value | _Array] = []
            if self.peek() != ("punct", "]"):
                items.append(self.expression())
                while self.peek() == ("punct", ","):
                    self.take()
                    items.append(self.expression())
            self.take("]")
            return _Array(tuple(items))
        raise _Unparsed

    def type_name(self) -> None:
        """Skip a type after ``::``: words, a modifier list, ``[]`` suffixes."""
        if self.take()[0] != "word":
            raise _Unparsed
        while True:
            kind, text = self.peek()
            if kind == "word":
                self.take()
            elif text == "(":
                self.take()
                while self.peek()[1] != ")":
                    self.take()
                self.take(")")
            elif text == "[":
                self.take()
                self.take("]")
            else:
                return


def _quoted(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _interval(text: str) -> datetime.timedelta:
    """PostgreSQL's interval output (``postgres`` style): ``[N day[s]] [-]HH:MM:SS[.f]``."""
    total = datetime.timedelta(0)
    rest = text.strip()
    for amount, unit in re.findall(r"([+-]?\d+) (days?|mons?|years?)\s*", rest):
        if not unit.startswith("day"):
            raise ValueError(f"{text!r} has months or years, which a timedelta has not")
        total += datetime.timedelta(days=int(amount))
    rest = re.sub(r"[+-]?\d+ (days?|mons?|years?)\s*", "", rest)
    if rest:
        match = re.fullmatch(r"([+-]?)(\d+):(\d\d):(\d\d(?:\.\d+)?)", rest)
        if match is None:
            raise ValueError(f"{text!r} is no interval output")
        sign, hours, minutes, seconds = match.groups()
        whole, _, fraction = seconds.partition(".")
        clock = datetime.timedelta(
            hours=int(hours),
            minutes=int(minutes),
            seconds=int(whole),
            microseconds=int(fraction.ljust(6, "0")[:6]),
        )
        total += -clock if sign == "-" else clock
    return total


def _time_value(text: str) -> datetime.time:
    return datetime.time.fromisoformat(text)


def _timestamp(text: str) -> datetime.datetime:
    value = datetime.datetime.fromisoformat(text)
    if value.tzinfo is not None:
        raise ValueError(f"{text!r} has a time zone")
    return value


def _timestamptz(text: str) -> datetime.datetime:
    value = datetime.datetime.fromisoformat(text)
    if value.tzinfo is None:
        raise ValueError(f"{text!r} has no time zone")
    # Printed in the session's time zone; our DDL writes the UTC instant.
    return value.astimezone(datetime.UTC)


def _float(text: str) -> str:
    number = float(text)
    if math.isnan(number):
        return "'NaN'"
    if math.isinf(number):
        return "'Infinity'" if number > 0 else "'-Infinity'"
    return str(number)


def _finite_decimal(text: str) -> decimal.Decimal:
    number = decimal.Decimal(text)
    if not number.is_finite():
        raise ValueError(f"{text!r} is not finite")  # our DDL writes no such default
    return number


#: How our DDL writes a constant of a type, from the constant's text:
#: (scalar default, element of an array default). Types not listed take the
#: text as a string literal.
_Writer = Callable[[str], str]
_WRITERS: Final[dict[str, tuple[_Writer, _Writer]]] = {}


def _same(writer: _Writer) -> tuple[_Writer, _Writer]:
    return writer, writer


for _name in ("INTEGER", "BIGINT", "SMALLINT", "SERIAL", "BIGSERIAL", "SMALLSERIAL"):
    _WRITERS[_name] = _same(lambda text: str(int(text)))
for _name in ("REAL", "DOUBLE PRECISION"):
    _WRITERS[_name] = _same(_float)
_WRITERS["NUMERIC"] = _same(lambda text: decimal_text(_finite_decimal(text)))
_WRITERS["DATE"] = _same(lambda text: _quoted(str(datetime.date.fromisoformat(text))))
_WRITERS["TIME"] = _same(lambda text: _quoted(str(_time_value(text))))
_WRITERS["TIMESTAMP"] = _same(lambda text: _quoted(str(_timestamp(text))))
_WRITERS["TIMESTAMPTZ"] = _same(lambda text: _quoted(str(_timestamptz(text))))
_WRITERS["UUID"] = _same(lambda text: _quoted(str(uuid.UUID(text))))
# A scalar interval default is written in seconds; an array element as
# Python prints the timedelta (``runtime._columns._sql_literal``).
_WRITERS["INTERVAL"] = (
    lambda text: _quoted(f"{seconds_text(_interval(text))} seconds"),
    lambda text: _quoted(str(_interval(text))),
)


def _write(value: _Value | _Array, type_: str, *, element: bool) -> str:
    """``value`` as our DDL writes a default (or an array element) of type ``type_``."""
    if isinstance(value, _Value) and value.kind == "null":
        return "NULL"
    if type_.endswith("[]"):
        if isinstance(value, _Array):
            items = ", ".join(_write(item, type_[:-2], element=True) for item in value.items)
            return f"ARRAY[{items}]::{type_}"
        if value.kind == "string":
            return _quoted(value.text)  # '{}'
        raise ValueError(f"{value.text} is no array")
    if isinstance(value, _Array):
        raise ValueError(f"an array is no value of {type_}")
    if value.kind == "bool" or type_ == "BOOLEAN":
        truth = {"true": "TRUE", "t": "TRUE", "false": "FALSE", "f": "FALSE"}
        return truth[value.text.lower()]
    base = type_.split("(")[0]
    writers = _WRITERS.get(base)
    if writers is not None:
        return writers[1 if element else 0](value.text)
    return value.text if value.kind == "number" else _quoted(value.text)


def db_default(expression: str, type_: str) -> str:
    """A ``pg_get_expr`` default of a column of type ``type_`` (our spelling),
    as our DDL writes it; an expression that is no constant as it is."""
    try:
        value = _Parser(expression).whole()
        return _write(value, type_, element=False)
    except (_Unparsed, ValueError, KeyError, ArithmeticError):
        return expression


# -- the catalog ---------------------------------------------------------------------

_WANTED: Final = "($2::text[] IS NULL OR c.relname = ANY($2::text[]))"

_COLUMNS: Final = f"""
SELECT c.relname, c.relkind::text, c.relispartition,
       a.attname, format_type(a.atttypid, a.atttypmod), a.attnotnull,
       pg_get_expr(d.adbin, d.adrelid), a.attidentity::text, a.attgenerated::text,
       CASE WHEN d.adbin IS NOT NULL THEN (
           SELECT s.oid::regclass::text
           FROM pg_depend dep JOIN pg_class s ON s.oid = dep.objid AND s.relkind = 'S'
           WHERE dep.classid = 'pg_class'::regclass AND dep.refclassid = 'pg_class'::regclass
             AND dep.refobjid = c.oid AND dep.refobjsubid = a.attnum AND dep.deptype = 'a'
           LIMIT 1) END
FROM pg_class c
JOIN pg_namespace n ON n.oid = c.relnamespace
LEFT JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
WHERE n.nspname = $1 AND c.relkind IN ('r', 'p', 'f') AND {_WANTED}
ORDER BY c.relname, a.attnum
"""

_NAMES_OF: Final = """ARRAY(
    SELECT a.attname FROM unnest({keys}) WITH ORDINALITY k(attnum, position)
    LEFT JOIN pg_attribute a ON a.attrelid = {table} AND a.attnum = k.attnum
    ORDER BY k.position)"""

_CONSTRAINTS: Final = f"""
SELECT c.relname, con.conname, con.contype::text,
       {_NAMES_OF.format(keys="con.conkey", table="con.conrelid")},
       f.relname, fn.nspname,
       {_NAMES_OF.format(keys="con.confkey", table="con.confrelid")},
       con.confdeltype::text, con.confupdtype::text, con.condeferrable, con.condeferred,
       con.confmatchtype::text, pg_get_constraintdef(con.oid)
FROM pg_constraint con
JOIN pg_class c ON c.oid = con.conrelid
JOIN pg_namespace n ON n.oid = c.relnamespace
LEFT JOIN pg_class f ON f.oid = con.confrelid
LEFT JOIN pg_namespace fn ON fn.oid = f.relnamespace
WHERE n.nspname = $1 AND c.relkind = 'r' AND {_WANTED}
ORDER BY c.relname, con.conname
"""

_INDEXES_OF: Final = """
SELECT c.relname, ic.relname, i.indisunique,
       {names},
       i.indnkeyatts, i.indnatts, i.indpred IS NOT NULL, i.indexprs IS NOT NULL,
       am.amname, i.indoption::int2[], pg_get_indexdef(i.indexrelid)
FROM pg_index i
JOIN pg_class c ON c.oid = i.indrelid
JOIN pg_class ic ON ic.oid = i.indexrelid
JOIN pg_am am ON am.oid = ic.relam
JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE n.nspname = $1 AND c.relkind = '{kind}' AND {wanted}
  AND NOT EXISTS (
      SELECT 1 FROM pg_constraint con
      WHERE con.conindid = i.indexrelid AND con.conrelid = i.indrelid
        AND con.contype IN ('p', 'u', 'x'))
ORDER BY c.relname, ic.relname
"""
#: The indexes of the tables, and those of the materialized views.
_INDEX_NAMES: Final = _NAMES_OF.format(keys="i.indkey::int2[]", table="i.indrelid")
_INDEXES: Final = _INDEXES_OF.format(kind="r", wanted=_WANTED, names=_INDEX_NAMES)
_VIEW_INDEXES: Final = _INDEXES_OF.format(kind="m", wanted=_WANTED, names=_INDEX_NAMES)

#: The views and materialized views, each with its SELECT (as PostgreSQL
#: deparses it) and its columns, their types and whether a type is an enum's.
_VIEWS: Final = f"""
SELECT c.relname, c.relkind::text, pg_get_viewdef(c.oid), a.attname,
       format_type(a.atttypid, a.atttypmod), t.typtype::text, t.typname
FROM pg_class c
JOIN pg_namespace n ON n.oid = c.relnamespace
LEFT JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
LEFT JOIN pg_type t ON t.oid = a.atttypid
WHERE n.nspname = $1 AND c.relkind IN ('v', 'm') AND {_WANTED}
ORDER BY c.relname, a.attnum
"""

#: The enum types the columns of the tables read have (of any schema), each
#: with its ``format_type`` spelling and its labels in sort order.
_ENUMS: Final = f"""
SELECT t.typname, format_type(t.oid, NULL),
       ARRAY(SELECT e.enumlabel FROM pg_enum e WHERE e.enumtypid = t.oid
             ORDER BY e.enumsortorder)
FROM pg_type t
WHERE t.typtype = 'e' AND t.oid IN (
    SELECT a.atttypid FROM pg_attribute a
    JOIN pg_class c ON c.oid = a.attrelid
    JOIN pg_namespace n ON n.oid = c.relnamespace
    WHERE n.nspname = $1 AND c.relkind IN ('r', 'v', 'm') AND {_WANTED}
      AND a.attnum > 0 AND NOT a.attisdropped)
ORDER BY t.typname
"""

#: ``pg_constraint.confdeltype`` / ``confupdtype`` -> the SQL words.
_ACTIONS: Final = {
    "a": "NO ACTION",
    "r": "RESTRICT",
    "c": "CASCADE",
    "n": "SET NULL",
    "d": "SET DEFAULT",
}

_RELATIONS: Final = {"p": "a partitioned table", "f": "a foreign table"}

_KINDS: Final = {"x": "exclusion constraint", "t": "constraint trigger"}


@dataclass(slots=True)
class _Table:
    name: str
    columns: list[DbColumn]
    indexes: list[DbIndex]
    unique: list[DbUnique]
    checks: list[DbCheck] = field(default_factory=list)
    composite_key: tuple[str, ...] = ()
    foreign_keys: list[DbCompositeForeignKey] = field(default_factory=list)


async def read(
    fetch: Fetch, wanted: frozenset[str] | None, schema: str
) -> tuple[list[DbTable], list[Note]]:
    """The tables of ``schema`` (those named in ``wanted``, or all) and the notes."""
    names = None if wanted is None else sorted(wanted)
    notes: list[Note] = []
    tables: dict[str, _Table] = {}
    passed: set[str] = set()
    for row in await fetch(_COLUMNS, (schema, names)):
        table_name: str = row[0]
        if skipped(table_name, wanted) or table_name in passed:
            continue
        kind, partition = row[1], row[2]
        if kind != "r" or partition:
            # Tables the model has no word for: left out whole, and said so.
            what = "a partition" if partition else _RELATIONS[kind]
            notes.append(Note(table_name, f"is {what}; not read"))
            passed.add(table_name)
            continue
        table = tables.setdefault(table_name, _Table(table_name, [], [], []))
        if row[3] is not None:  # None: a table without columns
            values = tuple(row)
            table.columns.append(_column((values[0], *values[3:]), notes))
    enum_types = {row[1]: row[0] for row in await fetch(_ENUMS, (schema, names))}
    for table in tables.values():
        for column in table.columns:
            if column.type in enum_types:
                # Our DDL names an enum type quoted.
                quoted = '"' + enum_types[column.type].replace('"', '""') + '"'
                _replace_column(table, column.name, type=quoted)
    for row in await fetch(_CONSTRAINTS, (schema, names)):
        if row[0] in tables:
            _constraint(tables[row[0]], row, schema, notes)
    for row in await fetch(_INDEXES, (schema, names)):
        if row[0] in tables:
            _index(tables[row[0]], row, notes)
    return [
        DbTable(
            t.name,
            tuple(t.columns),
            tuple(t.indexes),
            tuple(t.unique),
            tuple(t.checks),
            composite_key=t.composite_key,
            foreign_keys=tuple(t.foreign_keys),
        )
        for t in tables.values()
    ], notes


def _column(row: Sequence[Any], notes: list[Note]) -> DbColumn:
    table, name, formatted, notnull, default, identity, generated, sequence = row
    type_ = db_type(formatted)
    if identity:
        notes.append(Note(table, f"column {name!r} is an identity column (read as {type_})"))
    if generated:
        notes.append(
            Note(table, f"column {name!r} is generated ({default}); read as a plain column")
        )
        default = None
    if (
        default is not None
        and sequence is not None
        and type_ in _SERIALS
        and default == f"nextval({_quoted(sequence)}::regclass)"
    ):
        # The sequence a SERIAL column owns: our DDL wrote SERIAL, no default.
        return DbColumn(name, _SERIALS[type_], bool(notnull), None)
    written = None if default is None else db_default(default, type_)
    return DbColumn(name, type_, bool(notnull), written)


def _replace_column(table: _Table, name: str, **changes: Any) -> None:
    for position, column in enumerate(table.columns):
        if column.name == name:
            table.columns[position] = replace(column, **changes)


def _constraint(table: _Table, row: Sequence[Any], schema: str, notes: list[Note]) -> None:
    (
        _,
        name,
        kind,
        columns,
        target,
        target_schema,
        target_columns,
        on_delete,
        on_update,
        deferrable,
        deferred,
        match,
        definition,
    ) = row
    if kind == "p":
        if len(columns) > 1:
            # In key order (``conkey``): a table-level key, not a column flag.
            table.composite_key = tuple(columns)
        else:
            _replace_column(table, columns[0], primary_key=True)
    elif kind == "u":
        if "NULLS NOT DISTINCT" in definition:
            notes.append(Note(table.name, f"unique {name!r} is NULLS NOT DISTINCT"))
        if deferrable:
            notes.append(Note(table.name, f"unique {name!r} is deferrable"))
        table.unique.append(DbUnique(name, tuple(columns)))
    elif kind == "f":
        if len(columns) != 1:
            many = [target_schema != schema, deferrable, match == "f", "SET NULL (" in definition]
            if any(many) or "SET DEFAULT (" in definition:
                notes.append(
                    Note(table.name, f"foreign key {name!r} has several columns: {definition}")
                )
                return
            table.foreign_keys.append(
                DbCompositeForeignKey(
                    name,
                    tuple(columns),
                    target,
                    tuple(target_columns),
                    _ACTIONS[on_delete],
                    _ACTIONS[on_update],
                )
            )
            return
        existing = next(c for c in table.columns if c.name == columns[0])
        if existing.references is not None:
            notes.append(
                Note(table.name, f"column {columns[0]!r} has a second foreign key: {definition}")
            )
            return
        extras = []
        if target_schema != schema:
            extras.append(f"references a table of schema {target_schema!r}")
        if match == "f":
            extras.append("is MATCH FULL")
        if "SET NULL (" in definition or "SET DEFAULT (" in definition:
            extras.append("sets only some columns")
        if extras:
            notes.append(Note(table.name, f"foreign key {name!r} {', '.join(extras)}"))
        references = DbForeignKey(
            target,
            target_columns[0],
            _ACTIONS[on_delete],
            _ACTIONS[on_update],
            bool(deferrable),
            bool(deferred),
        )
        _replace_column(table, columns[0], references=references)
    elif kind == "c":
        # "CHECK ((price >= (0)::numeric))", maybe " NOT VALID" or " NO INHERIT":
        # the expression as PostgreSQL deparses it (see ``DbCheck``).
        found = re.fullmatch(r"CHECK \((.*)\)((?: NO INHERIT| NOT VALID)*)", definition, re.DOTALL)
        if found is None:
            notes.append(Note(table.name, f"check constraint {name!r}: {definition}"))
            return
        if found[2]:
            notes.append(Note(table.name, f"check {name!r} is{found[2].lower()}"))
        table.checks.append(DbCheck(name, found[1]))
    else:
        what = _KINDS.get(kind, f"constraint of kind {kind!r}")
        notes.append(Note(table.name, f"{what} {name!r}: {definition}"))


def _index(table: _Table, row: Sequence[Any], notes: list[Note]) -> None:
    _, name, unique, columns, key_count, count, partial, expressions, method, options, sql = row
    if expressions or any(c is None for c in columns):
        notes.append(Note(table.name, f"index {name!r} is over expressions: {sql}", index=name))
        return
    extras = []
    if partial:
        extras.append("is partial (its WHERE clause is left out)")
    if method != "btree":
        extras.append(f"uses {method}")
    if key_count != count:
        extras.append("INCLUDEs columns (left out)")
    if any(options[:key_count]):
        extras.append("orders a column DESC or NULLS FIRST (left out)")
    if extras:
        notes.append(Note(table.name, f"index {name!r} {', '.join(extras)}: {sql}", index=name))
    table.indexes.append(DbIndex(name, tuple(columns[:key_count]), bool(unique)))


#: What a reader of the catalog gives: relations and notes.
_Read = TypeVar("_Read")

#: The settings PostgreSQL prints constants by (in ``pg_get_expr``), and the
#: values the PostgreSQL reader parses: the defaults of a server.
_OUTPUT_STYLES: Final = {
    "DateStyle": "ISO",
    "IntervalStyle": "postgres",
    "extra_float_digits": "1",
    "bytea_output": "hex",
}


async def read_enums(engine: Engine, wanted: frozenset[str] | None, schema: str) -> list[DbEnum]:
    """The enum types that columns of the tables of ``schema`` (those named in
    ``wanted``, or all) have, with their labels in sort order."""
    names = None if wanted is None else sorted(wanted)
    rows = await engine._fetch_built(_ENUMS, (schema, names))
    return [DbEnum(row[0], tuple(row[2])) for row in rows]


async def _views(
    fetch: Fetch, wanted: frozenset[str] | None, schema: str
) -> tuple[list[DbView], list[Note]]:
    names = None if wanted is None else sorted(wanted)
    notes: list[Note] = []
    found: dict[str, tuple[bool, str, list[DbViewColumn]]] = {}
    for name, kind, sql, column, formatted, typtype, typname in await fetch(
        _VIEWS, (schema, names)
    ):
        # PostgreSQL deparses the SELECT as one statement, with its ``;``.
        text = (sql or "").strip().removesuffix(";").rstrip()
        _, _, columns = found.setdefault(name, (kind == "m", text, []))
        if column is None:
            continue
        # Our DDL names an enum type quoted, as the tables' reader spells it.
        quoted = '"' + typname.replace('"', '""') + '"' if typtype == "e" else None
        columns.append(DbViewColumn(column, quoted or db_type(formatted)))
    indexes: dict[str, _Table] = {}
    for row in await fetch(_VIEW_INDEXES, (schema, names)):
        if row[0] in found:
            _index(indexes.setdefault(row[0], _Table(row[0], [], [], [])), row, notes)
    return [
        DbView(
            name,
            tuple(columns),
            materialized,
            tuple(indexes[name].indexes) if name in indexes else (),
            sql=text,
        )
        for name, (materialized, text, columns) in found.items()
    ], notes


async def read_views(
    engine: Engine, wanted: frozenset[str] | None, schema: str
) -> tuple[list[DbView], list[Note]]:
    """The views and materialized views of ``schema`` (those named in
    ``wanted``, or all), read in the output styles the tables are read in
    (a constant of a view's SELECT is deparsed in them), and the notes on
    their indexes."""
    async with engine.transaction():
        return await _read_with_styles(engine._fetch_built, wanted, schema, _views)


async def read_engine(
    engine: Engine, wanted: frozenset[str] | None, schema: str
) -> tuple[list[DbTable], list[Note]]:
    """``read`` on ``engine``, in a transaction of its own (or the caller's),
    with the output styles the reader parses set for that transaction and then
    put back as they were (a read inside a transaction of the caller leaves
    its settings alone), so that a session or server with other styles reads
    the same."""
    async with engine.transaction():
        return await _read_with_styles(engine._fetch_built, wanted, schema, read)


async def _read_with_styles(
    fetch: Fetch,
    wanted: frozenset[str] | None,
    schema: str,
    reader: Callable[[Fetch, frozenset[str] | None, str], Awaitable[_Read]],
) -> _Read:
    names = list(_OUTPUT_STYLES)
    listed = ", ".join(f"current_setting('{name}')" for name in names)
    (found,) = await fetch(f"SELECT {listed}", ())
    current = dict(zip(names, found, strict=True))
    changed = [n for n in names if not _same_style(n, current[n], _OUTPUT_STYLES[n])]
    await _set(fetch, {name: _OUTPUT_STYLES[name] for name in changed})
    result = await reader(fetch, wanted, schema)
    await _set(fetch, {name: current[name] for name in changed})
    return result


async def _set(fetch: Fetch, settings: dict[str, str]) -> None:
    """``SET LOCAL`` each of ``settings`` (for the transaction)."""
    if settings:
        calls = ", ".join(
            f"set_config(${2 * i + 1}, ${2 * i + 2}, true)" for i in range(len(settings))
        )
        await fetch(f"SELECT {calls}", [part for item in settings.items() for part in item])


def _same_style(name: str, current: str, wanted: str) -> bool:
    if name == "DateStyle":  # ISO output is the same in any field order
        return current.split(",")[0].strip().upper() == wanted
    if name == "extra_float_digits":  # any positive value: the shortest exact output
        return int(current) > 0
    return current == wanted


async def table_exists(fetch: Fetch, name: str) -> bool:
    """Whether a table ``name`` is on the search path (the catalog's own lookup)."""
    rows = await fetch("SELECT to_regclass($1) IS NOT NULL", ['"' + name.replace('"', '""') + '"'])
    return bool(rows[0][0])
