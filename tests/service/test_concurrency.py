"""Checking runs off the event loop: a long draft in flight does not hold up short ones, and a Checker
shared by the threadpool gives the same answers as when it is used one call at a time."""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor

import httpx

LONG_DRAFT = ("On call again and the coffee machine broke, so we made tea in the break room while the "
              "pagers kept going. ") * 450  # ~47,500 characters, under the limit: seconds of parsing
SHORT_DRAFTS = [
    "Mr. Abernathy, 91, was discharged home today.",
    "Great teaching session on sepsis bundles this week.",
    "Our attending was late again and nobody cares about the residents here.",
    "Saw a 33 year old at the clinic this morning with her twins.",
    "Grateful for the nurses on 4 West tonight.",
    "Mrs. K from Lakeview came back yesterday at 2pm.",
]


def test_a_long_draft_does_not_stall_short_ones(client):
    long_result = {}

    def post_long():
        long_result["status"] = client.post("/v1/check", json={"text": LONG_DRAFT}).status_code

    worker = threading.Thread(target=post_long)
    worker.start()
    time.sleep(0.3)  # let the long request reach the server
    with httpx.Client(base_url=str(client.base_url), timeout=60) as other:
        assert other.get("/healthz").status_code == 200
        assert other.post("/v1/check", json={"text": SHORT_DRAFTS[0]}).json()["verdict"] == "block"
    assert worker.is_alive(), f"the short requests were answered only after the long one finished: {long_result}"
    worker.join()
    assert long_result["status"] == 200


def test_checker_gives_the_same_reports_from_many_threads(checker):
    drafts = SHORT_DRAFTS * 4
    sequential = [checker.check(text).to_dict() for text in drafts]
    with ThreadPoolExecutor(8) as pool:
        concurrent = list(pool.map(lambda text: checker.check(text).to_dict(), drafts))
    assert concurrent == sequential
