"""JSON paths give PostgreSQL's results on both engines, for any key and value.

A seeded set of hostile keys and values (Unicode, quotes, backslashes,
control characters, JSON-path and GLOB metacharacters, empty strings,
numbers written as strings) is stored in a ``json`` and a ``jsonb`` column;
every key is then read with ``arrow()`` and ``from_path()`` and found with
``==``, and the results are compared with Python's reading of the same
document (``json.loads``). The same expectation holds on both engines.
"""

from __future__ import annotations

import json
import random
from collections.abc import AsyncIterator
from typing import Any

import pytest

from runtime import (
    JSON,
    JSONB,
    Engine,
    PostgresEngine,
    Serial,
    SQLiteEngine,
    Table,
    create_tables,
    drop_tables,
    use_engine,
)
from runtime._json import canonical_json


class Doc(Table[Any], tablename="json_doc"):
    id: Serial[int] = Serial(primary_key=True)
    data: JSON[str | None] = JSON(null=True)
    datab: JSONB[str | None] = JSONB(null=True)


HOSTILE = [
    "café", "ü", "Ü", "e\u0301", "日本語", "🎸", "a.b", "a[0]", "[0]", "$", "$.a", "$[0]",
    '"', 'a"b', '""', "'", "it's", "\\", "a\\b", "\\u00e9", "\\\"", " ", " a ", "",
    "\n", "tab\t", "\x01", "\x1f", "\x7f", "\u2028", "0", "1", "-1", "01", "1.5", "1e2",
    "null", "true", "#", "#-1", "*", "..", "?", "[", "]", "{", "}", ",", ":", "%", "_",
]  # fmt: skip
SEED = 6006
GENERATED = 40


def _hostile_strings() -> list[str]:
    rng = random.Random(SEED)
    alphabet = "".join(HOSTILE) + "aZ9"
    generated = ["".join(rng.choices(alphabet, k=rng.randint(1, 5))) for _ in range(GENERATED)]
    return list(dict.fromkeys(HOSTILE + generated))  # unique, in order


def _values(count: int) -> list[Any]:
    """Hostile values: the strings again, numbers, booleans, null, nested objects and arrays."""
    rng = random.Random(SEED + 1)
    strings = _hostile_strings()
    others: list[Any] = [
        0, -1, 1.5, 2**53 + 1, 1e-7, True, False, None, [], {},
        ["a", {"b": ["ü", None]}], {"x": {"": ["\\", '"']}}, "", "0", "false",
    ]  # fmt: skip
    return [rng.choice([rng.choice(strings), rng.choice(others)]) for _ in range(count)]


@pytest.fixture
async def docs(engine: Engine) -> AsyncIterator[dict[str, Any]]:
    """One row (id 1) whose columns hold every hostile key, each with a hostile value."""
    keys = _hostile_strings()
    document = dict(zip(keys, _values(len(keys))))
    if isinstance(engine, PostgresEngine):
        await engine.start_connection_pool(min_size=1, max_size=1)
    use_engine(engine, Doc)
    await drop_tables(Doc, if_exists=True)
    await create_tables(Doc)
    # The document as a dict (the runtime writes it) and nested one level down.
    await Doc.insert(
        Doc(data=document, datab=document),
        Doc(data={"outer": document, "list": list(document.values())}, datab="[]"),
    )
    try:
        yield document
    finally:
        await drop_tables(Doc, if_exists=True)
        use_engine(None, Doc)
        if isinstance(engine, PostgresEngine):
            await engine.close_connection_pool()


def _loads(text: str | None) -> Any:
    assert text is not None
    return json.loads(text)


async def test_every_key_reads_its_value(docs: dict[str, Any]) -> None:
    keys = list(docs)
    for column in (Doc.data, Doc.datab):
        (row,) = (
            await Doc.select(*[column.arrow(k) for k in keys])
            .where(Doc.id == 1)
            .output(as_tuples=True)
        )
        assert [_loads(text) for text in row] == list(docs.values())
        paths = [column.from_path([k]) for k in keys]
        (row,) = await Doc.select(*paths).where(Doc.id == 1).output(as_tuples=True)
        assert [_loads(text) for text in row] == list(docs.values())
    # One level down, and array elements by int and by text index.
    outer = [Doc.data.from_path(["outer", k]) for k in keys]
    (row,) = await Doc.select(*outer).where(Doc.id == 2).output(as_tuples=True)
    assert [_loads(text) for text in row] == list(docs.values())
    chained = [Doc.data.arrow("list").arrow(i) for i in range(len(keys))]
    (row,) = await Doc.select(*chained).where(Doc.id == 2).output(as_tuples=True)
    assert [_loads(text) for text in row] == list(docs.values())
    by_text = [Doc.data.from_path(["list", str(i)]) for i in range(len(keys))]
    (row,) = await Doc.select(*by_text).where(Doc.id == 2).output(as_tuples=True)
    assert [_loads(text) for text in row] == list(docs.values())


async def test_every_key_finds_its_value(docs: dict[str, Any]) -> None:
    for key, value in docs.items():
        # Spelled three ways: ASCII escapes, raw Unicode, and spaced out.
        for text in (
            json.dumps(value),
            json.dumps(value, ensure_ascii=False),
            json.dumps(value, indent=1),
        ):
            for column in (Doc.data, Doc.datab):
                found = await Doc.select(Doc.id).where(column.arrow(key) == text)
                assert found == [{"id": 1}], (column._meta.name, key, text)
            found = await Doc.select(Doc.id).where(Doc.data.from_path(["outer", key]) == text)
            assert found == [{"id": 2}], (key, text)


async def test_jsonb_equality(engine: Engine) -> None:
    """Equality is jsonb's on both engines: numbers by value, objects by content."""
    use_engine(engine, Doc)
    await drop_tables(Doc, if_exists=True)
    await create_tables(Doc)
    try:
        text = '{"n": 1.50, "o": {"b": [1, 2.0], "a": "\\u00e9"}, "d": 1, "d": 2, "z": null}'
        await Doc.insert(Doc(data=text, datab=text))
        for column in (Doc.data, Doc.datab):
            for path, other, same in [
                ("n", "1.5", True),
                ("n", "15e-1", True),
                ("n", "1.51", False),
                ("o", '{"a":"é","b":[1,2]}', True),
                ("o", '{"a":"é","b":[2,1]}', False),
                ("d", "2", True),  # the last of duplicate keys
                ("d", "1", False),
                ("z", "null", True),  # JSON null is a value, not a missing key
            ]:
                found = await Doc.count().where(column.arrow(path) == other)
                assert found == (1 if same else 0), (column._meta.name, path, other)
            assert await Doc.count().where(column.arrow("missing").is_null()) == 1
            assert await Doc.count().where(column.arrow("z").is_null()) == 0
            assert await Doc.count().where(column.arrow(0).is_null()) == 1  # not an array
            assert await Doc.count().where(column.from_path(["o", "b", "-1"]) == "2") == 1
    finally:
        await drop_tables(Doc, if_exists=True)
        use_engine(None, Doc)


async def test_a_string_with_nul_on_sqlite(sqlite_engine: SQLiteEngine) -> None:
    # PostgreSQL's jsonb cannot hold U+0000 in a string; SQLite can, and reads it whole.
    use_engine(sqlite_engine, Doc)
    try:
        await create_tables(Doc)
        await Doc.insert(Doc(data={"k": "a\x00b", "a\x00b": 1}))
        assert await Doc.select(Doc.data.arrow("k")).output(as_list=True) == ['"a\\u0000b"']
        assert await Doc.count().where(Doc.data.arrow("k") == '"a\\u0000b"') == 1
        assert await Doc.count().where(Doc.data.arrow("k") == '"a"') == 0
    finally:
        await drop_tables(Doc, if_exists=True)
        use_engine(None, Doc)


async def test_scalar_documents_read_as_json_text(engine: Engine) -> None:
    # SQLite's NUMERIC affinity stores the JSON text 3 as an integer; it reads as text.
    use_engine(engine, Doc)
    await drop_tables(Doc, if_exists=True)
    await create_tables(Doc)
    try:
        texts = ["3", "-12", "1.5", "2.25e3", '"7"', "true", "null", "[]"]
        await Doc.insert(*[Doc(data=t, datab=t) for t in texts], Doc(data=4, datab=0.5))
        rows = await Doc.select(Doc.data, Doc.datab).order_by(Doc.id).output(as_tuples=True)
        assert all(isinstance(v, str) for row in rows for v in row), rows
        parsed = [(json.loads(a), json.loads(b)) for a, b in rows]
        assert parsed == [(json.loads(t), json.loads(t)) for t in texts] + [(4, 0.5)]
        loaded = await Doc.select(Doc.data).order_by(Doc.id).output(as_list=True, load_json=True)
        assert loaded == [json.loads(t) for t in texts] + [4]
        # No document has an element 0 (the array is empty): no path, no error.
        assert await Doc.count().where(Doc.data.arrow(0).is_null()) == len(texts) + 1
    finally:
        await drop_tables(Doc, if_exists=True)
        use_engine(None, Doc)


def test_nan_and_infinity_are_not_json() -> None:
    # PostgreSQL refuses them ("invalid input syntax for type json"); refused before SQL.
    for value in ("NaN", '{"a": Infinity}', "[-Infinity]", float("nan"), {"a": float("inf")}):
        with pytest.raises(ValueError):
            Doc(data=value)
        with pytest.raises(ValueError):
            Doc.datab == value  # noqa: B015


def test_path_keys_are_checked() -> None:
    with pytest.raises(ValueError, match="NUL"):
        Doc.data.arrow("a\x00b")
    with pytest.raises(ValueError, match="32 bits"):
        Doc.data.arrow(2**31)
    Doc.data.arrow('a"b')  # any other key is fine, quotes included
    Doc.data.from_path(["", ".", "$", "[0]"])


def test_canonical_json() -> None:
    assert canonical_json('{"b": 1.50, "aa": [1e2, -0.0], "a": "\\u00e9"}') == (
        '{"a":"é","b":1.5,"aa":[100,0]}'
    )
    assert canonical_json('"\\n\\u0001\\u2028"') == '"\\n\\u0001\u2028"'
    assert canonical_json("0.1") == "0.1" and canonical_json("123456789012345678901") == (
        "123456789012345678901"
    )
