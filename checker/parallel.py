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
# Chunks waiting per worker: enough that a worker never idles while its next chunk is pickled.
CHUNKS_PER_WORKER = 2

# The worker process's own Checker, or the error that stopped it loading (re-raised in the parent).
_worker_checker: Checker | PostcheckError | None = None


def default_jobs() -> int:
    """Workers for `scan --jobs auto` (the default): one per CPU this process may use, at most 8.

    Compliance teams scan whole archives and expect a batch tool to use the machine's cores unasked, as
    ruff and black do. It counts the CPUs this process may run on, not the machine's: a container or
    `taskset` often allows fewer, and workers beyond those only take turns on them. Where there is no
    affinity call (macOS, Windows) it falls back to the machine's count, and to 1 if even that is unknown.
    """
    if hasattr(os, "sched_getaffinity"):
        usable = len(os.sched_getaffinity(0))
    else:
        usable = os.cpu_count() or 1
    return max(1, min(usable, MAX_DEFAULT_JOBS))


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
