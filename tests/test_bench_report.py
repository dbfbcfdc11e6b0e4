"""The benchmark's verdicts: a measurement that failed is never "met".

The report is tested on hand-made results (no benchmark runs); the mypy
measurement runs for real on a tiny package, with mypy missing and with
mypy reporting an error.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any

import pytest

from bench.cli import Run
from bench.contenders.base import Params
from bench.harness import Cell
from bench.report import OURS, console, ratio, scale_table, target_table, verdict
from bench.scale import PACKAGE, measure_mypy


def _run(scale: list[dict[str, Any]] | None = None) -> Run:
    run = Run(Params(rows=10, w3_queries=1, w4_rows=1, w5_iterations=1, m1_rows=1), 1, True)
    run.scale = scale
    return run


def _scale(**big: Any) -> list[dict[str, Any]]:
    base: dict[str, Any] = {
        "build": 1.0,
        "check": 0.5,
        "lines": 100,
        "import_cold": 0.2,
        "import_warm": 0.1,
        "mypy": None,
        "notes": [],
        "failed": {},
    }
    return [{**base, "tables": 50}, {**base, "tables": 500, **big}]


def _target(run: Run, text: str) -> str:
    (row,) = [line for line in target_table(run) if text in line]
    return row


@pytest.mark.parametrize(
    ("values", "failures", "expected"),
    [
        ([0.03], [], "met"),
        ([0.03], ["exit 1: No module named mypy"], "failed: exit 1: No module named mypy"),
        ([None], ["exit 2: crashed"], "failed: exit 2: crashed"),
        ([None], [], "not measured"),
        ([95.0], [], "**missed**"),
        ([1.0, None], [], "not measured"),
        ([1.0, 2.0], ["a | b\nc"], "failed: a / b c"),
    ],
)
def test_verdict(values: list[float | None], failures: list[str], expected: str) -> None:
    assert verdict(values, 90, failures) == expected


def test_a_failed_mypy_measurement_is_reported_as_failed() -> None:
    reason = "exit 1: /venv/bin/python: No module named mypy"
    run = _run(_scale(failed={"mypy": reason}))
    row = _target(run, "mypy --strict <= 90 s")
    assert row.endswith(f"| ? | | failed: {reason} |")
    assert "met" not in row
    assert "| failed |" in scale_table(run)[3]
    assert f"500 tables: mypy failed: {reason}" in console(run)


def test_a_measured_mypy_run_gets_a_verdict() -> None:
    assert _target(_run(_scale(mypy=30.0)), "mypy --strict").endswith("| 30.00 s | | met |")
    assert _target(_run(_scale(mypy=95.0)), "mypy --strict").endswith("| 95.00 s | | **missed** |")
    assert _target(_run(_scale()), "mypy --strict").endswith("| ? | | not measured |")


def test_a_workload_that_failed_is_not_met() -> None:
    run = _run()
    for mode in ("off", "on"):
        run.cells[(OURS, "W5", mode)] = Cell(error="RuntimeError: boom")
    assert _target(run, "W5 <= 10 us").endswith("| failed: RuntimeError: boom |")
    run.memory = {OURS: "MemoryError: out", "raw driver (the limit)": 100}
    assert _target(run, "M1").endswith("| failed: MemoryError: out |")


def test_a_ratio_is_the_median_of_the_repetitions_ratios() -> None:
    # The machine drifts between repetitions: repetition by repetition ours
    # is 1.5x, 1.1x and 1.0x the limit (median 1.1), while the medians of
    # the times alone would say 1.0x.
    run = _run()
    limit = "raw driver (the limit)"
    run.cells[(limit, "B1 pg", "off")] = Cell(times=[1.0, 3.0, 2.0])
    run.cells[(OURS, "B1 pg", "off")] = Cell(times=[1.5, 3.3, 2.0])
    assert ratio(run, OURS, "B1 pg", "off") == pytest.approx(1.1)
    # Per-operation counts are divided out; with a repetition missing, the
    # ratio of the medians.
    run.cells[(limit, "W3 pg", "off")] = Cell(times=[2.0, 4.0, 3.0], per=2)
    run.cells[(OURS, "W3 pg", "off")] = Cell(times=[3.0, 4.4, 3.0], per=1)
    assert ratio(run, OURS, "W3 pg", "off") == pytest.approx(2 * 1.1)
    run.cells[(OURS, "W3 pg", "off")] = Cell(times=[3.0, 4.4], per=1)
    assert ratio(run, OURS, "W3 pg", "off") == pytest.approx(3.7 / 1.5)


@pytest.fixture
def package(tmp_path: Path) -> Path:
    (tmp_path / PACKAGE).mkdir()
    (tmp_path / PACKAGE / "__init__.py").write_text("")
    return tmp_path


def test_mypy_missing_is_a_failure_with_no_time(package: Path) -> None:
    seconds, failure = measure_mypy(package, dict(os.environ), module="piccolo_gen_no_such_mypy")
    assert seconds is None
    assert failure == f"exit 1: {sys.executable}: No module named piccolo_gen_no_such_mypy"


def test_mypy_errors_are_a_failure_with_no_time(package: Path) -> None:
    (package / PACKAGE / "__init__.py").write_text('x: int = "one"\n')
    seconds, failure = measure_mypy(package, dict(os.environ))
    assert seconds is None
    assert failure == "exit 1: Found 1 error in 1 file (checked 1 source file)"
    (package / PACKAGE / "__init__.py").write_text("x: int = 1\n")
    seconds, failure = measure_mypy(package, dict(os.environ))
    assert failure is None and seconds is not None
