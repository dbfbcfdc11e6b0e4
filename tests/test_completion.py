"""IDE completion, checked with jedi (the engine behind many editors)."""

from __future__ import annotations

from pathlib import Path

import jedi
import pytest

ROOT = Path(__file__).resolve().parents[1]
HEADER = "from generated.music import Band, Concert\n"


def complete(code: str) -> set[str]:
    source = HEADER + code
    lines = source.splitlines()
    script = jedi.Script(source, path=ROOT / "completion_probe.py", project=jedi.Project(ROOT))
    return {c.name for c in script.complete(len(lines), len(lines[-1]))}


def test_table_class_offers_columns_and_queries() -> None:
    names = complete("Band.")
    assert {"name", "manager", "popularity", "id"} <= names
    assert {"select", "objects", "insert", "update", "delete", "count", "exists"} <= names


def test_join_path_offers_target_columns() -> None:
    assert {"name", "id"} <= complete("Band.manager.")
    assert {"name", "popularity", "manager"} <= complete("Concert.band_1.")
    assert {"name"} <= complete("Concert.band_1.manager.")


def test_instance_value_offers_str_methods() -> None:
    names = complete("band = Band(name='x')\nband.name.")
    assert {"upper", "startswith", "split"} <= names


@pytest.mark.parametrize("prefix", ["Band.select().", "Band.select(Band.name)."])
def test_select_offers_clauses(prefix: str) -> None:
    names = complete(prefix)
    assert {"where", "order_by", "limit", "offset", "first", "output", "run_sync"} <= names


def test_objects_offers_clauses() -> None:
    assert {"where", "first", "get", "get_or_create", "order_by"} <= complete("Band.objects().")
