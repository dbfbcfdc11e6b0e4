"""Typing of read replicas: ``ReadPolicy``, ``PostgresEngine(read_policy=...)``,
``replication_lag()`` and ``run(node=...)``. Read by mypy --strict and pyright,
never run (tests/test_streaming_replica.py runs them against a real standby).
"""

from __future__ import annotations

from typing import assert_type

from generated.music import Band, BandRow
from runtime import PostgresEngine, ReadPolicy, ReplicaFallbackWarning

standby = PostgresEngine(config={"host": "standby"})
policy = ReadPolicy(nodes=["standby"], max_lag=1.0, read_your_writes=2, check_interval=0.5)
primary = PostgresEngine(
    config={"host": ["a", "b"], "port": [5432, 5433], "target_session_attrs": "read-write"},
    extra_nodes={"standby": standby},
    read_policy=policy,
)


async def routing() -> None:
    assert_type(primary.read_policy, ReadPolicy | None)
    assert_type(await primary.replication_lag("standby"), float | None)
    assert_type(await Band.select().run(node="standby"), list[BandRow])
    assert_type(await Band.count().run(node="standby"), int)
    assert_type(policy.max_lag, float | None)
    assert_type(policy.read_your_writes, float)
    assert issubclass(ReplicaFallbackWarning, RuntimeWarning)


def wrong() -> None:
    ReadPolicy(max_lag="1")  # type: ignore[arg-type]  # pyright: ignore[reportArgumentType]
    ReadPolicy(unknown=1)  # type: ignore[call-arg]  # pyright: ignore[reportCallIssue]
    PostgresEngine(read_policy={"max_lag": 1})  # type: ignore[arg-type]  # pyright: ignore[reportArgumentType]
    PostgresEngine(replicas=[standby])  # type: ignore[call-arg]  # pyright: ignore[reportCallIssue]


async def wrong_lag() -> None:
    await primary.replication_lag(1)  # type: ignore[arg-type]  # pyright: ignore[reportArgumentType]
