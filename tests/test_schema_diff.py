"""The differ: ``apply(old, diff(old, new).operations) == new``, on random states
and random edit sequences (tests/schema_edits.py), and the inverses back.

``PICCOLO_GEN_DIFF_CASES`` (default 200) and ``PICCOLO_GEN_DIFF_SEED``
(default 0) run more cases, or other ones.
"""

from __future__ import annotations

import os
import random
from dataclasses import replace

import pytest

from runtime.schema.diff import diff
from runtime.schema.operations import (
    AddColumn,
    AddIndex,
    AlterColumn,
    CreateTable,
    DropColumn,
    DropIndex,
    DropTable,
    DropView,
    Operation,
    RenameColumn,
    RenameTable,
)
from runtime.schema.state import (
    Column,
    ForeignKey,
    Index,
    Schema,
    SchemaStateError,
    Table,
    Type,
)
from tests.schema_edits import random_edits, random_schema

CASES = int(os.environ.get("PICCOLO_GEN_DIFF_CASES", "200"))
SEED = int(os.environ.get("PICCOLO_GEN_DIFF_SEED", "0"))


def apply(schema: Schema, operations: list[Operation]) -> Schema:
    for operation in operations:
        schema = operation.apply(schema)
    return schema


def undo(schema: Schema, operations: list[Operation]) -> Schema:
    """``schema`` (the state after ``operations``) with their inverses applied."""
    befores = []
    state = schema
    for operation in operations:
        befores.append(state)
        state = operation.apply(state)
    for operation, before in zip(reversed(operations), reversed(befores), strict=True):
        state = operation.inverse(before).apply(state)
    return state


@pytest.mark.parametrize("case", range(CASES))
def test_random_edits(case: int) -> None:
    rng = random.Random(SEED * 1_000_003 + case)
    old = random_schema(rng)
    new, steps = random_edits(rng, old)
    result = diff(old, new)
    context = f"seed {SEED} case {case}: {steps}"
    assert apply(old, result.operations) == new, context
    _check_order(old, result.operations, context)
    # Each operation undone, in reverse order, on the state it led to.
    assert undo(old, result.operations) == old, context
    assert not diff(old, old) and diff(old, old).hints == []
    assert not diff(new, new) and diff(new, new).hints == [], context
    # The way back is a diff too (the hints of ``new`` name nothing in ``old``'s terms).
    back = diff(new, _without_hints(old))
    assert apply(new, back.operations) == old, context


def _check_order(old: Schema, operations: list[Operation], context: str) -> None:
    """What ``apply`` does not enforce: renames come first (after the views
    that are dropped, before anything they read changes), and no column is
    dropped with an index or constraint still over it."""
    views = [isinstance(op, DropView) for op in operations]
    assert views == sorted(views, reverse=True), context
    kinds = [
        isinstance(op, (RenameTable, RenameColumn))
        for op in operations
        if not isinstance(op, DropView)
    ]
    assert kinds == sorted(kinds, reverse=True), context
    state = old
    for operation in operations:
        if isinstance(operation, DropColumn):
            table = state.table(operation.table)
            over = [i.name for i in table.indexes if operation.name in i.columns]
            over += [u.name for u in table.unique if operation.name in u.columns]
            assert not over, context
        state = operation.apply(state)


def _without_hints(schema: Schema) -> Schema:
    return Schema(
        tuple(
            replace(
                t,
                renamed_from=None,
                columns=tuple(replace(c, renamed_from=None) for c in t.columns),
            )
            for t in schema
        )
    )


# -- examples ----------------------------------------------------------------------

ID = Column("id", Type("Serial"), primary_key=True)


def band(*columns: Column, name: str = "band", **options: object) -> Table:
    return Table(name, (ID, *columns), **options)  # type: ignore[arg-type]


TITLE = Column("title", Type("Varchar", length=50), default="")


def test_a_declared_column_rename_is_a_rename_and_later_operations_use_the_new_name() -> None:
    old = Schema((band(TITLE),))
    renamed = Column("name", Type("Varchar", length=100), default="", renamed_from="title")
    new = Schema((band(renamed),))
    assert diff(old, new).operations == [
        RenameColumn("band", "title", "name"),
        AlterColumn("band", "name", type=Type("Varchar", length=100)),
    ]


def test_a_table_rename_renames_and_retargets_foreign_keys() -> None:
    ref = Column("band", Type("Integer"), references=ForeignKey("band"))
    old = Schema((band(TITLE), Table("album", (ID, ref))))
    moved = Column("band", Type("Integer"), references=ForeignKey("group"))
    new = Schema((band(TITLE, name="group", renamed_from="band"), Table("album", (ID, moved))))
    assert diff(old, new).operations == [RenameTable("band", "group")]


def test_a_drop_and_an_add_of_the_same_type_is_written_as_such_and_flagged() -> None:
    old = Schema((band(TITLE),))
    new = Schema((band(Column("name", Type("Varchar", length=50), default="")),))
    result = diff(old, new)
    assert result.operations == [
        AddColumn("band", Column("name", Type("Varchar", length=50), default="")),
        DropColumn("band", "title"),
    ]
    assert result.hints == [
        "band.title dropped and band.name added with the same type: if this is a rename, "
        "add `renamed_from: title` to the column"
    ]


def test_a_dropped_and_an_added_table_with_the_same_columns_are_flagged() -> None:
    result = diff(Schema((band(TITLE),)), Schema((band(TITLE, name="group"),)))
    assert result.operations == [CreateTable(band(TITLE, name="group")), DropTable("band")]
    assert result.hints == [
        "table band dropped and table group added with the same columns: if this is a "
        "rename, add `renamed_from: band` to the table"
    ]


def test_a_hint_naming_nothing_is_an_error() -> None:
    old = Schema((band(TITLE),))
    new = Schema((band(Column("name", Type("Text"), default="", renamed_from="titel")),))
    with pytest.raises(
        SchemaStateError,
        match="column band.name is renamed from 'titel', but the previous state has no column band.titel",
    ):
        diff(old, new)
    with pytest.raises(SchemaStateError, match="table group is renamed from 'bnad'"):
        diff(old, Schema((band(TITLE, name="group", renamed_from="bnad"),)))
    with pytest.raises(SchemaStateError, match="but table album is new"):
        diff(
            old,
            Schema(
                (
                    band(TITLE),
                    band(Column("x", Type("Text"), default="", renamed_from="y"), name="album"),
                )
            ),
        )
    twice = Schema(
        (band(TITLE, name="a", renamed_from="band"), band(TITLE, name="b", renamed_from="band"))
    )
    with pytest.raises(
        SchemaStateError, match="table a and table b are both renamed from table band"
    ):
        diff(old, twice)


def test_a_hint_carried_out_by_an_earlier_migration_is_ignored() -> None:
    state = Schema(
        (
            band(
                Column("name", Type("Text"), default="", renamed_from="title"), renamed_from="group"
            ),
        )
    )
    assert not diff(state, state)
    plain = Schema((band(Column("name", Type("Text"), default="")),))
    assert diff(plain, state).operations == []


def test_an_alter_carries_exactly_the_changed_fields() -> None:
    old = Schema((band(Column("rating", Type("Integer"), default=0, index=True)),))
    new = Schema((band(Column("rating", Type("BigInt"), null=True, default=0, index=True)),))
    (operation,) = diff(old, new).operations
    assert isinstance(operation, AlterColumn)
    assert operation.changes() == {"type": Type("BigInt"), "null": True}
    # A default of 1 is not a default of True (1 == True in Python).
    flag_old = Schema((band(Column("flag", Type("Integer"), default=1)),))
    flag_new = Schema((band(Column("flag", Type("Integer"), default=True)),))
    assert diff(flag_old, flag_new).operations == [AlterColumn("band", "flag", default=True)]


def test_a_changed_index_is_dropped_and_added_and_indexes_go_before_their_columns() -> None:
    a = Column("a", Type("Integer"), default=0)
    b = Column("b", Type("Integer"), default=0)
    old = Schema((band(a, b, indexes=(Index("band_ab", ("a", "b")), Index("band_b", ("b",)))),))
    new = Schema((band(a, indexes=(Index("band_ab", ("a",), unique=True),)),))
    assert diff(old, new).operations == [
        DropIndex("band", "band_ab"),
        DropIndex("band", "band_b"),
        DropColumn("band", "b"),
        AddIndex("band", Index("band_ab", ("a",), unique=True)),
    ]


def test_tables_are_created_after_and_dropped_before_what_they_reference() -> None:
    ref = Column("band", Type("Integer"), references=ForeignKey("band"))
    pair = Schema((band(TITLE), Table("album", (ID, ref))))
    created = diff(Schema(), Schema(tuple(reversed(pair.tables)))).operations
    assert [op.table.name for op in created if isinstance(op, CreateTable)] == ["band", "album"]
    assert diff(pair, Schema()).operations == [DropTable("album"), DropTable("band")]


def test_a_cycle_of_new_foreign_keys_is_closed_after_the_tables_exist() -> None:
    a = Table("a", (ID, Column("b", Type("Integer"), null=True, references=ForeignKey("b"))))
    b = Table("b", (ID, Column("a", Type("Integer"), null=True, references=ForeignKey("a"))))
    new = Schema((a, b))
    operations = diff(Schema(), new).operations
    assert apply(Schema(), operations) == new
    assert [type(op) for op in operations] == [CreateTable, CreateTable, AlterColumn]
    assert operations[-1] == AlterColumn("b", "a", references=ForeignKey("a"))
    assert undo(Schema(), operations) == Schema()
    assert diff(new, Schema()).operations[0] == AlterColumn("a", "b", references=None)


def test_a_rename_onto_the_name_of_a_dropped_column_moves_that_one_aside() -> None:
    old = Schema((band(TITLE, Column("name", Type("Integer"), default=0)),))
    new = Schema(
        (band(Column("name", Type("Varchar", length=50), default="", renamed_from="title")),)
    )
    operations = diff(old, new).operations
    assert operations == [
        RenameColumn("band", "name", "name_old"),
        RenameColumn("band", "title", "name"),
        DropColumn("band", "name_old"),
    ]


def test_column_and_table_order_are_not_differences() -> None:
    a = Column("a", Type("Integer"), default=0)
    b = Column("b", Type("Integer"), default=0)
    old = Schema((band(a, b), Table("x", (ID,))))
    new = Schema((Table("x", (ID,)), Table("band", (b, ID, a))))
    assert old == new and not diff(old, new)


def test_a_changed_primary_key_is_refused() -> None:
    old = Schema((band(TITLE),))
    code = Column("code", Type("Varchar", length=5), primary_key=True)
    with pytest.raises(
        SchemaStateError, match="primary key of table 'band' changes from 'id' to 'code'"
    ):
        diff(old, Schema((Table("band", (code, TITLE)),)))


@pytest.fixture(scope="module")
def project_state() -> Schema:
    from pathlib import Path

    from generator.state import schema_state

    state = schema_state([Path(__file__).resolve().parents[1] / "schema"])
    assert isinstance(state, Schema), state
    return state


@pytest.mark.parametrize("case", range(max(CASES // 4, 1)))
def test_random_edits_of_the_project_schemas(case: int, project_state: Schema) -> None:
    """Edits of every column type the language has (arrays, JSON, uuid and
    text keys, foreign keys to them), not only those ``random_schema`` makes."""
    rng = random.Random(SEED * 1_000_003 + case)
    new, steps = random_edits(rng, project_state, steps=rng.randint(1, 12))
    result = diff(project_state, new)
    assert apply(project_state, result.operations) == new, steps
    _check_order(project_state, result.operations, str(steps))
    assert undo(project_state, result.operations) == project_state, steps
    assert not diff(new, new)
