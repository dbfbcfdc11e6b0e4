"""Typing of column types, arrays, JSON paths and secrets (``generated/features.py``).

Read by mypy --strict and pyright, never run. Negative cases carry an ignore
for each checker that reports them; an unused ignore is itself an error.
"""

from __future__ import annotations

import datetime
import decimal
import uuid
from typing import assert_type

from generated.features import Account, AccountRow, Defaults, Nullables, Scalars, ScalarsRow
from runtime import (
    JSON,
    JSONB,
    UUID,
    Array,
    Bytea,
    Char,
    Condition,
    Email,
    Interval,
    Numeric,
    Secret,
    Timestamptz,
    Update,
)


def column_types(row: Scalars, maybe: Nullables) -> None:
    assert_type(Scalars.v_char, Char[str])
    assert_type(row.v_char, str)
    assert_type(Scalars.v_secret, Secret[str])
    assert_type(Scalars.v_email, Email[str])
    assert_type(Scalars.v_numeric, Numeric[decimal.Decimal])
    assert_type(Scalars.v_timestamptz, Timestamptz[datetime.datetime])
    assert_type(Scalars.v_interval, Interval[datetime.timedelta])
    assert_type(row.v_interval, datetime.timedelta)
    assert_type(Scalars.v_uuid, UUID[uuid.UUID])
    assert_type(row.v_uuid, uuid.UUID)
    assert_type(Scalars.v_bytea, Bytea[bytes])
    assert_type(row.v_bytea, bytes)
    assert_type(Scalars.v_jsonb, JSONB[str])
    assert_type(Scalars.v_ints, Array[list[int]])
    assert_type(row.v_ints, list[int])
    assert_type(Scalars.v_strings, Array[list[str]])
    assert_type(row.v_dates, list[datetime.date])
    assert_type(Nullables.v_ints, Array[list[int] | None])
    assert_type(maybe.v_ints, list[int] | None)
    assert_type(maybe.v_bytea, bytes | None)
    assert_type(maybe.v_interval, datetime.timedelta | None)


def constructors() -> None:
    Scalars(v_ints=[1], v_strings=["a"], v_dates=[datetime.date(2024, 1, 1)])
    Scalars(v_bytea=b"x", v_interval=datetime.timedelta(1), v_uuid=uuid.uuid4())
    Nullables(v_ints=None, v_secret=None)
    Defaults(tags=[3], note=None)


def array_operators() -> None:
    assert_type(Scalars.v_ints.any(1), Condition)
    assert_type(Scalars.v_strings.all("a"), Condition)
    assert_type(Scalars.v_dates.not_any(datetime.date(2024, 1, 1)), Condition)
    assert_type(Nullables.v_ints.any(1), Condition)
    assert_type(Scalars.v_ints.cat([1, 2]), Array[list[int]])
    assert_type(Nullables.v_ints.cat([1, 2]), Array[list[int] | None])
    assert_type(Scalars.v_strings.append("x"), Array[list[str]])
    assert_type(
        Nullables.v_dates.prepend(datetime.date(2024, 1, 1)), Array[list[datetime.date] | None]
    )
    assert_type(Scalars.update({Scalars.v_ints: Scalars.v_ints.cat([3])}, force=True), Update)
    assert_type(Scalars.update(v_ints=[1], force=True), Update)


async def json_paths() -> None:
    assert_type(Account.profile.arrow("name"), JSON[str | None])
    assert_type(Account.profile.arrow(0), JSON[str | None])
    assert_type(Account.profile.from_path(["tags", 0, "deep"]), JSON[str | None])
    assert_type(Account.profile.arrow("tags").arrow(0), JSON[str | None])
    assert_type(Account.profile.arrow("name") == '"Ann"', Condition)
    names = Account.select(Account.profile.arrow("name")).output(as_list=True)
    assert_type(await names, list[str | None])
    assert_type(await names.run(), list[str | None])
    assert_type(names.run_sync(), list[str | None])


async def secrets() -> None:
    assert_type(await Account.select(), list[AccountRow])
    assert_type(await Account.select().run(), list[AccountRow])
    assert_type(Account.select().run_sync(), list[AccountRow])
    assert_type(await Account.select(exclude_secrets=False), list[AccountRow])
    assert_type(await Account.select(exclude_secrets=True).first(), AccountRow | None)
    rows = await Account.select(Account.password).output(as_list=True)
    assert_type(rows, list[str])
    row = (await Account.select())[0]
    assert_type(row["username"], str)
    # The secret's key is NotRequired: read it with .get().
    assert_type(row.get("password"), str | None)
    row["password"]  # pyright: ignore[reportTypedDictNotRequiredAccess]


async def round_trip_types() -> None:
    rows = await Scalars.select(exclude_secrets=False)
    assert_type(rows, list[ScalarsRow])
    assert_type(rows[0]["v_ints"], list[int])
    assert_type(rows[0]["v_timestamptz"], datetime.datetime)
    values = await Scalars.select(Scalars.v_ints, Scalars.v_bytea).output(as_tuples=True)
    assert_type(values, list[tuple[list[int], bytes]])
    dates = await Nullables.select(Nullables.v_dates).output(as_list=True).run()
    assert_type(dates, list[list[datetime.date] | None])


def type_errors(row: Scalars) -> None:
    Scalars(v_ints=["1"])  # type: ignore[list-item]  # pyright: ignore[reportArgumentType]
    Scalars(v_ints=1)  # type: ignore[arg-type]  # pyright: ignore[reportArgumentType]
    Scalars(v_ints=None)  # type: ignore[arg-type]  # pyright: ignore[reportArgumentType]
    Scalars(v_bytea="x")  # type: ignore[arg-type]  # pyright: ignore[reportArgumentType]
    Scalars(v_interval=5)  # type: ignore[arg-type]  # pyright: ignore[reportArgumentType]
    Scalars(v_uuid="x")  # type: ignore[arg-type]  # pyright: ignore[reportArgumentType]
    row.v_dates = [datetime.datetime.now().time()]  # type: ignore[list-item]  # pyright: ignore[reportAttributeAccessIssue]
    Scalars.v_ints.any("1")  # type: ignore[arg-type]  # pyright: ignore[reportArgumentType]
    Scalars.v_dates.all(1)  # type: ignore[arg-type]  # pyright: ignore[reportArgumentType]
    Scalars.v_ints.cat(["x"])  # type: ignore[list-item]  # pyright: ignore[reportArgumentType]
    Scalars.v_integer.any(1)  # type: ignore[attr-defined]  # pyright: ignore[reportAttributeAccessIssue]
    Scalars.v_text.arrow("a")  # type: ignore[attr-defined]  # pyright: ignore[reportAttributeAccessIssue]
    Account.profile.arrow(1.5)  # type: ignore[arg-type]  # pyright: ignore[reportArgumentType]
    Account.select(exclude_secrets="no")  # type: ignore[call-overload]  # pyright: ignore[reportArgumentType]
    Scalars.update(v_ints=["x"], force=True)  # type: ignore[list-item]  # pyright: ignore[reportArgumentType]
