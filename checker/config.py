"""Settings files and variables, read by the transports: the library itself never reads them.

A `Checker(...)` built twice with the same arguments behaves the same on any machine (see
../shared/STYLE.md). What a user or an operator configures is turned into explicit Checker arguments
here, by one resolver that `check`, `scan` (and its workers) and `rules` share; `serve` reads only what
its operator sets (`checker_options_from_env`).

Two kinds of file hold the same settings (TOML):

    disable = ["age-decade"]             # rule ids never reported
    author = "Alex Kim"                  # your own name is never a patient's
    fail-on = "block"                    # lowest verdict that exits 1: review | block | never
    rule-dirs = ["./our-hospital-rules"] # extra rule packs, relative to the file
    [allow]
    rules = ["laughing-at-patient"]      # same as disable
    words = ["frequent flyer"]           # never flag these words (any case)

- the user's config: `config.toml` in the platform's user config directory (`~/.config/postcheck/` on
  Linux), or the file POSTCHECK_CONFIG names;
- the project's config: `.postcheck.toml`, or a `[tool.postcheck]` table in `pyproject.toml`, in the
  working directory or the nearest directory above it that has one, stopping at the repository root
  (the first directory holding `.git`), so a blog repository's settings apply to every post in it.

Precedence, for a single value (author, fail-on, model): command-line flags (and their POSTCHECK_
variables) win over the project config, which wins over the user config. Lists (disable, allowed
words, rule directories) add up from all three. A missing file at a default place means "no settings";
a file that is named explicitly must exist. Errors name the file and the key, never more.
"""

from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, Iterable, Mapping

import platformdirs

from checker.errors import ConfigError

if TYPE_CHECKING:
    from checker.pipeline import Checker
    from checker.rules import RuleSet

CONFIG_ENV = "POSTCHECK_CONFIG"
MODEL_ENV = "POSTCHECK_MODEL"
RULES_ENV = "POSTCHECK_RULES"
PROJECT_FILE = ".postcheck.toml"
FAIL_ON = ("review", "block", "never")
_TOP_KEYS = {"disable", "author", "fail-on", "rule-dirs", "allow"}
_ALLOW_KEYS = {"rules", "words"}


@dataclass(frozen=True)
class ConfigFile:
    """What one settings file says; empty (and `path` None) when there is no file."""

    path: Path | None = None
    disable: tuple[str, ...] = ()  # `disable` and `allow.rules` together
    allow_words: tuple[str, ...] = ()
    author: str | None = None
    fail_on: str | None = None
    rule_dirs: tuple[Path, ...] = ()
    table: str = ""  # "[tool.postcheck]" for pyproject.toml, "" for a whole file

    def key(self, name: str) -> str:
        """How a key is named in messages: "pyproject.toml: 'tool.postcheck.disable'"."""
        return f"{self.table[1:-1]}.{name}" if self.table else name

    def check_rule_ids(self, ruleset: "RuleSet") -> None:
        """ConfigError naming this file and its key for the first rule id no rule has."""
        unknown = ruleset.unknown_ids(self.disable)
        if unknown:
            raise ConfigError(f"{self.path}: '{self.key('disable')}': unknown rule id '{unknown[0]}'")


@dataclass(frozen=True)
class CheckerOptions:
    """Explicit Checker arguments, picklable (what each `scan --jobs` worker is built with)."""

    model: str | None = None
    rule_dirs: tuple[str, ...] = ()
    disable: tuple[str, ...] = ()
    allow: tuple[str, ...] = ()
    author: str | None = None
    max_chars: int | None = None
    # rule id -> where it was turned off, so an unknown id is reported with its file and key
    disabled_by: Mapping[str, str] = field(default_factory=dict)

    def kwargs(self) -> dict[str, Any]:
        options = {"model": self.model, "rule_dirs": list(self.rule_dirs), "disable": list(self.disable),
                   "allow": list(self.allow), "author": self.author}
        if self.max_chars is not None:
            options["max_chars"] = self.max_chars
        return options

    def check_rule_ids(self, ruleset: "RuleSet") -> None:
        """ConfigError naming the file and key (or the flag) of the first unknown rule id."""
        unknown = ruleset.unknown_ids(self.disable)
        if unknown:
            raise ConfigError(f"{self.disabled_by.get(unknown[0], '--disable')}: unknown rule id '{unknown[0]}'")


@dataclass(frozen=True)
class Resolved:
    """The outcome of resolving flags, variables and files: Checker options plus the CLI's own settings."""

    checker: CheckerOptions
    fail_on: str
    user: ConfigFile
    user_path: Path
    project: ConfigFile


def default_config_path(environ: Mapping[str, str] | None = None) -> Path:
    """POSTCHECK_CONFIG if set, else config.toml in the platform's user config directory."""
    env = os.environ if environ is None else environ
    named = env.get(CONFIG_ENV, "").strip()
    if named:
        return Path(named)
    return Path(platformdirs.user_config_dir("postcheck", appauthor=False)) / "config.toml"


def load_config(path: str | os.PathLike | None = None, environ: Mapping[str, str] | None = None) -> ConfigFile:
    """Read and validate the user's config file; `path=None` means the default place, where absence is fine."""
    env = os.environ if environ is None else environ
    explicit = path is not None or bool(env.get(CONFIG_ENV, "").strip())
    where = Path(path) if path is not None else default_config_path(env)
    if not where.is_file():
        if explicit:
            raise ConfigError(f"{where}: config file not found")
        return ConfigFile()
    return _parse(_read_toml(where), where, "")


def find_project_config(start: Path) -> ConfigFile:
    """The project config that applies in `start`: `.postcheck.toml` or `[tool.postcheck]` in
    `pyproject.toml`, in `start` or the nearest directory above, up to the repository root."""
    directory = start.resolve()
    for folder in (directory, *directory.parents):
        dotfile = folder / PROJECT_FILE
        if dotfile.is_file():
            return _parse(_read_toml(dotfile), dotfile, "")
        pyproject = folder / "pyproject.toml"
        if pyproject.is_file():
            table = _read_toml(pyproject).get("tool", {})
            if isinstance(table, dict) and "postcheck" in table:
                return _parse(table["postcheck"], pyproject, "[tool.postcheck]")
        if (folder / ".git").exists():
            break
    return ConfigFile()


def resolve(
    *,
    model: str | None = None,
    rule_dirs: Iterable[str] = (),
    disable: Iterable[str] = (),
    allow: Iterable[str] = (),
    author: str | None = None,
    fail_on: str | None = None,
    max_chars: int | None = None,
    cwd: Path | None = None,
    environ: Mapping[str, str] | None = None,
    isolated: bool = False,
) -> Resolved:
    """Flags (None or empty where not given) + project config + user config -> explicit options.

    `isolated` ignores both files (and POSTCHECK_CONFIG), as Ruff's `--isolated` does.
    """
    env = os.environ if environ is None else environ
    user_path = default_config_path(env)
    user = ConfigFile() if isolated else load_config(environ=env)
    project = ConfigFile() if isolated else find_project_config(cwd or Path.cwd())
    files = [f for f in (project, user) if f.path]  # highest precedence first

    disabled_by: dict[str, str] = {}
    for rule_id in disable:
        disabled_by.setdefault(rule_id, "--disable")
    for config in files:
        for rule_id in config.disable:
            disabled_by.setdefault(rule_id, f"{config.path}: '{config.key('disable')}'")
    words = [*allow, *(word for config in files for word in config.allow_words)]
    dirs = [*rule_dirs, *_env_rule_dirs(env), *(str(d) for config in files for d in config.rule_dirs)]
    options = CheckerOptions(
        model=model or env.get(MODEL_ENV) or None,
        rule_dirs=tuple(dict.fromkeys(dirs)),
        disable=tuple(disabled_by),
        allow=tuple(dict.fromkeys(words)),
        author=author or next((c.author for c in files if c.author), None),
        max_chars=max_chars,
        disabled_by=disabled_by,
    )
    chosen_fail_on = fail_on or next((c.fail_on for c in files if c.fail_on), None) or "review"
    return Resolved(options, chosen_fail_on, user, user_path, project)


def with_settings_file(ruleset: "RuleSet", disable: Iterable[str], allow: Iterable[str],
                       config_path: str | os.PathLike | None, use_user_config: bool) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """`disable` and `allow` with a settings file's own added, when one is asked for: the file at
    `config_path`, or with `use_user_config` the user's. An unknown rule id fails naming the file and key.
    (The Checker and checker.dask, which resolves a Checker's options on the client, both apply it.)"""
    if config_path is None and not use_user_config:
        return tuple(disable), tuple(allow)
    settings = load_config(config_path)
    settings.check_rule_ids(ruleset)
    return (*disable, *settings.disable), (*allow, *settings.allow_words)


def checker_options_from_config(path: str | os.PathLike) -> dict[str, Any]:
    """Checker arguments from one named settings file (for a service whose operator names one)."""
    config = load_config(path)
    return _from_files([config]).kwargs()


def checker_options_from_env(environ: Mapping[str, str] | None = None) -> dict[str, Any]:
    """What `serve` applies: POSTCHECK_MODEL, POSTCHECK_RULES, and the file POSTCHECK_CONFIG names if it
    is set. Never the server account's own config file or the working directory's."""
    env = os.environ if environ is None else environ
    named = env.get(CONFIG_ENV, "").strip()
    files = [load_config(named, env)] if named else []
    options = _from_files(files)
    options = replace(options, model=env.get(MODEL_ENV) or None,
                      rule_dirs=tuple(dict.fromkeys([*_env_rule_dirs(env), *options.rule_dirs])))
    return options.kwargs()


def build_checker(options: CheckerOptions) -> "Checker":
    """A Checker from resolved options, with an unknown rule id reported by the file and key that named it."""
    from checker.pipeline import Checker
    from checker.rules import load_rules

    ruleset = load_rules([Path(d) for d in options.rule_dirs])
    options.check_rule_ids(ruleset)
    return Checker(ruleset=ruleset, **options.kwargs())


def _from_files(files: list[ConfigFile]) -> CheckerOptions:
    disabled_by = {rule_id: f"{c.path}: '{c.key('disable')}'" for c in reversed(files) for rule_id in c.disable}
    return CheckerOptions(
        rule_dirs=tuple(str(d) for c in files for d in c.rule_dirs),
        disable=tuple(disabled_by),
        allow=tuple(word for c in files for word in c.allow_words),
        author=next((c.author for c in files if c.author), None),
        disabled_by=disabled_by,
    )


def _env_rule_dirs(env: Mapping[str, str]) -> list[str]:
    """Extra rule packs named by POSTCHECK_RULES (os.pathsep-separated directories)."""
    return [part for part in env.get(RULES_ENV, "").split(os.pathsep) if part.strip()]


def _read_toml(where: Path) -> dict[str, Any]:
    try:
        with open(where, "rb") as handle:
            return tomllib.load(handle)
    except OSError as error:
        raise ConfigError(f"{where}: cannot read config file ({error.strerror})") from None
    except tomllib.TOMLDecodeError as error:
        raise ConfigError(f"{where}: not valid TOML ({error})") from None
    except UnicodeDecodeError:
        raise ConfigError(f"{where}: config file is not valid UTF-8") from None


def _parse(data: Any, where: Path, table: str) -> ConfigFile:
    blank = ConfigFile(path=where, table=table)
    if not isinstance(data, dict):
        raise ConfigError(f"{where}: '{blank.key('')[:-1] or 'config'}' must be a table")
    for key, value in data.items():
        if key not in _TOP_KEYS:
            raise ConfigError(f"{where}: unknown setting '{blank.key(key)}' (known: {', '.join(sorted(_TOP_KEYS))})")
    allow = data.get("allow", {})
    if not isinstance(allow, dict):
        raise ConfigError(f"{where}: '{blank.key('allow')}' must be a table ([{blank.key('allow')}])")
    for key in allow:
        if key not in _ALLOW_KEYS:
            raise ConfigError(f"{where}: unknown setting '{blank.key('allow.' + key)}' (known: {', '.join(sorted(_ALLOW_KEYS))})")
    fail_on = data.get("fail-on")
    if fail_on is not None and fail_on not in FAIL_ON:
        raise ConfigError(f"{where}: '{blank.key('fail-on')}' must be one of {', '.join(FAIL_ON)}")
    author = data.get("author")
    if author is not None and (not isinstance(author, str) or not author.strip()):
        raise ConfigError(f"{where}: '{blank.key('author')}' must be a non-empty string")
    return replace(
        blank,
        disable=tuple(dict.fromkeys([*_strings(data, "disable", where, blank),
                                     *_strings(allow, "rules", where, blank, "allow.")])),
        allow_words=_strings(allow, "words", where, blank, "allow."),
        author=author.strip() if author else None,
        fail_on=fail_on,
        rule_dirs=tuple(where.parent / d for d in _strings(data, "rule-dirs", where, blank)),
    )


def _strings(table: dict, key: str, where: Path, config: ConfigFile, prefix: str = "") -> tuple[str, ...]:
    values = table.get(key, [])
    if not isinstance(values, list) or not all(isinstance(v, str) and v.strip() for v in values):
        raise ConfigError(f"{where}: '{config.key(prefix + key)}' must be a list of non-empty strings")
    return tuple(v.strip() for v in values)
