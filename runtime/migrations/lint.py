"""Lint: what a migration may do to a database that holds data.

Each finding has a kind, a code and a subject (``drop-column band.title``):

``destructive``   data is lost: a dropped table or column, a type or length
                  that narrows. ``migrations lint`` fails on each one the
                  file does not list in ``Migration(acknowledged=(...))``.
``data``          whether it succeeds depends on the rows: ``NOT NULL``
                  without a default on an existing table, a new unique
                  constraint or unique index, a new check constraint, a
                  type change that casts, a materialized view (its query
                  runs when it is created).
``locking``       on PostgreSQL it holds a lock that stops writes (or
                  reads) for as long as the table takes: an index built
                  without ``CONCURRENTLY`` on an existing table, a type
                  change or a volatile default that rewrites the table.
``irreversible``  ``backwards`` cannot undo it: ``RunSQL``/``RunPython``
                  without a backwards step.

Tables created by the same migration are empty, so only destructive
findings are made for them. Nothing here reads the database: a finding says
what may happen, not what will.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Final, Literal

from .._columns import UUID4
from .._dialect import POSTGRES, SQLITE
from ..schema.checksql import column_names
from ..schema.compile import runtime_column
from ..schema.operations import (
    UNCHANGED,
    AddCheck,
    AddColumn,
    AddIndex,
    AddUnique,
    AlterColumn,
    CreateTable,
    CreateView,
    DropColumn,
    DropEnumValue,
    DropTable,
    Operation,
    RenameTable,
    RunPython,
    RunSQL,
)
from ..schema.state import Column as StateColumn
from ..schema.state import Schema, SchemaStateError, Type
from ._base import Migration, flatten

__all__ = ["Finding", "Kind", "comment_lines", "lint", "lint_migration", "unacknowledged"]

Kind = Literal["destructive", "data", "locking", "irreversible"]


@dataclass(frozen=True, slots=True)
class Finding:
    kind: Kind
    #: ``drop-column``, ``narrow-type``, ``not-null``, ``unique``, ``index-lock``, ...
    code: str
    #: What it is about: ``band`` or ``band.title``.
    subject: str
    message: str

    @property
    def key(self) -> str:
        """How ``Migration(acknowledged=...)`` names it: ``"drop-column band.title"``."""
        return f"{self.code} {self.subject}"

    def __str__(self) -> str:
        return f"{self.kind} {self.key}: {self.message}"


_INT_RANK: Final = {"SmallInt": 1, "Integer": 2, "Serial": 2, "BigInt": 3, "BigSerial": 3}
_FLOAT_RANK: Final = {"Real": 1, "DoublePrecision": 2}
_BOUNDED_TEXT: Final = frozenset({"Varchar", "Char", "Email"})
_TEXT: Final = _BOUNDED_TEXT | {"Text", "Secret"}


def _widens(old: Type, new: Type) -> bool:
    """Whether every value of ``old`` is a value of ``new`` (nothing is lost)."""
    if old == new or _same_in_database(old, new):
        return True
    if old.kind in _TEXT and new.kind in ("Text", "Secret"):
        return True
    if old.kind in _BOUNDED_TEXT and new.kind in _BOUNDED_TEXT:
        return (
            (old.kind == new.kind or "Char" not in (old.kind, new.kind))
            and old.length is not None
            and (new.length is None or new.length >= old.length)
        )
    if old.kind in _INT_RANK and new.kind in _INT_RANK:
        return _INT_RANK[new.kind] >= _INT_RANK[old.kind]
    if old.kind in _FLOAT_RANK and new.kind in _FLOAT_RANK:
        return _FLOAT_RANK[new.kind] >= _FLOAT_RANK[old.kind]
    if old.kind == "Numeric" and new.kind == "Numeric":
        if new.digits is None:
            return True
        if old.digits is None:
            return False
        (p, s), (p2, s2) = old.digits, new.digits
        return s2 >= s and p2 - s2 >= p - s
    if old.kind in _INT_RANK and new.kind == "Numeric":
        return new.digits is None
    if old.kind == "JSON" and new.kind == "JSONB":
        return True
    if old.kind == "Timestamp" and new.kind == "Timestamptz":
        return True
    if old.kind == "Array" and new.kind == "Array":
        assert old.element is not None and new.element is not None
        return _widens(old.element, new.element)
    return False


def _rewrites_on_postgres(old: Type, new: Type) -> bool:
    """Whether PostgreSQL rewrites the table to change ``old`` to ``new``
    (it does not for a longer varchar, varchar to text, more numeric digits
    at the same scale)."""
    if _same_in_database(old, new):
        return False
    if old.kind in ("Varchar", "Email") and new.kind in ("Varchar", "Email"):
        return new.length is not None and old.length is not None and new.length < old.length
    if old.kind in _TEXT and new.kind in ("Text", "Secret"):
        return False
    if old.kind == "Numeric" and new.kind == "Numeric":
        if new.digits is None:
            return False
        return old.digits is None or old.digits[1] != new.digits[1] or new.digits[0] < old.digits[0]
    return old != new


def _same_in_database(old: Type, new: Type) -> bool:
    """Whether both types are one SQL type on both dialects (``Text`` and
    ``Secret``; ``Varchar(255)`` and ``Email``): the change is the generated
    code's alone."""
    return all(
        runtime_column(old)._ddl_type(d) == runtime_column(new)._ddl_type(d)
        for d in (POSTGRES, SQLITE)
    )


def _type_text(t: Type) -> str:
    if t.length is not None:
        return f"{t.kind}({t.length})"
    if t.digits is not None:
        return f"{t.kind}{t.digits}"
    if t.element is not None:
        return f"Array[{_type_text(t.element)}]"
    return t.kind


def lint(operations: Sequence[Operation], before: Schema) -> list[Finding]:
    """The findings of ``operations`` applied to the state ``before`` them."""
    findings: list[Finding] = []
    existing = set(before.names())  # tables that may hold rows
    state = before
    for op in flatten(operations):
        findings += _lint_one(op, state, existing)
        if isinstance(op, RenameTable) and op.old in existing:
            existing.discard(op.old)
            existing.add(op.new)
        elif isinstance(op, DropTable):
            existing.discard(op.name)
        try:
            state = op.apply(state)
        except SchemaStateError:
            break  # replay reports it; lint has said what it could
    return findings


def _lint_one(op: Operation, state: Schema, existing: set[str]) -> list[Finding]:
    out: list[Finding] = []
    if isinstance(op, DropTable):
        out.append(
            Finding(
                "destructive",
                "drop-table",
                op.name,
                "drops the table and its rows; backwards creates it again, empty",
            )
        )
    elif isinstance(op, DropColumn):
        subject = f"{op.table}.{op.name}"
        out.append(
            Finding(
                "destructive",
                "drop-column",
                subject,
                "drops the column and its data; backwards adds it again, but cannot bring "
                "the data back (it gets the default, or NULL)",
            )
        )
        dropped = _column_in(state, op.table, op.name)
        if dropped is not None and not dropped.null and dropped.default is None:
            out.append(
                Finding(
                    "irreversible",
                    "backwards-not-null",
                    subject,
                    "a NOT NULL column without a default: backwards cannot add it again "
                    "while the table has rows; give it a default first, or revert with a "
                    "RunSQL/RunPython that fills it",
                )
            )
        if (
            dropped is not None
            and dropped.unique
            and dropped.default is not None
            and not isinstance(dropped.default, UUID4)  # a new value per row
        ):
            out.append(
                Finding(
                    "irreversible",
                    "backwards-unique",
                    subject,
                    "a unique column with a default: backwards adds it again with that one "
                    "value in every row, which fails once the table has two rows; revert "
                    "with a RunSQL/RunPython that fills it",
                )
            )
        checked = [
            c.name
            for c in (state.table(op.table).checks if dropped is not None else ())
            if op.name in column_names(c.sql)
        ]
        if checked:
            out.append(
                Finding(
                    "irreversible",
                    "backwards-check",
                    subject,
                    f"the column is named by check {', '.join(checked)}: backwards adds it "
                    "again with its default (or NULL) in every row and then the check, "
                    "which fails if that value does not pass it",
                )
            )
    elif isinstance(op, AddColumn) and op.table in existing:
        column, subject = op.column, f"{op.table}.{op.column.name}"
        if not column.null and column.default is None:
            out.append(
                Finding(
                    "data",
                    "not-null",
                    subject,
                    "a NOT NULL column without a default: fails if the table has rows; "
                    "give it a default, or add it nullable, fill it (RunSQL/RunPython) "
                    "and then make it NOT NULL",
                )
            )
        if column.unique:
            out.append(_unique_finding(subject))
        if column.unique or column.index:
            out.append(_index_lock(subject, op.table))
        if isinstance(column.default, UUID4):
            out.append(
                Finding(
                    "locking",
                    "table-rewrite",
                    subject,
                    "PostgreSQL: a volatile default (a new UUID per row) rewrites the "
                    "table, holding an ACCESS EXCLUSIVE lock",
                )
            )
    elif isinstance(op, AlterColumn):
        out += _lint_alter(op, state, existing)
    elif isinstance(op, AddUnique) and op.table in existing:
        out.append(_unique_finding(f"{op.table}.{op.unique.name}"))
        out.append(_index_lock(f"{op.table}.{op.unique.name}", op.table))
    elif isinstance(op, AddCheck) and op.table in existing:
        out.append(
            Finding(
                "data",
                "check",
                f"{op.table}.{op.check.name}",
                "a new check constraint fails if a row of the table does not pass it "
                f"({op.check.sql})",
            )
        )
    elif isinstance(op, AddIndex) and op.table in existing:
        subject = f"{op.table}.{op.index.name}"
        if op.index.unique:
            out.append(_unique_finding(subject))
        if not op.concurrently:
            out.append(_index_lock(subject, op.table, concurrently_possible=True))
    elif isinstance(op, (RunSQL, RunPython)) and op.backwards is None:
        out.append(
            Finding(
                "irreversible",
                "no-backwards",
                op.describe(),
                "has no backwards step: `migrations backwards` past this migration will fail",
            )
        )
    elif isinstance(op, DropEnumValue):
        users = ", ".join(f"{t.name}.{c.name}" for t, c in state.enum_users(op.enum)) or "none"
        out.append(
            Finding(
                "data",
                "enum-value",
                f"{op.enum}.{op.value}",
                f"removing a value fails if a row holds it (columns of the type: {users}); "
                "on PostgreSQL the type is made again and its columns rewritten",
            )
        )
    elif isinstance(op, CreateView) and op.view.materialized and op.view.reads(existing):
        out.append(
            Finding(
                "data",
                "materialized-view",
                op.view.name,
                "PostgreSQL runs its query when the view is created (and whenever a change"
                " creates it again): as slow as the query, and it fails if a row makes the"
                " query fail",
            )
        )
    elif isinstance(op, CreateTable):
        pass
    return out


def _lint_alter(op: AlterColumn, state: Schema, existing: set[str]) -> list[Finding]:
    out: list[Finding] = []
    subject = f"{op.table}.{op.name}"
    try:
        old = state.table(op.table).column(op.name)
    except SchemaStateError:
        return out
    if op.type is not UNCHANGED and op.type != old.type:
        new_type = op.type
        change = f"{_type_text(old.type)} -> {_type_text(new_type)}"
        if not _widens(old.type, new_type):
            out.append(
                Finding(
                    "destructive",
                    "narrow-type",
                    subject,
                    f"{change} narrows the type: values that do not fit are cut or "
                    "make the migration fail, and backwards cannot restore them",
                )
            )
        if op.table in existing:
            if _rewrites_on_postgres(old.type, new_type):
                out.append(
                    Finding(
                        "locking",
                        "table-rewrite",
                        subject,
                        f"PostgreSQL: {change} rewrites the table (and its indexes) "
                        "under an ACCESS EXCLUSIVE lock",
                    )
                )
    if op.table not in existing:
        return out
    if op.null is False and old.null:
        out.append(
            Finding(
                "data",
                "not-null",
                subject,
                "NOT NULL fails if a row holds NULL there; fill those rows first "
                "(RunSQL/RunPython in this migration, before the AlterColumn)",
            )
        )
    if op.unique is True and not old.unique:
        out.append(_unique_finding(subject))
        out.append(_index_lock(subject, op.table))
    if op.index is True and not old.index:
        out.append(_index_lock(subject, op.table, concurrently_possible=True))
    if (
        op.references is not UNCHANGED
        and op.references is not None
        and op.references != old.references
    ):
        out.append(
            Finding(
                "data",
                "foreign-key",
                subject,
                "the new foreign key fails if a row points at no row of " f"{op.references.table}",
            )
        )
    return out


def _column_in(state: Schema, table: str, name: str) -> StateColumn | None:
    if not state.has(table) or not state.table(table).has_column(name):
        return None  # replay reports it
    return state.table(table).column(name)


def _unique_finding(subject: str) -> Finding:
    return Finding(
        "data",
        "unique",
        subject,
        "a new unique constraint fails if the table holds duplicates",
    )


def _index_lock(subject: str, table: str, *, concurrently_possible: bool = False) -> Finding:
    how = (
        "; on a large table use AddIndex(..., concurrently=True) in a migration of its "
        "own with atomic=False"
        if concurrently_possible
        else ""
    )
    return Finding(
        "locking",
        "index-lock",
        subject,
        f"PostgreSQL: building the index blocks writes to {table} until it is done{how}",
    )


def lint_migration(migration: Migration, before: Schema) -> list[Finding]:
    """The findings of one migration, given the state before it."""
    findings = lint(migration.operations, before)
    if not migration.atomic and any(not _may_run_outside(op) for op in migration.operations):
        findings.append(
            Finding(
                "data",
                "non-atomic",
                migration.id,
                "atomic=False: a failure midway leaves the operations before it applied; "
                "keep such a migration to CONCURRENTLY index operations",
            )
        )
    return findings


def _may_run_outside(op: Operation) -> bool:
    return bool(getattr(op, "concurrently", False))


def unacknowledged(migration: Migration, findings: Sequence[Finding]) -> list[Finding]:
    """The destructive findings ``migration`` does not acknowledge."""
    acknowledged = set(migration.acknowledged)
    return [f for f in findings if f.kind == "destructive" and f.key not in acknowledged]


def comment_lines(findings: Sequence[Finding]) -> list[str]:
    """The findings as the comment block a new migration file carries."""
    if not findings:
        return []
    lines = ["# Lint (piccolo-gen migrations lint):"]
    for finding in findings:
        lines.append(f"#   {finding.kind} {finding.key}:")
        words = finding.message.split()
        line = "#     "
        for word in words:
            if len(line) + len(word) + 1 > 99:
                lines.append(line.rstrip())
                line = "#     "
            line += word + " "
        lines.append(line.rstrip())
    destructive = [f.key for f in findings if f.kind == "destructive"]
    if destructive:
        lines.append("# Destructive: after checking, acknowledge them in the Migration:")
        keys = ", ".join(repr(k) for k in destructive)
        lines.append(f"#   acknowledged=({keys},)")
    return lines
