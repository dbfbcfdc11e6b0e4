"""Typing of the text pattern methods: text columns have them, other columns do not.

Read by mypy --strict and pyright, never run.
"""

from __future__ import annotations

from typing import assert_type

from generated.features import Nullables, Scalars
from generated.music import Band
from runtime import Condition, escape_like


def text_columns_match_patterns(user_text: str) -> None:
    assert_type(Band.name.like("The %"), Condition)
    assert_type(Band.name.ilike("%são%"), Condition)
    assert_type(Band.name.not_like("%x%"), Condition)
    assert_type(Band.name.not_ilike("%x%"), Condition)
    assert_type(Band.name.contains(user_text), Condition)
    assert_type(Band.name.icontains(user_text), Condition)
    assert_type(Band.name.startswith(user_text), Condition)
    assert_type(Band.name.istartswith(user_text), Condition)
    assert_type(Band.name.endswith(user_text), Condition)
    assert_type(Band.name.iendswith(user_text), Condition)
    assert_type(Band.manager.name.contains(user_text), Condition)
    assert_type(Scalars.v_char.startswith(user_text), Condition)
    assert_type(Nullables.v_text.icontains(user_text), Condition)
    assert_type(escape_like(user_text), str)


def other_columns_do_not() -> None:
    Band.popularity.contains("1")  # type: ignore[attr-defined]  # pyright: ignore[reportAttributeAccessIssue]
    Band.popularity.like("1%")  # type: ignore[attr-defined]  # pyright: ignore[reportAttributeAccessIssue]
    Scalars.v_ints.startswith("1")  # type: ignore[attr-defined]  # pyright: ignore[reportAttributeAccessIssue]
    Scalars.v_json.icontains("a")  # type: ignore[attr-defined]  # pyright: ignore[reportAttributeAccessIssue]
    Band.name.contains(1)  # type: ignore[arg-type]  # pyright: ignore[reportArgumentType]
