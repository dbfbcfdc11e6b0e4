"""Table constructors: each table class gets a straight-line ``__init__`` that
must behave exactly as the general one (``Table.__init__``'s loop over the
columns), values, defaults and errors alike."""

from __future__ import annotations

import decimal
import uuid
from collections.abc import Callable
from typing import Any

import pytest

from generated.music import Band, Concert, Manager
from generated.shop import Product
from runtime import UUID4, ForeignKey, Integer, Serial, Table, Text, Varchar


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
