"""The package: one version everywhere, `-V`, the licence it declares, and the import names it claims."""

from __future__ import annotations

import importlib.metadata
from pathlib import Path

import pytest

import checker
from checker.cli import main

ROOT = Path(__file__).resolve().parents[1]


def test_version_is_one_value_for_the_module_the_metadata_and_the_cli(capsys):
    assert checker.__version__ == importlib.metadata.version("postcheck")
    for flag in ("-V", "--version"):
        with pytest.raises(SystemExit) as done:
            main([flag])
        assert done.value.code == 0
        assert capsys.readouterr().out.strip() == f"postcheck {checker.__version__}"


def test_the_licence_file_is_the_mit_licence_the_metadata_declares():
    text = (ROOT / "LICENSE").read_text(encoding="utf-8")
    assert text.startswith("MIT License") and "WITHOUT WARRANTY OF ANY KIND" in text
    assert "MIT" in importlib.metadata.metadata("postcheck")["License"]


def test_the_distribution_installs_checker_and_no_generic_top_level_name():
    top_level = set(importlib.metadata.distribution("postcheck").read_text("top_level.txt").split())
    assert top_level == {"checker", "postcheck_rules", "postcheck_service", "postcheck_ui"}  # ui: the page and extension assets
