"""Journey 12 — every page passes axe-core (the ``axe-playwright-python`` package, which carries axe.js itself) with
no serious or critical violation, in a Russian and in an English browser: the selected segmented/pill buttons' text
must have WCAG AA contrast (the theme's primary colour, .streamlit/config.toml), and no page skips a heading level.
"""
from __future__ import annotations

import re

import pytest

from ._ui import goto, new_context, paired_number, shot, wait_idle

pytestmark = pytest.mark.e2e

PAGES = ("/", "/connect", "/number?n={id}", "/access?n={id}", "/send?n={id}", "/activity", "/settings", "/outbox")
#: what must not be on any page (axe's impact levels)
BLOCKING = ("serious", "critical")
#: rules that must hold too, whatever axe rates them (the issue names a heading level skipped on Settings)
ALSO = ("heading-order",)


def _violations(page) -> list[str]:
    from axe_playwright_python.sync_playwright import Axe

    results = Axe().run(page)
    found = []
    for v in results.response.get("violations", []):
        if v.get("impact") in BLOCKING or v.get("id") in ALSO:
            targets = [" ".join(map(str, n.get("target", []))) for n in v.get("nodes", [])[:3]]
            found.append(f"{v['id']} ({v.get('impact')}): {v.get('help')} — {targets}")
    return found


@pytest.mark.parametrize("locale", ["ru-RU", "en-GB"])
def test_every_page_passes_axe_core(browser, app, locale):
    number = paired_number(browser, app, school="Школа", name=f"Доступность {locale[:2]}")
    ctx, page = new_context(browser, app.url, locale=locale, viewport={"width": 1366, "height": 900})
    report: dict[str, list[str]] = {}
    try:
        for path in PAGES:
            goto(page, path.format(id=number["id"]))
            page.wait_for_timeout(1500)
            wait_idle(page)
            found = _violations(page)
            if found:
                report[path] = found
                shot(page, f"journey12-axe-{locale}" + re.sub(r"\W+", "-", path.split("?")[0]).rstrip("-"))
    finally:
        ctx.close()
    assert not report, "axe-core found serious or critical problems:\n" + "\n".join(
        f"{p}:\n  " + "\n  ".join(lines) for p, lines in report.items())
