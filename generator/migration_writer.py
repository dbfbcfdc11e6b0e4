"""Writing migration files: operations -> a formatted, typed Python module.

The operations' ``repr()`` is their Python source (``runtime.schema``
writes it so), so a file is the ``Migration(...)`` call around them, the
imports the text uses, and the lint findings as comments. It is formatted
with black in the generator's pinned mode, checked with ``ast.parse`` and
written atomically; the files pass ``mypy --strict``.
"""

from __future__ import annotations

import ast
import dataclasses
import os
import re
import secrets
import textwrap
from collections.abc import Sequence
from pathlib import Path
from typing import Final

import black

from generator.fmt import BLACK_MODE
from runtime import migrations as _api
from runtime.migrations.files import MigrationSet
from runtime.migrations.lint import Finding, comment_lines
from runtime.schema.operations import (
    AddColumn,
    AlterColumn,
    CreateEnum,
    CreateTable,
    CreateView,
    DropColumn,
    DropTable,
    DropView,
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
    if first and operations and all(_creates(op, operations) for op in operations):
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
    elif isinstance(op, CreateView):
        name = f"create_view_{op.view.name}"
    elif isinstance(op, DropView):
        # A changed view is dropped and created again.
        again = any(isinstance(o, CreateView) and o.view.name == op.name for o in operations)
        name = f"{'change' if again else 'drop'}_view_{op.name}"
    else:
        name = op.describe()
    if len(operations) > 1:
        name += "_and_more"
    return slugify(name)


def _creates(op: Operation, operations: Sequence[Operation]) -> bool:
    """Whether ``op`` is part of creating the schema: a table, an enum type, a view, or
    the foreign key that closes a cycle of them (added once both tables exist,
    to a table made by ``operations``)."""
    if isinstance(op, CreateTable | CreateEnum | CreateView):
        return True
    return (
        isinstance(op, AlterColumn)
        and list(op.changes()) == ["references"]
        and any(isinstance(o, CreateTable) and o.table.name == op.table for o in operations)
    )


def _imports(body: str, operations: Sequence[str] = ()) -> str:
    """The import lines ``body`` and the ``operations`` (texts outside it) need
    (names they use, sorted as isort would)."""
    used = _names(ast.parse(body))
    # A masked text uses the names its original does; each shape is read once.
    for text in {_masked(text)[0] for text in operations}:
        used |= _names(ast.parse(text, mode="eval"))
    public = set(_api.__all__)
    # isort's (and ruff's) order within a statement: constants, classes, the rest.
    ours = sorted(
        used & public, key=lambda n: (0 if n.isupper() else 1 if n[0].isupper() else 2, n)
    )
    stdlib = sorted(
        (line for name, line in _OTHER_IMPORTS.items() if name in used),
        key=lambda line: line.split()[1],
    )
    out = "\n".join(stdlib)
    if out:
        out += "\n\n"
    out += f"from runtime.migrations import {', '.join(ours)}\n"
    return out


def _names(tree: ast.AST) -> set[str]:
    return {node.id for node in ast.walk(tree) if isinstance(node, ast.Name)}


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


# Black takes about 20 ms per kilobyte, and the first migration of a large
# schema is large (half a megabyte for 500 tables). Its operations are
# elements of an exploded list, and black lays out each such element on its
# own, whatever surrounds the list: so a large file is formatted one element
# at a time, a table's columns too, each distinct text once. Where the
# layout around an element is not the one assumed (one-element tuples,
# quotes in a table name), the operation goes through black in its place,
# alone. tests/test_migrations_files.py
# holds the result equal to black over the whole file.

#: Below this many characters of operations, a file goes through black whole.
FAST_FORMAT_FROM: Final = 20_000
_PLACEHOLDER: Final = "__piccolo_gen_operations__"


class _NotVouched(Exception):
    """An element whose layout in place the fast path cannot vouch for."""


# The elements of a large schema differ mostly in their names: the columns
# of 500 tables are a dozen shapes, but their foreign keys name 500 tables.
# Black lays a string out by its length alone and only ever changes its
# quotes, so an element is formatted with its plain names (single-quoted,
# letters, digits and underscores, as ``repr`` writes them) masked by
# strings of the same length, once per shape, and the names are put back.
# Only text with no double quote and no backslash is masked: each of its
# string literals is then ``'...'`` without escapes, and each comes out of
# black as ``"..."`` in the same order, which is checked.

_SINGLE_QUOTED: Final = re.compile(r"'([^']*)'")
_DOUBLE_QUOTED: Final = re.compile(r'"([^"]*)"')
_PLAIN_NAME: Final = re.compile(r"[A-Za-z0-9_]+")


def _masked(text: str) -> tuple[str, list[str]]:
    """``text`` with its plain names masked, and the names in order (none
    when it is not masked)."""
    if '"' in text or "\\" in text:
        return text, []
    names: list[str] = []

    def mask(match: re.Match[str]) -> str:
        content = match.group(1)
        if _PLAIN_NAME.fullmatch(content):
            names.append(content)
            return "'" + "x" * len(content) + "'"
        names.append("")
        return match.group(0)

    masked = _SINGLE_QUOTED.sub(mask, text)
    if not any(names):
        return text, []
    return masked, names


def _unmasked(laid: str, names: list[str], text: str) -> str:
    """``laid`` (black's layout of masked text) with the masked names put back."""
    found = _DOUBLE_QUOTED.findall(laid)
    if len(found) != len(names):
        raise _NotVouched(text)
    parts = iter(names)

    def unmask(match: re.Match[str]) -> str:
        name = next(parts)
        content = match.group(1)
        if not name:
            return match.group(0)
        if content != "x" * len(name):
            raise _NotVouched(text)
        return f'"{name}"'

    return _DOUBLE_QUOTED.sub(unmask, laid)


def _element(text: str, indent: int, cache: dict[tuple[str, int], str]) -> str:
    """``text`` as an element of an exploded collection at ``indent``, with its comma.

    Black lays it out in a one-element exploded list at the shallowest
    indent, with the line length shortened by the difference: the same
    budget for every line of it as in its place.
    """
    masked, names = _masked(text)
    key = (masked, indent)
    laid = cache.get(key)
    if laid is None:
        width = BLACK_MODE.line_length - (indent - 4)
        laid = black.format_str(
            f"[\n    {masked},\n]\n", mode=dataclasses.replace(BLACK_MODE, line_length=width)
        )
        if not (laid.startswith("[\n") and laid.endswith("\n]\n")):
            raise _NotVouched(text)
        laid = textwrap.indent(laid[2:-2], " " * (indent - 4))
        cache[key] = laid
    return _unmasked(laid, names, text) if names else laid


def _in_place(text: str) -> str:
    """``text`` as an element of the operations list, by black in its place."""
    head = "migration = Migration(\n    operations=[\n"
    laid = _format(f"{head}        {text},\n    ],\n)\n")
    start = laid.index("    operations=[\n") + len("    operations=[\n")
    return laid[start : laid.rindex("    ],\n")]


def _operation(op: Operation, cache: dict[tuple[str, int], str]) -> str:
    table = op.table if isinstance(op, CreateTable) else None
    if (
        table is None
        or table.indexes
        or table.unique
        or table.checks
        or len(table.columns) < 2
        or not re.fullmatch(r"[A-Za-z0-9_ ]*", table.name)
    ):
        try:
            return _element(repr(op), 8, cache)
        except _NotVouched:
            return _in_place(repr(op))
    try:
        columns = "".join(_element(repr(c), 20, cache) for c in table.columns)
    except _NotVouched:
        return _in_place(repr(op))
    return (
        f'        CreateTable(\n            Table(\n                "{table.name}",\n'
        f"                columns=(\n{columns}                ),\n            )\n        ),\n"
    )


def _format_large(source: str, operations: Sequence[Operation]) -> str | None:
    """``source`` formatted with its operations laid out one by one (see above);
    ``None`` if ``source`` does not hold the placeholder of the operations once."""
    cache: dict[tuple[str, int], str] = {}
    laid = "".join(_operation(op, cache) for op in operations)
    skeleton = _format(source)
    marker = f"        {_PLACEHOLDER},\n"
    if skeleton.count(marker) != 1:
        return None
    formatted = skeleton.replace(marker, laid)
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
    fast: bool | None = None,
) -> str:
    """The source of a migration file holding ``operations``.

    ``fast``: lay large operation lists out one by one (default: from
    ``FAST_FORMAT_FROM`` characters of them); the result is the same.
    """
    reprs = [repr(op) for op in operations]
    if fast is None:
        fast = sum(map(len, reprs)) >= FAST_FORMAT_FROM

    def body_of(ops: str) -> str:
        args = [f"    id={migration_id!r},", f"    parent={parent!r},"]
        args.append(f"    operations=[\n{ops}    ],")
        if replaces:
            args.append(f"    replaces={tuple(replaces)!r},")
        return "migration = Migration(\n" + "\n".join(args) + "\n)\n"

    body = body_of("".join(f"        {r},\n" for r in reprs))
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
    fast = fast and bool(operations)
    skeleton = body_of(f"        {_PLACEHOLDER},\n")
    text = (
        _docstring(summary or _summary(operations) or migration_id, detail)
        + "\n"
        + (_imports(skeleton, reprs) if fast else _imports(body))
        + "\n"
    )
    if comments:
        text += "\n".join(comments) + "\n"
    if fast:
        formatted = _format_large(text + skeleton, operations)
        if formatted is not None:
            return formatted
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
    """Write ``text`` to ``path`` through a temporary file and a rename (the
    umask decides the mode, as for any new file; tempfile would make it 0o600)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    temp = path.with_name(f".{path.name}.{secrets.token_hex(4)}.tmp")
    fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
    try:
        with os.fdopen(fd, "wb") as stream:
            stream.write(text.encode("utf-8"))
        os.replace(temp, path)
    except BaseException:
        temp.unlink(missing_ok=True)
        raise
