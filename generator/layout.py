"""Lay out generated statements the way black (``fmt.BLACK_MODE``) would.

The renderer writes code that is already formatted, so that the format step
can leave most of a module alone instead of running black over megabytes of
it (see ``fmt.format_module``). Each helper here covers one statement shape
of the templates and reproduces black's choice for it:

- everything on one line when it fits in ``LINE_LENGTH`` (black never splits
  a line that fits, unless a "magic" trailing comma asks it to);
- otherwise black's split: the bracket contents on one indented line when
  they fit there (function signatures, calls, class bases), or one item per
  line with a trailing comma (always for list/tuple displays and imports).

A helper that meets a case outside these shapes (a head or an item that does
not fit even after splitting) returns the one-line form. That line is longer
than ``LINE_LENGTH``, so the format step cannot vouch for it and runs black
on its chunk: an unusual schema costs time, never correctness.
``tests/test_format.py`` compares the helpers with black over sweeps of name
lengths.
"""

from __future__ import annotations

from collections.abc import Sequence

__all__ = [
    "INDENT",
    "LINE_LENGTH",
    "class_statement",
    "call_assignment",
    "display_assignment",
    "fits",
    "function_stub",
    "import_from",
    "py_str",
]

#: The line length of ``fmt.BLACK_MODE``.
LINE_LENGTH = 88
INDENT = "    "


def fits(line: str) -> bool:
    """Whether ``line`` (indentation included) fits black's line length.

    Lengths are counted in characters: non-ASCII text, whose width black
    measures differently, is never vouched for by the format step anyway.
    """
    return len(line) <= LINE_LENGTH


def py_str(value: str) -> str:
    """A string literal for ``value`` with black's preferred quotes.

    ``repr`` prefers single quotes (escaping them when the value has both
    kinds); black prefers double quotes unless that means more backslashes
    (``'say "hi"'`` stays as it is).
    """
    literal = repr(value)
    if literal.startswith('"'):
        return literal
    body = literal[1:-1]
    if '"' not in value:
        return f'"{body}"'
    if value.count('"') <= value.count("'"):
        # Every quote of the body is escaped ("\'"), every double quote is not.
        return '"' + body.replace("\\'", "'").replace('"', '\\"') + '"'
    return literal


def _exploded(
    indent: str, head: str, items: Sequence[str], tail: str, *, parameters: bool = False
) -> str | None:
    """One item per line, each with a trailing comma; ``None`` if a line is too long.

    With ``parameters``, a parameter too long for its line has its union
    annotation split as black splits it.
    """
    inner = indent + INDENT
    lines = [indent + head]
    for item in items:
        line = f"{inner}{item},"
        if not fits(line) and parameters:
            split = _split_star_annotation if item.startswith("*") else _parenthesized_annotation
            line = split(inner, item) or line
        lines.append(line)
    lines.append(indent + tail)
    if all(fits(line) for line in "\n".join(lines).split("\n")):
        return "\n".join(lines)
    return None


def _parenthesized_annotation(indent: str, parameter: str) -> str | None:
    """``name: (``, the annotation, ``) = default,`` on three lines.

    Black wraps an annotation in parentheses when the parameter does not
    fit; a union (``X | None``) keeps them. Other annotations are left to
    black (``None``).
    """
    name, colon, rest = parameter.partition(": ")
    if not colon or not name.isidentifier():
        return None
    annotation, equals, default = rest.partition(" = ")
    if len(_union_members(annotation)) < 2:
        return None
    tail = f") = {default}," if equals else "),"
    return f"{indent}{name}: (\n{indent}{INDENT}{annotation}\n{indent}{tail}"


def _split_star_annotation(indent: str, parameter: str) -> str | None:
    """``*name: A`` and ``| B,`` on lines of their own, for a ``*args`` union.

    Black does not parenthesize the annotation of ``*args``; it splits the
    union before each ``|``.
    """
    name, colon, annotation = parameter.partition(": ")
    members = _union_members(annotation)
    if not colon or " = " in annotation or len(members) < 2:
        return None
    lines = [f"{indent}{name}: {members[0]}", *(f"{indent}| {m}" for m in members[1:])]
    return "\n".join(lines) + ","


def _union_members(annotation: str) -> list[str]:
    """The members of a union annotation (``A | B[C | D]`` -> ``A``, ``B[C | D]``);
    no members when the annotation has quotes, whose contents would fool the
    bracket count."""
    if '"' in annotation or "'" in annotation:
        return []
    members: list[str] = []
    depth = start = 0
    for index, char in enumerate(annotation):
        if char in "([{":
            depth += 1
        elif char in ")]}":
            depth -= 1
        elif char == "|" and depth == 0 and annotation[index - 1 : index + 2] == " | ":
            members.append(annotation[start : index - 1])
            start = index + 2
    members.append(annotation[start:])
    return members


def _body_line(indent: str, head: str, items: Sequence[str], tail: str) -> str | None:
    """The bracket contents on one indented line; ``None`` if that does not fit."""
    body = indent + INDENT + ", ".join(items)
    lines = [indent + head, body, indent + tail]
    if all(fits(line) for line in lines):
        return "\n".join(lines)
    return None


def function_stub(
    indent: str, head: str, parameters: Sequence[str], tail: str, *, exploded: bool = False
) -> str:
    """``def name(parameters) -> Result: ...``, split like black splits a ``def``.

    ``head`` ends with ``(`` and ``tail`` starts with ``)``. ``exploded``
    writes a magic trailing comma after the last parameter, which keeps the
    signature one parameter per line whatever its length. Black splits a
    ``def`` at its first bracket (its left-hand split); a lone parameter gets
    a trailing comma there.
    """
    one_line = f"{indent}{head}{', '.join(parameters)}{tail}"
    if not exploded and fits(one_line):
        return one_line
    if not exploded and len(parameters) > 1:
        split = _body_line(indent, head, parameters, tail)
        if split is not None:
            return split
    if not parameters:
        return one_line
    return _exploded(indent, head, parameters, tail, parameters=True) or one_line


def class_statement(indent: str, name: str, bases: Sequence[str]) -> str:
    """``class Name(bases):``, split at its brackets when it does not fit."""
    head = f"class {name}("
    one_line = f"{indent}{head}{', '.join(bases)}):"
    if fits(one_line) or not bases:
        return one_line
    split = _body_line(indent, head, bases, "):")
    if split is not None:
        return split
    if len(bases) == 1:
        # Black would go on to split inside the only base.
        return one_line
    return _exploded(indent, head, bases, "):") or one_line


def call_assignment(indent: str, target: str, callee: str, arguments: Sequence[str]) -> str:
    """``target = callee(arguments)`` (an annotated class attribute).

    When the line is too long black splits the call's brackets, keeping
    ``target = callee(`` on the first line. When even that does not fit, it
    puts the call in parentheses of its own, on the lines between
    ``target = (`` and ``)``, split in turn if need be.
    """
    one_line = f"{indent}{target} = {callee}({', '.join(arguments)})"
    if fits(one_line) or not arguments:
        return one_line
    if fits(f"{indent}{target} = {callee}("):
        return _call(indent, f"{target} = {callee}(", arguments) or one_line
    inner = indent + INDENT
    call = _call(inner, f"{callee}(", arguments)
    if call is None or not fits(f"{indent}{target} = ("):
        return one_line
    return f"{indent}{target} = (\n{call}\n{indent})"


def _call(indent: str, head: str, arguments: Sequence[str]) -> str | None:
    """``head`` (ending with the call's ``(``) and the arguments, laid out as
    black lays out a call that is too long or may be: ``None`` if black
    would do something else."""
    one_line = f"{indent}{head}{', '.join(arguments)})"
    if fits(one_line):
        return one_line
    if not fits(indent + head):
        return None
    split = _body_line(indent, head, arguments, ")")
    if split is not None or len(arguments) == 1:
        return split
    return _exploded(indent, head, arguments, ")")


def display_assignment(indent: str, target: str, items: Sequence[str], brackets: str) -> str:
    """``target = [items]`` or ``target = (items)`` (``brackets`` is ``"[]"`` or ``"()"``).

    A display that does not fit is always one item per line. A one-item
    tuple keeps its comma on one line (``(A,)``), as black does.
    """
    opening, closing = brackets[0], brackets[1]
    if len(items) == 1 and opening == "(":
        content = f"{items[0]},"
    else:
        content = ", ".join(items)
    one_line = f"{indent}{target} = {opening}{content}{closing}"
    if fits(one_line) or len(items) < 2:
        return one_line
    return _exploded(indent, f"{target} = {opening}", items, closing) or one_line


def import_from(module: str, names: Sequence[str]) -> str:
    """``from module import names``, parenthesized one per line when too long."""
    one_line = f"from {module} import {', '.join(names)}"
    if fits(one_line):
        return one_line
    return _exploded("", f"from {module} import (", names, ")") or one_line
