"""The schema files' state (generator/state.py) and ``renamed_from``.

The state is the one ``of_tables`` gives for the generated classes; schema
errors come back as ``build`` reports them; a ``renamed_from`` that names
nothing of the previous state is an error at file:line:col of its key, in
YAML and TOML; ``renamed_from`` changes no generated code.
"""

from __future__ import annotations

import importlib
import random
import sys
from dataclasses import replace
from pathlib import Path

import pytest

from generator.build import build
from generator.errors import SchemaError
from generator.load import LoadedSchema
from generator.model import SchemaFile
from generator.state import LocatedState, RenameHint, check_renames, read_state, schema_state
from runtime.schema.diff import diff
from runtime.schema.operations import AlterColumn, RenameColumn, RenameTable
from runtime.schema.state import Schema, SchemaStateError, Type, of_tables
from tests.schema_edits import random_edits, random_schema
from tests.test_schema_diff import apply

ROOT = Path(__file__).resolve().parents[1]


def state(*paths: Path, previous: Schema | None = None) -> Schema:
    result = schema_state(list(paths), previous=previous)
    assert isinstance(result, Schema), result
    return result


def errors(*paths: Path, previous: Schema) -> list[str]:
    result = schema_state(list(paths), previous=previous)
    assert isinstance(result, list), result
    return [str(error) for error in result]


def position(path: Path, text: str, nth: int = 1) -> str:
    """``file:line:col`` of the ``nth`` occurrence of ``text`` in ``path``."""
    start = -1
    source = path.read_text()
    for _ in range(nth):
        start = source.index(text, start + 1)
    line = source.count("\n", 0, start) + 1
    col = start - (source.rfind("\n", 0, start) + 1) + 1
    return f"{path.name}:{line}:{col}"


def test_the_state_of_the_project_schemas_is_that_of_the_generated_modules() -> None:
    names = ["composite", "features", "inventory", "keys", "music", "reports", "shop"]
    modules = [importlib.import_module(f"generated.{name}") for name in names]
    tables = [table for module in modules for table in module.TABLES]
    expected = of_tables([*tables, *(view for module in modules for view in module.VIEWS)])
    found = state(ROOT / "schema")
    assert found == expected
    assert found.tables == expected.tables  # in the same order, too
    # The throwaway package leaves nothing behind (the first run imported
    # the renderer).
    before = dict(sys.modules)
    assert state(ROOT / "schema") == expected
    assert sys.modules == before


def test_schema_errors_come_back_as_build_reports_them(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "a.yaml").write_text(
        "tables:\n  Band:\n    columns:\n      name: {type: varchr}\n"
        "      manager: {type: foreign_key, references: Manger}\n"
    )
    (tmp_path / "b.toml").write_text('[tables.Shirt.columns]\nsize = { type = "varchar" }\n')
    result = schema_state([Path(".")])
    assert isinstance(result, list) and all(isinstance(e, SchemaError) for e in result)
    assert build([Path(".")], tmp_path / "out") == 1
    reported = capsys.readouterr().err.splitlines()
    assert [str(e) for e in result] == reported[:-1]
    assert len(result) >= 3


# -- renamed_from --------------------------------------------------------------------

V1 = """\
tables:
  Band:
    columns:
      title: {type: varchar, length: 50}
      rating: {type: integer, default: 0}
  Venue:
    tablename: place
    columns:
      town: {type: text, db_column_name: city}
"""


@pytest.fixture
def previous(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Schema:
    monkeypatch.chdir(tmp_path)
    old = tmp_path / "v1" / "music.yaml"
    old.parent.mkdir()
    old.write_text(V1)
    return state(old)


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / "v2" / name
    path.parent.mkdir(exist_ok=True)
    path.write_text(text)
    return path


def test_renames_resolve_against_the_previous_state(tmp_path: Path, previous: Schema) -> None:
    new = write(
        tmp_path,
        "music.yaml",
        """\
tables:
  Group:
    renamed_from: Band
    columns:
      name: {type: varchar, length: 50, renamed_from: title}
      rating: {type: integer, default: 0}
  Venue:
    tablename: venue
    renamed_from: place
    columns:
      town: {type: text, db_column_name: town, renamed_from: city}
""",
    )
    current = state(new, previous=previous)
    assert current.table("group").renamed_from == "band"  # the class name's table
    assert current.table("group").column("name").renamed_from == "title"
    assert current.table("venue").renamed_from == "place"  # a tablename as written
    assert current.table("venue").column("town").renamed_from == "city"
    assert diff(previous, current).operations == [
        RenameTable("band", "group"),
        RenameTable("place", "venue"),
        RenameColumn("group", "title", "name"),
        RenameColumn("venue", "city", "town"),
    ]
    # Once migrated, the hints that stay in the files are ignored.
    assert not diff(current, state(new, previous=current))
    assert check_renames(_located(new), current) == []


def _located(path: Path):  # type: ignore[no-untyped-def]
    located = read_state([path])
    assert not isinstance(located, list)
    return located


def test_a_renamed_from_naming_nothing_is_reported_at_its_key_in_yaml(
    tmp_path: Path, previous: Schema
) -> None:
    new = write(
        tmp_path,
        "music.yaml",
        """\
tables:
  Group:
    renamed_from: Bnad
    columns:
      title: {type: varchar, length: 50}
      rating: {type: integer, default: 0}
  Venue:
    tablename: place
    columns:
      town: {type: text, db_column_name: city}
      size: {type: integer, default: 0, renamed_from: seats}
  Fan:
    columns:
      name: {type: text, renamed_from: nick}
""",
    )
    assert errors(new, previous=previous) == [
        f"v2/{position(new, 'renamed_from')}: tables.Group.renamed_from: "
        "the previous state has no table 'Bnad' - did you mean 'band'?",
        f"v2/{position(new, 'renamed_from', 2)}: tables.Venue.columns.size.renamed_from: "
        "the previous state has no column 'seats' in table 'place'",
        f"v2/{position(new, 'renamed_from', 3)}: tables.Fan.columns.name.renamed_from: "
        "table 'fan' is new: it has no column 'nick' to rename",
    ]


def test_a_renamed_from_naming_nothing_is_reported_at_its_key_in_toml(
    tmp_path: Path, previous: Schema
) -> None:
    new = write(
        tmp_path,
        "music.toml",
        """\
[tables.Group]
renamed_from = "Bnad"

[tables.Group.columns]
title = { type = "varchar", length = 50 }
score = { type = "integer", default = 0, renamed_from = "ratng" }

[tables.Venue]
tablename = "place"

[tables.Venue.columns]
town = { type = "text", db_column_name = "city" }
""",
    )
    assert errors(new, previous=previous) == [
        f"v2/{position(new, 'renamed_from')}: tables.Group.renamed_from: "
        "the previous state has no table 'Bnad' - did you mean 'band'?",
    ]
    fixed = new.read_text().replace('"Bnad"', '"Band"')
    new.write_text(fixed)
    assert errors(new, previous=previous) == [
        f"v2/{position(new, 'renamed_from', 2)}: tables.Group.columns.score.renamed_from: "
        "the previous state has no column 'ratng' in table 'band' - did you mean 'rating'?",
    ]
    new.write_text(fixed.replace('"ratng"', '"rating"'))
    current = state(new, previous=previous)
    assert diff(previous, current).operations == [
        RenameTable("band", "group"),
        RenameColumn("group", "rating", "score"),
    ]


def test_two_renames_of_one_old_name_are_reported(tmp_path: Path, previous: Schema) -> None:
    new = write(
        tmp_path,
        "music.yaml",
        """\
tables:
  Band:
    columns:
      name: {type: varchar, length: 50, renamed_from: title}
      heading: {type: varchar, length: 50, renamed_from: title}
""",
    )
    first = position(new, "renamed_from")
    assert errors(new, previous=previous) == [
        f"v2/{position(new, 'renamed_from', 2)}: tables.Band.columns.heading.renamed_from: "
        f"column 'title' is renamed by the renamed_from at v2/{first} already; "
        "it can take one new name only"
    ]


def test_without_a_previous_state_hints_are_set_as_written(tmp_path: Path) -> None:
    new = write(
        tmp_path,
        "music.yaml",
        "tables:\n  Group:\n    renamed_from: Band\n    columns:\n"
        "      name: {type: text, renamed_from: title}\n",
    )
    current = state(new)
    assert current.table("group").renamed_from == "band"
    assert current.table("group").column("name").renamed_from == "title"
    assert current.table("group").column("name").type == Type("Text")


def test_renamed_from_changes_no_generated_code(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    schema = tmp_path / "schema" / "music.yaml"
    schema.parent.mkdir()
    schema.write_text(V1)
    assert build([schema.parent], tmp_path / "out") == 0
    schema.write_text(
        V1.replace("  Band:\n", "  Band:\n    renamed_from: Group\n").replace(
            "length: 50}", "length: 50, renamed_from: name}"
        )
    )
    assert "renamed_from" in schema.read_text()
    capsys.readouterr()
    assert build([schema.parent], tmp_path / "out", check=True) == 0, capsys.readouterr()


def test_alter_after_a_rename_uses_the_new_name(tmp_path: Path, previous: Schema) -> None:
    new = write(
        tmp_path,
        "music.yaml",
        V1.replace("title: {type: varchar, length: 50}", "name: {type: text, renamed_from: title}"),
    )
    assert diff(previous, state(new, previous=previous)).operations == [
        RenameColumn("band", "title", "name"),
        AlterColumn("band", "name", type=Type("Text")),
    ]


def test_without_paths_the_configured_schemas_are_read(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(ROOT / "generated")  # below the project's pyproject.toml
    assert schema_state() == state(ROOT / "schema")


def test_a_table_created_under_a_renamed_tables_old_name_is_new(
    tmp_path: Path, previous: Schema
) -> None:
    new = write(
        tmp_path,
        "music.yaml",
        V1.replace("  Band:\n", "  Group:\n    renamed_from: Band\n")
        + "  Band:\n    columns:\n      name: {type: text, renamed_from: title}\n",
    )
    assert errors(new, previous=previous) == [
        f"v2/{position(new, 'renamed_from', 2)}: tables.Band.columns.name.renamed_from: "
        "table 'band' is new: it has no column 'title' to rename"
    ]


@pytest.mark.parametrize("case", range(200))
def test_check_renames_reports_exactly_what_the_differ_refuses(case: int) -> None:
    """On random states and edits, with a hint that may name nothing added: the
    schema files' check finds an error exactly when the differ would raise."""
    rng = random.Random(case)
    old = random_schema(rng)
    new, _ = random_edits(rng, old)
    anywhere = LoadedSchema(Path("x.yaml"), "x", SchemaFile())
    hints = [RenameHint(t.name, None, t.renamed_from, anywhere, ()) for t in new if t.renamed_from]
    hints += [
        RenameHint(t.name, c.name, c.renamed_from, anywhere, ())
        for t in new
        for c in t.columns
        if c.renamed_from
    ]
    if new.tables and rng.random() < 0.5:
        table = rng.choice(new.tables)
        column = rng.choice([None, *(c.name for c in table.columns if not c.primary_key)])
        hints = [h for h in hints if (h.table, h.column) != (table.name, column)]
        hints.append(
            RenameHint(
                table.name, column, rng.choice(["id", "band", "title", "gone"]), anywhere, ()
            )
        )
    plain = Schema(
        tuple(
            replace(
                t,
                renamed_from=None,
                columns=tuple(replace(c, renamed_from=None) for c in t.columns),
            )
            for t in new
        )
    )
    located = LocatedState(plain, tuple(hints))
    reported = check_renames(located, old)
    try:
        result = diff(old, located.with_renames(old))
    except SchemaStateError:
        assert reported
    else:
        assert not reported, reported
        assert apply(old, result.operations) == plain


def test_a_rename_of_the_primary_key_into_another_column_is_reported(
    tmp_path: Path, previous: Schema
) -> None:
    new = write(
        tmp_path,
        "music.yaml",
        V1.replace("title: {type: varchar, length: 50}", "name: {type: text, renamed_from: id}"),
    )
    assert errors(new, previous=previous) == [
        f"v2/{position(new, 'renamed_from')}: tables.Band.columns.name.renamed_from: "
        "column 'id' was the primary key of table 'band' and 'name' is not; a migration "
        "cannot change which column is the primary key"
    ]


def test_the_compiled_code_kept_in_the_cache_folder_gives_the_same_state(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The generated code is kept compiled under the digest of its source: a
    second run compiles nothing and reads the same state, a changed schema
    is compiled again, a damaged file is compiled again, and with
    PYTHONDONTWRITEBYTECODE (or no folder to write in) nothing is written."""
    from generator import state as state_module

    monkeypatch.setattr(sys, "dont_write_bytecode", False)
    expected = state(ROOT / "schema")
    cache = tmp_path / "__pycache__"
    compiled: list[str] = []
    real_compile = compile

    def counting(source: str, filename: str, mode: str) -> object:
        compiled.append(filename)
        return real_compile(source, filename, mode)

    monkeypatch.setattr(state_module, "compile", counting, raising=False)

    def cached_state(*paths: Path) -> Schema:
        result = schema_state(list(paths), cache=cache)
        assert isinstance(result, Schema), result
        return result

    assert cached_state(ROOT / "schema") == expected
    first = sorted(p.name for p in cache.iterdir())
    assert compiled and len(first) == len(compiled)
    compiled.clear()
    found = cached_state(ROOT / "schema")
    assert found == expected and found.tables == expected.tables
    assert compiled == []
    # A damaged file: its digest does not match, so it is compiled again.
    victim = max(cache.iterdir(), key=lambda p: p.stat().st_size)
    data = bytearray(victim.read_bytes())
    data[len(data) // 2] ^= 0xFF
    victim.write_bytes(bytes(data))
    assert cached_state(ROOT / "schema") == expected
    assert len(compiled) == 1
    # A changed schema is a different source: compiled, never the old state.
    compiled.clear()
    schema = tmp_path / "schema"
    schema.mkdir()
    (schema / "music.yaml").write_text(V1)
    v1 = cached_state(schema)
    (schema / "music.yaml").write_text(V1.replace("length: 50", "length: 60", 1))
    v1_edited = cached_state(schema)
    assert v1 != v1_edited and v1_edited == state(schema)
    assert len(compiled) >= 2
    assert len(list(cache.iterdir())) <= state_module._CACHE_KEEP
    # Nothing is written without leave to, or where there is no folder.
    monkeypatch.setattr(sys, "dont_write_bytecode", True)
    elsewhere = tmp_path / "other" / "__pycache__"
    assert schema_state([schema], cache=elsewhere) == v1_edited
    monkeypatch.setattr(sys, "dont_write_bytecode", False)
    assert schema_state([schema], cache=elsewhere) == v1_edited
    assert not (tmp_path / "other").exists()
