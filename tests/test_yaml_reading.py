"""Reading YAML through libyaml gives exactly what the pure-Python parser gives.

``generator.yaml_source`` composes documents with libyaml when PyYAML has it
and falls back to the pure-Python parser for errors and for the few things
the two parsers disagree on. Data, positions, reading problems and error
messages must be the same either way: they are what schema errors show.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from bench.scale import schema_text
from generator import yaml_source
from generator.positions import ParsedText
from generator.yaml_source import read_yaml

REPO = Path(__file__).resolve().parent.parent

pytestmark = pytest.mark.skipif(
    not yaml.__with_libyaml__, reason="PyYAML was built without libyaml"
)


def _pure(text: str, monkeypatch: pytest.MonkeyPatch) -> ParsedText:
    with monkeypatch.context() as patch:
        patch.setattr(yaml_source, "_FastLoader", None)
        return read_yaml(text)


def _same(text: str, monkeypatch: pytest.MonkeyPatch) -> ParsedText:
    fast = read_yaml(text)
    assert fast == _pure(text, monkeypatch)
    return fast


@pytest.mark.parametrize(
    "path",
    sorted(
        str(path.relative_to(REPO))
        for folder in ("schema", "bench/schema", "tests/cases")
        for path in (REPO / folder).rglob("*.y*ml")
    ),
)
def test_every_yaml_file_of_the_project(path: str, monkeypatch: pytest.MonkeyPatch) -> None:
    _same((REPO / path).read_text(encoding="utf-8"), monkeypatch)


@pytest.mark.parametrize(
    "text",
    [
        # What libyaml accepts and the pure-Python scanner does not.
        "tables:\n  T:\n    columns:\n      a: {type:\ttext}\n",
        "tables:\n  T:\n    columns:\n      a: {type: t?xt}\n",
        "a:\n  title:: {type: t?ext}\n",
        "x: !&!int twelve\n",
        # Where libyaml puts an empty value or counts a byte order mark.
        "enums:\n  Size: {small: , large: l}\n",
        "tables:\n  T:\n    columns:\n      a:\n      b: {type: text}\n",
        "tables:\n  T\ufeff: {columns: {}}\n",
        # Errors, reported by the pure-Python parser.
        "tables:\n  T:\n    columns:\n      a: {type: text\n",
        "a: b\nc: d\x07e\n",
        "- a\nb: c\n",
        # Valid documents the fast path reads.
        "\ufefftables:\n  Bänd:\n    columns:\n      näme: {type: text, default: 'héllo ☃'}\n",
        "tables:\r\n  T:\r\n    columns:\r\n      a: {type: text}\r\n      a: {type: text}\r\n",
        "base: &b {type: integer, null: true}\ntables:\n  T:\n    columns:\n"
        "      a: *b\n      c:\n        <<: *b\n        default: 3\n",
        "a: &a\n  b: *a\n",
        "tables:\n  T:\n    help_text: Is it? Yes.\n    columns: {a: {type: text}}\n",
        "enums: {E: {no: n, off: f}}\nx: [12:30, 2024-01-31, 0x1F, 0o17, .inf, ~]\n",
        "",
        "# only a comment\n",
    ],
)
def test_documents_the_parsers_read_differently(text: str, monkeypatch: pytest.MonkeyPatch) -> None:
    _same(text, monkeypatch)


def test_a_control_character_is_a_syntax_error_with_a_position(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    parsed = _same("a: b\nc: d\x07e\n", monkeypatch)
    assert parsed.syntax_error == (
        "invalid YAML: unacceptable character #x0007: special characters are not allowed",
        2,
        5,
    )


def test_large_schemas_take_the_fast_path() -> None:
    assert yaml_source._FastLoader is not None
    text = schema_text(20)
    assert yaml_source._read_fast(yaml_source._FastLoader, text) == read_yaml(text)
