"""Fixtures (``runtime.fixtures``, ``piccolo-gen fixtures``): dump and load.

The oracle of a round trip: the rows read back from the database loaded
(``select()`` of every column, secrets too) equal the rows read from the
database dumped, value for value and type for type, on both engines and from
SQLite into PostgreSQL. Every column type of ``schema/features.yaml``,
``choices`` (``music.Shirt``), native enums (an inline schema), composite
keys (``composite``), keys the database does not number (``keys``) and the
foreign-key cycles of ``tests/typing/fk_cycles`` (a self-reference, a cycle
closed by a nullable key, one by deferrable keys).
"""

from __future__ import annotations

import datetime
import decimal
import importlib
import io
import json
import sys
import uuid
from collections.abc import Iterator, Sequence
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from generated import composite, features, keys, music
from generated.features import Nullables, Scalars
from generator.cli import main
from runtime import (
    CheckViolation,
    Engine,
    SQLiteEngine,
    Table,
    UniqueViolation,
    create_tables,
)
from runtime.fixtures import FixtureError, dump, fk_order, load

ROOT = Path(__file__).resolve().parent.parent
CYCLES = ROOT / "tests" / "typing" / "fk_cycles"

UTC = datetime.UTC
TABLES: tuple[type[Table[Any]], ...] = (
    *features.TABLES,
    *music.TABLES,
    *composite.TABLES,
    *keys.TABLES,
)

ENUMS = """\
module: moods
enums:
  Mood: {native: true, values: {sad: sad, happy: happy, so_so: so so}}
  Level: {low: 1, high: 2}
tables:
  Person:
    columns:
      name: {type: varchar, length: 20}
      mood: {type: enum, choices: Mood, null: true}
      level: {type: integer, choices: Level}
      moods: {type: array, of: {type: varchar, length: 10}, null: true}
"""


@pytest.fixture(scope="module")
def cycles() -> Iterator[ModuleType]:
    """The committed build of the cycles schema, under a name of its own."""
    sys.path.insert(0, str(CYCLES.parent))
    try:
        yield importlib.import_module("fk_cycles.cycles")
    finally:
        sys.path.remove(str(CYCLES.parent))
        for key in [k for k in sys.modules if k.split(".")[0] == "fk_cycles"]:
            del sys.modules[key]


@pytest.fixture(scope="module")
def moods(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ModuleType]:
    folder = tmp_path_factory.mktemp("moods")
    (folder / "schema").mkdir()
    (folder / "schema" / "moods.yaml").write_text(ENUMS)
    assert (
        main(["build", "--schema", str(folder / "schema"), "--out", str(folder / "fx_moods")]) == 0
    )
    sys.path.insert(0, str(folder))
    try:
        yield importlib.import_module("fx_moods.moods")
    finally:
        sys.path.remove(str(folder))
        for key in [k for k in sys.modules if k.split(".")[0] == "fx_moods"]:
            del sys.modules[key]


async def _rows(tables: Sequence[type[Table[Any]]], engine: Engine) -> dict[str, list[Any]]:
    """Every row of every table, every column, as the runtime reads it, with types."""
    result: dict[str, list[Any]] = {}
    for table in tables:
        rows = (
            await table.select(exclude_secrets=False).order_by(*table._meta.key).run(engine=engine)
        )
        result[table._meta.tablename] = [
            {key: (type(value), value) for key, value in row.items()} for row in rows
        ]
    return result


def _same(a: dict[str, list[Any]], b: dict[str, list[Any]]) -> None:
    assert a.keys() == b.keys()
    for name in a:
        # repr: NaN equals itself, -0.0 differs from 0.0, and the types show.
        assert repr(a[name]) == repr(b[name]), name


def _scalars(engine: Engine) -> list[Scalars]:
    """Rows at the edges of every column type."""
    nan_ok = engine.dialect.typed_storage  # SQLite stores NaN as NULL: refused there
    zone = datetime.timezone(datetime.timedelta(hours=5, minutes=30))
    return [
        Scalars(
            v_varchar="q' \" b\\s ünï",
            v_char="abc",
            v_text="line\nbreak\ttab 😀",
            v_secret="hunter2",
            v_email="a@example.com",
            v_integer=-(2**31),
            v_bigint=2**63 - 1,
            v_smallint=-(2**15),
            v_real=float("nan") if nan_ok else float("inf"),
            v_double=-0.0,
            v_numeric=decimal.Decimal("-9999999.999"),
            v_boolean=True,
            v_date=datetime.date(1, 1, 1),
            v_time=datetime.time(23, 59, 59, 999999),
            v_timestamp=datetime.datetime(2024, 2, 29, 12, 0, 0, 1),
            v_timestamptz=datetime.datetime(2024, 7, 1, 8, 30, 0, 250000, tzinfo=zone),
            v_interval=datetime.timedelta(days=-3, seconds=5, microseconds=7),
            v_uuid=uuid.UUID("12345678-1234-5678-1234-567812345678"),
            v_json='{"b": [1, 2.5, null], "a": "ü"}',
            v_jsonb='{"key": {"nested": true}}',
            v_bytea=bytes(range(256)),
            v_ints=[0, -1, 2**31 - 1],
            v_strings=["", "x'y", "ü"],
            v_dates=[datetime.date(2000, 1, 1), datetime.date(9999, 12, 31)],
        ),
        Scalars(v_real=0.375, v_double=1e308, v_numeric=decimal.Decimal("0.001")),
        Scalars(v_real=-float("inf"), v_double=5e-324, v_interval=datetime.timedelta(0)),
    ]


async def _fill(engine: Engine, moods: ModuleType) -> None:
    await create_tables(*TABLES, *moods.TABLES).run(engine=engine)
    await Scalars.insert(*_scalars(engine)).run(engine=engine)
    await Nullables.insert(Nullables(), Nullables(v_text="only this")).run(engine=engine)
    await features.Account.insert(
        features.Account(username="u", email="u@example.com", password="s3cret", profile="[]")
    ).run(engine=engine)
    guido = music.Manager(name="Guido")
    await guido.save().run(engine=engine)
    await music.Band.insert(
        music.Band(name="Pythonistas", manager=guido, popularity=1000),
        music.Band(name="Unmanaged"),
    ).run(engine=engine)
    await music.Shirt.insert(
        music.Shirt(size=music.Size.large), music.Shirt(size=music.Size.small)
    ).run(engine=engine)
    playlist, song = composite.Playlist(name="p"), composite.Song(title="s")
    await playlist.save().run(engine=engine)
    await song.save().run(engine=engine)
    await composite.PlaylistEntry(playlist=playlist, song=song, note="n").save().run(engine=engine)
    await composite.Play(playlist_id=playlist.id, song_id=song.id, seconds=3).save().run(
        engine=engine
    )
    await composite.Cell.insert(
        *[composite.Cell(sheet="a", row=r, col=c, value=f"{r},{c}") for r in (1, 2) for c in (1, 2)]
    ).run(engine=engine)
    await keys.Country(code="fr", name="France").save().run(engine=engine)
    await keys.Token(id=uuid.UUID(int=7), label="seven").save().run(engine=engine)
    Person, Mood, Level = moods.Person, moods.Mood, moods.Level
    await Person.insert(
        Person(name="a", mood=Mood.so_so, level=Level.high, moods=["x"]),
        Person(name="b", level=Level.low),
    ).run(engine=engine)


async def _fill_cycles(engine: Engine, cycles: ModuleType) -> None:
    Band, Concert, Venue = cycles.Band, cycles.Concert, cycles.Venue
    Department, Employee = cycles.Department, cycles.Employee
    venue = Venue(name="hall")
    await venue.save().run(engine=engine)
    first, second = await Band.insert(Band(name="first"), Band(name="second")).run(engine=engine)
    concert = Concert(band=second, venue=venue)
    await concert.save().run(engine=engine)
    # Keys pointing forwards: a self-reference to a later row, and the cycle.
    await Band.update(mentor=second.id, headliner=concert.id).where(Band.id == first.id).run(
        engine=engine
    )
    async with engine.transaction():
        department = Department(id=1, name="d", manager=1)
        await Department.insert(department).run(engine=engine)
        await Employee.insert(Employee(id=1, name="e", department=1)).run(engine=engine)


def _all(moods: ModuleType) -> list[type[Table[Any]]]:
    # The cycles' tables share names with music's (band, concert, venue): they
    # have tests of their own, below.
    return [*TABLES, *moods.TABLES]


async def test_every_type_round_trips_exactly(
    db: Engine, tmp_path: Path, moods: ModuleType
) -> None:
    """Dump, load into a fresh database of the same engine: the same rows."""
    tables = _all(moods)
    await _fill(db, moods)
    text = await dump(tables, engine=db)
    assert text is not None
    data = json.loads(text)
    assert data["format"] == "piccolo-gen fixtures" and data["version"] == 1
    by_name = {entry["table"]: entry for entry in data["tables"]}
    scalars = by_name["scalars"]
    assert scalars["columns"]["v_ints"] == "Array[Integer]"
    row = scalars["rows"][0]
    assert row["v_numeric"] == "-9999999.999"
    assert row[
        "v_bytea"
    ] == "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8gISIjJCUmJygpKissLS4vMDE" + (
        "yMzQ1Njc4OTo7PD0+P0BBQkNERUZHSElKS0xNTk9QUVJTVFVWV1hZWltcXV5fYGFiY2RlZmdoaWprbG1ub3Bxc"
        "nN0dXZ3eHl6e3x9fn+AgYKDhIWGh4iJiouMjY6PkJGSk5SVlpeYmZqbnJ2en6ChoqOkpaanqKmqq6ytrq+wsbK"
        "ztLW2t7i5uru8vb6/wMHCw8TFxsfIycrLzM3Oz9DR0tPU1dbX2Nna29zd3t/g4eLj5OXm5+jp6uvs7e7v8PHy"
        "8/T19vf4+fr7/P3+/w=="
    )
    assert row["v_timestamptz"] == "2024-07-01T03:00:00.250000+00:00"
    assert row["v_interval"] == "-259194.999993"
    assert row["v_secret"] == "hunter2"
    assert by_name["shirt"]["rows"][0]["size"] == "l"
    # Foreign-key order: a table comes after the tables it points at.
    names = [entry["table"] for entry in data["tables"]]
    assert names.index("manager") < names.index("band") < names.index("concert")
    assert names.index("playlist_entry") < names.index("play")

    if db.dialect.typed_storage:
        from conftest import fresh_postgres

        async with fresh_postgres(_server(db)) as target:
            await create_tables(*tables).run(engine=target)
            await load(text, tables, engine=target)
            _same(await _rows(tables, db), await _rows(tables, target))
    else:
        target = SQLiteEngine(tmp_path / "target.sqlite")
        try:
            await create_tables(*tables).run(engine=target)
            result = await load(io.StringIO(text), tables, engine=target)
            assert result.rows["scalars"] == 3 and result.total > 20
            _same(await _rows(tables, db), await _rows(tables, target))
        finally:
            await target.close()


def _server(engine: Engine) -> str:
    dsn: str = engine.config["dsn"]  # type: ignore[attr-defined]
    return dsn


async def test_sqlite_dump_loads_into_postgres(
    sqlite_engine: SQLiteEngine, pg_db: Engine, moods: ModuleType
) -> None:
    """The file is the same whatever the engine: SQLite's rows go into PostgreSQL."""
    tables = _all(moods)
    await _fill(sqlite_engine, moods)
    text = await dump(tables, engine=sqlite_engine)
    assert text is not None
    await create_tables(*tables).run(engine=pg_db)
    await load(text, tables, engine=pg_db)
    _same(await _rows(tables, sqlite_engine), await _rows(tables, pg_db))
    # And back: PostgreSQL's dump of them is the same file.
    assert await dump(tables, engine=pg_db) == text


async def test_batches_smaller_than_the_table(db: Engine) -> None:
    """Keyset pagination: every row once, in key order, a progress line per batch;
    a composite key pages over its three columns."""
    tables = [music.Manager, composite.Cell]
    await create_tables(*tables).run(engine=db)
    await music.Manager.insert(*[music.Manager(name=f"m{i}") for i in range(23)]).run(engine=db)
    cells = [
        composite.Cell(sheet=sheet, row=r, col=c, value="v")
        for sheet in ("b", "a")
        for r in (2, 1)
        for c in (3, 1, 2)
    ]
    await composite.Cell.insert(*cells).run(engine=db)
    lines: list[str] = []
    out = io.StringIO()
    assert await dump(tables, out, engine=db, batch_size=4, progress=lines.append) is None
    data = json.loads(out.getvalue())
    managers = data["tables"][0]["rows"]
    assert [r["id"] for r in managers] == list(range(1, 24))
    assert lines[:6] == [f"manager: {n}/23 rows" for n in (4, 8, 12, 16, 20, 23)]
    keys_read = [(r["sheet"], r["row"], r["col"]) for r in data["tables"][1]["rows"]]
    assert keys_read == sorted((c.sheet, c.row, c.col) for c in cells)
    assert lines[6:] == [f"cell: {n}/12 rows" for n in (4, 8, 12)]
    # One row per line: the file streams as it is written.
    assert out.getvalue().count("\n") == 1 + 2 * 2 + 23 + 12 + 1


async def test_load_in_batches_and_the_sequences_move_on(db: Engine) -> None:
    await create_tables(music.Manager).run(engine=db)
    text = json.dumps(
        {
            "format": "piccolo-gen fixtures",
            "version": 1,
            "tables": [
                {"table": "manager", "rows": [{"id": i * 10, "name": f"m{i}"} for i in range(1, 8)]}
            ],
        }
    )
    lines: list[str] = []
    await load(text, [music.Manager], engine=db, batch_size=3, progress=lines.append)
    assert lines == ["manager: 3/7 rows", "manager: 6/7 rows", "manager: 7/7 rows"]
    new = music.Manager(name="next")
    await new.save().run(engine=db)
    assert new.id == 71  # after the largest key loaded, on both engines


async def test_load_orders_the_tables_by_their_foreign_keys(db: Engine) -> None:
    """A hand-written file may list the tables in any order."""
    await create_tables(*music.TABLES).run(engine=db)
    data = {
        "format": "piccolo-gen fixtures",
        "version": 1,
        "tables": [
            {"table": "ticket", "rows": [{"concert": 1, "price": "10.50"}]},
            {"table": "concert", "rows": [{"id": 1, "band_1": 1, "band_2": 1, "venue": 1}]},
            {"table": "venue", "rows": [{"id": 1, "name": "hall"}]},
            {"table": "band", "rows": [{"id": 1, "name": "b", "manager": 1}]},
            {"table": "manager", "rows": [{"id": 1, "name": "m"}]},
        ],
    }
    result = await load(data, music.TABLES, engine=db)
    assert list(result.rows) == ["manager", "band", "venue", "concert", "ticket"]
    tickets = await music.Ticket.select(music.Ticket.price, music.Ticket.concert.venue.name).run(
        engine=db
    )
    assert tickets == [{"price": decimal.Decimal("10.50"), "concert.venue.name": "hall"}]
    ordered = fk_order(reversed(music.TABLES))
    for table in music.TABLES:
        for fk in table._meta.foreign_keys:
            assert ordered.index(fk.target()) < ordered.index(table), fk


async def test_upsert_updates_the_rows_that_exist(db: Engine) -> None:
    await create_tables(music.Manager, music.Band).run(engine=db)
    await music.Manager.insert(music.Manager(name="old"), music.Manager(name="kept")).run(engine=db)
    data = {
        "format": "piccolo-gen fixtures",
        "version": 1,
        "tables": [
            {"table": "manager", "rows": [{"id": 1, "name": "new"}, {"id": 3, "name": "third"}]}
        ],
    }
    before = await _rows([music.Manager], db)
    with pytest.raises(UniqueViolation):
        await load(data, [music.Manager], engine=db)
    assert await _rows([music.Manager], db) == before  # the whole load rolled back
    await load(data, [music.Manager], engine=db, upsert=True)
    names = (
        await music.Manager.select(music.Manager.id, music.Manager.name)
        .order_by(music.Manager.id)
        .output(as_tuples=True)
        .run(engine=db)
    )
    assert names == [(1, "new"), (2, "kept"), (3, "third")]


async def test_a_failed_load_changes_nothing(db: Engine) -> None:
    """A database error in the last table rolls back the tables before it."""
    await create_tables(*music.TABLES).run(engine=db)
    data = {
        "format": "piccolo-gen fixtures",
        "version": 1,
        "tables": [
            {"table": "manager", "rows": [{"id": 1, "name": "m"}]},
            {"table": "band", "rows": [{"id": 1, "name": "b", "manager": 1}]},
            {"table": "venue", "rows": [{"id": 1, "name": "v"}]},
            {"table": "concert", "rows": [{"id": 1, "band_1": 1, "band_2": 1, "venue": 1}]},
            {"table": "ticket", "rows": [{"concert": 1, "price": "-1.00"}]},
        ],
    }
    with pytest.raises(CheckViolation):
        await load(data, music.TABLES, engine=db)
    for table in music.TABLES:
        assert await table.count().run(engine=db) == 0, table


async def test_bad_rows_are_all_reported_and_nothing_is_written(db: Engine) -> None:
    await create_tables(music.Manager, music.Band, music.Shirt).run(engine=db)
    data = {
        "format": "piccolo-gen fixtures",
        "version": 1,
        "tables": [
            {"table": "manager", "rows": [{"id": 1, "name": "fine"}]},
            {
                "table": "band",
                "rows": [
                    {"id": 1, "name": "x" * 51},
                    {"id": 2, "nmae": "typo"},
                    {"id": "three", "name": "c"},
                ],
            },
            {"table": "shirt", "rows": [{"size": "z"}]},
            {"table": "nowhere", "rows": []},
        ],
    }
    with pytest.raises(FixtureError) as error:
        await load(data, [music.Manager, music.Band, music.Shirt], engine=db)
    message = str(error.value)
    assert message.startswith("5 problems in <data>; nothing was loaded:")
    assert "table 'nowhere': no such table among the tables given (band, manager, shirt)" in message
    assert "table 'band', row 1: Band.name holds at most 50 characters; got 51" in message
    assert "table 'band', row 2: Band has no column 'nmae'" in message
    assert "table 'band', row 3: Band.id expects int; got str 'three'" in message
    assert "table 'shirt', row 1: Shirt.size: 'z' is not one of Size" in message
    assert await music.Manager.count().run(engine=db) == 0


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ("[1, 2", "<text>:1:6: not JSON"),
        ("{}", 'not a fixtures file (no "format": "piccolo-gen fixtures")'),
        ('{"format": "piccolo-gen fixtures", "version": 2}', "fixtures version 2; this"),
        (
            '{"format": "piccolo-gen fixtures", "version": 1, "tables": [{"table": "manager",'
            ' "columns": {"name": "Integer"}}]}',
            "column 'name' is Integer in the file and Varchar in Manager",
        ),
    ],
)
async def test_files_that_are_not_fixtures(
    sqlite_engine: SQLiteEngine, data: str, message: str
) -> None:
    with pytest.raises(FixtureError, match=message.replace("(", r"\(").replace(")", r"\)")):
        await load(data, [music.Manager], engine=sqlite_engine)


async def test_cycles_load_into_an_empty_database(db: Engine, cycles: ModuleType) -> None:
    """A self-reference to a later row, a cycle closed by a nullable key, and
    one of two non-null deferrable keys: the rows go in as they were."""
    await create_tables(*cycles.TABLES).run(engine=db)
    await _fill_cycles(db, cycles)
    text = await dump(cycles.TABLES, engine=db)
    assert text is not None
    before = await _rows(cycles.TABLES, db)
    for table in reversed(cycles.TABLES):
        async with db.transaction():
            if table is cycles.Band:
                await table.update(headliner=None, mentor=None, force=True).run(engine=db)
                await cycles.Concert.delete(force=True).run(engine=db)
            await table.delete(force=True).run(engine=db)
    await load(text, list(reversed(cycles.TABLES)), engine=db, batch_size=1)
    _same(before, await _rows(cycles.TABLES, db))
    await load(text, cycles.TABLES, engine=db, upsert=True)
    _same(before, await _rows(cycles.TABLES, db))


def test_the_cli_dumps_and_loads(
    database_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """``piccolo-gen fixtures``: the tables of the configured package (here
    ``generated/``, named with ``--package``), on the database of ``--database``."""
    common = ["--database", database_url, "--package", str(ROOT / "generated")]
    out = tmp_path / "music.json"

    async def fill(engine: Engine) -> None:
        await create_tables(*TABLES).run(engine=engine)
        await music.Manager.insert(*[music.Manager(name=f"m{i}") for i in range(5)]).run(
            engine=engine
        )

    from generator.migrate_cli import engine_from_url
    from runtime import run_sync

    engine = engine_from_url(database_url)
    run_sync(fill(engine))
    run_sync(engine.close())
    assert main(["fixtures", "dump", *common, "--tables", "manager", "--out", str(out)]) == 0
    assert "manager: 5/5 rows" in capsys.readouterr().err
    written = json.loads(out.read_text())
    assert [t["table"] for t in written["tables"]] == ["manager"]
    assert main(["fixtures", "load", str(out), *common, "--quiet"]) == 1
    assert "--upsert updates the rows that exist; nothing was loaded" in capsys.readouterr().err
    assert main(["fixtures", "load", str(out), *common, "--upsert", "--quiet"]) == 0
    assert capsys.readouterr().err == f"loaded 5 rows from {out}\n"
    assert main(["fixtures", "dump", *common, "--tables", "nope"]) == 2
    assert "no table 'nope'" in capsys.readouterr().err
    assert main(["fixtures", "dump", *common, "--tables", "music.Manager", "--quiet"]) == 0
    assert json.loads(capsys.readouterr().out) == written
    # --tables on load: the file's other tables are left out.
    both = tmp_path / "both.json"
    assert (
        main(["fixtures", "dump", *common, "--tables", "manager", "band", "--out", str(both)]) == 0
    )
    assert main(["fixtures", "load", str(both), *common, "--tables", "band", "--quiet"]) == 0
    assert capsys.readouterr().err.endswith(f"loaded 0 rows from {both}\n")


async def test_a_dumped_file_is_read_a_line_at_a_time(db: Engine, tmp_path: Path) -> None:
    """A ``Path`` to a file in ``dump``'s layout is inserted batch by batch as it
    is read (progress comes before the end of the file is seen, without a total);
    a bad row at its end still leaves nothing written."""
    await create_tables(music.Manager, music.Band).run(engine=db)
    await music.Manager.insert(*[music.Manager(name=f"m{i}") for i in range(45)]).run(engine=db)
    path = tmp_path / "managers.json"
    with path.open("w") as file:
        await dump([music.Manager, music.Band], file, engine=db)
    before = await _rows([music.Manager], db)
    await music.Manager.delete(force=True).run(engine=db)
    lines: list[str] = []
    result = await load(
        path, [music.Manager, music.Band], engine=db, batch_size=10, progress=lines.append
    )
    assert lines == [f"manager: {n} rows" for n in (10, 20, 30, 40, 45)]
    assert result.rows == {"manager": 45, "band": 0}
    _same(before, await _rows([music.Manager], db))

    text = path.read_text().replace('"name": "m44"', '"name": "' + "x" * 60 + '"')
    path.write_text(text)
    await music.Manager.delete(force=True).run(engine=db)
    lines.clear()
    with pytest.raises(FixtureError, match="row 45: Manager.name holds at most 50"):
        await load(
            path, [music.Manager, music.Band], engine=db, batch_size=10, progress=lines.append
        )
    assert lines == [f"manager: {n} rows" for n in (10, 20, 30, 40)]  # read, then rolled back
    assert await music.Manager.count().run(engine=db) == 0


async def test_other_files_are_read_whole(db: Engine, tmp_path: Path) -> None:
    """Indented JSON, and a file of the layout whose tables are out of
    foreign-key order, load all the same."""
    await create_tables(music.Manager, music.Band).run(engine=db)
    data = {
        "format": "piccolo-gen fixtures",
        "version": 1,
        "tables": [
            {"table": "band", "rows": [{"id": 1, "name": "b", "manager": 1}]},
            {"table": "manager", "rows": [{"id": 1, "name": "m"}]},
        ],
    }
    indented = tmp_path / "indented.json"
    indented.write_text(json.dumps(data, indent=2))
    lines: list[str] = []
    await load(indented, [music.Manager, music.Band], engine=db, progress=lines.append)
    assert lines == ["manager: 1/1 rows", "band: 1/1 rows"]
    text = await dump([music.Manager, music.Band], engine=db)
    assert text is not None
    lines = text.split("\n")
    assert lines[3] == "]}," and lines[6:] == ["]}", "]}", ""]
    reordered = tmp_path / "reordered.json"
    reordered.write_text("\n".join([lines[0], *lines[4:6], "]},", *lines[1:3], "]}", "]}", ""]))
    for table in (music.Band, music.Manager):
        await table.delete(force=True).run(engine=db)
    await load(reordered, [music.Manager, music.Band], engine=db)
    assert await music.Band.select(music.Band.name, music.Band.manager.name).run(engine=db) == [
        {"name": "b", "manager.name": "m"}
    ]


async def test_tables_of_the_file_left_out(db: Engine, tmp_path: Path) -> None:
    """``skip``: sections of the file that are not loaded, read past in a
    streamed file (``--tables`` of ``fixtures load``)."""
    tables = [music.Manager, music.Band, music.Venue]
    await create_tables(*tables).run(engine=db)
    guido = music.Manager(name="Guido")
    await guido.save().run(engine=db)
    await music.Band(name="b", manager=guido).save().run(engine=db)
    await music.Venue(name="v").save().run(engine=db)
    path = tmp_path / "all.json"
    path.write_text(await dump(tables, engine=db) or "")
    await music.Venue.delete(force=True).run(engine=db)
    result = await load(path, [music.Venue], engine=db, skip=["manager", "band"])
    assert result.rows == {"venue": 1}
    assert await music.Venue.select(music.Venue.name).output(as_list=True).run(engine=db) == ["v"]
    # Bands alone: their keys point at managers the database has.
    await music.Band.delete(force=True).run(engine=db)
    result = await load(path, tables, engine=db, skip=["manager", "venue"])
    assert result.rows == {"band": 1}
    bands = music.Band.select(music.Band.name, music.Band.manager.name)
    assert await bands.run(engine=db) == [{"name": "b", "manager.name": "Guido"}]
