"""Long table and column names: derived index and constraint names fit.

PostgreSQL keeps 63 bytes of a name and truncates the rest, so two derived
names that differ only later would collide (``create_tables`` failed with
"relation already exists"). ``runtime._naming`` shortens such a name to a
prefix, a hash of the full name and the kind suffix; names that fit stay as
they were (the tests in test_ddl.py pin some). The tables here have 60- to
63-byte names, ASCII and multi-byte, whose index, unique, foreign and
primary key names all share their first 63 bytes.
"""

from __future__ import annotations

import hashlib
import random
import re
import textwrap
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from generator.build import load_schemas
from runtime import (
    ForeignKey,
    Index,
    Integer,
    IntegrityError,
    Table,
    UniqueViolation,
    create_tables,
    drop_tables,
    use_engine,
)
from runtime._engine import Engine
from runtime._naming import (
    derived_name,
    fits,
    foreign_key_name,
    index_name,
    primary_key_name,
    unique_name,
)

PARENT_A = "p" * 58 + "_aaaa"  # 63 bytes: "<table>_pkey" does not fit
PARENT_B = "p" * 58 + "_bbbb"
CHILD = "long_child_" + "c" * 49  # 60 bytes
A, B = "x" * 55 + "_first", "x" * 55 + "_other"
U1, U2 = "u" * 55 + "_first", "u" * 55 + "_other"
F1, F2 = "f" * 55 + "_first", "f" * 55 + "_other"
ADDED = "z" * 57 + "_added"  # 63 bytes
# 63 bytes in 34 characters; the columns' names are 2 bytes a character too.
MULTI = "tâble_" + "é" * 28
M1, M2 = "ñ" * 25 + "_un", "ñ" * 25 + "_deux"


class ParentA(Table[dict[str, Any]], tablename=PARENT_A):
    code = Integer(default=0)


class ParentB(Table[dict[str, Any]], tablename=PARENT_B):
    code = Integer(default=0)


class Child(
    Table[dict[str, Any]],
    tablename=CHILD,
    indexes=(Index("a", "u1"), Index("b", "u2"), Index("a", "b", unique=True)),
    unique=(("a", "f1"), ("b", "f2")),
):
    a = Integer(index=True, db_column_name=A)
    b = Integer(index=True, db_column_name=B)
    u1 = Integer(unique=True, null=True, db_column_name=U1)
    u2 = Integer(unique=True, null=True, db_column_name=U2)
    f1 = ForeignKey(lambda: ParentA, null=True, db_column_name=F1)
    f2 = ForeignKey(lambda: ParentB, null=True, db_column_name=F2)


class Multi(Table[dict[str, Any]], tablename=MULTI, indexes=(Index("m1", "m2"),)):
    m1 = Integer(index=True, unique=True, null=True, db_column_name=M1)
    m2 = Integer(index=True, unique=True, null=True, db_column_name=M2)


TABLES = (ParentA, ParentB, Child, Multi)

#: Index names (CREATE INDEX) per table.
INDEXES = {
    CHILD: {
        index_name(CHILD, [A]),
        index_name(CHILD, [B]),
        index_name(CHILD, [A, U1]),
        index_name(CHILD, [B, U2]),
        index_name(CHILD, [A, B]),
    },
    MULTI: {index_name(MULTI, [M1]), index_name(MULTI, [M2]), index_name(MULTI, [M1, M2])},
}
#: Constraint names and kinds (pg_constraint.contype) per table.
CONSTRAINTS = {
    CHILD: {
        (primary_key_name(CHILD), "p"),
        (unique_name(CHILD, [U1]), "u"),
        (unique_name(CHILD, [U2]), "u"),
        (unique_name(CHILD, [A, F1]), "u"),
        (unique_name(CHILD, [B, F2]), "u"),
        (foreign_key_name(CHILD, F1), "f"),
        (foreign_key_name(CHILD, F2), "f"),
    },
    MULTI: {
        (primary_key_name(MULTI), "p"),
        (unique_name(MULTI, [M1]), "u"),
        (unique_name(MULTI, [M2]), "u"),
    },
    PARENT_A: {(primary_key_name(PARENT_A), "p")},
    PARENT_B: {(primary_key_name(PARENT_B), "p")},
}


def test_the_derived_names_fit_differ_and_keep_a_readable_prefix() -> None:
    names = [n for group in INDEXES.values() for n in group]
    names += [n for group in CONSTRAINTS.values() for n, _ in group]
    assert len(set(names)) == len(names)
    for name in names:
        assert fits(name)
        assert name.startswith((CHILD[:40], MULTI[:20], "p" * 40))
    # Without the rule, the names would collide at 63 bytes.
    assert (CHILD + "_" + A)[:63] == (CHILD + "_" + B)[:63]
    full = f"{CHILD}_{A}_{U1}_key"
    digest = hashlib.sha256(full.encode()).hexdigest()[:8]
    assert derived_name(CHILD, A, U1, suffix="key") == f"{full[:50]}_{digest}_key"
    assert len(derived_name(CHILD, A, U1, suffix="key")) == 63
    # Multi-byte: cut at a character boundary, so PostgreSQL keeps it whole.
    # (54 bytes are left for the prefix; the 54th is inside an "é".)
    mixed = index_name(MULTI, [M1])
    assert MULTI.startswith(mixed[:-9])
    assert len(mixed.encode()) == 62
    # Names that fit are not touched.
    assert unique_name("band", ["name"]) == "band_name_key"
    assert index_name("t" * 30, ["c" * 32]) == "t" * 30 + "_" + "c" * 32


def test_the_naming_rule_on_random_names() -> None:
    """Seeded: names of 1 to 70 characters from ASCII and 2-, 3- and 4-byte
    UTF-8 characters, as table and column parts of every kind of name."""
    rng = random.Random(20)
    alphabet = "abcxyz_0" + "éñ" + "中文" + "😀"
    seen: dict[str, tuple[str, ...]] = {}
    for _ in range(300):
        parts = tuple(
            "".join(rng.choice(alphabet) for _ in range(rng.randint(1, 70)))
            for _ in range(rng.randint(1, 3))
        )
        suffix = rng.choice(["", "key", "fkey", "pkey"])
        name = derived_name(*parts, suffix=suffix)
        full = "_".join([*parts, suffix] if suffix else parts)
        assert fits(name)
        assert name == derived_name(*parts, suffix=suffix)  # deterministic
        if fits(full):
            assert name == full
        else:
            # A prefix of the full name (whole characters), its hash, the suffix.
            tail = f"_{suffix}" if suffix else ""
            assert name.endswith(tail)
            core = name[: len(name) - len(tail)]
            assert core[-9] == "_"
            assert core[-8:] == hashlib.sha256(full.encode()).hexdigest()[:8]
            assert full.startswith(core[:-9])
        assert seen.setdefault(name, (*parts, suffix)) == (*parts, suffix)


@pytest.fixture
async def tables(engine: Engine) -> AsyncIterator[Engine]:
    use_engine(engine, *TABLES)
    await drop_tables(*TABLES, if_exists=True)
    await create_tables(*TABLES)
    try:
        yield engine
    finally:
        await drop_tables(*TABLES, if_exists=True)
        use_engine(None, *TABLES)


async def index_names(engine: Engine, table: str) -> set[str]:
    """The names of the indexes made with CREATE INDEX."""
    if engine.dialect.name == "sqlite":
        rows = await engine.fetch(
            "SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = ?"
            " AND sql IS NOT NULL",
            [table],
        )
        return {row[0] for row in rows}
    rows = await engine.fetch(
        "SELECT i.indexname FROM pg_indexes i WHERE i.tablename = $1 AND NOT EXISTS"
        " (SELECT 1 FROM pg_constraint c WHERE c.conname = i.indexname)",
        [table],
    )
    return {row[0] for row in rows}


def violation(engine: Engine, name: str, sqlite_text: str) -> str:
    """The pattern of the message of a violated constraint ``name``."""
    return re.escape(f'"{name}"' if engine.dialect.name == "postgres" else sqlite_text)


async def constraints(engine: Engine, table: str) -> set[tuple[str, str]]:
    rows = await engine.fetch(
        "SELECT c.conname, c.contype::text FROM pg_constraint c"
        " JOIN pg_class r ON r.oid = c.conrelid WHERE r.relname = $1",
        [table],
    )
    return {(row[0], row[1]) for row in rows}


async def test_create_tables_gives_the_derived_names(tables: Engine) -> None:
    for table, expected in INDEXES.items():
        assert await index_names(tables, table) == expected
    if tables.dialect.name == "postgres":
        for table, named in CONSTRAINTS.items():
            assert await constraints(tables, table) == named
    # The constraints work, under those names (PostgreSQL's messages name
    # them; SQLite's name the columns).
    north = await ParentA.insert(ParentA(code=1))
    await Child.insert(Child(a=1, b=1, u1=1, f1=north[0]))
    for wrong, name, columns in (
        (Child(a=1, b=1), index_name(CHILD, [A, B]), f"{A}, {CHILD}.{B}"),
        (Child(a=2, b=2, u1=1), unique_name(CHILD, [U1]), U1),
        (Child(a=3, b=3, f1=99), foreign_key_name(CHILD, F1), "FOREIGN KEY"),
    ):
        with pytest.raises(IntegrityError, match=violation(tables, name, columns)) as raised:
            await Child.insert(wrong)
        if tables.dialect.name == "postgres":
            assert raised.value.constraint == name
    await Multi.insert(Multi(m1=1, m2=1))
    with pytest.raises(UniqueViolation, match=violation(tables, unique_name(MULTI, [M1]), M1)):
        await Multi.insert(Multi(m1=1, m2=2))


async def test_alter_adds_and_drops_indexes_and_constraints_on_long_names(
    tables: Engine,
) -> None:
    before = await index_names(tables, CHILD)
    await Child.alter().add_column(ADDED, Integer(index=True, default=0))
    assert await index_names(tables, CHILD) == before | {index_name(CHILD, [ADDED])}
    await Child.alter().set_unique(ADDED)
    if tables.dialect.name == "postgres":
        assert (unique_name(CHILD, [ADDED]), "u") in await constraints(tables, CHILD)
    await Child.insert(Child(a=1, b=1))
    with pytest.raises(
        UniqueViolation, match=violation(tables, unique_name(CHILD, [ADDED]), ADDED)
    ):
        await Child.insert(Child(a=2, b=2))  # the added column is 0 again
    await Child.alter().set_unique(ADDED, False)
    if tables.dialect.name == "postgres":
        assert await constraints(tables, CHILD) == CONSTRAINTS[CHILD]
    await Child.insert(Child(a=2, b=2))
    # An indexed column: a table rebuild on SQLite, which keeps the others.
    await Child.alter().drop_column(ADDED)
    assert await index_names(tables, CHILD) == before
    await Child.alter().set_unique(Child.a)
    if tables.dialect.name == "postgres":
        assert (unique_name(CHILD, [A]), "u") in await constraints(tables, CHILD)
    assert await index_names(tables, CHILD) == before


def test_index_names_over_63_bytes_are_refused() -> None:
    with pytest.raises(ValueError, match="64 bytes long"):
        Index("a", name="i" * 64)
    with pytest.raises(ValueError, match="64 bytes long"):
        Index("a", name="é" * 32)
    Index("a", name="é" * 31 + "i")


# -- the generator checks the derived names -----------------------------------------

LONG_TABLE = "long_" + "t" * 55
COL_1, COL_2 = "c" * 54 + "_first", "c" * 54 + "_other"


def _errors(tmp_path: Path, indexes: str) -> list[str]:
    schema = tmp_path / "long.yaml"
    schema.write_text(
        textwrap.dedent(f"""\
            tables:
              LongTable:
                tablename: {LONG_TABLE}
                columns:
                  {COL_1}: {{type: integer, index: true}}
                  {COL_2}: {{type: integer, index: true}}
                indexes:
            """) + textwrap.indent(textwrap.dedent(indexes), "      "),
        encoding="utf-8",
    )
    _, errors = load_schemas([schema])
    return [str(error) for error in errors]


def test_generator_accepts_long_names_that_truncate_alike(tmp_path: Path) -> None:
    # All four default names share their first 63 bytes.
    assert (
        _errors(tmp_path, f"- {{columns: [{COL_1}, {COL_2}]}}\n- {{columns: [{COL_2}, {COL_1}]}}\n")
        == []
    )


def test_generator_compares_the_derived_names(tmp_path: Path) -> None:
    # An index named like the derived name of a column's index clashes with it.
    taken = index_name(LONG_TABLE, [COL_1])
    errors = _errors(tmp_path, f"- {{columns: [{COL_2}, {COL_1}], name: {taken}}}\n")
    assert len(errors) == 1
    assert f"index name {taken!r} is already used by the index of column {COL_1!r}" in errors[0]
    other = index_name(LONG_TABLE, [COL_1, COL_2])
    errors = _errors(
        tmp_path, f"- {{columns: [{COL_1}, {COL_2}]}}\n- {{columns: [{COL_2}], name: {other}}}\n"
    )
    assert len(errors) == 1
    assert f"index name {other!r} is already used by indexes[0]" in errors[0]
