"""``piccolo-gen migrations ...``: the migration commands.

``forwards``, ``backwards`` and ``status`` run where the application is
deployed, which may have the runtime alone: they (and this module's top
level) import nothing of the generator's dependencies (black, jinja2,
pydantic, PyYAML). ``new``, ``check`` and ``squash`` read the schema files
and write Python, so they import the generator when they run.

Every command that needs a database takes ``--database URL``
(``sqlite:///path/to/file.sqlite``, ``postgresql://user:pass@host:port/db``);
without it the engine is the one the runtime finds (``PICCOLO_CONF``, a
``piccolo_conf.py`` in the working directory or on ``sys.path``, or the
embedded SQLite default).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import urllib.parse
from collections.abc import Awaitable, Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from generator.config import ConfigError, load_config
from runtime._engine import Engine, PostgresEngine, SQLiteEngine
from runtime._errors import EngineError
from runtime.migrations import MigrationError
from runtime.migrations.files import MigrationSet, load_folder
from runtime.migrations.lint import Finding, lint_migration, unacknowledged

if TYPE_CHECKING:
    from runtime.schema.state import Schema

__all__ = ["add_parser", "engine_from_url", "run"]

_T = TypeVar("_T")

DIALECTS = ("sqlite", "postgres")


class UsageError(Exception):
    """A command line or configuration that cannot be used (exit status 2)."""


# -- the parser --------------------------------------------------------------------


def add_parser(commands: Any) -> None:
    """Add ``migrations`` and its subcommands to the ``piccolo-gen`` parser."""
    parser = commands.add_parser(
        "migrations",
        help="create, apply, revert and check migrations",
        description=(
            "Migration files (migrations/NNNN_slug.py) move a database that holds data to "
            "the state of the schema files, forwards and back, on SQLite and PostgreSQL."
        ),
    )
    sub = parser.add_subparsers(dest="migrations_command", metavar="COMMAND")

    def command(name: str, help: str, *, database: bool) -> argparse.ArgumentParser:
        p: argparse.ArgumentParser = sub.add_parser(name, help=help, description=help)
        p.add_argument(
            "--folder",
            type=Path,
            metavar="DIR",
            help="the migrations folder (default: the configured 'migrations')",
        )
        if database:
            p.add_argument(
                "--database",
                metavar="URL",
                help="sqlite:///path/to/file.sqlite or postgresql://user:pass@host:port/db "
                "(default: the engine of PICCOLO_CONF / piccolo_conf.py)",
            )
        return p

    new = command("new", "write a new migration file", database=True)
    new.add_argument(
        "--auto",
        action="store_true",
        help="its operations are the changes of the schema files since the last migration",
    )
    new.add_argument(
        "--initial",
        action="store_true",
        help="the first migration, of the whole schema (implies --auto)",
    )
    new.add_argument(
        "--fake",
        action="store_true",
        help="with --initial: adopt a database that has the tables already, recording the "
        "migration as applied (after checking that the database is what it creates)",
    )
    new.add_argument("--name", metavar="SLUG", help="the file's name after its number")
    new.add_argument("--schema", type=Path, nargs="+", metavar="PATH", help="schema files")

    forwards = command("forwards", "apply pending migrations", database=True)
    forwards.add_argument("id", nargs="?", metavar="ID", help="stop after this one")
    forwards.add_argument("--fake", action="store_true", help="record them without running them")

    backwards = command("backwards", "revert every applied migration after ID", database=True)
    backwards.add_argument("id", metavar="ID", help="the migration to go back to, or 'zero'")
    backwards.add_argument("--fake", action="store_true", help="forget them without running")

    command("status", "list applied and pending migrations with checksums", database=True)

    sql = command("sql", "print the SQL of migrations without running them", database=True)
    sql.add_argument("id", nargs="?", metavar="ID", help="just this migration")
    sql.add_argument("--dialect", choices=DIALECTS, help="default: the database's, else both")
    sql.add_argument("--backwards", action="store_true", help="the SQL that reverts them")

    check = command(
        "check",
        "exit 1 when the schema files hold changes no migration covers, or the files "
        "are broken; with --database also on drift and edited applied files",
        database=True,
    )
    check.add_argument("--schema", type=Path, nargs="+", metavar="PATH", help="schema files")

    lint = command("lint", "exit 1 on unacknowledged destructive operations", database=False)
    lint.add_argument("id", nargs="?", metavar="ID", help="just this migration")

    squash = command("squash", "replace migrations 0001..ID by one", database=False)
    squash.add_argument("id", metavar="ID")


# -- running -----------------------------------------------------------------------


def run(args: argparse.Namespace) -> int:
    """Run the ``migrations`` command ``args`` names; the exit status."""
    name = args.migrations_command
    handlers: dict[str, Callable[[argparse.Namespace], int]] = {
        "new": _new,
        "forwards": _forwards,
        "backwards": _backwards,
        "status": _status,
        "sql": _sql,
        "check": _check,
        "lint": _lint,
        "squash": _squash,
    }
    if name not in handlers:
        print("usage: piccolo-gen migrations {" + ",".join(handlers) + "} ...", file=sys.stderr)
        return 2
    try:
        return handlers[name](args)
    except UsageError as error:
        print(f"piccolo-gen migrations {name}: {error}", file=sys.stderr)
        return 2
    except ConfigError as error:
        print(error.error, file=sys.stderr)
        return 1
    except (MigrationError, EngineError) as error:
        print(f"piccolo-gen migrations {name}: {error}", file=sys.stderr)
        return 1


def _folder(args: argparse.Namespace) -> Path:
    folder: Path | None = args.folder
    if folder is not None:
        return folder.resolve()
    return load_config().migrations_folder


def _load(args: argparse.Namespace) -> MigrationSet:
    return load_folder(_folder(args))


def engine_from_url(url: str) -> Engine:
    """The engine of a ``--database`` URL."""
    scheme, sep, rest = url.partition("://")
    if not sep:
        raise UsageError(
            f"--database {url!r} is not a URL: use sqlite:///path/to/file.sqlite or "
            "postgresql://user:password@host:port/database"
        )
    if scheme == "sqlite":
        # sqlite:///relative/path or sqlite:////absolute/path (as SQLAlchemy).
        path = urllib.parse.unquote(rest[1:] if rest.startswith("/") else rest)
        if not path:
            raise UsageError("--database sqlite:/// needs a file path after the three slashes")
        return SQLiteEngine(path)
    if scheme in ("postgresql", "postgres"):
        return PostgresEngine(config={"dsn": f"postgresql://{rest}"})
    raise UsageError(f"--database: unknown scheme {scheme!r} (sqlite or postgresql)")


def _engine(args: argparse.Namespace) -> Engine:
    url: str | None = getattr(args, "database", None)
    if url:
        return engine_from_url(url)
    from runtime._discovery import engine_finder

    # As Piccolo does: a piccolo_conf.py in the working directory is found
    # even when the console script's folder is first on sys.path.
    cwd = os.getcwd()
    if cwd not in sys.path:
        sys.path.insert(0, cwd)
    return engine_finder()


def _with_engine(args: argparse.Namespace, work: Callable[[Engine], Awaitable[_T]]) -> _T:
    engine = _engine(args)

    async def main() -> _T:
        try:
            return await work(engine)
        finally:
            await engine.close()

    return asyncio.run(main())


def _progress(line: str) -> None:
    print(line, file=sys.stderr, flush=True)


def _forwards(args: argparse.Namespace) -> int:
    from runtime.migrations.runner import Runner

    migrations = _load(args)
    if not len(migrations):
        print(
            f"no migration files in {migrations.folder}: make one with "
            "`piccolo-gen migrations new --auto`",
            file=sys.stderr,
        )

    async def work(engine: Engine) -> list[str]:
        return await Runner(engine, migrations, progress=_progress).forwards(
            args.id, fake=args.fake
        )

    _with_engine(args, work)
    return 0


def _backwards(args: argparse.Namespace) -> int:
    from runtime.migrations.runner import Runner

    migrations = _load(args)

    async def work(engine: Engine) -> list[str]:
        return await Runner(engine, migrations, progress=_progress).backwards(
            args.id, fake=args.fake
        )

    _with_engine(args, work)
    return 0


def _status(args: argparse.Namespace) -> int:
    from runtime.migrations.runner import Runner, StatusLine

    migrations = _load(args)

    async def work(engine: Engine) -> list[StatusLine]:
        return await Runner(engine, migrations).status()

    lines = _with_engine(args, work)
    if not lines:
        print(f"no migrations in {migrations.folder}")
    for line in lines:
        print(line)
    changed = [line for line in lines if line.state in ("changed", "missing")]
    return 1 if changed else 0


def _sql(args: argparse.Namespace) -> int:
    from runtime.migrations.runner import migration_sql

    migrations = _load(args)
    dialects: Sequence[str]
    if args.dialect:
        dialects = [args.dialect]
    elif args.database:
        dialects = [engine_from_url(args.database).dialect.name]
    else:
        dialects = DIALECTS
    for dialect in dialects:
        for migration, statements in migration_sql(
            migrations, args.id, dialect, backwards=args.backwards
        ):
            how = "backwards" if args.backwards else "forwards"
            transaction = migration.atomic
            print(f"-- {migration.id} ({dialect}, {how})")
            if transaction:
                print("BEGIN;")
            for statement in statements:
                print(statement if statement.startswith("--") else statement.rstrip(";") + ";")
            if transaction:
                print("COMMIT;")
            print()
    return 0


def _lint(args: argparse.Namespace) -> int:
    migrations = _load(args)
    states = migrations.states()
    failed = 0
    indexes = range(len(migrations)) if args.id is None else [migrations.position(args.id)]
    for index in indexes:
        migration = migrations.migrations[index]
        findings = lint_migration(migration, states[index])
        bad = unacknowledged(migration, findings)
        for finding in findings:
            mark = "ERROR" if finding in bad else "ok" if finding.kind == "destructive" else "note"
            print(f"{migration.path or migration.id}: {mark}: {finding}")
        if bad:
            failed += 1
            keys = ", ".join(repr(f.key) for f in bad)
            print(
                f"{migration.path or migration.id}: {len(bad)} destructive "
                f"{'operation is' if len(bad) == 1 else 'operations are'} not acknowledged; "
                f"after checking, add acknowledged=({keys},) to its Migration(...)",
                file=sys.stderr,
            )
    return 1 if failed else 0


def _print_findings(findings: Sequence[Finding]) -> None:
    for finding in findings:
        print(f"  lint: {finding}", file=sys.stderr)


# -- commands that read the schema files (generator dependencies) -------------------


def _dependencies(command: str) -> bool:
    from generator.cli import GENERATOR_DEPENDENCIES, _dependencies_present

    return _dependencies_present(f"migrations {command}", list(GENERATOR_DEPENDENCIES))


def _desired(args: argparse.Namespace, previous: Schema) -> Schema:
    """The state of the schema files, with their renames resolved against
    ``previous`` (the state the migrations give); schema errors are printed
    as ``build`` prints them, then ``MigrationError`` counts them."""
    from generator.state import schema_state

    paths = list(args.schema) if getattr(args, "schema", None) else None
    # The generated code stays compiled where Python keeps the migrations' own.
    result = schema_state(paths, previous=previous, cache=_folder(args) / "__pycache__")
    if isinstance(result, list):
        for error in result:
            print(error, file=sys.stderr)
        count = len(result)
        raise MigrationError(f"{count} error{'s' if count != 1 else ''} in the schema files")
    return result


def _new(args: argparse.Namespace) -> int:
    if args.fake and not args.initial:
        raise UsageError(
            "--fake adopts a database with the initial migration: use --initial --fake"
        )
    if not _dependencies("new"):
        return 1
    from generator.migration_writer import (
        auto_slug,
        next_id,
        render_empty,
        render_migration,
        write_atomically,
    )
    from runtime.migrations.lint import lint
    from runtime.schema.diff import diff
    from runtime.schema.operations import AddEnumValue

    migrations = _load(args)
    parent = migrations.migrations[-1].id if len(migrations) else None
    if args.initial and len(migrations):
        raise UsageError(
            f"--initial makes the first migration, and {migrations.folder} has "
            f"{len(migrations)} already"
        )
    if not (args.auto or args.initial):
        migration_id = next_id(migrations, args.name or "migration")
        text = render_empty(migration_id, parent)
    else:
        before = migrations.state()
        desired = _desired(args, before)
        result = diff(before, desired)
        hints = [str(h) for h in result.hints]
        for hint in hints:
            print(f"hint: {hint}", file=sys.stderr)
        if not result.operations:
            print("no changes: the migrations already describe the schema files; nothing written")
            return 0
        operations = list(result.operations)
        values = [op for op in operations if isinstance(op, AddEnumValue)]
        if values and len(values) < len(operations):
            # PostgreSQL cannot use an enum value in the transaction that adds
            # it: the new values go first, in a migration of their own.
            operations = [op for op in operations if not isinstance(op, AddEnumValue)]
            first_id = next_id(migrations, auto_slug(values, first=False))
            first = render_migration(first_id, parent, values, findings=lint(values, before))
            write_atomically(migrations.folder / f"{first_id}.py", first)
            print(f"wrote {migrations.folder / f'{first_id}.py'}")
            migrations = _load(args)
            parent = first_id
            for op in values:
                before = op.apply(before)
        slug = args.name or auto_slug(operations, first=parent is None)
        migration_id = next_id(migrations, slug)
        findings = lint(operations, before)
        _print_findings(findings)
        text = render_migration(migration_id, parent, operations, findings=findings, hints=hints)
        if args.fake:
            return _adopt(args, migrations.folder / f"{migration_id}.py", text, desired)
    path = migrations.folder / f"{migration_id}.py"
    write_atomically(path, text)
    print(f"wrote {path}")
    return 0


def _adopt(args: argparse.Namespace, path: Path, text: str, desired: Schema) -> int:
    """``new --initial --fake``: record the baseline of a database that has it."""
    from generator.migration_writer import write_atomically
    from runtime.migrations.drift import drift
    from runtime.migrations.runner import Runner

    async def work(engine: Engine) -> list[str]:
        differences = await drift(engine, desired)
        if differences:
            raise MigrationError(
                "the database is not what the schema files describe, so it cannot adopt "
                "them as its baseline (nothing was written):\n"
                + "\n".join(f"  {d}" for d in differences)
            )
        write_atomically(path, text)
        print(f"wrote {path}")
        return await Runner(engine, load_folder(path.parent), progress=_progress).forwards(
            fake=True
        )

    _with_engine(args, work)
    return 0


def _check(args: argparse.Namespace) -> int:
    if not _dependencies("check"):
        return 1
    from runtime.schema.diff import diff

    problems: list[str] = []
    migrations = _load(args)  # a malformed file or a fork raises with every problem
    replayed = migrations.state()
    pending = diff(replayed, _desired(args, replayed)).operations
    if pending:
        problems.append(
            "the schema files hold changes that no migration covers "
            "(run `piccolo-gen migrations new --auto`):\n"
            + "\n".join(f"  {op.describe()}" for op in pending)
        )
    if args.database:
        problems += _with_engine(args, lambda engine: _database_problems(engine, migrations))
    for problem in problems:
        print(f"piccolo-gen migrations check: {problem}", file=sys.stderr)
    if not problems:
        print(f"ok: {len(migrations)} migrations, in step with the schema files")
    return 1 if problems else 0


async def _database_problems(engine: Engine, migrations: MigrationSet) -> list[str]:
    from runtime.migrations.drift import drift
    from runtime.migrations.runner import Runner

    runner = Runner(engine, migrations)
    problems = []
    history = await runner.history()
    try:
        runner.check_history(history)
    except MigrationError as error:
        problems.append(str(error))
    pending = [m.id for m in migrations if not runner.is_applied(m, history)]
    if pending:
        # Not a problem: the next deploy applies them. Drift is measured
        # against what the database has applied.
        print(f"note: not applied to this database yet: {', '.join(pending)}")
    differences = await drift(engine, await runner.applied_state())
    if differences:
        problems.append(
            "the database differs from what its applied migrations describe (drift):\n"
            + "\n".join(f"  {d}" for d in differences)
        )
    return problems


def _squash(args: argparse.Namespace) -> int:
    if not _dependencies("squash"):
        return 1
    from generator.migration_writer import render_migration, write_atomically
    from runtime.schema.diff import diff
    from runtime.schema.operations import RunPython, RunSQL
    from runtime.schema.state import Schema

    migrations = _load(args)
    end = migrations.position(args.id) + 1
    replaced = migrations.migrations[:end]
    if len(replaced) < 2:
        raise UsageError(f"squashing {args.id} needs at least two migrations up to it")
    state = migrations.state(end)
    last = replaced[-1]
    ids = tuple(r for m in replaced for r in (*m.replaces, m.id))
    migration_id = f"{last.number:04d}_squashed"
    data = [
        f"{m.id}: {op.describe()}"
        for m in replaced
        for op in m.operations
        if isinstance(op, (RunSQL, RunPython))
    ]
    note = (
        f"Made by `piccolo-gen migrations squash {args.id}`: the state of {replaced[0].id} to "
        f"{last.id}.\nA database that applied those counts this one as applied."
    )
    if data:
        note += (
            "\nThe data operations of the squashed files are not repeated here (a new "
            "database has no rows):\n" + "\n".join(f"  {d}" for d in data)
        )
    text = render_migration(
        migration_id,
        None,
        # The operations that make the state from nothing: its enum types,
        # tables (the keys of a cycle after them) and views.
        diff(Schema(), state).operations,
        replaces=ids,
        summary=f"{replaced[0].id} to {last.id}, squashed",
        note=note,
    )
    path = migrations.folder / f"{migration_id}.py"
    write_atomically(path, text)
    for m in replaced:
        if m.path and Path(m.path) != path:
            Path(m.path).unlink()
    print(f"wrote {path}, replacing {', '.join(m.id for m in replaced)}")
    for d in data:
        print(f"  not carried over (data): {d}", file=sys.stderr)
    return 0
