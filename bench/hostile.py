"""Hostile drafts and rule packs: what an attacker (or a broken paste) sends, each at the size limit.

The test suite checks that every one is answered with a report or a one-line error; `python -m
bench.adversarial` times each against the documented limits (10 s at 50,000 characters, 1 s at tweet
size). Names are invented; no draft here is anyone's post.
"""

from __future__ import annotations

LIMIT = 50_000
TWEET = 280


def _fill(unit: str, size: int) -> str:
    return (unit * (size // len(unit) + 1))[:size]


# name -> a function of the size, so the same shapes serve at tweet size and at the limit
SHAPES = {
    "commas": lambda n: "," * n,
    "exclamation marks": lambda n: "!" * n,
    "hashes": lambda n: "#" * n,
    "quotes": lambda n: "'" * n,
    "open brackets": lambda n: "(" * n,
    "eye-roll emoji": lambda n: "🙄" * n,
    "mixed punctuation": lambda n: _fill(",.!?;:", n),
    "alternating emoji": lambda n: _fill("🙄😂", n),
    "repeated first name": lambda n: _fill("Linda ", n),
    "repeated capitalised word": lambda n: _fill("Bob ", n),
    "repeated age": lambda n: _fill("82yo ", n),
    "repeated title": lambda n: _fill("Mrs. Quillfeather ", n),
    "repeated story": lambda n: _fill("Saw an 82yo man from Millbrook last night at 3am in room 12. ", n),
    "repeated venting": lambda n: _fill("I hate my attending, he is useless. ", n),
    "repeated phone numbers": lambda n: _fill("555-555-5555 ", n),
    "repeated handles": lambda n: _fill("@a ", n),
    "repeated clock times": lambda n: _fill("3am ", n),
    "URL-shaped": lambda n: "http://" + _fill("a.", n - 10) + "com",
    "e-mail-shaped": lambda n: _fill("a.", n - 6) + "@x.com",
    "dotted words": lambda n: _fill("a." * 32 + " ", n),
    "e-mail-shaped words": lambda n: _fill("a." * 250 + "@x.com ", n),
    "one long word": lambda n: "a" * n,
    "combining accents": lambda n: _fill("a\u0301", n),
    "family emoji": lambda n: _fill("👨‍👩‍👧‍👦", n),
    "backtracking bait": lambda n: "xy " + "x" * (n - 4) + "!",
    "word, comma": lambda n: _fill("a,", n),
    "quoted words": lambda n: _fill('"a" ', n),
    "hyphenated": lambda n: _fill("a-", n),
    "trailing space": lambda n: _fill("Pt was seen at 3am by Dr. Lee. ", n - 1) + " ",
}

# Rule packs an organisation could ship, each with a draft that exercises it (issue figures in comments).
PACK_RULE = """
rules:
  - id: hostile-pack
    category: identifier
    type: FACILITY
    severity: warning
    message: A pack rule
    why: Packs come from organisations.
    instead: Write "a ward".
    reference: HIPAA Safe Harbor 45 CFR 164.514(b)(2)(i)(R)
    patterns:
      {patterns}
    context:
      needs: [encounter-sentence]
    examples:
      flag: ["a patient on the aaaa ward"]
      pass: ["a ward"]
"""
PACKS = {
    "token REGEX (a+)+$ (hung on 31 characters)": ('tokens: [[{TEXT: {REGEX: "(a+)+$"}}]]', "a" * 31 + "! patient"),
    "regex (a|aa)+$": ('regex: ["(a|aa)+$"]', "a" * 5000 + "!"),
    "regex (?:a|a)+$": ('regex: ["(?:a|a)+$"]', "a" * 5000 + "!"),
    "regex a*a*a*b": ('regex: ["a*a*a*b"]', "a" * 5000),
    "regex (?:.|\\s)+!": ('regex: ["(?:.|\\\\s)+!"]', "x" * 5000),
    "regex (?:x|xx)+y (14.5 s at 41 characters)": ('regex: ["(?:x|xx)+y"]', "xy " + "x" * 5000 + "!"),
    "token pattern [*] (5-40 s)": ('tokens: [[{OP: "*"}]]', "word " * 1000),
    "token pattern [a, *, *, *, b]": ('tokens: [[{LOWER: a}, {OP: "*"}, {OP: "*"}, {OP: "*"}, {LOWER: b}]]', "a b " * 1250),
    "regex matching trailing whitespace (IndexError)": ('regex: ["\\\\s+$"]', "a patient on the ward   "),
}
