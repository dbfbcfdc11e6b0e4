"""Naming rules shared by validation and rendering.

Identifiers are checked once, here, so that the renderer can emit them
without further escaping (SQL quoting happens once, in the runtime).
"""

from __future__ import annotations

import keyword
import unicodedata
from typing import Final

# The database naming rules are the runtime's: the generator checks the
# names the runtime will create.
from runtime._naming import MAX_NAME_BYTES, fits, snake_case

__all__ = [
    "GENERATED_SUFFIXES",
    "MAX_SQL_IDENTIFIER",
    "MODELS_SUFFIX",
    "RESERVED_COLUMN_NAMES",
    "RESERVED_MODULE_NAMES",
    "identifier_problem",
    "join_class_name",
    "prefetch_class_name",
    "snake_case",
    "sql_name_problem",
]

#: Attributes that ``runtime.Table`` (or its metaclass machinery) defines. A
#: column is a class attribute of the generated table class, so a column with
#: one of these names would shadow the runtime's method and break every query
#: that relies on it. Extend this list whenever ``Table`` gains a public name.
RESERVED_COLUMN_NAMES: Final[frozenset[str]] = frozenset(
    {
        "select",
        "objects",
        "save",
        "remove",
        "insert",
        "update",
        "delete",
        "count",
        "exists",
        "raw",
        "create_table",
        "alter",
        "get_related",
        "get_reverse",
        "refresh",
        "to_dict",
        "from_dict",
        "all_columns",
        "querystring",
        "get_or_create",
        "create",
        "query",
        "run",
        "run_sync",
        "metadata",
        "_meta",
        "table_exists",
        "create_index",
        "drop_table",
        "create_tables",
        "drop_tables",
        "add_m2m",
        "get_m2m",
        "remove_m2m",
    }
)

#: Module-level names a generated module defines besides its classes, and
#: what they are, for error messages.
RESERVED_MODULE_NAMES: Final[dict[str, str]] = {
    "TABLES": "the module's list of tables",
    "VIEWS": "the module's list of views",
    "__all__": "the module's list of exports",
}

#: Classes generated for each table ``T``, by suffix: ``TRow`` (the TypedDict
#: that ``select()`` returns), the join classes behind ``T.fk.column``, and
#: for the type checkers ``TObjects`` (``T.objects()``) and ``TPrefetched``
#: (rows prefetching several keys; ``prefetch_class_name`` gives the classes
#: for one key). The value describes the class in error messages.
GENERATED_SUFFIXES: Final[dict[str, str]] = {
    "Row": "row type",
    "Join": "join class",
    "NullableJoin": "nullable join class",
    "Objects": "objects() class",
    "Prefetched": "prefetch row class",
}

#: The pydantic models of the module ``music`` are the module ``music_models``.
MODELS_SUFFIX: Final = "_models"

#: PostgreSQL silently truncates longer identifiers (NAMEDATALEN - 1 bytes),
#: which would make two long names collide in the database only.
MAX_SQL_IDENTIFIER: Final = MAX_NAME_BYTES


def join_class_name(table: str, nullable: bool, to: str | None = None) -> str:
    """The join class of a foreign key to ``table``: ``ManagerJoin``,
    ``ManagerNullableJoin``; ``CustomerByEmailJoin`` for a key to its column ``email``."""
    by = "" if to is None else "By" + "".join(part.capitalize() for part in to.split("_"))
    return f"{table}{by}{'Nullable' if nullable else ''}Join"


def prefetch_class_name(table: str, column: str) -> str:
    """The row class of ``Table.objects(Table.column)``: ``BandWithManager``."""
    return f"{table}With{''.join(part.capitalize() for part in column.split('_'))}"


def identifier_problem(name: str) -> str | None:
    """Why ``name`` cannot be a Python name in generated code, or ``None``.

    Soft keywords (``match``, ``type``, ``case``, ``_``) are fine: they are
    valid attribute and class names.
    """
    if not name.isidentifier():
        return (
            f"{name!r} is not a valid Python identifier "
            "(use letters, digits and underscores, not starting with a digit)"
        )
    if keyword.iskeyword(name):
        return f"{name!r} is a Python keyword"
    normal = unicodedata.normalize("NFKC", name)
    if normal != name:
        # Python folds identifiers to NFKC when it parses them, so the
        # generated attribute would silently be named differently.
        return f"{name!r} is not in Unicode NFKC form; Python would read it as {normal!r}"
    return None


def sql_name_problem(name: str) -> str | None:
    """Why ``name`` cannot be a table or column name in SQL, or ``None``.

    Names are always quoted (``"Invoice Line"``, ``"it""s"``), so any
    text is a name, as existing databases have them: what is refused is what
    no database keeps as it was written. Empty names, NUL characters (neither
    engine can hold one), names longer than PostgreSQL's limit (63 bytes of
    UTF-8; it would truncate them silently), and SQLite's reserved ``sqlite_``
    namespace.
    """
    if not name:
        return "the name is empty"
    if "\x00" in name:
        return f"{name!r} holds a NUL character, which no database keeps in a name"
    if not fits(name):
        return (
            f"{name!r} is {len(name.encode())} bytes long; PostgreSQL truncates names "
            f"longer than {MAX_SQL_IDENTIFIER} bytes"
        )
    if name.lower().startswith("sqlite_"):
        return f"{name!r} starts with 'sqlite_', which SQLite reserves for itself"
    return None
