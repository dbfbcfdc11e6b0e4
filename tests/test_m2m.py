"""Many-to-many relationships on SQLite and PostgreSQL.

``Band.genres`` / ``Genre.bands`` of the generated music module (through
``GenreToBand``), plus a hand-declared student/course schema whose course
columns cover the value types a JSON round trip could get wrong, and whose
joining table has an extra column for ``extra_column_values``.
"""

from __future__ import annotations

import datetime
import decimal
import enum
import importlib
import json
import sys
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from generated import music
from generated.music import Band, Genre, GenreToBand, Manager
from generator.cli import main
from runtime import (
    M2M,
    UUID,
    Boolean,
    Bytea,
    DoublePrecision,
    Engine,
    ForeignKey,
    Integer,
    M2MRows,
    Numeric,
    Secret,
    SQLiteEngine,
    Table,
    Text,
    Timestamp,
    Timestamptz,
    UniqueViolation,
    Varchar,
    create_tables,
    drop_tables,
    use_engine,
)
from runtime._ddl import create_table_sql
from runtime._dialect import POSTGRES, SQLITE

# -- the music schema ------------------------------------------------------------------


@pytest.fixture
async def db(engine: Engine) -> AsyncIterator[Engine]:
    """Bands linked to genres: Pythonistas (Rock, Folk), Rustaceans (Rock), CSharps (none)."""
    use_engine(engine, *music.TABLES)
    await drop_tables(*music.TABLES, if_exists=True)
    await create_tables(*music.TABLES)
    pythonistas, rustaceans, _ = await Band.insert(
        Band(name="Pythonistas", popularity=1000),
        Band(name="Rustaceans", popularity=2000),
        Band(name="CSharps", popularity=10),
    )
    rock = Genre(name="Rock")
    # Folk is linked first, then Rock: related rows follow the links' order.
    await pythonistas.add_m2m(Genre(name="Folk"), rock, m2m=Band.genres)
    await rustaceans.add_m2m(rock, m2m=Band.genres)
    try:
        yield engine
    finally:
        await drop_tables(*music.TABLES, if_exists=True)
        use_engine(None, *music.TABLES)


async def _band(name: str) -> Band:
    band = await Band.objects().get(Band.name == name)
    assert band is not None
    return band


async def _genre(name: str) -> Genre:
    genre = await Genre.objects().get(Genre.name == name)
    assert genre is not None
    return genre


async def test_select_as_list(db: Engine) -> None:
    rows = await Band.select(Band.name, Band.genres(Genre.name, as_list=True)).order_by(Band.id)
    assert rows == [
        {"name": "Pythonistas", "genres": ["Folk", "Rock"]},
        {"name": "Rustaceans", "genres": ["Rock"]},
        {"name": "CSharps", "genres": []},
    ]


async def test_select_reverse_direction(db: Engine) -> None:
    rows = await Genre.select(Genre.name, Genre.bands(Band.name, as_list=True)).order_by(Genre.name)
    assert rows == [
        {"name": "Folk", "bands": ["Pythonistas"]},
        {"name": "Rock", "bands": ["Pythonistas", "Rustaceans"]},
    ]


async def test_select_dicts(db: Engine) -> None:
    rows = await Band.select(Band.name, Band.genres(Genre.id, Genre.name)).order_by(Band.id)
    folk, rock = await _genre("Folk"), await _genre("Rock")
    assert rows == [
        {
            "name": "Pythonistas",
            "genres": [{"id": folk.id, "name": "Folk"}, {"id": rock.id, "name": "Rock"}],
        },
        {"name": "Rustaceans", "genres": [{"id": rock.id, "name": "Rock"}]},
        {"name": "CSharps", "genres": []},
    ]
    assert isinstance(rows[0]["genres"], M2MRows)
    # One column without as_list is still a list of dicts.
    one = await Band.select(Band.genres(Genre.name)).where(Band.name == "Rustaceans")
    assert one == [{"genres": [{"name": "Rock"}]}]


async def test_select_every_column_of_the_target(db: Engine) -> None:
    rows = await Band.select(Band.genres()).where(Band.name == "Rustaceans")
    genres = await Genre.select().where(Genre.name == "Rock")
    assert rows == [{"genres": genres}]


async def test_outputs(db: Engine) -> None:
    query = Band.select(Band.name, Band.genres(Genre.name, as_list=True)).order_by(Band.id)
    assert await query.output(as_tuples=True) == [
        ("Pythonistas", ["Folk", "Rock"]),
        ("Rustaceans", ["Rock"]),
        ("CSharps", []),
    ]
    lists = Band.select(Band.genres(Genre.name, as_list=True)).order_by(Band.id)
    assert await lists.output(as_list=True) == [["Folk", "Rock"], ["Rock"], []]
    assert json.loads(await query.output(as_json=True))[0] == {
        "name": "Pythonistas",
        "genres": ["Folk", "Rock"],
    }
    assert await query.first() == {"name": "Pythonistas", "genres": ["Folk", "Rock"]}
    assert await query.freeze() == await query


async def test_where_limit_offset_and_joins(db: Engine) -> None:
    guido = Manager(name="Guido")
    await guido.save()
    await Band.update(manager=guido.id).where(Band.name == "Rustaceans")
    rows = await (
        Band.select(Band.manager.name, Band.genres(Genre.name, as_list=True))
        .where(Band.popularity > 100)
        .order_by(Band.popularity, ascending=False)
        .limit(1)
        .offset(0)
    )
    assert rows == [{"manager.name": "Guido", "genres": ["Rock"]}]
    assert await Band.select(Band.genres(Genre.name, as_list=True)).order_by(Band.id).offset(
        1
    ).output(as_list=True) == [["Rock"], []]


async def test_distinct(db: Engine) -> None:
    await (await _band("CSharps")).add_m2m(await _genre("Rock"), m2m=Band.genres)
    rows = await Genre.select(Genre.bands(Band.popularity, as_list=True)).distinct()
    assert sorted(row["bands"] for row in rows) == [[1000], [1000, 2000, 10]]


async def test_add_m2m_saves_new_rows_and_links(db: Engine) -> None:
    csharps = await _band("CSharps")
    jazz = Genre(name="Jazz")
    await csharps.add_m2m(jazz, await _genre("Folk"), m2m=Band.genres)
    assert jazz.id > 0
    assert await Genre.count() == 3
    assert [g.name for g in await csharps.get_m2m(Band.genres)] == ["Jazz", "Folk"]
    # The reverse side sees the same links.
    assert [b.name for b in await jazz.get_m2m(Genre.bands)] == ["CSharps"]
    assert await csharps.add_m2m(m2m=Band.genres) is None  # nothing to link


async def test_add_m2m_from_the_other_side(db: Engine) -> None:
    jazz = Genre(name="Jazz")
    await jazz.save()
    await jazz.add_m2m(await _band("CSharps"), Band(name="Newcomers"), m2m=Genre.bands)
    rows = await Band.select(Band.name, Band.genres(Genre.name, as_list=True)).where(
        Band.name.is_in(["CSharps", "Newcomers"])
    )
    assert sorted(rows, key=lambda r: r["name"]) == [
        {"name": "CSharps", "genres": ["Jazz"]},
        {"name": "Newcomers", "genres": ["Jazz"]},
    ]


async def test_add_m2m_is_one_transaction(db: Engine) -> None:
    csharps = await _band("CSharps")
    taken = await GenreToBand.select(GenreToBand.id).output(as_list=True).first()
    assert taken is not None
    # The joining row reuses a taken primary key: its insert fails, and the
    # new genre inserted before it is rolled back with it.
    with pytest.raises(UniqueViolation):
        await csharps.add_m2m(
            Genre(name="Jazz"), m2m=Band.genres, extra_column_values={GenreToBand.id: taken}
        )
    assert await Genre.count() == 2
    assert await csharps.get_m2m(Band.genres) == []


async def test_add_m2m_inside_a_transaction(db: Engine) -> None:
    csharps = await _band("CSharps")
    async with db.transaction():
        await csharps.add_m2m(Genre(name="Jazz"), m2m=Band.genres)
        assert [g.name for g in await csharps.get_m2m(Band.genres)] == ["Jazz"]
    assert [g.name for g in await csharps.get_m2m(Band.genres)] == ["Jazz"]


async def test_get_m2m(db: Engine) -> None:
    pythonistas = await _band("Pythonistas")
    genres = await pythonistas.get_m2m(Band.genres)
    assert [type(g) for g in genres] == [Genre, Genre]
    assert [(g.name, g._saved) for g in genres] == [("Folk", True), ("Rock", True)]
    assert await (await _band("CSharps")).get_m2m(Band.genres) == []
    # A row linked twice comes once, at its first link.
    await pythonistas.add_m2m(await _genre("Folk"), m2m=Band.genres)
    assert [g.name for g in await pythonistas.get_m2m(Band.genres)] == ["Folk", "Rock"]


async def test_remove_m2m(db: Engine) -> None:
    pythonistas = await _band("Pythonistas")
    rock = await _genre("Rock")
    await pythonistas.remove_m2m(rock, Genre(name="never saved"), m2m=Band.genres)
    assert [g.name for g in await pythonistas.get_m2m(Band.genres)] == ["Folk"]
    # Only the link is gone: the genre, and its other links, stay.
    assert await Genre.count() == 2
    assert [b.name for b in await rock.get_m2m(Genre.bands)] == ["Rustaceans"]
    await rock.remove_m2m(await _band("Rustaceans"), m2m=Genre.bands)
    assert await rock.get_m2m(Genre.bands) == []
    assert await GenreToBand.count() == 1


async def test_sql_is_printable(db: Engine) -> None:
    sql = str(Band.select(Band.name, Band.genres(Genre.name, as_list=True)))
    assert '"genre_to_band"' in sql and '"band$genres"."name"' in sql
    assert "DELETE FROM" in str(
        (await _band("Pythonistas")).remove_m2m(await _genre("Rock"), m2m=Band.genres)
    )
    assert "JOIN" in str((await _band("Pythonistas")).get_m2m(Band.genres))


async def test_mistakes_raise_before_the_database(db: Engine) -> None:
    band = await _band("Pythonistas")
    genre = await _genre("Rock")
    with pytest.raises(TypeError, match="takes Genre rows"):
        band.add_m2m(Manager(name="x"), m2m=Band.genres)
    with pytest.raises(ValueError, match="takes an M2M of Band"):
        band.get_m2m(Genre.bands)
    with pytest.raises(ValueError, match="has not been saved"):
        Band(name="new").add_m2m(genre, m2m=Band.genres)
    with pytest.raises(ValueError, match="exactly one column"):
        Band.genres(Genre.id, Genre.name, as_list=True)
    with pytest.raises(ValueError, match="columns of Genre"):
        Band.genres(Band.name, as_list=True)
    with pytest.raises(TypeError, match="can only be selected"):
        Band.select().where(Band.genres(Genre.name, as_list=True) == ["Rock"])
    with pytest.raises(ValueError, match="only be selected from Band"):
        await Genre.select(Band.genres(Genre.name, as_list=True))
    with pytest.raises(ValueError, match="is not a column of GenreToBand"):
        band.add_m2m(genre, m2m=Band.genres, extra_column_values={Band.name: "x"})
    with pytest.raises(ValueError, match="set by add_m2m itself"):
        band.add_m2m(genre, m2m=Band.genres, extra_column_values={"band": 1})
    with pytest.raises(TypeError):
        band.add_m2m(genre, m2m=Band.genres, extra_column_values={GenreToBand.id: "x"})


def test_m2m_has_no_database_column() -> None:
    for dialect in (SQLITE, POSTGRES):
        (create,) = create_table_sql(Band, dialect)[:1]
        assert "genres" not in create
    assert "genres" not in Band._meta.column_map
    assert "genres" not in music.BandRow.__annotations__
    assert repr(Band.genres) == "<M2M Band.genres>"
    assert Band.genres.through() is GenreToBand and Band.genres.target() is Genre
    with pytest.raises(TypeError, match="no column genres"):
        Band(genres=[])


# -- value types through the subquery ----------------------------------------------------


class Level(enum.StrEnum):
    low = "l"
    high = "h"


class Student(Table[Any], tablename="m2m_student"):
    name = Varchar[str](length=20)
    courses: M2M[Student, Course, Any] = M2M(lambda: Enrolment)


class Course(Table[Any], tablename="m2m_course"):
    title = Varchar[str](length=20)
    fee = Numeric[decimal.Decimal](digits=(8, 2))
    fee_any = Numeric[decimal.Decimal | None](null=True)
    weight = DoublePrecision[float]()
    starts = Timestamp[datetime.datetime]()
    starts_tz = Timestamptz[datetime.datetime]()
    code = UUID[uuid.UUID]()
    data = Bytea[bytes | None](null=True)
    active = Boolean[bool]()
    level = Varchar[Level](length=1, choices=Level)
    notes = Text[str | None](null=True)
    token = Secret[str]()
    students: M2M[Course, Student, Any] = M2M(lambda: Enrolment)


class Enrolment(Table[Any], tablename="m2m_enrolment"):
    student = ForeignKey[int, Student](lambda: Student)
    course = ForeignKey[int, Course](lambda: Course)
    grade = Integer[int | None](null=True)


SCHOOL = (Student, Course, Enrolment)


@pytest.fixture
async def school(engine: Engine) -> AsyncIterator[Engine]:
    use_engine(engine, *SCHOOL)
    await drop_tables(*SCHOOL, if_exists=True)
    await create_tables(*SCHOOL)
    try:
        yield engine
    finally:
        await drop_tables(*SCHOOL, if_exists=True)
        use_engine(None, *SCHOOL)


def _course(title: str, **values: Any) -> Course:
    defaults: dict[str, Any] = {
        "title": title,
        "fee": decimal.Decimal("1234.50"),
        "fee_any": decimal.Decimal("0.1"),
        "weight": 0.1 + 0.2,
        "starts": datetime.datetime(2024, 5, 6, 7, 8, 9, 123456),
        "starts_tz": datetime.datetime(2024, 5, 6, 7, 8, 9, tzinfo=datetime.UTC),
        "data": b"\x00\xff'\"",
        "active": True,
        "level": Level.high,
        "notes": 'quotes " and \\ and \u00e9',
        "token": "s3cret",
        "code": uuid.UUID("12345678-1234-5678-1234-567812345678"),
    }
    return Course(**{**defaults, **values})


async def test_values_come_back_exactly(school: Engine) -> None:
    ada = Student(name="Ada")
    await ada.save()
    await ada.add_m2m(
        _course("Maths"),
        _course(
            "Art",
            fee=decimal.Decimal("7"),
            fee_any=None,
            weight=1 / 3,
            data=None,
            active=False,
            level=Level.low,
            notes=None,
        ),
        m2m=Student.courses,
    )
    expected = await Course.select().order_by(Course.id)
    rows = await Student.select(Student.courses())
    assert rows == [{"courses": expected}]
    # Column by column too, as lists.
    for column in Course._meta.columns:
        values = await Student.select(Student.courses(column, as_list=True)).output(as_list=True)
        direct = await Course.select(column).order_by(Course.id).output(as_list=True)
        assert values == [direct], column
    assert isinstance(rows[0]["courses"][0]["level"], Level)
    # Like select(), every column but the secrets.
    assert "token" not in rows[0]["courses"][0]


async def test_extra_column_values(school: Engine) -> None:
    ada = Student(name="Ada")
    await ada.save()
    maths, art = _course("Maths"), _course("Art")
    await ada.add_m2m(maths, m2m=Student.courses, extra_column_values={Enrolment.grade: 5})
    await ada.add_m2m(art, m2m=Student.courses, extra_column_values={"grade": 3})
    grades = await Enrolment.select(Enrolment.course.title, Enrolment.grade).order_by(Enrolment.id)
    assert grades == [
        {"course.title": "Maths", "grade": 5},
        {"course.title": "Art", "grade": 3},
    ]
    rows = await Course.select(Course.title, Course.students(Student.name, as_list=True))
    assert sorted(rows, key=lambda r: r["title"]) == [
        {"title": "Art", "students": ["Ada"]},
        {"title": "Maths", "students": ["Ada"]},
    ]


# -- the generator ----------------------------------------------------------------------

LIBRARY = """\
tables:
  Book:
    columns:
      title: {type: varchar, length: 50}
"""

TAGS = """\
tables:
  Tag:
    columns:
      label: {type: varchar, length: 20}
      books: {type: m2m, through: BookTag, help_text: Books with this tag.}
  BookTag:
    columns:
      book: {type: foreign_key, references: library.Book}
      tag: {type: foreign_key, references: Tag}
"""


async def test_generated_m2m_across_files(tmp_path: Path) -> None:
    schema = tmp_path / "schemas"
    schema.mkdir()
    (schema / "library.yaml").write_text(LIBRARY)
    (schema / "tags.yaml").write_text(TAGS)
    assert main(["build", "--schema", str(schema), "--out", str(tmp_path / "m2m_pkg")]) == 0
    source = (tmp_path / "m2m_pkg" / "tags.py").read_text()
    assert (
        "books: M2M[Tag, _library.Book, _library.BookRow] = M2M(\n"
        '        lambda: BookTag, help_text="Books with this tag."\n'
        "    )" in source
    )
    sys.path.insert(0, str(tmp_path))
    try:
        library = importlib.import_module("m2m_pkg.library")
        tags = importlib.import_module("m2m_pkg.tags")
        tables = (*library.TABLES, *tags.TABLES)
        engine = SQLiteEngine(tmp_path / "m2m.sqlite")
        use_engine(engine, *tables)
        try:
            await create_tables(*tables)
            tag = tags.Tag(label="classic")
            await tag.save()
            await tag.add_m2m(library.Book(title="Emma"), m2m=tags.Tag.books)
            rows = await tags.Tag.select(tags.Tag.books(library.Book.title, as_list=True))
            assert rows == [{"books": ["Emma"]}]
        finally:
            await engine.close()
    finally:
        sys.path.remove(str(tmp_path))
        for name in ("m2m_pkg.tags", "m2m_pkg.library", "m2m_pkg"):
            sys.modules.pop(name, None)
