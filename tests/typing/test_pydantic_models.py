"""Typing of the generated pydantic models (``generated/*_models.py``).

Read by mypy --strict and pyright, never run. No ``Any`` reaches the code
that uses the models: validation gives the model, fields have the column's
value type, ``instance()`` gives the table's row object. Each negative line
carries an ignore for both checkers, which fail on an ignore that silences
nothing.
"""

from __future__ import annotations

import datetime
import decimal
import uuid
from typing import TYPE_CHECKING, assert_type

from generated.features_models import DefaultsCreate, ScalarsRead
from generated.music import Band, BandRow, Concert, Size
from generated.music_models import (
    BandCreate,
    BandRead,
    BandUpdate,
    BandWithManagerRead,
    ConcertPrefetchedRead,
    ConcertRead,
    ManagerRead,
    ShirtCreate,
    TicketRead,
)
from generated.shop_models import ProductRead, ProductWithBandRead

if TYPE_CHECKING:
    from generated.music import BandWithManager


async def read_models(band: Band, row: BandRow, prefetched: BandWithManager) -> None:
    read = BandRead.model_validate(band)
    assert_type(read, BandRead)
    assert_type(BandRead.model_validate(row), BandRead)
    assert_type(read.id, int)
    assert_type(read.name, str)
    assert_type(read.manager, int | None)
    assert_type(read.popularity, int)
    nested = BandWithManagerRead.model_validate(prefetched)
    assert_type(nested.manager, ManagerRead | None)
    concert = await Concert.objects(Concert.band_1, Concert.venue).first()
    if concert is not None:
        assert_type(ConcertPrefetchedRead.model_validate(concert).band_1, int | BandRead)
    assert_type(ConcertRead.model_validate(concert).starts, datetime.datetime)
    assert_type(TicketRead.model_validate({}).price, decimal.Decimal)
    assert_type(ProductRead.model_validate({}).id, uuid.UUID)
    assert_type(ProductWithBandRead.model_validate({}).band, BandRead | None)
    scalars = ScalarsRead.model_validate({})
    assert_type(scalars.v_strings, list[str])
    assert_type(scalars.v_json, str)
    assert_type(scalars.v_bytea, bytes)
    assert_type(scalars.v_interval, datetime.timedelta)


def create_and_update(band: Band) -> None:
    assert_type(BandCreate(name="x").instance(), Band)
    assert_type(BandCreate.model_validate({"name": "x"}), BandCreate)
    assert_type(BandCreate().popularity, int)
    assert_type(ShirtCreate(size=Size.large).size, Size)
    assert_type(DefaultsCreate().created, datetime.datetime)
    assert_type(BandUpdate(popularity=1).apply(band), None)
    BandCreate(name=1)  # type: ignore[arg-type]  # pyright: ignore[reportArgumentType]
    BandCreate(nme="x")  # type: ignore[call-arg]  # pyright: ignore[reportCallIssue]
    BandCreate(id=1)  # type: ignore[call-arg]  # pyright: ignore[reportCallIssue]
    BandCreate(name=None)  # type: ignore[arg-type]  # pyright: ignore[reportArgumentType]
    BandUpdate(name=None)  # type: ignore[arg-type]  # pyright: ignore[reportArgumentType]
    BandUpdate(id=3)  # type: ignore[call-arg]  # pyright: ignore[reportCallIssue]
    ShirtCreate(size="s")  # type: ignore[arg-type]  # pyright: ignore[reportArgumentType]
    BandUpdate().apply(Concert())  # type: ignore[arg-type]  # pyright: ignore[reportArgumentType]
    read: BandRead = BandWithManagerRead.model_validate({})  # type: ignore[assignment]  # pyright: ignore[reportAssignmentType]
    del read
