"""Check workers: the processes that parse drafts, so the HTTP front never does.

    WorkerPool(settings, workers)   N spawned processes, each with its own Checker, loaded once
    LocalChecks(checker)            the same jobs in this process's threadpool (tests, embedding)

Checking is CPU-bound Python that holds the GIL; in the front's process it would stall the event loop,
and with it /healthz, every other client and Ctrl-C. So each job goes to a worker process over a socket
pair, and the front only waits, with a deadline it can enforce from outside: a job that runs past
POSTCHECK_TIMEOUT gets its worker killed (SIGKILL: the work may be stuck in C) and replaced, and the
request gets 503 check_timeout. A worker that dies on its own is replaced the same way.

Scheduling: one FIFO queue of jobs, at most POSTCHECK_QUEUE requests waiting (more get 503 busy at
once), and a request that waits longer than POSTCHECK_TIMEOUT for a worker gets 503 busy too. With two
or more workers the last one takes only small jobs (up to SMALL_JOB_CHARS characters), so tweet-sized
drafts keep moving while long drafts and batch slices hold the others. A batch is checked one job at a
time, each job going to the back of the queue, so one batch cannot take every worker.

Workers start with 'spawn' (a fresh interpreter): the front has threads, and a forked copy of a
threaded process can deadlock.
"""

from __future__ import annotations

import asyncio
import logging
import multiprocessing
import pickle
import signal
import socket
import struct
from collections import deque
from dataclasses import dataclass, field
from typing import Any, Protocol

from starlette.concurrency import run_in_threadpool

import checker.errors
from checker import Checker
from checker.errors import InputError, PostcheckError
from .errors import Busy, CheckTimeout, WorkerFailed
from .jobs import CheckerInfo, Job, build_checker, describe, run_job
from .settings import ServiceSettings

logger = logging.getLogger("postcheck.error")

# Jobs up to this many characters may go to the worker kept for small drafts (a tweet is 280, a long
# LinkedIn post 3,000; 5,000 characters check in about 0.2 s).
SMALL_JOB_CHARS = 5_000
# Loading a Checker takes 1-2 s; this bounds a worker that hangs while loading.
START_TIMEOUT_S = 120.0
# A replacement that fails to load (the model was uninstalled under a running server) is retried.
RESTART_DELAY_S = 5.0
STOP_TIMEOUT_S = 5.0
_FRAME = struct.Struct("!I")  # each message: its length, then the pickle


class Checks(Protocol):
    """What the app needs from a check backend."""

    info: CheckerInfo

    async def run(self, job: Job, follow_up: bool = False) -> Any: ...

    def ready_workers(self) -> int: ...


# -- the worker process -------------------------------------------------------------------------------

def worker_main(channel: socket.socket, settings: ServiceSettings) -> None:
    """A worker's whole life: load the Checker, say so (or say why not), then run jobs until the front
    closes the channel. Replies carry results, or an error's message (InputError: sizes only) or, for a
    bug, only the exception's type name: the message of an unexpected error might quote the draft."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C reaches the whole process group; the front decides
    try:
        try:
            checker_ = build_checker(settings)
        except PostcheckError as error:
            _send(channel, ("failed", type(error).__name__, str(error)))
            return
        except Exception as error:  # noqa: BLE001 - reported by type only
            _send(channel, ("failed", "PostcheckError", f"a check worker could not start ({type(error).__name__})"))
            return
        _send(channel, ("ready", describe(checker_)))
        while (job := _receive(channel)) is not None:
            try:
                reply: tuple = ("ok", run_job(checker_, job))
            except InputError as error:
                reply = ("input", str(error))
            except Exception as error:  # noqa: BLE001 - reported by type only
                reply = ("bug", type(error).__name__)
            _send(channel, reply)
    except OSError:  # the front went away: nothing left to answer
        pass


def _send(channel: socket.socket, message: Any) -> None:
    payload = pickle.dumps(message, protocol=pickle.HIGHEST_PROTOCOL)
    channel.sendall(_FRAME.pack(len(payload)) + payload)


def _receive(channel: socket.socket) -> Any:
    header = _receive_exactly(channel, _FRAME.size)
    if header is None:
        return None
    payload = _receive_exactly(channel, _FRAME.unpack(header)[0])
    return None if payload is None else pickle.loads(payload)


def _receive_exactly(channel: socket.socket, size: int) -> bytes | None:
    buffer = bytearray()
    while len(buffer) < size:
        chunk = channel.recv(min(size - len(buffer), 1 << 20))
        if not chunk:
            return None
        buffer += chunk
    return bytes(buffer)


# -- the front's side ---------------------------------------------------------------------------------

@dataclass(eq=False)
class _Worker:
    slot: int
    small_only: bool
    process: multiprocessing.process.BaseProcess
    reader: asyncio.StreamReader
    writer: asyncio.StreamWriter
    busy: bool = False


@dataclass(eq=False)
class _Pending:
    job: Job
    future: asyncio.Future
    expiry: asyncio.TimerHandle | None = None

    def settle(self, reply: Any = None, error: BaseException | None = None) -> None:
        if self.future.done():  # the request was cancelled (client gone, server stopping)
            return
        if error is not None:
            self.future.set_exception(error)
        else:
            self.future.set_result(reply)


@dataclass(eq=False)
class WorkerPool:
    settings: ServiceSettings
    size: int = 2
    info: CheckerInfo | None = None
    _workers: dict[int, _Worker] = field(default_factory=dict)
    _starting: dict[int, multiprocessing.process.BaseProcess] = field(default_factory=dict)
    _waiting: deque[_Pending] = field(default_factory=deque)
    _tasks: set[asyncio.Task] = field(default_factory=set)
    _closing: bool = False

    def __post_init__(self) -> None:
        if self.size < 1:
            raise ValueError(f"a pool needs at least one worker, got {self.size}")
        self._context = multiprocessing.get_context("spawn")

    # -- life cycle -------------------------------------------------------------------------------------
    async def start(self) -> None:
        """Start every worker and wait until each has loaded its Checker; the first load error (a missing
        model, a broken rule file) is raised here, before the server listens."""
        results = await asyncio.gather(*(self._start_worker(slot) for slot in range(self.size)),
                                       return_exceptions=True)
        failure = next((r for r in results if isinstance(r, BaseException)), None)
        if failure is not None:
            await self.stop()
            raise failure

    async def stop(self) -> None:
        """Refuse new jobs, close every channel (a worker exits when its channel does), and kill what
        has not exited within a few seconds."""
        self._closing = True
        while self._waiting:
            self._waiting.popleft().settle(error=Busy())
        for task in self._tasks:
            task.cancel()
        processes = [w.process for w in self._workers.values()] + list(self._starting.values())
        loop = asyncio.get_running_loop()
        for worker in self._workers.values():
            loop.remove_reader(worker.process.sentinel)
            worker.writer.close()
        self._workers.clear()
        self._starting.clear()
        await asyncio.to_thread(_reap, processes, STOP_TIMEOUT_S)

    def ready_workers(self) -> int:
        return len(self._workers)

    # -- jobs -------------------------------------------------------------------------------------------
    async def run(self, job: Job, follow_up: bool = False) -> Any:
        """Run a job on the first suitable free worker and return its result. `follow_up` marks a later
        job of a request already admitted (the next slice of a batch): it is neither refused for a full
        queue nor timed out while waiting, since its request holds its place already."""
        if self._closing or (not follow_up and len(self._waiting) >= self.settings.max_queue):
            raise Busy()
        loop = asyncio.get_running_loop()
        pending = _Pending(job, loop.create_future())
        self._waiting.append(pending)
        self._dispatch()
        if not follow_up and not pending.future.done() and pending in self._waiting:
            pending.expiry = loop.call_later(self.settings.check_timeout, self._expire, pending)
        try:
            reply = await pending.future
        finally:
            if pending.expiry is not None:
                pending.expiry.cancel()
            if pending in self._waiting:
                self._waiting.remove(pending)
        kind, *details = reply
        if kind == "input":
            raise InputError(details[0])
        if kind == "bug":
            logger.error("check failed in a worker with %s", details[0])
            raise WorkerFailed()
        return details[0]

    def _expire(self, pending: _Pending) -> None:
        if pending in self._waiting:
            self._waiting.remove(pending)
            pending.settle(error=Busy())

    def _dispatch(self) -> None:
        """Hand waiting jobs, oldest first, to free workers that may take them."""
        for pending in list(self._waiting):
            worker = self._free_worker_for(pending.job)
            if worker is None:
                continue
            self._waiting.remove(pending)
            if pending.expiry is not None:
                pending.expiry.cancel()
            worker.busy = True
            self._spawn_task(self._run_on(worker, pending))

    def _free_worker_for(self, job: Job) -> _Worker | None:
        small = job.chars <= SMALL_JOB_CHARS
        free = [w for w in self._workers.values() if not w.busy and (small or not w.small_only)]
        # A small job prefers the worker kept for small jobs, leaving the others free for long ones.
        return min(free, key=lambda w: (not w.small_only, w.slot), default=None)

    async def _run_on(self, worker: _Worker, pending: _Pending) -> None:
        try:
            reply = await asyncio.wait_for(self._exchange(worker, pending.job), self.settings.check_timeout)
        except TimeoutError:
            logger.warning("check stopped after %g s (%d characters); restarting check worker %d",
                           self.settings.check_timeout, pending.job.chars, worker.slot)
            self._retire(worker, expected=True)
            pending.settle(error=CheckTimeout())
        except (OSError, EOFError, asyncio.IncompleteReadError, pickle.UnpicklingError):
            self._retire(worker, expected=False)
            pending.settle(error=WorkerFailed())
        except asyncio.CancelledError:  # the pool is stopping
            pending.settle(error=Busy())
            raise
        else:
            worker.busy = False
            pending.settle(reply)
        self._dispatch()

    @staticmethod
    async def _exchange(worker: _Worker, job: Job) -> Any:
        payload = pickle.dumps(job, protocol=pickle.HIGHEST_PROTOCOL)
        worker.writer.write(_FRAME.pack(len(payload)) + payload)
        await worker.writer.drain()
        return await _read_frame(worker.reader)

    # -- workers ----------------------------------------------------------------------------------------
    def _spawn_task(self, coroutine) -> None:
        task = asyncio.get_running_loop().create_task(coroutine)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def _retire(self, worker: _Worker, expected: bool) -> None:
        """Kill a worker that overran its deadline, broke its channel or exited, and start its
        replacement. Called once per worker whichever of those is noticed first."""
        if self._workers.get(worker.slot) is not worker:
            return
        del self._workers[worker.slot]
        asyncio.get_running_loop().remove_reader(worker.process.sentinel)
        worker.writer.close()
        if worker.process.is_alive():
            worker.process.kill()
        self._spawn_task(self._replace(worker, expected))

    async def _replace(self, worker: _Worker, expected: bool) -> None:
        await asyncio.to_thread(worker.process.join)
        if not expected:
            logger.error("check worker %d exited unexpectedly (exit code %s); restarting it",
                         worker.slot, worker.process.exitcode)
        while not self._closing:
            try:
                await self._start_worker(worker.slot)
                return
            except Exception as error:  # noqa: BLE001 - whatever it was (no model, no descriptors), try again
                logger.error("check worker %d could not restart (%s); retrying in %g s",
                             worker.slot, type(error).__name__, RESTART_DELAY_S)
                await asyncio.sleep(RESTART_DELAY_S)

    async def _start_worker(self, slot: int) -> None:
        parent, child = socket.socketpair()
        process = self._context.Process(target=worker_main, args=(child, self.settings), daemon=True,
                                        name=f"postcheck-check-{slot}")
        # Starting is a fork and exec (milliseconds); the model loads in the child while we wait below.
        process.start()
        child.close()  # the worker has its own copy; ours would keep its end from ever seeing EOF
        self._starting[slot] = process
        try:
            reader, writer = await asyncio.open_connection(sock=parent)
            try:
                hello = await asyncio.wait_for(_read_frame(reader), START_TIMEOUT_S)
            except (TimeoutError, OSError, EOFError, asyncio.IncompleteReadError):
                writer.close()
                raise PostcheckError(f"a check worker did not start (exit code {process.exitcode})") from None
            if hello[0] != "ready":
                writer.close()
                raise _load_error(hello[1], hello[2])
        except BaseException:
            if process.is_alive():
                process.kill()
            await asyncio.to_thread(process.join)
            raise
        finally:
            self._starting.pop(slot, None)
        if self._closing:
            writer.close()
            await asyncio.to_thread(_reap, [process], STOP_TIMEOUT_S)
            return
        self.info = self.info or hello[1]
        worker = _Worker(slot, self.size >= 2 and slot == self.size - 1, process, reader, writer)
        self._workers[slot] = worker
        # A worker that dies while idle (the OOM killer, a signal) is replaced before a job finds it gone.
        asyncio.get_running_loop().add_reader(process.sentinel, self._retire, worker, False)
        self._dispatch()


def _load_error(kind: str, message: str) -> PostcheckError:
    """The worker's load error as the same PostcheckError class, so `serve` exits with its code."""
    error_class = getattr(checker.errors, kind, PostcheckError)
    if not (isinstance(error_class, type) and issubclass(error_class, PostcheckError)):
        error_class = PostcheckError
    return error_class(message)


async def _read_frame(reader: asyncio.StreamReader) -> Any:
    (size,) = _FRAME.unpack(await reader.readexactly(_FRAME.size))
    return pickle.loads(await reader.readexactly(size))


def _reap(processes: list, timeout: float) -> None:
    """Wait up to `timeout` seconds in all for the processes to exit; kill the ones that have not."""
    for process in processes:
        process.join(timeout)
        if process.is_alive():
            process.kill()
            process.join()


class LocalChecks:
    """The same jobs in this process's threadpool, with one Checker: for in-process tests and for
    embedding the app. There is no deadline here (a thread cannot be stopped); `postcheck serve` runs
    the WorkerPool."""

    def __init__(self, checker_: Checker):
        self.checker = checker_
        self._info: CheckerInfo | None = None

    @property
    def info(self) -> CheckerInfo:
        if self._info is None:
            self._info = describe(self.checker)
        return self._info

    async def run(self, job: Job, follow_up: bool = False) -> Any:
        return await run_in_threadpool(run_job, self.checker, job)

    def ready_workers(self) -> int:
        return 1
