"""Test-data builders (``runtime.builders``) on both engines.

The oracle: a built row is in the database (read back by its key, every
column equals the instance's value), so every value satisfied the column's
type, length, range, nullability, check and unique constraints and foreign
keys there; and the same seed draws the same rows.
"""

from __future__ import annotations

import datetime
import decimal
import importlib
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from generated import composite, features, keys, music
from generator.cli import main
from runtime import Engine, SQLiteEngine, Table, create_tables
from runtime.builders import Builder, BuildError, build

ROOT = Path(__file__).resolve().parent.parent
CYCLES = ROOT / "tests" / "typing" / "fk_cycles"

SCHEMA = """\
module: staff
enums:
  Mood: {native: true, values: {sad: sad, happy: happy, so_so: so so}}
  Level: {low: 1, high: 2}
tables:
  Person:
    columns:
      code: {type: char, length: 4, unique: true}
      mood: {type: enum, choices: Mood}
      level: {type: integer, choices: Level}
      boss: {type: foreign_key, references: Person, null: true}
      short: {type: varchar, length: 1}
      contact: {type: email}
      tag: {type: varchar, length: 16, null: true}
      score: {type: numeric, digits: [3, 3]}
      whole: {type: numeric, digits: [4, 0]}
    unique:
      - [short, level]
    checks:
      some_score: "score > 0.1"
"""


@pytest.fixture(scope="module")
def staff(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ModuleType]:
    folder = tmp_path_factory.mktemp("staff")
    (folder / "schema").mkdir()
    (folder / "schema" / "staff.yaml").write_text(SCHEMA)
    assert (
        main(["build", "--schema", str(folder / "schema"), "--out", str(folder / "bd_staff")]) == 0
    )
    sys.path.insert(0, str(folder))
    try:
        yield importlib.import_module("bd_staff.staff")
    finally:
        sys.path.remove(str(folder))
        for key in [k for k in sys.modules if k.split(".")[0] == "bd_staff"]:
            del sys.modules[key]


@pytest.fixture(scope="module")
def cycles() -> Iterator[ModuleType]:
    sys.path.insert(0, str(CYCLES.parent))
    try:
        yield importlib.import_module("fk_cycles.cycles")
    finally:
        sys.path.remove(str(CYCLES.parent))
        for key in [k for k in sys.modules if k.split(".")[0] == "fk_cycles"]:
            del sys.modules[key]


TABLES: tuple[type[Table[Any]], ...] = (
    *features.TABLES,
    *music.TABLES,
    *composite.TABLES,
    *keys.TABLES,
)


async def _read_back(row: Table[Any], engine: Engine) -> dict[str, Any]:
    table = type(row)
    condition = None
    for column in table._meta.key:
        step = column == getattr(row, column._meta.name)
        condition = step if condition is None else condition & step
    assert condition is not None
    found = await table.select(exclude_secrets=False).where(condition).run(engine=engine)
    assert len(found) == 1
    return dict(found[0])


async def _is_saved(row: Table[Any], engine: Engine) -> None:
    """The row is in the database with the instance's values, exactly."""
    assert repr(await _read_back(row, engine)) == repr(row.to_dict())


async def test_every_column_type_gets_a_valid_value(db: Engine) -> None:
    await create_tables(*TABLES).run(engine=db)
    builder = Builder(seed=1, engine=db)
    for table in (features.Scalars, features.Nullables, features.Account):
        for _ in range(5):
            row = await builder.build(table)
            await _is_saved(row, db)
            # Nullable columns get values too.
            assert all(value is not None for value in row.to_dict().values()), row.to_dict()
    scalars = await builder.build(features.Scalars)
    assert 1 <= len(scalars.v_varchar) <= 20 and len(scalars.v_char) == 3
    assert "@" in scalars.v_email
    assert scalars.v_timestamptz.tzinfo is datetime.UTC and scalars.v_timestamp.tzinfo is None
    assert isinstance(scalars.v_numeric, decimal.Decimal)
    assert scalars.v_numeric == scalars.v_numeric.quantize(decimal.Decimal("0.001"))
    assert isinstance(scalars.v_uuid, uuid.UUID)
    assert all(isinstance(d, datetime.date) for d in scalars.v_dates)


async def test_declared_defaults_are_kept(db: Engine) -> None:
    await create_tables(*features.TABLES).run(engine=db)
    row = await build(features.Defaults, engine=db)
    await _is_saved(row, db)
    assert (row.label, row.amount, row.price, row.tags, row.note) == (
        "anon",
        7,
        decimal.Decimal("9.99"),
        [1, 2],
        None,
    )


async def test_required_foreign_keys_point_at_rows_built_for_them(db: Engine) -> None:
    await create_tables(*music.TABLES).run(engine=db)
    ticket = await build(music.Ticket, engine=db)
    await _is_saved(ticket, db)
    concert = await ticket.get_related(music.Ticket.concert).run(engine=db)
    assert concert is not None and concert.band_1 != concert.band_2
    assert await music.Band.count().run(engine=db) == 2
    assert await music.Venue.count().run(engine=db) == 1
    # A nullable key stays NULL: no manager was built.
    assert await music.Manager.count().run(engine=db) == 0
    band = await music.Band.objects().get(music.Band.id == concert.band_1).run(engine=db)
    assert band is not None and band.manager is None and band.popularity == 0
    assert ticket.price >= 0  # the check constraint holds


async def test_overrides(db: Engine) -> None:
    await create_tables(*music.TABLES).run(engine=db)
    builder = Builder(engine=db)
    band = await builder.build(music.Band, name="Pythonistas", popularity=5)
    assert (band.name, band.popularity) == ("Pythonistas", 5)
    concert = await builder.build(music.Concert, {"band_1": band}, band_2=band.id)
    assert (concert.band_1, concert.band_2) == (band.id, band.id)
    assert await music.Band.count().run(engine=db) == 1  # no band built for the keys given
    with pytest.raises(TypeError, match="Band\\(\\) has no column nme"):
        await builder.build(music.Band, nme="x")
    with pytest.raises(TypeError, match="Band.popularity expects int"):
        await builder.build(music.Band, popularity="x")
    with pytest.raises(ValueError, match="holds at most 50 characters"):
        await builder.build(music.Band, name="x" * 51)


async def test_unique_columns_and_keys_are_distinct(db: Engine) -> None:
    await create_tables(*TABLES).run(engine=db)
    builder = Builder(seed=2, engine=db)
    bands = [await builder.build(music.Band) for _ in range(40)]
    assert len({b.name for b in bands}) == 40
    countries = [await builder.build(keys.Country) for _ in range(40)]  # varchar(2) keys
    assert len({c.code for c in countries}) == 40 and all(len(c.code) == 2 for c in countries)
    cells = [await builder.build(composite.Cell, sheet="s") for _ in range(20)]  # 3-column key
    assert len({(c.sheet, c.row, c.col) for c in cells}) == 20
    tokens = [await builder.build(keys.Token) for _ in range(5)]
    assert len({t.id for t in tokens}) == 5
    album = await builder.build(keys.Album)  # a key to an artist with an integer id
    await _is_saved(album, db)


async def test_a_value_the_database_has_is_drawn_again(db: Engine) -> None:
    """A unique column whose drawn value is already in the table (rows made by
    other means): the builder draws again, in a savepoint of the open transaction."""
    await create_tables(music.Manager, music.Band).run(engine=db)
    drawn = await Builder(seed=5).build(music.Band, persist=False)
    await music.Band(name=drawn.name).save().run(engine=db)
    async with db.transaction():
        band = await Builder(seed=5, engine=db).build(music.Band)
        assert band.name != drawn.name
    assert await music.Band.count().run(engine=db) == 2


async def test_composite_foreign_keys(db: Engine) -> None:
    await create_tables(*composite.TABLES).run(engine=db)
    builder = Builder(seed=3, engine=db)
    play = await builder.build(composite.Play)
    await _is_saved(play, db)
    entry = await play.get_related(composite.Play.entry).run(engine=db)
    assert entry is not None and (entry.playlist, entry.song) == (play.playlist_id, play.song_id)
    review = await builder.build(composite.Review)  # nullable: no entry built
    assert (review.playlist_id, review.song_id) == (None, None)
    assert await composite.PlaylistEntry.count().run(engine=db) == 1


async def test_enums_choices_checks_and_a_self_reference(db: Engine, staff: ModuleType) -> None:
    await create_tables(*staff.TABLES).run(engine=db)
    builder = Builder(seed=4, engine=db)
    people = [await builder.build(staff.Person) for _ in range(2 * 2)]
    for person in people:
        await _is_saved(person, db)
        assert isinstance(person.mood, staff.Mood) and isinstance(person.level, staff.Level)
        assert person.boss is None
        assert "@" in person.contact and len(person.short) == 1 and len(person.tag) <= 16
        assert person.score > decimal.Decimal("0.1")  # drawn again until the check held
        assert person.whole == person.whole.to_integral_value()
    assert len({(p.short, p.level) for p in people}) == len(people)
    boss = people[0]
    worker = await builder.build(staff.Person, boss=boss)
    assert worker.boss == boss.id


async def test_a_cycle_of_required_keys_is_refused(db: Engine, cycles: ModuleType) -> None:
    await create_tables(*cycles.TABLES).run(engine=db)
    band = await build(cycles.Band, engine=db)  # the keys of its cycle are nullable
    await _is_saved(band, db)
    assert (band.headliner, band.mentor) == (None, None)
    concert = await build(cycles.Concert, engine=db)
    await _is_saved(concert, db)
    with pytest.raises(BuildError, match="Employee -> Department -> Employee"):
        await build(cycles.Employee, engine=db)


async def test_persist_false_gives_an_unsaved_row(db: Engine) -> None:
    await create_tables(*music.TABLES).run(engine=db)
    band = await build(music.Band, persist=False, engine=db)
    assert band._saved is False and await music.Band.count().run(engine=db) == 0
    with pytest.raises(AttributeError, match="has not been saved"):
        band.id
    await band.save().run(engine=db)
    await _is_saved(band, db)
    # Its required keys' rows are saved; none when they are given.
    concert = await build(music.Concert, persist=False, engine=db)
    assert concert._saved is False and await music.Band.count().run(engine=db) == 3
    assert await music.Concert.count().run(engine=db) == 0


async def test_the_same_seed_builds_the_same_rows(tmp_path: Path, db: Engine) -> None:
    """On two fresh databases (one of each engine when PostgreSQL is there)."""
    other = SQLiteEngine(tmp_path / "other.sqlite")
    try:
        rows = []
        for engine in (db, other):
            await create_tables(*TABLES).run(engine=engine)
            builder = Builder(seed=42, engine=engine)
            built = [
                await builder.build(table)
                for table in (music.Ticket, features.Scalars, composite.Play, keys.Country)
            ]
            rows.append([repr(row.to_dict()) for row in built])
        assert rows[0] == rows[1]
        unsaved = [
            repr((await build(features.Nullables, persist=False, seed=9)).to_dict())
            for _ in range(2)
        ]
        assert unsaved[0] == unsaved[1]
        assert unsaved[0] != repr((await build(features.Nullables, persist=False)).to_dict())
    finally:
        await other.close()


async def test_build_takes_table_classes() -> None:
    with pytest.raises(TypeError, match="takes a table class"):
        await build(music.Band(), persist=False)  # type: ignore[arg-type]


async def test_a_user_table_gets_no_password_unless_given(db: Engine) -> None:
    from tests.typing.auth_app import auth

    await create_tables(*auth.TABLES).run(engine=db)
    user = await build(auth.User, engine=db)
    rows = await db.fetch_dicts('SELECT "username", "password" FROM "piccolo_user"')
    assert rows == [{"username": user.username, "password": ""}]
    # No password: no login, whatever is tried.
    assert await auth.User.login(user.username, "").run(engine=db) is None
    hashed = auth.User.hash_password("correct horse")
    other = await build(auth.User, password=hashed, engine=db)
    assert await auth.User.login(other.username, "correct horse").run(engine=db) == other.id
