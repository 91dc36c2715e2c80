"""What a check worker does: build its Checker, describe it, and run one job. No transport here.

A job is the unit a worker holds: one draft (`CheckJob`, `LanguageToolJob`) or a slice of a batch
(`BatchJob`) of at most `JOB_CHARS` characters, so the characters in flight in one worker are bounded
however large the request. Jobs and their results are plain data, so they cross the process boundary
by pickle; the same `run_job` runs in a worker process (service/pool.py) and in-process for tests.
"""

from __future__ import annotations

from dataclasses import dataclass
from importlib.metadata import version
from typing import Any, Iterable, Iterator, Sequence

from checker import Checker, Report
from checker.config import checker_options_from_env
from .languagetool import AnnotatedText, to_matches
from .settings import ServiceSettings

VERSION = version("postcheck")
# Most characters one batch job carries: one maximum-length draft's worth, so a worker's peak memory
# for a slice of a batch is that of one long draft (~370 MB), not that of the whole batch (1.7 GB for
# 100 drafts of 10,000 characters parsed together).
JOB_CHARS = 50_000
# Most drafts in one batch job; spaCy's nlp.pipe batches them within the job.
JOB_DRAFTS = 64


def build_checker(settings: ServiceSettings) -> Checker:
    """The server's Checker, built in one place: the operator's settings and environment only
    (POSTCHECK_MODEL, POSTCHECK_RULES, and the file POSTCHECK_CONFIG names), never the user or project
    config of whoever runs the server (checker.config.checker_options_from_env)."""
    return Checker(max_chars=settings.max_chars, **checker_options_from_env())


@dataclass(frozen=True)
class CheckerInfo:
    """What the HTTP front needs to know about the workers' Checker without loading one itself."""

    model: str
    rules: tuple[dict[str, Any], ...]

    @property
    def rule_ids(self) -> frozenset[str]:
        return frozenset(rule["id"] for rule in self.rules)


def describe(checker: Checker) -> CheckerInfo:
    meta = checker.nlp.meta
    return CheckerInfo(
        model=f"{meta.get('lang', '')}_{meta.get('name', '')}-{meta.get('version', '')}",
        rules=tuple({
            "id": rule.id, "category": rule.category, "type": rule.type, "severity": rule.severity,
            "message": rule.message, "why": rule.why, "instead": rule.instead, "reference": rule.reference,
            "quasi": rule.quasi,
            "examples": {"flag": list(rule.examples_flag), "pass": list(rule.examples_pass)},
        } for rule in checker.ruleset.rules),
    )


@dataclass(frozen=True)
class CheckJob:
    """POST /v1/check: one draft; the result is the report's dict."""

    text: str
    author: str | None = None
    disable: tuple[str, ...] = ()
    allow: tuple[str, ...] = ()

    @property
    def chars(self) -> int:
        return len(self.text)


@dataclass(frozen=True)
class BatchJob:
    """A slice of POST /v1/check/batch: (id, text) pairs; the result is their `BatchResult` dicts."""

    drafts: tuple[tuple[str | None, str], ...]
    author: str | None = None
    disable: tuple[str, ...] = ()
    allow: tuple[str, ...] = ()

    @property
    def chars(self) -> int:
        return sum(len(text) for _, text in self.drafts)


@dataclass(frozen=True)
class LanguageToolJob:
    """POST /v2/check: the `text` or `data` form field as sent; the result is LanguageTool match dicts.
    Parsing `data` happens here, in the worker, like every other reading of a draft."""

    text: str | None
    data: str | None
    disable: frozenset[str] = frozenset()
    picky: bool = False
    noted: frozenset[str] = frozenset()  # rules whose info-level notes were asked for (RuleSelection)
    rules_url: str = "/rules/"  # a rule's page is rules_url + its id

    @property
    def chars(self) -> int:
        return len(self.data if self.data is not None else self.text or "")


Job = CheckJob | BatchJob | LanguageToolJob


def batch_jobs(drafts: Iterable[tuple[str | None, str]], author: str | None, disable: Sequence[str],
               job_chars: int = JOB_CHARS, job_drafts: int = JOB_DRAFTS, allow: Sequence[str] = ()) -> Iterator[BatchJob]:
    """Cut a batch into jobs of at most `job_chars` characters and `job_drafts` drafts, in order; a draft
    longer than `job_chars` (possible only when POSTCHECK_MAX_CHARS is raised) is a job on its own."""
    piece: list[tuple[str | None, str]] = []
    size = 0
    for key, text in drafts:
        if piece and (size + len(text) > job_chars or len(piece) == job_drafts):
            yield BatchJob(tuple(piece), author, tuple(disable), tuple(allow))
            piece, size = [], 0
        piece.append((key, text))
        size += len(text)
    if piece:
        yield BatchJob(tuple(piece), author, tuple(disable), tuple(allow))


def run_job(checker: Checker, job: Job) -> Any:
    """Run one job; an InputError (a draft the checker cannot take) propagates to become a 422."""
    if isinstance(job, CheckJob):
        return checker.check(job.text, author=job.author, disable=job.disable, allow=job.allow).to_dict()
    if isinstance(job, BatchJob):
        outcomes = checker.check_stream(job.drafts, author=job.author, disable=job.disable, allow=job.allow)
        return [{"id": key, "report": outcome.to_dict()} if isinstance(outcome, Report)
                else {"id": key, "error": str(outcome)} for key, outcome in outcomes]
    if isinstance(job, LanguageToolJob):
        annotated = (AnnotatedText.from_data(job.data) if job.data is not None
                     else AnnotatedText.from_text(job.text or ""))
        if not annotated.plain.strip():  # an emptied text field is not an error to a typing user
            return []
        report = checker.check(annotated.plain, disable=job.disable)
        matches = to_matches(report, annotated, picky=job.picky, rule_url=lambda rule_id: job.rules_url + rule_id,
                             noted=job.noted)
        return [match.model_dump() for match in matches]
    raise TypeError(f"unknown job type {type(job).__name__}")
