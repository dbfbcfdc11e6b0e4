"""Resolve a validated build into the intermediate model the templates render.

Every decision about the generated code is made here, in Python, where it
can be tested: value types, constructor arguments, join classes, imports and
the foreign-key order of tables. The templates only lay the result out.
The input is ``validate``'s ``ValidatedBuild``: its references are resolved
and its schema errors all reported, so resolving cannot fail.
"""

from __future__ import annotations

import datetime
import decimal
import json
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from .config import source_label
from .kinds import KINDS
from .layout import py_str
from .model import NativeEnumSpec, enum_members, enum_type_name
from .names import join_class_name, prefetch_class_name, snake_case

if TYPE_CHECKING:
    from .load import LoadedSchema
    from .model import ColumnSpec, SchemaFile, TableSpec, ViewSpec
    from .references import ValidatedBuild

__all__ = [
    "MODULE_IMPORTS",
    "ResolvedColumn",
    "ResolvedM2M",
    "ResolvedTable",
    "ResolvedModule",
    "ResolvedView",
    "JoinClass",
    "resolve",
]

#: Column type -> (runtime class, Python value type), of the types declared
#: by a runtime class of their own.
_TYPES: dict[str, tuple[str, str]] = {
    kind.name: (kind.runtime_class, kind.python_type)
    for kind in KINDS.values()
    if kind.runtime_class is not None and kind.python_type is not None
}

#: Named dynamic defaults -> runtime class, per column type.
_DYNAMIC_DEFAULTS: dict[tuple[str, str], str] = {
    (kind.name, kind.dynamic_default[0]): kind.dynamic_default[1]
    for kind in KINDS.values()
    if kind.dynamic_default is not None
}

_ACTION_DEFAULT = "cascade"

#: Primary-key types that give a row without a key a distinct one.
_SELF_FILLING_KEYS = frozenset(kind.name for kind in KINDS.values() if kind.fills_key)


def _required(spec: ColumnSpec) -> bool:
    """Whether the constructor needs the column: ``required: true``, or a
    primary key that nothing fills (no default, not serial or uuid), whose
    zero default (``0``, ``""``) would collide from the second row on."""
    if spec.required:
        return True
    return (
        spec.primary_key
        and spec.type not in _SELF_FILLING_KEYS
        and "default" not in spec.model_fields_set
    )


#: The runtime names every generated module imports.
_ALWAYS_IMPORTED = ("Column", "Create", "Objects", "Table", "Update")

#: Every name a generated module may take from elsewhere -> where it comes
#: from: its imports and the builtins its annotations use. A table or enum
#: of the same name would replace it for the whole module, a column inside
#: its class body; ``validate`` refuses such names.
MODULE_IMPORTS: dict[str, str] = {
    **{
        name: f"the standard library module {name!r}"
        for name in ("datetime", "decimal", "enum", "uuid")
    },
    "Mapping": "collections.abc's 'Mapping'",
    **{name: f"typing's {name!r}" for name in ("TYPE_CHECKING", "Any", "overload")},
    **{name: f"typing_extensions' {name!r}" for name in ("NotRequired", "TypedDict")},
    **{
        name: f"runtime's {name!r}"
        for name in sorted(
            {
                *_ALWAYS_IMPORTED,
                *(runtime_class for runtime_class, _ in _TYPES.values()),
                *_DYNAMIC_DEFAULTS.values(),
                *("Array", "Check", "CompositeForeignKey", "ForeignKey", "Index", "M2M"),
                # A user table's (auth: true) base, create_user's query, password column.
                *("BaseUser", "CreateUser", "Password"),
                *("MaterializedView", "View"),
                "Serial",
                "forward_key",
            }
        )
    },
    **{
        name: f"the builtin {name!r}"
        for name in ("bool", "bytes", "classmethod", "float", "int", "list", "object", "str")
    },
}


@dataclass
class ResolvedColumn:
    """One column as the generated code declares it."""

    name: str
    #: Runtime class as written in the module (``Varchar``, ``ManagerJoin``,
    #: ``_music.BandJoin``).
    runtime_class: str
    #: The Python value type, ``None`` included when nullable.
    value_type: str
    #: The annotation of the class attribute (``Varchar[str]``, ``ManagerNullableJoin``).
    annotation: str
    #: Constructor arguments of the column object, rendered.
    arguments: list[str]
    #: Type of the table constructor's keyword (a foreign key also takes the row).
    init_type: str
    required: bool
    primary_key: bool
    help_text: str | None
    #: For foreign keys: the target table as ``(module alias or "", class name)``.
    target: tuple[str, str] | None = None
    #: For foreign keys to a unique column other than the primary key: its name.
    target_column: str | None = None
    nullable: bool = False
    #: A ``Secret``: ``select()`` leaves it out unless asked, so its key in
    #: the row type is ``NotRequired``.
    secret: bool = False
    #: The declaration (``None`` for the implicit ``id``), and its ``default``
    #: as a Python expression when it declares one: for the pydantic models.
    spec: ColumnSpec | None = None
    default: str | None = None

    #: A foreign key to a table further down the module (one that closes a
    #: cycle of foreign keys): declared through ``runtime.forward_key``, which
    #: keeps pyright from reporting the join class as depending on itself.
    forward: bool = False

    @property
    def callee(self) -> str:
        """What the class attribute's value calls."""
        return "forward_key" if self.forward else self.runtime_class

    @property
    def call_arguments(self) -> list[str]:
        return [self.runtime_class, *self.arguments] if self.forward else self.arguments

    @property
    def update_type(self) -> str:
        """The type of the column's ``update()`` keyword: a value, or a column
        or expression of the same type (``Band.popularity + 1``)."""
        return f"{self.value_type} | Column[{self.value_type}]"

    @property
    def row_type(self) -> str:
        """The annotation of the column's key in the row ``TypedDict``."""
        return f"NotRequired[{self.value_type}]" if self.secret else self.value_type


@dataclass
class JoinClass:
    """A ``ForeignKey`` subclass annotating the target table's columns."""

    name: str
    table: str
    key_type: str
    related_type: str
    columns: list[tuple[str, str]]
    #: The target column the key holds, ``None`` for the primary key.
    to: str | None = None


@dataclass
class ResolvedM2M:
    """A many-to-many relationship as the generated table class declares it."""

    name: str
    #: ``M2M[Band, Genre, GenreRow]``.
    annotation: str
    #: Constructor arguments, rendered (``lambda: GenreToBand``, ``help_text=...``).
    arguments: list[str]
    help_text: str | None

    @property
    def runtime_class(self) -> str:
        return "M2M"

    @property
    def callee(self) -> str:
        return self.runtime_class

    @property
    def call_arguments(self) -> list[str]:
        return self.arguments


@dataclass
class ResolvedCompositeForeignKey:
    """A foreign key over several columns as the generated table class declares it."""

    name: str
    #: ``CompositeForeignKey[PlaylistTrack]`` (``| None`` inside when a column is nullable).
    annotation: str
    #: Constructor arguments, rendered (the columns, ``lambda: PlaylistTrack``, actions).
    arguments: list[str]
    help_text: str | None = None

    @property
    def runtime_class(self) -> str:
        return "CompositeForeignKey"

    @property
    def callee(self) -> str:
        return self.runtime_class

    @property
    def call_arguments(self) -> list[str]:
        return self.arguments


@dataclass
class PrefetchClass:
    """A checker-only subclass of a table typing what ``objects(fk, ...)`` loads:
    the prefetched foreign keys hold related rows instead of keys."""

    name: str
    doc: str
    #: (attribute, annotation) of each foreign key the class retypes.
    columns: list[tuple[str, str]]


@dataclass
class ResolvedTable:
    """One table class and its row type."""

    name: str
    tablename: str
    help_text: str | None
    columns: list[ResolvedColumn]
    #: Extra keyword arguments of the class statement, rendered
    #: (``indexes=(Index("a", "b"),)``, ``unique=(("a", "b"),)``).
    class_arguments: list[str] = field(default_factory=list)
    #: Many-to-many relationships: no database column, not in the row types.
    m2m: list[ResolvedM2M] = field(default_factory=list)
    #: ``objects()`` overloads that prefetch: (parameters after ``cls``, result
    #: row class).
    objects_overloads: list[tuple[list[str], str]] = field(default_factory=list)
    prefetch_classes: list[PrefetchClass] = field(default_factory=list)
    #: Foreign keys over several columns: no database column of their own.
    composite_foreign_keys: list[ResolvedCompositeForeignKey] = field(default_factory=list)
    #: Of a user table (``auth: true``): the value type of its primary key,
    #: ``BaseUser``'s type argument (what ``login()`` returns).
    auth_key_type: str | None = None

    @property
    def extra_bases(self) -> list[str]:
        """Bases of the class after ``Table[Row]``: ``BaseUser[int]`` of a user table."""
        return [] if self.auth_key_type is None else [f"BaseUser[{self.auth_key_type}]"]

    @property
    def create_user_parameters(self) -> list[str]:
        """The parameters of a user table's ``create_user()``: the username and
        the password, then the other columns as the constructor takes them."""
        others = [
            f"{c.name}: {c.init_type}" + ("" if c.required else " = ...")
            for c in self.columns
            if c.name not in ("username", "password")
        ]
        return ["cls", "username: str", "password: str", *(["*", *others] if others else [])]

    @property
    def row_name(self) -> str:
        return f"{self.name}Row"

    @property
    def attributes(self) -> list[ResolvedColumn | ResolvedM2M | ResolvedCompositeForeignKey]:
        """The class attributes: the columns, the many-to-many relationships, then
        the foreign keys over several columns."""
        return [*self.columns, *self.m2m, *self.composite_foreign_keys]

    @property
    def init_parameters(self) -> list[str]:
        """The constructor's keyword parameters (also those of ``objects().create()``)."""
        return [f"{c.name}: {c.init_type}" + ("" if c.required else " = ...") for c in self.columns]

    @property
    def update_parameters(self) -> list[str]:
        """The parameters of ``update()``: a mapping, or a keyword per column."""
        return [
            "cls",
            "values: Mapping[Column[Any] | str, object] | None = None",
            "/",
            "*",
            "force: bool = False",
            *(
                f"{c.name}: {c.update_type} = ..."
                for c in self.columns
                # A user table's password is set by update_password() alone.
                if not c.primary_key and not (self.auth_key_type and c.name == "password")
            ),
        ]


@dataclass
class ResolvedView:
    """One view class and its row type."""

    name: str
    viewname: str
    help_text: str | None
    materialized: bool
    columns: list[ResolvedColumn]
    #: The ``sql=`` argument of the class statement, rendered (a string, or a
    #: dict by dialect).
    sql: str

    @property
    def row_name(self) -> str:
        return f"{self.name}Row"

    @property
    def base(self) -> str:
        return "MaterializedView" if self.materialized else "View"


@dataclass
class ResolvedModule:
    """Everything one generated module holds."""

    module: str
    source: str
    #: (class name, base class, [(member, value literal)]).
    enums: list[tuple[str, str, list[tuple[str, str]]]]
    tables: list[ResolvedTable]
    joins: list[JoinClass]
    runtime_imports: list[str]
    stdlib_imports: list[str]
    module_imports: list[str]
    #: The declaration the module was resolved from, for consumers that need
    #: the schema's own terms next to the rendered ones.
    spec: SchemaFile
    exports: list[str] = field(default_factory=list)
    #: The views, in declaration order (``VIEWS``).
    views: list[ResolvedView] = field(default_factory=list)

    @property
    def table_imports(self) -> bool:
        """Whether the module imports what table classes use (``Mapping``,
        ``TYPE_CHECKING``, ...): unless it has views and no tables."""
        return bool(self.tables) or not self.views

    @property
    def title(self) -> str:
        """The module docstring's first words."""
        if self.views:
            return "Tables and views" if self.tables else "Views"
        return "Tables"

    @property
    def typing_imports(self) -> list[str]:
        """Names imported from ``typing`` (``overload`` only where a table has
        foreign keys to prefetch; none for a module of views only)."""
        if not self.table_imports:
            return []
        names = ["TYPE_CHECKING", "Any"]
        if any(t.objects_overloads for t in self.tables):
            names.append("overload")
        return names

    @property
    def typing_extensions_imports(self) -> list[str]:
        """Names imported from ``typing_extensions``: the row types' ``TypedDict``.

        pydantic (so FastAPI's response models) refuses ``typing.TypedDict``
        before Python 3.12 ("Please use `typing_extensions.TypedDict` instead
        of `typing.TypedDict` on Python < 3.12"), the project's minimum being
        3.11; ``NotRequired`` comes from the same place for consistency.
        """
        names = ["TypedDict"]
        relations: list[ResolvedTable | ResolvedView] = [*self.tables, *self.views]
        if any(c.secret for t in relations for c in t.columns):
            names.insert(0, "NotRequired")
        return names


@dataclass(frozen=True)
class _TableRef:
    module: str
    name: str


class _Resolver:
    """Resolution state shared by every module of one build."""

    def __init__(self, validated: ValidatedBuild) -> None:
        self.validated = validated
        self.schemas = {s.module: s for s in validated.schemas}

    def target(self, schema: LoadedSchema, table: str, column: str) -> _TableRef:
        """The table a column's ``references`` (or ``through``) names, as validated."""
        ref = self.validated.target(schema, table, column)
        return _TableRef(ref.schema.module, ref.name)

    def table_spec(self, ref: _TableRef) -> TableSpec:
        return self.schemas[ref.module].spec.tables[ref.name]

    def primary_key(self, ref: _TableRef) -> tuple[str, ColumnSpec | None]:
        for name, column in self.table_spec(ref).columns.items():
            if column.primary_key:
                return name, column
        return "id", None

    def key_column(self, schema: LoadedSchema, table: str, column: str) -> str | None:
        """The target column a foreign key names, ``None`` for the primary key."""
        return self.validated.target_column(schema, table, column)

    def key_value_type(self, ref: _TableRef, to: str | None) -> str:
        """The value type of a key to ``ref``'s primary key, or to its column ``to``."""
        if to is None:
            _, column = self.primary_key(ref)
        else:
            column = self.table_spec(ref).columns[to]
        if column is None:
            return "int"
        return _TYPES[column.type][1]

    def joins_needed(self) -> set[_JoinKey]:
        """(table, target column, nullable) triples whose join class some
        annotation uses.

        A foreign key to T gives ``TJoin`` (or ``TNullableJoin`` when the key
        is nullable), one to T's unique column ``email`` ``TByEmailJoin`` (its
        key type is the column's); a join class annotates T's own foreign keys
        with join classes too, nullable when the path so far is.
        """
        todo: list[_JoinKey] = []
        for schema in self.schemas.values():
            relations: list[tuple[str, Mapping[str, ColumnSpec]]] = [
                *((n, t.columns) for n, t in schema.spec.tables.items()),
                *((n, v.columns) for n, v in schema.spec.views.items()),
            ]
            for table_name, columns in relations:
                for name, column in columns.items():
                    if column.type == "foreign_key":
                        ref = self.target(schema, table_name, name)
                        to = self.key_column(schema, table_name, name)
                        todo.append((ref, to, column.null))
        needed: set[_JoinKey] = set()
        while todo:
            item = todo.pop()
            if item in needed:
                continue
            needed.add(item)
            ref, _, nullable = item
            schema = self.schemas[ref.module]
            for name, column in self.table_spec(ref).columns.items():
                if column.type == "foreign_key":
                    target = self.target(schema, ref.name, name)
                    to = self.key_column(schema, ref.name, name)
                    todo.append((target, to, nullable or column.null))
        return needed


#: A join class: its table, the target column (``None``: the primary key), nullable.
_JoinKey = tuple[_TableRef, str | None, bool]


_join_name = join_class_name


def _alias(module: str) -> str:
    # Column names cannot start with "_", so the alias cannot be shadowed in a
    # class body, where annotations are evaluated.
    return f"_{module}"


class _ModuleResolver:
    """Resolves one schema file into a module."""

    def __init__(self, build: _Resolver, schema: LoadedSchema) -> None:
        self.build = build
        self.schema = schema
        # A module of views only needs none of the tables' names.
        spec = schema.spec
        self.runtime: set[str] = set(_ALWAYS_IMPORTED if spec.tables or not spec.views else ())
        self.stdlib: set[str] = set()
        self.tables: dict[str, ResolvedTable] = {}

    def qualified(self, ref: _TableRef, name: str) -> str:
        """``name`` as this module refers to it: through its module's alias when
        ``ref`` is in another module (``ValidatedBuild.imported_modules``)."""
        if ref.module == self.schema.module:
            return name
        return f"{_alias(ref.module)}.{name}"

    def note_types(self, type_expr: str) -> None:
        for module in ("datetime", "decimal", "uuid"):
            if f"{module}." in type_expr:
                self.stdlib.add(module)

    def column(self, table: str, name: str, spec: ColumnSpec) -> ResolvedColumn:
        arguments: list[str] = []
        nullable = spec.null
        target: tuple[str, str] | None = None
        if spec.type == "foreign_key":
            ref = self.build.target(self.schema, table, name)
            to = self.build.key_column(self.schema, table, name)
            key_type = self.build.key_value_type(ref, to)
            join = self.qualified(ref, _join_name(ref.name, nullable, to))
            runtime_class = join
            annotation = join
            value_type = f"{key_type} | None" if nullable else key_type
            target_class = self.qualified(ref, ref.name)
            init_type = f"{key_type} | {target_class}" + (" | None" if nullable else "")
            arguments.append(f"lambda: {target_class}")
            if to is not None:
                arguments.append(f"to={py_str(to)}")
            for option, action in (("on_delete", spec.on_delete), ("on_update", spec.on_update)):
                if action is not None and action != _ACTION_DEFAULT:
                    arguments.append(f"{option}={py_str(action)}")
            if spec.deferrable:
                arguments.append("deferrable=True")
            if spec.initially_deferred:
                arguments.append("initially_deferred=True")
            target = (_alias(ref.module) if ref.module != self.schema.module else "", ref.name)
            self.note_types(key_type)
        elif spec.type == "array":
            assert spec.of is not None
            element_class, element_type = _TYPES[spec.of.type]
            self.runtime.update(("Array", element_class))
            runtime_class = "Array"
            base = f"list[{element_type}]"
            value_type = f"{base} | None" if nullable else base
            annotation = f"Array[{value_type}]"
            init_type = value_type
            arguments.append(f"{element_class}({', '.join(_type_arguments(spec.of))})")
            self.note_types(base)
        else:
            runtime_class, base = _TYPES[spec.type]
            if name == "password" and self.schema.spec.tables[table].auth:
                # A user table's password: a Secret that update() refuses.
                runtime_class = "Password"
            self.runtime.add(runtime_class)
            if spec.choices:
                base = spec.choices
                self.stdlib.add("enum")
            value_type = f"{base} | None" if nullable else base
            annotation = f"{runtime_class}[{value_type}]"
            init_type = value_type
            if spec.type == "enum":
                # Enum(Mood, type_name="mood"): the class first, and the type's name.
                assert spec.choices is not None
                native = self.schema.spec.enums[spec.choices]
                assert isinstance(native, NativeEnumSpec)
                arguments.append(spec.choices)
                arguments.append(f"type_name={py_str(enum_type_name(spec.choices, native))}")
            arguments.extend(_type_arguments(spec))
            self.note_types(base)
        if nullable:
            arguments.append("null=True")
        for option in ("primary_key", "unique", "index", "required"):
            if getattr(spec, option):
                arguments.append(f"{option}=True")
        default = None
        if "default" in spec.model_fields_set:
            default = self.default(table, name, spec)
            arguments.append(f"default={default}")
        if spec.choices and spec.type != "enum":
            arguments.append(f"choices={spec.choices}")
        if spec.db_column_name:
            arguments.append(f"db_column_name={py_str(spec.db_column_name)}")
        if spec.help_text:
            arguments.append(f"help_text={py_str(spec.help_text)}")
        # A column of a composite key: required like a key column (the
        # runtime's ``Table`` marks it so), and not an ``update()`` keyword.
        tables = self.schema.spec.tables
        in_key = table in tables and name in (tables[table].primary_key or ())
        return ResolvedColumn(
            name=name,
            runtime_class=runtime_class,
            value_type=value_type,
            annotation=annotation,
            arguments=arguments,
            init_type=init_type,
            required=_required(spec) or (in_key and "default" not in spec.model_fields_set),
            primary_key=spec.primary_key or in_key,
            help_text=spec.help_text,
            target=target,
            target_column=to if spec.type == "foreign_key" else None,
            nullable=nullable,
            secret=spec.type == "secret",
            spec=spec,
            default=default,
        )

    def default(self, table: str, name: str, spec: ColumnSpec) -> str:
        """The default as a Python expression (validated already)."""
        value = spec.default
        if value is None:
            return "None"
        dynamic = _DYNAMIC_DEFAULTS.get((spec.type, str(value)))
        if dynamic is not None:
            self.runtime.add(dynamic)
            return f"{dynamic}()"
        return self.literal(value, spec)

    def literal(self, value: object, spec: ColumnSpec) -> str:
        """A literal default (or an array default's item) as a Python expression."""
        if spec.type == "array":
            assert spec.of is not None and isinstance(value, list)
            return "[" + ", ".join(self.literal(item, spec.of) for item in value) + "]"
        if spec.choices:
            return f"{spec.choices}.{value}"
        kind = spec.type
        if kind in ("json", "jsonb"):
            return py_str(json.dumps(value))
        if kind == "numeric":
            self.stdlib.add("decimal")
            return f"decimal.Decimal({py_str(str(decimal.Decimal(str(value))))})"
        if kind == "date":
            self.stdlib.add("datetime")
            return repr(datetime.date.fromisoformat(str(value)))
        if kind == "time":
            self.stdlib.add("datetime")
            return repr(datetime.time.fromisoformat(str(value)))
        if kind in ("timestamp", "timestamptz"):
            self.stdlib.add("datetime")
            return repr(datetime.datetime.fromisoformat(str(value)))
        if kind == "interval":
            self.stdlib.add("datetime")
            return f"datetime.timedelta(seconds={value!r})"
        if kind == "uuid":
            self.stdlib.add("uuid")
            return f"uuid.UUID({py_str(str(uuid.UUID(str(value))))})"
        if kind in ("real", "double_precision"):
            return repr(float(value))  # type: ignore[arg-type]
        return _literal(value)

    def table(self, name: str, spec: TableSpec) -> ResolvedTable:
        if name not in self.tables:
            self.tables[name] = self._table(name, spec)
        return self.tables[name]

    def _table(self, name: str, spec: TableSpec) -> ResolvedTable:
        columns: list[ResolvedColumn] = []
        if not spec.declares_key():
            self.runtime.add("Serial")
            columns.append(
                ResolvedColumn(
                    name="id",
                    runtime_class="Serial",
                    value_type="int",
                    annotation="Serial[int]",
                    arguments=["primary_key=True"],
                    init_type="int",
                    required=False,
                    primary_key=True,
                    help_text=None,
                )
            )
        m2m: list[ResolvedM2M] = []
        for column_name, column in spec.columns.items():
            if column.type == "m2m":
                m2m.append(self.m2m(name, column_name, column))
                continue
            columns.append(self.column(name, column_name, column))
        auth_key_type = None
        if spec.auth:
            # runtime.BaseUser's functions (the password column is a Password).
            self.runtime.update(("BaseUser", "CreateUser"))
            auth_key_type = next(c.value_type for c in columns if c.primary_key)
        resolved = ResolvedTable(
            name=name,
            tablename=spec.tablename or snake_case(name),
            help_text=spec.help_text,
            columns=columns,
            class_arguments=self.table_arguments(spec),
            m2m=m2m,
            composite_foreign_keys=[
                self.composite_foreign_key(name, fk_name, spec) for fk_name in spec.foreign_keys
            ],
            auth_key_type=auth_key_type,
        )
        self.prefetch(resolved)
        return resolved

    def prefetch(self, table: ResolvedTable) -> None:
        """The ``objects()`` overloads and row classes of foreign-key prefetching.

        A foreign key's join class is shared by every key to the same table,
        so a single key is typed exactly (``Band.objects(Band.manager)`` gives
        ``BandWithManager``: ``manager`` is a ``Manager | None``) only when no
        other key of the table has the same join class. Otherwise, and for
        several keys at once, the result is ``<Table>Prefetched``, whose keys
        are each "the key or the row". One class per key plus one per table:
        linear in the schema, unlike one class per combination of keys.
        """
        keys = [c for c in table.columns if c.target is not None]
        if not keys:
            return
        self.runtime.add("ForeignKey")
        by_join: dict[str, list[ResolvedColumn]] = {}
        for column in keys:
            by_join.setdefault(column.runtime_class, []).append(column)
        several = f"{table.name}Prefetched"

        def related(column: ResolvedColumn) -> str:
            assert column.target is not None
            alias, target = column.target
            return f"{alias}.{target}" if alias else target

        for join, columns in by_join.items():
            if len(columns) > 1:
                table.objects_overloads.append(([f"prefetch: {join}", "/"], several))
                continue
            column = columns[0]
            name = prefetch_class_name(table.name, column.name)
            row = related(column) + (" | None" if column.nullable else "")
            table.objects_overloads.append(([f"prefetch: {join}", "/"], name))
            table.prefetch_classes.append(
                PrefetchClass(
                    name=name,
                    doc=(
                        f"``{table.name}`` rows of ``{table.name}.objects({table.name}."
                        f"{column.name})``: ``{column.name}`` holds the related row."
                    ),
                    columns=[(column.name, row)],
                )
            )
        if len(keys) > 1:
            union = " | ".join(by_join)
            table.objects_overloads.append(
                ([f"p1: {union}", f"p2: {union}", "/", f"*more: {union}"], several)
            )
            table.prefetch_classes.append(
                PrefetchClass(
                    name=several,
                    doc=(
                        f"``{table.name}`` rows of ``{table.name}.objects(...)`` prefetching"
                        " several keys (or a key sharing its join class): each key holds"
                        " its value or, when prefetched, the related row."
                    ),
                    columns=[
                        (
                            c.name,
                            f"{c.value_type.removesuffix(' | None')} | {related(c)}"
                            + (" | None" if c.nullable else ""),
                        )
                        for c in keys
                    ],
                )
            )

    def m2m(self, table: str, name: str, spec: ColumnSpec) -> ResolvedM2M:
        """``genres: M2M[Band, Genre, GenreRow] = M2M(lambda: GenreToBand)``.

        The target is the joining table's foreign key that does not point at
        ``table`` (``ValidatedBuild.m2m_target``).
        """
        through = self.build.target(self.schema, table, name)
        other = self.build.validated.m2m_target(self.schema, table, name)
        target = _TableRef(other.schema.module, other.name)
        self.runtime.add("M2M")
        arguments = [f"lambda: {self.qualified(through, through.name)}"]
        if spec.help_text:
            arguments.append(f"help_text={py_str(spec.help_text)}")
        annotation = (
            f"M2M[{table}, {self.qualified(target, target.name)},"
            f" {self.qualified(target, target.name + 'Row')}]"
        )
        return ResolvedM2M(
            name=name, annotation=annotation, arguments=arguments, help_text=spec.help_text
        )

    def composite_foreign_key(
        self, table: str, name: str, spec: TableSpec
    ) -> ResolvedCompositeForeignKey:
        """``entry: CompositeForeignKey[PlaylistTrack] = CompositeForeignKey(("a", "b"),
        lambda: PlaylistTrack)``."""
        fk = spec.foreign_keys[name]
        ref = self.build.target(self.schema, table, name)
        target = self.qualified(ref, ref.name)
        self.runtime.add("CompositeForeignKey")
        arguments = [_tuple([py_str(c) for c in fk.columns]), f"lambda: {target}"]
        for option, action in (("on_delete", fk.on_delete), ("on_update", fk.on_update)):
            if action != _ACTION_DEFAULT:
                arguments.append(f"{option}={py_str(action)}")
        if fk.name is not None:
            arguments.append(f"name={py_str(fk.name)}")
        nullable = any(spec.columns[c].null for c in fk.columns)
        related = f"{target} | None" if nullable else target
        return ResolvedCompositeForeignKey(
            name=name, annotation=f"CompositeForeignKey[{related}]", arguments=arguments
        )

    def table_arguments(self, spec: TableSpec) -> list[str]:
        """``indexes=``, ``unique=`` and ``checks=`` of the class statement, when the
        table has them."""
        arguments: list[str] = []
        if spec.primary_key is not None:
            arguments.append(f"primary_key={_tuple([py_str(c) for c in spec.primary_key])}")
        if spec.indexes:
            self.runtime.add("Index")
            indexes = []
            for index in spec.indexes:
                parts = [py_str(column) for column in index.columns]
                if index.unique:
                    parts.append("unique=True")
                if index.name is not None:
                    parts.append(f"name={py_str(index.name)}")
                indexes.append(f"Index({', '.join(parts)})")
            arguments.append(f"indexes={_tuple(indexes)}")
        if spec.unique:
            groups = [_tuple([py_str(c) for c in columns]) for columns in spec.unique]
            arguments.append(f"unique={_tuple(groups)}")
        if spec.checks:
            self.runtime.add("Check")
            checks = [f"Check({py_str(n)}, {py_str(sql)})" for n, sql in spec.checks.items()]
            arguments.append(f"checks={_tuple(checks)}")
        return arguments

    def view(self, name: str, spec: ViewSpec) -> ResolvedView:
        """A view class: its columns as a table's (no implicit ``id``), its SQL
        as the ``sql=`` argument."""
        self.runtime.add("MaterializedView" if spec.materialized else "View")
        if isinstance(spec.sql, str):
            sql = py_str(spec.sql)
        else:
            sql = "{" + ", ".join(f"{py_str(d)}: {py_str(t)}" for d, t in spec.sql.items()) + "}"
        return ResolvedView(
            name=name,
            viewname=spec.viewname or snake_case(name),
            help_text=spec.help_text,
            materialized=spec.materialized,
            columns=[self.column(name, c, column) for c, column in spec.columns.items()],
            sql=sql,
        )

    def join_class(self, name: str, nullable: bool, to: str | None) -> JoinClass:
        """``ManagerJoin``: the columns of ``Manager`` seen through a foreign key
        (to its primary key, or to its column ``to``)."""
        ref = _TableRef(self.schema.module, name)
        table = self.table(name, self.build.table_spec(ref))
        columns: list[tuple[str, str]] = []
        for column in table.columns:
            if column.target is not None:
                alias, target = column.target
                join = _join_name(target, nullable or column.nullable, column.target_column)
                columns.append((column.name, f"{alias}.{join}" if alias else join))
            else:
                value = column.value_type
                if nullable and not column.nullable:
                    value = f"{value} | None"
                columns.append((column.name, f"{column.runtime_class}[{value}]"))
        key_type = self.build.key_value_type(ref, to)
        self.note_types(key_type)
        self.runtime.add("ForeignKey")
        return JoinClass(
            name=_join_name(name, nullable, to),
            table=name,
            key_type=f"{key_type} | None" if nullable else key_type,
            related_type=f"{name} | None" if nullable else name,
            columns=columns,
            to=to,
        )

    def resolve(self, needed: set[_JoinKey]) -> ResolvedModule:
        spec = self.schema.spec
        tables = {name: self.table(name, table) for name, table in spec.tables.items()}
        # Foreign-key order, ties in declaration order: create_tables(*TABLES).
        order = _fk_order(self.build.validated.same_module_dependencies(self.schema))
        for position, name in enumerate(order):
            for column in tables[name].columns:
                if column.target is not None and column.target[0] == "":
                    if order.index(column.target[1]) > position:
                        column.forward = True
                        self.runtime.add("forward_key")
        # Per table: the key to its primary key first, then those to its
        # other columns in declaration order, each non-null then nullable.
        joins = [
            self.join_class(name, nullable, to)
            for name, table in spec.tables.items()
            for to in (None, *table.columns)
            for nullable in (False, True)
            if (_TableRef(self.schema.module, name), to, nullable) in needed
        ]
        enums = [
            (
                enum_name,
                (
                    "enum.IntEnum"
                    if all(isinstance(v, int) for v in members.values())
                    else "enum.StrEnum"
                ),
                [(member, _literal(value)) for member, value in members.items()],
            )
            for enum_name, members in ((n, enum_members(e)) for n, e in spec.enums.items())
        ]
        if enums:
            self.stdlib.add("enum")
        exports = [e[0] for e in enums]
        for name in order:
            exports += [name, f"{name}Row"]
        views = [self.view(name, view) for name, view in spec.views.items()]
        for view in views:
            exports += [view.name, view.row_name]
        exports += [j.name for j in joins]
        exports += ["TABLES", "VIEWS"]
        return ResolvedModule(
            module=self.schema.module,
            source=source_label(self.schema.path),
            enums=enums,
            tables=[tables[n] for n in order],
            joins=joins,
            runtime_imports=sorted(self.runtime),
            stdlib_imports=sorted(self.stdlib),
            module_imports=self.build.validated.imported_modules(self.schema),
            spec=spec,
            exports=exports,
            views=views,
        )


def _literal(value: object) -> str:
    """A Python literal for a schema value, strings quoted as black quotes them."""
    return py_str(value) if isinstance(value, str) else repr(value)


def _type_arguments(spec: ColumnSpec) -> list[str]:
    """The type's own constructor arguments (``length=``, ``digits=``)."""
    arguments: list[str] = []
    if spec.type in ("varchar", "char") and spec.length is not None:
        arguments.append(f"length={spec.length}")
    if spec.type == "numeric" and spec.digits is not None:
        arguments.append(f"digits=({spec.digits[0]}, {spec.digits[1]})")
    return arguments


def _tuple(items: list[str]) -> str:
    """A tuple display; the comma only where one item needs it (black keeps
    a "magic" trailing comma exploded over several lines)."""
    return f"({items[0]},)" if len(items) == 1 else f"({', '.join(items)})"


def _fk_order(dependencies: dict[str, list[str]]) -> list[str]:
    """Tables in foreign-key order, otherwise in declaration order.

    Each step takes the first declared table whose same-module targets are
    all placed. Where none is (foreign keys that form a cycle), it takes the
    first declared table whose unplaced targets all lead back to it (one
    always does: a cycle that no other unplaced table waits on): its keys to
    them close the cycle, and ``create_tables`` adds them after the tables.
    """
    order: list[str] = []
    remaining = list(dependencies)
    while remaining:
        placed = set(order)
        ready = next((n for n in remaining if set(dependencies[n]) <= placed), None)
        if ready is None:
            ready = next(
                n
                for n in remaining
                if all(_leads_to(dependencies, t, n, placed) for t in dependencies[n])
            )
        order.append(ready)
        remaining.remove(ready)
    return order


def _leads_to(dependencies: dict[str, list[str]], start: str, goal: str, placed: set[str]) -> bool:
    """Whether foreign keys lead from ``start`` to ``goal`` through unplaced tables
    (a placed ``start`` needs no path)."""
    if start in placed:
        return True
    seen: set[str] = set()
    stack = [start]
    while stack:
        name = stack.pop()
        if name == goal:
            return True
        if name in seen or name in placed:
            continue
        seen.add(name)
        stack.extend(dependencies[name])
    return False


def resolve(validated: ValidatedBuild) -> list[ResolvedModule]:
    """The intermediate model of every module of a validated build, in file order."""
    build = _Resolver(validated)
    needed = build.joins_needed()
    return [_ModuleResolver(build, schema).resolve(needed) for schema in validated.schemas]
