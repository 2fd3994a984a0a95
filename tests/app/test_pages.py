"""Every page, headless through AppTest (demo mode): the journeys a receptionist makes and the failures she meets.

Numbers are always named by school and name; the address (``?n=``) says which number a page is about.
"""
from __future__ import annotations

import re
import time

from wpp.access.roles import Access

from .conftest import services
from .conftest import texts as _texts

UUID_RE = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", re.I)
SCHOOL = "Школа № 5"


# --- helpers ------------------------------------------------------------------------------------------
def texts(at) -> str:
    """What a person reads: the page's text with Markdown's backslash escapes (wppui.text.esc) removed."""
    return re.sub(r"\\(.)", r"\1", _texts(at))


def labels(at, kind="button"):
    return [w.label for w in getattr(at, kind)]


def click(at, label):
    found = [b for b in at.button if b.label == label]
    assert found, f"no button {label!r} among {labels(at)}"
    return found[0].click().run()


def open_page(at, page, **params):
    at.query_params.clear()
    at.query_params.update(params)
    return at.switch_page(page).run()


def widget(at, kind, label):
    found = [w for w in getattr(at, kind) if w.label == label]
    assert found, f"no {kind} {label!r} among {labels(at, kind)}"
    return found[0]


def school_id(name=SCHOOL):
    svc, _ = services()
    return next(o.id for o in svc.organizations() if o.name == name)


def create(at, school=SCHOOL, name=None):
    """Connect: pick the school by name, (re)name the number, press create."""
    open_page(at, "pages/connect.py")
    widget(at, "selectbox", "School").set_value(school_id(school)).run()
    if name is not None:
        widget(at, "text_input", "Name of this number").input(name).run()
    click(at, "Create and show the QR code")
    assert not at.exception, at.exception
    return at


def wait_for(at, predicate, what, timeout=10.0):
    deadline = time.monotonic() + timeout
    while True:
        at.run()
        if predicate(at):
            return at
        if time.monotonic() > deadline:
            raise AssertionError(f"{what} did not appear:\n{texts(at)}")
        time.sleep(0.3)


def wait_for_qr(at):
    return wait_for(at, lambda a: len(a.image) > 0, "the QR code")


def create_via_service(name, school=SCHOOL):
    """A number made the way the Connect page makes it (quicker than clicking through it)."""
    svc, _ = services()
    out = svc.create_number(school_id(school), name=name, actor="test")
    assert out.error is None, out.error
    return svc.number(out.integration.id)


def the_number():
    svc, _ = services()
    views = svc.numbers()
    assert len(views) == 1, [v.label for v in views]
    return views[0]


# --- Numbers ------------------------------------------------------------------------------------------
def test_home_opens_on_numbers_and_invites_to_connect(app):
    app.run()
    assert not app.exception
    page = texts(app)
    assert "WhatsApp numbers" in page
    assert "No numbers yet" in page
    assert "Connect a number" in labels(app)


def test_numbers_table_names_schools_and_numbers_with_states_in_words_and_no_uuid(app):
    app.run()
    create(app, name="Ресепшн")
    create(app, school="Гимназия № 1", name="Канцелярия")
    svc, sim = services()
    by_name = {v.name: v for v in svc.numbers()}
    sim.set_status(by_name["Ресепшн"].integration.session, "connected")
    svc.check_now()
    open_page(app, "pages/numbers.py")

    def shows_connected(a):
        return a.dataframe and "Connected" in a.dataframe[0].value.to_string()

    wait_for(app, shows_connected, "a connected row")
    table = app.dataframe[0].value
    # what a receptionist reads, whole on a 1366 px laptop (issue 27): since when is in the status itself
    assert list(table.columns) == ["School", "Number", "Phone", "Status", "What to do"]
    assert set(table["School"]) == {SCHOOL, "Гимназия № 1"}
    assert set(table["Number"]) == {"Ресепшн", "Канцелярия"}
    row = table[table["Number"] == "Ресепшн"].iloc[0]
    assert re.fullmatch(r"🟢 Connected since \d\d:\d\d", row["Status"]), row["Status"]  # how long, at a glance
    assert not UUID_RE.search(texts(app)), "a UUID is on the Numbers page"
    assert "session" not in texts(app).lower() and "token" not in texts(app).lower()


def test_numbers_needing_attention_come_first_and_the_filter_shows_only_them(app):
    app.run()
    create(app, name="Ресепшн")
    create(app, school="Гимназия № 1", name="Канцелярия")
    svc, sim = services()
    by_name = {v.name: v for v in svc.numbers()}
    sim.set_status(by_name["Ресепшн"].integration.session, "connected")
    sim.set_status(by_name["Канцелярия"].integration.session, "offline")
    svc.check_now()
    open_page(app, "pages/numbers.py")
    wait_for(app, lambda a: a.dataframe and "Offline" in a.dataframe[0].value.to_string(), "the offline row")
    table = app.dataframe[0].value
    assert list(table["Number"]) == ["Канцелярия", "Ресепшн"], table.to_dict("records")
    assert table.iloc[0]["What to do"], "an offline number must say what to do"
    assert "1 needs attention" in texts(app)
    assert "Needs attention (1)" in str(app.button_group(key="numbers_view").options[1])
    # the sidebar's link opens the page with ?filter=attention: only the numbers needing attention
    open_page(app, "pages/numbers.py", filter="attention")
    assert app.button_group(key="numbers_view").value == "attention"
    assert list(app.dataframe[0].value["Number"]) == ["Канцелярия"]
    app.button_group(key="numbers_view").set_value("all").run()
    assert "filter" not in app.query_params
    assert len(app.dataframe[0].value) == 2


def test_school_filter_by_name(app):
    app.run()
    create(app, name="Ресепшн")
    create(app, school="Гимназия № 1", name="Канцелярия")
    open_page(app, "pages/numbers.py")
    box = widget(app, "selectbox", "School")
    assert box.value is None  # "All schools"
    box.set_value(school_id("Гимназия № 1")).run()
    assert list(app.dataframe[0].value["Number"]) == ["Канцелярия"]


def test_an_unchanged_board_is_not_rebuilt_for_another_viewer_or_tick(app):
    """The table is built once per change and shared; the page's watcher re-runs it only on a change."""
    from wppui import tables

    app.run()
    create(app, name="Ресепшн")
    open_page(app, "pages/numbers.py")
    svc, _ = services()
    first = tables.numbers_table(svc.for_session({}, access=Access.full()))
    again = tables.numbers_table(svc.for_session({}, access=Access.full()))
    assert again is first, "an unchanged board was rebuilt"
    svc.rename(the_number().id, "Ресепшн 2", actor="test")
    tables.changed()
    assert tables.numbers_table(svc.for_session({}, access=Access.full())) is not first, "a rename did not reach the table"


def test_removed_numbers_view_restores(app):
    app.run()
    create(app, name="Ресепшн")
    svc, _ = services()
    n = the_number()
    svc.remove(n.id, actor="test")
    open_page(app, "pages/numbers.py", view="removed")
    assert app.button_group(key="numbers_view").value == "removed"
    assert "Ресепшн" in texts(app)
    click(app, "Restore")
    assert not app.exception
    assert [v.name for v in svc.numbers()] == ["Ресепшн"]
    assert "is back in the list" in texts(app)


# --- Connect and pair ------------------------------------------------------------------------------------
def test_demo_schools_are_offered_by_name_and_the_name_has_a_default(app):
    app.run()
    open_page(app, "pages/connect.py")
    box = widget(app, "selectbox", "School")
    assert {"Школа № 5", "Гимназия № 1"} <= set(box.options)
    assert not any(UUID_RE.search(o) for o in box.options)
    box.set_value(school_id()).run()
    assert widget(app, "text_input", "Name of this number").value == "Main number"


def test_connect_then_pair_by_simulated_scan_then_send_is_one_click_away(app):
    app.run()
    create(app, name="Ресепшн")
    n = the_number()
    assert n.org_name == SCHOOL and n.name == "Ресепшн"
    assert app.query_params.get("n") == n.id, app.query_params  # F5 shows this number again
    assert "req" not in app.query_params
    wait_for_qr(app)
    page = texts(app)
    assert "Linked devices" in page and "Link a device" in page
    assert f"{SCHOOL} · Ресепшн" in page
    click(app, "Simulate the phone scan")
    wait_for(app, lambda a: "The phone is linked" in texts(a), "connected")
    assert "Send a test message" in labels(app)
    click(app, "Send a test message")
    assert not app.exception
    assert "Send a test message" in texts(app) and app.query_params.get("n") == n.id


def test_f5_during_create_finds_the_same_number_and_never_makes_a_second(app):
    """The request id is in the address before the platform is asked; a reload with it finishes that number."""
    app.run()
    svc, sim = services()
    out = svc.create_number(school_id(), name="Ресепшн", actor="test", request_id="req-1")
    assert out.ok
    clients = sim.stats()["clients_created"]
    open_page(app, "pages/connect.py", req="req-1")  # a fresh run: what F5 during the wait gives
    assert not app.exception, app.exception
    assert app.query_params.get("n") == out.integration.id
    assert len(svc.numbers()) == 1
    assert sim.stats()["clients_created"] == clients
    wait_for_qr(app)


def test_f5_on_the_connect_page_shows_the_numbers_qr_again(app):
    app.run()
    create(app, name="Ресепшн")
    n = the_number()
    wait_for_qr(app)
    open_page(app, "pages/connect.py", n=n.id)  # F5: the address is all that is left
    wait_for_qr(app)
    assert len(services()[0].numbers()) == 1


def test_a_prelinked_number_is_never_shown_as_connected_and_offers_the_choice(app):
    from wpp import keys

    app.run()
    create(app, name="Ресепшн")
    svc, sim = services()
    n = the_number()
    sim.set_status(n.integration.session, "connected")
    svc.store.merge_settings(n.id, {keys.PRELINKED: True})
    open_page(app, "pages/number.py", n=n.id)
    page = texts(app)
    assert "already linked to a phone before anyone scanned" in page
    assert "The phone is linked" not in page
    assert {"Take it over: it is our phone", "Make a new number instead"} <= set(labels(app))
    click(app, "Make a new number instead")
    assert not app.exception, app.exception
    new_id = app.query_params.get("n")
    assert new_id and new_id != n.id
    assert [v.id for v in svc.numbers()] == [new_id]
    wait_for_qr(app)


def test_a_platform_that_never_offers_a_qr_is_explained(app):
    app.run()
    svc, sim = services()
    sim.knobs.starting_s = 3600  # the platform stays "starting"
    create(app, name="Ресепшн")
    time.sleep(6.5)  # the panel explains after a few seconds without a QR code
    wait_for(app, lambda a: "Why is there no QR code?" in texts(a), "the checklist")
    page = texts(app)
    assert "✅" in page and "The platform answers" in page
    assert "❌ **The platform offers no QR code**" in page  # the problem said as a fact, never "❌ <what must hold>"
    assert page.index("**The platform offers no QR code**") < page.index("✅ The platform answers")  # its title
    assert "Show a new QR code" in labels(app)
    assert not app.exception


# --- Number ------------------------------------------------------------------------------------------
def test_number_page_follows_the_address_and_rename_shows_at_once(app):
    app.run()
    create(app, name="Ресепшн")
    create(app, school="Гимназия № 1", name="Канцелярия")
    svc, _ = services()
    by_name = {v.name: v for v in svc.numbers()}
    open_page(app, "pages/number.py", n=by_name["Канцелярия"].id)
    assert app.title[0].value == "Гимназия № 1 · Канцелярия"
    open_page(app, "pages/number.py", n=by_name["Ресепшн"].id)
    assert app.title[0].value == f"{SCHOOL} · Ресепшн"
    widget(app, "text_input", "New name").input("Вахта")
    click(app, "Save name")
    assert not app.exception
    assert app.title[0].value == f"{SCHOOL} · Вахта"
    picker = widget(app, "selectbox", "Open another number")
    assert f"{SCHOOL} · Вахта" in picker.options
    assert f"{SCHOOL} · Ресепшн" not in picker.options


def test_number_page_escapes_names(app):
    app.run()
    create(app, name="**bold** [link](http://example.com)")
    n = the_number()
    open_page(app, "pages/number.py", n=n.id)
    from wppui.text import esc

    label = f"{SCHOOL} · **bold** [link](http://example.com)"
    assert app.title[0].value == esc(label)
    assert "**bold**" not in app.title[0].value and "](" not in app.title[0].value


def test_remove_asks_first_then_can_be_undone(app):
    app.run()
    create(app, name="Ресепшн")
    svc, sim = services()
    n = the_number()
    open_page(app, "pages/number.py", n=n.id)
    click(app, "Remove")
    page = texts(app)
    assert "stays linked on the WhatsApp platform" in page
    assert {"Remove", "Disconnect and remove", "Cancel"} <= set(labels(app))
    assert svc.numbers(), "removed before the confirmation"
    click(app, "Cancel")
    assert svc.numbers()
    click(app, "Remove")
    widget_buttons = [b for b in app.button if b.label == "Remove" and b.key == "remove_keep"]
    widget_buttons[0].click().run()
    assert not app.exception
    assert svc.numbers() == []
    page = texts(app)
    assert "was removed from the list" in page
    click(app, "Restore")
    assert [v.id for v in svc.numbers()] == [n.id]


def test_a_removed_number_in_the_address_is_never_swapped_for_another(app):
    """Send and Access opened for a removed (or unknown) number say so and pick nothing: a message must never go
    out from another school's number."""
    app.run()
    keep = create_via_service("Основной номер", school="Гимназия № 1")
    gone = create_via_service("Приёмная")
    svc, sim = services()
    sim.set_status(keep.integration.session, "connected")
    sim.set_status(gone.integration.session, "connected")
    svc.remove(gone.id, actor="test")
    for page, picker in (("pages/send.py", "From"), ("pages/access.py", "Number")):
        for address in (gone.id, "no-such-number"):
            open_page(app, page, n=address)
            assert not app.exception
            shown = texts(app)
            assert ("was removed from the list" in shown) if address == gone.id else ("does not exist" in shown)
            assert widget(app, "selectbox", picker).value is None, f"{page} picked another number for {address}"
            assert app.query_params.get("n") in (address, [address])
            assert "Send" not in labels(app) and "Get a new access key" not in labels(app)


def test_a_page_opened_from_the_sidebar_starts_on_the_number_last_looked_at(app):
    app.run()
    first = create_via_service("Основной номер", school="Гимназия № 1")
    second = create_via_service("Приёмная")
    open_page(app, "pages/number.py", n=second.id)
    open_page(app, "pages/access.py")  # the sidebar link: no ?n=
    assert widget(app, "selectbox", "Number").value == second.id
    open_page(app, "pages/number.py", n=first.id)
    open_page(app, "pages/number.py")
    assert app.title[0].value == "Гимназия № 1 · Основной номер"


def test_disconnect_and_remove_unlinks_the_phone(app):
    app.run()
    create(app, name="Ресепшн")
    svc, sim = services()
    n = the_number()
    sim.set_status(n.integration.session, "connected")
    open_page(app, "pages/number.py", n=n.id)
    click(app, "Remove")
    [b for b in app.button if b.key == "remove_disconnect"][0].click().run()
    assert not app.exception
    acct = [a for a in sim.accounts() if a["session"] == n.integration.session][0]
    assert str(acct["status"]).lower() == "offline"
    assert svc.numbers() == []


def test_number_page_history_and_support_details_are_tucked_away(app):
    app.run()
    create(app, name="Ресепшн")
    n = the_number()
    open_page(app, "pages/number.py", n=n.id)
    expanders = [e.label for e in app.expander]
    assert "Connection history" in expanders and "Details for support" in expanders
    details = [e for e in app.expander if e.label == "Details for support"][0]
    assert n.integration.session in details.dataframe[0].value.to_string()


def test_a_number_that_does_not_exist_is_said_in_words(app):
    app.run()
    open_page(app, "pages/number.py", n="00000000-0000-4000-8000-000000000000")
    assert not app.exception
    assert "does not exist any more" in texts(app)


# --- Send -------------------------------------------------------------------------------------------------
def test_send_works_on_the_first_click_right_after_typing(app):
    app.run()
    create(app, name="Ресепшн")
    svc, sim = services()
    n = the_number()
    sim.set_status(n.integration.session, "connected")
    open_page(app, "pages/send.py", n=n.id)
    send = [b for b in app.button if b.label == "Send"][0]
    assert not send.disabled
    app.text_input(key="send_to").input("8 (900) 123-45-67")
    send.click().run()  # typed and clicked in one go: no Enter first
    assert not app.exception
    assert "The platform accepted the message for +7 900 123-45-67" in texts(app)
    msgs = sim.messages()
    assert len(msgs) == 1 and msgs[0]["to"] == "79001234567"
    assert "The message goes to +7 900 123-45-67" in texts(app)


def test_send_refuses_a_bad_number_in_words(app):
    app.run()
    create(app, name="Ресепшн")
    _, sim = services()
    open_page(app, "pages/send.py", n=the_number().id)
    app.text_input(key="send_to").input("8 900 12A")
    click(app, "Send")
    assert not app.exception
    assert "The message was not sent" in texts(app)
    assert sim.messages() == []


# --- Access ------------------------------------------------------------------------------------------------
def test_access_says_it_in_one_sentence_masks_the_key_and_diagnoses(app):
    app.run()
    create(app, name="Ресепшн")
    svc, sim = services()
    n = the_number()
    open_page(app, "pages/access.py", n=n.id)
    assert not app.exception, app.exception
    page = texts(app)
    assert "Access is fine" in page
    jwt = svc.store.get(n.id).jwt
    assert jwt not in page, "the full key is on the page before Reveal"
    app.toggle(key="access_number_reveal").set_value(True).run()
    assert jwt in texts(app)
    app.toggle(key="access_number_reveal").set_value(False).run()
    sim.expire_tokens()
    click(app, "Test access")
    page = texts(app)
    assert "Next step" in page and ("has expired" in page or "does not recognise" in page)
    click(app, "Get a new access key")
    assert "A new access key was saved" in texts(app)
    assert svc.store.get(n.id).jwt != jwt
    click(app, "Test access")
    page = texts(app)
    assert "The access key works" in page
    assert "Show the QR code" in labels(app)  # works, but the phone is not linked yet: the next step
    click(app, "Show the QR code")
    assert app.query_params.get("n") == n.id


def test_access_reads_a_pasted_key(app):
    import jwt as pyjwt

    app.run()
    token = pyjwt.encode({"sub": "0000000000042", "iat": int(time.time()), "exp": int(time.time()) + 600},
                         "k" * 32, algorithm="HS256")
    open_page(app, "pages/access.py")
    app.text_area(key="access_pasted").input(token).run()
    assert not app.exception
    page = texts(app)
    assert "0000000000042" in page and "HS256" in page
    assert token not in page
    app.text_area(key="access_pasted").input("not a key").run()
    assert "This key cannot be read" in texts(app)


# --- Activity, Settings, failures ------------------------------------------------------------------------
def test_activity_reads_like_a_diary(app):
    app.run()
    create(app, name="Ресепшн")
    open_page(app, "pages/activity.py")
    assert not app.exception
    df = app.dataframe[0].value
    # what happened and how it went first: in view on a small laptop
    assert list(df.columns) == ["When", "What happened", "Outcome", "School", "Number", "Who"]
    assert str(df["When"].dtype).startswith("datetime64")
    assert SCHOOL in set(df["School"]) and "Ресепшн" in set(df["Number"])
    assert set(df["Who"]) == {"Demo user"}
    assert df["When"].iloc[0] >= df["When"].iloc[-1]
    widget(app, "toggle", "Only problems").set_value(True).run()
    assert len(app.dataframe) == 0 and "No entry matches these filters." in texts(app)  # never a bare "empty" grid


def test_the_diary_says_when_a_phone_was_linked(app):
    app.run()
    create(app, name="Ресепшн")
    svc, sim = services()
    n = the_number()
    svc.start_pairing(n.id, actor="test")
    sim.set_status(n.integration.session, "connected")
    svc.check_now([n.id])
    deadline = time.time() + 20
    while time.time() < deadline and not any(ln.what == "Connected: the phone was linked" for ln in svc.activity()):
        time.sleep(0.2)
    open_page(app, "pages/activity.py")
    df = app.dataframe[0].value
    linked = df[df["What happened"] == "Connected: the phone was linked"]
    assert len(linked) == 1 and set(linked["Who"]) == {"WhatsApp"} and set(linked["Number"]) == {"Ресепшн"}
    assert set(linked["Outcome"]) == {"🟢 Connected"}  # what the phone did: the state it left, by its one name


def test_settings_are_labelled_rows_without_secrets(app):
    app.run()
    open_page(app, "pages/settings.py")
    assert not app.exception
    _, sim = services()
    page = texts(app)
    assert sim.secret not in page
    assert "Demo" in page
    assert not any(re.fullmatch(r"[a-z]+(_[a-z]+)+", str(k)) for k in app.dataframe[0].value.iloc[:, 0])


def test_platform_down_every_page_says_so_in_words(app):
    app.run()
    create(app, name="Ресепшн")
    svc, sim = services()
    n = the_number()
    sim.stop()
    for page in ("pages/numbers.py", "pages/number.py", "pages/access.py", "pages/send.py", "pages/connect.py",
                 "pages/activity.py", "pages/settings.py"):
        open_page(app, page, n=n.id)
        assert not app.exception, (page, app.exception)
        assert "Traceback" not in texts(app), page
    open_page(app, "pages/send.py", n=n.id)
    app.text_input(key="send_to").input("+7 900 123 45 67")
    click(app, "Send")
    assert "The message was not sent" in texts(app)
    assert "cannot be reached" in texts(app)


def test_settings_are_labelled_rows_and_an_unknown_setting_is_named(app, app_env):
    app_env.setenv("WPP_POLL_SECOND", "5")  # a typo of WPP_POLL_SECONDS: warned about, not silently ignored
    app.run()
    open_page(app, "pages/settings.py")
    assert not app.exception
    warnings = re.sub(r"\\(.)", r"\1", " ".join(w.value for w in app.warning))  # as the browser shows it
    assert "WPP_POLL_SECOND" in warnings, warnings
    table = app.dataframe[0].value
    labels = list(table.iloc[:, 0])
    assert not any("_" in label for label in labels), labels  # words, not snake_case keys
