"""Shared fixtures: one Checker per test session, because loading the model is the slow part."""

from __future__ import annotations

import pytest

from checker import Checker


@pytest.fixture(scope="session")
def checker() -> Checker:
    return Checker(use_user_config=False)
