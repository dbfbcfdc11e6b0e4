"""A schema folder the project has never seen, built into an empty folder.

The output must import as a package, pass ``mypy --strict`` and pyright
together with a probe of the typing contract, and run queries.
"""

from __future__ import annotations

import importlib
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from generator.cli import main

LIBRARY = """\
enums:
  Genre: {fiction: F, science: S, poetry: P}
tables:
  Author:
    columns:
      name: {type: varchar, length: 80, required: true}
      born: {type: date, null: true}
  Book:
    columns:
      title: {type: text}
      author: {type: foreign_key, references: Author}
      editor: {type: foreign_key, references: Author, null: true, on_delete: set_null}
      genre: {type: varchar, length: 1, choices: Genre, default: fiction}
      pages: {type: smallint, default: 100}
  Loan:
    columns:
      code: {type: uuid, primary_key: true, default: uuid4}
      book: {type: foreign_key, references: Book}
      returned: {type: boolean, default: false}
"""

SHELVES = """\
[tables.Shelf.columns]
label = { type = "varchar", length = 10 }
book = { type = "foreign_key", references = "library.Book", null = true }
"""

# Names piccolo-gen refuses (tests/cases/module_name_clash), renamed as its
# messages suggest: they must build and pass the checkers (``Enum_``: the
# runtime's ``Enum``, the class of native enum columns, is imported too).
RENAMED = """\
enums:
  Any_: {a: x}
  Enum_: {b: 1}
tables:
  Table_:
    tablename: table
    columns:
      uuid_: {type: uuid, default: uuid4, db_column_name: uuid}
      datetime_: {type: timestamp, default: now, db_column_name: datetime}
      int_: {type: integer, db_column_name: int}
      kind: {type: varchar, length: 1, choices: Any_, default: a}
      level: {type: integer, choices: Enum_, default: b}
  Mapping_:
    tablename: mapping
    columns:
      table: {type: foreign_key, references: Table_}
"""

PROBE = """\
from __future__ import annotations

import uuid
from typing import Any

from typing_extensions import assert_type

from runtime import Varchar
from {pkg}.library import Author, Book, BookRow, Genre, Loan
from {pkg}.shelves import Shelf


async def probe(book: Book, loan: Loan) -> None:
    assert_type(book.author, int)
    assert_type(book.editor, int | None)
    assert_type(Book.editor.name, Varchar[str | None])
    assert_type(Book.author.name, Varchar[str])
    assert_type(Shelf.book.author.name, Varchar[str | None])
    assert_type(loan.code, uuid.UUID)
    assert_type(Loan.book.editor.name, Varchar[str | None])
    assert_type(book.genre, Genre)
    assert_type(await Book.select(), list[BookRow])
    assert_type(await Book.objects().first(), Book | None)
    assert_type(await book.get_related(Book.editor), Author | None)
    assert_type(await loan.get_related(Loan.book), Book)
    assert_type(
        await Book.select(Book.title, Book.editor.name).output(as_tuples=True),
        list[tuple[str, str | None]],
    )
    assert_type(await Book.select(Book.pages).output(as_list=True), list[int])
    assert_type(Author.count().run_sync(), int)
    Author()  # type: ignore[call-arg]  # pyright: ignore[reportCallIssue]
    Book(pages="x")  # type: ignore[arg-type]  # pyright: ignore[reportArgumentType]
    Book.select().where(Book.genre == "F")  # type: ignore[arg-type]  # pyright: ignore[reportArgumentType]
"""


@pytest.fixture(scope="module")
def package(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    root = tmp_path_factory.mktemp("fresh")
    schema = root / "schemas"
    schema.mkdir()
    (schema / "library.yaml").write_text(LIBRARY)
    (schema / "shelves.toml").write_text(SHELVES)
    (schema / "renamed.yaml").write_text(RENAMED)
    pkg = "fresh_models"
    assert main(["build", "--schema", str(schema), "--out", str(root / pkg)]) == 0
    return root, pkg


def test_output_is_an_importable_package(package: tuple[Path, str]) -> None:
    root, pkg = package
    assert sorted(p.name for p in (root / pkg).iterdir()) == [
        "__init__.py",
        "library.py",
        "py.typed",
        "renamed.py",
        "shelves.py",
    ]
    sys.path.insert(0, str(root))
    try:
        module = importlib.import_module(f"{pkg}.shelves")
        assert [t.__name__ for t in module.TABLES] == ["Shelf"]
        library = importlib.import_module(f"{pkg}.library")
        assert [t.__name__ for t in library.TABLES] == ["Author", "Book", "Loan"]
        renamed = importlib.import_module(f"{pkg}.renamed")
        assert [t._meta.tablename for t in renamed.TABLES] == ["table", "mapping"]
    finally:
        sys.path.remove(str(root))


def _run(args: list[str], cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(cwd), str(Path.cwd())])}
    return subprocess.run(args, cwd=cwd, env=env, capture_output=True, text=True, timeout=600)


def test_mypy_strict_and_pyright_pass(package: tuple[Path, str]) -> None:
    root, pkg = package
    (root / "probe.py").write_text(PROBE.format(pkg=pkg))
    repo = Path(__file__).resolve().parents[1]
    mypy = _run(
        [
            sys.executable,
            "-m",
            "mypy",
            "--strict",
            "--warn-unused-ignores",
            "--no-incremental",
            "--config-file",
            os.devnull,
            "probe.py",
            pkg,
        ],
        root,
    )
    assert mypy.returncode == 0, mypy.stdout + mypy.stderr
    (root / "pyrightconfig.json").write_text(textwrap.dedent(f"""\
            {{
              "include": ["probe.py", "{pkg}"],
              "extraPaths": ["{repo}"],
              "typeCheckingMode": "standard",
              "enableTypeIgnoreComments": false,
              "reportUnnecessaryTypeIgnoreComment": "error"
            }}
            """))
    pyright = _run([sys.executable, "-m", "pyright"], root)
    assert pyright.returncode == 0, pyright.stdout + pyright.stderr
    assert "0 errors" in pyright.stdout


def test_queries_run(package: tuple[Path, str], tmp_path: Path) -> None:
    root, pkg = package
    script = textwrap.dedent(f"""\
        from {pkg} import library, shelves
        from {pkg}.library import Author, Book, Genre, Loan
        from {pkg}.shelves import Shelf
        from runtime import SQLiteEngine, create_tables, use_engine

        tables = (*library.TABLES, *shelves.TABLES)
        use_engine(SQLiteEngine(path={str(tmp_path / "fresh.sqlite")!r}), *tables)
        create_tables(*tables).run_sync()
        ann, bob = Author.insert(Author(name="Ann"), Author(name="Bob")).run_sync()
        (book,) = Book.insert(Book(title="T", author=ann, editor=bob)).run_sync()
        Loan.insert(Loan(book=book)).run_sync()
        Shelf.insert(Shelf(label="A1", book=book)).run_sync()
        print(Shelf.select(Shelf.label, Shelf.book.author.name, Shelf.book.editor.name).run_sync())
        print(Book.select(Book.genre).output(as_list=True).run_sync() == [Genre.fiction])
        print(Loan.select(Loan.book.title).output(as_list=True).run_sync())
        """)
    result = _run([sys.executable, "-c", script], root)
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == [
        "[{'label': 'A1', 'book.author.name': 'Ann', 'book.editor.name': 'Bob'}]",
        "True",
        "['T']",
    ]
