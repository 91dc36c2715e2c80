"""The learned-signal detector: a sentence whose learned score reaches a rule's threshold is a candidate.

Word lists and sentiment catch the venting they know ("frequent flyer", "useless"); sarcasm carried by
ordinary words ("oh great, another 'allergy' to everything but dilaudid") has no word to list. The
venting signal (checker/signals.py) scores each sentence as a whole, and a rule with
`patterns: {signal: {model: venting, at_least: 0.85}}` turns the sentences at or over its threshold into
candidates, marking the whole sentence (there is no one word to mark). Its context decides, as for any
rule, whether a candidate counts; its message names whom the sentence is aimed at.
"""

from __future__ import annotations

from spacy.tokens import Doc

from checker.candidates import Candidate
from checker.context import DraftContext
from checker.rules import Rule, RuleSet

# How a message names each target the learned target model can give ({target} in the rule's message).
TARGET_WORDS = {
    "patient": "a patient", "family": "a patient's family", "colleague": "a colleague",
    "program": "a training program", "institution": "a hospital or employer", "payer": "an insurer or payer",
    "profession": "a profession",
}


class SignalDetector:
    """Proposes each sentence whose signal score reaches a signal rule's threshold."""

    def __init__(self, ruleset: RuleSet):
        self.rules: list[Rule] = [rule for rule in ruleset.evaluated if rule.signal]

    def __call__(self, doc: Doc, ctx: DraftContext) -> list[Candidate]:
        if not self.rules or ctx.signals is None or not len(doc):
            return []
        found: list[Candidate] = []
        for index, (start, end) in enumerate(ctx.sentence_bounds):
            words = [t for t in doc[start:end] if not t.is_space]
            if not words:
                continue
            for rule in self.rules:
                if ctx.signals.sentence(rule.signal.model, index) < rule.signal.at_least:
                    continue
                message = rule.message.replace("{target}", TARGET_WORDS.get(ctx.signals.target(index), "someone"))
                first, last = words[0], words[-1]
                found.append(Candidate(rule, first.idx, last.idx + len(last.text), first.i, last.i + 1,
                                       message=message))
        return found
