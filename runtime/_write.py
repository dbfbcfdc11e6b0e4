"""``INSERT``, ``UPDATE`` and ``DELETE``, with ``ON CONFLICT`` and ``RETURNING``."""

from __future__ import annotations

import enum
import functools
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from operator import itemgetter
from typing import TYPE_CHECKING, Any, Generic, Literal, Self, TypeVar, overload

from ._columns import Column, ForeignKey, Numeric, Serial
from ._dialect import Dialect
from ._expr import kind_of
from ._numeric import FUNCTION
from ._query import Query, RowLoad, _Filtered
from ._roles import TableRole
from ._sql import Compiler, Condition

if TYPE_CHECKING:
    from ._engine import Engine
    from ._table import Table

# Parameters per statement stay below both drivers' limits (32767).
_MAX_PARAMS = 30_000

ResultT = TypeVar("ResultT")
R = TypeVar("R")
C = TypeVar("C")
T1 = TypeVar("T1")
T2 = TypeVar("T2")
T3 = TypeVar("T3")
T4 = TypeVar("T4")
T5 = TypeVar("T5")
T6 = TypeVar("T6")
T7 = TypeVar("T7")
T8 = TypeVar("T8")
T9 = TypeVar("T9")
T10 = TypeVar("T10")
TableT = TypeVar("TableT", bound="Table[Any]")

__all__ = ["BulkInsert", "Insert", "Update", "Delete", "Returning", "OnConflictAction"]

OnConflictAction = Literal["DO NOTHING", "DO UPDATE"]


def _own_column(table: type[Table[Any]], column: object, what: str) -> Column[Any]:
    """``column`` if it is one of ``table``'s own, plain columns."""
    if (
        not isinstance(column, Column)
        or column._meta.path
        or column._meta.table is not table
        or column._expr is not None
    ):
        raise ValueError(f"{what} takes {table.__name__}'s own columns; got {column!r}")
    return column


def _check_value(table: type[Table[Any]], column: Column[Any], value: object) -> object:
    """A value to write to ``column``: checked now, or a column/expression of a
    compatible type (``Band.popularity + 1``)."""
    if not isinstance(value, Column):
        return column._check(value)
    target, source = kind_of(column), kind_of(value)
    if target == "integer" and source is not None and source != "integer":
        # PostgreSQL would round the number on assignment; SQLite would store
        # it as it is in the integer column. Refused on both.
        raise TypeError(
            f"{column._label()} cannot be set to {value!r}: its values are {source}, "
            "not integers"
        )
    if (
        object not in column._py_types
        and object not in value._py_types
        and not set(column._py_types) & set(value._py_types)
    ):
        raise TypeError(
            f"{column._label()} cannot be set to {value!r}: "
            f"{type(value).__name__} values are not {type(column).__name__} values"
        )
    return value


def _value_sql(c: Compiler, column: Column[Any], value: object) -> str:
    if isinstance(value, Column):
        sql = c.column(value)
        if not c.dialect.exact_numeric and isinstance(column, Numeric) and column.digits:
            # PostgreSQL rounds a value assigned to numeric(p, s) to s places
            # (and refuses one too large); SQLite would store it as computed
            # (1.089 for 0.99 * 1.10), which reads back rounded but compares
            # unequal to the value read.
            precision, scale = column.digits
            return f"{FUNCTION['fit']}({sql}, {int(precision)}, {int(scale)})"
        return sql
    return c.param(column._to_db(value, c.dialect))


def _no_joins(c: Compiler, what: str) -> None:
    # Join-path aliases are not in scope in SET / ON CONFLICT clauses.
    if c.joins:
        raise ValueError(f"{what} cannot use join paths (columns of other tables)")


# -- RETURNING ------------------------------------------------------------------------


class Returning(Query[list[R]], Generic[R, C]):
    """A write whose result is the written rows' ``columns`` (``RETURNING``).

    ``R`` is what one row becomes (a dict; see ``output()``), ``C`` the
    returned value types.
    """

    _output: Literal["dicts", "list", "tuples"] = "dicts"

    def __init__(self, query: Insert[Any] | Update | Delete, columns: list[Column[Any]]) -> None:
        self._table = query._table
        table = query._table
        self._columns = [_own_column(table, col, "returning()") for col in columns]
        if not self._columns:
            raise ValueError("returning() needs at least one column")
        self._query = query

    @overload
    def output(self: Returning[Any, tuple[T1]], *, as_list: Literal[True]) -> Returning[T1, C]: ...
    @overload
    def output(self, *, as_tuples: Literal[True]) -> Returning[C, C]: ...
    def output(self, *, as_list: bool = False, as_tuples: bool = False) -> Any:
        """Rows as the value of the one column (``as_list``) or as tuples."""
        if as_list + as_tuples != 1:
            raise ValueError("output() takes exactly one of as_list, as_tuples")
        if as_list and len(self._columns) != 1:
            raise ValueError("output(as_list=True) needs exactly one returned column")
        new = self._copy()
        new._output = "list" if as_list else "tuples"
        return new

    def _sql(self, dialect: Dialect) -> tuple[str, list[object]]:
        return self._query._returning_sql(dialect, self._columns)

    async def _run(self, engine: Engine) -> list[R]:
        rows = await self._query._run_returning(engine, self._columns)
        load = RowLoad(self._columns, engine.dialect, [c._meta.name for c in self._columns])
        if self._output == "dicts":
            result: list[Any] = load.dicts(rows)
        elif self._output == "tuples":
            result = load.tuples(rows)
        else:
            result = [t[0] for t in load.tuples(rows)]
        return result


def _returning_clause(dialect: Dialect, columns: Sequence[Column[Any]]) -> str:
    if not columns:
        return ""
    # Unqualified names: both databases resolve them to the written table.
    return " RETURNING " + ", ".join(dialect.quote(c._meta.db_name) for c in columns)


class _Returns:
    """``returning()``, typed like ``Table.select()`` for one to ten columns."""

    @overload
    def returning(self, c1: Column[T1], /) -> Returning[dict[str, Any], tuple[T1]]: ...
    @overload
    def returning(
        self, c1: Column[T1], c2: Column[T2], /
    ) -> Returning[dict[str, Any], tuple[T1, T2]]: ...
    @overload
    def returning(
        self, c1: Column[T1], c2: Column[T2], c3: Column[T3], /
    ) -> Returning[dict[str, Any], tuple[T1, T2, T3]]: ...
    @overload
    def returning(
        self, c1: Column[T1], c2: Column[T2], c3: Column[T3], c4: Column[T4], /
    ) -> Returning[dict[str, Any], tuple[T1, T2, T3, T4]]: ...
    @overload
    def returning(
        self,
        c1: Column[T1],
        c2: Column[T2],
        c3: Column[T3],
        c4: Column[T4],
        c5: Column[T5],
        /,
    ) -> Returning[dict[str, Any], tuple[T1, T2, T3, T4, T5]]: ...
    @overload
    def returning(
        self,
        c1: Column[T1],
        c2: Column[T2],
        c3: Column[T3],
        c4: Column[T4],
        c5: Column[T5],
        c6: Column[T6],
        /,
    ) -> Returning[dict[str, Any], tuple[T1, T2, T3, T4, T5, T6]]: ...
    @overload
    def returning(
        self,
        c1: Column[T1],
        c2: Column[T2],
        c3: Column[T3],
        c4: Column[T4],
        c5: Column[T5],
        c6: Column[T6],
        c7: Column[T7],
        /,
    ) -> Returning[dict[str, Any], tuple[T1, T2, T3, T4, T5, T6, T7]]: ...
    @overload
    def returning(
        self,
        c1: Column[T1],
        c2: Column[T2],
        c3: Column[T3],
        c4: Column[T4],
        c5: Column[T5],
        c6: Column[T6],
        c7: Column[T7],
        c8: Column[T8],
        /,
    ) -> Returning[dict[str, Any], tuple[T1, T2, T3, T4, T5, T6, T7, T8]]: ...
    @overload
    def returning(
        self,
        c1: Column[T1],
        c2: Column[T2],
        c3: Column[T3],
        c4: Column[T4],
        c5: Column[T5],
        c6: Column[T6],
        c7: Column[T7],
        c8: Column[T8],
        c9: Column[T9],
        /,
    ) -> Returning[dict[str, Any], tuple[T1, T2, T3, T4, T5, T6, T7, T8, T9]]: ...
    @overload
    def returning(
        self,
        c1: Column[T1],
        c2: Column[T2],
        c3: Column[T3],
        c4: Column[T4],
        c5: Column[T5],
        c6: Column[T6],
        c7: Column[T7],
        c8: Column[T8],
        c9: Column[T9],
        c10: Column[T10],
        /,
    ) -> Returning[dict[str, Any], tuple[T1, T2, T3, T4, T5, T6, T7, T8, T9, T10]]: ...
    @overload
    def returning(self, *columns: Column[Any]) -> Returning[dict[str, Any], tuple[Any, ...]]: ...
    def returning(self, *columns: Column[Any]) -> Returning[Any, Any]:
        """The written rows' ``columns`` as the result (SQL ``RETURNING``).

        Rows are dicts keyed by column name; ``output(as_list=True)`` /
        ``output(as_tuples=True)`` give exactly typed values. It comes last.
        """
        return Returning(self, list(columns))  # type: ignore[arg-type]


# -- INSERT ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _OnConflict:
    target: tuple[Column[Any], ...]
    action: OnConflictAction
    #: (column, value): a checked value, a column, or ``None`` for ``EXCLUDED``.
    values: tuple[tuple[Column[Any], object, bool], ...]
    where: Condition | None

    def sql(self, c: Compiler) -> str:
        quote = c.dialect.quote
        sql = " ON CONFLICT"
        if self.target:
            sql += " (" + ", ".join(quote(col._meta.db_name) for col in self.target) + ")"
        if self.action == "DO NOTHING":
            return sql + " DO NOTHING"
        sets = []
        for column, value, excluded in self.values:
            name = quote(column._meta.db_name)
            sets.append(
                f"{name} = EXCLUDED.{name}"
                if excluded
                else f"{name} = {_value_sql(c, column, value)}"
            )
        sql += " DO UPDATE SET " + ", ".join(sets)
        if self.where is not None:
            sql += f" WHERE {self.where.compile(c)}"
        _no_joins(c, "on_conflict()")
        return sql


@dataclass(slots=True)
class _Statement:
    sql: str
    params: list[object]
    rows: list[Any]
    #: Columns of RETURNING, in order: [primary key] + match columns + asked.
    returned: list[Column[Any]]
    #: Whether the first returned column is the primary key to fill in.
    fill_pk: bool
    #: How many returned columns (after the key) identify the row (ON CONFLICT).
    match: int


@functools.lru_cache(maxsize=64)
def _values_text(numbered: bool, rows: int, width: int) -> str:
    """``($1, $2), ($3, $4), ...`` (or ``(?, ?), ...``) for ``rows`` rows of
    ``width`` values, numbered from 1: the same for every chunk of a shape."""
    if not numbered:
        return ", ".join(["(" + ", ".join(["?"] * width) + ")"] * rows)
    return ", ".join(
        "(" + ", ".join([f"${n}" for n in range(i * width + 1, (i + 1) * width + 1)]) + ")"
        for i in range(rows)
    )


def _encoder(column: Column[Any], dialect: Dialect) -> Callable[[Any], object] | None:
    """How ``column``'s values are encoded, when ``_to_db`` alone will not do."""
    if isinstance(column, ForeignKey):
        to_db: Callable[[Any, Dialect], object] = column._to_db
        check = column._check
        if type(column)._to_db is ForeignKey._to_db:
            # ForeignKey._to_db is the target key's: bind that once (the
            # target is resolved once per statement, not per value).
            to_db = column._target_key()._to_db

        def encode(value: Any) -> object:
            # A related row (a prefetched one) stands for its key.
            return to_db(check(value) if isinstance(value, TableRole) else value, dialect)

        return encode
    return None


def _plain_to_db(value: Any) -> object:
    # Column._to_db without the method call and the dialect argument.
    return value.value if isinstance(value, enum.Enum) else value


def _value_encoder(column: Column[Any], dialect: Dialect) -> Callable[[Any], object]:
    """One value of ``column`` in the driver's representation: ``_encoder``
    when it has one, else ``_to_db``, with the common cases resolved once
    per statement instead of per value."""
    encode = _encoder(column, dialect)
    if encode is not None:
        return encode
    if column._as_is_on(dialect):
        return _plain_to_db
    to_db = column._to_db
    return lambda value: to_db(value, dialect)


def _encoded_values(column: Column[Any], dialect: Dialect, values: list[Any]) -> list[Any]:
    """``values`` of ``column`` in the driver's representation (``_value_encoder``
    per value), the list itself when no value needs encoding: a column
    encoded as it is but for enum members (``_plain_to_db``), or a foreign
    key to such a key (encoded but for enum members and related rows), whose
    values include neither, which their types tell at once."""
    # The cases of _value_encoder, each with what its values may skip.
    encode = _encoder(column, dialect)
    changed: tuple[type, ...] | None = None
    if encode is None:
        if not column._as_is_on(dialect):
            # ``_to_db`` of each value, or of the column at once where it can.
            return column._to_db_many(values, dialect)
        encode, changed = _plain_to_db, (enum.Enum,)
    elif (
        isinstance(column, ForeignKey)
        and type(column)._to_db is ForeignKey._to_db
        and column._target_key()._as_is_on(dialect)
    ):
        changed = (enum.Enum, TableRole)
    if changed is not None and not any(
        issubclass(kind, changed) for kind in set(map(type, values))
    ):
        return values
    return list(map(encode, values))


def hashable(value: object) -> object:
    """``value`` as a key of a dict or set, equal where the values are equal:
    lists (arrays) and tuples as tuples of such keys, dicts (JSON) as their
    sorted items, a row by its identity."""
    if isinstance(value, (list, tuple)):
        return tuple(hashable(v) for v in value)
    if isinstance(value, dict):
        return tuple(sorted((k, hashable(v)) for k, v in value.items()))
    if isinstance(value, TableRole):
        return id(value)
    return value


def _checked_rows(table: type[Table[Any]], rows: list[TableT], method: str) -> list[TableT]:
    """``rows``, refused unless each is an instance of ``table`` whose null
    values are allowed (the constructor checked the others)."""
    return list(_checking(table, rows, method))


def _checking(table: type[Table[Any]], rows: Iterable[TableT], method: str) -> Iterator[TableT]:
    """``rows`` one at a time, each checked as ``_checked_rows()`` says."""
    # The columns for which None is refused (a nullable column or a serial
    # key take it): looked at only in a row holding some None.
    strict = [(c, c._meta.name) for c in table._meta.columns if _refuses_none(c)]
    for row in rows:
        if type(row) is not table:
            raise TypeError(f"{table.__name__}.{method}() takes {table.__name__} rows; got {row!r}")
        values = row.__dict__
        if None in values.values():  # in C: most rows hold no None
            for column, name in strict:
                if name in values and values[name] is None:
                    column._check(None)  # raises
        yield row


def _column_groups(
    table: type[Table[Any]], rows: Iterable[TableT]
) -> list[tuple[list[Column[Any]], list[TableT]]]:
    """``rows`` grouped by the columns they give values for (a serial key
    given or not), each group with its columns in the table's order."""
    return _grouped(table, rows, dicts=False)


def _grouped(
    table: type[Table[Any]], rows: Iterable[TableT], *, dicts: bool
) -> list[tuple[list[Column[Any]], list[Any]]]:
    """``_column_groups()``, holding each row's ``__dict__`` in place of the
    row with ``dicts``: rows read from an iterator are then freed as they
    are read (a dict of plain values is no work for the garbage collector,
    a row is)."""
    named = [(column, column._meta.name) for column in table._meta.columns]
    # By the row's keys as they are (cheap: C), then by its columns in the
    # table's order (once per distinct key order).
    by_keys: dict[tuple[str, ...], tuple[list[Column[Any]], list[Any]]] = {}
    by_columns: dict[tuple[str, ...], tuple[list[Column[Any]], list[Any]]] = {}
    for row in rows:
        values = row.__dict__
        key = tuple(values)
        group = by_keys.get(key)
        if group is None:
            names = tuple([name for _, name in named if name in values])
            group = by_columns.get(names)
            if group is None:
                columns = [column for column, name in named if name in values]
                group = by_columns[names] = (columns, [])
            by_keys[key] = group
        group[1].append(values if dicts else row)
    return list(by_columns.values())


def _refuses_none(column: Column[Any]) -> bool:
    try:
        column._check(None)
    except (TypeError, ValueError):
        return True
    return False


class Insert(_Returns, Query[list[TableT]]):
    """``INSERT`` rows; the result is the same instances, primary keys filled in.

    With ``on_conflict()``, the result is the rows that were written
    (inserted or updated); a row skipped by ``DO NOTHING`` keeps no key.
    """

    _on_conflict: _OnConflict | None = None

    def __init__(self, table: type[TableT], rows: list[TableT]) -> None:
        self._table = table
        self._rows = self._checked(rows)

    def _checked(self, rows: list[TableT]) -> list[TableT]:
        return _checked_rows(self._table, rows, "insert")

    def add(self, *rows: TableT) -> Self:
        """More rows to insert."""
        new = self._copy()
        new._rows = [*self._rows, *self._checked(list(rows))]
        return new

    def on_conflict(
        self,
        target: Column[Any] | tuple[Column[Any], ...] | None = None,
        action: OnConflictAction = "DO NOTHING",
        values: Sequence[Column[Any] | tuple[Column[Any], object]] | None = None,
        where: Condition | None = None,
    ) -> Self:
        """``ON CONFLICT [(target)] DO NOTHING | DO UPDATE SET ...`` (Piccolo's API).

        ``target``: the unique column(s) whose conflict is handled (required
        for ``DO UPDATE``). ``values``: for ``DO UPDATE``, columns to take from
        the proposed row (``EXCLUDED``) or ``(column, value)`` pairs, where a
        value may be an expression (``(Band.popularity, Band.popularity + 1)``).
        ``where``: only update rows matching it.
        """
        table = self._table
        if self._on_conflict is not None:
            raise ValueError("an insert takes one on_conflict()")
        if action not in ("DO NOTHING", "DO UPDATE"):
            raise ValueError(f"on_conflict() action is 'DO NOTHING' or 'DO UPDATE'; got {action!r}")
        targets = target if isinstance(target, tuple) else (() if target is None else (target,))
        checked_target = tuple(_own_column(table, col, "on_conflict(target=)") for col in targets)
        checked: list[tuple[Column[Any], object, bool]] = []
        for item in values or ():
            if isinstance(item, tuple):
                if len(item) != 2:
                    raise ValueError(f"on_conflict() values are columns or pairs; got {item!r}")
                column = _own_column(table, item[0], "on_conflict(values=)")
                if column._update_refusal is not None:
                    # The proposed row's own value (EXCLUDED) was checked on
                    # insert; any other value would be a bulk update.
                    raise ValueError(column._update_refusal.format(table=table.__name__))
                checked.append((column, _check_value(table, column, item[1]), False))
            else:
                checked.append((_own_column(table, item, "on_conflict(values=)"), None, True))
        if action == "DO UPDATE":
            if not checked_target:
                raise ValueError("on_conflict(action='DO UPDATE') needs a target")
            if not checked:
                raise ValueError("on_conflict(action='DO UPDATE') needs values")
        elif checked or where is not None:
            raise ValueError("on_conflict(action='DO NOTHING') takes no values or where")
        if where is not None and not isinstance(where, Condition):
            raise TypeError(f"on_conflict(where=) takes a condition; got {where!r}")
        new = self._copy()
        new._on_conflict = _OnConflict(checked_target, action, tuple(checked), where)
        return new

    def _statements(self, dialect: Dialect, asked: Sequence[Column[Any]]) -> list[_Statement]:
        """One statement per group of rows with the same columns (serial keys
        given or not), chunked below the drivers' parameter limits."""
        table = self._table
        pk = table._meta.primary_key
        quote = dialect.quote
        conflict = self._on_conflict
        statements = []
        for columns, rows in _column_groups(table, self._rows):
            fill_pk = isinstance(pk, Serial) and all(c is not pk for c in columns)
            match: list[Column[Any]] = []
            if conflict is not None:
                # Which returned row is which proposed row: the conflict target
                # identifies it (its values are never changed by DO UPDATE);
                # without a target (DO NOTHING), every inserted value does.
                match = list(conflict.target) or list(columns)
            returned = ([pk] if fill_pk or conflict is not None else []) + match + list(asked)
            per_chunk = max(1, _MAX_PARAMS // max(1, len(columns)))
            names = ", ".join(quote(c._meta.db_name) for c in columns)
            encoders = [(col._meta.name, _value_encoder(col, dialect)) for col in columns]
            for start in range(0, len(rows), per_chunk):
                chunk = rows[start : start + per_chunk]
                c = Compiler(dialect, table)
                # The values go straight into the parameter list, row by row,
                # and the "($1, $2), ($3, $4), ..." text depends only on the
                # chunk's shape: one Compiler.param() call per value was a
                # third of a large insert's Python time.
                c.params.extend(
                    [encode(row.__dict__[name]) for row in chunk for name, encode in encoders]
                )
                target = quote(table._meta.tablename)
                if columns:
                    marks = _values_text(dialect.numbered_params, len(chunk), len(encoders))
                    sql = f"INSERT INTO {target} ({names}) VALUES {marks}"
                else:
                    sql = f"INSERT INTO {target} DEFAULT VALUES"
                if conflict is not None:
                    sql += conflict.sql(c)
                sql += _returning_clause(dialect, returned)
                statements.append(
                    _Statement(
                        sql, c.params, chunk, returned, fill_pk or conflict is not None, len(match)
                    )
                )
        return statements

    def _sql(self, dialect: Dialect) -> tuple[str, list[object]]:
        return self._returning_sql(dialect, [])

    def _returning_sql(
        self, dialect: Dialect, columns: Sequence[Column[Any]]
    ) -> tuple[str, list[object]]:
        statements = self._statements(dialect, columns)
        return (statements[0].sql, statements[0].params) if statements else ("", [])

    async def _run(self, engine: Engine) -> list[TableT]:
        written, _ = await self._write(engine, [])
        return written

    async def _run_returning(
        self, engine: Engine, columns: Sequence[Column[Any]]
    ) -> list[Sequence[Any]]:
        _, returned = await self._write(engine, columns)
        return returned

    async def _write(
        self, engine: Engine, asked: Sequence[Column[Any]]
    ) -> tuple[list[TableT], list[Sequence[Any]]]:
        statements = self._statements(engine.dialect, asked)
        if len(statements) > 1 and not engine.transaction_exists():
            async with engine.transaction():
                return await self._execute(engine, statements, len(asked))
        return await self._execute(engine, statements, len(asked))

    async def _execute(
        self, engine: Engine, statements: list[_Statement], asked: int
    ) -> tuple[list[TableT], list[Sequence[Any]]]:
        pk = self._table._meta.primary_key._meta.name
        conflict = self._on_conflict is not None
        written: set[int] = set()
        returned: list[Sequence[Any]] = []
        for statement in statements:
            if not statement.returned:
                await engine._execute_built(statement.sql, statement.params)
                written.update(id(row) for row in statement.rows)
                continue
            records = await engine._fetch_built(statement.sql, statement.params)
            key_columns = 1 if statement.fill_pk else 0
            if conflict:
                pairs = self._match(engine.dialect, statement, records)
            elif statement.fill_pk:
                # Serial keys are handed out in VALUES order within one
                # statement; sorting makes the match independent of
                # RETURNING's row order.
                records = sorted(records, key=itemgetter(0))
                pairs = list(zip(statement.rows, records))
            else:
                pairs = list(zip(statement.rows, records))
            for row, record in pairs:
                if statement.fill_pk:
                    row.__dict__[pk] = record[0]
                written.add(id(row))
                if asked:
                    returned.append(tuple(record[key_columns + statement.match :]))
        rows = [row for row in self._rows if id(row) in written]
        for row in rows:
            row.__dict__["_saved"] = True
        return rows, returned

    def _match(
        self, dialect: Dialect, statement: _Statement, records: list[Sequence[Any]]
    ) -> list[tuple[TableT, Sequence[Any]]]:
        """Pair each returned record with the proposed row it was written from."""
        match = statement.returned[1 : 1 + statement.match]
        decode = RowLoad(match, dialect, [c._meta.name for c in match])
        keys = [
            hashable(values)
            for values in decode.tuples([record[1 : 1 + statement.match] for record in records])
        ]
        waiting: dict[object, list[TableT]] = {}
        for row in statement.rows:
            key = hashable(tuple(col._check(row.__dict__[col._meta.name]) for col in match))
            waiting.setdefault(key, []).append(row)
        pairs = []
        for key, record in zip(keys, records):
            candidates = waiting.get(key)
            if candidates:
                pairs.append((candidates.pop(0), record))
        return pairs


class BulkInsert(Query[int]):
    """Insert many rows at once (``Table.insert_many()``): ``COPY`` on
    PostgreSQL, one ``INSERT`` run per row in one transaction
    (``executemany``) on SQLite. The rows are checked as ``insert()`` checks
    them, all before any SQL; the result is how many rows were inserted.
    Primary keys are not filled in (``insert()`` does that)."""

    def __init__(self, table: type[TableT], rows: Iterable[TableT]) -> None:
        self._table = table
        # Checked and grouped here, in one pass over ``rows`` (an iterator is
        # read once); the values are read from the rows' dicts at run.
        self._groups = _grouped(table, _checking(table, rows, "insert_many"), dicts=True)
        self._count = sum(len(group) for _, group in self._groups)

    def _batches(self, dialect: Dialect) -> list[tuple[list[str], Iterable[tuple[object, ...]]]]:
        """Per group of rows with the same columns: the columns' database
        names, and the rows' values in the driver's representation. The
        columns are encoded here (what could fail does, before any SQL); the
        rows are tuples made one at a time as the driver sends them (no list
        of a tuple per row for the garbage collector to walk)."""
        batches = []
        for columns, dicts in self._groups:
            # Column by column: one encoder over a column's values (in C
            # where the encoder is a method), none where it would change nothing.
            encoded = [
                _encoded_values(col, dialect, list(map(itemgetter(col._meta.name), dicts)))
                for col in columns
            ]
            values: Iterable[tuple[object, ...]] = zip(*encoded) if encoded else [()] * len(dicts)
            batches.append(([col._meta.db_name for col in columns], values))
        return batches

    def _sql(self, dialect: Dialect) -> tuple[str, list[object]]:
        quote = dialect.quote
        batches = self._batches(dialect)
        if not batches:
            return "", []
        names = ", ".join(map(quote, batches[0][0]))
        target = quote(self._table._meta.tablename)
        if dialect.copies_rows:
            return f"COPY {target} ({names}) FROM STDIN (FORMAT binary)", []
        marks = ", ".join("?" * len(batches[0][0]))
        return f"INSERT INTO {target} ({names}) VALUES ({marks})", list(next(iter(batches[0][1])))

    async def _run(self, engine: Engine) -> int:
        batches = self._batches(engine.dialect)
        if len(batches) > 1 and not engine.transaction_exists():
            async with engine.transaction():
                await self._load(engine, batches)
        else:
            await self._load(engine, batches)
        return self._count

    async def _load(
        self, engine: Engine, batches: list[tuple[list[str], Iterable[tuple[object, ...]]]]
    ) -> None:
        table = self._table._meta.tablename
        for columns, values in batches:
            if columns:
                await engine._bulk_insert_built(table, columns, values)
                continue
            # Rows giving no value at all (every column has a default).
            sql = f"INSERT INTO {engine.dialect.quote(table)} DEFAULT VALUES"
            for _ in values:
                await engine._execute_built(sql)


# -- UPDATE and DELETE -----------------------------------------------------------------


def _keyed_where(c: Compiler, query: _Filtered[Any]) -> str:
    """The ``WHERE`` of an UPDATE/DELETE; join paths go through a subquery on the key."""
    where = query._where_sql(c)
    if not c.joins:
        return where
    table = query._table
    quote = c.dialect.quote
    name = quote(table._meta.tablename)
    pk = ", ".join(f"{name}.{quote(column._meta.db_name)}" for column in table._meta.key)
    joins = c.join_clause()
    # A composite key as a row value: ``(a, b) IN (SELECT a, b ...)``, on both databases.
    held = pk if len(table._meta.key) == 1 else f"({pk})"
    return f" WHERE {held} IN (SELECT {pk} FROM {name}{joins}{where})"


def _refuse_unfiltered(query: _Filtered[Any], force: bool, verb: str) -> None:
    if query._where is None and not force:
        raise ValueError(
            f"{verb} without where() would change every row of "
            f"{query._table.__name__}; add where() or pass force=True"
        )


class _OneStatement(_Returns):
    """UPDATE and DELETE: one statement, whose rows are fetched only for ``returning()``."""

    def _returning_sql(
        self, dialect: Dialect, columns: Sequence[Column[Any]]
    ) -> tuple[str, list[object]]:
        raise NotImplementedError

    def _sql(self, dialect: Dialect) -> tuple[str, list[object]]:
        return self._returning_sql(dialect, [])

    async def _run(self, engine: Engine) -> None:
        sql, params = self._sql(engine.dialect)
        await engine._execute_built(sql, params)

    async def _run_returning(
        self, engine: Engine, columns: Sequence[Column[Any]]
    ) -> list[Sequence[Any]]:
        sql, params = self._returning_sql(engine.dialect, columns)
        return await engine._fetch_built(sql, params)


class Update(_OneStatement, _Filtered[None]):
    """``UPDATE``; refuses to run without ``where()`` unless forced.

    A value may be a column or an expression of the table's own columns
    (``Band.popularity + 1``, ``Band.name + "!"``).
    """

    def __init__(
        self,
        table: type[Table[Any]],
        values: dict[Column[Any], object],
        *,
        force: bool,
        protected: bool = False,
    ) -> None:
        # ``protected``: the runtime's own writes of columns that update()
        # refuses (``Column._update_refusal``: the password of a user table).
        self._table = table
        self._force = force
        if not values:
            raise ValueError("update() needs at least one value")
        checked: dict[Column[Any], object] = {}
        for column, value in values.items():
            _own_column(table, column, "update()")
            if column._update_refusal is not None and not protected:
                raise ValueError(column._update_refusal.format(table=table.__name__))
            checked[column] = _check_value(table, column, value)
        self._values = checked

    def _returning_sql(
        self, dialect: Dialect, columns: Sequence[Column[Any]]
    ) -> tuple[str, list[object]]:
        _refuse_unfiltered(self, self._force, "update()")
        c = Compiler(dialect, self._table)
        quote = dialect.quote
        sets = ", ".join(
            f"{quote(col._meta.db_name)} = {_value_sql(c, col, value)}"
            for col, value in self._values.items()
        )
        _no_joins(c, "update() values")
        where = _keyed_where(c, self)
        table = quote(self._table._meta.tablename)
        returning = _returning_clause(dialect, columns)
        return f"UPDATE {table} SET {sets}{where}{returning}", c.params


class Delete(_OneStatement, _Filtered[None]):
    """``DELETE``; refuses to run without ``where()`` unless forced."""

    def __init__(self, table: type[Table[Any]], *, force: bool) -> None:
        self._table = table
        self._force = force

    def _returning_sql(
        self, dialect: Dialect, columns: Sequence[Column[Any]]
    ) -> tuple[str, list[object]]:
        _refuse_unfiltered(self, self._force, "delete()")
        c = Compiler(dialect, self._table)
        where = _keyed_where(c, self)
        table = dialect.quote(self._table._meta.tablename)
        return f"DELETE FROM {table}{where}{_returning_clause(dialect, columns)}", c.params
