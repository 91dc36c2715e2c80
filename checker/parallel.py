"""Check an archive with several worker processes, in input order, with memory that stays flat.

A compliance scan of a department's archive is hundreds of thousands of drafts, and one process uses one
core. Each worker builds its own Checker once (the model and rules load once per worker, never per
draft); drafts go out in chunks and results come back in the order they went out. At most a few chunks
per worker are in flight, so however long the input, only those drafts are in memory, and the input is
read only as fast as the workers check it.
"""

from __future__ import annotations

import multiprocessing
import os
from collections import deque
from concurrent.futures import Future, ProcessPoolExecutor
from itertools import islice
from typing import Any, Iterable, Iterator, TypeVar

from checker.errors import InputError, PostcheckError
from checker.pipeline import BATCH_SIZE, Checker
from checker.report import Report

K = TypeVar("K")
# The most workers `default_jobs` starts unasked: each holds its own copy of the model (about 230 MB), and
# on a 64-core server one per core would take 15 GB. More can still be asked for with `--jobs N`.
MAX_DEFAULT_JOBS = 8
# Drafts a worker must have to check for its start-up (seconds of loading the model) to pay off; measured
# with bench/scan_jobs.py (see default_jobs).
MIN_DRAFTS_PER_WORKER = 400
# Chunks waiting per worker: enough that a worker never idles while its next chunk is pickled.
CHUNKS_PER_WORKER = 2

# The worker process's own Checker, or the error that stopped it loading (re-raised in the parent).
_worker_checker: Checker | PostcheckError | None = None


def default_jobs(drafts: int | None = None, load: float | None = None) -> int:
    """Workers for `scan --jobs auto` (the default): as many as make the scan faster than one process.

    Measured on a 2-core machine (README, "Scanning an archive on several cores"): each worker spends
    seconds loading its model before it checks anything, and a worker that must share its core with
    another busy process loses more to the sharing than it adds. So auto starts:

    - one worker per CPU this process may use (its affinity: a container or `taskset` often allows
      fewer than the machine has), at most MAX_DEFAULT_JOBS;
    - less the cores other processes are keeping busy (the 1-minute load average, rounded);
    - and only as many as the archive keeps busy for longer than their start-up: one per
      MIN_DRAFTS_PER_WORKER drafts, when the number of drafts is known.

    One or fewer means no workers at all: the scan runs in this process. `load` is for tests; by
    default it is read from the system where it can be (not on Windows, where it counts as 0).
    """
    if hasattr(os, "sched_getaffinity"):
        usable = len(os.sched_getaffinity(0))
    else:
        usable = os.cpu_count() or 1
    if load is None:
        load = os.getloadavg()[0] if hasattr(os, "getloadavg") else 0.0
    jobs = min(usable, MAX_DEFAULT_JOBS, round(usable - load))
    if drafts is not None:
        jobs = min(jobs, drafts // MIN_DRAFTS_PER_WORKER)
    return max(1, jobs)


def check_stream(
    items: Iterable[tuple[K, str]], jobs: int = 1, chunk_size: int = BATCH_SIZE, **checker_options: Any
) -> Iterator[tuple[K, Report | InputError]]:
    """`Checker(**checker_options).check_stream(items)`, spread over `jobs` worker processes.

    Same results in the same order as one process: keys come back with their reports, and a draft that
    cannot be checked yields its InputError in its place. A Checker that cannot load (missing model,
    broken rule file) raises its error here, once. Keys and options must be picklable.
    """
    if jobs < 1:
        raise ValueError(f"jobs must be at least 1, got {jobs}")
    if jobs == 1:
        yield from Checker(**checker_options).check_stream(items)
        return
    # 'spawn' starts each worker from a clean interpreter on every platform: nothing of the parent's
    # state (open files, threads, a half-read stdin) is copied into it.
    context = multiprocessing.get_context("spawn")
    chunks = _chunks(items, chunk_size)
    with ProcessPoolExecutor(jobs, context, initializer=_load_worker, initargs=(checker_options,)) as pool:
        pending: deque[Future] = deque(
            pool.submit(_check_chunk, chunk) for chunk in islice(chunks, jobs * CHUNKS_PER_WORKER)
        )
        try:
            while pending:
                results = pending.popleft().result()
                for chunk in islice(chunks, 1):
                    pending.append(pool.submit(_check_chunk, chunk))
                yield from results
        finally:
            for future in pending:
                future.cancel()


def _chunks(items: Iterable[tuple[K, str]], size: int) -> Iterator[list[tuple[K, str]]]:
    iterator = iter(items)
    while chunk := list(islice(iterator, size)):
        yield chunk


def _load_worker(checker_options: dict[str, Any]) -> None:
    """Pool initializer: load the model and rules once for the life of the worker."""
    global _worker_checker
    try:
        _worker_checker = Checker(**checker_options)
    except PostcheckError as error:
        _worker_checker = error


def _check_chunk(chunk: list[tuple[K, str]]) -> list[tuple[K, Report | InputError]]:
    if isinstance(_worker_checker, PostcheckError):
        raise _worker_checker
    return list(_worker_checker.check_stream(chunk))
