"""Generator scale: build, check, size, mypy and import time for 50 and 500 tables.

Each synthetic table has 10 columns of assorted types, two of them foreign
keys to earlier tables (the first two tables, which have no earlier ones,
have plain integers there). Everything runs as subprocesses in a temporary
folder, the way a user meets it.
"""

from __future__ import annotations

import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from bench.database import REPO

PACKAGE = "synthetic"


def schema_text(tables: int) -> str:
    lines = ["# A synthetic schema for the generator scale benchmark.", "module: tables", "tables:"]
    for i in range(tables):
        lines.append(f"  Table{i:04d}:")
        lines.append("    columns:")
        lines.append("      name: {type: varchar, length: 50}")
        lines.append("      description: {type: text, null: true}")
        lines.append("      amount: {type: integer, default: 0}")
        lines.append("      total: {type: bigint, null: true}")
        lines.append("      active: {type: boolean, default: true}")
        lines.append("      created: {type: timestamp, default: now}")
        lines.append("      price: {type: numeric, digits: [10, 2], null: true}")
        lines.append("      score: {type: double_precision, null: true}")
        if i < 2:
            lines.append("      parent: {type: integer, null: true}")
            lines.append("      other: {type: integer, null: true}")
        else:
            lines.append(
                f"      parent: {{type: foreign_key, references: Table{i - 1:04d}, null: true}}"
            )
            lines.append(f"      other: {{type: foreign_key, references: Table{i // 2:04d}}}")
    return "\n".join(lines) + "\n"


def _timed(
    command: list[str], cwd: Path, env: dict[str, str] | None = None, ok: tuple[int, ...] = (0,)
) -> tuple[float, str, int]:
    start = time.perf_counter()
    done = subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True, timeout=900)
    elapsed = time.perf_counter() - start
    if done.returncode not in ok:
        raise RuntimeError(
            f"{' '.join(command[2:4])} exited {done.returncode}: "
            f"{(done.stdout + done.stderr)[-300:]}"
        )
    return elapsed, done.stdout, done.returncode


def measure_mypy(
    folder: Path, env: dict[str, str], module: str = "mypy"
) -> tuple[float | None, str | None]:
    """Seconds of a cold ``mypy --strict`` over the synthetic package, or why it failed.

    The target is a passing check within the bound, so an exit other than 0
    (type errors, a crash, mypy not installed: ``python -m mypy`` then exits 1
    at once) is a failure with no time, never a fast result.
    """
    command = [
        sys.executable,
        "-m",
        module,
        "--strict",
        "--no-incremental",
        "--cache-dir",
        os.devnull,
        "-p",
        PACKAGE,
    ]
    start = time.perf_counter()
    done = subprocess.run(command, cwd=folder, env=env, capture_output=True, text=True, timeout=900)
    elapsed = time.perf_counter() - start
    if done.returncode == 0:
        return elapsed, None
    lines = (done.stdout + done.stderr).strip().splitlines()
    return None, f"exit {done.returncode}: {lines[-1] if lines else 'no output'}"


def measure_one(tables: int, root: Path, *, mypy: bool, repeat: int) -> dict[str, Any]:
    folder = root / f"t{tables}"
    schema = folder / "schema"
    schema.mkdir(parents=True)
    (schema / "tables.yaml").write_text(schema_text(tables))
    out = folder / PACKAGE
    env = {**os.environ, "PYTHONPATH": str(REPO), "MYPYPATH": str(REPO)}
    env.pop("PYTHONDONTWRITEBYTECODE", None)  # the warm import needs its .pyc
    build = [sys.executable, "-m", "generator", "build", "--schema", str(schema), "--out", str(out)]
    builds = []
    for _ in range(repeat):
        shutil.rmtree(out, ignore_errors=True)
        builds.append(_timed(build, folder, env)[0])
    notes: list[str] = []
    checks = []
    for _ in range(repeat):
        elapsed, _, status = _timed([*build, "--check"], folder, env, ok=(0, 1))
        if status:  # the generator changed between the build and the check
            notes.append("--check found the output stale")
        checks.append(elapsed)
    lines = sum(len(p.read_text().splitlines()) for p in out.glob("*.py"))
    probe = (
        "import time, runtime; start = time.perf_counter(); "
        f"import {PACKAGE}.tables; print(time.perf_counter() - start)"
    )
    cold = [float(_timed([sys.executable, "-B", "-c", probe], folder, env)[1]) for _ in range(3)]
    _timed([sys.executable, "-c", f"import {PACKAGE}.tables"], folder, env)  # writes the .pyc
    warm = [float(_timed([sys.executable, "-c", probe], folder, env)[1]) for _ in range(3)]
    result: dict[str, Any] = {
        "tables": tables,
        "build": statistics.median(builds),
        "check": statistics.median(checks),
        "lines": lines,
        "import_cold": statistics.median(cold),
        "import_warm": statistics.median(warm),
        "mypy": None,
        "notes": notes,
        #: measurement -> why it failed; a failed measurement has no value.
        "failed": {},
    }
    if mypy:
        result["mypy"], failure = measure_mypy(folder, env)
        if failure is not None:
            result["failed"] = {"mypy": failure}
    return result


def measure_scale(*, quick: bool, log: Callable[[str], None] = print) -> list[dict[str, Any]]:
    sizes = (5, 50) if quick else (50, 500)
    root = Path(tempfile.mkdtemp(prefix="piccolo_gen_scale_"))
    results = []
    try:
        for tables in sizes:
            log(
                f"G: generator scale, {tables} tables{'' if not quick else ' (no mypy in --quick)'}..."
            )
            results.append(measure_one(tables, root, mypy=not quick, repeat=1))
    finally:
        shutil.rmtree(root, ignore_errors=True)
    return results


def measure_models(tables: int, root: Path) -> dict[str, Any]:
    """The synthetic schema of ``tables`` tables built with and without its
    pydantic models (``--pydantic``): the size of each module, the build, a
    cold ``mypy --strict`` over the package, and the models module's import."""
    result: dict[str, Any] = {"tables": tables}
    for models in (False, True):
        folder = root / f"m{tables}{'_on' if models else '_off'}"
        schema = folder / "schema"
        schema.mkdir(parents=True)
        (schema / "tables.yaml").write_text(schema_text(tables))
        out = folder / PACKAGE
        env = {**os.environ, "PYTHONPATH": str(REPO), "MYPYPATH": str(REPO)}
        build = [
            *(sys.executable, "-m", "generator", "build"),
            *("--schema", str(schema), "--out", str(out)),
            "--pydantic" if models else "--no-pydantic",
        ]
        key = "on" if models else "off"
        result[f"build_{key}"] = _timed(build, folder, env)[0]
        for path in sorted(out.glob("*.py")):
            text = path.read_text(encoding="utf-8")
            result[f"{path.stem}_lines"] = len(text.splitlines())
            result[f"{path.stem}_bytes"] = len(text.encode())
        result[f"mypy_{key}"], failure = measure_mypy(folder, env)
        if failure is not None:
            result[f"mypy_{key}_failed"] = failure
        if models:
            probe = (
                "import time, runtime, pydantic, synthetic.tables; start = time.perf_counter(); "
                f"import {PACKAGE}.tables_models; print(time.perf_counter() - start)"
            )
            result["models_import"] = float(
                _timed([sys.executable, "-B", "-c", probe], folder, env)[1]
            )
    return result


def _main() -> None:
    import argparse

    parser = argparse.ArgumentParser(
        prog="python -m bench.scale",
        description="Generator scale of the pydantic models (docs/pydantic.md): size and "
        "mypy --strict time of the synthetic schema with the models off and on.",
    )
    parser.add_argument("--sizes", type=int, nargs="+", default=[100, 250, 500])
    sizes = parser.parse_args().sizes
    root = Path(tempfile.mkdtemp(prefix="piccolo_gen_models_"))
    rows = []
    try:
        for tables in sizes:
            print(f"{tables} tables...", flush=True)
            rows.append(measure_models(tables, root))
    finally:
        shutil.rmtree(root, ignore_errors=True)
    print(
        "| tables | tables.py lines (bytes) | tables_models.py lines (bytes) | lines per table, "
        "models | mypy off (s) | mypy on (s) | mypy on per table (ms) | build on (s) "
        "| models import (s) |"
    )
    print("|---|---|---|---|---|---|---|---|---|")
    for r in rows:
        print(
            f"| {r['tables']} | {r['tables_lines']:,} ({r['tables_bytes']:,}) "
            f"| {r['tables_models_lines']:,} ({r['tables_models_bytes']:,}) "
            f"| {r['tables_models_lines'] / r['tables']:.1f} "
            f"| {r['mypy_off'] or float('nan'):.1f} | {r['mypy_on'] or float('nan'):.1f} "
            f"| {1e3 * (r['mypy_on'] or float('nan')) / r['tables']:.0f} "
            f"| {r['build_on']:.1f} | {r['models_import']:.2f} |"
        )
        for key in ("mypy_off_failed", "mypy_on_failed"):
            if key in r:
                print(f"  {key}: {r[key]}")


if __name__ == "__main__":
    _main()
