"""Resolve table references (``Manager``, ``music.Band``) across a build.

A foreign key's ``references`` may also name a unique column of the table
(``Customer.email``, ``shop.Customer.email``): ``Catalog.find_key`` tells
the two forms apart and checks the column.

``Catalog`` finds the table a reference names while ``validate`` checks it;
``ValidatedBuild``, what ``validate`` returns for a build without errors,
keeps what was found, so that no later stage reads a reference again.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from generator.errors import closest
from generator.load import LoadedSchema
from generator.model import ColumnSpec, TableSpec

__all__ = ["Catalog", "ColumnKey", "TableRef", "ValidatedBuild"]


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


#: A column of the build: (module, table, column).
ColumnKey = tuple[str, str, str]


@dataclass
class Catalog:
    """Every table of the build, by module, for resolving references."""

    files: list[LoadedSchema]
    unavailable: frozenset[str]
    modules: dict[str, LoadedSchema] = field(default_factory=dict)
    #: The table each checked ``references`` or ``through`` names, by column
    #: (filled by the column checks; a reference in error has no entry).
    found: dict[ColumnKey, TableRef] = field(default_factory=dict)
    #: The target column of each foreign key that names one other than the
    #: primary key (``references: Customer.email``), by column.
    key_columns: dict[ColumnKey, str] = field(default_factory=dict)

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
        if name in target.spec.views:
            return f"{reference!r} is a view; a foreign key or a joining table points at a table"
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

    def find_key(
        self, schema: LoadedSchema, reference: str
    ) -> tuple[TableRef, str | None] | str | None:
        """The table and column a foreign key's ``reference`` names, or why none.

        The column is ``None`` for the primary key (``Customer``, or
        ``Customer.id`` written out). ``A.B`` names module ``A``'s table
        ``B`` when there is such a module (so ``music.Band`` keeps its
        meaning), else column ``B`` of this file's table ``A``: a table name
        is a class name, so an unknown ``A`` that starts with a capital is
        reported as an unknown table, any other as an unknown module.
        """
        parts = reference.split(".")
        if len(parts) > 3 or not all(parts):
            return (
                f"{reference!r} is not a foreign key target; write 'Table', 'Table.column',"
                " 'module.Table' or 'module.Table.column'"
            )
        column: str | None = None
        table = reference
        if len(parts) == 3:
            table, column = ".".join(parts[:2]), parts[2]
        elif (
            len(parts) == 2
            and parts[0] not in self.modules
            and parts[0] not in self.unavailable
            and (parts[0] in schema.spec.tables or parts[0][:1].isupper())
        ):
            table, column = parts
        found = self.find(schema, table)
        if not isinstance(found, TableRef):
            return found
        if column is None:
            composite = found.spec.primary_key
            if composite is not None and not found.schema.is_incomplete(("tables", found.name)):
                return (
                    f"table {found.name!r} has a composite primary key ({', '.join(composite)});"
                    " a foreign key column points at one column: name a unique column"
                    f" ('{found.name}.column'), or declare a foreign key over several columns"
                    " in the table's foreign_keys"
                )
            return found, None
        return self._key_column(found, column, reference)

    def _key_column(
        self, target: TableRef, name: str, reference: str
    ) -> tuple[TableRef, str | None] | str | None:
        """Column ``name`` of ``target`` as a foreign key's target, or why it cannot be."""
        spec = target.spec
        key = target.primary_key()
        column = spec.columns.get(name)
        if column is None:
            if name == "id" and key is None and spec.primary_key is None:
                return target, None  # the implicit primary key, written out
            if target.schema.is_incomplete(("tables", target.name, "columns", name)):
                return None
            candidates = [c for c, s in spec.columns.items() if s.type != "m2m"]
            if key is None and spec.primary_key is None:
                candidates.insert(0, "id")
            message = f"table {target.name!r} has no column {name!r} (in {reference!r})"
            return self._hint(message, name, candidates, f"columns of {target.name!r}")
        if column.primary_key:
            return target, None
        if column.type in ("m2m", "foreign_key"):
            return (
                f"{reference!r} is {_article(column.type)} {column.type} column; a foreign key"
                " points at a primary key or a unique column with values of its own"
            )
        if column.choices is not None:
            return (
                f"{reference!r} has choices; a foreign key cannot point at a column with"
                " choices (point it at the primary key, or drop the choices)"
            )
        unique = (
            column.unique
            or [name] in spec.unique
            or any(index.unique and index.columns == [name] for index in spec.indexes)
        )
        if not unique:
            return (
                f"{reference!r} is not unique: a foreign key points at a primary key or a"
                f" unique column; add unique: true to column {name!r} of {target.name!r}"
            )
        return target, name

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


@dataclass(frozen=True)
class ValidatedBuild:
    """A build that passed validation: its schemas, their references resolved.

    Only ``validate`` makes one, and only for a build without errors, so
    every ``references`` and ``through`` of its columns names a table of the
    build and the stages after it find no schema errors.
    """

    schemas: tuple[LoadedSchema, ...]
    #: The table each foreign key's ``references`` and each m2m's ``through`` names.
    references: Mapping[ColumnKey, TableRef]
    #: The target column of each foreign key to a unique column that is not
    #: its table's primary key (absent: the primary key).
    key_columns: Mapping[ColumnKey, str] = field(default_factory=dict)

    def target(self, schema: LoadedSchema, table: str, column: str) -> TableRef:
        """The table that ``column`` of ``table`` in ``schema`` references (or goes through)."""
        return self.references[(schema.module, table, column)]

    def target_column(self, schema: LoadedSchema, table: str, column: str) -> str | None:
        """The column of its target a foreign key points at, ``None`` for the primary key."""
        return self.key_columns.get((schema.module, table, column))

    def foreign_keys(self, schema: LoadedSchema, table: str) -> list[tuple[str, TableRef]]:
        """(column, target) of each foreign key of ``table``, in declaration order."""
        return [
            (name, self.target(schema, table, name))
            for name, column in schema.spec.tables[table].columns.items()
            if column.type == "foreign_key"
        ]

    def m2m_target(self, schema: LoadedSchema, table: str, column: str) -> TableRef:
        """The other side of an m2m column: the foreign key of its joining
        table that does not point at ``table`` (validation made sure there is
        exactly one)."""
        through = self.target(schema, table, column)
        this = TableRef(schema, table)
        return next(
            ref
            for _name, ref in self.foreign_keys(through.schema, through.name)
            if not ref.same_table(this)
        )

    def composite_foreign_keys(
        self, schema: LoadedSchema, table: str
    ) -> list[tuple[str, TableRef]]:
        """(attribute, target) of each foreign key over several columns of ``table``."""
        return [
            (name, self.target(schema, table, name))
            for name in schema.spec.tables[table].foreign_keys
        ]

    def same_module_dependencies(self, schema: LoadedSchema) -> dict[str, list[str]]:
        """Table -> the other tables of its module its foreign keys point at,
        in declaration order: what ``create_tables(*TABLES)`` must create first."""
        return {
            name: [
                ref.name
                for _column, ref in [
                    *self.foreign_keys(schema, name),
                    *self.composite_foreign_keys(schema, name),
                ]
                if ref.schema.module == schema.module and ref.name != name
            ]
            for name in schema.spec.tables
        }

    def imported_modules(self, schema: LoadedSchema) -> list[str]:
        """The other modules the generated module of ``schema`` imports, sorted:
        those of its foreign keys' targets (of its tables' and views'), and of
        its m2m columns' joining tables and other sides."""
        modules: set[str] = set()
        for table, spec in schema.spec.tables.items():
            for name, column in spec.columns.items():
                if column.type == "foreign_key":
                    modules.add(self.target(schema, table, name).schema.module)
                elif column.type == "m2m":
                    modules.add(self.target(schema, table, name).schema.module)
                    modules.add(self.m2m_target(schema, table, name).schema.module)
            for _name, ref in self.composite_foreign_keys(schema, table):
                modules.add(ref.schema.module)
        for view, view_spec in schema.spec.views.items():
            for name, column in view_spec.columns.items():
                if column.type == "foreign_key":
                    modules.add(self.target(schema, view, name).schema.module)
        modules.discard(schema.module)
        return sorted(modules)


def _article(word: str) -> str:
    return "an" if word[0] in "aeiou" else "a"
