"""Facts: what a sentence is (an encounter, a vent), declared in YAML, set by sources and by rules.

    facts:
      patient-words: {words: ["@patient_refs", "@encounter_events"]}   # a sentence holding one of these
      encounter: {includes: [patient-words]}                          # ... and what rules add
      venting: {signal: {model: venting, at_least: 0.9}}              # a learned signal's sentences

A rule `sets: [encounter]` marks the sentence of each of its matches that counts (warning or error;
a note sets nothing), and another rule `needs: [{fact: {name: encounter}}]`. The loader orders the
rules so that every fact is complete before a rule reads it, and refuses a cycle, naming its rules.

A rule that sets a fact and also reads it ("Patient Jones" needs a patient draft and makes one) decides
whether a match sets the fact on the fact's sources alone, so no match vouches for itself, and whether
it is reported once the fact is complete, as every other rule does.

A fact may also come from a learned signal (`signal: {model: encounter, at_least: 0.8}`): a sentence
whose score reaches the threshold holds it. With the learned signals off (`Checker(learned=False)`)
that source is silent and the fact comes from its words and rules alone.

A disabled rule, or a match whose words are allowed, still sets its facts: it is silenced, not blind,
so turning one rule off never changes what another rule sees.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Mapping, Sequence

from checker.errors import RuleFileError
from checker.signals import SENTENCE_SIGNALS


@dataclass(frozen=True)
class FactDeclaration:
    """A fact's sources: words a sentence may hold, and other facts it includes."""

    name: str
    words: tuple[str, ...] = ()  # lexicon names (without '@') and plain words, as written
    includes: tuple[str, ...] = ()
    source: str = ""
    # A learned sentence signal (checker/signals.py) and the score from which a sentence holds the fact;
    # thresholds live here, in rules data, so an organisation tunes them without Python.
    signal: tuple[str, float] | None = None


_FACT_KEYS = {"words", "includes", "signal"}


def parse_facts(raw: Any, path: str) -> list[FactDeclaration]:
    if not isinstance(raw, dict):
        raise RuleFileError(f"{path}: 'facts' must be a mapping of fact names to their sources")
    declared = []
    for name, body in raw.items():
        body = body or {}
        if not isinstance(name, str) or not isinstance(body, dict):
            raise RuleFileError(f"{path}: fact '{name}': must be a mapping (words, includes)")
        unknown = set(body) - _FACT_KEYS
        if unknown:
            raise RuleFileError(f"{path}: fact '{name}': unknown key '{sorted(unknown)[0]}' (known: words, includes, signal)")
        lists = {}
        for key in ("words", "includes"):
            value = body.get(key, [])
            if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
                raise RuleFileError(f"{path}: fact '{name}': '{key}' must be a list of names")
            lists[key] = tuple(value)
        signal = parse_signal(body.get("signal"), f"{path}: fact '{name}': 'signal'")
        declared.append(FactDeclaration(name, lists["words"], lists["includes"], path, signal))
    return declared


def parse_signal(raw: Any, where: str) -> tuple[str, float] | None:
    """`{model: encounter, at_least: 0.8}`: a sentence signal and a probability threshold."""
    if raw is None:
        return None
    if not isinstance(raw, dict) or set(raw) != {"model", "at_least"}:
        raise RuleFileError(f"{where} must be a mapping with 'model' and 'at_least'")
    if raw["model"] not in SENTENCE_SIGNALS:
        raise RuleFileError(f"{where}: 'model' must be one of {', '.join(SENTENCE_SIGNALS)}")
    threshold = raw["at_least"]
    if isinstance(threshold, bool) or not isinstance(threshold, (int, float)) or not 0 <= threshold <= 1:
        raise RuleFileError(f"{where}: 'at_least' must be a probability from 0 to 1")
    return raw["model"], float(threshold)


def check_facts(facts: Mapping[str, FactDeclaration], lexicons: Mapping[str, frozenset[str]]) -> None:
    """Every fact's lexicons and included facts exist, and no fact includes itself, however indirectly."""
    for fact in facts.values():
        for word in fact.words:
            if word.startswith("@") and word[1:] not in lexicons:
                raise RuleFileError(f"{fact.source}: fact '{fact.name}': unknown lexicon '{word}'")
        for included in fact.includes:
            if included not in facts:
                raise RuleFileError(f"{fact.source}: fact '{fact.name}': includes unknown fact '{included}'")
    for fact in facts.values():
        seen, stack = set(), list(fact.includes)
        while stack:
            name = stack.pop()
            if name == fact.name:
                raise RuleFileError(f"{fact.source}: fact '{fact.name}' includes itself")
            if name not in seen:
                seen.add(name)
                stack.extend(facts[name].includes)


def evaluation_order(rules: Sequence[Any], facts: Mapping[str, FactDeclaration]) -> tuple[str, ...]:
    """Rule ids in an order where every fact a rule reads is complete first (stable otherwise).

    `rules` need `.id`, `.sets`, and `.reads` / `.reads_base` (facts read finally / as their sources set
    them). A fact is complete when every rule that sets it, and every fact it includes, is complete.
    """
    setters: dict[str, list[str]] = {name: [] for name in facts}
    for rule in rules:
        for name in rule.sets:
            setters[name].append(rule.id)

    def complete(name: str) -> set[str]:
        """The rules that must run before `name` is complete."""
        needed, stack, seen = set(), [name], set()
        while stack:
            fact = stack.pop()
            if fact in seen:
                continue
            seen.add(fact)
            needed.update(setters[fact])
            stack.extend(facts[fact].includes)
        return needed

    before: dict[str, set[str]] = {}
    for rule in rules:
        needed: set[str] = set()
        for name in rule.reads:
            needed |= complete(name)
        for name in rule.reads_base:
            for included in facts[name].includes:
                needed |= complete(included)
        before[rule.id] = needed - {rule.id}
    order: list[str] = []
    done: set[str] = set()
    pending = [rule.id for rule in rules]
    while pending:
        ready = [rule_id for rule_id in pending if before[rule_id] <= done]
        if not ready:
            stuck = sorted(pending)
            raise RuleFileError(f"rules wait on each other's facts in a cycle: {', '.join(stuck[:6])}"
                                f"{' ...' if len(stuck) > 6 else ''}; a rule that reads a fact cannot help set "
                                "a fact that fact depends on")
        order.extend(ready)
        done.update(ready)
        pending = [rule_id for rule_id in pending if rule_id not in done]
    return tuple(order)


def words_of(fact: FactDeclaration) -> tuple[tuple[str, ...], frozenset[str]]:
    """A fact's word sources as (lexicon names, plain words)."""
    lexicons = tuple(w[1:] for w in fact.words if w.startswith("@"))
    plain = frozenset(w.lower() for w in fact.words if not w.startswith("@"))
    return lexicons, plain


