"""Detectors: each reads the one shared parse and proposes candidates for rules.

A detector is a callable `(doc, ctx) -> list[Candidate]`. Which rule a candidate belongs to, and
whether it counts, is data (the rule and its context), never the detector's business.
"""

from __future__ import annotations

from typing import Callable

from spacy.tokens import Doc

from checker.candidates import Candidate
from checker.context import DraftContext

Detector = Callable[[Doc, DraftContext], list[Candidate]]
