"""The generator's front-end on valid input: config, names, loading, JSON Schema."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

import pytest

from generator.build import load_schemas
from generator.cli import main
from generator.config import ConfigError, load_config
from generator.load import LoadedSchema, load_file
from generator.model import COLUMN_TYPES, ColumnSpec, SchemaFile
from generator.names import snake_case
from generator.yaml_source import read_yaml

MUSIC = """\
module: music
enums:
  Size: {small: s, medium: m, large: l}
  Level: {low: 1, high: 2}
tables:
  Manager:
    columns:
      name: {type: varchar, length: 50}
  Band:
    tablename: band
    help_text: A band.
    columns:
      name: {type: varchar, length: 50, unique: true}
      manager: {type: foreign_key, references: Manager, null: true, on_delete: set_null}
      mentor: {type: foreign_key, references: Band, null: true}
      popularity: {type: integer, default: 0, index: true}
      genres: {type: m2m, through: GenreToBand}
  Genre:
    columns:
      name: {type: text}
  GenreToBand:
    columns:
      band: {type: foreign_key, references: Band}
      genre: {type: foreign_key, references: Genre}
  Concert:
    columns:
      band_1: {type: foreign_key, references: Band}
      starts: {type: timestamp, default: now}
      day: {type: date, default: 2024-01-31}
      doors: {type: time, default: 19:30}
      tags: {type: array, of: {type: varchar, length: 10}, default: [rock, live]}
      level: {type: integer, choices: Level, default: high}
      extra: {type: jsonb, null: true, default: null}
  Shirt:
    columns:
      size: {type: varchar, length: 1, choices: Size, default: small}
      price: {type: numeric, digits: [5, 2], default: "9.99"}
"""

SHOP = """\
[tables.Product]
help_text = "Something to sell"

[tables.Product.columns]
code = { type = "uuid", primary_key = true, default = "uuid4" }
name = { type = "varchar", length = 100 }
band = { type = "foreign_key", references = "music.Band", null = true }
released = { type = "date", default = 2024-01-31 }

[tables.Order.columns]
product = { type = "foreign_key", references = "Product", default = "123e4567-e89b-12d3-a456-426614174000" }
quantity = { type = "smallint", default = 1 }
"""


def _write(folder: Path, files: dict[str, str]) -> list[Path]:
    paths = []
    for name, text in files.items():
        path = folder / name
        path.write_text(textwrap.dedent(text), encoding="utf-8")
        paths.append(path)
    return paths


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("Band", "band"),
        ("GenreToBand", "genre_to_band"),
        ("HTTPLog", "http_log"),
        ("Band2", "band2"),
        ("MyHTTPServer", "my_http_server"),
        ("already_snake", "already_snake"),
    ],
)
def test_snake_case(name: str, expected: str) -> None:
    assert snake_case(name) == expected


def test_valid_schemas_have_no_errors(tmp_path: Path) -> None:
    files = _write(tmp_path, {"music.yaml": MUSIC, "shop.toml": SHOP})
    schemas, errors = load_schemas(files)
    assert [str(error) for error in errors] == []
    assert [schema.module for schema in schemas] == ["music", "shop"]


def test_load_keeps_declaration_order_and_types(tmp_path: Path) -> None:
    (path,) = _write(tmp_path, {"music.yaml": MUSIC})
    schema = load_file(path)
    assert isinstance(schema, LoadedSchema)
    assert list(schema.spec.tables) == [
        "Manager",
        "Band",
        "Genre",
        "GenreToBand",
        "Concert",
        "Shirt",
    ]
    assert list(schema.spec.tables["Band"].columns) == [
        "name",
        "manager",
        "mentor",
        "popularity",
        "genres",
    ]
    concert = schema.spec.tables["Concert"].columns
    # YAML 1.2 scalars: dates and times stay text, not date objects or
    # sexagesimal integers (19:30 would be 1170 in YAML 1.1).
    assert concert["day"].default == "2024-01-31"
    assert concert["doors"].default == "19:30"
    assert schema.spec.tables["Shirt"].columns["price"].digits == (5, 2)
    # An explicit null is told apart from no default at all.
    assert "default" in concert["extra"].model_fields_set
    assert "default" not in concert["band_1"].model_fields_set


def test_toml_dates_become_iso_strings(tmp_path: Path) -> None:
    (path,) = _write(tmp_path, {"shop.toml": SHOP})
    schema = load_file(path)
    assert isinstance(schema, LoadedSchema)
    assert schema.module == "shop"
    assert schema.spec.tables["Product"].columns["released"].default == "2024-01-31"


def test_yaml_1_1_booleans_are_plain_words(tmp_path: Path) -> None:
    (path,) = _write(tmp_path, {"answers.yaml": "enums:\n  Answer: {no: n, yes: y, off: o}\n"})
    schema = load_file(path)
    assert isinstance(schema, LoadedSchema)
    assert schema.spec.enums == {"Answer": {"no": "n", "yes": "y", "off": "o"}}


def test_load_file_returns_errors_for_a_bad_file(tmp_path: Path) -> None:
    (path,) = _write(
        tmp_path, {"bad.yaml": "tables:\n  Band:\n    columns:\n      name: {type: varchr}\n"}
    )
    result = load_file(path)
    assert isinstance(result, list)
    assert [(e.line, e.col, e.path) for e in result] == [(4, 20, "tables.Band.columns.name.type")]


def test_yaml_merge_keys(tmp_path: Path) -> None:
    text = """\
    tables:
      Band:
        columns:
          name: &name {type: varchar, length: 50}
          title: {<<: *name, null: true}
    """
    (path,) = _write(tmp_path, {"merge.yaml": text})
    schema = load_file(path)
    assert isinstance(schema, LoadedSchema)
    title = schema.spec.tables["Band"].columns["title"]
    assert (title.type, title.length, title.null) == ("varchar", 50, True)


def test_json_schema_command(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["json-schema"]) == 0
    schema = json.loads(capsys.readouterr().out)
    assert schema["$schema"].startswith("https://json-schema.org/")
    assert schema["additionalProperties"] is False
    assert set(schema["properties"]) == {"module", "enums", "tables", "views"}
    column = schema["$defs"]["ColumnSpec"]
    assert set(column["properties"]) == set(ColumnSpec.model_fields)
    assert column["properties"]["type"]["enum"] == list(COLUMN_TYPES)
    assert all(prop.get("description") for prop in column["properties"].values())
    assert schema["$defs"]["TableSpec"]["required"] == ["columns"]
    assert schema["$defs"]["ViewSpec"]["required"] == ["sql", "columns"]


def test_json_schema_covers_the_keys_of_a_valid_schema() -> None:
    schema = SchemaFile.model_json_schema()
    defs = schema["$defs"]
    data = read_yaml(MUSIC).data
    assert isinstance(data, dict)
    assert set(data) <= set(schema["properties"])
    for table in data["tables"].values():
        assert set(table) <= set(defs["TableSpec"]["properties"])
        for column in table["columns"].values():
            assert set(column) <= set(defs["ColumnSpec"]["properties"])


def test_json_schema_output_is_deterministic(capsys: pytest.CaptureFixture[str]) -> None:
    main(["json-schema"])
    first = capsys.readouterr().out
    main(["json-schema"])
    assert capsys.readouterr().out == first


def test_config_defaults_without_pyproject(tmp_path: Path) -> None:
    config = load_config(tmp_path)
    assert config.pyproject is None
    assert config.schema == (tmp_path.resolve() / "schema",)
    assert config.out == tmp_path.resolve() / "generated"


def test_config_from_a_parent_folder(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text(
        '[tool.piccolo-gen]\nschema = ["schemas/a", "schemas/b.yaml"]\nout = "app/models"\n',
        encoding="utf-8",
    )
    nested = tmp_path / "src" / "pkg"
    nested.mkdir(parents=True)
    config = load_config(nested)
    root = tmp_path.resolve()
    assert config.root == root
    assert config.schema == (root / "schemas/a", root / "schemas/b.yaml")
    assert config.out == root / "app/models"


def test_config_nearest_pyproject_without_the_table_uses_defaults(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text(
        '[tool.piccolo-gen]\nout = "elsewhere"\n', encoding="utf-8"
    )
    inner = tmp_path / "inner"
    inner.mkdir()
    (inner / "pyproject.toml").write_text('[project]\nname = "inner"\n', encoding="utf-8")
    config = load_config(inner)
    assert config.out == inner.resolve() / "generated"


@pytest.mark.parametrize(
    ("table", "path"),
    [
        ('schema = "schema"\nout = 3', "tool.piccolo-gen.out"),
        ("schema = [1]", "tool.piccolo-gen.schema"),
    ],
)
def test_config_errors(tmp_path: Path, table: str, path: str) -> None:
    (tmp_path / "pyproject.toml").write_text(f"[tool.piccolo-gen]\n{table}\n", encoding="utf-8")
    with pytest.raises(ConfigError) as raised:
        load_config(tmp_path)
    assert raised.value.error.path == path


def test_build_uses_the_configuration(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "pyproject.toml").write_text(
        '[tool.piccolo-gen]\nschema = ["defs"]\n', encoding="utf-8"
    )
    (tmp_path / "defs").mkdir()
    _write(tmp_path / "defs", {"bad.yaml": "tables:\n  Band:\n    columns: {x: {type: nope}}\n"})
    monkeypatch.chdir(tmp_path)
    assert main(["build"]) == 1
    assert capsys.readouterr().err.startswith(
        "defs/bad.yaml:3:25: tables.Band.columns.x.type: unknown column type 'nope'"
    )
