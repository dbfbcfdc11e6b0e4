"""The fast format step against black, which defines the output.

``generator.fmt.format_module`` keeps the chunks it can vouch for as the
renderer wrote them and runs black only on the others; the renderer lays its
code out with ``generator.layout``. These tests hold both to black's own
result: each layout helper over sweeps of lengths around the line limit, and
whole modules (the project's schemas, the benchmark's synthetic schema, a
schema written to stress the renderer, and sweeps of name lengths) formatted
chunk by chunk against black run over the whole module. Any code the
renderer emits that black would change makes them fail.
"""

from __future__ import annotations

import ast
import itertools
import textwrap
from collections.abc import Iterator
from pathlib import Path

import black
import pytest

from bench.scale import schema_text
from generator import layout
from generator.build import collect_schema_files, load_schemas
from generator.fmt import (
    BLACK_MODE,
    FULL_BLACK_VARIABLE,
    Chunk,
    format_module,
    needs_black,
)
from generator.render import render_package

REPO = Path(__file__).resolve().parent.parent


def _black(code: str) -> str:
    return black.format_str(code, mode=BLACK_MODE)


def _black_at(indent: str, code: str) -> str:
    """``code`` (indented by ``indent``) as black formats it at that depth."""
    depth = len(indent) // 4
    opening = "".join(f"{'    ' * level}if x:\n" for level in range(depth))
    formatted = _black(opening + code + "\n").split("\n")[depth:]
    return "\n".join(formatted).strip("\n")


def _check_layout(indent: str, laid_out: str, one_line: str, body: str = "") -> str:
    """Assert ``laid_out`` is black's layout of ``one_line``, unless the helper
    declined (returned ``one_line`` itself, too long, for black to handle).
    ``body`` follows both (the body of a class statement).

    Returns ``"declined"``, ``"one line"`` or ``"split"``.
    """
    if laid_out == one_line and not layout.fits(one_line):
        return "declined"
    assert _black_at(indent, laid_out + body) == laid_out + body
    assert _black_at(indent, one_line + body) == laid_out + body
    return "split" if "\n" in laid_out else "one line"


def _names(lengths: range, stem: str = "T") -> Iterator[str]:
    for length in lengths:
        yield (stem + "abcdefghij" * 10)[:length]


# -- the layout helpers, one shape at a time ---------------------------------


def test_function_stub_with_one_prefetch_parameter() -> None:
    outcomes = set()
    for target in _names(range(1, 80)):
        result = f"{target}WithParent"
        parameters = ["cls", f"prefetch: {target}NullableJoin", "/"]
        tail = f") -> Objects[{result}]: ..."
        laid_out = layout.function_stub("        ", "def objects(", parameters, tail)
        one_line = f"        def objects({', '.join(parameters)}{tail}"
        outcomes.add(_check_layout("        ", laid_out, one_line))
    assert outcomes == {"one line", "split", "declined"}


def test_function_stub_with_several_prefetch_parameters() -> None:
    outcomes = set()
    unions_split = 0
    for target in _names(range(1, 70)):
        for union in (f"{target}NullableJoin | {target}Join", f"{target}NullableJoin | OJoin"):
            parameters = ["cls", f"p1: {union}", f"p2: {union}", "/", f"*more: {union}"]
            tail = ") -> Objects[TPrefetched]: ..."
            laid_out = layout.function_stub("        ", "def objects(", parameters, tail)
            one_line = f"        def objects({', '.join(parameters)}{tail}"
            outcomes.add(_check_layout("        ", laid_out, one_line))
            unions_split += "\n            | " in laid_out
    assert "split" in outcomes
    assert unions_split > 5  # `*more: A` / `| B,`


def test_function_stub_with_one_parameter() -> None:
    outcomes = set()
    for table in _names(range(1, 80)):
        tail = f") -> {table}Objects: ..."
        laid_out = layout.function_stub("        ", "def objects(", ["cls"], tail)
        outcomes.add(_check_layout("        ", laid_out, f"        def objects(cls{tail}"))
    assert outcomes == {"one line", "split", "declined"}


@pytest.mark.parametrize("nullable", [False, True])
def test_function_stub_exploded_with_long_annotations(nullable: bool) -> None:
    """The magic trailing comma keeps one parameter per line; a parameter too
    long for its line gets its annotation parenthesized."""
    value = "datetime.datetime | None" if nullable else "datetime.datetime"
    for column in _names(range(1, 80), stem="c"):
        parameters = [
            "cls",
            "values: Mapping[Column[Any] | str, object] | None = None",
            "/",
            "*",
            f"{column}: {value} | Column[{value}] = ...",
            f"{column}: int | {column.capitalize()} | None = ...",
            f"{column}: {value}",
        ]
        laid_out = layout.function_stub(
            "        ", "def update(", parameters, ") -> Update: ...", exploded=True
        )
        if laid_out.startswith("        def update(cls"):
            continue  # declined: a parameter is too long even when wrapped
        assert _black_at("        ", laid_out) == laid_out


def test_class_statement() -> None:
    outcomes = set()
    for name in _names(range(1, 85)):
        for bases in (
            [f"Table[{name}Row]", f'tablename="{name.lower()}"'],
            [f"Table[{name}Row]", f'tablename="{name.lower()}"', 'unique=(("a", "b"),)'],
            [f'ForeignKey[int | None, "{name} | None"]'],
            [f"Objects[{name}]"],
        ):
            for indent in ("", "    "):
                laid_out = layout.class_statement(indent, name, bases)
                one_line = f"{indent}class {name}({', '.join(bases)}):"
                body = f"\n{indent}    x: int"
                outcomes.add(_check_layout(indent, laid_out, one_line, body))
    assert outcomes == {"one line", "split", "declined"}


def test_call_assignment() -> None:
    outcomes = set()
    parenthesized = 0
    for column in _names(range(1, 70), stem="c"):
        for target_class, callee, arguments in (
            ("BandNullableJoin", "BandNullableJoin", ["lambda: Band", "null=True"]),
            (
                "_music.BandNullableJoin",
                "_music.BandNullableJoin",
                ["lambda: _music.Band", 'on_delete="set_null"', "null=True"],
            ),
            ("Varchar[str | None]", "Varchar", ["length=50", "null=True", 'help_text="A name."']),
            ("Timestamptz[datetime.datetime]", "Timestamptz", ["default=TimestamptzNow()"]),
            ("Text[str]", "Text", []),
            (
                "CustomerOrderLineItemNullableJoin",
                "CustomerOrderLineItemNullableJoin",
                ["lambda: CustomerOrderLineItem", "null=True"],
            ),
            (
                "Varchar[str | None]",
                "Varchar",
                ["length=50", "null=True", "unique=True", "index=True", 'help_text="A name."'],
            ),
        ):
            target = f"{column}: {target_class}"
            laid_out = layout.call_assignment("    ", target, callee, arguments)
            one_line = f"    {target} = {callee}({', '.join(arguments)})"
            outcomes.add(_check_layout("    ", laid_out, one_line))
            parenthesized += " = (\n" in laid_out
    assert outcomes == {"one line", "split", "declined"}
    assert parenthesized > 20


def test_display_assignment() -> None:
    outcomes = set()
    for count in (1, 2, 3, 8):
        for name in _names(range(1, 40)):
            items = [f"{name}{i}" for i in range(count)]
            for target, brackets, shown in (
                ("TABLES", "()", items),
                ("__all__", "[]", [f'"{item}"' for item in items]),
            ):
                laid_out = layout.display_assignment("", target, shown, brackets)
                content = f"{shown[0]}," if count == 1 and brackets == "()" else ", ".join(shown)
                one_line = f"{target} = {brackets[0]}{content}{brackets[1]}"
                outcomes.add(_check_layout("", laid_out, one_line))
    assert {"one line", "split"} <= outcomes


def test_import_from() -> None:
    outcomes = set()
    for count in (1, 3, 12):
        for name in _names(range(1, 50), stem="M"):
            names = [f"{name}{i}" for i in range(count)]
            laid_out = layout.import_from("runtime", names)
            outcomes.add(_check_layout("", laid_out, f"from runtime import {', '.join(names)}"))
            alias = [f"{name} as _{name}"]
            laid_out = layout.import_from(".", alias)
            outcomes.add(_check_layout("", laid_out, f"from . import {alias[0]}"))
    assert {"one line", "split"} <= outcomes


@pytest.mark.parametrize(
    "value",
    ["plain", "it's", 'say "hi"', "both ' and \"", "back\\slash", "new\nline", "tab\t", "é ☃", ""],
)
def test_py_str_quotes_like_black(value: str) -> None:
    line = f"x = {layout.py_str(value)}\n"
    assert _black(line) == line
    assert ast.literal_eval(layout.py_str(value)) == value


def test_py_str_over_every_short_mix_of_quotes() -> None:
    for length in range(1, 5):
        for letters in itertools.product("'\"\\a", repeat=length):
            value = "".join(letters)
            line = f"x = {layout.py_str(value)}\n"
            assert _black(line) == line, value
            assert ast.literal_eval(layout.py_str(value)) == value


# -- what the format step vouches for ------------------------------------------


@pytest.mark.parametrize(
    "code",
    [
        "x = 1e+20\n",
        "x = 0XFF\n",
        "x = .5\n",
        "x = 5.\n",
        "x = 'single'\n",
        'x = "\\N{dash}"\n',
        'x = "\\xAB"\n',
        'class A:\n    """  padded  """\n',
        'class A:\n    """Trailing space. """\n',
        'class A:\n    """Two\n      lines."""\n',
        "class 表名前がとても長いテーブル名前がとても長いテーブル(Table[表名前がとても長いテーブル]):\n    x: int\n",
        "x = 1\t# a tab\n",
        "x = 1 \n",
        "x = [\n    1,\n]  \n",
        "x = 1\n\n\n\ny = 2\n",
        'x = "a" \\\n    "b"\n',
        "x = f(" + ", ".join(["argument"] * 9) + ")\n",
    ],
)
def test_chunks_black_would_change_are_left_to_black(code: str) -> None:
    assert _black(code) != code  # keeps the examples honest
    assert needs_black(Chunk(code))


@pytest.mark.parametrize(
    "code",
    [
        f'class A:\n    """{"A long docstring. " * 8}end."""\n',
        "class A:\n    x: int | None  # type: ignore[assignment]  # pyright: ignore["
        + "x" * 60
        + "]\n",
        'x = (1, 2.5, "it\'s", 0)\n',
        'class A(B):\n    """Doc with ``code``, \'quotes\' and # hashes."""\n\n    x: int = 0  # comment\n',
    ],
)
def test_chunks_black_keeps_are_vouched_for(code: str) -> None:
    assert _black(code) == code
    assert not needs_black(Chunk(code))


def test_full_black_can_be_requested(monkeypatch: pytest.MonkeyPatch) -> None:
    # Not black's layout, but nothing the format step checks: it is kept,
    # unless black is asked to run over whole modules.
    chunks = [Chunk("x = (1)\n")]
    assert format_module(chunks, origin="m.py") == "x = (1)\n"
    monkeypatch.setenv(FULL_BLACK_VARIABLE, "1")
    assert format_module(chunks, origin="m.py") == "x = 1\n"


def test_an_indented_chunk_is_formatted_inside_its_block() -> None:
    chunks = [
        Chunk("if TYPE_CHECKING:\n    x = 1\n"),
        Chunk("\n    class  A( B ) :\n        y='2'\n", block="if TYPE_CHECKING:"),
    ]
    expected = 'if TYPE_CHECKING:\n    x = 1\n\n    class A(B):\n        y = "2"\n'
    assert format_module(chunks, origin="m.py") == expected
    assert format_module(chunks, origin="m.py", whole=True) == expected


# -- whole modules: the fast path against black over the whole module --------

STRESS_MUSIC = r"""
module: stress_music
enums:
  Mood:
    happy: "it's fine"
    quoted: 'say "no"'
    both: 'it''s "both"'
    slash: "back\\slash"
    unicode: "héllo wörld ☃"
    newline: "two\nlines"
    long_value: "a very long enum value that goes on and on and on and on and on and on and on and on"
  ThisEnumerationNameIsVeryLongIndeedSoThatItsClassStatementOverflowsTheLine: {a: x, b: y}
  Level: {low: 1, high: 2}
tables:
  A:
    columns:
      n: {type: text}
  Band:
    help_text: "A band: \"quoted\", 'single', back\\slash and ünïcode."
    columns:
      name: {type: varchar, length: 50, default: "it's \"odd\"", help_text: One line of help.}
      mood: {type: varchar, length: 100, choices: Mood, default: happy}
      level: {type: integer, choices: Level, default: high, null: true}
      score: {type: real, default: 1.0e-5}
      big: {type: double_precision, default: 1.0e+20}
      ratio: {type: numeric, digits: [12, 4], default: "1234.5000"}
      settings: {type: jsonb, default: {theme: "dark \"mode\"", list: [1, 2.5, null], nested: {a: "é"}}}
      words: {type: array, of: {type: varchar, length: 30}, default: ["it's", 'say "x"', "back\\slash", "ü"]}
      when: {type: timestamptz, default: "2024-01-31T12:00:00+05:30"}
      wait: {type: interval, default: 0.25}
      token: {type: uuid, default: 12345678-1234-5678-1234-567812345678}
      day: {type: date, default: 2024-02-29}
      alarm: {type: time, default: "07:30:15.250000"}
      renamed: {type: text, db_column_name: renamed_in_the_database}
      secret_value: {type: secret, null: true}
      blob: {type: bytea, null: true}
      blank: {type: text, default: ""}
      spaced: {type: text, default: "  padded  ", help_text: "  padded help  "}
      tabbed: {type: text, default: "a\tb"}
      multi_help:
        type: text
        help_text: |
          First line of a longer help text.
            Indented second line, with "quotes" and a trailing backslash \
          Third line.
  ThisTableNameIsLongEnoughToPushEveryGeneratedLineOverTheLimitOfBlack:
    tablename: long_table
    help_text: A table whose name is long enough to push most generated lines over black's line length limit of eighty-eight characters.
    columns:
      this_column_name_is_long_enough_to_need_a_database_name_of_its_own_ok:
        type: foreign_key
        references: Band
        null: true
        on_delete: set_null
        on_update: restrict
        db_column_name: long_fk
      another_rather_long_foreign_key_column_name: {type: foreign_key, references: ThisTableNameIsLongEnoughToPushEveryGeneratedLineOverTheLimitOfBlack, null: true}
      timestamps_with_a_long_name: {type: timestamptz, null: true, default: now}
      a_nullable_array_of_dates_with_a_long_name: {type: array, of: {type: date}, null: true}
      required_value_with_a_long_name_for_the_constructor: {type: varchar, length: 200, required: true}
    indexes:
      - {columns: [timestamps_with_a_long_name, another_rather_long_foreign_key_column_name], unique: true, name: a_rather_long_index_name_for_the_stress_test}
      - {columns: [required_value_with_a_long_name_for_the_constructor]}
    unique:
      - [timestamps_with_a_long_name, required_value_with_a_long_name_for_the_constructor]
  Genre:
    columns:
      name: {type: varchar, length: 50}
      bands: {type: m2m, through: GenreToBand, help_text: "The bands of the genre, \"all\" of them."}
  GenreToBand:
    columns:
      band: {type: foreign_key, references: Band}
      genre: {type: foreign_key, references: Genre}
  Chain1:
    columns:
      up: {type: foreign_key, references: ThisTableNameIsLongEnoughToPushEveryGeneratedLineOverTheLimitOfBlack, null: true}
  Chain2:
    columns:
      up: {type: foreign_key, references: Chain1}
      up_too: {type: foreign_key, references: Chain1, null: true}
  Chain3:
    columns:
      up: {type: foreign_key, references: Chain2, null: true}
      other: {type: foreign_key, references: A}
      third: {type: foreign_key, references: Band}
  Keyed:
    columns:
      code: {type: varchar, length: 12, primary_key: true}
      label: {type: text, help_text: "Trailing backslash \\"}
  KeyedChild:
    columns:
      keyed: {type: foreign_key, references: Keyed}
      uuid_key: {type: foreign_key, references: UuidKeyed, null: true}
  UuidKeyed:
    columns:
      id: {type: uuid, primary_key: true, default: uuid4}
"""

STRESS_SHOP = r"""
module: stress_shop_with_a_module_name_long_enough_to_matter_in_imports_and_docs
tables:
  Item:
    columns:
      band: {type: foreign_key, references: stress_music.Band, null: true, on_delete: set_null, help_text: The band.}
      long_one: {type: foreign_key, references: stress_music.ThisTableNameIsLongEnoughToPushEveryGeneratedLineOverTheLimitOfBlack}
      chain: {type: foreign_key, references: stress_music.Chain3}
"""

# One table per thing the format step must leave to black, each on its own
# so that a format step vouching for any of them fails the test.
ODD = r"""
module: odd
tables:
  FloatWithExponent:
    columns:
      x: {type: double_precision, default: 1.0e+20}
  WideCharacters:
    columns:
      x: {type: text, help_text: "日本語のテキスト、日本語のテキスト、日本語のテキスト、日本語のテキスト"}
  MultiLineHelp:
    help_text: |
      First line.
        Indented second line.
      Third line.
    columns:
      x: {type: text}
  QuoteAtTheEnd:
    help_text: 'Ends with a "quote"'
    columns:
      x: {type: text}
  BackslashAtTheEnd:
    help_text: 'Ends with a backslash \'
    columns:
      x: {type: text}
  Escapes:
    columns:
      x: {type: text, default: "tab\tnew\nline\u00e9\x1b"}
  表名前がとても長いテーブル:
    tablename: wide_name
    columns:
      x: {type: text}
"""

EMPTY = "module: empty\ntables: {}\n"
ENUMS_ONLY = "module: enums_only\nenums:\n  Colour: {red: r, green: g}\ntables: {}\n"


def _sweep_schema(module: str, lengths: range, *, reference: str = "") -> str:
    """Tables whose names (and column names) grow one character at a time, so
    that the generated lines cross black's line length at every statement."""
    lines = [f"module: {module}", "tables:"]
    previous = reference
    for index, length in enumerate(lengths):
        name = ("S" + "weepTableName" * 10)[:length]
        column = ("c" + "olumn_name_part" * 8)[: 1 + (index * 7) % 55]
        lines.append(f"  {name}:")
        lines.append(f"    tablename: {module}_{index}")
        lines.append("    columns:")
        lines.append(f"      {column}: {{type: varchar, length: 10, null: {index % 2 == 0}}}")
        if previous:
            lines.append(f"      parent: {{type: foreign_key, references: {previous}, null: true}}")
            lines.append(f"      {column}_key: {{type: foreign_key, references: {previous}}}")
        previous = name
    return "\n".join(lines) + "\n"


def _render(folder: Path, *, pydantic: bool = True) -> dict[str, list[Chunk]]:
    files, errors = collect_schema_files([folder])
    schemas, load_errors = load_schemas(files)
    assert not errors and not load_errors, [str(e) for e in [*errors, *load_errors]]
    return render_package(schemas, pydantic=pydantic)


def _assert_fast_is_black(folder: Path, *, pydantic: bool = True) -> dict[str, str]:
    """Every module of ``folder`` (and its pydantic models) formatted chunk by
    chunk equals black over the whole module; the formatted modules by name."""
    result = {}
    for name, chunks in _render(folder, pydantic=pydantic).items():
        fast = format_module(chunks, origin=name, whole=False)
        assert fast == format_module(chunks, origin=name, whole=True), name
        result[name] = fast
    return result


def _write(folder: Path, files: dict[str, str]) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for name, text in files.items():
        (folder / name).write_text(textwrap.dedent(text).lstrip(), encoding="utf-8")
    return folder


@pytest.mark.parametrize(
    ("schema", "generated", "pydantic"),
    [("schema", "generated", True), ("bench/schema", "bench/generated", False)],
)
def test_the_project_schemas(
    schema: str, generated: str, pydantic: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(REPO)  # the header names the schema file relative to it
    formatted = _assert_fast_is_black(Path(schema), pydantic=pydantic)
    for name, text in formatted.items():
        assert (REPO / generated / name).read_text(encoding="utf-8") == text


def test_the_synthetic_benchmark_schema_needs_no_black(tmp_path: Path) -> None:
    folder = _write(tmp_path / "schema", {"tables.yaml": schema_text(30)})
    _assert_fast_is_black(folder)
    for name in ("tables.py", "tables_models.py"):
        chunks = _render(folder)[name]
        assert [chunk for chunk in chunks if needs_black(chunk)] == [], name


def test_a_schema_made_to_stress_the_renderer(tmp_path: Path) -> None:
    folder = _write(
        tmp_path / "schema",
        {
            "stress_music.yaml": STRESS_MUSIC,
            "stress_shop.yaml": STRESS_SHOP,
            "empty.yaml": EMPTY,
            "enums_only.yaml": ENUMS_ONLY,
            "odd.yaml": ODD,
        },
    )
    _assert_fast_is_black(folder)
    # Both paths ran: chunks black had to format, top-level and inside the
    # `if TYPE_CHECKING:` block, and chunks kept as rendered.
    chunks = [chunk for module in _render(folder).values() for chunk in module]
    assert any(needs_black(chunk) and chunk.block for chunk in chunks)
    assert any(needs_black(chunk) and not chunk.block for chunk in chunks)
    assert any(not needs_black(chunk) for chunk in chunks)


@pytest.mark.parametrize("lengths", [range(1, 45), range(45, 80)], ids=["short", "long"])
def test_sweeps_of_name_lengths(lengths: range, tmp_path: Path) -> None:
    first = _sweep_schema("sweep", lengths)
    last = ("S" + "weepTableName" * 10)[: lengths[-1]]
    second = _sweep_schema("sweep_refs", range(3, 30, 4), reference=f"sweep.{last}")
    _assert_fast_is_black(_write(tmp_path / "schema", {"sweep.yaml": first, "refs.yaml": second}))
