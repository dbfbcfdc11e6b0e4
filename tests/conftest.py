"""Shared fixtures: real databases for every test that asks for one.

``engine`` runs a test once on SQLite and once on PostgreSQL (ids ``sqlite``
and ``postgres``). The PostgreSQL server is found or started once per
session by ``_pg.find_server()`` (``PICCOLO_GEN_TEST_PG``, else 127.0.0.1:5432,
else a throwaway cluster); the session gets a fresh database of its own,
dropped at the end. Without any server, PostgreSQL tests are skipped with the
reason, except under CI (``CI`` set), where they fail.

With ``PICCOLO_GEN_TEST_PGBOUNCER=1`` the PostgreSQL fixtures go through a
PgBouncer in transaction pooling mode (``_pgbouncer``, started once per
session in front of the server): ``pg_dsn`` and the fresh databases are URLs
through it, and their engines are made with ``pooler="transaction"``
(``make_pg_engine``).
"""

from __future__ import annotations

import contextlib
import itertools
import os
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import NoReturn

import _pg
import _pgbouncer
import pytest

from runtime._engine import Engine, PostgresEngine, SQLiteEngine

# tests/typing/ is read by the type checkers, never run; its files may share
# a basename with a test module here, which pytest cannot import twice.
collect_ignore = ["typing"]


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "pg_cluster: starts a throwaway PostgreSQL cluster (a few seconds)"
    )


def unavailable(reason: str) -> NoReturn:
    """Skip locally, fail in CI: CI must never pass by skipping PostgreSQL."""
    if os.environ.get("CI"):
        pytest.fail(f"PostgreSQL is required in CI: {reason}", pytrace=False)
    pytest.skip(f"PostgreSQL unavailable: {reason}")


#: Whether the PostgreSQL fixtures go through PgBouncer (see the module doc).
THROUGH_PGBOUNCER = os.environ.get(_pgbouncer.ENV_VAR, "") not in ("", "0")


def make_pg_engine(url: str) -> PostgresEngine:
    """An engine on ``url`` as the fixtures make it (``pooler="transaction"``
    when they go through PgBouncer)."""
    if THROUGH_PGBOUNCER:
        return PostgresEngine(config={"dsn": url}, pooler="transaction")
    return PostgresEngine(config={"dsn": url})


@pytest.fixture(scope="session")
def pg_server() -> Iterator[_pg.PgServer]:
    """The PostgreSQL server of the session (found or started)."""
    try:
        server = _pg.find_server()
    except _pg.PgUnavailable as error:
        unavailable(str(error))
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="session")
def pgbouncer(pg_server: _pg.PgServer) -> Iterator[_pgbouncer.PgBouncer]:
    """A PgBouncer in transaction pooling mode in front of the session's server."""
    try:
        bouncer = _pgbouncer.start(pg_server.dsn)
    except _pg.PgUnavailable as error:
        unavailable(str(error))
    try:
        yield bouncer
    finally:
        bouncer.stop()


@pytest.fixture(scope="session")
def pg_dsn(pg_server: _pg.PgServer, request: pytest.FixtureRequest) -> Iterator[str]:
    """URL of a database created for this test session on a real PostgreSQL
    server (through PgBouncer with ``PICCOLO_GEN_TEST_PGBOUNCER=1``)."""
    database = f"piccolo_gen_test_{os.getpid()}"
    _pg.create_database(pg_server.dsn, database)
    try:
        if THROUGH_PGBOUNCER:
            bouncer: _pgbouncer.PgBouncer = request.getfixturevalue("pgbouncer")
            yield bouncer.url(database)
        else:
            yield _pg.with_database(pg_server.dsn, database)
    finally:
        _pg.drop_database(pg_server.dsn, database)


@pytest.fixture
async def pg_engine(pg_dsn: str) -> AsyncIterator[PostgresEngine]:
    """A PostgresEngine on the session's database (no pool); closed afterwards."""
    engine = make_pg_engine(pg_dsn)
    yield engine
    await engine.close()


@pytest.fixture
async def sqlite_engine(tmp_path: Path) -> AsyncIterator[SQLiteEngine]:
    """An SQLiteEngine on a fresh file ``tmp_path/"test.sqlite"``; closed afterwards."""
    engine = SQLiteEngine(tmp_path / "test.sqlite")
    yield engine
    await engine.close()


_databases = itertools.count()


@contextlib.contextmanager
def fresh_pg_database(server: str) -> Iterator[str]:
    """The URL of a PostgreSQL database made for one test (dropped afterwards),
    named after the process so parallel runs never meet."""
    name = f"piccolo_gen_fresh_{os.getpid()}_{next(_databases)}"
    _pg.create_database(server, name)
    try:
        yield _pg.with_database(server, name)
    finally:
        _pg.drop_database(server, name)


@contextlib.asynccontextmanager
async def fresh_postgres(server: str) -> AsyncIterator[PostgresEngine]:
    """An engine on a PostgreSQL database made for one test (dropped afterwards)."""
    with fresh_pg_database(server) as url:
        engine = make_pg_engine(url)
        try:
            yield engine
        finally:
            await engine.close()


@pytest.fixture(params=["sqlite", "postgres"])
async def db(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Engine]:
    """An empty database of each engine in turn: a fresh SQLite file, or a
    PostgreSQL database of the test's own (for tests that change the schema)."""
    if request.param == "sqlite":
        sqlite = SQLiteEngine(tmp_path / "db.sqlite")
        yield sqlite
        await sqlite.close()
        return
    async with fresh_postgres(request.getfixturevalue("pg_dsn")) as postgres:
        yield postgres


@pytest.fixture
async def pg_db(pg_dsn: str) -> AsyncIterator[PostgresEngine]:
    """An empty PostgreSQL database of the test's own."""
    async with fresh_postgres(pg_dsn) as postgres:
        yield postgres


@pytest.fixture(params=["sqlite", "postgres"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """The ``--database`` URL of a fresh, empty database of each engine."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'db.sqlite'}"
        return
    with fresh_pg_database(request.getfixturevalue("pg_dsn")) as url:
        yield url


@pytest.fixture(params=["sqlite", "postgres"])
def engine(request: pytest.FixtureRequest) -> Engine:
    """Each engine in turn: the test runs once per database."""
    fixture = "sqlite_engine" if request.param == "sqlite" else "pg_engine"
    result: Engine = request.getfixturevalue(fixture)
    return result


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """Fail a run that leaves a non-daemon thread behind.

    Such a thread (an unclosed aiosqlite connection, an executor) keeps the
    interpreter from exiting after the last test: CI would hang instead of
    reporting. Name the threads so the leak can be found.
    """
    import threading

    leaked = [t for t in threading.enumerate() if t is not threading.main_thread() and not t.daemon]
    if leaked:
        names = ", ".join(f"{t.name} ({getattr(t.run, '__qualname__', '?')})" for t in leaked)
        print(f"\nnon-daemon threads left running: {names}")
        session.exitstatus = pytest.ExitCode.TESTS_FAILED
