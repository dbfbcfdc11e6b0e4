"""Composite primary keys, foreign keys over several columns, and m2m through
a joining table without an id, on SQLite and PostgreSQL.

The tables are ``schema/composite.yaml``'s (``generated/composite.py``).
Oracles: the rows read back with raw SQL, the database's own constraints
(a second row of one key, a foreign key to no row), and the schema read
back from the database, which must equal the state of the table classes.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from generated import composite
from generated.composite import Cell, Play, Playlist, PlaylistEntry, Review, Song
from generator.build import load_schemas, render_files
from runtime import (
    Engine,
    ForeignKeyViolation,
    SQLiteEngine,
    UniqueViolation,
    check_schema,
    create_tables,
    drop_tables,
    use_engine,
)
from runtime.schema import operations as ops
from runtime.schema import state
from runtime.schema.compare import compare
from runtime.schema.compile import compiler_for
from runtime.schema.diff import diff
from runtime.schema.read import read_schema

TABLES = composite.TABLES


@pytest.fixture
async def tables(engine: Engine) -> AsyncIterator[Engine]:
    use_engine(engine, *TABLES)
    await drop_tables(*TABLES, if_exists=True)
    await create_tables(*TABLES)
    try:
        yield engine
    finally:
        await drop_tables(*TABLES, if_exists=True)
        use_engine(None, *TABLES)


async def _raw(engine: Engine, sql: str) -> list[tuple[object, ...]]:
    return [tuple(row) for row in await engine._fetch_built(sql, [])]


def test_the_class_knows_its_key() -> None:
    assert PlaylistEntry._meta.key == (PlaylistEntry.playlist, PlaylistEntry.song)
    assert Cell._meta.key == (Cell.sheet, Cell.row, Cell.col)
    assert Playlist._meta.key == (Playlist.id,)  # the single-key case is unchanged
    assert "id" not in PlaylistEntry._meta.column_map
    with pytest.raises(TypeError, match="needs song="):
        PlaylistEntry(playlist=1)  # type: ignore[call-arg]
    assert Cell(sheet="a", row=1).col == 1  # a key column with a default


def test_ddl_has_the_table_constraints() -> None:
    for dialect in ("sqlite", "postgres"):
        compiler = compiler_for(dialect)
        (entry,) = compiler.create_table(state.table_of(PlaylistEntry))
        assert entry.endswith(', PRIMARY KEY ("playlist", "song"))')
        assert '("id" ' not in entry and 'CREATE TABLE "playlist_entry" ("playlist" ' in entry
        (play,) = compiler.create_table(state.table_of(Play))
        assert (
            'FOREIGN KEY ("playlist_id", "song_id") REFERENCES "playlist_entry"'
            ' ("playlist", "song") ON DELETE CASCADE ON UPDATE CASCADE'
        ) in play
        (review,) = compiler.create_table(state.table_of(Review))
        assert "ON DELETE SET NULL" in review


def test_the_state_model() -> None:
    table = state.table_of(PlaylistEntry)
    assert table.composite_key == ("playlist", "song")
    assert table.key_columns == ("playlist", "song")
    assert table.primary_key is None
    assert state.table_of(Playlist).key_columns == ("id",)
    (fk,) = state.table_of(Play).foreign_keys
    assert fk == state.CompositeForeignKey(
        "play_entry_fkey", ("playlist_id", "song_id"), "playlist_entry", ("playlist", "song")
    )
    # A migration file holds the repr: it must evaluate back to the same table.
    namespace = vars(state)
    for cls in (PlaylistEntry, Play, Review, Cell):
        assert eval(repr(state.table_of(cls)), dict(namespace)) == state.table_of(cls)
    with pytest.raises(state.SchemaStateError, match="names no column"):
        state.Table("t", (state.Column("a", state.Type("Integer")),), composite_key=("a", "b"))
    with pytest.raises(state.SchemaStateError, match="nullable"):
        state.Table(
            "t",
            (
                state.Column("a", state.Type("Integer")),
                state.Column("b", state.Type("Integer"), null=True),
            ),
            composite_key=("a", "b"),
        )


async def test_the_database_read_back_is_the_schema(tables: Engine) -> None:
    expected = compiler_for(tables.dialect).lower(state.of_tables(TABLES))
    found = await read_schema(tables, tables=[t._meta.tablename for t in TABLES])
    assert compare(expected, found) == []
    assert found.table("playlist_entry").composite_key == ("playlist", "song")
    assert found.table("cell").composite_key == ("sheet", "row", "col")
    assert [fk.to for fk in found.table("review").foreign_keys] == [("playlist", "song")]
    assert (await check_schema(*TABLES).run(engine=tables)).ok


async def test_objects_by_the_whole_key(tables: Engine) -> None:
    await Cell.insert(Cell(sheet="a", row=1, value="a1"), Cell(sheet="a", row=2, value="a2"))
    await Cell(sheet="b", row=1, col=2, value="b12").save()
    cell = await Cell.objects().get((Cell.sheet == "a") & (Cell.row == 2))
    assert cell is not None and cell.value == "a2"
    # save() updates by the whole key: the row of the same sheet and col stays.
    cell.value = "changed"
    await cell.save()
    rows = await _raw(tables, 'SELECT "sheet", "row", "col", "value" FROM "cell" ORDER BY 1, 2, 3')
    assert rows == [("a", 1, 1, "a1"), ("a", 2, 1, "changed"), ("b", 1, 2, "b12")]
    # refresh() reloads it by its key, remove() deletes that row only.
    await tables._execute_built(
        """UPDATE "cell" SET "value" = 'raw' WHERE "sheet" = 'a' AND "row" = 2""", []
    )
    assert (await cell.refresh()).value == "raw"
    await cell.remove()
    rows = await _raw(tables, 'SELECT "sheet", "row" FROM "cell" ORDER BY 1, 2')
    assert rows == [("a", 1), ("b", 1)]
    assert repr(cell) == "<Cell sheet='a' row=2 col=1>"
    with pytest.raises(UniqueViolation):
        await Cell(sheet="a", row=1, value="again").save()
    assert await Cell.count() == 2


async def test_update_and_delete_through_joins(tables: Engine) -> None:
    rock, jazz = Playlist(name="rock"), Playlist(name="jazz")
    one, two = Song(title="one"), Song(title="two")
    await Playlist.insert(rock, jazz)
    await Song.insert(one, two)
    await PlaylistEntry.insert(
        PlaylistEntry(playlist=rock, song=one),
        PlaylistEntry(playlist=rock, song=two),
        PlaylistEntry(playlist=jazz, song=one),
    )
    # A condition on a join path goes through a subquery on the whole key.
    await PlaylistEntry.update(note="rock song").where(PlaylistEntry.playlist.name == "rock")
    await PlaylistEntry.delete().where(
        (PlaylistEntry.playlist.name == "rock") & (PlaylistEntry.song.title == "two")
    )
    rows = await PlaylistEntry.select().order_by(PlaylistEntry.playlist, PlaylistEntry.song)
    assert rows == [
        {"playlist": rock.id, "song": one.id, "note": "rock song"},
        {"playlist": jazz.id, "song": one.id, "note": None},
    ]
    entry = await PlaylistEntry.objects().get(PlaylistEntry.playlist == jazz.id)
    assert entry is not None
    assert (await entry.get_related(PlaylistEntry.song)).title == "one"
    with pytest.raises(UniqueViolation):
        await PlaylistEntry(playlist=jazz, song=one).save()


async def test_m2m_through_a_joining_table_without_id(tables: Engine) -> None:
    rock = Playlist(name="rock")
    await rock.save()
    first, second, third = Song(title="first"), Song(title="second"), Song(title="third")
    await Song.insert(first, second)
    await rock.add_m2m(second, first, third, m2m=Playlist.songs, extra_column_values={"note": "n"})
    # Without a key of its own the joining table orders by the other side's key.
    assert [s.title for s in await rock.get_m2m(Playlist.songs)] == ["first", "second", "third"]
    rows = await Playlist.select(Playlist.name, Playlist.songs(Song.title, as_list=True)).output(
        as_tuples=True
    )
    assert rows == [("rock", ["first", "second", "third"])]
    assert await Song.select(Song.title, Song.playlists(Playlist.name, as_list=True)).order_by(
        Song.id
    ) == [
        {"title": "first", "playlists": ["rock"]},
        {"title": "second", "playlists": ["rock"]},
        {"title": "third", "playlists": ["rock"]},
    ]
    await rock.remove_m2m(second, m2m=Playlist.songs)
    assert [s.title for s in await rock.get_m2m(Playlist.songs)] == ["first", "third"]
    notes = await _raw(tables, 'SELECT "note" FROM "playlist_entry"')
    assert notes == [("n",), ("n",)]
    # An extra value is checked at once, though a joining row needs its keys.
    with pytest.raises(TypeError, match="PlaylistEntry.note expects str"):
        rock.add_m2m(first, m2m=Playlist.songs, extra_column_values={"note": 5})


async def test_foreign_keys_over_several_columns(tables: Engine) -> None:
    rock, one = Playlist(name="rock"), Song(title="one")
    await rock.save()
    await one.save()
    entry = PlaylistEntry(playlist=rock, song=one, note="x")
    await entry.save()
    play = Play(playlist_id=rock.id, song_id=one.id, seconds=30)
    await play.save()
    related = await play.get_related(Play.entry)
    assert (related.playlist, related.song, related.note) == (rock.id, one.id, "x")
    review = Review(stars=5)
    await review.save()
    assert await review.get_related(Review.entry) is None  # a null column: no row
    review.playlist_id, review.song_id = rock.id, one.id
    await review.save()
    assert (await review.get_related(Review.entry)) is not None
    with pytest.raises(ForeignKeyViolation):
        await Play(playlist_id=rock.id, song_id=one.id + 100).save()
    # The actions are the database's: deleting the entry cascades to its plays
    # and sets the review's columns to NULL.
    await entry.remove()
    assert await Play.count() == 0
    assert await _raw(tables, 'SELECT "playlist_id", "song_id" FROM "review"') == [(None, None)]
    with pytest.raises(ValueError, match="takes a foreign key of Play"):
        play.get_related(Review.entry)


def _build(folder: Path) -> str:
    modules, errors = load_schemas([folder / "s.yaml"])
    assert not errors, errors
    return render_files(modules, "out")["s.py"]


def test_a_changed_key_is_refused_by_the_differ() -> None:
    entry = state.table_of(PlaylistEntry)
    before = state.Schema((state.table_of(Playlist), state.table_of(Song), entry))
    swapped = state.Schema(
        (
            *before.tables[:2],
            state.Table(entry.name, entry.columns, composite_key=("song", "playlist")),
        )
    )
    with pytest.raises(state.SchemaStateError, match="cannot change which columns are the primary"):
        diff(before, swapped)
    # A rename of a key column is a rename: the key follows it.
    renamed = ops.RenameColumn("playlist_entry", "song", "track").apply(before)
    assert renamed.table("playlist_entry").composite_key == ("playlist", "track")
    with pytest.raises(state.SchemaStateError, match="cannot be dropped"):
        ops.DropColumn("playlist_entry", "song").apply(before)


def test_a_new_foreign_key_over_several_columns_on_a_kept_table_is_refused() -> None:
    tables = [state.table_of(t) for t in (Playlist, Song, PlaylistEntry, Play)]
    play = tables[-1]
    without = state.Schema((*tables[:-1], state.Table(play.name, play.columns)))
    with pytest.raises(state.SchemaStateError, match="foreign keys over several columns"):
        diff(without, state.Schema(tuple(tables)))
    # Creating the table that holds it is fine, and so is dropping it.
    created = diff(state.Schema(tuple(tables[:-1])), state.Schema(tuple(tables)))
    assert [type(op) for op in created.operations] == [ops.CreateTable]
    dropped = diff(state.Schema(tuple(tables)), state.Schema(tuple(tables[:-1])))
    assert [type(op) for op in dropped.operations] == [ops.DropTable]
    with pytest.raises(state.SchemaStateError, match="referenced by play.play_entry_fkey"):
        ops.DropTable("playlist_entry").apply(state.Schema(tuple(tables)))
    with pytest.raises(state.SchemaStateError, match="holds the foreign key 'play_entry_fkey'"):
        ops.DropColumn("play", "song_id").apply(state.Schema(tuple(tables)))


async def test_sqlite_rebuild_keeps_the_composite_key(tmp_path: Path) -> None:
    engine = SQLiteEngine(tmp_path / "db.sqlite")
    try:
        await create_tables(*TABLES).run(engine=engine)
        await Cell.insert(Cell(sheet="a", row=1, value="x")).run(engine=engine)
        # A type change on SQLite rebuilds the table from its state.
        await Cell.alter().set_null(Cell.value, True).run(engine=engine)
        found = await read_schema(engine, tables=["cell"])
        assert found.table("cell").composite_key == ("sheet", "row", "col")
        with pytest.raises(UniqueViolation):
            await Cell.insert(Cell(sheet="a", row=1, value="y")).run(engine=engine)
        # A foreign key over several columns is kept too.
        await Play.alter().set_null(Play.seconds, True).run(engine=engine)
        found = await read_schema(engine, tables=["play"])
        assert [fk.to for fk in found.table("play").foreign_keys] == [("playlist", "song")]
        with pytest.raises(ForeignKeyViolation):
            await Play(playlist_id=1, song_id=1).save().run(engine=engine)
    finally:
        await engine.close()


# -- migrations, drift and the round trip through introspect ---------------------------


ROOT = Path(__file__).resolve().parent.parent


async def test_the_project_migrations_create_and_drop_them(db: Engine) -> None:
    from runtime.migrations.drift import drift
    from runtime.migrations.files import load_folder
    from runtime.migrations.runner import Runner

    runner = Runner(db, load_folder(ROOT / "migrations"))
    await runner.forwards()
    names = [t._meta.tablename for t in TABLES]
    expected = compiler_for(db.dialect).lower(state.of_tables(TABLES))
    assert compare(expected, await read_schema(db, tables=names)) == []
    assert await drift(db, await runner.applied_state()) == []
    # A constraint dropped by hand is drift.
    if db.dialect.name == "postgres":
        await db.execute('ALTER TABLE "play" DROP CONSTRAINT "play_entry_fkey"')
        found = await drift(db, await runner.applied_state())
        assert any("foreign keys over several columns of play" in line for line in found), found
    await runner.backwards("0003")
    assert (await read_schema(db, tables=names)).tables == ()


async def test_a_different_key_in_the_database_is_reported(db: Engine) -> None:
    await db.execute(
        'CREATE TABLE "cell" ("sheet" VARCHAR(20) NOT NULL, "row" INTEGER NOT NULL,'
        ' "col" INTEGER NOT NULL DEFAULT 1, "value" TEXT NOT NULL DEFAULT \'\','
        ' PRIMARY KEY ("sheet", "row"))'
    )
    expected = compiler_for(db.dialect).lower(state.Schema((state.table_of(Cell),)))
    (difference,) = compare(expected, await read_schema(db, tables=["cell"]))
    assert str(difference) == (
        "the primary key of cell: PRIMARY KEY (sheet, row), expected PRIMARY KEY (sheet, row, col)"
    )
    report = await check_schema(Cell).run(engine=db)
    assert not report.ok and "the primary key of cell" in str(report)


async def test_introspect_then_build_gives_the_same_code(db: Engine, tmp_path: Path) -> None:
    """On both engines: the file introspect writes builds the module the
    original builds, once the original drops what only the code holds (help
    texts, m2m attributes and the module name)."""
    from generator.introspect import introspect

    await create_tables(*TABLES).run(engine=db)
    result = await introspect(db, tables=[t._meta.tablename for t in TABLES])
    assert result.left_out == ()
    assert "primary_key: [playlist, song]" in result.text
    assert "primary_key: [sheet, row, col]" in result.text
    assert "entry: {columns: [playlist_id, song_id], references: PlaylistEntry}" in result.text
    introspected = tmp_path / "introspected" / "s.yaml"
    introspected.parent.mkdir()
    introspected.write_text(result.text)
    original = (ROOT / "schema" / "composite.yaml").read_text()
    stripped = "\n".join(
        line
        for line in original.splitlines()
        if "help_text:" not in line and "type: m2m" not in line and not line.startswith("module:")
    )
    # The database keeps no order of tables beyond the foreign keys: introspect's order.
    blocks = _blocks(stripped)
    order = list(_blocks(result.text))
    (tmp_path / "original").mkdir()
    (tmp_path / "original" / "s.yaml").write_text(
        "tables:\n" + "".join(blocks[name] for name in order)
    )
    assert _build(tmp_path / "introspected") == _build(tmp_path / "original")


def _blocks(text: str) -> dict[str, str]:
    """The tables of a schema file's text, by class name (each block as written)."""
    blocks: dict[str, str] = {}
    name = None
    for line in text.splitlines(keepends=False):
        if line.startswith("  ") and not line.startswith("   ") and line.endswith(":"):
            name = line.strip().rstrip(":")
            blocks[name] = ""
        if name is not None:
            blocks[name] += line + "\n"
    return blocks


def test_toml_says_the_same(tmp_path: Path) -> None:
    yaml_folder, toml_folder = tmp_path / "yaml", tmp_path / "toml"
    yaml_folder.mkdir()
    toml_folder.mkdir()
    (yaml_folder / "s.yaml").write_text(
        "tables:\n"
        "  Entry:\n"
        "    primary_key: [a, b]\n"
        "    columns:\n"
        "      a: {type: integer}\n"
        "      b: {type: text}\n"
        "  Ref:\n"
        "    columns:\n"
        "      x: {type: integer, null: true}\n"
        "      y: {type: text, null: true}\n"
        "    foreign_keys:\n"
        "      entry: {columns: [x, y], references: Entry, on_delete: set_null}\n"
    )
    (toml_folder / "s.toml").write_text(
        "[tables.Entry]\n"
        'primary_key = ["a", "b"]\n'
        "[tables.Entry.columns]\n"
        'a = { type = "integer" }\n'
        'b = { type = "text" }\n'
        "[tables.Ref.columns]\n"
        'x = { type = "integer", null = true }\n'
        'y = { type = "text", null = true }\n'
        "[tables.Ref.foreign_keys.entry]\n"
        'columns = ["x", "y"]\n'
        'references = "Entry"\n'
        'on_delete = "set_null"\n'
    )
    modules, errors = load_schemas([toml_folder / "s.toml"])
    assert not errors, errors
    code = render_files(modules, "out")["s.py"]
    assert code.replace("s.toml", "s.yaml") == _build(yaml_folder)
    assert 'primary_key=("a", "b")' in code
    assert "entry: CompositeForeignKey[Entry | None] = CompositeForeignKey(" in code
