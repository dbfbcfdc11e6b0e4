"""Failover: a ``PostgresEngine`` given both hosts of a streaming pair
(``target_session_attrs="read-write"``) survives the primary's crash and the
standby's promotion, without any action of the code that uses it.

Exactly what an operator's failover does: ``pg_ctl stop -m immediate`` on the
primary, then ``pg_ctl promote`` on the standby. Queries during the outage
fail with the runtime's ``OperationalError``; once the standby is promoted,
the pool's new connections find it (it is the only read-write host), and
queries, writes included, succeed there.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator

import _pg
import pytest

from generated.music import Manager
from runtime import OperationalError, PostgresEngine, create_tables, use_engine

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


async def test_queries_fail_for_the_outage_only_then_reach_the_promoted_standby(
    pair: _pg.StreamingPair,
) -> None:
    assert pair.primary.port is not None and pair.standby.port is not None
    engine = PostgresEngine(
        config={
            "host": ["127.0.0.1", "127.0.0.1"],
            "port": [pair.primary.port, pair.standby.port],
            "user": "postgres",
            "database": "postgres",
            "target_session_attrs": "read-write",
        }
    )
    use_engine(engine, Manager)
    await engine.start_connection_pool(min_size=2, max_size=4)
    try:
        port = "SELECT current_setting('port')::int"
        assert (await engine.fetch(port))[0][0] == pair.primary.port
        await create_tables(Manager)
        await Manager.insert(Manager(name="Before"))
        lsn = (await engine.fetch("SELECT pg_current_wal_insert_lsn()::text"))[0][0]
        deadline = time.monotonic() + 10
        replayed = f"SELECT pg_last_wal_replay_lsn() >= '{lsn}'::pg_lsn"
        while _pg.query(pair.standby.dsn, replayed) != [[True]]:
            assert time.monotonic() < deadline
            await asyncio.sleep(0.02)

        # Writes keep going in the background, as an application's would.
        outcomes: list[str] = []
        stop = asyncio.Event()

        async def writer() -> None:
            n = 0
            while not stop.is_set():
                n += 1
                try:
                    await Manager.insert(Manager(name=f"w{n}"))
                    outcomes.append("ok")
                except OperationalError:
                    outcomes.append("failed")
                    await asyncio.sleep(0.05)
                await asyncio.sleep(0.01)

        task = asyncio.create_task(writer())
        await asyncio.sleep(0.2)
        pair.primary.stop_immediately()
        await asyncio.sleep(0.3)  # the outage: no read-write host at all
        with pytest.raises(OperationalError):
            await Manager.count()
        failed_before_promotion = outcomes.count("failed")
        pair.standby.promote()
        deadline = time.monotonic() + 20
        while outcomes[-3:] != ["ok"] * 3:
            assert time.monotonic() < deadline, outcomes[-10:]
            await asyncio.sleep(0.05)
        stop.set()
        await task

        # Before the crash: all fine; during the outage: failures only; after
        # the promotion: fine again, on the former standby.
        first_failure = outcomes.index("failed")
        assert set(outcomes[:first_failure]) == {"ok"} and first_failure > 0
        assert failed_before_promotion > 0
        recovered = len(outcomes) - outcomes[::-1].index("failed")
        assert set(outcomes[recovered:]) == {"ok"} and len(outcomes) - recovered >= 3
        assert (await engine.fetch(port))[0][0] == pair.standby.port
        assert (await engine.fetch("SELECT pg_is_in_recovery()"))[0][0] is False
        names = await Manager.select(Manager.name).output(as_list=True)
        assert names[0] == "Before"
        assert names.count("Before") == 1 and len(names) >= 1 + len(outcomes) - recovered
    finally:
        use_engine(None, Manager)
        await engine.close()
