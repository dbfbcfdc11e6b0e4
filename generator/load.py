"""Load schema files: text -> plain data with positions -> ``SchemaFile``."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from generator.errors import SchemaError, display_path
from generator.model import SchemaFile
from generator.positions import NodePath, ParsedText, Positions, dotted
from generator.structure import check_structure
from generator.toml_source import read_toml
from generator.yaml_source import read_yaml

__all__ = ["SCHEMA_SUFFIXES", "LoadedSchema", "load_file", "read_schema"]

#: File name endings read as schema files, and the reader of each.
SCHEMA_SUFFIXES = {".yaml": read_yaml, ".yml": read_yaml, ".toml": read_toml}


@dataclass(frozen=True)
class LoadedSchema:
    """One schema file, parsed and of the right shape.

    ``module`` is the name of the generated module (``spec.module`` or the
    file stem). ``positions`` locates every key and value for messages.
    ``incomplete`` is empty for a file without errors; otherwise it holds the
    paths (``("tables", "Band")``) of parts that had shape errors and were left
    out of ``spec``, so that later checks skip what they cannot judge.
    """

    path: Path
    module: str
    spec: SchemaFile
    positions: Positions = field(default_factory=Positions, compare=False)
    incomplete: frozenset[NodePath] = frozenset()

    @property
    def file(self) -> str:
        """The path as shown in messages (relative to the current directory)."""
        return display_path(self.path)

    def error(self, path: NodePath, message: str, *, at_key: bool = False) -> SchemaError:
        """A ``SchemaError`` at ``path`` of this file (at its key with ``at_key``)."""
        line, col = self.positions.locate(path, at_key=at_key)
        return SchemaError(self.file, line, col, dotted(path), message)

    def is_incomplete(self, path: NodePath) -> bool:
        """Whether ``path`` is in, or contains, a part left out for shape errors."""
        return any(
            path[: len(part)] == part or part[: len(path)] == path for part in self.incomplete
        )


def load_file(path: Path) -> LoadedSchema | list[SchemaError]:
    """Load one schema file; any error, of syntax or of shape, gives the errors."""
    schema, errors = read_schema(path)
    if errors or schema is None:
        return errors
    return schema


def read_schema(path: Path) -> tuple[LoadedSchema | None, list[SchemaError]]:
    """Load one schema file, salvaging what can still be checked.

    Unlike ``load_file``, a file with shape errors still gives a
    ``LoadedSchema`` (with ``incomplete`` set) next to its errors, so that a
    build reports the semantic errors of the rest of the file too. ``None``
    means nothing could be read (unreadable file, syntax error).
    """
    file = display_path(path)
    reader = SCHEMA_SUFFIXES.get(path.suffix.lower())
    if reader is None:
        expected = ", ".join(SCHEMA_SUFFIXES)
        return None, [
            SchemaError(
                file,
                None,
                None,
                "",
                f"unsupported file type {path.suffix!r}; expected one of: {expected}",
            )
        ]
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        return None, [
            SchemaError(
                file,
                None,
                None,
                "",
                f"cannot read: not UTF-8 text ({exc.reason} at byte {exc.start})",
            )
        ]
    except OSError as exc:
        return None, [SchemaError(file, None, None, "", f"cannot read: {exc.strerror or exc}")]
    parsed = reader(text)
    if parsed.syntax_error is not None:
        message, line, col = parsed.syntax_error
        return None, [SchemaError(file, line, col, "", message)]
    errors = _reading_errors(parsed, file)
    structure = check_structure(parsed.data, parsed.positions, file)
    # A value that could not be read is None in the data; its shape error
    # ("must be a mapping, not null") would only repeat the reading problem.
    unreadable = {error.path for error in errors}
    errors.extend(error for error in structure.errors if error.path not in unreadable)
    if structure.spec is None:
        return None, errors
    module = structure.spec.module if structure.spec.module is not None else path.stem
    schema = LoadedSchema(path, module, structure.spec, parsed.positions, structure.incomplete)
    return schema, errors


def _reading_errors(parsed: ParsedText, file: str) -> list[SchemaError]:
    errors = []
    for problem in parsed.problems:
        line, col = problem.position or parsed.positions.locate(problem.path)
        errors.append(SchemaError(file, line, col, dotted(problem.path), problem.message))
    return errors
