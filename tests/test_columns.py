"""Column types, defaults, arrays and JSON paths on SQLite and PostgreSQL.

The tables are those of ``schema/features.yaml`` (``generated/features.py``):
one column of every type, non-null and nullable, a table of defaults and a
table with a secret column. Every test that touches a database takes the
``engine`` fixture and so runs once per engine.
"""

from __future__ import annotations

import datetime
import decimal
import json
import uuid
from collections.abc import AsyncIterator
from typing import Any

import pytest

from generated import features
from generated.features import Account, Defaults, Nullables, Scalars
from runtime import Engine, create_tables, drop_tables, use_engine
from runtime._dialect import POSTGRES, SQLITE

UTC = datetime.UTC
PLUS_2 = datetime.timezone(datetime.timedelta(hours=2))


@pytest.fixture
async def db(engine: Engine) -> AsyncIterator[Engine]:
    """Fresh ``features`` tables on ``engine``."""
    use_engine(engine, *features.TABLES)
    await drop_tables(*features.TABLES, if_exists=True)
    await create_tables(*features.TABLES)
    try:
        yield engine
    finally:
        await drop_tables(*features.TABLES, if_exists=True)
        use_engine(None, *features.TABLES)


def _values() -> dict[str, Any]:
    """A value of every type, chosen to catch lossy storage."""
    return {
        "v_varchar": "héllo 'quoted'",
        "v_char": "abc",
        "v_text": "x" * 1000,
        "v_secret": "s3cret",
        "v_email": "someone@example.com",
        "v_integer": -(2**31),
        "v_bigint": 2**62,
        "v_smallint": 32767,
        "v_real": 1.5,
        "v_double": 1 / 3,
        "v_numeric": decimal.Decimal("1234567.500"),
        "v_boolean": True,
        "v_date": datetime.date(1999, 12, 31),
        "v_time": datetime.time(23, 59, 58, 123456),
        "v_timestamp": datetime.datetime(2024, 2, 29, 13, 14, 15, 161718),
        "v_timestamptz": datetime.datetime(2024, 2, 29, 13, 14, 15, 161718, tzinfo=PLUS_2),
        "v_interval": datetime.timedelta(days=3, seconds=4, microseconds=5),
        "v_uuid": uuid.UUID("12345678-1234-5678-1234-567812345678"),
        "v_json": '{"a": [1, 2, {"b": null}]}',
        "v_jsonb": '{"k": "v"}',
        "v_bytea": bytes(range(256)),
        "v_ints": [3, -1, 2**31 - 1],
        "v_strings": ["a", "b,c", 'd"e', "{}", ""],
        "v_dates": [datetime.date(2024, 1, 1), datetime.date(1970, 1, 1)],
    }


def _same_json(read: dict[str, Any], written: dict[str, Any]) -> None:
    # JSON is text: PostgreSQL's jsonb normalises spacing, so compare meaning.
    for key in ("v_json", "v_jsonb"):
        if written[key] is None:
            assert read[key] is None
        else:
            assert json.loads(read.pop(key)) == json.loads(written[key])
    for key in ("v_json", "v_jsonb"):
        written.pop(key)


# -- round trips ------------------------------------------------------------------


async def test_round_trip_of_every_type(db: Engine) -> None:
    written = _values()
    await Scalars.insert(Scalars(**written))
    rows = await Scalars.select(exclude_secrets=False)
    assert len(rows) == 1
    row: dict[str, Any] = dict(rows[0])
    assert row.pop("id") == 1
    _same_json(row, written)
    assert row == written
    # Aware datetimes compare by instant; they come back in UTC.
    assert rows[0]["v_timestamptz"].utcoffset() == datetime.timedelta(0)
    assert str(rows[0]["v_numeric"]) == "1234567.500"  # the scale survives
    assert type(rows[0]["v_uuid"]) is uuid.UUID


async def test_round_trip_through_objects(db: Engine) -> None:
    written = _values()
    await Scalars(**written).save()
    loaded = await Scalars.objects().first()
    assert loaded is not None
    read = {name: getattr(loaded, name) for name in written}
    _same_json(read, written)
    assert read == written


async def test_round_trip_of_nulls(db: Engine) -> None:
    await Nullables.insert(Nullables())
    rows = await Nullables.select(exclude_secrets=False)
    assert rows == [{"id": 1, **{name: None for name in _values()}}]


async def test_round_trip_of_values_in_nullable_columns(db: Engine) -> None:
    written = _values()
    await Nullables.insert(Nullables(**written))
    rows = await Nullables.select(exclude_secrets=False)
    row: dict[str, Any] = dict(rows[0])
    del row["id"]
    _same_json(row, written)
    assert row == written


async def test_empty_values_round_trip(db: Engine) -> None:
    await Scalars.insert(
        Scalars(v_varchar="", v_ints=[], v_strings=[], v_dates=[], v_bytea=b"", v_json="[]")
    )
    row = await Scalars.select(
        Scalars.v_varchar, Scalars.v_ints, Scalars.v_strings, Scalars.v_bytea, Scalars.v_json
    ).first()
    assert row == {"v_varchar": "", "v_ints": [], "v_strings": [], "v_bytea": b"", "v_json": "[]"}


async def test_char_reads_back_as_written(db: Engine) -> None:
    # PostgreSQL pads CHAR(3) to "a  "; the value reads back as written.
    await Scalars.insert(Scalars(v_char="a"))
    assert await Scalars.select(Scalars.v_char).output(as_list=True) == ["a"]
    assert await Scalars.count().where(Scalars.v_char == "a") == 1


async def test_where_on_each_type(db: Engine) -> None:
    written = _values()
    await Scalars.insert(Scalars(**written), Scalars())
    for name in ("v_char", "v_email", "v_numeric", "v_date", "v_time", "v_timestamp"):
        column = Scalars._meta.column_map[name]
        assert await Scalars.count().where(column == written[name]) == 1, name
    assert await Scalars.count().where(Scalars.v_timestamptz == written["v_timestamptz"]) == 1
    assert await Scalars.count().where(Scalars.v_interval > datetime.timedelta(days=1)) == 1
    assert await Scalars.count().where(Scalars.v_uuid == written["v_uuid"]) == 1
    assert await Scalars.count().where(Scalars.v_bytea == written["v_bytea"]) == 1


# -- zero defaults (Piccolo's rule for non-null columns without a default) -----------


def test_constructor_gives_each_type_its_zero() -> None:
    row = Scalars()
    assert (row.v_varchar, row.v_char, row.v_text, row.v_secret, row.v_email) == ("",) * 5
    assert (row.v_integer, row.v_bigint, row.v_smallint) == (0, 0, 0)
    assert (row.v_real, row.v_double) == (0.0, 0.0)
    assert row.v_numeric == decimal.Decimal(0)
    assert row.v_boolean is False
    assert row.v_date == datetime.date.today()
    assert isinstance(row.v_time, datetime.time)
    assert abs(row.v_timestamp - datetime.datetime.now()) < datetime.timedelta(minutes=1)
    assert row.v_timestamptz.tzinfo is not None
    assert abs(row.v_timestamptz - datetime.datetime.now(UTC)) < datetime.timedelta(minutes=1)
    assert row.v_interval == datetime.timedelta(0)
    assert row.v_uuid.version == 4 and row.v_uuid != Scalars().v_uuid
    assert row.v_json == "{}" and row.v_jsonb == "{}"
    assert row.v_bytea == b""
    assert row.v_ints == [] and row.v_strings == [] and row.v_dates == []
    # A fresh list per row: appending to one row's list changes no other row.
    row.v_ints.append(1)
    assert Scalars().v_ints == []


def test_nullable_columns_default_to_none() -> None:
    row = Nullables()
    assert all(getattr(row, name) is None for name in _values())


async def test_database_zero_defaults_for_rows_inserted_with_raw_sql(db: Engine) -> None:
    await db.execute('INSERT INTO "scalars" DEFAULT VALUES')
    rows = await Scalars.select(exclude_secrets=False)
    row: dict[str, Any] = dict(rows[0])
    assert {k: row[k] for k in ("v_varchar", "v_char", "v_text", "v_secret", "v_email")} == {
        k: "" for k in ("v_varchar", "v_char", "v_text", "v_secret", "v_email")
    }
    assert (row["v_integer"], row["v_bigint"], row["v_smallint"]) == (0, 0, 0)
    assert (row["v_real"], row["v_double"], row["v_numeric"]) == (0.0, 0.0, decimal.Decimal(0))
    assert row["v_boolean"] is False
    assert row["v_date"] == datetime.date.today()
    assert isinstance(row["v_time"], datetime.time)
    assert abs(row["v_timestamp"] - datetime.datetime.now()) < datetime.timedelta(minutes=1)
    assert abs(row["v_timestamptz"] - datetime.datetime.now(UTC)) < datetime.timedelta(minutes=1)
    assert row["v_interval"] == datetime.timedelta(0)
    assert row["v_uuid"].version == 4
    assert json.loads(row["v_json"]) == {} and json.loads(row["v_jsonb"]) == {}
    assert row["v_bytea"] == b""
    assert (row["v_ints"], row["v_strings"], row["v_dates"]) == ([], [], [])


async def test_database_uuid4_default_is_random(db: Engine) -> None:
    await db.execute('INSERT INTO "scalars" DEFAULT VALUES')
    await db.execute('INSERT INTO "scalars" DEFAULT VALUES')
    tokens = await Scalars.select(Scalars.v_uuid).output(as_list=True)
    assert len(set(tokens)) == 2 and all(t.version == 4 for t in tokens)


async def test_nullable_columns_have_no_database_default(db: Engine) -> None:
    await db.execute('INSERT INTO "nullables" DEFAULT VALUES')
    rows = await Nullables.select(exclude_secrets=False)
    assert rows == [{"id": 1, **{name: None for name in _values()}}]


# -- literal and dynamic defaults ------------------------------------------------------

LITERAL_DEFAULTS: dict[str, Any] = {
    "label": "anon",
    "code": "xy",
    "amount": 7,
    "ratio": 0.5,
    "price": decimal.Decimal("9.99"),
    "active": True,
    "born": datetime.date(2000, 1, 2),
    "alarm": datetime.time(7, 30),
    "fixed_tz": datetime.datetime(2024, 1, 31, 12, 0, tzinfo=UTC),
    "wait": datetime.timedelta(seconds=90),
    "tags": [1, 2],
    "words": ["a", "it's"],
    "note": None,
}


def _check_dynamic(row: dict[str, Any]) -> None:
    now = datetime.datetime.now()
    assert row["day"] == datetime.date.today()
    assert isinstance(row["clock"], datetime.time)
    assert abs(row["created"] - now) < datetime.timedelta(minutes=1)
    assert row["created_tz"].tzinfo is not None
    assert abs(row["created_tz"] - datetime.datetime.now(UTC)) < datetime.timedelta(minutes=1)
    assert isinstance(row["token"], uuid.UUID) and row["token"].version == 4
    assert json.loads(row["settings"]) == {"theme": "dark"}


def test_constructor_applies_python_defaults() -> None:
    row = Defaults()
    values = {name: getattr(row, name) for name in Defaults._meta.column_map if name != "id"}
    assert {k: values[k] for k in LITERAL_DEFAULTS} == LITERAL_DEFAULTS
    _check_dynamic(values)
    assert Defaults().token != row.token
    # Mutable defaults are copied per row.
    row.tags.append(3)
    assert Defaults().tags == [1, 2]


def test_given_values_win_over_defaults() -> None:
    row = Defaults(amount=1, tags=[], note="n")
    assert (row.amount, row.tags, row.note) == (1, [], "n")


async def test_defaults_through_the_orm(db: Engine) -> None:
    await Defaults.insert(Defaults())
    row = await Defaults.select().first()
    assert row is not None
    values = dict(row)
    assert {k: values[k] for k in LITERAL_DEFAULTS} == LITERAL_DEFAULTS
    _check_dynamic(values)


async def test_ddl_defaults_for_rows_inserted_with_raw_sql(db: Engine) -> None:
    # Every column omitted: the table definition's DEFAULT clauses fill them.
    await db.execute('INSERT INTO "defaults" DEFAULT VALUES')
    await db.execute('INSERT INTO "defaults" ("label") VALUES (\'given\')')
    rows = await Defaults.select().order_by(Defaults.id)
    first = dict(rows[0])
    assert {k: first[k] for k in LITERAL_DEFAULTS} == LITERAL_DEFAULTS
    _check_dynamic(first)
    assert rows[1]["label"] == "given" and rows[1]["amount"] == 7
    assert rows[0]["token"] != rows[1]["token"]


def test_ddl_default_clauses() -> None:
    from runtime._ddl import create_table_sql

    sqlite = create_table_sql(Defaults, SQLITE)[0]
    postgres = create_table_sql(Defaults, POSTGRES)[0]
    assert "\"label\" VARCHAR(20) NOT NULL DEFAULT 'anon'" in sqlite
    assert '"tags" INTEGER[] NOT NULL DEFAULT ARRAY[1, 2]::INTEGER[]' in postgres
    assert "\"tags\" TEXT NOT NULL DEFAULT '[1,2]'" in sqlite
    assert "\"words\" TEXT[] NOT NULL DEFAULT ARRAY['a', 'it''s']::TEXT[]" in postgres
    assert '"token" UUID NOT NULL DEFAULT gen_random_uuid()' in postgres
    assert '"created_tz" TIMESTAMPTZ NOT NULL DEFAULT CURRENT_TIMESTAMP' in postgres
    assert '"note" TEXT DEFAULT' not in postgres


# -- type errors before the database ------------------------------------------------


@pytest.mark.parametrize(
    ("column", "value", "error"),
    [
        ("v_integer", "1", TypeError),
        ("v_integer", True, TypeError),
        ("v_integer", None, ValueError),
        ("v_varchar", "x" * 21, ValueError),
        ("v_char", "abcd", ValueError),
        ("v_real", "1.5", TypeError),
        ("v_numeric", "1.5", TypeError),
        ("v_boolean", 1, TypeError),
        ("v_date", datetime.datetime(2024, 1, 1), TypeError),
        ("v_time", "12:00", TypeError),
        ("v_timestamp", datetime.date(2024, 1, 1), TypeError),
        ("v_timestamptz", datetime.datetime(2024, 1, 1), ValueError),
        ("v_interval", 5, TypeError),
        ("v_uuid", "12345678-1234-5678-1234-567812345678", TypeError),
        ("v_json", "not json", ValueError),
        ("v_jsonb", object(), TypeError),
        ("v_bytea", "bytes?", TypeError),
        ("v_ints", 1, TypeError),
        ("v_ints", (1, 2), TypeError),
        ("v_ints", [1, "2"], TypeError),
        ("v_ints", [1, None], ValueError),
        ("v_strings", ["x" * 11], ValueError),
        ("v_dates", ["2024-01-01"], TypeError),
    ],
)
def test_wrong_values_raise_before_the_database(column: str, value: object, error: type) -> None:
    with pytest.raises(error):
        Scalars(**{column: value})
    with pytest.raises(error):
        Scalars.update({column: value}, force=True)
    if value is not None:  # ``== None`` is ``IS NULL``
        with pytest.raises(error):
            Scalars.select().where(Scalars._meta.column_map[column] == value)


def test_wrong_values_in_array_operators_raise() -> None:
    with pytest.raises(TypeError):
        Scalars.v_ints.any("1")  # type: ignore[arg-type]
    with pytest.raises(ValueError):
        Scalars.v_strings.all("x" * 11)
    with pytest.raises(TypeError):
        Scalars.v_dates.not_any("2024-01-01")  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        Scalars.v_ints.cat(["1"])  # type: ignore[list-item]
    with pytest.raises(TypeError):
        Scalars.v_ints.cat(1)  # type: ignore[call-overload]
    with pytest.raises(ValueError):
        Scalars.v_ints.append(None)  # type: ignore[arg-type]


# -- secrets ---------------------------------------------------------------------------


async def test_select_leaves_secrets_out_unless_asked(db: Engine) -> None:
    await Account.insert(Account(username="ann", email="ann@example.com", password="hash"))
    assert await Account.select() == [
        {"id": 1, "username": "ann", "email": "ann@example.com", "profile": None}
    ]
    assert await Account.select(exclude_secrets=False) == [
        {
            "id": 1,
            "username": "ann",
            "email": "ann@example.com",
            "password": "hash",
            "profile": None,
        }
    ]
    assert await Account.select(Account.username, Account.password) == [
        {"username": "ann", "password": "hash"}
    ]
    assert await Account.select().first() == {
        "id": 1,
        "username": "ann",
        "email": "ann@example.com",
        "profile": None,
    }
    assert "password" not in str(Account.select())
    account = await Account.objects().first()
    assert account is not None and account.password == "hash"


# -- arrays ------------------------------------------------------------------------------


@pytest.fixture
async def arrays(db: Engine) -> Engine:
    await Nullables.insert(
        Nullables(v_ints=[1, 2, 3], v_strings=["a", "b"], v_dates=[datetime.date(2024, 1, 1)]),
        Nullables(v_ints=[2, 2], v_strings=["b"], v_dates=[]),
        Nullables(v_ints=[], v_strings=[], v_dates=[datetime.date(2020, 5, 5)]),
        Nullables(),
    )
    return db


async def _ids(query: Any) -> list[int]:
    rows = await query.order_by(Nullables.id)
    return [row["id"] for row in rows]


async def test_array_any(arrays: Engine) -> None:
    assert await _ids(Nullables.select(Nullables.id).where(Nullables.v_ints.any(2))) == [1, 2]
    assert await _ids(Nullables.select(Nullables.id).where(Nullables.v_strings.any("a"))) == [1]
    day = datetime.date(2020, 5, 5)
    assert await _ids(Nullables.select(Nullables.id).where(Nullables.v_dates.any(day))) == [3]
    assert await _ids(Nullables.select(Nullables.id).where(Nullables.v_ints.any(9))) == []


async def test_array_all(arrays: Engine) -> None:
    # An empty array holds only 2s, vacuously; a null array matches nothing.
    assert await _ids(Nullables.select(Nullables.id).where(Nullables.v_ints.all(2))) == [2, 3]
    assert await _ids(Nullables.select(Nullables.id).where(Nullables.v_strings.all("b"))) == [2, 3]


async def test_array_not_any(arrays: Engine) -> None:
    assert await _ids(Nullables.select(Nullables.id).where(Nullables.v_ints.not_any(1))) == [2, 3]
    query = Nullables.select(Nullables.id).where(
        Nullables.v_strings.not_any("a") & Nullables.v_ints.any(2)
    )
    assert await _ids(query) == [2]


async def test_array_cat_append_prepend(arrays: Engine) -> None:
    await Nullables.update({Nullables.v_ints: Nullables.v_ints.cat([7, 8])}).where(
        Nullables.id.is_in([1, 3, 4])
    )
    await Nullables.update({Nullables.v_strings: Nullables.v_strings.append("z")}).where(
        Nullables.id.is_in([1, 4])
    )
    await Nullables.update(
        {Nullables.v_dates: Nullables.v_dates.prepend(datetime.date(1999, 1, 1))}
    ).where(Nullables.id == 1)
    rows = await Nullables.select(
        Nullables.v_ints, Nullables.v_strings, Nullables.v_dates
    ).order_by(Nullables.id)
    assert rows == [
        {
            "v_ints": [1, 2, 3, 7, 8],
            "v_strings": ["a", "b", "z"],
            "v_dates": [datetime.date(1999, 1, 1), datetime.date(2024, 1, 1)],
        },
        {"v_ints": [2, 2], "v_strings": ["b"], "v_dates": []},
        {"v_ints": [7, 8], "v_strings": [], "v_dates": [datetime.date(2020, 5, 5)]},
        # A null array counts as empty, as with PostgreSQL's array functions.
        {"v_ints": [7, 8], "v_strings": ["z"], "v_dates": None},
    ]


async def test_array_update_with_a_plain_list(arrays: Engine) -> None:
    await Nullables.update(v_ints=[5], v_dates=None).where(Nullables.id == 2)
    row = await Nullables.select(Nullables.v_ints, Nullables.v_dates).where(Nullables.id == 2)
    assert row == [{"v_ints": [5], "v_dates": None}]


def test_array_sql() -> None:
    query = Nullables.select(Nullables.id).where(Nullables.v_ints.any(2))
    assert str(query).endswith('WHERE 2 = ANY("nullables"."v_ints")')
    update = Nullables.update({Nullables.v_ints: Nullables.v_ints.append(4)}, force=True)
    assert str(update) == (
        'UPDATE "nullables" SET "v_ints" = array_append("nullables"."v_ints", 4)'
    )


# -- JSON paths ---------------------------------------------------------------------------


@pytest.fixture
async def documents(db: Engine) -> Engine:
    await Account.insert(
        Account(username="a", profile={"name": "Ann", "tags": ["x", {"deep": 1}], "n": 3}),
        Account(username="b", profile='{"name": "Bob", "tags": [], "n": null}'),
        Account(username="c"),
    )
    return db


async def test_json_arrow_in_select(documents: Engine) -> None:
    rows = await Account.select(Account.username, Account.profile.arrow("name")).order_by(
        Account.username
    )
    assert rows == [
        {"username": "a", "profile": '"Ann"'},
        {"username": "b", "profile": '"Bob"'},
        {"username": "c", "profile": None},
    ]
    values = await Account.select(Account.profile.arrow("n")).order_by(Account.username)
    assert [row["profile"] for row in values] == ["3", "null", None]


async def test_json_from_path_in_select(documents: Engine) -> None:
    query = Account.select(Account.profile.from_path(["tags", 1, "deep"]))
    rows = await query.order_by(Account.username).output(as_list=True)
    assert rows == ["1", None, None]
    tags = await Account.select(Account.profile.arrow("tags").arrow(0)).order_by(Account.username)
    assert [row["profile"] for row in tags] == ['"x"', None, None]


async def test_json_paths_in_where(documents: Engine) -> None:
    query = Account.select(Account.username)
    assert await query.where(Account.profile.arrow("name") == '"Bob"') == [{"username": "b"}]
    assert await query.where(Account.profile.arrow("n") == "3") == [{"username": "a"}]
    deep = Account.profile.from_path(["tags", 1])
    assert await query.where(deep == '{"deep": 1}') == [{"username": "a"}]
    missing = Account.profile.arrow("name").is_null()
    assert await query.where(missing) == [{"username": "c"}]


def test_json_path_values_are_checked() -> None:
    with pytest.raises(ValueError):
        Account.profile.arrow("name") == "Bob"  # not JSON text  # noqa: B015
    with pytest.raises(TypeError):
        Account.profile.from_path("name")
    with pytest.raises(TypeError):
        Account.profile.from_path([1.5])  # type: ignore[list-item]
    with pytest.raises(ValueError):
        Account.profile.from_path([])


# -- numeric scale -------------------------------------------------------------------------


def test_numeric_is_rounded_to_its_scale_and_refused_when_too_large() -> None:
    assert str(Scalars(v_numeric=decimal.Decimal("1.2345")).v_numeric) == "1.235"
    assert str(Scalars(v_numeric=decimal.Decimal("-1.2345")).v_numeric) == "-1.235"
    assert str(Scalars(v_numeric=2).v_numeric) == "2.000"
    with pytest.raises(ValueError, match="does not fit NUMERIC"):
        Scalars(v_numeric=decimal.Decimal("12345678"))


async def test_numeric_values_compare_alike_on_both_engines(db: Engine) -> None:
    await Scalars.insert(Scalars(v_numeric=decimal.Decimal("2.5")))
    assert await Scalars.count().where(Scalars.v_numeric == decimal.Decimal("2.50")) == 1
    assert await Scalars.select(Scalars.v_numeric).output(as_list=True) == [
        decimal.Decimal("2.500")
    ]
