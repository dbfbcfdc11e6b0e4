"""The fast paths of query compiling, frozen queries, inserts and row loading
give the same results as the general ones, on SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from generated import music
from generated.music import Band, Manager, Shirt, Size
from runtime import (
    Engine,
    PostgresEngine,
    SQLiteEngine,
    create_tables,
    drop_tables,
    use_engine,
)


@pytest.fixture
async def db(engine: Engine) -> AsyncIterator[Engine]:
    """Fresh music tables: two managers, three bands (one without a manager)."""
    use_engine(engine, *music.TABLES)
    await drop_tables(*music.TABLES, if_exists=True)
    await create_tables(*music.TABLES)
    guido, graydon = await Manager.insert(Manager(name="Guido"), Manager(name="Graydon"))
    await Band.insert(
        Band(name="Pythonistas", manager=guido, popularity=1000),
        Band(name="Rustaceans", manager=graydon.id, popularity=2000),
        Band(name="Unmanaged", popularity=5),
    )
    try:
        yield engine
    finally:
        await drop_tables(*music.TABLES, if_exists=True)
        use_engine(None, *music.TABLES)


async def test_same_shape_with_other_values_gives_other_rows(db: Engine) -> None:
    async def query(popularity: int, manager: str) -> list[dict[str, object]]:
        return await (
            Band.select(Band.name, Band.manager.name)
            .where((Band.popularity > popularity) & (Band.manager.name == manager))
            .order_by(Band.name)
            .limit(10)
        )

    assert await query(1, "Guido") == [{"name": "Pythonistas", "manager.name": "Guido"}]
    assert await query(1, "Graydon") == [{"name": "Rustaceans", "manager.name": "Graydon"}]
    assert await query(1500, "Guido") == []


async def test_more_parameters_than_ready_markers(db: Engine) -> None:
    # 1,500 bound values: past the placeholders made in advance.
    ids = [b["id"] for b in await Band.select(Band.id)]
    values = list(range(-1500, 0)) + ids
    rows = await Band.select(Band.name).where(Band.id.is_in(values)).order_by(Band.name)
    assert [r["name"] for r in rows] == ["Pythonistas", "Rustaceans", "Unmanaged"]


async def test_frozen_query_repeats_its_result_in_each_output(db: Engine) -> None:
    base = Band.select(Band.name).where(Band.popularity >= 1000).order_by(Band.name)
    as_dicts = base.freeze()
    as_list = base.output(as_list=True).freeze()
    as_tuples = base.output(as_tuples=True).freeze()
    for _ in range(2):
        assert await as_dicts == [{"name": "Pythonistas"}, {"name": "Rustaceans"}]
        assert await as_list.run() == ["Pythonistas", "Rustaceans"]
        assert await as_tuples.run(engine=db) == [("Pythonistas",), ("Rustaceans",)]


async def test_a_frozen_query_runs_on_whichever_engine_it_is_given(
    pg_engine: PostgresEngine, sqlite_engine: SQLiteEngine, tmp_path: Path
) -> None:
    # A frozen query binds itself to the engine of its last run: runs that
    # alternate between engines (two of one dialect among them) must each
    # read their own database. The oracle is the same query not frozen.
    other = SQLiteEngine(tmp_path / "other.sqlite")
    engines: list[Engine] = [pg_engine, sqlite_engine, other]
    try:
        for number, engine in enumerate(engines):
            await drop_tables(*music.TABLES, if_exists=True).run(engine=engine)
            await create_tables(*music.TABLES).run(engine=engine)
            await Band.insert(*(Band(name=f"{number}-{i}") for i in range(number + 1))).run(
                engine=engine
            )
        query = Band.select(Band.name).order_by(Band.name)
        frozen = query.freeze()
        for engine in [*engines, *reversed(engines), other, other, pg_engine]:
            assert await frozen.run(engine=engine) == await query.run(engine=engine)
        assert [len(await frozen.run(engine=e)) for e in engines] == [1, 2, 3]
    finally:
        for engine in engines:
            await drop_tables(*music.TABLES, if_exists=True).run(engine=engine)
        await other.close()


async def test_insert_mixes_related_rows_keys_and_enum_values(db: Engine) -> None:
    guido = await Manager.objects().get(Manager.name == "Guido")
    assert guido is not None
    new = [
        Band(name="A", manager=guido, popularity=1),
        Band(name="B", manager=guido.id, popularity=2),
        Band(name="C", popularity=3),
    ]
    await Band.insert(*new)
    rows = await Band.select(Band.name, Band.manager.name).where(Band.popularity < 4)
    assert sorted((r["name"], r["manager.name"]) for r in rows) == [
        ("A", "Guido"),
        ("B", "Guido"),
        ("C", None),
    ]
    await Shirt.insert(Shirt(size=Size.small), Shirt(size="l"))
    sizes = await Shirt.select(Shirt.size).order_by(Shirt.id).output(as_list=True)
    assert sizes == [Size.small, Size.large]


async def test_objects_are_saved_rows_with_every_value(db: Engine) -> None:
    bands = await Band.objects().order_by(Band.name)
    assert [(b.name, b.popularity) for b in bands] == [
        ("Pythonistas", 1000),
        ("Rustaceans", 2000),
        ("Unmanaged", 5),
    ]
    assert all(b.__dict__["_saved"] is True for b in bands)
    shirts = await Shirt.objects()
    assert shirts == []
