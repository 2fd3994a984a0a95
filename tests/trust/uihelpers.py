"""AppTest helpers for the trust suite (the fixtures themselves come from tests/app/conftest.py)."""
from __future__ import annotations

from tests.app.conftest import services, texts  # noqa: F401  (re-exported)


def everything_on_page(at) -> str:
    """All a browser could show for this run: the readable texts plus every element's full proto
    (labels, help texts, code blocks, table cells, widget values), so nothing hides from a leak check."""
    parts = [texts(at)]
    for node in at._tree:
        proto = getattr(node, "proto", None)
        if proto is not None:
            parts.append(str(proto))
    return "\n".join(parts)


def page_errors(at) -> list[str]:
    return [e.value for e in at.error]
