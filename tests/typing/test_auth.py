"""Typing of user tables (``tests/typing/auth_app``, the build of
``tests/cases/auth_app``): the shipped ``auth.User`` that ``blog.yaml``
references, and ``club.Member``, an application's own user table keyed by a
uuid.

Read by mypy --strict and pyright, never run. Each query is asserted three
ways (``await q``, ``await q.run()``, ``q.run_sync()``) and against its sync
twin; each negative line carries an ignore for both checkers, which fail on
an ignore that silences nothing.
"""

from __future__ import annotations

import uuid
from typing import assert_type

from auth_app.auth import User, UserRow
from auth_app.blog import Post
from auth_app.club import Member

from runtime import BaseUser, CreateUser, Login, Password, UpdatePassword, Varchar


async def the_shipped_user_table() -> None:
    create = User.create_user("bob", "correct horse", email="bob@example.org", active=False)
    assert_type(create, CreateUser[User])
    assert_type(await create, User)
    assert_type(await create.run(), User)
    assert_type(create.run_sync(), User)
    assert_type(User.create_user_sync("bob", "correct horse", first_name="Bob"), User)

    login = User.login("bob", "correct horse")
    assert_type(login, Login[int])
    assert_type(await login, int | None)
    assert_type(await login.run(), int | None)
    assert_type(login.run_sync(), int | None)
    assert_type(User.login_sync("bob", "correct horse"), int | None)

    user = await create
    for change in (
        User.update_password("bob", "battery staple"),
        User.update_password(1, "battery staple"),
        User.update_password(user, "battery staple"),
    ):
        assert_type(change, UpdatePassword)
        assert_type(await change, None)
    assert_type(User.update_password_sync(user, "battery staple"), None)
    assert_type(User.hash_password("battery staple"), str)

    assert_type(User.password, Password[str])
    assert_type(user.password, str)
    assert_type(await User.select(), list[UserRow])
    assert_type(Post.author.username, Varchar[str])
    assert_type(Post.editor.username, Varchar[str | None])
    assert_type(await User.update(first_name="Robert").where(User.id == 1), None)


async def an_application_user_table() -> None:
    assert_type(await Member.login("ann@example.org", "correct horse"), uuid.UUID | None)
    assert_type(Member.login_sync("ann@example.org", "correct horse"), uuid.UUID | None)
    member = await Member.create_user("ann@example.org", "correct horse", nickname="Ann")
    assert_type(member, Member)
    assert_type(member.id, uuid.UUID)
    await Member.update_password(member.id, "battery staple")
    await Member.update_password(member, "battery staple")


def generic_over_user_tables(table: type[BaseUser[int]]) -> int | None:
    # A function for any user table keyed by int takes the shipped one.
    return table.login_sync("bob", "correct horse")


def negatives(user: User, member: Member) -> None:
    # The password is no keyword of update(): update_password() sets it.
    User.update(password="x")  # type: ignore[call-arg]  # pyright: ignore[reportCallIssue]
    # Columns of create_user are typed like the constructor's.
    User.create_user("bob", "pw", active="yes")  # type: ignore[arg-type]  # pyright: ignore[reportArgumentType]
    User.create_user("bob", "pw", nme="x")  # type: ignore[call-arg]  # pyright: ignore[reportCallIssue]
    User.create_user_sync("bob")  # type: ignore[call-arg]  # pyright: ignore[reportCallIssue]
    User.login("bob", 1)  # type: ignore[arg-type]  # pyright: ignore[reportArgumentType]
    # A Member is keyed by a uuid, not an int; a User is not a Member.
    Member.update_password(1, "battery staple")  # type: ignore[arg-type]  # pyright: ignore[reportArgumentType]
    Member.update_password(user, "battery staple")  # type: ignore[arg-type]  # pyright: ignore[reportArgumentType]
    generic_over_user_tables(Member)  # type: ignore[arg-type]  # pyright: ignore[reportArgumentType]
    # login() gives a key, not a row.
    key: User = User.login_sync("bob", "pw")  # type: ignore[assignment]  # pyright: ignore[reportAssignmentType]
    del key
