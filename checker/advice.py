"""What to write instead, case by case: each finding's direct rewrite, its advice, and the safer draft.

A finding's `rewrite` is drop-in text for exactly its span, `text[start:end]` (what a LanguageTool
client offers as a replacement, and what the safer draft is made of). It comes from the rule's data:

- `redact:` a template for the span ("{prep} [a town]", "recently", "{words} [number]"), with slots
  filled from the span itself: `{prep}` its leading preposition ("from"), `{article}` its leading
  article ("a" of "a retired firefighter"), `{first}` its first word
  ("daughter" of "daughter Renata"), `{lead}` the words before its number ("mother is" of "mother is
  15"), `{words}` the span without its numbers ("Room" of "Room 12");
- `round_age:` age bands for ages: the matched age rounded into its band, in the form that fits where
  it stands: before a noun ("an 82yo man" -> "an 80-something man"), after an article ("a 64yo with
  sepsis" -> "a patient in their 60s with sepsis"), or alone ("aged 82" -> "in their 80s"). `{tens}` is
  the age's decade ("80"); "x|y" offers a second form for when the first disagrees with the article
  before it ("an 82yo with sepsis" -> "an 80-something with sepsis").

A rule's `instead` may say `{rewrite}` ('Round it to "{rewrite}"'), so the advice names the case's own
rounding; where no age could be rounded, the parenthesis holding it is left out. Rewrites read as English in place:
a placeholder drops its own article after "a", "his" or "the" ("with a [rare condition]", never "with
a [a rare condition]"), takes a capital where a sentence starts, and an age's form agrees with the
article before it. The rewrite is never something a rule flags by itself (tests/test_advice.py).

This module knows English grammar words (articles, prepositions), never a rule.
"""

from __future__ import annotations

import re
from bisect import bisect_left
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any, Iterable, Mapping, Sequence

from checker.spans import SpanIndex

if TYPE_CHECKING:
    from spacy.tokens import Doc

    from checker.report import Finding
    from checker.rules import Rule

REDACT_SLOTS = frozenset({"prep", "article", "first", "lead", "words"})
AGE_SLOTS = frozenset({"tens"})
INSTEAD_SLOTS = frozenset({"rewrite"})
AGE_FORMS = ("before_noun", "after_article", "alone")

PREPOSITIONS = frozenset({"from", "in", "near", "outside", "at", "on", "to", "by", "around", "of", "into"})
ARTICLES = frozenset({"a", "an", "the"})
# Words after which a placeholder's own article would double: "his [a vehicle]" -> "his [vehicle]".
DETERMINERS = ARTICLES | frozenset({"his", "her", "their", "my", "our", "your", "its", "this", "that",
                                    "these", "those", "which", "whose", "some", "any", "every"})
# Vowel letters, and digits whose English name starts with a vowel sound (8 "eight", 11 "eleven", 18).
_VOWEL_START = re.compile(r"^(?:[aeiouAEIOU]|8|1[18](?!\d))")
_SLOT = re.compile(r"\{([a-z_]+)\}")
_NUMBER = re.compile(r"\d+")
_NUMBER_AND_MARKS = re.compile(r"#?\s*\d+[A-Za-z]?")
_UNDER_A_YEAR = re.compile(r"month|week|day|mo\b|wk\b", re.IGNORECASE)
_ORDINAL = re.compile(r"\d+(?:st|nd|rd|th)\b")
_SENTENCE_END = re.compile(r"(?:^|[.!?\n]|:)\s*$")
_WORD_BEFORE = re.compile(r"([A-Za-z']+)\W*$")
_TWO_WORDS_BEFORE = re.compile(r"([A-Za-z']+)\s+([a-z][a-z-]*)\s*$")


@dataclass(frozen=True)
class AgeBand:
    """Ages below `below` (in years; 1 means "under a year") and the words that replace them."""

    below: int
    before_noun: str | None = None
    after_article: str | None = None
    alone: str | None = None


def template_problem(text: str, allowed: frozenset[str]) -> str | None:
    """Why a template cannot be used (an unknown slot), or None. Rules are checked at load."""
    for slot in _SLOT.findall(text):
        if slot not in allowed:
            return f"unknown slot '{{{slot}}}' (known: {', '.join('{' + s + '}' for s in sorted(allowed))})"
    return None


def parse_age_bands(raw: Any) -> tuple[AgeBand, ...]:
    """`round_age:` as loaded from YAML; ValueError says what is wrong (rules.py adds file and rule)."""
    if not isinstance(raw, list) or not raw:
        raise ValueError("must be a list of bands like {below: 90, before_noun: ..., alone: ...}")
    bands = []
    for band in raw:
        if not isinstance(band, dict) or not isinstance(band.get("below"), int) or isinstance(band.get("below"), bool):
            raise ValueError("every band needs 'below': a whole number of years")
        unknown = set(band) - {"below", *AGE_FORMS}
        if unknown:
            raise ValueError(f"unknown key '{sorted(unknown)[0]}' (known: below, {', '.join(AGE_FORMS)})")
        for form in AGE_FORMS:
            value = band.get(form)
            if value is not None and (not isinstance(value, str) or not value.strip()):
                raise ValueError(f"'{form}' must be a non-empty string")
            problem = template_problem(value or "", AGE_SLOTS)
            if problem:
                raise ValueError(f"'{form}': {problem}")
        bands.append(AgeBand(band["below"], *(band.get(form) for form in AGE_FORMS)))
    if [b.below for b in bands] != sorted({b.below for b in bands}):
        raise ValueError("bands must be listed by 'below', lowest first, each once")
    return tuple(bands)


class Rewriter:
    """Rewrites and case-specific advice for findings, from the rules' data; one per Checker."""

    def __init__(self, rules: Iterable["Rule"]):
        self.rules: Mapping[str, "Rule"] = {rule.id: rule for rule in rules}

    def advise(self, findings: Sequence["Finding"], text: str, doc: "Doc | None" = None) -> list["Finding"]:
        """The findings with `rewrite` and a `suggestion` that names it, for this draft."""
        starts = [token.idx for token in doc] if doc is not None else []
        out = []
        for finding in findings:
            rule = self.rules.get(finding.rule)
            if rule is None:
                out.append(finding)
                continue
            rounded = self.rounded(rule, finding, text, doc, starts)
            rewrite = rounded if rounded is not None else self.placeholder(rule, finding, text)
            if rule.round_age and rounded is None and _ORDINAL.search(finding.text):
                rewrite = _without_ordinal(finding.text)  # "Happy 101st birthday" -> "Happy birthday"
            out.append(replace(finding, rewrite=rewrite, suggestion=fill_instead(rule.instead, rounded)))
        return out

    def rounded(self, rule: "Rule", finding: "Finding", text: str, doc: "Doc | None" = None,
                starts: Sequence[int] = ()) -> str | None:
        """The age in the span rounded into its band ("80-something"), if the rule rounds ages."""
        if not rule.round_age:
            return None
        span, before = text[finding.start:finding.end], _text_before(text, finding.start)
        if _ORDINAL.search(span):  # an ordinal counts birthdays, not an age to round
            return None
        words = _round_age(rule.round_age, span, before, _before_noun(doc, starts, finding))
        return None if words is None else _fit(words, span, before)

    def placeholder(self, rule: "Rule", finding: "Finding", text: str) -> str | None:
        """The rule's `redact` template filled from the span; identifiers without one get "[type]"."""
        span, before = text[finding.start:finding.end], _text_before(text, finding.start)
        if rule.redact is not None:
            return _fit(_fill(rule.redact, span), span, before)
        if rule.category == "identifier":
            return f"[{rule.type.lower().replace('_', ' ')}]"
        return None


def fill_instead(instead: str, rewrite: str | None) -> str:
    """A rule's `instead` for one finding: '{rewrite}' becomes this case's rewrite; with none, the
    parenthesis around it is dropped."""
    if "{rewrite}" not in instead:
        return instead
    if rewrite:
        return instead.replace("{rewrite}", rewrite)
    return re.sub(r"\s*\([^()]*\{rewrite\}[^()]*\)", "", instead).replace("{rewrite}", "")


def safer_draft(text: str, findings: Iterable["Finding"]) -> str:
    """The draft with every finding that has a rewrite rewritten, and every other place a flagged
    identifier recurs rewritten the same way, so no flagged identifier survives in it ("Mrs.
    Quillfeather ... the Quillfeather family"). Where findings overlap, the one that starts first is
    applied (as the marked draft marks it). An empty rewrite takes one neighbouring space with it, so no
    double space is left behind."""
    findings = list(findings)
    chosen: list[tuple[int, int, str]] = []
    for start, end, rewrite in sorted((f.start, f.end, f.rewrite) for f in findings if f.rewrite is not None):
        if not chosen or start >= chosen[-1][1]:
            chosen.append((start, end, rewrite))
    flagged = SpanIndex((start, end) for start, end, _ in chosen)
    chosen += [span for span in _recurrences(text, findings) if not flagged.overlaps(span[0], span[1])]
    chosen.sort()
    pieces: list[str] = []
    last_start = len(text)
    for start, end, rewrite in reversed(chosen):
        tail = text[end:last_start]
        if not rewrite:
            if tail.startswith(" ") and (start == 0 or text[start - 1] == " "):
                tail = tail[1:]
            elif start > 0 and text[start - 1] == " " and (not tail or not tail[0].isalnum()):
                start -= 1
        pieces += [tail, rewrite]
        last_start = start
    pieces.append(text[:last_start])
    return "".join(reversed(pieces))


# Identifier types that name a person: each word of such a finding's name is rewritten wherever it
# recurs, not only the phrase that was flagged.
NAME_TYPES = frozenset({"PERSON", "INITIALS", "NICKNAME", "RELATIVE"})
NAME_PLACEHOLDER = "[name]"
_TITLES = frozenset({"mr", "mrs", "ms", "mx", "miss", "dr", "the", "pt", "patient", "baby", "little", "big"})
_NAME_WORD = re.compile(r"\w+(?:['’]\w+)*")


def _recurrences(text: str, findings: Sequence["Finding"]) -> list[tuple[int, int, str]]:
    """Every place where a flagged identifier's text (any case, as whole words) recurs, with that
    finding's rewrite, and where a word of a flagged name recurs, with NAME_PLACEHOLDER. One `str.find`
    walk per distinct text, in C, however many findings share it; leftmost-longest where they overlap."""
    needles: dict[str, str] = {}  # lower-case phrase -> its rewrite
    for finding in findings:
        if finding.category != "identifier" or finding.rewrite is None:
            continue
        needles.setdefault(_lower(finding.text.strip()), finding.rewrite)
        if finding.type in NAME_TYPES:
            for word in _NAME_WORD.findall(finding.text):
                if len(word) > 2 and word[:1].isupper() and word.lower() not in _TITLES:
                    needles.setdefault(_lower(word), NAME_PLACEHOLDER)
    needles.pop("", None)
    lowered = _lower(text)
    found = []
    for needle, rewrite in needles.items():
        # Whole words: "Ann" is not rewritten inside "Annual", nor "12" inside "120".
        word_start, word_end = _is_word_char(needle[0]), _is_word_char(needle[-1])
        at = lowered.find(needle)
        while at != -1:
            end = at + len(needle)
            if not (word_start and at and _is_word_char(lowered[at - 1])) and \
                    not (word_end and end < len(lowered) and _is_word_char(lowered[end])):
                found.append((at, end, rewrite))
            at = lowered.find(needle, at + 1)
    kept: list[tuple[int, int, str]] = []
    for span in sorted(found, key=lambda s: (s[0], -s[1])):
        if not kept or span[0] >= kept[-1][1]:
            kept.append(span)
    return kept


def _lower(text: str) -> str:
    """Lower case with every offset kept: the few letters that lower-case to two characters (İ) stay."""
    lowered = text.lower()
    if len(lowered) == len(text):
        return lowered
    return "".join(char.lower() if len(char.lower()) == 1 else char for char in text)


def _is_word_char(char: str) -> bool:
    return char.isalnum() or char == "_"


# -- internals ---------------------------------------------------------------------------------------------

def _without_ordinal(span: str) -> str | None:
    ordinal = _ORDINAL.search(span)
    return " ".join((span[:ordinal.start()] + span[ordinal.end():]).split()) or None


def _fill(template: str, span: str) -> str:
    words = span.split()
    first = words[0] if words else ""
    number = _NUMBER.search(span)
    values = {
        "prep": first if first.lower() in PREPOSITIONS else "",
        "article": first if first.lower() in ARTICLES else "",
        "first": first.strip(",;:"),
        "lead": span[:number.start()].strip() if number else span.strip(),
        "words": " ".join(_NUMBER_AND_MARKS.sub(" ", span).split()),
    }
    return " ".join(_SLOT.sub(lambda m: values[m.group(1)], template).split())


def _round_age(bands: Sequence[AgeBand], span: str, before: str, before_noun: bool) -> str | None:
    number = _NUMBER.search(span)
    if number is None:
        return None
    years = 0 if _UNDER_A_YEAR.search(span[number.end():]) else int(number.group())
    band = next((b for b in bands if years < b.below), None)
    if band is None:
        return None
    article = _word_before(before)
    if before_noun:
        form = band.before_noun
    elif article in ("a", "an"):
        form = band.after_article
    else:
        form = band.alone
    tens = str(years // 10 * 10)
    # A form may offer alternatives ("patient in their {tens}s|{tens}-something"): the first that agrees
    # with the article before it ("an 82yo with ..." -> "an 80-something with ...").
    for choice in (form or "").split("|"):
        words = choice.strip().replace("{tens}", tens)
        if words and (article not in ("a", "an") or _agrees(article, words)):
            return words
    return None


def _agrees(article: str, words: str) -> bool:
    """'a' before a consonant sound, 'an' before a vowel sound (close enough for the words we write)."""
    vowel = bool(_VOWEL_START.match(words.lstrip("[")))
    return vowel == (article == "an")


def _before_noun(doc: "Doc | None", starts: Sequence[int], finding: "Finding") -> bool:
    """The span modifies a noun that follows it ("82yo M", "a 67-year-old patient")."""
    if doc is None or not len(doc):
        return False
    last_index = bisect_left(starts, finding.end) - 1
    if last_index < 0:
        return False
    last = doc[last_index]
    return last.dep_ in ("amod", "nummod", "compound", "npadvmod") and last.head.i > last_index


# How much of the draft before a finding its rewrite reads (the word or two before it, and whether a
# sentence ends there). Bounded, so a draft with thousands of findings costs linear time, not quadratic.
BEFORE_WINDOW = 200


def _text_before(text: str, start: int) -> str:
    """The text before `start`, at most BEFORE_WINDOW characters of it. A cut window starts with a letter
    so that no pattern anchored at `^` takes the cut for the start of the draft."""
    if start <= BEFORE_WINDOW:
        return text[:start]
    return "x" + text[start - BEFORE_WINDOW:start]


def _word_before(before: str) -> str:
    match = _WORD_BEFORE.search(before)
    return match.group(1).lower() if match and before[match.end(1):].strip() == "" else ""


def _fit(words: str, span: str, before: str) -> str:
    """Make a rewrite read as English where it stands: no doubled article, a capital at a sentence start."""
    bracket = words.startswith("[")
    inner = words[1:] if bracket else words
    article, _, rest = inner.partition(" ")
    if article.lower() in ARTICLES and rest and _follows_determiner(before):
        inner = rest
    if span[:1].isupper() and _SENTENCE_END.search(before) and inner[:1].islower():
        inner = inner[0].upper() + inner[1:]
    return ("[" if bracket else "") + inner


def _follows_determiner(before: str) -> bool:
    """The text before ends with a determiner, maybe followed by one describing word ("a tiny")."""
    word = _word_before(before)
    if word in DETERMINERS:
        return True
    two = _TWO_WORDS_BEFORE.search(before)
    return bool(two) and two.group(1).lower() in DETERMINERS and two.group(2) not in PREPOSITIONS
