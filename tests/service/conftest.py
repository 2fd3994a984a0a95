"""The service tests use ``sim``, ``store``, ``make_service`` and ``svc`` from tests/conftest.py."""
from __future__ import annotations

ORG = "123e4567-e89b-12d3-a456-426614174000"
ORG2 = "9a1b2c3d-0000-4000-8000-00000000abcd"
