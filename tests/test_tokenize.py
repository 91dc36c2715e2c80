"""The bounded tokenizer: spaCy's own tokens for ordinary drafts, exact text for any draft, and a cap."""

from __future__ import annotations

import pytest

from checker.errors import InputError
from checker.tokenize import LONG_CHUNK, PIECE, RUN, BoundedTokenizer

ORDINARY = [
    "82yo M found down last night at 3am by his wife Linda. Room 12, stable now. #MedTwitter",
    "Can't believe it... she's 91!!! 🙄 https://example.org/a/b?c=d  (two spaces)\nnew line\ttab",
    "Mrs. O'Neill-Smith's daughter didn't call back—again. I'm done.",
]
HOSTILE = [
    "," * 5000,
    "'" * 3000 + "word",
    "see " + "(!" * 2000 + " then",
    "http://" + "a." * 2000 + "com",
    "🙄😂" * 800,
    "x" * (LONG_CHUNK + 1) + "!" * (RUN - 1) + "?" * RUN,
    "ok " + "ab" * LONG_CHUNK + "  \n " + "-" * (LONG_CHUNK * 3) + " end ",
]


@pytest.fixture(scope="module")
def bounded(checker) -> BoundedTokenizer:
    return BoundedTokenizer(checker.nlp.tokenizer, checker.nlp.vocab, max_tokens=100_000)


@pytest.mark.parametrize("text", ORDINARY)
def test_ordinary_drafts_get_spacys_own_tokens(bounded, checker, text):
    ours = [(t.text, t.whitespace_, t.norm_) for t in bounded(text)]
    assert ours == [(t.text, t.whitespace_, t.norm_) for t in checker.nlp.tokenizer(text)]


@pytest.mark.parametrize("text", ORDINARY + HOSTILE)
def test_the_doc_text_is_the_draft(bounded, text):
    assert bounded(text).text == text


def test_a_long_run_of_one_character_is_one_token(bounded):
    doc = bounded("before " + "," * 5000 + " after")
    assert [t.text for t in doc if not t.is_space] == ["before", "," * 5000, "after"]


def test_long_chunks_are_cut_into_pieces_spacy_tokenizes(bounded):
    chunk = "(!" * 200
    tokens = [t.text for t in bounded(chunk)]
    assert "".join(tokens) == chunk
    assert max(map(len, tokens)) <= PIECE
    assert len(tokens) > len(chunk) // PIECE  # spaCy split each piece further, into its punctuation


def test_too_many_tokens_is_an_input_error_naming_sizes_only(checker):
    tokenizer = BoundedTokenizer(checker.nlp.tokenizer, checker.nlp.vocab, max_tokens=10)
    with pytest.raises(InputError, match=r"^draft has 12 words and symbols; the limit is 10$"):
        tokenizer("Quillfeather " * 12)
    assert len(tokenizer("Quillfeather " * 10)) == 10


def test_checker_refuses_a_draft_over_the_token_limit(checker):
    with pytest.raises(InputError, match="words and symbols"):
        checker.check("a," * (checker.tokenizer.max_tokens // 2 + 1))
