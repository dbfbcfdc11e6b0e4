"""Errors as values: what a build reports instead of raising."""

from __future__ import annotations

import difflib
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

__all__ = [
    "GeneratorBug",
    "SchemaError",
    "SchemaErrors",
    "closest",
    "display_path",
    "show",
    "suggest",
]


@dataclass(frozen=True)
class SchemaError:
    """One problem in a schema file, located as precisely as the format allows.

    ``line`` and ``col`` are 1-based; TOML errors may lack a column and
    file-level errors lack both. ``path`` is the dotted path of the offending
    value (``tables.Band.columns.name.type``), empty for file-level errors.
    """

    file: str
    line: int | None
    col: int | None
    path: str
    message: str

    def __str__(self) -> str:
        location = self.file
        if self.line is not None:
            location += f":{self.line}"
            if self.col is not None:
                location += f":{self.col}"
        parts = [location, self.path, self.message] if self.path else [location, self.message]
        return ": ".join(parts)

    def sort_key(self) -> tuple[str, int, int, str, str]:
        """Order errors by file, then position; file-level errors come first."""
        return (self.file, self.line or 0, self.col or 0, self.path, self.message)


class SchemaErrors(Exception):
    """Schema problems found by a stage after validation (resolve, render).

    ``build`` reports ``errors`` exactly like validation errors: printed,
    counted, nothing written.
    """

    def __init__(self, errors: list[SchemaError]) -> None:
        super().__init__("\n".join(str(error) for error in errors))
        self.errors = errors


class GeneratorBug(Exception):
    """Generated source that black or ``ast.parse`` rejects.

    The schema was valid, so this is a bug in the generator, not in the user's
    schema: the message carries the offending source with line numbers so
    that it can be reported as is.
    """

    def __init__(self, origin: str, reason: str, source: str) -> None:
        self.origin = origin
        self.reason = reason
        self.source = source
        super().__init__(self._describe())

    def _describe(self) -> str:
        lines = self.source.splitlines()
        width = len(str(len(lines)))
        numbered = "\n".join(f"{n:>{width}} | {text}" for n, text in enumerate(lines, 1))
        return (
            f"the code generated for {self.origin} is not valid Python ({self.reason}).\n"
            "This is a bug in piccolo-gen, not in your schema; please report it "
            f"with the source below.\n{numbered}"
        )


def _normalized(name: str) -> str:
    # "ForeignKey", "foreign-key", "FOREIGN_KEY" and "foreign key" are all
    # the same intent; compare them without case or separators.
    return "".join(ch for ch in name.casefold() if ch not in "_- ")


def closest(name: str, candidates: Iterable[str]) -> str | None:
    """The candidate ``name`` was most likely meant to be, or ``None``.

    A match that differs only in case or separators wins; otherwise difflib
    picks the most similar candidate above its usual 0.6 ratio.
    """
    pool = sorted(set(candidates))
    by_normal = {_normalized(c): c for c in pool}
    exact = by_normal.get(_normalized(name))
    if exact is not None:
        return exact
    matches = difflib.get_close_matches(name, pool, n=1)
    if matches:
        return matches[0]
    # Case differences weigh heavily in difflib ("manger" vs "Manager"), so
    # try again on the normalised spellings.
    normal_matches = difflib.get_close_matches(_normalized(name), list(by_normal), n=1)
    return by_normal[normal_matches[0]] if normal_matches else None


def suggest(name: str, candidates: Iterable[str]) -> str:
    """``"did you mean 'Manager'?"`` for the closest candidate, or ``""``."""
    match = closest(name, candidates)
    return f"did you mean {match!r}?" if match is not None else ""


def join_words(items: Iterable[str], last: str = "and") -> str:
    """``'a, b and c'`` (or ``'a, b or c'`` with ``last="or"``)."""
    words = list(items)
    if len(words) <= 1:
        return "".join(words)
    return f"{', '.join(words[:-1])} {last} {words[-1]}"


def show(value: object) -> str:
    """A schema value as the user would write it: ``'abc'``, ``true``, ``null``, ``[1, 2]``."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return repr(value)
    if isinstance(value, list):
        return "[" + ", ".join(show(item) for item in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{key}: {show(item)}" for key, item in value.items()) + "}"
    return repr(value)


def display_path(path: Path) -> str:
    """``path`` relative to the current directory when it is below it, with ``/``.

    Messages then read like the command the user typed (``schema/music.yaml``)
    and are the same on every machine.
    """
    try:
        return path.resolve().relative_to(Path.cwd().resolve()).as_posix()
    except ValueError:
        return path.as_posix()
