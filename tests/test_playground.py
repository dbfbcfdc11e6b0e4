"""``piccolo-gen playground``: the example schema, built, filled, and queried.

Driven with ``--command`` (statements run as at the prompt, each
expression's value printed) on the temporary SQLite file and on a
PostgreSQL database given with ``--database``; the REPLs with their input
piped. The oracle: the printed values are the rows the playground fills in,
the same on both engines, and every query of the banner runs.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from generator.cli import main
from generator.playground import EXAMPLE_SCHEMA, EXAMPLES

ROOT = Path(__file__).resolve().parent.parent

QUERIES = """\
await Band.select(Band.name, Band.manager.name).order_by(Band.name)
names = Band.select(Band.name).where(Band.popularity > 100).output(as_list=True).run_sync()
names
await Band.raw("SELECT name FROM band WHERE popularity > {} ORDER BY name", 100)
await Ticket.select(Count(), Sum(Ticket.price)).first()
[t.__name__ for t in music.TABLES]
"""

EXPECTED = """\
[{'name': 'C-Sharps', 'manager.name': 'Mads'},
 {'name': 'Pythonistas', 'manager.name': 'Guido'},
 {'name': 'Rustaceans', 'manager.name': 'Graydon'},
 {'name': 'Unmanaged', 'manager.name': None}]
['Pythonistas', 'Rustaceans']
[{'name': 'Pythonistas'}, {'name': 'Rustaceans'}]
{'count': 3, 'sum': Decimal('145.50')}
['Manager', 'Band', 'Genre', 'GenreToBand', 'Venue', 'Concert', 'Ticket', 'Shirt']
"""


def test_the_example_is_the_projects_music_schema() -> None:
    assert EXAMPLE_SCHEMA.read_bytes() == (ROOT / "schema" / "music.yaml").read_bytes()


def test_command_on_sqlite(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["playground", "--command", QUERIES]) == 0
    assert capsys.readouterr().out == EXPECTED


def test_command_with_a_postgres_database(pg_dsn: str, capsys: pytest.CaptureFixture[str]) -> None:
    import _pg
    from conftest import fresh_pg_database

    with fresh_pg_database(pg_dsn) as url:
        assert main(["playground", "--database", url, "-c", QUERIES]) == 0
        assert capsys.readouterr().out == EXPECTED
        # Its tables are dropped afterwards ...
        tables = "SELECT count(*) FROM pg_tables WHERE schemaname = 'public'"
        assert _pg.query(url, tables) == [[0]]
        # ... unless kept; then a second run meets them and changes nothing.
        assert main(["playground", "--database", url, "--keep", "-c", "1"]) == 0
        assert main(["playground", "--database", url, "-c", "1"]) == 1
        err = capsys.readouterr().err
        assert "give it an empty database" in err
        assert _pg.query(url, "SELECT count(*) FROM band")[0][0] == 4


def test_every_example_of_the_banner_runs(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["playground", "-c", "\n".join(EXAMPLES)]) == 0
    out = capsys.readouterr().out
    assert "{'name': 'Pythonistas', 'genres': ['Rock', 'Jazz']}" in out
    assert 'WHERE "band"."name" GLOB \'P*\'' in out


def test_an_error_in_the_command(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["playground", "-c", "x = await Band.count()\nx / 0"]) == 1
    err = capsys.readouterr().err
    assert 'File "<command>", line 2' in err and "ZeroDivisionError" in err
    assert "playground.py" not in err  # the playground's own frames are left out
    assert main(["playground", "-c", "x = ("]) == 1
    assert "SyntaxError" in capsys.readouterr().err


def _repl(tmp_path: Path, repl: str, text: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "IPYTHONDIR": str(tmp_path / "ipython"), "PYTHONPATH": str(ROOT)}
    return subprocess.run(
        [sys.executable, "-m", "generator", "playground", "--repl", repl],
        input=text,
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp_path,
        timeout=120,
        check=False,
    )


@pytest.mark.parametrize("repl", ["python", "ipython"])
def test_the_repl_awaits_at_the_prompt(tmp_path: Path, repl: str) -> None:
    done = _repl(tmp_path, repl, "await Band.count()\nprint(Band.count().run_sync() * 10)\n")
    assert done.returncode == 0, done.stderr
    output = done.stdout + done.stderr
    assert "piccolo-gen playground: the music schema on SQLite" in output
    assert "await Band.objects().where(Band.popularity > 100)" in output
    prompts = {"python": (">>> 4\n", ">>> 40\n"), "ipython": ("Out[1]: 4\n", "In [2]: 40\n")}
    for shown in prompts[repl]:
        assert shown in done.stdout
