"""``piccolo-gen playground``: the example schema, built, filled and in a REPL.

The example is the music schema (``generator/examples/music.yaml``, the same
file as the project's ``schema/music.yaml``; a test holds them equal), built
into a package in a temporary folder, its tables created on a temporary
SQLite file (or the database of ``--database``) and filled with a few rows.
Then a REPL opens with the tables imported: IPython when it is installed
(``pip install 'piccolo-gen[playground]'``), else Python's own console with
tab completion. ``await`` works at the prompt of both, and so does
``run_sync()``: every query runs on the runtime's event loop (the one
``run_sync()`` uses), so a connection opened by one statement serves the next.

``--command "..."`` runs statements instead of a REPL and prints the value of
each expression statement, as the prompt would: the way to script the
playground (and to test it).
"""

from __future__ import annotations

import ast
import builtins
import code
import datetime
import decimal
import importlib
import inspect
import pprint
import shutil
import sys
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from types import CodeType, ModuleType
from typing import Any

from generator.errors import SchemaErrors

__all__ = ["EXAMPLE_SCHEMA", "Playground", "banner", "run_code", "run_playground"]

#: The example schema the playground builds (a copy of ``schema/music.yaml``).
EXAMPLE_SCHEMA = Path(__file__).resolve().parent / "examples" / "music.yaml"
#: The name of the package the example is built into.
PACKAGE = "piccolo_gen_playground"

EXAMPLES = (
    "await Band.select(Band.name, Band.manager.name).order_by(Band.name)",
    "await Band.objects().where(Band.popularity > 100)",
    "await Concert.select(Concert.band_1.name, Concert.band_2.name, Concert.venue.name)",
    "await Ticket.select(Count(), Sum(Ticket.price)).first()",
    "await Band.select(Band.name, Band.genres(Genre.name, as_list=True))",
    "Band.select(Band.name).output(as_list=True).run_sync()",
    'print(Band.select().where(Band.name.like("P%")))',
    'await build(Band, name="Newcomers")',
)


def banner(where: str, tables: Iterator[str] | list[str]) -> str:
    """The text the REPL starts with: where the data is and queries to try."""
    lines = [
        f"piccolo-gen playground: the music schema on {where}",
        f"tables: {', '.join(tables)} (and Size, Count, Sum, build, run_sync, ...)",
        "try (await works at this prompt):",
        *(f"    {example}" for example in EXAMPLES),
    ]
    return "\n".join(lines)


class Playground:
    """The built example: its module, its engine, its namespace."""

    def __init__(self, folder: Path, music: ModuleType, engine: Any, where: str) -> None:
        self.folder = folder
        self.music = music
        self.engine = engine
        self.where = where
        self.namespace = _namespace(music, engine)

    @property
    def banner(self) -> str:
        """The REPL's banner."""
        return banner(self.where, [t.__name__ for t in self.music.TABLES])


def build_example(folder: Path) -> ModuleType:
    """Build the example schema into ``folder/PACKAGE`` and import its music module."""
    from generator.build import load_schemas, render_files

    modules, errors = load_schemas([EXAMPLE_SCHEMA])
    if errors:  # the bundled schema is tested; this would be a packaging bug
        raise SchemaErrors(errors)
    out = folder / PACKAGE
    out.mkdir()
    for name, text in render_files(modules, PACKAGE).items():
        (out / name).write_text(text, encoding="utf-8")
    for key in [k for k in sys.modules if k.split(".")[0] == PACKAGE]:
        del sys.modules[key]  # another playground of this process
    sys.path.insert(0, str(folder))
    importlib.invalidate_caches()
    return importlib.import_module(f"{PACKAGE}.music")


async def fill(music: ModuleType) -> None:
    """A few rows in every table of the example (on the tables' engine)."""
    Manager, Band, Genre, Venue = music.Manager, music.Band, music.Genre, music.Venue
    Concert, Ticket, Shirt, Size = music.Concert, music.Ticket, music.Shirt, music.Size
    guido, graydon, mads = await Manager.insert(
        Manager(name="Guido"), Manager(name="Graydon"), Manager(name="Mads")
    )
    pythonistas, rustaceans, sharps, _ = await Band.insert(
        Band(name="Pythonistas", manager=guido, popularity=1000),
        Band(name="Rustaceans", manager=graydon, popularity=2000),
        Band(name="C-Sharps", manager=mads, popularity=10),
        Band(name="Unmanaged", popularity=5),
    )
    rock, jazz, electronic = await Genre.insert(
        Genre(name="Rock"), Genre(name="Jazz"), Genre(name="Electronic")
    )
    await pythonistas.add_m2m(rock, jazz, m2m=Band.genres)
    await rustaceans.add_m2m(rock, electronic, m2m=Band.genres)
    await sharps.add_m2m(jazz, m2m=Band.genres)
    arena, club = await Venue.insert(Venue(name="Arena", capacity=1000), Venue(name="Club"))
    first, second = await Concert.insert(
        Concert(
            band_1=pythonistas,
            band_2=rustaceans,
            venue=arena,
            starts=datetime.datetime(2025, 6, 1, 20, 0),
        ),
        Concert(
            band_1=sharps,
            band_2=pythonistas,
            venue=club,
            starts=datetime.datetime(2025, 7, 4, 19, 30),
        ),
    )
    await Ticket.insert(
        Ticket(concert=first, price=decimal.Decimal("50.00")),
        Ticket(concert=first, price=decimal.Decimal("75.50")),
        Ticket(concert=second, price=decimal.Decimal("20.00")),
    )
    await Shirt.insert(Shirt(size=Size.small), Shirt(size=Size.medium), Shirt(size=Size.large))


def _namespace(music: ModuleType, engine: Any) -> dict[str, Any]:
    import runtime
    from runtime.builders import Builder, build
    from runtime.fixtures import dump, load

    namespace: dict[str, Any] = {name: getattr(runtime, name) for name in runtime.__all__}
    namespace.update({name: getattr(music, name) for name in music.__all__})
    namespace.update(
        music=music,
        engine=engine,
        build=build,
        Builder=Builder,
        dump=dump,
        load=load,
        datetime=datetime,
        decimal=decimal,
        Decimal=decimal.Decimal,
        __name__="__main__",
        __builtins__=builtins,
    )
    return namespace


@contextmanager
def playground(database: str | None, *, keep: bool = False) -> Iterator[Playground]:
    """The example built in a temporary folder, its tables created and filled;
    afterwards the tables dropped (from a ``database`` given) and the folder
    deleted, unless ``keep``."""
    from generator.migrate_cli import engine_from_url
    from runtime import SQLiteEngine, create_tables, drop_tables, run_sync, use_engine

    folder = Path(tempfile.mkdtemp(prefix="piccolo-gen-playground-"))
    created = False
    music: ModuleType | None = None
    engine: Any = None
    try:
        music = build_example(folder)
        if database:
            engine = engine_from_url(database)
            where = _hide_password(database)
        else:
            path = folder / "playground.sqlite"
            engine = SQLiteEngine(path)
            where = f"SQLite ({path})"
        use_engine(engine, *music.TABLES)
        run_sync(create_tables(*music.TABLES).run())
        created = True
        run_sync(fill(music))
        yield Playground(folder, music, engine, where)
    finally:
        if music is not None and engine is not None:
            try:
                if created and database and not keep:
                    run_sync(drop_tables(*music.TABLES, if_exists=True).run())
            finally:
                run_sync(engine.close())
        if str(folder) in sys.path:
            sys.path.remove(str(folder))
        if keep:
            print(f"the playground's files are kept in {folder}", file=sys.stderr)
        else:
            shutil.rmtree(folder, ignore_errors=True)


def _hide_password(url: str) -> str:
    scheme, sep, rest = url.partition("://")
    credentials, at, host = rest.rpartition("@")
    if not at or ":" not in credentials:
        return url
    user = credentials.split(":", 1)[0]
    return f"{scheme}{sep}{user}:***@{host}"


# -- running code -------------------------------------------------------------------

#: Compile flags: ``await`` at the top level gives a coroutine to run.
FLAGS = ast.PyCF_ALLOW_TOP_LEVEL_AWAIT


def _execute(compiled: CodeType, namespace: dict[str, Any]) -> None:
    from runtime import run_sync

    result = eval(compiled, namespace)
    if inspect.iscoroutine(result):
        # On the runtime's loop, as run_sync() queries are: the connections
        # and pools of the engine stay on one loop.
        run_sync(result)


def _display(value: object) -> None:
    """sys.displayhook, with long results spread over lines."""
    if value is None:
        return
    builtins._ = None  # type: ignore[attr-defined]
    pprint.pprint(value, width=100, sort_dicts=False)
    builtins._ = value  # type: ignore[attr-defined]


def run_code(source: str, namespace: dict[str, Any], *, filename: str = "<command>") -> None:
    """Run ``source`` statement by statement, printing each expression's value
    (as the prompt does); ``await`` works at the top level."""
    tree = ast.parse(source, filename, mode="exec", feature_version=None)
    saved = sys.displayhook
    sys.displayhook = _display
    try:
        for statement in tree.body:
            interactive = ast.Interactive(body=[statement])
            compiled = compile(interactive, filename, "single", flags=FLAGS, dont_inherit=True)
            _execute(compiled, namespace)
    finally:
        sys.displayhook = saved


class Console(code.InteractiveConsole):
    """Python's console with ``await`` at the prompt (as ``python -m asyncio``)."""

    def __init__(self, namespace: dict[str, Any]) -> None:
        super().__init__(namespace, filename="<playground>")
        self.compile.compiler.flags |= FLAGS

    def runcode(self, code: CodeType) -> None:
        try:
            _execute(code, self.locals)
        except SystemExit:
            raise
        except BaseException:
            self.showtraceback()


def python_repl(namespace: dict[str, Any], banner_text: str) -> None:
    """Python's console, with tab completion where ``readline`` exists."""
    try:
        import readline
        import rlcompleter
    except ImportError:  # Windows without pyreadline
        pass
    else:
        readline.set_completer(rlcompleter.Completer(namespace).complete)
        readline.parse_and_bind("tab: complete")
    saved = sys.displayhook
    sys.displayhook = _display
    try:
        Console(namespace).interact(banner=banner_text, exitmsg="")
    finally:
        sys.displayhook = saved


def run_awaitable(coroutine: Any) -> Any:
    """IPython's ``loop_runner``: a cell's ``await`` runs on the runtime's loop."""
    from runtime import run_sync

    return run_sync(coroutine)


def ipython_repl(namespace: dict[str, Any], banner_text: str) -> None:
    """IPython, with ``await`` on the runtime's loop."""
    from IPython import start_ipython
    from traitlets.config import Config

    config = Config()
    config.TerminalInteractiveShell.banner2 = banner_text + "\n"
    config.TerminalInteractiveShell.confirm_exit = False
    config.InteractiveShell.autoawait = True
    config.InteractiveShell.loop_runner = "generator.playground.run_awaitable"
    start_ipython(argv=[], user_ns=namespace, config=config)


def _ipython_available() -> bool:
    try:
        importlib.import_module("IPython")
    except ImportError:
        return False
    return True


def _print_error(error: BaseException) -> None:
    """The traceback of an error in the user's code, without the playground's frames."""
    import traceback

    tb = error.__traceback__
    while tb is not None and tb.tb_frame.f_code.co_filename != "<command>":
        tb = tb.tb_next
    traceback.print_exception(type(error), error, tb if tb is not None else None, file=sys.stderr)


def run_playground(
    database: str | None,
    *,
    command: str | None = None,
    repl: str = "auto",
    keep: bool = False,
    out: Callable[[str], None] = print,
) -> int:
    """``piccolo-gen playground``; the exit status."""
    with playground(database, keep=keep) as ground:
        if command is not None:
            try:
                run_code(command, ground.namespace)
            except Exception as error:
                _print_error(error)
                return 1
            return 0
        if repl == "ipython" or (repl == "auto" and _ipython_available()):
            if repl == "ipython" and not _ipython_available():
                out("IPython is not installed: pip install 'piccolo-gen[playground]'")
                return 1
            ipython_repl(ground.namespace, ground.banner)
        else:
            python_repl(ground.namespace, ground.banner)
    return 0
