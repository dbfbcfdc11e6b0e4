"""The ``[tool.piccolo-gen]`` table of the project's ``pyproject.toml``."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from generator.errors import SchemaError, display_path, join_words, suggest
from generator.positions import NodePath, dotted
from generator.toml_source import read_toml

__all__ = [
    "DEFAULT_MIGRATIONS",
    "DEFAULT_OUT",
    "DEFAULT_SCHEMA",
    "KEYS",
    "Config",
    "ConfigError",
    "find_pyproject",
    "load_config",
    "source_label",
]

DEFAULT_SCHEMA = ("schema",)
DEFAULT_OUT = "generated"
DEFAULT_MIGRATIONS = "migrations"
#: The keys of ``[tool.piccolo-gen]``; any other is refused (a typo would
#: otherwise build from the defaults without a word).
KEYS = ("schema", "out", "migrations", "pydantic")


@dataclass(frozen=True)
class Config:
    """Where the schema files are, where the generated package goes and
    where the migration files live.

    Paths are absolute, resolved against the folder of ``pyproject`` (or
    the starting folder when there is no ``pyproject.toml``).
    """

    root: Path
    schema: tuple[Path, ...]
    out: Path
    pyproject: Path | None
    migrations: Path | None = None
    #: Whether ``build`` also writes ``<module>_models.py``, the pydantic
    #: models of each module's tables (docs/pydantic.md).
    pydantic: bool = False

    @property
    def migrations_folder(self) -> Path:
        """The migrations folder (default: ``migrations/`` in the project root)."""
        return self.migrations or self.root / DEFAULT_MIGRATIONS


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


def source_label(path: Path) -> str:
    """How generated code names the schema file ``path`` it came from.

    The path relative to the project root (the folder of the nearest
    ``pyproject.toml`` above the file), with ``/``; the bare file name for a
    file in no project. Never relative to the current directory: a build run
    from a subfolder must write the same bytes.
    """
    resolved = path.resolve()
    package = Path(__file__).resolve().parent
    if resolved.is_relative_to(package):
        # A schema file piccolo-gen ships (generator/schemas/auth.yaml): the
        # same name wherever the package is installed.
        return resolved.relative_to(package.parent).as_posix()
    pyproject = find_pyproject(resolved.parent)
    if pyproject is None:
        return resolved.name
    return resolved.relative_to(pyproject.parent).as_posix()


def load_config(start: Path | None = None) -> Config:
    """Read ``[tool.piccolo-gen]`` from the nearest ``pyproject.toml``.

    The nearest file is the project's, even without the table (as for black
    and mypy); then, or with no file at all, the defaults apply: schemas in
    ``schema/``, output in ``generated/``, migration files in ``migrations/``, no
    pydantic models. A key other than those of
    ``KEYS`` is an error, with a suggestion.
    """
    start = (start or Path.cwd()).resolve()
    pyproject = find_pyproject(start)
    if pyproject is None:
        return Config(
            start,
            tuple(start / s for s in DEFAULT_SCHEMA),
            start / DEFAULT_OUT,
            None,
            start / DEFAULT_MIGRATIONS,
        )
    file = display_path(pyproject)
    try:
        parsed = read_toml(pyproject.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(SchemaError(file, None, None, "", f"cannot read: {exc}")) from exc
    if parsed.syntax_error is not None:
        message, line, col = parsed.syntax_error
        raise ConfigError(SchemaError(file, line, col, "", message))
    data = parsed.data if isinstance(parsed.data, dict) else {}
    tool = data.get("tool", {})
    table = tool.get("piccolo-gen", {}) if isinstance(tool, dict) else {}

    def error(key: str | None, message: str, *, at_key: bool = False) -> ConfigError:
        path: NodePath = ("tool", "piccolo-gen") if key is None else ("tool", "piccolo-gen", key)
        line, col = parsed.positions.locate(path, at_key=at_key)
        return ConfigError(SchemaError(file, line, col, dotted(path), message))

    if not isinstance(table, dict):
        raise error(None, "must be a table")
    for key in table:
        if key not in KEYS:
            hint = suggest(key, KEYS)
            known = join_words(repr(k) for k in KEYS)
            message = f"unknown key {key!r}"
            raise error(
                key,
                f"{message} - {hint}" if hint else f"{message}; the keys are {known}",
                at_key=True,
            )
    schema = table.get("schema", list(DEFAULT_SCHEMA))
    if isinstance(schema, str):
        schema = [schema]
    if not isinstance(schema, list) or not schema or not all(isinstance(s, str) for s in schema):
        raise error("schema", 'must be a list of paths, e.g. ["schema"]')
    out = table.get("out", DEFAULT_OUT)
    if not isinstance(out, str) or not out:
        raise error("out", 'must be a path, e.g. "generated"')
    migrations = table.get("migrations", DEFAULT_MIGRATIONS)
    if not isinstance(migrations, str) or not migrations:
        raise error("migrations", 'must be a path, e.g. "migrations"')
    pydantic = table.get("pydantic", False)
    if not isinstance(pydantic, bool):
        raise error("pydantic", "must be true or false")
    root = pyproject.parent
    return Config(
        root,
        tuple(root / s for s in schema),
        root / out,
        pyproject,
        root / migrations,
        pydantic,
    )
