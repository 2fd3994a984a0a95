"""Fixtures for the unit tests (no sockets: httpx.MockTransport only)."""
from __future__ import annotations

import httpx
import pytest

from wpp.client import WppClient

from .wpp_unit_helpers import Recorder


@pytest.fixture
def make_client():
    made: list[WppClient] = []

    def factory(answer, **kw):
        rec = answer if isinstance(answer, Recorder) else Recorder(answer)
        c = WppClient("https://wpp.example.test", transport=httpx.MockTransport(rec), **kw)
        made.append(c)
        return c, rec

    yield factory
    for c in made:
        c.close()
