"""The CLI contract: inputs, formats, exit codes, one-line errors that never echo the draft."""

from __future__ import annotations

import io
import json
import sys

import pytest

from checker.cli import main

SECRET = "Zebulon Quartermaine"


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
    assert "verdict: OK" in out


def test_fail_on_changes_the_exit_code(capsys, monkeypatch):
    draft = "Admitted a 64yo with sepsis."
    assert run(["check", "--text", draft], capsys, monkeypatch)[0] == 1
    assert run(["check", "--fail-on", "block", "--text", draft], capsys, monkeypatch)[0] == 0
    assert run(["check", "--fail-on", "never", "--text", f"Mr. {SECRET.split()[1]} is here"], capsys, monkeypatch)[0] == 0


def test_text_output_marks_spans_without_colour_when_piped(capsys, monkeypatch):
    code, out, _ = run(["check", "--text", "Admitted a 64yo with sepsis."], capsys, monkeypatch)
    assert "[[64yo]][1]" in out
    assert "\x1b[" not in out
    assert "age-exact" in out and "instead:" in out and "why:" in out


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
    assert [line["id"] for line in lines] == ["a1", "b2", "c3", "d4", "5"]
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
