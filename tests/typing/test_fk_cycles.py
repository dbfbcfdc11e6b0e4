"""Typing of foreign keys that form a cycle (``tests/typing/fk_cycles``, the
build of ``tests/cases/foreign_key_cycle/cycles.yaml``).

Read by mypy --strict and pyright, never run. ``Band.headliner`` references
``Concert``, defined after ``Band``, and ``Concert.band`` references ``Band``
back: join paths are exact in both directions and as deep as they go
round the cycle, nullable from the first nullable key on; the constructors
take the key or the row of a table defined later. A wrong type or a
misspelt column is an error for both checkers (an unused ignore is itself
an error).
"""

from __future__ import annotations

from typing import assert_type

from fk_cycles.cycles import (
    TABLES,
    Band,
    Concert,
    ConcertNullableJoin,
    Department,
    DepartmentJoin,
    Employee,
    EmployeeJoin,
    Venue,
)

from runtime import Serial, Varchar


def joins_both_ways() -> None:
    assert_type(Band.headliner, ConcertNullableJoin)
    assert_type(Band.headliner.band.name, Varchar[str | None])
    assert_type(Band.headliner.venue.name, Varchar[str | None])
    assert_type(Concert.band.name, Varchar[str])
    assert_type(Concert.band.headliner.venue.name, Varchar[str | None])
    assert_type(Concert.band.mentor.headliner.band.name, Varchar[str | None])
    # Two non-null keys: every step round the cycle stays non-null.
    assert_type(Department.manager, EmployeeJoin)
    assert_type(Employee.department, DepartmentJoin)
    assert_type(Department.manager.department.manager.name, Varchar[str])
    assert_type(Employee.department.manager.id, Serial[int])


async def values_and_related(band: Band, concert: Concert, employee: Employee) -> None:
    assert_type(band.headliner, int | None)
    assert_type(concert.band, int)
    assert_type(Band(name="x", headliner=concert), Band)
    assert_type(Department(name="R&D", manager=employee), Department)
    assert_type(await band.get_related(Band.headliner), Concert | None)
    assert_type(await concert.get_related(Concert.band), Band)
    assert_type(await employee.get_related(Employee.department), Department)
    names = await Band.select(Band.name, Band.headliner.band.name).output(as_tuples=True)
    assert_type(names, list[tuple[str, str | None]])
    assert_type(
        TABLES, tuple[type[Venue], type[Band], type[Concert], type[Department], type[Employee]]
    )


def negative_cases(concert: Concert) -> None:
    Band(headliner="x")  # type: ignore[arg-type]  # pyright: ignore[reportArgumentType]
    Department(manager=concert)  # type: ignore[arg-type]  # pyright: ignore[reportArgumentType]
    Band.headliner.nme  # type: ignore[attr-defined]  # pyright: ignore[reportAttributeAccessIssue]
    Employee.department.manager.name.like(1)  # type: ignore[arg-type]  # pyright: ignore[reportArgumentType]
