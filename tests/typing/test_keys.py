"""Typing of primary keys the database does not number (``generated/keys.py``).

Read by mypy --strict and pyright, never run. A key without a default that is
not serial (or uuid, whose zero default is a fresh uuid4) is a required
keyword of the constructor and of ``objects().create()``; leaving it out is a
type error for both checkers (an unused ignore is itself an error).
"""

from __future__ import annotations

import uuid
from typing import assert_type

from generated.keys import Album, Artist, Country, Edition, Slot, Station, Ticker, Token


def keys_given() -> None:
    assert_type(Artist(id=1, name="x"), Artist)
    assert_type(Country(code="pt", name="Portugal"), Country)
    assert_type(Ticker(symbol="ABC"), Ticker)
    assert_type(Station(number=2**40), Station)
    assert_type(Slot(number=3), Slot)
    assert_type(Artist(id=1).id, int)


def keys_that_fill_themselves() -> None:
    assert_type(Album(artist=1, title="x"), Album)  # serial id
    assert_type(Edition(), Edition)  # a default
    assert_type(Token(label="x").id, uuid.UUID)  # a fresh uuid4


async def create_needs_the_key() -> None:
    assert_type(await Artist.objects().create(id=2, name="y"), Artist)
    await Artist.objects().create(name="y")  # type: ignore[call-arg]  # pyright: ignore[reportCallIssue]


def negative_cases() -> None:
    Artist(name="x")  # type: ignore[call-arg]  # pyright: ignore[reportCallIssue]
    Country(name="Portugal")  # type: ignore[call-arg]  # pyright: ignore[reportCallIssue]
    Ticker()  # type: ignore[call-arg]  # pyright: ignore[reportCallIssue]
    Station()  # type: ignore[call-arg]  # pyright: ignore[reportCallIssue]
    Slot()  # type: ignore[call-arg]  # pyright: ignore[reportCallIssue]
