"""Format generated source with black, in-process, with a pinned mode."""

from __future__ import annotations

import ast

import black
from black.mode import TargetVersion

from generator.errors import GeneratorBug

__all__ = ["BLACK_MODE", "format_source"]

#: Explicit and complete, so that the output never depends on the user's
#: black configuration (which ``format_str`` does not read anyway).
BLACK_MODE = black.Mode(target_versions={TargetVersion.PY311}, line_length=88)


def format_source(code: str, *, origin: str) -> str:
    """``code`` formatted by black; ``origin`` names it in a ``GeneratorBug``.

    The schema was valid by the time code is generated, so code that black
    or ``ast.parse`` rejects is the generator's fault: it is reported with
    the offending source rather than written.
    """
    try:
        formatted = black.format_str(code, mode=BLACK_MODE)
    except Exception as exc:
        # black raises InvalidInput for unparsable code and plain
        # exceptions for its own internal checks; all mean bad generated code.
        raise GeneratorBug(origin, f"black: {exc}", code) from exc
    try:
        ast.parse(formatted, filename=origin)
    except SyntaxError as exc:
        raise GeneratorBug(origin, f"line {exc.lineno}: {exc.msg}", formatted) from exc
    return formatted
