"""Journey 2 — token debugging: claims and a live countdown, a token the platform stopped accepting, its
diagnosis, a refresh with a new expiry, and a full token that is on the page only after "Reveal"."""
from __future__ import annotations

import base64
import json
import re
import time

import pytest
from playwright.sync_api import expect

from ._ui import assert_no_python_errors, choose, goto, grid_rows, shot, visible_text, wait_idle

pytestmark = pytest.mark.e2e


def metric(page, label: str) -> str:
    m = page.locator('[data-testid="stMetric"]').filter(has_text=label).first
    return m.locator('[data-testid="stMetricValue"]').inner_text().strip()


def jwt_claims(token: str) -> dict:
    payload = token.split(".")[1]
    return json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))


def test_token_claims_countdown_expiry_diagnosis_refresh_and_reveal(page, app, connected_number):
    session = connected_number["session"]
    goto(page, "/tokens", title="🔑 Access tokens")
    choose(page, "Number", f"session {session}")

    # claims and a countdown
    expect(page.get_by_text(f"Session saved for this number: {session}")).to_be_visible()
    claims_grid = page.locator('[data-testid="stDataFrame"]').nth(1)
    expect(claims_grid).to_contain_text("organizationId", timeout=15_000)
    claims = " ".join(grid_rows(page, nth=1))
    for claim in ("sub", session, "exp", "iat", "organizationId", connected_number["org"]):
        assert claim in claims, f"{claim!r} not in the claims table: {claims!r}"
    first = metric(page, "Expires in")
    assert re.fullmatch(r"1[0-5] min \d\d s|\d min \d\d s", first), first
    expect(page.locator('[data-testid="stMetric"]').filter(has_text="Expires in").first
           .locator('[data-testid="stMetricValue"]')).not_to_have_text(first, timeout=5_000)  # it counts down
    assert metric(page, "Usable now (60-second rule)") == "Yes"
    old_expiry = metric(page, "Expires at")

    # the platform stops accepting it; "Test it" explains
    app.sim_json("POST", "/_sim/tokens/expire", json={"session": session})
    page.get_by_role("button", name="Test it").click()
    diagnosis = page.locator('[data-testid="stAlert"]').filter(has_text="Next step")
    expect(diagnosis).to_be_visible(timeout=15_000)
    text = diagnosis.inner_text()
    assert re.search(r"The token has expired|The platform does not recognise this token", text), text
    assert "Refresh now" in text, text
    shot(page, "journey2-diagnosis")

    # "Refresh now": a new token, a new expiry
    time.sleep(1.1)  # the new token's exp (whole seconds) must differ from the old one
    page.get_by_role("button", name="Refresh now").click()
    expect(page.get_by_text("New token saved. It expires")).to_be_visible(timeout=15_000)
    wait_idle(page)
    new_expiry = metric(page, "Expires at")
    assert new_expiry != old_expiry, f"the expiry did not change after Refresh now ({new_expiry})"
    expect(diagnosis).to_have_count(0)  # the old diagnosis is gone with the old token

    # the full token is not on the page until "Reveal the full token"
    html_before = page.content()
    text_before = visible_text(page)
    masked = page.locator('[data-testid="stCode"]').first.inner_text().strip()
    assert "…" in masked and "chars" in masked, f"the token is not masked: {masked!r}"
    page.get_by_text("Reveal the full token").click()
    code = page.locator('[data-testid="stCode"]').first
    expect(code).not_to_contain_text("…", timeout=10_000)
    token = re.sub(r"\s+", "", code.inner_text())
    assert re.fullmatch(r"[\w-]+\.[\w-]+\.[\w-]+", token), f"not a JWT on the page: {token[:40]!r}"
    assert jwt_claims(token)["sub"] == session
    assert token not in html_before, "the full token was in the page source before Reveal"
    assert token not in text_before, "the full token was visible before Reveal"
    assert masked.startswith(token[:4]) and token[-4:] in masked, (masked, token[:4], token[-4:])
    for part in token.split("."):  # not even one part of it leaked
        if len(part) > 12:
            assert part not in html_before, "a part of the full token was in the page before Reveal"

    # the new token works
    page.get_by_role("button", name="Test it").click()
    expect(page.locator('[data-testid="stAlert"]').filter(has_text="The token works")).to_be_visible(timeout=15_000)
    assert_no_python_errors(page, "Tokens")
    shot(page, "journey2-refreshed-and-revealed")
