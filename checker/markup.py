"""Markup in a draft is read as markup, not prose: Markdown and HTML link syntax, tags and comments.

Blog posts are written in Markdown or HTML, and the entity recognizer reads link syntax as words: in
`[Dana Whitlock](https://...)` the name ran on into "](https". Before the parse, `mask_markup` rewrites
the syntax the way the link reads as plain text: `[text](target)` becomes ` text (target)`, tags and
comments become spaces. The parse sees what a reader sees (link text, image alt text) and the link
targets (a fundraiser or an obituary link is an identifier), and every offset still points into the
draft as written: the mask has the draft's length, character for character, and keeps its line breaks.
(Plain spaces between link text and target let the small model run a name on into the target.)

Every pattern here is bounded, and HTML comments are found with `str.find`, so masking is linear in the
draft's length.
"""

from __future__ import annotations

import re

# [text](target "title") and ![alt](target): the brackets, the parentheses and the title are syntax.
_INLINE_LINK = re.compile(r'(!?\[)([^\[\]\n]{0,300})(\]\()(<?[^()\s<>]{1,500}>?)((?:[ \t]+"[^"\n]{0,200}")?[ \t]*\))')
# [text][label] and [text][]: the label is syntax.
_REFERENCE_LINK = re.compile(r"(!?\[)([^\[\]\n]{1,300})(\]\[[^\[\]\n]{0,100}\])")
# [label]: target  (a reference definition, at the start of a line)
_DEFINITION = re.compile(r"^([ ]{0,3}\[[^\[\]\n]{1,100}\]:)[ \t]*(\S{1,500})", re.MULTILINE)
# <https://example.org>
_AUTOLINK = re.compile(r"(<)((?:https?|mailto):[^<>\s]{1,500})(>)")
# <a href="...">, </b>, <img src="..." alt="..."/>: the tag is syntax; href and src values are targets.
_TAG = re.compile(r"</?[A-Za-z][A-Za-z0-9-]{0,20}(?:[ \t\n][^<>]{0,500})?/?>")
_TARGET_ATTRIBUTE = re.compile(r"""\b(?:href|src)[ \t]*=[ \t]*(?:"([^"]*)"|'([^']*)'|([^\s"'>]+))""", re.IGNORECASE)


def mask_markup(text: str) -> str:
    """The draft with markup syntax blanked out (same length; newlines kept). Plain text comes back as is."""
    if not any(mark in text for mark in ("[", "<")):
        return text
    chars = list(text)

    def blank(start: int, end: int) -> None:
        for index in range(start, end):
            if chars[index] != "\n":
                chars[index] = " "

    _mask_comments(text, blank)
    for match in _INLINE_LINK.finditer(text):
        blank(*match.span(1))
        middle = match.start(3)  # "](" reads as " ("
        chars[middle], chars[middle + 1] = " ", "("
        target_start, target_end = match.span(4)
        if text[target_start] == "<":
            blank(target_start, target_start + 1)
        if text[target_end - 1] == ">":
            blank(target_end - 1, target_end)
        blank(*match.span(5))
        chars[match.end(5) - 1] = ")"
    for match in _REFERENCE_LINK.finditer(text):
        blank(*match.span(1))
        blank(*match.span(3))
    for match in _DEFINITION.finditer(text):
        blank(*match.span(1))
    for match in _AUTOLINK.finditer(text):
        blank(*match.span(1))
        blank(*match.span(3))
    for match in _TAG.finditer(text):
        kept = [span for attribute in _TARGET_ATTRIBUTE.finditer(match.group())
                for span in (_value_span(attribute),) if span]
        position = match.start()
        for start, end in kept:
            blank(position, match.start() + start)
            position = match.start() + end
        blank(position, match.end())
    return "".join(chars)


def comment_spans(text: str) -> list[tuple[int, int, str]]:
    """(start, end, inner text) of every complete HTML comment, in order (checker/markers.py reads them)."""
    spans = []
    position = 0
    while True:
        start = text.find("<!--", position)
        if start == -1:
            return spans
        end = text.find("-->", start + 4)
        if end == -1:
            return spans
        spans.append((start, end + 3, text[start + 4:end]))
        position = end + 3


def _mask_comments(text: str, blank) -> None:
    for start, end, _ in comment_spans(text):
        blank(start, end)


def _value_span(attribute: re.Match) -> tuple[int, int] | None:
    for group in (1, 2, 3):
        if attribute.group(group) is not None:
            return attribute.span(group)
    return None
