"""The pydantic models of a resolved module: ``<module>_models.py``.

Opt-in per project (``pydantic = true`` in ``[tool.piccolo-gen]``). Per
table ``T``: ``TRead`` (validates a ``T`` instance through
``from_attributes``, or a ``TRow``), ``TCreate`` (the columns a new row takes:
required ones required, the others optional with the default the table would
give) and ``TUpdate`` (every column but the primary key, all optional: the
keys given are the columns to set), plus one read model per prefetch row
class of the table module (``BandWithManager`` -> ``BandWithManagerRead``,
whose ``manager`` is a nested ``ManagerRead | None``). A field carries what
the schema knows: the value type (enums, nullability, naive or aware
datetimes), the varchar length, the numeric digits, the integer range and the
help text as its description.

The models live in modules of their own: the table modules import only the
runtime, the standard library and ``typing_extensions``, so an application
that does not use pydantic never imports it. The decisions are made here, in
Python; ``templates/models.py.jinja`` only lays them out.
"""

from __future__ import annotations

import datetime
import decimal
import enum
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import runtime
from runtime._columns import DynamicDefault

from . import layout
from .kinds import KINDS
from .layout import py_str
from .model import enum_members
from .names import MODELS_SUFFIX

if TYPE_CHECKING:
    from .model import ColumnSpec
    from .resolve import ResolvedColumn, ResolvedModule, ResolvedTable, ResolvedView

__all__ = ["MODEL_METHODS", "ModelClass", "ModelsModule", "RESERVED_FIELD_NAMES", "models_module"]

#: The methods the generated models define: ``TCreate.instance()`` and
#: ``TUpdate.apply(row)``.
MODEL_METHODS = ("instance", "apply")

#: Names a field of a model cannot have as its attribute: ``BaseModel``'s
#: own (pydantic 2's methods and the deprecated ones of pydantic 1, which it
#: still defines; any name starting with ``model_`` too), the models' methods
#: and the names the models module imports (a field would shadow them in the
#: class body). Such a column's field is ``<name>_`` with the column's name as
#: its alias, so JSON, ``from_attributes`` and rows still use the column's name.
RESERVED_FIELD_NAMES = frozenset(
    {
        "construct",
        "copy",
        "dict",
        "from_orm",
        "json",
        "parse_file",
        "parse_obj",
        "parse_raw",
        "schema",
        "schema_json",
        "update_forward_refs",
        "validate",
        "Annotated",
        "AwareDatetime",
        "BaseModel",
        "ConfigDict",
        "Field",
        "JsonDict",
        "NaiveDatetime",
        "TypeAlias",
        *MODEL_METHODS,
    }
)

#: The value type of a kind in the models, where it says more than the table
#: module's: pydantic's naive and aware datetimes (the runtime refuses the
#: other kind before any SQL).
_MODEL_TYPES = {"timestamp": "NaiveDatetime", "timestamptz": "AwareDatetime"}


@dataclass
class ModelClass:
    """One pydantic model: its statement lines, already laid out."""

    name: str
    doc: str
    #: The arguments of ``ConfigDict(...)``.
    config: list[str]
    #: The field declarations, one (laid out) statement each.
    fields: list[str]
    #: Methods, each a block of lines (indented by four spaces).
    methods: list[str] = field(default_factory=list)

    @property
    def config_line(self) -> str:
        """``model_config = ConfigDict(...)``, laid out.

        Not ``defer_build=True``, which would make importing a module of a
        thousand models cheap: FastAPI (0.165) fails on a deferred model as
        a request body (``AttributeError: __pydantic_core_schema__``)."""
        return layout.call_assignment("    ", "model_config", "ConfigDict", self.config)


@dataclass
class ModelsModule:
    """Everything ``<module>_models.py`` holds."""

    module: str
    source: str
    stdlib_imports: list[str]
    pydantic_imports: list[str]
    runtime_imports: list[str]
    #: Modules of the same package imported as ``_name``: the table module
    #: and the models modules of other schema files.
    package_imports: list[str]
    #: Whether ``_partial`` (the update models' JSON Schema hook) is needed.
    partial: bool
    classes: list[ModelClass]
    #: Names imported from ``typing``.
    typing_imports: list[str] = field(default_factory=list)
    #: Type alias statements, laid out: the constrained integer types.
    aliases: list[str] = field(default_factory=list)

    @property
    def name(self) -> str:
        return self.module + MODELS_SUFFIX

    @property
    def exports(self) -> list[str]:
        return [c.name for c in self.classes]


class _Builder:
    def __init__(self, module: ResolvedModule) -> None:
        self.module = module
        self.alias = f"_{module.module}"
        self.stdlib: set[str] = set()
        self.pydantic: set[str] = {"BaseModel", "ConfigDict"}
        self.runtime: set[str] = set()
        self.package: set[str] = {module.module}
        #: Type aliases of the module: name -> type.
        self.aliases: dict[str, str] = {}

    # -- types ------------------------------------------------------------------

    def note(self, text: str) -> str:
        for name in ("datetime", "decimal", "uuid"):
            if f"{name}." in text:
                self.stdlib.add(name)
        return text

    def annotated(self, base: str, constraints: list[str]) -> str:
        if not constraints:
            return base
        self.pydantic.add("Field")
        self.stdlib.add("typing")
        return f"Annotated[{base}, Field({', '.join(constraints)})]"

    def value_type(self, column: ResolvedColumn) -> tuple[str, list[str]]:
        """The field type of ``column`` (``| None`` included when nullable) and
        the constraints its ``Field(...)`` carries."""
        spec = column.spec
        constraints: list[str] = []
        if spec is None or column.target is not None:
            # The implicit id, or a key: the key's value type (int, str, uuid.UUID).
            base = column.value_type.removesuffix(" | None")
            if spec is None:
                base = self.ranged("serial") or base
        else:
            base, constraints = self.element_type(spec)
        return self.note(f"{base} | None" if column.nullable else base), constraints

    def element_type(self, spec: ColumnSpec) -> tuple[str, list[str]]:
        """The type of a value of ``spec`` (not null) and its constraints; an
        array's elements carry theirs in ``Annotated``."""
        if spec.choices:
            return f"{self.alias}.{spec.choices}", []
        if spec.type == "array":
            assert spec.of is not None
            element, element_constraints = self.element_type(spec.of)
            return f"list[{self.annotated(element, element_constraints)}]", []
        ranged = self.ranged(spec.type)
        if ranged is not None:
            return ranged, []
        kind = KINDS[spec.type]
        model_type = _MODEL_TYPES.get(spec.type)
        if model_type is not None:
            self.pydantic.add(model_type)
            base = model_type
        else:
            assert kind.python_type is not None
            base = kind.python_type
        constraints: list[str] = []
        length = getattr(_runtime_column(spec, self.module), "length", None)
        if isinstance(length, int):
            constraints.append(f"max_length={length}")
        if spec.type == "numeric" and spec.digits is not None:
            constraints += [f"max_digits={spec.digits[0]}", f"decimal_places={spec.digits[1]}"]
        return base, constraints

    def ranged(self, kind: str) -> str | None:
        """The alias of an integer type with its range (``_Integer``), defined
        once per module: ``Annotated[int, Field(ge=-2147483648, le=2147483647)]``."""
        value_range = KINDS[kind].value_range
        if value_range is None:
            return None
        name = f"_{KINDS[kind].runtime_class}"
        self.aliases[name] = self.annotated("int", [f"ge={value_range[0]}", f"le={value_range[1]}"])
        return name

    # -- defaults ---------------------------------------------------------------

    def fallback(self, column: ResolvedColumn) -> tuple[str, bool]:
        """The value a new row takes when not given ``column``, as an
        expression and whether it is a ``default_factory``: the declared
        default, ``None`` for a nullable column, else the runtime's zero
        default (``""``, ``0``, the first member, "now", a fresh uuid4)."""
        spec = column.spec
        if column.default is not None:
            assert spec is not None
            if column.default.endswith("()") and column.default[:-2] in runtime.__all__:
                self.runtime.add(column.default[:-2])
                return f"{column.default}.python", True
            if spec.choices:
                return f"{self.alias}.{column.default}", False
            return self.note(column.default), False
        if column.nullable:
            return "None", False
        if spec is None or column.target is not None:
            # A key: the zero of its value type (``update()`` models only:
            # a new row's non-null key is required).
            key = column.value_type
            kind = next(k for k in KINDS.values() if k.python_type == key and k.runtime_class)
            assert kind.runtime_class is not None
            value = getattr(runtime, kind.runtime_class)()._zero_default()
        else:
            value = _runtime_column(spec, self.module)._zero_default()
        return self.literal(value, spec)

    def literal(self, value: object, spec: ColumnSpec | None) -> tuple[str, bool]:
        if isinstance(value, DynamicDefault):
            name = type(value).__name__
            self.runtime.add(name)
            return f"{name}().python", True
        if isinstance(value, enum.Enum):
            assert spec is not None
            return f"{self.alias}.{spec.choices}.{value.name}", False
        if isinstance(value, str):
            return py_str(value), False
        if isinstance(value, decimal.Decimal):
            self.stdlib.add("decimal")
            return f"decimal.Decimal({py_str(str(value))})", False
        if isinstance(value, datetime.timedelta):
            self.stdlib.add("datetime")
            return repr(value), False
        if isinstance(value, (bool, int, float, bytes, list)):
            return repr(value), False
        raise AssertionError(f"no literal for the zero default {value!r}")

    # -- fields -----------------------------------------------------------------

    def field_line(
        self,
        column: ResolvedColumn,
        annotation: tuple[str, list[str]],
        *,
        default: tuple[str, bool] | None = None,
    ) -> str:
        """``name: type``, ``= default`` or ``= Field(...)`` with the default,
        the alias (a reserved name) and the description (the help text)."""
        name = column.name
        attribute = f"{name}_" if _reserved(name) else name
        arguments: list[str] = []
        if default is not None:
            value, factory = default
            arguments.append(f"default_factory={value}" if factory else f"default={value}")
        if attribute != name:
            arguments.append(f"alias={py_str(name)}")
        arguments += annotation[1]
        if column.help_text:
            arguments.append(f"description={py_str(column.help_text)}")
        target = f"{attribute}: {annotation[0]}"
        if not arguments:
            return f"    {target}"
        if default is not None and len(arguments) == 1 and not default[1]:
            return f"    {target} = {default[0]}"
        self.pydantic.add("Field")
        return layout.call_assignment("    ", target, "Field", arguments)

    def read_fields(
        self, table: ResolvedTable | ResolvedView, retyped: dict[str, str]
    ) -> list[str]:
        return [
            self.field_line(c, (retyped[c.name], []) if c.name in retyped else self.value_type(c))
            for c in table.columns
            if not c.secret
        ]

    # -- models -----------------------------------------------------------------

    def table_class(self, table: ResolvedTable | ResolvedView) -> str:
        return f"{self.alias}.{table.name}"

    def read(self, table: ResolvedTable | ResolvedView) -> ModelClass:
        """The read model: of a table, or of a view (a view has no other model)."""
        doc = (
            f"A ``{table.name}`` row: ``{table.name}Read.model_validate(row)`` takes a"
            f" ``{table.name}`` or a ``{table.row_name}``."
        )
        return ModelClass(
            name=f"{table.name}Read",
            doc=_first_line(table.help_text) or doc,
            config=["from_attributes=True"],
            fields=self.read_fields(table, {}),
        )

    def create(self, table: ResolvedTable) -> ModelClass:
        fields = []
        for column in table.columns:
            if column.primary_key and _numbered(column):
                continue
            required = column.required or (
                column.target is not None and not column.nullable and column.default is None
            )
            fields.append(
                self.field_line(
                    column,
                    self.value_type(column),
                    default=None if required else self.fallback(column),
                )
            )
        name = table.name
        instance = "\n".join(
            [
                f"    def instance(self) -> {self.table_class(table)}:",
                f'        """A new ``{name}`` (not saved yet) with the values given."""',
                f"        return {self.table_class(table)}(",
                "            **self.model_dump(exclude_unset=True, by_alias=True)",
                "        )",
            ]
        )
        return ModelClass(
            name=f"{name}Create",
            doc=f"The values of a new ``{name}``: ``{name}Create(...).instance()``.",
            config=['extra="forbid"'],
            fields=fields,
            methods=[_one_line_return(instance)],
        )

    def update(self, table: ResolvedTable) -> ModelClass:
        fields = [
            self.field_line(c, self.value_type(c), default=self.fallback(c))
            for c in table.columns
            if not c.primary_key
        ]
        name = table.name
        apply = "\n".join(
            [
                f"    def apply(self, row: {self.table_class(table)}) -> None:",
                '        """Set the columns given on ``row`` (then ``await row.save()``)."""',
                "        for name, value in self.model_dump(exclude_unset=True, by_alias=True).items():",
                "            setattr(row, name, value)",
            ]
        )
        return ModelClass(
            name=f"{name}Update",
            doc=(
                f"A partial update of a ``{name}``: the columns given are set,"
                " the others left as they are."
            ),
            config=['extra="forbid"', "json_schema_extra=_partial"],
            fields=fields,
            methods=[apply],
        )

    def nested_reads(self, table: ResolvedTable) -> list[ModelClass]:
        """A read model per prefetch row class of ``table`` (``BandWithManager``):
        the prefetched keys hold the related row's read model."""
        classes = []
        keys = {c.name: c for c in table.columns if c.target is not None}
        for prefetch in table.prefetch_classes:
            several = prefetch.name == f"{table.name}Prefetched"
            retyped = {}
            for name, _ in prefetch.columns:
                column = keys[name]
                read = self.read_name(column)
                key = column.value_type.removesuffix(" | None")
                annotation = f"{key} | {read}" if several else read
                retyped[name] = self.note(annotation + (" | None" if column.nullable else ""))
            what = (
                "each key its value or, when prefetched, the related row"
                if several
                else f"``{prefetch.columns[0][0]}`` the related row"
            )
            classes.append(
                ModelClass(
                    name=f"{prefetch.name}Read",
                    doc=f"A ``{table.name}`` row of ``objects()`` prefetching: {what}.",
                    config=["from_attributes=True"],
                    fields=self.read_fields(table, retyped),
                )
            )
        return classes

    def read_name(self, column: ResolvedColumn) -> str:
        assert column.target is not None
        alias, target = column.target
        if not alias:
            return f"{target}Read"
        models = alias.removeprefix("_") + MODELS_SUFFIX
        self.package.add(models)
        return f"_{models}.{target}Read"

    def build(self) -> ModelsModule:
        classes: list[ModelClass] = []
        for table in self.module.tables:
            classes += [self.read(table), self.create(table), self.update(table)]
        for table in self.module.tables:
            classes += self.nested_reads(table)
        classes += [self.read(view) for view in self.module.views]
        if self.module.tables:
            self.pydantic.add("JsonDict")
        return ModelsModule(
            module=self.module.module,
            source=self.module.source,
            stdlib_imports=sorted(self.stdlib - {"typing"}),
            pydantic_imports=sorted(self.pydantic - {"JsonDict"}),
            runtime_imports=sorted(self.runtime),
            package_imports=sorted(self.package),
            partial=bool(self.module.tables),
            classes=classes,
            typing_imports=(
                ["Annotated", *(["TypeAlias"] if self.aliases else [])]
                if "typing" in self.stdlib
                else []
            ),
            aliases=[_alias_statement(n, t) for n, t in sorted(self.aliases.items())],
        )


def _reserved(name: str) -> bool:
    return name in RESERVED_FIELD_NAMES or name.startswith("model_")


def _numbered(column: ResolvedColumn) -> bool:
    """Whether the database numbers the key (serial, bigserial): no create field."""
    spec = column.spec
    return spec is None or spec.type in ("serial", "bigserial")


def _alias_statement(name: str, type_: str) -> str:
    """``name: TypeAlias = Annotated[...]``, split inside the brackets as black
    splits it when too long."""
    line = f"{name}: TypeAlias = {type_}"
    head, bracket, inner = type_.partition("[")
    if layout.fits(line) or not bracket:
        return line
    return f"{name}: TypeAlias = {head}[\n{layout.INDENT}{inner[:-1]}\n]"


def _first_line(text: str | None) -> str | None:
    return text.strip().splitlines()[0].strip() if text and text.strip() else None


def _one_line_return(method: str) -> str:
    """The method with its ``return`` call on one line when it fits (black's choice)."""
    head, _, rest = method.partition("        return ")
    call = rest.replace("(\n            ", "(").replace("\n        )", ")")
    line = f"        return {call}"
    return head + line if layout.fits(line) else method


def _runtime_column(spec: ColumnSpec, module: ResolvedModule) -> Any:
    """The runtime's column object for ``spec``: it knows the zero default and
    the length (the generator keeps no copy of either)."""
    if spec.type == "array":
        assert spec.of is not None
        return runtime.Array(_runtime_column(spec.of, module))
    kind = KINDS[spec.type]
    assert kind.runtime_class is not None
    arguments: dict[str, Any] = {}
    if spec.type in ("varchar", "char") and spec.length is not None:
        arguments["length"] = spec.length
    if spec.type == "numeric" and spec.digits is not None:
        arguments["digits"] = tuple(spec.digits)
    if spec.choices:
        members = enum_members(module.spec.enums[spec.choices])
        arguments["choices"] = enum.Enum(spec.choices, list(members.items()))
    if spec.type == "enum":
        return runtime.Column(choices=arguments["choices"])
    return getattr(runtime, kind.runtime_class)(**arguments)


def models_module(module: ResolvedModule) -> ModelsModule:
    """The pydantic models of ``module``."""
    return _Builder(module).build()
