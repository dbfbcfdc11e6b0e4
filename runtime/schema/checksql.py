"""The little the schema tools know of a check constraint's SQL expression.

A check's expression is SQL the database evaluates, written once for both
engines (the common subset of PostgreSQL and SQLite: comparisons, ``AND``/
``OR``/``NOT``, ``IS NULL``, ``IN``, ``BETWEEN``, ``LIKE``, arithmetic,
``length()``, ``lower()`` and the like). The tools do not parse it; they
tokenise it, which is enough for three things:

- ``column_names``: the identifiers that must be columns of the table (the
  generator checks them against the table, with a did-you-mean);
- ``renamed``: the expression after a column rename, as both databases
  rewrite it (``RENAME COLUMN`` updates the check);
- ``comparison_key``: what two spellings of one expression have in common.
  PostgreSQL keeps a check as a parse tree and gives it back deparsed
  (``price >= 0`` on a numeric column reads ``(price >= (0)::numeric)``,
  ``year > -1`` reads ``(year > '-1'::integer)``);
  the key drops the parentheses, the casts, identifier quotes, case and
  white space, so what our DDL wrote and what the database gives back
  compare equal. Rewrites that change the shape (``IN (1, 2)`` reads
  ``= ANY (ARRAY[1, 2])``, ``BETWEEN`` reads ``>= AND <=``) do not: a check
  written that way is reported as different by drift until it is written
  in the form the database gives back.
"""

from __future__ import annotations

import re
from typing import Final

__all__ = ["KEYWORDS", "column_names", "comparison_key", "renamed", "tokens"]

#: Words of SQL expressions that are not column names.
KEYWORDS: Final = frozenset(
    """and or not null is in between like ilike glob escape true false case when
    then else end cast as distinct from collate exists any all some array
    current_date current_time current_timestamp localtimestamp localtime
    similar to""".split()
)

_TOKEN: Final = re.compile(
    r"""(?P<string>'(?:[^']|'')*')
    |(?P<quoted>"(?:[^"]|"")*")
    |(?P<word>[A-Za-z_][A-Za-z0-9_$]*)
    |(?P<number>\d+(?:\.\d*)?(?:[eE][-+]?\d+)?|\.\d+)
    |(?P<space>\s+)
    |(?P<cast>::)
    |(?P<other>.)""",
    re.VERBOSE | re.DOTALL,
)


def tokens(sql: str) -> list[tuple[str, str]]:
    """``(kind, text)`` pairs: string, quoted, word, number, space, cast, other."""
    return [(m.lastgroup or "other", m.group()) for m in _TOKEN.finditer(sql)]


def _name(kind: str, text: str) -> str:
    return text[1:-1].replace('""', '"') if kind == "quoted" else text


def column_names(sql: str) -> list[str]:
    """The identifiers of ``sql`` that name columns: quoted ones, and bare
    words that are no keyword, no function being called and no type after
    ``::`` (in order, once each)."""
    toks = [t for t in tokens(sql) if t[0] != "space"]
    found: list[str] = []
    for i, (kind, text) in enumerate(toks):
        if kind not in ("word", "quoted"):
            continue
        if i > 0 and toks[i - 1][0] == "cast":
            continue
        if kind == "word":
            if text.lower() in KEYWORDS:
                continue
            if i + 1 < len(toks) and toks[i + 1][1] == "(":
                continue
        name = _name(kind, text) if kind == "quoted" else text
        if name not in found:
            found.append(name)
    return found


def renamed(sql: str, old: str, new: str) -> str:
    """``sql`` with column ``old`` renamed to ``new`` (quoted as ``new`` needs)."""
    out: list[str] = []
    toks = tokens(sql)
    bare = re.fullmatch(r"[a-z_][a-z0-9_]*", new) is not None and new not in KEYWORDS
    for i, (kind, text) in enumerate(toks):
        is_old = (kind == "quoted" and _name(kind, text) == old) or (kind == "word" and text == old)
        after = next((t for t in toks[i + 1 :] if t[0] != "space"), ("", ""))
        if is_old and not (kind == "word" and after[1] == "("):
            out.append(new if bare and kind == "word" else '"' + new.replace('"', '""') + '"')
        else:
            out.append(text)
    return "".join(out)


_CAST_TYPE: Final = re.compile(
    r"""(?:"(?:[^"]|"")*"|[a-z_][a-z0-9_]*)
    (?:\s+(?:varying|precision|with\s+time\s+zone|without\s+time\s+zone))?
    (?:\s*\(\s*\d+(?:\s*,\s*\d+)?\s*\))?
    (?:\s*\[\s*\])*""",
    re.VERBOSE | re.IGNORECASE,
)


def comparison_key(sql: str) -> str:
    """``sql`` without parentheses, casts, identifier quotes, case or white space."""
    text = sql.strip()
    if re.match(r"CHECK\s*\(", text, re.IGNORECASE):
        text = text[text.index("(") :]
    out: list[str] = []
    rest = text
    while rest:
        m = _TOKEN.match(rest)
        assert m is not None
        kind, tok = m.lastgroup or "other", m.group()
        rest = rest[m.end() :]
        if kind == "cast":
            t = _CAST_TYPE.match(rest.lstrip())
            if t is not None:
                rest = rest.lstrip()[t.end() :]
            continue
        if kind == "space" or tok in "()":
            continue
        if kind == "quoted":
            out.append(_name(kind, tok).lower())
        elif kind == "string":
            # PostgreSQL writes a negative number cast to a column's type
            # as a string: ``'-1'::integer`` for ``-1``.
            number = re.fullmatch(r"(-)\s*(\d+(?:\.\d*)?)", tok[1:-1])
            if number is not None and rest.lstrip().startswith("::"):
                out += [number[1], number[2]]
            else:
                out.append(tok)
        else:
            out.append(tok.lower())
    return " ".join(out)
