"""Format generated source with black, in-process, with a pinned mode.

Black defines the output format, but running it over a large module is slow
(a minute for 500 tables, and still half of that on input it would not
change). The renderer therefore writes code already laid out as black would
(``generator.layout``) and hands it over in chunks: the module's top-level
statements, and the classes of its ``if TYPE_CHECKING:`` block. A chunk goes
through black only when the format step cannot vouch for it (``_vouched``):
a line longer than the line length, a string literal or a number black might
rewrite, anything that is not plain ASCII. Vouched chunks are kept as they
are, so the result is what black makes of the whole module, at a fraction of
the cost; ``tests/test_format.py`` checks exactly that against black run on
whole modules. (Black formats a chunk alone as it does inside its module:
a chunk is made of whole statements, and the blank lines between chunks,
which black decides from their neighbours, are the renderer's.)

Setting ``PICCOLO_GEN_FULL_BLACK=1`` runs black over every whole module
instead (slow; the reference the fast path is tested against).
"""

from __future__ import annotations

import ast
import os
import re
from collections.abc import Sequence
from dataclasses import dataclass

import black
from black.mode import TargetVersion

from generator import layout
from generator.errors import GeneratorBug

__all__ = [
    "BLACK_MODE",
    "FULL_BLACK_VARIABLE",
    "Chunk",
    "format_module",
    "format_source",
    "full_black_requested",
    "needs_black",
]

#: Explicit and complete, so that the output never depends on the user's
#: black configuration (which ``format_str`` does not read anyway).
BLACK_MODE = black.Mode(target_versions={TargetVersion.PY311}, line_length=layout.LINE_LENGTH)

#: Environment variable that makes every module go through black whole.
FULL_BLACK_VARIABLE = "PICCOLO_GEN_FULL_BLACK"


@dataclass(frozen=True)
class Chunk:
    """A piece of a generated module that black can format on its own.

    ``text`` starts with the blank lines that separate it from the previous
    chunk (as black lays them out) and ends with a newline. ``block`` is the
    statement that opens the block the chunk is indented in (``"if
    TYPE_CHECKING:"``), or empty for a top-level chunk.
    """

    text: str
    block: str = ""


def full_black_requested() -> bool:
    """Whether ``PICCOLO_GEN_FULL_BLACK`` asks for black over whole modules."""
    return os.environ.get(FULL_BLACK_VARIABLE, "") not in ("", "0")


def format_source(code: str, *, origin: str) -> str:
    """``code`` formatted by black as a whole; ``origin`` names it in a ``GeneratorBug``.

    The schema was valid by the time code is generated, so code that black
    or ``ast.parse`` rejects is the generator's fault: it is reported with
    the offending source rather than written.
    """
    return _checked(_black(code, origin), origin)


def format_module(chunks: Sequence[Chunk], *, origin: str, whole: bool | None = None) -> str:
    """The module made of ``chunks``, as black formats it as a whole.

    Only the chunks that ``_vouched`` rejects go through black. ``whole``
    (default: ``PICCOLO_GEN_FULL_BLACK``) runs black over the joined module
    instead.
    """
    if whole is None:
        whole = full_black_requested()
    if whole:
        return format_source("".join(chunk.text for chunk in chunks), origin=origin)
    return _checked("".join(_format_chunk(chunk, origin) for chunk in chunks), origin)


def needs_black(chunk: Chunk) -> bool:
    """Whether ``format_module`` runs black on ``chunk`` (cannot vouch for it)."""
    return not _vouched(chunk.text.lstrip("\n"))


def _format_chunk(chunk: Chunk, origin: str) -> str:
    body = chunk.text.lstrip("\n")
    if _vouched(body):
        return chunk.text
    separator = chunk.text[: len(chunk.text) - len(body)]
    if not chunk.block:
        return separator + _black(body, origin)
    # Indented code is formatted inside its block statement, which is then
    # dropped again, with the blank lines black puts after it (the
    # separator says how many there are between chunks).
    formatted = _black(f"{chunk.block}\n{body}", origin)
    opener, _, rest = formatted.partition("\n")
    if opener != chunk.block:
        raise GeneratorBug(origin, f"black changed {chunk.block!r} into {opener!r}", body)
    return separator + rest.lstrip("\n")


def _black(code: str, origin: str) -> str:
    try:
        return black.format_str(code, mode=BLACK_MODE)
    except Exception as exc:
        # black raises InvalidInput for unparsable code and plain
        # exceptions for its own internal checks; all mean bad generated code.
        raise GeneratorBug(origin, f"black: {exc}", code) from exc


def _checked(formatted: str, origin: str) -> str:
    try:
        ast.parse(formatted, filename=origin)
    except SyntaxError as exc:
        raise GeneratorBug(origin, f"line {exc.lineno}: {exc.msg}", formatted) from exc
    return formatted


# What black leaves alone, token by token: double-quoted strings of
# printable ASCII without quotes or backslashes (one-line docstrings too),
# integers and plain decimals, comments. Whatever else the scan meets (a
# lone quote or backslash, a triple quote that does not close on its line, a
# number with letters) leaves the chunk to black.
_PLAIN = r"[ !#-\[\]-~]"
_TOKENS = re.compile(
    rf'"""(?P<doc>{_PLAIN}*)"""'
    rf'|(?P<string>"{_PLAIN}*")(?!")'
    r"|(?P<comment>#[^\n]*)"
    r"|(?P<number>(?<![\w.])(?:\d[\w.]*|\.\d[\w.]*))"
    r"|(?P<other>[\"'\\])"
)
_PLAIN_NUMBER = re.compile(r"[1-9][0-9]*|0|[0-9]+\.[0-9]+")
# Lines black keeps however long: a one-line docstring, and an annotation
# whose trailing comment starts with `# type: ignore`.
_LONG_LINE_KEPT = re.compile(
    rf' *"""{_PLAIN}*"""' r"| +[A-Za-z_][A-Za-z0-9_]*: [^#\n]*[^ #\n]  # type: ignore\[[^\n]*"
)
# Control characters (tabs included), trailing spaces, two blank lines.
_ODD_WHITESPACE = re.compile(r"[\x00-\x09\x0b-\x1f\x7f]| \n|\n\n\n")


def _vouched(body: str) -> bool:
    """Whether black would leave ``body`` (one chunk, no leading blank lines) unchanged.

    Layout (where lines break, blank lines) is the renderer's responsibility
    and is checked by the tests; this checks what the renderer passes through
    from the schema: the length of every line and the spelling of every
    literal.
    """
    if not body.isascii() or _ODD_WHITESPACE.search(body) or not body.endswith("\n"):
        return False
    for line in body.splitlines():
        if len(line) > layout.LINE_LENGTH and not _LONG_LINE_KEPT.fullmatch(line):
            return False
    for match in _TOKENS.finditer(body):
        kind = match.lastgroup
        if kind == "doc":
            doc = match.group("doc")
            if not doc or doc != doc.strip():
                return False
        elif kind == "number":
            if not _PLAIN_NUMBER.fullmatch(match.group()):
                return False
        elif kind == "other":
            return False
    return True
