"""Roles hold at the edges (issue 24), on the pages: Settings, Activity and Alerts as people with different roles at
different schools, and a dialog pressed after its person was demoted.

Mixed people (administrator of A and viewer of B; viewer of every school and administrator of A) come from the
school platform's membership table in real use; here the authorizer answers for them (what it reads is tested in
tests/access), the pages and the service do the rest for real.
"""
from __future__ import annotations

import re

import pytest
import streamlit as st

from wpp.access.roles import Access, Grant, Role
from wpp.i18n import N_
from wpp.models import ActivityEntry, AlertRecord
from wppui import tables

from .conftest import STAFF_PASSWORD, services, sign_in, signed_in_page, texts

A = "0a0a0a0a-0000-4000-8000-00000000000a"
B = "0b0b0b0b-0000-4000-8000-00000000000b"
SUPPORT = "support@wpp.example"
DIRECTOR_A = "director@school-a.ru"
DIRECTOR_B = "director@school-b.ru"
SMTP_LOGIN = "smtp-login@console.example"

#: what the membership table would say about them (see the module docstring)
MIXED = {
    "maria": Access.of([Grant(Role.ADMINISTRATOR, frozenset({A})), Grant(Role.VIEWER, frozenset({B}))], source="test"),
    "victor": Access.of([Grant(Role.VIEWER), Grant(Role.ADMINISTRATOR, frozenset({A}))], source="test"),
}


@pytest.fixture
def district_mode(app_env, sim, tmp_path, staff_hash):
    secrets = tmp_path / "secrets.toml"
    secrets.write_text(
        f'WPP_SMTP_HOST = "127.0.0.1"\nWPP_SMTP_PORT = 9\nWPP_SMTP_FROM = "console@school.example"\n'
        f'WPP_SMTP_USER = "{SMTP_LOGIN}"\nWPP_SMTP_PASSWORD = "smtp-Pa55word-very-secret"\n\n'
        f'[WPP_ALERT_RECIPIENTS]\n"*" = ["{SUPPORT}"]\n"{A}" = ["{DIRECTOR_A}"]\n"{B}" = ["{DIRECTOR_B}"]\n\n'
        f'[staff.anna]\npassword = "{staff_hash}"\nrole = "administrator"\nschools = "*"\n\n'
        f'[staff.maria]\npassword = "{staff_hash}"\nrole = "administrator"\nschools = ["{A}"]\n\n'
        f'[staff.victor]\npassword = "{staff_hash}"\nrole = "viewer"\nschools = "*"\n\n'
        f'[staff.olga]\npassword = "{staff_hash}"\nrole = "operator"\nschools = ["{A}"]\n',
        encoding="utf-8")
    app_env.setenv("WPP_SECRETS_FILE", str(secrets))
    app_env.setenv("WPP_BASE_URL", sim.base_url)
    app_env.setenv("WPP_SECRET", sim.secret)
    st.cache_resource.clear()
    return sim


@pytest.fixture
def district(app, district_mode, monkeypatch):
    """Schools A ("Reception A") and B ("Secret B"), each with an alert to its director and to support, the diary's
    lines about those alerts, a refusal at B, and the mixed people's roles."""
    app.run()  # builds the service
    svc, _ = services()
    from wppui import state

    auth = state.authorizer()
    real = auth.access_for
    monkeypatch.setattr(auth, "access_for", lambda ident, fresh=False: MIXED.get(ident.username)
                        or real(ident, fresh=fresh))
    svc.add_organization("Школа Альфа", A, actor="setup")
    svc.add_organization("Школа Бета", B, actor="setup")
    made = {}
    for org, name in ((A, "Reception A"), (B, "Secret B")):
        row = svc.create_number(org, name=name, actor="setup").integration
        district_mode.set_status(svc.store.get(row.id).session, "connected")
        made[org] = row.id
    now = svc.clock.time()
    for org, director in ((A, DIRECTOR_A), (B, DIRECTOR_B)):
        for to in (SUPPORT, director):
            svc.store.queue_alerts([AlertRecord(
                incident_id=f"{made[org]}@1", event="down", recipient=f"email:{to}", channel="email", shown_to=to,
                lang="en", subject=f"Down: {to}", body="The number is down.", created_at=now,
                next_try_at=now + 3600, integration_id=made[org], organization_id=org)])
            line = N_("An alert to {to} could not be sent ({problem}); the console tries again later.", to=to,
                      problem=N_("the mail server did not answer"))
            svc.store.log_activity(ActivityEntry(action="alert_failed", outcome="error", actor="WPP Console",
                                                 integration_id=made[org], organization_id=org, detail=line.english,
                                                 message=line.to_json()))
    svc.store.log_activity(ActivityEntry(action="refused", outcome="error", actor="boris", integration_id=made[B],
                                         organization_id=B, detail="Refused: remove a number"))
    tables.changed()
    return made


def as_person(app, who: str):
    sign_in(app, who, STAFF_PASSWORD)
    assert signed_in_page(app), texts(app)
    return app


def open_page(app, page: str, **params):
    for k in list(app.query_params):
        del app.query_params[k]
    for k, v in params.items():
        app.query_params[k] = v
    app.switch_page(page).run()
    assert not app.exception, app.exception
    return texts(app)


@pytest.mark.parametrize("who", ["maria", "victor"])
def test_settings_as_an_administrator_of_one_school_shows_only_that_schools_part(app, district, who):
    """Issue 24.1: an administrator of one school saw every school's recipients, every staff account, the SMTP user
    and the webhooks of all schools."""
    as_person(app, who)
    page = open_page(app, "pages/settings.py")
    assert "Settings" in page and DIRECTOR_A in page and "Reception A" in page
    for other in (SUPPORT, DIRECTOR_B, SMTP_LOGIN, "anna", "olga", "WPP_", "Secret B", "127.0.0.1"):
        assert other not in page, f"{who} read {other!r} on Settings"
    assert "administrators of every school" in page


def test_settings_as_the_administrator_of_every_school_shows_everything(app, district):
    as_person(app, "anna")
    page = open_page(app, "pages/settings.py")
    for everything in (SUPPORT, DIRECTOR_A, DIRECTOR_B, SMTP_LOGIN, "Reception A", "Secret B"):
        assert everything in page, everything


@pytest.mark.parametrize("who", ["maria", "victor"])
def test_activity_as_a_mixed_person_has_each_line_by_its_own_role(app, district, who):
    """Issue 24.2: B's administrator-only lines, and (viewer of every school) every sign-in, were shown."""
    as_person(app, who)
    open_page(app, "pages/activity.py")
    diary = "\n".join(df.value.to_string() for df in app.dataframe)  # the diary itself, not the sidebar
    assert DIRECTOR_A in diary, "A's alert lines are A's administrator's business"
    assert "Школа Бета" in diary, "what happened to B's numbers: B's viewer sees it"
    for other in (SUPPORT, DIRECTOR_B, "boris", "Signed in", "anna"):
        assert other not in diary, f"{who} read {other!r} in the diary"
    if who == "maria":
        assert "administrator of 1 school, viewer of 1 school" in texts(app).replace("\\", "")


@pytest.mark.parametrize("who", ["maria", "victor"])
def test_alerts_as_a_mixed_person_shows_only_their_schools_alerts_to_their_schools_people(app, district, who):
    as_person(app, who)
    page = open_page(app, "pages/outbox.py")
    # the alert's subject is read above its text (Markdown, escaped; an address gets an invisible word joiner)
    assert f"Down: {DIRECTOR_A}" in re.sub(r"\\(.)", r"\1", page).replace("\u2060", "")
    for other in (SUPPORT, DIRECTOR_B, "Школа Бета", "Secret B"):
        assert other not in page, f"{who} read {other!r} on Alerts"


def test_an_operator_gets_a_sentence_instead_of_settings_and_alerts(app, district):
    as_person(app, "olga")
    assert "Only an administrator of every school can see the console's settings" in \
        open_page(app, "pages/settings.py").replace("\\", "")
    assert "Only an administrator can see the alerts the console sent and who gets them" in \
        open_page(app, "pages/outbox.py").replace("\\", "")


def test_a_remove_dialog_pressed_after_a_demotion_is_refused(app, district, monkeypatch):
    """Issue 24.4: the Remove dialog acted through the page's service, built with the rights of the run that opened
    it; an administrator demoted to viewer could still press "Remove" in a dialog opened before.

    The demotion arrives after the page built its service and before the dialog's own run reads who may do what (in
    a browser: minutes later, a dialog's button re-runs only the dialog)."""
    from wppui import pagekit, state

    as_person(app, "anna")
    open_page(app, "pages/number.py", n=district[A])
    [b for b in app.button if b.key == "number_remove"][0].click().run()
    assert [b for b in app.button if b.key == "remove_keep"], "the confirmation is open"

    auth = state.authorizer()
    real_access, real_begin = auth.access_for, pagekit.begin
    demoted = {"now": False}
    viewer = Access.of([Grant(Role.VIEWER)], source="test")
    monkeypatch.setattr(auth, "access_for", lambda ident, fresh=False: viewer if demoted["now"]
                        else real_access(ident, fresh=fresh))

    def begin(*args, **kwargs):
        s = real_begin(*args, **kwargs)
        demoted["now"] = True  # from here on, the membership table says: viewer
        return s

    monkeypatch.setattr(pagekit, "begin", begin)
    [b for b in app.button if b.key == "remove_keep"][0].click().run()
    assert not app.exception, app.exception
    assert "Only an administrator can remove a number" in texts(app)
    svc, _ = services()
    assert svc.store.get(district[A]).is_active, "the demoted administrator removed the number"
    assert "refused" in [e.action for e in svc.store.list_activity(limit=20)]
