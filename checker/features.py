"""Features the learned signals read from the parse the checker already made: no re-tokenising.

One implementation serves training (training/train.py) and inference (checker/signals.py), so the two
can never disagree. Three kinds of feature, all deterministic functions of the Doc:

- hashed words: unigrams and bigrams of the tokens' lower-case forms, bucketed by spaCy's own 64-bit
  hash of the string (`token.lower`, a fixed MurmurHash, identical on every machine);
- hashed character n-grams (3 to 5) of each word, padded with spaces, bucketed by CRC-32; a word's
  buckets are memoised, since most words of a draft have been seen before;
- the pipeline's tok2vec output (`doc.tensor`, 96 wide in en_core_web_sm), pooled over a span.

Hashed counts are weighted TF-IDF style (1 + log count, times the bucket's IDF from training) and
scaled to unit length per kind, so a long sentence and a short one weigh the same.
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass

import numpy as np
from spacy.attrs import LOWER
from spacy.tokens import Doc

from checker.fast.memo import BoundedMemo

# Hash space per kind; buckets no training sentence reached keep weight 0 and compress to nothing.
WORD_BUCKETS = 1 << 17
CHAR_BUCKETS = 1 << 17
HASHED = WORD_BUCKETS + CHAR_BUCKETS
CHAR_SIZES = (3, 4, 5)
# Mixes a bigram's two hashes; any odd 64-bit constant would do (this is the golden ratio's).
_BIGRAM_MIX = np.uint64(0x9E3779B97F4A7C15)
# A word longer than this is a URL or a paste, not a word; its n-grams past this say nothing new.
MAX_WORD_CHARS = 40


@dataclass(frozen=True)
class Hashed:
    """A row of hashed features: bucket indices (sorted, unique) and their values."""

    indices: np.ndarray  # int64
    values: np.ndarray  # float32


_char_memo: BoundedMemo = BoundedMemo(50_000)


def _char_buckets(word: str) -> np.ndarray:
    padded = f" {word[:MAX_WORD_CHARS]} "
    grams = [padded[i:i + n] for n in CHAR_SIZES for i in range(len(padded) - n + 1)]
    return np.array([zlib.crc32(g.encode("utf-8")) % CHAR_BUCKETS + WORD_BUCKETS for g in grams], dtype=np.int64)


def _word_char_buckets(word: str) -> np.ndarray:
    return _char_memo.get(word, lambda: _char_buckets(word))


def doc_lowers(doc: Doc) -> np.ndarray:
    """Every token's lower-case hash, read from the Doc in one call."""
    return doc.to_array(LOWER).astype(np.uint64) if len(doc) else np.zeros(0, dtype=np.uint64)


def hashed_counts(doc: Doc, lowers: np.ndarray, start: int, end: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Word (1-2 gram) and character n-gram bucket counts of doc[start:end], before weighting."""
    span = lowers[start:end]
    words = [span % np.uint64(WORD_BUCKETS)]
    if len(span) > 1:
        words.append((span[:-1] * _BIGRAM_MIX ^ span[1:]) % np.uint64(WORD_BUCKETS))
    word_idx, word_cnt = np.unique(np.concatenate(words).astype(np.int64), return_counts=True)
    chars = [_word_char_buckets(doc[i].lower_) for i in range(start, end) if not doc[i].is_space]
    if chars:
        char_idx, char_cnt = np.unique(np.concatenate(chars), return_counts=True)
    else:
        char_idx, char_cnt = np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
    return word_idx, word_cnt, char_idx, char_cnt


def weigh(indices: np.ndarray, counts: np.ndarray, idf: np.ndarray) -> np.ndarray:
    """1 + log count times IDF, scaled to unit length."""
    values = (1.0 + np.log(counts)) * idf[indices]
    norm = float(np.sqrt(np.dot(values, values)))
    return (values / norm if norm > 0 else values).astype(np.float32)


def hashed_row(doc: Doc, lowers: np.ndarray, start: int, end: int, idf: np.ndarray) -> Hashed:
    word_idx, word_cnt, char_idx, char_cnt = hashed_counts(doc, lowers, start, end)
    return Hashed(np.concatenate([word_idx, char_idx]),
                  np.concatenate([weigh(word_idx, word_cnt, idf), weigh(char_idx, char_cnt, idf)]))


def pooled(tensor: np.ndarray, start: int, end: int) -> np.ndarray:
    """Mean and max of the tok2vec rows doc[start:end] (zeros for an empty span)."""
    if end <= start or tensor.size == 0:
        width = tensor.shape[1] if tensor.ndim == 2 else 0
        return np.zeros(2 * width, dtype=np.float32)
    rows = tensor[start:end]
    return np.concatenate([rows.mean(0), rows.max(0)]).astype(np.float32)
