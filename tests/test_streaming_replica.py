"""Read replicas against a real hot standby.

One module-scoped :class:`_pg.StreamingPair`: a primary and a standby made
with ``pg_basebackup -R``, streaming. The evidence of where a read ran is the
data itself: with replay paused on the standby (``pg_wal_replay_pause()``), a
row written on the primary is seen by the primary only, so a read that
misses it ran on the standby.
"""

from __future__ import annotations

import asyncio
import contextvars
import time
from collections.abc import AsyncIterator, Iterator

import _pg
import pytest

from generated.music import Band, Manager
from runtime import (
    OperationalError,
    PostgresEngine,
    ReadPolicy,
    ReplicaFallbackWarning,
    create_tables,
    drop_tables,
    use_engine,
)

pytestmark = pytest.mark.pg_cluster


@pytest.fixture(scope="module")
def pair() -> Iterator[_pg.StreamingPair]:
    pair = _pg.StreamingPair()
    try:
        pair.start()
    except _pg.PgUnavailable as error:
        pytest.skip(f"no streaming pair: {error}")
    pids = [pair.primary.pid(), pair.standby.pid()]
    try:
        yield pair
    finally:
        pair.stop()
    for pid in pids:
        assert pid is not None and not _pg.process_runs(pid)


def make_engine(pair: _pg.StreamingPair, policy: ReadPolicy | None = None) -> PostgresEngine:
    return PostgresEngine(
        config={"dsn": pair.primary.dsn},
        extra_nodes={"standby": PostgresEngine(config={"dsn": pair.standby.dsn})},
        read_policy=policy,
    )


async def wait_replayed(engine: PostgresEngine, timeout: float = 10.0) -> None:
    """Wait until the standby replayed all the WAL the primary wrote so far
    (its insert position: with ``synchronous_commit=off`` a commit record may
    still be in the WAL buffers, past ``pg_current_wal_lsn()``)."""
    lsn = (await engine.fetch("SELECT pg_current_wal_insert_lsn()::text"))[0][0]
    standby = engine.get_node("standby")
    deadline = time.monotonic() + timeout
    while not (await standby.fetch("SELECT pg_last_wal_replay_lsn() >= $1::text::pg_lsn", [lsn]))[
        0
    ][0]:
        assert time.monotonic() < deadline, "the standby does not catch up"
        await asyncio.sleep(0.02)


async def wait_received(engine: PostgresEngine, timeout: float = 10.0) -> None:
    """Wait until the standby received (not necessarily replayed) the WAL so far."""
    lsn = (await engine.fetch("SELECT pg_current_wal_insert_lsn()::text"))[0][0]
    standby = engine.get_node("standby")
    deadline = time.monotonic() + timeout
    while not (await standby.fetch("SELECT pg_last_wal_receive_lsn() >= $1::text::pg_lsn", [lsn]))[
        0
    ][0]:
        assert time.monotonic() < deadline, "the standby receives nothing"
        await asyncio.sleep(0.02)


async def pause_replay(engine: PostgresEngine) -> None:
    await engine.get_node("standby").execute("SELECT pg_wal_replay_pause()")


async def resume_replay(engine: PostgresEngine) -> None:
    await engine.get_node("standby").execute("SELECT pg_wal_replay_resume()")
    await wait_replayed(engine)


@pytest.fixture
async def tables(pair: _pg.StreamingPair) -> AsyncIterator[PostgresEngine]:
    """Manager and Band on the primary, one manager, replayed on the standby;
    replay is resumed afterwards whatever the test did."""
    admin = make_engine(pair)
    use_engine(admin, Manager, Band)
    await drop_tables(Manager, Band, if_exists=True)
    await create_tables(Manager, Band)
    await Manager.insert(Manager(name="Before"))
    await wait_replayed(admin)
    try:
        yield admin
    finally:
        await resume_replay(admin)
        await drop_tables(Manager, Band, if_exists=True)
        use_engine(None, Manager, Band)
        for engine in (admin, *admin.extra_nodes.values()):
            await engine.close()


@pytest.fixture
async def routed(
    pair: _pg.StreamingPair, tables: PostgresEngine, request: pytest.FixtureRequest
) -> AsyncIterator[PostgresEngine]:
    """An engine with the test's ReadPolicy (``@pytest.mark.parametrize`` on
    ``policy`` or the default one), Manager and Band bound to it."""
    policy = getattr(request, "param", ReadPolicy())
    engine = make_engine(pair, policy)
    use_engine(engine, Manager, Band)
    try:
        yield engine
    finally:
        use_engine(tables, Manager, Band)
        for each in (engine, *engine.extra_nodes.values()):
            await each.close()


async def test_the_standby_is_a_streaming_hot_standby(pair: _pg.StreamingPair) -> None:
    assert _pg.query(pair.standby.dsn, "SELECT pg_is_in_recovery()") == [[True]]
    assert _pg.query(pair.primary.dsn, "SELECT pg_is_in_recovery()") == [[False]]
    assert _pg.query(pair.primary.dsn, "SELECT state FROM pg_stat_replication") == [["streaming"]]
    with pytest.raises(Exception, match="read-only transaction"):
        _pg.query(pair.standby.dsn, "CREATE TABLE refused (id int)")


async def test_reads_with_node_run_on_the_standby(tables: PostgresEngine) -> None:
    standby = [{"standby": True}]
    assert await Band.raw("SELECT pg_is_in_recovery() AS standby").run(node="standby") == standby
    assert await Band.raw("SELECT pg_is_in_recovery() AS standby") == [{"standby": False}]
    await pause_replay(tables)
    await Manager.insert(Manager(name="After"))
    names = Manager.select(Manager.name).order_by(Manager.id).output(as_list=True)
    assert await names == ["Before", "After"]
    assert await names.run(node="standby") == ["Before"]
    assert await Manager.count().run(node="standby") == 1
    assert await Manager.exists().where(Manager.name == "After").run(node="standby") is False
    # A write with node= runs on the primary (the standby would refuse it).
    await Manager.insert(Manager(name="Third")).run(node="standby")
    assert await Manager.count() == 3
    await resume_replay(tables)
    assert await names.run(node="standby") == ["Before", "After", "Third"]


async def test_a_policy_sends_reads_to_the_standby_and_the_rest_to_the_primary(
    routed: PostgresEngine,
) -> None:
    await pause_replay(routed)
    guido = Manager(name="Guido")
    await Manager.insert(guido)  # a write: the primary
    await Band.insert(Band(name="Pythonistas", manager=guido.id))
    # Reads of every kind run on the standby, which has not replayed the writes.
    assert await Manager.count() == 1
    assert await Manager.exists().where(Manager.name == "Guido") is False
    assert [m.name for m in await Manager.objects()] == ["Before"]
    assert await Manager.objects().get(Manager.name == "Guido") is None
    assert await Manager.select(Manager.name).output(as_list=True) == ["Before"]
    assert await Manager.select(Manager.name).freeze() == [{"name": "Before"}]
    assert await Manager.select(Manager.name).output(as_json=True) == '[{"name": "Before"}]'
    assert await Band.count().callback(lambda n: n + 100) == 100
    batches = [rows async for rows in Manager.select(Manager.name).batch(10)]
    assert batches == [[{"name": "Before"}]]
    # raw() SQL may write: the primary; a transaction's queries: the primary.
    assert await Manager.raw("SELECT count(*) AS n FROM manager") == [{"n": 2}]
    async with routed.transaction():
        assert await Manager.count() == 2
        assert [b.name for b in await Band.objects()] == ["Pythonistas"]
        assert await Manager.select(Manager.name).lock_rows().where(Manager.name == "Guido") == [
            {"name": "Guido"}
        ]
    # A locking read outside a transaction is refused on a standby: primary.
    assert len(await Manager.objects().lock_rows()) == 2
    await resume_replay(routed)
    assert await Manager.count() == 2
    band = await Band.objects().first()
    assert band is not None
    manager = await band.get_related(Band.manager)
    assert manager is not None and manager.name == "Guido"


@pytest.mark.parametrize("routed", [ReadPolicy(max_lag=0.3, check_interval=0.0)], indirect=True)
async def test_a_lagging_standby_falls_back_to_the_primary_with_a_warning(
    routed: PostgresEngine,
) -> None:
    assert await routed.replication_lag("standby") == 0.0
    await pause_replay(routed)
    await Manager.insert(Manager(name="Unreplayed"))
    await wait_received(routed)
    # The standby holds WAL it has not replayed: its lag is the time since
    # the last transaction it replayed (the fixture's), and grows.
    lags = [await routed.replication_lag("standby")]
    deadline = time.monotonic() + 10
    while (lags[-1] or 0.0) <= 0.3:
        assert time.monotonic() < deadline, lags
        await asyncio.sleep(0.05)
        lags.append(await routed.replication_lag("standby"))
    assert None not in lags and lags == sorted(lags) and lags[0] > 0, lags  # type: ignore[type-var]
    assert await Manager.count().run(engine=routed.get_node("standby")) == 1
    with pytest.warns(
        ReplicaFallbackWarning,
        match=r"'standby' lags \d+\.\d+ s behind its primary \(max_lag=0.3 s\)",
    ):
        assert await Manager.count() == 2  # the primary's answer
    with pytest.warns(ReplicaFallbackWarning, match="lags"):
        names = Manager.select(Manager.name).output(as_list=True).run(node="standby")
        assert await names == ["Before", "Unreplayed"]
    await resume_replay(routed)
    assert await routed.replication_lag("standby") == 0.0
    # Caught up: back on the standby, without a warning (warnings are errors here).
    assert await Manager.count() == 2


async def test_the_lag_reads_zero_on_an_idle_caught_up_standby(routed: PostgresEngine) -> None:
    await asyncio.sleep(0.4)  # no writes: replay timestamps age, the lag does not
    assert await routed.replication_lag("standby") == 0.0


@pytest.mark.parametrize("routed", [ReadPolicy(read_your_writes=0.5)], indirect=True)
async def test_read_your_writes_pins_the_context_that_wrote_to_the_primary(
    routed: PostgresEngine,
) -> None:
    await pause_replay(routed)
    fresh = contextvars.Context()  # a context that did not write (another request)
    assert await Manager.count() == 1
    await Manager.insert(Manager(name="Mine"))
    wrote_at = time.monotonic()

    async def count() -> int:
        return await Manager.count()

    assert await Manager.count() == 2  # my write, read back from the primary
    assert await asyncio.create_task(count()) == 2  # a task started now inherits the window
    assert await asyncio.create_task(count(), context=fresh) == 1  # others read the standby
    await asyncio.sleep(max(0.0, wrote_at + 0.5 - time.monotonic()) + 0.05)
    assert await Manager.count() == 1  # the window is over: the standby again
    async with routed.transaction():
        await Manager.update({Manager.name: "Renamed"}).where(Manager.name == "Mine")
    # A committed transaction opens the window too.
    assert await Manager.exists().where(Manager.name == "Renamed") is True
    assert await Manager.exists().where(Manager.name == "Renamed").run(node="standby") is True
    await asyncio.sleep(0.55)
    assert await Manager.exists().where(Manager.name == "Renamed") is False


@pytest.mark.parametrize(
    "routed", [ReadPolicy(check_interval=0.0), ReadPolicy(max_lag=5.0, check_interval=0.0)],
    indirect=True, ids=["no-bound", "lag-bound"],
)  # fmt: skip
async def test_a_standby_that_is_down_falls_back_to_the_primary_with_a_warning(
    pair: _pg.StreamingPair, routed: PostgresEngine
) -> None:
    standby = routed.get_node("standby")
    await standby.start_connection_pool(min_size=1, max_size=2)
    assert await Manager.count() == 1
    await pause_replay(routed)
    await Manager.insert(Manager(name="Primary only"))
    pair.standby.stop_server()
    try:
        # Pooled connections were cut; new ones are refused.
        with pytest.warns(ReplicaFallbackWarning, match="'standby' is unreachable"):
            assert await Manager.count() == 2
        with pytest.warns(ReplicaFallbackWarning, match="'standby' is unreachable"):
            assert await Manager.objects().get(Manager.name == "Primary only") is not None
        with pytest.raises(OperationalError):
            await routed.replication_lag("standby")
    finally:
        pair.standby.start_server()
        pair.wait_streaming()
    await wait_replayed(routed)  # a restarted standby replays again (pause is not kept)
    assert await Manager.count() == 2  # served again, no warning
    await standby.close_connection_pool()
