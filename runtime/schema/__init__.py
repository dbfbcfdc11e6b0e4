"""The schema as data: the state model, operations on it, the differ, the
per-dialect DDL compiler and the reader of a live database.

``runtime.schema.state``       the model (plain frozen dataclasses) and its
                               producer from table classes
``runtime.schema.operations``  the steps between states, each with its inverse
``runtime.schema.diff``        two states -> the operations between them
``runtime.schema.compile``     operations -> SQL, one compiler per dialect
                               (``create_table`` and ``alter()`` use it too)
``runtime.schema.session``     the connection and transaction compiled steps
                               run in (all or nothing)
``runtime.schema.read``        a live database -> its state at SQL level
``runtime.schema.compare``     expected vs read, one difference at a time
                               (drift and ``check_schema()`` word it)

The migration files, their history and the runner live in
``runtime.migrations``, which builds on this package; this package never
imports it.
"""
