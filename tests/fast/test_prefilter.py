"""The prefilter may only skip a token pattern or a regex that cannot match: results must never change."""

from __future__ import annotations

import re
import sys

import pytest
from spacy.attrs import LOWER
from spacy.matcher import Matcher

from checker.matching import _expand_lexicons, _literals_of
from checker.fast.prefilter import (
    AnchoredMatcher,
    LiteralIndex,
    Literals,
    fold,
    literal_check,
    pattern_requirements,
    required_literals,
)
from checker.regexes import EncodedDraft
from checker.rules import load_rules

RULESET = load_rules()
# Every rule's own examples (they are written to hit the patterns) and some text of our own with the
# letters that `re` matches case-insensitively across scripts, curly quotes, emoji and odd spacing.
TEXTS = [text for rule in RULESET.rules for text in (*rule.examples_flag, *rule.examples_pass)] + [
    "\u212aelvin sign, \u0130stanbul, \u017fhort s, dotle\u0131\u017f i: K\u0130SS",
    "Pt\tMarcy\u2019s MOM was so rude 🙄 at 0300 in room\t12B, lol.",
    "ＦＵＬＬＷＩＤＴＨ letters, café au lait, naïve résumé, Straße.",
]


@pytest.mark.parametrize(
    "pattern, flags, expected",
    [
        (r"\bward\b", 0, {"ward"}),
        (r"(?:Mon|Fri)day", re.IGNORECASE, {"monday", "friday"}),
        (r"\d+", 0, None),
        (r"x*y?", 0, None),
        (r"(?<=\bbed )\d+", 0, {"bed "}),
        (r"room[ \t]+\d", 0, {"room ", "room\t"}),
        (r"[Cc]hart(?= number)", 0, {"chart number"}),
        (r"(?:café|cafe)", 0, {"caf"}),  # non-ASCII letters end a literal
        (r"lo+l", 0, {"lo"}),  # "ol" is required too; one set is enough
        (r"(?:ab|c.)", 0, {"ab", "c"}),
    ],
)
def test_required_literals(pattern, flags, expected):
    found = required_literals(re.compile(pattern, flags))
    assert found == (None if expected is None else frozenset(expected))


def test_no_builtin_regex_is_skipped_on_a_text_it_matches():
    checked = 0
    for rule in RULESET.rules:
        for regex in rule.regex:  # matched with RE2, the engine that runs them; literals read by Python's parser
            literals = _literals_of(regex.pattern, 0 if rule.case_sensitive else re.IGNORECASE)
            for text in TEXTS:
                if any(regex.spans(EncodedDraft(text))):
                    checked += 1
                    assert literal_check(literals, fold(text)), (rule.id, regex.pattern)
    assert checked > 100  # the examples really exercise the regexes


def test_literal_index_finds_every_string_that_occurs():
    sets = [Literals({"he", "hel", "help", "elp", "lp", "s"}), Literals({"x", "pers", "ers"}), None]
    index = LiteralIndex(sets)
    assert index.present("helpers") == {"he", "hel", "help", "elp", "lp", "s", "pers", "ers"}
    assert index.present("the elk") == {"he"}
    builtin = [_literals_of(regex.pattern, re.IGNORECASE) for rule in RULESET.rules for regex in rule.regex]
    index = LiteralIndex(builtin)
    strings = {s for literals in builtin if literals is not None and literals.by_first is None for s in literals}
    for text in TEXTS:
        folded = fold(text)
        present = index.present(folded)
        assert present == {s for s in strings if s in folded}, text
        for literals in builtin:
            assert literal_check(literals, folded, present) == literal_check(literals, folded)


def test_most_builtin_regexes_have_literals():
    regexes = [regex.pattern for rule in RULESET.rules for regex in rule.regex]
    with_literals = [p for p in regexes if _literals_of(p, re.IGNORECASE) is not None]
    assert len(with_literals) >= 0.8 * len(regexes)


def test_fold_covers_every_letter_re_matches_across_scripts():
    """`re` documents four non-ASCII letters that [a-z] matches with IGNORECASE; check there are no more."""
    ascii_letter = re.compile("[a-z]", re.IGNORECASE)
    for code in range(0x80, sys.maxunicode + 1):
        char = chr(code)
        if ascii_letter.fullmatch(char):
            folded = fold(char)
            assert len(folded) == 1 and folded.isascii() and re.fullmatch(folded, char, re.IGNORECASE), hex(code)


def test_case_insensitive_literal_across_scripts_is_found():
    pattern = re.compile(r"\bkiss\b", re.IGNORECASE)
    text = "a \u212a\u0130\u017fS goodbye"
    assert pattern.search(text)
    assert literal_check(required_literals(pattern), fold(text))


def test_requirements_of_a_token_pattern(checker):
    strings = checker.nlp.vocab.strings
    pattern = [
        {"LOWER": {"IN": ["frequent", "regular"]}},
        {"ORTH": "-", "OP": "?"},
        {"LOWER": {"REGEX": "^fl[iy]ers?$"}},
        {"POS": "NOUN", "OP": "!"},
    ]
    assert pattern_requirements(pattern, strings) == [
        (LOWER, frozenset({strings["frequent"], strings["regular"]})),
        (None, frozenset({"flier", "flyer"})),
    ]


def test_anchored_matcher_finds_what_one_matcher_finds(checker):
    nlp = checker.nlp
    plain, anchored = Matcher(nlp.vocab), AnchoredMatcher(nlp.vocab)
    for rule in RULESET.rules:
        if rule.tokens:
            patterns = [_expand_lexicons(rule, pattern, RULESET) for pattern in rule.tokens]
            plain.add(rule.id, patterns, greedy="LONGEST")
            anchored.add(rule.id, patterns, greedy="LONGEST")
    found = 0
    for doc in nlp.pipe(TEXTS):
        expected = sorted(plain(doc))
        assert sorted(anchored(doc)) == expected, doc.text
        found += len(expected)
    assert found > 50
