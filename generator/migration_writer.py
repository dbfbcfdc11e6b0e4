"""Writing migration files: operations -> a formatted, typed Python module.

The operations' ``repr()`` is their Python source (``runtime.schema``
writes it so), so a file is the ``Migration(...)`` call around them, the
imports the text uses, and the lint findings as comments. It is formatted
with black in the generator's pinned mode, checked with ``ast.parse`` and
written atomically; the files pass ``mypy --strict``.
"""

from __future__ import annotations

import ast
import os
import re
import tempfile
import textwrap
from collections.abc import Sequence
from pathlib import Path

import black

from generator.fmt import BLACK_MODE
from runtime import migrations as _api
from runtime.migrations.files import MigrationSet
from runtime.migrations.lint import Finding, comment_lines
from runtime.schema.operations import (
    AddColumn,
    AlterColumn,
    CreateTable,
    DropColumn,
    DropTable,
    Operation,
    RenameColumn,
    RenameTable,
)

__all__ = ["auto_slug", "next_id", "render_empty", "render_migration", "write_atomically"]

#: Names the operations' text may use from outside ``runtime.migrations``.
_OTHER_IMPORTS = {
    "datetime": "import datetime",
    "Decimal": "from decimal import Decimal",
    "UUID": "from uuid import UUID",
}

_SLUG_CHARS = re.compile(r"[^a-z0-9]+")


def slugify(text: str) -> str:
    """``text`` as a file-name slug: lowercase letters, digits and underscores."""
    slug = _SLUG_CHARS.sub("_", text.lower()).strip("_")
    return slug[:50].rstrip("_") or "migration"


def next_id(migrations: MigrationSet, slug: str) -> str:
    """The id of a new migration after the last one of ``migrations``."""
    number = max((m.number for m in migrations), default=0) + 1
    return f"{number:04d}_{slugify(slug)}"


def auto_slug(operations: Sequence[Operation], *, first: bool) -> str:
    """A name for a migration of ``operations``: ``initial``, ``add_band_rating``, ..."""
    if first and operations and all(isinstance(op, CreateTable) for op in operations):
        return "initial"
    if not operations:
        return "empty"
    op = operations[0]
    if isinstance(op, AddColumn):
        name = f"add_{op.table}_{op.column.name}"
    elif isinstance(op, DropColumn):
        name = f"remove_{op.table}_{op.name}"
    elif isinstance(op, AlterColumn):
        name = f"alter_{op.table}_{op.name}"
    elif isinstance(op, RenameColumn):
        name = f"rename_{op.table}_{op.old}_to_{op.new}"
    elif isinstance(op, CreateTable):
        name = f"create_{op.table.name}"
    elif isinstance(op, DropTable):
        name = f"drop_{op.name}"
    elif isinstance(op, RenameTable):
        name = f"rename_{op.old}_to_{op.new}"
    else:
        name = op.describe()
    if len(operations) > 1:
        name += "_and_more"
    return slugify(name)


def _imports(body: str) -> str:
    """The import lines ``body`` needs (names it uses, sorted as isort would)."""
    tree = ast.parse(body)
    used = {node.id for node in ast.walk(tree) if isinstance(node, ast.Name)}
    public = set(_api.__all__)
    ours = sorted(used & public)
    stdlib = sorted(
        (line for name, line in _OTHER_IMPORTS.items() if name in used),
        key=lambda line: line.split()[1],
    )
    out = "\n".join(stdlib)
    if out:
        out += "\n\n"
    out += f"from runtime.migrations import {', '.join(ours)}\n"
    return out


def _summary(operations: Sequence[Operation]) -> str:
    """The first line of a file's docstring: what its operations do."""
    said = [op.describe() for op in operations[:3]]
    if len(operations) > 3:
        said.append(f"and {len(operations) - 3} more")
    text = "; ".join(said)
    return text[:1].upper() + text[1:] + "." if text else ""


def _docstring(summary: str, detail: str) -> str:
    summary = summary.strip().replace("\\", "\\\\").replace('"""', "'''")
    return f'"""{summary}\n\n{detail}\n"""\n'


def _format(source: str) -> str:
    formatted = black.format_str(source, mode=BLACK_MODE)
    ast.parse(formatted)
    return formatted


def render_migration(
    migration_id: str,
    parent: str | None,
    operations: Sequence[Operation],
    *,
    findings: Sequence[Finding] = (),
    hints: Sequence[str] = (),
    summary: str = "",
    replaces: Sequence[str] = (),
    note: str = "",
) -> str:
    """The source of a migration file holding ``operations``."""
    ops = "".join(f"        {op!r},\n" for op in operations)
    args = [f"    id={migration_id!r},", f"    parent={parent!r},"]
    args.append(f"    operations=[\n{ops}    ],")
    if replaces:
        args.append(f"    replaces={tuple(replaces)!r},")
    body = "migration = Migration(\n" + "\n".join(args) + "\n)\n"
    comments = list(comment_lines(findings))
    if hints:
        comments.append("# Hints:")
        for hint in hints:
            comments += textwrap.wrap(
                hint, width=99, initial_indent="#   ", subsequent_indent="#     "
            )
    detail = note or (
        "Made by `piccolo-gen migrations new --auto`. Edit it as needed before it is "
        "applied; once\napplied it must not change (its checksum is recorded): make a new "
        "migration instead."
    )
    text = (
        _docstring(summary or _summary(operations) or migration_id, detail)
        + "\n"
        + _imports(body)
        + "\n"
    )
    if comments:
        text += "\n".join(comments) + "\n"
    text += body
    return _format(text)


_EMPTY_EXAMPLE = """\
# Operations to fill in. Schema operations are what `new --auto` writes
# (AddColumn, AlterColumn, ...); data changes are RunSQL and RunPython, each
# with its way back. For example, splitting author.name into first_name and
# last_name (the columns added by an earlier migration, or by AddColumn
# operations listed before these):
#
#     from runtime.migrations import MigrationDB, RunPython, RunSQL
#
#     async def split_name(db: MigrationDB) -> None:
#         p = db.placeholder
#         for id_, name in await db.fetch("SELECT id, name FROM author"):
#             first, _, last = name.partition(" ")
#             await db.execute(
#                 f"UPDATE author SET first_name = {p(1)}, last_name = {p(2)} WHERE id = {p(3)}",
#                 [first, last, id_],
#             )
#
#     async def join_name(db: MigrationDB) -> None:
#         await db.execute("UPDATE author SET name = first_name || ' ' || last_name")
#
#     operations=[
#         RunPython(split_name, join_name),
#         RunSQL(
#             "UPDATE author SET last_name = upper(last_name)",
#             backwards="UPDATE author SET last_name = lower(last_name)",
#         ),
#     ]
#
# SQL that differs per dialect: RunSQL({"postgres": "...", "sqlite": "..."}).
"""


def render_empty(migration_id: str, parent: str | None, *, summary: str = "") -> str:
    """The source of an empty migration file, with an example in comments."""
    detail = (
        "Made by `piccolo-gen migrations new`: add its operations below. Once applied it\n"
        "must not change (its checksum is recorded): make a new migration instead."
    )
    body = (
        "migration = Migration(\n"
        f"    id={migration_id!r},\n"
        f"    parent={parent!r},\n"
        "    operations=[],\n"
        ")\n"
    )
    text = (
        _docstring(summary or migration_id, detail)
        + "\nfrom runtime.migrations import Migration\n\n"
        + _EMPTY_EXAMPLE
        + "\n"
        + body
    )
    return _format(text)


def write_atomically(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` through a temporary file and a rename."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, temp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as handle:
            handle.write(text)
        os.replace(temp, path)
    except BaseException:
        Path(temp).unlink(missing_ok=True)
        raise
