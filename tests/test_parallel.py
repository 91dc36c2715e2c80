"""`scan --jobs N|auto`: several worker processes give the same results, in the same order, streaming."""

from __future__ import annotations

import json
import random
import subprocess
import sys
from pathlib import Path

import pytest

from checker import parallel
from checker.cli import main
from checker.errors import InputError, ModelError

NAMES = ("Rosalind", "Ezekiel", "Maud", "Tobias")
SENTENCES = (
    "Journal club tonight covers anticoagulation reversal.",
    "Mr. {name} in bed 14 was discharged this morning.",
    "Grateful for a quiet call night and a great team.",
    "Her husband {name} rang the unit at 555-201-7788 twice.",
    "A {age}yo retired welder came in last night at 2am.",
)


def generated_items(count: int, seed: int = 5):
    """(id, draft) pairs written for these tests; every 17th draft is empty and must fail in place."""
    rng = random.Random(seed)
    for number in range(count):
        if number % 17 == 3:
            yield f"id-{number}", "   "
            continue
        sentences = rng.sample(SENTENCES, 2)
        yield f"id-{number}", " ".join(s.format(name=rng.choice(NAMES), age=rng.randint(20, 99)) for s in sentences)


def comparable(stream):
    return [(key, str(out) if isinstance(out, InputError) else out.to_dict()) for key, out in stream]


def test_two_jobs_match_one_job_in_order_with_errors_in_place(checker):
    items = list(generated_items(90))
    expected = comparable(checker.check_stream(items))
    got = comparable(parallel.check_stream(iter(items), jobs=2, chunk_size=8))
    assert [key for key, _ in got] == [key for key, _ in items]
    assert got == expected
    assert ("id-3", "draft is empty") in got


def test_input_is_read_as_fast_as_it_is_checked():
    pulled = 0

    def counting(items):
        nonlocal pulled
        for item in items:
            pulled += 1
            yield item

    chunk_size, jobs, total = 4, 2, 400
    stream = parallel.check_stream(counting(generated_items(total)), jobs=jobs, chunk_size=chunk_size)
    first_key, _ = next(stream)
    assert first_key == "id-0"
    in_flight = (jobs * parallel.CHUNKS_PER_WORKER + 1) * chunk_size
    assert pulled <= in_flight < total
    stream.close()


def test_a_worker_that_cannot_load_raises_its_error_once():
    with pytest.raises(ModelError, match="not installed"):
        list(parallel.check_stream(generated_items(10), jobs=2, model="no_such_spacy_model_xyz"))


def test_jobs_must_be_positive():
    with pytest.raises(ValueError):
        list(parallel.check_stream(generated_items(1), jobs=0))


@pytest.mark.parametrize("usable, expected", [(1, 1), (3, 3), (64, parallel.MAX_DEFAULT_JOBS)])
def test_default_jobs_is_one_per_usable_idle_cpu_up_to_the_cap(monkeypatch, usable, expected):
    monkeypatch.setattr(parallel.os, "sched_getaffinity", lambda pid: set(range(usable)), raising=False)
    monkeypatch.setattr(parallel.os, "cpu_count", lambda: 128)  # the machine's count, not what we may use
    assert parallel.default_jobs(load=0.0) == expected


@pytest.mark.parametrize("count, expected", [(None, 1), (4, 4), (32, parallel.MAX_DEFAULT_JOBS)])
def test_without_an_affinity_call_default_jobs_uses_the_cpu_count(monkeypatch, count, expected):
    monkeypatch.delattr(parallel.os, "sched_getaffinity", raising=False)
    monkeypatch.setattr(parallel.os, "cpu_count", lambda: count)
    assert parallel.default_jobs(load=0.0) == expected


@pytest.mark.parametrize("load, expected", [(0.0, 2), (0.4, 2), (0.7, 1), (1.0, 1), (6.0, 1)])
def test_default_jobs_leaves_busy_cores_alone(monkeypatch, load, expected):
    """With one of two cores busy, two workers are slower than one process (bench/scan_jobs.py)."""
    monkeypatch.setattr(parallel.os, "sched_getaffinity", lambda pid: {0, 1}, raising=False)
    assert parallel.default_jobs(load=load) == expected


def test_default_jobs_starts_no_workers_for_a_short_archive(monkeypatch):
    monkeypatch.setattr(parallel.os, "sched_getaffinity", lambda pid: set(range(4)), raising=False)
    per_worker = parallel.MIN_DRAFTS_PER_WORKER
    assert parallel.default_jobs(drafts=per_worker - 1, load=0.0) == 1
    assert parallel.default_jobs(drafts=2 * per_worker, load=0.0) == 2
    assert parallel.default_jobs(drafts=100 * per_worker, load=0.0) == 4
    assert parallel.default_jobs(drafts=None, load=0.0) == 4  # stdin: size unknown


def write_archive(directory: Path, count: int) -> Path:
    """`count` generated drafts as JSONL, with an unreadable line at line 8 (test_dask uses it too)."""
    lines = [json.dumps({"id": key, "text": text}) for key, text in generated_items(count)]
    lines.insert(7, "{not json")
    path = directory / "archive.jsonl"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def archive(tmp_path_factory) -> Path:
    """Forty generated drafts as JSONL, with an unreadable line at line 8."""
    return write_archive(tmp_path_factory.mktemp("scan"), 40)


def scan(archive: Path, jobs: str) -> subprocess.CompletedProcess:
    command = [sys.executable, "-m", "checker.cli", "scan", str(archive), "--format", "jsonl", "--jobs", jobs]
    return subprocess.run(command, capture_output=True, timeout=300)


@pytest.fixture(scope="module")
def one_job(archive) -> subprocess.CompletedProcess:
    return scan(archive, "1")


def test_cli_scan_with_two_jobs_prints_what_one_job_prints(archive, one_job):
    two = scan(archive, "2")
    assert one_job.returncode == two.returncode == 2  # bad lines are reported and make the scan exit 2
    assert two.stdout == one_job.stdout
    rows = [json.loads(line) for line in two.stdout.splitlines()]
    assert len(rows) == 41
    assert rows[7] == {"id": 8, "error": "line 8 is not a JSON object with a 'text' field"}
    assert b"Traceback" not in two.stderr


def test_cli_scan_with_jobs_auto_prints_what_one_job_prints(archive, one_job):
    # On a one-core machine auto is 1 and this checks only that auto is accepted; the two-jobs test
    # above covers the workers either way.
    auto = scan(archive, "auto")
    assert auto.returncode == one_job.returncode == 2
    assert auto.stdout == one_job.stdout
    assert b"Traceback" not in auto.stderr


@pytest.mark.parametrize("value", ["0", "-2", "lots", "2.5", ""])
def test_cli_scan_refuses_a_bad_jobs_value_in_one_line(tmp_path, capsys, value):
    draft = "Mr. Zebulon Quartermaine in bed 14 was discharged this morning."
    drafts = tmp_path / "drafts.txt"
    drafts.write_text(draft + "\n", encoding="utf-8")
    with pytest.raises(SystemExit) as exit_info:
        main(["scan", str(drafts), "--jobs", value])
    out, err = capsys.readouterr()
    assert exit_info.value.code == 2
    assert "'--jobs'" in err and len(err.strip().splitlines()) == 1
    assert "Traceback" not in err and "Zebulon" not in err and "Zebulon" not in out
