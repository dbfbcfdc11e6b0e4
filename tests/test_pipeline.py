"""The build's stages hand each other their results: validate finds every
schema error, resolve works on what validate returns and finds none.

Seeded random builds of several files with foreign keys within and across
them: whether the modules form a cycle is decided here independently, and
``validate`` must report exactly that cycle (before this, resolution found
it after validation) or return the validated build, whose resolution
imports and orders as the references say. Tables of one module may form
cycles: a table comes after the tables it references, except through a
key that closes a cycle (its target leads back to the table).
"""

from __future__ import annotations

import random
from pathlib import Path

import pytest

from generator.kinds import KINDS
from generator.load import LoadedSchema, load_file
from generator.model import COLUMN_TYPES
from generator.references import ValidatedBuild
from generator.resolve import resolve
from generator.validate import validate

SEEDS = range(40)
MODULES = ("alpha", "beta", "gamma")


def _random_build(rng: random.Random) -> dict[str, dict[str, list[tuple[str, str]]]]:
    """module -> table -> [(module, table) each foreign key references].

    Most keys stay in their module (so that tables form cycles too, not only
    modules); a table may reference itself, which is no cycle.
    """
    tables = {m: [f"{m.title()}{i}" for i in range(rng.randint(1, 3))] for m in MODULES}
    build: dict[str, dict[str, list[tuple[str, str]]]] = {}
    for module in MODULES:
        build[module] = {}
        for table in tables[module]:
            keys = []
            for _ in range(rng.randint(0, 3)):
                target_module = module if rng.random() < 0.6 else rng.choice(MODULES)
                keys.append((target_module, rng.choice(tables[target_module])))
            build[module][table] = keys
    return build


def _write(tmp_path: Path, build: dict[str, dict[str, list[tuple[str, str]]]]) -> list[Path]:
    files = []
    for module, tables in build.items():
        lines = ["tables:"]
        for table, keys in tables.items():
            lines += [f"  {table}:", "    columns:", "      name: {type: text}"]
            for position, (target_module, target) in enumerate(keys):
                reference = target if target_module == module else f"{target_module}.{target}"
                lines.append(
                    f"      key{position}: {{type: foreign_key, references: {reference}, null: true}}"
                )
        path = tmp_path / f"{module}.yaml"
        path.write_text("\n".join(lines) + "\n", encoding="utf-8")
        files.append(path)
    return files


def _has_cycle(graph: dict[str, set[str]]) -> bool:
    state: dict[str, int] = {}  # 1: on the path, 2: done

    def visit(node: str) -> bool:
        state[node] = 1
        for successor in graph.get(node, set()):
            if state.get(successor) == 1 or (successor not in state and visit(successor)):
                return True
        state[node] = 2
        return False

    return any(node not in state and visit(node) for node in graph)


def _load(files: list[Path]) -> list[LoadedSchema]:
    schemas = []
    for file in files:
        schema = load_file(file)
        assert isinstance(schema, LoadedSchema), schema
        schemas.append(schema)
    return schemas


@pytest.mark.parametrize("seed", SEEDS)
def test_validate_finds_the_cycles_and_resolve_follows_the_references(
    seed: int, tmp_path: Path
) -> None:
    build = _random_build(random.Random(seed))
    imports = {
        module: {target for keys in tables.values() for target, _ in keys} - {module}
        for module, tables in build.items()
    }
    module_cycle = _has_cycle(imports)

    validated = validate(_load(_write(tmp_path, build)))

    if module_cycle:
        assert isinstance(validated, list)
        messages = [error.message for error in validated]
        assert len(messages) == 1 and "reference each other in a cycle" in messages[0], messages
        return
    assert isinstance(validated, ValidatedBuild)
    modules = resolve(validated)
    assert [m.module for m in modules] == list(MODULES)
    for module in modules:
        assert module.module_imports == sorted(imports[module.module])
        order = [table.name for table in module.tables]
        assert sorted(order) == sorted(build[module.module])
        graph = {
            table: {t for m, t in keys if m == module.module and t != table}
            for table, keys in build[module.module].items()
        }
        for table, targets in graph.items():
            for target in targets:
                if order.index(target) > order.index(table):
                    # Only a key that closes a cycle points at a later table.
                    assert _leads_to(graph, target, table), (table, target, order)


def _leads_to(graph: dict[str, set[str]], start: str, goal: str) -> bool:
    seen: set[str] = set()
    stack = [start]
    while stack:
        node = stack.pop()
        if node == goal:
            return True
        if node not in seen:
            seen.add(node)
            stack.extend(graph.get(node, set()))
    return False


def test_the_column_kinds_are_the_schema_language_s_types() -> None:
    """One ``ColumnKind`` per type name of the language, in its order, and
    each runtime class it names is one the runtime exports."""
    import runtime

    assert tuple(KINDS) == COLUMN_TYPES
    named = [
        name
        for kind in KINDS.values()
        for name in (kind.runtime_class, kind.dynamic_default and kind.dynamic_default[1])
        if name
    ]
    assert named and [name for name in named if not hasattr(runtime, name)] == []
