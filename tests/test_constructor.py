"""Table constructors: each table class gets a straight-line ``__init__`` that
must behave exactly as the general one (``Table.__init__``'s loop over the
columns), values, defaults and errors alike."""

from __future__ import annotations

import datetime
import decimal
import enum
import importlib
import os
import random
import uuid
from collections.abc import Callable
from typing import Any

import pytest

from generated.music import Band, Concert, Manager
from generated.shop import Product
from runtime import UUID4, Column, ForeignKey, Integer, Serial, Table, Text, Varchar
from runtime._columns import GUARD_NAMES
from runtime._table import _constant_default


class Gadget(Table[Any], tablename="gadget"):
    code: Serial[int] = Serial(primary_key=True)
    name: Varchar[str] = Varchar(length=5, required=True)
    size: Integer[int] = Integer(default=3)
    note: Text[str | None] = Text(null=True)
    token: Integer[int | None] = Integer(null=True, default=7)
    maker: ForeignKey[int | None, Manager | None] = ForeignKey(lambda: Manager, null=True)


class Tagged(Table[Any], tablename="tagged"):
    id: Integer[int] = Integer(primary_key=True, default=1)
    ref: Integer[int] = Integer(required=True)


def _general(table: type[Table[Any]], **kwargs: Any) -> Table[Any]:
    """A row made by the general constructor."""
    row = object.__new__(table)
    Table.__init__(row, **kwargs)
    return row


def _outcome(make: Callable[[], Table[Any]]) -> tuple[str, object]:
    try:
        return "ok", make().__dict__
    except (TypeError, ValueError) as exc:
        return type(exc).__name__, str(exc)


CASES: list[tuple[type[Table[Any]], dict[str, Any]]] = [
    (Gadget, {"name": "abc"}),
    (Gadget, {"name": "abc", "code": 4, "size": 1, "note": None, "token": None, "maker": 2}),
    (Gadget, {}),  # name is required
    (Gadget, {"name": "abc", "colour": "red", "weight": 1}),  # unknown columns
    (Gadget, {"colour": "red"}),  # required reported before unknown
    (Gadget, {"name": "much too long"}),
    (Gadget, {"name": "abc", "size": "big"}),
    (Gadget, {"name": "abc", "size": None}),
    (Gadget, {"name": "abc", "code": None}),
    (Gadget, {"name": "abc", "maker": "x"}),
    (Tagged, {"ref": 1}),
    (Tagged, {"id": 2}),
    (Band, {"name": "Pythonistas", "manager": 1}),
    (Band, {"name": "Pythonistas", "popularity": True}),
    (Concert, {"band_1": 1, "band_2": 2, "venue": 3, "starts": "today"}),
    (Product, {"name": "pen", "price": "1.50", "status": "draft"}),
    (Product, {"name": "pen", "price": "x"}),
]


@pytest.mark.parametrize(("table", "kwargs"), CASES)
def test_the_straight_constructor_equals_the_general_one(
    table: type[Table[Any]], kwargs: dict[str, Any]
) -> None:
    fast = _outcome(lambda: table(**kwargs))
    assert vars(table)["__init__"] is not Table.__init__  # a constructor of its own
    general = _outcome(lambda: _general(table, **kwargs))
    if fast[0] == "ok" and table is Product:
        # a fresh uuid4 and creation time per row: compare the rest
        for outcome in (fast, general):
            values = outcome[1]
            assert isinstance(values, dict)
            assert isinstance(values.pop("id"), uuid.UUID)
            values.pop("created")
    assert fast == general


def test_dynamic_defaults_are_computed_per_row() -> None:
    first, second = Product(name="a", price=decimal.Decimal(1)), Product(
        name="b", price=decimal.Decimal(1)
    )
    assert first.id != second.id
    assert isinstance(Product._meta.column_map["id"]._meta.default, UUID4)


def test_positional_arguments_are_refused() -> None:
    with pytest.raises(TypeError):
        Band("Pythonistas")  # type: ignore[call-arg, arg-type]


def test_names_that_could_clash_keep_the_general_constructor() -> None:
    namespace = {"my column": Integer(default=1), "__module__": __name__}
    odd: Any = type("Odd", (Table,), namespace)
    assert odd().__dict__ == {"my column": 1, "_saved": False}  # the serial id comes on insert
    assert vars(odd)["__init__"] is Table.__init__
    with pytest.raises(TypeError, match="has no column other"):
        odd(other=1)


def test_the_constructor_is_made_by_the_first_row() -> None:
    class Fresh(Table[Any], tablename="fresh"):
        name: Varchar[str] = Varchar(length=5)

    fresh: Any = Fresh
    assert vars(Fresh)["__init__"].__name__ == "_first_init"
    assert fresh(name="a").__dict__ == {"name": "a", "_saved": False}
    assert (
        Fresh.__init__.__qualname__
        == "test_the_constructor_is_made_by_the_first_row.<locals>.Fresh.__init__"
    )
    assert fresh(name="b").__dict__ == {"name": "b", "_saved": False}


# -- column guards: the constructor's fast path -----------------------------------

#: Seeded random constructions per table; PICCOLO_GEN_CONSTRUCTOR_CASES=5000 for a long run.
RANDOM_CASES = int(os.environ.get("PICCOLO_GEN_CONSTRUCTOR_CASES", "200"))


class _Word(str):
    pass


class _Number(int):
    pass


class _Mood(enum.Enum):
    HAPPY = "happy"


def _value_pool(rng: random.Random) -> list[object]:
    """Values of every kind a column may be given, near every boundary a
    guard tests (lengths, integer ranges)."""
    edges = [2**15, 2**31, 2**63]
    ints = [0, 1, -1, True, False, _Number(3)]
    for edge in edges:
        ints += [edge - 1, edge, -edge, -edge - 1]
    texts = ["", "a", "happy", _Word("word"), "x" * rng.randint(0, 300), "é" * rng.randint(0, 60)]
    texts += ["y" * n for n in (1, 4, 5, 6, 49, 50, 51, 99, 100, 101, 255, 256)]
    others: list[object] = [
        None, 1.5, decimal.Decimal("2.5"), b"b", [1], {"a": 1}, _Mood.HAPPY, uuid.uuid4(),
        datetime.date(2024, 1, 2), datetime.datetime(2024, 1, 2, 3, 4),
    ]  # fmt: skip
    return ints + texts + others


def _all_tables() -> list[type[Table[Any]]]:
    tables: list[type[Table[Any]]] = [Gadget, Tagged]
    for name in ("composite", "features", "inventory", "keys", "music", "shop"):
        tables += importlib.import_module(f"generated.{name}").TABLES
    return tables


def _all_columns() -> list[Column[Any]]:
    return [column for table in _all_tables() for column in table._meta.columns]


def _compiled_guard(column: Column[Any]) -> Callable[[object], bool] | None:
    guard = column._guard("v")
    if guard is None:
        return None
    check: Callable[[object], bool] = eval(f"lambda v: {guard}", dict(GUARD_NAMES))
    return check


def test_a_guard_admits_only_values_the_check_returns_as_they_are() -> None:
    rng = random.Random(20261202)
    pool = _value_pool(rng)
    guarded = 0
    for column in _all_columns():
        check = _compiled_guard(column)
        if check is None:
            continue
        guarded += 1
        for value in pool:
            if check(value):
                assert column._check(value) is value, (column, value)
    assert guarded >= 40  # the common columns have a guard (the fast path is used)


def test_the_common_columns_have_guards_and_overridden_checks_have_none() -> None:
    assert Band._meta.column_map["name"]._guard("v") == "__type(v) is __str and __len(v) <= 50"
    assert Band._meta.column_map["manager"]._guard("v") == (
        "(v is None or __type(v) is __int and -2147483648 <= v <= 2147483647)"
    )

    class Shouting(Varchar[str]):
        def _normalise(self, value: Any) -> Any:
            return super()._normalise(value).upper()

    class Checked(Integer[int]):
        def _check(self, value: object) -> Any:
            return super()._check(value) + 1

    assert Shouting(length=5)._guard("v") is None
    assert Checked()._guard("v") is None
    assert Varchar(length=5, choices=_Mood)._guard("v") is None
    # A subclass of str is not admitted: the guard tests the exact type.
    check = _compiled_guard(Varchar(length=5))
    assert check is not None and check("abc") and not check(_Word("abc"))


@pytest.mark.parametrize("table", _all_tables(), ids=lambda t: t.__name__)
def test_random_rows_build_the_same_with_both_constructors(table: type[Table[Any]]) -> None:
    rng = random.Random(f"constructor-{table.__name__}")
    pool = _value_pool(rng)
    names = [column._meta.name for column in table._meta.columns]
    # Defaults made per row (uuid4, now()) differ between any two rows.
    dynamic = {c._meta.name for c in table._meta.columns if not _constant_default(c)}
    for _ in range(RANDOM_CASES):
        kwargs = {name: rng.choice(pool) for name in names if rng.random() < 0.8}
        fast = _outcome(lambda: table(**kwargs))  # noqa: B023 - called at once
        general = _outcome(lambda: _general(table, **kwargs))  # noqa: B023
        for outcome in (fast, general):
            if outcome[0] == "ok":
                values = outcome[1]
                assert isinstance(values, dict)
                for name in dynamic - kwargs.keys():
                    values.pop(name, None)  # a fresh value per row
        assert fast == general, kwargs


# -- assignment: the constructor's check ---------------------------------------------


def _assigned(row: Table[Any], name: str, value: object) -> tuple[str, object]:
    try:
        setattr(row, name, value)
    except (TypeError, ValueError) as exc:
        return type(exc).__name__, str(exc)
    return "ok", row.__dict__[name]


def _checked(column: Column[Any], value: object) -> tuple[str, object]:
    try:
        return "ok", column._check(value)
    except (TypeError, ValueError) as exc:
        return type(exc).__name__, str(exc)


@pytest.mark.parametrize("table", _all_tables(), ids=lambda t: t.__name__)
def test_an_assigned_value_is_checked_as_the_constructor_checks_it(
    table: type[Table[Any]],
) -> None:
    # The oracle is the column's own check: an assignment stores exactly what
    # it returns, or raises what it raises and leaves the row as it was.
    rng = random.Random(f"assignment-{table.__name__}")
    pool = _value_pool(rng)
    row = object.__new__(table)
    refused = 0
    for column in table._meta.columns:
        name = column._meta.name
        for value in pool:
            before = dict(row.__dict__)
            outcome = _assigned(row, name, value)
            assert outcome == _checked(column, value), (table, name, value)
            if outcome[0] != "ok":
                refused += 1
                assert row.__dict__ == before
    assert refused > 0  # the pool holds values every column refuses


def test_attributes_that_are_not_columns_are_set_as_usual() -> None:
    band = Band(name="Pythonistas")
    band.note = "x"  # type: ignore[attr-defined]
    assert band.__dict__["note"] == "x"
    with pytest.raises(TypeError, match="expects str"):
        band.name = 1  # type: ignore[assignment]
    assert band.name == "Pythonistas"
