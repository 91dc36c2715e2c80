"""Drafts written for the service tests: long ones of a given size, and tweet-sized ones whose made-up
names and places are distinctive enough that finding any of their words in a log means a leak."""

from __future__ import annotations

import random

_SENTENCES = (
    "On call again and the coffee machine broke, so we made tea in the break room while the pagers kept going.",
    "Mrs. Thistlewood, 84yo, came in last night at 3am after a fall at home in Brambleford.",
    "Great teaching session on sepsis bundles this week; the residents asked sharp questions.",
    "Our attending was late again and nobody in this department cares about the interns.",
    "Her son Oberon called the unit at (555) 201-7788 three times before lunch.",
    "Grateful for the respiratory therapists on 5 North who carried us through a brutal stretch.",
)


def long_draft(chars: int, seed: int = 0) -> str:
    """About `chars` characters of post-like text (cut at a sentence), the same for the same seed."""
    rng = random.Random(seed)
    parts: list[str] = []
    size = 0
    while size < chars:
        sentence = rng.choice(_SENTENCES)
        parts.append(sentence)
        size += len(sentence) + 1
    text = " ".join(parts)
    return text[:text.rfind(".", 0, chars) + 1]


# Tweet-sized drafts for concurrent clients: every name, place and number in them is made up and odd.
NAMED_DRAFTS = (
    "Mrs. Quillonia Farthingale, 87, from Upper Wyvernmoor came in last night at 2am after a fall.",
    "Shout-out to Dr. Ezekiah Bramblecote for teaching the whole team about the new sepsis bundle.",
    "Mr. Thaddeus Corvanek in room 4417 asked whether the jello was a punishment. Fair question.",
    "Our program in Kestrelhaven cancelled wellness day again; nobody here cares about residents.",
    "Baby Oriel Pennywhistle's dad called 617-555-0199 four times before lunch, worried sick.",
    "Grateful for the nurses on the Marchbanks ward tonight. You carried us through a brutal shift.",
    "Tip for students: present the assessment first, then the data. Attendings at Glimmerford love it.",
    "Saw a 33yo ferry captain from Isle Vantreth at the clinic this morning with her twins.",
)
# Words of the drafts above that no server log line has any business containing.
DISTINCTIVE_WORDS = ("Quillonia", "Farthingale", "Wyvernmoor", "Ezekiah", "Bramblecote", "Thaddeus",
                     "Corvanek", "Kestrelhaven", "Oriel", "Pennywhistle", "617-555-0199", "Marchbanks",
                     "Glimmerford", "Vantreth", "Thistlewood", "Brambleford", "Oberon", "201-7788")
