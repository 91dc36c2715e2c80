"""The training corpus: writers' labelled sources in, offset-exact JSONL and its figures out.

    python -m training.corpus check [DIR ...]   # read sources, report label errors by file and entry id
    python -m training.corpus build             # write corpus/train.jsonl, corpus/validation.jsonl, corpus/STATS.md

Sources live in `corpus/sources/<writer>/<batch>.yaml`: a YAML list of entries, each one draft written
whole by one writer, with its labels inline (training/markup.py). The split is by writer, fixed in
`corpus/split.yaml`, so validation measures transfer to writers the models never saw. The built files
are derived data: a test rebuilds them and compares, so they can never drift from the sources.
"""

from __future__ import annotations

import argparse
import collections
import json
import re
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterable, Iterator

import yaml

from training.markup import NAMING_TYPES, MarkupError, parse

ROOT = Path(__file__).resolve().parents[1]
CORPUS = ROOT / "corpus"
SOURCES = CORPUS / "sources"
PLATFORMS = ("twitter", "linkedin", "facebook", "instagram", "snapchat", "reddit", "blog", "other")
REGISTERS = (
    "x", "linkedin", "facebook", "instagram", "reddit", "blog", "tribute", "case", "reply", "satire", "letter",
)
AUTHORS = ("resident", "attending", "fellow", "nurse", "pharmacist", "student", "paramedic", "np-pa")
NEGATIVE_KINDS = (
    "thanks", "eponym", "conference", "author-life", "author-family", "pattern", "teaching-case",
    "statistics", "grief", "tiredness", "policy-critique", "other",
)
_ENTRY_KEYS = {"id", "platform", "register", "author", "specialty", "text", "note", "negative"}
_REQUIRED = ("id", "platform", "register", "author", "specialty", "text", "note")
_ID = re.compile(r"^[a-z0-9]+-[a-z0-9-]+$")
_WORD = re.compile(r"[\w']+")


class SourceError(ValueError):
    """A source entry that cannot be built; the message names the file and the entry id."""


@dataclass(frozen=True)
class Draft:
    """One built draft: the eval format (id, text, platform, categories, spans, note) plus passages and
    where it came from."""

    record: dict[str, Any]

    @property
    def id(self) -> str:
        return self.record["id"]

    @property
    def text(self) -> str:
        return self.record["text"]


def read_sources(directories: Iterable[Path] | None = None) -> list[Draft]:
    """Every entry under the given writer directories (default: all of corpus/sources), built."""
    directories = sorted(SOURCES.iterdir()) if directories is None else list(directories)
    drafts: list[Draft] = []
    for directory in directories:
        if not directory.is_dir():
            continue
        for path in sorted(directory.glob("*.yaml")):
            drafts.extend(_read_batch(path, writer=directory.name))
    return drafts


def _read_batch(path: Path, writer: str) -> Iterator[Draft]:
    try:
        entries = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        raise SourceError(f"{path}: not valid YAML{f' at line {mark.line + 1}' if mark else ''}") from None
    if not isinstance(entries, list):
        raise SourceError(f"{path}: must be a YAML list of entries")
    for entry in entries:
        yield _build(entry, path, writer)


def _build(entry: Any, path: Path, writer: str) -> Draft:
    if not isinstance(entry, dict):
        raise SourceError(f"{path}: every entry must be a mapping")
    where = f"{path}: entry '{entry.get('id')}'"
    unknown = set(entry) - _ENTRY_KEYS
    if unknown:
        raise SourceError(f"{where}: unknown field '{sorted(unknown)[0]}'")
    for key in _REQUIRED:
        if not isinstance(entry.get(key), str) or not entry[key].strip():
            raise SourceError(f"{where}: field '{key}' must be non-empty text")
    if not _ID.match(entry["id"]) or not entry["id"].startswith(writer + "-"):
        raise SourceError(f"{where}: id must be '{writer}-' then lower-case letters, digits and '-'")
    for key, allowed in (("platform", PLATFORMS), ("register", REGISTERS), ("author", AUTHORS)):
        if entry[key] not in allowed:
            raise SourceError(f"{where}: field '{key}' must be one of {', '.join(allowed)}")
    try:
        parsed = parse(entry["text"].strip())
    except MarkupError as error:
        raise SourceError(f"{where}: {error}") from None
    categories = sorted({span.category for span in parsed.spans})
    negative = entry.get("negative")
    if negative is not None and (categories or negative not in NEGATIVE_KINDS):
        raise SourceError(f"{where}: 'negative' is only for clean drafts, one of {', '.join(NEGATIVE_KINDS)}")
    problem = _inconsistent(parsed)
    if problem:
        raise SourceError(f"{where}: {problem}")
    record = {
        "id": entry["id"],
        "text": parsed.text,
        "platform": entry["platform"],
        "categories": categories,
        "spans": [span.to_dict() for span in parsed.spans],
        "passages": [passage.to_dict() for passage in parsed.passages],
        "note": entry["note"].strip(),
        "register": entry["register"],
        "author": entry["author"],
        "specialty": entry["specialty"].strip().lower(),
        "writer": writer,
        "batch": f"{writer}/{path.stem}",
    }
    if negative:
        record["negative"] = negative
    return Draft(record)


def _inconsistent(parsed) -> str | None:
    """The guide's rules tying spans to passages; a writer who breaks one has usually mislabelled."""
    def inside(span, label):
        return any(p.label == label and p.start <= span.start and span.end <= p.end for p in parsed.passages)

    for span in parsed.spans:
        if span.category == "timeline" and not inside(span, "encounter"):
            return f"timeline span '{span.text}' is not inside an encounter passage"
        if span.category == "venting" and not inside(span, "venting"):
            return f"venting span '{span.text}' is not inside a venting passage"
    if any(s.category == "identifier" for s in parsed.spans) and not any(p.label == "encounter" for p in parsed.passages):
        return "a draft with identifier spans needs an encounter passage"
    for passage in parsed.passages:
        if passage.label == "venting" and not any(
                s.category == "venting" and passage.start <= s.start and s.end <= passage.end for s in parsed.spans):
            return "a venting passage needs a venting span inside it"
    return None


def validation_writers() -> frozenset[str]:
    split = yaml.safe_load((CORPUS / "split.yaml").read_text(encoding="utf-8"))
    return frozenset(split["validation"])


def split(drafts: Iterable[Draft]) -> tuple[list[Draft], list[Draft]]:
    held_out = validation_writers()
    train, validation = [], []
    for draft in drafts:
        (validation if draft.record["writer"] in held_out else train).append(draft)
    return train, validation


# -- figures and checks (the test suite asserts these) ---------------------------------------------
def words(text: str) -> list[str]:
    return _WORD.findall(text.lower())


def shingles(text: str, n: int = 8) -> set[tuple[str, ...]]:
    tokens = words(text)
    return {tuple(tokens[i:i + n]) for i in range(len(tokens) - n + 1)}


def near_duplicates(drafts: list[Draft], threshold: float = 0.5, n: int = 8) -> list[tuple[str, str, float]]:
    """Pairs whose word n-gram sets have Jaccard similarity >= threshold (an inverted index keeps it linear-ish)."""
    sets = [shingles(d.text, n) for d in drafts]
    index: dict[tuple[str, ...], list[int]] = collections.defaultdict(list)
    for i, grams in enumerate(sets):
        for gram in grams:
            index[gram].append(i)
    shared: collections.Counter[tuple[int, int]] = collections.Counter()
    for holders in index.values():
        if len(holders) > 50:  # a stock phrase shared by many drafts is no evidence of one copy
            continue
        for a_pos, a in enumerate(holders):
            for b in holders[a_pos + 1:]:
                shared[(a, b)] += 1
    pairs = []
    for (a, b), common in shared.items():
        jaccard = common / (len(sets[a]) + len(sets[b]) - common)
        if jaccard >= threshold:
            pairs.append((drafts[a].id, drafts[b].id, round(jaccard, 3)))
    return sorted(pairs)


def figures(drafts: list[Draft]) -> dict[str, Any]:
    """The counts the corpus issue sets minimums for."""
    records = [d.record for d in drafts]
    by_category = collections.Counter(c for r in records for c in r["categories"])
    identifier = [r for r in records if "identifier" in r["categories"]]
    nameless = [r for r in identifier if not any(s["type"] in NAMING_TYPES for s in r["spans"] if s["category"] == "identifier")]
    return {
        "drafts": len(records),
        "clean": sum(not r["categories"] for r in records),
        "identifier": by_category["identifier"],
        "identifier_nameless": len(nameless),
        "timeline": by_category["timeline"],
        "venting": by_category["venting"],
        "registers": dict(sorted(collections.Counter(r["register"] for r in records).items())),
        "authors": dict(sorted(collections.Counter(r["author"] for r in records).items())),
        "specialties": len({r["specialty"] for r in records}),
        "negatives": dict(sorted(collections.Counter(r.get("negative", "-") for r in records if not r["categories"]).items())),
        "span_types": dict(sorted(collections.Counter(f"{s['category']}:{s['type']}" for r in records for s in r["spans"]).items())),
        "passages": dict(sorted(collections.Counter(
            p["label"] + (":" + p["target"] if "target" in p else "") for r in records for p in r["passages"]).items())),
        "writers": dict(sorted(collections.Counter(r["writer"] for r in records).items())),
    }


def _stats_markdown(all_figures: dict[str, Any], train: dict[str, Any], validation: dict[str, Any]) -> str:
    lines = ["# Corpus figures", "", "Written by `python -m training.corpus build`; do not edit by hand.", ""]
    lines += ["| figure | all | train | validation |", "|---|---|---|---|"]
    for key in ("drafts", "clean", "identifier", "identifier_nameless", "timeline", "venting", "specialties"):
        lines.append(f"| {key} | {all_figures[key]} | {train[key]} | {validation[key]} |")
    for section in ("registers", "authors", "writers", "negatives", "passages", "span_types"):
        lines += ["", f"## {section}", "", "| value | all | train | validation |", "|---|---|---|---|"]
        for key, count in all_figures[section].items():
            lines.append(f"| {key} | {count} | {train[section].get(key, 0)} | {validation[section].get(key, 0)} |")
    return "\n".join(lines) + "\n"


def _jsonl(drafts: list[Draft]) -> str:
    return "".join(json.dumps(d.record, ensure_ascii=False) + "\n" for d in drafts)


def built_files(drafts: list[Draft] | None = None) -> dict[Path, str]:
    """What `build` writes, as path -> content, so a test can compare it with what is committed."""
    drafts = read_sources() if drafts is None else drafts
    train, validation = split(drafts)
    return {
        CORPUS / "train.jsonl": _jsonl(train),
        CORPUS / "validation.jsonl": _jsonl(validation),
        CORPUS / "STATS.md": _stats_markdown(figures(drafts), figures(train), figures(validation)),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m training.corpus", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    check = sub.add_parser("check", help="read sources and report label errors")
    check.add_argument("dirs", nargs="*", type=Path)
    sub.add_parser("build", help="write the built corpus and its figures")
    args = parser.parse_args(argv)
    try:
        drafts = read_sources(args.dirs or None) if args.command == "check" else read_sources()
    except SourceError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    ids = collections.Counter(d.id for d in drafts)
    repeated = [i for i, n in ids.items() if n > 1]
    if repeated:
        print(f"error: id used more than once: {repeated[0]}", file=sys.stderr)
        return 2
    if args.command == "check":
        print(json.dumps(figures(drafts), indent=1))
        duplicates = near_duplicates(drafts)
        for a, b, score in duplicates:
            print(f"near-duplicate: {a} {b} ({score})")
        return 0
    for path, content in built_files(drafts).items():
        path.write_text(content, encoding="utf-8")
        print(f"wrote {path.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
