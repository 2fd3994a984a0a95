"""Fixtures shared by every test folder. Folder-specific fixtures live in that folder's conftest.py."""
from __future__ import annotations

import pytest


@pytest.fixture
def sim():
    """A fresh embedded WPP Platform simulator on a free loopback port (default knobs)."""
    from wpp.simulator import Simulator

    with Simulator() as s:
        yield s
