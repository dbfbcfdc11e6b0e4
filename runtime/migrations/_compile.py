"""The migrations' view of the DDL compiler: one operation -> its steps.

The compiler (``runtime.schema.compile``) turns the schema operations into
steps: SQL text, or an object that runs itself (the SQLite table rebuild)
and shows the statements it stands for. The data operations are the
runner's own steps, since their Python and their per-dialect SQL run on the
migration's connection: a ``RunPython`` function gets a ``MigrationDB``.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager

from .._engine_base import Engine
from ..schema.compile import DdlConnection, Step, compiler_for
from ..schema.operations import Operation, RunPython, RunSQL
from ..schema.session import ddl_session, split_sqlite
from ..schema.state import Schema
from ._base import MigrationDB

__all__ = ["DataStep", "run_step", "session", "split_sql", "statements_of", "steps_of"]


class DataStep:
    """A ``RunSQL`` or ``RunPython`` as a step of a migration."""

    def __init__(self, op: RunSQL | RunPython, dialect: str) -> None:
        self.op = op
        self.dialect = dialect

    def statements(self) -> list[str]:
        if isinstance(self.op, RunSQL):
            return split_sql(self.op.sql_for(self.dialect), self.dialect)
        name = getattr(self.op.forwards, "__name__", "function")
        return [f"-- RunPython {name}(db): Python, not SQL"]

    async def run(self, conn: DdlConnection) -> None:
        if isinstance(self.op, RunSQL):
            text = self.op.sql_for(self.dialect)
            if text.strip():  # RunSQL(..., backwards=""): nothing to undo
                await conn.execute(text)
        else:
            forwards: Callable[[MigrationDB], Awaitable[None]] = self.op.forwards
            await forwards(MigrationDB(conn))


def split_sql(text: str, dialect: str) -> list[str]:
    """``text`` as the statements it holds, for printing (the session's
    connection splits it the same way where one call runs one statement)."""
    if compiler_for(dialect).dialect.runs_scripts:
        return [text] if text.strip() else []
    return split_sqlite(text)


def steps_of(op: Operation, before: Schema, dialect: str) -> list[Step]:
    """The steps that carry out ``op`` on the state ``before`` it."""
    if isinstance(op, (RunSQL, RunPython)):
        return [DataStep(op, dialect)]
    return list(compiler_for(dialect).compile(op, before))


def statements_of(steps: list[Step]) -> list[str]:
    """The SQL of ``steps``, for printing."""
    return [
        sql for step in steps for sql in ([step] if isinstance(step, str) else step.statements())
    ]


async def run_step(step: Step, conn: DdlConnection) -> None:
    if isinstance(step, str):
        await conn.execute(step)
    else:
        await step.run(conn)


@asynccontextmanager
async def session(engine: Engine, *, atomic: bool) -> AsyncIterator[DdlConnection]:
    """The compiler's schema session: one transaction (``atomic``), or none."""
    async with ddl_session(engine, transaction=atomic) as conn:
        yield conn
