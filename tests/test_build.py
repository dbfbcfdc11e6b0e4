"""Writing and checking the generated package, with a stand-in renderer.

The renderer is replaced so that these tests are about ``build`` alone:
atomic writes, unchanged files left alone, stale files removed, ``--check``.
The last test runs the real pipeline on a large schema with an error.
"""

from __future__ import annotations

import os
import sys
import types
from pathlib import Path

import pytest

from generator import GENERATED_MARKER
from generator.cli import main
from generator.errors import GeneratorBug, SchemaError, SchemaErrors
from generator.fmt import Chunk, format_source
from generator.load import LoadedSchema


def _fake_render(schemas: list[LoadedSchema]) -> dict[str, list[Chunk]]:
    # Deliberately unformatted, so that the tests see black's work.
    files = {
        f"{schema.module}.py": [
            Chunk(f"{GENERATED_MARKER}\nTABLES=( {', '.join(map(repr, schema.spec.tables))}, )\n")
        ]
        for schema in schemas
    }
    files["__init__.py"] = [Chunk(f"{GENERATED_MARKER}\n")]
    return files


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    fake = types.ModuleType("generator.render")
    fake.render_package = _fake_render  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "generator.render", fake)
    (tmp_path / "schema").mkdir()
    (tmp_path / "schema" / "music.yaml").write_text(
        "tables:\n  Band:\n    columns: {}\n", encoding="utf-8"
    )
    monkeypatch.chdir(tmp_path)
    return tmp_path


def _build(*extra: str) -> int:
    return main(["build", "--schema", "schema", "--out", "generated", *extra])


def test_build_writes_formatted_files(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert _build() == 0
    assert capsys.readouterr().out.splitlines() == [
        "wrote generated/__init__.py",
        "wrote generated/music.py",
        "wrote generated/py.typed",
    ]
    assert (
        project / "generated" / "music.py"
    ).read_text() == f'{GENERATED_MARKER}\nTABLES = ("Band",)\n'
    assert (project / "generated" / "py.typed").read_bytes() == b""
    assert not list((project / "generated").glob(".*.tmp"))


def test_unchanged_files_are_not_rewritten(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert _build() == 0
    music = project / "generated" / "music.py"
    os.utime(music, ns=(1_000_000_000, 1_000_000_000))
    capsys.readouterr()
    assert _build() == 0
    assert capsys.readouterr().out == "nothing to do\n"
    assert music.stat().st_mtime_ns == 1_000_000_000


def test_stale_generated_files_are_deleted_and_others_kept(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = project / "generated"
    out.mkdir()
    (out / "old.py").write_text(f"{GENERATED_MARKER} from schema/old.yaml\n", encoding="utf-8")
    (out / "mine.py").write_text("# hand-written\n", encoding="utf-8")
    assert _build() == 0
    assert "deleted generated/old.py" in capsys.readouterr().out
    assert not (out / "old.py").exists()
    assert (out / "mine.py").read_text() == "# hand-written\n"


def test_check_reports_a_diff_and_writes_nothing(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert _build() == 0
    music = project / "generated" / "music.py"
    music.write_text(music.read_text() + "EDITED = 1\n", encoding="utf-8")
    (project / "generated" / "py.typed").unlink()
    capsys.readouterr()
    assert _build("--check") == 1
    captured = capsys.readouterr()
    assert "--- a/generated/music.py\n+++ b/generated/music.py\n" in captured.out
    assert "-EDITED = 1\n" in captured.out
    assert "--- /dev/null\n+++ b/generated/py.typed\n" in captured.out
    assert "generated/ is out of date (2 files)" in captured.err
    assert "EDITED = 1" in music.read_text()
    assert not (project / "generated" / "py.typed").exists()


def test_check_up_to_date(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert _build() == 0
    capsys.readouterr()
    assert _build("--check") == 0
    assert capsys.readouterr().out == "generated/ is up to date\n"


def test_check_of_a_missing_output_folder(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert _build("--check") == 1
    assert "--- /dev/null\n+++ b/generated/music.py\n" in capsys.readouterr().out
    assert not (project / "generated").exists()


def test_render_errors_are_reported_like_schema_errors(
    project: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    def failing(schemas: list[LoadedSchema]) -> dict[str, list[Chunk]]:
        raise SchemaErrors([SchemaError("schema/music.yaml", None, None, "tables", "a cycle")])

    monkeypatch.setattr(sys.modules["generator.render"], "render_package", failing)
    assert _build() == 1
    assert (
        capsys.readouterr().err
        == "schema/music.yaml: tables: a cycle\n1 error; nothing was written\n"
    )
    assert not (project / "generated").exists()


def test_invalid_generated_code_is_a_generator_bug(
    project: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(
        sys.modules["generator.render"],
        "render_package",
        lambda schemas: {"music.py": [Chunk("def (:\n")]},
    )
    assert _build() == 1
    err = capsys.readouterr().err
    assert "generated/music.py is not valid Python" in err
    assert "1 | def (:" in err
    assert not (project / "generated").exists()


def test_format_source_checks_the_result_with_ast(monkeypatch: pytest.MonkeyPatch) -> None:
    # Whatever black returns must still parse; stand in for a black that
    # returned something broken.
    monkeypatch.setattr("generator.fmt.black.format_str", lambda code, mode: "def (:\n")
    with pytest.raises(GeneratorBug) as raised:
        format_source("x = 1\n", origin="generated/m.py")
    assert "generated/m.py is not valid Python (line 1: invalid syntax)" in str(raised.value)
    assert "1 | def (:" in str(raised.value)


def test_format_source_is_black() -> None:
    assert format_source("x=( 1,2 )\n", origin="m.py") == "x = (1, 2)\n"


def test_missing_schema_folder(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["build", "--schema", "nowhere", "--out", "generated"]) == 1
    assert (
        capsys.readouterr().err == "nowhere: no such file or folder\n1 error; nothing was written\n"
    )


def test_a_large_schema_with_an_error_reports_its_place_and_writes_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # The real renderer and libyaml's fast path, on the benchmark's schema.
    from bench.scale import schema_text

    text = schema_text(50).replace("references: Table0020}", "references: Table0200}", 1)
    (tmp_path / "schema").mkdir()
    (tmp_path / "schema" / "tables.yaml").write_text(text, encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    assert _build() == 1
    line = 1 + text.splitlines().index("      other: {type: foreign_key, references: Table0200}")
    err = capsys.readouterr().err
    assert err.startswith(f"schema/tables.yaml:{line}:"), err
    assert "Table0200" in err and err.endswith("1 error; nothing was written\n")
    assert not (tmp_path / "generated").exists()
