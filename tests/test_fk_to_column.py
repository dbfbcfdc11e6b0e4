"""Foreign keys to a unique column that is not the primary key.

``schema/shop.toml``'s ``Order.customer`` references ``Customer.email``: the
key holds an email, joins match ``order.customer = customer.email``, and the
database's constraint says ``REFERENCES customer (email)``. Every test runs
on SQLite and PostgreSQL; the DDL's oracle is the state, read back.
"""

from __future__ import annotations

import decimal
import importlib
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from generated import music, shop
from generated.shop import Customer, Order
from generator.cli import main
from runtime import (
    Engine,
    ForeignKeyViolation,
    check_schema,
    create_tables,
    drop_tables,
    use_engine,
)
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
            Order(customer="bob@example.com", gift_for="ada@example.com", total=decimal.Decimal(3)),
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


async def test_update_and_delete_where_on_the_joined_column(db: Engine) -> None:
    await Order.update(total=decimal.Decimal(99)).where(Order.customer.name == "Bob")
    totals = await Order.select(Order.id, Order.total).order_by(Order.id).output(as_tuples=True)
    assert totals == [(1, decimal.Decimal("10.50")), (2, decimal.Decimal("99.00"))]
    await Order.delete().where(Order.gift_for.name == "Ada")
    assert await Order.select(Order.id).output(as_list=True) == [1]


async def test_get_reverse_follows_the_email(db: Engine) -> None:
    ada = await Customer.objects().get(Customer.name == "Ada")
    assert ada is not None
    assert [o.id for o in await ada.get_reverse(Order, Order.customer)] == [1]
    assert [o.id for o in await ada.get_reverse(Order, Order.gift_for)] == [2]


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
    # The application's startup check agrees, to the foreign key.
    report = await check_schema(*shop.TABLES, strict=True)
    assert report.ok and report.problems == (), str(report)
    await db.execute('DROP TABLE "order"')
    await db.execute(
        'CREATE TABLE "order" (id INTEGER PRIMARY KEY, customer INTEGER REFERENCES'
        " customer (id), gift_for VARCHAR(255), total NUMERIC(10, 2))"
    )
    report = await check_schema(*shop.TABLES)
    assert (
        "column order.customer: REFERENCES customer (id) ON DELETE NO ACTION ON UPDATE"
        " NO ACTION, expected REFERENCES customer (email) ON DELETE CASCADE" in str(report)
    ), str(report)


# -- across files, and many-to-many links held by unique columns -------------------------

LIBRARY = """\
tables:
  Book:
    columns:
      isbn: {type: char, length: 13, unique: true}
      title: {type: varchar, length: 50}
      to: {type: text, null: true, help_text: A column named as the key's target option.}
      sequel_of: {type: foreign_key, references: Book.isbn, null: true}
"""

TAGS = """\
tables:
  Tag:
    columns:
      label: {type: varchar, length: 20, unique: true}
      books: {type: m2m, through: BookTag}
  BookTag:
    columns:
      book: {type: foreign_key, references: library.Book.isbn}
      tag: {type: foreign_key, references: Tag.label, on_update: cascade}
"""


async def test_generated_keys_to_columns_across_files(engine: Engine, tmp_path: Path) -> None:
    schema = tmp_path / "schemas"
    schema.mkdir()
    (schema / "library.yaml").write_text(LIBRARY)
    (schema / "tags.yaml").write_text(TAGS)
    assert main(["build", "--schema", str(schema), "--out", str(tmp_path / "fkcol_pkg")]) == 0
    source = (tmp_path / "fkcol_pkg" / "tags.py").read_text()
    assert (
        "book: _library.BookByIsbnJoin = _library.BookByIsbnJoin(\n"
        '        lambda: _library.Book, to="isbn"\n'
        "    )" in source
    )
    assert 'tag: TagByLabelJoin = TagByLabelJoin(lambda: Tag, to="label")' in source
    sys.path.insert(0, str(tmp_path))
    try:
        library = importlib.import_module("fkcol_pkg.library")
        tags = importlib.import_module("fkcol_pkg.tags")
        tables = (*library.TABLES, *tags.TABLES)
        use_engine(engine, *tables)
        await drop_tables(*tables, if_exists=True)
        await create_tables(*tables)
        try:
            Book, Tag, BookTag = library.Book, tags.Tag, tags.BookTag
            tag = Tag(label="classic")
            await tag.save()
            await Tag(label="other").save()
            await tag.add_m2m(Book(isbn="9780141439587", title="Emma", to="Jane"), m2m=Tag.books)
            # The link holds the ISBN and the label, not the ids.
            assert await BookTag.select(BookTag.book, BookTag.tag) == [
                {"book": "9780141439587", "tag": "classic"}
            ]
            # A self-reference by ISBN.
            await Book(isbn="9780141439600", title="Emma II", sequel_of="9780141439587").save()
            sequels = Book.select(Book.title, Book.sequel_of.title).where(
                Book.sequel_of.is_not_null()
            )
            assert await sequels.output(as_tuples=True) == [("Emma II", "Emma")]
            await Book.delete().where(Book.title == "Emma II")
            # ``to`` is the target's column here, reached through the key.
            query = BookTag.select(BookTag.book.to, BookTag.book.title)
            assert await query.output(as_tuples=True) == [("Jane", "Emma")]
            rows = await Tag.select(Tag.label, Tag.books(Book.title, as_list=True)).order_by(
                Tag.label
            )
            assert rows == [
                {"label": "classic", "books": ["Emma"]},
                {"label": "other", "books": []},
            ]
            assert [b.title for b in await tag.get_m2m(Tag.books)] == ["Emma"]
            (emma,) = await Book.objects()
            await tag.remove_m2m(emma, m2m=Tag.books)
            assert await BookTag.count() == 0
            with pytest.raises(ForeignKeyViolation):
                await BookTag.insert(BookTag(book="0000000000000", tag="classic"))
            read = await read_schema(engine, tables=[t._meta.tablename for t in tables])
            assert read == compiler_for(engine.dialect).lower(state.of_tables(tables))
        finally:
            await drop_tables(*tables, if_exists=True)
            use_engine(None, *tables)
    finally:
        sys.path.remove(str(tmp_path))
        for name in ("fkcol_pkg.tags", "fkcol_pkg.library", "fkcol_pkg"):
            sys.modules.pop(name, None)


def test_the_primary_key_written_out_is_the_primary_key(tmp_path: Path) -> None:
    """``Customer.id`` (the implicit key) and ``Shop.code`` (an explicit one)
    generate what ``Customer`` and ``Shop`` do: keys to primary keys."""
    written = """\
tables:
  Customer:
    columns:
      email: {type: email, unique: true}
  Shop:
    columns:
      code: {type: varchar, length: 5, primary_key: true}
  Visit:
    columns:
      customer: {type: foreign_key, references: %s}
      shop: {type: foreign_key, references: %s}
"""
    sources = []
    for customer, shop_ in (("Customer.id", "Shop.code"), ("Customer", "Shop")):
        folder = tmp_path / customer
        (folder / "schema").mkdir(parents=True)
        (folder / "schema" / "visits.yaml").write_text(written % (customer, shop_))
        out = folder / "out"
        assert main(["build", "--schema", str(folder / "schema"), "--out", str(out)]) == 0
        sources.append((out / "visits.py").read_text())
    assert sources[0] == sources[1]
    assert "customer: CustomerJoin = CustomerJoin(lambda: Customer)" in sources[0]
    assert "shop: ShopJoin = ShopJoin(lambda: Shop)" in sources[0]
