"""Applying migrations to a database, and reverting them.

The history table (``piccolo_gen_migrations``: id, checksum, applied_at)
says what a database has applied. It is created when absent.

Each migration runs in one transaction, the compiler's schema session, and
its history row is written in that same transaction: it is applied with its
row, or not at all, and a failure leaves schema, data and history as they
were. A file with ``atomic=False`` runs its operations outside a
transaction (what ``CREATE INDEX CONCURRENTLY`` needs) and writes its row
afterwards.

Two deploys that migrate at once apply each migration once: inside each
migration's transaction the runner takes the migration lock (on
PostgreSQL ``pg_advisory_xact_lock``; on SQLite the session's ``BEGIN
IMMEDIATE`` is already the database's one write lock) and reads the history
again, so the second runner finds the migration applied and skips it.

A file whose checksum differs from the one recorded when it was applied has
been edited since: ``forwards`` refuses to run anything until the file is
restored, since the database no longer is what the files say.
"""

from __future__ import annotations

import datetime
import hashlib
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Final, Protocol

from .._engine_base import Engine
from .._errors import EngineError
from ..schema.compile import DdlConnection, compiler_for
from ..schema.operations import IrreversibleError, Operation
from ..schema.read import table_exists
from ..schema.state import Column as StateColumn
from ..schema.state import Schema, Type
from . import _compile
from ._base import HISTORY_TABLE, Migration, MigrationError, flatten
from .files import MigrationSet

__all__ = [
    "AppliedRow",
    "Progress",
    "Runner",
    "StatusLine",
    "inverses",
    "migration_sql",
]

#: Receives one line of progress at a time (the CLI prints them to stderr).
Progress = Callable[[str], None]

#: The key of the PostgreSQL advisory lock migrations take (a fixed 64-bit
#: number derived from the history table's name).
LOCK_KEY: Final = int.from_bytes(
    hashlib.sha256(HISTORY_TABLE.encode()).digest()[:8], "big", signed=True
)


@dataclass(frozen=True, slots=True)
class AppliedRow:
    """One row of the history table."""

    id: str
    checksum: str
    applied_at: str


@dataclass(frozen=True, slots=True)
class StatusLine:
    """One migration as ``status`` shows it."""

    id: str
    #: ``applied``, ``pending``, ``changed`` (applied, but the file was edited
    #: since), or ``missing`` (applied, but no file has this id).
    state: str
    checksum: str | None
    applied_checksum: str | None
    applied_at: str | None

    def __str__(self) -> str:
        file_sum = (self.checksum or "-")[:12]
        line = f"{self.state:<8} {self.id:<40} {file_sum}"
        if self.applied_at:
            line += f"  applied {self.applied_at}"
        if self.state == "changed":
            line += f"  (recorded checksum {(self.applied_checksum or '')[:12]})"
        return line


class _Conn(Protocol):
    """What the runner's statements run on: a schema session's connection, or
    the engine itself (which joins the transaction open in its context)."""

    async def fetch(self, sql: str, params: Sequence[object] = ()) -> list[Sequence[Any]]: ...


def _quiet(line: str) -> None:
    pass


class Runner:
    """Applies the migrations of ``migrations`` to ``engine``."""

    def __init__(
        self, engine: Engine, migrations: MigrationSet, *, progress: Progress | None = None
    ) -> None:
        self.engine = engine
        self.migrations = migrations
        self.progress: Progress = progress or _quiet
        self.dialect: str = engine.dialect.name
        self._states: list[Schema] | None = None

    # -- history -----------------------------------------------------------

    def _states_before(self) -> list[Schema]:
        if self._states is None:
            self._states = self.migrations.states()
        return self._states

    async def ensure_history(self) -> None:
        """Create the history table if it is absent."""
        if await self._history_exists():
            return
        applied_at = compiler_for(self.engine.dialect).type_sql(
            StateColumn("applied_at", Type("Timestamptz"))
        )
        create = (
            f'CREATE TABLE IF NOT EXISTS "{HISTORY_TABLE}" ('
            '"id" TEXT PRIMARY KEY, "checksum" TEXT NOT NULL, '
            f'"applied_at" {applied_at} NOT NULL DEFAULT CURRENT_TIMESTAMP)'
        )
        async with self.engine.transaction():
            # Two runners creating it at once would collide in PostgreSQL's
            # catalog even with IF NOT EXISTS; the lock makes one wait.
            await self._lock(self.engine)
            await self.engine.execute(create)

    async def _history_exists(self) -> bool:
        return await table_exists(self.engine, HISTORY_TABLE)

    async def history(self, conn: _Conn | None = None) -> dict[str, AppliedRow]:
        """The history table's rows by id (empty when there is no table);
        read on ``conn`` (a session's connection) when given."""
        if conn is None and not await self._history_exists():
            return {}
        rows = await (conn or self.engine).fetch(
            f'SELECT "id", "checksum", "applied_at" FROM "{HISTORY_TABLE}" ORDER BY "id"'
        )
        result = {}
        for row in rows:
            at = row[2]
            if isinstance(at, datetime.datetime):
                at = at.astimezone(datetime.UTC).strftime("%Y-%m-%d %H:%M:%S")
            result[str(row[0])] = AppliedRow(str(row[0]), str(row[1]), str(at))
        return result

    async def _lock(self, conn: _Conn) -> None:
        if not self.engine.dialect.advisory_locks:
            return  # the session's BEGIN IMMEDIATE is SQLite's one write lock
        rows = await conn.fetch("SELECT pg_try_advisory_xact_lock($1)", [LOCK_KEY])
        if not rows[0][0]:
            self.progress("waiting for another migration run to finish (the migration lock)")
            await conn.fetch("SELECT pg_advisory_xact_lock($1)", [LOCK_KEY])

    async def _record(self, conn: _Conn, migration: Migration) -> None:
        p = self.engine.dialect.placeholder
        await conn.fetch(
            f'INSERT INTO "{HISTORY_TABLE}" ("id", "checksum") VALUES ({p(1)}, {p(2)})',
            [migration.id, migration.checksum or ""],
        )

    async def _forget(self, conn: _Conn, ids: Sequence[str]) -> None:
        p = self.engine.dialect.placeholder
        for id_ in ids:
            await conn.fetch(f'DELETE FROM "{HISTORY_TABLE}" WHERE "id" = {p(1)}', [id_])

    @staticmethod
    def is_applied(migration: Migration, history: dict[str, AppliedRow]) -> bool:
        """Applied: its own row, or (a squash) the rows of every migration it replaces."""
        if migration.id in history:
            return True
        return bool(migration.replaces) and all(r in history for r in migration.replaces)

    # -- status ------------------------------------------------------------

    async def status(self) -> list[StatusLine]:
        """Every migration, applied or pending, and any applied id no file has."""
        history = await self.history()
        lines = []
        known: set[str] = set()
        for m in self.migrations:
            known.add(m.id)
            known.update(m.replaces)
            row = history.get(m.id)
            if row is not None:
                state = "changed" if row.checksum != m.checksum else "applied"
                lines.append(StatusLine(m.id, state, m.checksum, row.checksum, row.applied_at))
            elif self.is_applied(m, history):
                at = max(history[r].applied_at for r in m.replaces)
                lines.append(StatusLine(m.id, "applied", m.checksum, None, at))
            else:
                lines.append(StatusLine(m.id, "pending", m.checksum, None, None))
        for id_, row in history.items():
            if id_ not in known:
                lines.append(StatusLine(id_, "missing", None, row.checksum, row.applied_at))
        return lines

    def check_history(self, history: dict[str, AppliedRow]) -> None:
        """Refuse a history the files do not match: an applied file edited since,
        an applied id no file has, or a hole (a pending migration before an
        applied one)."""
        problems = []
        known: set[str] = set()
        for m in self.migrations:
            known.add(m.id)
            known.update(m.replaces)
            row = history.get(m.id)
            if row is not None and row.checksum != m.checksum:
                problems.append(
                    f"{m.path or m.id} was applied (at {row.applied_at}) with checksum "
                    f"{row.checksum[:12]}, but the file now has {(m.checksum or '')[:12]}: an "
                    "applied migration must not be edited; restore the file and put the "
                    "change in a new migration"
                )
            partial = [r for r in m.replaces if r in history]
            if partial and len(partial) < len(m.replaces) and m.id not in history:
                missing = [r for r in m.replaces if r not in history]
                problems.append(
                    f"{m.id} replaces {', '.join(m.replaces)}, of which this database applied "
                    f"only {', '.join(partial)}: apply {', '.join(missing)} with the files "
                    "from before the squash first"
                )
        unknown = [id_ for id_ in history if id_ not in known]
        if unknown:
            problems.append(
                f"this database applied {', '.join(unknown)}, which no migration file has "
                "(a file deleted, or the database migrated from another branch)"
            )
        applied = [self.is_applied(m, history) for m in self.migrations]
        if True in applied:
            last = len(applied) - 1 - applied[::-1].index(True)
            holes = [m.id for m, a in zip(self.migrations, applied[:last]) if not a]
            if holes:
                problems.append(
                    f"{', '.join(holes)} {'is' if len(holes) == 1 else 'are'} not applied, but "
                    f"the later {self.migrations.migrations[last].id} is: migrations apply in "
                    "order (was a migration inserted before applied ones?)"
                )
        if problems:
            raise MigrationError("\n".join(problems))

    # -- forwards ----------------------------------------------------------

    async def forwards(self, target: str | None = None, *, fake: bool = False) -> list[str]:
        """Apply the pending migrations up to ``target`` (default: all); the ids applied.

        ``fake`` records them as applied without running their operations
        (a database that already has what they do).
        """
        end = len(self.migrations) if target is None else self.migrations.position(target) + 1
        await self.ensure_history()
        history = await self.history()
        self.check_history(history)
        states = self._states_before()
        pending = [
            (migration, states[index])
            for index, migration in enumerate(self.migrations.migrations[:end])
            if not self.is_applied(migration, history)
        ]
        if not fake:
            # Whatever cannot compile for this dialect (a RunSQL without its
            # SQL, a change the compiler refuses) stops the run before any
            # migration is applied.
            for migration, before in pending:
                self._compile_all(migration, before)
        done = []
        for migration, before in pending:
            if await self._apply(migration, before, fake=fake):
                done.append(migration.id)
        if not done:
            self.progress("nothing to apply: the database is up to date")
        return done

    def _compile_all(self, migration: Migration, before: Schema) -> None:
        state = before
        for op in flatten(migration.operations):
            try:
                _compile.statements_of(_compile.steps_of(op, state, self.dialect))
            except Exception as error:
                raise MigrationError(
                    f"migration {migration.id} cannot run on {self.dialect}: {op.describe()}: "
                    f"{error} (nothing was applied)",
                    migration=migration.id,
                    operation=op.describe(),
                ) from error
            state = op.apply(state)

    async def _apply(self, migration: Migration, before: Schema, *, fake: bool) -> bool:
        try:
            return await self._apply_unguarded(migration, before, fake=fake)
        except MigrationError:
            raise
        except EngineError as error:
            # The session's own checks at commit (SQLite: a broken foreign key).
            raise MigrationError(
                f"migration {migration.id} failed: {error} (schema, data and history are "
                "as before)",
                migration=migration.id,
            ) from error

    async def _apply_unguarded(self, migration: Migration, before: Schema, *, fake: bool) -> bool:
        ops = flatten(migration.operations)
        verb = "faking" if fake else "applying"
        announce = f"{verb} {migration.id} ({_operations(len(ops))})"
        started = time.perf_counter()
        if not migration.atomic and not fake:
            self.progress(announce + ", outside a transaction")
            await self._run_operations(migration, ops, before, conn=None)
            async with self.engine.transaction():
                await self._lock(self.engine)
                if self.is_applied(migration, await self.history(self.engine)):
                    return False
                await self._record(self.engine, migration)
        else:
            async with _compile.session(self.engine, atomic=True) as conn:
                await self._lock(conn)
                # Another runner may have applied it while this one waited.
                if self.is_applied(migration, await self.history(conn)):
                    self.progress(f"{migration.id} was applied meanwhile by another run")
                    return False
                self.progress(announce)
                if not fake:
                    await self._run_operations(migration, ops, before, conn=conn)
                await self._record(conn, migration)
        self.progress(f"{'faked' if fake else 'applied'} {migration.id} in {_seconds(started)}")
        return True

    async def _run_operations(
        self,
        migration: Migration,
        ops: Sequence[Operation],
        before: Schema,
        *,
        conn: DdlConnection | None,
    ) -> Schema:
        state = before
        for op in ops:
            state = await self._run_one(migration, op, state, conn)
        return state

    async def _run_one(
        self, migration: Migration, op: Operation, state: Schema, conn: DdlConnection | None
    ) -> Schema:
        started = time.perf_counter()
        try:
            steps = _compile.steps_of(op, state, self.dialect)
            if conn is None:
                async with _compile.session(self.engine, atomic=False) as own:
                    for step in steps:
                        await _compile.run_step(step, own)
            else:
                for step in steps:
                    await _compile.run_step(step, conn)
            after = op.apply(state)
        except MigrationError:
            raise
        except Exception as error:
            undone = (
                "schema, data and history are as before"
                if migration.atomic
                else "the migration is not atomic: the operations before this one stay applied"
            )
            what = (
                str(error) if isinstance(error, EngineError) else f"{type(error).__name__}: {error}"
            )
            raise MigrationError(
                f"migration {migration.id} failed at {op.describe()}: {what} ({undone})",
                migration=migration.id,
                operation=op.describe(),
            ) from error
        self.progress(f"  {op.describe()} ({_seconds(started)})")
        return after

    # -- backwards ---------------------------------------------------------

    async def backwards(self, target: str, *, fake: bool = False) -> list[str]:
        """Revert every applied migration after ``target`` (``"zero"``: all of
        them), latest first; the ids reverted."""
        keep = 0 if target == "zero" else self.migrations.position(target) + 1
        await self.ensure_history()
        history = await self.history()
        self.check_history(history)
        states = self._states_before()
        done = []
        # Every inverse first: a migration that cannot be reverted stops the
        # run before any is.
        plan = [
            (migration, inverses(migration, states[index]))
            for index, migration in reversed(list(enumerate(self.migrations)))
            if index >= keep and self.is_applied(migration, history)
        ]
        for migration, undo in plan:
            if await self._revert(migration, undo, fake=fake):
                done.append(migration.id)
        if not done:
            self.progress(f"nothing to revert after {target}")
        return done

    async def _revert(
        self, migration: Migration, inverses: list[tuple[Operation, Schema]], *, fake: bool
    ) -> bool:
        try:
            return await self._revert_unguarded(migration, inverses, fake=fake)
        except MigrationError:
            raise
        except EngineError as error:
            raise MigrationError(
                f"reverting migration {migration.id} failed: {error} (schema, data and "
                "history are as before)",
                migration=migration.id,
            ) from error

    async def _revert_unguarded(
        self, migration: Migration, inverses: list[tuple[Operation, Schema]], *, fake: bool
    ) -> bool:
        verb = "faking revert of" if fake else "reverting"
        announce = f"{verb} {migration.id} ({_operations(len(inverses))})"
        started = time.perf_counter()
        rows = [migration.id, *migration.replaces]
        if not migration.atomic and not fake:
            self.progress(announce + ", outside a transaction")
            for op, state in inverses:
                await self._run_one(migration, op, state, None)
            async with self.engine.transaction():
                await self._lock(self.engine)
                await self._forget(self.engine, rows)
        else:
            async with _compile.session(self.engine, atomic=True) as conn:
                await self._lock(conn)
                if not self.is_applied(migration, await self.history(conn)):
                    self.progress(f"{migration.id} was reverted meanwhile by another run")
                    return False
                self.progress(announce)
                if not fake:
                    for op, state in inverses:
                        await self._run_one(migration, op, state, conn)
                await self._forget(conn, rows)
        self.progress(f"{'faked' if fake else 'reverted'} {migration.id} in {_seconds(started)}")
        return True

    # -- state of the database --------------------------------------------

    async def applied_state(self) -> Schema:
        """The state the applied migrations describe."""
        history = await self.history()
        states = self._states_before()
        applied = [self.is_applied(m, history) for m in self.migrations]
        count = len(applied) - applied[::-1].index(True) if True in applied else 0
        return states[count]


def migration_sql(
    migrations: MigrationSet, ref: str | None, dialect: str, *, backwards: bool = False
) -> list[tuple[Migration, list[str]]]:
    """The statements each migration (``ref``: just that one) runs on ``dialect``,
    without a database. ``backwards``: the statements that revert it."""
    states = migrations.states()
    indexes = range(len(migrations)) if ref is None else [migrations.position(ref)]
    result = []
    for index in indexes:
        migration = migrations.migrations[index]
        pairs: list[tuple[Operation, Schema]]
        if backwards:
            pairs = inverses(migration, states[index])
        else:
            pairs = []
            state = states[index]
            for op in flatten(migration.operations):
                pairs.append((op, state))
                state = op.apply(state)
        statements: list[str] = []
        for op, state in pairs:
            statements.append(f"-- {op.describe()}")
            statements += _compile.statements_of(_compile.steps_of(op, state, dialect))
        result.append((migration, statements))
    return result


def inverses(migration: Migration, before: Schema) -> list[tuple[Operation, Schema]]:
    """The operations that undo ``migration`` (applied to the state ``before``),
    in the order they run, each with the state it applies to."""
    forwards: list[tuple[Operation, Schema]] = []
    state = before
    for op in flatten(migration.operations):
        after = op.apply(state)
        try:
            inverse = op.inverse(state)
        except IrreversibleError as error:
            raise MigrationError(
                f"migration {migration.id} cannot be reverted: {op.describe()}: {error}",
                migration=migration.id,
                operation=op.describe(),
            ) from error
        forwards.append((inverse, after))
        state = after
    result: list[tuple[Operation, Schema]] = []
    for inverse, after in reversed(forwards):
        state = after
        for step in flatten([inverse]):
            result.append((step, state))
            state = step.apply(state)
    return result


def _operations(count: int) -> str:
    return f"{count} operation{'' if count == 1 else 's'}"


def _seconds(started: float) -> str:
    return f"{time.perf_counter() - started:.3f} s"
