"""Where the console's own HTTP routes are, as a browser addresses them (Streamlit's ``server.baseUrlPath`` first).

A floor below both :mod:`wppui.routes` (which serves them) and :mod:`wppui.state` / the gate (which point the
browser or the demo's simulator at them), so neither has to import the other for an address.
"""
from __future__ import annotations

SESSION_PATH = "/_wpp/session"
END_PATH = "/_wpp/session/end"
HOOK_PATH = "/_wpp/hook/{secret}"
BOARD_PATH = "/_wpp/board"
HEALTH_PATH = "/_wpp/health"
METRICS_PATH = "/_wpp/metrics"


def _base() -> str:
    """Streamlit's ``server.baseUrlPath`` as a path prefix ("" or "/console")."""
    try:
        from streamlit import config

        base = (config.get_option("server.baseUrlPath") or "").strip("/")
    except Exception:  # noqa: BLE001
        base = ""
    return "/" + base if base else ""


def url(path: str) -> str:
    """The browser-side address of one of these routes."""
    return _base() + path


__all__ = ["BOARD_PATH", "END_PATH", "HEALTH_PATH", "HOOK_PATH", "METRICS_PATH", "SESSION_PATH", "url"]
