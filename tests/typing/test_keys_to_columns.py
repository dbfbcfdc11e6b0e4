"""Typing of foreign keys to a unique column (``generated/shop.py``'s ``Order``).

Read by mypy --strict and pyright, never run. ``Order.customer`` references
``Customer.email``: its value type is the email's ``str`` everywhere the key
appears (constructor, ``update``, the row type, filters), it also takes the
related row, and joins and ``get_related`` type as keys to a primary key do.
An id where an email is wanted is an error for both checkers (an unused
ignore is itself an error).
"""

from __future__ import annotations

import decimal
from typing import TYPE_CHECKING, assert_type

from generated.shop import (
    Customer,
    CustomerByEmailJoin,
    CustomerByEmailNullableJoin,
    Order,
    OrderRow,
)
from runtime import Email, Objects, Serial, Varchar

if TYPE_CHECKING:
    from generated.shop import OrderPrefetched, OrderWithCustomer, OrderWithGiftFor


async def values_are_emails(order: Order, customer: Customer) -> None:
    assert_type(order.customer, str)
    assert_type(order.gift_for, str | None)
    assert_type(Order.customer, CustomerByEmailJoin)
    assert_type(Order.gift_for, CustomerByEmailNullableJoin)
    assert_type(Order(customer="a@example.com", total=decimal.Decimal(1)), Order)
    assert_type(Order(customer=customer, gift_for=None), Order)
    Order.update(customer="a@example.com", gift_for=None).where(Order.id == 1)
    Order.select().where(Order.customer == "a@example.com")
    Order.select().where(Order.customer.is_in(["a@example.com"]))
    rows = await Order.select()
    assert_type(rows, list[OrderRow])
    assert_type(rows[0]["customer"], str)
    assert_type(rows[0]["gift_for"], str | None)
    assert_type(await Order.select(Order.customer).output(as_list=True), list[str])


async def joins_and_related(order: Order) -> None:
    assert_type(Order.customer.name, Varchar[str])
    assert_type(Order.customer.email, Email[str])
    assert_type(Order.customer.id, Serial[int])
    assert_type(Order.gift_for.name, Varchar[str | None])
    pairs = await Order.select(Order.id, Order.gift_for.name).output(as_tuples=True)
    assert_type(pairs, list[tuple[int, str | None]])
    assert_type(await order.get_related(Order.customer), Customer)
    assert_type(await order.get_related(Order.gift_for), Customer | None)


async def prefetch() -> None:
    assert_type(Order.objects(Order.customer), Objects[OrderWithCustomer])
    assert_type(Order.objects(Order.gift_for), Objects[OrderWithGiftFor])
    both = await Order.objects(Order.customer, Order.gift_for)
    assert_type(both, list[OrderPrefetched])
    (first,) = await Order.objects(Order.customer)
    assert_type(first.customer, Customer)


def negative_cases(order: Order) -> None:
    Order(customer=1)  # type: ignore[arg-type]  # pyright: ignore[reportArgumentType]
    Order.update(customer=1)  # type: ignore[arg-type]  # pyright: ignore[reportArgumentType]
    order.customer = 1  # type: ignore[assignment]  # pyright: ignore[reportAttributeAccessIssue]
    Order.select().where(Order.customer.is_in([1]))  # type: ignore[list-item]  # pyright: ignore[reportArgumentType]
    _ = Order.customer.nme  # type: ignore[attr-defined]  # pyright: ignore[reportAttributeAccessIssue]
