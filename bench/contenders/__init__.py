"""The contenders: each module offers one or more ``Contender`` classes.

A contender that cannot be imported (its package is missing) or that fails
to start is reported as failed; it never stops the run.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable

from bench.contenders.base import Contender

#: (module, class, label if it fails to load) in the order of the report; the limits first.
REGISTRY = [
    ("bench.contenders.raw", "RawLimit", "raw driver (the limit)"),
    ("bench.contenders.raw", "RawPool", "raw driver, pool + RETURNING"),
    ("bench.contenders.gen", "PiccoloGen", "piccolo-gen"),
    ("bench.contenders.gen", "PiccoloGenStream", "piccolo-gen, rows from a generator"),
    ("bench.contenders.piccolo_orm", "PiccoloORM", "Piccolo"),
    ("bench.contenders.sqla", "SQLAlchemyORM", "SQLAlchemy ORM"),
    ("bench.contenders.sqla", "SQLAlchemyCore", "SQLAlchemy Core"),
    ("bench.contenders.tortoise_orm", "TortoiseORM", "Tortoise ORM"),
]


def load_all(on_error: Callable[[str, str], None]) -> list[Contender]:
    """Every contender that imports; ``on_error(label, message)`` for the others."""
    from bench.harness import describe

    contenders: list[Contender] = []
    for module_name, class_name, label in REGISTRY:
        try:
            module = importlib.import_module(module_name)
            contenders.append(getattr(module, class_name)())
        except Exception as error:  # a peer that is not installed, or broken
            on_error(f"{label} (not loaded)", describe(error))
    return contenders
