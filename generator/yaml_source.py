"""Read YAML into plain data, keeping the position of every key and value.

PyYAML's composer gives nodes with marks; walking them ourselves (instead of
``yaml.safe_load``) lets us record positions and report duplicate keys,
which PyYAML silently resolves by keeping the last one.

Plain scalars follow the YAML 1.2 core schema rather than PyYAML's YAML 1.1
defaults, because 1.1 turns ordinary schema text into surprises: ``no`` and
``off`` become ``false`` (an enum member named ``no``), ``12:30`` becomes the
integer 750 (a time default) and ``2024-01-31`` a date object. Here only
``true``/``false`` are booleans, only decimal/``0o``/``0x`` numbers are
integers, and dates stay strings.

Composing goes through libyaml (PyYAML's C parser) when PyYAML was built
with it, which is several times faster on large schemas. Its error messages
differ from the pure-Python parser's, so a document libyaml rejects is
parsed again by the pure-Python parser, whose verdict and messages are the
ones reported: libyaml is only ever the fast path for valid documents.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from generator.positions import NodePath, ParsedText, ReadProblem

__all__ = ["read_yaml"]

_TAG = "tag:yaml.org,2002:"
_NULL, _BOOL, _INT, _FLOAT, _STR = (_TAG + t for t in ("null", "bool", "int", "float", "str"))
_MAP, _SEQ, _MERGE = _TAG + "map", _TAG + "seq", _TAG + "merge"
_KNOWN_TAGS = {_NULL, _BOOL, _INT, _FLOAT, _STR, _MAP, _SEQ, _MERGE}

_BOOL_RE = re.compile(r"true|True|TRUE|false|False|FALSE")
_INT_RE = re.compile(r"[-+]?[0-9]+|0o[0-7]+|0x[0-9a-fA-F]+")
_FLOAT_RE = re.compile(
    r"[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?"
    r"|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN)"
)
_NULL_RE = re.compile(r"~|null|Null|NULL|")


class _CoreSchemaLoader(yaml.SafeLoader):
    """SafeLoader with the YAML 1.2 core schema's implicit types (see module doc)."""

    yaml_implicit_resolvers: dict[str, list[tuple[str, re.Pattern[str]]]] = {}


# Resolvers are tried in insertion order for a given first character, so
# int comes before float ("1" is an int, "1.5" falls through to float).
_CoreSchemaLoader.add_implicit_resolver(
    _BOOL, re.compile(f"^(?:{_BOOL_RE.pattern})$"), list("tTfF")
)
_CoreSchemaLoader.add_implicit_resolver(
    _INT, re.compile(f"^(?:{_INT_RE.pattern})$"), list("-+0123456789")
)
_CoreSchemaLoader.add_implicit_resolver(
    _FLOAT, re.compile(f"^(?:{_FLOAT_RE.pattern})$"), list("-+0123456789.")
)
_CoreSchemaLoader.add_implicit_resolver(
    _NULL, re.compile(f"^(?:{_NULL_RE.pattern})$"), ["~", "n", "N", ""]
)
_CoreSchemaLoader.add_implicit_resolver(_MERGE, re.compile(r"^(?:<<)$"), ["<"])

_FastLoader: type[yaml.CSafeLoader] | None = None
if yaml.__with_libyaml__:

    class _CoreSchemaCLoader(yaml.CSafeLoader):
        """libyaml's parser with the same implicit types as ``_CoreSchemaLoader``."""

        yaml_implicit_resolvers = _CoreSchemaLoader.yaml_implicit_resolvers

    _FastLoader = _CoreSchemaCLoader


def read_yaml(text: str) -> ParsedText:
    """Parse one YAML document into plain data with positions and reading problems."""
    if _FastLoader is not None and not _needs_pure_parser(text):
        parsed = _read_fast(_FastLoader, text)
        if parsed is not None:
            return parsed
    try:
        loader = _CoreSchemaLoader(text)
    except yaml.reader.ReaderError as exc:
        # Raised by the constructor, which checks every character first.
        line = text.count("\n", 0, exc.position) + 1
        column = exc.position - (text.rfind("\n", 0, exc.position) + 1) + 1
        message = f"invalid YAML: unacceptable character #x{exc.character:04x}: {exc.reason}"
        return ParsedText(syntax_error=(message, line, column))
    try:
        root = loader.get_single_node()
    except yaml.MarkedYAMLError as exc:
        return ParsedText(syntax_error=_syntax_error(exc))
    except yaml.YAMLError as exc:
        return ParsedText(syntax_error=(f"invalid YAML: {exc}", None, None))
    finally:
        loader.dispose()
    return _walk(root)


def _needs_pure_parser(text: str) -> bool:
    """Whether ``text`` may use what libyaml and the pure-Python parser disagree on.

    libyaml accepts tabs where the pure-Python scanner rejects them, and
    counts columns differently after a byte order mark. (More disagreements
    are only seen once composed, see ``_disputed``.)
    """
    return "\t" in text or "\ufeff" in text


def _read_fast(loader_class: type[yaml.CSafeLoader], text: str) -> ParsedText | None:
    """``text`` read through libyaml, or ``None`` where only the pure-Python
    parser gives the reference answer (an error, or see ``_disputed``)."""
    loader = loader_class(text)
    try:
        root = loader.get_single_node()
    except yaml.YAMLError:
        return None
    finally:
        loader.dispose()
    if root is not None and _disputed(root, text):
        return None
    return _walk(root)


def _walk(root: Node | None) -> ParsedText:
    parsed = ParsedText()
    if root is not None:
        parsed.data = _Walker(parsed).value(root, ())
    return parsed


def _disputed(root: Node, text: str) -> bool:
    """Whether libyaml may have composed ``root`` differently from the
    pure-Python parser: an empty scalar (``key:``), which libyaml places a
    column later; a flow collection with a ``?`` in it, which the pure-Python
    scanner rejects in plain scalars; a tag other than the core schema's,
    whose syntax libyaml is laxer about."""
    seen: set[int] = set()
    todo = [root]
    question_mark = "?" in text
    while todo:
        node = todo.pop()
        if id(node) in seen:
            continue
        seen.add(id(node))
        if node.tag not in _KNOWN_TAGS:
            return True
        if isinstance(node, ScalarNode):
            if not node.value and not node.style:
                return True
            continue
        assert isinstance(node, (MappingNode, SequenceNode))
        if question_mark and node.flow_style:
            if "?" in text[node.start_mark.index : node.end_mark.index]:
                return True
        if isinstance(node, MappingNode):
            for key, value in node.value:
                todo += (key, value)
        else:
            todo += node.value
    return False


def _syntax_error(exc: yaml.MarkedYAMLError) -> tuple[str, int | None, int | None]:
    if exc.problem and exc.context and exc.problem.startswith("but "):
        # The composer splits one sentence: "expected a single document in
        # the stream" / "but found another document".
        message = f"invalid YAML: {exc.context}, {exc.problem}"
    else:
        message = f"invalid YAML: {exc.problem or exc.context}"
    if exc.problem and exc.context and not exc.problem.startswith("but "):
        message += f" ({exc.context}"
        if exc.context_mark is not None:
            mark = exc.context_mark
            message += f" that starts at line {mark.line + 1}, column {mark.column + 1}"
        message += ")"
    where = exc.problem_mark or exc.context_mark
    if where is None:
        return message, None, None
    return message, where.line + 1, where.column + 1


def _position(node: Node) -> tuple[int, int]:
    return node.start_mark.line + 1, node.start_mark.column + 1


class _Walker:
    """Builds plain data from composed nodes, filling a ``ParsedText``."""

    def __init__(self, parsed: ParsedText) -> None:
        self.parsed = parsed
        # Anchors can make a node contain itself; walking it would not end.
        self.active: set[int] = set()

    def value(self, node: Node, path: NodePath) -> object:
        # setdefault: explicit keys are walked before `<<` merges, and their
        # positions are the ones to show.
        self.parsed.positions.values.setdefault(path, _position(node))
        if id(node) in self.active:
            self.problem(path, "a YAML alias refers to itself")
            return None
        self.active.add(id(node))
        try:
            if isinstance(node, MappingNode):
                return self.mapping(node, path)
            if isinstance(node, SequenceNode):
                if node.tag != _SEQ:
                    return self.unsupported_tag(node, path)
                return [self.value(item, (*path, i)) for i, item in enumerate(node.value)]
            assert isinstance(node, ScalarNode)
            return self.scalar(node, path)
        finally:
            self.active.discard(id(node))

    def mapping(self, node: MappingNode, path: NodePath) -> object:
        if node.tag != _MAP:
            return self.unsupported_tag(node, path)
        explicit: dict[str, object] = {}
        key_marks: dict[str, tuple[int, int]] = {}
        # Keys and `<<` merges in written order, so that merged keys land
        # where the `<<` is (columns keep the order the reader sees).
        order: list[str | Node] = []
        for key_node, value_node in node.value:
            if key_node.tag == _MERGE:
                order.append(value_node)
                continue
            if not isinstance(key_node, ScalarNode):
                self.parsed.problems.append(
                    ReadProblem(
                        path,
                        "a key must be a plain name, not a list or mapping",
                        _position(key_node),
                    )
                )
                continue
            # The key's source text, not its YAML type: `null:` is the
            # column option "null", `1:` a (bad) name "1", never None or 1.
            key = str(key_node.value)
            if key in key_marks:
                line, col = key_marks[key]
                message = f"duplicate {_kind_of_key(path)} {key!r} (first defined at line {line}, column {col})"
                self.parsed.problems.append(ReadProblem((*path, key), message, _position(key_node)))
                continue
            key_marks[key] = _position(key_node)
            self.parsed.positions.keys.setdefault((*path, key), key_marks[key])
            explicit[key] = self.value(value_node, (*path, key))
            order.append(key)
        result: dict[str, object] = {}
        for item in order:
            if isinstance(item, str):
                result[item] = explicit[item]
                continue
            for key, value in self.merged(item, path).items():
                if key not in explicit:
                    result.setdefault(key, value)
        return result

    def merged(self, node: Node, path: NodePath) -> dict[str, object]:
        """The keys that ``<<: *anchor`` (or a list of anchors) brings in."""
        result: dict[str, object] = {}
        sources = node.value if isinstance(node, SequenceNode) else [node]
        for source in sources:
            data = self.value(source, path)
            if isinstance(data, dict):
                for key, value in data.items():
                    result.setdefault(key, value)
            else:
                self.problem(path, "'<<' must merge a mapping or a list of mappings")
        return result

    def scalar(self, node: ScalarNode, path: NodePath) -> object:
        text = str(node.value)
        pattern, convert = _SCALARS.get(node.tag, (None, None))
        if convert is None:
            return self.unsupported_tag(node, path)
        if pattern is not None and not pattern.fullmatch(text):
            self.problem(path, f"{text!r} is not a valid !!{node.tag.removeprefix(_TAG)}")
            return None
        return convert(text)

    def unsupported_tag(self, node: Node, path: NodePath) -> object:
        tag = node.tag.replace(_TAG, "!!")
        self.problem(path, f"unsupported YAML tag {tag!r}")
        return None

    def problem(self, path: NodePath, message: str) -> None:
        self.parsed.problems.append(ReadProblem(path, message))


def _kind_of_key(parent: NodePath) -> str:
    """What a key under ``parent`` names, for "duplicate table 'Band'" messages."""
    match parent:
        case ("tables",):
            return "table"
        case ("views",):
            return "view"
        case ("tables", _, "columns") | ("views", _, "columns"):
            return "column"
        case ("enums",):
            return "enum"
        case ("enums", _):
            return "enum member"
        case (
            ("tables", _, "columns", _)
            | ("tables", _, "columns", _, "of", *_)
            | ("views", _, "columns", _)
            | ("views", _, "columns", _, "of", *_)
        ):
            return "option"
        case _:
            return "key"


def _to_int(text: str) -> int:
    if text.startswith(("0o", "0x")):
        return int(text[2:], 8 if text[1] == "o" else 16)
    return int(text, 10)


def _to_float(text: str) -> float:
    lowered = text.lower()
    if lowered.endswith(".inf"):
        return -math.inf if lowered.startswith("-") else math.inf
    if lowered == ".nan":
        return math.nan
    return float(text)


# tag -> (pattern the text must match, converter); explicit tags such as
# `!!int "12"` go through the same check as implicit ones.
_SCALARS: dict[str, tuple[re.Pattern[str] | None, Callable[[str], object] | None]] = {
    _STR: (None, str),
    _NULL: (_NULL_RE, lambda _text: None),
    _BOOL: (_BOOL_RE, lambda text: text.lower() == "true"),
    _INT: (_INT_RE, _to_int),
    _FLOAT: (_FLOAT_RE, _to_float),
}
