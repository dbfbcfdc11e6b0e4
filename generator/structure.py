"""Check the shape of a schema file with the pydantic models.

Pydantic reports every shape error of a file at once; this module turns them
into ``SchemaError``s a person can act on (with positions and suggestions)
and keeps going: the parts that are wrong are left out, and the rest of the
file becomes a ``SchemaFile`` so that ``validate`` can still check it. The
paths of the parts left out are returned, so that checks which need a whole
table or enum do not report consequences of an error already shown.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, get_args

from pydantic import BaseModel, ValidationError
from pydantic_core import ErrorDetails

from generator.errors import SchemaError, closest, show, suggest
from generator.model import (
    COLUMN_TYPES,
    ENUM_TAGS,
    ColumnSpec,
    IndexSpec,
    SchemaFile,
    TableSpec,
    ViewDialect,
    ViewSpec,
)
from generator.positions import NodePath, Positions, dotted

__all__ = ["StructureResult", "check_structure"]

# Names people bring from Python and other ORMs that similarity alone does
# not map to ours ("str" is no closer to "text" than to "secret").
_TYPE_ALIASES = {
    "str": "text",
    "string": "text",
    "int": "integer",
    "float": "double_precision",
    "double": "double_precision",
    "decimal": "numeric",
    "bool": "boolean",
    "datetime": "timestamp",
    "fk": "foreign_key",
    "many_to_many": "m2m",
    "list": "array",
    "dict": "json",
}

_EXPECTED = {
    "int_type": "an int",
    "bool_type": "true or false",
    "string_type": "a string",
    "dict_type": "a mapping",
    "model_type": "a mapping",
    "list_type": "a list",
    "tuple_type": "a list",
}

_COLUMN_EXAMPLE = "{type: varchar, length: 50}"


@dataclass(frozen=True)
class StructureResult:
    """The parts of a file that have the right shape, and what was wrong.

    ``spec`` is ``None`` only when nothing usable is left (the file is not a
    mapping at all). ``incomplete`` holds the paths of tables, enums or
    whole sections that were left out or lost a column.
    """

    spec: SchemaFile | None
    incomplete: frozenset[NodePath]
    errors: list[SchemaError]


def check_structure(data: object, positions: Positions, file: str) -> StructureResult:
    """Validate ``data`` against ``SchemaFile``, salvaging what is valid."""
    if data is None:
        data = {}  # an empty file is an empty schema
    try:
        return StructureResult(SchemaFile.model_validate(data), frozenset(), [])
    except ValidationError as exc:
        details = exc.errors()
    errors = _convert(details, data, positions, file)
    if not isinstance(data, dict):
        return StructureResult(None, frozenset(), errors)
    pruned = copy.deepcopy(data)
    incomplete: set[NodePath] = set()
    # Pruning removes every reported part; a second failure would be a gap
    # in `_prune`, and then nothing of the file is checked further.
    for _attempt in range(3):
        for detail in details:
            incomplete.add(_prune(pruned, _trim(data, detail["loc"])))
        try:
            return StructureResult(SchemaFile.model_validate(pruned), frozenset(incomplete), errors)
        except ValidationError as exc:
            details = exc.errors()
    return StructureResult(None, frozenset(), errors)


def _trim(data: object, loc: tuple[int | str, ...]) -> NodePath:
    """The part of ``loc`` that exists in ``data``.

    Pydantic adds union member tags (``enums.Size.small.str``) and the names
    of missing fields to locations; neither has a position.
    """
    path: list[str | int] = []
    node = data
    for part in loc:
        if part in ENUM_TAGS:
            continue
        if isinstance(node, dict) and part in node:
            node = node[part]
        elif isinstance(node, list) and isinstance(part, int) and part < len(node):
            node = node[part]
        else:
            break
        path.append(part)
    return tuple(path)


def _prune(data: dict[str, Any], path: NodePath) -> NodePath:
    """Remove the smallest unit containing ``path``; return that unit's owner.

    Units are a column, a table, an enum or a top-level key. The returned
    path (a table, an enum or a section) is what is now incomplete.
    """
    match path:
        case ("tables", str(table), "columns", str(column), *_):
            _delete(data, ("tables", table, "columns", column))
            return ("tables", table)
        case ("tables", str(table), *_):
            _delete(data, ("tables", table))
            return ("tables", table)
        case ("views", str(view), "columns", str(column), *_):
            _delete(data, ("views", view, "columns", column))
            return ("views", view)
        case ("views", str(view), *_):
            _delete(data, ("views", view))
            return ("views", view)
        case ("enums", str(enum), *_):
            _delete(data, ("enums", enum))
            return ("enums", enum)
        case (str(key), *_):
            _delete(data, (key,))
            return (key,)
        case _:
            return ()


def _delete(data: dict[str, Any], path: tuple[str, ...]) -> None:
    node: Any = data
    for part in path[:-1]:
        node = node.get(part) if isinstance(node, dict) else None
    if isinstance(node, dict):
        node.pop(path[-1], None)


def _model_at(loc: NodePath) -> type[BaseModel] | None:
    """The model whose fields are at ``loc`` (a mapping in the file), if any."""
    model: type[BaseModel] | None = SchemaFile
    rest = list(loc)
    while rest:
        part = rest.pop(0)
        if model is SchemaFile and part == "tables" and rest:
            rest.pop(0)
            model = TableSpec
        elif model is SchemaFile and part == "views" and rest:
            rest.pop(0)
            model = ViewSpec
        elif model in (TableSpec, ViewSpec) and part == "columns" and rest:
            rest.pop(0)
            model = ColumnSpec
        elif model is ColumnSpec and part == "of":
            model = ColumnSpec
        elif model is TableSpec and part == "indexes" and rest:
            rest.pop(0)
            model = IndexSpec
        else:
            return None
    return model


def _convert(
    details: list[ErrorDetails], data: object, positions: Positions, file: str
) -> list[SchemaError]:
    # Group by location: a value that fits no member of a union gets one
    # error per member, which read best as one message ("a string or an int").
    grouped: dict[tuple[NodePath, str], list[ErrorDetails]] = {}
    for detail in details:
        path = _trim(data, detail["loc"])
        digits = _digits_path(path)
        if digits is not None:
            # One message for the whole option, whatever is wrong inside it.
            grouped.setdefault((digits, "digits"), []).append(detail)
            continue
        if path[:1] == ("views",) and path[2:3] == ("sql",):
            # A view's sql is a string or a mapping by database: one message.
            grouped.setdefault((path[:3], "sql"), []).append(detail)
            continue
        kind = "type" if detail["type"] in _EXPECTED else detail["type"]
        missing_field = detail["loc"][len(path)] if detail["type"] == "missing" else ""
        grouped.setdefault((path, f"{kind}:{missing_field}"), []).append(detail)
    errors = []
    for (path, _kind), group in grouped.items():
        message, at_key = _message(path, group, data)
        line, col = positions.locate(path, at_key=at_key)
        errors.append(SchemaError(file, line, col, dotted(path), message))
    return errors


def _message(path: NodePath, group: list[ErrorDetails], data: object) -> tuple[str, bool]:
    """The message for errors at ``path``, and whether to show it at the key."""
    detail = group[0]
    kind = detail["type"]
    value = detail["input"]
    name = path[-1] if path else ""
    parent = path[:-1]
    if path[:1] == ("views",) and path[2:] == ("sql",):
        return _sql_message(group, _value_at(data, path)), False
    if _digits_path(path) == path:
        return (
            f"digits must be [precision, scale], e.g. [10, 2], not {show(_value_at(data, path))}",
            False,
        )
    if kind == "extra_forbidden":
        return _unknown_key(str(name), _model_at(parent), value), True
    if kind == "missing":
        return _missing(str(detail["loc"][len(path)]), _model_at(path)), True
    if kind == "literal_error" and name == "type":
        return _unknown_type(value), False
    if kind == "literal_error" and name == "native":
        return (
            f"native must be true, not {show(value)} (an enum that is not native leaves "
            "out the key: {member name: value})"
        ), False
    if kind == "literal_error":
        actions = _choices_of(detail)
        hint = suggest(str(value), actions)
        message = f"unknown {name} action {show(value)}"
        return (
            f"{message} - {hint}" if hint else f"{message}; expected one of: {', '.join(actions)}"
        ), False
    if kind in ("dict_type", "model_type"):
        return _not_a_mapping(path, value), False
    if kind in _EXPECTED:
        expected = " or ".join(
            dict.fromkeys(_EXPECTED[d["type"]] for d in group if d["type"] in _EXPECTED)
        )
        what = "an enum value" if path[:1] == ("enums",) and len(path) == 3 else repr(str(name))
        if isinstance(name, int):  # a list item: name it with its list ("unique[0]")
            what = repr(dotted(path[-2:]))
        return f"{what} must be {expected}, not {show(value)}", False
    return str(detail["msg"]), False


def _sql_message(group: list[ErrorDetails], value: object) -> str:
    """The message for a view's ``sql`` of the wrong shape."""
    if isinstance(value, dict):
        dialects = list(get_args(ViewDialect))
        for detail in group:
            if detail["type"] == "literal_error":
                found = str(detail["input"])
                hint = suggest(found, dialects)
                message = f"unknown database {show(detail['input'])} in sql"
                return (
                    f"{message} - {hint}" if hint else f"{message}; expected: {', '.join(dialects)}"
                )
        wrong = next((k for k, v in value.items() if not isinstance(v, str)), None)
        if wrong is not None:
            return f"sql.{wrong} must be the view's SELECT (a string), not {show(value[wrong])}"
    return (
        "sql must be the view's SELECT (a string) or one per database "
        f"({{postgres: ..., sqlite: ...}}), not {show(value)}"
    )


def _digits_path(path: NodePath) -> NodePath | None:
    """The path of the ``digits`` option that ``path`` is in, if it is in one."""
    for end, part in enumerate(path):
        if part == "digits" and _model_at(path[:end]) is ColumnSpec:
            return path[: end + 1]
    return None


def _value_at(data: object, path: NodePath) -> object:
    for part in path:
        if isinstance(data, dict) and isinstance(part, str):
            data = data.get(part)
        elif isinstance(data, list) and isinstance(part, int):
            data = data[part]
    return data


def _choices_of(detail: ErrorDetails) -> list[str]:
    ctx: Mapping[str, Any] = detail.get("ctx") or {}
    expected = str(ctx.get("expected", ""))
    return [part.strip(" '") for part in expected.replace(" or ", ", ").split(",") if part.strip()]


def _unknown_type(value: object) -> str:
    message = f"unknown column type {show(value)}"
    if isinstance(value, str):
        match = _TYPE_ALIASES.get(value.lower()) or closest(value, COLUMN_TYPES)
        if match is not None:
            return f"{message} - did you mean {match!r}?"
    return f"{message}; expected one of: {', '.join(COLUMN_TYPES)}"


def _unknown_key(key: str, model: type[BaseModel] | None, value: object) -> str:
    if model is None:
        return f"unknown key {key!r}"
    options = list(model.model_fields)
    what = {
        SchemaFile: "top-level key",
        TableSpec: "table option",
        ViewSpec: "view option",
    }.get(model, "option")
    message = f"unknown {what} {key!r}"
    hint = suggest(key, options)
    if hint:
        return f"{message} - {hint}"
    # A column or table one level too high is a common slip.
    if model is TableSpec and isinstance(value, dict) and "type" in value:
        return f"{message}; columns go under 'columns:'"
    if model is SchemaFile and isinstance(value, dict) and "columns" in value:
        return f"{message}; tables go under 'tables:'"
    return f"{message}; expected one of: {', '.join(options)}"


def _missing(field: str, model: type[BaseModel] | None) -> str:
    if model is ColumnSpec and field == "type":
        return f"missing 'type'; every column needs one, e.g. {_COLUMN_EXAMPLE}"
    if model is TableSpec and field == "columns":
        return "missing 'columns'; a table needs a 'columns' mapping (it may be empty: columns: {})"
    if model is ViewSpec and field == "columns":
        return "missing 'columns'; a view needs the columns it gives, e.g. {name: {type: text}}"
    if model is ViewSpec and field == "sql":
        return "missing 'sql'; a view needs its SELECT, e.g. sql: SELECT name FROM band"
    return f"missing {field!r}"


def _not_a_mapping(path: NodePath, value: object) -> str:
    match path:
        case ():
            return "a schema file must be a mapping with 'tables' (and optionally 'module' and 'enums')"
        case (
            ("tables", _, "columns", _)
            | ("tables", _, "columns", _, "of")
            | ("views", _, "columns", _)
            | ("views", _, "columns", _, "of")
        ):
            if isinstance(value, str) and value in COLUMN_TYPES:
                return (
                    f"a column must be a mapping: write {{type: {value}}} instead of {show(value)}"
                )
            return f"a column must be a mapping such as {_COLUMN_EXAMPLE}, not {show(value)}"
        case ("tables", _):
            return f"a table must be a mapping with 'columns', not {show(value)}"
        case ("views", _):
            return f"a view must be a mapping with 'sql' and 'columns', not {show(value)}"
        case ("enums", _):
            return f"an enum must be a mapping of member names to values, e.g. {{small: s, large: l}}, not {show(value)}"
        case _:
            return f"{dotted(path[-1:])!r} must be a mapping, not {show(value)}"
