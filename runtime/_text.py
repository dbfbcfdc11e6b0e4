"""Text patterns: ``like``/``ilike`` with one meaning on both engines.

The two databases disagree out of the box:

- PostgreSQL's ``LIKE`` is case-sensitive and its escape character is the
  backslash (``a\\%b`` matches ``a%b``). ``ILIKE`` in a UTF-8 database is
  ``lower(value) LIKE lower(pattern)``, and ``lower()`` maps each character
  on its own with the C library (``towlower``), so ``É`` folds to ``é``.
- SQLite's ``LIKE`` ignores case for ASCII letters only (``'É' LIKE 'é'`` is
  false) and has no escape character unless an ``ESCAPE`` clause names one.

The runtime gives both engines PostgreSQL's meaning. On SQLite a pattern is
translated, in Python and before it is bound, to a ``GLOB`` pattern: ``GLOB``
is case-sensitive and matches characters, not bytes (``?`` is one character
as ``_`` is), and on a column with the default ``BINARY`` collation a
``GLOB`` whose pattern starts with literal text can use the column's index,
as ``LIKE`` cannot there. ``ilike`` compares :func:`fold_case` of the value
(a per-connection SQLite function, :data:`FOLD_FUNCTION`) with the folded
pattern. ``PRAGMA case_sensitive_like`` is not used: it is connection-wide
(it would change ``LIKE`` in the application's own SQL), SQLite's
documentation calls it deprecated, and it changes nothing about non-ASCII
letters.
"""

from __future__ import annotations

from typing import Final

__all__ = ["FOLD_FUNCTION", "escape_like", "fold_case", "sqlite_glob", "checked_pattern"]

#: The name of the per-connection SQLite function that applies :func:`fold_case`.
FOLD_FUNCTION: Final = "piccolo_fold_case"

# Python's ``str.lower`` maps each character as the C library's ``towlower``
# does (checked for every code point against glibc's C.UTF-8, see
# tests/test_text_patterns.py), except in two places where it applies
# Unicode's special casing: ``İ`` (U+0130) lowers to ``i`` plus a combining
# dot (two characters), and a final ``Σ`` lowers to ``ς``. PostgreSQL's
# ``lower()`` gives ``i`` and ``σ``.
_PER_CHARACTER: Final = str.maketrans({"\u0130": "i", "\u03a3": "\u03c3"})


def fold_case(value: str | None) -> str | None:
    """``value`` lower-cased as PostgreSQL's ``lower()`` does in a UTF-8 database.

    Each character is mapped on its own (no context, no expansion), which is
    what ``ILIKE`` compares on PostgreSQL; ``None`` stays ``None`` (SQL NULL).
    """
    if value is None:
        return None
    if "\u0130" in value or "\u03a3" in value:
        value = value.translate(_PER_CHARACTER)
    return value.lower()


def escape_like(text: str) -> str:
    """``text`` as a ``like()`` pattern that matches exactly ``text``.

    ``%``, ``_`` and the escape character ``\\`` are escaped with ``\\``:
    ``Band.name.like(escape_like(user_input) + "%")`` matches names starting
    with the user's text, whatever it contains.
    """
    if not isinstance(text, str):
        raise TypeError(f"escape_like() takes a str; got {text!r}")
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def checked_pattern(pattern: object) -> str:
    """``pattern`` if it is a valid ``LIKE`` pattern, else a ``TypeError``/``ValueError``.

    PostgreSQL refuses a pattern ending in the escape character ("LIKE pattern
    must not end with escape character"); it is refused here on both engines,
    before any SQL is sent, as is a pattern holding NUL.
    """
    if not isinstance(pattern, str):
        raise TypeError(f"a LIKE pattern must be a str; got {pattern!r}")
    if "\x00" in pattern:
        # PostgreSQL's text cannot hold NUL, and SQLite's GLOB stops at one.
        raise ValueError(f"a LIKE pattern cannot contain NUL; got {pattern!r}")
    trailing = len(pattern) - len(pattern.rstrip("\\"))
    if trailing % 2:
        raise ValueError(
            f"a LIKE pattern cannot end with the escape character '\\'; got {pattern!r} "
            "(write '\\\\' for a backslash, or use escape_like())"
        )
    return pattern


# GLOB's own metacharacters, matched literally inside a one-character class.
_GLOB_LITERAL: Final = {"*": "[*]", "?": "[?]", "[": "[[]"}


def sqlite_glob(pattern: str) -> str:
    """The SQLite ``GLOB`` pattern meaning what ``pattern`` means to PostgreSQL's ``LIKE``.

    ``%`` becomes ``*``, ``_`` becomes ``?``, ``\\x`` is the literal ``x``,
    and GLOB's ``*``, ``?`` and ``[`` are made literal. ``pattern`` has been
    through :func:`checked_pattern`.
    """
    out: list[str] = []
    escaped = False
    for char in pattern:
        if escaped:
            out.append(_GLOB_LITERAL.get(char, char))
            escaped = False
        elif char == "\\":
            escaped = True
        elif char == "%":
            out.append("*")
        elif char == "_":
            out.append("?")
        else:
            out.append(_GLOB_LITERAL.get(char, char))
    return "".join(out)
