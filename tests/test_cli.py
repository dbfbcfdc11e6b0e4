"""The command line as a user meets it: the project's configuration, where the
command runs from, what is missing, the pre-commit hook and the demo."""

from __future__ import annotations

import importlib.metadata
import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from generator import __version__
from generator.cli import EXTRA, GENERATOR_DEPENDENCIES, main
from generator.config import KEYS, ConfigError, load_config, source_label

REPO = Path(__file__).resolve().parent.parent

BAND = "tables:\n  Band:\n    columns:\n      name: {type: varchar, length: 50}\n"
SHELF = '[tables.Shelf.columns]\nlabel = { type = "varchar", length = 10 }\n'


def _project(root: Path) -> Path:
    """A project whose schemas are in ``defs/`` and whose package is ``app/models``."""
    (root / "pyproject.toml").write_text(
        '[project]\nname = "app"\n\n[tool.piccolo-gen]\nschema = ["defs"]\nout = "app/models"\n',
        encoding="utf-8",
    )
    (root / "defs").mkdir()
    (root / "defs" / "band.yaml").write_text(BAND, encoding="utf-8")
    (root / "defs" / "shelf.toml").write_text(SHELF, encoding="utf-8")
    (root / "app" / "sub").mkdir(parents=True)
    return root


def _snapshot(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir())}


# -- --version ---------------------------------------------------------------------


def test_version(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        main(["--version"])
    assert exited.value.code == 0
    assert capsys.readouterr().out == f"piccolo-gen {__version__}\n"
    # The distribution's version is read from the same place.
    assert importlib.metadata.version("piccolo-gen") == __version__


# -- [tool.piccolo-gen] -------------------------------------------------------------


@pytest.mark.parametrize(
    ("key", "message"),
    [
        ("schemaa", "unknown key 'schemaa' - did you mean 'schema'?"),
        ("schemas", "unknown key 'schemas' - did you mean 'schema'?"),
        ("Schema", "unknown key 'Schema' - did you mean 'schema'?"),
        ("output", "unknown key 'output' - did you mean 'out'?"),
        ("ou_t", "unknown key 'ou_t' - did you mean 'out'?"),
        ("migration", "unknown key 'migration' - did you mean 'migrations'?"),
        (
            '"odd key"',
            "unknown key 'odd key'; the keys are 'schema', 'out', 'migrations' and 'pydantic'",
        ),
    ],
)
def test_unknown_keys_are_refused_with_a_suggestion(
    tmp_path: Path,
    key: str,
    message: str,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    # Line 6: after other tables and the known keys, so the position is the key's own.
    (tmp_path / "pyproject.toml").write_text(
        '[project]\nname = "x"\n\n[tool.piccolo-gen]\nout = "gen"\n' f"{key} = 3\n",
        encoding="utf-8",
    )
    with pytest.raises(ConfigError) as raised:
        load_config(tmp_path)
    error = raised.value.error
    assert (error.line, error.message) == (6, message)
    # `build` reports it and builds nothing, from the project's folder or below.
    (tmp_path / "schema").mkdir()
    (tmp_path / "schema" / "band.yaml").write_text(BAND, encoding="utf-8")
    (tmp_path / "deep").mkdir()
    monkeypatch.chdir(tmp_path / "deep")
    assert main(["build"]) == 1
    assert str(error).startswith(
        f"{(tmp_path / 'pyproject.toml').as_posix()}:6:1: tool.piccolo-gen."
    )
    assert capsys.readouterr().err == f"{error}\n"
    assert not (tmp_path / "gen").exists()


def test_every_key_the_configuration_knows_is_accepted(tmp_path: Path) -> None:
    values = {
        "schema": '["defs"]',
        "out": '"pkg"',
        "migrations": '"db/migrations"',
        "pydantic": "true",
    }
    assert set(values) == set(KEYS)
    table = "".join(f"{key} = {values[key]}\n" for key in KEYS)
    (tmp_path / "pyproject.toml").write_text(f"[tool.piccolo-gen]\n{table}", encoding="utf-8")
    config = load_config(tmp_path)
    assert (config.schema, config.out) == ((tmp_path / "defs",), tmp_path / "pkg")
    assert config.migrations_folder == tmp_path / "db" / "migrations"
    assert config.pydantic is True


def test_the_pydantic_switch_defaults_to_off_and_is_checked(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text("[tool.piccolo-gen]\n", encoding="utf-8")
    assert load_config(tmp_path).pydantic is False
    (tmp_path / "pyproject.toml").write_text(
        '[tool.piccolo-gen]\npydantic = "yes"\n', encoding="utf-8"
    )
    with pytest.raises(ConfigError) as raised:
        load_config(tmp_path)
    assert str(raised.value.error).endswith(
        ":2:12: tool.piccolo-gen.pydantic: must be true or false"
    )


def test_the_migrations_folder_defaults_and_is_checked(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text("[tool.piccolo-gen]\n", encoding="utf-8")
    assert load_config(tmp_path).migrations_folder == tmp_path / "migrations"
    (tmp_path / "pyproject.toml").write_text(
        "[tool.piccolo-gen]\nmigrations = 3\n", encoding="utf-8"
    )
    with pytest.raises(ConfigError) as raised:
        load_config(tmp_path)
    assert (raised.value.error.line, raised.value.error.message) == (
        2,
        'must be a path, e.g. "migrations"',
    )


def test_a_pyproject_that_is_not_toml_is_located(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text("[tool.piccolo-gen]\nout = \n", encoding="utf-8")
    with pytest.raises(ConfigError) as raised:
        load_config(tmp_path)
    assert raised.value.error.line == 2
    assert raised.value.error.message.startswith("invalid TOML")


def test_build_outside_a_project_mentions_pyproject(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    assert main(["build"]) == 1
    assert main(["build", "--check"]) == 1
    for err in capsys.readouterr().err.splitlines()[::2]:
        assert err == (
            f"piccolo-gen: no pyproject.toml in {tmp_path.resolve()} or a parent folder, "
            "and no schema/ folder here."
        )
    assert list(tmp_path.iterdir()) == []


# -- the working directory ----------------------------------------------------------


def test_build_from_any_folder_of_the_project_writes_the_same_bytes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = _project(tmp_path)
    models = root / "app" / "models"
    monkeypatch.chdir(root)
    assert main(["build"]) == 0
    built = _snapshot(models)
    assert built["band.py"].startswith(
        b"# This file was generated by piccolo-gen from defs/band.yaml.\n"
    )
    assert built["shelf.py"].startswith(
        b"# This file was generated by piccolo-gen from defs/shelf.toml.\n"
    )
    for folder in (root / "defs", root / "app", root / "app" / "sub", models):
        monkeypatch.chdir(folder)
        assert main(["build", "--check"]) == 0, folder
        relative = os.path.relpath(root, folder)
        explicit = ["--schema", f"{relative}/defs", "--out", f"{relative}/app/models"]
        assert main(["build", "--check", *explicit]) == 0, folder
        for name in ("band.py", "shelf.py"):
            (models / name).unlink()
        assert main(["build"]) == 0
        assert _snapshot(models) == built, folder


@pytest.mark.parametrize("folder", ["schema", "generated", "tests/typing", "docs"])
def test_the_repository_checks_clean_from_its_subfolders(
    folder: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(REPO / folder)
    assert main(["build", "--check"]) == 0, capsys.readouterr().out


def test_source_label_outside_any_project(tmp_path: Path) -> None:
    (tmp_path / "a").mkdir()
    (tmp_path / "a" / "band.yaml").write_text(BAND, encoding="utf-8")
    assert source_label(tmp_path / "a" / "band.yaml") == "band.yaml"
    (tmp_path / "pyproject.toml").write_text("", encoding="utf-8")
    assert source_label(tmp_path / "a" / ".." / "a" / "band.yaml") == "a/band.yaml"


# -- the generator's dependencies ---------------------------------------------------


@pytest.mark.parametrize("module", sorted(GENERATOR_DEPENDENCIES))
def test_build_without_a_generator_dependency_names_the_extra(
    module: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    root = _project(tmp_path)
    monkeypatch.chdir(root)
    # None in sys.modules makes `import module` raise ImportError, as when the
    # distribution is not installed (tests/test_packaging.py checks a real one).
    monkeypatch.setitem(sys.modules, module, None)
    assert main(["build"]) == 1
    err = capsys.readouterr().err
    assert err == (
        "piccolo-gen build needs the generator's dependencies, and "
        f"{GENERATOR_DEPENDENCIES[module]} is not installed: pip install '{EXTRA}'\n"
    )
    assert not (root / "app" / "models").exists()


def test_json_schema_without_pydantic_names_the_extra(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setitem(sys.modules, "pydantic", None)
    assert main(["json-schema"]) == 1
    assert f"pip install '{EXTRA}'" in capsys.readouterr().err


# -- the pre-commit hook ------------------------------------------------------------


def _hook() -> dict[str, object]:
    hooks = yaml.safe_load((REPO / ".pre-commit-hooks.yaml").read_text(encoding="utf-8"))
    (hook,) = [h for h in hooks if h["id"] == "piccolo-gen"]
    assert isinstance(hook, dict)
    return hook


def _runs_for(hook: dict[str, object], staged: list[str]) -> bool:
    """Whether pre-commit runs ``hook`` for a commit of ``staged`` (its file
    selection: ``always_run``, else ``files`` and ``exclude`` searched in each
    path)."""
    if hook.get("always_run"):
        return True
    files = re.compile(str(hook.get("files", "")))
    exclude = re.compile(str(hook.get("exclude", "^$")))
    return any(files.search(p) and not exclude.search(p) for p in staged)


@pytest.mark.parametrize(
    "staged",
    [
        ["defs/band.yaml"],
        ["app/models/band.py"],
        ["app/models/__init__.py"],
        ["app/models/py.typed"],
        ["pyproject.toml"],
        ["README.md"],
    ],
)
def test_pre_commit_hook_runs_whatever_is_staged(staged: list[str]) -> None:
    # Hand edits to generated files, a changed configuration, and a commit
    # that deletes a generated module (pre-commit passes no deleted paths)
    # must all reach the hook.
    hook = _hook()
    assert _runs_for(hook, staged)
    assert hook["pass_filenames"] is False
    # pre-commit installs the hook with `pip install . <additional_dependencies>`.
    assert hook["additional_dependencies"] == [".[generator]"]


@pytest.mark.parametrize(
    "edit",
    [
        "append to band.py",
        "empty shelf.py",
        "edit __init__.py",
        "delete band.py",
        "delete py.typed",
    ],
)
def test_pre_commit_hook_undoes_hand_edits(
    edit: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = _project(tmp_path)
    models = root / "app" / "models"
    monkeypatch.chdir(root)
    command = shlex.split(str(_hook()["entry"]))
    assert command[0] == "piccolo-gen"
    assert main(command[1:]) == 0
    built = _snapshot(models)
    # Nothing to do: the hook passes (exit 0, no file changed).
    assert main(command[1:]) == 0
    assert _snapshot(models) == built
    verb, name = edit.split()[0], edit.split()[-1]
    target = models / name
    if verb == "delete":
        target.unlink()
    elif verb == "empty":
        target.write_text("")
    else:
        target.write_text(target.read_text() + "x = 1  # a hand edit\n")
    assert _snapshot(models) != built
    # pre-commit fails a hook that changed files: this one restores them.
    assert main(command[1:]) == 0
    assert _snapshot(models) == built


# -- the demo -----------------------------------------------------------------------


def _run_in_repo(*args: str) -> subprocess.CompletedProcess[str]:
    """A command run from the repository root, as the README runs it."""
    return subprocess.run(
        [sys.executable, *args],
        cwd=REPO,
        env={**os.environ, "PYTHONPATH": str(REPO)},
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_demo_prints_the_sql_of_its_first_query(tmp_path: Path) -> None:
    database = tmp_path / "music.sqlite"
    # The README's main job: the project's migrations make the tables.
    url = f"sqlite:///{database}"
    forwards = _run_in_repo("-m", "generator", "migrations", "forwards", "--database", url)
    assert forwards.returncode == 0, forwards.stderr
    demo = _run_in_repo("examples/music_demo.py", str(database))
    assert demo.returncode == 0, demo.stderr
    lines = demo.stdout.splitlines()
    first = lines[lines.index("") + 1]  # the first query, as the demo shows it
    assert first.startswith("Band.select(")
    sql = lines[lines.index("SQL of the first query:") + 1].strip()
    from generated.music import Band

    assert sql == str(eval(first, {"Band": Band}))  # the demo's own text, not input
    # And those rows are the ones that query returns.
    shown = lines[lines.index(first) + 1 : lines.index(first) + 4]
    assert [line.strip() for line in shown] == [
        "{'name': 'Rustaceans', 'manager.name': 'Graydon'}",
        "{'name': 'Pythonistas', 'manager.name': 'Guido'}",
        "{'name': 'Unmanaged', 'manager.name': None}",
    ]
    # Run again on the same database: it starts from empty tables.
    again = _run_in_repo("examples/music_demo.py", str(database))
    assert again.returncode == 0, again.stderr
    assert again.stdout == demo.stdout


def test_demo_without_migrations_says_how_to_make_the_tables(tmp_path: Path) -> None:
    demo = _run_in_repo("examples/music_demo.py", str(tmp_path / "empty.sqlite"))
    assert demo.returncode == 1
    assert "piccolo-gen migrations forwards --database sqlite:///" in demo.stderr
    assert "shirt" in demo.stderr  # the first table it deleted from
