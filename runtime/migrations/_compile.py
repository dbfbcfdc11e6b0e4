"""The migrations' view of the DDL compiler: one operation -> its statements.

The compiler (``runtime.schema.compile``) turns the schema operations into
steps; the data operations (``RunSQL``, ``RunPython``) are the runner's, since
only it has their connection. A step is either SQL text or an object that
runs itself (the SQLite table rebuild, which reads the table first) and can
show the statements it stands for.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Any, Protocol, TypeAlias

from .._engine_base import Engine
from ..schema.operations import Operation, RunPython, RunSQL
from ..schema.session import split_sqlite
from ..schema.state import Schema
from ._base import MigrationDB

__all__ = ["Step", "session", "split_sql", "statements_of", "steps_of", "run_step"]


class _RunnableStep(Protocol):
    def statements(self) -> list[str]: ...

    async def run(self, conn: Any) -> None: ...


Step: TypeAlias = "str | _RunnableStep | _DataStep"


class _DataStep:
    """A ``RunSQL`` or ``RunPython`` as a step of the migration."""

    def __init__(self, op: RunSQL | RunPython, dialect: str) -> None:
        self.op = op
        self.dialect = dialect

    def statements(self) -> list[str]:
        if isinstance(self.op, RunSQL):
            return split_sql(self.op.sql_for(self.dialect), self.dialect)
        name = getattr(self.op.forwards, "__name__", "function")
        return [f"-- RunPython {name}(db): Python, not SQL"]

    async def run(self, conn: Any) -> None:
        if isinstance(self.op, RunSQL):
            text = self.op.sql_for(self.dialect)
            if text.strip():  # RunSQL(..., backwards=""): nothing to undo
                await conn.execute(text)
        else:
            forwards: Callable[[MigrationDB], Awaitable[None]] = self.op.forwards
            await forwards(MigrationDB(conn))


def split_sql(text: str, dialect: str) -> list[str]:
    """``text`` as the statements it holds, for printing (the session's
    connection splits it the same way on SQLite; PostgreSQL runs a script)."""
    if dialect != "sqlite":
        return [text] if text.strip() else []
    return split_sqlite(text)


def steps_of(op: Operation, before: Schema, dialect: str) -> list[Any]:
    """The steps that carry out ``op`` on the state ``before`` it."""
    if isinstance(op, (RunSQL, RunPython)):
        return [_DataStep(op, dialect)]
    from ..schema.compile import compiler_for

    return list(compiler_for(dialect).compile(op, before))


def statements_of_steps(steps: list[Any]) -> list[str]:
    return [sql for step in steps for sql in statements_of(step)]


def statements_of(step: Any) -> list[str]:
    if isinstance(step, str):
        return [step]
    result: list[str] = list(step.statements())
    return result


async def run_step(step: Any, conn: Any) -> None:
    if isinstance(step, str):
        await conn.execute(step)
    else:
        await step.run(conn)


@asynccontextmanager
async def session(engine: Engine, *, atomic: bool) -> AsyncIterator[Any]:
    """The compiler's schema session: one transaction (``atomic``), or none."""
    from ..schema.session import ddl_session

    async with ddl_session(engine, transaction=atomic) as conn:
        yield conn
