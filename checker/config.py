"""The user's own config file: rules and words they allow, so a false alarm is fixed once, not daily.

Every tool in this field (alex, Vale, LanguageTool) lives or dies by how it handles its false alarms;
postcheck lets an organisation's rule pack allow words (`allow:` in YAML) and each user allow rules and
words in a TOML file in the platform's user config directory:

    # Linux: ~/.config/postcheck/config.toml   (run `postcheck config` to see the path on your system)
    [allow]
    rules = ["laughing-at-patient"]      # never report these rules
    words = ["frequent flyer", "toxic"]  # never flag these words (any case)

POSTCHECK_CONFIG names another file (tests and CI use it). A missing file at the default place means
"no settings"; a file that is named explicitly must exist. Errors name the file and the key, never more.
"""

from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass
from pathlib import Path

import platformdirs

from checker.errors import ConfigError

CONFIG_ENV = "POSTCHECK_CONFIG"
_SECTIONS = {"allow": {"rules", "words"}}


@dataclass(frozen=True)
class UserConfig:
    """What the user allows; empty when there is no config file."""

    allow_rules: tuple[str, ...] = ()
    allow_words: tuple[str, ...] = ()
    path: Path | None = None


def default_config_path() -> Path:
    """POSTCHECK_CONFIG if set, else config.toml in the platform's user config directory."""
    named = os.environ.get(CONFIG_ENV, "").strip()
    if named:
        return Path(named)
    return Path(platformdirs.user_config_dir("postcheck", appauthor=False)) / "config.toml"


def load_config(path: str | os.PathLike | None = None) -> UserConfig:
    """Read and validate a config file; `path=None` means the default place, where absence is fine."""
    explicit = path is not None or bool(os.environ.get(CONFIG_ENV, "").strip())
    where = Path(path) if path is not None else default_config_path()
    if not where.is_file():
        if explicit:
            raise ConfigError(f"{where}: config file not found")
        return UserConfig()
    try:
        with open(where, "rb") as handle:
            data = tomllib.load(handle)
    except OSError as error:
        raise ConfigError(f"{where}: cannot read config file ({error.strerror})") from None
    except tomllib.TOMLDecodeError as error:
        raise ConfigError(f"{where}: not valid TOML ({error})") from None
    except UnicodeDecodeError:
        raise ConfigError(f"{where}: config file is not valid UTF-8") from None
    for section, value in data.items():
        if section not in _SECTIONS:
            raise ConfigError(f"{where}: unknown setting '{section}' (known: {', '.join(sorted(_SECTIONS))})")
        if not isinstance(value, dict):
            raise ConfigError(f"{where}: '{section}' must be a table ([{section}])")
        for key in value:
            if key not in _SECTIONS[section]:
                raise ConfigError(f"{where}: unknown setting '{section}.{key}' (known: {', '.join(sorted(_SECTIONS[section]))})")
    allow = data.get("allow", {})
    return UserConfig(_strings(allow, "rules", where), _strings(allow, "words", where), where)


def _strings(table: dict, key: str, where: Path) -> tuple[str, ...]:
    values = table.get(key, [])
    if not isinstance(values, list) or not all(isinstance(v, str) and v.strip() for v in values):
        raise ConfigError(f"{where}: 'allow.{key}' must be a list of non-empty strings")
    return tuple(v.strip() for v in values)
