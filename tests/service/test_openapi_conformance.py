"""Schemathesis drives every operation in /openapi.json of the live server with generated requests,
valid and invalid, and checks each answer: never a 5xx, only statuses the document lists for that
route, and bodies, content types and headers that match what it says.

Bounded: EXAMPLES generated requests per operation and mode (9 x 15 = 135 at most), derandomized,
no example database. The cases come from schemathesis's Hypothesis strategies
and run under plain `hypothesis.given`, which keeps this independent of its pytest plugin.
"""

from __future__ import annotations

import hypothesis
import pytest
import schemathesis
from schemathesis import GenerationMode
from schemathesis.checks import load_all_checks, not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

EXAMPLES = 15
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance,
          response_headers_conformance, response_schema_conformance]
OPERATIONS = [("POST", "/v1/check"), ("POST", "/v1/check/batch"), ("GET", "/v1/rules"), ("GET", "/healthz"),
              ("GET", "/v2/check"), ("POST", "/v2/check"), ("GET", "/v2/languages")]
load_all_checks()


@pytest.fixture(scope="module")
def api_schema(server):
    config = schemathesis.Config.from_dict({"generation": {"database": "none"}})
    return schemathesis.openapi.from_url(f"{server.url}/openapi.json", config=config)


def test_the_document_lists_the_operations_tested_here(api_schema):
    listed = [(op.ok().method.upper(), op.ok().path) for op in api_schema.get_all_operations()]
    assert sorted(listed) == sorted(OPERATIONS)


# Invalid requests exist only where there is input: the POST routes' bodies (the GET routes take none).
CASES = [(method, path, GenerationMode.POSITIVE) for method, path in OPERATIONS] + [
    (method, path, GenerationMode.NEGATIVE) for method, path in OPERATIONS if method == "POST"]


@pytest.mark.parametrize("method, path, mode", CASES, ids=[f"{m} {p} {g.value}" for m, p, g in CASES])
def test_every_answer_matches_the_openapi_document(api_schema, method, path, mode):
    operation = api_schema[path][method]
    calls = []

    @hypothesis.given(case=operation.as_strategy(generation_mode=mode))
    @hypothesis.settings(max_examples=EXAMPLES, deadline=None, database=None, derandomize=True,
                         suppress_health_check=list(hypothesis.HealthCheck))
    def run(case):
        calls.append(case.call_and_validate(checks=CHECKS, timeout=60).status_code)

    run()
    assert calls, "no request was generated"
    assert len(calls) <= 10 * EXAMPLES, "bounded (shrinking a failure may replay a few)"
