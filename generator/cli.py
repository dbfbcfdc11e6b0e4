"""The ``piccolo-gen`` command line."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path

from generator.config import ConfigError, load_config

__all__ = ["main"]


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="piccolo-gen",
        description="Compile declarative schema files (YAML/TOML) into typed Python modules.",
    )
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
        from generator.model import json_schema

        print(json.dumps(json_schema(), indent=2, sort_keys=True))
        return 0
    if args.command == "build":
        return _build(args.schema, args.out, check=args.check)
    parser.print_help(sys.stderr)
    return 2


def _build(schema: list[Path] | None, out: Path | None, *, check: bool) -> int:
    # Imported here: `json-schema` and `--help` should not load black.
    from generator.build import build

    if schema is None or out is None:
        try:
            config = load_config()
        except ConfigError as exc:
            print(exc.error, file=sys.stderr)
            return 1
        schema = schema or list(config.schema)
        out = out or config.out
    return build(schema, out, check=check)
