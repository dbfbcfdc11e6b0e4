"""Migration files without a database: loading, the chain checks, replay,
lint, and the files ``new`` writes (formatted, and passing mypy --strict)."""

from __future__ import annotations

import datetime
import decimal
import subprocess
import sys
import uuid
from pathlib import Path

import pytest

from generator.migration_writer import render_empty, render_migration, write_atomically
from runtime.migrations import (
    AddColumn,
    AddIndex,
    AddUnique,
    AlterColumn,
    Column,
    CreateTable,
    DateNow,
    DropColumn,
    DropTable,
    ForeignKey,
    Index,
    Migration,
    MigrationError,
    Operation,
    RenameColumn,
    RunSQL,
    Schema,
    Table,
    TimestampNow,
    Type,
    Unique,
)
from runtime.migrations.files import checksum, load_file, load_folder
from runtime.migrations.lint import Finding, lint, lint_migration, unacknowledged

BAND = Table(
    "band",
    columns=(
        Column("id", Type("Serial"), primary_key=True),
        Column("name", Type("Varchar", length=50), default=""),
        Column("popularity", Type("Integer"), default=0),
    ),
)
GENRE = Table(
    "genre",
    columns=(
        Column("id", Type("Serial"), primary_key=True),
        Column(
            "band", Type("Integer"), references=ForeignKey("band", on_delete="set_null"), null=True
        ),
        Column("label", Type("Text"), null=True, default="x"),
        Column("founded", Type("Date"), default=DateNow()),
        Column("at", Type("Timestamp"), null=True, default=datetime.datetime(2020, 1, 2, 3, 4)),
        Column("price", Type("Numeric", digits=(5, 2)), default=decimal.Decimal("1.50")),
        Column("uid", Type("UUID"), null=True, default=uuid.UUID(int=7)),
        Column("took", Type("Interval"), null=True, default=datetime.timedelta(days=1)),
        Column("tags", Type("Array", element=Type("Varchar", length=10)), default=[]),
        Column("meta", Type("JSON"), default={"a": [1, 2]}),
        Column("blob", Type("Bytea"), null=True, default=b"\x00"),
    ),
    indexes=(Index("genre_label_band", ("label", "band"), unique=True),),
    unique=(Unique("genre_label_founded_key", ("label", "founded")),),
)


def write(folder: Path, migration_id: str, parent: str | None, ops: str, **extra: str) -> Path:
    args = "".join(f"    {k}={v},\n" for k, v in extra.items())
    path = folder / f"{migration_id}.py"
    path.write_text(
        "from runtime.migrations import *  # noqa: F403\n"
        f"migration = Migration(id={migration_id!r}, parent={parent!r},\n"
        f"    operations=[{ops}],\n{args})\n",
        encoding="utf-8",
    )
    return path


# -- loading and the chain ----------------------------------------------------------


def test_loading_a_chain_replays_to_the_state(tmp_path: Path) -> None:
    write(tmp_path, "0001_initial", None, f"CreateTable({BAND!r})")
    write(tmp_path, "0002_rename", "0001_initial", "RenameColumn('band', 'name', 'title')")
    migrations = load_folder(tmp_path)
    assert migrations.ids() == ["0001_initial", "0002_rename"]
    expected = RenameColumn("band", "name", "title").apply(Schema((BAND,)))
    assert migrations.state() == expected
    assert migrations.states()[1] == Schema((BAND,))
    first = migrations.get("0001")
    assert first.checksum == checksum(tmp_path / "0001_initial.py")
    assert first.checksum == checksum(tmp_path / "0001_initial.py")
    assert migrations.get("2").id == "0002_rename"
    assert "_piccolo_gen_migration_0001_initial" not in sys.modules


def test_an_absent_folder_has_no_migrations(tmp_path: Path) -> None:
    assert len(load_folder(tmp_path / "nowhere")) == 0


@pytest.mark.parametrize(
    ("name", "text", "message"),
    [
        ("0001_a.py", "migration = (", "0001_a.py:1:"),
        ("0001_a.py", "x = 1\n", "has nothing"),
        ("0001_a.py", "migration = 3\n", "it has int"),
        ("0001_a.py", "raise RuntimeError('boom')\n", "RuntimeError: boom"),
        (
            "0001_a.py",
            "from runtime.migrations import Migration\n"
            "migration = Migration(id='0001_b', parent=None)\n",
            "the id must be the file's name ('0001_a')",
        ),
        (
            "0001_a.py",
            "from runtime.migrations import Migration\n"
            "migration = Migration(id='0001_a', parent=None, operations=[1])\n",
            "1 is not an operation",
        ),
        ("add_tags.py", "", "not a migration file name"),
    ],
)
def test_a_malformed_file_is_an_error_naming_it(
    tmp_path: Path, name: str, text: str, message: str
) -> None:
    (tmp_path / name).write_text(text, encoding="utf-8")
    with pytest.raises(MigrationError) as raised:
        load_folder(tmp_path)
    assert name in str(raised.value)
    assert message in str(raised.value)


def test_two_files_with_one_parent_are_an_error(tmp_path: Path) -> None:
    write(tmp_path, "0001_initial", None, f"CreateTable({BAND!r})")
    write(tmp_path, "0002_a", "0001_initial", "")
    write(tmp_path, "0003_b", "0001_initial", "")
    with pytest.raises(MigrationError, match="2 migrations have the parent 0001_initial") as raised:
        load_folder(tmp_path)
    assert "0002_a.py" in str(raised.value) and "0003_b.py" in str(raised.value)


def test_two_files_with_one_number_are_an_error(tmp_path: Path) -> None:
    write(tmp_path, "0001_initial", None, "")
    write(tmp_path, "0002_a", "0001_initial", "")
    write(tmp_path, "0002_b", "0002_a", "")
    with pytest.raises(MigrationError, match="2 migrations are numbered 0002"):
        load_folder(tmp_path)


@pytest.mark.parametrize(
    ("parents", "message"),
    [
        (("0009_x", "0001_initial"), "it is the first migration, but its parent is '0009_x'"),
        ((None, "0009_x"), "its parent is '0009_x', but the migration before it is '0001_initial'"),
    ],
)
def test_a_broken_chain_is_an_error(
    tmp_path: Path, parents: tuple[str | None, str], message: str
) -> None:
    write(tmp_path, "0001_initial", parents[0], "")
    write(tmp_path, "0002_a", parents[1], "")
    with pytest.raises(MigrationError, match=message.replace("(", r"\(")):
        load_folder(tmp_path)


def test_operations_that_do_not_replay_name_file_and_operation(tmp_path: Path) -> None:
    write(tmp_path, "0001_initial", None, f"CreateTable({BAND!r})")
    write(tmp_path, "0002_a", "0001_initial", "DropColumn('band', 'nope')")
    with pytest.raises(MigrationError) as raised:
        load_folder(tmp_path)
    text = str(raised.value)
    assert "0002_a.py" in text and "drop column band.nope" in text and "no column 'nope'" in text


def test_migration_refuses_a_bad_id() -> None:
    with pytest.raises(MigrationError, match="not of the form NNNN_slug"):
        Migration(id="initial", parent=None)
    with pytest.raises(MigrationError, match="acknowledged must be a tuple"):
        Migration(id="0001_a", parent=None, acknowledged="drop-table band")


# -- lint -----------------------------------------------------------------------------


def keys(findings: list[Finding]) -> list[str]:
    return [f"{f.kind} {f.key}" for f in findings]


def test_lint_findings() -> None:
    before = Schema((BAND,))
    ops = [
        DropColumn("band", "popularity"),
        AlterColumn("band", "name", type=Type("Varchar", length=20)),
        AddColumn("band", Column("rating", Type("Integer"))),
        AddColumn("band", Column("code", Type("Integer"), null=True, unique=True)),
        AddIndex("band", Index("band_name", ("name",))),
        AddUnique("band", Unique("band_name_key", ("name",))),
        CreateTable(Table("tour", (Column("id", Type("Serial"), primary_key=True),))),
        AddColumn("tour", Column("stops", Type("Integer"))),  # a new table is empty
        AlterColumn("band", "rating", type=Type("BigInt")),  # widens, but rewrites on PG
        DropTable("tour"),
        RunSQL("UPDATE band SET name = 'x'"),
    ]
    assert keys(lint(ops, before)) == [
        "destructive drop-column band.popularity",
        "destructive narrow-type band.name",
        "locking table-rewrite band.name",
        "data not-null band.rating",
        "data unique band.code",
        "locking index-lock band.code",
        "locking index-lock band.band_name",
        "data unique band.band_name_key",
        "locking index-lock band.band_name_key",
        "locking table-rewrite band.rating",
        "destructive drop-table tour",
        "irreversible no-backwards run SQL UPDATE band SET name = 'x'",
    ]
    drop = lint(ops[:1], before)[0]
    assert "cannot bring the data back" in drop.message


def test_lint_widening_is_not_destructive_and_concurrently_does_not_lock() -> None:
    before = Schema((BAND,))
    ops = [
        AlterColumn("band", "name", type=Type("Varchar", length=80)),
        AlterColumn("band", "popularity", type=Type("BigInt")),
        AddIndex("band", Index("band_name", ("name",)), concurrently=True),
        AlterColumn("band", "name", type=Type("Text")),
    ]
    assert keys(lint(ops, before)) == ["locking table-rewrite band.popularity"]


def test_unacknowledged_destructive_findings() -> None:
    before = Schema((BAND,))
    ops = [DropColumn("band", "popularity"), DropColumn("band", "name")]
    migration = Migration(
        id="0002_a", parent="0001_a", operations=ops, acknowledged=("drop-column band.name",)
    )
    findings = lint_migration(migration, before)
    assert [f.key for f in unacknowledged(migration, findings)] == ["drop-column band.popularity"]


# -- the files `new` writes -------------------------------------------------------


def test_written_files_load_replay_and_pass_mypy_strict(tmp_path: Path) -> None:
    first = [CreateTable(BAND), CreateTable(GENRE)]
    second = [
        DropColumn("band", "popularity"),
        AlterColumn("genre", "label", type=Type("Varchar", length=20), null=False, default="y"),
        AddColumn("band", Column("at", Type("Timestamp"), default=TimestampNow())),
        RenameColumn("genre", "label", "title"),
    ]
    write_atomically(
        tmp_path / "0001_initial.py",
        render_migration("0001_initial", None, first, findings=lint(first, Schema())),
    )
    state = Schema((BAND, GENRE))
    findings = lint(second, state)
    write_atomically(
        tmp_path / "0002_more.py",
        render_migration("0002_more", "0001_initial", second, findings=findings, hints=["a hint"]),
    )
    write_atomically(tmp_path / "0003_data.py", render_empty("0003_data", "0002_more"))
    migrations = load_folder(tmp_path)
    after = state
    for op in second:
        after = op.apply(after)
    assert migrations.state() == after
    assert list(migrations.get("0001").operations) == first
    assert list(migrations.get("0002").operations) == second
    text = (tmp_path / "0002_more.py").read_text(encoding="utf-8")
    assert "# Lint" in text and "destructive drop-column band.popularity" in text
    assert "acknowledged=('drop-column band.popularity'" in text
    assert "# Hints:\n#   a hint" in text
    assert "RunPython(split_name, join_name)" in (tmp_path / "0003_data.py").read_text()
    result = subprocess.run(
        [sys.executable, "-m", "mypy", "--strict", "--no-incremental", str(tmp_path)],
        capture_output=True,
        text=True,
        cwd=Path(__file__).resolve().parent.parent,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_load_file_sets_path_and_checksum(tmp_path: Path) -> None:
    path = write(tmp_path, "0001_initial", None, "")
    migration = load_file(path)
    assert migration.path == str(path)
    assert migration.checksum == checksum(path)


def test_large_files_are_laid_out_as_black_lays_out_the_whole_file(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import random

    from generator import migration_writer
    from runtime.schema.diff import diff
    from tests.schema_edits import random_edits, random_schema

    operations: list[Operation] = [CreateTable(BAND), CreateTable(GENRE)]
    for case in range(40):
        rng = random.Random(case)
        old = random_schema(rng)
        new, _ = random_edits(rng, old)
        # The text is what matters here, not whether the list replays.
        operations += diff(Schema(), old).operations + diff(old, new).operations
    findings = lint(operations[:2], Schema())
    laid_out: list[bool] = []
    original = migration_writer._format_large

    def recording(source: str, ops: list[Operation]) -> str | None:
        result = original(source, ops)
        laid_out.append(result is not None)
        return result

    monkeypatch.setattr(migration_writer, "_format_large", recording)
    fast = render_migration("0001_big", None, operations, findings=findings, fast=True)
    whole = render_migration("0001_big", None, operations, findings=findings, fast=False)
    assert laid_out == [True]  # the fast path was taken, and gave black's layout
    assert fast == whole
    assert len(whole) > 20_000


def test_names_masked_for_layout_come_back_as_black_lays_them_out(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The fast path formats each shape of element once, with its plain names
    masked by strings of their length: names of every length around the
    line-length boundaries, and strings it must not mask (quotes,
    backslashes, spaces, non-ASCII), give black's layout of the whole file."""
    import black

    from generator import migration_writer

    odd = ["it's", 'a"b', "back\\slash", "two words", "café", "", "x" * 30]
    operations: list[Operation] = []
    for length in range(1, 64):
        name = ("t" + "abcdefghij" * 7)[:length]
        target = f"{name}_target" if length > 1 else "band"
        operations.append(
            CreateTable(
                Table(
                    name,
                    columns=(
                        Column("id", Type("Serial"), primary_key=True),
                        Column(
                            "c" * (length % 40 + 1),
                            Type("Varchar", length=length),
                            default=odd[length % len(odd)],
                        ),
                        Column("ref", Type("Integer"), references=ForeignKey(target), null=True),
                    ),
                )
            )
        )
        operations.append(AlterColumn(name, "n" * length, null=True, default="x" * length))
        operations.append(AddColumn(name, Column("w" * length, Type("Text"), default=name)))
    calls = 0
    original = black.format_str

    def counting(text: str, *, mode: black.Mode) -> str:
        nonlocal calls
        calls += 1
        return original(text, mode=mode)

    monkeypatch.setattr(migration_writer.black, "format_str", counting)
    fast = render_migration("0001_names", None, operations, fast=True)
    fast_calls = calls
    whole = render_migration("0001_names", None, operations, fast=False)
    assert fast == whole
    assert fast_calls > 0
    # Tables whose names have one length share their shapes: a few black runs
    # for a hundred tables, laid out as black lays out the whole file.
    uniform: list[Operation] = [
        CreateTable(
            Table(
                f"tab{i:03d}",
                columns=(
                    Column("id", Type("Serial"), primary_key=True),
                    Column("up", Type("Integer"), references=ForeignKey(f"tab{i - 1:03d}")),
                    Column("name", Type("Varchar", length=50), default=f"n{i:03d}"),
                ),
            )
        )
        for i in range(1, 101)
    ]
    calls = 0
    fast = render_migration("0001_uniform", None, uniform, fast=True)
    assert calls <= 6
    assert fast == render_migration("0001_uniform", None, uniform, fast=False)


def test_lint_sees_types_that_are_one_sql_type_as_no_change() -> None:
    from runtime.migrations import AlterColumn, Column, CreateTable, Schema, Table, Type
    from runtime.migrations.lint import lint

    before = CreateTable(
        Table(
            "note",
            (
                Column("id", Type("Serial"), primary_key=True),
                Column("body", Type("Text"), default=""),
                Column("code", Type("Varchar", length=255), default=""),
                Column("short", Type("Varchar", length=10), default=""),
            ),
        )
    ).apply(Schema())
    # Text -> Secret and Varchar(255) -> Email change only the generated code.
    quiet = [
        AlterColumn("note", "body", type=Type("Secret")),
        AlterColumn("note", "code", type=Type("Email", length=255)),
        AlterColumn("note", "short", type=Type("Secret")),  # wider: TEXT
    ]
    assert [str(f) for f in lint(quiet, before) if f.kind == "destructive"] == []
    # The way back from TEXT to a bounded type narrows it.
    after = quiet[2].apply(before)
    narrowing = lint([AlterColumn("note", "short", type=Type("Varchar", length=10))], after)
    assert [f.key for f in narrowing if f.kind == "destructive"] == ["narrow-type note.short"]


def test_lint_says_backwards_cannot_add_a_dropped_unique_column_to_rows() -> None:
    table = Table(
        "tag",
        (
            Column("id", Type("Serial"), primary_key=True),
            Column("name", Type("Varchar", length=20), unique=True, default=""),
            Column("slug", Type("Varchar", length=20), unique=True, null=True),
            Column("note", Type("Text"), default=""),
        ),
    )
    state = CreateTable(table).apply(Schema())
    drops = [DropColumn("tag", "name"), DropColumn("tag", "slug"), DropColumn("tag", "note")]
    found = [f.key for f in lint(drops, state) if f.kind == "irreversible"]
    # Every row gets '' back (fails on two rows); NULLs do not collide.
    assert found == ["backwards-unique tag.name"]


def test_the_checksum_is_of_the_code_not_its_formatting(tmp_path: Path) -> None:
    written = tmp_path / "0001_a.py"
    written.write_text(
        "from runtime.migrations import DropTable, Migration\n\n"
        'migration = Migration(id="0001_a", parent=None, operations=[DropTable("x")])\n'
    )
    reformatted = tmp_path / "0001_b.py"
    reformatted.write_text(
        "# a comment\nfrom runtime.migrations import DropTable, Migration\n\n"
        "migration = Migration(\n"
        '    id="0001_a",\n    parent=None,\n    operations=[\n        DropTable("x"),\n    ],\n)\n'
    )
    changed = tmp_path / "0001_c.py"
    changed.write_text(written.read_text().replace('"x"', '"y"'))
    broken = tmp_path / "0001_d.py"
    broken.write_text("migration = (\n")
    assert checksum(written) == checksum(reformatted)
    assert checksum(changed) != checksum(written)
    assert len({checksum(written), checksum(broken)}) == 2
