"""``piccolo-gen introspect``: a schema file (YAML) from a live database.

The database is read at the level of SQL (``runtime.schema.read``: types
and ``DEFAULT`` texts as our DDL writes them, and notes on what the model
cannot hold). Each table and column is then turned back into the schema
language, and every conversion is checked the one way that cannot drift
from the rest of the project: the column the file declares is lowered by
the DDL compiler of the database's dialect, and must give back exactly what
the database has (type, nullability, default). A column whose type or
default no spelling of the language gives back is not guessed at: it is
left out, or written without that default, and said so.

What the language cannot hold is never dropped silently: it becomes a
``# not expressible: ...`` comment where it belongs (above the table, or at
the column's place) and a line of the summary on stderr. Finally the file is
validated by the build's own checks; anything they refuse (a name that
would clash in the generated module, say) is left out the same way, so the
file always builds.

Names are made Pythonic: class names CamelCase from the table name
(``invoice_line`` -> ``InvoiceLine``), attribute names snake_case, and
``tablename`` / ``db_column_name`` keep the real names wherever they differ
from what the build would derive.
"""

from __future__ import annotations

import datetime
import decimal
import json
import keyword
import re
import tempfile
import urllib.parse
import uuid
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final

import yaml

import runtime
from generator.column_checks import PRIMARY_KEY_TYPES
from generator.kinds import KINDS
from generator.names import (
    RESERVED_COLUMN_NAMES,
    RESERVED_MODULE_NAMES,
    identifier_problem,
    snake_case,
    sql_name_problem,
)
from generator.resolve import MODULE_IMPORTS
from runtime import _naming
from runtime.schema.checksql import column_names
from runtime.schema.checksql import tokens as _check_tokens
from runtime.schema.compile import compiler_for
from runtime.schema.compile._base import Compiler, runtime_column
from runtime.schema.database import (
    DbColumn,
    DbCompositeForeignKey,
    DbEnum,
    DbSchema,
    DbTable,
    DbView,
    DbViewColumn,
)
from runtime.schema.read import Note, read_schema_notes
from runtime.schema.state import Column as StateColumn
from runtime.schema.state import ForeignKey, Type

if TYPE_CHECKING:
    from runtime._engine_base import Engine

__all__ = ["Introspection", "class_name", "introspect", "render_url"]

#: YAML type name -> state kind (the runtime's column class).
_KIND_OF: Final = {
    "varchar": "Varchar",
    "char": "Char",
    "text": "Text",
    "integer": "Integer",
    "bigint": "BigInt",
    "smallint": "SmallInt",
    "serial": "Serial",
    "bigserial": "BigSerial",
    "real": "Real",
    "double_precision": "DoublePrecision",
    "numeric": "Numeric",
    "boolean": "Boolean",
    "date": "Date",
    "time": "Time",
    "timestamp": "Timestamp",
    "timestamptz": "Timestamptz",
    "interval": "Interval",
    "uuid": "UUID",
    "json": "JSON",
    "jsonb": "JSONB",
    "bytea": "Bytea",
    "array": "Array",
}

#: Our DDL's type spellings (both dialects) -> the language's type name.
_PLAIN_TYPES: Final = {
    "TEXT": "text",
    "INTEGER": "integer",
    "BIGINT": "bigint",
    "SMALLINT": "smallint",
    "SERIAL": "serial",
    "BIGSERIAL": "bigserial",
    "REAL": "real",
    "DOUBLE PRECISION": "double_precision",
    "NUMERIC": "numeric",
    "BOOLEAN": "boolean",
    "DATE": "date",
    "TIME": "time",
    "TIMESTAMP": "timestamp",
    "TIMESTAMPTZ": "timestamptz",
    "INTERVAL": "interval",
    "UUID": "uuid",
    "JSON": "json",
    "JSONB": "jsonb",
    "BYTEA": "bytea",
    "BLOB": "bytea",
}

#: SQLite declares two of the language's types as one (``INTEGER``, ``REAL``): the
#: other one, tried when a default does not fit the first.
_SQLITE_ALTERNATES: Final = {"integer": "bigint", "real": "double_precision"}

_SIZED: Final = re.compile(r"(VARCHAR|CHAR)\((\d+)\)")
_NUMERIC: Final = re.compile(r"NUMERIC\((\d+), (\d+)\)")

#: Foreign key actions as SQL words -> the language's.
_ACTIONS: Final = {
    "CASCADE": "cascade",
    "RESTRICT": "restrict",
    "NO ACTION": "no_action",
    "SET NULL": "set_null",
    "SET DEFAULT": "set_default",
}

Spec = dict[str, Any]


@dataclass
class _Column:
    """A column as the file writes it: its key and options, or ``None`` when it is
    left out (``comments`` then say why)."""

    db: DbColumn
    key: str | None = None
    spec: Spec | None = None
    comments: list[str] = field(default_factory=list)
    #: A foreign key to a unique column that is not its table's key: that
    #: column's attribute (``references: Customer.email``).
    to: str | None = None
    #: A column of a composite primary key: required by the build already.
    in_key: bool = False


@dataclass
class _Table:
    db: DbTable
    class_name: str | None = None
    columns: list[_Column] = field(default_factory=list)
    #: Implicit ``id`` (the build adds it): not written.
    implicit_id: bool = False
    #: Table-level indexes and unique constraints (``None``: refused by the build).
    indexes: list[Spec | None] = field(default_factory=list)
    unique: list[list[str] | None] = field(default_factory=list)
    #: Check constraints by name (``None``: refused by the build).
    checks: dict[str, str | None] = field(default_factory=dict)
    #: Foreign keys over several columns by attribute (``None``: refused by the build).
    foreign_keys: dict[str, Spec | None] = field(default_factory=dict)
    #: Why the whole table is left out (``None``: it is written).
    left_out: str | None = None
    comments: list[str] = field(default_factory=list)

    def attribute(self, db_name: str) -> str | None:
        """The attribute name of a written column of this database name."""
        if self.implicit_id and db_name == "id":
            return "id"
        for column in self.columns:
            if column.db.name == db_name and column.key is not None:
                return column.key
        return None


@dataclass
class _ViewColumn:
    """A column of a view as the file writes it (``spec`` ``None``: left out)."""

    db: DbViewColumn
    key: str | None = None
    spec: Spec | None = None
    comments: list[str] = field(default_factory=list)


@dataclass
class _View:
    db: DbView
    class_name: str | None = None
    columns: list[_ViewColumn] = field(default_factory=list)
    #: Why the whole view is left out (``None``: it is written).
    left_out: str | None = None
    comments: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class Introspection:
    """The schema file's text, and the summary of what it leaves out (one line each)."""

    text: str
    left_out: tuple[str, ...]
    #: Tables named in ``tables`` that the database does not have.
    missing: tuple[str, ...] = ()


# -- names -----------------------------------------------------------------------


def _words(name: str) -> str:
    """``name`` with each run of characters no Python name holds (spaces,
    quotes, punctuation) made one underscore: ``Invoice Line`` ->
    ``Invoice_Line``, ``Odd "Name"`` -> ``Odd_Name``."""
    return re.sub(r"\W+", "_", name).strip("_")


def class_name(table: str) -> str:
    """The class name of a table: CamelCase (``invoice_line`` -> ``InvoiceLine``;
    ``InvoiceLine`` stays; ``Invoice Line`` -> ``InvoiceLine``)."""
    parts = [p for p in _words(table).split("_") if p]
    return "".join(p[:1].upper() + p[1:] for p in parts) or "T"


def enum_class_name(type_name: str) -> str:
    """The class name of an enum type: CamelCase of its words (``mood`` ->
    ``Mood``, ``order status`` -> ``OrderStatus``, ``9lives`` -> ``E9lives``)."""
    parts = [p for p in re.split(r"[^0-9A-Za-z]+", type_name) if p]
    name = "".join(p[:1].upper() + p[1:] for p in parts) or "Enum"
    return "E" + name if name[0].isdigit() else name


def enum_member_names(labels: Sequence[str]) -> list[str]:
    """A member name per label, Pythonic and distinct: lower snake_case of its
    words (``So so`` -> ``so_so``), ``v_`` before a digit, ``_`` after a
    keyword or a name of ``str`` that a member would hide (``title_``)."""
    hidden = {attr for attr in dir(str) if not attr.startswith("_")} | {"mro"}
    names: list[str] = []
    for label in labels:
        name = re.sub(r"[^0-9a-z]+", "_", snake_case(label).lower()).strip("_") or "value"
        if name[0].isdigit():
            name = "v_" + name
        if keyword.iskeyword(name) or name in hidden:
            name += "_"
        while name in names:
            name += "_"
        names.append(name)
    return names


def _attribute_name(column: str) -> str:
    """The attribute of a column: snake_case (``CustomerId`` -> ``customer_id``,
    ``Line No`` -> ``line_no``)."""
    return re.sub("_+", "_", snake_case(_words(column))) or "c"


def _python_problem(name: str) -> str | None:
    problem = identifier_problem(name)
    if problem is None and name.startswith("_"):
        problem = f"{name!r} starts with an underscore, which generated names reserve"
    return problem


def render_url(url: str) -> str:
    """``url`` without its password, for the file's header."""
    parts = urllib.parse.urlsplit(url)
    if parts.password is None:
        return url
    host = parts.hostname or ""
    if parts.port is not None:
        host += f":{parts.port}"
    user = parts.username or ""
    return urllib.parse.urlunsplit(parts._replace(netloc=f"{user}@{host}"))


# -- types and defaults ----------------------------------------------------------


def _type_spec(sql_type: str) -> Spec | None:
    """The language's spelling of a SQL type of our DDL, or ``None``."""
    if sql_type.endswith("[]"):
        element = _type_spec(sql_type[:-2])
        if element is None or element["type"] == "array":
            return None
        return {"type": "array", "of": element}
    plain = _PLAIN_TYPES.get(sql_type)
    if plain is not None:
        return {"type": plain}
    sized = _SIZED.fullmatch(sql_type)
    if sized is not None:
        kind, length = sized.group(1).lower(), int(sized.group(2))
        return (
            {"type": kind} if kind == "char" and length == 1 else {"type": kind, "length": length}
        )
    numeric = _NUMERIC.fullmatch(sql_type)
    if numeric is not None:
        return {"type": "numeric", "digits": [int(numeric.group(1)), int(numeric.group(2))]}
    return None


def _state_type(spec: Spec) -> Type:
    if spec["type"] == "array":
        return Type("Array", element=_state_type(spec["of"]))
    kind = _KIND_OF[spec["type"]]
    length = spec.get("length")
    if kind == "Char" and length is None:
        length = 1
    digits = spec.get("digits")
    return Type(kind, length=length, digits=None if digits is None else tuple(digits))


def _zero_default(type_: Type) -> object:
    """What a non-null column of ``type_`` without a declared default gets."""
    column = runtime_column(type_)
    column._meta.null = False
    return column._state_default()


def _python_value(value: object, spec: Spec) -> object:
    """A YAML default as the generated code's Python value (as ``resolve`` writes it)."""
    kind = spec["type"]
    dynamic = KINDS[kind].dynamic_default if kind in KINDS else None
    if dynamic is not None and value == dynamic[0]:
        return getattr(runtime, dynamic[1])()
    if kind == "array":
        assert isinstance(value, list)
        return [_python_value(item, spec["of"]) for item in value]
    if kind in ("json", "jsonb"):
        return json.dumps(value)  # the generated code's default is the JSON text
    if kind == "numeric":
        return decimal.Decimal(str(value))
    if kind == "date":
        return datetime.date.fromisoformat(str(value))
    if kind == "time":
        return datetime.time.fromisoformat(str(value))
    if kind in ("timestamp", "timestamptz"):
        return datetime.datetime.fromisoformat(str(value))
    if kind == "interval":
        assert isinstance(value, int | float)
        return datetime.timedelta(seconds=value)
    if kind == "uuid":
        return uuid.UUID(str(value))
    if kind in ("real", "double_precision"):
        assert isinstance(value, int | float)
        return float(value)
    return value


def _unquote(text: str) -> str | None:
    if len(text) >= 2 and text[0] == "'" and text[-1] == "'":
        inner = text[1:-1]
        if "'" not in inner.replace("''", ""):
            return inner.replace("''", "'")
    return None


def _split_items(text: str) -> list[str] | None:
    """The items of ``ARRAY[a, 'b, c']`` (top-level commas only)."""
    items, depth, quoted, start = [], 0, False, 0
    for position, char in enumerate(text):
        if char == "'":
            quoted = not quoted
        elif not quoted and char in "([":
            depth += 1
        elif not quoted and char in ")]":
            depth -= 1
        elif not quoted and depth == 0 and char == ",":
            items.append(text[start:position].strip())
            start = position + 1
    if quoted or depth:
        return None
    last = text[start:].strip()
    if last:
        items.append(last)
    return items


def _number(text: str) -> int | float | None:
    try:
        return int(text)
    except ValueError:
        pass
    try:
        number = float(text)
    except ValueError:
        return None
    return int(number) if number.is_integer() and "e" not in text.lower() else number


def _timedelta_seconds(text: str) -> int | float | None:
    """Seconds of a timedelta as Python prints it (``1 day, 0:01:30.5``), the
    spelling of an interval array's items."""
    match = re.fullmatch(r"(?:(-?\d+) days?, )?(\d+):(\d\d):(\d\d(?:\.\d+)?)", text)
    if match is None:
        return None
    days, hours, minutes, seconds = match.groups()
    total = int(days or 0) * 86400 + int(hours) * 3600 + int(minutes) * 60
    return _number(str(total + float(seconds))) if "." in seconds else total + int(seconds)


def _candidates(text: str, spec: Spec) -> list[object]:
    """YAML values that may be the default ``text`` (each is checked by lowering)."""
    kind = spec["type"]
    found: list[object] = []
    dynamic = KINDS[kind].dynamic_default if kind in KINDS else None
    if dynamic is not None:
        found.append(dynamic[0])
    if kind == "array":
        match = re.fullmatch(r"ARRAY\[(.*)\]::.+", text, re.DOTALL)
        if match is not None:
            items = _split_items(match.group(1))
            if items is not None:
                values = [_candidates(item, spec["of"]) for item in items]
                if all(values):
                    found.append([v[-1] for v in values])
        if _unquote(text) == "{}":
            found.append([])
        return found
    literal = _unquote(text)
    source = literal if literal is not None else text
    if kind in ("json", "jsonb"):
        if literal is not None:
            try:
                found.append(json.loads(literal))
            except ValueError:
                pass
        return found
    if kind == "boolean":
        truth = {"TRUE": True, "FALSE": False, "1": True, "0": False}
        if source.upper() in truth:
            found.append(truth[source.upper()])
        return found
    if kind in ("integer", "bigint", "smallint", "real", "double_precision", "interval"):
        interval = re.fullmatch(r"(-?[\d.]+) seconds", source)
        number = _number(interval.group(1) if interval else source)
        if number is None and kind == "interval":
            number = _timedelta_seconds(source)
        if number is not None:
            found.append(number)
        return found
    if kind == "numeric":
        try:
            found.append(str(decimal.Decimal(source)))
        except decimal.InvalidOperation:
            pass
        return found
    if literal is None:
        return found
    if kind in ("timestamp", "timestamptz"):
        found.append(literal.replace(" ", "T", 1))
    elif kind != "bytea":
        found.append(literal)
    return found


def _default_of(
    compiler: Compiler, db: DbColumn, spec: Spec, type_: Type
) -> tuple[bool, object] | None:
    """``(write it, value)`` for the column's default, or ``None`` when no value of
    the language gives the database's default back.

    ``(False, None)``: the file writes no default and the build's own (none for
    a nullable column, the type's zero otherwise) is what the database has.
    """

    def lowered(default: object) -> str | None:
        column = StateColumn(db.name, type_, null=not db.notnull, default=default)  # type: ignore[arg-type]
        return compiler.default_sql(column)

    implicit = _zero_default(type_) if db.notnull else None
    if lowered(implicit) == db.default:
        return False, None
    if db.default is None:
        return None
    for candidate in _candidates(db.default, spec):
        try:
            value = _python_value(candidate, spec)
            if lowered(value) == db.default:
                return True, candidate
        except (ValueError, TypeError, ArithmeticError, AssertionError):
            continue
    return None


# -- tables ----------------------------------------------------------------------


class _Builder:
    def __init__(self, schema: DbSchema, notes: Sequence[Note]) -> None:
        self.compiler = compiler_for(schema.dialect)
        self.dialect = schema.dialect
        self.tables = {t.name: _Table(t) for t in schema.tables}
        #: The native enum types, by the SQL type their columns have (``"mood"``),
        #: with the class name each is written under.
        self.enums: dict[str, tuple[str, DbEnum]] = {}
        taken = {class_name(t.name) for t in schema.tables}
        taken |= {class_name(v.name) for v in schema.views}
        taken |= set(MODULE_IMPORTS)
        taken |= set(RESERVED_MODULE_NAMES)
        for enum in schema.enums:
            cls = enum_class_name(enum.name)
            while cls in taken or keyword.iskeyword(cls):
                cls += "_"
            taken.add(cls)
            self.enums['"' + enum.name.replace('"', '""') + '"'] = (cls, enum)
        self.views = {v.name: _View(v) for v in schema.views}
        for note in notes:
            if note.table in self.tables:
                self.tables[note.table].comments.append(note.what)
            elif note.table in self.views:
                self.views[note.table].comments.append(note.what)

    def build_views(self) -> list[_View]:
        """The views, by name, after ``build`` (their class names follow the tables')."""
        classes = {t.class_name for t in self.tables.values() if t.class_name is not None}
        for name in sorted(self.views):
            view = self.views[name]
            problem = sql_name_problem(name)
            if problem is not None:
                view.left_out = f"view {name!r}: {problem} (left out)"
                continue
            cls = class_name(name)
            if _python_problem(cls) is not None:
                cls = "V" + cls
            if keyword.iskeyword(cls) or cls in MODULE_IMPORTS or cls in RESERVED_MODULE_NAMES:
                cls += "_"
            while cls in classes:
                cls += "_"
            classes.add(cls)
            view.class_name = cls
            self.view_columns(view)
        return _views_in_order(list(self.views.values()))

    def view_columns(self, view: _View) -> None:
        """A view's columns: each of a type the language has, nullable (the
        catalog cannot say), a unique or plain index of a materialized view as
        the column's ``primary_key``, ``unique`` or ``index`` where it is the
        one ``create_tables`` makes."""
        name = view.db.name
        indexes = {i.columns: i for i in view.db.indexes if len(i.columns) == 1}
        used: set[str] = set()
        for db in view.db.columns:
            column = _ViewColumn(db)
            view.columns.append(column)
            problem = sql_name_problem(db.name)
            if problem is not None:
                column.comments.append(f"column {db.name!r}: {problem} (left out)")
                continue
            key = _free_attribute(db.name, used)
            spec = self.view_column_spec(db, column)
            if spec is None:
                continue
            index = indexes.pop((db.name,), None)
            if index is not None:
                option = _view_index_option(name, db.name, index.name, index.unique)
                if option == "primary_key" and spec["type"] not in PRIMARY_KEY_TYPES:
                    option = "unique"
                if option is None:
                    indexes[(db.name,)] = index
                else:
                    if option == "primary_key":
                        spec.pop("null")
                    spec[option] = True
            used.add(key.casefold())
            if key != db.name:
                spec["db_column_name"] = db.name
            column.key, column.spec = key, spec
        for index in view.db.indexes:
            if len(index.columns) != 1 or (index.columns in indexes):
                unique = "unique " if index.unique else ""
                listed = ", ".join(index.columns)
                view.comments.append(f"{unique}index {index.name!r} ({listed}) (left out)")
        if not any(c.spec is not None for c in view.columns):
            view.left_out = f"view {name!r}: none of its columns can be written (left out)"

    def view_column_spec(self, db: DbViewColumn, column: _ViewColumn) -> Spec | None:
        if db.type is None:
            column.comments.append(
                f"column {db.name!r}: the database declares no type for it (left out;"
                " add it with the type its values have)"
            )
            return None
        if db.type in self.enums:
            return {"type": "enum", "choices": self.enums[db.type][0], "null": True}
        spec = _type_spec(db.type)
        if spec is None or self.compiler.type_sql(StateColumn(db.name, _state_type(spec))) != (
            db.type
        ):
            column.comments.append(f"column {db.name!r} of type {db.type} (left out)")
            return None
        if spec["type"] in ("serial", "bigserial"):
            spec["type"] = "integer" if spec["type"] == "serial" else "bigint"
        spec["null"] = True
        return spec

    def build(self) -> list[_Table]:
        classes: set[str] = set()
        for name in sorted(self.tables):
            table = self.tables[name]
            self.name_table(table)
            # Two tables of one CamelCase (``invoice_line``, ``InvoiceLine``):
            # the second class takes a trailing underscore, its tablename the rest.
            while table.class_name is not None and table.class_name in classes:
                table.class_name += "_"
            if table.class_name is not None:
                classes.add(table.class_name)
        for table in self.tables.values():
            if table.left_out is None:
                self.key(table)
        for table in self.tables.values():
            if table.left_out is None:
                self.columns(table)
        self.write_foreign_keys()
        for table in self.tables.values():
            if table.left_out is None:
                self.constraints(table)
        return self.ordered()

    def name_table(self, table: _Table) -> None:
        name = table.db.name
        problem = sql_name_problem(name)
        if problem is not None:
            table.left_out = f"table {name!r}: {problem} (left out)"
            return
        cls = class_name(name)
        if _python_problem(cls) is not None:
            cls = "T" + cls
        if keyword.iskeyword(cls) or cls in MODULE_IMPORTS or cls in RESERVED_MODULE_NAMES:
            cls += "_"  # ``Table_``, as the build's own message suggests
        table.class_name = cls

    def key(self, table: _Table) -> None:
        keys = [c for c in table.db.columns if c.primary_key]
        if table.db.composite_key:
            return  # written as the table's primary_key list
        if not keys:
            table.left_out = f"table {table.db.name!r} has no primary key (left out)"
        else:
            (key,) = keys
            implicit = self.compiler.lower_column(
                StateColumn("id", Type("Serial"), primary_key=True)
            )
            table.implicit_id = key == implicit

    def columns(self, table: _Table) -> None:
        used: set[str] = {"id"} if table.implicit_id else set()
        for db in table.db.columns:
            if table.implicit_id and db.name == "id":
                continue
            column = _Column(db, in_key=db.name in table.db.composite_key)
            table.columns.append(column)
            problem = sql_name_problem(db.name)
            if problem is not None:
                column.comments.append(f"column {db.name!r}: {problem} (left out)")
                continue
            key = _free_attribute(db.name, used)
            spec = self.column_spec(table, db, column)
            if spec is None:
                continue
            used.add(key.casefold())
            if key != db.name:
                spec["db_column_name"] = db.name
            column.key, column.spec = key, spec

    def enum_spec(self, db: DbColumn, column: _Column) -> Spec:
        """The spec of a column of a native enum type, its default a member name."""
        cls, enum = self.enums[db.type]
        spec: Spec = {"type": "enum", "choices": cls}
        if not db.notnull:
            spec["null"] = True
        labels = {
            _literal(label): name
            for label, name in zip(enum.values, enum_member_names(enum.values), strict=True)
        }
        if db.notnull and db.default == _literal(enum.values[0]):
            pass  # the build's own: the first member
        elif db.default is None:
            if db.notnull:
                spec["required"] = True
        elif db.default in labels:
            spec["default"] = labels[db.default]
        else:
            column.comments.append(
                f"column {db.name!r}: DEFAULT {db.default} (left out; the column gets "
                "the type's zero default)"
            )
        return spec

    def column_spec(self, table: _Table, db: DbColumn, column: _Column) -> Spec | None:
        if db.type in self.enums and not db.primary_key and db.references is None:
            return self.enum_spec(db, column)
        spec = _type_spec(db.type)
        if spec is None:
            column.comments.append(f"column {db.name!r} of type {db.type} (left out)")
            return None
        type_ = _state_type(spec)
        if self.compiler.type_sql(StateColumn(db.name, type_)) != db.type and not db.references:
            column.comments.append(f"column {db.name!r} of type {db.type} (left out)")
            return None
        if db.primary_key:
            if self.dialect == "sqlite" and spec["type"] == "integer":
                # An INTEGER PRIMARY KEY is SQLite's rowid: the database numbers it.
                spec = {"type": "serial"}
            if spec["type"] not in PRIMARY_KEY_TYPES:
                column.comments.append(
                    f"column {db.name!r}: a primary key of type {db.type} (left out)"
                )
                table.left_out = (
                    f"table {table.db.name!r}: its primary key is of type {db.type} (left out)"
                )
                return None
            spec["primary_key"] = True
            if db.default is not None:
                column.comments.append(f"the key's default {db.default} (left out)")
            return spec
        if not db.notnull:
            spec["null"] = True
        if db.references is not None:
            # Resolved once every table has its columns (``constraints``).
            return spec
        alternate = _SQLITE_ALTERNATES.get(spec["type"]) if self.dialect == "sqlite" else None
        if alternate is not None and db.default is not None:
            # One SQLite type, two of the language's: the one whose values hold
            # the default (a bigint's beyond an integer's range).
            first = _default_of(self.compiler, db, spec, _state_type(spec))
            if first is None and _default_of(
                self.compiler, db, {**spec, "type": alternate}, _state_type({"type": alternate})
            ):
                spec["type"] = alternate
        self.default(db, spec, column)
        return spec

    def default(self, db: DbColumn, spec: Spec, column: _Column) -> None:
        """The column's ``default`` (or ``required``), as the database has it."""
        default = _default_of(self.compiler, db, spec, _state_type(spec))
        if default is None:
            if db.default is None and column.in_key:
                pass  # a column of a composite key is required without saying so
            elif db.default is None:
                # The build writes no default for a required column.
                spec["required"] = True
            else:
                column.comments.append(
                    f"column {db.name!r}: DEFAULT {db.default} (left out; the column gets "
                    "the type's zero default)"
                )
        elif default[0]:
            spec["default"] = default[1]

    def target(self, column: _Column) -> tuple[_Table | None, str | None]:
        """The table a foreign key may name, or ``None`` and why not.

        A key to a unique column other than the table's key sets ``column.to``.
        """
        db = column.db
        ref = db.references
        assert ref is not None
        target = self.tables.get(ref.table)
        if target is None:
            return None, f"a foreign key to table {ref.table!r}, which is not introspected"
        if target.left_out is not None:
            return None, f"a foreign key to table {ref.table!r}, which is left out"
        keys = [c for c in target.db.columns if c.primary_key]
        attribute = target.attribute(ref.column)
        to = None
        if [c.name for c in keys] != [ref.column]:
            if not _unique_alone(target.db, ref.column):
                return None, (
                    f"a foreign key to {ref.table}.{ref.column}, which is neither its key"
                    " nor unique"
                )
            held = next(c for c in target.db.columns if c.name == ref.column)
            if held.references is not None:
                return None, f"a foreign key to {ref.table}.{ref.column}, itself a foreign key"
            to = attribute
        if attribute is None:
            return None, f"a foreign key to {ref.table}.{ref.column}, which is left out"
        # The file's foreign key has the type of the key's values; the database's
        # column must have it too.
        key_spec = next(
            (c.spec for c in target.columns if c.db.name == ref.column and c.spec is not None),
            {"type": "serial"},
        )
        stored = _state_type(key_spec)
        stored = {"Serial": Type("Integer"), "BigSerial": Type("BigInt")}.get(stored.kind, stored)
        as_key = StateColumn(db.name, stored, references=ForeignKey(ref.table, ref.column))
        if self.compiler.type_sql(as_key) == db.type:
            column.to = to
            return target, None
        # SQLite's rowid is a serial or a bigserial key: a foreign key declared
        # BIGINT says which.
        wider = StateColumn(db.name, Type("BigInt"), references=as_key.references)
        if target.implicit_id and self.compiler.type_sql(wider) == db.type:
            target.implicit_id = False
            key_column = next(c for c in target.db.columns if c.primary_key)
            spec = {"type": "bigserial", "primary_key": True}
            target.columns.insert(0, _Column(key_column, "id", spec))
            return target, None
        return None, (
            f"a foreign key of type {db.type} to {ref.table}.{ref.column}, whose values "
            f"are {self.compiler.type_sql(StateColumn(db.name, stored))}"
        )

    def foreign_keys(self, table: _Table) -> list[tuple[_Column, _Table]]:
        found = []
        for column in table.columns:
            if column.spec is None or column.db.references is None:
                continue
            target, problem = self.target(column)
            if target is None:
                assert problem is not None
                self.plain(column, problem)
            else:
                found.append((column, target))
        return found

    def plain(self, column: _Column, why: str) -> None:
        """A foreign key the file cannot hold: the column is kept, as a plain column."""
        assert column.spec is not None
        column.comments.append(f"column {column.db.name!r}: {why} (the constraint is left out)")
        column.db = DbColumn(column.db.name, column.db.type, column.db.notnull, column.db.default)
        self.default(column.db, column.spec, column)

    def write_foreign_keys(self) -> None:
        """The foreign keys the file can hold, as ``foreign_key`` columns (those
        that form a cycle too: the build adds the one that closes it after
        the tables, see ``ordered``)."""
        edges: dict[str, list[tuple[_Column, _Table]]] = {}
        for name in sorted(self.tables):
            table = self.tables[name]
            if table.left_out is None:
                edges[name] = self.foreign_keys(table)
        for found in edges.values():
            for column, target in found:
                if column.db.references is None or column.spec is None:
                    continue
                ref = column.db.references
                assert target.class_name is not None
                references = target.class_name
                if column.to is not None:
                    references += f".{column.to}"
                spec: Spec = {"type": "foreign_key", "references": references}
                if ref.on_delete != "CASCADE":
                    spec["on_delete"] = _ACTIONS[ref.on_delete]
                if ref.on_update != "CASCADE":
                    spec["on_update"] = _ACTIONS[ref.on_update]
                if ref.deferrable:
                    spec["deferrable"] = True
                if ref.initially_deferred:
                    spec["initially_deferred"] = True
                for option in ("null", "db_column_name"):
                    if option in column.spec:
                        spec[option] = column.spec[option]
                if column.db.default is not None:
                    column.comments.append(
                        f"column {column.db.name!r}: DEFAULT {column.db.default} (left out)"
                    )
                column.spec = spec

    def constraints(self, table: _Table) -> None:
        name = table.db.name
        by_db = {c.db.name: c for c in table.columns if c.spec is not None}

        def attributes(columns: Iterable[str]) -> list[str] | None:
            found = [table.attribute(c) for c in columns]
            return None if None in found else [a for a in found if a is not None]

        for unique in table.db.unique:
            listed = attributes(unique.columns)
            derived = _naming.unique_name(name, unique.columns)
            if len(unique.columns) == 1:
                derived = self.compiler.unique_constraint_name(name, unique.columns[0])
            if listed is None:
                table.comments.append(
                    f"unique {unique.name!r} over left-out columns {list(unique.columns)}"
                )
                continue
            if unique.name and unique.name != derived:
                table.comments.append(
                    f"unique {unique.name!r} gets the name {derived!r} in the file's DDL"
                )
            column = by_db.get(unique.columns[0])
            if len(unique.columns) == 1 and column is not None and column.spec is not None:
                column.spec["unique"] = True
            else:
                table.unique.append(listed)
        for index in table.db.indexes:
            listed = attributes(index.columns)
            if listed is None:
                table.comments.append(f"index {index.name!r} over left-out columns")
                continue
            column = by_db.get(index.columns[0])
            if (
                len(index.columns) == 1
                and not index.unique
                and index.name == _naming.index_name(name, index.columns)
                and column is not None
                and column.spec is not None
                and not column.spec.get("index")
            ):
                column.spec["index"] = True
                continue
            spec: Spec = {"columns": listed}
            if index.unique:
                spec["unique"] = True
            if index.name != _naming.index_name(name, index.columns):
                spec["name"] = index.name
            table.indexes.append(spec)
        for fk in table.db.foreign_keys:
            self.composite_foreign_key(table, fk, attributes)
        for check in table.db.checks:
            problem = sql_name_problem(check.name)
            sql = _readable(check.sql) if self.compiler.dialect.name == "postgres" else check.sql
            if problem is not None:
                table.comments.append(f"check {check.name!r} ({sql}): {problem}")
            elif any(c not in by_db for c in column_names(sql)):
                table.comments.append(f"check {check.name!r} ({sql}) over left-out columns")
            else:
                table.checks[check.name] = sql

    def composite_foreign_key(
        self,
        table: _Table,
        fk: DbCompositeForeignKey,
        attributes: Callable[[Iterable[str]], list[str] | None],
    ) -> None:
        """A foreign key over several columns, as an entry of ``foreign_keys``:
        its attribute is snake_case of what its name holds between the table's
        name and ``_fkey`` (``play_count_entry_fkey``: ``entry``; an unnamed
        key's ``Refund_InvoiceId_LineNo_fkey``: ``invoice_id_line_no``), else
        the target's snake_case class name, and the constraint's own name is
        kept when it is not the one the attribute derives."""
        shown = f"foreign key {fk.name or '(unnamed)'} ({', '.join(fk.columns)}) -> {fk.table}"
        target = self.tables.get(fk.table)
        listed = attributes(fk.columns)
        if target is None or target.left_out is not None or target.class_name is None:
            table.comments.append(f"{shown}: its table is not written (left out)")
            return
        if tuple(fk.to) != target.db.composite_key:
            table.comments.append(f"{shown}: not to the table's composite key (left out)")
            return
        if listed is None:
            table.comments.append(f"{shown}: over left-out columns (left out)")
            return
        taken = {c.key for c in table.columns if c.key is not None} | set(table.foreign_keys)
        prefix, suffix = f"{table.db.name}_", "_fkey"
        held = fk.name.removeprefix(prefix).removesuffix(suffix)
        derived = _attribute_name(held) if held else ""
        if not (
            held
            and _naming.foreign_key_name(table.db.name, held) == fk.name
            and _python_problem(derived) is None
            and derived not in RESERVED_COLUMN_NAMES
            and derived not in taken
        ):
            derived = snake_case(target.class_name).strip("_") or "key"
            while derived in taken or derived in RESERVED_COLUMN_NAMES:
                derived += "_"
        spec: Spec = {"columns": listed, "references": target.class_name}
        if fk.on_delete != "CASCADE":
            spec["on_delete"] = _ACTIONS[fk.on_delete]
        if fk.on_update != "CASCADE":
            spec["on_update"] = _ACTIONS[fk.on_update]
        if fk.name and fk.name != _naming.foreign_key_name(table.db.name, derived):
            spec["name"] = fk.name
        table.foreign_keys[derived] = spec

    def ordered(self) -> list[_Table]:
        """Tables in foreign-key order (targets first), ties by name.

        In a cycle of foreign keys, a nullable key of the cycle does not put
        its target first: the build (which takes the first declared table of
        a cycle first) then closes the cycle with a nullable key where there
        is one, whose rows can go in one at a time.
        """
        done: list[_Table] = []
        seen: set[str] = set()

        def targets(table: _Table) -> list[tuple[str, bool]]:
            return [
                (ref.table, not column.db.notnull)
                for column in table.columns
                if column.spec is not None
                and (ref := column.db.references) is not None
                and ref.table != table.db.name
            ] + [
                (fk.table, False)
                for fk in table.db.foreign_keys
                if fk.table in self.tables and fk.table != table.db.name
            ]

        def leads_to(start: str, goal: str) -> bool:
            stack, reached = [start], set()
            while stack:
                name = stack.pop()
                if name == goal:
                    return True
                if name not in reached:
                    reached.add(name)
                    stack += [t for t, _ in targets(self.tables[name])]
            return False

        def visit(table: _Table) -> None:
            if table.db.name in seen:
                return
            seen.add(table.db.name)
            for target, nullable in targets(table):
                if not (nullable and leads_to(target, table.db.name)):
                    visit(self.tables[target])
            done.append(table)

        for name in sorted(self.tables):
            visit(self.tables[name])
        return done


def _views_in_order(views: list[_View]) -> list[_View]:
    """Views in an order where each follows the views its SQL names (the
    order they are created in), ties by name."""
    by_name = {v.db.name: v for v in views}
    done: list[_View] = []
    seen: set[str] = set()

    def names(view: _View) -> set[str]:
        found = set()
        for kind, text in _check_tokens(view.db.sql):
            if kind == "quoted":
                found.add(text[1:-1].replace('""', '"'))
            elif kind == "word":
                found |= {n for n in by_name if n.casefold() == text.casefold()}
        return found - {view.db.name}

    def visit(view: _View) -> None:
        if view.db.name in seen:
            return
        seen.add(view.db.name)
        for name in sorted(names(view) & by_name.keys()):
            visit(by_name[name])
        done.append(view)

    for name in sorted(by_name):
        visit(by_name[name])
    return done


def _free_attribute(db_name: str, used: set[str]) -> str:
    """The attribute of the column ``db_name``: its snake_case, with a trailing
    underscore (and ``c_`` prefixes) where that is no Python name, a reserved
    one, or one ``used`` (casefolded) holds already."""
    key = _attribute_name(db_name)
    if (
        _python_problem(key) is not None
        or key in RESERVED_COLUMN_NAMES
        or key in MODULE_IMPORTS
        or key.casefold() in used
    ):
        key = key.lstrip("_") + "_"
        while key.casefold() in used or _python_problem(key) is not None:
            key = "c_" + key
    return key


def _view_index_option(view: str, column: str, index: str, unique: bool) -> str | None:
    """The option of a materialized view's column whose index ``create_tables``
    makes under the name ``index`` (``None``: no option makes it)."""
    if unique and index == _naming.primary_key_name(view):
        return "primary_key"
    if unique and index == _naming.unique_name(view, (column,)):
        return "unique"
    if not unique and index == _naming.index_name(view, (column,)):
        return "index"
    return None


# -- the file ------------------------------------------------------------------------

_PLAIN_SCALAR: Final = re.compile(r"[A-Za-z_][A-Za-z0-9_ .:+-]*")
_YAML_WORDS: Final = frozenset(
    {"null", "Null", "NULL", "true", "True", "TRUE", "false", "False", "FALSE", "yes", "no",
     "on", "off", "Yes", "No", "On", "Off", "YES", "NO", "ON", "OFF", "y", "n", "Y", "N"}
)  # fmt: skip


def _scalar(value: object) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, str):
        if (
            _PLAIN_SCALAR.fullmatch(value)
            and value not in _YAML_WORDS
            and not value.endswith((" ", ":"))
            and ": " not in value
            and " #" not in value
        ):
            return value
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, list | tuple):
        return "[" + ", ".join(_scalar(v) for v in value) + "]"
    if isinstance(value, dict):
        # Option keys are plain words; ``null:`` is the option, not YAML's null.
        return "{" + ", ".join(f"{_key(k)}: {_scalar(v)}" for k, v in value.items()) + "}"
    raise TypeError(f"no YAML for {value!r}")


def _key(key: object) -> str:
    if isinstance(key, str) and re.fullmatch(r"[a-z_]+", key):
        return key
    return _scalar(key)


def _text_block(text: str, indent: str) -> str:
    """``text`` as a YAML value: a literal block (``|-``) for text of several
    lines that reads back exactly so, else a quoted string."""
    quoted = json.dumps(text, ensure_ascii=False)
    if "\n" not in text:
        return quoted
    block = "|-\n" + "\n".join(indent + line if line else "" for line in text.split("\n"))
    try:
        read = yaml.safe_load("sql: " + block)
    except yaml.YAMLError:
        return quoted
    return block if isinstance(read, dict) and read.get("sql") == text else quoted


def _comment(text: str, indent: str) -> str:
    return f"{indent}# not expressible: {' '.join(text.split())}\n"


def _literal(label: str) -> str:
    return "'" + label.replace("'", "''") + "'"


def _render(
    tables: Sequence[_Table],
    header: Sequence[str],
    enums: Sequence[tuple[str, DbEnum]] = (),
    views: Sequence[_View] = (),
) -> str:
    out = [f"# {line}\n" if line else "#\n" for line in header]
    if enums:
        out.append("enums:\n")
    for cls, enum in enums:
        spec: Spec = {"native": True}
        if snake_case(cls) != enum.name:
            spec["name"] = enum.name
        names = enum_member_names(enum.values)
        spec["values"] = dict(zip(names, enum.values, strict=True))
        out.append(f"  {cls}: {_scalar(spec)}\n")
    out.append("tables:\n" if any(t.left_out is None for t in tables) else "tables: {}\n")
    for table in tables:
        for text in table.comments:
            out.append(_comment(f"{table.db.name}: {text}", "  "))
        if table.left_out is not None:
            out.append(_comment(table.left_out, "  "))
            continue
        assert table.class_name is not None
        out.append(f"  {table.class_name}:\n")
        if snake_case(table.class_name) != table.db.name:
            out.append(f"    tablename: {_scalar(table.db.name)}\n")
        written = [c for c in table.columns if c.spec is not None]
        if table.db.composite_key:
            key = [table.attribute(name) for name in table.db.composite_key]
            out.append(f"    primary_key: {_scalar(key)}\n")
        out.append("    columns:\n" if written else "    columns: {}\n")
        for column in table.columns:
            for text in column.comments:
                out.append(_comment(text, "      "))
            if column.spec is not None and column.key is not None:
                out.append(f"      {column.key}: {_scalar(column.spec)}\n")
        indexes = [i for i in table.indexes if i is not None]
        if indexes:
            out.append("    indexes:\n")
            for index in indexes:
                out.append(f"      - {_scalar(index)}\n")
        unique = [u for u in table.unique if u is not None]
        if unique:
            out.append(f"    unique: {_scalar(unique)}\n")
        foreign_keys = {n: fk for n, fk in table.foreign_keys.items() if fk is not None}
        if foreign_keys:
            out.append("    foreign_keys:\n")
            for fk_name, fk in foreign_keys.items():
                out.append(f"      {fk_name}: {_scalar(fk)}\n")
        checks = {n: sql for n, sql in table.checks.items() if sql is not None}
        if checks:
            out.append("    checks:\n")
            for check_name, sql in checks.items():
                out.append(f"      {_scalar(check_name)}: {json.dumps(sql, ensure_ascii=False)}\n")
    if views:
        out.append("views:\n" if any(v.left_out is None for v in views) else "views: {}\n")
    for view in views:
        for text in view.comments:
            out.append(_comment(f"{view.db.name}: {text}", "  "))
        if view.left_out is not None:
            out.append(_comment(view.left_out, "  "))
            continue
        assert view.class_name is not None
        out.append(f"  {view.class_name}:\n")
        if snake_case(view.class_name) != view.db.name:
            out.append(f"    viewname: {_scalar(view.db.name)}\n")
        if view.db.materialized:
            out.append("    materialized: true\n")
        out.append(f"    sql: {_text_block(view.db.sql, '      ')}\n")
        out.append("    columns:\n")
        for view_column in view.columns:
            for text in view_column.comments:
                out.append(_comment(text, "      "))
            if view_column.spec is not None and view_column.key is not None:
                out.append(f"      {view_column.key}: {_scalar(view_column.spec)}\n")
    return "".join(out)


#: A literal PostgreSQL casts to the type of the column it meets: ``(0)::numeric``,
#: ``'-1'::integer``, ``''::text`` (and string literals, to skip them whole).
_LITERAL_CAST: Final = re.compile(
    r"""\((?P<number>-?\d+(?:\.\d+)?)\)::(?P<ntype>[a-z ]+?(?:\(\d+(?:,\s*\d+)?\))?)(?=[^a-z(]|$)
    |(?P<string>'(?:[^']|'')*')(?:::(?P<stype>text|character\ varying|integer|bigint|smallint
        |numeric|real|double\ precision|date|timestamp\ without\ time\ zone
        |timestamp\ with\ time\ zone)(?=[^a-z(]|$))?""",
    re.VERBOSE,
)


def _readable(sql: str) -> str:
    """A check as PostgreSQL deparses it, back in the form it was most likely
    written in: without the outer parentheses and without the casts it adds
    to literals (``(price >= (0)::numeric)`` -> ``price >= 0``). The database
    reads the result back as the same expression (it adds the same casts)."""

    def plain(match: re.Match[str]) -> str:
        if match["number"] is not None:
            return match["number"]
        literal = match["string"]
        number = re.fullmatch(r"'(-?\d+(?:\.\d+)?)'", literal)
        if (
            match["stype"]
            and number is not None
            and match["stype"] not in ("text", "character varying")
        ):
            return number[1]
        return literal

    return _unwrapped(_LITERAL_CAST.sub(plain, sql))


def _unwrapped(sql: str) -> str:
    """``sql`` without the parentheses PostgreSQL puts around a whole check
    (``(price >= (0)::numeric)``), when they enclose all of it."""
    text = sql.strip()
    while text.startswith("(") and text.endswith(")"):
        found = _check_tokens(text)
        depth = 0
        for position, (_, token) in enumerate(found):
            depth += {"(": 1, ")": -1}.get(token, 0)
            if depth == 0 and position < len(found) - 1:
                return text  # "(a) AND (b)": the first one closes early
        text = text[1:-1].strip()
    return text


def _summary(tables: Sequence[_Table], views: Sequence[_View] = ()) -> list[str]:
    lines = []
    relations: list[_Table | _View] = [*tables, *views]
    for table in relations:
        lines += [f"{table.db.name}: {' '.join(c.split())}" for c in table.comments]
        if table.left_out is not None:
            lines.append(table.left_out)
            continue
        for column in table.columns:
            lines += [f"{table.db.name}: {' '.join(c.split())}" for c in column.comments]
    return lines


def _errors_of(text: str) -> list[tuple[list[str], str]]:
    """The build's errors of the file ``text``: (path parts, message)."""
    from generator.build import validate_schemas

    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "introspected.yaml"
        path.write_text(text, encoding="utf-8")
        _, errors = validate_schemas([path])
    # ``tables.T.indexes[1].columns[0]`` -> ``tables, T, indexes, 1, columns, 0``.
    return [(re.findall(r"[^.\[\]]+", e.path), e.message) for e in errors]


def _settle(
    tables: list[_Table],
    header: Sequence[str],
    enums: Sequence[tuple[str, DbEnum]] = (),
    views: Sequence[_View] = (),
) -> str:
    """Render, and leave out whatever the build refuses until it refuses nothing."""
    by_class = {t.class_name: t for t in tables if t.class_name is not None}
    views_by_class = {v.class_name: v for v in views if v.class_name is not None}
    for _ in range(len(tables) + len(views) + 10):
        text = _render(tables, header, enums, views)
        errors = _errors_of(text)
        if not errors:
            return text
        changed = False
        written: dict[tuple[str, str], list[int]] = {}
        removed: set[tuple[str, str]] = set()
        for parts, message in errors:
            if len(parts) > 1 and parts[0] == "views":
                changed = _settle_view(views_by_class.get(parts[1]), parts, message) or changed
                continue
            table = by_class.get(parts[1]) if len(parts) > 1 and parts[0] == "tables" else None
            if table is None or table.left_out is not None:
                continue
            if len(parts) > 3 and parts[2] in ("indexes", "unique") and parts[3].isdigit():
                entries: list[Any] = getattr(table, parts[2])
                # Positions count the entries this render wrote.
                live = written.setdefault(
                    (table.db.name, parts[2]),
                    [i for i, entry in enumerate(entries) if entry is not None],
                )
                if int(parts[3]) < len(live) and entries[live[int(parts[3])]] is not None:
                    position = live[int(parts[3])]
                    what = "index" if parts[2] == "indexes" else "unique constraint"
                    table.comments.append(f"{what} {_scalar(entries[position])}: {message}")
                    entries[position] = None
                    changed = True
                continue
            if len(parts) > 3 and parts[2] == "foreign_keys":
                fk_spec = table.foreign_keys.get(parts[3])
                if fk_spec is not None:
                    table.comments.append(f"foreign key {_scalar(fk_spec)}: {message} (left out)")
                    table.foreign_keys[parts[3]] = None
                    changed = True
                continue
            if len(parts) > 3 and parts[2] == "checks":
                check_name = parts[3].strip('"')
                expression = table.checks.get(check_name)
                if expression is not None:
                    table.comments.append(f"check {check_name!r} ({expression}): {message}")
                    table.checks[check_name] = None
                    changed = True
                continue
            if len(parts) > 3 and parts[2] == "columns":
                if (table.db.name, parts[3]) in removed:
                    continue  # a second error of a column already left out
                column = next((c for c in table.columns if c.key == parts[3]), None)
                if column is not None and column.spec is not None:
                    column.comments.append(f"column {column.db.name!r}: {message} (left out)")
                    removed.add((table.db.name, parts[3]))
                    column.spec = column.key = None
                    changed = True
                    continue
            table.left_out = f"table {table.db.name!r}: {message} (left out)"
            changed = True
        if not changed:
            raise RuntimeError(
                "the introspected file does not build:\n" + "\n".join(m for _, m in errors)
            )
        # A foreign key to a table now left out becomes a plain column.
        for table in tables:
            for column in table.columns:
                ref = column.db.references
                if column.spec is None or ref is None or column.spec.get("type") != "foreign_key":
                    continue
                target = next((t for t in tables if t.db.name == ref.table), None)
                if target is None or target.left_out is not None:
                    column.comments.append(
                        f"column {column.db.name!r}: a foreign key to table {ref.table!r}, "
                        "which is left out (written as a plain column)"
                    )
                    sql = _type_spec(column.db.type) or {"type": "integer"}
                    for option in ("null", "db_column_name"):
                        if option in column.spec:
                            sql[option] = column.spec[option]
                    column.spec = sql
    raise RuntimeError("the introspected file does not settle")


def _settle_view(view: _View | None, parts: list[str], message: str) -> bool:
    """Leave out the column of ``view`` (or the view) that the build refuses;
    whether anything changed."""
    if view is None or view.left_out is not None:
        return False
    if len(parts) > 3 and parts[2] == "columns":
        column = next((c for c in view.columns if c.key == parts[3]), None)
        if column is not None and column.spec is not None:
            column.comments.append(f"column {column.db.name!r}: {message} (left out)")
            column.spec = column.key = None
            if not any(c.spec is not None for c in view.columns):
                view.left_out = (
                    f"view {view.db.name!r}: none of its columns can be written (left out)"
                )
            return True
        return False
    view.left_out = f"view {view.db.name!r}: {message} (left out)"
    return True


_PG_EXTRAS: Final = """
SELECT c.relname, 'trigger ' || t.tgname
FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid
JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE n.nspname = $1 AND NOT t.tgisinternal
UNION ALL
SELECT '', CASE t.typtype WHEN 'e' THEN 'enum type ' ELSE 'domain ' END || t.typname
FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace
WHERE n.nspname = $1 AND t.typtype IN ('e', 'd')
UNION ALL
SELECT '', 'sequence ' || s.relname
FROM pg_class s JOIN pg_namespace n ON n.oid = s.relnamespace
WHERE n.nspname = $1 AND s.relkind = 'S' AND NOT EXISTS (
    SELECT 1 FROM pg_depend d
    WHERE d.classid = 'pg_class'::regclass AND d.objid = s.oid AND d.deptype IN ('a', 'i'))
UNION ALL
SELECT '', 'function ' || p.proname
FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
WHERE n.nspname = $1 AND NOT EXISTS (
    SELECT 1 FROM pg_depend d WHERE d.objid = p.oid AND d.deptype = 'e')
ORDER BY 1, 2
"""

_SQLITE_EXTRAS: Final = """
SELECT tbl_name, type || ' ' || name
FROM {schema}.sqlite_master WHERE type = 'trigger'
ORDER BY 1, 2
"""


async def _extras(engine: Engine, schema: str) -> list[Note]:
    """What the reader does not look at, since the model has no tables of it:
    triggers, enum types, domains, sequences and functions of their own. A note of
    table ``""`` belongs to the file, not to a table."""
    if engine.dialect.name == "postgres":
        rows = await engine._fetch_built(_PG_EXTRAS, (schema,))
    else:
        database = "main" if schema == "public" else schema
        quoted = '"' + database.replace('"', '""') + '"'
        rows = await engine._fetch_built(_SQLITE_EXTRAS.format(schema=quoted), ())
    return [Note(str(table), str(what)) for table, what in rows]


async def introspect(
    engine: Engine,
    *,
    schema: str = "public",
    tables: Iterable[str] | None = None,
    exclude: Iterable[str] = (),
    source: str = "",
) -> Introspection:
    """The schema file of the database behind ``engine`` (``source``: its URL,
    named in the header without a password)."""
    tables = None if tables is None else list(tables)
    reading = await read_schema_notes(engine, tables=tables, schema=schema)
    excluded = set(exclude)
    relations = [*(t.name for t in reading.schema.tables), *(v.name for v in reading.schema.views)]
    kept = reading.schema.only({name for name in relations if name not in excluded})
    wanted = None if tables is None else set(tables)
    # Types and the like belong to no table: they are listed when the
    # whole database is read, not for a selection of tables.
    extras = [
        n
        for n in await _extras(engine, schema)
        if n.table not in excluded and (n.table in wanted if wanted is not None else True)
    ]
    notes = [n for n in reading.notes if n.table not in excluded]
    read_names = {t.name for t in kept} | {v.name for v in kept.views}
    # A relation the reader passed over whole (a partition, a foreign table).
    passed = [f"{n.table}: {n.what}" for n in notes if n.table not in read_names]
    notes += [n for n in extras if n.table]
    builder = _Builder(kept, notes)
    built = builder.build()
    views = builder.build_views()
    # The enum types read are written: no note of them.
    read_enums = {f"enum type {e.name}" for e in kept.enums}
    extras = [n for n in extras if n.table or n.what not in read_enums]
    missing = sorted((wanted or set()) - read_names - {n.table for n in reading.notes})
    where = f" (schema {schema})" if reading.schema.dialect == "postgres" else ""
    header = [
        f"Introspected from {render_url(source) if source else reading.schema.dialect}{where}",
        "by piccolo-gen introspect. The comments 'not expressible' name what the schema",
        "language cannot hold yet, at the place it belongs (left out unless they say otherwise).",
    ]
    general = [n.what for n in extras if not n.table] + passed
    header += [""] + [f"not expressible: {what}" for what in general] if general else []
    # The enum types in the order the file's columns first use them.
    used = [c.db.type for t in built for c in t.columns if c.db.type in builder.enums]
    used += [c.db.type for v in views for c in v.columns if c.db.type in builder.enums]
    enums = [
        builder.enums[t]
        for t in sorted(
            builder.enums, key=lambda t: (t not in used, used.index(t) if t in used else 0)
        )
    ]
    text = _settle(built, header, enums, views)
    return Introspection(text, tuple(general + _summary(built, views)), tuple(missing))


def _unique_alone(table: DbTable, column: str) -> bool:
    """Whether ``table`` has a unique constraint or a unique index over ``column`` alone:
    what a foreign key may point at besides the primary key."""
    return any(u.columns == (column,) for u in table.unique) or any(
        i.unique and i.columns == (column,) for i in table.indexes
    )
