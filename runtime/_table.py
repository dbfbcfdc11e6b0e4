"""The ``Table`` base class that generated table classes derive from."""

from __future__ import annotations

import enum
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar, Generic, Self, TypeVar, overload

# The query modules, as modules: the methods below reach their classes
# without an import statement per call (which runs the import machinery
# every time). None of them imports this one (they tell a row by
# ``_roles.TableRole``).
from . import _alter, _columns, _ddl, _m2m, _objects, _select, _write
from ._columns import MISSING, Column, ForeignKey, Secret, Serial
from ._composite import CompositeForeignKey
from ._naming import snake_case
from ._roles import TableRole
from ._select import Select

if TYPE_CHECKING:
    from ._alter import Alter
    from ._ddl import Check, CreateTable, Index
    from ._engine import Engine
    from ._m2m import M2M, M2MAddRelated, M2MGetRelated, M2MRemoveRelated
    from ._objects import Objects, Refresh, Related
    from ._query import Query, RowLoad
    from ._select import CountQuery, Exists, Raw
    from ._view import ViewDefinition
    from ._write import BulkInsert, Delete, Insert, Update

__all__ = ["Table", "TableMeta"]

RowT = TypeVar("RowT")
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
R = TypeVar("R")
TargetT = TypeVar("TargetT", bound="Table[Any]")


def _needs(obj: Table[Any], name: str) -> None:
    column = obj._meta.column_map[name]
    hint = ""
    if column._meta.primary_key:
        hint = (
            f" (the primary key: the database does not number {type(column).__name__}"
            " keys; give it, or give the column a default or a serial type)"
        )
    raise TypeError(f"{type(obj).__name__}() needs {name}={hint}")


def _unknown(obj: object, names: Mapping[str, object]) -> None:
    raise TypeError(f"{type(obj).__name__}() has no column {', '.join(sorted(names))}")


def _first_init(self: Table[Any], /, **kwargs: Any) -> None:
    """The constructor of a table class until its first row: makes the
    straight-line one (or keeps the general one), then runs it."""
    cls = type(self)
    for column in cls._meta.columns:
        # Literal defaults are values too: checked once, here, rather than at
        # class creation, where a foreign key's target may not exist yet.
        default = column._meta.default
        if default is not MISSING and default is not None:
            if not isinstance(default, _columns.DynamicDefault):
                column._check(default)
    init = _straight_init(cls) or Table.__init__
    setattr(cls, "__init__", init)  # noqa: B010
    init(self, **kwargs)


#: Types whose values cannot change: a default of one is shared by every row.
_IMMUTABLE = (type(None), bool, int, float, str, bytes)


def _constant_default(column: Column[Any]) -> bool:
    """Whether ``column._default_value()`` gives the same immutable value on
    every call: a static default (not a ``DynamicDefault``) whose value is
    ``None``, a number, text, bytes or an enum member, from a column class
    that keeps ``Column._default_value``."""
    if type(column)._default_value is not Column._default_value:
        return False
    if isinstance(column._meta.default, _columns.DynamicDefault):
        return False
    value = column._default_value()
    return type(value) in _IMMUTABLE or isinstance(value, enum.Enum)


def _straight_init(cls: type[Table[Any]]) -> Any:
    """``Table.__init__`` for ``cls`` as one straight-line function: a keyword
    parameter per column, each checked and stored in declaration order.

    Building rows is on every insert's path, and the general constructor's
    loop over the columns is about twice as slow. The source holds only the
    columns' names (validated identifiers) and positions. ``None`` (keep the
    general constructor) for a name that could clash with the function's own.
    """
    columns = cls._meta.columns
    pk = cls._meta.primary_key
    names = [column._meta.name for column in columns]
    if not all(name.isidentifier() and not name.startswith("__") for name in names):
        return None
    namespace: dict[str, Any] = {
        "__M": MISSING,
        "__needs": _needs,
        "__unknown": _unknown,
        **_columns.GUARD_NAMES,
    }
    body = []
    for i, (name, column) in enumerate(zip(names, columns)):
        namespace[f"__c{i}"] = column._check
        namespace[f"__d{i}"] = column._default_value
        # The value as given when the column's guard admits it, else checked.
        guard = column._guard(name)
        given = f"__c{i}({name})" if guard is None else f"({name} if {guard} else __c{i}({name}))"
        if column._meta.required:
            body.append(f"    if {name} is __M: __needs(__self, {name!r})")
            body.append(f"    __v[{name!r}] = {given}")
        elif column is pk and isinstance(column, Serial):
            # numbered by the database on insert
            body.append(f"    if {name} is not __M: __v[{name!r}] = {given}")
        elif _constant_default(column):
            # The same immutable value every time: taken once, not called per row.
            namespace[f"__k{i}"] = column._default_value()
            body.append(f"    __v[{name!r}] = __k{i} if {name} is __M else {given}")
        else:
            body.append(f"    __v[{name!r}] = __d{i}() if {name} is __M else {given}")
    parameters = "".join(f", {name}=__M" for name in names)
    source = "\n".join(
        [
            f"def __init__(__self, /, *{parameters}, **__kw):",
            "    __v = __self.__dict__",
            *body,
            "    if __kw: __unknown(__self, __kw)",
            "    __v['_saved'] = False",
        ]
    )
    exec(source, namespace)
    init = namespace["__init__"]
    init.__qualname__ = f"{cls.__qualname__}.__init__"
    init.__doc__ = f"A new {cls.__name__} row (not saved); columns as keyword arguments."
    return init


def _composite_key(
    cls: type[Any], columns: list[Column[Any]], primary: list[Column[Any]], names: tuple[str, ...]
) -> tuple[Column[Any], ...]:
    """The columns of a composite key given as ``primary_key=("a", "b")`` of the
    class statement (``()`` without one). Each is required by the constructor
    unless it has a default: a zero default would repeat from the second row on."""
    if not names:
        return ()
    by_name = {c._meta.name: c for c in columns}
    missing = [name for name in names if name not in by_name]
    if missing or len(set(names)) != len(names) or len(names) < 2:
        raise TypeError(
            f"{cls.__name__}: primary_key={tuple(names)!r} must name two or more"
            " different columns of the table"
        )
    if primary:
        raise TypeError(f"{cls.__name__} has a column primary key and primary_key=")
    key = tuple(by_name[name] for name in names)
    for column in key:
        if column._meta.null:
            raise TypeError(f"{cls.__name__}: key column {column._meta.name!r} is nullable")
        if column._meta.default is MISSING:
            column._meta.required = True
    return key


@dataclass(slots=True)
class TableMeta:
    """What the runtime knows about a table class."""

    tablename: str
    columns: list[Column[Any]]
    #: The key column; of a composite key, its first column (see ``key``).
    primary_key: Column[Any]
    column_map: dict[str, Column[Any]]
    foreign_keys: list[ForeignKey[Any, Any]]
    #: The engine bound to this table; ``None`` means "ask the engine finder".
    db: Engine | None = None
    help_text: str | None = None
    #: Per-dialect caches of row loaders (filled on first use).
    loaders: dict[str, RowLoad] = field(default_factory=dict)
    #: Indexes over several columns (``indexes=`` of the class statement).
    indexes: tuple[Index, ...] = ()
    #: UNIQUE constraints over several columns, as attribute names.
    unique: tuple[tuple[str, ...], ...] = ()
    #: Check constraints (``checks=`` of the class statement).
    checks: tuple[Check, ...] = ()
    #: The columns of ``select()`` (every column but the secret ones).
    public: list[Column[Any]] = field(default_factory=list)
    #: Every column of the primary key, in key order: ``(primary_key,)``, or
    #: the columns of a composite key (``primary_key=`` of the class statement).
    key: tuple[Column[Any], ...] = ()
    #: Foreign keys over several columns (``CompositeForeignKey`` attributes).
    composite_foreign_keys: tuple[CompositeForeignKey[Any], ...] = ()
    #: A view's SQL and kind (``runtime._view``); ``None`` for a table.
    view: ViewDefinition | None = None


class Table(TableRole, Generic[RowT]):
    """Base of every table class; ``RowT`` is the row ``TypedDict`` of ``select()``.

    Instances hold their values in ``__dict__`` (see ``runtime._columns``) plus
    ``_saved``, true once the row exists in the database.
    """

    _meta: ClassVar[TableMeta]

    def __init_subclass__(
        cls,
        tablename: str | None = None,
        help_text: str | None = None,
        indexes: tuple[Index, ...] = (),
        unique: tuple[tuple[str, ...], ...] = (),
        checks: tuple[Check, ...] = (),
        primary_key: tuple[str, ...] = (),
        abstract: bool = False,
        **kwargs: Any,
    ) -> None:
        super().__init_subclass__(**kwargs)
        if abstract:
            return  # a base of other classes (``runtime.View``), no table itself
        columns = [v for v in vars(cls).values() if isinstance(v, Column)]
        primary = [c for c in columns if c._meta.primary_key]
        if len(primary) > 1:
            raise TypeError(f"{cls.__name__} has more than one primary key")
        composite = _composite_key(cls, columns, primary, primary_key)
        if composite:
            pk = composite[0]
        elif primary:
            pk = primary[0]
        else:
            # Like Piccolo: an implicit serial ``id`` unless a column says otherwise.
            pk = Serial(primary_key=True)
            pk.__set_name__(cls, "id")
            setattr(cls, "id", pk)  # noqa: B010 - no "id" on Table for the checkers
            columns.insert(0, pk)
        for column in columns:
            column._meta.table = cls
        cls._meta = TableMeta(
            tablename=tablename or snake_case(cls.__name__),
            columns=columns,
            primary_key=pk,
            column_map={c._meta.name: c for c in columns},
            foreign_keys=[c for c in columns if isinstance(c, ForeignKey)],
            help_text=help_text,
            indexes=tuple(indexes),
            unique=tuple(tuple(group) for group in unique),
            checks=tuple(checks),
            public=[c for c in columns if not isinstance(c, Secret)],
            key=composite or (pk,),
            composite_foreign_keys=tuple(
                v for v in vars(cls).values() if isinstance(v, CompositeForeignKey)
            ),
        )
        for composite_fk in cls._meta.composite_foreign_keys:
            unknown = [n for n in composite_fk._names if n not in cls._meta.column_map]
            if unknown or len(composite_fk._names) < 2:
                raise TypeError(
                    f"{composite_fk!r} needs two or more columns of {cls.__name__};"
                    f" {', '.join(map(repr, unknown)) or 'got fewer'}"
                )
        if "__init__" not in cls.__dict__:
            # Made on the first instance: importing 500 tables need not
            # compile 500 constructors.
            setattr(cls, "__init__", _first_init)  # noqa: B010 - typed by the generated stub
        check_names = [check.name for check in checks]
        if len(set(check_names)) != len(check_names):
            twice = next(n for n in check_names if check_names.count(n) > 1)
            raise TypeError(f"{cls.__name__}: two checks are named {twice!r}")
        named = [*(index.columns for index in indexes), *unique]
        for group in named:
            missing = [name for name in group if name not in cls._meta.column_map]
            if missing or not group:
                raise TypeError(
                    f"{cls.__name__}: index or unique constraint {tuple(group)!r} names "
                    f"no column {', '.join(map(repr, missing))}"
                )

    if TYPE_CHECKING:
        # Generated classes declare the typed keyword-only constructor.
        def __init__(self) -> None: ...

    else:

        def __init__(self, **kwargs: Any) -> None:
            values = self.__dict__
            pk = self._meta.primary_key
            for column in self._meta.columns:
                name = column._meta.name
                if name in kwargs:
                    values[name] = column._check(kwargs.pop(name))
                elif column._meta.required:
                    _needs(self, name)
                elif column is pk and isinstance(column, Serial):
                    continue  # numbered by the database on insert
                else:
                    values[name] = column._default_value()
            if kwargs:
                _unknown(self, kwargs)
            values["_saved"] = False

        def __setattr__(self, name: str, value: Any) -> None:
            # A column's value is checked and normalised as the constructor
            # does it (``row.popularity = "x"`` raises here, not in the
            # database, and the row keeps its value); the checkers type the
            # assignment by the column's ``__set__``. Other attributes are
            # set as usual. The runtime writes values through ``__dict__``.
            column = self._meta.column_map.get(name)
            if column is not None:
                value = column._check(value)
            object.__setattr__(self, name, value)

    def __repr__(self) -> str:
        values = self.__dict__
        shown = " ".join(f"{c._meta.name}={values.get(c._meta.name)!r}" for c in self._meta.key)
        return f"<{type(self).__name__} {shown}>"

    # -- queries on the table -------------------------------------------------

    @overload
    @classmethod
    def select(cls, *, exclude_secrets: bool = True) -> Select[RowT, tuple[Any, ...]]: ...
    @overload
    @classmethod
    def select(cls, c1: Column[T1], /) -> Select[dict[str, Any], tuple[T1]]: ...
    @overload
    @classmethod
    def select(cls, c1: Column[T1], c2: Column[T2], /) -> Select[dict[str, Any], tuple[T1, T2]]: ...
    @overload
    @classmethod
    def select(
        cls, c1: Column[T1], c2: Column[T2], c3: Column[T3], /
    ) -> Select[dict[str, Any], tuple[T1, T2, T3]]: ...
    @overload
    @classmethod
    def select(
        cls, c1: Column[T1], c2: Column[T2], c3: Column[T3], c4: Column[T4], /
    ) -> Select[dict[str, Any], tuple[T1, T2, T3, T4]]: ...
    @overload
    @classmethod
    def select(
        cls,
        c1: Column[T1],
        c2: Column[T2],
        c3: Column[T3],
        c4: Column[T4],
        c5: Column[T5],
        /,
    ) -> Select[dict[str, Any], tuple[T1, T2, T3, T4, T5]]: ...
    @overload
    @classmethod
    def select(
        cls,
        c1: Column[T1],
        c2: Column[T2],
        c3: Column[T3],
        c4: Column[T4],
        c5: Column[T5],
        c6: Column[T6],
        /,
    ) -> Select[dict[str, Any], tuple[T1, T2, T3, T4, T5, T6]]: ...
    @overload
    @classmethod
    def select(
        cls,
        c1: Column[T1],
        c2: Column[T2],
        c3: Column[T3],
        c4: Column[T4],
        c5: Column[T5],
        c6: Column[T6],
        c7: Column[T7],
        /,
    ) -> Select[dict[str, Any], tuple[T1, T2, T3, T4, T5, T6, T7]]: ...
    @overload
    @classmethod
    def select(
        cls,
        c1: Column[T1],
        c2: Column[T2],
        c3: Column[T3],
        c4: Column[T4],
        c5: Column[T5],
        c6: Column[T6],
        c7: Column[T7],
        c8: Column[T8],
        /,
    ) -> Select[dict[str, Any], tuple[T1, T2, T3, T4, T5, T6, T7, T8]]: ...
    @overload
    @classmethod
    def select(
        cls,
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
    ) -> Select[dict[str, Any], tuple[T1, T2, T3, T4, T5, T6, T7, T8, T9]]: ...
    @overload
    @classmethod
    def select(
        cls,
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
    ) -> Select[dict[str, Any], tuple[T1, T2, T3, T4, T5, T6, T7, T8, T9, T10]]: ...
    @overload
    @classmethod
    def select(cls, *columns: Column[Any] | str) -> Select[dict[str, Any], tuple[Any, ...]]: ...
    @classmethod
    def select(cls, *columns: Column[Any] | str, exclude_secrets: bool = True) -> Select[Any, Any]:
        """``SELECT``: every column as ``RowT`` dicts, or the columns given.

        Columns may be join paths (``Band.manager.name``) or their dotted
        names (``"manager.name"``); keys of the result are the dotted names.
        ``Secret`` columns are left out of a select of every column unless
        ``exclude_secrets=False``; a secret column named explicitly is selected.
        """
        if columns:
            resolve = cls._resolve
            return Select(cls, [c if isinstance(c, Column) else resolve(c) for c in columns])
        meta = cls._meta
        if exclude_secrets and len(meta.public) != len(meta.columns):
            return Select(cls, list(meta.public))
        return Select(cls, None)

    if TYPE_CHECKING:
        # Generated classes add overloads taking foreign keys to prefetch.
        @classmethod
        def objects(cls: type[TargetT]) -> Objects[TargetT]: ...

    else:

        @classmethod
        def objects(cls, *prefetch):
            """Rows as instances of the table class.

            Foreign keys given (``Band.objects(Band.manager)``) are prefetched:
            their attribute holds the related row (or ``None``), loaded in the
            same query with a join.
            """
            return _objects.Objects(cls, prefetch)

    @classmethod
    def insert(cls, *rows: Self) -> Insert[Self]:
        """``INSERT`` the given instances; their primary keys are filled in."""
        return _write.Insert(cls, list(rows))

    @classmethod
    def insert_many(cls, rows: Iterable[Self]) -> BulkInsert:
        """Insert many instances at once, the fast way: ``COPY`` on
        PostgreSQL, ``executemany`` in one transaction on SQLite. The rows
        are checked as ``insert()`` checks them, before any SQL runs; the
        result is the number of rows inserted. Primary keys are not filled
        in (see docs/scaling.md, "Bulk loads")."""
        return _write.BulkInsert(cls, rows)

    if TYPE_CHECKING:
        # Generated classes add one typed keyword argument per column.
        @classmethod
        def update(
            cls,
            values: Mapping[Column[Any] | str, object] | None = None,
            /,
            *,
            force: bool = False,
        ) -> Update: ...

    else:

        @classmethod
        def update(cls, values=None, /, *, force=False, **kwargs):
            """``UPDATE``: a ``{column: value}`` mapping and/or keyword values.

            Refuses to run without ``where()`` unless ``force=True``.
            """
            merged: dict[Column[Any], object] = {}
            for key, value in {**(values or {}), **kwargs}.items():
                merged[cls._resolve(key)] = value
            return _write.Update(cls, merged, force=force)

    @classmethod
    def delete(cls, *, force: bool = False) -> Delete:
        """``DELETE``; refuses to run without ``where()`` unless ``force=True``."""
        return _write.Delete(cls, force=force)

    @classmethod
    def count(
        cls,
        column: Column[Any] | None = None,
        distinct: Sequence[Column[Any]] | None = None,
    ) -> CountQuery:
        """``SELECT COUNT(*)``; chain ``where()``.

        ``column``: count its non-null values; ``distinct``: count the distinct
        combinations of these columns' values.
        """
        return _select.CountQuery(cls, column, distinct)

    @classmethod
    def exists(cls) -> Exists:
        """Whether any row matches; chain ``where()``."""
        return _select.Exists(cls)

    @classmethod
    def raw(cls, sql: str, *args: object) -> Raw:
        """Run ``sql`` as written; each ``{}`` is bound to the next argument."""
        return _select.Raw(cls, sql, args)

    @classmethod
    def create_table(cls, *, if_not_exists: bool = False) -> CreateTable:
        """``CREATE TABLE`` and the table's indexes."""
        return _ddl.CreateTable([cls], if_not_exists=if_not_exists)

    @classmethod
    def alter(cls) -> Alter:
        """``ALTER TABLE``: chain ``add_column``, ``rename_column``, ``set_null``, ...

        Every step returns a new query; all steps run in one transaction.
        """
        return _alter.Alter(cls)

    @classmethod
    def _resolve(cls, column: Column[Any] | str) -> Column[Any]:
        """A column given as a column object or a dotted name (``manager.name``)."""
        if isinstance(column, Column):
            return column
        current: Any = cls
        for part in column.split("."):
            try:
                current = getattr(current, part)
            except AttributeError:
                raise ValueError(f"{cls.__name__} has no column path {column!r}") from None
            if not isinstance(current, Column):
                raise ValueError(f"{cls.__name__}: {column!r} is not a column")
        return current  # type: ignore[no-any-return]

    # -- queries on one row -----------------------------------------------------

    def save(self) -> Query[None]:
        """``INSERT`` the row if it is new, else ``UPDATE`` it by primary key."""
        return _objects.Save(self)

    def remove(self) -> Query[None]:
        """``DELETE`` this row by primary key."""
        return _objects.Remove(self)

    @overload
    def get_related(self, foreign_key: ForeignKey[Any, R]) -> Related[R]: ...
    @overload
    def get_related(self, foreign_key: CompositeForeignKey[R]) -> Related[R]: ...
    def get_related(self, foreign_key: ForeignKey[Any, R] | CompositeForeignKey[R]) -> Related[R]:
        """The row this row's ``foreign_key`` points at (``None`` when it is null;
        of a foreign key over several columns, when any of them is)."""
        return _objects.Related(self, foreign_key)

    def get_reverse(
        self, table: type[TargetT], foreign_key: ForeignKey[Any, Any] | None = None
    ) -> Objects[TargetT]:
        """``table``'s rows whose foreign key points at this row (a reverse lookup):
        ``manager.get_reverse(Band)``; name the key when ``table`` has several
        to this table (``band.get_reverse(Concert, Concert.band_1)``).
        Chain ``where``/``order_by`` as on ``objects()``."""
        return _objects.reverse(self, table, foreign_key)

    def refresh(self, columns: Sequence[Column[Any]] | None = None) -> Refresh[Self]:
        """Reload this saved row's values (all, or ``columns``) from the database;
        the result is the row itself."""
        return _objects.Refresh(self, columns)

    @overload
    def to_dict(self) -> RowT: ...
    @overload
    def to_dict(self, *columns: Column[Any]) -> dict[str, Any]: ...
    def to_dict(self, *columns: Column[Any]) -> Any:
        """The row's values by column name (all columns, as the row ``TypedDict``,
        or ``columns``). A prefetched related row appears as its key; a row
        never saved has ``None`` for its serial key."""
        if columns:
            for column in columns:
                if column._meta.path or column._meta.table is not type(self):
                    raise ValueError(
                        f"to_dict() takes {type(self).__name__}'s own columns; got {column!r}"
                    )
        values = self.__dict__
        result: dict[str, Any] = {}
        for column in columns or self._meta.columns:
            name = column._meta.name
            value = values.get(name)
            if isinstance(value, Table) and isinstance(column, ForeignKey):
                value = value.__dict__.get(column._target_key()._meta.name)
            result[name] = value
        return result

    # -- many-to-many links of one row -------------------------------------------

    def add_m2m(
        self,
        *rows: TargetT,
        m2m: M2M[Self, TargetT, Any],
        extra_column_values: Mapping[Column[Any] | str, object] | None = None,
    ) -> M2MAddRelated:
        """Link ``rows`` to this row through ``m2m``'s joining table.

        Unsaved rows are inserted first; ``extra_column_values`` fills other
        columns of the joining rows. All of it runs in one transaction.
        """
        return _m2m.M2MAddRelated(self, rows, m2m, extra_column_values or {})

    def get_m2m(self, m2m: M2M[Self, TargetT, Any]) -> M2MGetRelated[TargetT]:
        """The rows linked to this row through ``m2m``, in the order they were linked."""
        return _m2m.M2MGetRelated(self, m2m)

    def remove_m2m(self, *rows: TargetT, m2m: M2M[Self, TargetT, Any]) -> M2MRemoveRelated:
        """Unlink ``rows`` from this row (deletes joining rows, not the rows)."""
        return _m2m.M2MRemoveRelated(self, rows, m2m)
