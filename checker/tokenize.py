"""Tokenize any draft in time linear in its length, and refuse drafts with more tokens than a post has.

spaCy's tokenizer peels prefix and suffix punctuation off a whitespace-free chunk one character at a
time and searches the rest again after each one, so a chunk of n punctuation marks costs about n²:
50,000 commas froze the service. Words, handles and URLs are short; only a broken or hostile paste has
a chunk of hundreds of characters. So a draft without such a chunk goes to spaCy's tokenizer whole and
gets exactly spaCy's tokens. In a draft with one, each chunk over LONG_CHUNK characters is cut first: a
run of one repeated character becomes a single token, and the rest is cut into pieces of at most PIECE
characters, each tokenized by spaCy. The pieces are joined back with `Doc.from_docs`, so the Doc's text
is the draft character for character and every offset stays exact.

The rest of the pipeline costs about 0.2 ms a token, so a draft of 50,000 one-character tokens would
take ten seconds however it was tokenized. Prose has one token per five characters; `max_tokens`
refuses what no post has, before the tagger and parser run.
"""

from __future__ import annotations

import re
from itertools import groupby
from typing import Callable, Iterator

from spacy.tokens import Doc
from spacy.vocab import Vocab

from checker.errors import InputError

LONG_CHUNK = 100  # longer than any word, handle or ordinary URL
PIECE = 32  # spaCy tokenizes 32 characters of anything in well under a millisecond
RUN = 8  # this many copies of one character in a long chunk are one token ("!!!!!!!!", "--------")
# 50,000 characters of prose are about 11,000 tokens; 20,000 is still a post, and bounds the parse (about
# 4 s on this 2-core machine at 0.2 ms a token).
DEFAULT_MAX_TOKENS = 20_000

_LONG_CHUNK = re.compile(r"\S{%d,}" % (LONG_CHUNK + 1))


class BoundedTokenizer:
    """spaCy's tokenizer, with overlong whitespace-free chunks cut into pieces it handles cheaply."""

    def __init__(self, tokenizer: Callable[[str], Doc], vocab: Vocab, max_tokens: int = DEFAULT_MAX_TOKENS):
        self.tokenizer = tokenizer
        self.vocab = vocab
        self.max_tokens = max_tokens

    def __call__(self, text: str) -> Doc:
        """The draft as a Doc of tokens only (no tags, no parse); InputError past `max_tokens`."""
        long_chunks = list(_LONG_CHUNK.finditer(text))
        if not long_chunks:
            doc = self.tokenizer(text)
        else:
            doc = Doc.from_docs(list(self._segments(text, long_chunks)), ensure_whitespace=False)
        if len(doc) > self.max_tokens:
            raise InputError(f"draft has {len(doc)} words and symbols; the limit is {self.max_tokens}")
        return doc

    def _segments(self, text: str, long_chunks: list[re.Match[str]]) -> Iterator[Doc]:
        at = 0
        for chunk in long_chunks:
            if chunk.start() > at:
                yield self.tokenizer(text[at:chunk.start()])
            yield from self._chunk(chunk.group())
            at = chunk.end()
        if at < len(text):
            yield self.tokenizer(text[at:])

    def _chunk(self, chunk: str) -> Iterator[Doc]:
        pending = ""  # characters not yet tokenized: never more than PIECE + RUN of them
        for char, copies in groupby(chunk):
            run = char * sum(1 for _ in copies)
            if len(run) >= RUN:
                if pending:
                    yield self.tokenizer(pending)
                    pending = ""
                yield Doc(self.vocab, words=[run], spaces=[False])
                continue
            pending += run
            while len(pending) >= PIECE:
                yield self.tokenizer(pending[:PIECE])
                pending = pending[PIECE:]
        if pending:
            yield self.tokenizer(pending)
