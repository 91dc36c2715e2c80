"""A Checker shared by a threadpool (the in-process app, service/pool.py LocalChecks) gives the same
answers as when it is used one call at a time. That a long draft does not hold up short ones on the
real server is test_workers.py's."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

SHORT_DRAFTS = [
    "Mr. Abernathy, 91, was discharged home today.",
    "Great teaching session on sepsis bundles this week.",
    "Our attending was late again and nobody cares about the residents here.",
    "Saw a 33 year old at the clinic this morning with her twins.",
    "Grateful for the nurses on 4 West tonight.",
    "Mrs. K from Lakeview came back yesterday at 2pm.",
]


def test_checker_gives_the_same_reports_from_many_threads(checker):
    drafts = SHORT_DRAFTS * 4
    sequential = [checker.check(text).to_dict() for text in drafts]
    with ThreadPoolExecutor(8) as pool:
        concurrent = list(pool.map(lambda text: checker.check(text).to_dict(), drafts))
    assert concurrent == sequential
