"""Built-in rule packs, shipped as data beside this file so an installed postcheck finds them."""

from pathlib import Path

BUILTIN_RULES_DIR = Path(__file__).resolve().parent
