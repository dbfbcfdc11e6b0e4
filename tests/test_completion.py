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


#: Methods of the values (int, str) that a column on the class must not offer.
INT_METHODS = {"bit_length", "to_bytes", "real", "numerator"}
# (Not `startswith`: text columns have a `startswith` condition of their own.)
STR_METHODS = {"upper", "encode", "split"}
#: Members of a column that a value on a row must not offer.
COLUMN_MEMBERS = {"is_in", "is_null", "as_alias"}


def test_join_path_offers_target_columns_only() -> None:
    # A foreign key's value is an int: jedi once offered its methods too.
    for path, columns in [
        ("Band.manager.", {"name", "id"}),
        ("Concert.band_1.", {"name", "popularity", "manager"}),
        ("Concert.band_1.manager.", {"name"}),
    ]:
        names = complete(path)
        assert columns | {"is_in", "is_null"} <= names, path
        assert not names & INT_METHODS, path


def test_column_on_the_class_offers_no_value_methods() -> None:
    names = complete("Band.name.")
    assert {"like", "ilike", "is_in"} <= names
    assert not names & STR_METHODS
    assert not complete("Band.popularity.") & INT_METHODS


def test_instance_value_offers_value_methods_only() -> None:
    names = complete("band = Band(name='x')\nband.name.")
    assert STR_METHODS <= names
    assert not names & COLUMN_MEMBERS
    names = complete("band = Band(name='x')\nband.manager.")
    assert INT_METHODS <= names
    assert not names & (COLUMN_MEMBERS | {"name", "id"})


@pytest.mark.parametrize("prefix", ["Band.select().", "Band.select(Band.name)."])
def test_select_offers_clauses(prefix: str) -> None:
    names = complete(prefix)
    assert {"where", "order_by", "limit", "offset", "first", "output", "run_sync"} <= names


def test_objects_offers_clauses() -> None:
    assert {"where", "first", "get", "get_or_create", "order_by"} <= complete("Band.objects().")
