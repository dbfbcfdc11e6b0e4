"""Typing of check_schema() and its report (never run; see test_contract.py)."""

from __future__ import annotations

from typing import assert_type

from generated.music import TABLES, Band, Venue
from runtime import (
    CheckSchema,
    Engine,
    SchemaMismatch,
    SchemaProblem,
    SchemaReport,
    check_schema,
)


async def check(db: Engine) -> None:
    assert_type(check_schema(*TABLES), CheckSchema)
    assert_type(check_schema(Band, Venue, strict=True), CheckSchema)
    report = await check_schema(*TABLES)
    assert_type(report, SchemaReport)
    assert_type(await check_schema(*TABLES).run(engine=db), SchemaReport)
    assert_type(check_schema(*TABLES).run_sync(), SchemaReport)
    assert_type(report.ok, bool)
    assert_type(report.problems, tuple[SchemaProblem, ...])
    assert_type(report.errors, tuple[SchemaProblem, ...])
    assert_type(report.tables, tuple[str, ...])
    assert_type(str(report), str)
    problem = report.problems[0]
    assert_type(problem.expected, str | None)
    assert_type(problem.found, str | None)
    assert_type(problem.table, str)
    try:
        await check_schema(*TABLES, strict=True)
    except SchemaMismatch as error:
        assert_type(error.report, SchemaReport)


def not_tables() -> None:
    check_schema(TABLES)  # type: ignore[arg-type]  # pyright: ignore[reportArgumentType]
    check_schema(Band, strict="yes")  # type: ignore[arg-type]  # pyright: ignore[reportArgumentType]
    report = check_schema(Band).run_sync()
    report.ok = False  # type: ignore[misc]  # pyright: ignore[reportAttributeAccessIssue]
