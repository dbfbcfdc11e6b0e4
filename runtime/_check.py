"""``check_schema()``: can the connected database serve these table classes?

An application calls it at startup (``await check_schema(*TABLES)``) to
learn, before the first query fails, which of its tables or columns the
database lacks or types differently: a deploy that forgot
``piccolo-gen migrations forwards``, a database changed by hand.

It is the comparison the migrations' drift check makes
(``runtime.schema.compare``), between the tables' state lowered by the
dialect's DDL compiler (what ``create_tables()`` would make) and one read of
the database's catalog (``runtime.schema.read``), limited to the tables
given: the reader reads only those, in a fixed number of statements however
many there are. What differs is weighed by what it does to the
application, not to the schema's purity (docs/migrations.md, "At startup"):

``error``    the tables' queries fail or return what their types do not
             say: a missing table or column, another type, another
             nullability or primary key, and an extra column that is
             ``NOT NULL`` without a default (every insert of the tables
             leaves it out, and fails); a missing view, or one without a
             declared column or with another type (view classes are
             checked as tables are: ``check_schema(*TABLES, *VIEWS)``);
``warning``  the queries run, but the database does not enforce or speed
             up what the tables declare: a missing or different foreign
             key, unique constraint, check constraint or index (a missing
             check lets rows in that the tables say cannot be), another
             default (the tables
             send their own defaults; raw SQL and other clients get the
             database's);
``info``     what the database has beyond the tables (extra columns,
             indexes, constraints, foreign keys and defaults, and views), an index or
             constraint of another name over the same columns, and what the
             reader cannot model (an unnamed SQLite check, a trigger's table).

``ok`` is true when nothing is an error; ``strict=True`` raises
``SchemaMismatch`` then instead of returning.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Final, Literal

from ._errors import SchemaMismatch
from ._query import Query
from ._roles import TableRole
from .schema.compare import Difference, compare
from .schema.compile import compiler_for
from .schema.read import Note, read_schema_notes
from .schema.state import of_tables

if TYPE_CHECKING:
    from ._engine import Engine
    from ._table import Table

__all__ = ["CheckSchema", "SchemaProblem", "SchemaReport", "Severity", "check_schema"]

#: How much a problem matters (the module docstring says which is which).
Severity = Literal["error", "warning", "info"]

_ORDER: Final[dict[str, int]] = {"error": 0, "warning": 1, "info": 2}

#: Differences that break the tables' queries or their types.
#: (``enum``: an enum type with other values, which inserts or reads trip on;
#: ``view``: a view without a declared column, or with another type.)
_ERRORS: Final = frozenset(
    {
        "missing_table",
        "missing_column",
        "type",
        "null",
        "primary_key",
        "enum",
        "missing_view",
        "view",
    }
)
#: Differences in what the database enforces or speeds up, when the tables declare it.
_WARNINGS: Final = frozenset(
    {
        "default",
        "foreign_key",
        "missing_index",
        "index",
        "missing_unique",
        "unique",
        "missing_check",
        "check",
    }
)


@dataclass(frozen=True, slots=True)
class SchemaProblem:
    """One thing the database lacks, has otherwise, or has beyond the tables.

    ``kind`` says what: one of ``runtime.schema.compare.Kind`` (``missing_table``,
    ``missing_column``, ``type``, ``null``, ``default``, ``primary_key``,
    ``foreign_key``, ``missing_index``, ``index``, ``index_name``, ...) or
    ``note`` (something the reader cannot model). ``name`` is the column's,
    index's or constraint's (empty for a table). ``expected`` and ``found``
    are SQL text, ``None`` where that side has nothing. ``text`` is the line
    without the severity, as ``str()`` prints it after it.
    """

    severity: Severity
    kind: str
    table: str
    name: str
    expected: str | None
    found: str | None
    text: str

    def __str__(self) -> str:
        return f"{self.severity}: {self.text}"


@dataclass(frozen=True, slots=True)
class SchemaReport:
    """What ``check_schema()`` found: ``problems`` sorted by severity (errors
    first), then as the comparison lists them (table by table)."""

    dialect: str
    #: The names of the tables checked, in the order given.
    tables: tuple[str, ...]
    problems: tuple[SchemaProblem, ...]

    @property
    def ok(self) -> bool:
        """Whether the database serves the tables: no problem is an error."""
        return not self.errors

    @property
    def errors(self) -> tuple[SchemaProblem, ...]:
        return tuple(p for p in self.problems if p.severity == "error")

    @property
    def warnings(self) -> tuple[SchemaProblem, ...]:
        return tuple(p for p in self.problems if p.severity == "warning")

    @property
    def infos(self) -> tuple[SchemaProblem, ...]:
        return tuple(p for p in self.problems if p.severity == "info")

    def summary(self, *, infos: bool = True) -> str:
        """``2 errors, 1 warning, 3 infos`` (``no problems``); ``infos=False``:
        without the infos."""
        counted = [("error", self.errors), ("warning", self.warnings)]
        if infos:
            counted.append(("info", self.infos))
        counts = [
            f"{len(found)} {word}{'' if len(found) == 1 else 's'}"
            for word, found in counted
            if found
        ]
        return ", ".join(counts) or "no problems"

    def __str__(self) -> str:
        tables = f"{len(self.tables)} table{'' if len(self.tables) == 1 else 's'}"
        head = f"schema check of {tables} on {self.dialect}: {self.summary()}"
        return "\n".join([head, *(f"  {p}" for p in self.problems)])


def severity_of(difference: Difference) -> Severity:
    """How much ``difference`` matters to an application of the tables."""
    kind = difference.kind
    if kind in _ERRORS or (kind == "extra_column" and difference.required):
        return "error"
    if kind in _WARNINGS and difference.expected is not None:
        # A default or foreign key the tables do not declare is the
        # database's own business; one they declare, missing or other, is not.
        return "warning"
    return "info"


def report_of(
    dialect: str, tables: tuple[str, ...], differences: list[Difference], notes: tuple[Note, ...]
) -> SchemaReport:
    """The report of ``differences`` (and the reader's ``notes``, as infos)."""
    problems = [
        SchemaProblem(severity_of(d), d.kind, d.table, d.name, d.expected, d.found, str(d))
        for d in differences
    ]
    problems += [
        SchemaProblem("info", "note", n.table, "", None, None, f"table {n.table}: {n.what}")
        for n in notes
    ]
    problems.sort(key=lambda p: _ORDER[p.severity])
    return SchemaReport(dialect, tables, tuple(problems))


class CheckSchema(Query[SchemaReport]):
    """The check of ``check_schema()``: awaitable, ``run(engine=...)``,
    ``run_sync()``, as every query."""

    def __init__(self, tables: tuple[type[Table[Any]], ...], *, strict: bool) -> None:
        if not tables:
            raise ValueError("check_schema() needs at least one table")
        for table in tables:
            if not (isinstance(table, type) and issubclass(table, TableRole)):
                raise TypeError(
                    f"check_schema() takes table classes, not {table!r} "
                    "(pass them unpacked: check_schema(*TABLES))"
                )
        self._table = tables[0]
        self._tables = tables
        self._strict = strict

    def _engine(self) -> Engine:
        engines = {id(t._meta.db): t for t in self._tables}
        if len(engines) > 1:
            bound = ", ".join(
                f"{t.__name__}: {t._meta.db!r}" for t in self._tables if t._meta.db is not None
            )
            raise ValueError(
                "check_schema(): the tables are bound to different engines "
                f"({bound}); check each engine's tables on their own, or pass "
                "run(engine=...)"
            )
        return super()._engine()

    async def _run(self, engine: Engine) -> SchemaReport:
        dialect = engine.dialect.name
        expected = compiler_for(dialect).lower(of_tables(self._tables))
        names = tuple(t._meta.tablename for t in self._tables)
        # One read of the catalog for all the tables, limited to them: the
        # database's other tables are no concern of these classes.
        reading = await read_schema_notes(engine, tables=names)
        report = report_of(dialect, names, compare(expected, reading.schema), reading.notes)
        if self._strict and not report.ok:
            raise SchemaMismatch(report)
        return report

    def _sql(self, dialect: Any) -> tuple[str, list[object]]:
        # Nothing to show but what is checked: the catalog statements are the
        # reader's business.
        return f"-- check_schema({', '.join(t._meta.tablename for t in self._tables)})", []


def check_schema(*tables: type[Table[Any]], strict: bool = False) -> CheckSchema:
    """Check that the database has ``tables`` as their classes say.

    ``await check_schema(*TABLES)`` (or ``.run(engine=db)``,
    ``.run_sync()``) reads the catalog once and returns a ``SchemaReport``:
    ``report.ok`` is false when a table or column is missing or differs in
    a way the queries would trip on, and ``str(report)`` lists every
    problem, one line each. The engine is the tables' bound engine, else
    the configured one, as for their queries. ``strict=True``: raise
    ``SchemaMismatch`` (a ``ProgrammingError``) listing the problems when
    the report is not ok.
    """
    return CheckSchema(tables, strict=strict)
