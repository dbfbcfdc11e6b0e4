"""The databases every contender shares: one PostgreSQL database and one SQLite file.

PostgreSQL is found the way the test-suite finds it (``tests/_pg.py``:
``PICCOLO_GEN_TEST_PG``, else 127.0.0.1:5432, else a throwaway cluster) and
gets a dedicated database, ``piccolo_gen_bench``, created afresh. Both
databases get the same tables, created here with plain DDL so that no
contender's DDL choices favour it, and the same rows.
"""

from __future__ import annotations

import sqlite3
import sys
import urllib.parse
from dataclasses import dataclass
from pathlib import Path

import asyncpg

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "tests"))
import _pg  # noqa: E402  (tests/_pg.py: server discovery and throwaway clusters)

DATABASE = "piccolo_gen_bench"
MANAGERS = 100

PG_DDL = [
    "DROP TABLE IF EXISTS band",
    "DROP TABLE IF EXISTS manager",
    "CREATE TABLE manager (id SERIAL PRIMARY KEY, name VARCHAR(50) NOT NULL DEFAULT '')",
    "CREATE TABLE band (id SERIAL PRIMARY KEY, name VARCHAR(50) NOT NULL DEFAULT '',"
    " manager INTEGER NULL REFERENCES manager (id) ON DELETE SET NULL,"
    " popularity INTEGER NOT NULL DEFAULT 0)",
]
SQLITE_DDL = [
    "DROP TABLE IF EXISTS band",
    "DROP TABLE IF EXISTS manager",
    "CREATE TABLE manager (id INTEGER PRIMARY KEY, name VARCHAR(50) NOT NULL DEFAULT '')",
    "CREATE TABLE band (id INTEGER PRIMARY KEY, name VARCHAR(50) NOT NULL DEFAULT '',"
    " manager INTEGER NULL REFERENCES manager (id) ON DELETE SET NULL,"
    " popularity INTEGER NOT NULL DEFAULT 0)",
]


def manager_rows() -> list[tuple[int, str]]:
    return [(i, f"manager-{i}") for i in range(1, MANAGERS + 1)]


def band_rows(count: int, start: int = 1) -> list[tuple[int, str, int | None, int]]:
    """Every tenth band has no manager, so the LEFT JOIN of W6 has misses."""
    return [
        (i, f"band-{i}", None if i % 10 == 0 else i % MANAGERS + 1, i % 1000)
        for i in range(start, start + count)
    ]


def new_band_values(count: int) -> list[tuple[str, int | None, int]]:
    """The rows W4 inserts (without ids: the database numbers them)."""
    return [(f"new-{i}", None if i % 10 == 0 else i % MANAGERS + 1, i) for i in range(count)]


@dataclass
class Databases:
    pg_dsn: str | None  # URL of piccolo_gen_bench; None without a PostgreSQL server
    sqlite_path: Path
    server: _pg.PgServer | None
    rows: int
    #: Why there is no PostgreSQL database, if there is none.
    pg_problem: str | None = None

    @property
    def pg_parts(self) -> dict[str, object]:
        url = urllib.parse.urlsplit(self.pg_dsn)
        return {
            "host": url.hostname or "127.0.0.1",
            "port": url.port or 5432,
            "user": urllib.parse.unquote(url.username or "postgres"),
            "password": urllib.parse.unquote(url.password) if url.password else None,
            "database": DATABASE,
        }

    def url(self, scheme: str) -> str:
        """The PostgreSQL URL with another scheme (for SQLAlchemy and Tortoise)."""
        assert self.pg_dsn is not None
        return scheme + "://" + self.pg_dsn.split("://", 1)[1]

    def stop(self) -> None:
        if self.server is None:
            return
        try:
            _pg.drop_database(self.server.dsn, DATABASE)
        finally:
            self.server.stop()


def open_databases(rows: int, workdir: Path) -> Databases:
    """Both databases, seeded; without PostgreSQL, SQLite alone (``pg_problem`` says why)."""
    sqlite_path = workdir / "bench.sqlite"
    _seed_sqlite(sqlite_path, rows)
    try:
        server = _pg.find_server()
    except _pg.PgUnavailable as error:
        return Databases(None, sqlite_path, None, rows, pg_problem=str(error))
    dsn = _pg.with_database(server.dsn, DATABASE)
    databases = Databases(dsn, sqlite_path, server, rows)
    try:
        _pg.create_database(server.dsn, DATABASE)
        _pg._run_blocking(_seed_pg(dsn, rows))
    except BaseException:
        databases.stop()
        raise
    return databases


async def _seed_pg(dsn: str, rows: int) -> None:
    conn = await asyncpg.connect(dsn)
    try:
        for statement in PG_DDL:
            await conn.execute(statement)
        await conn.copy_records_to_table("manager", records=manager_rows(), columns=["id", "name"])
        await conn.copy_records_to_table(
            "band", records=band_rows(rows), columns=["id", "name", "manager", "popularity"]
        )
        for table in ("manager", "band"):
            await conn.execute(
                f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT max(id) FROM {table}))"
            )
        await conn.execute("VACUUM ANALYZE")
    finally:
        await conn.close()


def _seed_sqlite(path: Path, rows: int) -> None:
    conn = sqlite3.connect(path)
    try:
        for statement in SQLITE_DDL:
            conn.execute(statement)
        conn.executemany("INSERT INTO manager VALUES (?, ?)", manager_rows())
        conn.executemany("INSERT INTO band VALUES (?, ?, ?, ?)", band_rows(rows))
        conn.commit()
    finally:
        conn.close()


async def pg_trim(pool: asyncpg.Pool, rows: int) -> None:
    """Remove rows added by W4 or M1, so that every repetition reads the same data."""
    await pool.execute("DELETE FROM band WHERE id > $1", rows)


async def pg_grow(pool: asyncpg.Pool, rows: int, target: int) -> None:
    """Add bands up to ``target`` rows (for M1)."""
    await pool.copy_records_to_table(
        "band",
        records=band_rows(target - rows, start=rows + 1),
        columns=["id", "name", "manager", "popularity"],
    )
    await pool.execute("ANALYZE band")
