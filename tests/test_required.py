"""Required columns: no value, no row, and no ``DEFAULT`` in the database.

A column with ``required: true`` (``Column(required=True)``) and no default
has no zero default anywhere: the constructor refuses a row without its
value (a ``TypeError`` before any SQL), and ``create_tables`` writes no
``DEFAULT`` clause, so a writer that leaves it out (raw SQL, another
program) gets the database's ``NOT NULL`` error rather than a zero. Every
other non-null column keeps its type's zero default (Piccolo's rule).

The oracle is the database read back (``runtime.schema.read``) on both
engines: it equals what the schema state lowers to, the state of the same
columns written as a schema file and built, and the state of the file that
``introspect`` writes for that database.
"""

from __future__ import annotations

import datetime
import decimal
import enum
import importlib.util
import os
import subprocess
import sys
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
import test_columns

from generator.introspect import introspect
from generator.state import schema_state
from runtime import (
    JSON,
    JSONB,
    UUID,
    Array,
    BigInt,
    Boolean,
    Bytea,
    Char,
    Date,
    DoublePrecision,
    Email,
    Engine,
    Integer,
    Interval,
    NotNullViolation,
    Numeric,
    Real,
    Secret,
    Serial,
    SmallInt,
    Table,
    Text,
    Time,
    Timestamp,
    Timestamptz,
    Varchar,
    create_tables,
    use_engine,
)
from runtime.migrations import AlterColumn
from runtime.schema import state
from runtime.schema.compile import compiler_for
from runtime.schema.read import read_schema

ROOT = Path(__file__).resolve().parent.parent


class Mood(enum.StrEnum):
    HAPPY = "h"
    SAD = "s"


class Required(Table[Any], tablename="required"):
    """One required non-null column of every type, and one that is not."""

    id: Serial[int] = Serial(primary_key=True)
    v_varchar: Varchar[str] = Varchar(length=20, required=True)
    v_char: Char[str] = Char(length=3, required=True)
    v_text: Text[str] = Text(required=True)
    v_secret: Secret[str] = Secret(required=True)
    v_email: Email[str] = Email(required=True)
    v_integer: Integer[int] = Integer(required=True)
    v_bigint: BigInt[int] = BigInt(required=True)
    v_smallint: SmallInt[int] = SmallInt(required=True)
    v_real: Real[float] = Real(required=True)
    v_double: DoublePrecision[float] = DoublePrecision(required=True)
    v_numeric: Numeric[decimal.Decimal] = Numeric(digits=(10, 3), required=True)
    v_boolean: Boolean[bool] = Boolean(required=True)
    v_date: Date[datetime.date] = Date(required=True)
    v_time: Time[datetime.time] = Time(required=True)
    v_timestamp: Timestamp[datetime.datetime] = Timestamp(required=True)
    v_timestamptz: Timestamptz[datetime.datetime] = Timestamptz(required=True)
    v_interval: Interval[datetime.timedelta] = Interval(required=True)
    v_uuid: UUID[uuid.UUID] = UUID(required=True)
    v_json: JSON[str] = JSON(required=True)
    v_jsonb: JSONB[str] = JSONB(required=True)
    v_bytea: Bytea[bytes] = Bytea(required=True)
    v_ints: Array[list[int]] = Array(Integer(), required=True)
    v_strings: Array[list[str]] = Array(Varchar(length=10), required=True)
    v_dates: Array[list[datetime.date]] = Array(Date(), required=True)
    v_mood: Varchar[Mood] = Varchar(length=1, choices=Mood, required=True)
    # Not required: the zero default stays, in Python and in the database.
    plays: Integer[int] = Integer()


#: The same table as a schema file: the generated code must agree.
SCHEMA = """\
enums:
  Mood: {HAPPY: h, SAD: s}
tables:
  Required:
    columns:
      v_varchar: {type: varchar, length: 20, required: true}
      v_char: {type: char, length: 3, required: true}
      v_text: {type: text, required: true}
      v_secret: {type: secret, required: true}
      v_email: {type: email, required: true}
      v_integer: {type: integer, required: true}
      v_bigint: {type: bigint, required: true}
      v_smallint: {type: smallint, required: true}
      v_real: {type: real, required: true}
      v_double: {type: double_precision, required: true}
      v_numeric: {type: numeric, digits: [10, 3], required: true}
      v_boolean: {type: boolean, required: true}
      v_date: {type: date, required: true}
      v_time: {type: time, required: true}
      v_timestamp: {type: timestamp, required: true}
      v_timestamptz: {type: timestamptz, required: true}
      v_interval: {type: interval, required: true}
      v_uuid: {type: uuid, required: true}
      v_json: {type: json, required: true}
      v_jsonb: {type: jsonb, required: true}
      v_bytea: {type: bytea, required: true}
      v_ints: {type: array, of: {type: integer}, required: true}
      v_strings: {type: array, of: {type: varchar, length: 10}, required: true}
      v_dates: {type: array, of: {type: date}, required: true}
      v_mood: {type: varchar, length: 1, choices: Mood, required: true}
      plays: {type: integer}
"""

REQUIRED_NAMES = [c._meta.name for c in Required._meta.columns if c._meta.required]


def _values() -> dict[str, Any]:
    return {**test_columns._values(), "v_mood": Mood.SAD}


@pytest.fixture
async def required(db: Engine) -> AsyncIterator[Engine]:
    """``Required`` created on an empty database of each engine."""
    use_engine(db, Required)
    await create_tables(Required)
    try:
        yield db
    finally:
        use_engine(None, Required)


def test_every_column_but_the_key_and_plays_is_required() -> None:
    assert len(REQUIRED_NAMES) == len(Required._meta.columns) - 2
    assert "plays" not in REQUIRED_NAMES and "id" not in REQUIRED_NAMES


async def test_the_database_has_no_default_for_required_columns(required: Engine) -> None:
    read = (await read_schema(required)).table("required")
    columns = {c.name: c for c in read.columns}
    for name in REQUIRED_NAMES:
        assert columns[name].notnull and columns[name].default is None, columns[name]
    # Piccolo's zero default stays for a non-null column that is not required.
    assert columns["plays"].notnull and columns["plays"].default == "0"
    # The state says the same, and lowers to exactly what the database has.
    table = state.table_of(Required)
    assert [c.name for c in table.columns if c.default is None] == ["id", *REQUIRED_NAMES]
    compiler = compiler_for(required.dialect.name)
    assert compiler.lower_table(table) == read


async def test_a_writer_that_leaves_a_required_column_out_gets_not_null(
    required: Engine,
) -> None:
    await Required.insert(Required(**_values()))
    for name in REQUIRED_NAMES:
        # A copy of the row with every column but ``name``: the database must
        # refuse it rather than fill in a zero.
        others = ", ".join(f'"{n}"' for n in [*REQUIRED_NAMES, "plays"] if n != name)
        with pytest.raises(NotNullViolation) as raised:
            await required.execute(
                f'INSERT INTO "required" ({others}) SELECT {others} FROM "required"'
            )
        assert (raised.value.table, raised.value.columns) == ("required", (name,))
    with pytest.raises(NotNullViolation):
        await required.execute('INSERT INTO "required" DEFAULT VALUES')
    assert await Required.count() == 1


async def test_without_a_required_value_no_row_is_made(required: Engine) -> None:
    values = _values()
    for name in REQUIRED_NAMES:
        given = {k: v for k, v in values.items() if k != name}
        # The straight-line constructor and the general one.
        with pytest.raises(TypeError, match=rf"^Required\(\) needs {name}=$"):
            Required(**given)
        with pytest.raises(TypeError, match=rf"^Required\(\) needs {name}=$"):
            Table.__init__(object.__new__(Required), **given)
        with pytest.raises(TypeError, match=rf"^Required\(\) needs {name}=$"):
            # Declared with typed keywords on generated classes only.
            Required.objects().create(**given)  # type: ignore[attr-defined]
        # get_or_create reads first, then makes the row it did not find.
        condition = Required._meta.column_map[REQUIRED_NAMES[0 if name != "v_varchar" else 1]]
        with pytest.raises(TypeError, match=rf"^Required\(\) needs {name}=$"):
            await Required.objects().get_or_create(
                condition == given[condition._meta.name],
                {k: v for k, v in given.items() if k != condition._meta.name},
            )
    # None is no value of a non-null column either.
    with pytest.raises(ValueError, match="Required.v_integer is not nullable; got None"):
        Required(**{**values, "v_integer": None})
    assert await Required.count() == 0


async def test_with_every_required_value_the_row_reads_back(required: Engine) -> None:
    written = _values()
    row = Required(**written)
    assert row.plays == 0  # the zero default of the column that is not required
    await Required.insert(row)
    created = await Required.objects().create(**written)  # type: ignore[attr-defined]
    assert created.id == 2
    rows = await Required.select(exclude_secrets=False).order_by(Required.id)
    assert len(rows) == 2
    for read in rows:
        found: dict[str, Any] = dict(read)
        del found["id"]
        assert found.pop("plays") == 0
        test_columns._same_json(found, dict(written))
        assert found == {k: v for k, v in written.items() if k not in ("v_json", "v_jsonb")}


# -- the generated code, and introspect, say the same -----------------------------------


def test_the_built_schema_file_has_the_hand_written_state(tmp_path: Path) -> None:
    path = tmp_path / "required.yaml"
    path.write_text(SCHEMA)
    built = schema_state([path])
    assert isinstance(built, state.Schema), built
    assert built.tables == (state.table_of(Required),)
    for dialect in ("postgres", "sqlite"):
        ddl = "\n".join(compiler_for(dialect).create_table(built.tables[0]))
        assert "DEFAULT" in ddl.split('"plays"')[1]
        assert "DEFAULT" not in ddl.split('"plays"')[0], ddl


async def test_introspect_reads_required_columns_back(required: Engine, tmp_path: Path) -> None:
    result = await introspect(required)
    assert result.left_out == ()
    text = result.text
    assert "# not expressible" not in text and "zero default" not in text
    for name in REQUIRED_NAMES:
        line = next(line for line in text.splitlines() if line.lstrip().startswith(f"{name}:"))
        assert "required: true" in line, line
    assert "      plays: {type: integer}\n" in text
    path = tmp_path / "introspected.yaml"
    path.write_text(text)
    rebuilt = schema_state([path])
    assert isinstance(rebuilt, state.Schema), rebuilt
    compiler = compiler_for(required.dialect.name)
    assert compiler.lower(rebuilt) == await read_schema(required)


# -- migrations --------------------------------------------------------------------------

PYPROJECT = """\
[tool.piccolo-gen]
schema = "schema"
out = "out"
migrations = "db_migrations"
"""

BEFORE = """\
module: music
tables:
  Band:
    columns:
      name: {type: varchar, length: 50}
      founded: {type: date}
      price: {type: numeric, digits: [8, 2]}
"""


def _cli(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "generator", *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        timeout=120,
    )


def _engine(url: str) -> Engine:
    from generator.migrate_cli import engine_from_url

    return engine_from_url(url)


async def _defaults(url: str) -> dict[str, str | None]:
    engine = _engine(url)
    try:
        table = (await read_schema(engine)).table("band")
    finally:
        await engine.close()
    return {c.name: c.default for c in table.columns if c.name != "id"}


async def test_making_columns_required_drops_their_zero_defaults(
    database_url: str, tmp_path: Path
) -> None:
    """A column made ``required`` (or one a migration made with a zero
    default, before ``required`` meant no default) loses the default in a
    migration of its own, and gets it back backwards."""
    (tmp_path / "pyproject.toml").write_text(PYPROJECT)
    schema = tmp_path / "schema" / "music.yaml"
    schema.parent.mkdir()
    schema.write_text(BEFORE)
    database = ("--database", database_url)
    for args in (("migrations", "new", "--auto"), ("migrations", "forwards", *database)):
        done = _cli(*args, cwd=tmp_path)
        assert done.returncode == 0, done.stdout + done.stderr
    zeros = await _defaults(database_url)
    assert all(zeros.values()), zeros

    schema.write_text(BEFORE.replace("}\n", ", required: true}\n"))
    check = _cli("migrations", "check", cwd=tmp_path)
    assert check.returncode == 1
    new = _cli("migrations", "new", "--auto", "--name", "required_without_default", cwd=tmp_path)
    assert new.returncode == 0, new.stdout + new.stderr
    path = tmp_path / "db_migrations" / "0002_required_without_default.py"
    spec = importlib.util.spec_from_file_location("required_migration", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    assert list(module.migration.operations) == [
        AlterColumn("band", name, default=None) for name in ("name", "founded", "price")
    ]
    for args in (("migrations", "forwards", *database), ("migrations", "check", *database)):
        done = _cli(*args, cwd=tmp_path)
        assert done.returncode == 0, done.stdout + done.stderr
    assert await _defaults(database_url) == {"name": None, "founded": None, "price": None}
    again = _cli("migrations", "new", "--auto", cwd=tmp_path)
    assert "no changes" in again.stdout

    back = _cli("migrations", "backwards", "0001", *database, cwd=tmp_path)
    assert back.returncode == 0, back.stdout + back.stderr
    assert await _defaults(database_url) == zeros
