"""Types of ``select()`` and ``returning()`` by number of columns: exact
tuples up to ten columns (SQLAlchemy's limit), ``tuple[Any, ...]`` beyond.

Read by mypy --strict and pyright, never run.
"""

from __future__ import annotations

import datetime
import decimal
import uuid
from typing import Any, assert_type

from generated.features import Scalars as S

Date = datetime.date
Time = datetime.time
Stamp = datetime.datetime
Delta = datetime.timedelta
Dec = decimal.Decimal


async def select_seven_to_eleven_columns() -> None:
    q7 = S.select(S.v_integer, S.v_text, S.v_real, S.v_boolean, S.v_numeric, S.v_date, S.v_time)
    assert_type(
        await q7.output(as_tuples=True), list[tuple[int, str, float, bool, Dec, Date, Time]]
    )
    q8 = S.select(
        S.v_integer, S.v_text, S.v_real, S.v_boolean, S.v_numeric, S.v_date, S.v_time, S.v_timestamp
    )
    assert_type(
        await q8.output(as_tuples=True), list[tuple[int, str, float, bool, Dec, Date, Time, Stamp]]
    )
    q9 = S.select(
        S.v_integer,
        S.v_text,
        S.v_real,
        S.v_boolean,
        S.v_numeric,
        S.v_date,
        S.v_time,
        S.v_timestamp,
        S.v_interval,
    )
    assert_type(
        await q9.output(as_tuples=True),
        list[tuple[int, str, float, bool, Dec, Date, Time, Stamp, Delta]],
    )
    q10 = S.select(
        S.v_integer,
        S.v_text,
        S.v_real,
        S.v_boolean,
        S.v_numeric,
        S.v_date,
        S.v_time,
        S.v_timestamp,
        S.v_interval,
        S.v_uuid,
    )
    assert_type(
        await q10.output(as_tuples=True),
        list[tuple[int, str, float, bool, Dec, Date, Time, Stamp, Delta, uuid.UUID]],
    )
    q11 = S.select(
        S.v_integer,
        S.v_text,
        S.v_real,
        S.v_boolean,
        S.v_numeric,
        S.v_date,
        S.v_time,
        S.v_timestamp,
        S.v_interval,
        S.v_uuid,
        S.v_bytea,
    )
    assert_type(await q11.output(as_tuples=True), list[tuple[Any, ...]])


async def returning_ten_columns() -> None:
    written = S.insert(S()).returning(
        S.id,
        S.v_text,
        S.v_real,
        S.v_boolean,
        S.v_numeric,
        S.v_date,
        S.v_time,
        S.v_timestamp,
        S.v_interval,
        S.v_uuid,
    )
    assert_type(
        await written.output(as_tuples=True),
        list[tuple[int, str, float, bool, Dec, Date, Time, Stamp, Delta, uuid.UUID]],
    )
