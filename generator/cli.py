"""The ``piccolo-gen`` command line."""

from __future__ import annotations

import argparse
import importlib
import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from generator import __version__
from generator.config import DEFAULT_SCHEMA, ConfigError, load_config

__all__ = ["EXTRA", "GENERATOR_DEPENDENCIES", "main"]

#: The extra that installs what generating code needs; an application that
#: only runs generated code installs ``piccolo-gen`` without it.
EXTRA = "piccolo-gen[generator]"

#: The generator's third-party modules, by the distribution that provides
#: them: the ``generator`` extra of pyproject.toml (tests/test_packaging.py
#: holds the two equal).
GENERATOR_DEPENDENCIES = {
    "black": "black",
    "jinja2": "jinja2",
    "pydantic": "pydantic",
    "yaml": "PyYAML",
}


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="piccolo-gen",
        description="Compile declarative schema files (YAML/TOML) into typed Python modules.",
    )
    parser.add_argument("--version", action="version", version=f"piccolo-gen {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    build = commands.add_parser(
        "build",
        help="generate the package from the schema files",
        description=(
            "Generate one module per schema file into the output package. Schema errors are "
            "all reported and nothing is written. Defaults come from [tool.piccolo-gen] in "
            "pyproject.toml."
        ),
    )
    build.add_argument(
        "--check",
        action="store_true",
        help="write nothing; print a diff and exit 1 if the output is not up to date",
    )
    build.add_argument(
        "--schema",
        type=Path,
        nargs="+",
        action="extend",
        metavar="PATH",
        help="schema files or folders of them (default: the configured 'schema')",
    )
    build.add_argument(
        "--out",
        type=Path,
        metavar="DIR",
        help="output package folder (default: the configured 'out')",
    )
    build.add_argument(
        "--pydantic",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="also write <module>_models.py, pydantic models of the tables "
        "(default: the configured 'pydantic', else no)",
    )
    introspect = commands.add_parser(
        "introspect",
        help="write a schema file (YAML) from an existing database",
        description=(
            "Read the tables of a PostgreSQL or SQLite database and write them as a schema "
            "file. What the schema language cannot hold is a '# not expressible' comment in "
            "the file, and summarised on stderr."
        ),
    )
    introspect.add_argument(
        "--database",
        required=True,
        metavar="URL",
        help="sqlite:///path/to/file.sqlite or postgresql://user:pass@host:port/db",
    )
    introspect.add_argument(
        "--schema",
        default="public",
        metavar="NAME",
        help="the PostgreSQL schema to read (default: public)",
    )
    introspect.add_argument(
        "--tables", nargs="+", metavar="TABLE", help="only these tables (database names)"
    )
    introspect.add_argument(
        "--exclude", nargs="+", default=[], metavar="TABLE", help="leave these tables out"
    )
    introspect.add_argument(
        "--out", type=Path, metavar="FILE", help="the schema file to write (default: stdout)"
    )
    from generator.migrate_cli import add_parser as add_migrations

    add_migrations(commands)
    from generator.fixtures_cli import add_parser as add_fixtures

    add_fixtures(commands)
    playground = commands.add_parser(
        "playground",
        help="the example schema on SQLite, filled with data, in a REPL",
        description=(
            "Build the example music schema into a temporary package, create and fill its "
            "tables (on a temporary SQLite file, or --database), and open IPython (when "
            "installed: pip install 'piccolo-gen[playground]') or Python's console with the "
            "tables imported. `await` works at the prompt."
        ),
    )
    playground.add_argument(
        "--database",
        metavar="URL",
        help="an empty database to use instead of a temporary SQLite file (its example "
        "tables are dropped at the end unless --keep)",
    )
    playground.add_argument(
        "--command",
        "-c",
        dest="code",
        metavar="CODE",
        help="run these statements instead of a REPL, printing each expression's value",
    )
    playground.add_argument(
        "--repl",
        choices=("auto", "ipython", "python"),
        default="auto",
        help="which REPL (default: IPython when installed, else Python's console)",
    )
    playground.add_argument(
        "--keep",
        action="store_true",
        help="keep the temporary folder (package and SQLite file) and the tables",
    )
    commands.add_parser(
        "json-schema",
        help="print the JSON Schema of schema files, for editors",
        description="Print the JSON Schema of the schema language (for editor validation and completion).",
    )
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run ``piccolo-gen`` with ``argv`` (default: the process arguments); the exit status."""
    parser = _parser()
    args = parser.parse_args(argv)
    if args.command == "json-schema":
        if not _dependencies_present("json-schema", ["pydantic"]):
            return 1
        from generator.model import json_schema

        print(json.dumps(json_schema(), indent=2, sort_keys=True))
        return 0
    if args.command == "build":
        return _build(args.schema, args.out, check=args.check, pydantic=args.pydantic)
    if args.command == "introspect":
        if not _dependencies_present("introspect", list(GENERATOR_DEPENDENCIES)):
            return 1
        return _introspect(args)
    if args.command == "migrations":
        from generator.migrate_cli import run as run_migrations

        return run_migrations(args)
    if args.command == "playground":
        if not _dependencies_present("playground", list(GENERATOR_DEPENDENCIES)):
            return 1
        return _playground(args)
    if args.command == "fixtures":
        from generator.fixtures_cli import run as run_fixtures

        return run_fixtures(args)
    parser.print_help(sys.stderr)
    return 2


def _dependencies_present(command: str, modules: Sequence[str]) -> bool:
    """Whether ``modules`` import; if not, say which extra installs them."""
    missing = []
    for module in modules:
        try:
            importlib.import_module(module)
        except ImportError:
            missing.append(GENERATOR_DEPENDENCIES[module])
    if missing:
        print(
            f"piccolo-gen {command} needs the generator's dependencies, and "
            f"{', '.join(missing)} {'is' if len(missing) == 1 else 'are'} not installed: "
            f"pip install '{EXTRA}'",
            file=sys.stderr,
        )
    return not missing


def _playground(args: argparse.Namespace) -> int:
    from generator.migrate_cli import UsageError
    from generator.playground import run_playground
    from runtime._errors import EngineError

    try:
        return run_playground(args.database, command=args.code, repl=args.repl, keep=args.keep)
    except UsageError as exc:
        print(f"piccolo-gen playground: {exc}", file=sys.stderr)
        return 2
    except EngineError as exc:
        print(
            f"piccolo-gen playground: {exc}\n(the playground creates its example tables: give "
            "it an empty database)",
            file=sys.stderr,
        )
        return 1


def _introspect(args: argparse.Namespace) -> int:
    import asyncio

    from generator.introspect import introspect
    from generator.migrate_cli import UsageError, engine_from_url
    from runtime._errors import EngineError

    try:
        engine = engine_from_url(args.database)
    except UsageError as exc:
        print(f"piccolo-gen introspect: {exc}", file=sys.stderr)
        return 2

    async def work() -> Any:
        try:
            return await introspect(
                engine,
                schema=args.schema,
                tables=args.tables,
                exclude=args.exclude,
                source=args.database,
            )
        finally:
            await engine.close()

    try:
        result = asyncio.run(work())
    except (EngineError, OSError) as exc:
        print(f"piccolo-gen introspect: cannot read the database: {exc}", file=sys.stderr)
        return 1
    if result.missing:
        print(
            f"piccolo-gen introspect: the database has no table {', '.join(result.missing)} "
            f"(schema {args.schema}); nothing was written",
            file=sys.stderr,
        )
        return 1
    if args.out is None:
        sys.stdout.write(result.text)
    else:
        args.out.write_text(result.text, encoding="utf-8")
    if result.left_out:
        print(
            f"piccolo-gen introspect: {len(result.left_out)} thing(s) the schema language "
            "cannot hold yet (comments in the file):",
            file=sys.stderr,
        )
        for line in result.left_out:
            print(f"  # not expressible: {line}", file=sys.stderr)
    return 0


def _build(
    schema: list[Path] | None, out: Path | None, *, check: bool, pydantic: bool | None
) -> int:
    # The configuration gives what the options leave open: with --schema,
    # --out and --[no-]pydantic all given, pyproject.toml is not read.
    if schema is None or out is None or pydantic is None:
        try:
            config = load_config()
        except ConfigError as exc:
            print(exc.error, file=sys.stderr)
            return 1
        if config.pyproject is None and schema is None and not config.schema[0].exists():
            print(
                f"piccolo-gen: no pyproject.toml in {config.root} or a parent folder, and no "
                f"{DEFAULT_SCHEMA[0]}/ folder here.\nRun it in a project (a folder with a "
                "pyproject.toml, whose [tool.piccolo-gen] table may set `schema` and `out`), "
                "or pass --schema and --out.",
                file=sys.stderr,
            )
            return 1
        schema = schema or list(config.schema)
        out = out or config.out
        pydantic = config.pydantic if pydantic is None else pydantic
    if not _dependencies_present("build", list(GENERATOR_DEPENDENCIES)):
        return 1
    # Imported here: `json-schema` and `--help` should not load black.
    from generator.build import build

    return build(schema, out, check=check, pydantic=pydantic)
