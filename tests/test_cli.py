"""The CLI contract: inputs, formats, exit codes, one-line errors that never echo the draft."""

from __future__ import annotations

import io
import json
import re
import sys
from pathlib import Path

import pytest

from checker.cli import main

SECRET = "Zebulon Quartermaine"
_BUILT: dict = {}


@pytest.fixture(autouse=True)
def one_checker_per_set_of_options(monkeypatch):
    """The CLI builds its Checker through config.build_checker; a Checker is the same for the same
    options, so each distinct set is built (for real) once for this module instead of once a command."""
    from checker import config

    real = config.build_checker

    def cached(options):
        key = repr(options)
        if key not in _BUILT:
            _BUILT[key] = real(options)
        return _BUILT[key]

    monkeypatch.setattr(config, "build_checker", cached)


def run(argv, capsys, monkeypatch, stdin: bytes | None = None):
    if stdin is not None:
        monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(stdin), encoding="utf-8"))
    with pytest.raises(SystemExit) as exit_info:
        main(argv)
    out, err = capsys.readouterr()
    return exit_info.value.code, out, err


def test_json_report_for_a_flagged_draft(capsys, monkeypatch):
    code, out, err = run(["check", "--format", "json", "--text", f"Admitted {SECRET}, 91yo, last night."], capsys, monkeypatch)
    report = json.loads(out)
    assert code == 1
    assert report["verdict"] == "block"
    assert {f["type"] for f in report["findings"]} >= {"PERSON", "AGE"}
    assert SECRET not in report["redacted"]


def test_clean_draft_exits_zero(capsys, monkeypatch):
    code, out, _ = run(["check", "--text", "Hydrate first, then bisphosphonate. #MedEd"], capsys, monkeypatch)
    assert code == 0
    assert out.rstrip().endswith("OK: nothing to fix.")


def test_fail_on_changes_the_exit_code(capsys, monkeypatch):
    draft = "Admitted a 64yo with sepsis."
    assert run(["check", "--text", draft], capsys, monkeypatch)[0] == 1
    assert run(["check", "--fail-on", "block", "--text", draft], capsys, monkeypatch)[0] == 0
    assert run(["check", "--fail-on", "never", "--text", f"Mr. {SECRET.split()[1]} is here"], capsys, monkeypatch)[0] == 0


def test_text_output_marks_spans_without_colour_when_piped(capsys, monkeypatch):
    code, out, _ = run(["check", "--text", "Admitted a 64yo with sepsis."], capsys, monkeypatch)
    assert "[[64yo]][1]" in out
    assert "\x1b[" not in out
    assert "(age-exact)" in out and "why:" not in out
    assert "Safer draft:\n  Admitted a patient in their 60s with sepsis." in out


def test_reads_stdin(capsys, monkeypatch):
    code, out, _ = run(["check", "--format", "json"], capsys, monkeypatch, stdin="Discharged a 97yo today.".encode())
    assert json.loads(out)["verdict"] == "block"


def test_reads_a_file(tmp_path, capsys, monkeypatch):
    draft = tmp_path / "draft.txt"
    draft.write_text("Kawasaki disease: fever for 5 days plus 4 of 5 criteria.", encoding="utf-8")
    assert run(["check", str(draft)], capsys, monkeypatch)[0] == 0


@pytest.mark.parametrize("argv, stdin, fragment", [
    (["check", "--text", "   "], None, "draft is empty"),
    (["check"], b"Admitted " + SECRET.encode() + b" \xff\xfe", "not valid UTF-8"),
    (["check", "--max-chars", "20", "--text", f"Admitted {SECRET} last night."], None, "limit is 20"),
    (["check", "/nonexistent/draft.txt"], None, "no such file"),
    (["check", "--disable", "no-such-rule", "--text", f"Hi {SECRET}"], None, "unknown rule"),
    (["check", "--bogus-flag"], None, "No such option"),
])
def test_bad_input_is_one_line_exit_2_without_the_draft(argv, stdin, fragment, capsys, monkeypatch):
    code, out, err = run(argv, capsys, monkeypatch, stdin=stdin)
    assert code == 2
    assert fragment in err
    assert len(err.strip().splitlines()) == 1
    assert "Traceback" not in err and SECRET not in err and SECRET not in out


def test_broken_rule_pack_is_reported_by_file_rule_and_field(tmp_path, capsys, monkeypatch):
    (tmp_path / "local.yaml").write_text(
        "rules:\n  - id: bad-rule\n    category: identifier\n    type: X\n    severity: fatal\n"
        "    message: m\n    why: w\n    instead: i\n    reference: r\n", encoding="utf-8")
    code, _, err = run(["check", "--rules", str(tmp_path), "--text", "hello"], capsys, monkeypatch)
    assert code == 2
    assert "local.yaml" in err and "bad-rule" in err and "severity" in err


def test_missing_model_exits_3_without_downloading(capsys, monkeypatch):
    import spacy.cli

    monkeypatch.setattr(spacy.cli, "download", lambda *a, **k: pytest.fail("tried to download a model"))
    code, _, err = run(["check", "--model", "xx_no_such_model", "--text", "hello"], capsys, monkeypatch)
    assert code == 3
    assert "not installed" in err and len(err.strip().splitlines()) == 1


def test_scan_jsonl_echoes_ids_in_order(tmp_path, capsys, monkeypatch):
    drafts = tmp_path / "drafts.jsonl"
    rows = [{"id": "a1", "text": "Admitted a 91yo last night."}, {"id": "b2", "text": "Sepsis: reassess after each liter."},
            {"id": "c3", "text": "   "}, {"id": "d4", "text": "Mr. Fairweather asked for tea."}]
    drafts.write_text("\n".join(json.dumps(r) for r in rows) + "\nnot json\n", encoding="utf-8")
    code, out, err = run(["scan", "--format", "jsonl", str(drafts)], capsys, monkeypatch)
    lines = [json.loads(line) for line in out.splitlines()]
    assert [line["id"] for line in lines] == ["a1", "b2", "c3", "d4", 5]  # a line without an id: its number
    assert lines[0]["verdict"] == "block" and lines[1]["verdict"] == "ok"
    assert "error" in lines[2] and "error" in lines[4]
    assert code == 2  # some lines could not be checked
    assert "5 drafts" in err


def test_scan_plain_text_one_draft_a_line(tmp_path, capsys, monkeypatch):
    drafts = tmp_path / "drafts.txt"
    drafts.write_text("Admitted a 91yo last night.\n\nSepsis: reassess after each liter.\n", encoding="utf-8")
    code, out, _ = run(["scan", str(drafts)], capsys, monkeypatch)
    assert out.splitlines()[0].startswith("1\tblock")
    assert out.splitlines()[1].startswith("3\tok")
    assert code == 1


def test_rules_lists_and_explains(capsys, monkeypatch):
    code, out, _ = run(["rules"], capsys, monkeypatch)
    assert code == 0 and "age-over-89" in out and "relative-time" in out
    code, out, _ = run(["rules", "age-over-89"], capsys, monkeypatch)
    assert code == 0
    for part in ("What it flags", "Why", "Reference: HIPAA", "Example", "Instead"):
        assert part in out
    assert run(["rules", "nope"], capsys, monkeypatch)[0] == 2


def test_eval_prints_a_table_with_the_baseline(tmp_path, capsys, monkeypatch):
    corpus = tmp_path / "corpus.jsonl"
    text = "Admitted a 91yo last night."
    corpus.write_text(json.dumps({"id": "x", "text": text, "categories": ["identifier", "timeline"], "spans": [
        {"start": 11, "end": 15, "category": "identifier", "type": "AGE"},
        {"start": 16, "end": 26, "category": "timeline", "type": "TIME_REL"}]}) + "\n" + json.dumps(
        {"id": "y", "text": "Hydrate first.", "categories": [], "spans": []}) + "\n", encoding="utf-8")
    code, out, _ = run(["eval", str(corpus), "--baseline", "presidio"], capsys, monkeypatch)
    assert code == 0
    assert "postcheck" in out and "presidio" in out
    identifier_recall = next(line for line in out.splitlines() if line.startswith("identifier  span_recall"))
    assert identifier_recall.split()[2] == "1.000"


# -- the text report ------------------------------------------------------------------------------------

SAMPLE = Path(__file__).resolve().parents[1] / "examples" / "draft.txt"


def finding_lines(out: str) -> list[str]:
    return [line for line in out.splitlines() if re.match(r"^\[\d+\] ", line)]


def test_the_sample_draft_reads_in_seconds(capsys, monkeypatch):
    code, out, _ = run(["check", str(SAMPLE)], capsys, monkeypatch)
    assert code == 1  # the sample is meant to be flagged
    draft = SAMPLE.read_text(encoding="utf-8").strip()
    lines = out.splitlines()
    # the marked draft, a blank line, a line a finding, a blank line, the verdict and the safer draft
    assert len(lines) == len(finding_lines(out)) + 6 and len(out.split()) < 8 * len(draft.split())
    assert lines[0].startswith("Wild night in the ED: [[91yo]][1]")
    assert lines[-3].startswith("BLOCK: 6 findings to fix; together the age, place, time and job")
    assert lines[-2] == "Safer draft:"
    assert lines[-1] == ("  Wild night in the ED: 90-plus patient from [a town] came in recently after a fall, "
                         "his daughter drove him in. Room [number], stable now. #MedTwitter")
    for line in finding_lines(out):
        assert re.match(r"^\[\d\] .*draft\.txt:1:\d+ +(error|warning|note) ", line), line


INTERNAL = re.compile(r"tier|quasi|identifier/|encounter-|patient-draft|lexicon|\bcandidate", re.IGNORECASE)


@pytest.mark.parametrize("draft", [
    "Another gomer tonight, and this call schedule is bullshit.",
    "Admitted a 64yo from Harlowe last night at 3am with a pulmonary embolism.",
    "Our program is a joke and admin is useless.",
    "The patient claims she took her pills, but she is noncompliant.",
])
def test_the_report_uses_no_internal_words_even_with_explain(draft, capsys, monkeypatch):
    for argv in (["check", "--text", draft], ["check", "--explain", "--text", draft]):
        _, out, _ = run(argv, capsys, monkeypatch)
        assert not INTERNAL.search(out), INTERNAL.search(out)


def test_explain_adds_why_reference_and_the_details_that_add_up(capsys, monkeypatch):
    _, out, _ = run(["check", "--explain", "--text", "Admitted a patient in her 40s from Harlowe last night."],
                    capsys, monkeypatch)
    assert "why:" in out and "HIPAA Safe Harbor" in out
    risk = out[out.index("risk:"):]
    assert 'age ("in her 40s")' in " ".join(risk.split()) and 'place ("from Harlowe")' in " ".join(risk.split())
    assert finding_lines(out) and not any('"in her 40s"' in line for line in finding_lines(out))


def test_one_detail_alone_says_nothing_about_adding_up(capsys, monkeypatch):
    _, out, _ = run(["check", "--text", "Admitted a patient from Harlowe with a hip fracture."], capsys, monkeypatch)
    assert "point at one person" not in out and "combine" not in out


def test_overlapping_findings_share_one_mark_and_every_number_is_marked(capsys, monkeypatch):
    _, out, _ = run(["check", "--text", "Mrs. Abernathy is a useless idiot and the patient in bed 4 is too."],
                    capsys, monkeypatch)
    draft_line = out.splitlines()[0]
    marked = [int(n) for label in re.findall(r"\]\]\[([\d,]+)\]", draft_line) for n in label.split(",")]
    listed = [int(re.match(r"^\[(\d+)\]", line).group(1)) for line in finding_lines(out)]
    assert marked == listed == list(range(1, len(listed) + 1))
    assert "[[Mrs. Abernathy]][1,2]" in draft_line


def test_advice_fits_the_age(capsys, monkeypatch):
    _, out, _ = run(["check", "--text", "Admitted an 82yo man with a hip fracture."], capsys, monkeypatch)
    assert '"80-something"' in out and "70s" not in out


def test_colour_marks_without_brackets_on_a_terminal(capsys, monkeypatch):
    from checker import cli

    monkeypatch.setattr(cli, "_use_colour", lambda stream: True)
    _, out, _ = run(["check", "--text", "Admitted a 64yo with sepsis."], capsys, monkeypatch)
    assert "\x1b[" in out and "[[64yo]]" not in out


# -- linter conventions ------------------------------------------------------------------------------------

@pytest.fixture
def posts(tmp_path):
    clean = tmp_path / "clean.md"
    clean.write_text("# Fluids\n\nReassess after each liter.\n", encoding="utf-8")
    flagged = tmp_path / "flagged.md"
    flagged.write_text("# Night\n\nI saw a lot.\nAdmitted a 64yo last night with sepsis.\n", encoding="utf-8")
    return clean, flagged


def test_check_takes_several_files_and_stdin_and_exits_on_the_worst(posts, capsys, monkeypatch):
    clean, flagged = posts
    code, out, _ = run(["check", str(clean), "-", str(flagged)], capsys, monkeypatch, stdin=b"Hydrate first.")
    assert code == 1
    assert out.index(f"== {clean} ==") < out.index("== stdin ==") < out.index(f"== {flagged} ==")
    assert f"{flagged}:4:12 " in out  # file:line:col, 1-based
    assert out.rstrip().endswith("3 drafts checked: 1 to fix before posting.")
    assert run(["check", str(clean)], capsys, monkeypatch)[0] == 0


def test_json_is_the_report_for_one_input_and_a_list_for_several(posts, capsys, monkeypatch):
    clean, flagged = posts
    _, out, _ = run(["check", "--format", "json", str(flagged)], capsys, monkeypatch)
    assert json.loads(out)["verdict"] == "review" and "file" not in json.loads(out)
    _, out, _ = run(["check", "--format", "json", str(clean), str(flagged)], capsys, monkeypatch)
    assert [(r["file"], r["verdict"]) for r in json.loads(out)] == [(str(clean), "ok"), (str(flagged), "review")]
    _, out, _ = run(["check", "--format", "jsonl", str(clean), str(flagged)], capsys, monkeypatch)
    assert [json.loads(line)["file"] for line in out.splitlines()] == [str(clean), str(flagged)]


def test_sarif_has_one_run_rules_and_utf16_columns(tmp_path, capsys, monkeypatch):
    post = tmp_path / "post.md"
    post.write_text("🙂 Admitted a 64yo last night.\n", encoding="utf-8")
    code, out, _ = run(["check", "--format", "sarif", str(post)], capsys, monkeypatch)
    log = json.loads(out)
    assert code == 1 and log["version"] == "2.1.0" and len(log["runs"]) == 1
    run_ = log["runs"][0]
    assert run_["columnKind"] == "utf16CodeUnits"
    rules = {rule["id"]: rule for rule in run_["tool"]["driver"]["rules"]}
    assert rules["age-exact"]["fullDescription"]["text"].startswith("An exact age")
    age = next(r for r in run_["results"] if r["ruleId"] == "age-exact")
    region = age["locations"][0]["physicalLocation"]["region"]
    # the emoji is two UTF-16 code units: "64yo" starts at code unit 14, column 15
    assert (region["startLine"], region["startColumn"], region["endColumn"]) == (1, 15, 19)
    assert age["level"] == "warning" and run_["tool"]["driver"]["rules"][age["ruleIndex"]]["id"] == "age-exact"
    assert "64yo" not in out  # machine formats never quote the draft


def test_github_annotations_locate_each_finding_and_escape_their_fields(tmp_path, capsys, monkeypatch):
    post = tmp_path / "a,b.md"
    post.write_text("Fine.\nAdmitted a 64yo last night.\n", encoding="utf-8")
    code, out, _ = run(["check", "--format", "github", str(post)], capsys, monkeypatch)
    first = out.splitlines()[0]
    assert code == 1
    assert first.startswith(f"::warning file={str(post).replace(',', '%2C').replace(':', '%3A')},line=2,col=12,endLine=2,endColumn=16,title=age-exact::")
    assert "64yo" not in out


def test_min_severity_leaves_out_lower_findings_and_decides_the_exit(capsys, monkeypatch):
    draft = "Admitted a 64yo who claims she took her pills."
    code, out, _ = run(["check", "--format", "json", "--text", draft], capsys, monkeypatch)
    assert code == 1 and {f["severity"] for f in json.loads(out)["findings"]} >= {"warning", "info"}
    code, out, _ = run(["check", "--min-severity", "error", "--text", draft], capsys, monkeypatch)
    assert code == 0 and finding_lines(out) == [] and "below --min-severity not shown" in out


def test_text_and_files_together_is_a_usage_error(posts, capsys, monkeypatch):
    code, _, err = run(["check", "--text", "hi", str(posts[0])], capsys, monkeypatch)
    assert code == 2 and "not both" in err and len(err.strip().splitlines()) == 1


# -- scan input --------------------------------------------------------------------------------------------

def scan_rows(argv, capsys, monkeypatch, stdin=None):
    code, out, err = run(["scan", "--jobs", "1", "--format", "jsonl", *argv], capsys, monkeypatch, stdin=stdin)
    return code, [json.loads(line) for line in out.splitlines()], err


def test_scan_echoes_ids_with_their_json_type(tmp_path, capsys, monkeypatch):
    archive = tmp_path / "a.jsonl"
    archive.write_text("\n".join(json.dumps(r) for r in [
        {"id": 7, "text": "Hydrate first."}, {"id": "7", "text": "Hydrate first."},
        {"id": None, "text": "Hydrate first."}, {"id": 2.5, "text": "Hydrate first."}, {"text": "Hydrate first."},
    ]) + "\n", encoding="utf-8")
    _, rows, _ = scan_rows([str(archive)], capsys, monkeypatch)
    assert [row["id"] for row in rows] == [7, "7", None, 2.5, 5]
    _, rows, _ = scan_rows(["-"], capsys, monkeypatch, stdin=b"Hydrate first.\n\nAdmitted a 91yo.\n")
    assert [row["id"] for row in rows] == [1, 3]  # plain text: line numbers, as numbers


def test_scan_reads_a_json_array_of_drafts(tmp_path, capsys, monkeypatch):
    archive = tmp_path / "export.json"
    archive.write_text(json.dumps([
        {"id": "p1", "text": "Admitted a 91yo last night."}, "Hydrate first, then bisphosphonate.",
        {"id": 3, "body": "no text field"}, {"text": "Sepsis: reassess after each liter."},
    ], indent=2), encoding="utf-8")
    code, rows, err = scan_rows([str(archive)], capsys, monkeypatch)
    assert [row["id"] for row in rows] == ["p1", 2, 3, 4]
    assert rows[0]["verdict"] == "block" and rows[1]["verdict"] == "ok"
    assert rows[2] == {"id": 3, "error": "item 3 is not a draft (a string, or an object with a 'text' field)"}
    assert code == 2 and "4 drafts" in err


def test_scan_refuses_what_starts_like_json_but_is_not_in_one_line(tmp_path, capsys, monkeypatch):
    archive = tmp_path / "notes.txt"
    archive.write_text(f"[Repost] Admitted {SECRET} last night.\nHydrate first.\n", encoding="utf-8")
    code, out, err = run(["scan", "--jobs", "1", str(archive)], capsys, monkeypatch)
    assert code == 2 and out == "" and len(err.strip().splitlines()) == 1
    assert "is not a JSON array of drafts" in err and "--input text" in err and SECRET not in err
    code, rows, _ = scan_rows(["--input", "text", str(archive)], capsys, monkeypatch)
    assert [row["id"] for row in rows] == [1, 2] and rows[0]["verdict"] == "block"


def test_a_long_post_shows_only_its_flagged_lines_numbered(tmp_path, capsys, monkeypatch):
    lines = [f"Paragraph {n} is about fluids and nothing else." for n in range(1, 40)]
    lines[24] = "Admitted a 64yo last night with sepsis."
    post = tmp_path / "long.md"
    post.write_text("\n".join(lines) + "\n", encoding="utf-8")
    code, out, _ = run(["check", str(post)], capsys, monkeypatch)
    shown = out.splitlines()
    assert shown[0] == "25| Admitted a [[64yo]][1] [[last night]][2] with sepsis."
    assert "Paragraph 1 " not in out
    assert shown[-1] == "  25| Admitted a patient in their 60s recently with sepsis."
