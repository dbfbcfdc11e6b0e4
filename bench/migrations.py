"""Migrations at scale: ``python -m bench.migrations`` (on demand, not in the test run).

On the generator scale benchmark's 500-table schema (``bench.scale``), in a
temporary project: ``migrations new --auto`` for the initial migration and
for a 50-change edit, ``migrations check`` with nothing to do, ``forwards``
of the initial migration and ``check --database`` on SQLite and on
PostgreSQL (a database of its own on 127.0.0.1:5432, dropped afterwards),
and, on a SQLite table of 1,000,000 rows, a native column rename and a
change that rebuilds the table. Each command runs as a subprocess, the way
a user meets it; a figure is the median of a few runs. A measurement that
fails prints "failed" and why, never a time.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from types import SimpleNamespace
from typing import Any, cast

from bench.database import REPO
from bench.report import machine_info
from bench.scale import schema_text

PG_SERVER = os.environ.get("PICCOLO_GEN_BENCH_PG", "postgresql://postgres@127.0.0.1:5432/postgres")
ROWS = 1_000_000

#: name -> (what, target in seconds or None)
FIGURES: dict[str, tuple[str, float | None]] = {
    "new_initial": ("new --auto, initial migration (500 tables)", 3.0),
    "new_edit": ("new --auto, 50-change edit", 3.0),
    "check": ("check, nothing to do", 2.0),
    "forwards_sqlite": ("forwards of the initial migration, SQLite", None),
    "forwards_postgres": ("forwards of the initial migration, PostgreSQL", None),
    "check_db_sqlite": ("check --database, SQLite", 2.0),
    "check_db_postgres": ("check --database, PostgreSQL", 2.0),
    "introspect_sqlite": ("introspect of the 500 tables, SQLite", None),
    "introspect_postgres": ("introspect of the 500 tables, PostgreSQL", None),
    "rename_1m": ("forwards: rename a column of a 1,000,000-row table, SQLite (native)", None),
    "rebuild_1m": (
        "forwards: set NOT NULL and a default on a 1,000,000-row table, SQLite (rebuild)",
        None,
    ),
}


class Failed(Exception):
    """A measurement that did not succeed: it has a reason and no figure."""


def edited_schema_text(tables: int = 500) -> str:
    """``schema_text(tables)`` with 50 changes: 25 added columns, 15 null or
    default changes and 10 column renames (``renamed_from``)."""
    blocks = re.split(r"(?m)^(?=  Table\d{4}:$)", schema_text(tables))
    out = [blocks[0]]
    for i, block in enumerate(blocks[1:]):
        if i < 25:
            block += "      extra: {type: integer, null: true}\n"
        elif i < 33:
            block = block.replace(
                "amount: {type: integer, default: 0}", "amount: {type: integer, default: 1}"
            )
        elif i < 40:
            block = block.replace(
                "total: {type: bigint, null: true}", "total: {type: bigint, default: 0}"
            )
        elif i < 50:
            block = block.replace(
                "score: {type: double_precision, null: true}",
                "rating: {type: double_precision, null: true, renamed_from: score}",
            )
        out.append(block)
    return "".join(out)


def _env() -> dict[str, str]:
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    env.pop("PICCOLO_CONF", None)
    # As a user runs it: Python keeps bytecode (the runtime's, the generator's,
    # the migration files' and the state's compiled code in __pycache__).
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    return env


def _run(project: Path, *args: str) -> float:
    """Seconds of ``piccolo-gen migrations ARGS`` in ``project``; ``Failed`` unless it exits 0."""
    return _output(project, *args)[0]


def _output(project: Path, *args: str, command: str = "migrations") -> tuple[float, str]:
    """Seconds and output of ``piccolo-gen migrations ARGS`` (or another
    ``command``); ``Failed`` unless it exits 0."""
    command_line = [sys.executable, "-m", "generator", command, *args]
    start = time.perf_counter()
    done = subprocess.run(
        command_line, cwd=project, env=_env(), capture_output=True, text=True, timeout=1800
    )
    elapsed = time.perf_counter() - start
    if done.returncode != 0:
        lines = (done.stdout + done.stderr).strip().splitlines()
        raise Failed(f"{command} {' '.join(args)} exited {done.returncode}: {lines[-3:]}")
    return elapsed, done.stdout


def _project(root: Path, name: str, schema: str) -> Path:
    project = root / name
    (project / "schema").mkdir(parents=True)
    (project / "schema" / "tables.yaml").write_text(schema)
    (project / "pyproject.toml").write_text(
        '[tool.piccolo-gen]\nschema = ["schema"]\nout = "app_tables"\nmigrations = "migrations"\n'
    )
    return project


def _pg(sql: str) -> None:
    import asyncpg  # type: ignore[import-untyped]

    async def run() -> None:
        connection = await asyncpg.connect(PG_SERVER)
        try:
            await connection.execute(sql)
        finally:
            await connection.close()

    asyncio.run(run())


def _pg_url(name: str) -> str:
    return PG_SERVER.rsplit("/", 1)[0] + "/" + name


def measure(repeat: int, log: Callable[[str], None]) -> dict[str, list[float] | str]:
    """Each figure's times, or why it failed."""
    results: dict[str, list[float] | str] = {}

    def attempt(name: str, runs: Callable[[], list[float]]) -> None:
        log(f"  {FIGURES[name][0]}...")
        try:
            results[name] = runs()
        except Exception as exc:  # any failure is reported, never timed
            results[name] = f"{type(exc).__name__}: {exc}"

    root = Path(tempfile.mkdtemp(prefix="piccolo_gen_bench_migrations_"))
    try:
        project = _project(root, "scale", schema_text(500))
        migrations = project / "migrations"

        def new_initial() -> list[float]:
            times = []
            for _ in range(repeat):
                shutil.rmtree(migrations, ignore_errors=True)
                times.append(_run(project, "new", "--auto"))
            return times

        attempt("new_initial", new_initial)
        attempt("check", lambda: [_run(project, "check") for _ in range(repeat)])

        def forwards(name: str, fresh: Callable[[int], str], drop: Callable[[int], None]) -> None:
            check_times: list[float] = []
            introspect_times: list[float] = []
            written = project / "introspected.yaml"

            def runs() -> list[float]:
                times = []
                for n in range(repeat):
                    try:
                        url = fresh(n)
                        times.append(_run(project, "forwards", "--database", url))
                        check_times.append(_run(project, "check", "--database", url))
                        took, _ = _output(
                            project, "--database", url, "--out", str(written), command="introspect"
                        )
                        tables = written.read_text().count("\n    columns:\n")
                        if tables != 500:
                            raise Failed(f"introspect wrote {tables} tables, not 500")
                        introspect_times.append(took)
                    finally:
                        drop(n)
                return times

            attempt(f"forwards_{name}", runs)
            for figure, times in (("check_db", check_times), ("introspect", introspect_times)):
                results[f"{figure}_{name}"] = (
                    times if len(times) == repeat else "failed with forwards"
                )

        def sqlite_url(n: int) -> str:
            return f"sqlite:///{root / f'scale{n}.sqlite'}"

        forwards(
            "sqlite", sqlite_url, lambda n: (root / f"scale{n}.sqlite").unlink(missing_ok=True)
        )
        base = f"piccolo_gen_bench_migrations_{os.getpid()}"

        def pg_url(n: int) -> str:
            _pg(f'CREATE DATABASE "{base}_{n}"')
            return _pg_url(f"{base}_{n}")

        forwards("postgres", pg_url, lambda n: _pg(f'DROP DATABASE IF EXISTS "{base}_{n}"'))

        (project / "schema" / "tables.yaml").write_text(edited_schema_text(500))

        def new_edit() -> list[float]:
            times = []
            for _ in range(repeat):
                for made in migrations.glob("0002_*.py"):
                    made.unlink()
                # The first run after an edit: nothing of the edited state compiled yet.
                for kept in migrations.glob("__pycache__/piccolo-gen-state.*"):
                    kept.unlink()
                times.append(_run(project, "new", "--auto"))
            return times

        attempt("new_edit", new_edit)
        _measure_large(root, repeat, attempt)
    finally:
        shutil.rmtree(root, ignore_errors=True)
    return results


LARGE = """\
module: tables
tables:
  Event:
    columns:
      name: {type: varchar, length: 50, default: ""}
      amount: {type: integer, null: true}
      note: {type: text, null: true}
"""


def _measure_large(root: Path, repeat: int, attempt: Callable[..., None]) -> None:
    """A column rename and a rebuild on a 1,000,000-row SQLite table."""
    project = _project(root, "large", LARGE)
    database = root / "large.sqlite"
    url = f"sqlite:///{database}"
    template = root / "large_template.sqlite"

    def prepared(schema: str, expected: str) -> None:
        shutil.copyfile(template, database)
        (project / "schema" / "tables.yaml").write_text(schema)
        for made in (project / "migrations").glob("0002_*.py"):
            made.unlink()
        _run(project, "new", "--auto")
        # The figure is of what it says: a native rename, or a rebuild.
        sql = _output(project, "sql", "0002", "--dialect", "sqlite")[1]
        if expected not in sql:
            raise Failed(f"the migration's SQL has no {expected!r}: {sql[-300:]}")

    def setup() -> None:
        _run(project, "new", "--auto")
        _run(project, "forwards", "--database", url)
        with sqlite3.connect(database) as connection:
            connection.executemany(
                'INSERT INTO "event" ("name", "amount", "note") VALUES (?, ?, ?)',
                ((f"event {i}", i % 1000, None) for i in range(ROWS)),
            )
        database.rename(template)

    def timed(schema: str, expected: str) -> list[float]:
        times = []
        for _ in range(repeat):
            prepared(schema, expected)
            times.append(_run(project, "forwards", "--database", url))
            with sqlite3.connect(database) as connection:
                (count,) = connection.execute('SELECT count(*) FROM "event"').fetchone()
            if count != ROWS:
                raise Failed(f"the table has {count} rows after the migration, not {ROWS}")
        return times

    renamed = LARGE.replace(
        "amount: {type: integer, null: true}",
        "quantity: {type: integer, null: true, renamed_from: amount}",
    )
    rebuilt = LARGE.replace(
        "amount: {type: integer, null: true}", "amount: {type: integer, default: 0}"
    )
    try:
        setup()
    except Exception as exc:
        reason = f"{type(exc).__name__}: {exc}"
        attempt("rename_1m", lambda: _raise(reason))
        attempt("rebuild_1m", lambda: _raise(reason))
        return
    attempt("rename_1m", lambda: timed(renamed, 'RENAME COLUMN "amount" TO "quantity"'))
    attempt("rebuild_1m", lambda: timed(rebuilt, 'INSERT INTO "event__piccolo_gen_new"'))


def _raise(reason: str) -> Any:
    raise Failed(f"setting up the 1,000,000-row table failed: {reason}")


def lines(results: dict[str, list[float] | str], info: dict[str, str], repeat: int) -> list[str]:
    out = [
        f"Migrations at scale ({info.get('date')}; median of {repeat} runs)",
        f"machine: {info.get('machine')}; Python {info.get('python')}, "
        f"SQLite {info.get('sqlite')}",
        "This machine has 2 cores and is shared: absolute times move by 10-20% between runs.",
        "",
    ]
    for name, (what, target) in FIGURES.items():
        found = results.get(name, "not measured")
        if isinstance(found, str):
            out.append(f"  {what}: failed ({found})")
            continue
        value = statistics.median(found)
        line = f"  {what}: {value:.2f} s"
        if target is not None:
            line += f" (target <= {target:g} s: {'met' if value <= target else 'not met'})"
        out.append(line)
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.migrations", description=__doc__)
    parser.add_argument("--repeat", type=int, default=3, help="runs per figure (default 3)")
    args = parser.parse_args(argv)
    print(f"Migrations at scale: 500 tables, {args.repeat} runs per figure...", flush=True)
    results = measure(args.repeat, lambda text: print(text, flush=True))
    info = machine_info(cast(Any, SimpleNamespace(info={})))  # a run with nothing of its own
    print("\n".join(lines(results, info, args.repeat)))
    return 0 if all(not isinstance(v, str) for v in results.values()) else 1


if __name__ == "__main__":
    sys.exit(main())
