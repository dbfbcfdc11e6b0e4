"""``piccolo-gen migrations ...`` on real databases, in process and as processes."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import _pg
import pytest

from generator.cli import main
from generator.migration_writer import render_migration, write_atomically
from runtime.migrations import (
    AddColumn,
    Column,
    CreateTable,
    DropColumn,
    Operation,
    RunSQL,
    Table,
    Type,
)

REPO = Path(__file__).resolve().parent.parent

BAND = Table(
    "band",
    columns=(
        Column("id", Type("Serial"), primary_key=True),
        Column("name", Type("Varchar", length=50), default=""),
    ),
)


def write(folder: Path, *migrations: list[Operation], start: int = 1, **extra: object) -> None:
    parent = None if start == 1 else f"{start - 1:04d}_step{start - 1}"
    for number, ops in enumerate(migrations, start=start):
        migration_id = f"{number:04d}_step{number}"
        write_atomically(folder / f"{migration_id}.py", render_migration(migration_id, parent, ops))
        parent = migration_id


def run(
    *args: str, cwd: Path | None = None, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "generator", "migrations", *args],
        capture_output=True,
        text=True,
        cwd=cwd or REPO,
        env={**os.environ, "PYTHONPATH": str(REPO), **(env or {})},
        timeout=120,
    )


def test_forwards_status_backwards(
    database_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = tmp_path / "migrations"
    write(
        folder,
        [CreateTable(BAND)],
        [AddColumn("band", Column("rating", Type("Integer"), default=0))],
    )
    common = ["--folder", str(folder), "--database", database_url]
    assert main(["migrations", "status", *common]) == 0
    out = capsys.readouterr().out
    assert "pending  0001_step1" in out and "pending  0002_step2" in out

    assert main(["migrations", "forwards", "0001", *common]) == 0
    err = capsys.readouterr().err
    assert "applying 0001_step1 (1 operation)" in err
    assert "  create table band (" in err and "applied 0001_step1 in " in err
    assert main(["migrations", "status", *common]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].startswith("applied  0001_step1") and "applied 20" in lines[0]
    assert lines[1].startswith("pending  0002_step2")

    assert main(["migrations", "forwards", *common]) == 0
    assert "applied 0002_step2" in capsys.readouterr().err
    assert main(["migrations", "forwards", *common]) == 0
    assert "nothing to apply" in capsys.readouterr().err

    assert main(["migrations", "backwards", "zero", *common]) == 0
    err = capsys.readouterr().err
    assert err.index("reverting 0002_step2") < err.index("reverting 0001_step1")
    assert main(["migrations", "status", *common]) == 0
    assert capsys.readouterr().out.count("pending") == 2


def test_edited_file_fails_forwards_and_status(
    database_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = tmp_path / "migrations"
    write(folder, [CreateTable(BAND)])
    common = ["--folder", str(folder), "--database", database_url]
    assert main(["migrations", "forwards", *common]) == 0
    path = folder / "0001_step1.py"
    path.write_text(path.read_text() + "EDITED = True\n")
    capsys.readouterr()
    assert main(["migrations", "forwards", *common]) == 1
    assert "must not be edited" in capsys.readouterr().err
    assert main(["migrations", "status", *common]) == 1
    assert capsys.readouterr().out.startswith("changed  0001_step1")


def test_sql_prints_each_dialect(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    folder = tmp_path / "migrations"
    write(folder, [CreateTable(BAND)], [RunSQL("UPDATE band SET name = 'x'; DELETE FROM band")])
    assert main(["migrations", "sql", "--folder", str(folder)]) == 0
    out = capsys.readouterr().out
    assert "-- 0001_step1 (sqlite, forwards)" in out and "-- 0001_step1 (postgres, forwards)" in out
    assert 'CREATE TABLE "band"' in out and "SERIAL" in out
    assert main(["migrations", "sql", "0002", "--dialect", "sqlite", "--folder", str(folder)]) == 0
    out = capsys.readouterr().out
    assert "UPDATE band SET name = 'x';\nDELETE FROM band;" in out
    assert "postgres" not in out
    assert (
        main(
            [
                "migrations",
                "sql",
                "1",
                "--backwards",
                "--dialect",
                "postgres",
                "--folder",
                str(folder),
            ]
        )
        == 0
    )
    assert 'DROP TABLE "band"' in capsys.readouterr().out


def test_lint_fails_on_unacknowledged_destructive_operations(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = tmp_path / "migrations"
    write(folder, [CreateTable(BAND)], [DropColumn("band", "name")])
    assert main(["migrations", "lint", "--folder", str(folder)]) == 1
    captured = capsys.readouterr()
    assert "ERROR: destructive drop-column band.name" in captured.out
    assert "cannot bring the data back" in captured.out
    assert "acknowledged=('drop-column band.name',)" in captured.err
    path = folder / "0002_step2.py"
    path.write_text(
        path.read_text().replace(
            "operations=[", 'acknowledged=("drop-column band.name",),\n    operations=['
        )
    )
    assert main(["migrations", "lint", "--folder", str(folder)]) == 0
    assert "ok: destructive drop-column band.name" in capsys.readouterr().out


def test_two_files_with_one_parent_fail_every_command(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = tmp_path / "migrations"
    write(folder, [CreateTable(BAND)], [])
    write_atomically(folder / "0003_other.py", render_migration("0003_other", "0001_step1", []))
    for command in ("lint", "sql"):
        assert main(["migrations", command, "--folder", str(folder)]) == 1
        err = capsys.readouterr().err
        assert "2 migrations have the parent 0001_step1" in err


def test_concurrent_processes_apply_each_migration_once(database_url: str, tmp_path: Path) -> None:
    folder = tmp_path / "migrations"
    slow = (
        "SELECT pg_sleep(1)"
        if database_url.startswith("postgresql")
        else "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < 2000000) "
        "SELECT count(*) FROM c"
    )
    write(
        folder,
        [CreateTable(Table("runs", (Column("n", Type("Integer")),))), RunSQL(slow, backwards="")],
        [RunSQL("INSERT INTO runs (n) VALUES (2)", backwards="")],
        [RunSQL(slow, backwards=""), RunSQL("INSERT INTO runs (n) VALUES (3)", backwards="")],
    )
    command = [sys.executable, "-m", "generator", "migrations", "forwards"]
    command += ["--folder", str(folder), "--database", database_url]
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    processes = [
        subprocess.Popen(
            command, cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
        )
        for _ in range(3)
    ]
    outputs = [p.communicate(timeout=120) for p in processes]
    assert [p.returncode for p in processes] == [0, 0, 0], outputs
    applied = [
        line for _, err in outputs for line in err.splitlines() if line.startswith("applied ")
    ]
    assert sorted(line.split()[1] for line in applied) == ["0001_step1", "0002_step2", "0003_step3"]
    status = run("status", "--folder", str(folder), "--database", database_url)
    assert status.returncode == 0, status.stderr
    assert [line.split()[:2] for line in status.stdout.splitlines()] == [
        ["applied", "0001_step1"],
        ["applied", "0002_step2"],
        ["applied", "0003_step3"],
    ]
    # Each migration was begun once (a runner announces it after taking the
    # lock and reading the history again).
    begun = [
        line.split()[1]
        for _, err in outputs
        for line in err.splitlines()
        if line.startswith("applying ")
    ]
    assert sorted(begun) == ["0001_step1", "0002_step2", "0003_step3"], outputs
    if database_url.startswith("postgresql"):
        # The others waited at the advisory lock while the first slept in 0001.
        assert any("waiting for another migration run" in err for _, err in outputs), outputs
    check = subprocess.run(
        (
            [
                sys.executable,
                "-c",
                f"import _pg; print(_pg.query({database_url!r}, 'SELECT n FROM runs ORDER BY n'))",
            ]
            if database_url.startswith("postgresql")
            else [
                sys.executable,
                "-c",
                f"import sqlite3; print(sqlite3.connect({database_url[10:]!r}).execute('SELECT n FROM runs ORDER BY n').fetchall())",
            ]
        ),
        capture_output=True,
        text=True,
        cwd=REPO / "tests",
    )
    assert check.stdout.strip() in ("[[2], [3]]", "[(2,), (3,)]"), check


def test_deploy_commands_import_no_generator_dependencies(tmp_path: Path) -> None:
    folder = tmp_path / "migrations"
    write(folder, [CreateTable(BAND)])
    database = f"sqlite:///{tmp_path / 'db.sqlite'}"
    script = textwrap.dedent(f"""
        import sys
        from generator.cli import main
        for args in (["forwards"], ["status"], ["backwards", "zero"]):
            code = main(["migrations", *args, "--folder", {str(folder)!r}, "--database", {database!r}])
            assert code == 0, (args, code)
        heavy = sorted(m for m in sys.modules if m.split(".")[0] in ("black", "jinja2", "pydantic", "yaml"))
        assert not heavy, heavy
        print("ok")
        """)
    result = subprocess.run(
        [sys.executable, "-c", script],
        capture_output=True,
        text=True,
        cwd=REPO,
        env={**os.environ, "PYTHONPATH": str(REPO)},
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines()[-1] == "ok"


def test_the_engine_comes_from_piccolo_conf(tmp_path: Path) -> None:
    folder = tmp_path / "migrations"
    write(folder, [CreateTable(BAND)])
    (tmp_path / "piccolo_conf.py").write_text(
        "from runtime import SQLiteEngine\n\nDB = SQLiteEngine(path='app.sqlite')\n"
    )
    result = run("forwards", "--folder", str(folder), cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "app.sqlite").exists()
    assert not (tmp_path / "piccolo.sqlite").exists()
    result = run("status", "--folder", str(folder), cwd=tmp_path)
    assert result.stdout.startswith("applied  0001_step1"), result.stdout + result.stderr


def test_a_bad_database_url_is_a_usage_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["migrations", "status", "--folder", str(tmp_path), "--database", "mysql://x"]) == 2
    assert "unknown scheme 'mysql'" in capsys.readouterr().err


def test_squash_writes_one_migration_that_applied_databases_accept(
    database_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = tmp_path / "migrations"
    write(
        folder,
        [CreateTable(BAND)],
        [AddColumn("band", Column("rating", Type("Integer"), default=0))],
        [RunSQL("UPDATE band SET rating = 1", backwards="")],
        [DropColumn("band", "rating")],
    )
    common = ["--folder", str(folder), "--database", database_url]
    assert main(["migrations", "forwards", "0003", *common]) == 0
    assert main(["migrations", "squash", "0003", "--folder", str(folder)]) == 0
    captured = capsys.readouterr()
    assert "not carried over (data): 0003_step3: run SQL UPDATE band SET rating = 1" in captured.err
    assert sorted(p.name for p in folder.glob("*.py")) == ["0003_squashed.py", "0004_step4.py"]
    text = (folder / "0003_squashed.py").read_text()
    assert 'replaces=("0001_step1", "0002_step2", "0003_step3")' in text
    assert main(["migrations", "status", *common]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].startswith("applied  0003_squashed") and lines[1].startswith(
        "pending  0004_step4"
    )
    assert main(["migrations", "forwards", *common]) == 0
    assert main(["migrations", "lint", "--folder", str(folder)]) == 1  # 0004 drops a column
    result = subprocess.run(
        [sys.executable, "-m", "mypy", "--strict", "--no-incremental", str(folder)],
        capture_output=True,
        text=True,
        cwd=REPO,
    )
    assert result.returncode == 0, result.stdout


# -- new and check, in a project -------------------------------------------------------

PYPROJECT = """\
[project]
name = "demo"
version = "0"

[tool.piccolo-gen]
schema = ["schema"]
out = "app_tables"
migrations = "db_migrations"
"""

FIRST = """\
module: music
tables:
  Band:
    columns:
      name: {type: varchar, length: 50}
      popularity: {type: integer, default: 0}
"""

SECOND = """\
module: music
tables:
  Band:
    columns:
      title: {type: varchar, length: 50, renamed_from: name}
      popularity: {type: integer, default: 0, index: true}
      founded: {type: date, null: true}
"""


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    (tmp_path / "pyproject.toml").write_text(PYPROJECT)
    (tmp_path / "schema").mkdir()
    (tmp_path / "schema" / "music.yaml").write_text(FIRST)
    monkeypatch.chdir(tmp_path)
    return tmp_path


def test_new_auto_forwards_and_check_follow_the_schema_files(
    project: Path, database_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    import asyncio

    from runtime.migrations.drift import comparable
    from runtime.schema.compile import compiler_for
    from runtime.schema.read import read_schema
    from runtime.schema.state import Schema

    folder = project / "db_migrations"
    assert main(["migrations", "check"]) == 1
    assert "create table band" in capsys.readouterr().err
    assert main(["migrations", "new"]) == 0  # an empty file: check still fails
    assert main(["migrations", "check"]) == 1
    (folder / "0001_migration.py").unlink()
    capsys.readouterr()

    assert main(["migrations", "new", "--auto"]) == 0
    assert "wrote " in capsys.readouterr().out
    assert sorted(p.name for p in folder.iterdir()) == ["0001_initial.py"]
    assert main(["migrations", "check"]) == 0
    assert main(["migrations", "new", "--auto"]) == 0
    assert "no changes" in capsys.readouterr().out
    assert sorted(p.name for p in folder.iterdir()) == ["0001_initial.py"]
    assert main(["migrations", "forwards", "--database", database_url]) == 0

    (project / "schema" / "music.yaml").write_text(SECOND)
    assert main(["migrations", "check"]) == 1
    capsys.readouterr()
    assert main(["migrations", "new", "--auto", "--name", "Title & more"]) == 0
    captured = capsys.readouterr()
    assert "lint: locking index-lock band.popularity" in captured.err
    path = folder / "0002_title_more.py"
    text = path.read_text()
    assert 'RenameColumn(table="band", old="name", new="title")' in text
    assert "#   locking index-lock band.popularity:" in text
    assert main(["migrations", "check", "--database", database_url]) == 0
    assert main(["migrations", "forwards", "--database", database_url]) == 0

    async def read(expected: Schema) -> tuple[object, object]:
        from generator.migrate_cli import engine_from_url

        engine = engine_from_url(database_url)
        try:
            found = comparable(await read_schema(engine))
        finally:
            await engine.close()
        return found, comparable(compiler_for(engine.dialect).lower(expected))

    from generator.state import schema_state

    desired = schema_state([project / "schema"])
    assert isinstance(desired, Schema)
    found, expected = asyncio.run(read(desired))
    assert found == expected
    assert main(["migrations", "check", "--database", database_url]) == 0

    # Backwards: the database is the first schema file's state again.
    assert main(["migrations", "backwards", "0001", "--database", database_url]) == 0
    (project / "schema" / "first.yaml").write_text(FIRST)
    previous = schema_state([project / "schema" / "first.yaml"])
    (project / "schema" / "first.yaml").unlink()
    assert isinstance(previous, Schema)
    found, expected = asyncio.run(read(previous))
    assert found == expected
    assert main(["migrations", "forwards", "--database", database_url]) == 0

    # Drift: a column added by hand.
    async def add_column() -> None:
        from generator.migrate_cli import engine_from_url

        engine = engine_from_url(database_url)
        try:
            await engine.execute('ALTER TABLE "band" ADD COLUMN "notes" TEXT')
        finally:
            await engine.close()

    asyncio.run(add_column())
    capsys.readouterr()
    assert main(["migrations", "check"]) == 0  # the files alone are in step
    assert main(["migrations", "check", "--database", database_url]) == 1
    assert (
        "column band.notes is in the database, but no migration adds it" in capsys.readouterr().err
    )

    # An applied file edited since.
    first = folder / "0001_initial.py"
    first.write_text(first.read_text() + "EDITED = True\n")
    assert main(["migrations", "check", "--database", database_url]) == 1
    assert "must not be edited" in capsys.readouterr().err


def test_check_fails_on_forks_and_malformed_files(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = project / "db_migrations"
    assert main(["migrations", "new", "--auto"]) == 0
    capsys.readouterr()
    write_atomically(folder / "0002_a.py", render_migration("0002_a", "0001_initial", []))
    write_atomically(folder / "0003_b.py", render_migration("0003_b", "0001_initial", []))
    assert main(["migrations", "check"]) == 1
    assert "2 migrations have the parent 0001_initial" in capsys.readouterr().err
    (folder / "0003_b.py").write_text("migration = Migration(\n")
    assert main(["migrations", "check"]) == 1
    assert "0003_b.py:1:" in capsys.readouterr().err


def test_check_reports_schema_errors_with_their_place(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["migrations", "new", "--auto"]) == 0
    (project / "schema" / "music.yaml").write_text(
        FIRST + "      score: {type: integer, default: 0, renamed_from: scroe}\n"
    )
    capsys.readouterr()
    assert main(["migrations", "check"]) == 1
    err = capsys.readouterr().err
    assert "music.yaml:7:" in err and "scroe" in err
    assert "1 error in the schema files" in err


def test_the_pre_commit_hook_runs_migrations_check() -> None:
    import yaml

    hooks = yaml.safe_load((REPO / ".pre-commit-hooks.yaml").read_text(encoding="utf-8"))
    (hook,) = [h for h in hooks if h["id"] == "piccolo-gen-migrations-check"]
    assert hook["entry"] == "piccolo-gen migrations check"
    assert hook["pass_filenames"] is False and hook["always_run"] is True
    assert hook["additional_dependencies"] == [".[generator]"]


def test_the_projects_own_schemas_migrate_forwards_and_back(
    database_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Every feature of the schema language, through new --auto, forwards,
    check (no drift) and backwards."""
    folder = tmp_path / "migrations"
    schema = ["--schema", str(REPO / "schema")]
    common = ["--folder", str(folder)]
    assert main(["migrations", "new", "--auto", *common, *schema]) == 0
    assert main(["migrations", "forwards", *common, "--database", database_url]) == 0
    assert main(["migrations", "check", *common, *schema, "--database", database_url]) == 0
    assert "ok: 1 migrations" in capsys.readouterr().out
    assert main(["migrations", "backwards", "zero", *common, "--database", database_url]) == 0
    assert main(["migrations", "check", *common, *schema, "--database", database_url]) == 0
    result = subprocess.run(
        [sys.executable, "-m", "mypy", "--strict", "--no-incremental", str(folder)],
        capture_output=True,
        text=True,
        cwd=REPO,
    )
    assert result.returncode == 0, result.stdout


def test_new_initial_fake_adopts_a_database_that_has_the_tables(
    project: Path, database_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = project / "db_migrations"
    # A database made some other way (here: by a migration elsewhere, its
    # history then dropped), holding a row.
    elsewhere = project / "elsewhere"
    assert main(["migrations", "new", "--auto", "--folder", str(elsewhere)]) == 0
    assert (
        main(["migrations", "forwards", "--folder", str(elsewhere), "--database", database_url])
        == 0
    )
    _pg_or_sqlite(database_url, f'DROP TABLE "{HISTORY}"')
    _pg_or_sqlite(database_url, "INSERT INTO band (name, popularity) VALUES ('kept', 1)")

    # A database that differs is refused, and nothing is written.
    (project / "schema" / "music.yaml").write_text(
        FIRST + "      title: {type: text, null: true}\n"
    )
    capsys.readouterr()
    assert main(["migrations", "new", "--initial", "--fake", "--database", database_url]) == 1
    err = capsys.readouterr().err
    assert "cannot adopt them as its baseline" in err and "column band.title is missing" in err
    assert not folder.exists() or not list(folder.glob("*.py"))

    (project / "schema" / "music.yaml").write_text(FIRST)
    assert main(["migrations", "new", "--initial", "--fake", "--database", database_url]) == 0
    assert "faking 0001_initial" in capsys.readouterr().err
    assert main(["migrations", "status", "--database", database_url]) == 0
    assert capsys.readouterr().out.startswith("applied  0001_initial")
    assert main(["migrations", "check", "--database", database_url]) == 0
    assert _pg_or_sqlite(database_url, "SELECT name FROM band") == [["kept"]]
    assert main(["migrations", "new", "--initial"]) == 2
    assert "has 1 already" in capsys.readouterr().err
    assert main(["migrations", "new", "--fake"]) == 2


HISTORY = "piccolo_gen_migrations"


def _pg_or_sqlite(database_url: str, sql: str) -> list[list[object]]:
    if database_url.startswith("postgresql"):
        return _pg.query(database_url, sql)
    import sqlite3

    conn = sqlite3.connect(database_url[len("sqlite:///") :])
    try:
        rows = [list(r) for r in conn.execute(sql).fetchall()]
        conn.commit()
        return rows
    finally:
        conn.close()
