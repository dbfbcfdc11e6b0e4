"""Text patterns mean the same on both engines: PostgreSQL's ``LIKE``/``ILIKE``.

``like`` is case-sensitive, ``ilike`` folds case as PostgreSQL's ``lower()``
does in a UTF-8 database (non-ASCII letters included), ``\\`` escapes the
next character, and ``contains``/``startswith``/``endswith`` (and their ``i``
forms) match the given text literally. Every result is compared with a
reference matcher written here (a regular expression per pattern), over a
fixed hostile corpus plus seeded generated words and patterns; the same
expectation holds on both engines, so both give the same rows.
"""

from __future__ import annotations

import random
import re
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest

from runtime import (
    Char,
    Condition,
    Engine,
    PostgresEngine,
    Serial,
    SQLiteEngine,
    Table,
    Text,
    create_tables,
    drop_tables,
    escape_like,
    use_engine,
)
from runtime._dialect import SQLITE
from runtime._text import fold_case


class Word(Table[Any], tablename="pattern_word"):
    id: Serial[int] = Serial(primary_key=True)
    text: Text[str] = Text(index=True)
    code: Char[str | None] = Char(length=8, null=True)


FIXED = [
    "São Paulo", "SÃO TOMÉ", "são", "the Beatles", "The Who", "THE END",
    "straße", "STRASSE", "Straße", "ẞ", "İstanbul", "istanbul", "ISTANBUL", "ıI", "ı",
    "ΣΑΣ", "σας", "σασ", "Ǆemal", "ǅ", "ǆ", "Æsir", "æsir", "ÀÉÎÕÜ", "àéîõü",
    "a%b", "a_b", "axb", "a\\b", "a\\\\b", "a\\%b", "*?[x]", "[abc]", "a*b", "a?b",
    "", " ", "100%", "50_50", "日本語", "🎸 Rock", "multi\nline", "tab\there",
    "quote's", 'dq"x', "ab", "AB", "aB",
]  # fmt: skip

#: Letters the generated words and patterns are made of: ASCII and non-ASCII
#: of both cases, and every character special to LIKE, GLOB or SQL strings.
ALPHABET = list("aAbBsSéÉãÃßıİiIσΣςǅǆ日🎸 %_\\*?[]'\"^!-.")
SEED = 8004
WORDS = 24
PATTERNS = 40


def _words() -> list[str]:
    rng = random.Random(SEED)
    generated = ["".join(rng.choices(ALPHABET, k=rng.randint(0, 6))) for _ in range(WORDS)]
    return FIXED + generated


def _lower(text: str) -> str:
    """PostgreSQL's ``lower()``: each character on its own (``İ`` to ``i``, ``Σ`` to ``σ``),
    the first character of Python's full lower-case mapping of that character alone."""
    return "".join(char.lower()[0] for char in text)


def _reference(pattern: str, *, fold: bool) -> Callable[[str | None], bool]:
    """PostgreSQL's LIKE/ILIKE as a regular expression (the test's own model).

    ILIKE compares ``lower()`` of both sides (:func:`_lower`).
    """

    if fold:
        pattern = _lower(pattern)
    parts: list[str] = []
    chars = iter(pattern)
    for char in chars:
        if char == "\\":
            parts.append(re.escape(next(chars)))
        elif char == "%":
            parts.append(".*")
        elif char == "_":
            parts.append(".")
        else:
            parts.append(re.escape(char))
    regex = re.compile("".join(parts), re.DOTALL)

    def matches(value: str | None) -> bool:
        return value is not None and regex.fullmatch(_lower(value) if fold else value) is not None

    return matches


def _patterns(words: list[str]) -> list[str]:
    """Fixed patterns, then generated ones: pieces of words with wildcards, escapes, case flips."""
    fixed = [
        "the %", "The %", "%SÃO%", "%são%", "%STRASSE%", "straße", "%ı%", "%I%", "i%",
        "İ%", "%σ", "%ς", "ΣΑΣ", "a\\%b", "a\\_b", "a_b", "a\\\\b", "a\\\\\\\\b", "a\\b",
        "*%", "%[%", "\\a\\B", "%", "_", "", "__", "%\n%", "ǅ%", "æ%",
    ]  # fmt: skip
    rng = random.Random(SEED + 1)
    generated: list[str] = []
    for _ in range(PATTERNS):
        word = rng.choice([w for w in words if w])
        start = rng.randrange(len(word))
        piece = word[start : start + rng.randint(1, 4)]
        tokens: list[str] = []
        for char in piece:
            roll = rng.random()
            if roll < 0.15:
                tokens.append("_")
            elif char in "%_\\" or roll < 0.25:
                tokens.append("\\" + char)  # escaped (needlessly, for a plain character)
            else:
                tokens.append(char.swapcase() if roll < 0.45 else char)
        generated.append(rng.choice(["", "%"]) + "".join(tokens) + rng.choice(["", "%"]))
    return fixed + generated


@pytest.fixture
async def words(engine: Engine) -> AsyncIterator[list[str]]:
    """The corpus, one row per word; ``code`` holds the word when it fits CHAR(8)."""
    values = _words()
    if isinstance(engine, PostgresEngine):
        # Hundreds of queries: one connection, not one per query.
        await engine.start_connection_pool(min_size=1, max_size=1)
    use_engine(engine, Word)
    await drop_tables(Word, if_exists=True)
    await create_tables(Word)
    await Word.insert(
        *[Word(text=v, code=v if len(v) <= 8 and not v.endswith(" ") else None) for v in values]
    )
    try:
        yield values
    finally:
        await drop_tables(Word, if_exists=True)
        use_engine(None, Word)
        if isinstance(engine, PostgresEngine):
            await engine.close_connection_pool()


async def _matching(condition: Condition) -> list[int]:
    rows = await Word.select(Word.id).where(condition).order_by(Word.id)
    return [row["id"] for row in rows]


def _expected(values: list[str | None], test: Callable[[str | None], bool]) -> list[int]:
    return [i for i, value in enumerate(values, start=1) if test(value)]


async def test_like_and_ilike_follow_postgresql(words: list[str]) -> None:
    codes: list[str | None] = [w if len(w) <= 8 and not w.endswith(" ") else None for w in words]
    texts: list[str | None] = list(words)
    for pattern in _patterns(words):
        like, ilike = _reference(pattern, fold=False), _reference(pattern, fold=True)
        for column, values in ((Word.text, texts), (Word.code, codes)):
            where = f"{column._meta.name} {pattern!r}"
            assert await _matching(column.like(pattern)) == _expected(values, like), where
            assert await _matching(column.ilike(pattern)) == _expected(values, ilike), where
            # NOT LIKE of NULL is NULL: a null code matches neither form.
            unlike = [i for i, v in enumerate(values, 1) if v is not None and not like(v)]
            assert await _matching(column.not_like(pattern)) == unlike, where
            unilike = [i for i, v in enumerate(values, 1) if v is not None and not ilike(v)]
            assert await _matching(column.not_ilike(pattern)) == unilike, where


async def test_literal_matches_take_the_text_as_it_is(words: list[str]) -> None:
    rng = random.Random(SEED + 2)
    pieces = ["%", "_", "\\", "a%", "_b", "\\b", "*", "?", "[", "SÃO", "são", "ß", "İ", "Σ"]
    pieces += [w[: rng.randint(1, 3)] for w in rng.sample([w for w in words if w], 12)]
    for text in pieces:
        for method, test in _literal_checks(text):
            expected = [i for i, value in enumerate(words, start=1) if test(value)]
            assert await _matching(method(text)) == expected, (method.__name__, text)


def _literal_checks(
    text: str,
) -> list[tuple[Callable[[str], Condition], Callable[[str], bool]]]:
    """Each literal-match method with what it means in Python."""
    low = _lower(text)
    return [
        (Word.text.contains, lambda v: text in v),
        (Word.text.startswith, lambda v: v.startswith(text)),
        (Word.text.endswith, lambda v: v.endswith(text)),
        (Word.text.icontains, lambda v: low in _lower(v)),
        (Word.text.istartswith, lambda v: _lower(v).startswith(low)),
        (Word.text.iendswith, lambda v: _lower(v).endswith(low)),
    ]


async def test_documented_folding(words: list[str]) -> None:
    """The claims of docs/columns.md "Text patterns", row by row."""

    async def names(condition: Condition) -> set[str]:
        return set(await Word.select(Word.text).where(condition).output(as_list=True))

    # like is case-sensitive; ilike folds non-ASCII letters too.
    assert await names(Word.text.like("the %")) == {"the Beatles"}
    assert await names(Word.text.ilike("%SÃO%")) == {"São Paulo", "SÃO TOMÉ", "são"}
    # ß has no one-character upper case: STRASSE and straße stay apart.
    assert await names(Word.text.ilike("strasse")) == {"STRASSE"}
    assert await names(Word.text.ilike("STRASSE")) == {"STRASSE"}
    assert await names(Word.text.ilike("straße")) == {"straße", "Straße"}
    assert await names(Word.text.ilike("ß")) == {"ẞ"}
    # İ lowers to i, I to i (not ı): dotless ı matches only itself.
    assert await names(Word.text.ilike("istanbul")) == {"İstanbul", "istanbul", "ISTANBUL"}
    assert await names(Word.text.ilike("ı")) == {"ı"}
    # Σ lowers to σ wherever it stands (no final ς).
    assert await names(Word.text.ilike("σασ")) == {"ΣΑΣ", "σασ"}
    # The backslash escapes on both engines; GLOB's characters are plain.
    assert await names(Word.text.like("a\\%b")) == {"a%b"}
    assert await names(Word.text.like("a\\\\b")) == {"a\\b"}
    assert await names(Word.text.like("a*b")) == {"a*b"}
    assert await names(Word.text.like("[abc]")) == {"[abc]"}


def test_a_pattern_ending_in_the_escape_character_is_refused() -> None:
    # PostgreSQL refuses it at run time; both engines refuse it here, before SQL.
    for pattern in ["\\", "a\\", "a\\\\\\"]:
        for method in (Word.text.like, Word.text.ilike, Word.text.not_like, Word.text.not_ilike):
            with pytest.raises(ValueError, match="escape character"):
                method(pattern)
    Word.text.like("a\\\\")  # an escaped backslash at the end is fine
    for method in (Word.text.like, Word.text.contains, Word.text.iendswith):
        with pytest.raises(ValueError, match="NUL"):
            method("a\x00")
    with pytest.raises(TypeError):
        Word.text.like(3)  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        Word.text.contains(None)  # type: ignore[arg-type]


def test_escape_like() -> None:
    assert escape_like("50%_a\\b") == "50\\%\\_a\\\\b"
    assert _reference(escape_like("50%_a\\b"), fold=False)("50%_a\\b")
    assert not _reference(escape_like("50%"), fold=False)("500")


async def test_a_prefix_pattern_uses_the_index_on_sqlite(sqlite_engine: SQLiteEngine) -> None:
    use_engine(sqlite_engine, Word)
    try:
        await create_tables(Word)
        for condition in (Word.text.like("ab%"), Word.text.startswith("a%b")):
            sql, params = Word.select(Word.id).where(condition)._sql(SQLITE)
            plan = await sqlite_engine.fetch(f"EXPLAIN QUERY PLAN {sql}", params)
            assert any(
                str(row[-1]).startswith("SEARCH") and "INDEX" in str(row[-1]) for row in plan
            ), plan
    finally:
        await drop_tables(Word, if_exists=True)
        use_engine(None, Word)


async def test_fold_case_is_postgresql_lower(pg_engine: PostgresEngine) -> None:
    """Every character with a lower-case mapping, through PostgreSQL's lower() at once."""
    ((ctype,),) = await pg_engine.fetch(
        "SELECT datctype FROM pg_database WHERE datname = current_database()"
    )
    if ctype in ("C", "POSIX"):
        pytest.skip("a database with LC_CTYPE C folds ASCII only (docs/columns.md)")
    cased = [
        chr(c) for c in range(0x110000) if not 0xD800 <= c < 0xE000 and chr(c).lower() != chr(c)
    ]
    text = "".join(cased)
    ((lowered,),) = await pg_engine.fetch("SELECT lower($1::text)", [text])
    assert len(lowered) == len(text)
    folded = fold_case(text)
    assert folded is not None
    differences = [(c, p, o) for c, p, o in zip(text, lowered, folded) if p != o]
    assert differences == []
    # Final sigma: Python's own lower() would give ς; PostgreSQL and fold_case σ.
    ((sigma,),) = await pg_engine.fetch("SELECT lower('ΟΔΟΣ')")
    assert sigma == fold_case("ΟΔΟΣ") == "οδοσ"
