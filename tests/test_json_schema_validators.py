"""The language's JSON Schema, run by the standard validator (check-jsonschema).

``piccolo-gen json-schema`` is what editors and pre-commit hooks validate
schema files with, so it must accept every file piccolo-gen accepts: above
all ``null: true``, a key that YAML tools read as YAML's null instead of
the option's name (see ``generator.model._NULL_KEY_PATTERN``).
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from generator.load import SCHEMA_SUFFIXES, read_schema
from generator.model import json_schema

ROOT = Path(__file__).resolve().parents[1]
CASES = ROOT / "tests" / "cases"

#: Cases whose only errors are options a column type cannot do without
#: (varchar's length, ...): the JSON Schema carries those rules too, so the
#: validator rightly rejects their files although they are of the right shape.
REQUIRED_OPTION_CASES = {"missing_varchar_length", "options_by_type"}
#: check-jsonschema's YAML loader raises a traceback on ``!! int twelve``
#: instead of reporting the file: it cannot be part of one validator run.
UNREADABLE_FOR_THE_VALIDATOR = {"yaml_reading_problems"}


def _schema_files(folder: Path) -> list[Path]:
    return sorted(path for path in folder.rglob("*") if path.suffix in SCHEMA_SUFFIXES)


def _meant_to_be_valid(path: Path) -> bool:
    """A case file piccolo-gen reads with no shape error, outside the cases above."""
    case = path.relative_to(CASES).parts[0]
    return case not in REQUIRED_OPTION_CASES and not read_schema(path)[1]


CASE_FILES = _schema_files(CASES)
VALID_FILES = [
    *_schema_files(ROOT / "schema"),
    *_schema_files(ROOT / "bench" / "schema"),
    *(path for path in CASE_FILES if _meant_to_be_valid(path)),
]
INVALID_FILES = [
    path
    for path in CASE_FILES
    if not _meant_to_be_valid(path)
    and path.relative_to(CASES).parts[0] not in UNREADABLE_FOR_THE_VALIDATOR
]


@pytest.fixture(scope="module")
def schema_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("json_schema") / "piccolo-gen.schema.json"
    path.write_text(json.dumps(json_schema()), encoding="utf-8")
    return path


def _check(schema_file: Path, files: list[Path]) -> dict[str, Any]:
    """check-jsonschema's JSON report on ``files``."""
    result = subprocess.run(
        [sys.executable, "-m", "check_jsonschema", "-o", "json", "--schemafile", str(schema_file)]
        + [str(path) for path in files],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode in (0, 1), result.stderr
    report: dict[str, Any] = json.loads(result.stdout)
    return report


def test_the_validator_accepts_every_valid_schema_file(schema_file: Path) -> None:
    # The files include YAML's typed keys: `null:` (many), and TOML's `null =`.
    with_null_key = [p for p in VALID_FILES if p.suffix != ".toml" and "null: " in p.read_text()]
    assert len(with_null_key) >= 3 and any(p.suffix == ".toml" for p in VALID_FILES)
    report = _check(schema_file, VALID_FILES)
    assert report["status"] == "ok", json.dumps(report, indent=2)


def test_the_validator_rejects_every_invalid_case_file(schema_file: Path, tmp_path: Path) -> None:
    # And ``null:`` is checked as the option (a boolean), not waved through.
    null_key = tmp_path / "schema.yaml"
    null_key.write_text(
        "tables:\n"
        "  Band:\n"
        "    columns:\n"
        "      name: {type: text, null: 3}\n"
        "      rank: {type: integer, nul: true}\n",
        encoding="utf-8",
    )
    report = _check(schema_file, [*INVALID_FILES, null_key])
    reported = {
        Path(item["filename"]).resolve() for item in [*report["errors"], *report["parse_errors"]]
    }
    assert len(INVALID_FILES) >= 10
    assert reported == {*INVALID_FILES, null_key.resolve()}
    found = sorted(
        (error["path"], error["message"])
        for error in report["errors"]
        if Path(error["filename"]) == null_key
    )
    assert found == [
        ("$.tables.Band.columns.name.None", "3 is not of type 'boolean'"),
        ("$.tables.Band.columns.rank", "'nul' does not match any of the regexes: '^(null|None)$'"),
    ]
