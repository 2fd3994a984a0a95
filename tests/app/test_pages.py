"""Every page, headless through AppTest: the happy path and the failures a person would meet."""
from __future__ import annotations

import time

import pytest

from .conftest import services, texts

ORG = "123e4567-e89b-12d3-a456-426614174000"


def create_number(at, org=ORG, name="Front desk"):
    at.switch_page("pages/connect.py").run()
    inputs = {ti.label: ti for ti in at.text_input}
    inputs["Organisation id (only for another organisation)"].input(org)
    inputs["Name for this number"].input(name)
    at.button[[b.label for b in at.button].index("Create and show the QR code")].click().run()
    return at


def click(at, label):
    labels = [b.label for b in at.button]
    assert label in labels, f"no button {label!r} among {labels}"
    return at.button[labels.index(label)].click().run()


def wait_for_qr(at, timeout=8.0):
    deadline = time.time() + timeout
    while time.time() < deadline:
        at.run()
        if at.image:
            return at
        time.sleep(0.3)
    raise AssertionError("no QR image appeared:\n" + texts(at))


def test_home_opens_on_numbers_with_demo_banner(app):
    app.run()
    assert not app.exception
    page = texts(app)
    assert "WhatsApp numbers" in page
    assert "Demo — simulated platform" in page
    assert "No numbers yet" in page


def test_sidebar_and_banner_survive_a_page_switch(app):
    """Fails without the entry_script_reruns fixture: AppTest would rerun only the page script."""
    app.run()
    app.switch_page("pages/settings.py").run()
    assert not app.exception
    sidebar = " ".join(str(getattr(e, "value", "")) for e in app.sidebar)
    assert "Demo — simulated platform" in sidebar
    assert "Signed in as" in sidebar


def test_a_page_run_alone_by_streamlit_still_goes_through_the_app(app_env):
    """Without the fixture AppTest reruns only the page file (Streamlit's legacy ``pages/`` mode), exactly what a
    real server does for the first bookmarked request after a restart: the page must send it back through the
    entry script, so the gate, the sidebar and the demo banner are there."""
    from streamlit.testing.v1 import AppTest

    from .conftest import APP

    at = AppTest.from_file(APP, default_timeout=30)
    at.run()
    at.switch_page("pages/tokens.py").run()
    assert not at.exception
    sidebar = " ".join(str(getattr(e, "value", "")) for e in at.sidebar)
    assert "Demo — simulated platform" in sidebar
    assert "Access tokens" in texts(at)


def test_numbers_problem_column_shows_the_live_answer_not_an_old_outage(app):
    app.run()
    create_number(app)
    wait_for_qr(app)
    click(app, "📷 Simulate the phone scan")
    svc, sim = services()
    row = svc.list_numbers()[0]
    svc.store.update(row.id, last_error="The WPP Platform cannot be reached.")
    svc.board.forget(row.id)
    app.switch_page("pages/numbers.py").run()
    deadline = time.time() + 10
    while time.time() < deadline:
        table = app.dataframe[0].value
        if "Connected" in table.loc[0, "Status"]:
            break
        time.sleep(0.3)
        app.run()
    assert "Connected" in table.loc[0, "Status"], table.to_dict("records")
    assert table.loc[0, "Problem"] == "", table.to_dict("records")
    # the number's own page still tells the history, with its time
    app.switch_page("pages/number.py").run()
    assert "Last problem (" in texts(app) and "cannot be reached" in texts(app)

def test_connect_pair_by_simulated_scan_then_connected(app):
    app.run()
    create_number(app)
    assert not app.exception, app.exception
    page = texts(app)
    assert "was created on the platform" in page
    svc, sim = services()
    row = svc.list_numbers()[0]
    assert row.api_key and row.session and row.jwt
    wait_for_qr(app)
    assert "Linked devices" in texts(app)
    click(app, "📷 Simulate the phone scan")
    app.run()
    assert "The phone is connected" in texts(app)
    assert not app.exception


def test_create_with_bad_organisation_id_is_refused_and_saves_nothing(app):
    app.run()
    create_number(app, org="not-an-org-id")
    assert not app.exception
    assert "Organisation id must look like" in texts(app)
    svc, _ = services()
    assert svc.list_numbers(include_inactive=True) == []


def test_create_while_key_activates_shows_pending_and_finish_creating(app):
    app.run()
    svc, sim = services()
    svc.tokens.activation_wait_s = 0.5
    sim.knobs.key_activation_delay_s = 60
    create_number(app)
    page = texts(app)
    assert not app.exception
    assert "rejected the API key" in page
    assert "was created and saved" in page
    row = svc.list_numbers()[0]
    assert row.api_key and row.token_pending
    sim.knobs.key_activation_delay_s = 0
    app.run()
    assert "were not finished being created" in texts(app)
    click(app, "Finish creating")
    assert not app.exception
    assert svc.list_numbers()[0].jwt


def test_platform_down_everywhere_is_readable(app):
    app.run()
    create_number(app)
    svc, sim = services()
    sim.stop()
    svc.board.forget(svc.list_numbers()[0].id)
    for page in ("pages/numbers.py", "pages/number.py", "pages/tokens.py", "pages/send.py", "pages/connect.py"):
        app.switch_page(page).run()
        assert not app.exception, (page, app.exception)
        assert "Traceback" not in texts(app)
    app.switch_page("pages/numbers.py").run()
    time.sleep(2.5)
    app.run()
    page = texts(app)
    assert "Cannot check" in page and "cannot be reached" in page


def test_tokens_page_masks_until_reveal_refreshes_and_diagnoses(app):
    app.run()
    create_number(app)
    svc, sim = services()
    row = svc.list_numbers()[0]
    app.switch_page("pages/tokens.py").run()
    assert not app.exception
    page = texts(app)
    assert row.jwt not in page, "the full token must not be on the page before Reveal"
    assert "Claims" in page and "exp" in page and "Usable now" in page
    assert "the token's own expiry (exp claim)" in page
    app.toggle[0].set_value(True).run()
    assert row.jwt in texts(app)
    app.toggle[0].set_value(False).run()
    sim.expire_tokens()
    click(app, "🧪 Test it")
    page = texts(app)
    assert "does not recognise this token" in page and "Next step" in page
    before = svc.get(row.id).jwt
    click(app, "🔄 Refresh now")
    assert "New token saved" in texts(app)
    assert svc.get(row.id).jwt != before
    click(app, "🧪 Test it")
    assert "The token works" in texts(app)


@pytest.mark.parametrize("pasted, expected", [
    ("not a token", "not a token that can be read"),
    ("eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0", "not a token that can be read"),
])
def test_tokens_page_pasted_garbage_is_explained(app, pasted, expected):
    app.run()
    app.switch_page("pages/tokens.py").run()
    app.radio[0].set_value("A token I paste").run()
    app.text_area[0].input(pasted).run()
    assert not app.exception
    assert expected in texts(app)


def test_tokens_page_decodes_a_pasted_token(app):
    import jwt as pyjwt

    app.run()
    token = pyjwt.encode({"sub": "0000000000042", "iat": int(time.time()), "exp": int(time.time()) + 600},
                         "k" * 32, algorithm="HS256")
    app.switch_page("pages/tokens.py").run()
    app.radio[0].set_value("A token I paste").run()
    app.text_area[0].input(token).run()
    page = texts(app)
    assert "0000000000042" in page and "HS256" in page
    assert token not in page


def test_send_refuses_bad_number_and_sends_good_one(app):
    app.run()
    create_number(app)
    svc, sim = services()
    row = svc.list_numbers()[0]
    sim.set_status(row.session, "connected")
    app.switch_page("pages/send.py").run()
    app.text_input[0].input("8 900 12A").run()
    assert not app.exception
    assert "cannot be used" in texts(app)
    send_btn = [b for b in app.button if b.label == "Send"][0]
    assert send_btn.disabled
    app.text_input[0].input("8 (900) 123-45-67").run()
    assert "+7 900 123-45-67" in texts(app)
    click(app, "Send")
    page = texts(app)
    assert "Task id" in page
    msgs = sim.messages()
    assert len(msgs) == 1 and msgs[0]["to"] == "79001234567"
    assert msgs[0]["taskId"] in page


def test_send_on_a_number_that_is_not_connected_says_so(app):
    app.run()
    create_number(app)
    app.switch_page("pages/send.py").run()
    app.text_input[0].input("+7 900 123 45 67").run()
    click(app, "Send")
    assert not app.exception
    assert "could not send the message" in texts(app) or "not connected" in texts(app)


def test_activity_lists_what_happened_newest_first(app):
    app.run()
    create_number(app)
    app.switch_page("pages/activity.py").run()
    assert not app.exception
    df = app.dataframe[0].value
    assert len(df) >= 3
    assert set(df["Who"]) == {"Demo user"}
    assert "create" in set(df["Action"])
    assert df["When"].iloc[0] >= df["When"].iloc[-1]


def test_settings_says_demo_and_masks_secrets(app):
    app.run()
    app.switch_page("pages/settings.py").run()
    page = texts(app)
    assert "Demo — simulated platform" in page and "SQLite" in page
    _, sim = services()
    assert sim.secret not in page


def test_number_page_disconnect_asks_then_stops(app):
    app.run()
    create_number(app)
    svc, sim = services()
    row = svc.list_numbers()[0]
    sim.set_status(row.session, "connected")
    app.session_state["selected_id"] = row.id
    app.switch_page("pages/number.py").run()
    assert "The phone is connected" in texts(app)
    click(app, "Yes, disconnect")
    assert not app.exception
    assert sim.accounts()[0]["status"] in ("offline", "OFFLINE")
    app.run()
    assert "not connected" in texts(app)


def test_a_typed_organisation_id_is_used_even_when_the_list_shows_another(app):
    app.run()
    create_number(app)  # the list of organisations now offers ORG first
    click(app, "Connect another number")
    other = "223e4567-e89b-12d3-a456-426614174999"
    assert app.selectbox[0].value == ORG
    create_number(app, org=other, name="Second school")
    assert not app.exception
    svc, _ = services()
    by_name = {r.display_name: r.organization_id for r in svc.list_numbers()}
    assert by_name["Second school"] == other, by_name


def test_numbers_page_shows_a_pending_number_as_finished_once_its_status_check_got_a_token(app):
    """A number saved without its first token is finished by the status check itself (it mints and saves one):
    the same page run that shows the check's answer must not still call the number unfinished."""
    app.run()
    svc, sim = services()
    svc.tokens.activation_wait_s = 0.5
    sim.knobs.key_activation_delay_s = 60
    create_number(app)
    assert svc.list_numbers()[0].token_pending
    sim.knobs.key_activation_delay_s = 0
    svc.board.forget(svc.list_numbers()[0].id)
    app.switch_page("pages/numbers.py").run()  # its first list: the page waits briefly for the first check
    table = app.dataframe[0].value
    assert "Not finished" not in table.loc[0, "Status"], table.to_dict("records")
    assert "Waiting for QR scan" in table.loc[0, "Status"] or "Starting" in table.loc[0, "Status"], \
        table.to_dict("records")
    assert not svc.list_numbers()[0].token_pending  # the check saved the token
