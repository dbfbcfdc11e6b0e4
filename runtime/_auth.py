"""User tables: ``create_user``, ``login`` and ``update_password`` (Piccolo's ``BaseUser``).

A table declared ``auth: true`` in its schema file derives from ``BaseUser``
(the generator checks that it has the columns below). The functions here
only need these columns of the table, found by name:

* ``username``: text, not null, unique;
* ``password``: a ``Password`` column (an argon2 hash);
* optional ``active`` (boolean: an inactive user cannot log in) and
  ``last_login`` (a timestamp, set by each successful login).

Passwords are hashed with argon2id (argon2-cffi, the ``auth`` extra) with
OWASP's parameters (``OWASP_ARGON2``); a login whose stored hash was made
with other parameters rehashes the password. A login takes the same time
whether or not the user exists: an unknown (or password-less) user is
verified against a dummy hash made with the same parameters. Hashing runs
in a worker thread (argon2-cffi releases the GIL), so the event loop keeps
serving other tasks meanwhile.
"""

from __future__ import annotations

import asyncio
import datetime
import functools
import secrets
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar, Generic, Self, TypeVar, cast

from . import _sync
from ._columns import Column, Password, Timestamptz
from ._query import Query
from ._write import Update

if TYPE_CHECKING:
    from argon2 import PasswordHasher

    from ._dialect import Dialect
    from ._engine import Engine
    from ._table import Table

__all__ = [
    "OWASP_ARGON2",
    "Argon2Parameters",
    "AuthError",
    "BaseUser",
    "CreateUser",
    "Login",
    "UpdatePassword",
]

KeyT = TypeVar("KeyT")
UserT = TypeVar("UserT")


class AuthError(ValueError):
    """A username or password that ``create_user``/``update_password`` refuse,
    or ``update_password`` of a user that does not exist."""


@dataclass(frozen=True, slots=True)
class Argon2Parameters:
    """The cost of an argon2id hash: ``memory_cost`` in KiB."""

    time_cost: int
    memory_cost: int
    parallelism: int
    hash_len: int = 32
    salt_len: int = 16


#: OWASP's Password Storage Cheat Sheet, first of its equivalent argon2id
#: configurations: 19 MiB of memory, 2 iterations, 1 degree of parallelism.
OWASP_ARGON2 = Argon2Parameters(time_cost=2, memory_cost=19 * 1024, parallelism=1)


def _argon2() -> Any:
    """The ``argon2`` package (argon2-cffi), imported on first use: the
    runtime's base install has no password hashing, and importing it costs
    applications that have no user table."""
    try:
        import argon2
    except ImportError as exc:
        raise ImportError(
            "user tables hash passwords with argon2-cffi, which is not installed: "
            "pip install 'piccolo-gen[auth]'"
        ) from exc
    return argon2


@functools.cache
def _hasher(parameters: Argon2Parameters) -> PasswordHasher:
    argon2 = _argon2()
    hasher: PasswordHasher = argon2.PasswordHasher(
        time_cost=parameters.time_cost,
        memory_cost=parameters.memory_cost,
        parallelism=parameters.parallelism,
        hash_len=parameters.hash_len,
        salt_len=parameters.salt_len,
        type=argon2.Type.ID,
    )
    return hasher


@functools.cache
def _dummy_hash(parameters: Argon2Parameters) -> str:
    """A hash of a random password with ``parameters``: what a login of an
    unknown user verifies against, so that it costs what a real one does."""
    return _hasher(parameters).hash(secrets.token_urlsafe(32))


def _verifies(parameters: Argon2Parameters, stored: str | None, password: str) -> bool:
    """Whether ``password`` matches the ``stored`` hash; always one verification
    of the same cost, also for a missing or malformed hash."""
    errors = _argon2().exceptions
    hasher = _hasher(parameters)
    # Made (once) before the verification, by whichever login comes first:
    # the first unknown user does not pay for it.
    dummy = _dummy_hash(parameters)
    real = stored is not None and stored.startswith("$argon2")
    try:
        hasher.verify(stored if real and stored is not None else dummy, password)
    except (errors.VerificationError, errors.InvalidHashError):
        return False
    return real


def _columns(table: type[Table[Any]]) -> tuple[Column[Any], Column[Any], Column[Any] | None]:
    """The ``username`` and ``password`` columns, and ``active`` if the table has one."""
    columns = table._meta.column_map
    username, password = columns.get("username"), columns.get("password")
    if username is None or not isinstance(password, Password):
        raise TypeError(
            f"{table.__name__} is no user table: it needs a username column and a "
            "Password column named password (auth: true in its schema file)"
        )
    return username, password, columns.get("active")


class CreateUser(Query[UserT]):
    """``create_user()``: hash the password and insert the row; the result is the row."""

    def __init__(self, row: UserT, password: str) -> None:
        self._table = cast("type[Table[Any]]", type(row))
        self._row = row
        self._password = password

    def _sql(self, dialect: Dialect) -> tuple[str, list[object]]:
        # The hash is made when the query runs: the statement shows the
        # password column as the empty hash it has until then.
        return self._table.insert(cast("Table[Any]", self._row))._sql(dialect)

    async def _run(self, engine: Engine) -> UserT:
        table = self._table
        user = cast("type[BaseUser[Any]]", table)
        hashed = await asyncio.to_thread(_hasher(user.argon2).hash, self._password)
        row = self._row
        cast("Table[Any]", row).__dict__["password"] = hashed
        await table.insert(cast("Table[Any]", row)).run(engine=engine)
        return row


class Login(Query[KeyT | None]):
    """``login()``: the user's primary key, or ``None``.

    ``None`` when no user has the username, the password does not match, or
    the user is not ``active``; each case takes the time of one argon2
    verification. A successful login sets ``last_login`` and, when the hash
    was made with other parameters than the table's, stores a new hash.
    """

    def __init__(self, table: type[Table[Any]], username: str, password: str) -> None:
        self._table = table
        self._username = username
        self._password = password

    def _select(self) -> Any:
        table = self._table
        username, password, active = _columns(table)
        key = table._meta.primary_key
        wanted = [key, password] + ([active] if active is not None else [])
        return table.select(*wanted).where(username == self._username).first()

    def _sql(self, dialect: Dialect) -> tuple[str, list[object]]:
        sql, params = self._select()._sql(dialect)
        return sql, params

    async def _run(self, engine: Engine) -> KeyT | None:
        table = self._table
        user = cast("type[BaseUser[Any]]", table)
        parameters = user.argon2
        password = self._password
        if not isinstance(password, str) or not isinstance(self._username, str):
            raise TypeError("login() takes a username and a password as str")
        if len(password) > user.max_password_length:
            # Never a password that create_user() took; verified all the same
            # (a prefix: hashing megabytes would take longer than a login).
            password = password[: user.max_password_length]
            row = None
        else:
            row = await self._select().run(engine=engine)
        _, password_column, active = _columns(table)
        stored = None if row is None else row["password"]
        matched = await asyncio.to_thread(_verifies, parameters, stored, password)
        if row is None or not matched or (active is not None and not row[active._meta.name]):
            return None
        key_column = table._meta.primary_key
        key: KeyT = row[key_column._meta.name]
        values: dict[Column[Any], object] = {}
        last_login = table._meta.column_map.get("last_login")
        if last_login is not None:
            # Aware UTC in a timestamptz; local time in a timestamp, as its
            # `now` default gives.
            aware = isinstance(last_login, Timestamptz)
            values[last_login] = (
                datetime.datetime.now(datetime.UTC) if aware else datetime.datetime.now()
            )
        hasher = _hasher(parameters)
        if stored is not None and hasher.check_needs_rehash(stored):
            values[password_column] = await asyncio.to_thread(hasher.hash, password)
        if values:
            await (
                Update(table, values, force=False, protected=True)
                .where(key_column == key)
                .run(engine=engine)
            )
        return key


class UpdatePassword(Query[None]):
    """``update_password()``: hash the new password and store it.

    Raises ``AuthError`` when no user matches (by username, primary key or row).
    """

    def __init__(self, table: type[Table[Any]], user: object, password: str) -> None:
        self._table = table
        self._user = user
        self._password = password

    def _query(self, hashed: str) -> Any:
        table = self._table
        username, password, _ = _columns(table)
        key = table._meta.primary_key
        user = self._user
        if isinstance(user, table):
            condition = key == user.__dict__[key._meta.name]
        elif isinstance(user, str):
            condition = username == user
        else:
            condition = key == user
        update = Update(table, {password: hashed}, force=False, protected=True)
        return update.where(condition).returning(key)

    def _sql(self, dialect: Dialect) -> tuple[str, list[object]]:
        sql, params = self._query("")._sql(dialect)
        return sql, params

    async def _run(self, engine: Engine) -> None:
        user = cast("type[BaseUser[Any]]", self._table)
        hashed = await asyncio.to_thread(_hasher(user.argon2).hash, self._password)
        updated = await self._query(hashed).run(engine=engine)
        if not updated:
            raise AuthError(f"update_password(): no {self._table.__name__} {self._user!r}")
        if isinstance(self._user, self._table):
            self._user.__dict__["password"] = hashed


class BaseUser(Generic[KeyT]):
    """The functions of a user table (``auth: true``), Piccolo's ``BaseUser``.

    ``KeyT`` is the type of the table's primary key, which ``login()`` returns.
    Each function is a query (``await``, ``run()``, ``run_sync()``) and has a
    synchronous twin (``login_sync()``). Class attributes set the rules:
    ``argon2`` (the hash parameters; a change rehashes each password at its
    next login), ``min_password_length`` and ``max_password_length``.
    """

    #: The argon2id parameters of new hashes.
    argon2: ClassVar[Argon2Parameters] = OWASP_ARGON2
    #: OWASP's minimum length for a password without a second factor.
    min_password_length: ClassVar[int] = 8
    #: Longer passwords are refused (a login with one fails): hashing
    #: megabytes would let one request cost a server seconds.
    max_password_length: ClassVar[int] = 128

    @classmethod
    def _valid_password(cls, password: object) -> str:
        if not isinstance(password, str):
            raise AuthError(f"a password is a str; got {type(password).__name__}")
        if not cls.min_password_length <= len(password) <= cls.max_password_length:
            raise AuthError(
                f"a password has {cls.min_password_length} to {cls.max_password_length}"
                f" characters; got {len(password)}"
            )
        if password.startswith("$argon2"):
            # Most likely a hash passed where the password was meant.
            raise AuthError("a password may not look like an argon2 hash")
        return password

    @staticmethod
    def _valid_username(username: object) -> str:
        if not isinstance(username, str) or not username.strip():
            raise AuthError(f"a username is a non-empty str; got {username!r}")
        return username

    @classmethod
    def hash_password(cls, password: str) -> str:
        """``password``'s argon2id hash with the table's parameters (slow: about
        as long as a login)."""
        return _hasher(cls.argon2).hash(cls._valid_password(password))

    if not TYPE_CHECKING:
        # Declared for the checkers by each generated user table, with its
        # columns as typed keywords (a declaration here would have to return
        # CreateUser[Self], which no override returning CreateUser[User]
        # matches: a query's result type is invariant).

        @classmethod
        def create_user(cls, username, password, **columns):
            """Insert a user whose password is hashed; other columns as keywords.

            The result is the row. Raises ``AuthError`` for an empty username
            or a password outside the length limits, and ``UniqueViolation``
            for a username that is taken.
            """
            _columns(cls)
            password = cls._valid_password(password)
            row = cls(username=cls._valid_username(username), **columns)
            return CreateUser(row, password)

        @classmethod
        def create_user_sync(cls, username, password, **columns):
            """``create_user()`` from synchronous code."""
            return _sync.run_sync(cls.create_user(username, password, **columns).run())

    @classmethod
    def login(cls, username: str, password: str) -> Login[KeyT]:
        """The primary key of the user with this username and password, or ``None``
        (unknown user, wrong password, inactive user: the same time for each)."""
        return Login(cast("type[Table[Any]]", cls), username, password)

    @classmethod
    def login_sync(cls, username: str, password: str) -> KeyT | None:
        """``login()`` from synchronous code."""
        return _sync.run_sync(cls.login(username, password).run())

    @classmethod
    def update_password(cls, user: str | KeyT | Self, password: str) -> UpdatePassword:
        """Hash ``password`` and store it for ``user``: a username (a ``str``), a
        primary key or a row (whose ``password`` then holds the new hash)."""
        return UpdatePassword(cast("type[Table[Any]]", cls), user, cls._valid_password(password))

    @classmethod
    def update_password_sync(cls, user: str | KeyT | Self, password: str) -> None:
        """``update_password()`` from synchronous code."""
        _sync.run_sync(cls.update_password(user, password).run())
