"""A FastAPI application over two related tables, ``Manager`` and ``Band``.

Create, read, update and delete for both, with the generated pydantic models
(``generated/music_models.py``) as request bodies and responses: the OpenAPI
document shows the schema's types (``name`` at most 50 characters, the
integer ranges, ``manager`` a nullable key or, on reads, the manager itself).
No ``Any`` reaches this code; ``mypy --strict`` and pyright check it.

Run it (``pip install -e '.[examples]' uvicorn``) with the tables made on
start-up in ``music.sqlite`` (or the file ``MUSIC_DATABASE`` names)::

    uvicorn examples.fastapi_app:app

The tests (tests/test_fastapi_example.py) call it through httpx's ASGI
transport on an SQLite file and on PostgreSQL.
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI, HTTPException, Response, status

from generated.music import Band, Manager
from generated.music_models import (
    BandCreate,
    BandRead,
    BandUpdate,
    BandWithManagerRead,
    ManagerCreate,
    ManagerRead,
    ManagerUpdate,
)
from runtime import (
    Engine,
    ForeignKeyViolation,
    SQLiteEngine,
    UniqueViolation,
    create_tables,
    use_engine,
)

TABLES = (Manager, Band)


def create_app(engine: Engine) -> FastAPI:
    """The application, its tables on ``engine`` (made on start-up when missing)."""

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        use_engine(engine, *TABLES)
        await create_tables(*TABLES, if_not_exists=True)
        try:
            yield
        finally:
            use_engine(None, *TABLES)

    app = FastAPI(title="Bands", lifespan=lifespan)

    # -- managers ----------------------------------------------------------------

    @app.post("/managers", status_code=status.HTTP_201_CREATED)
    async def create_manager(data: ManagerCreate) -> ManagerRead:
        (manager,) = await Manager.insert(data.instance())
        return ManagerRead.model_validate(manager)

    @app.get("/managers")
    async def list_managers() -> list[ManagerRead]:
        rows = await Manager.select().order_by(Manager.id)
        return [ManagerRead.model_validate(row) for row in rows]

    @app.get("/managers/{manager_id}")
    async def get_manager(manager_id: int) -> ManagerRead:
        return ManagerRead.model_validate(await _manager(manager_id))

    @app.patch("/managers/{manager_id}")
    async def update_manager(manager_id: int, data: ManagerUpdate) -> ManagerRead:
        manager = await _manager(manager_id)
        data.apply(manager)
        await manager.save()
        return ManagerRead.model_validate(manager)

    @app.delete("/managers/{manager_id}", status_code=status.HTTP_204_NO_CONTENT)
    async def delete_manager(manager_id: int) -> Response:
        # Its bands keep going without a manager (on_delete: set_null).
        await (await _manager(manager_id)).remove()
        return Response(status_code=status.HTTP_204_NO_CONTENT)

    # -- bands -------------------------------------------------------------------

    @app.post("/bands", status_code=status.HTTP_201_CREATED)
    async def create_band(data: BandCreate) -> BandRead:
        band = data.instance()
        await _write(band)
        return BandRead.model_validate(band)

    @app.get("/bands")
    async def list_bands() -> list[BandWithManagerRead]:
        bands = await Band.objects(Band.manager).order_by(Band.id)
        return [BandWithManagerRead.model_validate(band) for band in bands]

    @app.get("/bands/{band_id}")
    async def get_band(band_id: int) -> BandWithManagerRead:
        band = await Band.objects(Band.manager).where(Band.id == band_id).first()
        if band is None:
            raise HTTPException(status.HTTP_404_NOT_FOUND, f"no band {band_id}")
        return BandWithManagerRead.model_validate(band)

    @app.patch("/bands/{band_id}")
    async def update_band(band_id: int, data: BandUpdate) -> BandRead:
        band = await _band(band_id)
        data.apply(band)
        await _write(band)
        return BandRead.model_validate(band)

    @app.delete("/bands/{band_id}", status_code=status.HTTP_204_NO_CONTENT)
    async def delete_band(band_id: int) -> Response:
        await (await _band(band_id)).remove()
        return Response(status_code=status.HTTP_204_NO_CONTENT)

    return app


async def _manager(manager_id: int) -> Manager:
    manager = await Manager.objects().get(Manager.id == manager_id)
    if manager is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"no manager {manager_id}")
    return manager


async def _band(band_id: int) -> Band:
    band = await Band.objects().get(Band.id == band_id)
    if band is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"no band {band_id}")
    return band


async def _write(band: Band) -> None:
    """Save ``band``; the database's refusals as HTTP errors."""
    try:
        await band.save()
    except UniqueViolation:
        raise HTTPException(status.HTTP_409_CONFLICT, "a band of that name exists") from None
    except ForeignKeyViolation:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, "no such manager") from None


app = create_app(SQLiteEngine(path=os.environ.get("MUSIC_DATABASE", "music.sqlite")))
