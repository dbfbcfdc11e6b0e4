"""Finding the engine of tables not bound to one, as Piccolo does.

``engine_finder()`` imports the configuration module named by the
``PICCOLO_CONF`` environment variable (default ``piccolo_conf``, i.e. a
``piccolo_conf.py`` importable from ``sys.path``) and returns its ``DB``
variable.

When ``PICCOLO_CONF`` is not set and there is no ``piccolo_conf`` module,
the embedded default is used: ``SQLiteEngine(path="piccolo.sqlite")`` in the
working directory, created once. A new project thus runs with no
configuration at all (SQLite is the embedded default of the design). When
``PICCOLO_CONF`` *is* set, a module that cannot be found is an error rather
than a silent fallback: data written to an unexpected SQLite file is worse
than a clear message.

The engine found is cached; ``reset_engine_finder()`` forgets it (for tests,
or after changing ``PICCOLO_CONF``).
"""

from __future__ import annotations

import importlib
import os
import threading
from typing import Final

from ._engine_base import Engine, EngineError
from ._sqlite import SQLiteEngine

__all__ = [
    "DEFAULT_CONF_MODULE",
    "DEFAULT_SQLITE_PATH",
    "EngineConfigError",
    "engine_finder",
    "reset_engine_finder",
]

#: The configuration module imported when ``PICCOLO_CONF`` is not set.
DEFAULT_CONF_MODULE: Final = "piccolo_conf"
#: The database file of the embedded default engine.
DEFAULT_SQLITE_PATH: Final = "piccolo.sqlite"


class EngineConfigError(EngineError):
    """The configuration module is missing (when named explicitly) or has no usable ``DB``."""


_lock = threading.Lock()
_found: Engine | None = None
_default: SQLiteEngine | None = None


def engine_finder() -> Engine:
    """The engine named by the configuration module's ``DB`` (see the module doc).

    Raises ``EngineConfigError`` when ``PICCOLO_CONF`` names a module that
    does not exist, or the module has no ``DB`` or its ``DB`` is not an
    engine. Errors raised while importing the module propagate as they are.
    """
    global _found
    found = _found
    if found is None:
        with _lock:
            found = _found
            if found is None:
                found = _found = _find()
    return found


def reset_engine_finder() -> None:
    """Forget the engine found (and the embedded default) so the next call looks again."""
    global _found, _default
    with _lock:
        _found = None
        _default = None


def _find() -> Engine:
    explicit = os.environ.get("PICCOLO_CONF") or None
    name = explicit or DEFAULT_CONF_MODULE
    try:
        module = importlib.import_module(name)
    except ModuleNotFoundError as error:
        missing = error.name or ""
        # Only the configuration module itself (or, for a dotted name, one of
        # its packages) being absent counts: a module that exists but imports
        # something missing is a bug in that module, reported as it is.
        itself = missing == name or name.startswith(missing + ".")
        if not itself:
            raise
        if explicit:
            raise EngineConfigError(
                f"PICCOLO_CONF names the module {name!r}, which cannot be "
                f"imported ({error}); check the name and sys.path"
            ) from error
        return _default_engine()
    location = getattr(module, "__file__", None) or name
    if not hasattr(module, "DB"):
        raise EngineConfigError(
            f"the configuration module {name!r} ({location}) has no DB variable; "
            "add one, e.g. DB = SQLiteEngine(path='app.sqlite') or "
            "DB = PostgresEngine(config={...})"
        )
    db = module.DB
    if not isinstance(db, Engine):
        raise EngineConfigError(
            f"DB in the configuration module {name!r} ({location}) is "
            f"{type(db).__name__}, not an engine (SQLiteEngine or PostgresEngine)"
        )
    return db


def _default_engine() -> SQLiteEngine:
    global _default
    if _default is None:
        _default = SQLiteEngine(path=DEFAULT_SQLITE_PATH)
    return _default
