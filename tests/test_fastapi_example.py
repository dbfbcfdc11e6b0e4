"""The FastAPI example (examples/fastapi_app.py) through httpx's ASGI transport,
on an SQLite file and on PostgreSQL: every endpoint, what it writes (read back
with queries), and the OpenAPI document's types."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from examples.fastapi_app import create_app
from generated.music import Band, Manager
from runtime import Engine


@pytest.fixture
async def client(db: Engine) -> AsyncIterator[httpx.AsyncClient]:
    """A client of the application on an empty database of each engine.

    httpx's ASGI transport sends no lifespan events: the test runs the
    application's lifespan (which binds the tables and creates them) itself.
    """
    app = create_app(db)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
            yield client


async def test_crud_of_managers_and_bands(client: httpx.AsyncClient) -> None:
    response = await client.post("/managers", json={"name": "Guido"})
    assert response.status_code == 201
    guido = response.json()
    assert guido == {"id": guido["id"], "name": "Guido"}
    assert await Manager.select() == [guido]

    response = await client.post("/bands", json={"name": "Pythonistas", "manager": guido["id"]})
    assert response.status_code == 201
    band = response.json()
    assert band == {
        "id": band["id"],
        "name": "Pythonistas",
        "manager": guido["id"],
        "popularity": 0,
    }
    assert await Band.select() == [band]
    unmanaged = (await client.post("/bands", json={"name": "Solo", "popularity": 3})).json()

    # Reads give the manager itself (prefetched), or null.
    response = await client.get("/bands")
    assert response.status_code == 200
    assert response.json() == [{**band, "manager": guido}, unmanaged]
    assert (await client.get(f"/bands/{band['id']}")).json() == {**band, "manager": guido}

    # A partial update changes what it names only; null is a value for a nullable key.
    response = await client.patch(f"/bands/{band['id']}", json={"popularity": 7, "manager": None})
    assert response.status_code == 200
    assert response.json() == {**band, "popularity": 7, "manager": None}
    assert await Band.select().where(Band.id == band["id"]) == [response.json()]
    response = await client.patch(f"/managers/{guido['id']}", json={"name": "Guido v R"})
    assert response.json() == {**guido, "name": "Guido v R"}
    assert (await client.get("/managers")).json() == [response.json()]

    # Deleting the manager keeps the band that still had one (on_delete: set_null).
    await client.patch(f"/bands/{band['id']}", json={"manager": guido["id"]})
    assert (await client.delete(f"/managers/{guido['id']}")).status_code == 204
    assert await Manager.select() == []
    assert (await Band.select(Band.manager).where(Band.id == band["id"]).output(as_list=True)) == [
        None
    ]
    assert (await client.delete(f"/bands/{band['id']}")).status_code == 204
    assert await Band.select(Band.name).output(as_list=True) == ["Solo"]
    assert (await client.get(f"/bands/{band['id']}")).status_code == 404
    assert (await client.get(f"/managers/{guido['id']}")).status_code == 404
    assert (await client.patch("/bands/999", json={})).status_code == 404
    assert (await client.delete("/managers/999")).status_code == 404


@pytest.mark.parametrize(
    ("body", "location"),
    [
        ({"name": "x" * 51}, ["body", "name"]),
        ({"name": None}, ["body", "name"]),
        ({"popularity": 2**31}, ["body", "popularity"]),
        ({"popularity": "many"}, ["body", "popularity"]),
        ({"nme": "x"}, ["body", "nme"]),
        ({"id": 5}, ["body", "id"]),
    ],
)
async def test_bad_bodies_are_refused_before_the_database(
    client: httpx.AsyncClient, body: dict[str, Any], location: list[str]
) -> None:
    response = await client.post("/bands", json=body)
    assert response.status_code == 422
    assert [error["loc"] for error in response.json()["detail"]] == [location]
    assert await Band.count() == 0


async def test_the_database_refusals_are_http_errors(client: httpx.AsyncClient) -> None:
    assert (await client.post("/bands", json={"name": "Twice"})).status_code == 201
    response = await client.post("/bands", json={"name": "Twice"})
    assert (response.status_code, response.json()) == (
        409,
        {"detail": "a band of that name exists"},
    )
    response = await client.post("/bands", json={"name": "Orphan", "manager": 999})
    assert (response.status_code, response.json()) == (422, {"detail": "no such manager"})
    assert await Band.select(Band.name).output(as_list=True) == ["Twice"]


async def test_the_openapi_document_shows_the_exact_types(client: httpx.AsyncClient) -> None:
    document = (await client.get("/openapi.json")).json()
    schemas = document["components"]["schemas"]
    # (FastAPI's OpenAPI models write the bounds as numbers: 2147483647.0.)
    integer = {"type": "integer", "minimum": -(2**31), "maximum": 2**31 - 1}
    serial = {"type": "integer", "minimum": 1, "maximum": 2**31 - 1}
    name = {"type": "string", "maxLength": 50, "title": "Name"}
    manager_key = {"anyOf": [{"type": "integer"}, {"type": "null"}], "title": "Manager"}
    assert schemas["BandCreate"] == {
        "type": "object",
        "title": "BandCreate",
        "description": "The values of a new ``Band``: ``BandCreate(...).instance()``.",
        "additionalProperties": False,
        "properties": {
            "name": {**name, "default": ""},
            # FastAPI leaves a default of null out of the document.
            "manager": manager_key,
            "popularity": {**integer, "title": "Popularity", "default": 0},
        },
    }
    # An update names what it changes: nothing required, no defaults.
    update = schemas["BandUpdate"]
    assert update["properties"] == {
        "name": name,
        "manager": manager_key,
        "popularity": {**integer, "title": "Popularity"},
    }
    assert "required" not in update and update["additionalProperties"] is False
    assert schemas["BandRead"]["properties"] == {
        "id": {**serial, "title": "Id"},
        "name": name,
        "manager": manager_key,
        "popularity": {**integer, "title": "Popularity"},
    }
    assert schemas["BandRead"]["required"] == ["id", "name", "manager", "popularity"]
    nested = schemas["BandWithManagerRead"]["properties"]["manager"]
    assert nested == {"anyOf": [{"$ref": "#/components/schemas/ManagerRead"}, {"type": "null"}]}
    assert schemas["ManagerRead"]["description"] == "A person who manages bands."

    def response_schema(path: str, method: str, code: str = "200") -> Any:
        operation = document["paths"][path][method]
        return operation["responses"][code]["content"]["application/json"]["schema"]

    assert response_schema("/bands", "get") == {
        "type": "array",
        "items": {"$ref": "#/components/schemas/BandWithManagerRead"},
        "title": "Response List Bands Bands Get",
    }
    assert response_schema("/bands", "post", "201") == {"$ref": "#/components/schemas/BandRead"}
    body = document["paths"]["/bands/{band_id}"]["patch"]["requestBody"]
    assert body["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/BandUpdate"
    }
