"""The side-by-side benchmark of piccolo-gen: ``python -m bench``.

Every contender (piccolo-gen, the raw drivers that set the limit, and the
peers Piccolo, SQLAlchemy 2 and Tortoise ORM) runs in one process, on the
same databases and the same data; the report gives medians and ratios
against the raw driver. Run on demand only: it is not part of the test gate.
"""
