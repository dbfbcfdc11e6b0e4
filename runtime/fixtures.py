"""Fixtures: the rows of tables as a JSON file, and that file back into a database.

``await dump(music.TABLES, file)`` writes every row of the tables; ``await
load(file, music.TABLES)`` puts them into a database (the same one, another,
or the other engine). ``piccolo-gen fixtures dump|load`` are these two on
the command line.

The file::

    {"format": "piccolo-gen fixtures", "version": 1, "tables": [
    {"table": "manager", "class": "music.Manager",
     "columns": {"id": "Serial", "name": "Varchar"}, "rows": [
    {"id": 1, "name": "Guido"},
    ...
    ]},
    ...
    ]}

Tables come in foreign-key order, rows in primary-key order, one row per
line. Each value is encoded by its column's type, so that it reads back
exactly: ``Decimal`` as its text, ``bytes`` as base64, dates, times and
datetimes as ISO text (``timestamptz`` with its offset), intervals as
seconds (text: exact to the microsecond), UUIDs as text, JSON columns as
their JSON text, arrays as lists of their elements' encodings, enum members
as their values, and a ``real`` that is not finite as ``"NaN"``,
``"Infinity"`` or ``"-Infinity"``. ``columns`` names each column's type (a
runtime column class); ``load`` refuses a file whose types differ from the
tables'.

Dumping reads each table in batches (keyset pagination on the primary key,
so a batch costs the same at the end of a large table as at its start) and
writes each batch at once, so memory stays one batch. Loading runs in one
transaction: rows are built with the table classes' constructors (checked as
``insert()`` checks them) and inserted in batches in foreign-key order; a
foreign key that closes a cycle (a self-reference too) and is nullable is
filled in by an ``UPDATE`` after all rows are in, a deferrable one is
checked at commit. With ``upsert=True`` a row whose primary key exists
replaces that row (``ON CONFLICT (key) DO UPDATE``). On PostgreSQL the
sequences of serial columns are moved past the loaded keys.
"""

from __future__ import annotations

import base64
import datetime
import decimal
import enum
import io
import json
import math
import uuid
from collections.abc import Callable, Collection, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any, Final, overload

from . import _columns as c
from ._array import Array
from ._discovery import engine_finder
from ._engine_base import Engine
from ._sql import Condition
from ._table import Table
from .schema.state import column_of

__all__ = ["FORMAT", "VERSION", "FixtureError", "LoadResult", "dump", "fk_order", "load"]

#: The ``format`` of a fixtures file.
FORMAT: Final = "piccolo-gen fixtures"
#: The version of the layout this module writes and reads.
VERSION: Final = 1
#: Rows read or written per statement by default.
DEFAULT_BATCH_SIZE: Final = 1000

Progress = Callable[[str], None]


class FixtureError(ValueError):
    """A fixtures file that cannot be loaded: what is wrong and where."""


# -- order ---------------------------------------------------------------------------


def fk_order(tables: Iterable[type[Table[Any]]]) -> list[type[Table[Any]]]:
    """``tables`` in foreign-key order: each after the tables its keys point at.

    Keys that form a cycle (a self-reference too) cannot all point backwards:
    of the tables of a cycle, the first (in the given order) whose keys to the
    others are all nullable or deferrable goes first, so the keys left
    pointing forwards are ones a load can fill in later or check at commit.
    """
    given = list(dict.fromkeys(tables))
    placed: list[type[Table[Any]]] = []
    waiting = list(given)

    def unmet(table: type[Table[Any]]) -> list[c.ForeignKey[Any, Any]]:
        return [
            fk
            for fk in table._meta.foreign_keys
            if fk.target() in waiting and fk.target() is not table
        ]

    while waiting:
        ready = [t for t in waiting if not unmet(t) and not _composite_unmet(t, waiting)]
        if not ready:
            # A cycle: break it where the keys allow.
            ready = [
                t
                for t in waiting
                if all(fk._meta.null or fk._deferrable for fk in unmet(t))
                and not _composite_unmet(t, waiting)
            ] or waiting
        placed.append(ready[0])
        waiting.remove(ready[0])
    return placed


def _composite_unmet(table: type[Table[Any]], waiting: list[type[Table[Any]]]) -> bool:
    return any(
        fk.target() in waiting and fk.target() is not table
        for fk in table._meta.composite_foreign_keys
    )


def _closing_keys(
    table: type[Table[Any]], before: set[type[Table[Any]]], loaded: set[type[Table[Any]]]
) -> list[c.ForeignKey[Any, Any]]:
    """``table``'s foreign keys to a table of the load (``loaded``) that is not
    loaded before it: itself, or a later table of a cycle. (A key to a table
    the load has no rows for points at rows the database has.)"""
    return [
        fk for fk in table._meta.foreign_keys if fk.target() in loaded and fk.target() not in before
    ]


# -- values -------------------------------------------------------------------------------


def _type_name(column: c.Column[Any]) -> str:
    """The name of ``column``'s type in a fixtures file: its runtime column class
    (a foreign key's is its target key's), an array's with its element's."""
    kind = column_of(column).type
    name = kind.kind
    while kind.element is not None:
        kind = kind.element
        name += f"[{kind.kind}]"
    return name


def _key_column(column: c.Column[Any]) -> c.Column[Any]:
    return column._target_key() if isinstance(column, c.ForeignKey) else column


Codec = Callable[[Any], Any]


def _real_data(value: Any) -> Any:
    number = float(value)
    if math.isfinite(number):
        return number
    return "NaN" if number != number else ("Infinity" if number > 0 else "-Infinity")


def _iso(value: Any) -> Any:
    return value.isoformat()


def _base64(value: Any) -> Any:
    return base64.b64encode(bytes(value)).decode("ascii")


def _member_value(value: Any) -> Any:
    return value.value if isinstance(value, enum.Enum) else value


def encoder(column: c.Column[Any]) -> Codec | None:
    """How a value of ``column`` (not ``None``, as the runtime reads it) becomes
    JSON data; ``None`` when it is JSON data as it is. Resolved once per
    column: a dump calls it for every value."""
    column = _key_column(column)
    if column._meta.choices is not None:
        return _member_value
    if isinstance(column, Array):
        item = encoder(column.base_column)
        if item is None:
            return None
        encode_item = item
        return lambda value: [encode_item(v) for v in value]
    if isinstance(column, c.Numeric):
        return str
    if isinstance(column, c.Real):
        return _real_data
    if isinstance(column, (c.Date, c.Time, c.Timestamp)):
        return _iso
    if isinstance(column, c.Interval):
        return c.seconds_text
    if isinstance(column, c.UUID):
        return str
    if isinstance(column, c.Bytea):
        return _base64
    return None


def _number(data: Any) -> Any:
    return decimal.Decimal(_text(data)) if isinstance(data, str) else data


def _float(data: Any) -> Any:
    return float(data) if isinstance(data, str) else data


def _reader(parse: Callable[[str], Any]) -> Codec:
    return lambda data: parse(_text(data))


def _interval(data: Any) -> Any:
    seconds = decimal.Decimal(_text(data)) if isinstance(data, str) else decimal.Decimal(data)
    micro = int((seconds * 1_000_000).to_integral_value(decimal.ROUND_HALF_EVEN))
    return datetime.timedelta(microseconds=micro)


def _bytes(data: Any) -> Any:
    return base64.b64decode(_text(data), validate=True)


def decoder(column: c.Column[Any]) -> Codec | None:
    """How JSON data (not ``null``) of ``column``, as ``encoder`` writes it,
    becomes the Python value the constructor takes; ``None``: as it is."""
    column = _key_column(column)
    if column._meta.choices is not None:
        return None  # the constructor makes the member of the value
    if isinstance(column, Array):
        item = decoder(column.base_column)

        def decode_list(data: Any) -> Any:
            if not isinstance(data, list):
                raise TypeError(f"expects a list; got {data!r}")
            if item is None:
                return data
            return [None if v is None else item(v) for v in data]

        return decode_list
    if isinstance(column, c.Numeric):
        return _number
    if isinstance(column, c.Real):
        return _float
    if isinstance(column, c.Timestamp):
        return _reader(datetime.datetime.fromisoformat)
    if isinstance(column, c.Date):
        return _reader(datetime.date.fromisoformat)
    if isinstance(column, c.Time):
        return _reader(datetime.time.fromisoformat)
    if isinstance(column, c.Interval):
        return _interval
    if isinstance(column, c.UUID):
        return _reader(uuid.UUID)
    if isinstance(column, c.Bytea):
        return _bytes
    return None


def encode(column: c.Column[Any], value: Any) -> Any:
    """``value`` of ``column`` (as the runtime reads it) as JSON data."""
    code = encoder(column)
    return value if value is None or code is None else code(value)


def decode(column: c.Column[Any], data: Any) -> Any:
    """JSON ``data`` of ``column`` (as ``encode`` writes it) as the Python value."""
    code = decoder(column)
    return data if data is None or code is None else code(data)


def _text(data: Any) -> str:
    if not isinstance(data, str):
        raise TypeError(f"expects text; got {data!r}")
    return data


# -- dump -----------------------------------------------------------------------------


def _engine_of(tables: Sequence[type[Table[Any]]], engine: Engine | None) -> Engine:
    if engine is not None:
        return engine
    for table in tables:
        if table._meta.db is not None:
            return table._meta.db
    return engine_finder()


def _class_name(table: type[Table[Any]]) -> str:
    module = table.__module__.rsplit(".", 1)[-1]
    return f"{module}.{table.__qualname__}"


def _after(key: Sequence[c.Column[Any]], last: Sequence[Any]) -> Condition:
    """Rows whose key comes after ``last`` (a row value comparison, spelt out
    for composite keys: ``a > x OR (a = x AND b > y)``)."""
    condition: Condition | None = None
    for position in reversed(range(len(key))):
        step = key[position] > last[position]
        if condition is not None:
            step = step | ((key[position] == last[position]) & condition)
        condition = step
    assert condition is not None
    return condition


@overload
async def dump(
    tables: Iterable[type[Table[Any]]],
    out: None = None,
    *,
    engine: Engine | None = None,
    batch_size: int = DEFAULT_BATCH_SIZE,
    progress: Progress | None = None,
) -> str: ...
@overload
async def dump(
    tables: Iterable[type[Table[Any]]],
    out: IO[str],
    *,
    engine: Engine | None = None,
    batch_size: int = DEFAULT_BATCH_SIZE,
    progress: Progress | None = None,
) -> None: ...
async def dump(
    tables: Iterable[type[Table[Any]]],
    out: IO[str] | None = None,
    *,
    engine: Engine | None = None,
    batch_size: int = DEFAULT_BATCH_SIZE,
    progress: Progress | None = None,
) -> str | None:
    """Write every row of ``tables`` to ``out`` as a fixtures file (see the module doc).

    Without ``out`` the file is returned as a string. ``engine``: the database
    to read (default: the tables' engine). Tables are written in foreign-key
    order, each read ``batch_size`` rows at a time; ``progress`` is called
    with a line per batch (``"band: 2000/5000 rows"``).
    """
    if batch_size < 1:
        raise ValueError(f"batch_size must be at least 1; got {batch_size}")
    ordered = fk_order(tables)
    db = _engine_of(ordered, engine)
    target = out if out is not None else io.StringIO()
    target.write(f'{{"format": {json.dumps(FORMAT)}, "version": {VERSION}, "tables": [\n')
    for position, table in enumerate(ordered):
        meta = table._meta
        columns = meta.columns
        header = {
            "table": meta.tablename,
            "class": _class_name(table),
            "columns": {col._meta.name: _type_name(col) for col in columns},
        }
        text = json.dumps(header, ensure_ascii=False)
        target.write(text[:-1] + ', "rows": [')
        total = await table.count().run(engine=db)
        encoders = [(col._meta.name, code) for col in columns if (code := encoder(col))]
        key = list(meta.key)
        query = table.select(exclude_secrets=False).order_by(*key).limit(batch_size)
        last: list[Any] | None = None
        done = 0
        while True:
            batch_query = query if last is None else query.where(_after(key, last))
            rows = await batch_query.run(engine=db)
            if not rows:
                break
            # The key to continue after, before the rows' values are encoded.
            last = [rows[-1][col._meta.name] for col in key]
            lines = []
            for row in rows:
                for name, code in encoders:
                    value = row[name]
                    if value is not None:
                        row[name] = code(value)
                lines.append(json.dumps(row, ensure_ascii=False, allow_nan=False))
            target.write(("\n" if done == 0 else ",\n") + ",\n".join(lines))
            done += len(rows)

            if progress is not None:
                progress(f"{meta.tablename}: {done}/{max(total, done)} rows")
            if len(rows) < batch_size:
                break
        if progress is not None and done == 0:
            progress(f"{meta.tablename}: 0 rows")
        target.write(
            ("\n" if done else "") + "]}" + (",\n" if position < len(ordered) - 1 else "\n")
        )
    target.write("]}\n")
    if out is None:
        assert isinstance(target, io.StringIO)
        return target.getvalue()
    return None


# -- load -------------------------------------------------------------------------------


@dataclass
class LoadResult:
    """What ``load`` wrote: rows per table (database names), in load order."""

    rows: dict[str, int] = field(default_factory=dict)

    @property
    def total(self) -> int:
        """Rows written, over every table."""
        return sum(self.rows.values())


@dataclass
class _Section:
    table: type[Table[Any]]
    #: The rows' JSON objects: a list, or read from the file as they are used.
    rows: Iterable[Any]


class _Layout:
    """A file in the layout ``dump`` writes (one row per line), read twice:
    first its headers, then its rows a line at a time, so that loading a large
    file holds one batch of rows rather than the whole file."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.headers: list[dict[str, Any]] = []

    def scan(self) -> bool:
        """Read the headers; whether the whole file has the layout."""
        with self.path.open(encoding="utf-8") as file:
            first = file.readline()
            if not first.startswith("{") or not first.rstrip().endswith('"tables": ['):
                return False
            try:
                head = json.loads(first.rstrip() + "]}")
            except json.JSONDecodeError:
                return False
            if not isinstance(head, dict) or head.get("format") != FORMAT:
                return False
            self.head = head
            in_rows = False
            ended = False
            for raw in file:
                line = raw.strip()
                if ended:
                    if line:
                        return False
                elif in_rows:
                    if line in ("]},", "]}"):
                        in_rows = False
                    elif not (line.startswith("{") and line.endswith(("}", "},"))):
                        return False
                elif line == "]}":
                    ended = True
                elif line.startswith('{"table": '):
                    header = self._header(line)
                    if header is None:
                        return False
                    in_rows = not line.endswith(("[]},", "[]}"))
                    self.headers.append(header)
                else:
                    return False
            return ended and not in_rows

    @staticmethod
    def _header(line: str) -> dict[str, Any] | None:
        for tail in ('"rows": [', '"rows": []},', '"rows": []}'):
            if line.endswith(tail):
                text = line[: -len(tail)].rstrip().rstrip(",") + "}"
                try:
                    header = json.loads(text)
                except json.JSONDecodeError:
                    return None
                return header if isinstance(header, dict) else None
        return None

    def entries(self) -> list[dict[str, Any]]:
        """The headers, each with lazy ``rows`` (to be read in file order)."""
        reader = self._rows()
        next(reader)
        shared = _Shared(reader)
        return [
            {**header, "rows": _Lazy(shared, index)} for index, header in enumerate(self.headers)
        ]

    def _rows(self) -> Iterator[Any]:
        # A generator over the whole file: rows of each section, then a marker
        # (``_END``) where the section ends.
        with self.path.open(encoding="utf-8") as file:
            file.readline()
            yield None
            for raw in file:
                line = raw.strip()
                if line.startswith('{"table": '):
                    if line.endswith(("[]},", "[]}")):
                        yield _END
                    continue
                if line in ("]},", "]}"):
                    yield _END  # a section's end (and the file's, which no one reads)
                    continue
                yield json.loads(line.rstrip(","))


_END: Final = object()


@dataclass
class _Shared:
    """The reader of a ``_Layout`` file and the section it is at."""

    reader: Iterator[Any]
    section: int = 0

    def section_rows(self) -> Iterator[Any]:
        for row in self.reader:
            if row is _END:
                break
            yield row
        self.section += 1


class _Lazy:
    """The rows of one section of a ``_Layout`` file, read when iterated;
    the sections before it that nobody read are skipped."""

    def __init__(self, shared: _Shared, index: int) -> None:
        self.shared = shared
        self.index = index

    def __iter__(self) -> Iterator[Any]:
        shared = self.shared
        if shared.section > self.index:
            raise RuntimeError("the sections of a fixtures file are read in file order")
        while shared.section < self.index:
            for _ in shared.section_rows():
                pass
        yield from shared.section_rows()


def _read(
    source: IO[str] | str | Path | Mapping[str, Any],
) -> tuple[str, Any, _Layout | None]:
    """The file's name and data; for a file of ``dump``'s layout (a ``Path``),
    its headers with rows read lazily, and the layout to read it all with."""
    if isinstance(source, Mapping):
        return "<data>", source, None
    if isinstance(source, Path):
        name = str(source)
        layout = _Layout(source)
        if layout.scan():
            return name, {**layout.head, "tables": layout.entries()}, layout
        with source.open(encoding="utf-8") as file:
            text = file.read()
    elif isinstance(source, str):
        name, text = "<text>", source
    else:
        name, text = getattr(source, "name", "<stream>"), source.read()
    return name, _parse(name, text), None


def _parse(name: str, text: str) -> Any:
    try:
        return json.loads(text)
    except json.JSONDecodeError as error:
        raise FixtureError(f"{name}:{error.lineno}:{error.colno}: not JSON: {error.msg}") from None


def _sections(
    name: str, data: Any, tables: Sequence[type[Table[Any]]], skip: Collection[str] = ()
) -> tuple[list[_Section], list[str]]:
    """The file's tables matched to the table classes (but those named in
    ``skip``), and every problem found."""
    problems: list[str] = []
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise FixtureError(f'{name}: not a fixtures file (no "format": {json.dumps(FORMAT)})')
    version = data.get("version")
    if version != VERSION:
        raise FixtureError(
            f"{name}: fixtures version {version!r}; this piccolo-gen reads version {VERSION}"
        )
    entries = data.get("tables")
    if not isinstance(entries, list):
        raise FixtureError(f'{name}: "tables" must be a list')
    by_name = {table._meta.tablename: table for table in tables}
    sections: list[_Section] = []
    seen: set[str] = set()
    for index, entry in enumerate(entries):
        where = f"{name}: tables[{index}]"
        if not isinstance(entry, dict) or not isinstance(entry.get("table"), str):
            problems.append(f'{where}: an object with a "table" name')
            continue
        tablename = entry["table"]
        if tablename in skip:
            continue
        where = f"{name}: table {tablename!r}"
        table = by_name.get(tablename)
        if table is None:
            known = ", ".join(sorted(by_name)) or "none"
            problems.append(f"{where}: no such table among the tables given ({known})")
            continue
        if tablename in seen:
            problems.append(f"{where}: appears twice")
            continue
        seen.add(tablename)
        rows = entry.get("rows", [])
        if not isinstance(rows, (list, _Lazy)):
            problems.append(f'{where}: "rows" must be a list of objects')
            continue
        column_map = table._meta.column_map
        types = entry.get("columns", {})
        if not isinstance(types, dict):
            problems.append(f'{where}: "columns" must map column names to types')
            continue
        for column_name, type_name in types.items():
            column = column_map.get(column_name)
            if column is None:
                problems.append(f"{where}: {table.__name__} has no column {column_name!r}")
            elif type_name != _type_name(column):
                problems.append(
                    f"{where}: column {column_name!r} is {type_name} in the file and "
                    f"{_type_name(column)} in {table.__name__}"
                )
        sections.append(_Section(table, rows))
    return sections, problems


def _build_row(
    where: str,
    table: type[Table[Any]],
    decoders: Mapping[str, Codec | None],
    row: Any,
    problems: list[str],
) -> Table[Any] | None:
    """One row as an instance (checked by the constructor), or ``None`` and
    its problems added to ``problems``. ``decoders``: each column's (see
    ``decoder``), by attribute name."""
    if not isinstance(row, dict):
        problems.append(f"{where}: a row is an object; got {row!r}")
        return None
    values: dict[str, Any] = {}
    failed = False
    for key, data in row.items():
        if key not in decoders:
            problems.append(f"{where}: {table.__name__} has no column {key!r}")
            failed = True
            continue
        code = decoders[key]
        if code is None or data is None:
            values[key] = data
            continue
        try:
            values[key] = code(data)
        except (TypeError, ValueError) as error:
            problems.append(f"{where}: {table.__name__}.{key} {error}")
            failed = True
    if failed:
        return None
    try:
        return table(**values)
    except (TypeError, ValueError) as error:
        problems.append(f"{where}: {error}")
        return None


def _key_condition(instance: Table[Any]) -> Condition:
    condition: Condition | None = None
    for column in type(instance)._meta.key:
        step = column == instance.__dict__[column._meta.name]
        condition = step if condition is None else condition & step
    assert condition is not None
    return condition


def _problems_error(name: str, problems: list[str]) -> FixtureError:
    shown = problems[:50]
    more = f"\n  ... and {len(problems) - 50} more" if len(problems) > 50 else ""
    return FixtureError(
        f"{len(problems)} problem{'s' if len(problems) != 1 else ''} in {name}; nothing was "
        "loaded:\n" + "\n".join(f"  {p}" for p in shown) + more
    )


async def load(
    source: IO[str] | str | Path | Mapping[str, Any],
    tables: Iterable[type[Table[Any]]],
    *,
    engine: Engine | None = None,
    upsert: bool = False,
    skip: Collection[str] = (),
    batch_size: int = DEFAULT_BATCH_SIZE,
    progress: Progress | None = None,
) -> LoadResult:
    """Insert the rows of a fixtures file into ``tables``' database, in one transaction.

    ``source``: an open file, a ``Path``, the file's text, or its parsed data.
    ``tables``: the table classes the file's tables are matched to (by their
    database names), e.g. a generated module's ``TABLES``. Every row is
    checked; the problems are reported together in one ``FixtureError``, and
    nothing is written (the transaction is rolled back). A database error (a
    row that is there already, without ``upsert``) rolls the whole load back
    and is raised as the runtime's own exception. ``upsert=True``: a row whose
    primary key exists is updated to the file's values instead. ``skip``: the
    database names of tables of the file to leave out.

    A ``Path`` to a file that ``dump`` wrote (in foreign-key order) is read a
    line at a time: memory holds one batch, not the file. Any other source,
    or a file whose tables are out of order, is read whole.
    """
    if batch_size < 1:
        raise ValueError(f"batch_size must be at least 1; got {batch_size}")
    given = list(tables)
    name, data, layout = _read(source)
    # Problems of the headers are reported with those of the rows (checked
    # below, with nothing written once there is one).
    sections, problems = _sections(name, data, given, skip)
    order = {table: position for position, table in enumerate(fk_order(given))}
    ordered = sorted(sections, key=lambda s: order[s.table])
    if layout is not None and ordered != sections:
        # Out of foreign-key order: the rows of a later table are needed first.
        with layout.path.open(encoding="utf-8") as file:
            sections, _ = _sections(name, _parse(name, file.read()), given, skip)
        ordered = sorted(sections, key=lambda s: order[s.table])
    deferred: dict[type[Table[Any]], list[c.ForeignKey[Any, Any]]] = {}
    before: set[type[Table[Any]]] = set()
    loaded = {section.table for section in ordered}
    deferrable = False
    for section in ordered:
        closing = _closing_keys(section.table, before, loaded)
        deferred[section.table] = [fk for fk in closing if fk._meta.null and not fk._deferrable]
        deferrable = deferrable or any(fk._deferrable for fk in closing)
        before.add(section.table)
    db = _engine_of(given, engine)
    result = LoadResult()
    later: list[tuple[Table[Any], dict[str, Any]]] = []
    async with db.transaction():
        if deferrable or not db.dialect.typed_storage:
            await _defer_checks(db)
        for section in ordered:
            table = section.table
            tablename = table._meta.tablename
            total = f"/{len(section.rows)}" if isinstance(section.rows, list) else ""
            keys = deferred[table]
            decoders = {col._meta.name: decoder(col) for col in table._meta.columns}
            # The keys of the rows of this table so far, per self-reference.
            own: dict[str, set[Any]] = {fk._meta.name: set() for fk in keys if fk.target() is table}
            batch: list[Table[Any]] = []
            count = 0

            for index, row in enumerate(section.rows):
                where = f"{name}: table {tablename!r}, row {index + 1}"
                instance = _build_row(where, table, decoders, row, problems)
                if instance is None or problems:
                    continue  # after a problem, only look for more
                values = instance.__dict__
                held = {
                    fk._meta.name: values[fk._meta.name]
                    for fk in keys
                    if values.get(fk._meta.name) is not None
                    # A self-reference to a row loaded already (a parent with
                    # a smaller key, as a dump orders them) goes in as it is.
                    and not (fk._meta.name in own and values[fk._meta.name] in own[fk._meta.name])
                }
                for fk in keys:
                    if fk._meta.name in own:
                        own[fk._meta.name].add(values.get(fk._target_key()._meta.name))
                if held:
                    for key in held:
                        instance.__dict__[key] = None
                    later.append((instance, held))
                batch.append(instance)
                count += 1
                if len(batch) == batch_size:
                    await _insert(db, table, batch, upsert)
                    batch = []
                    if progress is not None:
                        progress(f"{tablename}: {count}{total} rows")
            if batch and not problems:
                await _insert(db, table, batch, upsert)
                if progress is not None:
                    progress(f"{tablename}: {count}{total} rows")
            result.rows[tablename] = count
        if problems:
            raise _problems_error(name, problems)
        for row, values in later:
            row.__dict__.update(values)
            changes: dict[c.Column[Any] | str, object] = {k: v for k, v in values.items()}
            await type(row).update(changes).where(_key_condition(row)).run(engine=db)
        if db.dialect.typed_storage:
            for section in ordered:
                await _move_sequences(db, section.table)
    return result


async def _insert(
    db: Engine, table: type[Table[Any]], rows: list[Table[Any]], upsert: bool
) -> None:
    query = table.insert(*rows)
    if upsert:
        query = _upsert(table, query)
    await query.run(engine=db)


def _upsert(table: type[Table[Any]], query: Any) -> Any:
    key = table._meta.key
    # By identity: a column's == makes a condition.
    rest = [col for col in table._meta.columns if all(col is not k for k in key)]
    if not rest:
        return query.on_conflict(target=tuple(key), action="DO NOTHING")
    return query.on_conflict(target=tuple(key), action="DO UPDATE", values=rest)


async def _defer_checks(db: Engine) -> None:
    """Foreign keys checked at commit where the database can: PostgreSQL's
    deferrable constraints; on SQLite every foreign key (``defer_foreign_keys``
    lasts until the transaction ends)."""
    if db.dialect.typed_storage:
        await db._execute_built("SET CONSTRAINTS ALL DEFERRED")
    else:
        await db._execute_built("PRAGMA defer_foreign_keys = ON")


async def _move_sequences(db: Engine, table: type[Table[Any]]) -> None:
    """PostgreSQL: the sequences of ``table``'s serial columns continue after the
    largest value loaded (explicit keys do not advance a sequence)."""
    quote = db.dialect.quote
    name = quote(table._meta.tablename)
    for column in table._meta.columns:
        if not isinstance(column, c.Serial):
            continue
        db_column = column._meta.db_name
        quoted = quote(db_column)
        literal = "'" + name.replace("'", "''") + "'"
        sql = (
            f"SELECT setval(pg_get_serial_sequence({literal}, $1), "
            f"COALESCE(MAX({quoted}), 1), MAX({quoted}) IS NOT NULL) FROM {name}"
        )
        await db._fetch_built(sql, [db_column])
