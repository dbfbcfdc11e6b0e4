"""Snapshot tests of schema error messages: errors are the generator's product.

Each folder in ``tests/cases/`` with an ``expected_errors.txt`` is one case:
its schema files are built with the real command line, which must fail,
print exactly the expected errors and leave the output folder untouched.

To add a case, create ``tests/cases/<name>/`` with its schema files and an
empty ``expected_errors.txt``, run ``UPDATE_SNAPSHOTS=1 pytest
tests/test_schema_errors.py`` and review the snapshot before committing it.
"""

from __future__ import annotations

import os
import sys
import types
from pathlib import Path

import pytest

from generator import GENERATED_MARKER
from generator.cli import main
from generator.load import LoadedSchema

CASES = Path(__file__).parent / "cases"
SNAPSHOT = "expected_errors.txt"
UPDATE = os.environ.get("UPDATE_SNAPSHOTS") == "1"

ERROR_CASES = sorted(path.parent.name for path in CASES.glob(f"*/{SNAPSHOT}"))

# One case per kind of error the schema language must report well.
REQUIRED_CASES = {
    "yaml_syntax_error",
    "toml_syntax_error",
    "unknown_column_type",
    "unknown_option",
    "missing_varchar_length",
    "wrong_default_type",
    "unknown_foreign_key_target",
    "unknown_module",
    "duplicate_table",
    "duplicate_column",
    "python_keyword_name",
    "runtime_attribute_clash",
    "unknown_choices_enum",
    "two_primary_keys",
    "several_errors",
}


def test_every_required_case_exists() -> None:
    assert REQUIRED_CASES <= set(ERROR_CASES)


def _render_must_not_run(schemas: list[LoadedSchema]) -> dict[str, str]:
    raise AssertionError("render_package ran although the schema has errors")


def _snapshot(folder: Path) -> dict[str, tuple[bytes, int]]:
    return {path.name: (path.read_bytes(), path.stat().st_mtime_ns) for path in folder.iterdir()}


@pytest.mark.parametrize("case", ERROR_CASES)
def test_schema_errors(
    case: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    case_dir = CASES / case
    out = tmp_path / "generated"
    out.mkdir()
    # A hand-written file, and a stale generated one that a successful
    # build would delete: a failed build must leave both as they are.
    (out / "hand_written.py").write_bytes(b"# not generated\nVALUE = 1\n")
    (out / "stale.py").write_text(f"{GENERATED_MARKER}\n", encoding="utf-8")
    before = _snapshot(out)
    fake_render = types.ModuleType("generator.render")
    fake_render.render_package = _render_must_not_run  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "generator.render", fake_render)
    # Messages show paths relative to the current directory: running from
    # the case folder keeps snapshots independent of where the repo is.
    monkeypatch.chdir(case_dir)

    status = main(["build", "--schema", str(case_dir), "--out", str(out)])

    captured = capsys.readouterr()
    assert status == 1
    assert captured.out == ""
    assert _snapshot(out) == before
    expected_file = case_dir / SNAPSHOT
    if UPDATE:
        expected_file.write_text(captured.err, encoding="utf-8")
    assert captured.err == expected_file.read_text(encoding="utf-8")
