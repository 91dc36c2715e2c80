"""The pre-commit hook a physician's blog repository uses: its entry checks the staged posts it is given."""

from __future__ import annotations

import shlex
from pathlib import Path

import pytest
import yaml

from checker.cli import main

HOOKS = Path(__file__).resolve().parents[1] / ".pre-commit-hooks.yaml"


def test_the_hook_is_declared_for_markdown_and_html_and_runs_once():
    (hook,) = yaml.safe_load(HOOKS.read_text(encoding="utf-8"))
    assert hook["id"] == "postcheck" and hook["language"] == "python"
    assert set(hook["types_or"]) == {"markdown", "html"} and hook["require_serial"] is True
    assert shlex.split(hook["entry"])[0] == "postcheck"


def test_the_hook_entry_fails_a_commit_with_a_flagged_post_and_passes_clean_ones(tmp_path, capsys):
    (hook,) = yaml.safe_load(HOOKS.read_text(encoding="utf-8"))
    command = shlex.split(hook["entry"])[1:]
    clean = tmp_path / "fluids.md"
    clean.write_text("# Fluids\n\nReassess after each liter.\n", encoding="utf-8")
    flagged = tmp_path / "night.md"
    flagged.write_text("# Night\n\n<!-- postcheck-disable weekday -->\nAdmitted a 64yo last night.\n", encoding="utf-8")
    for files, expected in (([clean], 0), ([clean, flagged], 1)):
        with pytest.raises(SystemExit) as done:
            main(command + [str(f) for f in files])  # pre-commit appends the staged file names
        assert done.value.code == expected
    out = capsys.readouterr().out
    assert f"{flagged}:4:12" in out
