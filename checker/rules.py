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

from checker.advice import INSTEAD_SLOTS, REDACT_SLOTS, AgeBand, parse_age_bands, template_problem
from checker.errors import RuleFileError
from checker.regex_safety import check_regex_is_linear
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
_PATTERN_KEYS = ("phrases", "tokens", "regex", "entities", "lexicon", "sentiment")
_SENTIMENT_KEYS = {"max_compound", "targets"}
_RULE_KEYS = {
    "id", "category", "type", "severity", "message", "why", "instead", "reference", "patterns",
    "context", "quasi", "redact", "allow", "examples", "case_sensitive", "min_score", "marks_patient",
    "round_age", "risk_only",
}
_CONTEXT_KEYS = {"needs", "clears", "near", "not_near", "not_after", "window"}


@dataclass(frozen=True)
class Context:
    """What a candidate match needs around it to count, and what clears it."""

    needs: tuple[str, ...] = ()
    clears: tuple[str, ...] = ()
    near: tuple[str, ...] = ()
    not_near: tuple[str, ...] = ()  # like `near`, but one of these words clears the match
    not_after: tuple[str, ...] = ()
    window: int = 0  # 0 means "the same sentence"; N means N tokens either side (for near and not_near)


@dataclass(frozen=True)
class SentimentPattern:
    """Clauses that score at most `max_compound` (VADER, -1..1) and name one of the `targets` lexicons.

    Negativity alone is never a finding: a clause must also be about someone ("my attending", "admin").
    """

    max_compound: float
    targets: tuple[str, ...]  # lexicon names, without the '@'


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
    regex: tuple[str, ...] = ()
    entities: tuple[str, ...] = ()
    sentiment: SentimentPattern | None = None
    context: Context = field(default_factory=Context)
    quasi: str | None = None
    redact: str | None = None
    allow: frozenset[str] = frozenset()
    case_sensitive: bool = False
    min_score: float = 0.0
    # A match of this rule shows its sentence is about a patient ("a 97-year-old ...", "Mrs. K").
    marks_patient: bool = False
    # Ages rounded into bands for the finding's rewrite (checker/advice.py).
    round_age: tuple[AgeBand, ...] = ()
    # A detail that is safe on its own (a decade): it counts toward the re-identification risk and is
    # never a finding by itself, so the wording postcheck suggests is never flagged.
    risk_only: bool = False
    examples_flag: tuple[str, ...] = ()
    examples_pass: tuple[str, ...] = ()
    source: str = ""

    def summary(self) -> str:
        """The one line `postcheck rules` shows."""
        return self.message


@dataclass(frozen=True)
class RuleSet:
    """All loaded rules plus the named word lists (lexicons) they and the context conditions share."""

    rules: tuple[Rule, ...]
    lexicons: Mapping[str, frozenset[str]]
    allow_words: frozenset[str] = frozenset()

    def get(self, rule_id: str) -> Rule | None:
        return next((rule for rule in self.rules if rule.id == rule_id), None)

    def lexicon(self, name: str) -> frozenset[str]:
        return self.lexicons.get(name, frozenset())

    def unknown_ids(self, rule_ids: Iterable[str]) -> list[str]:
        """The ids among `rule_ids` that name no rule, sorted: a typo must never pass silently."""
        return sorted(set(rule_ids) - {rule.id for rule in self.rules})

    def without(self, disabled: Iterable[str]) -> "RuleSet":
        """A copy with some rules turned off; unknown ids are an error so a typo does not pass silently."""
        disabled = set(disabled)
        unknown = self.unknown_ids(disabled)
        if unknown:
            raise RuleFileError(f"cannot disable unknown rule id(s): {', '.join(unknown)}")
        return RuleSet(tuple(r for r in self.rules if r.id not in disabled), self.lexicons, self.allow_words)

    def with_allowed(self, words: Iterable[str]) -> "RuleSet":
        """A copy where matches whose text is one of `words` (any case) never become findings."""
        extra = frozenset(word.lower() for word in words)
        return RuleSet(self.rules, self.lexicons, self.allow_words | extra)


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
    """Parse and validate rule files; later files may extend lexicons and add rules, never redefine ids."""
    rules: list[Rule] = []
    lexicons: dict[str, set[str]] = {}
    allow: set[str] = set()
    seen: dict[str, str] = {}
    for path in files:
        document = _read_yaml(path)
        for name, words in _field(document, "lexicons", dict, path, None, default={}).items():
            if not isinstance(words, list) or not all(isinstance(w, str) for w in words):
                raise RuleFileError(f"{path}: lexicon '{name}': must be a list of strings")
            lexicons.setdefault(str(name), set()).update(w.lower() for w in words)
        allow.update(w.lower() for w in _string_list(document, "allow", path, None))
        for raw in _field(document, "rules", list, path, None, default=[]):
            rule = _parse_rule(raw, path)
            if rule.id in seen:
                raise RuleFileError(f"{path}: rule '{rule.id}': id already defined in {seen[rule.id]}")
            seen[rule.id] = str(path)
            rules.append(rule)
    frozen = {name: frozenset(words) for name, words in lexicons.items()}
    rules = [_expand_allow(rule, frozen) for rule in rules]
    for rule in rules:
        for word in (*rule.context.near, *rule.context.not_near, *rule.context.not_after):
            if lexicon_ref(word) and lexicon_ref(word) not in frozen:
                raise RuleFileError(f"{rule.source}: rule '{rule.id}': context: unknown lexicon '{word}'")
        for name in rule.sentiment.targets if rule.sentiment else ():
            if name not in frozen:
                raise RuleFileError(f"{rule.source}: rule '{rule.id}': field 'patterns.sentiment.targets': unknown lexicon '@{name}'")
    return RuleSet(tuple(rules), frozen, frozenset(allow))


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


def _read_yaml(path: Path) -> Mapping[str, Any]:
    try:
        with open(path, encoding="utf-8") as handle:
            document = yaml.load(handle, Loader=_YAML_LOADER)
    except OSError as error:
        raise RuleFileError(f"{path}: cannot read rule file ({error.strerror})") from None
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = f" at line {mark.line + 1}" if mark else ""
        raise RuleFileError(f"{path}: not valid YAML{where}") from None
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
    _choice(text["category"], CATEGORIES, path, rule_id, "category")
    _choice(text["severity"], SEVERITIES, path, rule_id, "severity")

    patterns = _field(raw, "patterns", dict, path, rule_id)
    for key in patterns:
        _choice(key, _PATTERN_KEYS, path, rule_id, "patterns")
    phrases = _string_list(patterns, "phrases", path, rule_id)
    lexicon = patterns.get("lexicon")
    if lexicon is not None and not isinstance(lexicon, str):
        raise RuleFileError(f"{path}: rule '{rule_id}': field 'patterns.lexicon' must be a lexicon name")
    regexes = _string_list(patterns, "regex", path, rule_id)
    for pattern in regexes:
        problem = check_regex_is_linear(pattern)
        if problem:
            raise RuleFileError(f"{path}: rule '{rule_id}': field 'patterns.regex': {problem}")
    tokens: list[list[dict[str, Any]]] = []
    for number, pattern in enumerate(_field(patterns, "tokens", list, path, rule_id, default=[]), start=1):
        if not isinstance(pattern, list) or not pattern or not all(isinstance(t, dict) for t in pattern):
            raise RuleFileError(f"{path}: rule '{rule_id}': field 'patterns.tokens' must be lists of token dicts")
        try:
            tokens.extend(fixed_alternatives(pattern))
        except PatternBoundError as error:
            raise RuleFileError(f"{path}: rule '{rule_id}': field 'patterns.tokens' (pattern {number}): {error}") from None
    entities = _string_list(patterns, "entities", path, rule_id)
    sentiment = _parse_sentiment(patterns.get("sentiment"), path, rule_id)
    if not (phrases or regexes or tokens or entities or lexicon or sentiment):
        raise RuleFileError(f"{path}: rule '{rule_id}': field 'patterns' needs at least one pattern")

    context = _parse_context(_field(raw, "context", dict, path, rule_id, default={}), path, rule_id)
    quasi = raw.get("quasi")
    if quasi is not None:
        _choice(quasi, QUASI_KINDS, path, rule_id, "quasi")
    examples = _field(raw, "examples", dict, path, rule_id)
    flag = _string_list(examples, "flag", path, rule_id)
    must_pass = _string_list(examples, "pass", path, rule_id)
    if not flag or not must_pass:
        raise RuleFileError(f"{path}: rule '{rule_id}': field 'examples' needs 'flag' and 'pass' lists")
    redact = raw.get("redact")
    if redact is not None and not isinstance(redact, str):
        raise RuleFileError(f"{path}: rule '{rule_id}': field 'redact' must be a string")
    for key, template, slots in (("redact", redact or "", REDACT_SLOTS), ("instead", text["instead"], INSTEAD_SLOTS)):
        problem = template_problem(template, slots)
        if problem:
            raise RuleFileError(f"{path}: rule '{rule_id}': field '{key}': {problem}")
    try:
        round_age = parse_age_bands(raw["round_age"]) if "round_age" in raw else ()
    except ValueError as error:
        raise RuleFileError(f"{path}: rule '{rule_id}': field 'round_age': {error}") from None
    min_score = raw.get("min_score", 0.0)
    if not isinstance(min_score, (int, float)) or not 0 <= min_score <= 1:
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
        context=context,
        quasi=quasi,
        redact=redact,
        allow=frozenset(word.lower() for word in _string_list(raw, "allow", path, rule_id)),
        case_sensitive=bool(raw.get("case_sensitive", False)),
        min_score=float(min_score),
        marks_patient=bool(raw.get("marks_patient", False)),
        round_age=round_age,
        risk_only=bool(raw.get("risk_only", False)),
        examples_flag=flag,
        examples_pass=must_pass,
        source=str(path),
    )


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


def _parse_context(raw: Mapping[str, Any], path: Path, rule_id: str) -> Context:
    unknown = set(raw) - _CONTEXT_KEYS
    if unknown:
        raise RuleFileError(f"{path}: rule '{rule_id}': unknown field 'context.{sorted(unknown)[0]}'")
    needs = _string_list(raw, "needs", path, rule_id)
    clears = _string_list(raw, "clears", path, rule_id)
    for name in needs:
        _choice(name, NEEDS, path, rule_id, "context.needs")
    for name in clears:
        _choice(name, CLEARS, path, rule_id, "context.clears")
    window = raw.get("window", 0)
    if not isinstance(window, int) or window < 0:
        raise RuleFileError(f"{path}: rule '{rule_id}': field 'context.window' must be a whole number >= 0")
    return Context(
        needs=needs,
        clears=clears,
        near=tuple(w.lower() for w in _string_list(raw, "near", path, rule_id)),
        not_near=tuple(w.lower() for w in _string_list(raw, "not_near", path, rule_id)),
        not_after=tuple(w.lower() for w in _string_list(raw, "not_after", path, rule_id)),
        window=window,
    )
