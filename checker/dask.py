"""Check an archive on an existing Dask cluster: one Checker per worker, results in input order.

A health system's archive is millions of drafts, more than one machine checks in a working day. Dask
already schedules work over many machines, survives a lost worker and shows its progress, so postcheck
uses it instead of a home-made engine (`pip install 'postcheck[dask]'`).

    with DaskChecker("tcp://scheduler:8786", author="Alex Kim") as checker:
        for key, outcome in checker.check_stream(pairs):  # read here, sent in chunks, back in order
            ...
        lines = checker.check_bag(records)                # a Bag (or DataFrame) of {"id", "text"}
        lines.to_textfiles("reports/*.jsonl")             # JSONL lines, written by the workers

Entering the block loads one Checker on every worker (a worker plugin: once per worker, never per task,
and on workers that join later); leaving it unloads them. What a worker would otherwise read from its own
machine (the user's config file, POSTCHECK_RULES, rule packs, which installed model is the default) is
resolved here, on the client, so every worker checks exactly as `Checker(**options)` would here.

Drafts are PHI. They travel to the cluster named and nowhere else, and nothing that runs on a worker
raises: Dask logs a failed task together with its arguments, which are drafts. A draft that cannot be
checked comes back as its error, in its place; cluster failures name chunk numbers, never content.

(The module is `checker.dask`, as the issue names it. Imports are absolute, so `import dask` in here is
the real Dask; run nothing with `checker/` itself on `sys.path`.)
"""

from __future__ import annotations

import asyncio
import uuid
from collections import deque
from concurrent.futures import ThreadPoolExecutor
from importlib import metadata
from itertools import islice
from pathlib import Path
from typing import Any, Iterable, Iterator, TypeVar

try:
    import dask.bag
    import dask.config
    from distributed import Client, Future, Security, WorkerPlugin, get_worker
    from distributed.comm.addressing import parse_address
    from distributed.comm.registry import get_backend
    from distributed.core import rpc
    from distributed.scheduler import KilledWorker
except ImportError as missing:  # the CLI turns this into one line
    raise ImportError("checker.dask needs the dask extra: pip install 'postcheck[dask]'") from missing

from checker import jsonl
from checker.config import with_settings_file
from checker.errors import ClusterError, ConfigError, InputError, PostcheckError
from checker.model import resolve_model_name
from checker.parallel import _chunks
from checker.pipeline import BATCH_SIZE, Checker
from checker.report import Report
from checker.rules import load_rules

K = TypeVar("K")
# Chunks (or partitions) in flight per worker thread: one being checked and one queued behind it, as in
# `scan --jobs`. It bounds what the client, the scheduler and each worker hold, however long the input.
CHUNKS_PER_THREAD = 2


class DaskChecker:
    """A Checker on every worker of a Dask cluster; use it as a context manager.

    `cluster` is a scheduler address ("tcp://host:8786") or a `distributed.Client` (which stays open);
    `checker_options` are `Checker`'s keyword arguments, resolved on this machine.
    """

    def __init__(self, cluster: str | Client, **checker_options: Any):
        self._cluster = cluster
        self._options = client_side_options(checker_options)
        self._name = f"postcheck-{uuid.uuid4().hex[:12]}"
        self.client: Client | None = None

    def __enter__(self) -> "DaskChecker":
        self.client = _connect(self._cluster)
        try:
            _wait_for_workers(self.client)
            plugin = CheckerPlugin(self._options, _postcheck_version())
            try:
                self.client.register_plugin(plugin, name=self._name)
            except PostcheckError:
                raise
            except Exception as error:
                raise ClusterError(f"the workers could not load postcheck ({type(error).__name__})") from None
        except BaseException:
            self.__exit__(None, None, None)
            raise
        return self

    def __exit__(self, *exc) -> None:
        if self.client is None:
            return
        try:
            self.client.unregister_worker_plugin(self._name)
        except Exception:  # the cluster may be gone; there is then nothing left to unload
            pass
        if self.client is not self._cluster:
            self.client.close()
        self.client = None

    # -- public API ---------------------------------------------------------------------------------
    def check_stream(
        self, items: Iterable[tuple[K, str]], chunk_size: int = BATCH_SIZE
    ) -> Iterator[tuple[K, Report | InputError]]:
        """`Checker.check_stream(items)` on the cluster: the same results in the same order.

        Items are read here as the cluster needs them and sent in chunks straight to it, so a scheduler
        on another host needs no access to this machine's files. Keys must be picklable.
        """
        # Keys name the scan and the chunk's number, never its content (the default key is a hash of it).
        scan = uuid.uuid4().hex[:8]
        futures = (
            self._client.submit(_check_chunk, self._name, chunk, key=f"{self._name}-{scan}-chunk-{number}")
            for number, chunk in enumerate(_chunks(items, chunk_size))
        )
        for outcomes in self._in_order(futures, "chunk"):
            if isinstance(outcomes, PostcheckError):
                raise outcomes
            yield from outcomes

    def check_bag(self, records: Any) -> dask.bag.Bag:
        """A Bag of JSONL lines, one for each record of `records` (a Bag or DataFrame of {id, text}), in order.

        Lazy: compute it on the cluster (`lines.to_textfiles(...)` or `.compute()` with that cluster's
        client the default) inside the `with` block, or stream it to this machine with `lines`. A worker
        holds one partition's drafts and lines at a time, so partitions of a few thousand records keep its
        memory flat. A record without an id is named `PARTITION:INDEX`; one that is not a mapping with a
        text yields `{"id", "error"}` in its place, as a draft that cannot be checked does.
        """
        if not isinstance(records, dask.bag.Bag):
            if not hasattr(records, "to_bag"):
                raise TypeError(f"records must be a dask Bag or DataFrame, got {type(records).__name__}")
            records = records.to_bag(index=False, format="dict")
        numbers = dask.bag.range(records.npartitions, npartitions=records.npartitions)
        return records.map_partitions(_check_records, self._name, numbers)

    def lines(self, records: Any) -> Iterator[str]:
        """`check_bag(records)`'s lines, streamed here in order, a bounded number of partitions at a time."""
        parts = self.check_bag(records).to_delayed()
        futures = (self._client.compute(part) for part in parts)
        for part in self._in_order(futures, "partition"):
            yield from part

    # -- internals ----------------------------------------------------------------------------------
    def _window(self) -> int:
        return CHUNKS_PER_THREAD * max(1, sum(self._client.nthreads().values()))

    @property
    def _client(self) -> Client:
        if self.client is None:
            raise RuntimeError("use DaskChecker as a context manager: `with DaskChecker(...) as checker:`")
        return self.client

    def _in_order(self, futures: Iterator[Future], what: str) -> Iterator[Any]:
        """Results of `futures` in order, with at most CHUNKS_PER_THREAD per worker thread in flight.

        The window follows the cluster's size (asked again every 16 results), so workers that join
        during a scan get work too."""
        window = self._window()
        pending: deque[Future] = deque(islice(futures, window))
        number = 0
        try:
            while pending:
                result = _result(pending.popleft(), f"{what} {number}")
                number += 1
                if number % 16 == 0:
                    window = self._window()
                pending.extend(islice(futures, max(0, window - len(pending))))
                yield result
        finally:
            if pending:
                try:
                    self._client.cancel(list(pending))
                except Exception:  # the connection may be what failed
                    pass


def check_stream(
    items: Iterable[tuple[K, str]], cluster: str | Client, chunk_size: int = BATCH_SIZE, **checker_options: Any
) -> Iterator[tuple[K, Report | InputError]]:
    """`Checker(**checker_options).check_stream(items)` on a Dask cluster, as `parallel.check_stream` is on
    local processes: the Checkers load when the stream starts and unload when it ends."""
    with DaskChecker(cluster, **checker_options) as checker:
        yield from checker.check_stream(items, chunk_size)


def client_side_options(options: dict[str, Any]) -> dict[str, Any]:
    """`Checker(**options)`'s arguments with nothing left for a worker's own machine to decide.

    The rule packs named in `rule_dirs` are loaded here and shipped as a RuleSet; a settings file named
    by `config_path` (or the user's, with `use_user_config`) is read here and becomes `disable`/`allow`;
    "the default model" becomes the one this machine would pick. A broken pack, settings file or
    unknown rule id fails here, before the cluster is contacted. Like the Checker itself, this reads no
    environment variable: the CLI resolves POSTCHECK_RULES and POSTCHECK_MODEL into `options`.
    """
    options = dict(options)
    dirs = [Path(d) for d in options.pop("rule_dirs", ())]
    ruleset = options.pop("ruleset", None) or load_rules(dirs)
    options["disable"], options["allow"] = with_settings_file(
        ruleset, options.get("disable", ()), options.get("allow", ()),
        options.pop("config_path", None), options.pop("use_user_config", False))
    ruleset.without(options.get("disable", ()))  # an unknown rule id fails here, not on every worker
    # A model named here must be installed on the workers; "the default" means this machine's default,
    # so a worker with another model installed cannot quietly use it.
    options["model"] = resolve_model_name(options.get("model"))
    return options | {"ruleset": ruleset}


class CheckerPlugin(WorkerPlugin):
    """Loads one Checker on a worker when the plugin is registered or the worker joins; never per task."""

    def __init__(self, checker_options: dict[str, Any], version: str | None):
        self.checker_options = checker_options
        self.version = version
        self.checker: Checker | None = None
        self.error: PostcheckError | None = None

    async def setup(self, worker) -> None:
        # Loading takes seconds; in a thread, the worker keeps answering the scheduler meanwhile.
        await asyncio.get_running_loop().run_in_executor(None, self._load)
        if self.error is not None:
            raise self.error  # reported to the client that registered the plugin

    def teardown(self, worker) -> None:
        self.checker = None

    def _load(self) -> None:
        try:
            if _postcheck_version() != self.version:
                raise ClusterError(
                    f"a worker runs postcheck {_postcheck_version()}, this machine {self.version}; "
                    "install the same version on every worker"
                )
            self.checker = Checker(**self.checker_options)
        except PostcheckError as error:
            self.error = error
        except Exception as error:  # no draft has reached the worker yet, so the message is safe
            self.error = ClusterError(f"a worker could not load the Checker ({type(error).__name__}: {error})")


# -- what runs on the workers: nothing here raises (see the module docstring) ------------------------
def _worker_checker(name: str) -> Checker | PostcheckError:
    try:
        plugin = get_worker().plugins.get(name)
    except ValueError:  # computed by a scheduler other than the cluster's (no `client.compute`)
        return ClusterError("not on a worker of the cluster: compute with its client")
    if plugin is None:
        return ClusterError("no postcheck Checker is loaded on this worker: compute inside `with DaskChecker(...)`")
    return plugin.checker or plugin.error or ClusterError("the Checker on this worker did not load")


def _check_chunk(name: str, chunk: list[tuple[K, str]]) -> list[tuple[K, Report | InputError]] | PostcheckError:
    checker = _worker_checker(name)
    if isinstance(checker, PostcheckError):
        return checker
    return _outcomes(checker, chunk)


def _check_records(records: Iterable[Any], name: str, number: Iterable[int]) -> list[str]:
    """One partition's lines. A list, not a generator: Dask cannot send a generator between tasks, and a
    result it cannot send leaves the computation waiting forever."""
    (partition,) = number
    pairs = list(_record_pairs(records, partition))
    checker = _worker_checker(name)
    if isinstance(checker, PostcheckError):
        return [jsonl.error_line(key, f"not checked: {checker}") for (key, _), _ in pairs]
    return [
        jsonl.error_line(key, problem or str(outcome)) if problem or isinstance(outcome, InputError)
        else jsonl.report_line(key, outcome)
        for (key, problem), outcome in _outcomes(checker, pairs)
    ]


def _record_pairs(records: Iterable[Any], partition: int) -> Iterator[tuple[tuple[str, str | None], str]]:
    """((id, problem), text) for each record, as the CLI reads JSONL lines; problems name places, not content."""
    for index, record in enumerate(records):
        place = f"{partition}:{index}"
        try:
            yield (str(record.get("id", place)), None), record["text"]
        except (KeyError, TypeError, AttributeError):
            yield (place, f"record {place} is not a mapping with a 'text' field"), ""


def _outcomes(checker: Checker, pairs: list[tuple[K, str]]) -> list[tuple[K, Report | InputError]]:
    try:
        return list(checker.check_stream(pairs))
    except Exception:
        # A bug met by one draft must not sink its chunk: check them one by one, so only it fails.
        return [(key, _check_alone(checker, text)) for key, text in pairs]


def _check_alone(checker: Checker, text: str) -> Report | InputError:
    try:
        return checker.check(text)
    except InputError as error:
        return error
    except Exception as error:
        return InputError(f"draft could not be checked (internal error: {type(error).__name__})")


# -- client side --------------------------------------------------------------------------------------
def _connect(cluster: str | Client) -> Client:
    if isinstance(cluster, Client):
        return cluster
    try:
        # A malformed address is refused before a Client exists: a Client that fails to start that way
        # leaves a half-built object whose clean-up stalls for a minute, then prints a traceback.
        scheme, _ = parse_address(cluster)
        backend = get_backend(scheme)
        if scheme in ("tcp", "tls"):
            backend.get_address_host_port(cluster)
    except (ValueError, TypeError) as error:
        raise ConfigError(f"{cluster!r} is not a Dask scheduler address ({error})") from None
    _ask_scheduler(cluster)
    try:
        return Client(cluster, set_as_default=False)
    except Exception as error:
        raise ClusterError(f"cannot reach the Dask scheduler at {cluster} ({_first_line(error)})") from None


def _ask_scheduler(address: str) -> None:
    """Ask whoever listens at `address` what it is, before a Client is built: a Client that cannot start
    (nothing there, or another service that answers garbage) stalls on its own clean-up, then prints a
    traceback. In a thread of its own, so it works under a running event loop (Jupyter) too."""
    timeout = dask.config.get("distributed.comm.timeouts.connect")

    async def identity() -> dict:
        scheduler = rpc(address, timeout=timeout, connection_args=Security().get_connection_args("client"))
        try:
            return await scheduler.identity()
        finally:
            await scheduler.close_rpc()

    with ThreadPoolExecutor(1) as thread:
        try:
            reply = thread.submit(asyncio.run, identity()).result()
        except OSError as error:  # refused, timed out, unknown host, TLS refused
            raise ClusterError(f"cannot reach the Dask scheduler at {address} ({_first_line(error)})") from None
        except Exception as error:
            reply = type(error).__name__
    if not isinstance(reply, dict) or reply.get("type") != "Scheduler":
        raise ClusterError(f"{address} answers, but not as a Dask scheduler")


def _wait_for_workers(client: Client) -> None:
    """A cluster still starting its workers gets Dask's connect timeout to bring up the first one."""
    try:
        client.wait_for_workers(1, timeout=dask.config.get("distributed.comm.timeouts.connect"))
    except Exception as error:
        raise ClusterError(f"the Dask scheduler at {client.scheduler.address} has no workers ({type(error).__name__})") from None


def _result(future: Future, what: str) -> Any:
    try:
        return future.result()
    except KilledWorker:
        raise ClusterError(f"{what}: every worker that ran it died (out of memory?); the scan stopped") from None
    except Exception as error:
        # The tasks never raise, so this is the cluster: a lost connection, a cancelled scan, or the
        # user's own Bag failing upstream. Only the type is shown; a message could quote a draft.
        raise ClusterError(f"{what}: the cluster failed ({type(error).__name__}); the scan stopped") from None


def _postcheck_version() -> str | None:
    try:
        return metadata.version("postcheck")
    except metadata.PackageNotFoundError:
        return None


def _first_line(error: Exception) -> str:
    text = str(error).strip().splitlines()
    return f"{type(error).__name__}: {text[0]}" if text else type(error).__name__
