"""Rule files: schema, loading and validation.

A rule is data (see ../shared/STYLE.md): an id, a category, a severity, what to say, why, what to write
instead, a reference, the patterns that find candidates, the context it needs or that clears it, and
examples that must flag and must pass. The engine in `matching.py` and the conditions in `context.py`
never learn about a single rule. Every error names the file, the rule id and the field, so a broken
organisation pack is fixed in a minute.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Iterable, Mapping

import yaml
from spacy.schemas import validate_token_pattern

from checker.advice import INSTEAD_SLOTS, REDACT_SLOTS, AgeBand, parse_age_bands, template_problem
from checker.errors import RuleFileError
from checker.facts import FactDeclaration, check_facts, evaluation_order, parse_facts, parse_signal
from checker.predicates import Condition, Environment, compile_condition
from checker.regexes import RegexError, RuleRegex, token_regex_problems
from checker.token_patterns import PatternBoundError, fixed_alternatives

CATEGORIES = ("identifier", "timeline", "venting", "conduct")
SEVERITIES = ("info", "warning", "error")
SEVERITY_RANK = {name: rank for rank, name in enumerate(SEVERITIES)}
QUASI_KINDS = ("age", "sex", "place", "time", "occupation", "condition", "event", "family", "unique")
NEEDS = (
    "patient-draft",
    "encounter-sentence",
    "encounter-nearby",
    "person-target",
    "aimed-at-target",
    "author-subject",
    "venting-sentence",
)
CLEARS = (
    "gratitude",
    "eponym",
    "clinical-term",
    "author",
    "self",
    "broad-place",
    "heading",
    "hypothetical",
    "self-subject",
    "mention",
    "negated",
    "advice",
    "conditional",
    "positive-sentence",
)
_ID = re.compile(r"^[a-z][a-z0-9]*(?:-[a-z0-9]+)*$")
_TOP_LEVEL_KEYS = {"rules", "lexicons", "allow", "conditions", "facts"}
# Limits on what a pack may hold, so a mistaken or hostile pack fails fast instead of taking minutes and
# gigabytes to load (a 20 MB lexicon did). The built-in packs are a few hundred kilobytes in all.
MAX_RULE_FILE_BYTES = 1_000_000
MAX_LEXICON_WORDS = 20_000
MAX_WORD_CHARS = 200
_PATTERN_KEYS = ("phrases", "tokens", "regex", "entities", "lexicon", "sentiment", "signal")
_SENTIMENT_KEYS = {"max_compound", "targets"}
_RULE_KEYS = {
    "id", "category", "type", "severity", "message", "why", "instead", "reference", "patterns",
    "context", "quasi", "redact", "allow", "examples", "case_sensitive", "min_score", "marks_patient", "sets",
    "round_age", "risk_only",
}
_CONTEXT_KEYS = {"needs", "clears", "near", "not_near", "not_after", "window"}


@dataclass(frozen=True)
class Context:
    """What a candidate match needs around it to count, and what clears it, as written: condition names
    (macros from a `conditions:` section) or predicate mappings (checker/predicates.py). Compiled once
    all rule files are read, into RuleSet.contexts."""

    needs: tuple[Any, ...] = ()
    clears: tuple[Any, ...] = ()


@dataclass(frozen=True)
class CompiledContext:
    """A rule's conditions, compiled, and the facts they read (for the evaluation order)."""

    needs: tuple[Condition, ...] = ()
    clears: tuple[Condition, ...] = ()

    def survives(self, ctx, candidate) -> bool:
        """Every need met and nothing clearing it."""
        return all(need.test(ctx, candidate) for need in self.needs) and \
            not any(clear.test(ctx, candidate) for clear in self.clears)

    @property
    def reads(self) -> frozenset[str]:
        return frozenset().union(*(c.facts for c in (*self.needs, *self.clears)))

    @property
    def reads_base(self) -> frozenset[str]:
        return frozenset().union(*(c.base_facts for c in (*self.needs, *self.clears)))


@dataclass(frozen=True)
class SentimentPattern:
    """Clauses that score at most `max_compound` (VADER, -1..1) and name one of the `targets` lexicons.

    Negativity alone is never a finding: a clause must also be about someone ("my attending", "admin").
    """

    max_compound: float
    targets: tuple[str, ...]  # lexicon names, without the '@'


@dataclass(frozen=True)
class SignalPattern:
    """Sentences whose learned `model` score (checker/signals.py) is at least `at_least`: one candidate
    per sentence, its message naming whom the sentence is aimed at (`{target}`)."""

    model: str
    at_least: float


# The slot a signal rule's message may hold: whom the learned target model says the sentence is aimed at.
SIGNAL_MESSAGE_SLOTS = frozenset({"target"})


@dataclass(frozen=True)
class Rule:
    """One rule as loaded and validated; compiled matchers live in `matching.py`."""

    id: str
    category: str
    type: str
    severity: str
    message: str
    why: str
    instead: str
    reference: str
    phrases: tuple[str, ...] = ()
    tokens: tuple[tuple[Mapping[str, Any], ...], ...] = ()
    regex: tuple[RuleRegex, ...] = ()
    entities: tuple[str, ...] = ()
    sentiment: SentimentPattern | None = None
    signal: SignalPattern | None = None
    context: Context = field(default_factory=Context)
    quasi: str | None = None
    redact: str | None = None
    allow: frozenset[str] = frozenset()
    case_sensitive: bool = False
    min_score: float = 0.0
    # Facts a counted match sets on its sentence ("a 97-year-old ..." sets encounter); see checker/facts.py.
    sets: tuple[str, ...] = ()
    sets_declared: bool = False  # the rule file says `sets:` (or 0.1's marks_patient), so no default applies
    # Ages rounded into bands for the finding's rewrite (checker/advice.py).
    round_age: tuple[AgeBand, ...] = ()
    # A detail that is safe on its own (a decade): it counts toward the re-identification risk and is
    # never a finding by itself, so the wording postcheck suggests is never flagged.
    risk_only: bool = False
    examples_flag: tuple[str, ...] = ()
    # Where each flag example must fire: (start, end) spans marked [[like this]] in the rule file.
    examples_flag_marks: tuple[tuple[tuple[int, int], ...], ...] = ()
    examples_pass: tuple[str, ...] = ()
    source: str = ""

    def summary(self) -> str:
        """The one line `postcheck rules` shows."""
        return self.message


@dataclass(frozen=True)
class RuleSet:
    """All loaded rules, the named word lists (lexicons) they share, the declared facts, each rule's
    compiled context and the order rules are evaluated in.

    `rules` are the active ones; `silenced` are rules turned off (by --disable, a config's allow.rules,
    or a request), which still run and still set their facts, so that turning one rule off never
    changes what another rule sees: a silenced rule's findings are only left out of the report.
    """

    rules: tuple[Rule, ...]
    lexicons: Mapping[str, frozenset[str]]
    allow_words: frozenset[str] = frozenset()
    facts: Mapping[str, FactDeclaration] = field(default_factory=dict)
    contexts: Mapping[str, CompiledContext] = field(default_factory=dict)
    # For a rule that sets a fact it also reads: the same conditions reading that fact as it finally is,
    # which decide whether a match is reported (the contexts above decide whether it sets the fact).
    report_contexts: Mapping[str, CompiledContext] = field(default_factory=dict)
    order: tuple[str, ...] = ()
    silenced: tuple[Rule, ...] = ()

    def get(self, rule_id: str) -> Rule | None:
        return next((rule for rule in self.rules if rule.id == rule_id), None)

    def lexicon(self, name: str) -> frozenset[str]:
        return self.lexicons.get(name, frozenset())

    @property
    def evaluated(self) -> tuple[Rule, ...]:
        """Every rule that runs: the active ones and the silenced ones."""
        return self.rules + self.silenced

    def unknown_ids(self, rule_ids: Iterable[str]) -> list[str]:
        """The ids among `rule_ids` that name no rule, sorted: a typo must never pass silently."""
        return sorted(set(rule_ids) - {rule.id for rule in self.evaluated})

    def without(self, disabled: Iterable[str]) -> "RuleSet":
        """A copy with some rules silenced; unknown ids are an error so a typo does not pass silently."""
        disabled = set(disabled)
        unknown = self.unknown_ids(disabled)
        if unknown:
            raise RuleFileError(f"cannot disable unknown rule id(s): {', '.join(unknown)}")
        return replace(self, rules=tuple(r for r in self.rules if r.id not in disabled),
                       silenced=self.silenced + tuple(r for r in self.rules if r.id in disabled))

    def with_allowed(self, words: Iterable[str]) -> "RuleSet":
        """A copy where matches whose text is one of `words` (any case) never become findings (they
        still set their rules' facts)."""
        return replace(self, allow_words=self.allow_words | frozenset(word.lower() for word in words))


def lexicon_ref(word: str) -> str | None:
    """'@name' refers to the lexicon `name`; a bare '@' is the literal character (for handles)."""
    return word[1:] if len(word) > 1 and word.startswith("@") else None


def rule_dirs_from_env() -> list[Path]:
    """Extra rule packs named by POSTCHECK_RULES (os.pathsep-separated directories), for a transport that
    reads the environment (the library never calls this; checker/config.py resolves settings)."""
    value = os.environ.get("POSTCHECK_RULES", "")
    return [Path(part) for part in value.split(os.pathsep) if part.strip()]


def builtin_rules_dir() -> Path:
    """The shipped packs: `rules/` beside the package in a source checkout, else the installed copy."""
    checkout = Path(__file__).resolve().parents[1] / "rules"
    if (checkout / "identifiers.yaml").is_file():
        return checkout
    from postcheck_rules import BUILTIN_RULES_DIR

    return BUILTIN_RULES_DIR


def load_rules(extra_dirs: Iterable[Path] = ()) -> RuleSet:
    """Load the built-in packs, then each extra directory's `*.yaml` in name order."""
    files: list[Path] = sorted(builtin_rules_dir().glob("*.yaml"))
    for directory in extra_dirs:
        directory = Path(directory)
        if not directory.is_dir():
            raise RuleFileError(f"{directory}: rule directory not found")
        files.extend(sorted(directory.glob("*.yaml")))
    return load_rule_files(files)


def load_rule_files(files: Iterable[Path]) -> RuleSet:
    """Parse and validate rule files; later files may extend lexicons and add rules, conditions and facts,
    never redefine an id. Every condition, lexicon and fact a rule names is checked here, once, so a pack
    that loads works for every command."""
    rules: list[Rule] = []
    lexicons: dict[str, set[str]] = {}
    macros: dict[str, Any] = {}
    facts: dict[str, FactDeclaration] = {}
    allow: set[str] = set()
    seen: dict[str, str] = {}
    for path in files:
        document = _read_yaml(path)
        unknown = set(document) - _TOP_LEVEL_KEYS
        if unknown:
            raise RuleFileError(f"{path}: unknown top-level key '{sorted(map(str, unknown))[0]}' "
                                f"(known: {', '.join(sorted(_TOP_LEVEL_KEYS))})")
        for name, words in _field(document, "lexicons", dict, path, None, default={}).items():
            if not isinstance(words, list) or not all(isinstance(w, str) and w.strip() for w in words):
                raise RuleFileError(f"{path}: lexicon '{name}': must be a list of non-empty strings")
            if any(len(w) > MAX_WORD_CHARS for w in words):
                raise RuleFileError(f"{path}: lexicon '{name}': entries are at most {MAX_WORD_CHARS} characters")
            merged = lexicons.setdefault(str(name), set())
            merged.update(w.lower() for w in words)
            if len(merged) > MAX_LEXICON_WORDS:
                raise RuleFileError(f"{path}: lexicon '{name}': more than {MAX_LEXICON_WORDS} entries")
        for name, spec in _field(document, "conditions", dict, path, None, default={}).items():
            if name in macros:
                raise RuleFileError(f"{path}: condition '{name}' is already defined")
            macros[str(name)] = spec
        for fact in parse_facts(_field(document, "facts", dict, path, None, default={}), str(path)):
            if fact.name in facts:
                raise RuleFileError(f"{path}: fact '{fact.name}' is already defined in {facts[fact.name].source}")
            facts[fact.name] = fact
        allow.update(w.lower() for w in _string_list(document, "allow", path, None))
        for raw in _field(document, "rules", list, path, None, default=[]):
            rule = _parse_rule(raw, path)
            if rule.id in seen:
                raise RuleFileError(f"{path}: rule '{rule.id}': id already defined in {seen[rule.id]}")
            seen[rule.id] = str(path)
            rules.append(rule)
    frozen = {name: frozenset(words) for name, words in lexicons.items()}
    rules = [_expand_allow(rule, frozen) for rule in rules]
    check_facts(facts, frozen)
    rules = [_with_default_facts(rule, facts, frozen, macros) for rule in rules]
    contexts = {rule.id: _compile_context(rule, frozen, macros, facts, rule.sets) for rule in rules}
    report_contexts = {rule.id: _compile_context(rule, frozen, macros, facts, ()) for rule in rules
                       if contexts[rule.id].reads_base}
    for rule in rules:
        _check_lexicon_references(rule, frozen)
    order = evaluation_order(
        [_Reads(rule.id, rule.sets, contexts[rule.id].reads, contexts[rule.id].reads_base) for rule in rules], facts)
    return RuleSet(tuple(rules), frozen, frozenset(allow), facts, contexts, report_contexts, order)


def _check_lexicon_references(rule: Rule, lexicons: Mapping[str, frozenset[str]]) -> None:
    """Every '@lexicon' a rule's patterns name exists: checked here, at load, for every command (0.1
    checked token patterns only when a Checker compiled them, so `postcheck rules` took a pack that
    `postcheck check` refused)."""
    def check(name: str | None, field_name: str) -> None:
        if name and name not in lexicons:
            raise RuleFileError(f"{rule.source}: rule '{rule.id}': field '{field_name}': unknown lexicon '@{name}'")

    for phrase in rule.phrases:
        check(lexicon_ref(phrase), "patterns.phrases")
    for pattern in rule.tokens:
        for spec in pattern:
            for value in spec.values():
                for test in ("IN", "NOT_IN"):
                    argument = value.get(test) if isinstance(value, dict) else None
                    for item in [argument] if isinstance(argument, str) else argument or ():
                        check(lexicon_ref(item) if isinstance(item, str) else None, "patterns.tokens")
    for name in rule.sentiment.targets if rule.sentiment else ():
        check(name, "patterns.sentiment.targets")


@dataclass(frozen=True)
class _Reads:
    id: str
    sets: tuple[str, ...]
    reads: frozenset[str]
    reads_base: frozenset[str]


def _compile_context(rule: Rule, lexicons, macros, facts, own_facts: Iterable[str]) -> CompiledContext:
    """The rule's conditions; facts in `own_facts` are read as their sources set them."""
    compiled = {}
    for field_name in ("needs", "clears"):
        env = Environment(lexicons, macros, facts, frozenset(own_facts), f"{rule.source}: rule '{rule.id}': field 'context.{field_name}'")
        compiled[field_name] = tuple(compile_condition(spec, env) for spec in getattr(rule.context, field_name))
    return CompiledContext(**compiled)


def _with_default_facts(rule: Rule, facts, lexicons, macros) -> Rule:
    """A rule from a pack written before facts were declared: a venting rule (warning or error) sets
    `venting` unless it reads it, as 0.1 did. Rules that declare `sets:` (every built-in rule) keep theirs."""
    for name in rule.sets:
        if name not in facts:
            raise RuleFileError(f"{rule.source}: rule '{rule.id}': field 'sets': unknown fact '{name}' "
                                f"(known: {', '.join(sorted(facts))})")
    if rule.sets_declared or rule.category != "venting" or rule.severity == "info" or "venting" not in facts:
        return rule
    reads = _compile_context(rule, lexicons, macros, facts, ())
    if "venting" in reads.reads or "venting" in reads.reads_base:
        return rule
    return replace(rule, sets=("venting",))


def _expand_allow(rule: Rule, lexicons: Mapping[str, frozenset[str]]) -> Rule:
    """A rule's `allow` may name lexicons ('@calendar_words'): their words are allowed too."""
    names = [lexicon_ref(word) for word in rule.allow if lexicon_ref(word)]
    if not names:
        return rule
    for name in names:
        if name not in lexicons:
            raise RuleFileError(f"{rule.source}: rule '{rule.id}': field 'allow': unknown lexicon '@{name}'")
    plain = {word for word in rule.allow if not lexicon_ref(word)}
    return replace(rule, allow=frozenset(plain.union(*(lexicons[name] for name in names))))


# libyaml's safe loader when PyYAML was built with it (its wheels are): the same documents, ten times faster,
# which is two tenths of a second of every start-up.
_YAML_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class _StrictLoader(_YAML_LOADER):  # type: ignore[misc, valid-type]
    """The safe loader, refusing a mapping that repeats a key (YAML would keep the last, silently)."""

    def construct_mapping(self, node, deep=False):
        seen = set()
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=deep)
            if isinstance(key, (str, int, float, bool)) and key in seen:
                raise _DuplicateKey(key, key_node.start_mark.line + 1)
            seen.add(key)
        return super().construct_mapping(node, deep)


class _DuplicateKey(Exception):
    def __init__(self, key, line: int):
        self.key, self.line = key, line


def _read_yaml(path: Path) -> Mapping[str, Any]:
    """A rule file's document; every way a file can be unusable is one RuleFileError line."""
    try:
        if not path.is_file():  # a FIFO or device named *.yaml would block the read for ever
            raise RuleFileError(f"{path}: not a regular file")
        if path.stat().st_size > MAX_RULE_FILE_BYTES:
            raise RuleFileError(f"{path}: rule file is over {MAX_RULE_FILE_BYTES:,} bytes")
        text = path.read_bytes().decode("utf-8")
        document = yaml.load(text, Loader=_StrictLoader)
    except OSError as error:
        raise RuleFileError(f"{path}: cannot read rule file ({error.strerror})") from None
    except UnicodeDecodeError as error:
        raise RuleFileError(f"{path}: not UTF-8 text (byte {error.start})") from None
    except _DuplicateKey as error:
        raise RuleFileError(f"{path}: key '{error.key}' appears twice in one mapping (line {error.line})") from None
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = f" at line {mark.line + 1}" if mark else ""
        raise RuleFileError(f"{path}: not valid YAML{where}") from None
    except RecursionError:
        raise RuleFileError(f"{path}: nested too deeply") from None
    if document is None:
        return {}
    if not isinstance(document, dict):
        raise RuleFileError(f"{path}: top level must be a mapping with 'rules' and/or 'lexicons'")
    return document


def _field(data: Mapping[str, Any], key: str, kind: type, path: Path, rule_id: str | None, default: Any = ...):
    where = f"{path}: rule '{rule_id}'" if rule_id else f"{path}"
    if key not in data:
        if default is ...:
            raise RuleFileError(f"{where}: field '{key}' is required")
        return default
    value = data[key]
    if not isinstance(value, kind):
        raise RuleFileError(f"{where}: field '{key}' must be a {kind.__name__}")
    return value


def _string_list(data: Mapping[str, Any], key: str, path: Path, rule_id: str | None) -> tuple[str, ...]:
    values = _field(data, key, list, path, rule_id, default=[])
    if not all(isinstance(value, str) and value.strip() for value in values):
        where = f"{path}: rule '{rule_id}'" if rule_id else str(path)
        raise RuleFileError(f"{where}: field '{key}' must be a list of non-empty strings")
    return tuple(values)


def _choice(value: str, allowed: Iterable[str], path: Path, rule_id: str, key: str) -> str:
    allowed = tuple(allowed)
    if value not in allowed:
        raise RuleFileError(f"{path}: rule '{rule_id}': field '{key}' must be one of {', '.join(allowed)}")
    return value


def _parse_rule(raw: Any, path: Path) -> Rule:
    if not isinstance(raw, dict):
        raise RuleFileError(f"{path}: every entry under 'rules' must be a mapping")
    rule_id = raw.get("id")
    if not isinstance(rule_id, str) or not _ID.match(rule_id):
        raise RuleFileError(f"{path}: rule '{rule_id}': field 'id' must be lower-case words joined by '-'")
    unknown = set(raw) - _RULE_KEYS
    if unknown:
        raise RuleFileError(f"{path}: rule '{rule_id}': unknown field '{sorted(unknown)[0]}'")
    text = {key: _field(raw, key, str, path, rule_id).strip() for key in
            ("category", "type", "severity", "message", "why", "instead", "reference")}
    empty = next((key for key, value in text.items() if not value), None)
    if empty:
        raise RuleFileError(f"{path}: rule '{rule_id}': field '{empty}' must not be empty")
    _choice(text["category"], CATEGORIES, path, rule_id, "category")
    _choice(text["severity"], SEVERITIES, path, rule_id, "severity")

    patterns = _field(raw, "patterns", dict, path, rule_id)
    for key in patterns:
        _choice(key, _PATTERN_KEYS, path, rule_id, "patterns")
    phrases = _string_list(patterns, "phrases", path, rule_id)
    lexicon = patterns.get("lexicon")
    if lexicon is not None and not isinstance(lexicon, str):
        raise RuleFileError(f"{path}: rule '{rule_id}': field 'patterns.lexicon' must be a lexicon name")
    case_sensitive = _boolean(raw, "case_sensitive", path, rule_id)
    regexes = tuple(_parse_regex(entry, case_sensitive, path, rule_id)
                    for entry in _field(patterns, "regex", list, path, rule_id, default=[]))
    tokens: list[list[dict[str, Any]]] = []
    for number, pattern in enumerate(_field(patterns, "tokens", list, path, rule_id, default=[]), start=1):
        if not isinstance(pattern, list) or not pattern or not all(isinstance(t, dict) for t in pattern):
            raise RuleFileError(f"{path}: rule '{rule_id}': field 'patterns.tokens' must be lists of token dicts")
        problem = token_regex_problems(pattern)
        if problem:
            raise RuleFileError(f"{path}: rule '{rule_id}': field 'patterns.tokens' (pattern {number}): {problem}")
        try:
            alternatives = fixed_alternatives(pattern)
        except PatternBoundError as error:
            raise RuleFileError(f"{path}: rule '{rule_id}': field 'patterns.tokens' (pattern {number}): {error}") from None
        # spaCy's own schema, at load: YAML reads ON and NO as booleans, which its matcher would
        # otherwise take without a word and never match.
        problems = validate_token_pattern(_lexicons_as_words(pattern))
        if problems:
            raise RuleFileError(f"{path}: rule '{rule_id}': field 'patterns.tokens' (pattern {number}): {problems[-1]}")
        tokens.extend(alternatives)
    entities = _string_list(patterns, "entities", path, rule_id)
    sentiment = _parse_sentiment(patterns.get("sentiment"), path, rule_id)
    signal = _parse_signal_pattern(patterns.get("signal"), path, rule_id)
    if not (phrases or regexes or tokens or entities or lexicon or sentiment or signal):
        raise RuleFileError(f"{path}: rule '{rule_id}': field 'patterns' needs at least one pattern")

    context = _parse_context(_field(raw, "context", dict, path, rule_id, default={}), path, rule_id)
    quasi = raw.get("quasi")
    if quasi is not None:
        _choice(quasi, QUASI_KINDS, path, rule_id, "quasi")
    examples = _field(raw, "examples", dict, path, rule_id)
    flag_marked = [_marked_example(text, path, rule_id) for text in _string_list(examples, "flag", path, rule_id)]
    flag = tuple(text for text, _ in flag_marked)
    must_pass = _string_list(examples, "pass", path, rule_id)
    if any("[[" in text for text in must_pass):
        raise RuleFileError(f"{path}: rule '{rule_id}': field 'examples.pass': a pass example marks nothing ([[...]])")
    if not flag or not must_pass:
        raise RuleFileError(f"{path}: rule '{rule_id}': field 'examples' needs 'flag' and 'pass' lists")
    redact = raw.get("redact")
    if redact is not None and not isinstance(redact, str):
        raise RuleFileError(f"{path}: rule '{rule_id}': field 'redact' must be a string")
    message_slots = SIGNAL_MESSAGE_SLOTS if signal else frozenset()
    for key, template, slots in (("redact", redact or "", REDACT_SLOTS), ("instead", text["instead"], INSTEAD_SLOTS),
                                 ("message", text["message"], message_slots)):
        problem = template_problem(template, slots)
        if problem:
            raise RuleFileError(f"{path}: rule '{rule_id}': field '{key}': {problem}")
    try:
        round_age = parse_age_bands(raw["round_age"]) if "round_age" in raw else ()
    except ValueError as error:
        raise RuleFileError(f"{path}: rule '{rule_id}': field 'round_age': {error}") from None
    min_score = raw.get("min_score", 0.0)
    if isinstance(min_score, bool) or not isinstance(min_score, (int, float)) or not 0 <= min_score <= 1:
        raise RuleFileError(f"{path}: rule '{rule_id}': field 'min_score' must be a number from 0 to 1")

    return Rule(
        id=rule_id,
        category=text["category"],
        type=text["type"],
        severity=text["severity"],
        message=text["message"],
        why=text["why"],
        instead=text["instead"],
        reference=text["reference"],
        phrases=phrases + ((f"@{lexicon}",) if lexicon else ()),
        tokens=tuple(tuple(pattern) for pattern in tokens),
        regex=regexes,
        entities=entities,
        sentiment=sentiment,
        signal=signal,
        context=context,
        quasi=quasi,
        redact=redact,
        allow=frozenset(word.lower() for word in _string_list(raw, "allow", path, rule_id)),
        case_sensitive=case_sensitive,
        min_score=float(min_score),
        sets=_parse_sets(raw, path, rule_id),
        sets_declared="sets" in raw or raw.get("marks_patient") is True,
        round_age=round_age,
        risk_only=_boolean(raw, "risk_only", path, rule_id),
        examples_flag=flag,
        examples_flag_marks=tuple(marks for _, marks in flag_marked),
        examples_pass=must_pass,
        source=str(path),
    )


_MARK = re.compile(r"\[\[(.+?)\]\]")


def _marked_example(text: str, path: Path, rule_id: str) -> tuple[str, tuple[tuple[int, int], ...]]:
    """A flag example with its [[marked]] words: the plain text and where the marks are in it."""
    plain, marks, at = [], [], 0
    for match in _MARK.finditer(text):
        plain.append(text[at:match.start()])
        start = sum(map(len, plain))
        plain.append(match.group(1))
        marks.append((start, start + len(match.group(1))))
        at = match.end()
    plain.append(text[at:])
    result = "".join(plain)
    if "[[" in result or "]]" in result:
        raise RuleFileError(f"{path}: rule '{rule_id}': field 'examples.flag': unbalanced [[ ]] in an example")
    return result, tuple(marks)


def _parse_sets(raw: Mapping[str, Any], path: Path, rule_id: str) -> tuple[str, ...]:
    """`sets: [encounter]`; 0.1's `marks_patient: true` means the same. Names are checked once facts load."""
    sets = list(_string_list(raw, "sets", path, rule_id))
    if _boolean(raw, "marks_patient", path, rule_id) and "encounter" not in sets:
        sets.append("encounter")
    return tuple(sets)


def _lexicons_as_words(pattern: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """A pattern with each '@lexicon' list reference as a list, the shape spaCy's schema expects; the
    lexicon itself is checked once all files are read."""
    return [{key: {test: [argument] if isinstance(argument, str) and test in ("IN", "NOT_IN") else argument
                   for test, argument in value.items()} if isinstance(value, dict) else value
             for key, value in spec.items()} for spec in pattern]


def _boolean(data: Mapping[str, Any], key: str, path: Path, rule_id: str) -> bool:
    """A true/false field; the string "false" is not false, so anything but a YAML boolean is refused."""
    value = data.get(key, False)
    if not isinstance(value, bool):
        raise RuleFileError(f"{path}: rule '{rule_id}': field '{key}' must be true or false")
    return value


def _parse_regex(entry: Any, case_sensitive: bool, path: Path, rule_id: str) -> RuleRegex:
    """A regex entry: a pattern, or `{pattern: ..., not_followed_by: ...}`; compiled with RE2 now, so a
    pattern RE2 refuses fails at load with its rule and field."""
    where = f"{path}: rule '{rule_id}': field 'patterns.regex'"
    if isinstance(entry, dict):
        unknown = set(entry) - {"pattern", "not_followed_by"}
        if unknown:
            raise RuleFileError(f"{where}: unknown key '{sorted(unknown)[0]}' (known: pattern, not_followed_by)")
        pattern, after = entry.get("pattern"), entry.get("not_followed_by")
    else:
        pattern, after = entry, None
    if not isinstance(pattern, str) or not pattern.strip() or (after is not None and (not isinstance(after, str) or not after)):
        raise RuleFileError(f"{where}: each entry is a non-empty pattern, or a mapping with 'pattern' and 'not_followed_by'")
    try:
        return RuleRegex.compile(pattern, case_sensitive, after)
    except RegexError as error:
        raise RuleFileError(f"{where}: {error}") from None


def _parse_sentiment(raw: Any, path: Path, rule_id: str) -> SentimentPattern | None:
    """`sentiment: {max_compound: -0.35, targets: ["@venting_colleagues"]}`; lexicons are checked after loading."""
    if raw is None:
        return None
    where = f"{path}: rule '{rule_id}': field 'patterns.sentiment"
    if not isinstance(raw, dict):
        raise RuleFileError(f"{where}' must be a mapping with max_compound and targets")
    unknown = set(raw) - _SENTIMENT_KEYS
    if unknown:
        raise RuleFileError(f"{where}.{sorted(unknown)[0]}' is not a sentiment setting")
    limit = raw.get("max_compound")
    if isinstance(limit, bool) or not isinstance(limit, (int, float)) or not -1 <= limit < 0:
        raise RuleFileError(f"{where}.max_compound' must be a number from -1 up to (not including) 0")
    targets = raw.get("targets")
    if not isinstance(targets, list) or not targets or not all(isinstance(t, str) and t.startswith("@") for t in targets):
        raise RuleFileError(f"{where}.targets' must be a list of lexicon names like '@venting_colleagues'")
    return SentimentPattern(float(limit), tuple(t[1:] for t in targets))


def _parse_signal_pattern(raw: Any, path: Path, rule_id: str) -> SignalPattern | None:
    """`signal: {model: venting, at_least: 0.85}`: a sentence signal and its threshold (rules data)."""
    parsed = parse_signal(raw, f"{path}: rule '{rule_id}': field 'patterns.signal'")
    return SignalPattern(*parsed) if parsed else None


def _parse_context(raw: Mapping[str, Any], path: Path, rule_id: str) -> Context:
    """`needs` and `clears`: lists of condition names or predicate mappings. The older keys still load:
    `near`/`not_near` (words in the sentence, or within `window` tokens) and `not_after` become the
    `words` and `preceded_by` predicates."""
    unknown = set(raw) - _CONTEXT_KEYS
    if unknown:
        raise RuleFileError(f"{path}: rule '{rule_id}': unknown field 'context.{sorted(unknown)[0]}'")
    needs, clears = [], []
    for key, target in (("needs", needs), ("clears", clears)):
        entries = _field(raw, key, list, path, rule_id, default=[])
        for entry in entries:
            if not (isinstance(entry, str) and entry.strip()) and not isinstance(entry, dict):
                raise RuleFileError(f"{path}: rule '{rule_id}': field 'context.{key}' holds condition names or predicate mappings")
            target.append(entry)
    window = raw.get("window", 0)
    if isinstance(window, bool) or not isinstance(window, int) or window < 0:
        raise RuleFileError(f"{path}: rule '{rule_id}': field 'context.window' must be a whole number >= 0")
    scope = {"scope": "window", "window": window} if window else {"scope": "sentence"}
    near = _string_list(raw, "near", path, rule_id)
    not_near = _string_list(raw, "not_near", path, rule_id)
    not_after = _string_list(raw, "not_after", path, rule_id)
    if near:
        needs.append({"words": {"in": list(near), **scope}})
    if not_after:
        clears.append({"preceded_by": {"in": list(not_after)}})
    if not_near:
        clears.append({"words": {"in": list(not_near), **scope}})
    return Context(needs=tuple(needs), clears=tuple(clears))
