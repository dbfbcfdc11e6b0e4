"""``python -m bench``: run every contender, in one process, on the same data.

    python -m bench                 # the full run; rewrites docs/benchmarks.{md,png}
    python -m bench --quick         # fewer repetitions and smaller sizes; prints only
    python -m bench --only W2 W3    # some workloads (W1..W6, W5f, B1, M1, G = generator scale)
    python -m bench --rows 20000    # another table size
    python -m bench --profile W2    # profile piccolo-gen on workloads (pyinstrument)

Only a full run with the default sizes writes docs/ (``--write`` forces it).
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import shutil
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from bench import harness
from bench.contenders import load_all
from bench.contenders.base import PG_WORKLOADS, SQLITE_WORKLOADS, Contender, Params
from bench.database import REPO, Databases, open_databases, pg_grow, pg_trim
from bench.harness import Cell

ROWS = 10_000
ALL_KEYS = ("W1", "W2", "W3", "W4", "W5", "W5f", "W6", "B1", "M1", "G")
LIST_RESULTS = {"W1", "W2", "W6"}


class Run:
    """Everything one run measured, for the report."""

    def __init__(self, params: Params, reps: int, quick: bool) -> None:
        self.params = params
        self.reps = reps
        self.quick = quick
        self.contenders: list[Contender] = []
        #: Contenders that could not even be imported: name -> error.
        self.missing: dict[str, str] = {}
        #: (contender name, "W1 pg" / "W5" ..., "off" / "on") -> Cell
        self.cells: dict[tuple[str, str, str], Cell] = {}
        #: (contender name) -> peak bytes, or an error string
        self.memory: dict[str, int | str] = {}
        self.scale: list[dict[str, Any]] | None = None
        self.scale_error: str | None = None
        self.info: dict[str, str] = {}
        self.seconds = 0.0


def _parse(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m bench",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "--quick", action="store_true", help="3 repetitions, smaller sizes (<2 min)"
    )
    parser.add_argument(
        "--only",
        nargs="+",
        metavar="KEY",
        default=None,
        help="workloads to run: " + ", ".join(ALL_KEYS),
    )
    parser.add_argument("--rows", type=int, default=ROWS, help="bands in the table (default 10000)")
    parser.add_argument("--reps", type=int, default=None, help="repetitions per GC mode")
    parser.add_argument("--write", action="store_true", help="write docs/ even for a partial run")
    parser.add_argument(
        "--profile",
        nargs="*",
        metavar="KEY",
        default=None,
        help="profile piccolo-gen on these workloads instead (default W1 W2 W3 W4 W5 W6)",
    )
    args = parser.parse_args(argv)
    if args.only:
        keys = [k for item in args.only for k in item.replace(",", " ").split()]
        unknown = [k for k in keys if k not in ALL_KEYS]
        if unknown:
            parser.error(f"unknown workload(s) {', '.join(unknown)}; known: {', '.join(ALL_KEYS)}")
        args.only = set(keys)
    return args


def main(argv: list[str] | None = None) -> int:
    args = _parse(argv)
    quick = args.quick
    params = Params(
        rows=args.rows,
        w3_queries=500 if quick else 2_000,
        w4_rows=1_000,
        w5_iterations=1_000 if quick else 10_000,
        m1_rows=20_000 if quick else 100_000,
        b1_rows=20_000 if quick else 100_000,
    )
    reps = args.reps or (3 if quick else 7)
    if args.profile is not None:
        from bench.profile import profile

        return profile(args.profile or ["W1", "W2", "W3", "W4", "W5", "W6"], params)
    only: set[str] = args.only or set(ALL_KEYS)
    run = Run(params, reps, quick)
    started = time.perf_counter()
    workdir = Path(tempfile.mkdtemp(prefix="piccolo_gen_bench_"))
    try:
        run.contenders = load_all(lambda name, error: run.missing.__setitem__(name, error))
        for name, error in run.missing.items():
            print(f"! {name} unavailable: {error}", flush=True)
        if only - {"G"}:
            print(f"preparing databases ({params.rows} bands)...", flush=True)
            db = open_databases(params.rows, workdir)
            try:
                asyncio.run(_measure(run, db, only))
            finally:
                db.stop()
        if "G" in only:
            from bench.scale import measure_scale

            try:
                run.scale = measure_scale(quick=quick, log=lambda text: print(text, flush=True))
            except Exception as error:
                run.scale_error = harness.describe(error)
                print(f"! generator scale failed: {run.scale_error}", flush=True)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    run.seconds = time.perf_counter() - started

    from bench import report

    run.info = report.machine_info(run)
    print()
    print(report.console(run))
    full = only == set(ALL_KEYS) and not quick and params.rows == ROWS and args.reps is None
    if full or args.write:
        report.write(run, REPO / "docs")
        print("wrote docs/benchmarks.md and docs/benchmarks.png")
    return 0


async def _measure(run: Run, db: Databases, only: set[str]) -> None:
    import asyncpg

    params = run.params
    admin: Any = None
    if db.pg_dsn is None:
        print(f"! PostgreSQL unavailable, its workloads are skipped: {db.pg_problem}")
        run.info["postgres"] = "unavailable"
    else:
        admin = await asyncpg.create_pool(db.pg_dsn, min_size=1, max_size=1)
        run.info["postgres"] = (await admin.fetchval("SHOW server_version")).split()[0]
    try:
        for engine, keys in (("pg", PG_WORKLOADS), ("sqlite", SQLITE_WORKLOADS)):
            if engine == "pg" and admin is None:
                continue
            wanted = [k for k in keys if k in only]
            want_memory = engine == "pg" and "M1" in only
            if not wanted and not want_memory:
                continue
            started: list[Contender] = []
            works: dict[str, dict[str, Any]] = {}
            for contender in run.contenders:
                try:
                    await contender.start(db, engine, params)
                    started.append(contender)
                    works[contender.name] = contender.workloads(engine, params)
                except Exception as error:
                    print(
                        f"! {contender.name} failed to start on {engine}: {harness.describe(error)}"
                    )
                    works[contender.name] = {"*": harness.describe(error)}
            try:
                for key in wanted:
                    label = key if key in ("W5", "W5f") else f"{key} {engine}"
                    await _workload(run, admin, label, key, works)
                if want_memory:
                    await _memory(run, admin, works)
            finally:
                for contender in started:
                    try:
                        await contender.stop(engine)
                    except Exception as error:
                        print(f"! {contender.name} failed to stop: {harness.describe(error)}")
    finally:
        if admin is not None:
            await admin.close()


def _per(key: str, params: Params) -> int:
    if key == "W3":
        return params.w3_queries
    if key in ("W5", "W5f"):
        return params.w5_iterations
    return 1


async def _workload(
    run: Run, admin: Any, label: str, key: str, works: dict[str, dict[str, Any]]
) -> None:
    params = run.params
    print(f"{label}:", end="", flush=True)
    cleanup = key in ("W4", "B1")
    runnable: dict[str, Any] = {}
    for contender in run.contenders:
        name = contender.name
        cells = {mode: Cell(per=_per(key, params)) for mode in ("off", "on")}
        for mode, cell in cells.items():
            run.cells[(name, label, mode)] = cell
        table = works.get(name, {})
        if "*" in table:
            for cell in cells.values():
                cell.error = "failed to start: " + table["*"]
            continue
        work = table.get(key)
        if work is None:
            del run.cells[(name, label, "off")], run.cells[(name, label, "on")]
            continue
        # Warm-up, and a check that the work does what it says.
        try:
            result = await harness.call(work)
            note = _check(key, result, params)
        except Exception as error:
            for cell in cells.values():
                cell.error = harness.describe(error)
            print(f"\n! {name} {label}: {cells['off'].error}", end="")
            continue
        finally:
            if cleanup:
                await pg_trim(admin, params.rows)
        for cell in cells.values():
            cell.note = note
            if key in ("W3", "W5", "W5f"):
                cell.per = int(result)  # the work says how many operations it did
        runnable[name] = work
    # The per-query workloads take long for the slow contenders: fewer repetitions.
    reps = run.reps if key not in ("W3", "W5", "W5f") else max(3, run.reps - 2)
    for mode in ("off", "on"):
        for _ in range(reps):
            for name, work in list(runnable.items()):
                cell = run.cells[(name, label, mode)]
                try:
                    cell.times.append(await harness.time_once(work, gc_on=mode == "on"))
                except Exception as error:
                    cell.error = harness.describe(error)
                    del runnable[name]
                finally:
                    if cleanup:
                        await pg_trim(admin, params.rows)
            print(".", end="", flush=True)
    print(flush=True)


def _check(key: str, result: Any, params: Params) -> str | None:
    if key in LIST_RESULTS and len(result) != params.rows:
        raise AssertionError(f"{key} gave {len(result)} rows, expected {params.rows}")
    if key == "B1" and result != params.b1_rows:
        raise AssertionError(f"B1 loaded {result} rows, expected {params.b1_rows}")
    if key == "W4" and result is not None:
        ids = list(result)
        if len(ids) != params.w4_rows or any(i is None for i in ids):
            return "ids not returned"
    return None


async def _memory(run: Run, admin: Any, works: dict[str, dict[str, Any]]) -> None:
    params = run.params
    print(f"M1 pg ({params.m1_rows} rows):", end="", flush=True)
    await pg_grow(admin, params.rows, params.m1_rows)
    try:
        for contender in run.contenders:
            table = works.get(contender.name, {})
            if "*" in table:
                run.memory[contender.name] = "failed to start: " + table["*"]
                continue
            work = table.get("M1")
            if work is None:
                continue
            try:
                peak, result = await harness.peak_memory(work)
                if len(result) != params.m1_rows:
                    raise AssertionError(f"M1 gave {len(result)} rows, expected {params.m1_rows}")
                del result
                run.memory[contender.name] = peak
            except Exception as error:
                run.memory[contender.name] = harness.describe(error)
            gc.collect()
            print(".", end="", flush=True)
    finally:
        await pg_trim(admin, params.rows)
    print(flush=True)


if __name__ == "__main__":
    sys.exit(main())
