"""Settings files belong to the transports: the user's config and a project's config are read by the
CLI and turned into explicit Checker arguments; the library reads neither, nor any POSTCHECK_ variable."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from checker import Checker, ConfigError
from checker.cli import main
from checker.config import (
    CONFIG_ENV,
    build_checker,
    checker_options_from_config,
    checker_options_from_env,
    find_project_config,
    load_config,
    resolve,
)
from checker.rules import load_rules

SLANG_AND_SWEARING = "Another gomer tonight, and this call schedule is bullshit."


def write(directory: Path, text: str, name: str = "config.toml") -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / name
    path.write_text(text, encoding="utf-8")
    return path


def user_config(text: str) -> Path:
    """A config file at the platform's default place (XDG_CONFIG_HOME points into the test's home)."""
    return write(Path(os.environ["XDG_CONFIG_HOME"]) / "postcheck", text)


def run(argv, capsys):
    with pytest.raises(SystemExit) as done:
        main(argv)
    out, err = capsys.readouterr()
    return done.value.code, out, err


# -- reading one file ---------------------------------------------------------------------------------

def test_missing_file_at_the_default_place_means_no_settings():
    config = load_config()
    assert (config.disable, config.allow_words, config.path) == ((), (), None)


def test_a_named_file_must_exist(tmp_path, monkeypatch):
    with pytest.raises(ConfigError, match="config file not found"):
        load_config(tmp_path / "nope.toml")
    monkeypatch.setenv(CONFIG_ENV, str(tmp_path / "nope.toml"))
    with pytest.raises(ConfigError, match="nope.toml"):
        load_config()


def test_every_setting_is_read(tmp_path):
    config = load_config(write(tmp_path, 'disable = ["age-decade"]\nauthor = "Alex Kim"\nfail-on = "block"\n'
                                         'rule-dirs = ["packs/ours"]\n'
                                         '[allow]\nrules = ["profanity"]\nwords = ["frequent flyer"]\n'))
    assert config.disable == ("age-decade", "profanity")
    assert config.allow_words == ("frequent flyer",)
    assert (config.author, config.fail_on) == ("Alex Kim", "block")
    assert config.rule_dirs == (tmp_path / "packs" / "ours",)  # relative to the file, not the working directory


@pytest.mark.parametrize("text, key", [
    ("[allow\nrules = 1\n", "not valid TOML"),
    ("[allow]\nrule = []\n", "allow.rule"),
    ("[colour]\non = true\n", "'colour'"),
    ("allow = 3\n", "'allow' must be a table"),
    ('[allow]\nwords = "gomer"\n', "allow.words"),
    ("[allow]\nrules = [1, 2]\n", "allow.rules"),
    ('fail-on = "sometimes"\n', "'fail-on' must be one of"),
    ("author = 7\n", "'author'"),
    ('disable = "age-exact"\n', "'disable'"),
])
def test_invalid_settings_name_the_file_and_the_key(tmp_path, text, key):
    with pytest.raises(ConfigError) as error:
        load_config(write(tmp_path, text))
    message = str(error.value)
    assert key in message and str(tmp_path) in message and "\n" not in message


def test_a_pyproject_table_is_named_in_errors(tmp_path):
    write(tmp_path, '[tool.postcheck]\nfail-on = "later"\n', "pyproject.toml")
    with pytest.raises(ConfigError, match=r"pyproject.toml: 'tool.postcheck.fail-on'"):
        find_project_config(tmp_path)


# -- the project config is found upward, and stops at the repository root ------------------------------

def test_project_config_is_found_in_a_parent_directory(hermetic):
    write(hermetic, 'disable = ["age-decade"]\n', ".postcheck.toml")
    posts = hermetic / "content" / "posts"
    posts.mkdir(parents=True)
    assert find_project_config(posts).path == hermetic / ".postcheck.toml"


def test_pyproject_counts_only_with_a_postcheck_table(hermetic):
    write(hermetic, '[tool.postcheck]\nauthor = "Sam Lee"\n', "pyproject.toml")
    inner = hermetic / "site"
    write(inner, '[project]\nname = "blog"\n', "pyproject.toml")  # no [tool.postcheck]: keep looking
    found = find_project_config(inner)
    assert found.path == hermetic / "pyproject.toml" and found.author == "Sam Lee"


def test_a_config_above_the_repository_root_never_applies(tmp_path):
    write(tmp_path, 'fail-on = "never"\n', ".postcheck.toml")
    repository = tmp_path / "blog"
    (repository / ".git").mkdir(parents=True)
    assert find_project_config(repository).path is None


# -- one resolver: flags > project > user ----------------------------------------------------------------

def test_single_values_follow_flags_then_project_then_user(hermetic):
    user_config('author = "User Name"\nfail-on = "never"\n')
    write(hermetic, 'author = "Project Name"\n', ".postcheck.toml")
    resolved = resolve()
    assert resolved.checker.author == "Project Name"  # project beats user
    assert resolved.fail_on == "never"                 # the user's, since the project sets none
    flagged = resolve(author="Flag Name", fail_on="block")
    assert (flagged.checker.author, flagged.fail_on) == ("Flag Name", "block")


def test_lists_add_up_from_flags_project_and_user(hermetic):
    user_config('disable = ["profanity"]\n[allow]\nwords = ["gomer"]\n')
    write(hermetic, 'disable = ["age-decade"]\n[allow]\nwords = ["toxic"]\n', ".postcheck.toml")
    options = resolve(disable=["weekday"]).checker
    assert set(options.disable) == {"weekday", "age-decade", "profanity"}
    assert set(options.allow) == {"gomer", "toxic"}


def test_isolated_ignores_both_files(hermetic):
    user_config('disable = ["profanity"]\n')
    write(hermetic, 'fail-on = "never"\n', ".postcheck.toml")
    resolved = resolve(isolated=True)
    assert resolved.checker.disable == () and resolved.fail_on == "review"


def test_an_unknown_rule_id_is_reported_with_its_file_and_key(hermetic):
    write(hermetic, '[allow]\nrules = ["no-such-rule"]\n', ".postcheck.toml")
    with pytest.raises(ConfigError, match=r"\.postcheck\.toml: 'disable': unknown rule id 'no-such-rule'"):
        resolve().checker.check_rule_ids(load_rules())


# -- the library reads nothing; the transports read what they should ---------------------------------------

@pytest.fixture
def hostile(tmp_path, monkeypatch):
    """Everything a machine could hold that would change results if the library read it."""
    named = write(tmp_path / "named", '[allow]\nrules = ["derogatory-slang", "profanity"]\n')
    user_config('[allow]\nrules = ["derogatory-slang", "profanity"]\nwords = ["gomer"]\n')
    write(Path.cwd(), 'disable = ["derogatory-slang", "profanity"]\n', ".postcheck.toml")
    monkeypatch.setenv(CONFIG_ENV, str(named))
    monkeypatch.setenv("POSTCHECK_RULES", str(tmp_path / "no-such-pack"))
    monkeypatch.setenv("POSTCHECK_MODEL", "xx_no_such_model")
    return named


def test_the_library_reads_no_config_file_and_no_variable(hostile):
    fired = {f.rule for f in Checker().check(SLANG_AND_SWEARING).findings}
    assert {"derogatory-slang", "profanity"} <= fired


def test_a_library_user_may_ask_for_a_settings_file(tmp_path, checker):
    named = write(tmp_path, '[allow]\nrules = ["profanity"]\nwords = ["Gomer"]\n')
    asked = {f.rule for f in Checker(config_path=named).check(SLANG_AND_SWEARING).findings}
    assert "profanity" not in asked and "derogatory-slang" not in asked
    user_config('disable = ["profanity"]\n')
    assert "profanity" not in {f.rule for f in Checker(use_user_config=True).check(SLANG_AND_SWEARING).findings}
    assert "profanity" in {f.rule for f in checker.check(SLANG_AND_SWEARING).findings}  # not asked: not read
    with pytest.raises(ConfigError, match=r"'disable': unknown rule id 'no-such-rule'"):
        Checker(config_path=write(tmp_path, 'disable = ["no-such-rule"]\n', "bad.toml"))


def test_the_cli_applies_the_user_config(capsys):
    path = user_config('[allow]\nrules = ["profanity"]\nwords = ["Gomer"]\n')
    code, out, _ = run(["check", "--format", "json", "--text", SLANG_AND_SWEARING], capsys)
    assert '"profanity"' not in out and '"derogatory-slang"' not in out
    code, out, _ = run(["check", "--isolated", "--format", "json", "--text", SLANG_AND_SWEARING], capsys)
    assert '"profanity"' in out and '"derogatory-slang"' in out
    code, out, _ = run(["config"], capsys)
    assert str(path) in out and "in use" in out and "profanity" in out


def test_the_cli_applies_the_project_config(hermetic, capsys):
    write(hermetic, 'fail-on = "never"\n[allow]\nwords = ["gomer"]\n', ".postcheck.toml")
    code, out, _ = run(["check", "--format", "json", "--text", SLANG_AND_SWEARING], capsys)
    assert code == 0 and '"derogatory-slang"' not in out and '"profanity"' in out
    code, _, _ = run(["check", "--fail-on", "review", "--text", SLANG_AND_SWEARING], capsys)
    assert code == 1  # the flag beats the project
    code, out, _ = run(["config"], capsys)
    assert str(hermetic / ".postcheck.toml") in out and "fail-on:        never" in out


def test_the_service_reads_only_what_its_operator_names(tmp_path, monkeypatch):
    user_config('[allow]\nwords = ["gomer"]\n')  # the server account's own file: never read
    assert checker_options_from_env()["allow"] == []
    operator = write(tmp_path, 'disable = ["profanity"]\n[allow]\nwords = ["gomer"]\n')
    monkeypatch.setenv(CONFIG_ENV, str(operator))
    monkeypatch.setenv("POSTCHECK_RULES", str(tmp_path / "pack"))
    options = checker_options_from_env()
    assert options["allow"] == ["gomer"] and options["disable"] == ["profanity"]
    assert options["rule_dirs"] == [str(tmp_path / "pack")]
    assert checker_options_from_config(operator)["disable"] == ["profanity"]


def test_resolved_options_build_a_checker_that_applies_them(hermetic, checker):
    user_config('[allow]\nrules = ["profanity"]\nwords = ["Gomer"]\n')
    allowed = {f.rule for f in build_checker(resolve().checker).check(SLANG_AND_SWEARING).findings}
    assert "profanity" not in allowed and "derogatory-slang" not in allowed
    assert {"profanity", "derogatory-slang"} <= {f.rule for f in checker.check(SLANG_AND_SWEARING).findings}


def test_cli_reports_a_broken_config_in_one_line_with_exit_2(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv(CONFIG_ENV, str(write(tmp_path, "[allow\n")))
    code, _, err = run(["check", "--text", "A quiet night on call."], capsys)
    assert code == 2
    err = err.strip()
    assert err.startswith("postcheck: error:") and "config.toml" in err and len(err.splitlines()) == 1


# -- the suite itself is hermetic --------------------------------------------------------------------------

def test_the_suite_passes_with_a_hostile_home_and_environment(tmp_path):
    """Run part of the suite in a fresh interpreter with settings in every place postcheck's transports
    look: the autouse fixture in conftest.py must shield every test from them."""
    home = tmp_path / "home"
    allow_all = ('disable = ["age-exact", "patient-name", "profanity", "derogatory-slang", "relative-time"]\n'
                 'author = "Gregory Haverford"\nfail-on = "never"\n'
                 '[allow]\nwords = ["gomer", "bullshit", "64yo", "mr. oyelaran"]\n')
    write(home / ".config" / "postcheck", allow_all)
    named = write(tmp_path / "named", allow_all)
    cwd = tmp_path / "project"
    write(cwd, allow_all, ".postcheck.toml")
    tests = Path(__file__).resolve().parent
    env = {k: v for k, v in os.environ.items() if not k.startswith("POSTCHECK_")} | {
        "HOME": str(home), "XDG_CONFIG_HOME": str(home / ".config"), CONFIG_ENV: str(named),
        "POSTCHECK_RULES": str(tmp_path / "no-such-pack"), "POSTCHECK_MODEL": "xx_no_such_model",
        "POSTCHECK_MAX_CHARS": "5",
    }
    selection = [str(tests / "test_cli.py"), str(tests / "test_rule_examples.py"), "-k",
                 "json_report or clean_draft or fail_on or patient-name or age-exact or profanity or derogatory-slang"]
    done = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", *selection],
                          cwd=cwd, env=env, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stdout[-2000:]
    assert " passed" in done.stdout and "failed" not in done.stdout
