"""Synthetic drafts for the benchmark, written for it and generated from a seed.

The evaluation corpus measures quality and stays out of speed work; these drafts only need to look like
posts to the pipeline: a mix of clean teaching or career sentences and sentences that carry the things
postcheck looks for (names, ages, clock times, places, contact details, room numbers), so every detector
and context condition does real work. Sizes are in characters; a draft is cut at a word boundary.
"""

from __future__ import annotations

import random
from typing import Iterator

TWEET, LINKEDIN, LONG = 280, 1_300, 10_000
SIZES = {"tweet": TWEET, "linkedin": LINKEDIN, "long": LONG}

_FIRST = ("Marisol", "Theo", "Agnieszka", "Delroy", "Yuki", "Brennan", "Oluwaseun", "Petra", "Caspian", "Ines")
_LAST = ("Okafor", "Lindqvist", "Baptiste", "Harrowgate", "Moreau", "Tanaka", "Villanueva", "Quist")
_TOWNS = ("Millbrook", "Port Averill", "Cedar Hollow", "East Tamsin", "Grayford", "Lake Orrin")
_JOBS = ("ferry captain", "retired tuba teacher", "beekeeper", "long-haul trucker", "florist", "choir director")
_TOPICS = (
    "sepsis bundles", "insulin drips", "heart failure diuresis", "delirium prevention", "airway checklists",
    "handoff tools", "point-of-care ultrasound", "antibiotic stewardship", "fall prevention", "wound care",
)

_CLEAN = (
    "Great grand rounds today on {topic}; the slides are worth a look.",
    "Reminder for interns: read the {topic} protocol before your first night float.",
    "Three things I wish I had known as a PGY-1 about {topic}: ask early, write it down, sleep when you can.",
    "Our journal club picked a trial on {topic} this month and the discussion was excellent.",
    "Proud of the nurses on our unit who rebuilt the {topic} workflow from scratch.",
    "If you teach {topic}, start with the why; residents remember stories better than tables.",
    "Parkinson's disease and Graves' disease both came up at the board review session on {topic}.",
    "Conference season: presenting a poster on {topic} in Chicago on May 14, come say hello.",
    "Thank you to Dr. {last} for mentoring me through my first year.",
    "Tough week, but the team kept its sense of humour and looked after each other.",
)
_FLAGGED = (
    "Last night at {hour}am a {age}yo {job} from {town} came in after a fall.",
    "Mrs. {last} in room {room} finally went home today after {days} days with us.",
    "Her son {first} called the unit at {phone} three times before lunch.",
    "The family asked us to send updates to {email} so they could share them.",
    "{first} {last}, {age}, was admitted on Tuesday with a rare vasculitis.",
    "A {age}-year-old {job} from {town} coded twice on my shift this morning.",
    "MRN {mrn} keeps showing up on my list, and yes it is the same patient again.",
    "Read the whole story at https://example.org/case/{room} before the handoff.",
)


def _sentence(rng: random.Random) -> str:
    template = rng.choice(_FLAGGED) if rng.random() < 0.35 else rng.choice(_CLEAN)
    return template.format(
        topic=rng.choice(_TOPICS), first=rng.choice(_FIRST), last=rng.choice(_LAST),
        town=rng.choice(_TOWNS), job=rng.choice(_JOBS), age=rng.randint(19, 98), hour=rng.randint(1, 11),
        room=rng.randint(100, 999), days=rng.randint(2, 40), mrn=f"MR{rng.randint(10**7, 10**8 - 1)}",
        phone=f"(555) {rng.randint(200, 999)}-{rng.randint(1000, 9999)}",
        email=f"{rng.choice(_FIRST).lower()}.family@example.com",
    )


def draft(rng: random.Random, chars: int) -> str:
    """One draft of about `chars` characters (never more), whole words only."""
    parts: list[str] = []
    length = 0
    while length < chars:
        sentence = _sentence(rng)
        parts.append(sentence)
        length += len(sentence) + 1
    text = " ".join(parts)
    if len(text) > chars:
        text = text[:chars].rsplit(" ", 1)[0]
    return text


def drafts(chars: int, count: int, seed: int = 7) -> list[str]:
    """`count` different drafts of about `chars` characters; the same seed gives the same drafts."""
    rng = random.Random(f"{seed}:{chars}")
    return [draft(rng, chars) for _ in range(count)]


def jsonl_lines(count: int, chars: int = TWEET, seed: int = 11) -> Iterator[str]:
    """A scan input of `count` JSONL lines with ids, generated lazily (an archive of any length)."""
    import json

    rng = random.Random(f"{seed}:{chars}")
    for number in range(count):
        yield json.dumps({"id": f"post-{number:07d}", "text": draft(rng, chars)})
