"""Learned signals over the checker's one parse: per-sentence encounter and venting scores (with whom
the venting is aimed at), and how likely a PERSON-like span names a patient or a relative.

    signals = Signals.load()                       # once; weights ship in checker/models/
    scores = signals.score(doc, bounded_sentences(doc))
    scores.encounter[i], scores.venting[i], scores.target[i]
    signals.name_scores(doc, [(token_start, token_end), ...])
    signals.identifiable(doc)                      # post level

Scores are probabilities from linear models over features of the Doc (checker/features.py): hashed
word and character n-grams, TF-IDF weighted, of the sentence and its neighbours, and the pipeline's
own tok2vec vectors pooled over the sentence, its neighbours and the draft. Thresholds are not here:
they are rules data. Every score is a pure function of the Doc and the weights file.

The models are trained by `python -m training.train` (see training/train.py); the manifest beside
the weights says on what corpus, with what options and what they scored.
"""

from __future__ import annotations

import json
import zipfile
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

import numpy as np
from spacy.tokens import Doc, Span

from checker.errors import ModelError
from checker.features import (
    HASHED, WORD_BUCKETS, Hashed, _word_char_buckets, doc_lowers, hashed_row, pooled, weigh,
)
from checker.syntax import bounded_sentences

MODELS_DIR = Path(__file__).resolve().parent / "models"
WEIGHTS_FILE = "signals.npz"
FORMAT = 2  # 2: the sentence block's tok2vec is the sentence's own (sentence_dense)
# The signals rules can name (`signal: {model: ...}`), and the two scored per sentence.
SENTENCE_SIGNALS = ("encounter", "venting")
SIGNAL_NAMES = (*SENTENCE_SIGNALS, "name", "identifiable")
TARGETS = ("patient", "family", "colleague", "program", "institution", "payer", "profession")
# A neighbouring sentence's words count half as much as the sentence's own.
NEIGHBOUR_WEIGHT = 0.5
# Every sentence also reads its whole draft's words (unit length, times this): whose story it is
# ("my dad", "our nurse manager") is often said in another sentence (0.6 measured best of 0, 0.3, 0.6).
DRAFT_WEIGHT = 0.6
# Words either side of a name candidate read as its context.
NAME_WINDOW = 3
_MIX = np.uint64(0x9E3779B97F4A7C15)


# -- features (training/train.py builds its rows with these same functions) ---------------------------

def sentence_hashed(doc: Doc, bounds: Sequence[tuple[int, int]], idf: np.ndarray) -> list[Hashed]:
    """Each sentence's own hashed row, then its neighbours' rows at offsets HASHED and 2 * HASHED."""
    lowers = doc_lowers(doc)
    own = [hashed_row(doc, lowers, start, end, idf) for start, end in bounds]
    empty = Hashed(np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.float32))
    rows = []
    for i, row in enumerate(own):
        before = own[i - 1] if i > 0 else empty
        after = own[i + 1] if i + 1 < len(own) else empty
        rows.append(Hashed(
            np.concatenate([row.indices, before.indices + HASHED, after.indices + 2 * HASHED]),
            np.concatenate([row.values, before.values * NEIGHBOUR_WEIGHT, after.values * NEIGHBOUR_WEIGHT]),
        ))
    return rows


def own_part(row: Hashed) -> Hashed:
    """The sentence's own words and character n-grams of a `sentence_hashed` row, without its
    neighbours' (what the target model reads: whom a sentence vents at is said in the sentence)."""
    keep = row.indices < HASHED
    return Hashed(row.indices[keep], row.values[keep])


def _tensor(doc: Doc) -> np.ndarray:
    tensor = doc.tensor
    if not isinstance(tensor, np.ndarray):  # a GPU array would be cupy; postcheck runs on CPU
        tensor = np.asarray(tensor)
    if tensor.ndim != 2 or tensor.shape[0] != len(doc):
        raise ModelError("the spaCy pipeline left no tok2vec output (doc.tensor) for the learned signals")
    return tensor


def sentence_dense(doc: Doc, bounds: Sequence[tuple[int, int]]) -> np.ndarray:
    """Pooled tok2vec (mean and max) of each sentence on its own.

    Not its neighbours' nor the draft's (format 1 had both): pooled vectors of the context carry the
    draft's length and style, and since most one-sentence drafts of the first corpus vented, the model
    read a one-line post as venting and flagged "Admitted a 64yo with sepsis." The context is still
    read, through the neighbours' and the draft's words."""
    tensor = _tensor(doc)
    return np.array([pooled(tensor, start, end) for start, end in bounds], dtype=np.float32).reshape(len(bounds), -1)


def _namespaced(lowers: np.ndarray, space: int) -> np.ndarray:
    return ((lowers * _MIX ^ np.uint64(space)) % np.uint64(WORD_BUCKETS)).astype(np.int64)


def name_hashed(doc: Doc, lowers: np.ndarray, start: int, end: int, sentence: tuple[int, int]) -> Hashed:
    """A candidate's words, their character n-grams, the words at each position around it, and the
    words of its sentence, each kind in its own hash space, scaled to unit length per kind."""
    groups = [_namespaced(lowers[start:end], 1)]
    for offset in range(1, NAME_WINDOW + 1):
        groups.append(_namespaced(lowers[start - offset:start - offset + 1], 1 + offset) if start - offset >= 0
                      else np.array([(12345 + offset) % WORD_BUCKETS], dtype=np.int64))
        groups.append(_namespaced(lowers[end + offset - 1:end + offset], 10 + offset) if end + offset - 1 < len(doc)
                      else np.array([(54321 + offset) % WORD_BUCKETS], dtype=np.int64))
    shape = "".join("X" if t.is_title else "U" if t.is_upper else "d" if t.like_num else "x" for t in doc[start:end])
    groups.append(np.array([zlib_bucket(f"shape:{shape[:4]}:{end - start}")], dtype=np.int64))
    words = np.unique(np.concatenate(groups))
    context = np.unique(_namespaced(lowers[sentence[0]:sentence[1]], 20))
    chars = [_word_char_buckets(doc[i].lower_) for i in range(start, end)]
    char_idx, char_cnt = (np.unique(np.concatenate(chars), return_counts=True) if chars
                          else (np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)))
    ones = np.ones(HASHED, dtype=np.float32)
    parts = [(words, np.ones(len(words), dtype=np.int64)), (context, np.ones(len(context), dtype=np.int64)),
             (char_idx, char_cnt)]
    indices = np.concatenate([p[0] for p in parts])
    values = np.concatenate([weigh(i, c, ones) for i, c in parts])
    # words and context live in one hash space; sum any bucket the two share
    unique, inverse = np.unique(indices, return_inverse=True)
    return Hashed(unique, np.bincount(inverse, weights=values).astype(np.float32))


def zlib_bucket(text: str) -> int:
    return zlib.crc32(text.encode("utf-8")) % WORD_BUCKETS


def name_dense(doc: Doc, start: int, end: int, sentence: tuple[int, int], whole: np.ndarray | None = None) -> np.ndarray:
    """Pooled tok2vec of the name, its sentence and the draft (`whole`, when pooled once already)."""
    tensor = _tensor(doc)
    whole = pooled(tensor, 0, len(doc)) if whole is None else whole
    return np.concatenate([pooled(tensor, start, end), pooled(tensor, *sentence), whole])


def draft_hashed(doc: Doc, idf: np.ndarray) -> Hashed:
    """The whole draft's hashed row (for the post-level `identifiable` model)."""
    return hashed_row(doc, doc_lowers(doc), 0, len(doc), idf)


def draft_words(row: Hashed) -> Hashed:
    """The words (not character n-grams) of a `draft_hashed` row, at DRAFT_WEIGHT: the block every
    sentence of the draft shares."""
    keep = row.indices < WORD_BUCKETS
    return Hashed(row.indices[keep], row.values[keep] * DRAFT_WEIGHT)


def draft_dense(doc: Doc) -> np.ndarray:
    return pooled(_tensor(doc), 0, len(doc))


def sentence_of_tokens(bounds: Sequence[tuple[int, int]], n_tokens: int) -> np.ndarray:
    index = np.zeros(max(n_tokens, 1), dtype=np.int64)
    for i, (start, end) in enumerate(bounds):
        index[start:end] = i
    return index


# -- inference -------------------------------------------------------------------------------------

@dataclass(frozen=True)
class SentenceScores:
    """Per sentence, in the order of the bounds given: probability it narrates a specific patient or
    family encounter, probability it vents, and the likeliest target of the venting (always given,
    whatever the venting score; `target_score` is its probability among the seven)."""

    encounter: tuple[float, ...]
    venting: tuple[float, ...]
    target: tuple[str, ...]
    target_score: tuple[float, ...]

    def __len__(self) -> int:
        return len(self.encounter)


@dataclass(frozen=True)
class _Linear:
    sparse: np.ndarray
    dense: np.ndarray
    bias: np.ndarray
    mean: np.ndarray
    scale: np.ndarray  # 1 / std times the dense block's weight, folded
    shared: np.ndarray | None = None  # weights of the draft block every sentence shares

    def logits(self, rows: Sequence[Hashed], dense: np.ndarray, draft: Hashed | None = None) -> np.ndarray:
        sparse = np.array([self.sparse[r.indices].T @ r.values for r in rows], dtype=np.float64)
        if sparse.ndim == 1:
            sparse = sparse[:, None]
        z = sparse.reshape(len(rows), -1) + (((dense - self.mean) * self.scale) @ self.dense).reshape(len(rows), -1)
        if self.shared is not None and draft is not None:
            z = z + float(self.shared[draft.indices] @ draft.values)
        return z + self.bias


def _sigmoid(z: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-z))


class Signals:
    """The trained weights, loaded once; `score` and `name_scores` only read them."""

    def __init__(self, arrays: dict[str, np.ndarray], meta: dict):
        self.meta = meta
        self.idf = arrays["idf"]
        self.encounter = self._linear(arrays, "encounter", "sentence")
        self.venting = self._linear(arrays, "venting", "sentence")
        self.target = self._linear(arrays, "target", "sentence")
        self.name = self._linear(arrays, "name", "name")
        self.identifiable_model = self._linear(arrays, "identifiable", "draft")
        self.targets = tuple(meta["targets"])

    @staticmethod
    def _linear(arrays, model: str, block: str) -> _Linear:
        return _Linear(arrays[f"{model}_sparse"], arrays[f"{model}_dense"], arrays[f"{model}_bias"],
                       arrays[f"{block}_mean"], arrays[f"{block}_scale"], arrays.get(f"{model}_draft"))

    @classmethod
    def load(cls, path: str | Path | None = None) -> "Signals":
        """Load the weights shipped with postcheck (or the file at `path`); a missing, unreadable or
        inconsistent file is a ModelError naming the file, never a silent fallback."""
        path = Path(path) if path is not None else MODELS_DIR / WEIGHTS_FILE
        try:
            with np.load(path, allow_pickle=False) as data:
                arrays = {name: data[name] for name in data.files}
            meta = json.loads(bytes(arrays.pop("meta")).decode("utf-8"))
        except FileNotFoundError:
            raise ModelError(f"{path}: learned-signal weights are missing; reinstall postcheck or run python -m training.train") from None
        except (OSError, ValueError, KeyError, zipfile.BadZipFile, UnicodeDecodeError, EOFError) as error:
            raise ModelError(f"{path}: learned-signal weights are unreadable ({type(error).__name__})") from None
        try:
            _check(arrays, meta)
            return cls(arrays, meta)
        except (KeyError, TypeError) as error:
            raise ModelError(f"{path}: learned-signal weights lack {error}") from None

    def score(self, doc: Doc, sentence_bounds: Sequence[tuple[int, int]]) -> SentenceScores:
        """Scores for each sentence of `doc` given as (start, end) token indices (the checker's
        `bounded_sentences(doc)`)."""
        if not sentence_bounds:
            return SentenceScores((), (), (), ())
        rows = sentence_hashed(doc, sentence_bounds, self.idf)
        dense = sentence_dense(doc, sentence_bounds)
        draft = draft_words(draft_hashed(doc, self.idf))
        encounter = _sigmoid(self.encounter.logits(rows, dense, draft)[:, 0])
        venting = _sigmoid(self.venting.logits(rows, dense, draft)[:, 0])
        z = self.target.logits([own_part(r) for r in rows], dense)
        z = np.exp(z - z.max(axis=1, keepdims=True))
        probs = z / z.sum(axis=1, keepdims=True)
        best = probs.argmax(axis=1)
        return SentenceScores(
            tuple(float(x) for x in encounter), tuple(float(x) for x in venting),
            tuple(self.targets[i] for i in best), tuple(float(probs[j, i]) for j, i in enumerate(best)),
        )

    def name_scores(self, doc: Doc, spans: Sequence[Span | tuple[int, int]],
                    sentence_bounds: Sequence[tuple[int, int]] | None = None) -> list[float]:
        """Probability that each span (a spaCy Span or (token_start, token_end)) names a patient or a
        patient's relative rather than a colleague, the author, a public figure or no person at all.
        `sentence_bounds` defaults to the parser's sentences cut as the checker cuts them."""
        if not spans:
            return []
        if sentence_bounds is None:
            sentence_bounds = bounded_sentences(doc)
        return self.name_scores_in(_NameInputs(doc, sentence_bounds), spans)

    def name_scores_in(self, inputs: "_NameInputs", spans: Sequence[Span | tuple[int, int]]) -> list[float]:
        """`name_scores` with the draft's per-token inputs computed once (DraftSignals asks span by span)."""
        doc, sentence_bounds = inputs.doc, inputs.bounds
        rows, dense = [], []
        for span in spans:
            start, end = (span.start, span.end) if isinstance(span, Span) else (int(span[0]), int(span[1]))
            if not 0 <= start < end <= len(doc):
                raise ValueError(f"span ({start}, {end}) is outside the draft's {len(doc)} tokens")
            sentence = sentence_bounds[inputs.sentence_of[start]]
            rows.append(name_hashed(doc, inputs.lowers, start, end, sentence))
            dense.append(name_dense(doc, start, end, sentence, inputs.whole))
        return [float(x) for x in _sigmoid(self.name.logits(rows, np.array(dense, dtype=np.float32))[:, 0])]

    def identifiable(self, doc: Doc) -> float:
        """Probability that the draft holds what could identify a patient or their family to someone
        who knows them: a name, or details that combine to point at one person (post level)."""
        if not len(doc):
            return 0.0
        z = self.identifiable_model.logits([draft_hashed(doc, self.idf)], draft_dense(doc)[None, :])
        return float(_sigmoid(z[0, 0]))


class _NameInputs:
    """What scoring a name reads from the whole draft, computed once: its lower-case hashes, each
    token's sentence and the draft's pooled tok2vec."""

    def __init__(self, doc: Doc, bounds: Sequence[tuple[int, int]]):
        self.doc, self.bounds = doc, bounds
        self.sentence_of = sentence_of_tokens(bounds, len(doc))
        self.lowers = doc_lowers(doc)
        self.whole = pooled(_tensor(doc), 0, len(doc))


def _check(arrays: dict[str, np.ndarray], meta: dict) -> None:
    if meta.get("format") != FORMAT:
        raise ModelError(f"learned-signal weights have format {meta.get('format')}, this postcheck reads {FORMAT}")
    expected = {"idf": (HASHED,), "encounter_sparse": (3 * HASHED,), "venting_sparse": (3 * HASHED,),
                "target_sparse": (HASHED, len(meta["targets"])), "name_sparse": (HASHED,),
                "identifiable_sparse": (HASHED,), "encounter_draft": (WORD_BUCKETS,),
                "venting_draft": (WORD_BUCKETS,)}
    for name, shape in expected.items():
        if arrays[name].shape != shape:
            raise ModelError(f"learned-signal array {name} has shape {arrays[name].shape}, expected {shape}")
    for model, block in (("encounter", "sentence"), ("venting", "sentence"), ("target", "sentence"), ("name", "name"),
                         ("identifiable", "draft")):
        width = arrays[f"{block}_mean"].shape[0]
        if arrays[f"{model}_dense"].shape[0] != width or arrays[f"{block}_scale"].shape != (width,):
            raise ModelError(f"learned-signal array {model}_dense does not match {block}_mean")
        parts = ("sparse", "dense", "bias", "draft") if f"{model}_draft" in arrays else ("sparse", "dense", "bias")
        if not all(np.isfinite(arrays[f"{model}_{part}"]).all() for part in parts):
            raise ModelError(f"learned-signal weights of {model} are not finite")


# -- what rules read ---------------------------------------------------------------------------------


class DraftSignals:
    """One draft's signals, each computed the first time a rule asks and then kept: a draft whose rules
    never ask for a signal (none matched near one) costs nothing, and one that asks twice pays once."""

    def __init__(self, signals: Signals, doc: Doc, sentence_bounds: Sequence[tuple[int, int]]):
        self._signals, self._doc, self._bounds = signals, doc, sentence_bounds
        self._sentences: SentenceScores | None = None
        self._highest: dict[str, float] = {}
        self._names: dict[tuple[int, int], float] = {}
        self._name_inputs: _NameInputs | None = None
        self._identifiable: float | None = None

    def sentences(self) -> SentenceScores:
        if self._sentences is None:
            self._sentences = self._signals.score(self._doc, self._bounds)
        return self._sentences

    def sentence(self, model: str, index: int) -> float:
        """The `encounter` or `venting` score of sentence `index`."""
        scores = self.sentences()
        return getattr(scores, model)[index] if index < len(scores) else 0.0

    def highest(self, model: str, first: int, last: int) -> float:
        """The highest `model` score of sentences first..last; the whole draft's is computed once."""
        if (first, last) != (0, len(self._bounds) - 1):
            return max(self.sentence(model, i) for i in range(first, last + 1))
        if model not in self._highest:
            self._highest[model] = max(getattr(self.sentences(), model), default=0.0)
        return self._highest[model]

    def target(self, index: int) -> str:
        return self.sentences().target[index]

    def name(self, start: int, end: int) -> float:
        """How likely doc[start:end] names a patient or a patient's relative."""
        if (start, end) not in self._names:
            if self._name_inputs is None:
                self._name_inputs = _NameInputs(self._doc, self._bounds)
            self._names[(start, end)] = self._signals.name_scores_in(self._name_inputs, [(start, end)])[0]
        return self._names[(start, end)]

    def identifiable(self) -> float:
        if self._identifiable is None:
            self._identifiable = self._signals.identifiable(self._doc)
        return self._identifiable
