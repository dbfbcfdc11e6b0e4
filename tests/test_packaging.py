"""The distribution as pip installs it: the wheel, an editable install, a
production install without the generator's dependencies.

Each test builds or installs for real (pip, the project's build backend, and
fresh virtual environments without pip of their own: this interpreter's pip
installs into them with ``--python``), reusing pip's cache. The module takes
about 40 s, most of it pip setting up the isolated build environment twice.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import sysconfig
import tomllib
import venv
import zipfile
from collections.abc import Iterator
from email.parser import Parser
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from generator import __version__
from generator.cli import EXTRA, GENERATOR_DEPENDENCIES

REPO = Path(__file__).resolve().parent.parent
PYPROJECT = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))
DIST_INFO = f"piccolo_gen-{__version__}.dist-info"


#: The environment for the fresh interpreters: nothing of this one's search path.
CLEAN_ENV = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "MYPYPATH")}


def _pip(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    done = subprocess.run(
        [sys.executable, "-m", "pip", "--disable-pip-version-check", *args],
        cwd=cwd,
        env=CLEAN_ENV,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    return done


def _venv(folder: Path) -> Path:
    """A fresh virtual environment; its python."""
    venv.EnvBuilder(with_pip=False).create(folder)
    return folder / "bin" / "python"


def _site_packages(python: Path) -> Path:
    done = subprocess.run(
        [str(python), "-c", "import sysconfig; print(sysconfig.get_path('purelib'))"],
        env=CLEAN_ENV,
        capture_output=True,
        text=True,
        check=True,
    )
    return Path(done.stdout.strip())


@pytest.fixture(scope="module")
def build_log(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    """The wheel, and what the build backend printed while building it."""
    out = tmp_path_factory.mktemp("wheel")
    done = _pip("wheel", "--no-deps", "--verbose", "--wheel-dir", str(out), str(REPO))
    (built,) = out.glob("*.whl")
    return built, done.stdout + done.stderr


@pytest.fixture(scope="module")
def wheel(build_log: tuple[Path, str]) -> Path:
    return build_log[0]


def test_the_build_gives_no_warnings(build_log: tuple[Path, str]) -> None:
    # Python warnings from the backend (setuptools said
    # "SetuptoolsDeprecationWarning: `project.license` as a TOML table is
    # deprecated" and warned that `generator.templates` was data, not a
    # package); pip's own notes are spelt "WARNING:".
    assert re.findall(r".*\w+Warning\b.*", build_log[1]) == []


@pytest.fixture(scope="module")
def editable(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """A virtual environment with ``pip install -e <repo>``, no extras; its python."""
    python = _venv(tmp_path_factory.mktemp("editable") / "venv")
    _pip("--python", str(python), "install", "--quiet", "-e", str(REPO))
    yield python


def _metadata(wheel: Path) -> tuple[list[str], dict[str, list[str]]]:
    """The wheel's unconditional requirements and its extras' requirements."""
    with zipfile.ZipFile(wheel) as archive:
        message = Parser().parsestr(archive.read(f"{DIST_INFO}/METADATA").decode())
    plain: list[str] = []
    extras: dict[str, list[str]] = {}
    for line in message.get_all("Requires-Dist") or []:
        requirement = Requirement(line)
        name = canonicalize_name(requirement.name)
        if requirement.marker is None:
            plain.append(name)
        for extra in message.get_all("Provides-Extra") or []:
            if requirement.marker is not None and requirement.marker.evaluate({"extra": extra}):
                extras.setdefault(extra, []).append(name)
    return sorted(plain), extras


def test_the_wheel_ships_generator_and_runtime_only(wheel: Path) -> None:
    with zipfile.ZipFile(wheel) as archive:
        names = archive.namelist()
        record = archive.read(f"{DIST_INFO}/RECORD").decode()
    assert {name.split("/")[0] for name in names} == {"generator", "runtime", DIST_INFO}
    # What pip uninstall removes is what RECORD lists: never a `generated/`.
    recorded = {line.split(",")[0].split("/")[0] for line in record.splitlines()}
    assert recorded == {"generator", "runtime", DIST_INFO}
    # The package data comes along, and no build debris.
    assert "generator/templates/module.py.jinja" in names
    assert "generator/schemas/auth.yaml" in names
    assert "runtime/py.typed" in names
    assert f"{DIST_INFO}/licenses/LICENSE" in names
    assert not [name for name in names if "__pycache__" in name or name.endswith(".pyc")]
    sources = {
        path.relative_to(REPO).as_posix()
        for package in ("generator", "runtime")
        for path in (REPO / package).rglob("*")
        if path.is_file() and "__pycache__" not in path.parts
    }
    assert {name for name in names if not name.startswith(DIST_INFO)} == sources


def test_the_license_is_an_spdx_expression(wheel: Path) -> None:
    assert PYPROJECT["project"]["license"] == "MIT"
    with zipfile.ZipFile(wheel) as archive:
        metadata = archive.read(f"{DIST_INFO}/METADATA").decode()
    assert "License-Expression: MIT\n" in metadata
    assert "License-File: LICENSE\n" in metadata


def test_a_production_install_needs_only_the_runtime_dependencies(wheel: Path) -> None:
    plain, extras = _metadata(wheel)
    assert plain == ["asyncpg", "typing-extensions"]
    # The generator's own, in an extra that `piccolo-gen build` names when
    # they are missing.
    assert EXTRA == "piccolo-gen[generator]"
    assert sorted(extras["generator"]) == sorted(
        canonicalize_name(name) for name in GENERATOR_DEPENDENCIES.values()
    )
    # A range, not a pin, for black (scripts/black_range checks its ends).
    (black,) = [
        Requirement(r)
        for r in PYPROJECT["project"]["optional-dependencies"]["generator"]
        if r.startswith("black")
    ]
    assert len(black.specifier) == 2
    assert {spec.operator for spec in black.specifier} == {">=", "<"}
    # Password hashing for user tables, in an extra of its own.
    assert extras["auth"] == ["argon2-cffi"]


def test_pip_uninstall_leaves_a_users_generated_package(wheel: Path, tmp_path: Path) -> None:
    python = _venv(tmp_path / "venv")
    _pip("--python", str(python), "install", "--quiet", "--no-deps", str(wheel))
    site = _site_packages(python)
    assert (site / "runtime" / "__init__.py").is_file()
    assert not (site / "generated").exists()
    # A user's own package of that name, installed next to it.
    (site / "generated").mkdir()
    (site / "generated" / "__init__.py").write_text("MINE = 1\n")
    _pip("--python", str(python), "uninstall", "--yes", "--quiet", "piccolo-gen")
    assert (site / "generated" / "__init__.py").read_text() == "MINE = 1\n"
    assert not (site / "runtime").exists() and not (site / "generator").exists()


PROBE = """\
from typing_extensions import assert_type

from runtime import SQLiteEngine, Varchar
from runtime._columns import Column

engine = SQLiteEngine(path=":memory:")
assert_type(engine, SQLiteEngine)
assert issubclass(Varchar, Column)
x: int = SQLiteEngine  # type: ignore[assignment]  # pyright: ignore[reportAssignmentType]
"""


def test_an_editable_install_is_seen_by_mypy_and_pyright_from_another_folder(
    editable: Path, tmp_path: Path
) -> None:
    # The checkers run from a folder outside the checkout, against the
    # environment's interpreter: they find `runtime` only through a path
    # (.pth) entry, never through an import hook.
    (tmp_path / "probe.py").write_text(PROBE)
    env = CLEAN_ENV
    mypy = subprocess.run(
        [
            sys.executable,
            "-m",
            "mypy",
            "--strict",
            "--warn-unused-ignores",
            "--no-incremental",
            "--config-file",
            os.devnull,
            "--python-executable",
            str(editable),
            "probe.py",
        ],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert mypy.returncode == 0, mypy.stdout + mypy.stderr
    (tmp_path / "pyrightconfig.json").write_text(
        '{"typeCheckingMode": "standard", "enableTypeIgnoreComments": false,'
        ' "reportUnnecessaryTypeIgnoreComment": "error", "reportMissingImports": "error"}'
    )
    pyright = subprocess.run(
        [sys.executable, "-m", "pyright", "--pythonpath", str(editable), "probe.py"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert pyright.returncode == 0, pyright.stdout + pyright.stderr
    assert "0 errors" in pyright.stdout


def test_without_the_extra_the_runtime_runs_and_build_names_the_extra(
    editable: Path, tmp_path: Path
) -> None:
    bin_dir = editable.parent
    runtime = subprocess.run(
        [
            str(editable),
            "-c",
            "import sys, runtime; "
            "print(sorted(m for m in ('black', 'jinja2', 'pydantic', 'yaml') if m in sys.modules))",
        ],
        cwd=tmp_path,
        env=CLEAN_ENV,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert runtime.returncode == 0, runtime.stderr
    assert runtime.stdout == "[]\n"
    # User tables hash with argon2-cffi, the `auth` extra: named when missing.
    hashing = subprocess.run(
        [str(editable), "-c", "import runtime; runtime.BaseUser.hash_password('long enough')"],
        cwd=tmp_path,
        env=CLEAN_ENV,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert hashing.returncode == 1
    assert hashing.stderr.splitlines()[-1] == (
        "ImportError: user tables hash passwords with argon2-cffi, which is not installed: "
        "pip install 'piccolo-gen[auth]'"
    )
    (tmp_path / "pyproject.toml").write_text('[project]\nname = "app"\n')
    (tmp_path / "schema").mkdir()
    (tmp_path / "schema" / "band.yaml").write_text("tables:\n  Band:\n    columns: {}\n")
    build = subprocess.run(
        [str(bin_dir / "piccolo-gen"), "build"],
        cwd=tmp_path,
        env=CLEAN_ENV,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert build.returncode == 1
    missing = ", ".join(GENERATOR_DEPENDENCIES.values())  # none is installed there
    assert build.stderr == (
        f"piccolo-gen build needs the generator's dependencies, and {missing} are not "
        f"installed: pip install '{EXTRA}'\n"
    )
    assert not (tmp_path / "generated").exists()
    version = subprocess.run(
        [str(bin_dir / "piccolo-gen"), "--version"],
        env=CLEAN_ENV,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert version.stdout == f"piccolo-gen {__version__}\n"


def test_pytest_imports_generated_from_the_checkout() -> None:
    import generated

    assert Path(generated.__file__).resolve() == REPO / "generated" / "__init__.py"
    assert PYPROJECT["tool"]["pytest"]["ini_options"]["pythonpath"] == ["."]
    assert sysconfig.get_path("purelib") not in generated.__file__
