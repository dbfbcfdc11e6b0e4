"""Foreign keys to a unique column that is not the primary key.

``schema/shop.toml``'s ``Order.customer`` references ``Customer.email``: the
key holds an email, joins match ``order.customer = customer.email``, and the
database's constraint says ``REFERENCES customer (email)``. Every test runs
on SQLite and PostgreSQL; the DDL's oracle is the state, read back.
"""

from __future__ import annotations

import decimal
from collections.abc import AsyncIterator

import pytest

from generated import music, shop
from generated.shop import Customer, Order
from runtime import Engine, ForeignKeyViolation, create_tables, drop_tables, use_engine
from runtime.schema import state
from runtime.schema.compile import compiler_for
from runtime.schema.read import read_schema

TABLES = (*music.TABLES, *shop.TABLES)


@pytest.fixture
async def db(engine: Engine) -> AsyncIterator[Engine]:
    use_engine(engine, *TABLES)
    await drop_tables(*TABLES, if_exists=True)
    await create_tables(*TABLES)
    try:
        ada = Customer(email="ada@example.com", name="Ada")
        await ada.save()
        await Customer(email="bob@example.com", name="Bob").save()
        await Order.insert(
            Order(customer=ada, total=decimal.Decimal("10.50")),
            Order(customer="bob@example.com", gift_for="ada@example.com", total=3),
        )
        yield engine
    finally:
        await drop_tables(*TABLES, if_exists=True)
        use_engine(None, *TABLES)


def test_the_key_stores_the_target_column() -> None:
    ada = Customer(id=7, email="ada@example.com", name="Ada")
    assert Order(customer=ada).customer == "ada@example.com"
    with pytest.raises(TypeError, match="Order.customer: Customer.email expects str"):
        Order(customer=1)  # type: ignore[arg-type]  # an id is not an email
    assert Order.customer._target_key() is Customer.email
    assert Order.customer.to == "email"


async def test_insert_stores_the_email(db: Engine) -> None:
    rows = await Order.select(Order.customer, Order.gift_for).order_by(Order.id)
    assert rows == [
        {"customer": "ada@example.com", "gift_for": None},
        {"customer": "bob@example.com", "gift_for": "ada@example.com"},
    ]


async def test_joins_match_on_the_email(db: Engine) -> None:
    query = Order.select(Order.id, Order.customer.name, Order.gift_for.name).order_by(Order.id)
    assert 'ON "order"."customer" = ' in str(query) and '."email"' in str(query)
    assert await query.output(as_tuples=True) == [(1, "Ada", None), (2, "Bob", "Ada")]
    bobs = await Order.select(Order.id).where(Order.customer.name == "Bob").output(as_list=True)
    assert bobs == [2]
    gifts = await Order.select(Order.id).where(Order.gift_for.email.is_not_null())
    assert gifts == [{"id": 2}]
    nested = await Order.select(Order.customer, Order.customer.name).output(nested=True)
    assert {"customer": {"email": "ada@example.com", "name": "Ada"}} in nested


async def test_objects_get_related_and_prefetch(db: Engine) -> None:
    order = await Order.objects().get(Order.customer == "bob@example.com")
    assert order is not None
    bob = await order.get_related(Order.customer)
    assert (bob.email, bob.name) == ("bob@example.com", "Bob")
    ada = await order.get_related(Order.gift_for)
    assert ada is not None and ada.name == "Ada"
    first = await Order.objects().get(Order.id == 1)
    assert first is not None and await first.get_related(Order.gift_for) is None

    prefetched = await Order.objects(Order.customer).order_by(Order.id)
    assert [(o.customer.email, o.customer.name) for o in prefetched] == [
        ("ada@example.com", "Ada"),
        ("bob@example.com", "Bob"),
    ]
    both = await Order.objects(Order.customer, Order.gift_for).order_by(Order.id)
    assert both[0].gift_for is None
    assert isinstance(both[1].gift_for, Customer) and both[1].gift_for.name == "Ada"
    # A prefetched row stands for its email when saved back.
    again = prefetched[0]
    again.total = decimal.Decimal("11.00")
    await again.save()
    assert await Order.select(Order.customer).where(Order.id == 1) == [
        {"customer": "ada@example.com"}
    ]


async def test_a_missing_email_violates_the_key(db: Engine) -> None:
    with pytest.raises(ForeignKeyViolation):
        await Order.insert(Order(customer="nobody@example.com"))
    with pytest.raises(ForeignKeyViolation):
        await Order.update(customer="nobody@example.com").where(Order.id == 1)


async def test_updating_the_email_cascades(db: Engine) -> None:
    await Customer.update(email="ada@example.org").where(Customer.name == "Ada")
    assert await Order.select(Order.customer, Order.gift_for).order_by(Order.id) == [
        {"customer": "ada@example.org", "gift_for": None},
        {"customer": "bob@example.com", "gift_for": "ada@example.org"},
    ]
    # Deleting the customer cascades to their order and empties the gift's key.
    await Customer.delete().where(Customer.name == "Ada")
    assert await Order.select(Order.id, Order.gift_for) == [{"id": 2, "gift_for": None}]


async def test_the_ddl_is_what_the_state_says(db: Engine) -> None:
    key = state.column_of(Order.customer)
    assert key.references == state.ForeignKey("customer", column="email")
    assert key.type == state.Type("Email", length=255)
    compiler = compiler_for(db.dialect)
    expected = compiler.lower(state.of_tables(shop.TABLES))
    read = await read_schema(db, tables=[t._meta.tablename for t in shop.TABLES])
    assert read == expected
    sql = compiler.create_table(state.table_of(Order))
    assert 'REFERENCES "customer" ("email")' in " ".join(sql)
