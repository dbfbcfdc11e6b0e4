"""The ``[tool.piccolo-gen]`` table of the project's ``pyproject.toml``."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from pathlib import Path

from generator.errors import SchemaError, display_path

__all__ = [
    "DEFAULT_OUT",
    "DEFAULT_SCHEMA",
    "Config",
    "ConfigError",
    "find_pyproject",
    "load_config",
]

DEFAULT_SCHEMA = ("schema",)
DEFAULT_OUT = "generated"


@dataclass(frozen=True)
class Config:
    """Where the schema files are and where the generated package goes.

    Paths are absolute, resolved against the folder of ``pyproject`` (or
    the starting folder when there is no ``pyproject.toml``).
    """

    root: Path
    schema: tuple[Path, ...]
    out: Path
    pyproject: Path | None


class ConfigError(Exception):
    """A ``pyproject.toml`` that cannot be used; ``error`` says where and why."""

    def __init__(self, error: SchemaError) -> None:
        super().__init__(str(error))
        self.error = error


def find_pyproject(start: Path) -> Path | None:
    """The ``pyproject.toml`` in ``start`` or the nearest parent folder."""
    for folder in (start, *start.parents):
        candidate = folder / "pyproject.toml"
        if candidate.is_file():
            return candidate
    return None


def load_config(start: Path | None = None) -> Config:
    """Read ``[tool.piccolo-gen]`` from the nearest ``pyproject.toml``.

    The nearest file is the project's, even without the table (as for black
    and mypy); then, or with no file at all, the defaults apply: schemas in
    ``schema/`` and output in ``generated/``. Keys other than ``schema`` and
    ``out`` belong to other commands (migrations) and are left alone.
    """
    start = (start or Path.cwd()).resolve()
    pyproject = find_pyproject(start)
    if pyproject is None:
        return Config(start, tuple(start / s for s in DEFAULT_SCHEMA), start / DEFAULT_OUT, None)
    file = display_path(pyproject)
    try:
        data = tomllib.loads(pyproject.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise ConfigError(SchemaError(file, None, None, "", f"cannot read: {exc}")) from exc
    table = data.get("tool", {}).get("piccolo-gen", {})
    if not isinstance(table, dict):
        raise ConfigError(SchemaError(file, None, None, "tool.piccolo-gen", "must be a table"))
    schema = table.get("schema", list(DEFAULT_SCHEMA))
    if isinstance(schema, str):
        schema = [schema]
    if not isinstance(schema, list) or not schema or not all(isinstance(s, str) for s in schema):
        raise ConfigError(
            SchemaError(
                file,
                None,
                None,
                "tool.piccolo-gen.schema",
                'must be a list of paths, e.g. ["schema"]',
            )
        )
    out = table.get("out", DEFAULT_OUT)
    if not isinstance(out, str) or not out:
        raise ConfigError(
            SchemaError(
                file, None, None, "tool.piccolo-gen.out", 'must be a path, e.g. "generated"'
            )
        )
    root = pyproject.parent
    return Config(root, tuple(root / s for s in schema), root / out, pyproject)
