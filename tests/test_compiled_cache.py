"""The compiled-statement cache of ``runtime._query``: a query of a shape seen
before is not compiled again, and gives exactly the statement and parameters
a fresh compilation gives.

Every case builds a query from two sets of values; the first compilation
fills the cache, the second must come from it (no ``Compiler`` is made) and
must equal a compilation with the cache switched off.
"""

from __future__ import annotations

import datetime
import decimal
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import pytest

import runtime._query as query_module
from generated.features import Nullables, Scalars
from generated.music import Band, Concert, Shirt, Size, Ticket
from generated.shop import Product, Status
from runtime import Count
from runtime._dialect import POSTGRES, SQLITE, Dialect
from runtime._query import Query
from runtime._sql import Compiler

Builder = Callable[[Any], Query[Any]]

A_DAY = datetime.date(2024, 5, 1)
A_TIME = datetime.datetime(2024, 5, 1, 12, 30)

#: (id, builder, the two values): cached shapes.
CACHED: list[tuple[str, Builder, tuple[Any, Any]]] = [
    ("all columns", lambda v: Band.select().where(Band.popularity > v), (1, 2)),
    (
        "join, two terms, order, limit",
        lambda v: Band.select(Band.name, Band.manager.name)
        .where((Band.popularity > v[0]) & (Band.manager.name == v[1]))
        .order_by(Band.name)
        .limit(10),
        ((5, "Guido"), (7, "Yury")),
    ),
    (
        "or, descending, offset",
        lambda v: Band.objects()
        .where((Band.name == v[0]) | (Band.popularity < v[1]))
        .order_by(Band.popularity, ascending=False)
        .offset(v[1]),
        (("Pythonistas", 3), ("Rustaceans", 9)),
    ),
    ("in list", lambda v: Band.select(Band.id).where(Band.id.is_in(v)), ([1, 2, 3], [7, 8, 9])),
    ("not in list", lambda v: Band.select(Band.id).where(Band.id.not_in(v)), ([1], [2])),
    (
        "is null and a value",
        lambda v: Band.select().where((Band.manager == None) & (Band.id != v)),  # noqa: E711
        (1, 2),
    ),
    (
        "column against column",
        lambda v: Band.select().where(Band.popularity > Band.id).limit(v),
        (1, 5),
    ),
    ("prefetch, get", lambda v: Band.objects(Band.manager).get(Band.id == v), (1, 2)),
    ("distinct", lambda v: Band.select(Band.name).distinct().where(Band.popularity >= v), (0, 9)),
    ("by key name", lambda v: Band.select("name", "manager.name").where(Band.id == v), (1, 2)),
    (
        "two join levels",
        lambda v: Ticket.select(Ticket.concert.venue.name, Ticket.price).where(
            (Ticket.concert.venue.name == v[0]) & (Ticket.price > v[1])
        ),
        (("Arena", decimal.Decimal("10.50")), ("Hall", decimal.Decimal("7"))),
    ),
    (
        "same table twice",
        lambda v: Concert.select(Concert.band_1.name, Concert.band_2.name).where(
            (Concert.band_1.name == v) & (Concert.starts > A_TIME)
        ),
        ("a", "b"),
    ),
    ("choices", lambda v: Shirt.select().where(Shirt.size == v), (Size.small, "m")),
    (
        "converted values",
        lambda v: Product.select(Product.name).where(
            (Product.id == v[0])
            & (Product.released > v[1])
            & (Product.status == v[2])
            & (Product.in_stock == v[3])
            & (Product.weight_kg < v[4])
        ),
        (
            (uuid.UUID(int=1), A_DAY, Status.draft, True, 2),
            (uuid.UUID(int=2), datetime.date(2020, 1, 1), "draft", False, 2.5),
        ),
    ),
    (
        "every scalar type",
        lambda v: Scalars.select(Scalars.id).where(
            (Scalars.v_numeric == v[0])
            & (Scalars.v_time < v[1])
            & (Scalars.v_timestamptz > v[2])
            & (Scalars.v_interval == v[3])
            & (Scalars.v_bytea == v[4])
            & (Scalars.v_boolean == v[5])
            & (Scalars.v_real > v[6])
        ),
        (
            (
                decimal.Decimal("1.5"),
                datetime.time(1, 2),
                datetime.datetime(2024, 1, 1, tzinfo=datetime.UTC),
                datetime.timedelta(days=1),
                b"x",
                True,
                1,
            ),
            (
                decimal.Decimal("2"),
                datetime.time(3, 4),
                datetime.datetime(2025, 1, 1, tzinfo=datetime.UTC),
                datetime.timedelta(hours=2),
                b"yz",
                False,
                2.5,
            ),
        ),
    ),
    (
        "nullable values",
        lambda v: Nullables.select(Nullables.id).where(Nullables.v_integer != v),
        (1, 2),
    ),
]

#: Shapes that are compiled every time (values inside expressions, aggregates).
UNCACHED: list[tuple[str, Builder, tuple[Any, Any]]] = [
    ("like", lambda v: Band.select().where(Band.name.like(v)), ("a%", "b%")),
    (
        "aggregate",
        lambda v: Band.select(Band.manager.name, Count()).group_by(Band.manager.name).limit(v),
        (1, 2),
    ),
    ("arithmetic column", lambda v: Band.select().where(Band.popularity + v > 3), (1, 2)),
    ("json path", lambda v: Scalars.select(Scalars.v_jsonb.arrow(v)), ("a", "b")),
    ("array any", lambda v: Scalars.select(Scalars.id).where(Scalars.v_ints.any(v)), (1, 2)),
]


@pytest.fixture(autouse=True)
def empty_cache() -> Iterator[None]:
    query_module._COMPILED.clear()
    yield
    query_module._COMPILED.clear()


def _fresh(query: Query[Any], dialect: Dialect, monkeypatch: pytest.MonkeyPatch) -> Any:
    with monkeypatch.context() as patch:
        patch.setattr(query_module, "_use_compiled", False)
        return query._sql(dialect)


class _Counting(Compiler):
    made = 0

    def __init__(self, dialect: Dialect, root: Any) -> None:
        _Counting.made += 1
        super().__init__(dialect, root)


def _compilers(monkeypatch: pytest.MonkeyPatch) -> type[_Counting]:
    _Counting.made = 0
    monkeypatch.setattr(query_module, "Compiler", _Counting)
    return _Counting


DIALECTS = [pytest.param(POSTGRES, id="postgres"), pytest.param(SQLITE, id="sqlite")]


@pytest.mark.parametrize("dialect", DIALECTS)
@pytest.mark.parametrize(("build", "values"), [pytest.param(b, v, id=i) for i, b, v in CACHED])
def test_a_known_shape_is_not_compiled_again(
    build: Builder, values: tuple[Any, Any], dialect: Dialect, monkeypatch: pytest.MonkeyPatch
) -> None:
    first, second = build(values[0]), build(values[1])
    expected_first = _fresh(first, dialect, monkeypatch)
    expected_second = _fresh(second, dialect, monkeypatch)
    assert expected_first[1] != expected_second[1] or expected_first[0] != expected_second[0]

    counter = _compilers(monkeypatch)
    assert first._sql(dialect) == expected_first
    assert counter.made == 1 and len(query_module._COMPILED) == 1
    assert second._sql(dialect) == expected_second  # from the cache
    assert counter.made == 1, "the second query of the shape was compiled again"
    assert first._sql(dialect) == expected_first  # and back


@pytest.mark.parametrize("dialect", DIALECTS)
@pytest.mark.parametrize(("build", "values"), [pytest.param(b, v, id=i) for i, b, v in UNCACHED])
def test_shapes_with_inner_values_are_compiled_every_time(
    build: Builder, values: tuple[Any, Any], dialect: Dialect, monkeypatch: pytest.MonkeyPatch
) -> None:
    queries = [build(value) for value in values]
    expected = [_fresh(q, dialect, monkeypatch) for q in queries]
    counter = _compilers(monkeypatch)
    assert [q._sql(dialect) for q in queries] == expected
    assert [q._sql(dialect) for q in queries] == expected
    assert counter.made == 4 and not query_module._COMPILED


def test_dialects_and_list_lengths_are_separate_shapes(monkeypatch: pytest.MonkeyPatch) -> None:
    def query(ids: list[int]) -> Query[Any]:
        return Band.select(Band.id).where(Band.id.is_in(ids)).offset(1)

    for dialect in (POSTGRES, SQLITE, POSTGRES):
        for ids in ([1], [1, 2], [], [3], [4, 5]):
            assert query(ids)._sql(dialect) == _fresh(query(ids), dialect, monkeypatch)
    # postgres and sqlite, each with lists of 0, 1 and 2 values
    assert len(query_module._COMPILED) == 6


def test_aliases_and_join_paths_do_not_share_a_shape(monkeypatch: pytest.MonkeyPatch) -> None:
    queries: list[Query[Any]] = [
        Band.select(Band.name).where(Band.id == 1),
        Band.select(Band.name.as_alias("title")).where(Band.id == 1),
        Band.select(Band.manager.name).where(Band.id == 1),
        Band.select(Band.name).where(Band.manager.id == 1),
        Concert.select(Concert.band_1.name).where(Concert.band_1.id == 1),
        Concert.select(Concert.band_2.name).where(Concert.band_2.id == 1),
        Band.select(Band.name).where(Band.manager == None),  # noqa: E711
        Band.select(Band.name).where(Band.manager != None),  # noqa: E711
        Band.select(Band.name).where(Band.id != 1),
        Band.select(Band.name).where(Band.id.not_in([1])),
        Band.select(Band.name).where(Band.id.is_in([1])),
        Band.select(Band.name).where((Band.id == 1) | (Band.id == 2)),
        Band.select(Band.name).where((Band.id == 1) & (Band.id == 2)),
        Band.select(Band.name).where(Band.id == 1).order_by(Band.id),
        Band.select(Band.name).where(Band.id == 1).order_by(Band.id, ascending=False),
        Band.select(Band.name).where(Band.id == 1).order_by(Band.popularity),
        Band.select(Band.name).where(Band.id == 1).distinct(),
        Band.objects().where(Band.id == 1),
        Band.objects(Band.manager).where(Band.id == 1),
    ]
    for _ in range(2):
        for q in queries:
            assert q._sql(POSTGRES) == _fresh(q, POSTGRES, monkeypatch)
    assert len({q._sql(POSTGRES)[0] for q in queries}) == len(queries)


def test_the_cache_is_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(query_module, "_COMPILED_MAX", 8)
    for size in range(1, 30):
        q = Band.select(Band.id).where(Band.id.is_in(list(range(size))))
        assert q._sql(SQLITE) == _fresh(q, SQLITE, monkeypatch)
        assert len(query_module._COMPILED) <= 8


def test_a_bad_value_still_raises_when_the_query_is_built() -> None:
    Band.select().where(Band.popularity > 1)._sql(POSTGRES)  # the shape is cached
    with pytest.raises(TypeError, match="popularity"):
        Band.select().where(Band.popularity > "many")  # type: ignore[operator]  # pyright: ignore[reportOperatorIssue]
