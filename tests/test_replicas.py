"""Read replicas: ``PostgresEngine(extra_nodes=...)`` and ``run(node=...)``,
the routing rules without a standby.

Here an extra node is a second engine on the same server with its own
``application_name``; a query shows which connection it ran on by reading
that setting back. tests/test_streaming_replica.py runs the same rules
against a real hot standby (lag, fallback, read-your-writes).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

import pytest

from generated.music import Band, Manager
from runtime import (
    EngineError,
    ProgrammingError,
    ReadPolicy,
    create_tables,
    drop_tables,
    use_engine,
)
from runtime._engine import PostgresEngine, SQLiteEngine

APPLICATION = "SELECT current_setting('application_name') AS app"


def node_engine(dsn: str, name: str) -> PostgresEngine:
    return PostgresEngine(config={"dsn": dsn, "server_settings": {"application_name": name}})


@pytest.fixture
async def cluster(pg_dsn: str) -> AsyncIterator[PostgresEngine]:
    """A main engine with two extra nodes; Band and Manager bound to it."""
    main = PostgresEngine(
        config={"dsn": pg_dsn, "server_settings": {"application_name": "main"}},
        extra_nodes={
            "read_1": node_engine(pg_dsn, "read_1"),
            "read_2": node_engine(pg_dsn, "read_2"),
        },
    )
    use_engine(main, Manager, Band)
    await drop_tables(Manager, Band, if_exists=True)
    await create_tables(Manager, Band)
    try:
        yield main
    finally:
        await drop_tables(Manager, Band, if_exists=True)
        use_engine(None, Manager, Band)
        for engine in (main, *main.extra_nodes.values()):
            await engine.close()


async def test_queries_run_on_the_node_named(cluster: PostgresEngine) -> None:
    assert await Band.raw(APPLICATION) == [{"app": "main"}]
    assert await Band.raw(APPLICATION).run(node="read_1") == [{"app": "read_1"}]
    assert await Band.raw(APPLICATION).run(node="read_2") == [{"app": "read_2"}]
    # An explicit engine's nodes are used too.
    other = cluster.get_node("read_1")
    assert await Band.raw(APPLICATION).run(engine=cluster, node="read_2") == [{"app": "read_2"}]
    assert other.extra_nodes == {}


async def test_orm_queries_on_a_node_see_the_main_servers_data(cluster: PostgresEngine) -> None:
    await Manager.insert(Manager(name="Guido"))
    await Band.insert(Band(name="Pythonistas", manager=1, popularity=10))
    assert await Band.select(Band.name, Band.manager.name).run(node="read_1") == [
        {"name": "Pythonistas", "manager.name": "Guido"}
    ]
    assert await Band.objects().first().run(node="read_1") is not None
    assert await Band.count().run(node="read_2") == 1


async def test_queries_inside_a_transaction_run_on_the_primary(cluster: PostgresEngine) -> None:
    async with cluster.transaction():
        await Manager.insert(Manager(name="Uncommitted"))
        # node= is for reads outside a transaction: inside one, a read must
        # see the transaction's own rows, which only its connection can.
        assert await Manager.count().run(node="read_1") == 1
        assert await Band.raw(APPLICATION).run(node="read_1") == [{"app": "main"}]
        assert cluster.get_node("read_1").transaction_exists() is False
    assert await Band.raw(APPLICATION).run(node="read_1") == [{"app": "read_1"}]


async def test_writes_run_on_the_primary_whatever_node_says(pg_dsn: str) -> None:
    # The node refuses writes, as a hot standby does.
    read_only = PostgresEngine(
        config={"dsn": pg_dsn, "server_settings": {"default_transaction_read_only": "on"}}
    )
    main = PostgresEngine(config={"dsn": pg_dsn}, extra_nodes={"read_1": read_only})
    use_engine(main, Manager)
    try:
        await drop_tables(Manager, if_exists=True)
        await create_tables(Manager)
        with pytest.raises(ProgrammingError, match="read-only transaction"):
            await read_only.execute("INSERT INTO manager (name) VALUES ('x')")
        await Manager.insert(Manager(name="Written")).run(node="read_1")
        await Manager.update({Manager.name: "Renamed"}, force=True).run(node="read_1")
        # Reads go to the node; a locking read is a write's first step: primary.
        assert await Manager.select(Manager.name).output(as_list=True).run(node="read_1") == [
            "Renamed"
        ]
        async with main.transaction():
            await Manager.select().lock_rows().run(node="read_1")
        assert Manager.select().lock_rows()._read_only() is False
        assert Manager.objects().lock_rows()._read_only() is False
    finally:
        await drop_tables(Manager, if_exists=True)
        use_engine(None, Manager)


async def test_unknown_node(cluster: PostgresEngine) -> None:
    with pytest.raises(EngineError, match="no extra node 'read_3'.*'read_1', 'read_2'"):
        await Band.count().run(node="read_3")


def test_extra_nodes_must_be_postgres_engines(tmp_path: object) -> None:
    with pytest.raises(TypeError, match="extra_nodes\\['read_1'\\] must be a PostgresEngine"):
        PostgresEngine(extra_nodes={"read_1": SQLiteEngine("x.sqlite")})  # type: ignore[dict-item]


@pytest.fixture
def sync_cluster(pg_dsn: str) -> Iterator[PostgresEngine]:
    main = PostgresEngine(
        config={"dsn": pg_dsn}, extra_nodes={"read_1": node_engine(pg_dsn, "read_1")}
    )
    use_engine(main, Band)
    try:
        yield main
    finally:
        use_engine(None, Band)


def test_run_sync_on_a_node(sync_cluster: PostgresEngine) -> None:
    assert Band.raw(APPLICATION).run_sync(node="read_1") == [{"app": "read_1"}]


async def test_sqlite_has_no_nodes(sqlite_engine: SQLiteEngine) -> None:
    use_engine(sqlite_engine, Band)
    try:
        with pytest.raises(EngineError, match="SQLiteEngine has no extra nodes.*'read_1'"):
            await Band.raw("SELECT 1").run(node="read_1")
        with pytest.raises(EngineError, match="has no extra nodes"):
            Band.raw("SELECT 1").run_sync(node="read_1")
    finally:
        use_engine(None, Band)


def test_read_policy_is_checked() -> None:
    node = PostgresEngine(config={"host": "standby"})
    with pytest.raises(ValueError, match="names 'read_9', which extra_nodes does not hold"):
        PostgresEngine(extra_nodes={"read_1": node}, read_policy=ReadPolicy(nodes=["read_9"]))
    with pytest.raises(ValueError, match="read_policy needs extra_nodes"):
        PostgresEngine(read_policy=ReadPolicy())
    with pytest.raises(TypeError, match="read_policy must be a ReadPolicy"):
        PostgresEngine(extra_nodes={"read_1": node}, read_policy={"max_lag": 1})  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="not a str"):
        ReadPolicy(nodes="read_1")
    for bad in (-1, float("nan"), float("inf"), True, "1"):
        with pytest.raises(ValueError, match="must be a finite number >= 0"):
            ReadPolicy(max_lag=bad)  # type: ignore[arg-type]
        with pytest.raises(ValueError, match="read_your_writes"):
            ReadPolicy(read_your_writes=bad)  # type: ignore[arg-type]
    assert ReadPolicy(nodes=["read_1"]).nodes == ("read_1",)
    routed = PostgresEngine(extra_nodes={"read_1": node}, read_policy=ReadPolicy(max_lag=2))
    assert routed.read_policy == ReadPolicy(max_lag=2)
    assert PostgresEngine().read_policy is None
    assert PostgresEngine(extra_nodes={"read_1": node}).read_policy == ReadPolicy(nodes=())


async def test_replication_lag_of_an_unknown_node(cluster: PostgresEngine) -> None:
    with pytest.raises(EngineError, match="no extra node 'read_9'"):
        await cluster.replication_lag("read_9")
    # Not a standby: nothing to replay.
    assert await cluster.replication_lag("read_1") == 0.0
