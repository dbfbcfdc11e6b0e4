"""Checks of one column: options, type rules, references, choices, defaults."""

from __future__ import annotations

from collections.abc import Mapping

from generator.defaults import DefaultContext, default_problem
from generator.errors import SchemaError, closest, join_words
from generator.kinds import KINDS
from generator.load import LoadedSchema
from generator.model import ColumnSpec, NativeEnumSpec, enum_members
from generator.names import RESERVED_COLUMN_NAMES, identifier_problem, sql_name_problem
from generator.positions import NodePath
from generator.references import Catalog, TableRef

__all__ = ["CHOICE_TYPES", "PRIMARY_KEY_TYPES", "Checker", "ColumnChecker"]

#: Types a primary key may have, in alphabetical order; a foreign key can
#: hold each of them.
PRIMARY_KEY_TYPES = tuple(sorted(kind.name for kind in KINDS.values() if kind.primary_key))
#: Types whose values may be restricted to an enum with ``choices``.
CHOICE_TYPES = ("varchar", "char", "text", "integer", "smallint", "bigint", "enum")
_INTEGER_CHOICE_TYPES = frozenset({"integer", "smallint", "bigint"})

# Options that belong to some column types only, and those types.
_TYPE_OPTIONS: Mapping[str, tuple[str, ...]] = {
    "length": ("varchar", "char"),
    "digits": ("numeric",),
    "of": ("array",),
    "references": ("foreign_key",),
    "on_delete": ("foreign_key",),
    "on_update": ("foreign_key",),
    "deferrable": ("foreign_key",),
    "initially_deferred": ("foreign_key",),
    "through": ("m2m",),
    "choices": CHOICE_TYPES,
}
# An m2m column has no database column of its own, and an array element is
# only a type: the other options have nothing to apply to.
_M2M_OPTIONS = frozenset({"type", "through", "help_text"})
_ELEMENT_OPTIONS = frozenset({"type", "length", "digits", "of"})

_REQUIRED_OPTIONS: Mapping[str, tuple[str, str]] = {
    kind.name: kind.required_option for kind in KINDS.values() if kind.required_option is not None
}

_MAX_NUMERIC_PRECISION = 1000  # PostgreSQL's limit

# Element types an array cannot hold, and what to do instead.
_NO_ARRAY_ELEMENT: Mapping[str, str] = {
    "foreign_key": "use an m2m column or a joining table",
    "m2m": "use an m2m column on the table itself",
    "array": "nested arrays are not supported; use a json column",
    "serial": "use integer",
    "bigserial": "use bigint",
    "json": "use a json column holding a list",
    "jsonb": "use a jsonb column holding a list",
    "bytea": "SQLite stores arrays as JSON, which has no bytes; use a joining table",
    "enum": "use an array of text with choices, or a joining table",
}


def _article(word: str) -> str:
    return "an" if word[0] in "aeiou" else "a"


class Checker:
    """Collects the errors of one schema file."""

    def __init__(self, schema: LoadedSchema, catalog: Catalog) -> None:
        self.schema = schema
        self.catalog = catalog
        self.spec = schema.spec
        self.errors: list[SchemaError] = []

    def error(self, path: NodePath, message: str, *, at_key: bool = False) -> None:
        """Report ``message`` at ``path`` (at its key with ``at_key``)."""
        self.errors.append(self.schema.error(path, message, at_key=at_key))


class ColumnChecker(Checker):
    """The checks of the columns of one schema file."""

    def check_column(
        self, table_name: str, name: str, column: ColumnSpec, *, section: str = "tables"
    ) -> None:
        """The checks of one column of a table (``section``: ``"views"``, of a view)."""
        path: NodePath = (section, table_name, "columns", name)
        self.check_column_name(path, name, column)
        self.check_options(path, column, element=False)
        if column.renamed_from is not None and column.type != "m2m":
            self.check_renamed_from(path, column.renamed_from, column.db_column_name or name)
        context: DefaultContext | None = DefaultContext()
        if column.type == "foreign_key" and column.references is not None:
            found = self.catalog.find_key(self.schema, column.references)
            if isinstance(found, str):
                self.error((*path, "references"), found)
            target, key = found if isinstance(found, tuple) else (None, None)
            if target is not None:
                self.catalog.found[(self.schema.module, table_name, name)] = target
                if key is not None:
                    self.catalog.key_columns[(self.schema.module, table_name, name)] = key
            self.check_actions(path, column)
            # Without the target, the key type a default must have is unknown.
            context = (
                None
                if target is None
                else DefaultContext(
                    key=(
                        target.name,
                        target.primary_key() if key is None else target.spec.columns[key],
                    ),
                    key_column=key,
                )
            )
        if column.type == "m2m" and column.through is not None:
            self.check_through(path, table_name, name, column.through)
        if column.choices is not None:
            enum = self.check_choices(path, column)
            context = None if enum is None else DefaultContext(enum=enum)
        self.check_default(path, column, context)

    def check_column_name(self, path: NodePath, name: str, column: ColumnSpec) -> None:
        problem = identifier_problem(name)
        if problem is not None and name.isidentifier():
            # A keyword: Piccolo's convention is a trailing underscore.
            problem += f"; name it '{name}_' and keep the database name with db_column_name: {name}"
        elif problem is None and name.startswith("_"):
            problem = f"{name!r} starts with '_', which is kept for the runtime's own attributes"
        elif problem is None and name in RESERVED_COLUMN_NAMES:
            problem = (
                f"{name!r} clashes with Table.{name} of the runtime; name it '{name}_' "
                f"and keep the database name with db_column_name: {name}"
            )
        if problem is not None:
            self.error(path, f"invalid column name: {problem}", at_key=True)
        if column.db_column_name is not None:
            db_problem = sql_name_problem(column.db_column_name)
            if db_problem is not None:
                self.error((*path, "db_column_name"), f"invalid db_column_name: {db_problem}")
        elif problem is None and column.type != "m2m":
            db_problem = sql_name_problem(name)
            if db_problem is not None:
                self.error(
                    path,
                    f"{db_problem}; set db_column_name to a name the database accepts",
                    at_key=True,
                )

    def check_renamed_from(self, path: NodePath, old: str, own: str) -> None:
        """A ``renamed_from`` is a database name, not the column's own.

        Whether it names a column of the previous state is checked against
        that state (``generator.state.check_renames``).
        """
        problem = sql_name_problem(old)
        if problem is not None:
            self.error((*path, "renamed_from"), f"invalid renamed_from: {problem}")
        elif old == own:
            self.error(
                (*path, "renamed_from"),
                "renamed_from names the column itself; give the name it had before the rename",
            )

    def check_options(self, path: NodePath, column: ColumnSpec, *, element: bool) -> None:
        """Options that do not apply to the type, and options the type requires."""
        for option in column.model_fields_set:
            types = _TYPE_OPTIONS.get(option)
            if types is not None and column.type not in types:
                message = (
                    f"{option!r} only applies to {join_words(types)} columns, not {column.type}"
                )
            elif element and option not in _ELEMENT_OPTIONS:
                message = (
                    f"{option!r} does not apply to an array element; set it on the array column"
                )
            elif column.type == "m2m" and option not in _M2M_OPTIONS:
                message = f"{option!r} does not apply to m2m columns, which have no database column"
            else:
                continue
            self.error((*path, option), message, at_key=True)
        required = _REQUIRED_OPTIONS.get(column.type)
        if required is not None and required[0] not in column.model_fields_set:
            self.error(path, required[1], at_key=True)
        if column.length is not None and column.length < 1:
            self.error((*path, "length"), f"length must be at least 1, not {column.length}")
        if column.digits is not None:
            self.check_digits((*path, "digits"), *column.digits)
        if column.type == "serial" or column.type == "bigserial":
            if "default" in column.model_fields_set:
                self.error(
                    (*path, "default"),
                    f"{column.type} columns get their value from the database; remove the default",
                    at_key=True,
                )
        if column.of is not None:
            if column.of.type in _NO_ARRAY_ELEMENT:
                self.error(
                    (*path, "of", "type"),
                    f"an array cannot hold {column.of.type} values; {_NO_ARRAY_ELEMENT[column.of.type]}",
                )
            else:
                self.check_options((*path, "of"), column.of, element=True)

    def check_digits(self, path: NodePath, precision: int, scale: int) -> None:
        if not 1 <= precision <= _MAX_NUMERIC_PRECISION:
            self.error(
                path,
                f"digits [{precision}, {scale}]: the precision must be between 1 and {_MAX_NUMERIC_PRECISION}",
            )
        elif not 0 <= scale <= precision:
            self.error(
                path,
                f"digits [{precision}, {scale}]: the scale must be between 0 and the precision ({precision})",
            )

    def check_reference(self, path: NodePath, option: str, reference: str) -> TableRef | None:
        found = self.catalog.find(self.schema, reference)
        if isinstance(found, str):
            self.error((*path, option), found)
            return None
        return found

    def check_actions(self, path: NodePath, column: ColumnSpec) -> None:
        for option in ("on_delete", "on_update"):
            action = getattr(column, option)
            if action == "set_null" and not column.null:
                self.error((*path, option), f"{option}: set_null needs null: true on the column")
            if action == "set_default" and "default" not in column.model_fields_set:
                self.error((*path, option), f"{option}: set_default needs a default on the column")
        if column.initially_deferred and not column.deferrable:
            self.error(
                (*path, "initially_deferred"),
                "initially_deferred: true needs deferrable: true on the column "
                "(a constraint checked at commit is a deferrable one)",
            )

    def check_through(self, path: NodePath, table_name: str, name: str, through: str) -> None:
        joining = self.check_reference(path, "through", through)
        if joining is None:
            return
        self.catalog.found[(self.schema.module, table_name, name)] = joining
        if joining.schema.is_incomplete(("tables", joining.name)):
            return
        this = TableRef(self.schema, table_name)
        targets: list[tuple[str, TableRef]] = []
        for name, column in joining.spec.columns.items():
            if column.type == "foreign_key" and column.references is not None:
                found = self.catalog.find_key(joining.schema, column.references)
                if not isinstance(found, tuple):
                    return  # an unknown reference, reported on its own
                targets.append((name, found[0]))
        to_this = [name for name, target in targets if target.same_table(this)]
        to_other = [name for name, target in targets if not target.same_table(this)]
        if len(to_this) == 1 and len(to_other) == 1:
            return
        found = ", ".join(f"{name} -> {target.name}" for name, target in targets) or "none"
        self.error(
            (*path, "through"),
            f"through table {through!r} must have exactly one foreign key to {table_name!r} and one to "
            f"the other side of the m2m; its foreign keys: {found}",
        )

    def check_choices(
        self, path: NodePath, column: ColumnSpec
    ) -> tuple[str, Mapping[str, str | int]] | None:
        enum_name = column.choices
        if enum_name is None or column.type not in CHOICE_TYPES:
            return None  # not applicable: reported by check_options
        found = self.spec.enums.get(enum_name)
        members = None if found is None else enum_members(found)
        if found is not None and column.type == "enum" and not isinstance(found, NativeEnumSpec):
            self.error(
                (*path, "choices"),
                f"enum {enum_name!r} is not native; an enum column needs a native enum, "
                f"declared {{native: true, values: {{...}}}} (or make the column varchar or "
                f"text with choices: {enum_name})",
            )
            return None
        if members is None:
            if not self.schema.is_incomplete(("enums", enum_name)):
                enums = list(self.spec.enums)
                message = f"unknown enum {enum_name!r}"
                match = closest(enum_name, enums)
                if match is not None:
                    message += f" - did you mean {match!r}?"
                elif enums:
                    message += f"; enums in this file: {', '.join(enums)}"
                else:
                    message += "; this file declares no enums (add it under 'enums:')"
                self.error((*path, "choices"), message)
            return None
        value_types = {type(value) for value in members.values()}
        wanted = int if column.type in _INTEGER_CHOICE_TYPES else str
        if len(value_types) == 1 and wanted not in value_types:
            have = value_types.pop().__name__
            self.error(
                (*path, "choices"),
                f"enum {enum_name!r} has {have} values, but {_article(column.type)} {column.type} column "
                f"needs {wanted.__name__} values",
            )
            return None
        limit = (
            column.length
            if column.type == "varchar"
            else (column.length or 1) if column.type == "char" else None
        )
        for value in members.values():
            if limit is not None and isinstance(value, str) and len(value) > limit:
                self.error(
                    (*path, "choices"),
                    f"enum {enum_name!r} has the value {value!r}, longer than the column's length ({limit})",
                )
                break
        return enum_name, members

    def check_default(
        self, path: NodePath, column: ColumnSpec, context: DefaultContext | None
    ) -> None:
        """Check the default; its value only with a ``context`` (``None``: cannot judge)."""
        if "default" not in column.model_fields_set or column.type in (
            "m2m",
            "serial",
            "bigserial",
        ):
            return  # no default, or one reported by check_options
        default_path = (*path, "default")
        if column.required:
            self.error(
                (*path, "required"),
                "a required column cannot have a default; remove one of them",
                at_key=True,
            )
        if column.default is None:
            if not column.null:
                self.error(default_path, "default: null needs null: true")
            return
        if context is None:
            return
        problem = default_problem(column.default, column, context)
        if problem is not None:
            sub_path, message = problem
            self.error((*default_path, *sub_path), message)
