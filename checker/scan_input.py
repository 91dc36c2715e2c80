"""What `scan` reads: JSON Lines, a JSON array, or plain text with a draft a line.

Each draft comes with its key: the input's own `id`, echoed with its JSON type (7 stays 7, "a1" stays
"a1"), or its line number (its position in a JSON array) when it has none. A draft that cannot be read
carries a problem instead, named by line or item number, never by content, and keeps its place.

JSON Lines and plain text are streamed, so memory stays flat however long the archive. A JSON array is
read whole (up to `MAX_ARRAY_BYTES`): it cannot be streamed with the standard library, and an export of
a few thousand posts is small. The format is decided by the first non-empty line (`{` JSON Lines, `[`
a JSON array, anything else plain text) unless `--input` says; a file that starts with `[` but is not
a JSON array is refused in one line, never checked as text.
"""

from __future__ import annotations

import json
import os
import sys
from dataclasses import dataclass
from typing import Any, BinaryIO, Iterator

from checker.errors import InputError

INPUT_FORMATS = ("auto", "jsonl", "json", "text")
MAX_ARRAY_BYTES = 256 * 1024 * 1024
Key = Any  # a JSON value: the input's id, or a line or item number


@dataclass
class ScanInput:
    """The drafts of one input, as ((key, problem), text), and how many there are when that is known."""

    items: Iterator[tuple[tuple[Key, str | None], str]]
    total: int | None


def open_input(path: str, input_format: str = "auto") -> ScanInput:
    """Open a file or stdin ('-') for `scan`; InputError (one line) for what cannot be read at all."""
    name = "stdin" if path == "-" else path
    lines = _raw_lines(path)
    first, lines = _peek(lines)
    chosen = input_format
    if chosen == "auto":
        stripped = first.lstrip(b"\xef\xbb\xbf \t\r\n") if first is not None else b""
        chosen = "jsonl" if stripped.startswith(b"{") else "json" if stripped.startswith(b"[") else "text"
    if chosen == "json":
        drafts = _read_array(lines, name)
        return ScanInput(_array_items(drafts), len(drafts))
    total = _count_drafts(path) if path != "-" else None
    return ScanInput(_line_items(lines, jsonl=chosen == "jsonl"), total)


def _raw_lines(path: str) -> Iterator[bytes]:
    if path == "-":
        return iter(sys.stdin.buffer)
    return _lines_of(open_file(path, "a list of drafts"))


def _lines_of(handle: BinaryIO) -> Iterator[bytes]:
    with handle:
        yield from handle


def open_file(path: str, expected: str) -> BinaryIO:
    """`open(path, "rb")`, its failures as one-line InputErrors naming the path; `expected` is what a
    directory is not ("a draft", "a list of drafts"). The CLI's check and scan both open files here."""
    try:
        return open(path, "rb")
    except FileNotFoundError:
        raise InputError(f"{path}: no such file") from None
    except IsADirectoryError:
        raise InputError(f"{path}: is a directory, not {expected}") from None
    except OSError as error:
        raise InputError(f"{path}: cannot read ({error.strerror})") from None


def _peek(lines: Iterator[bytes]) -> tuple[bytes | None, Iterator[bytes]]:
    """The first non-blank line, and an iterator that still yields every line."""
    seen: list[bytes] = []
    for line in lines:
        seen.append(line)
        if line.strip():
            break

    def chained() -> Iterator[bytes]:
        yield from seen
        yield from lines

    first = next((line for line in seen if line.strip()), None)
    return first, chained()


def _line_items(lines: Iterator[bytes], jsonl: bool) -> Iterator[tuple[tuple[Key, str | None], str]]:
    for number, raw in enumerate(lines, 1):
        try:
            line = raw.decode("utf-8-sig" if number == 1 else "utf-8").rstrip("\r\n")
        except UnicodeDecodeError:
            yield (number, f"line {number} is not valid UTF-8"), ""
            continue
        if not line.strip():
            continue
        if not jsonl:
            yield (number, None), line
            continue
        try:
            row = json.loads(line)
        except (ValueError, RecursionError):  # RecursionError: a line nested 100,000 deep
            row = None
        if isinstance(row, dict) and isinstance(row.get("text"), str):
            yield (row["id"] if "id" in row else number, None), row["text"]
        else:
            yield (number, f"line {number} is not a JSON object with a 'text' field"), ""


def _read_array(lines: Iterator[bytes], name: str) -> list[Any]:
    chunks, size = [], 0
    for line in lines:
        size += len(line)
        if size > MAX_ARRAY_BYTES:
            raise InputError(f"{name}: a JSON array over {MAX_ARRAY_BYTES // 2**20} MB; "
                             "write one {\"id\", \"text\"} object a line (JSON Lines) instead")
        chunks.append(line)
    try:
        data = json.loads(b"".join(chunks).decode("utf-8-sig"))
    except UnicodeDecodeError as error:
        raise InputError(f"{name}: not valid UTF-8 (bad byte at offset {error.start})") from None
    except json.JSONDecodeError as error:
        raise InputError(f"{name}: starts with '[' but is not a JSON array of drafts (line {error.lineno}, "
                         f"column {error.colno}); scan reads JSON Lines, a JSON array, or plain text "
                         "(--input text)") from None
    except RecursionError:
        raise InputError(f"{name}: a JSON array nested too deeply to read") from None
    if not isinstance(data, list):
        raise InputError(f"{name}: not a JSON array of drafts")
    return data


def _array_items(drafts: list[Any]) -> Iterator[tuple[tuple[Key, str | None], str]]:
    for number, item in enumerate(drafts, 1):
        if isinstance(item, str):
            yield (number, None), item
        elif isinstance(item, dict) and isinstance(item.get("text"), str):
            yield (item["id"] if "id" in item else number, None), item["text"]
        else:
            yield (number, f"item {number} is not a draft (a string, or an object with a 'text' field)"), ""


def _count_drafts(path: str) -> int | None:
    """Non-blank lines of a regular file (for the progress line and the default number of workers)."""
    if not os.path.isfile(path):
        return None
    with open(path, "rb") as handle:
        return sum(1 for line in handle if line.strip())
