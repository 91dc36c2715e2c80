"""The user's config file: allowed rules and words, and one-line errors that name file and key."""

from __future__ import annotations

import pytest

from checker import Checker, ConfigError
from checker.cli import main
from checker.config import CONFIG_ENV, load_config


def write(tmp_path, text: str):
    path = tmp_path / "config.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_missing_file_at_the_default_place_means_no_settings(tmp_path, monkeypatch):
    monkeypatch.delenv(CONFIG_ENV, raising=False)
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path))
    config = load_config()
    assert (config.allow_rules, config.allow_words, config.path) == ((), (), None)


def test_a_named_file_must_exist(tmp_path, monkeypatch):
    with pytest.raises(ConfigError, match="config file not found"):
        load_config(tmp_path / "nope.toml")
    monkeypatch.setenv(CONFIG_ENV, str(tmp_path / "nope.toml"))
    with pytest.raises(ConfigError, match="nope.toml"):
        load_config()


def test_allow_lists_are_read(tmp_path):
    config = load_config(write(tmp_path, '[allow]\nrules = ["profanity"]\nwords = ["frequent flyer"]\n'))
    assert config.allow_rules == ("profanity",)
    assert config.allow_words == ("frequent flyer",)


@pytest.mark.parametrize("text, key", [
    ("[allow\nrules = 1\n", "not valid TOML"),
    ("[allow]\nrule = []\n", "allow.rule"),
    ("[colour]\non = true\n", "'colour'"),
    ("allow = 3\n", "'allow' must be a table"),
    ('[allow]\nwords = "gomer"\n', "allow.words"),
    ("[allow]\nrules = [1, 2]\n", "allow.rules"),
])
def test_invalid_settings_name_the_file_and_the_key(tmp_path, text, key):
    with pytest.raises(ConfigError) as error:
        load_config(write(tmp_path, text))
    message = str(error.value)
    assert key in message and str(tmp_path) in message and "\n" not in message


def test_checker_applies_allowed_rules_and_words(tmp_path):
    draft = "Another gomer tonight, and this call schedule is bullshit."
    plain = {f.rule for f in Checker(use_user_config=False).check(draft).findings}
    assert {"derogatory-slang", "profanity"} <= plain
    config = write(tmp_path, '[allow]\nrules = ["profanity"]\nwords = ["Gomer"]\n')
    allowed = {f.rule for f in Checker(config_path=config).check(draft).findings}
    assert "profanity" not in allowed and "derogatory-slang" not in allowed


def test_unknown_rule_id_in_config_is_a_config_error(tmp_path):
    with pytest.raises(ConfigError, match="allow.rules.*no-such-rule"):
        Checker(config_path=write(tmp_path, '[allow]\nrules = ["no-such-rule"]\n'))


def test_cli_reports_a_broken_config_in_one_line_with_exit_2(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv(CONFIG_ENV, str(write(tmp_path, "[allow\n")))
    with pytest.raises(SystemExit) as done:
        main(["check", "--text", "A quiet night on call."])
    assert done.value.code == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("postcheck: error:") and "config.toml" in err and len(err.splitlines()) == 1
