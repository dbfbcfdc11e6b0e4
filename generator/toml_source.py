"""Read TOML into plain data, with best-effort positions.

``tomllib`` parses (and rejects duplicate keys and tables itself) but keeps
no positions, so a small scanner walks the already-valid text a second time
to find where each key and value is written. It only has to be good enough
for error messages: whatever it cannot place is reported by dotted path.
"""

from __future__ import annotations

import ast
import bisect
import datetime
import re
import tomllib

from generator.positions import NodePath, ParsedText, Positions

__all__ = ["read_toml"]

_ERROR_POSITION = re.compile(r"\s*\((?:at line (\d+), column (\d+)|at end of document)\)$")
_DECLARED_TWICE = re.compile(r"Cannot declare (\(.*\)) twice")
_BARE_KEY = re.compile(r"[A-Za-z0-9_-]+")


def read_toml(text: str) -> ParsedText:
    """Parse TOML into plain data; dates and times become ISO strings.

    Defaults are checked as text whatever the format, so the TOML literal
    ``2024-01-31`` and the string ``"2024-01-31"`` mean the same.
    """
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        return ParsedText(syntax_error=_syntax_error(str(exc), text))
    return ParsedText(data=_plain(data), positions=_Scanner(text).scan())


def _syntax_error(message: str, text: str) -> tuple[str, int | None, int | None]:
    line: int | None = None
    col: int | None = None
    found = _ERROR_POSITION.search(message)
    if found:
        message = message[: found.start()]
        if found.group(1):
            line, col = int(found.group(1)), int(found.group(2))
        else:
            line = text.count("\n") + 1
    twice = _DECLARED_TWICE.fullmatch(message)
    if twice:
        # tomllib says "Cannot declare ('tables', 'Band') twice".
        keys = ast.literal_eval(twice.group(1))
        message = f"table [{'.'.join(keys)}] is declared twice"
    return f"invalid TOML: {message}", line, col


def _plain(value: object) -> object:
    if isinstance(value, dict):
        return {key: _plain(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_plain(item) for item in value]
    if isinstance(value, datetime.date | datetime.time):
        return value.isoformat()
    return value


class _Scanner:
    """Finds the position of every key and value in valid TOML text."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.i = 0
        self.positions = Positions()
        self.line_starts = [0] + [m.end() for m in re.finditer("\n", text)]
        self.array_counts: dict[NodePath, int] = {}

    def scan(self) -> Positions:
        table: NodePath = ()
        try:
            while self.skip_space(newlines=True) < len(self.text):
                if self.text.startswith("[[", self.i):
                    table = self.header(array=True)
                elif self.text[self.i] == "[":
                    table = self.header(array=False)
                else:
                    self.key_value(table)
        except (IndexError, ValueError):
            # The text is valid TOML, so this is a gap in this scanner; the
            # positions found so far are still right.
            pass
        return self.positions

    def position(self, index: int) -> tuple[int, int]:
        line = bisect.bisect_right(self.line_starts, index)
        return line, index - self.line_starts[line - 1] + 1

    def skip_space(self, *, newlines: bool) -> int:
        while self.i < len(self.text):
            ch = self.text[self.i]
            if ch == "#":
                end = self.text.find("\n", self.i)
                self.i = len(self.text) if end < 0 else end
            elif ch in " \t\r" or (newlines and ch == "\n"):
                self.i += 1
            else:
                break
        return self.i

    def header(self, *, array: bool) -> NodePath:
        start = self.i
        self.i += 2 if array else 1
        path = self.dotted_key((), header_start=start)
        self.skip_space(newlines=False)
        self.i += 2 if array else 1
        if array:
            index = self.array_counts.get(path, -1) + 1
            self.array_counts[path] = index
            path = (*path, index)
            self.positions.values.setdefault(path, self.position(start))
        return path

    def dotted_key(self, table: NodePath, *, header_start: int | None = None) -> NodePath:
        """Read ``a."b".c``, recording the position of each part's path."""
        path = table
        while True:
            self.skip_space(newlines=False)
            part_start = self.i
            path = (*path, self.key_part())
            self.positions.keys.setdefault(path, self.position(part_start))
            if header_start is not None:
                self.positions.values.setdefault(path, self.position(header_start))
            self.skip_space(newlines=False)
            if self.i < len(self.text) and self.text[self.i] == ".":
                self.i += 1
                continue
            return path

    def key_part(self) -> str:
        if self.text[self.i] in "\"'":
            start = self.i
            self.skip_string()
            literal = self.text[start : self.i]
            parsed = tomllib.loads(f"k = {literal}")["k"]
            return str(parsed)
        found = _BARE_KEY.match(self.text, self.i)
        if found is None:
            raise ValueError("not a key")
        self.i = found.end()
        return found.group()

    def key_value(self, table: NodePath) -> None:
        path = self.dotted_key(table)
        self.skip_space(newlines=False)
        self.i += 1  # "="
        self.skip_space(newlines=False)
        self.value(path)

    def value(self, path: NodePath) -> None:
        self.positions.values.setdefault(path, self.position(self.i))
        ch = self.text[self.i]
        if ch == "{":
            self.i += 1
            while self.skip_space(newlines=False) < len(self.text) and self.text[self.i] != "}":
                self.key_value(path)
                self.skip_space(newlines=False)
                if self.text[self.i] == ",":
                    self.i += 1
            self.i += 1
        elif ch == "[":
            self.i += 1
            index = 0
            while self.skip_space(newlines=True) < len(self.text) and self.text[self.i] != "]":
                self.value((*path, index))
                index += 1
                self.skip_space(newlines=True)
                if self.text[self.i] == ",":
                    self.i += 1
            self.i += 1
        elif ch in "\"'":
            self.skip_string()
        else:
            # Numbers, booleans and dates: up to the next delimiter (a date
            # may contain a space, so spaces do not end it).
            while self.i < len(self.text) and self.text[self.i] not in ",]}\n#":
                self.i += 1

    def skip_string(self) -> None:
        quote = self.text[self.i]
        if self.text.startswith(quote * 3, self.i):
            end = self.text.index(quote * 3, self.i + 3) + 3
            # A closing delimiter may be followed by up to two more quotes
            # that belong to the string ("""a"""" is `a"`).
            while end < len(self.text) and self.text[end] == quote:
                end += 1
            self.i = end
            return
        self.i += 1
        while self.text[self.i] != quote:
            self.i += 2 if quote == '"' and self.text[self.i] == "\\" else 1
        self.i += 1
