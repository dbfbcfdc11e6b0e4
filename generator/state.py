"""The schema files' state: what the tables they describe are, as ``runtime.schema``
states it.

The state comes from the code the build generates, not from a second reading
of the schema files: the build's own stages (load, validate, resolve,
render) give each module's source, which runs in a throwaway package, and
``runtime.schema.state.of_tables`` reads its table classes. So the state is
that of the generated classes by construction, and ``migrations`` diffs what
the application will run. Black and the ``if TYPE_CHECKING:`` classes play
no part (neither changes what runs), which keeps this fast: a few hundred
milliseconds for the 500 tables of the benchmark's schema.

Renames. ``renamed_from`` changes no generated code; it is read from the
schema files and set on the state (``Table.renamed_from``,
``Column.renamed_from``, database names) for the differ. A column's
``renamed_from`` is the old column's database name: its old key, or its old
``db_column_name`` if it had one. A table's is its old class name or its old
``tablename``: against the previous state, the table of that name, or else
of the name the class name gives (``snake_case``). A ``renamed_from`` whose
new name is in the previous state while its old name is not was carried out
by an earlier migration and is ignored; one whose old and new names are
both missing from the previous state names nothing, and ``check_renames``
reports it where the ``renamed_from`` key is written, like any schema error.
"""

from __future__ import annotations

import hashlib
import importlib
import importlib.abc
import importlib.machinery
import marshal
import os
import secrets
import sys
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from types import CodeType, ModuleType
from typing import TYPE_CHECKING, Any, Final

from generator.build import collect_schema_files, validate_schemas
from generator.config import Config, load_config
from generator.errors import SchemaError, SchemaErrors, suggest
from generator.names import snake_case
from generator.positions import NodePath
from generator.resolve import resolve
from runtime.schema.diff import hint_effect
from runtime.schema.state import Schema, of_tables

if TYPE_CHECKING:
    from generator.load import LoadedSchema
    from generator.resolve import ResolvedModule

__all__ = ["LocatedState", "RenameHint", "check_renames", "read_state", "schema_state"]

#: The block the type checkers' classes are in; it does not run.
_CHECKER_BLOCK = "if TYPE_CHECKING:"


@dataclass(frozen=True)
class RenameHint:
    """One ``renamed_from`` of the schema files, and where it is written."""

    #: Database name of the table (in the new state) the hint is on or in.
    table: str
    #: Database name of the column, or ``None`` for the table's own hint.
    column: str | None
    #: The ``renamed_from`` as written.
    old: str
    schema: LoadedSchema = field(compare=False, repr=False)
    path: NodePath = field(compare=False, repr=False)

    def error(self, message: str) -> SchemaError:
        return self.schema.error(self.path, message, at_key=True)


@dataclass(frozen=True)
class LocatedState:
    """The state of the schema files (without rename hints), and the hints."""

    schema: Schema
    hints: tuple[RenameHint, ...] = ()

    def with_renames(self, previous: Schema | None = None) -> Schema:
        """The state with each hint set on its table or column, resolved
        against ``previous`` (see the module docstring); without a previous
        state, a table's hint is taken as an old class name when it is one."""
        tables = {t.name: t for t in self.schema}
        old_tables = _resolved_tables(self.hints, previous)
        for hint in self.hints:
            table = tables[hint.table]
            if hint.column is None:
                tables[hint.table] = replace(table, renamed_from=old_tables[hint.table])
            else:
                columns = tuple(
                    replace(c, renamed_from=hint.old) if c.name == hint.column else c
                    for c in table.columns
                )
                tables[hint.table] = replace(table, columns=columns)
        return replace(self.schema, tables=tuple(tables[t.name] for t in self.schema))


def schema_state(
    paths: Sequence[Path] | None = None,
    *,
    config: Config | None = None,
    previous: Schema | None = None,
    cache: Path | None = None,
) -> Schema | list[SchemaError]:
    """The state of the schema files ``paths`` (default: the configured ones),
    or their errors exactly as ``build`` reports them.

    With ``previous`` (the state the migrations so far give), the rename
    hints are checked against it (``check_renames``) and resolved. ``cache``:
    a folder to keep the generated code compiled in (see ``_compiled``).
    """
    located = read_state(paths, config=config, cache=cache)
    if isinstance(located, list):
        return located
    if previous is not None:
        errors = check_renames(located, previous)
        if errors:
            return errors
    return located.with_renames(previous)


def read_state(
    paths: Sequence[Path] | None = None,
    *,
    config: Config | None = None,
    cache: Path | None = None,
) -> LocatedState | list[SchemaError]:
    """The state of the schema files and their rename hints, or their errors."""
    if paths is None:
        paths = (config or load_config()).schema
    files, errors = collect_schema_files(paths)
    validated, load_errors = validate_schemas(files)
    errors = sorted([*errors, *load_errors], key=SchemaError.sort_key)
    if errors or validated is None:
        return errors
    modules = resolve(validated)
    try:
        sources = _sources(modules)
    except SchemaErrors as exc:
        return sorted(exc.errors, key=SchemaError.sort_key)
    tables = _run(sources, [m.module for m in modules], cache)
    return LocatedState(of_tables(tables), tuple(_hints(validated.schemas)))


def check_renames(located: LocatedState, previous: Schema) -> list[SchemaError]:
    """The ``renamed_from`` that name nothing of ``previous``, and the old names
    two hints claim, each reported where its ``renamed_from`` is written."""
    errors: list[SchemaError] = []
    old_tables = set(previous.names())
    new_tables = set(located.schema.names())
    resolved = _resolved_tables(located.hints, previous)
    claimed: dict[tuple[str, str | None], RenameHint] = {}
    #: New table name -> the old table its columns' hints refer to.
    sources: dict[str, str] = {t: t for t in new_tables if t in old_tables}
    for hint in (h for h in located.hints if h.column is None):
        old = resolved[hint.table]
        effect = hint_effect(old_tables, new_tables, hint.table, old)
        if effect == "missing":
            errors.append(hint.error(_missing(f"table {hint.old!r}", hint.old, previous.names())))
            sources[hint.table] = ""  # its columns' hints are not judged
        elif effect == "rename":
            _claim(claimed, (old, None), hint, errors)
            sources[hint.table] = old
    for new, old in list(sources.items()):
        # A table renamed away and one created under its old name: that one is new.
        if old and old != new and sources.get(old) == old:
            del sources[old]
    for hint in (h for h in located.hints if h.column is not None):
        assert hint.column is not None
        old_table = sources.get(hint.table)
        if old_table == "":
            continue
        if old_table is None:
            errors.append(
                hint.error(f"table {hint.table!r} is new: it has no column {hint.old!r} to rename")
            )
            continue
        before = previous.table(old_table)
        after = located.schema.table(hint.table)
        old_columns = [c.name for c in before.columns]
        effect = hint_effect(old_columns, [c.name for c in after.columns], hint.column, hint.old)
        if effect == "missing":
            label = f"column {hint.old!r} in table {old_table!r}"
            errors.append(hint.error(_missing(label, hint.old, old_columns)))
        elif effect == "rename":
            was_key = before.column(hint.old).primary_key
            if was_key != after.column(hint.column).primary_key:
                errors.append(
                    hint.error(
                        f"column {hint.old!r} {'was' if was_key else 'was not'} the primary key "
                        f"of table {old_table!r} and {hint.column!r} "
                        f"{'is not' if was_key else 'is'}; a migration cannot change which "
                        "column is the primary key"
                    )
                )
            _claim(claimed, (old_table, hint.old), hint, errors)
    return sorted(errors, key=SchemaError.sort_key)


# -- helpers -----------------------------------------------------------------------


def _claim(
    claimed: dict[tuple[str, str | None], RenameHint],
    key: tuple[str, str | None],
    hint: RenameHint,
    errors: list[SchemaError],
) -> None:
    first = claimed.setdefault(key, hint)
    if first is not hint:
        line, col = first.schema.positions.locate(first.path, at_key=True)
        where = first.schema.file + (f":{line}" if line else "") + (f":{col}" if col else "")
        what = f"table {key[0]!r}" if key[1] is None else f"column {key[1]!r}"
        errors.append(
            hint.error(
                f"{what} is renamed by the renamed_from at {where} already; "
                "it can take one new name only"
            )
        )


def _missing(what: str, name: str, candidates: Sequence[str]) -> str:
    hint = suggest(name, candidates)
    message = f"the previous state has no {what}"
    return f"{message} - {hint}" if hint else message


def _resolved_tables(hints: Sequence[RenameHint], previous: Schema | None) -> dict[str, str]:
    """The old database name each table hint names: as written if ``previous``
    has it, else the one its class name gives."""
    resolved = {}
    for hint in hints:
        if hint.column is None:
            derived = snake_case(hint.old)
            exact = previous is not None and previous.has(hint.old)
            resolved[hint.table] = hint.old if exact or derived == hint.old else derived
    return resolved


def _hints(schemas: Sequence[LoadedSchema]) -> list[RenameHint]:
    hints = []
    for schema in schemas:
        for name, table in schema.spec.tables.items():
            tablename = table.tablename or snake_case(name)
            path: NodePath = ("tables", name)
            if table.renamed_from is not None:
                hints.append(
                    RenameHint(tablename, None, table.renamed_from, schema, (*path, "renamed_from"))
                )
            for key, column in table.columns.items():
                if column.renamed_from is not None and column.type != "m2m":
                    hints.append(
                        RenameHint(
                            tablename,
                            column.db_column_name or key,
                            column.renamed_from,
                            schema,
                            (*path, "columns", key, "renamed_from"),
                        )
                    )
    return hints


def _sources(modules: list[ResolvedModule]) -> dict[str, str]:
    """Each generated module's source as it runs: rendered, without black
    (which changes only the layout) and without the checkers' classes."""
    from generator.render import render_package

    sources = {}
    for name, chunks in render_package(modules).items():
        kept = [
            _without_stubs(c.text)
            for c in chunks
            if c.block != _CHECKER_BLOCK and not c.text.lstrip("\n").startswith(_CHECKER_BLOCK)
        ]
        sources[name.removesuffix(".py")] = "".join(kept)
    return sources


#: Where a table class's own checker block (its typed stubs) starts; it
#: ends the class.
_CLASS_CHECKER_BLOCK = "\n    " + _CHECKER_BLOCK + "\n"


def _without_stubs(text: str) -> str:
    """A top-level chunk without the ``if TYPE_CHECKING:`` block that ends a
    table class (the constructor and query stubs: most of the source, and
    none of it runs)."""
    start = text.rfind(_CLASS_CHECKER_BLOCK)
    if start < 0:
        return text
    rest = text[start + len(_CLASS_CHECKER_BLOCK) :].split("\n")
    if not all(line == "" or line.startswith("        ") for line in rest):
        return text
    return text[: start + 1]


class _Package(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    """Serves a generated package from memory under a name of its own."""

    def __init__(self, name: str, sources: dict[str, str], cache: Path | None) -> None:
        self.name = name
        self.sources = sources
        self.cache = cache

    def find_spec(
        self, fullname: str, path: Sequence[str] | None, target: ModuleType | None = None
    ) -> importlib.machinery.ModuleSpec | None:
        if fullname == self.name:
            return importlib.machinery.ModuleSpec(fullname, self, is_package=True)
        package, _, module = fullname.rpartition(".")
        if package == self.name and module in self.sources:
            return importlib.machinery.ModuleSpec(fullname, self)
        return None

    def exec_module(self, module: ModuleType) -> None:
        name = module.__name__.rpartition(".")[2] if module.__name__ != self.name else "__init__"
        exec(_compiled(name, self.sources[name], self.cache), module.__dict__)


# Compiling the generated code is a third of reading the state of a large
# schema (a megabyte of source for 500 tables, half a second), and most runs
# of ``migrations check`` and ``new`` compile what the run before compiled.
# So, as Python keeps a module's bytecode in ``__pycache__``, the code is
# kept compiled in the cache folder given (the migrations folder's
# ``__pycache__``), under the digest of its source and the interpreter's
# tag: a changed schema, generator or Python is a different file. Each
# file starts with the digest of what follows, so a damaged one is compiled
# again; a folder that cannot be written is no error, and
# ``PYTHONDONTWRITEBYTECODE`` is honoured as Python honours it.

#: Compiled modules kept per cache folder (the oldest are removed).
_CACHE_KEEP: Final = 8
_CACHE_PREFIX: Final = "piccolo-gen-state."


def _compiled(name: str, source: str, cache: Path | None) -> CodeType:
    filename = f"<generated {name}.py>"
    if cache is None:
        return compile(source, filename, "exec")
    digest = hashlib.sha256(f"{filename}\0{source}".encode()).hexdigest()[:32]
    path = cache / f"{_CACHE_PREFIX}{name}.{digest}.{sys.implementation.cache_tag}.bin"
    try:
        data = path.read_bytes()
    except OSError:
        pass
    else:
        check, payload = data[:32], data[32:]
        if hashlib.sha256(payload).digest() == check:
            try:
                code = marshal.loads(payload)
            except (EOFError, ValueError, TypeError):
                pass
            else:
                if isinstance(code, CodeType):
                    return code
    code = compile(source, filename, "exec")
    if not sys.dont_write_bytecode:
        _store(path, marshal.dumps(code))
    return code


def _store(path: Path, payload: bytes) -> None:
    """Write a compiled module atomically, and drop the oldest beyond ``_CACHE_KEEP``."""
    temporary = path.with_name(f"{path.name}.{secrets.token_hex(4)}.tmp")
    try:
        path.parent.mkdir(exist_ok=True)  # in an existing folder only
        temporary.write_bytes(hashlib.sha256(payload).digest() + payload)
        os.replace(temporary, path)
        kept = sorted(
            path.parent.glob(f"{_CACHE_PREFIX}*.bin"),
            key=lambda p: p.stat().st_mtime,
            reverse=True,
        )
        for old in kept[_CACHE_KEEP:]:
            old.unlink(missing_ok=True)
    except OSError:
        temporary.unlink(missing_ok=True)


def _run(sources: dict[str, str], modules: list[str], cache: Path | None = None) -> list[type[Any]]:
    """Run the generated package under a fresh name; its table classes, module by
    module (each in its ``TABLES`` order), then its view classes (each module's
    ``VIEWS``). Nothing of it stays in ``sys.modules``."""
    name = f"_piccolo_gen_state_{secrets.token_hex(8)}"
    package = _Package(name, sources, cache)
    sys.meta_path.insert(0, package)
    try:
        importlib.import_module(name)
        tables: list[type[Any]] = []
        views: list[type[Any]] = []
        for module in modules:
            tables.extend(sys.modules[f"{name}.{module}"].TABLES)
            views.extend(sys.modules[f"{name}.{module}"].VIEWS)
        return tables + views
    finally:
        sys.meta_path.remove(package)
        for loaded in [m for m in sys.modules if m == name or m.startswith(name + ".")]:
            del sys.modules[loaded]
