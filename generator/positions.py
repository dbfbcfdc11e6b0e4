"""Where each value of a schema file was written, for error messages."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field

__all__ = ["NodePath", "ParsedText", "Positions", "ReadProblem", "dotted"]

#: A value's address in a schema file: mapping keys, and list indices as ints,
#: e.g. ``("tables", "Ticket", "columns", "price", "digits", 1)``.
NodePath = tuple[str | int, ...]

_PLAIN_KEY = re.compile(r"[A-Za-z0-9_-]+")


def dotted(path: NodePath) -> str:
    """``tables.Ticket.columns.price.digits[1]``; odd keys are quoted (``tables."my table"``)."""
    text = ""
    for part in path:
        if isinstance(part, int):
            text += f"[{part}]"
        else:
            key = part if _PLAIN_KEY.fullmatch(part) else '"' + part.replace('"', '\\"') + '"'
            text += f".{key}" if text else key
    return text


@dataclass
class Positions:
    """1-based ``(line, column)`` of values and of their keys, by path.

    ``values`` holds where a value starts, ``keys`` where the key naming it
    is written (for duplicate and unknown keys, and for "this table ..."
    errors that are best shown at the name). A column of ``None`` means the
    line is known but not the column (TOML, best effort).
    """

    values: dict[NodePath, tuple[int, int | None]] = field(default_factory=dict)
    keys: dict[NodePath, tuple[int, int | None]] = field(default_factory=dict)

    def locate(self, path: NodePath, *, at_key: bool = False) -> tuple[int | None, int | None]:
        """The best known position for ``path``.

        Falls back to the closest enclosing value that has a position (a
        missing option is reported where its mapping is), and to no position
        at all when nothing is known.
        """
        first, second = (self.keys, self.values) if at_key else (self.values, self.keys)
        for prefix in _prefixes(path):
            for table in (first, second):
                if prefix in table:
                    return table[prefix]
        return None, None


def _prefixes(path: NodePath) -> Iterator[NodePath]:
    for end in range(len(path), 0, -1):
        yield path[:end]


@dataclass(frozen=True)
class ReadProblem:
    """A problem found while reading text into data, at ``path``.

    ``position`` overrides the recorded position of ``path`` (a duplicate key
    is shown where the duplicate is written, not where the first one is).
    """

    path: NodePath
    message: str
    position: tuple[int, int | None] | None = None


@dataclass
class ParsedText:
    """A schema file's text turned into plain data (dicts, lists, scalars).

    ``problems`` are found while reading (duplicate keys, unsupported YAML
    tags); a syntax error leaves ``data`` as ``None`` and is reported through
    ``syntax_error`` instead.
    """

    data: object = None
    positions: Positions = field(default_factory=Positions)
    problems: list[ReadProblem] = field(default_factory=list)
    syntax_error: tuple[str, int | None, int | None] | None = None
