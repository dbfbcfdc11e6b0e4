"""Test-data builders: ``await build(Band, name="x")`` is a saved ``Band``.

Every column not given gets a valid value drawn from what the table class
knows about it::

    band = await build(Band, name="Pythonistas")      # saved; band.id is set
    concert = await build(Concert)                    # builds and saves its two bands and venue
    draft = await build(Band, persist=False)          # not saved
    builder = Builder(seed=7)                         # the same values on every run
    ticket = await builder.build(Ticket, price=Decimal("10.00"))

The rules, column by column (a column given is used as given, and checked
by the constructor as every value is):

- a serial key is numbered by the database;
- a required (non-null) foreign key points at a row built (and saved) for
  it, recursively; so do the columns of a required foreign key over several
  columns. A nullable foreign key stays ``NULL``;
- a column with a declared default keeps it (``default: 0``, ``now``), unless
  it is unique or part of the primary key;
- any other column gets a random value of its type: text within the
  column's length (exactly its length for ``char``), an address for
  ``email``, integers within the type's range (from 0 to 1000 unless unique),
  numerics within their digits, single-precision-exact ``real`` values,
  dates and times from 2000 to 2030 (aware, in UTC, for ``timestamptz``),
  UUIDs, small JSON objects, bytes, arrays of zero to three elements, and a
  member of the enum for a column with ``choices`` or a native enum;
- nullable columns get a value too (``None`` only when given);
- values of unique columns, of primary keys and of unique constraints over
  several columns are distinct among the rows a builder makes.

A row the database refuses for a unique or check constraint is drawn again
(up to ``Builder.attempts`` times, each in a savepoint, so a transaction
around the build goes on). Values come from a ``random.Random`` of the
builder's: ``Builder(seed=...)`` (or ``build(..., seed=...)``) draws the
same values on every run; the module's ``build`` uses an unseeded builder.

The overrides are checked when the row is constructed (an unknown name or a
value of the wrong type raises ``TypeError``), not by the type checker: the
constructor's signature, which checks them statically, requires the columns
marked ``required``, which a builder fills in itself. A column named
``persist``, ``seed`` or ``engine`` is given in the mapping argument:
``build(Job, {"seed": 3})``.
"""

from __future__ import annotations

import datetime
import decimal
import enum
import json
import random
import string
import uuid
from collections.abc import Mapping
from typing import Any, Final, TypeVar

from . import _columns as c
from ._array import Array
from ._composite import CompositeForeignKey
from ._discovery import engine_finder
from ._engine_base import Engine
from ._errors import CheckViolation, UniqueViolation
from ._table import Table
from ._write import hashable

__all__ = ["Builder", "BuildError", "build"]

TableT = TypeVar("TableT", bound=Table[Any])

_LETTERS: Final = string.ascii_lowercase
_WORDS: Final = (
    "amber", "bass", "chord", "drum", "echo", "fugue", "groove", "harp", "indie", "jazz",
    "kick", "lyric", "melody", "note", "opera", "piano", "quartet", "riff", "solo", "tempo",
    "unison", "verse", "waltz", "xylo", "yodel", "zither",
)  # fmt: skip
_EPOCH: Final = datetime.datetime(2000, 1, 1)
_SPAN_SECONDS: Final = 30 * 365 * 24 * 3600


class BuildError(TypeError):
    """A row that cannot be built: a cycle of required foreign keys, or no
    distinct value left for a unique column."""


class Builder:
    """Builds rows of table classes with valid random values (see the module doc).

    ``seed``: the random generator's seed (``None``: unpredictable).
    ``engine``: the database rows are saved to (default: each table's engine).
    """

    #: How many times a row refused by a unique or check constraint is drawn.
    attempts: int = 10

    def __init__(self, *, seed: int | None = None, engine: Engine | None = None) -> None:
        self.random = random.Random(seed)
        self.engine = engine
        self._issued: dict[tuple[type[Table[Any]], tuple[str, ...]], set[object]] = {}
        self._building: list[type[Table[Any]]] = []

    async def build(
        self,
        table: type[TableT],
        values: Mapping[str, object] | None = None,
        /,
        *,
        persist: bool = True,
        **overrides: object,
    ) -> TableT:
        """A row of ``table``: the columns given (``values`` and keywords), the rest drawn.

        Saved unless ``persist=False``; the rows its required foreign keys point
        at are built and saved either way (give those keys to save nothing).
        """
        if not (isinstance(table, type) and issubclass(table, Table)):
            raise TypeError(f"build() takes a table class; got {table!r}")
        given = {**(values or {}), **overrides}
        if table in self._building:
            path = " -> ".join(t.__name__ for t in [*self._building, table])
            raise BuildError(
                f"cannot build {table.__name__}: its required foreign keys form a cycle "
                f"({path}); give one of the keys as an override"
            )
        self._building.append(table)
        try:
            related = await self._related(table, given)
            engine = self.engine or table._meta.db or engine_finder()
            for attempt in range(self.attempts):
                row = table(**self._values(table, {**related, **given}))
                if not persist:
                    return row
                try:
                    async with engine.transaction():
                        await table.insert(row).run(engine=engine)
                except (UniqueViolation, CheckViolation):
                    if attempt == self.attempts - 1:
                        raise
                    continue
                return row
        finally:
            self._building.pop()
        raise AssertionError("unreachable")  # pragma: no cover

    # -- foreign keys ---------------------------------------------------------------

    async def _related(
        self, table: type[Table[Any]], given: Mapping[str, object]
    ) -> dict[str, object]:
        """Values of the required foreign keys not given: keys of rows built for them."""
        values: dict[str, object] = {}
        meta = table._meta
        composite_columns = {name for fk in meta.composite_foreign_keys for name in fk._names}
        for fk in meta.foreign_keys:
            name = fk._meta.name
            if (
                name in given
                or name in composite_columns
                or fk._meta.null
                or fk._meta.default is not c.MISSING
            ):
                continue
            target = fk.target()
            row = await self.build(target)
            values[name] = row.__dict__[fk._target_key()._meta.name]
        for composite in meta.composite_foreign_keys:
            columns = composite.columns()
            if any(col._meta.name in given for col in columns):
                continue
            if all(col._meta.null for col in columns):
                continue
            values.update(await self._composite_target(composite))
        return values

    async def _composite_target(self, fk: CompositeForeignKey[Any]) -> dict[str, object]:
        row = await self.build(fk.target())
        return {
            col._meta.name: row.__dict__[target._meta.name]
            for col, target in zip(fk.columns(), fk.target_columns())
        }

    # -- values -----------------------------------------------------------------------

    def _values(self, table: type[Table[Any]], given: Mapping[str, object]) -> dict[str, object]:
        """The constructor's arguments: ``given``, and a drawn value for each
        column that needs one. Distinct where a key or a unique constraint says."""
        meta = table._meta
        key_names = {col._meta.name for col in meta.key}
        groups = [tuple(group) for group in meta.unique]
        groups += [index.columns for index in meta.indexes if index.unique]
        if len(meta.key) > 1:
            groups.append(tuple(col._meta.name for col in meta.key))
        in_groups = {name for group in groups for name in group}
        # Keys over several columns are filled in by ``_related`` or left NULL.
        composite = {name for fk in meta.composite_foreign_keys for name in fk._names}
        for _ in range(100):
            values = dict(given)
            for column in meta.columns:
                name = column._meta.name
                if (
                    name in values
                    or name in composite
                    or isinstance(column, (c.Serial, c.ForeignKey))
                ):
                    continue
                unique = column._meta.unique or name in key_names or name in in_groups
                if column._meta.default is not c.MISSING and not unique:
                    continue
                alone = column._meta.unique or (name in key_names and len(meta.key) == 1)
                if alone:
                    values[name] = self._distinct(table, column)
                else:
                    values[name] = self.value(column, unique=unique)
            fresh = True
            for group in groups:
                combination = tuple(hashable(values.get(name)) for name in group)
                issued = self._issued.setdefault((table, group), set())
                if combination in issued:
                    fresh = False
                    break
            if fresh:
                for group in groups:
                    issued = self._issued[(table, group)]
                    issued.add(tuple(hashable(values.get(name)) for name in group))
                return values
        raise BuildError(
            f"no distinct values left for the unique columns of {table.__name__}; "
            "give them as overrides"
        )

    def _distinct(self, table: type[Table[Any]], column: c.Column[Any]) -> object:
        issued = self._issued.setdefault((table, (column._meta.name,)), set())
        for _ in range(100):
            value = self.value(column, unique=True)
            if hashable(value) not in issued:
                issued.add(hashable(value))
                return value
        raise BuildError(
            f"no distinct value left for {column._label()} after 100 draws; give it as an override"
        )

    def value(self, column: c.Column[Any], *, unique: bool = False) -> object:
        """A random valid value of ``column`` (never ``None``); ``unique``: drawn
        from a wider range (the caller keeps values distinct)."""
        rng = self.random
        choices = column._meta.choices
        if choices is not None:
            members: list[enum.Enum] = list(choices)
            return rng.choice(members)
        if isinstance(column, c.Password):
            # No password, no login (a hash costs as much as a login); a user
            # who logs in: build(User, password=User.hash_password("...")).
            return ""
        if isinstance(column, Array):
            return [self.value(column.base_column) for _ in range(rng.randint(0, 3))]
        if isinstance(column, c.Email):
            local = self._word(max(1, min(12, column.length - len("@example.com"))), unique)
            address = f"{local}@example.com"
            return address if len(address) <= column.length else self._letters(column.length)
        if isinstance(column, c.Char):
            return self._letters(column.length)
        if isinstance(column, c.Varchar):
            return self._word(column.length, unique)
        if isinstance(column, c.Text):
            if unique:
                return self._word(24, True)
            return " ".join(rng.choice(_WORDS) for _ in range(rng.randint(1, 4)))
        if isinstance(column, c._IntegerColumn):
            top = column._max if unique else min(column._max, 1000)
            return rng.randint(1 if unique else 0, top)
        if isinstance(column, c.DoublePrecision):
            return round(rng.uniform(0, 1000), 6)
        if isinstance(column, c.Real):
            return rng.randint(0, 4000) / 4  # exact in single precision
        if isinstance(column, c.Numeric):
            return self._decimal(column.digits, unique)
        if isinstance(column, c.Boolean):
            return rng.random() < 0.5
        if isinstance(column, c.Timestamptz):
            return self._datetime().replace(tzinfo=datetime.UTC)
        if isinstance(column, c.Timestamp):
            return self._datetime()
        if isinstance(column, c.Date):
            return self._datetime().date()
        if isinstance(column, c.Time):
            return self._datetime().time()
        if isinstance(column, c.Interval):
            return datetime.timedelta(seconds=rng.randint(0, 10 * 24 * 3600))
        if isinstance(column, c.UUID):
            return uuid.UUID(int=rng.getrandbits(128), version=4)
        if isinstance(column, c.JSON):
            return json.dumps({rng.choice(_WORDS): rng.randint(0, 100)})
        if isinstance(column, c.Bytea):
            return rng.randbytes(rng.randint(1, 16))
        raise BuildError(
            f"no random values for {column._label()} ({type(column).__name__}); "
            "give it as an override"
        )

    def _letters(self, length: int) -> str:
        return "".join(self.random.choice(_LETTERS) for _ in range(length))

    def _word(self, length: int, unique: bool) -> str:
        rng = self.random
        if unique or length < 5:
            # 26**8 values: distinct draws rarely repeat.
            return self._letters(min(length, 8))
        word = rng.choice(_WORDS)
        return f"{word} {self._letters(3)}"[:length]

    def _decimal(self, digits: tuple[int, int] | None, unique: bool) -> decimal.Decimal:
        rng = self.random
        precision, scale = digits if digits is not None else (12, 2)
        whole_digits = min(precision - scale, 9 if unique else 4)
        whole = rng.randint(0, 10**whole_digits - 1) if whole_digits > 0 else 0
        if scale == 0:
            return decimal.Decimal(whole)
        fraction = rng.randint(0, 10**scale - 1)
        return decimal.Decimal(f"{whole}.{fraction:0{scale}d}")

    def _datetime(self) -> datetime.datetime:
        return _EPOCH + datetime.timedelta(seconds=self.random.randint(0, _SPAN_SECONDS))


_default = Builder()


async def build(
    table: type[TableT],
    values: Mapping[str, object] | None = None,
    /,
    *,
    persist: bool = True,
    seed: int | None = None,
    engine: Engine | None = None,
    **overrides: object,
) -> TableT:
    """A row of ``table`` with valid random values, saved (see the module doc).

    ``build(Band, name="x")``; ``persist=False``: not saved; ``seed``: values
    drawn by a ``Builder(seed=seed)`` of this call alone (the same on every
    run); ``engine``: the database to save to (default: the table's).
    """
    builder = _default if seed is None and engine is None else Builder(seed=seed, engine=engine)
    return await builder.build(table, values, persist=persist, **overrides)
