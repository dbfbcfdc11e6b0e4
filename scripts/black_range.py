"""Check that both ends of the generator's black range give the same output.

The ``generator`` extra allows a range of black versions (pyproject.toml), and
the generated code must be byte-identical across it. Black changes its stable
style only in a January release, so the versions in between format as the
ends do. This installs the lowest allowed version and the newest one into
temporary folders (``pip install --target``, black alone: its own
dependencies are this environment's) and runs ``tests/test_format.py`` with
each: it holds the renderer's layout to black's and both the fast path and
black over whole modules to the committed ``generated/`` and
``bench/generated/``. A version equal to the installed black is skipped: the
test suite runs with that one.

Usage: python scripts/black_range.py   (about 40 s per version checked)
"""

from __future__ import annotations

import importlib.metadata
import os
import subprocess
import sys
import tempfile
import tomllib
from pathlib import Path

from packaging.requirements import Requirement

REPO = Path(__file__).resolve().parent.parent


def black_requirement() -> Requirement:
    """The ``black`` requirement of the ``generator`` extra."""
    pyproject = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))
    extra = pyproject["project"]["optional-dependencies"]["generator"]
    (black,) = [Requirement(r) for r in extra if Requirement(r).name == "black"]
    return black


def _install(spec: str, target: Path) -> str:
    """Install black ``spec`` alone into ``target``; the version installed."""
    subprocess.run(
        [sys.executable, "-m", "pip", "install", "--quiet", "--disable-pip-version-check"]
        + ["--no-deps", "--target", str(target), spec],
        check=True,
    )
    (dist,) = importlib.metadata.distributions(name="black", path=[str(target)])
    return dist.version


def main() -> int:
    black = black_requirement()
    lows = [spec.version for spec in black.specifier if spec.operator == ">="]
    if len(lows) != 1 or black.specifier.contains("9999"):
        print(f"black must be a range with a lower and an upper bound: {black}", file=sys.stderr)
        return 1
    installed = importlib.metadata.version("black")
    checked = []
    with tempfile.TemporaryDirectory(prefix="piccolo_gen_black_") as temp:
        for label, spec in (("lowest", f"black=={lows[0]}"), ("newest", str(black))):
            target = Path(temp) / label
            version = _install(spec, target)
            if not black.specifier.contains(version):
                print(f"pip installed black {version} for {spec}", file=sys.stderr)
                return 1
            if version == installed or version in checked:
                print(f"black {version} ({label} allowed): the installed one, checked by the suite")
                continue
            print(f"black {version} ({label} allowed): tests/test_format.py", flush=True)
            env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(target), str(REPO)])}
            probe = [sys.executable, "-c", "import black; print(black.__version__)"]
            seen = subprocess.run(probe, env=env, capture_output=True, text=True, check=True)
            assert seen.stdout.strip() == version, seen.stdout  # the target's black is used
            done = subprocess.run(
                [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider"]
                + ["tests/test_format.py"],
                cwd=REPO,
                env=env,
            )
            if done.returncode != 0:
                print(f"black {version} formats differently: narrow the range", file=sys.stderr)
                return 1
            checked.append(version)
    print(f"black {black.specifier}: output identical at {', '.join(checked) or 'the installed'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
