"""A candidate: a span some detector proposes for a rule, before context decides whether it counts."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # rules.py compiles context conditions, which read candidates
    from checker.rules import Rule


@dataclass(frozen=True)
class Candidate:
    """`start`/`end` are character offsets into the draft; `token_start`/`token_end` index the Doc."""

    rule: Rule
    start: int
    end: int
    token_start: int
    token_end: int
    # A detector may raise or lower the rule's severity (a sentiment tier, an age over 89).
    severity: str | None = None
    # A detector may fill the rule's message in (a learned venting sentence names whom it is aimed at).
    message: str | None = None
