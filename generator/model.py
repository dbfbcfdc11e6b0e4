"""The schema language as pydantic models: the structure of one schema file.

These models check shape and spelling only (which options exist, which
values are of which type); rules that relate several values, such as "a
varchar needs a length" or "this foreign key must point at a table", are in
``validate``. Every model forbids unknown keys, so a misspelt option is an
error rather than silently ignored.

Mappings keep their declaration order (YAML and TOML readers both preserve
it), which is the order of the generated code.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Any, Literal, TypeAlias, get_args

from pydantic import BaseModel, ConfigDict, Discriminator, Field, JsonValue, Tag

from generator.kinds import KINDS
from runtime._naming import snake_case

__all__ = [
    "COLUMN_TYPES",
    "ON_ACTIONS",
    "ColumnSpec",
    "ColumnTypeName",
    "ENUM_TAGS",
    "IndexSpec",
    "NativeEnumSpec",
    "OnAction",
    "SchemaFile",
    "TableSpec",
    "ViewSpec",
    "enum_members",
    "enum_type_name",
    "json_schema",
]

ColumnTypeName: TypeAlias = Literal[
    "varchar",
    "char",
    "text",
    "secret",
    "email",
    "integer",
    "bigint",
    "smallint",
    "serial",
    "bigserial",
    "real",
    "double_precision",
    "numeric",
    "boolean",
    "date",
    "time",
    "timestamp",
    "timestamptz",
    "interval",
    "uuid",
    "json",
    "jsonb",
    "bytea",
    "enum",
    "array",
    "foreign_key",
    "m2m",
]
OnAction: TypeAlias = Literal["cascade", "restrict", "no_action", "set_null", "set_default"]

#: The column type names, in the order of the language reference.
COLUMN_TYPES: tuple[str, ...] = get_args(ColumnTypeName)
#: The referential actions of ``on_delete`` / ``on_update``.
ON_ACTIONS: tuple[str, ...] = get_args(OnAction)

# Shown by editors through `piccolo-gen json-schema`: the options each column
# type cannot do without (the rest of the type rules are in `validate`).
_REQUIRED_BY_TYPE = {
    kind.name: kind.required_option[0]
    for kind in KINDS.values()
    if kind.required_option is not None
}
_COLUMN_JSON_SCHEMA: dict[str, Any] = {
    "allOf": [
        {
            "if": {"properties": {"type": {"const": type_name}}, "required": ["type"]},
            "then": {"required": [option]},
        }
        for type_name, option in _REQUIRED_BY_TYPE.items()
    ]
}


class ColumnSpec(BaseModel):
    """One column of a table: its type, the options of that type and the common options."""

    # strict: YAML and TOML already give typed values, so "100" where an int
    # is expected is a mistake to report, not a string to coerce.
    model_config = ConfigDict(
        extra="forbid",
        strict=True,
        title="Column",
        json_schema_extra=_COLUMN_JSON_SCHEMA,
    )

    type: ColumnTypeName = Field(description="The column type (Piccolo's set of column types).")
    length: int | None = Field(
        default=None,
        description="Maximum length: required for varchar; optional for char (default 1).",
    )
    # Not strict at this level so that a YAML/TOML list [10, 2] becomes the
    # tuple; the two items stay strict ints.
    digits: tuple[int, int] | None = Field(
        default=None,
        strict=False,
        description="numeric only: [precision, scale], e.g. [10, 2].",
    )
    of: ColumnSpec | None = Field(
        default=None,
        description="array only (required): the element column, e.g. {type: integer}.",
    )
    references: str | None = Field(
        default=None,
        description=(
            "foreign_key only (required): the target table, 'Table' in the same file "
            "(the table's own name for a self-reference) or 'module.Table'; the key holds "
            "its primary key. 'Table.column' or 'module.Table.column' points at a unique "
            "column instead, e.g. 'Customer.email'."
        ),
    )
    on_delete: OnAction | None = Field(
        default=None,
        description="foreign_key only: action when the referenced row is deleted (default cascade).",
    )
    on_update: OnAction | None = Field(
        default=None,
        description="foreign_key only: action when the referenced key changes (default cascade).",
    )
    deferrable: bool = Field(
        default=False,
        description=(
            "foreign_key only: the constraint may be checked at commit instead of at "
            "each statement (DEFERRABLE)."
        ),
    )
    initially_deferred: bool = Field(
        default=False,
        description=(
            "foreign_key only, with deferrable: true: the constraint is checked at "
            "commit (INITIALLY DEFERRED), so rows that reference each other in a "
            "cycle of non-null keys can be inserted in one transaction."
        ),
    )
    through: str | None = Field(
        default=None,
        description=(
            "m2m only (required): the joining table, with one foreign key to this "
            "table and one to the other side ('Table' or 'module.Table')."
        ),
    )
    null: bool = Field(default=False, description="Whether the column accepts NULL.")
    default: JsonValue = Field(
        default=None,
        description=(
            "Default value: a literal of the column's type, or a named dynamic default "
            "('now' for time and timestamps, 'today' for date, 'uuid4' for uuid). With "
            "choices, the name of an enum member. null needs null: true."
        ),
    )
    unique: bool = Field(default=False, description="Add a UNIQUE constraint.")
    index: bool = Field(default=False, description="Create an index on the column.")
    primary_key: bool = Field(
        default=False,
        description=(
            "Make this the primary key instead of the implicit 'id: serial'. A key that "
            "is not serial or uuid and has no default is required by the constructor."
        ),
    )
    required: bool = Field(
        default=False,
        description=(
            "The constructor requires this column, and the database gives it no DEFAULT "
            "(no zero default); excludes 'default'."
        ),
    )
    help_text: str | None = Field(
        default=None, description="Documentation, used as the column's docstring."
    )
    db_column_name: str | None = Field(
        default=None,
        description="Name of the column in the database when it differs from the attribute name.",
    )
    choices: str | None = Field(
        default=None,
        description=(
            "Name of an enum of the same file whose values the column holds; for a column "
            "of type enum, a native enum (its database type)."
        ),
    )
    renamed_from: str | None = Field(
        default=None,
        description=(
            "The column's database name before a rename (its old key, or its old "
            "db_column_name): a migration renames the column instead of dropping it and "
            "adding a new one. Changes no generated code; ignored once the rename is done."
        ),
    )


class IndexSpec(BaseModel):
    """An index over one or more columns of a table (``CREATE [UNIQUE] INDEX``)."""

    model_config = ConfigDict(extra="forbid", strict=True, title="Index")

    columns: list[str] = Field(
        description="The indexed columns by attribute name, in index order, e.g. [warehouse, sku]."
    )
    unique: bool = Field(default=False, description="Create a UNIQUE index.")
    name: str | None = Field(
        default=None,
        description="Name of the index in the database; default: tablename_column1_column2.",
    )


class ForeignKeySpec(BaseModel):
    """A foreign key over several columns, to a table's composite primary key."""

    model_config = ConfigDict(extra="forbid", strict=True, title="ForeignKey")

    columns: list[str] = Field(
        description=(
            "The columns holding the key by attribute name, in the order of the target's "
            "primary key, e.g. [playlist_id, track_id]; their types are those of the key."
        )
    )
    references: str = Field(
        description="The table whose composite primary key it points at ('Table' or 'module.Table')."
    )
    on_delete: OnAction = Field(
        default="cascade", description="Action when the referenced row is deleted."
    )
    on_update: OnAction = Field(
        default="cascade", description="Action when the referenced key changes."
    )
    name: str | None = Field(
        default=None,
        description=("Name of the constraint in the database; default: tablename_attribute_fkey."),
    )


class TableSpec(BaseModel):
    """One table: becomes a ``Table`` subclass named after its key."""

    model_config = ConfigDict(extra="forbid", strict=True, title="Table")

    tablename: str | None = Field(
        default=None,
        description="Name of the table in the database; default: snake_case of the class name.",
    )
    help_text: str | None = Field(
        default=None, description="Documentation, used as the class docstring."
    )
    auth: bool = Field(
        default=False,
        description=(
            "A user table (Piccolo's BaseUser): the class gets create_user, login and "
            "update_password (and their _sync twins), and its password column holds an "
            "argon2 hash that update() cannot set. Needs a unique, not-null 'username' "
            "(varchar, text or email) and a not-null 'password' of type secret; an "
            "'active' boolean (false: no login) and a nullable 'last_login' timestamp "
            "are used when present. The shipped auth.User is such a table."
        ),
    )
    renamed_from: str | None = Field(
        default=None,
        description=(
            "The table's name before a rename (its old class name or its old tablename): a "
            "migration renames the table instead of dropping it and creating a new one. "
            "Changes no generated code; ignored once the rename is done."
        ),
    )
    columns: dict[str, ColumnSpec] = Field(
        description=(
            "Columns by attribute name, in declaration order. An implicit 'id: serial' "
            "primary key is added unless a column says primary_key: true or the table "
            "has a primary_key list."
        )
    )
    primary_key: list[str] | None = Field(
        default=None,
        description=(
            "A composite primary key: two or more columns by attribute name, in key "
            "order, e.g. [playlist, track]. The table then has no implicit 'id'; the key "
            "columns are not null, and required by the constructor unless they have a "
            "default."
        ),
    )
    foreign_keys: dict[str, ForeignKeySpec] = Field(
        default_factory=dict,
        description=(
            "Foreign keys over several columns by attribute name (the table class's "
            "attribute for get_related), each to a composite primary key, e.g. "
            "{entry: {columns: [playlist_id, track_id], references: PlaylistTrack}}."
        ),
    )
    indexes: list[IndexSpec] = Field(
        default_factory=list,
        description=(
            "Indexes over several columns (a single column can say index: true), "
            "e.g. [{columns: [warehouse, sku], unique: false}]."
        ),
    )
    unique: list[list[str]] = Field(
        default_factory=list,
        description=(
            "UNIQUE constraints over several columns, each a list of attribute names, "
            "e.g. [[warehouse, sku]]."
        ),
    )
    checks: dict[str, str] = Field(
        default_factory=dict,
        description=(
            "CHECK constraints by name (the constraint's name in the database, as given): "
            "an SQL expression over the table's database column names that every row "
            "must pass, written once for PostgreSQL and SQLite, "
            "e.g. {positive_price: 'price >= 0'}."
        ),
    )

    def declares_key(self) -> bool:
        """Whether the table declares its primary key (a column's ``primary_key:
        true`` or a table-level ``primary_key`` list): then it has no implicit ``id``."""
        return self.primary_key is not None or any(
            column.primary_key for column in self.columns.values()
        )


class NativeEnumSpec(BaseModel):
    """An enum that is also a type of the database: PostgreSQL ``CREATE TYPE
    ... AS ENUM`` (SQLite: text with a check), for columns of type ``enum``."""

    model_config = ConfigDict(extra="forbid", strict=True, title="NativeEnum")

    native: Literal[True] = Field(description="true: the enum is a type of the database.")
    name: str | None = Field(
        default=None,
        description="Name of the type in the database; default: snake_case of the enum name.",
    )
    # Values are str for a native enum; an int is refused by ``validate``
    # with its position, not by the union of shapes.
    values: dict[str, str | int] = Field(
        description="{member name: value}, in the order the database sorts them; str values."
    )


#: The dialects a view's SQL may be given for.
ViewDialect: TypeAlias = Literal["postgres", "sqlite"]


class ViewSpec(BaseModel):
    """One view: becomes a read-only ``View`` subclass named after its key."""

    model_config = ConfigDict(extra="forbid", strict=True, title="View")

    viewname: str | None = Field(
        default=None,
        description="Name of the view in the database; default: snake_case of the class name.",
    )
    help_text: str | None = Field(
        default=None, description="Documentation, used as the class docstring."
    )
    materialized: bool = Field(
        default=False,
        description=(
            "A materialized view (PostgreSQL): its rows are kept until refresh(). On "
            "SQLite, which has none, it is created as a plain view."
        ),
    )
    sql: str | dict[ViewDialect, str] = Field(
        description=(
            "The view's SELECT, one statement without ';': one text for both databases, "
            "or {postgres: ..., sqlite: ...}. Its output columns are named as the "
            "view's columns (their db_column_name); it may read the tables of any file "
            "and the views listed before it."
        )
    )
    columns: dict[str, ColumnSpec] = Field(
        description=(
            "The columns the view gives, by attribute name, in order: the column types of "
            "tables (their declared types are what the view yields), with null, "
            "help_text, db_column_name, choices; one may say primary_key: true; a "
            "foreign_key (references) makes join paths to the table; unique and index "
            "(materialized views only) make indexes. No implicit id."
        )
    )


#: The union tags pydantic adds to the locations of enum errors (no key of a file).
ENUM_TAGS = ("plain enum", "native enum")


def _enum_shape(value: Any) -> str:
    return ENUM_TAGS[1] if isinstance(value, dict) and "native" in value else ENUM_TAGS[0]


EnumSpec: TypeAlias = Annotated[
    Annotated[dict[str, str | int], Tag(ENUM_TAGS[0])]
    | Annotated[NativeEnumSpec, Tag(ENUM_TAGS[1])],
    Discriminator(_enum_shape),
]


def enum_type_name(name: str, enum: NativeEnumSpec) -> str:
    """The database name of the native enum ``name``: its ``name:``, else snake_case."""
    return enum.name if enum.name is not None else snake_case(name)


def enum_members(enum: dict[str, str | int] | NativeEnumSpec) -> Mapping[str, str | int]:
    """The members of an enum of either shape: {member name: value}."""
    return enum.values if isinstance(enum, NativeEnumSpec) else enum


class SchemaFile(BaseModel):
    """A piccolo-gen schema file: one file becomes one generated Python module."""

    model_config = ConfigDict(extra="forbid", strict=True, title="piccolo-gen schema file")

    module: str | None = Field(
        default=None,
        description="Name of the generated module; default: the file name without extension.",
    )
    enums: dict[str, EnumSpec] = Field(
        default_factory=dict,
        description=(
            "Enums by class name: {member name: value}, values all str or all int; or a "
            "native enum type of the database, {native: true, values: {member name: value}} "
            "(with name: for a database name other than the snake_case of the enum name)."
        ),
    )
    tables: dict[str, TableSpec] = Field(
        default_factory=dict,
        description="Tables by class name (CamelCase), in declaration order.",
    )
    views: dict[str, ViewSpec] = Field(
        default_factory=dict,
        description=(
            "Views by class name (CamelCase), in creation order (after every table): "
            "read-only classes over SQL the database keeps."
        ),
    )


#: How YAML tools other than piccolo-gen see the key ``null:``. Its plain
#: scalar is YAML's null, not a string: check-jsonschema (ruamel.yaml) turns
#: the key into the string "None", yaml-language-server (eemeli/yaml) keeps
#: it as a JavaScript null, which only a regex test reads as "null" (its
#: ``properties`` lookup leaves it "unprocessed", and reporting it as an
#: extra property crashes that file's whole validation). piccolo-gen reads
#: the key's source text, so ``null:`` is the option ``null``.
_NULL_KEY_PATTERN = "^(null|None)$"


def json_schema() -> dict[str, Any]:
    """The JSON Schema of a schema file, for editors (``piccolo-gen json-schema``).

    Validates the schema files with standard tools: check-jsonschema and
    yaml-language-server (see ``_NULL_KEY_PATTERN`` for the one key they
    read differently from piccolo-gen).
    """
    schema = SchemaFile.model_json_schema()
    column = schema["$defs"]["ColumnSpec"]
    # Keep "null" in "properties" too, for completion and hover.
    column["patternProperties"] = {_NULL_KEY_PATTERN: column["properties"]["null"]}
    return {"$schema": "https://json-schema.org/draft/2020-12/schema", **schema}
