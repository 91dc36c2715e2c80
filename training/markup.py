"""Inline labels for corpus sources: writers mark spans and passages in the text; code computes offsets.

A writer types the draft with its labels in place, and never an offset:

    Saw a [[91yo|id:AGE]] {{enc|retired teacher came in [[last night|time:TIME_REL]] after a fall}}.
    {{vent:program|Our program is [[a joke|vent:SARCASM]] lol}}

- `[[words|cat:TYPE]]` is a span: `cat` is `id` (identifier), `time` (timeline) or `vent` (venting).
- `{{label|words}}` is a passage: `{{enc|...}}` narrates a specific patient or family encounter,
  `{{vent:TARGET|...}}` vents at a target. Passages may nest; spans sit inside passages, never across
  their edges, and never inside one another.

`parse` returns the plain text with every span and passage as Python string offsets into it.
"""

from __future__ import annotations

from dataclasses import dataclass

CATEGORY_CODES = {"id": "identifier", "time": "timeline", "vent": "venting"}
SPAN_TYPES = {
    "identifier": frozenset({
        "PERSON", "INITIALS", "NICKNAME", "AGE", "DATE", "ADDRESS", "LOCATION", "FACILITY", "SCHOOL",
        "EMPLOYER", "OCCUPATION", "RELATIVE", "RELATIONSHIP", "PHONE", "EMAIL", "HANDLE", "MRN",
        "ACCOUNT_ID", "ROOM_BED", "RARE_CONDITION", "EVENT", "PHOTO", "VEHICLE", "PUBLIC_FIGURE",
        "PHYSICAL_DESCRIPTION", "UNIQUE_DETAIL",
    }),
    "timeline": frozenset({"TIME_REL", "TIME", "DATE"}),
    "venting": frozenset({
        "COMPLAINT", "INSULT", "SARCASM", "DEROGATORY_SLANG", "PROFANITY", "CALLOUS_REMARK", "CONTEMPT",
    }),
}
PASSAGE_LABELS = ("encounter", "venting")
VENTING_TARGETS = ("patient", "family", "colleague", "program", "institution", "payer", "profession")
# Types that name a person outright; an identifier draft with none of them is identified by combination.
NAMING_TYPES = frozenset({"PERSON", "INITIALS", "NICKNAME", "RELATIVE", "HANDLE", "EMAIL"})


class MarkupError(ValueError):
    """A label that cannot be read; the message gives the character position in the source text."""


@dataclass(frozen=True)
class Span:
    start: int
    end: int
    text: str
    category: str
    type: str

    def to_dict(self) -> dict:
        return {"start": self.start, "end": self.end, "text": self.text, "category": self.category, "type": self.type}


@dataclass(frozen=True)
class Passage:
    start: int
    end: int
    label: str
    target: str | None = None

    def to_dict(self) -> dict:
        out = {"start": self.start, "end": self.end, "label": self.label}
        if self.target:
            out["target"] = self.target
        return out


@dataclass(frozen=True)
class Parsed:
    text: str
    spans: tuple[Span, ...]
    passages: tuple[Passage, ...]


def parse(source: str) -> Parsed:
    """Strip the labels from `source`, returning the plain text and each label's offsets into it."""
    out: list[str] = []
    length = 0  # characters written to `out` so far
    spans: list[Span] = []
    passages: list[Passage] = []
    open_passages: list[tuple[int, str, str | None, int]] = []  # start, label, target, source position
    i = 0
    while i < len(source):
        if source.startswith("{{", i):
            bar = source.find("|", i + 2)
            if bar == -1:
                raise MarkupError(f"passage at {i} has no '|' after its label")
            label, target = _passage_label(source[i + 2:bar], i)
            open_passages.append((length, label, target, i))
            i = bar + 1
        elif source.startswith("}}", i):
            if not open_passages:
                raise MarkupError(f"'}}}}' at {i} closes no passage")
            start, label, target, _ = open_passages.pop()
            if length == start:
                raise MarkupError(f"empty passage closed at {i}")
            passages.append(Passage(start, length, label, target))
            i += 2
        elif source.startswith("[[", i):
            close = source.find("]]", i + 2)
            if close == -1:
                raise MarkupError(f"span at {i} is never closed with ']]'")
            body = source[i + 2:close]
            if any(mark in body for mark in ("[[", "{{", "}}")):
                raise MarkupError(f"span at {i} contains other labels")
            words, bar, label = body.rpartition("|")
            if not bar or not words.strip():
                raise MarkupError(f"span at {i} needs 'words|cat:TYPE'")
            if words != words.strip():
                raise MarkupError(f"span at {i} starts or ends with a space")
            category, kind = _span_label(label, i)
            spans.append(Span(length, length + len(words), words, category, kind))
            out.append(words)
            length += len(words)
            i = close + 2
        elif source.startswith("]]", i):
            raise MarkupError(f"']]' at {i} closes no span")
        else:
            out.append(source[i])
            length += 1
            i += 1
    if open_passages:
        raise MarkupError(f"passage opened at {open_passages[-1][3]} is never closed")
    text = "".join(out)
    return Parsed(text, tuple(spans), tuple(sorted(passages, key=lambda p: (p.start, -p.end))))


def _span_label(label: str, position: int) -> tuple[str, str]:
    code, colon, kind = label.partition(":")
    if not colon or code not in CATEGORY_CODES:
        raise MarkupError(f"span at {position}: label '{label}' must be id:TYPE, time:TYPE or vent:TYPE")
    category = CATEGORY_CODES[code]
    if kind not in SPAN_TYPES[category]:
        raise MarkupError(f"span at {position}: '{kind}' is not a {category} type")
    return category, kind


def _passage_label(label: str, position: int) -> tuple[str, str | None]:
    if label == "enc":
        return "encounter", None
    name, colon, target = label.partition(":")
    if name == "vent" and colon and target in VENTING_TARGETS:
        return "venting", target
    raise MarkupError(
        f"passage at {position}: label '{label}' must be 'enc' or 'vent:TARGET' ({', '.join(VENTING_TARGETS)})"
    )
