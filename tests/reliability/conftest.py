"""Fixtures shared by the reliability tests."""

from __future__ import annotations

import os
import random

import pytest


@pytest.fixture
def seed() -> int:
    """The seed of a test's random choices: printed, and replayed with ISCFLOW_TEST_SEED."""
    value = int(os.environ.get("ISCFLOW_TEST_SEED") or random.SystemRandom().randrange(2**32))
    print(f"ISCFLOW_TEST_SEED={value}")
    return value
