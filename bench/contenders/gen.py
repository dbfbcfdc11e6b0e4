"""piccolo-gen, through the package built from ``bench/schema`` (public API only)."""

from __future__ import annotations

import importlib
import subprocess
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path
from types import ModuleType
from typing import Any

from bench.contenders.base import W5_LIMIT, W5_MANAGER, W5_POPULARITY, Contender, Params
from bench.database import REPO, Databases, new_band_values
from bench.harness import Work
from runtime import Engine, PostgresEngine, SQLiteEngine
from runtime._dialect import POSTGRES

SCHEMA = REPO / "bench" / "schema"
GENERATED = REPO / "bench" / "generated"


def load_models(log: Any = print) -> ModuleType:
    """The generated ``models`` module: ``bench/generated`` if it is current,
    else a fresh build of ``bench/schema`` in a temporary folder."""
    build = [sys.executable, "-m", "generator", "build", "--schema", str(SCHEMA), "--no-pydantic"]
    check = subprocess.run(
        [*build, "--out", str(GENERATED), "--check"], capture_output=True, text=True, cwd=REPO
    )
    if check.returncode == 0:
        return importlib.import_module("bench.generated.models")
    log(
        "bench/generated is stale (run `piccolo-gen build --schema bench/schema --out bench/generated`);"
        " using a fresh build in a temporary folder"
    )
    root = Path(tempfile.mkdtemp(prefix="piccolo_gen_bench_pkg_"))
    subprocess.run(
        [*build, "--out", str(root / "bench_models")], check=True, cwd=REPO, capture_output=True
    )
    sys.path.insert(0, str(root))
    return importlib.import_module("bench_models.models")


class NullEngine(Engine):
    """A PostgreSQL-dialect engine with no database: every query returns no rows.

    Used by W5f to time everything a frozen query does per run except the driver.
    """

    dialect = POSTGRES

    async def fetch(self, sql: str, params: Sequence[object] = ()) -> list[Sequence[Any]]:
        return []

    async def fetch_dicts(self, sql: str, params: Sequence[object] = ()) -> list[dict[str, Any]]:
        return []

    # As SQLiteEngine does: the query layer's own statements take fetch() directly.
    _fetch_built = fetch

    async def _fetch_converted(self, sql: str, params: Sequence[object], convert: Any) -> Any:
        # As the real engines do: fetch and convert in one coroutine.
        return convert([])

    async def execute(self, sql: str, params: Sequence[object] = ()) -> None:
        return None

    async def executemany(self, sql: str, params: Sequence[Sequence[object]]) -> None:
        return None

    def transaction(self) -> Any:
        raise NotImplementedError

    def current_transaction(self) -> None:
        return None

    async def close(self) -> None:
        return None


def w5_query(models: ModuleType) -> Any:
    Band = models.Band
    return (
        Band.select(Band.name, Band.manager.name)
        .where((Band.popularity > W5_POPULARITY) & (Band.manager.name == W5_MANAGER))
        .order_by(Band.name)
        .limit(W5_LIMIT)
    )


class PiccoloGen(Contender):
    name = "piccolo-gen"
    kind = "ours"
    notes = {
        "W3": "Band.objects().get(Band.id == i) through the pool",
        "W5": "build + _sql(POSTGRES)",
        "W5f": "frozen query run on an engine that returns no rows",
    }

    def __init__(self) -> None:
        self.models = load_models()
        self.engines: dict[str, Engine] = {}

    async def start(self, db: Databases, engine: str, params: Params) -> None:
        if engine == "pg":
            pg = PostgresEngine(config={"dsn": db.pg_dsn})
            await pg.start_connection_pool(min_size=2, max_size=4)
            self.engines["pg"] = pg
        else:
            self.engines["sqlite"] = SQLiteEngine(db.sqlite_path)

    async def stop(self, engine: str) -> None:
        await self.engines.pop(engine).close()

    def workloads(self, engine: str, params: Params) -> dict[str, Work]:
        Band = self.models.Band
        db = self.engines[engine]

        async def w1() -> list[Any]:
            return await Band.select().run(engine=db)

        async def w2() -> list[Any]:
            return await Band.objects().run(engine=db)

        if engine == "sqlite":
            return {"W1": w1, "W2": w2}

        ids = params.w3_ids()
        values = new_band_values(params.w4_rows)
        iterations = params.w5_iterations
        null = NullEngine()
        frozen = w5_query(self.models).freeze()

        async def w3() -> int:
            for i in ids:
                await Band.objects().get(Band.id == i).run(engine=db)
            return len(ids)

        async def w4() -> list[int]:
            rows = [Band(name=n, manager=m, popularity=p) for n, m, p in values]
            return [row.id for row in await Band.insert(*rows).run(engine=db)]

        def w5() -> int:
            models = self.models
            for _ in range(iterations):
                w5_query(models)._sql(POSTGRES)
            return iterations

        async def w5f() -> int:
            for _ in range(iterations):
                await frozen.run(engine=null)
            return iterations

        async def w6() -> list[Any]:
            return await Band.select(Band.name, Band.manager.name).run(engine=db)

        load = new_band_values(params.b1_rows)

        async def b1() -> int:
            rows = [Band(name=n, manager=m, popularity=p) for n, m, p in load]
            return await Band.insert_many(rows).run(engine=db)

        return {
            "W1": w1, "W2": w2, "W3": w3, "W4": w4, "W5": w5, "W5f": w5f, "W6": w6, "B1": b1,
            "M1": w2,
        }  # fmt: skip


class PiccoloGenStream(PiccoloGen):
    """B1 as docs/scaling.md advises for large loads: the rows from a
    generator, each freed once insert_many() has read it (the garbage
    collector never walks 100,000 live rows)."""

    name = "piccolo-gen, rows from a generator"
    notes = {"B1": "Band.insert_many(Band(...) for ...) (COPY; each row freed as read)"}

    def workloads(self, engine: str, params: Params) -> dict[str, Work]:
        if engine != "pg":
            return {}
        Band = self.models.Band
        db = self.engines[engine]
        load = new_band_values(params.b1_rows)

        async def b1() -> int:
            rows = (Band(name=n, manager=m, popularity=p) for n, m, p in load)
            return await Band.insert_many(rows).run(engine=db)

        return {"B1": b1}
