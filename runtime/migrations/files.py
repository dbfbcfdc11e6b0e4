"""The migration files of a folder: loading, ordering, checking and replay.

A folder holds ``NNNN_slug.py`` files, each defining ``migration =
Migration(...)`` whose ``id`` is the file's name. They form one chain: the
first has no parent, every other one's parent is the file before it (or an
id the file before it ``replaces``, after a squash). Replaying their
operations from the empty schema gives the state the migrations describe, so
no separate snapshot can go stale.

Each file is imported by its path, under a private module name that is not
left in ``sys.modules``: two projects' ``0001_initial`` never meet, and the
folder need not be a package or on ``sys.path``.
"""

from __future__ import annotations

import ast
import hashlib
import importlib.util
import os
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, replace
from pathlib import Path

from ..schema.operations import Operation
from ..schema.state import Schema, SchemaStateError
from ._base import ID_PATTERN, Migration, MigrationError, flatten

__all__ = [
    "MigrationSet",
    "checksum",
    "find_files",
    "load_file",
    "load_folder",
    "replay",
]


def checksum(path: str | os.PathLike[str]) -> str:
    """The sha256 of the file's code, in hex (what the history table records).

    The code is the file's syntax tree, not its bytes: a formatter run over
    an applied migration (another black version, the project's own line
    length) or an edited comment changes nothing the migration does, and
    must not stop the next deploy; any change to what it does (an operation,
    a name, a value, the docstring) changes the checksum. A file that does
    not parse is checksummed by its bytes (loading it reports the error).
    """
    return _checksum_of(Path(path).read_bytes())


def _checksum_of(source: bytes) -> str:
    try:
        code = _canonical(ast.parse(source)).encode()
    except (SyntaxError, ValueError):
        code = source
    return hashlib.sha256(code).hexdigest()


def _canonical(node: object) -> str:
    """A syntax tree as text that stays the same across Python versions:
    node types and field values, without positions, leaving out the fields
    that are empty (``ast.dump`` itself changed there in 3.13, and new
    versions add fields that are empty in code like this)."""
    if isinstance(node, ast.AST):
        fields = []
        for name in node._fields:
            value = getattr(node, name, None)
            if value is None or value == []:
                continue
            fields.append(f"{name}={_canonical(value)}")
        return f"{type(node).__name__}({', '.join(fields)})"
    if isinstance(node, list):
        return f"[{', '.join(_canonical(item) for item in node)}]"
    return repr(node)


def find_files(folder: str | os.PathLike[str]) -> list[Path]:
    """The ``.py`` files of ``folder`` that may be migrations (not ``_private.py``
    or ``__init__.py``), sorted by name."""
    root = Path(folder)
    if not root.is_dir():
        return []
    return sorted(
        p
        for p in root.iterdir()
        if p.suffix == ".py" and p.is_file() and not p.name.startswith("_")
    )


def load_file(path: str | os.PathLike[str]) -> Migration:
    """The ``Migration`` of one file, with its ``path`` and ``checksum`` set.

    Raises ``MigrationError`` naming the file when the name is not
    ``NNNN_slug.py``, the file cannot be imported, has no ``migration``
    variable holding a ``Migration``, or its id is not its name.
    """
    file = Path(path)
    where = os.fspath(file)
    if not ID_PATTERN.fullmatch(file.stem):
        raise MigrationError(
            f"{where}: not a migration file name; migration files are named "
            "NNNN_slug.py (e.g. 0002_add_tags.py)"
        )
    try:
        data = file.read_bytes()
    except OSError as error:
        raise MigrationError(f"{where}: cannot read: {error}") from error
    spec = importlib.util.spec_from_file_location(f"_piccolo_gen_migration_{file.stem}", file)
    if spec is None or spec.loader is None:  # pragma: no cover - a .py path always has one
        raise MigrationError(f"{where}: cannot be imported")
    module = importlib.util.module_from_spec(spec)
    try:
        spec.loader.exec_module(module)
    except MigrationError as error:
        raise MigrationError(f"{where}: {error}") from error
    except SyntaxError as error:
        raise MigrationError(
            f"{where}:{error.lineno or 0}:{error.offset or 0}: syntax error: {error.msg}"
        ) from error
    except Exception as error:
        raise MigrationError(
            f"{where}: importing it raised {type(error).__name__}: {error}"
        ) from error
    migration = getattr(module, "migration", None)
    if not isinstance(migration, Migration):
        found = "nothing" if migration is None else type(migration).__name__
        raise MigrationError(
            f"{where}: a migration file defines `migration = Migration(...)`; it has {found}"
        )
    if migration.id != file.stem:
        raise MigrationError(
            f"{where}: its id is {migration.id!r}, but the file is named {file.name}: "
            f"the id must be the file's name ({file.stem!r})"
        )
    return replace(migration, path=where, checksum=_checksum_of(data))


@dataclass(frozen=True)
class MigrationSet:
    """The migrations of a folder, in chain order, checked (see ``load_folder``)."""

    folder: Path
    migrations: tuple[Migration, ...]

    def __iter__(self) -> Iterator[Migration]:
        return iter(self.migrations)

    def __len__(self) -> int:
        return len(self.migrations)

    def ids(self) -> list[str]:
        return [m.id for m in self.migrations]

    def get(self, ref: str) -> Migration:
        """The migration ``ref`` names: its id, its number (``0002``, ``2``) or its file name."""
        return self.migrations[self.position(ref)]

    def position(self, ref: str) -> int:
        """Where the migration ``ref`` names is in the chain (see ``get``)."""
        key = ref[:-3] if ref.endswith(".py") else ref
        key = os.path.basename(key)
        for index, migration in enumerate(self.migrations):
            if migration.id == key:
                return index
        if key.isdigit():
            for index, migration in enumerate(self.migrations):
                if migration.number == int(key):
                    return index
        known = ", ".join(self.ids()) or "none"
        raise MigrationError(
            f"there is no migration {ref!r} in {self.folder} (migrations: {known})"
        )

    def state(self, upto: int | None = None) -> Schema:
        """The state after the first ``upto`` migrations (default: all of them)."""
        return replay(self.migrations[:upto])

    def states(self) -> list[Schema]:
        """The state before each migration, and after the last: ``len(self) + 1`` states."""
        states = [Schema()]
        for migration in self.migrations:
            states.append(replay([migration], states[-1]))
        return states


def replay(migrations: Sequence[Migration], start: Schema | None = None) -> Schema:
    """The state after the operations of ``migrations``, from ``start`` (default: empty).

    An operation that cannot apply (a table that does not exist, a name
    taken twice) raises ``MigrationError`` naming its migration and itself.
    """
    state = start if start is not None else Schema()
    for migration in migrations:
        state = apply_all(migration, migration.operations, state)
    return state


def apply_all(migration: Migration, operations: Sequence[Operation], state: Schema) -> Schema:
    for op in flatten(operations):
        try:
            state = op.apply(state)
        except SchemaStateError as error:
            where = migration.path or migration.id
            raise MigrationError(
                f"{where}: {op.describe()}: {error}",
                migration=migration.id,
                operation=op.describe(),
            ) from error
    return state


def load_folder(folder: str | os.PathLike[str]) -> MigrationSet:
    """Load and check every migration of ``folder`` (an absent folder has none).

    Every problem is reported at once, each naming its file, in one
    ``MigrationError``: a file that does not load, two files with one
    number or one parent, a parent that is not the file before, a chain
    whose operations do not replay.
    """
    root = Path(folder)
    problems: list[str] = []
    loaded: list[Migration] = []
    for path in find_files(root):
        try:
            loaded.append(load_file(path))
        except MigrationError as error:
            problems.append(str(error))
    problems += chain_problems(loaded)
    if problems:
        raise MigrationError("\n".join(problems))
    ordered = tuple(sorted(loaded, key=lambda m: m.number))
    result = MigrationSet(root, ordered)
    try:
        result.state()
    except MigrationError as error:
        raise MigrationError(f"the migrations do not replay: {error}") from error
    return result


def chain_problems(migrations: Sequence[Migration]) -> list[str]:
    """What keeps ``migrations`` from being one chain (empty when they are one)."""
    problems: list[str] = []

    def name(m: Migration) -> str:
        return m.path or m.id

    by_number: dict[int, list[Migration]] = {}
    for m in migrations:
        by_number.setdefault(m.number, []).append(m)
    for number, group in sorted(by_number.items()):
        if len(group) > 1:
            problems.append(
                f"{len(group)} migrations are numbered {number:04d}: "
                f"{', '.join(name(m) for m in group)}; renumber all but one"
            )
    by_parent: dict[str | None, list[Migration]] = {}
    for m in migrations:
        by_parent.setdefault(m.parent, []).append(m)
    for parent, group in by_parent.items():
        if len(group) > 1:
            problems.append(
                f"{len(group)} migrations have the parent {parent or 'None (the first)'}: "
                f"{', '.join(name(m) for m in group)}; two branches were made from one "
                "migration: make one the parent of the other (edit its parent and number)"
            )
    if problems:
        return problems
    ordered = sorted(migrations, key=lambda m: m.number)
    ids = {m.id for m in ordered}
    for index, m in enumerate(ordered):
        if index == 0:
            if m.parent is not None:
                missing = "" if m.parent in ids else " (no such migration)"
                problems.append(
                    f"{name(m)}: it is the first migration, but its parent is "
                    f"{m.parent!r}{missing}; the first migration has parent=None"
                )
            continue
        before = ordered[index - 1]
        if m.parent != before.id and m.parent not in before.replaces:
            problems.append(
                f"{name(m)}: its parent is {m.parent!r}, but the migration before it is "
                f"{before.id!r}; each migration's parent is the one before it"
            )
    return problems
