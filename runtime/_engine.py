"""Engines: the databases queries run on, and their transactions.

The shared interface and the transaction machinery are in ``_engine_base``;
each database has its own module (``_sqlite``, ``_postgres``). This module
gathers their public names.
"""

from ._engine_base import (
    Atomic,
    AtomicItem,
    Engine,
    EngineError,
    Savepoint,
    Transaction,
    TransactionError,
    TransactionState,
)
from ._postgres import PostgresEngine, PostgresIsolationLevel, PostgresTransaction
from ._sqlite import SQLiteEngine, SQLiteTransaction, SQLiteTransactionType

__all__ = [
    "Atomic",
    "AtomicItem",
    "Engine",
    "EngineError",
    "PostgresEngine",
    "PostgresIsolationLevel",
    "PostgresTransaction",
    "SQLiteEngine",
    "SQLiteTransaction",
    "SQLiteTransactionType",
    "Savepoint",
    "Transaction",
    "TransactionError",
    "TransactionState",
]
