"""Names in the database: the one rule for derived index and constraint names.

The runtime (``CREATE TABLE``, ``alter()``) and the generator (which checks
that the names of a table's indexes do not clash) both derive names here, so
the name the build checks is the name the database gets.

PostgreSQL keeps at most ``NAMEDATALEN - 1`` = 63 bytes of an identifier and
silently truncates a longer one (at a character boundary, so a multi-byte
UTF-8 character is never cut: ``pg_mbcliplen``). Two derived names that differ
only after byte 63 would become one name, and the second ``CREATE INDEX``
would fail. So a derived name that does not fit is shortened here, to a
readable prefix, a hash of the full name (unique and the same on every run),
and the kind suffix (``_key``, ``_fkey``, ``_pkey``). A name that fits is
left exactly as it was: existing databases depend on those names.
"""

from __future__ import annotations

import hashlib
import re
from typing import Final

__all__ = [
    "MAX_NAME_BYTES",
    "PLAIN_NAME",
    "derived_name",
    "fits",
    "foreign_key_name",
    "index_name",
    "is_plain_name",
    "primary_key_name",
    "snake_case",
    "unique_name",
]

#: PostgreSQL's identifier limit: NAMEDATALEN - 1 bytes (of UTF-8).
MAX_NAME_BYTES: Final = 63

#: An identifier that needs no quoting anywhere: ASCII letters, digits and
#: underscores, not starting with a digit (any length; see ``fits``).
PLAIN_NAME: Final = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")

#: Hex digits of the SHA-256 of the full name kept in a shortened name: 32
#: bits, so two distinct long names of one schema collide with a probability
#: of about n²/2³³ (one in 10⁷ for a thousand names).
_HASH_DIGITS: Final = 8


def fits(name: str) -> bool:
    """Whether PostgreSQL keeps ``name`` whole (at most 63 bytes of UTF-8)."""
    return len(name.encode()) <= MAX_NAME_BYTES


def is_plain_name(name: object) -> bool:
    """Whether ``name`` is a plain identifier (``PLAIN_NAME``) that ``fits``."""
    return isinstance(name, str) and PLAIN_NAME.fullmatch(name) is not None and fits(name)


def snake_case(name: str) -> str:
    """The default SQL name of a table class: ``GenreToBand`` -> ``genre_to_band``.

    A run of capitals is one word: ``HTTPLog`` -> ``http_log``.
    """
    name = re.sub(r"([A-Z]+)([A-Z][a-z])", r"\1_\2", name)
    return re.sub(r"([a-z0-9])([A-Z])", r"\1_\2", name).lower()


def _clip(text: str, size: int) -> str:
    """The longest prefix of ``text`` of at most ``size`` UTF-8 bytes."""
    return text.encode()[:size].decode(errors="ignore")


def derived_name(*parts: str, suffix: str = "") -> str:
    """``parts`` and ``suffix`` joined by ``_``, shortened to fit if needed.

    ``derived_name("band", "name", suffix="key")`` is ``band_name_key``; a
    joined name over 63 bytes becomes ``<prefix>_<hash>_<suffix>``, where the
    hash is of the whole joined name.
    """
    words = "_".join(parts)
    full = f"{words}_{suffix}" if suffix else words
    if fits(full):
        return full
    digest = hashlib.sha256(full.encode()).hexdigest()[:_HASH_DIGITS]
    tail = f"_{digest}_{suffix}" if suffix else f"_{digest}"
    head = _clip(words, MAX_NAME_BYTES - len(tail)).rstrip("_")
    return head + tail


def index_name(table: str, columns: tuple[str, ...] | list[str]) -> str:
    """The default name of an index: ``table_column1_column2``."""
    return derived_name(table, *columns)


def unique_name(table: str, columns: tuple[str, ...] | list[str]) -> str:
    """The name of a UNIQUE constraint: ``table_column1_column2_key``.

    PostgreSQL's own pattern: the name it gives an unnamed constraint while
    that name fits.
    """
    return derived_name(table, *columns, suffix="key")


def foreign_key_name(table: str, column: str) -> str:
    """The name of a foreign key constraint: ``table_column_fkey`` (PostgreSQL's pattern)."""
    return derived_name(table, column, suffix="fkey")


def primary_key_name(table: str) -> str:
    """The name of a primary key constraint: ``table_pkey`` (PostgreSQL's pattern)."""
    return derived_name(table, suffix="pkey")
