"""Many-to-many relationships through a joining table, after Piccolo's ``M2M``.

``Band.genres`` is an :class:`M2M`: it has no database column of its own (the
joining table ``GenreToBand`` holds a foreign key to each side). Calling it
makes an :class:`M2MSelect` for ``Band.select(...)``; ``band.add_m2m``,
``band.get_m2m`` and ``band.remove_m2m`` change and read the links of one row.

A selection is one correlated subquery per row, so a select stays one
statement (``limit``/``offset``/``distinct`` keep their meaning, and the
subquery uses the joining table's index on its foreign key):

- PostgreSQL: ``ARRAY(SELECT ROW(...) ...)``, which asyncpg decodes with the
  columns' own types (no JSON detour, so dates, decimals and UUIDs are exact);
- SQLite: ``json_group_array`` over an ordered subquery of ``json_array(...)``.
  SQLite's JSON keeps only 15 significant digits of a REAL, so REAL and
  NUMERIC values are passed as 17-digit text, and BLOBs (which JSON cannot
  hold) as hex.

Related rows come in the order their links were made (the joining table's
primary key), on both databases; through a joining table whose key is its two
foreign keys, in the order of the other side's key.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, Generic, Literal, TypeVar, overload

from ._columns import Bytea, Column, ForeignKey, Numeric, Real, Secret
from ._dialect import Dialect
from ._query import Query, _table_load
from ._sql import Compare, Compiler, InList
from ._write import Delete, Insert

if TYPE_CHECKING:
    from ._engine import Engine
    from ._table import Table

__all__ = ["M2M", "M2MRows", "M2MSelect", "M2MAddRelated", "M2MGetRelated", "M2MRemoveRelated"]

OwnerT = TypeVar("OwnerT", bound="Table[Any]")
TargetT = TypeVar("TargetT", bound="Table[Any]")
TargetRowT = TypeVar("TargetRowT")
V = TypeVar("V")
T = TypeVar("T")


class M2M(Generic[OwnerT, TargetT, TargetRowT]):
    """A many-to-many relationship of ``OwnerT`` with ``TargetT`` (rows ``TargetRowT``).

    Declared on both sides of a joining table::

        genres: M2M[Band, Genre, GenreRow] = M2M(lambda: GenreToBand)

    ``Band.genres(Genre.name, as_list=True)`` selects the names of each band's
    genres; ``Band.genres(Genre.id, Genre.name)`` selects dicts; ``Band.genres()``
    selects whole ``GenreRow`` dicts.
    """

    def __init__(
        self, through: Callable[[], type[Table[Any]]], *, help_text: str | None = None
    ) -> None:
        self._through = through
        self.help_text = help_text
        self.name = ""
        self._owner: type[Table[Any]] | None = None
        self._keys: tuple[ForeignKey[Any, Any], ForeignKey[Any, Any]] | None = None

    def __set_name__(self, owner: type[Any], name: str) -> None:
        self.name = name
        self._owner = owner

    def __repr__(self) -> str:
        owner = self._owner.__name__ if self._owner is not None else "?"
        return f"<M2M {owner}.{self.name}>"

    # -- the tables involved ---------------------------------------------------------

    @property
    def owner(self) -> type[Table[Any]]:
        """The table this relationship is declared on."""
        if self._owner is None:
            raise TypeError("an M2M must be declared in a Table class body")
        return self._owner

    def through(self) -> type[Table[Any]]:
        """The joining table."""
        return self._through()

    def keys(self) -> tuple[ForeignKey[Any, Any], ForeignKey[Any, Any]]:
        """The joining table's foreign keys to the owner and to the target."""
        if self._keys is None:
            through = self._through()
            owner = self.owner
            near = [fk for fk in through._meta.foreign_keys if fk.target() is owner]
            far = [fk for fk in through._meta.foreign_keys if fk.target() is not owner]
            if len(near) != 1 or len(far) != 1:
                raise TypeError(
                    f"{through.__name__} must have one foreign key to {owner.__name__}"
                    f" and one to the other side of {self!r}"
                )
            self._keys = (near[0], far[0])
        return self._keys

    def target(self) -> type[Table[Any]]:
        """The table on the other side."""
        return self.keys()[1].target()

    # -- selecting -------------------------------------------------------------------

    @overload
    def __call__(self, column: Column[T], /, *, as_list: Literal[True]) -> M2MSelect[list[T]]: ...
    @overload
    def __call__(self, /) -> M2MSelect[list[TargetRowT]]: ...
    @overload
    def __call__(
        self, *columns: Column[Any], as_list: Literal[False] = False
    ) -> M2MSelect[M2MRows]: ...
    def __call__(self, *columns: Column[Any], as_list: bool = False) -> M2MSelect[Any]:
        """The related rows of each selected row, for ``select()``.

        One column with ``as_list=True`` gives a list of its values; columns
        give a list of dicts keyed by column name; no column gives every column
        except ``Secret`` ones.
        """
        target = self.target()
        for column in columns:
            if not isinstance(column, Column) or isinstance(column, M2MSelect):
                raise TypeError(f"{self!r}() takes columns of {target.__name__}; got {column!r}")
            if column._meta.table is not target or column._meta.path:
                raise ValueError(
                    f"{self!r}() takes columns of {target.__name__} itself; got {column!r}"
                )
        if as_list and len(columns) != 1:
            raise ValueError(f"{self!r}(as_list=True) takes exactly one column")
        if not columns:
            # Like ``select()``: every column but the secrets.
            columns = tuple(c for c in target._meta.columns if not isinstance(c, Secret))
        return M2MSelect(self, list(columns), as_list=as_list)


class M2MRows(list[dict[str, Any]]):
    """The related rows of a selection such as ``Band.genres(Genre.id, Genre.name)``:
    a list of dicts keyed by column name.

    A named type rather than ``list[dict[str, Any]]``: mypy types a call whose
    argument type contains ``Any`` as ``Any`` when several overloads could take
    it, which would make the whole ``select()`` untyped.
    """

    __slots__ = ()


class M2MSelect(Column[V]):
    """The related rows of an :class:`M2M`, selected as one value ``V`` per row.

    A column for ``select()`` only: it cannot be compared or written.
    """

    def __init__(self, m2m: M2M[Any, Any, Any], columns: list[Column[Any]], *, as_list: bool):
        super().__init__()
        self._m2m = m2m
        self._columns = columns
        self._as_list = as_list
        self._meta.name = m2m.name
        self._meta.table = m2m.owner
        # Compiled through the derived-column hook of ``Compiler.column``.
        self._expr = self._subquery

    def _check(self, value: object) -> Any:
        raise TypeError(f"{self!r} can only be selected, not compared or written")

    def _subquery(self, c: Compiler, ref: str) -> str:
        """The correlated subquery that selects the related rows of each row
        (``ref``, the plain column reference of the hook, is not used)."""
        m2m = self._m2m
        owner = m2m.owner
        if c.root is not owner:
            raise ValueError(f"{m2m!r} can only be selected from {owner.__name__}")
        quote = c.dialect.quote
        near, far = m2m.keys()
        through = m2m.through()
        target = m2m.target()
        root = c.alias(())
        # Named after the relationship: no foreign-key join path can have the
        # same alias, because the relationship's name is not a foreign key.
        link = quote(f"{root}${m2m.name}$through")
        other = quote(f"{root}${m2m.name}")
        source = (
            f" FROM {quote(through._meta.tablename)} AS {link}"
            f" JOIN {quote(target._meta.tablename)} AS {other}"
            f" ON {link}.{quote(far._meta.db_name)}"
            f" = {other}.{quote(far._target_key()._meta.db_name)}"
            f" WHERE {link}.{quote(near._meta.db_name)}"
            f" = {quote(root)}.{quote(near._target_key()._meta.db_name)}"
            f" ORDER BY {link}.{quote(_link_order(through, far))}"
        )
        if c.dialect.native_arrays:
            values = ", ".join(f"{other}.{quote(col._meta.db_name)}" for col in self._columns)
            return f"ARRAY(SELECT ROW({values}){source})"
        values = ", ".join(
            _sqlite_json_value(col, f"{other}.{quote(col._meta.db_name)}") for col in self._columns
        )
        return (
            f'(SELECT json_group_array(json("v")) FROM'
            f' (SELECT json_array({values}) AS "v"{source}))'
        )

    def _from_db(self, dialect: Dialect) -> Callable[[Any], Any] | None:
        columns = self._columns
        decoders: list[tuple[int, Callable[[Any], Any]]] = []
        for i, column in enumerate(columns):
            decode = column._from_db(dialect)
            if not dialect.native_arrays:
                decode = _sqlite_json_decoder(column, decode)
            if decode is not None:
                decoders.append((i, decode))
        from_json = not dialect.native_arrays
        as_list = self._as_list
        names = [column._meta.name for column in columns]

        def decode_items(value: Any) -> Any:
            items: list[Any] = json.loads(value) if from_json else value
            if decoders:
                fixed = []
                for item in items:
                    item = list(item)
                    for i, decode in decoders:
                        item[i] = decode(item[i])
                    fixed.append(item)
                items = fixed
            if as_list:
                return [item[0] for item in items]
            return M2MRows([dict(zip(names, item)) for item in items])

        return decode_items


def _link_order(through: type[Table[Any]], far: ForeignKey[Any, Any]) -> str:
    """The joining table's column that orders the links: its own key, the
    order links were made in; with a composite key (of its two foreign keys,
    no key of its own), the key to the other side, an order both databases
    give alike."""
    meta = through._meta
    return meta.primary_key._meta.db_name if len(meta.key) == 1 else far._meta.db_name


def _sqlite_json_value(column: Column[Any], sql: str) -> str:
    """``sql`` as a value JSON can carry exactly (see the module docstring)."""
    if isinstance(column, Bytea):
        return f"CASE WHEN {sql} IS NULL THEN NULL ELSE hex({sql}) END"
    if isinstance(column, (Real, Numeric)):
        return f"CASE WHEN typeof({sql}) = 'real' THEN printf('%!.17g', {sql}) ELSE {sql} END"
    return sql


def _sqlite_json_decoder(
    column: Column[Any], decode: Callable[[Any], Any] | None
) -> Callable[[Any], Any] | None:
    """Undo :func:`_sqlite_json_value`, then apply the column's own decoder."""
    if isinstance(column, Bytea):
        return _from_hex
    if isinstance(column, (Real, Numeric)):
        then = decode

        def decode_number(value: Any) -> Any:
            if isinstance(value, str):
                value = float(value)
            return then(value) if then is not None else value

        return decode_number
    return decode


def _from_hex(value: Any) -> Any:
    return None if value is None else bytes.fromhex(value)


# -- the links of one row ------------------------------------------------------------


def _check_owner(row: Table[Any], m2m: M2M[Any, Any, Any], action: str) -> Any:
    """The key of ``row`` its links hold (its primary key, unless the joining
    table's key names another column); ``row`` must be a saved row of
    ``m2m``'s owner."""
    if not isinstance(m2m, M2M) or type(row) is not m2m.owner:
        raise ValueError(f"{action}() takes an M2M of {type(row).__name__}; got {m2m!r}")
    pk = row.__dict__.get(m2m.keys()[0]._target_key()._meta.name)
    if pk is None or not row.__dict__.get("_saved"):
        raise ValueError(f"{action}(): {row!r} has not been saved")
    return pk


def _check_rows(rows: Sequence[Table[Any]], m2m: M2M[Any, Any, Any], action: str) -> None:
    target = m2m.target()
    for row in rows:
        if type(row) is not target:
            raise TypeError(f"{action}() with {m2m!r} takes {target.__name__} rows; got {row!r}")


class M2MAddRelated(Query[None]):
    """Link rows to one row through the joining table, saving new rows first."""

    def __init__(
        self,
        row: Table[Any],
        rows: Sequence[Table[Any]],
        m2m: M2M[Any, Any, Any],
        extra_column_values: Mapping[Column[Any] | str, object],
    ) -> None:
        self._owner_pk = _check_owner(row, m2m, "add_m2m")
        _check_rows(rows, m2m, "add_m2m")
        self._table = through = m2m.through()
        self._m2m = m2m
        self._rows = list(rows)
        near, far = m2m.keys()
        extra: dict[str, object] = {}
        for key, value in extra_column_values.items():
            column = through._resolve(key)
            if column._meta.table is not through or column._meta.path:
                raise ValueError(f"add_m2m(): {key!r} is not a column of {through.__name__}")
            if column is near or column is far:
                raise ValueError(f"add_m2m(): {key!r} is set by add_m2m itself")
            extra[column._meta.name] = value
        if far._meta.required or near._meta.required:
            # The keys of a composite key are required: check the values alone.
            for name, value in extra.items():
                through._meta.column_map[name]._check(value)
        else:
            # Build one joining row now so that a bad extra value raises here.
            through(**extra)
        self._extra = extra

    def _links(self) -> list[Table[Any]]:
        near, far = self._m2m.keys()
        through = self._table
        target_pk = far._target_key()._meta.name
        return [
            through(
                **self._extra,
                **{near._meta.name: self._owner_pk, far._meta.name: row.__dict__[target_pk]},
            )
            for row in self._rows
        ]

    def _sql(self, dialect: Dialect) -> tuple[str, list[object]]:
        unsaved = [row for row in self._rows if not row.__dict__.get("_saved")]
        if unsaved:
            return Insert(self._m2m.target(), unsaved)._sql(dialect)
        return Insert(self._table, self._links())._sql(dialect)

    async def _run(self, engine: Engine) -> None:
        if not self._rows:
            return
        if engine.transaction_exists():
            await self._add(engine)
            return
        async with engine.transaction():
            await self._add(engine)

    async def _add(self, engine: Engine) -> None:
        unsaved = [row for row in self._rows if not row.__dict__.get("_saved")]
        if unsaved:
            await Insert(self._m2m.target(), unsaved)._run(engine)
        await Insert(self._table, self._links())._run(engine)


class M2MGetRelated(Query[list[TargetT]], Generic[TargetT]):
    """The rows linked to one row, as instances, in the order they were linked.

    A row linked twice is returned once.
    """

    def __init__(self, row: Table[Any], m2m: M2M[Any, TargetT, Any]) -> None:
        self._owner_pk = _check_owner(row, m2m, "get_m2m")
        self._table = m2m.target()
        self._m2m = m2m

    def _sql(self, dialect: Dialect) -> tuple[str, list[object]]:
        m2m = self._m2m
        target = self._table
        through = m2m.through()
        near, far = m2m.keys()
        quote = dialect.quote
        c = Compiler(dialect, target)
        name = quote(target._meta.tablename)
        columns = ", ".join(f"{name}.{quote(col._meta.db_name)}" for col in target._meta.columns)
        link = quote(f"{target._meta.tablename}${m2m.name}$through")
        owner_pk = c.param(near._target_key()._to_db(self._owner_pk, dialect))
        sql = (
            f"SELECT {columns} FROM {name} JOIN"
            f' (SELECT {quote(far._meta.db_name)} AS "key",'
            f' MIN({quote(_link_order(through, far))}) AS "first"'
            f" FROM {quote(through._meta.tablename)}"
            f" WHERE {quote(near._meta.db_name)} = {owner_pk}"
            f" GROUP BY {quote(far._meta.db_name)}) AS {link}"
            f' ON {link}."key" = {name}.{quote(far._target_key()._meta.db_name)}'
            f' ORDER BY {link}."first"'
        )
        return sql, c.params

    async def _run(self, engine: Engine) -> list[TargetT]:
        sql, params = self._sql(engine.dialect)
        rows = await engine._fetch_built(sql, params)
        target: type[TargetT] = self._table  # type: ignore[assignment]
        return _table_load(target, engine.dialect).objects(target, rows)

    def _read_only(self) -> bool:
        return True


class M2MRemoveRelated(Query[None]):
    """Unlink rows from one row (the rows themselves stay)."""

    def __init__(
        self, row: Table[Any], rows: Sequence[Table[Any]], m2m: M2M[Any, Any, Any]
    ) -> None:
        self._owner_pk = _check_owner(row, m2m, "remove_m2m")
        _check_rows(rows, m2m, "remove_m2m")
        self._table = m2m.through()
        target_pk = m2m.keys()[1]._target_key()._meta.name
        # Unsaved rows have no link to remove (like Piccolo, they are skipped).
        self._keys = [key for row in rows if (key := row.__dict__.get(target_pk)) is not None]
        self._m2m = m2m

    def _delete(self) -> Delete:
        near, far = self._m2m.keys()
        condition = Compare(near, "=", self._owner_pk) & InList(far, self._keys, negate=False)
        return Delete(self._table, force=False).where(condition)

    def _sql(self, dialect: Dialect) -> tuple[str, list[object]]:
        return self._delete()._sql(dialect)

    async def _run(self, engine: Engine) -> None:
        if self._keys:
            await self._delete()._run(engine)
