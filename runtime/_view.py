"""Views: read-only table classes over SQL the database keeps.

A generated view class derives from ``View`` (or ``MaterializedView``) the
way a table class derives from ``Table``: typed column descriptors, a row
``TypedDict``, ``select()``, ``objects()`` (``first``, ``get``, ``where``,
``order_by``, ...), ``count()``, ``exists()``, ``raw()``, join paths through
its foreign keys. Every query reads ``FROM "the_view"``, so nothing about
reading differs from a table.

What writes (``insert``, ``update``, ``delete``, ``save``, ``remove``,
``objects().create()``, ``objects().get_or_create()``, ``alter()``) is a type
error on a view: each is declared here, for the type checkers only, with a
required keyword-only parameter ``a_view_is_read_only`` of type ``Never``,
which no call can fill, so mypy and pyright both report the call (and say
why, in the parameter's name). Called anyway (``typing.cast``, untyped
code), each raises ``TypeError`` before any SQL is built.

``MaterializedView.refresh()`` runs ``REFRESH MATERIALIZED VIEW`` on
PostgreSQL (``concurrently=True``: without locking out readers, which needs
a unique index: declare a column ``primary_key`` or ``unique``). SQLite has
no materialized views: there the view is a plain one, always current, and
``refresh()`` does nothing.

A view is created by ``create_tables(*TABLES, *VIEWS)`` after the tables
(and dropped by ``drop_tables`` before them), and by the migrations'
``CreateView``; its DDL comes from the dialect's compiler
(``runtime.schema.compile``), from its state (``runtime.schema.state.View``).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar, Never, NoReturn, TypeVar

from ._columns import Column, ForeignKey, Secret
from ._dialect import Dialect
from ._naming import snake_case
from ._objects import Objects
from ._query import Query
from ._table import Table, TableMeta

if TYPE_CHECKING:
    from ._alter import Alter
    from ._engine import Engine
    from ._objects import GetOrCreate
    from ._write import BulkInsert, Delete, Insert, Update

__all__ = ["MaterializedView", "RefreshView", "View", "ViewDefinition", "ViewObjects"]

RowT = TypeVar("RowT")
ViewT = TypeVar("ViewT", bound="View[Any]")


@dataclass(frozen=True, slots=True)
class ViewDefinition:
    """What a view class holds beyond its columns (``TableMeta.view``): its
    SQL, one text or one per dialect name, and whether it is materialized."""

    sql: str | Mapping[str, str]
    materialized: bool = False


def _refused(view: type[Any], what: str) -> TypeError:
    return TypeError(f"{view.__name__} is a view, which is read-only: it has no {what}()")


def _refusal(what: str) -> Callable[..., NoReturn]:
    """A method that raises: a write of a view (see the module docstring)."""

    def refuse(self_or_cls: Any, *args: Any, **kwargs: Any) -> NoReturn:
        # The view class, its row, or its ``objects()`` query.
        view = getattr(self_or_cls, "_table", None) or self_or_cls
        raise _refused(view if isinstance(view, type) else type(view), what)

    refuse.__name__ = what
    refuse.__doc__ = f"Refused: a view is read-only (no {what}())."
    return refuse


class ViewObjects(Objects[ViewT]):
    """``View.objects()``: the view's rows as instances, with every reading
    clause of ``Objects`` and no ``create()`` or ``get_or_create()``."""

    if TYPE_CHECKING:

        def get_or_create(  # type: ignore[override]
            self, *, a_view_is_read_only: Never
        ) -> GetOrCreate[ViewT]: ...

    else:
        get_or_create = _refusal("get_or_create")
        create = _refusal("create")


class View(Table[RowT], abstract=True):
    """Base of every generated view class; ``RowT`` is the row ``TypedDict``
    of ``select()``.

    ``class TopBands(View[TopBandsRow], viewname="top_bands", sql="SELECT ...")``:
    ``sql`` is one text for every dialect or ``{"postgres": ..., "sqlite": ...}``;
    its columns are the class's, named as the view's SQL names them. A view
    has no implicit ``id``: a column may say ``primary_key=True`` (it then
    identifies a row, as ``get_related`` and ``repr`` use it).
    """

    #: ``MaterializedView`` sets it.
    _materialized: ClassVar[bool] = False

    def __init_subclass__(
        cls,
        viewname: str | None = None,
        sql: str | Mapping[str, str] | None = None,
        help_text: str | None = None,
        abstract: bool = False,
        **kwargs: Any,
    ) -> None:
        # Not ``Table``'s: a view has no implicit key, and no constraints.
        super(Table, cls).__init_subclass__(**kwargs)
        if abstract:
            return
        texts = [] if sql is None else [sql] if isinstance(sql, str) else list(sql.values())
        if sql is None or not texts or not all(text.strip() for text in texts):
            raise TypeError(f"{cls.__name__}: a view needs its SQL (sql=...)")
        columns = [v for v in vars(cls).values() if isinstance(v, Column)]
        if not columns:
            raise TypeError(f"{cls.__name__}: a view needs at least one column")
        keys = [c for c in columns if c._meta.primary_key]
        if len(keys) > 1:
            raise TypeError(f"{cls.__name__} has more than one primary key")
        if not cls._materialized:
            indexed = [c._meta.name for c in columns if c._meta.unique or c._meta.index]
            if indexed:
                raise TypeError(
                    f"{cls.__name__}: a plain view has no indexes ({', '.join(indexed)});"
                    " only a MaterializedView does"
                )
        for column in columns:
            column._meta.table = cls
        cls._meta = TableMeta(
            tablename=viewname or snake_case(cls.__name__),
            columns=columns,
            # Without a key, the first column stands in where a table's key is
            # read (nothing a view does needs one).
            primary_key=keys[0] if keys else columns[0],
            column_map={c._meta.name: c for c in columns},
            foreign_keys=[c for c in columns if isinstance(c, ForeignKey)],
            help_text=help_text,
            public=[c for c in columns if not isinstance(c, Secret)],
            key=tuple(keys),
            view=ViewDefinition(dict(sql) if not isinstance(sql, str) else sql, cls._materialized),
        )
        if "__init__" not in cls.__dict__:
            setattr(cls, "__init__", _refusal("constructor"))  # noqa: B010

    def __repr__(self) -> str:
        values = self.__dict__
        shown = self._meta.key or tuple(self._meta.columns)
        text = " ".join(f"{c._meta.name}={values.get(c._meta.name)!r}" for c in shown)
        return f"<{type(self).__name__} {text}>"

    # The type checkers see the read-only API; at run time the writes raise.
    if TYPE_CHECKING:

        def __init__(self, *, a_view_is_read_only: Never) -> None: ...

        @classmethod
        def objects(cls: type[ViewT]) -> ViewObjects[ViewT]: ...

        @classmethod
        def insert(cls, *, a_view_is_read_only: Never) -> Insert[Any]: ...  # type: ignore[override]

        @classmethod
        def insert_many(  # type: ignore[override]
            cls, *, a_view_is_read_only: Never
        ) -> BulkInsert: ...

        @classmethod
        def update(cls, *, a_view_is_read_only: Never) -> Update: ...  # type: ignore[override]

        @classmethod
        def delete(cls, *, a_view_is_read_only: Never) -> Delete: ...  # type: ignore[override]

        @classmethod
        def alter(cls, *, a_view_is_read_only: Never) -> Alter: ...  # type: ignore[override]

        def save(self, *, a_view_is_read_only: Never) -> Query[None]: ...  # type: ignore[override]

        def remove(self, *, a_view_is_read_only: Never) -> Query[None]: ...  # type: ignore[override]

        def refresh(  # type: ignore[override]
            self, *, a_view_is_read_only: Never
        ) -> Query[None]: ...

    else:

        @classmethod
        def objects(cls, *prefetch):
            """Rows of the view as instances of its class (``first``, ``get``,
            ``where``, ...); foreign keys given are prefetched, as on a table."""
            return ViewObjects(cls, prefetch)

        insert = classmethod(_refusal("insert"))
        insert_many = classmethod(_refusal("insert_many"))
        update = classmethod(_refusal("update"))
        delete = classmethod(_refusal("delete"))
        alter = classmethod(_refusal("alter"))
        save = _refusal("save")
        remove = _refusal("remove")
        refresh = _refusal("refresh")


class MaterializedView(View[RowT], abstract=True):
    """Base of every generated materialized view class: a view whose rows the
    database keeps until ``refresh()`` (PostgreSQL; a plain view on SQLite).
    Its ``primary_key``, ``unique`` and ``index`` columns have indexes."""

    _materialized = True

    if TYPE_CHECKING:

        @classmethod
        def refresh(  # type: ignore[override]
            cls, *, concurrently: bool = False
        ) -> RefreshView: ...

    else:

        @classmethod
        def refresh(cls, *, concurrently=False):
            """``REFRESH MATERIALIZED VIEW``: run the view's SQL again and keep
            its rows (``concurrently=True``: without locking out readers, which
            needs a unique index, a ``primary_key`` or ``unique`` column).
            On SQLite, where the view is a plain one, nothing to do."""
            return RefreshView(cls, concurrently=concurrently)


class RefreshView(Query[None]):
    """``MaterializedView.refresh()``: awaitable, ``run(engine=...)``,
    ``run_sync()``, as every query."""

    def __init__(self, view: type[View[Any]], *, concurrently: bool) -> None:
        if not isinstance(concurrently, bool):
            raise TypeError(f"refresh(concurrently=...) takes a bool; got {concurrently!r}")
        self._table = view
        self._concurrently = concurrently

    def _sql(self, dialect: Dialect) -> tuple[str, list[object]]:
        name = Dialect.quote(self._table._meta.tablename)
        if not dialect.materialized_views:
            return f"-- {name} is a plain view on {dialect.name}: nothing to refresh", []
        how = "CONCURRENTLY " if self._concurrently else ""
        return f"REFRESH MATERIALIZED VIEW {how}{name}", []

    async def _run(self, engine: Engine) -> None:
        if not engine.dialect.materialized_views:
            return
        sql, params = self._sql(engine.dialect)
        await engine._execute_built(sql, params)
