"""A bounded memo for answers that depend only on a small key (a word and its tags, a lemma).

Drafts repeat their words, so the swapped pipeline components and the Presidio adapter remember what
they computed per kind of token. A long-running service sees ever new words, so the memo is emptied
when it is full: memory stays bounded, and the next drafts simply fill it again.
"""

from __future__ import annotations

from typing import Callable, Generic, Hashable, TypeVar

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")

# About 250 bytes an entry for a tuple of token values: a few MB at most.
DEFAULT_LIMIT = 20_000


class BoundedMemo(Generic[K, V]):
    """`get(key, compute)`: the remembered answer, or compute it once and remember it."""

    def __init__(self, limit: int = DEFAULT_LIMIT):
        self.limit = limit
        self.answers: dict[K, V] = {}

    def __len__(self) -> int:
        return len(self.answers)

    def get(self, key: K, compute: Callable[[], V]) -> V:
        answer = self.answers.get(key)
        if answer is None:
            answer = compute()
            if len(self.answers) >= self.limit:
                self.answers.clear()
            self.answers[key] = answer
        return answer
