"""The generated pydantic models (``generated/*_models.py``), on SQLite and PostgreSQL.

Oracles: a read model validated from a table instance equals the one
validated from the row ``select()`` returns, and dumps to that row; a create
model's defaults are those of the table's constructor; what the models
refuse is what the schema says a column cannot hold.
"""

from __future__ import annotations

import ast
import datetime
import decimal
import os
import subprocess
import sys
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from pydantic import BaseModel, ValidationError

from generated import (
    composite,
    composite_models,
    features,
    features_models,
    inventory,
    inventory_models,
    keys,
    keys_models,
    music,
    music_models,
    shop,
    shop_models,
)
from generated.features import Account, Defaults, Nullables, Scalars
from generated.features_models import AccountCreate, AccountRead, ScalarsRead
from generated.music import Band, Concert, Manager, Size, Venue
from generated.music_models import (
    BandCreate,
    BandRead,
    BandUpdate,
    BandWithManagerRead,
    ConcertCreate,
    ConcertPrefetchedRead,
    ConcertRead,
    ManagerRead,
    ShirtCreate,
    TicketCreate,
    VenueRead,
)
from generator.cli import main
from runtime import Engine, MaterializedView, Table, create_tables, drop_tables, use_engine

PAIRS = [
    (music, music_models),
    (shop, shop_models),
    (features, features_models),
    (inventory, inventory_models),
    (keys, keys_models),
    (composite, composite_models),
]
TABLES = (*music.TABLES, *features.TABLES)


@pytest.fixture
async def db(engine: Engine) -> AsyncIterator[Engine]:
    """The music and features tables with a few rows."""
    use_engine(engine, *TABLES)
    await drop_tables(*TABLES, if_exists=True)
    await create_tables(*TABLES)
    (guido,) = await Manager.insert(Manager(name="Guido"))
    python, _ = await Band.insert(
        Band(name="Pythonistas", manager=guido, popularity=1000), Band(name="Unmanaged")
    )
    (arena,) = await Venue.insert(Venue(name="Arena", capacity=None))
    await Concert.insert(
        Concert(band_1=python, band_2=python, venue=arena, starts=datetime.datetime(2024, 1, 1))
    )
    await Scalars.insert(Scalars(v_varchar="x", v_ints=[1, 2], v_strings=["a"]))
    await Nullables.insert(Nullables())
    await Defaults.insert(Defaults())
    await Account.insert(Account(username="ann", email="a@b.c", password="hunter2"))
    try:
        yield engine
    finally:
        await drop_tables(*TABLES, if_exists=True)
        use_engine(None, *TABLES)


def _read_model(module: Any, table: type[Table[Any]]) -> type[BaseModel]:
    model: type[BaseModel] = getattr(module, f"{table.__name__}Read")
    return model


async def test_a_read_model_validates_an_instance_and_its_row_alike(db: Engine) -> None:
    for table, models in ((t, music_models) for t in music.TABLES):
        await _same_from_instance_and_row(table, models)
    for table in features.TABLES:
        await _same_from_instance_and_row(table, features_models)


async def _same_from_instance_and_row(table: type[Table[Any]], models: Any) -> None:
    read = _read_model(models, table)
    instances = await table.objects().order_by(table._meta.primary_key)
    rows = await table.select().order_by(table._meta.primary_key)
    assert len(instances) == len(rows)
    for instance, row in zip(instances, rows):
        from_instance = read.model_validate(instance)
        assert from_instance == read.model_validate(row), table.__name__
        # The row as select() gives it, secrets left out in both.
        assert from_instance.model_dump(by_alias=True) == row, table.__name__


async def test_views_have_read_models(db: Engine) -> None:
    """A view has a read model only (it takes no writes), checked like a table's."""
    from generated import reports, reports_models

    assert {name.removesuffix("Read") for name in reports_models.__all__} == {
        view.__name__ for view in reports.VIEWS
    }
    use_engine(db, *reports.VIEWS)
    await create_tables(*reports.VIEWS)
    try:
        for view in reports.VIEWS:
            if isinstance(view, type) and issubclass(view, MaterializedView):
                await view.refresh()
            read = _read_model(reports_models, view)
            instances = await view.objects().order_by(*view._meta.columns)
            rows = await view.select().order_by(*view._meta.columns)
            assert rows, view.__name__
            for instance, row in zip(instances, rows, strict=True):
                assert read.model_validate(instance).model_dump() == row
                assert read.model_validate(row).model_dump() == row
    finally:
        await drop_tables(*reports.VIEWS, if_exists=True)
        use_engine(None, *reports.VIEWS)


async def test_values_of_every_type_come_through(db: Engine) -> None:
    scalars = ScalarsRead.model_validate(await Scalars.objects().first())
    assert scalars.v_varchar == "x" and scalars.v_ints == [1, 2] and scalars.v_strings == ["a"]
    assert scalars.v_timestamp.tzinfo is None and scalars.v_timestamptz.tzinfo is not None
    assert isinstance(scalars.v_uuid, uuid.UUID) and isinstance(scalars.v_numeric, decimal.Decimal)
    # A secret column is never part of a read model.
    account = AccountRead.model_validate(await Account.objects().first())
    assert "password" not in AccountRead.model_fields
    assert account.username == "ann"
    assert "password" in AccountCreate.model_fields


async def test_nested_read_models_of_prefetched_keys(db: Engine) -> None:
    bands = await Band.objects(Band.manager).order_by(Band.id)
    nested = [BandWithManagerRead.model_validate(band) for band in bands]
    (guido,) = await Manager.select()
    assert nested[0].manager == ManagerRead.model_validate(guido)
    assert nested[1].manager is None
    assert [n.name for n in nested] == ["Pythonistas", "Unmanaged"]
    with pytest.raises(ValidationError):
        # Without the prefetch, the key is a number, not a row.
        BandWithManagerRead.model_validate(bands[0].to_dict())
    concert = await Concert.objects(Concert.band_1, Concert.venue).first()
    assert concert is not None
    read = ConcertPrefetchedRead.model_validate(concert)
    band_rows = await Band.select().where(Band.name == "Pythonistas")
    assert read.band_1 == BandRead.model_validate(band_rows[0])
    assert read.band_2 == band_rows[0]["id"]  # not prefetched: the key
    assert read.venue == VenueRead.model_validate((await Venue.select())[0])


async def test_create_and_update_models_write_what_they_were_given(db: Engine) -> None:
    (guido,) = await Manager.select()
    band = BandCreate.model_validate({"name": "New", "manager": guido["id"]}).instance()
    await Band.insert(band)
    (row,) = await Band.select().where(Band.name == "New")
    assert row == {"id": band.id, "name": "New", "manager": guido["id"], "popularity": 0}
    BandUpdate.model_validate({"popularity": 7, "manager": None}).apply(band)
    await band.save()
    (row,) = await Band.select().where(Band.id == band.id)
    assert row == {"id": band.id, "name": "New", "manager": None, "popularity": 7}
    # Nothing given, nothing changed.
    BandUpdate().apply(band)
    await band.save()
    assert (await Band.select().where(Band.id == band.id)) == [row]
    concert = ConcertCreate(band_1=band.id, band_2=band.id, venue=1).instance()
    await Concert.insert(concert)
    assert ConcertRead.model_validate(concert).band_1 == band.id


@pytest.mark.parametrize(
    ("model", "values", "location"),
    [
        (BandCreate, {"name": "x" * 51}, ("name",)),  # varchar(50)
        (BandCreate, {"name": None}, ("name",)),  # not null
        (BandCreate, {"popularity": 2**31}, ("popularity",)),  # integer range
        (BandCreate, {"nme": "x"}, ("nme",)),  # no such column
        (BandCreate, {"id": 3}, ("id",)),  # the database numbers it
        (BandUpdate, {"name": None}, ("name",)),
        (BandUpdate, {"popularity": "many"}, ("popularity",)),
        (ConcertCreate, {"band_1": 1, "band_2": 1}, ("venue",)),  # a key is required
        (
            ConcertCreate,
            {"band_1": 1, "band_2": 1, "venue": 1, "starts": "2024-01-01T00:00Z"},
            ("starts",),
        ),  # naive
        (TicketCreate, {"concert": 1, "price": "1000.00"}, ("price",)),  # numeric(5, 2)
        (TicketCreate, {"concert": 1, "price": "1.001"}, ("price",)),
        (ShirtCreate, {"size": "z"}, ("size",)),  # choices
        (features_models.ScalarsCreate, {"v_strings": ["x" * 11]}, ("v_strings", 0)),
        (features_models.ScalarsCreate, {"v_timestamptz": "2024-01-01T00:00"}, ("v_timestamptz",)),
    ],
)
def test_create_and_update_models_refuse_what_a_column_cannot_hold(
    model: type[BaseModel], values: dict[str, Any], location: tuple[str | int, ...]
) -> None:
    with pytest.raises(ValidationError) as raised:
        model.model_validate(values)
    assert [error["loc"] for error in raised.value.errors()] == [location]


def test_create_defaults_are_the_constructors() -> None:
    """Every optional field of every create model that has a plain default has
    the value the table's constructor gives; the others (now, today, uuid4)
    produce a value of the column's type."""
    checked = 0
    for module, models in PAIRS:
        for table in module.TABLES:
            model: type[BaseModel] = getattr(models, f"{table.__name__}Create")
            row = _new_row(table)
            for name, info in model.model_fields.items():
                attribute = info.alias or name
                if info.is_required():
                    continue
                if info.default_factory is None:
                    assert info.default == getattr(row, attribute), (table.__name__, name)
                else:
                    value = info.default_factory()  # type: ignore[call-arg]
                    assert type(value) is type(getattr(row, attribute)), (table.__name__, name)
                checked += 1
    assert checked > 60


def _new_row(table: type[Table[Any]]) -> Table[Any]:
    """A new row of ``table`` with only its required keywords (as 1 or "k")."""
    required: dict[str, object] = {}
    for column in table._meta.columns:
        if column._meta.required:
            required[column._meta.name] = "k" if isinstance(column._default_value(), str) else 1
    return table(**required)


def test_required_fields_of_create_models() -> None:
    assert ConcertCreate.model_json_schema()["required"] == ["band_1", "band_2", "venue"]
    assert "required" not in BandCreate.model_json_schema()
    # keys.yaml: a natural key and a composite key are required, as in the constructor.
    for module, models in PAIRS:
        for table in module.TABLES:
            model: type[BaseModel] = getattr(models, f"{table.__name__}Create")
            for column in table._meta.columns:
                if column._meta.required:
                    field = model.model_fields[column._meta.name]
                    assert field.is_required(), (table.__name__, column._meta.name)


def test_the_json_schemas_carry_the_schema() -> None:
    band = BandCreate.model_json_schema()["properties"]
    assert band["name"] == {"default": "", "maxLength": 50, "title": "Name", "type": "string"}
    assert band["popularity"]["maximum"] == 2**31 - 1
    assert band["manager"]["anyOf"] == [{"type": "integer"}, {"type": "null"}]
    update = BandUpdate.model_json_schema()
    assert "required" not in update
    assert all("default" not in p for p in update["properties"].values())
    shirt = ShirtCreate.model_json_schema()
    assert shirt["$defs"]["Size"]["enum"] == [m.value for m in Size]
    # help_text is the description; the table's is the model's.
    product = shop_models.ProductRead.model_json_schema()
    assert product["properties"]["band"]["description"] == shop.Product.band._meta.help_text
    assert product["description"] == "Something the shop sells."
    # A key to another module's table holds its key; nested, its read model.
    assert shop_models.ProductWithBandRead.model_fields["band"].annotation == (
        music_models.BandRead | None
    )
    assert ConcertRead.model_json_schema()["properties"]["starts"]["format"] == "date-time"


REPO = Path(__file__).resolve().parent.parent


def _top_level_imports(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.parse(path.read_text(encoding="utf-8")).body:
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            names.add("." if node.level else (node.module or "").split(".")[0])
    return names


def test_table_modules_never_import_pydantic() -> None:
    """The table modules import the runtime, the standard library and
    typing_extensions; the models modules add pydantic, nothing else."""
    stdlib = sys.stdlib_module_names
    for path in sorted((REPO / "generated").glob("*.py")):
        imports = _top_level_imports(path) - stdlib - {".", "__future__", "runtime"}
        allowed = {"pydantic"} if path.stem.endswith("_models") else {"typing_extensions"}
        assert imports <= allowed, path.name
    code = (
        "import sys, generated\n"
        "from generated import composite, features, inventory, keys, music, shop\n"
        "assert 'pydantic' not in sys.modules, sorted(m for m in sys.modules if 'pydantic' in m)\n"
    )
    done = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr


def test_the_switch_writes_and_removes_the_models_modules(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "pyproject.toml").write_text('[tool.piccolo-gen]\nout = "out"\n')
    schema = tmp_path / "schema"
    schema.mkdir()
    (schema / "music.yaml").write_text("tables:\n  Band:\n    columns:\n      name: {type: text}\n")
    out = tmp_path / "out"
    arguments = ["build", "--schema", str(schema), "--out", str(out)]
    assert main([*arguments, "--pydantic"]) == 0
    assert sorted(p.name for p in out.iterdir()) == [
        "__init__.py",
        "music.py",
        "music_models.py",
        "py.typed",
    ]
    assert main([*arguments, "--pydantic", "--check"]) == 0
    assert main([*arguments, "--no-pydantic", "--check"]) == 1
    assert main([*arguments, "--no-pydantic"]) == 0
    assert sorted(p.name for p in out.iterdir()) == ["__init__.py", "music.py", "py.typed"]
    # Without the option, the project's configuration says (default: off).
    assert main(["build", "--check"]) == 0
    (tmp_path / "pyproject.toml").write_text('[tool.piccolo-gen]\nout = "out"\npydantic = true\n')
    capsys.readouterr()
    assert main(["build", "--check"]) == 1
    assert "+++ b/out/music_models.py" in capsys.readouterr().out
    assert main(["build", "--schema", str(schema), "--out", str(out), "--check"]) == 1


def test_a_module_named_like_a_models_module_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    schema = tmp_path / "schema"
    schema.mkdir()
    table = "tables:\n  T{}:\n    columns:\n      name: {{type: text}}\n"
    (schema / "music.yaml").write_text(table.format(1))
    (schema / "music_models.yaml").write_text(table.format(2))
    out = tmp_path / "out"
    arguments = ["build", "--schema", str(schema), "--out", str(out)]
    capsys.readouterr()
    assert main([*arguments, "--pydantic"]) == 1
    assert capsys.readouterr().err.splitlines() == [
        "music_models.yaml: module: the module 'music_models' has the name of the pydantic "
        "models of 'music'; rename it or turn pydantic off",
        "1 error; nothing was written",
    ]
    assert not out.exists()
    assert main([*arguments, "--no-pydantic"]) == 0


ANY_FREE_PROBE = """\
from __future__ import annotations

from generated.music import Band, BandRow
from generated.music_models import BandCreate, BandRead, BandUpdate, BandWithManagerRead


async def probe(row: BandRow) -> list[BandWithManagerRead]:
    created = BandCreate.model_validate_json('{"name": "x"}')
    band = created.instance()
    await Band.insert(band)
    read = BandRead.model_validate(band)
    again = BandRead.model_validate(row)
    BandUpdate(popularity=read.popularity + again.popularity).apply(band)
    await band.save()
    bands = await Band.objects(Band.manager).order_by(Band.id)
    return [BandWithManagerRead.model_validate(b) for b in bands]
"""


def test_code_using_the_models_meets_no_any(tmp_path: Path) -> None:
    """mypy's --disallow-any-expr: no expression of the probe (validation,
    fields, instance(), apply(), prefetch) has a type containing Any."""
    (tmp_path / "probe.py").write_text(ANY_FREE_PROBE)
    command = [
        *(sys.executable, "-m", "mypy", "--strict", "--disallow-any-expr"),
        *("--no-incremental", "--config-file", os.devnull, "probe.py"),
    ]
    env = {**os.environ, "MYPYPATH": str(REPO)}
    done = subprocess.run(command, cwd=tmp_path, env=env, capture_output=True, text=True)
    assert done.returncode == 0, done.stdout + done.stderr
