"""`scan --dask` and `checker.dask`: on a real two-worker LocalCluster, the same bytes as `scan --jobs 1`,
in input order, one Checker per worker, and no draft anywhere but the cluster.

Dask is in the `test` extra, so these run in CI; without it the cluster tests skip and the rest still run.
"""

from __future__ import annotations

import importlib.metadata
import json
import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest
from packaging.requirements import Requirement

import checker as checker_package
from checker import jsonl
from checker.cli import main
from checker.errors import ClusterError, InputError, ModelError
from test_parallel import NAMES, comparable, generated_items, write_archive

DRAFT_WORDS = NAMES + ("welder", "555-201-7788")


# -- in each worker process: count every Checker built there, whoever builds it -------------------------
def _count_checker_loads() -> None:
    from checker.pipeline import Checker

    if getattr(Checker, "_loads_counted", False):
        return
    build = Checker.__init__

    def counting(self, *args, **kwargs):
        Checker.loads += 1
        build(self, *args, **kwargs)

    Checker.loads, Checker._loads_counted, Checker.__init__ = 0, True, counting


def _checker_loads() -> int:
    from checker.pipeline import Checker

    return Checker.loads


def _plugins(dask_worker) -> list[str]:
    return sorted(name for name in dask_worker.plugins if name.startswith("postcheck-"))


@pytest.fixture(scope="module")
def on_dask():
    return pytest.importorskip("checker.dask", exc_type=ImportError)


@pytest.fixture(scope="module")
def client(on_dask):
    import cloudpickle
    from distributed import Client, LocalCluster

    cloudpickle.register_pickle_by_value(sys.modules[__name__])  # the workers need not import this file
    cluster = LocalCluster(n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1",
                           dashboard_address="127.0.0.1:0", silence_logs=False)
    with cluster, Client(cluster, set_as_default=False) as client:
        client.run(_count_checker_loads)
        yield client


@pytest.fixture
def loads(client):
    """Checkers built on each worker during the test."""
    before = client.run(_checker_loads)
    return lambda: {worker: count - before.get(worker, 0) for worker, count in client.run(_checker_loads).items()}


def test_check_stream_matches_one_checker_in_order_with_one_load_per_worker(on_dask, client, checker, loads):
    items = list(generated_items(90))
    expected = comparable(checker.check_stream(items))
    with on_dask.DaskChecker(client) as remote:
        got = comparable(remote.check_stream(iter(items), chunk_size=8))  # 12 chunks over 2 workers
    assert got == expected
    assert ("id-3", "draft is empty") in got
    assert list(loads().values()) == [1, 1]
    assert client.run(_plugins) == {worker: [] for worker in client.run(_plugins)}  # unloaded on leaving


def records_and_expected_lines(checker, count: int = 60):
    """{id, text} records (a few unreadable) and the lines `scan --jobs 1` would print for them."""
    records = [{"id": key, "text": text} for key, text in generated_items(count)]
    records[10], records[11] = {"id": "no-text"}, "not a mapping"
    expected = []
    for index, record in enumerate(records):
        if not isinstance(record, dict) or "text" not in record:
            place = f"{index // 15}:{index % 15}"  # 4 partitions of 15
            expected.append(jsonl.error_line(place, f"record {place} is not a mapping with a 'text' field"))
            continue
        outcome = next(checker.check_stream([(record["id"], record["text"])]))[1]
        expected.append(jsonl.error_line(record["id"], str(outcome)) if isinstance(outcome, InputError)
                        else jsonl.report_line(record["id"], outcome))
    return records, expected


def test_a_bag_becomes_the_cli_jsonl_lines_in_order(on_dask, client, checker, loads, tmp_path):
    import dask.bag

    records, expected = records_and_expected_lines(checker)
    bag = dask.bag.from_sequence(records, npartitions=4)
    with on_dask.DaskChecker(client) as remote:
        assert client.compute(remote.check_bag(bag)).result() == expected
        assert list(remote.lines(bag)) == expected
        client.compute(remote.check_bag(bag).to_textfiles(str(tmp_path / "*.jsonl"), compute=False), sync=True)
    files = sorted(tmp_path.glob("*.jsonl"))  # 0.jsonl .. 3.jsonl, one a partition
    assert [line for path in files for line in path.read_text(encoding="utf-8").splitlines()] == expected
    assert list(loads().values()) == [1, 1]


def test_a_dataframe_of_id_and_text_is_checked_like_a_bag(on_dask, client, checker):
    pandas = pytest.importorskip("pandas")
    import dask.dataframe

    rows = [{"id": key, "text": text} for key, text in generated_items(30)]
    frame = dask.dataframe.from_pandas(pandas.DataFrame(rows), npartitions=3)
    expected = [
        jsonl.error_line(key, str(outcome)) if isinstance(outcome, InputError) else jsonl.report_line(key, outcome)
        for key, outcome in checker.check_stream((row["id"], row["text"]) for row in rows)
    ]
    with on_dask.DaskChecker(client) as remote:
        assert list(remote.lines(frame)) == expected


def test_the_client_reads_input_only_as_fast_as_the_cluster_checks_it(on_dask, client):
    pulled = 0

    def counting(items):
        nonlocal pulled
        for item in items:
            pulled += 1
            yield item

    chunk_size, total = 4, 400
    with on_dask.DaskChecker(client) as remote:
        stream = remote.check_stream(counting(generated_items(total)), chunk_size=chunk_size)
        first_key, _ = next(stream)
        assert first_key == "id-0"
        threads = sum(client.nthreads().values())
        assert pulled <= (threads * on_dask.CHUNKS_PER_THREAD + 1) * chunk_size < total
        stream.close()


def test_a_model_missing_on_the_workers_is_its_error_once_and_leaves_nothing(on_dask, client):
    with pytest.raises(ModelError, match="not installed"):
        with on_dask.DaskChecker(client, model="no_such_spacy_model_xyz"):
            pass
    assert all(names == [] for names in client.run(_plugins).values())


def test_a_scheduler_without_workers_is_a_cluster_error(on_dask):
    import dask.config
    from distributed import Client, LocalCluster

    with dask.config.set({"distributed.comm.timeouts.connect": "1s"}):
        with LocalCluster(n_workers=0, processes=False, dashboard_address="127.0.0.1:0") as empty:
            with Client(empty, set_as_default=False) as client:
                with pytest.raises(ClusterError, match="has no workers"):
                    with on_dask.DaskChecker(client):
                        pass


def test_a_draft_that_breaks_the_checker_fails_alone_and_nothing_raises_on_the_worker(on_dask):
    class Breaks:  # stands in for a Checker with a bug that one draft triggers
        def check_stream(self, pairs):
            raise RuntimeError("batch failed")

        def check(self, text):
            if text == "trigger":
                raise RuntimeError("Mrs. Rosalind Quist")  # a message may quote the draft: never shown
            if not text.strip():
                raise InputError("draft is empty")
            return "report"

    outcomes = on_dask._outcomes(Breaks(), [("a", "fine"), ("b", "trigger"), ("c", " ")])
    assert outcomes[0] == ("a", "report")
    assert str(outcomes[1][1]) == "draft could not be checked (internal error: RuntimeError)"
    assert str(outcomes[2][1]) == "draft is empty"


# -- the CLI ------------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def archive(tmp_path_factory) -> Path:
    """200 generated drafts as JSONL (four chunks of up to 64), with an unreadable line at line 8."""
    return write_archive(tmp_path_factory.mktemp("dask"), 200)


def scan(*args: str, **env: str) -> subprocess.CompletedProcess:
    command = [sys.executable, "-m", "checker.cli", "scan", *args]
    return subprocess.run(command, capture_output=True, timeout=300, env=os.environ | env)


def test_cli_scan_on_dask_prints_what_one_job_prints_with_one_load_per_worker(client, archive, loads):
    one_job = scan(str(archive), "--format", "jsonl", "--jobs", "1")
    on_dask = scan(str(archive), "--format", "jsonl", "--dask", client.scheduler.address)
    assert on_dask.returncode == one_job.returncode == 2  # the bad line is reported and makes the scan exit 2
    assert on_dask.stdout == one_job.stdout
    rows = [json.loads(line) for line in on_dask.stdout.splitlines()]
    assert len(rows) == 201 and rows[7] == {"id": 8, "error": "line 8 is not a JSON object with a 'text' field"}
    assert on_dask.stderr.splitlines()[-1] == one_job.stderr.splitlines()[-1]  # "201 drafts: N flagged, 1 could not..."
    assert list(loads().values()) == [1, 1]  # four chunks, two workers, two loads
    logs = str(client.get_scheduler_logs()) + str(client.get_worker_logs())
    assert not any(word in logs or word.encode() in on_dask.stderr for word in DRAFT_WORDS)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_cli_scan_with_no_scheduler_there_exits_4_in_one_line(on_dask, archive):
    result = scan(str(archive), "--dask", f"tcp://127.0.0.1:{free_port()}", DASK_DISTRIBUTED__COMM__TIMEOUTS__CONNECT="2s")
    assert result.returncode == 4
    assert result.stdout == b""
    err = result.stderr.decode()
    assert err.startswith("postcheck: error: cannot reach the Dask scheduler at tcp://127.0.0.1:")
    assert len(err.strip().splitlines()) == 1


@pytest.mark.parametrize("address", ["localhost", "nonsense://host:8786", "tcp://host:port"])
def test_cli_scan_refuses_a_malformed_address_in_one_line(on_dask, archive, capsys, address):
    with pytest.raises(SystemExit) as exit_info:
        main(["scan", str(archive), "--dask", address])
    err = capsys.readouterr().err
    assert exit_info.value.code == 2
    assert err.startswith(f"postcheck: error: {address!r} is not a Dask scheduler address") and len(err.splitlines()) == 1


def test_cli_scan_refuses_jobs_with_dask(tmp_path, capsys):
    drafts = tmp_path / "drafts.txt"
    drafts.write_text("Mr. Zebulon Quartermaine in bed 14 was discharged this morning.\n", encoding="utf-8")
    with pytest.raises(SystemExit) as exit_info:
        main(["scan", str(drafts), "--dask", "tcp://127.0.0.1:8786", "--jobs", "2"])
    out, err = capsys.readouterr()
    assert exit_info.value.code == 2
    assert "--jobs and --dask cannot be combined" in err and len(err.strip().splitlines()) == 1
    assert "Zebulon" not in err + out


def test_cli_scan_without_the_dask_extra_says_how_to_install_it(tmp_path, capsys, monkeypatch):
    monkeypatch.setitem(sys.modules, "distributed", None)  # as if it were not installed
    monkeypatch.delitem(sys.modules, "checker.dask", raising=False)
    monkeypatch.delattr(checker_package, "dask", raising=False)
    drafts = tmp_path / "drafts.txt"
    drafts.write_text("Grateful for a quiet call night.\n", encoding="utf-8")
    with pytest.raises(SystemExit) as exit_info:
        main(["scan", str(drafts), "--dask", "tcp://127.0.0.1:8786"])
    err = capsys.readouterr().err
    assert exit_info.value.code == 2
    assert err == "postcheck: error: checker.dask needs the dask extra: pip install 'postcheck[dask]'\n"


def test_the_core_install_does_not_pull_in_dask():
    requirements = [Requirement(line) for line in importlib.metadata.requires("postcheck") or []]
    daskish = [r for r in requirements if r.name in ("dask", "distributed")]
    assert daskish, "the dask and test extras should name Dask"
    assert all(r.marker is not None and "extra" in str(r.marker) for r in daskish)
    assert {extra for r in daskish for extra in ("dask", "test") if r.marker.evaluate({"extra": extra})} == {"dask", "test"}


# Last: it replaces a worker process, which the load counters above do not follow.
def test_a_worker_lost_mid_scan_is_replaced_and_the_results_are_unchanged(on_dask, client, checker):
    import signal

    items = list(generated_items(120))
    expected = comparable(checker.check_stream(items))
    with on_dask.DaskChecker(client) as remote:
        stream = remote.check_stream(iter(items), chunk_size=4)
        got = comparable([next(stream)])
        victim = next(iter(client.run(os.getpid).values()))
        os.kill(victim, signal.SIGKILL)  # its nanny starts a new worker, which loads its own Checker
        got += comparable(stream)
    assert got == expected
    client.wait_for_workers(2, timeout=120)
