"""Resolve table references (``Manager``, ``music.Band``) across a build."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from generator.errors import closest
from generator.load import LoadedSchema
from generator.model import ColumnSpec, TableSpec

__all__ = ["Catalog", "TableRef"]


@dataclass(frozen=True)
class TableRef:
    """A table of the build: its file and its class name."""

    schema: LoadedSchema
    name: str

    @property
    def spec(self) -> TableSpec:
        """The table's declaration."""
        return self.schema.spec.tables[self.name]

    def primary_key(self) -> ColumnSpec | None:
        """The explicit primary key, or ``None`` for the implicit ``id: serial``."""
        return next((c for c in self.spec.columns.values() if c.primary_key), None)

    def same_table(self, other: TableRef) -> bool:
        """Whether both name the same table (of the same module)."""
        return self.schema.module == other.schema.module and self.name == other.name


@dataclass
class Catalog:
    """Every table of the build, by module, for resolving references."""

    files: list[LoadedSchema]
    unavailable: frozenset[str]
    modules: dict[str, LoadedSchema] = field(default_factory=dict)

    def __post_init__(self) -> None:
        # With two files of one module (an error of its own), the first wins.
        for schema in self.files:
            self.modules.setdefault(schema.module, schema)

    def find(self, schema: LoadedSchema, reference: str) -> TableRef | str | None:
        """The table ``reference`` names from ``schema``, or why it names none.

        ``None`` means "cannot tell": the target's file or table had errors
        of its own, which are reported already.
        """
        parts = reference.split(".")
        if len(parts) > 2 or not all(parts):
            return f"{reference!r} is not a table name; write 'Table' or 'module.Table'"
        if len(parts) == 1:
            target, name = schema, parts[0]
        elif parts[0] in self.modules:
            target, name = self.modules[parts[0]], parts[1]
        elif parts[0] in self.unavailable:
            return None
        else:
            message = f"unknown module {parts[0]!r} in {reference!r}"
            return self._hint(message, parts[0], self.modules, "modules in this build")
        if name in target.spec.tables:
            return TableRef(target, name)
        if target.is_incomplete(("tables", name)):
            return None
        if reference == "self":
            return "unknown table 'self'; to reference the table itself, write its name"
        # Candidates as they would be written here: bare names for this
        # file's tables, qualified names for the others.
        candidates = [
            table if other is schema and len(parts) == 1 else f"{other.module}.{table}"
            for other in self.modules.values()
            for table in other.spec.tables
        ]
        listing = (
            "tables in this file" if target is schema else f"tables in module {target.module!r}"
        )
        return self._hint(f"unknown table {reference!r}", reference, candidates, listing)

    @staticmethod
    def _hint(message: str, name: str, candidates: Iterable[str], listing: str) -> str:
        """``message`` with a did-you-mean, else with what there is to choose from."""
        candidates = list(candidates)
        match = closest(name, candidates)
        if match is not None:
            return f"{message} - did you mean {match!r}?"
        return (
            f"{message}; {listing}: {', '.join(candidates)}"
            if candidates
            else f"{message}; there are no {listing}"
        )
