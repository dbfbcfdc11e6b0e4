"""Semantic checks of a whole build: names, types, references, defaults.

``load`` has already checked each file's shape; here the rules that relate
values to each other are checked, across files where they must be (foreign
keys between modules, table names in the one database). Every problem is
collected, so a build reports all of them at once, in a stable order.
"""

from __future__ import annotations

import graphlib
from collections.abc import Collection, Iterator, Mapping
from dataclasses import dataclass
from typing import Final

from generator.column_checks import PRIMARY_KEY_TYPES, Checker, ColumnChecker
from generator.config import source_label
from generator.errors import SchemaError, join_words, suggest
from generator.load import LoadedSchema
from generator.model import (
    ColumnSpec,
    NativeEnumSpec,
    TableSpec,
    ViewDialect,
    ViewSpec,
    enum_type_name,
)
from generator.names import (
    GENERATED_SUFFIXES,
    RESERVED_COLUMN_NAMES,
    RESERVED_MODULE_NAMES,
    identifier_problem,
    join_class_name,
    prefetch_class_name,
    snake_case,
    sql_name_problem,
)
from generator.positions import NodePath
from generator.references import Catalog, ValidatedBuild
from generator.resolve import MODULE_IMPORTS
from runtime import BaseUser, _naming
from runtime._naming import index_name, unique_name
from runtime.schema.checksql import column_names, tokens

__all__ = ["AUTH_RESERVED_NAMES", "AUTH_USERNAME_TYPES", "ValidatedBuild", "validate"]

#: The types a user table's ``username`` may have.
AUTH_USERNAME_TYPES = ("varchar", "text", "email")
#: The public names ``runtime.BaseUser`` gives a user table: no column may take one.
AUTH_RESERVED_NAMES = frozenset(
    name for name in dir(BaseUser) if not name.startswith("_") and name not in dir(object)
)


def validate(
    files: list[LoadedSchema], *, unavailable_modules: Collection[str] = ()
) -> ValidatedBuild | list[SchemaError]:
    """The validated build, or all its semantic errors, ordered by file, then position.

    ``unavailable_modules`` names modules whose file could not be read at
    all (a syntax error, already reported): references into them are not
    reported as unknown. A build with such a file, or with a file that had
    shape errors (``LoadedSchema.incomplete``), is not valid even without
    semantic errors: then the list is empty, the errors being the loader's.
    """
    catalog = Catalog(files, frozenset(unavailable_modules))
    errors = list(_module_errors(files))
    for schema in files:
        errors.extend(_FileChecker(schema, catalog).check())
    errors.extend(_tablename_errors(files))
    if errors or unavailable_modules or any(schema.incomplete for schema in files):
        return sorted(errors, key=SchemaError.sort_key)
    # The order checks need every reference resolved, so they run on a build
    # that passed all the others.
    build = ValidatedBuild(tuple(files), dict(catalog.found), dict(catalog.key_columns))
    errors = _cycle_errors(build)
    return sorted(errors, key=SchemaError.sort_key) if errors else build


def _cycle_errors(build: ValidatedBuild) -> list[SchemaError]:
    """The imports between generated modules must form no cycle.

    A generated module imports the modules its references point into when
    its classes are defined, which Python cannot do in a cycle. Foreign keys
    within a module may form one: ``TABLES`` leaves the keys that close it
    out of its order, and ``create_tables`` adds them after the tables.
    """
    errors: list[SchemaError] = []
    modules: graphlib.TopologicalSorter[str] = graphlib.TopologicalSorter()
    for schema in build.schemas:
        modules.add(schema.module, *build.imported_modules(schema))
    try:
        modules.prepare()
    except graphlib.CycleError as error:
        cycle = " -> ".join(error.args[1])
        first = next(s for s in build.schemas if s.module == error.args[1][0])
        # Named as the generated module names its source (project-relative).
        errors.append(
            SchemaError(
                file=source_label(first.path),
                line=None,
                col=None,
                path="tables",
                message=(
                    f"schema files reference each other in a cycle ({cycle}); "
                    "move the tables of the cycle into one file"
                ),
            )
        )
    return errors


#: The column options a view's column refuses, and why.
_NOT_IN_VIEWS: Final[Mapping[str, str]] = {
    "default": "its values come from the view's SQL",
    "required": "a view is read-only",
    "on_delete": "a view has no constraints (its foreign keys are join paths)",
    "on_update": "a view has no constraints (its foreign keys are join paths)",
    "deferrable": "a view has no constraints (its foreign keys are join paths)",
    "initially_deferred": "a view has no constraints (its foreign keys are join paths)",
    "renamed_from": "a changed view is dropped and created again",
}

#: The column types a view's column cannot have, and what to write instead.
_NOT_VIEW_TYPES: Final[Mapping[str, str]] = {
    "serial": "a view's column is no serial (the database numbers rows of tables): use integer",
    "bigserial": "a view's column is no bigserial (the database numbers rows of tables): use bigint",
    "m2m": "a view has no m2m columns (they are a table's joining table)",
}


def _location(schema: LoadedSchema, path: NodePath, *, at_key: bool = True) -> str:
    line, col = schema.positions.locate(path, at_key=at_key)
    where = schema.file if line is None else f"{schema.file}:{line}"
    return where if col is None or line is None else f"{where}:{col}"


# ---------------------------------------------------------------- modules


def _module_errors(files: list[LoadedSchema]) -> Iterator[SchemaError]:
    seen: dict[str, LoadedSchema] = {}
    for schema in files:
        given = schema.spec.module is not None
        path: NodePath = ("module",) if given else ()
        problem = identifier_problem(schema.module)
        if problem is None and schema.module.startswith("_"):
            problem = f"{schema.module!r} starts with '_', which is kept for the package's own files (__init__)"
        if problem is not None:
            if given:
                yield schema.error(path, f"invalid module name: {problem}")
            else:
                yield schema.error(
                    path,
                    f"invalid module name (taken from the file name): {problem}; "
                    "set 'module:' in the file or rename it",
                )
            continue
        # Case-insensitive: the modules become files, and music.py and
        # Music.py are one file on macOS and Windows.
        other = seen.setdefault(schema.module.casefold(), schema)
        if other is not schema:
            for this, that in ((schema, other), (other, schema)):
                this_path: NodePath = ("module",) if this.spec.module is not None else ()
                if this.module == that.module:
                    message = f"module {this.module!r} is also defined by {that.file}; module names must be unique"
                else:
                    message = (
                        f"module {this.module!r} and module {that.module!r} of {that.file} differ only in "
                        "case; their files would clash on case-insensitive file systems"
                    )
                yield this.error(this_path, message)


def _tablename_errors(files: list[LoadedSchema]) -> Iterator[SchemaError]:
    """Tables and views share one database (one namespace of relations), so
    their SQL names must differ across files."""
    seen: dict[str, tuple[LoadedSchema, str, str]] = {}
    for schema in files:
        relations: list[tuple[str, str, str | None]] = [
            ("table", name, table.tablename) for name, table in schema.spec.tables.items()
        ]
        relations += [("view", name, view.viewname) for name, view in schema.spec.views.items()]
        for kind, name, given in relations:
            if identifier_problem(name) is not None:
                continue  # the class name is already reported
            dbname = given or snake_case(name)
            first = seen.setdefault(dbname.casefold(), (schema, kind, name))
            if first == (schema, kind, name):
                continue
            other_schema, other_kind, other = first
            other_label = other if other_schema is schema else f"{other_schema.module}.{other}"
            where = _location(other_schema, (f"{other_kind}s", other))
            option = "tablename" if kind == "table" else "viewname"
            if given is not None:
                yield schema.error(
                    (f"{kind}s", name, option),
                    f"database {kind} name {dbname!r} is already used by {other_kind} "
                    f"{other_label!r} ({where})",
                )
            else:
                yield schema.error(
                    (f"{kind}s", name),
                    f"{kind} {name!r} gets the database name {dbname!r}, already used by "
                    f"{other_kind} {other_label!r} ({where}); set {option!r} to tell them apart",
                    at_key=True,
                )


# ---------------------------------------------------------------- one file

#: Why a table or enum name cannot start with "_": a module referring to
#: another imports it as ``_<module>``.
_PRIVATE = (
    "{name!r} starts with '_', which is kept for the generated module's own names "
    "(it imports other modules as '_<module>')"
)


@dataclass
class _Origin:
    """Who defines a module-level name, for name-clash messages."""

    label: str  # "table 'Band'", "the row type generated for table 'Band'"
    path: NodePath | None  # where to report: the user's name, or the table a class is generated for
    user: bool
    # For generated classes, the label naming the class itself:
    # "the join class 'BandNullableJoin' generated for table 'BandNullable'".
    full_label: str = ""


class _FileChecker(Checker):
    """The checks of one schema file: enums, module-level names, tables."""

    def check(self) -> list[SchemaError]:
        """All errors of the file; column checks are delegated to ``ColumnChecker``."""
        columns = ColumnChecker(self.schema, self.catalog)
        for name, enum in self.spec.enums.items():
            if isinstance(enum, NativeEnumSpec):
                self.check_native_enum(name, enum)
            else:
                self.check_enum(name, enum)
        self.check_column_names(self.check_module_names())
        for name, table in self.spec.tables.items():
            self.check_table(name, table)
            for column_name, column in table.columns.items():
                columns.check_column(name, column_name, column)
        for name, view in self.spec.views.items():
            self.check_view(name, view, columns)
        return sorted([*self.errors, *columns.errors], key=SchemaError.sort_key)

    # -- enums

    def check_native_enum(self, name: str, enum: NativeEnumSpec) -> None:
        """A native enum: an enum whose values are text, and a database type name."""
        path: NodePath = ("enums", name)
        for member, value in enum.values.items():
            if not isinstance(value, str):
                self.error(
                    (*path, "values", member),
                    f"native enum {name!r} has the value {value!r} for {member!r}; the values "
                    f"of a database enum type are text: write {str(value)!r}",
                )
                return
        type_name = enum_type_name(name, enum)
        if enum.name is not None and (not enum.name or not _naming.fits(enum.name)):
            self.error((*path, "name"), f"the type name {enum.name!r} must be 1 to 63 bytes long")
        tables = {t.tablename or snake_case(n): f"table {n!r}" for n, t in self.spec.tables.items()}
        tables |= {v.viewname or snake_case(n): f"view {n!r}" for n, v in self.spec.views.items()}
        if type_name in tables:
            # A PostgreSQL table (or view) is also a type of its name.
            self.error(
                (*path, "name") if enum.name is not None else path,
                f"native enum {name!r} has the type name {type_name!r}, the name of "
                f"{tables[type_name]}; give it another with name:",
                at_key=enum.name is None,
            )
        for other, spec in self.spec.enums.items():
            if other == name:
                break
            if isinstance(spec, NativeEnumSpec) and enum_type_name(other, spec) == type_name:
                self.error(
                    (*path, "name") if enum.name is not None else path,
                    f"native enums {other!r} and {name!r} have the same type name {type_name!r}",
                    at_key=enum.name is None,
                )
        self.check_enum(name, enum.values, members_path=(*path, "values"))

    def check_enum(
        self,
        name: str,
        members: Mapping[str, str | int],
        *,
        members_path: NodePath | None = None,
    ) -> None:
        path: NodePath = ("enums", name)
        problem = identifier_problem(name)
        if problem is None and name.startswith("_"):
            problem = _PRIVATE.format(name=name)
        if problem is not None:
            self.error(path, f"invalid enum name: {problem}", at_key=True)
        if not members:
            self.error(members_path or path, f"enum {name!r} has no members")
            return
        value_types = {type(value) for value in members.values()}
        if len(value_types) > 1:
            self.error(path, f"enum {name!r} mixes str and int values; use one type", at_key=True)
            return
        # Generated enums are StrEnum or IntEnum: a member named like a
        # method of str or int would hide that method on every member.
        base = value_types.pop()
        hidden = {attr for attr in dir(base) if not attr.startswith("_")} | {"mro"}
        first_by_value: dict[str | int, str] = {}
        for member, value in members.items():
            member_path = (*(members_path or path), member)
            problem = identifier_problem(member)
            if problem is None and member.startswith("_"):
                problem = f"{member!r} starts with '_', which Python's Enum reserves"
            if problem is None and member in hidden:
                problem = f"{member!r} would hide {base.__name__}.{member} on the enum's members"
            if problem is not None:
                self.error(member_path, f"invalid enum member name: {problem}", at_key=True)
            first = first_by_value.setdefault(value, member)
            if first != member:
                self.error(
                    member_path,
                    f"enum member {member!r} has the same value {value!r} as {first!r}; "
                    "Python would make it an alias, not a member",
                )

    # -- module-level names

    def check_module_names(self) -> dict[str, _Origin]:
        """Tables, enums, the classes generated per table and the names the
        module imports share one namespace; returns it, by name."""
        names: dict[str, _Origin] = {
            name: _Origin(label, None, False) for name, label in RESERVED_MODULE_NAMES.items()
        }
        for name, source in MODULE_IMPORTS.items():
            names[name] = _Origin(f"{source}, which the generated module uses", None, False)
        user: list[tuple[tuple[int, int], str, _Origin]] = []
        sections: tuple[tuple[str, Mapping[str, object]], ...] = (
            ("table", self.spec.tables),
            ("enum", self.spec.enums),
            ("view", self.spec.views),
        )
        for kind, section in sections:
            for name in section:
                if identifier_problem(name) is None:
                    path: NodePath = (f"{kind}s", name)
                    line, col = self.schema.positions.locate(path, at_key=True)
                    user.append(
                        ((line or 0, col or 0), name, _Origin(f"{kind} {name!r}", path, True))
                    )
        for _position, name, origin in sorted(user, key=lambda item: item[0]):
            self.register(names, name, origin)
        for table, spec in self.spec.tables.items():
            if identifier_problem(table) is None:
                generated = {table + suffix: text for suffix, text in GENERATED_SUFFIXES.items()}
                # A foreign key whose join class no other key of the table
                # shares gets a row class of its own (see resolve.prefetch).
                keys = [(c.references, c.null) for c in spec.columns.values()]
                for column, c in spec.columns.items():
                    if c.type == "foreign_key" and keys.count((c.references, c.null)) == 1:
                        generated[prefetch_class_name(table, column)] = (
                            f"prefetch row class of {column!r}"
                        )
                    # A unique column may be a foreign key's target: its join
                    # classes are reserved whether or not a key uses them.
                    alone = (
                        c.unique
                        or [column] in spec.unique
                        or any(i.unique and i.columns == [column] for i in spec.indexes)
                    )
                    if alone and not c.primary_key and identifier_problem(column) is None:
                        for nullable in (False, True):
                            kind = "nullable join class" if nullable else "join class"
                            generated[join_class_name(table, nullable, column)] = (
                                f"{kind} of keys to {column!r}"
                            )
                for name, description in generated.items():
                    origin = _Origin(
                        f"the {description} generated for table {table!r}",
                        ("tables", table),
                        False,
                        f"the {description} {name!r} generated for table {table!r}",
                    )
                    self.register(names, name, origin)
        for view in self.spec.views:
            # A view whose own name clashes is reported once, not with its row type too.
            if identifier_problem(view) is None and names[view].path == ("views", view):
                row = view + "Row"
                origin = _Origin(
                    f"the row type generated for view {view!r}",
                    ("views", view),
                    False,
                    f"the row type {row!r} generated for view {view!r}",
                )
                self.register(names, row, origin)
        return names

    def register(self, names: dict[str, _Origin], name: str, new: _Origin) -> None:
        old = names.setdefault(name, new)
        if old is new:
            return
        if new.user and old.path is None:
            assert new.path is not None
            self.error(
                new.path,
                f"{new.label} uses the reserved name {name!r} ({old.label}); {self.rename(new.path)}",
                at_key=True,
            )
        elif new.user:
            assert new.path is not None
            self.error(new.path, f"{new.label} has the same name as {old.label}", at_key=True)
        elif old.user:
            assert old.path is not None
            self.error(old.path, f"{old.label} clashes with {new.label}", at_key=True)
        else:
            assert new.path is not None
            self.error(new.path, f"{new.full_label} clashes with {old.label}", at_key=True)

    def rename(self, path: NodePath) -> str:
        """How to rename the table or enum at ``path``, keeping its database name."""
        kind, name = path[0], str(path[1])
        if kind == "tables" and self.spec.tables[name].tablename is None:
            return (
                f"name it '{name}_' and keep the database name with tablename: {snake_case(name)}"
            )
        if kind == "views" and self.spec.views[name].viewname is None:
            return f"name it '{name}_' and keep the database name with viewname: {snake_case(name)}"
        return f"name it '{name}_'"

    def check_column_names(self, names: Mapping[str, _Origin]) -> None:
        """A column is a class attribute: inside its table's class body it
        would hide a module-level name of the same name, which the generated
        annotations there may use (``uuid: uuid.UUID = ...`` in ``__init__``)."""
        classes: list[tuple[str, str, Mapping[str, ColumnSpec]]] = [
            ("tables", table, spec.columns) for table, spec in self.spec.tables.items()
        ]
        classes += [("views", view, spec.columns) for view, spec in self.spec.views.items()]
        for section, table, columns in classes:
            for column, c in columns.items():
                other = names.get(column)
                if other is None or column.startswith("_") or identifier_problem(column):
                    continue  # fine, or reported with the column's other name checks
                if column in RESERVED_COLUMN_NAMES:
                    continue
                keep = (
                    ""
                    if c.db_column_name is not None or c.type == "m2m"
                    else f" and keep the database name with db_column_name: {column}"
                )
                label = other.label.removesuffix(", which the generated module uses")
                self.error(
                    (section, table, "columns", column),
                    f"invalid column name: {column!r} would hide {label} inside class "
                    f"{table!r}, where the generated code may refer to it; name it '{column}_'{keep}",
                    at_key=True,
                )

    # -- views

    def check_view(self, name: str, view: ViewSpec, columns: ColumnChecker) -> None:
        """A view: its names, its SQL (not parsed: one statement, not empty),
        and its columns, which take the column types of tables with the
        options that mean something for a view (see ``_NOT_IN_VIEWS``)."""
        path: NodePath = ("views", name)
        problem = identifier_problem(name)
        if problem is not None:
            self.error(path, f"invalid view name: {problem}", at_key=True)
        elif name.startswith("_"):
            self.error(path, f"invalid view name: {_PRIVATE.format(name=name)}", at_key=True)
        if view.viewname is not None:
            db_problem = sql_name_problem(view.viewname)
            if db_problem is not None:
                self.error((*path, "viewname"), f"invalid viewname: {db_problem}")
        elif problem is None:
            db_problem = sql_name_problem(snake_case(name))
            if db_problem is not None:
                self.error(
                    path,
                    f"invalid database name (derived from the view name): {db_problem};"
                    " set 'viewname'",
                    at_key=True,
                )
        self.check_view_sql((*path, "sql"), name, view.sql)
        if self.schema.is_incomplete(path):
            return
        if not view.columns:
            self.error((*path, "columns"), f"view {name!r} needs at least one column")
        keys = [c for c, spec in view.columns.items() if spec.primary_key]
        for key in keys[1:]:
            self.error(
                (*path, "columns", key, "primary_key"),
                f"two primary keys: {keys[0]!r} and {key!r}; a view has one at most",
            )
        used: dict[str, str] = {}
        for column_name, column in view.columns.items():
            column_path: NodePath = (*path, "columns", column_name)
            if self.check_view_column(column_path, view, column):
                columns.check_column(name, column_name, column, section="views")
            db_name = column.db_column_name or column_name
            other = used.setdefault(db_name.casefold(), column_name)
            if other != column_name:
                self.error(
                    column_path,
                    f"column {column_name!r} has the database name {db_name!r}, like column"
                    f" {other!r}",
                    at_key=True,
                )

    def check_view_sql(
        self, path: NodePath, name: str, sql: str | Mapping[ViewDialect, str]
    ) -> None:
        if isinstance(sql, dict) and not sql:
            self.error(
                path, "sql needs the SELECT of at least one database: {postgres: ..., sqlite: ...}"
            )
            return
        texts: list[tuple[NodePath, str]] = (
            [(path, sql)] if isinstance(sql, str) else [((*path, d), t) for d, t in sql.items()]
        )
        for where, text in texts:
            if not text.strip():
                self.error(where, f"view {name!r} needs its SELECT, e.g. SELECT name FROM band")
                continue
            found = [t for kind, t in tokens(text.strip().removesuffix(";")) if kind == "other"]
            if ";" in found:
                self.error(where, f"view {name!r}: one SELECT statement, without ';'")

    def check_view_column(self, path: NodePath, view: ViewSpec, column: ColumnSpec) -> bool:
        """What a column of a view may not say; ``False`` when it says some of
        it (its other checks would only repeat the consequences)."""
        ok = True
        for option in sorted(column.model_fields_set & _NOT_IN_VIEWS.keys()):
            self.error(
                (*path, option),
                f"{option!r} does not apply to a view's column: {_NOT_IN_VIEWS[option]}",
                at_key=True,
            )
            ok = False
        if column.type in _NOT_VIEW_TYPES:
            self.error((*path, "type"), _NOT_VIEW_TYPES[column.type])
            ok = False
        for option in ("unique", "index"):
            if getattr(column, option) and not view.materialized:
                self.error(
                    (*path, option),
                    f"{option}: true needs a materialized view (materialized: true);"
                    " a plain view has no indexes",
                    at_key=True,
                )
                ok = False
        if column.primary_key:
            allowed = (*PRIMARY_KEY_TYPES, "foreign_key")
            if column.type not in allowed:
                self.error(
                    (*path, "type"),
                    f"a view's primary key must be of type {join_words(allowed, 'or')},"
                    f" not {column.type}",
                )
                ok = False
            if column.null:
                self.error((*path, "null"), "a primary key cannot be null", at_key=True)
                ok = False
        return ok

    # -- tables

    def check_table(self, name: str, table: TableSpec) -> None:
        path: NodePath = ("tables", name)
        problem = identifier_problem(name)
        if problem is not None:
            self.error(path, f"invalid table name: {problem}", at_key=True)
        elif name.startswith("_"):
            self.error(path, f"invalid table name: {_PRIVATE.format(name=name)}", at_key=True)
        if table.tablename is not None:
            problem = sql_name_problem(table.tablename)
            if problem is not None:
                self.error((*path, "tablename"), f"invalid tablename: {problem}")
        elif problem is None:
            problem = sql_name_problem(snake_case(name))
            if problem is not None:
                self.error(
                    path,
                    f"invalid database name (derived from the table name): {problem}; set 'tablename'",
                    at_key=True,
                )
        if table.renamed_from is not None:
            self.check_table_renamed_from(path, table.renamed_from, name, table)
        if not self.schema.is_incomplete(path):
            self.check_primary_key(name, table)
            self.check_database_names(name, table)
            self.check_table_indexes(name, table)
            self.check_table_checks(name, table)
            self.check_table_foreign_keys(name, table)
            if table.auth:
                self.check_auth_table(name, table)

    def check_auth_table(self, name: str, table: TableSpec) -> None:
        """A user table (``auth: true``) has the columns ``runtime.BaseUser`` uses."""
        path: NodePath = ("tables", name)
        columns = table.columns

        def column_error(column: str, option: str, message: str) -> None:
            self.error((*path, "columns", column, option), f"a user table's {column} {message}")

        if table.primary_key is not None:
            self.error(
                (*path, "primary_key"),
                "a user table (auth: true) has a single-column primary key, which login() returns",
            )
        for column, types in (("username", AUTH_USERNAME_TYPES), ("password", ("secret",))):
            spec = columns.get(column)
            if spec is None:
                self.error(
                    (*path, "auth"),
                    f"a user table (auth: true) needs a column {column!r} of type "
                    f"{join_words(types, 'or')}",
                )
                continue
            if spec.type not in types:
                column_error(
                    column, "type", f"is of type {join_words(types, 'or')}, not {spec.type}"
                )
            if spec.null:
                column_error(column, "null", "cannot be null")
        username = columns.get("username")
        if username is not None and not username.unique and not username.primary_key:
            self.error(
                (*path, "columns", "username"),
                "a user table's username must be unique: add unique: true",
                at_key=True,
            )
        password = columns.get("password")
        if password is not None and "default" in password.model_fields_set:
            column_error("password", "default", "has no default (it is an argon2 hash)")
        active = columns.get("active")
        if active is not None and (active.type != "boolean" or active.null):
            column_error("active", "type", "is a boolean that is not null (false: no login)")
        last_login = columns.get("last_login")
        if last_login is not None and (
            last_login.type not in ("timestamp", "timestamptz") or not last_login.null
        ):
            column_error("last_login", "type", "is a nullable timestamp or timestamptz")
        for column in columns:
            if column in AUTH_RESERVED_NAMES:
                self.error(
                    (*path, "columns", column),
                    f"{column!r} is a name of the user table's functions (runtime.BaseUser);"
                    " rename the column",
                    at_key=True,
                )

    def check_table_renamed_from(
        self, path: NodePath, old: str, name: str, table: TableSpec
    ) -> None:
        """A table's ``renamed_from`` is a class or database name, not the table's own.

        Whether it names something of the previous state is checked against
        that state (``generator.state.check_renames``).
        """
        problem = sql_name_problem(old)
        if problem is not None:
            self.error((*path, "renamed_from"), f"invalid renamed_from: {problem}")
        elif old in (name, table.tablename or snake_case(name)):
            self.error(
                (*path, "renamed_from"),
                "renamed_from names the table itself; give the name it had before the rename",
            )

    def check_primary_key(self, table_name: str, table: TableSpec) -> None:
        columns_path: NodePath = ("tables", table_name, "columns")
        keys = [(name, column) for name, column in table.columns.items() if column.primary_key]
        if table.primary_key is not None:
            self.check_composite_key(table_name, table, [name for name, _ in keys])
            return
        if not keys and "id" in table.columns:
            self.error(
                (*columns_path, "id"),
                "'id' is the implicit primary key; mark it primary_key: true to declare it yourself",
                at_key=True,
            )
        for name, _column in keys[1:]:
            self.error(
                (*columns_path, name, "primary_key"),
                f"two primary keys: {keys[0][0]!r} and {name!r}; a table has one (for a composite key, list its columns in the table's primary_key: [{keys[0][0]}, {name}])",
            )
        for name, column in keys:
            if column.type not in PRIMARY_KEY_TYPES:
                self.error(
                    (*columns_path, name, "type"),
                    f"a primary key must be of type {join_words(PRIMARY_KEY_TYPES, 'or')}, not {column.type}",
                )
            if column.null:
                self.error(
                    (*columns_path, name, "null"), "a primary key cannot be null", at_key=True
                )

    def check_composite_key(self, table_name: str, table: TableSpec, marked: list[str]) -> None:
        """A table-level ``primary_key: [a, b]``: two or more distinct, non-null
        columns of key types (or foreign keys), and no column key beside it."""
        path: NodePath = ("tables", table_name, "primary_key")
        assert table.primary_key is not None
        for name in marked:
            self.error(
                ("tables", table_name, "columns", name, "primary_key"),
                f"column {name!r} says primary_key: true and the table has a primary_key list;"
                f" add {name!r} to the list and remove its primary_key: true",
            )
        listed = table.primary_key
        if len(listed) < 2:
            hint = f"; write primary_key: true on column {listed[0]!r}" if listed else ""
            self.error(path, f"a composite primary key names two or more columns{hint}")
        known = [name for name, column in table.columns.items() if column.type != "m2m"]
        allowed = (*PRIMARY_KEY_TYPES, "foreign_key")
        for position, name in enumerate(listed):
            where: NodePath = (*path, position)
            column = table.columns.get(name)
            if listed.index(name) != position:
                self.error(where, f"column {name!r} is listed twice in the primary key")
            elif column is None:
                message = f"unknown column {name!r} of table {table_name!r} in the primary key"
                hint = suggest(name, known)
                self.error(
                    where,
                    (
                        f"{message} - {hint}"
                        if hint
                        else f"{message}; its columns: {', '.join(known)}"
                    ),
                )
            elif column.type not in allowed:
                self.error(
                    where,
                    f"column {name!r} of type {column.type} cannot be part of a primary key"
                    f" (types: {join_words(allowed, 'or')})",
                )
            elif column.null:
                self.error(
                    ("tables", table_name, "columns", name, "null"),
                    f"column {name!r} is part of the primary key and cannot be null",
                    at_key=True,
                )

    def check_table_foreign_keys(self, table_name: str, table: TableSpec) -> None:
        """``foreign_keys:``: each names two or more columns of the table, whose
        types are those of the target's composite key, column by column."""
        for name, fk in table.foreign_keys.items():
            path: NodePath = ("tables", table_name, "foreign_keys", name)
            problem = identifier_problem(name)
            if problem is None and name.startswith("_"):
                problem = _PRIVATE.format(name=name)
            if problem is None and name in RESERVED_COLUMN_NAMES:
                problem = f"{name!r} clashes with Table.{name} of the runtime"
            if problem is None and name in table.columns:
                problem = f"{name!r} is a column of table {table_name!r} already"
            if problem is not None:
                self.error(path, f"invalid foreign key name: {problem}", at_key=True)
            if fk.name is not None and (problem := sql_name_problem(fk.name)) is not None:
                self.error((*path, "name"), f"invalid constraint name: {problem}")
            listed = self.check_column_list(table_name, table, (*path, "columns"), fk.columns)
            if listed and len(listed) < 2:
                self.error(
                    (*path, "columns"),
                    "a foreign key over several columns names two or more; for one column,"
                    " give the column type: foreign_key",
                )
                listed = ()
            for option in ("on_delete", "on_update"):
                action = getattr(fk, option)
                nullable = all(table.columns[c].null for c in listed)
                if action == "set_null" and listed and not nullable:
                    self.error(
                        (*path, option), f"{option}: set_null needs null: true on its columns"
                    )
                if action == "set_default":
                    self.error((*path, option), f"{option}: set_default is not offered here")
            found = self.catalog.find(self.schema, fk.references)
            if isinstance(found, str):
                self.error((*path, "references"), found)
                continue
            if found is None:
                continue
            self.catalog.found[(self.schema.module, table_name, name)] = found
            key = found.spec.primary_key
            if key is None:
                self.error(
                    (*path, "references"),
                    f"table {found.name!r} has no composite primary key; a foreign key to its"
                    " key is a column of type: foreign_key",
                )
                continue
            if not listed:
                continue
            if len(key) != len(listed):
                self.error(
                    (*path, "columns"),
                    f"{len(listed)} columns for the primary key of {found.name!r}, which has"
                    f" {len(key)} ({', '.join(key)})",
                )
                continue
            for position, (mine, theirs) in enumerate(zip(listed, key)):
                have = self.stored_type(self.schema, table_name, mine)
                want = self.stored_type(found.schema, found.name, theirs)
                if have is not None and want is not None and have != want:
                    self.error(
                        (*path, "columns", position),
                        f"column {mine!r} holds {have} values; {found.name}.{theirs}, which it"
                        f" points at, holds {want}",
                    )

    def stored_type(self, schema: LoadedSchema, table: str, column: str) -> str | None:
        """The type of the values ``column`` holds (a foreign key: its target key's;
        a serial: integer), ``None`` when unknown (an error reported elsewhere)."""
        for _ in range(20):  # a chain of foreign keys, without looping forever
            spec = schema.spec.tables[table].columns.get(column)
            if spec is None:
                return "integer" if column == "id" else None
            if spec.type != "foreign_key" or spec.references is None:
                return {"serial": "integer", "bigserial": "bigint"}.get(spec.type, spec.type)
            found = self.catalog.find_key(schema, spec.references)
            if not isinstance(found, tuple):
                return None
            target, key = found
            schema, table = target.schema, target.name
            column = key or next((n for n, c in target.spec.columns.items() if c.primary_key), "id")
        return None

    def check_database_names(self, table_name: str, table: TableSpec) -> None:
        # Compared without case: SQLite treats "Name" and "name" as one column.
        used: dict[str, str] = {}
        if not table.declares_key() and "id" not in table.columns:
            used["id"] = "the implicit primary key 'id'"
        for name, column in table.columns.items():
            if column.type == "m2m":
                continue
            db_name = column.db_column_name or name
            other = used.setdefault(db_name.casefold(), f"column {name!r}")
            if other != f"column {name!r}":
                given = column.db_column_name is not None
                path: NodePath = (
                    "tables",
                    table_name,
                    "columns",
                    name,
                    *(("db_column_name",) if given else ()),
                )
                self.error(
                    path,
                    f"column {name!r} has the database name {db_name!r}, like {other}",
                    at_key=not given,
                )

    # -- table-level indexes and unique constraints

    def check_table_indexes(self, table_name: str, table: TableSpec) -> None:
        """``indexes:`` and ``unique:`` name existing columns, without repeats."""
        path: NodePath = ("tables", table_name)
        tablename = table.tablename or snake_case(table_name)
        # Index names share one namespace per database (per schema in
        # PostgreSQL), so they must differ from the per-column indexes too.
        # Compared as the runtime derives them (shortened past 63 bytes).
        names: dict[str, str] = {
            index_name(tablename, [column.db_column_name or column_name]).casefold(): (
                f"the index of column {column_name!r}"
            )
            for column_name, column in table.columns.items()
            if column.index
        }
        seen: dict[tuple[str, ...], str] = {}
        for position, index in enumerate(table.indexes):
            index_path: NodePath = (*path, "indexes", position)
            columns = self.check_column_list(
                table_name, table, (*index_path, "columns"), index.columns
            )
            if columns:
                first = seen.setdefault(
                    (f"unique={index.unique}", *columns), f"indexes[{position}]"
                )
                if first != f"indexes[{position}]":
                    self.error(index_path, f"the same index as {first}")
            db_names = [
                (table.columns[c].db_column_name if c in table.columns else None) or c
                for c in index.columns
            ]
            name = index.name or index_name(tablename, db_names)
            if index.name is not None:
                problem = sql_name_problem(index.name)
                if problem is not None:
                    self.error((*index_path, "name"), f"invalid index name: {problem}")
                    continue
            other = names.setdefault(name.casefold(), f"indexes[{position}]")
            if other != f"indexes[{position}]":
                where: NodePath = (*index_path, "name") if index.name else index_path
                hint = "" if index.name else "; set 'name' to tell them apart"
                self.error(where, f"index name {name!r} is already used by {other}{hint}")
        for position, group in enumerate(table.unique):
            unique_path: NodePath = (*path, "unique", position)
            checked = self.check_column_list(table_name, table, unique_path, group)
            if checked:
                first = seen.setdefault(("constraint", *sorted(checked)), f"unique[{position}]")
                if first != f"unique[{position}]":
                    self.error(unique_path, f"the same unique constraint as {first}")

    def check_table_checks(self, table_name: str, table: TableSpec) -> None:
        """``checks:``: plain names (the database's, as given), and expressions
        that are one SQL expression over columns the table has.

        The expression is SQL the database checks; it is not parsed here,
        only tokenised: a ``;`` is refused (one expression, not statements),
        and every identifier that is no keyword, function or type must be a
        database column name of the table."""
        path: NodePath = ("tables", table_name, "checks")
        tablename = table.tablename or snake_case(table_name)
        known = [
            column.db_column_name or name
            for name, column in table.columns.items()
            if column.type != "m2m"
        ]
        if not table.declares_key():
            known.insert(0, "id")
        derived = {
            unique_name(tablename, (column.db_column_name or name,))
            for name, column in table.columns.items()
            if column.unique
        }
        for name, sql in table.checks.items():
            where: NodePath = (*path, name)
            problem = sql_name_problem(name)
            if problem is not None:
                self.error(where, f"invalid check name: {problem}", at_key=True)
                continue
            if name in derived:
                self.error(
                    where, f"check name {name!r} is the name of a unique constraint", at_key=True
                )
            if not sql.strip():
                self.error(where, f"check {name!r} needs an SQL expression, e.g. 'price >= 0'")
                continue
            if any(kind == "other" and text == ";" for kind, text in tokens(sql)):
                self.error(where, f"check {name!r}: one SQL expression, without ';'")
                continue
            for column in column_names(sql):
                if column in known:
                    continue
                spec = table.columns.get(column)
                hint = suggest(column, known)
                if spec is not None and spec.db_column_name:
                    hint = (
                        f"the column of attribute {column!r} is named {spec.db_column_name!r}"
                        " in the database, the name a check uses"
                    )
                message = f"check {name!r} names no column {column!r} of table {table_name!r}"
                self.error(
                    where,
                    (
                        f"{message} - {hint}"
                        if hint
                        else f"{message}; its columns: {', '.join(known)}"
                    ),
                )

    def check_column_list(
        self, table_name: str, table: TableSpec, path: NodePath, columns: list[str]
    ) -> tuple[str, ...]:
        """The columns if all exist once each (else report and return ``()``)."""
        if not columns:
            self.error(path, "needs at least one column, e.g. [warehouse, sku]")
            return ()
        known = [name for name, column in table.columns.items() if column.type != "m2m"]
        if not table.declares_key():
            known.insert(0, "id")
        ok = True
        for position, name in enumerate(columns):
            if name in known:
                if columns.index(name) != position:
                    self.error((*path, position), f"column {name!r} is listed twice")
                    ok = False
                continue
            ok = False
            column = table.columns.get(name)
            if column is not None:  # an m2m column has no database column
                self.error(
                    (*path, position), f"column {name!r} is an m2m column and cannot be indexed"
                )
                continue
            hint = suggest(name, known)
            message = f"unknown column {name!r} of table {table_name!r}"
            self.error(
                (*path, position),
                f"{message} - {hint}" if hint else f"{message}; its columns: {', '.join(known)}",
            )
        return tuple(columns) if ok else ()
