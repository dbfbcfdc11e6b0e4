"""Generated row types work with pydantic on the minimum Python (3.11).

FastAPI response models are pydantic ``TypeAdapter``\\ s; pydantic refuses
``typing.TypedDict`` before Python 3.12, so generated row types come from
``typing_extensions``. Here every row type of ``generated/`` validates, in
strict mode and unchanged, real rows read from each engine.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from types import GenericAlias
from typing import Any, get_args, get_origin

import pytest
from pydantic import TypeAdapter

from generated import features, inventory, music, shop
from runtime import Engine, Table, create_tables, drop_tables, use_engine

MODULES = (music, shop, inventory, features)
#: Every table of generated/, in an order where foreign keys point backwards.
ALL_TABLES: list[type[Table[Any]]] = []
for _module in MODULES:
    ALL_TABLES.extend(table for table in _module.TABLES if table not in ALL_TABLES)


def _row_type(table: type[Table[Any]]) -> Any:
    """``BandRow`` for ``Band``: the argument of its ``Table[...]`` base."""
    for base in table.__orig_bases__:  # type: ignore[attr-defined]
        if get_origin(base) is Table:
            return get_args(base)[0]
    raise AssertionError(f"{table.__name__} has no Table[...] base")


def _ordered(tables: list[type[Table[Any]]]) -> list[type[Table[Any]]]:
    """``tables`` with every foreign key's target before the key's table."""
    done: list[type[Table[Any]]] = []
    while len(done) < len(tables):
        ready = [
            table
            for table in tables
            if table not in done
            and {fk.target() for fk in table._meta.foreign_keys} - {table} <= set(done)
        ]
        assert ready, "a foreign-key cycle between tables"
        done.extend(ready)
    return done


@pytest.fixture
async def filled(engine: Engine) -> AsyncIterator[Engine]:
    """Every table with a row (zero defaults: unique columns allow one), its
    foreign keys pointing at real rows."""
    tables = _ordered(ALL_TABLES)
    use_engine(engine, *tables)
    await drop_tables(*tables, if_exists=True)
    await create_tables(*tables)
    saved: dict[type[Table[Any]], Table[Any]] = {}
    try:
        for table in tables:
            # A self-reference (shop.Category.parent) is nullable: no parent.
            values = {fk._meta.name: saved.get(fk.target()) for fk in table._meta.foreign_keys}
            row = table(**values)
            await table.insert(row)
            saved[table] = row
        yield engine
    finally:
        await drop_tables(*tables, if_exists=True)
        use_engine(None, *tables)


async def test_pydantic_validates_every_row_type_on_real_rows(filled: Engine) -> None:
    for table in ALL_TABLES:
        rows_type: Any = GenericAlias(list, (_row_type(table),))
        adapter: TypeAdapter[list[Any]] = TypeAdapter(rows_type)
        for rows in (await table.select(), await table.select(exclude_secrets=False)):
            assert len(rows) == 1
            assert adapter.validate_python(rows, strict=True) == rows, table.__name__
        # What FastAPI puts in its OpenAPI document for a response model.
        assert adapter.json_schema()["items"]["$ref"] == f"#/$defs/{_row_type(table).__name__}"
