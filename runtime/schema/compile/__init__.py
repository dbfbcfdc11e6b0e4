"""The DDL compiler: one per dialect, the only place schema changes become SQL.

``compiler_for(dialect)`` gives the dialect's compiler:

``compiler.create_table(table)``   ``CREATE TABLE`` and ``CREATE INDEX`` of a
                                   state table (``create_tables()`` uses it)
``compiler.lower(schema)``         the state as the DDL creates it, at SQL
                                   level (``runtime.schema.database``); a
                                   database reader's result compares with it
``compiler.compile(op, before)``   the steps of one operation, given the state
                                   before it (``alter()`` and the migrations
                                   use it)

A step is an SQL string or a step object (``statements()`` for printing,
``run(conn)``); ``runtime.schema.session.ddl_session`` gives the connection
and the transaction they run in, and ``run_steps`` runs them.
"""

from __future__ import annotations

from ..._dialect import Dialect
from ._base import (
    ACTIONS,
    AlterError,
    Compiler,
    DdlConnection,
    RunPythonStep,
    SQLDefault,
    Step,
    StepObject,
    runtime_column,
    statements_of,
)
from ._postgres import PostgresCompiler
from ._sqlite import SQLiteCompiler, TableRebuild

__all__ = [
    "ACTIONS",
    "AlterError",
    "Compiler",
    "DdlConnection",
    "PostgresCompiler",
    "RunPythonStep",
    "SQLDefault",
    "SQLiteCompiler",
    "Step",
    "StepObject",
    "TableRebuild",
    "compiler_for",
    "run_steps",
    "runtime_column",
    "statements_of",
]

_COMPILERS: dict[str, Compiler] = {"postgres": PostgresCompiler(), "sqlite": SQLiteCompiler()}


def compiler_for(dialect: Dialect | str) -> Compiler:
    """The compiler of ``dialect`` (a ``Dialect`` or its name)."""
    name = dialect if isinstance(dialect, str) else dialect.name
    try:
        return _COMPILERS[name]
    except KeyError:
        raise ValueError(f"no DDL compiler for dialect {name!r}") from None


async def run_steps(conn: DdlConnection, steps: list[Step]) -> None:
    """Run ``steps`` in order on ``conn`` (in the session's transaction)."""
    for step in steps:
        if isinstance(step, str):
            await conn.execute(step)
        else:
            await step.run(conn)
