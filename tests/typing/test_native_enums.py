"""Typing of native enum columns: generic in the enum class, no text patterns.

The table is declared as the generator writes one for
``mood: {type: enum, choices: Mood, null: true}`` (tests/test_native_enums.py
holds the generated line to this one). Read by mypy --strict and pyright,
never run.
"""

from __future__ import annotations

import enum
from typing import assert_type

from typing_extensions import TypedDict

from runtime import Condition, Enum, Serial, Table, Varchar


class Mood(enum.StrEnum):
    happy = "happy"
    sad = "sad"


class PersonRow(TypedDict):
    id: int
    name: str
    mood: Mood | None
    tier: Mood


class Person(Table[PersonRow], tablename="person"):
    id: Serial[int] = Serial(primary_key=True)
    name: Varchar[str] = Varchar(length=20)
    mood: Enum[Mood | None] = Enum(Mood, type_name="mood", null=True)
    tier: Enum[Mood] = Enum(Mood, type_name="mood", default=Mood.sad)


async def enum_columns_hold_members(person: Person) -> None:
    assert_type(Person.mood, Enum[Mood | None])
    assert_type(person.mood, Mood | None)
    assert_type(person.tier, Mood)
    assert_type(Person.mood == Mood.happy, Condition)
    assert_type(Person.tier > Mood.happy, Condition)
    assert_type(Person.mood.is_in([Mood.happy, None]), Condition)
    assert_type(await Person.select(Person.mood).output(as_list=True), list[Mood | None])
    assert_type(await Person.objects().where(Person.tier.not_in([Mood.sad])), list[Person])
    rows = await Person.select().order_by(Person.mood)
    assert_type(rows[0]["mood"], Mood | None)


def enum_columns_are_no_text(text: str) -> None:
    Person.mood.like("h%")  # type: ignore[attr-defined]  # pyright: ignore[reportAttributeAccessIssue]
    Person.tier.ilike("H%")  # type: ignore[attr-defined]  # pyright: ignore[reportAttributeAccessIssue]
    Person.mood.contains(text)  # type: ignore[attr-defined]  # pyright: ignore[reportAttributeAccessIssue]
    Person.tier.is_in(["happy"])  # type: ignore[list-item]  # pyright: ignore[reportArgumentType]
    Person.tier.is_in([1])  # type: ignore[list-item]  # pyright: ignore[reportArgumentType]


def enum_values_are_members(person: Person) -> None:
    person.tier = Mood.happy
    person.tier = None  # type: ignore[assignment]  # pyright: ignore[reportAttributeAccessIssue]
    person.mood = 1  # type: ignore[assignment]  # pyright: ignore[reportAttributeAccessIssue]
