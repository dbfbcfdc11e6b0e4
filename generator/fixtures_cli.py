"""``piccolo-gen fixtures dump|load``: the rows of the project's tables as a JSON file.

The tables are the generated package's (``out`` of ``[tool.piccolo-gen]``,
or ``--package DIR``): every module's ``TABLES``. Their column types decide
how each value is written and read back (``runtime.fixtures``), which is
what makes the round trip exact; the database's own catalog would not say
that a text column holds an enum's values, or that a JSON column's text is
to be kept as written. Like ``migrations forwards``, these commands need
the runtime only (no generator dependencies): they run where the
application is deployed.
"""

from __future__ import annotations

import argparse
import asyncio
import importlib
import pkgutil
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from generator.config import ConfigError, load_config
from generator.migrate_cli import UsageError, engine_from_url
from runtime._engine import Engine
from runtime._errors import EngineError, UniqueViolation
from runtime._table import Table

__all__ = ["add_parser", "package_tables", "run", "select_tables"]


def add_parser(commands: Any) -> None:
    """Add ``fixtures dump`` and ``fixtures load`` to the ``piccolo-gen`` parser."""
    parser = commands.add_parser(
        "fixtures",
        help="dump the rows of the tables to a JSON file, or load one",
        description=(
            "Write the rows of the generated package's tables as a JSON fixtures file, or "
            "insert the rows of one (in foreign-key order, in one transaction)."
        ),
    )
    sub = parser.add_subparsers(dest="fixtures_command", metavar="COMMAND")

    def command(name: str, help: str) -> argparse.ArgumentParser:
        p: argparse.ArgumentParser = sub.add_parser(name, help=help, description=help)
        p.add_argument(
            "--database",
            metavar="URL",
            help="sqlite:///path/to/file.sqlite or postgresql://user:pass@host:port/db "
            "(default: the engine of PICCOLO_CONF / piccolo_conf.py)",
        )
        p.add_argument(
            "--package",
            type=Path,
            metavar="DIR",
            help="the generated package whose tables these are (default: the configured 'out')",
        )
        p.add_argument(
            "--tables",
            nargs="+",
            metavar="TABLE",
            help="only these tables (database names, class names or module.Class); load "
            "leaves the file's other tables out",
        )
        p.add_argument(
            "--batch-size",
            type=int,
            default=1000,
            metavar="N",
            help="rows per query (default: 1000)",
        )
        p.add_argument("--quiet", action="store_true", help="no progress on stderr")
        return p

    dump = command("dump", "write the rows of the tables as JSON (to stdout, or --out)")
    dump.add_argument("--out", type=Path, metavar="FILE", help="the file to write")
    load = command("load", "insert the rows of a fixtures file, all in one transaction")
    load.add_argument("file", type=Path, metavar="FILE", help="the fixtures file ('-': stdin)")
    load.add_argument(
        "--upsert",
        action="store_true",
        help="update a row whose primary key exists instead of failing",
    )


def run(args: argparse.Namespace) -> int:
    """Run the ``fixtures`` command ``args`` names; the exit status."""
    from runtime.fixtures import FixtureError

    name = args.fixtures_command
    if name not in ("dump", "load"):
        print("usage: piccolo-gen fixtures {dump,load} ...", file=sys.stderr)
        return 2
    try:
        if args.batch_size < 1:
            raise UsageError(f"--batch-size must be at least 1; got {args.batch_size}")
        every = package_tables(_package(args))
        tables = select_tables(every, args.tables)
        engine = engine_from_url(args.database) if args.database else _found_engine()
        if name == "dump":
            return _dump(args, engine, tables)
        # With --tables, the file's other tables are left out.
        skip = [t._meta.tablename for t in every if t not in tables]
        return _load(args, engine, tables, skip)
    except UsageError as error:
        print(f"piccolo-gen fixtures {name}: {error}", file=sys.stderr)
        return 2
    except ConfigError as error:
        print(error.error, file=sys.stderr)
        return 1
    except UniqueViolation as error:
        hint = (
            " (--upsert updates the rows that exist; nothing was loaded)" if name == "load" else ""
        )
        print(f"piccolo-gen fixtures {name}: {error}{hint}", file=sys.stderr)
        return 1
    except (FixtureError, EngineError, OSError) as error:
        print(f"piccolo-gen fixtures {name}: {error}", file=sys.stderr)
        return 1


def _package(args: argparse.Namespace) -> Path:
    folder: Path | None = args.package
    if folder is not None:
        return folder.resolve()
    return load_config().out


def _found_engine() -> Engine:
    import os

    from runtime._discovery import engine_finder

    cwd = os.getcwd()
    if cwd not in sys.path:
        sys.path.insert(0, cwd)
    return engine_finder()


def package_tables(folder: Path) -> list[type[Table[Any]]]:
    """The tables of the generated package in ``folder``: each module's
    ``TABLES``, the package imported by its folder's name (as the application
    imports it)."""
    if not (folder / "__init__.py").is_file():
        raise UsageError(
            f"{folder} is no generated package (no __init__.py): run `piccolo-gen build`, "
            "or name the package with --package DIR"
        )
    parent = str(folder.parent)
    if parent not in sys.path:
        sys.path.insert(0, parent)
    package = importlib.import_module(folder.name)
    located = Path(getattr(package, "__file__", "") or "").resolve().parent
    if located != folder.resolve():
        raise UsageError(
            f"importing {folder.name!r} gives {located}, not {folder}: another package of "
            "that name comes first on sys.path"
        )
    tables: list[type[Table[Any]]] = []
    for info in sorted(pkgutil.iter_modules([str(folder)]), key=lambda m: m.name):
        module = importlib.import_module(f"{folder.name}.{info.name}")
        tables += [t for t in getattr(module, "TABLES", ()) if t not in tables]
    return tables


def select_tables(
    tables: Sequence[type[Table[Any]]], names: Sequence[str] | None
) -> list[type[Table[Any]]]:
    """``tables``, or those of them that ``names`` names (database name, class
    name or ``module.Class``); an unknown name is a usage error."""
    if not names:
        return list(tables)
    chosen: list[type[Table[Any]]] = []
    unknown = []
    for name in names:
        found = [
            t
            for t in tables
            if name
            in (t._meta.tablename, t.__name__, f"{t.__module__.rsplit('.', 1)[-1]}.{t.__name__}")
        ]
        if not found:
            unknown.append(name)
        if len(found) > 1:
            raise UsageError(
                f"--tables {name!r} names several tables: "
                + ", ".join(f"{t.__module__}.{t.__name__}" for t in found)
                + " (use module.Class)"
            )
        chosen += [t for t in found if t not in chosen]
    if unknown:
        known = ", ".join(t._meta.tablename for t in tables)
        raise UsageError(f"no table {', '.join(map(repr, unknown))} (the tables: {known})")
    return chosen


def _progress(args: argparse.Namespace) -> Any:
    if args.quiet:
        return None
    return lambda line: print(line, file=sys.stderr, flush=True)


def _dump(args: argparse.Namespace, engine: Engine, tables: list[type[Table[Any]]]) -> int:
    from runtime.fixtures import dump

    async def work() -> None:
        try:
            if args.out is None:
                await dump(
                    tables,
                    sys.stdout,
                    engine=engine,
                    batch_size=args.batch_size,
                    progress=_progress(args),
                )
                sys.stdout.flush()
                return
            # Written next to the target and renamed: a failed dump leaves no half file.
            partial = args.out.with_name(args.out.name + ".partial")
            try:
                with partial.open("w", encoding="utf-8") as file:
                    await dump(
                        tables,
                        file,
                        engine=engine,
                        batch_size=args.batch_size,
                        progress=_progress(args),
                    )
                partial.replace(args.out)
            finally:
                partial.unlink(missing_ok=True)
        finally:
            await engine.close()

    asyncio.run(work())
    return 0


def _load(
    args: argparse.Namespace, engine: Engine, tables: list[type[Table[Any]]], skip: list[str]
) -> int:
    from runtime.fixtures import load

    source: Any = sys.stdin if str(args.file) == "-" else args.file

    async def work() -> int:
        try:
            result = await load(
                source,
                tables,
                engine=engine,
                upsert=args.upsert,
                skip=skip,
                batch_size=args.batch_size,
                progress=_progress(args),
            )
        finally:
            await engine.close()
        return result.total

    total = asyncio.run(work())
    print(f"loaded {total} row{'s' if total != 1 else ''} from {args.file}", file=sys.stderr)
    return 0
