"""The report: a console summary, docs/benchmarks.md and docs/benchmarks.png."""

from __future__ import annotations

import datetime
import importlib.metadata
import os
import platform
import sqlite3
import statistics
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from bench.cli import Run

LIMIT = "raw driver (the limit)"
OURS = "piccolo-gen"
FINDINGS = Path(__file__).with_name("findings.md")

#: Rows of the ratio table, in order: (label, unit of the limit's absolute time).
RATIO_ROWS = [
    ("W1 pg", "ms"),
    ("W2 pg", "ms"),
    ("W3 pg", "us"),
    ("W4 pg", "ms"),
    ("B1 pg", "ms"),
    ("W6 pg", "ms"),
    ("W1 sqlite", "ms"),
    ("W2 sqlite", "ms"),
]
WORKLOADS = {
    "W1": "10,000 rows as dicts",
    "W2": "10,000 rows as objects",
    "W3": "one row by primary key, per query (2,000 sequential queries)",
    "W4": "insert 1,000 rows in one call, ids returned",
    "W5": "build + compile a select with a join, a two-term where, order_by, limit (no database)",
    "W5f": "the same query frozen (no database)",
    "B1": "bulk load of 100,000 rows in one call (no ids returned)",
    "W6": "band.name + manager.name of every band (LEFT JOIN)",
    "M1": "peak memory of W2 at 100,000 rows (tracemalloc)",
}

#: piccolo-gen's targets: (label, what, the bound).
RATIO_TARGETS = [
    ("W2 pg", "<= 1.5x raw __slots__", 1.5),
    ("W2 sqlite", "<= 1.5x raw __slots__", 1.5),
    ("W1 pg", "<= 1.15x raw dict(r)", 1.15),
    ("W1 sqlite", "<= 1.15x raw dict(row)", 1.15),
    ("W6 pg", "<= 1.15x raw dict(r)", 1.15),
    ("W3 pg", "<= 1.5x raw fetchrow (held connection)", 1.5),
    ("W4 pg", "<= 1.3x raw executemany", 1.3),
    ("B1 pg", "<= 1.2x raw copy_records_to_table", 1.2),
]
#: Targets of another way of using piccolo-gen: (contender, label, text, bound).
VARIANT_TARGETS = [
    (
        "piccolo-gen, rows from a generator",
        "B1 pg",
        "<= 1.2x raw copy_records_to_table, rows from a generator",
        1.2,
    ),
]
TIME_TARGETS = [("W5", "<= 10 us", 10e-6), ("W5f", "<= 0.3 us", 0.3e-6)]


def _version(package: str) -> str:
    try:
        return importlib.metadata.version(package)
    except importlib.metadata.PackageNotFoundError:
        return "not installed"


def machine_info(run: Run) -> dict[str, str]:
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    info = {
        "date": datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "machine": f"{cpu}, {os.cpu_count()} cores, {platform.system()} {platform.release()}",
        "python": platform.python_version(),
        "sqlite": sqlite3.sqlite_version,
    }
    info.update(run.info)
    packages = [
        "piccolo-gen",
        "asyncpg",
        "piccolo",
        "sqlalchemy",
        "greenlet",
        "tortoise-orm",
        "aiosqlite",
    ]
    info["versions"] = ", ".join(f"{p} {_version(p)}" for p in packages)
    return info


# -- numbers --------------------------------------------------------------------


def median(run: Run, name: str, label: str, mode: str) -> float | None:
    cell = run.cells.get((name, label, mode))
    return None if cell is None else cell.median


def ratio(run: Run, name: str, label: str, mode: str) -> float | None:
    """``name`` against the limit: the median of the repetitions' ratios.

    Each repetition runs every contender in turn, so the two times of one
    repetition share the machine's state of that moment; a shared machine
    drifts between repetitions by more than the differences measured. With
    unequal counts of times (a contender that failed part-way), the ratio of
    the medians."""
    mine, limit = run.cells.get((name, label, mode)), run.cells.get((LIMIT, label, mode))
    if mine is None or limit is None or mine.median is None or not limit.median:
        return None
    if len(mine.times) == len(limit.times) and all(limit.times):
        scale = limit.per / mine.per  # ratios of per-operation times
        return statistics.median(m / t * scale for m, t in zip(mine.times, limit.times))
    return mine.median / limit.median


def memory_ratio(run: Run, name: str) -> float | None:
    mine, limit = run.memory.get(name), run.memory.get(LIMIT)
    if not isinstance(mine, int) or not isinstance(limit, int) or not limit:
        return None
    return mine / limit


def _cell_text(run: Run, name: str, label: str) -> str:
    if name in run.missing:
        return "failed"
    cells = [run.cells.get((name, label, mode)) for mode in ("off", "on")]
    if all(c is None for c in cells):
        return "–"
    if any(c is not None and c.error for c in cells):
        return "failed"
    parts = []
    for mode in ("off", "on"):
        r = ratio(run, name, label, mode)
        parts.append("?" if r is None else f"{r:.2f}")
    return " / ".join(parts) + ("\\*" if cells[0] and cells[0].note else "")


def _abs(value: float | None, unit: str) -> str:
    if value is None:
        return "?"
    scale = {"ms": 1e3, "us": 1e6}[unit]
    return f"{value * scale:.2f}" if value * scale < 10 else f"{value * scale:.1f}"


def _mib(value: int | str | None) -> str:
    if value is None:
        return "–"
    if isinstance(value, str):
        return "failed"
    return f"{value / 2**20:.1f} MiB"


# -- tables ---------------------------------------------------------------------


def _names(run: Run) -> list[str]:
    """The columns: every contender but the limit, and those that failed to load."""
    return [c.name for c in run.contenders if c.name != LIMIT] + list(run.missing)


def ratio_table(run: Run) -> list[str]:
    names = _names(run)
    lines = [
        "| workload | limit, GC off / on | " + " | ".join(names) + " |",
        "|---|---|" + "---|" * len(names),
    ]
    for label, unit in RATIO_ROWS:
        if not any(k[1] == label for k in run.cells):
            continue
        limit = " / ".join(_abs(median(run, LIMIT, label, m), unit) for m in ("off", "on"))
        suffix = " us/query" if label.startswith("W3") else f" {unit}"
        row = [label, limit + suffix] + [_cell_text(run, n, label) for n in names]
        lines.append("| " + " | ".join(row) + " |")
    if run.memory:
        row = ["M1 pg", _mib(run.memory.get(LIMIT))]
        for n in names:
            r = memory_ratio(run, n)
            value = run.memory.get(n, "failed" if n in run.missing else None)
            row.append(
                "failed"
                if isinstance(value, str)
                else (
                    "–"
                    if value is None
                    else f"{r:.2f} ({_mib(value)})" if r is not None else _mib(value)
                )
            )
        lines.append("| " + " | ".join(row) + " |")
    return lines


def time_table(run: Run) -> list[str]:
    names = [c.name for c in run.contenders] + list(run.missing)
    labels = [label for label in ("W5", "W5f") if any(k[1] == label for k in run.cells)]
    if not labels:
        return []
    lines = [
        "| contender | " + " | ".join(f"{label}, us (GC off / on)" for label in labels) + " |",
        "|---|" + "---|" * len(labels),
    ]
    for name in names:
        row = [name]
        for label in labels:
            if name in run.missing:
                row.append("failed")
                continue
            cells = [run.cells.get((name, label, m)) for m in ("off", "on")]
            if all(c is None for c in cells):
                row.append("–")
            elif any(c is not None and c.error for c in cells):
                row.append("failed")
            else:
                row.append(
                    " / ".join(_abs(median(run, name, label, m), "us") for m in ("off", "on"))
                )
        if any(v != "–" for v in row[1:]):
            lines.append("| " + " | ".join(row) + " |")
    return lines


def _failed(reasons: list[str]) -> str:
    unique = dict.fromkeys(r.replace("|", "/").replace("\n", " ") for r in reasons)
    return "failed: " + "; ".join(unique)


def verdict(values: list[float | None], bound: float, failures: list[str]) -> str:
    """A target's verdict: met only when every value was measured within ``bound``.

    A measurement that failed (``failures``: why) is never met, however
    short it took.
    """
    if failures:
        return _failed(failures)
    if any(v is None for v in values):
        return "not measured"
    return "met" if all(v is not None and v <= bound for v in values) else "**missed**"


def target_table(run: Run) -> list[str]:
    lines = ["| target | GC off | GC on | verdict |", "|---|---|---|---|"]

    def errors(label: str, name: str = OURS) -> list[str]:
        cells = [run.cells.get((name, label, m)) for m in ("off", "on")]
        return [c.error for c in cells if c is not None and c.error]

    ratios = [(OURS, label, text, bound) for label, text, bound in RATIO_TARGETS]
    for name, label, text, bound in [*ratios, *VARIANT_TARGETS]:
        # Ours: a row whenever the workload ran (a failure of ours shows as
        # one); a variant: only where it was measured.
        if not any(k[1] == label and (name == OURS or k[0] == name) for k in run.cells):
            continue
        values = [ratio(run, name, label, m) for m in ("off", "on")]
        shown = ["?" if v is None else f"{v:.2f}x" for v in values]
        v = verdict(values, bound, errors(label, name))
        lines.append(f"| {label} {text} | {shown[0]} | {shown[1]} | {v} |")
    for label, text, bound in TIME_TARGETS:
        if not any(k[1] == label for k in run.cells):
            continue
        values = [median(run, OURS, label, m) for m in ("off", "on")]
        shown = [_abs(v, "us") + " us" for v in values]
        v = verdict(values, bound, errors(label))
        lines.append(f"| {label} {text} | {shown[0]} | {shown[1]} | {v} |")
    if run.memory:
        r = memory_ratio(run, OURS)
        mine = run.memory.get(OURS)
        v = verdict([r], 2, [mine] if isinstance(mine, str) else [])
        ratio_shown = "?" if r is None else f"{r:.2f}x"
        lines.append(f"| M1 <= 2x raw __slots__ objects | {ratio_shown} (GC on) | | {v} |")
    if run.scale:
        big = run.scale[-1]
        scale_targets: list[tuple[str, str, float | None]] = [
            ("build", "build <= 10 s", 10),
            ("mypy", "mypy --strict <= 90 s", 90),
            ("import_warm", "import (.pyc cached) <= 0.5 s", 0.5),
            ("import_cold", "first import (no .pyc), for reference", None),
        ]
        for key, text, limit in scale_targets:
            value = big.get(key)
            failures = [big["failed"][key]] if key in big.get("failed", {}) else []
            seconds = "?" if value is None else f"{value:.2f} s"
            row = f"| generator {big['tables']} tables: {text} | {seconds} | |"
            if limit is None:
                lines.append(f"{row} {_failed(failures) if failures else ''} |")
            else:
                lines.append(f"{row} {verdict([value], limit, failures)} |")
    return lines


def scale_table(run: Run) -> list[str]:
    if run.scale_error:
        return [f"Generator scale failed: {run.scale_error}"]
    if not run.scale:
        return []
    small, big = run.scale[0], run.scale[-1]
    columns = [
        ("build", "build, s"),
        ("check", "no-op --check, s"),
        ("lines", "generated lines"),
        ("mypy", "mypy --strict (cold), s"),
        ("import_cold", "import, no .pyc, s"),
        ("import_warm", "import, .pyc cached, s"),
    ]
    lines = [
        "| tables | " + " | ".join(c[1] for c in columns) + " |",
        "|---|" + "---|" * len(columns),
    ]

    def fmt(value: Any) -> str:
        if value is None:
            return "–"
        return (
            f"{value:,}"
            if isinstance(value, int)
            else f"{value:.2f}" if value >= 0.1 else f"{value:.3f}"
        )

    for entry in run.scale:
        lines.append(
            f"| {entry['tables']} | "
            + " | ".join(
                "failed" if c[0] in entry.get("failed", {}) else fmt(entry.get(c[0]))
                for c in columns
            )
            + " |"
        )
    ratios = []
    for key, _ in columns:
        a, b = small.get(key), big.get(key)
        ratios.append("–" if not a or b is None else f"{b / a:.1f}")
    lines.append(f"| ratio {big['tables']}/{small['tables']} | " + " | ".join(ratios) + " |")
    for entry in run.scale:
        for note in entry.get("notes", []):
            lines.append(f"\n{entry['tables']} tables: {note}")
        for key, reason in entry.get("failed", {}).items():
            lines.append(f"\n{entry['tables']} tables: {key} failed: {reason}")
    return lines


def notes(run: Run) -> list[str]:
    lines = []
    for contender in run.contenders:
        for key, text in contender.notes.items():
            lines.append(f"- {contender.name}, {key}: {text}")
    for (name, label, mode), cell in sorted(run.cells.items()):
        if mode == "off" and cell.note:
            lines.append(f"- \\* {name}, {label}: {cell.note}")
        if mode == "off" and cell.error:
            lines.append(f"- {name}, {label} failed: `{cell.error}`")
    for name, value in run.memory.items():
        if isinstance(value, str):
            lines.append(f"- {name}, M1 failed: `{value}`")
    for name, error in run.missing.items():
        lines.append(f"- {name} could not be loaded: `{error}`")
    return lines


def console(run: Run) -> str:
    parts = [
        "Ratios against the limit (median of the repetitions' time / limit's time; GC off / GC on):"
    ]
    parts += ratio_table(run) + [""] + time_table(run) + [""] + target_table(run) + [""]
    parts += scale_table(run) + [""] + notes(run)
    parts.append(f"\n{run.reps} repetitions per GC mode; run took {run.seconds:.0f} s")
    return "\n".join(parts)


# -- files ----------------------------------------------------------------------


def write(run: Run, docs: Path) -> None:
    docs.mkdir(exist_ok=True)
    chart(run, docs / "benchmarks.png")
    info = run.info
    p = run.params
    text = [
        "# Benchmarks",
        "",
        "<!-- Generated by `python -m bench`; edit bench/report.py or bench/findings.md instead. -->",
        "",
        "piccolo-gen side by side with the raw drivers (the limit) and its peers, all in one",
        "process and one run, on the same PostgreSQL database (TCP, 127.0.0.1) and the same",
        f"SQLite file: `manager` ({100} rows) and `band` ({p.rows:,} rows; every tenth band",
        "has no manager). Reproduce with `pip install -e '.[bench]'` and `python -m bench`",
        "(`--quick`, `--only W2`, `--rows N`); the suite is never part of the test gate.",
        "",
        f"- date: {info.get('date')}",
        f"- machine: {info.get('machine')}",
        f"- Python {info.get('python')}, PostgreSQL {info.get('postgres', '?')}, SQLite {info.get('sqlite')}",
        f"- {info.get('versions')}",
        f"- medians of {run.reps} repetitions per garbage-collector mode (collected before each"
        f" repetition, then off or on while it runs); one warm-up call each; whole run {run.seconds:.0f} s",
        "",
        "This machine has 2 cores and is shared: absolute times move by 10-20% from run to",
        "run, so read the ratios, which compare contenders measured in the same repetitions",
        "(each repetition runs every contender in turn; a ratio is the median of the",
        "repetitions' ratios, the times in the tables are medians).",
        "",
        "## Workloads",
        "",
    ]
    text += [f"- **{k}**: {v}" for k, v in WORKLOADS.items()]
    text += [
        "- **G**: generator scale, synthetic schemas (10 columns, 2 foreign keys per table)",
        "",
        "## Ratios against the limit",
        "",
        "Per repetition, the time divided by the limit's in the same mode; the median of those, GC off / GC on",
        "(lower is better; 1.00 is the raw driver). The limit is asyncpg or sqlite3 with",
        "hand-written SQL, rows as `dict(record)` (W1, W6) or a plain `__slots__` class (W2, W3);",
        "W3's limit is `fetchrow` on one held connection, W4's is `executemany`. The row",
        "`raw driver, pool + RETURNING` is the raw driver used the way piccolo-gen uses it.",
        "M1 is peak traced memory, the ratio against the raw `__slots__` objects.",
        "",
        "![ratios](benchmarks.png)",
        "",
    ]
    text += ratio_table(run)
    text += [
        "",
        "## Query building (no database)",
        "",
        "Microseconds per query (lower is better). piccolo-gen loops 10,000 times, the peers",
        "1,000 times (they are 10-20x slower; the per-query median is what counts). W5f",
        "measures each library's nearest equivalent of a frozen query: see the notes below.",
        "",
    ] + time_table(run)
    text += ["", "## piccolo-gen against its targets", ""] + target_table(run)
    text += [
        "",
        "## Generator scale",
        "",
        "`piccolo-gen build` of one synthetic schema file (each table: 10 columns, 2 of them",
        "foreign keys to earlier tables), as a subprocess, so times include interpreter start-up.",
        "mypy runs cold (`--no-incremental`, no cache) with `--strict` over the generated",
        "package; that includes checking `runtime`, a constant share. Import time is",
        "`import` of the generated package in a fresh interpreter after `runtime` is",
        "imported. Linear growth shows as a 500/50 ratio near 10 (below 10: the",
        "constant start-up share; above 10: faster than linear).",
        "",
    ]
    text += scale_table(run)
    text += ["", "## What each cell measures", ""] + notes(run)
    text += [""]
    if FINDINGS.exists():
        text += [FINDINGS.read_text().rstrip(), ""]
    (docs / "benchmarks.md").write_text("\n".join(text))


def chart(run: Run, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.ticker import FuncFormatter

    names = _names(run)
    labels = [label for label, _ in RATIO_ROWS if any(k[1] == label for k in run.cells)]
    if run.memory:
        labels.append("M1 pg")
    fig, axes = plt.subplots(1, 2, figsize=(14, 0.26 * len(labels) * len(names) + 2.5), sharey=True)
    colors = plt.get_cmap("tab10")
    height = 0.8 / max(1, len(names))
    targets = {label: bound for label, _, bound in RATIO_TARGETS}
    targets["M1 pg"] = 2.0
    for ax, mode in zip(axes, ("off", "on")):
        for j, name in enumerate(names):
            ys, xs = [], []
            for i, label in enumerate(labels):
                r = memory_ratio(run, name) if label == "M1 pg" else ratio(run, name, label, mode)
                if r is not None:
                    ys.append(i + (j - (len(names) - 1) / 2) * height)
                    xs.append(r)
            ax.barh(ys, xs, height=height, color=colors(j), label=name)
            for y, x in zip(ys, xs):
                ax.text(x * 1.03, y, f"{x:.2f}", va="center", fontsize=6)
        for i, label in enumerate(labels):
            if label in targets:
                ax.plot(
                    [targets[label]] * 2,
                    [i - 0.45, i + 0.45],
                    color="black",
                    linestyle=":",
                    linewidth=1.2,
                    label="piccolo-gen target" if i == 0 else None,
                )
        ax.axvline(1.0, color="black", linewidth=0.8)
        ax.set_xscale("log")
        ax.set_xlim(right=ax.get_xlim()[1] * 1.25)  # room for the value labels
        ax.xaxis.set_major_formatter(FuncFormatter(lambda value, _: f"{value:g}"))
        ax.xaxis.set_minor_formatter(
            FuncFormatter(lambda value, _: f"{value:g}" if f"{value:g}"[0] in "235" else "")
        )
        ax.tick_params(axis="x", which="minor", labelsize=7)
        ax.set_title(f"GC {mode}" + (" (M1: one traced run, GC on)" if run.memory else ""))
        ax.set_xlabel("time (M1: memory) / raw driver's, log scale; lower is better")
        ax.grid(axis="x", which="both", alpha=0.3)
    axes[0].set_yticks(range(len(labels)), labels)
    axes[0].set_ylim(len(labels) - 0.5, -0.5)  # first workload at the top (the axis is shared)
    handles, names_shown = axes[0].get_legend_handles_labels()
    fig.legend(
        handles,
        names_shown,
        loc="upper center",
        ncol=4,
        fontsize=8,
        bbox_to_anchor=(0.5, 0.955),
        frameon=False,
    )
    info = run.info
    fig.suptitle("piccolo-gen and peers against the raw driver (1.0 = raw asyncpg / sqlite3)")
    fig.text(
        0.01,
        0.005,
        f"{info.get('date')} | {info.get('machine')} | Python {info.get('python')},"
        f" PostgreSQL {info.get('postgres', '?')}, SQLite {info.get('sqlite')}\n{info.get('versions')}",
        fontsize=7,
        va="bottom",
    )
    fig.tight_layout(rect=(0, 0.04, 1, 0.93))
    fig.savefig(path, dpi=110)
    plt.close(fig)
