"""Fixtures for the access (sign-in) tests."""
from __future__ import annotations

import pytest

from wpp.access import hash_password
from wpp.clock import ManualClock

STAFF_PASSWORD = "correct horse battery"


@pytest.fixture(scope="session")
def staff_password() -> str:
    return STAFF_PASSWORD


@pytest.fixture(scope="session")
def anna_hash() -> str:
    """One real (default-parameter) scrypt hash, made once: hashing costs ~50 ms."""
    return hash_password(STAFF_PASSWORD)


@pytest.fixture
def clock():
    return ManualClock(start=1_700_000_000)
