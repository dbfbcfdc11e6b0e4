"""``python -m bench --profile W2 ...``: where piccolo-gen spends a workload's time.

Runs piccolo-gen's workload repeatedly on the benchmark databases under
cProfile and prints the functions with the largest self time (their share of
the whole), then pyinstrument's call tree of one more run, so that each miss
in docs/benchmarks.md can name its hot spots.
"""

from __future__ import annotations

import asyncio
import cProfile
import pstats
import shutil
import tempfile
from pathlib import Path

from bench import harness
from bench.contenders.base import Params
from bench.contenders.gen import PiccoloGen
from bench.database import REPO, open_databases, pg_trim


def _short(filename: str) -> str:
    for marker in ("/site-packages/", str(REPO) + "/", "/lib/python3"):
        if marker in filename:
            return filename.split(marker, 1)[1]
    return filename


def _table(profiler: cProfile.Profile, limit: int = 14) -> str:
    stats = pstats.Stats(profiler)
    total = sum(entry[2] for entry in stats.stats.values())  # type: ignore[attr-defined]
    rows = sorted(stats.stats.items(), key=lambda item: item[1][2], reverse=True)  # type: ignore[attr-defined]
    out = [f"{'self %':>7} {'cum %':>7} {'calls':>9}  function"]
    for (filename, line, function), (_, calls, tottime, cumtime, _) in rows[:limit]:
        where = f"{_short(filename)}:{line}" if line else filename
        out.append(
            f"{100 * tottime / total:6.1f}% {100 * cumtime / total:6.1f}% {calls:9d}  {function} ({where})"
        )
    return "\n".join(out)


async def _profile(keys: list[str], params: Params, db) -> None:  # type: ignore[no-untyped-def]
    import asyncpg
    from pyinstrument import Profiler

    admin = None
    if db.pg_dsn is not None:
        admin = await asyncpg.create_pool(db.pg_dsn, min_size=1, max_size=1)
    else:
        print(f"PostgreSQL unavailable, profiling SQLite only: {db.pg_problem}")
    for engine in ("pg", "sqlite") if admin is not None else ("sqlite",):
        gen = PiccoloGen()
        await gen.start(db, engine, params)
        works = gen.workloads(engine, params)
        for key in keys:
            work = works.get(key)
            if work is None:
                continue
            label = key if key in ("W5", "W5f") else f"{key} {engine}"
            await harness.call(work)  # warm-up
            profiler = cProfile.Profile()
            for _ in range(5):
                profiler.enable()
                await harness.call(work)
                profiler.disable()
                if key == "W4":
                    await pg_trim(admin, params.rows)
            print(f"\n=== {label}: piccolo-gen, cProfile over 5 runs (self time share) ===")
            print(_table(profiler))
            tree = Profiler(interval=0.0002, async_mode="disabled")
            tree.start()
            await harness.call(work)
            tree.stop()
            if key == "W4":
                await pg_trim(admin, params.rows)
            print(f"--- {label}: pyinstrument, one run ---")
            text = tree.output_text(unicode=False, color=False, show_all=False)
            print("\n".join(text.splitlines()[:40]))
        await gen.stop(engine)
    if admin is not None:
        await admin.close()


def profile(keys: list[str], params: Params) -> int:
    workdir = Path(tempfile.mkdtemp(prefix="piccolo_gen_bench_"))
    db = open_databases(params.rows, workdir)
    try:
        asyncio.run(_profile(keys, params, db))
    finally:
        db.stop()
        shutil.rmtree(workdir, ignore_errors=True)
    return 0
