"""Views on both engines: created, read, refreshed, migrated, checked, introspected.

A view class (``runtime.View``, ``runtime.MaterializedView``) reads as a
table does and refuses every write. The oracles: a view's rows through
``select()`` and ``objects()`` are what raw SQL reads from it; the database
read back has the views the compiler lowers the state to (``compare`` finds
no difference, and on PostgreSQL each declared column has the declared
type); a materialized view shows new rows only after ``refresh()``; the
migrations forwards and backwards give each state in turn; drift and
``check_schema`` name a missing, an extra and a changed view; introspection
gives the views back.
"""

from __future__ import annotations

import datetime
import importlib
import subprocess
import sys
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from test_migrations import make_folder, rows

import runtime.migrations as migrations_api
from generated import music, reports
from generator.cli import main
from generator.introspect import introspect
from generator.state import schema_state
from runtime import (
    BigInt,
    Integer,
    MaterializedView,
    Table,
    Varchar,
    View,
    check_schema,
    create_tables,
    drop_tables,
)
from runtime._engine import Engine
from runtime.migrations import (
    AddUnique,
    AlterColumn,
    Column,
    CreateTable,
    CreateView,
    DropView,
    Index,
    RenameTable,
    Schema,
    Type,
    Unique,
    ViewColumn,
)
from runtime.migrations import Table as TableState
from runtime.migrations import View as ViewState
from runtime.migrations.drift import differences
from runtime.migrations.files import load_folder
from runtime.migrations.lint import lint
from runtime.migrations.runner import Runner
from runtime.schema.compare import compare
from runtime.schema.compile import compiler_for, statements_of
from runtime.schema.database import DbSchema
from runtime.schema.diff import diff
from runtime.schema.read import read_schema
from runtime.schema.state import SchemaStateError, of_tables

ROOT = Path(__file__).resolve().parent.parent


# -- the oracle ----------------------------------------------------------------------


async def assert_database_is(db: Engine, state: Schema) -> DbSchema:
    """The database has the tables and views of ``state`` (see the module doc)."""
    read = await read_schema(db)
    lowered = compiler_for(db.dialect).lower(state)
    assert compare(lowered, read) == []
    assert [v.name for v in read.views] == [v.name for v in lowered.views]
    for want in lowered.views:
        have = {c.name: c.type for c in read.view(want.name).columns}
        for column in want.columns:
            if db.dialect.name == "postgres":
                assert have[column.name] == column.type, (want.name, column.name)
            else:
                # SQLite types a view column that is a table's column only.
                assert have[column.name] in (column.type, None), (want.name, column.name)
        assert read.view(want.name).materialized == want.materialized
        assert read.view(want.name).indexes == want.indexes
    return read


# -- the project's views: music's tables, reports' views ---------------------------------


async def _fill(db: Engine) -> None:
    await create_tables(*music.TABLES, *reports.VIEWS).run(engine=db)
    guido, kate = await music.Manager.insert(
        music.Manager(name="Guido"), music.Manager(name="Kate")
    ).run(engine=db)
    await music.Band.insert(
        music.Band(name="Pythonistas", manager=guido, popularity=1000),
        music.Band(name="Rustaceans", manager=kate, popularity=500),
        music.Band(name="C-Sharps", popularity=100),
        music.Band(name="Gophers", popularity=10),
    ).run(engine=db)
    await music.Venue.insert(music.Venue(name="Arena"), music.Venue(name="Club")).run(engine=db)
    await music.Concert.insert(
        music.Concert(band_1=1, band_2=2, venue=1, starts=datetime.datetime(2024, 5, 1, 20, 30)),
        music.Concert(band_1=1, band_2=3, venue=2, starts=datetime.datetime(2024, 6, 2, 19)),
    ).run(engine=db)


async def raw(db: Engine, sql: str) -> list[tuple[Any, ...]]:
    return [tuple(r) for r in await db.fetch(sql)]


async def test_select_and_objects_read_what_raw_sql_reads(db: Engine) -> None:
    await _fill(db)
    await assert_database_is(db, of_tables([*music.TABLES, *reports.VIEWS]))
    PopularBand, ConcertDay = reports.PopularBand, reports.ConcertDay
    expected = await raw(
        db,
        'SELECT "band", "name", "manager_name", "popularity" FROM "popular_band" ORDER BY "band"',
    )
    assert expected == [
        (1, "Pythonistas", "Guido", 1000),
        (2, "Rustaceans", "Kate", 500),
        (3, "C-Sharps", None, 100),
    ]
    got = await PopularBand.select().order_by(PopularBand.band).run(engine=db)
    assert [tuple(r.values()) for r in got] == expected
    assert list(got[0]) == ["band", "name", "manager_name", "popularity"]
    objects = await PopularBand.objects().order_by(PopularBand.band).run(engine=db)
    assert [(o.band, o.name, o.manager_name, o.popularity) for o in objects] == expected
    assert repr(objects[0]) == "<PopularBand band=1>"
    # Conditions, limits, counts, a join through the view's foreign key.
    q = PopularBand.select(PopularBand.name).where(PopularBand.popularity < 1000)
    q = q.order_by(PopularBand.popularity, ascending=False).limit(5)
    assert await q.output(as_list=True).run(engine=db) == ["Rustaceans", "C-Sharps"]
    assert await PopularBand.count().run(engine=db) == 3
    assert await PopularBand.count().where(PopularBand.manager_name.is_null()).run(engine=db) == 1
    assert await PopularBand.exists().where(PopularBand.name == "Gophers").run(engine=db) is False
    joined = PopularBand.select(PopularBand.name, PopularBand.band.manager.name).order_by(
        PopularBand.band
    )
    assert await joined.output(as_tuples=True).run(engine=db) == [
        ("Pythonistas", "Guido"),
        ("Rustaceans", "Kate"),
        ("C-Sharps", None),
    ]
    one = await PopularBand.objects().get(PopularBand.band == 2).run(engine=db)
    assert one is not None and one.name == "Rustaceans"
    band = await one.get_related(PopularBand.band).run(engine=db)
    assert isinstance(band, music.Band) and band.name == "Rustaceans"
    assert one.to_dict() == {
        "band": 2,
        "name": "Rustaceans",
        "manager_name": "Kate",
        "popularity": 500,
    }
    assert await PopularBand.objects().where(PopularBand.band > 5).first().run(engine=db) is None
    # Per-dialect SQL, and values decoded as the declared type on both engines.
    days = await ConcertDay.select().order_by(ConcertDay.concert).run(engine=db)
    assert days == [
        {"concert": 1, "venue": "Arena", "day": datetime.date(2024, 5, 1)},
        {"concert": 2, "venue": "Club", "day": datetime.date(2024, 6, 2)},
    ]
    # The SQL of a query over a view names the view.
    assert (
        str(PopularBand.select(PopularBand.name))
        == 'SELECT "popular_band"."name" FROM "popular_band"'
    )


async def test_a_materialized_view_shows_new_rows_after_refresh(db: Engine) -> None:
    await _fill(db)
    BandConcerts = reports.BandConcerts
    query = BandConcerts.select(BandConcerts.name, BandConcerts.concerts).order_by(
        BandConcerts.band
    )
    before = [("Pythonistas", 2), ("Rustaceans", 1), ("C-Sharps", 1), ("Gophers", 0)]
    if db.dialect.name == "postgres":
        # Created with the tables, before their rows: empty until refreshed.
        assert await query.output(as_tuples=True).run(engine=db) == []
        await BandConcerts.refresh().run(engine=db)
    assert await query.output(as_tuples=True).run(engine=db) == before
    await music.Concert.insert(music.Concert(band_1=4, band_2=2, venue=1)).run(engine=db)
    after = [("Pythonistas", 2), ("Rustaceans", 2), ("C-Sharps", 1), ("Gophers", 1)]
    raw_sql = 'SELECT "name", "concerts" FROM "band_concerts" ORDER BY "band"'
    if db.dialect.name == "postgres":
        # The rows kept when it was created (or last refreshed).
        assert await query.output(as_tuples=True).run(engine=db) == before
        assert await raw(db, raw_sql) == before
        assert str(BandConcerts.refresh()) == 'REFRESH MATERIALIZED VIEW "band_concerts"'
        await BandConcerts.refresh().run(engine=db)
        assert await raw(db, raw_sql) == after
        await music.Concert.insert(music.Concert(band_1=3, band_2=4, venue=2)).run(engine=db)
        # Concurrently: its unique index (the primary key's) allows it.
        await BandConcerts.refresh(concurrently=True).run(engine=db)
        assert await query.output(as_tuples=True).run(engine=db) == [
            ("Pythonistas", 2),
            ("Rustaceans", 2),
            ("C-Sharps", 2),
            ("Gophers", 2),
        ]
    else:
        # A plain view on SQLite: always current; refresh() does nothing.
        assert await query.output(as_tuples=True).run(engine=db) == after
        await BandConcerts.refresh(concurrently=True).run(engine=db)
        assert await raw(db, raw_sql) == after
    indexed = await BandConcerts.objects().get(BandConcerts.band == 2).run(engine=db)
    assert indexed is not None and indexed.concerts == 2


async def test_writes_raise_before_any_sql(db: Engine) -> None:
    await _fill(db)
    PopularBand = reports.PopularBand
    row = await PopularBand.objects().first().run(engine=db)
    assert row is not None
    attempts: list[Any] = [
        lambda: PopularBand.insert(row),
        lambda: PopularBand.insert_many([row]),
        lambda: PopularBand.update({PopularBand.popularity: 1}, force=True),
        lambda: PopularBand.delete(force=True),
        lambda: PopularBand.alter(),
        lambda: row.save(),
        lambda: row.remove(),
        lambda: row.refresh(),
        lambda: PopularBand(name="x"),
        lambda: PopularBand.objects().create(name="x"),
        lambda: PopularBand.objects().get_or_create(PopularBand.name == "x"),
    ]
    for attempt in attempts:
        with pytest.raises(TypeError, match="PopularBand is a view, which is read-only"):
            attempt()
    assert len(await raw(db, 'SELECT * FROM "band"')) == 4


async def test_create_and_drop_tables_with_views(db: Engine) -> None:
    tables, views = music.TABLES, reports.VIEWS
    await create_tables(*tables, *views).run(engine=db)
    # Created again, if not there: a no-op on both engines.
    await create_tables(*tables, *views, if_not_exists=True).run(engine=db)
    state = of_tables([*tables, *views])
    await assert_database_is(db, state)
    # Views go first (before the tables they read), in reverse order.
    sql = str(drop_tables(*tables, *views))
    assert sql.index('DROP VIEW "popular_band"') < sql.index('DROP TABLE "band"')
    assert sql.index('"band_concerts"') < sql.index('"concert_day"')
    await drop_tables(*tables, *views).run(engine=db)
    assert await read_schema(db) == DbSchema(db.dialect.name, ())
    await drop_tables(*tables, *views, if_exists=True).run(engine=db)


def test_the_generated_views() -> None:
    source = (ROOT / "generated" / "reports.py").read_text()
    assert 'class PopularBand(\n    View[PopularBandRow],\n    viewname="popular_band",' in source
    assert "class BandConcerts(\n    MaterializedView[BandConcertsRow]," in source
    assert "VIEWS = (PopularBand, ConcertDay, BandConcerts)" in source
    assert "TABLES = ()" in source
    assert music.VIEWS == ()
    assert issubclass(reports.PopularBand, View) and issubclass(reports.BandConcerts, View)
    assert issubclass(reports.BandConcerts, MaterializedView)
    state = of_tables(reports.VIEWS)
    assert state.tables == ()
    popular = state.view("popular_band")
    assert popular.columns == (
        ViewColumn("band", Type("Integer")),
        ViewColumn("name", Type("Varchar", length=50)),
        ViewColumn("manager_name", Type("Varchar", length=50)),
        ViewColumn("popularity", Type("Integer")),
    )
    concerts = state.view("band_concerts")
    assert concerts.materialized
    assert concerts.indexes == (
        Index("band_concerts_pkey", ("band",), unique=True),
        Index("band_concerts_concerts", ("concerts",)),
    )
    day = state.view("concert_day")
    assert isinstance(day.sql, dict) and set(day.sql) == {"postgres", "sqlite"}


# -- state, operations, differ ---------------------------------------------------------

BAND = TableState(
    "vw_band",
    columns=(
        Column("id", Type("Serial"), primary_key=True),
        Column("name", Type("Varchar", length=50), default=""),
        Column("popularity", Type("Integer"), default=0),
    ),
)
OTHER = TableState("vw_other", columns=(Column("id", Type("Serial"), primary_key=True),))
TOP = ViewState(
    "vw_top",
    sql='SELECT "name", "popularity" FROM "vw_band" WHERE "popularity" > 10',
    columns=(
        ViewColumn("name", Type("Varchar", length=50)),
        ViewColumn("popularity", Type("Integer")),
    ),
)
# Reads the view above (bare, in another case: SQL folds it).
TOP_NAMES = ViewState("vw_top_names", sql="SELECT name FROM VW_TOP", columns=TOP.columns[:1])
STATS = ViewState(
    "vw_stats",
    sql={
        "postgres": 'SELECT count(*) AS "bands", max("popularity") AS "best" FROM "vw_band"',
        "sqlite": 'SELECT count(*) AS "bands", max("popularity") AS "best" FROM "vw_band"',
    },
    columns=(ViewColumn("bands", Type("BigInt")), ViewColumn("best", Type("Integer"))),
    materialized=True,
    indexes=(Index("vw_stats_bands_key", ("bands",), unique=True),),
)
OTHERS = ViewState(
    "vw_others", sql="SELECT id FROM vw_other", columns=(ViewColumn("id", Type("Integer")),)
)


def _apply(state: Schema, operations: list[Any]) -> Schema:
    for op in operations:
        state = op.apply(state)
    return state


def test_a_view_is_its_source_text() -> None:
    namespace = {name: getattr(migrations_api, name) for name in migrations_api.__all__}
    for view in (TOP, STATS):
        assert eval(repr(view), namespace) == view  # noqa: S307 - our own text
        assert eval(repr(CreateView(view)), namespace) == CreateView(view)  # noqa: S307
    assert STATS.sql_for("sqlite") == STATS.sql_for("postgres")
    assert TOP.reads({"vw_band", "vw_other", "band"}) == {"vw_band"}
    assert TOP_NAMES.reads({"vw_top", "vw_band"}) == {"vw_top"}


def test_the_state_refuses_what_cannot_be() -> None:
    with pytest.raises(SchemaStateError, match="has no columns"):
        ViewState("v", sql="SELECT 1", columns=())
    with pytest.raises(SchemaStateError, match="has no SQL"):
        ViewState("v", sql=" ", columns=TOP.columns)
    with pytest.raises(SchemaStateError, match="two columns 'name'"):
        ViewState("v", sql="SELECT 1", columns=(TOP.columns[0], TOP.columns[0]))
    with pytest.raises(SchemaStateError, match="not materialized"):
        ViewState("v", sql="SELECT 1", columns=TOP.columns, indexes=STATS.indexes)
    with pytest.raises(SchemaStateError, match="no SQL for sqlite"):
        ViewState("v", sql={"postgres": "SELECT 1"}, columns=TOP.columns).sql_for("sqlite")
    with pytest.raises(SchemaStateError, match="name of a table and of a view"):
        Schema((BAND,), views=(ViewState("vw_band", sql="SELECT 1", columns=TOP.columns),))
    state = Schema((BAND,), views=(TOP,))
    with pytest.raises(SchemaStateError, match="exists already"):
        CreateView(TOP).apply(state)
    with pytest.raises(SchemaStateError, match="a view named 'vw_top' exists already"):
        CreateTable(replace_name(BAND, "vw_top")).apply(state)
    with pytest.raises(SchemaStateError, match="no view 'vw_nope'"):
        DropView("vw_nope").apply(state)
    assert DropView("vw_top").inverse(state) == CreateView(TOP)
    assert CreateView(STATS).inverse(state) == DropView("vw_stats")


def replace_name(table: TableState, name: str) -> TableState:
    return TableState(name, columns=table.columns)


def test_the_differ_drops_views_first_and_creates_them_last() -> None:
    old = Schema((BAND, OTHER), views=(TOP, TOP_NAMES, OTHERS))
    # A new view, after every table operation.
    grown = Schema((BAND, OTHER), views=(TOP, TOP_NAMES, OTHERS, STATS))
    assert diff(old, grown).operations == [CreateView(STATS)]
    assert diff(grown, old).operations == [DropView("vw_stats")]
    # A changed view is dropped and created again; the view reading it too.
    changed = ViewState("vw_top", sql=TOP.sql_for("sqlite") + " AND 1 = 1", columns=TOP.columns)
    new = Schema((BAND, OTHER), views=(changed, TOP_NAMES, OTHERS))
    assert diff(old, new).operations == [
        DropView("vw_top_names"),
        DropView("vw_top"),
        CreateView(changed),
        CreateView(TOP_NAMES),
    ]
    # A column type changed under unchanged views: they are made again
    # around it (PostgreSQL refuses the change under a view), those over
    # other tables are not.
    wider = TableState(
        "vw_band",
        columns=(*BAND.columns[:2], Column("popularity", Type("BigInt"), default=0)),
    )
    operations = diff(old, Schema((wider, OTHER), views=(TOP, TOP_NAMES, OTHERS))).operations
    assert operations == [
        DropView("vw_top_names"),
        DropView("vw_top"),
        AlterColumn("vw_band", "popularity", type=Type("BigInt")),
        CreateView(TOP),
        CreateView(TOP_NAMES),
    ]
    # A change the database makes under a view leaves the views alone.
    unique = Schema(
        (replace(BAND, unique=(Unique("vw_band_name", ("name",)),)), OTHER), views=old.views
    )
    assert diff(old, unique).operations == [AddUnique("vw_band", Unique("vw_band_name", ("name",)))]
    # Each way, and undone.
    for before, after in ((old, new), (new, old), (old, grown), (Schema(), grown)):
        found = diff(before, after).operations
        assert _apply(before, found) == after
        state, inverses = before, []
        for op in found:
            inverses.append(op.inverse(state))
            state = op.apply(state)
        assert _apply(state, list(reversed(inverses))) == before
        assert not diff(after, after)


def test_lint_says_a_materialized_view_runs_its_query() -> None:
    before = Schema((BAND,))
    findings = lint([CreateView(STATS)], before)
    assert [(f.kind, f.code, f.subject) for f in findings] == [
        ("data", "materialized-view", "vw_stats")
    ]
    assert lint([CreateView(TOP)], before) == []
    # Over tables created by the same migration (empty): nothing to say.
    assert lint([CreateTable(BAND), CreateView(STATS)], Schema()) == []


# -- migrations --------------------------------------------------------------------------


async def test_migrations_forwards_and_backwards(db: Engine, tmp_path: Path) -> None:
    changed = ViewState(
        "vw_top",
        sql='SELECT "name", "popularity" FROM "vw_band" WHERE "popularity" > 100',
        columns=TOP.columns,
    )
    folder = make_folder(
        tmp_path / "migrations",
        [CreateTable(BAND), CreateTable(OTHER)],
        [CreateView(TOP), CreateView(TOP_NAMES), CreateView(STATS)],
        [DropView("vw_top_names"), DropView("vw_top"), CreateView(changed), CreateView(TOP_NAMES)],
        [DropView("vw_stats")],
    )
    states = folder.states()
    runner = Runner(db, folder)
    await runner.forwards("0001_step1")
    p = db.dialect.placeholder
    for name, popularity in (("a", 5), ("b", 50), ("c", 500)):
        await db.execute(
            f'INSERT INTO "vw_band" ("name", "popularity") VALUES ({p(1)}, {p(2)})',
            [name, popularity],
        )
    names = 'SELECT "name" FROM "vw_top_names" ORDER BY 1'
    for step, expected in ((2, [("b",), ("c",)]), (3, [("c",)]), (4, [("c",)])):
        await runner.forwards(folder.ids()[step - 1])
        await assert_database_is(db, states[step])
        assert await raw(db, names) == expected
    await runner.backwards("0002_step2")
    await assert_database_is(db, states[2])
    assert await raw(db, names) == [("b",), ("c",)]
    stats = await raw(db, 'SELECT "bands", "best" FROM "vw_stats"')
    assert stats == [(3, 500)]  # created again: its query ran over the rows there are
    await runner.backwards("0001_step1")
    await assert_database_is(db, states[1])
    assert await rows(db, "vw_band", '"name"') == [("a",), ("b",), ("c",)]
    await runner.backwards("zero")
    assert await read_schema(db) == DbSchema(db.dialect.name, ())


async def test_a_column_type_changes_under_a_view(db: Engine, tmp_path: Path) -> None:
    """PostgreSQL refuses to change the type of a column a view reads; the
    differ makes the view again around the change. SQLite rebuilds the table,
    and its views read the new one."""
    old = Schema((BAND,), views=(TOP, TOP_NAMES, STATS))
    wider = TableState(
        "vw_band",
        columns=(
            Column("id", Type("Serial"), primary_key=True),
            Column("name", Type("Varchar", length=80), default=""),
            Column("popularity", Type("BigInt"), default=0),
        ),
        unique=(Unique("vw_band_name_popularity", ("name", "popularity")),),
    )
    top = ViewState(
        "vw_top",
        sql=TOP.sql,
        columns=(
            ViewColumn("name", Type("Varchar", length=80)),
            ViewColumn("popularity", Type("BigInt")),
        ),
    )
    stats = ViewState(
        "vw_stats", sql=STATS.sql, columns=(STATS.columns[0], ViewColumn("best", Type("BigInt"))),
        materialized=True, indexes=STATS.indexes,
    )  # fmt: skip
    names = ViewState("vw_top_names", sql=TOP_NAMES.sql, columns=top.columns[:1])
    new = Schema((wider,), views=(top, names, stats))
    folder = make_folder(
        tmp_path / "migrations",
        diff(Schema(), old).operations,
        diff(old, new).operations,
    )
    runner = Runner(db, folder)
    await runner.forwards("0001_step1")
    p = db.dialect.placeholder
    await db.execute(
        f'INSERT INTO "vw_band" ("name", "popularity") VALUES ({p(1)}, {p(2)})', ["big", 99]
    )
    await runner.forwards()
    await assert_database_is(db, new)
    assert await raw(db, 'SELECT "name", "popularity" FROM "vw_top"') == [("big", 99)]
    assert await raw(db, 'SELECT "bands", "best" FROM "vw_stats"') == [(1, 99)]
    await runner.backwards("0001_step1")
    await assert_database_is(db, old)
    assert await raw(db, 'SELECT "name" FROM "vw_top_names"') == [("big",)]


async def test_a_sqlite_rebuild_keeps_the_views_that_read_the_table(
    sqlite_engine: Engine, tmp_path: Path
) -> None:
    """A change SQLite makes by rebuilding the table (a new unique
    constraint) leaves an unchanged view in place: it reads the new table."""
    old = Schema((BAND,), views=(TOP, TOP_NAMES))
    new = Schema((replace(BAND, unique=(Unique("vw_band_name", ("name",)),)),), views=old.views)
    change = diff(old, new).operations
    assert change == [AddUnique("vw_band", Unique("vw_band_name", ("name",)))]
    folder = make_folder(tmp_path / "migrations", diff(Schema(), old).operations, change)
    runner = Runner(sqlite_engine, folder)
    await runner.forwards("0001_step1")
    await sqlite_engine.execute("""INSERT INTO "vw_band" ("name", "popularity") VALUES ('x', 20)""")
    await runner.forwards()
    await assert_database_is(sqlite_engine, new)
    assert await raw(sqlite_engine, 'SELECT "name" FROM "vw_top_names"') == [("x",)]
    steps = statements_of(compiler_for("sqlite").compile(change[0], old))
    assert steps and not any("VIEW" in sql for sql in steps)


VIEW_SCHEMA = """\
tables:
  Player:
    tablename: vw_player
    columns:
      name: {type: varchar, length: 40}
      score: {type: integer, default: 0}
views:
  Leader:
    viewname: vw_leader
    sql: SELECT id AS player, name, score FROM vw_player WHERE score >= 10
    columns:
      player: {type: foreign_key, references: Player, primary_key: true}
      name: {type: varchar, length: 40}
      score: {type: integer}
"""


def _cli(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "generator", *args], capture_output=True, text=True, cwd=cwd
    )


def test_migrations_new_auto_writes_view_operations(database_url: str, tmp_path: Path) -> None:
    schema = tmp_path / "schema"
    schema.mkdir()
    path = schema / "game.yaml"
    path.write_text(VIEW_SCHEMA)
    folder = tmp_path / "migrations"
    common = ("--schema", str(schema), "--folder", str(folder))
    first = _cli("migrations", "new", "--auto", *common, cwd=ROOT)
    assert first.returncode == 0, first.stdout + first.stderr
    (initial,) = sorted(folder.glob("0001_*.py"))
    assert initial.name == "0001_initial.py"
    text = initial.read_text()
    assert "CreateView(" in text and "ViewColumn(" in text
    forwards = _cli(
        "migrations", "forwards", "--folder", str(folder), "--database", database_url, cwd=ROOT
    )
    assert forwards.returncode == 0, forwards.stdout + forwards.stderr
    # The view's SQL changes: it is dropped and created again.
    path.write_text(VIEW_SCHEMA.replace("score >= 10", "score >= 20"))
    second = _cli("migrations", "new", "--auto", *common, cwd=ROOT)
    assert second.returncode == 0, second.stdout + second.stderr
    (changed,) = sorted(folder.glob("0002_*.py"))
    assert changed.name == "0002_change_view_vw_leader_and_more.py"
    assert 'DropView(name="vw_leader")' in changed.read_text()
    forwards = _cli(
        "migrations", "forwards", "--folder", str(folder), "--database", database_url, cwd=ROOT
    )
    assert forwards.returncode == 0, forwards.stdout + forwards.stderr
    check = _cli("migrations", "check", *common, "--database", database_url, cwd=ROOT)
    assert check.returncode == 0, check.stdout + check.stderr
    back = _cli(
        "migrations",
        "backwards",
        "zero",
        "--folder",
        str(folder),
        "--database",
        database_url,
        cwd=ROOT,
    )
    assert back.returncode == 0, back.stdout + back.stderr


# -- drift and check_schema ---------------------------------------------------------------


async def test_drift_names_a_missing_an_extra_and_a_changed_view(db: Engine) -> None:
    state = Schema((BAND,), views=(TOP, STATS))
    await create_tables(*_classes()).run(engine=db)
    await assert_database_is(db, state)
    lowered = compiler_for(db.dialect).lower(state)
    assert differences(lowered, await read_schema(db)) == []
    kind = "MATERIALIZED VIEW" if db.dialect.name == "postgres" else "VIEW"
    await db.execute(f'DROP {kind} "vw_stats"')
    await db.execute('CREATE VIEW "vw_extra" AS SELECT "id" FROM "vw_band"')
    await db.execute('DROP VIEW "vw_top"')
    await db.execute('CREATE VIEW "vw_top" AS SELECT "name" AS "label" FROM "vw_band"')
    found = differences(lowered, await read_schema(db))
    stats = (
        "MATERIALIZED VIEW (bands BIGINT, best INTEGER) INDEXES (UNIQUE vw_stats_bands_key (bands))"
    )
    if db.dialect.name == "sqlite":
        stats = "VIEW (bands INTEGER, best INTEGER)"
    assert found == [
        "view vw_extra is in the database, but no migration creates it (VIEW (id INTEGER))",
        f"view vw_stats is missing from the database ({stats})",
        "view vw_top differs: VIEW () in the database, VIEW (name VARCHAR(50), popularity"
        " INTEGER) in the migrations",
    ]
    # A view of another type, on PostgreSQL, where the catalog says it.
    await db.execute('DROP VIEW "vw_top"')
    await db.execute(
        'CREATE VIEW "vw_top" AS SELECT "name", CAST("popularity" AS TEXT) AS "popularity"'
        ' FROM "vw_band"'
    )
    found = differences(lowered, await read_schema(db))
    changed = [line for line in found if line.startswith("view vw_top")]
    if db.dialect.name == "postgres":
        assert changed == [
            "view vw_top differs: VIEW (name VARCHAR(50), popularity TEXT) in the database,"
            " VIEW (name VARCHAR(50), popularity INTEGER) in the migrations"
        ]
    else:
        assert changed == []  # SQLite declares no type for an expression's column


def _classes() -> list[type[Any]]:
    class Band(Table[dict[str, Any]], tablename="vw_band"):
        name = Varchar(length=50)
        popularity = Integer(default=0)

    class Top(View[dict[str, Any]], viewname="vw_top", sql=TOP.sql):
        name = Varchar(length=50)
        popularity = Integer()

    class Stats(MaterializedView[dict[str, Any]], viewname="vw_stats", sql=STATS.sql):
        bands = BigInt(unique=True)
        best = Integer(null=True)

    assert of_tables([Band, Top, Stats]) == Schema((BAND,), views=(TOP, STATS))
    return [Band, Top, Stats]


async def test_check_schema_reports_views(db: Engine) -> None:
    band, top, stats = _classes()
    await create_tables(band, top, stats).run(engine=db)
    report = await check_schema(band, top, stats).run(engine=db)
    assert report.ok, str(report)
    await db.execute('DROP VIEW "vw_top"')
    await db.execute('CREATE VIEW "vw_top" AS SELECT "name" FROM "vw_band"')
    kind = "MATERIALIZED VIEW" if db.dialect.name == "postgres" else "VIEW"
    await db.execute(f'DROP {kind} "vw_stats"')
    report = await check_schema(band, top, stats).run(engine=db)
    assert not report.ok
    assert [(p.severity, p.kind, p.name) for p in report.errors] == [
        ("error", "missing_view", "vw_stats"),
        ("error", "view", "vw_top"),
    ]
    assert "view vw_top is VIEW (name VARCHAR(50)) in the database" in str(report)


# -- introspection ------------------------------------------------------------------------

INTROSPECTED = {
    "postgres": """
CREATE TABLE "Player" (id serial PRIMARY KEY, name varchar(40) NOT NULL, score integer);
CREATE VIEW "Leader" AS SELECT id AS player, name, score FROM "Player" WHERE score >= 10;
CREATE VIEW top_name AS SELECT name FROM "Leader";
CREATE MATERIALIZED VIEW scores AS SELECT id, score, score * 2 AS double_score FROM "Player";
CREATE UNIQUE INDEX scores_pkey ON scores (id);
CREATE INDEX scores_score ON scores (score);
CREATE INDEX scores_other ON scores (score, id);
""",
    "sqlite": """
CREATE TABLE "Player" (id INTEGER PRIMARY KEY, name VARCHAR(40) NOT NULL, score INTEGER);
CREATE VIEW "Leader" AS SELECT id AS player, name, score FROM "Player" WHERE score >= 10;
CREATE VIEW top_name AS SELECT name FROM "Leader";
CREATE VIEW scores AS SELECT id, score, score * 2 AS double_score FROM "Player";
""",
}


async def test_introspect_gives_the_views_back(db: Engine, tmp_path: Path) -> None:
    postgres = db.dialect.name == "postgres"
    script = INTROSPECTED[db.dialect.name]
    for statement in [s for s in script.split(";\n") if s.strip()]:
        await db.execute(statement)
    result = await introspect(db)
    text = result.text
    assert "  Leader:\n    viewname: Leader\n" in text
    # A view that reads another comes after it.
    assert text.index("  Leader:") < text.index("  TopName:")
    assert "      player: {type: integer, null: true}\n" in text
    if postgres:
        assert "  Scores:\n    materialized: true\n" in text
        assert "      id: {type: integer, primary_key: true}\n" in text
        assert "      score: {type: integer, null: true, index: true}\n" in text
        assert "      double_score: {type: integer, null: true}\n" in text
        assert result.left_out == ("scores: index 'scores_other' (score, id) (left out)",)
    else:
        assert "materialized" not in text
        assert result.left_out == (
            "scores: column 'double_score': the database declares no type for it (left out;"
            " add it with the type its values have)",
        )
    path = tmp_path / "legacy.yaml"
    path.write_text(text)
    rebuilt = schema_state([path])
    assert isinstance(rebuilt, Schema), rebuilt
    read = await read_schema(db)
    differences_found = [
        d for d in compare(compiler_for(db.dialect).lower(rebuilt), read) if "view" in d.kind
    ]
    if postgres:
        # The index the file cannot hold is the one difference.
        assert [d.kind for d in differences_found] == ["view"]
    else:
        assert differences_found == []
    # Built, its views' SQL is the database's own.
    package = f"vw_legacy_{db.dialect.name}"
    assert main(["build", "--schema", str(path), "--out", str(tmp_path / package)]) == 0
    sys.path.insert(0, str(tmp_path))
    try:
        module = importlib.import_module(f"{package}.legacy")
    finally:
        sys.path.remove(str(tmp_path))
    assert [v._meta.tablename for v in module.VIEWS] == ["Leader", "scores", "top_name"]
    for view in module.VIEWS:
        assert view._meta.view.sql == read.view(view._meta.tablename).sql
    await db.execute("""INSERT INTO "Player" (name, score) VALUES ('a', 12), ('b', 3)""")
    leaders = await module.Leader.select().run(engine=db)
    assert leaders == [{"player": 1, "name": "a", "score": 12}]


# -- the schema language -------------------------------------------------------------------


def test_a_toml_schema_declares_views_too(tmp_path: Path) -> None:
    yaml_dir, toml_dir = tmp_path / "yaml", tmp_path / "toml"
    yaml_dir.mkdir()
    toml_dir.mkdir()
    (yaml_dir / "game.yaml").write_text(VIEW_SCHEMA)
    (toml_dir / "game.toml").write_text("""\
[tables.Player]
tablename = "vw_player"
[tables.Player.columns]
name = {type = "varchar", length = 40}
score = {type = "integer", default = 0}

[views.Leader]
viewname = "vw_leader"
sql = "SELECT id AS player, name, score FROM vw_player WHERE score >= 10"
[views.Leader.columns]
player = {type = "foreign_key", references = "Player", primary_key = true}
name = {type = "varchar", length = 40}
score = {type = "integer"}
""")
    assert main(["build", "--schema", str(yaml_dir), "--out", str(tmp_path / "a")]) == 0
    assert main(["build", "--schema", str(toml_dir), "--out", str(tmp_path / "b")]) == 0
    a = (tmp_path / "a" / "game.py").read_text()
    b = (tmp_path / "b" / "game.py").read_text()
    assert a.replace("game.yaml", "game.toml") == b
    assert "class Leader(\n    View[LeaderRow]," in a
    assert "    player: PlayerJoin = PlayerJoin(lambda: Player, primary_key=True)\n" in a


async def test_a_generated_view_on_both_engines(db: Engine, tmp_path: Path) -> None:
    schema = tmp_path / "schema"
    schema.mkdir()
    (schema / "game.yaml").write_text(VIEW_SCHEMA)
    package = f"vw_game_{db.dialect.name}"
    assert main(["build", "--schema", str(schema), "--out", str(tmp_path / package)]) == 0
    sys.path.insert(0, str(tmp_path))
    try:
        game = importlib.import_module(f"{package}.game")
    finally:
        sys.path.remove(str(tmp_path))
    await create_tables(*game.TABLES, *game.VIEWS).run(engine=db)
    await game.Player.insert(game.Player(name="a", score=15), game.Player(name="b")).run(engine=db)
    leaders = await game.Leader.objects().run(engine=db)
    assert [(x.player, x.name, x.score) for x in leaders] == [(1, "a", 15)]
    player = await leaders[0].get_related(game.Leader.player).run(engine=db)
    assert player.name == "a"
    await assert_database_is(db, of_tables([*game.TABLES, *game.VIEWS]))


async def test_squash_keeps_the_views(db: Engine, tmp_path: Path) -> None:
    folder = tmp_path / "migrations"
    migrations = make_folder(
        folder,
        [CreateTable(BAND)],
        [CreateView(TOP), CreateView(STATS)],
        [CreateView(TOP_NAMES), DropView("vw_stats")],
    )
    state = migrations.state()
    assert main(["migrations", "squash", "0003", "--folder", str(folder)]) == 0
    squashed = load_folder(folder)
    assert squashed.ids() == ["0003_squashed"]
    assert squashed.state() == state
    assert "CreateView(" in (folder / "0003_squashed.py").read_text()
    await Runner(db, squashed).forwards()
    await assert_database_is(db, state)


ENUM_SCHEMA = """\
enums:
  Mood: {native: true, name: vw_mood, values: {sad: sad, happy: happy, glad: glad}}
tables:
  Person:
    tablename: vw_person
    columns:
      name: {type: varchar, length: 20}
      mood: {type: enum, choices: Mood, null: true}
views:
  Happy:
    viewname: vw_happy
    sql: SELECT name, mood FROM vw_person WHERE mood IS NOT NULL
    columns:
      name: {type: varchar, length: 20}
      mood: {type: enum, choices: Mood}
"""


async def test_a_view_of_an_enum_column(db: Engine, tmp_path: Path) -> None:
    """A view's column of a native enum type: its values are members, the
    catalog types it with the enum type (PostgreSQL), and a value the type
    loses is removed under the view (which is made again around it)."""
    schema = tmp_path / "schema"
    schema.mkdir()
    (schema / "people.yaml").write_text(ENUM_SCHEMA)
    package = f"vw_people_{db.dialect.name}"
    assert main(["build", "--schema", str(schema), "--out", str(tmp_path / package)]) == 0
    sys.path.insert(0, str(tmp_path))
    try:
        people = importlib.import_module(f"{package}.people")
    finally:
        sys.path.remove(str(tmp_path))
    state = of_tables([*people.TABLES, *people.VIEWS])
    assert state.view("vw_happy").columns[1] == ViewColumn("mood", Type("Enum", enum="vw_mood"))
    folder = make_folder(tmp_path / "migrations", diff(Schema(), state).operations)
    await Runner(db, folder).forwards()
    await assert_database_is(db, state)
    Person, Happy, Mood = people.Person, people.Happy, people.Mood
    await Person.insert(Person(name="a", mood=Mood.happy), Person(name="b")).run(engine=db)
    assert await Happy.select().run(engine=db) == [{"name": "a", "mood": Mood.happy}]
    # The type loses a value no row holds: PostgreSQL makes the type again
    # and converts its columns, which it refuses under a view.
    smaller = Schema(
        state.tables,
        enums=(replace(state.enums[0], values=("sad", "happy")),),
        views=state.views,
    )
    operations = diff(state, smaller).operations
    assert isinstance(operations[0], DropView) and isinstance(operations[-1], CreateView)
    folder = make_folder(tmp_path / "migrations", operations, start=2)
    await Runner(db, folder).forwards()
    await assert_database_is(db, smaller)
    assert await Happy.objects().run(engine=db) != []
    if db.dialect.name == "postgres":
        result = await introspect(db)
        assert "      mood: {type: enum, choices: VwMood, null: true}\n" in result.text


def test_a_table_renamed_and_changed_under_a_view() -> None:
    """A table renamed and its column's type changed, the view's SQL naming
    the new name: the view is dropped before the rename and created after
    the change."""
    old = Schema((BAND,), views=(TOP,))
    renamed = TableState(
        "vw_group",
        columns=(*BAND.columns[:2], Column("popularity", Type("BigInt"), default=0)),
        renamed_from="vw_band",
    )
    top = ViewState(
        "vw_top", sql=TOP.sql_for("sqlite").replace("vw_band", "vw_group"), columns=TOP.columns
    )
    operations = diff(old, Schema((renamed,), views=(top,))).operations
    assert operations[0] == DropView("vw_top") and operations[-1] == CreateView(top)
    assert isinstance(operations[1], RenameTable)
