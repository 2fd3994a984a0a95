"""The access gate: nothing is read or drawn for a browser before the person is known.

Every page file calls :func:`guard_page` first, and every self-refreshing fragment calls :func:`guard_fragment`
first (or is made with :func:`fragment`); ``streamlit_app.py`` calls :func:`check` / :func:`refuse` before
``st.navigation``. Each run decides again, whatever mode Streamlit serves the page in (the entry script's
navigation, or its legacy "pages folder" mode right after a restart):

1. the language of this run (``wppui.lang``);
2. the configuration: one that cannot be used stops the console with a page naming the file, the line and what is
   wrong (no sign-in, no demo);
3. who is signed in: the tab's identity while its lasting sign-in is still on (a "Sign out" in another tab ends
   it within seconds), else the browser's ``wpp_session`` cookie (a lasting sign-in: F5, a second tab, a browser
   or console restart), else an OIDC sign-in (``st.user``), else the demo identity in demo mode, else the sign-in
   form, and the run stops.

Lasting sign-in: after the form accepts someone, ``SignInSessions.begin`` gives a one-time ticket; the page posts it
once (a small script) to the console's own route ``/_wpp/session`` (``wppui.routes``), which turns it into the
HttpOnly, SameSite=Lax, signed cookie. "Sign out" ends the sign-in on the server, clears everything the tab held
and posts ``/_wpp/session/end`` to delete the cookie.
"""
from __future__ import annotations

import functools
import hashlib
import ipaddress
import json
import logging
import re
import secrets
import threading
import time
from dataclasses import dataclass
from typing import Any, Callable

import streamlit as st

from wpp.errors import WppError
from wpp.i18n import _
from wpp.masking import scrub

from . import lang, state
from .text import esc, plain

log = logging.getLogger("wppui.gate")

SESSION_COOKIE = "wpp_session"
#: a random, non-secret id of this browser (sign-in throttling tells browsers apart with it)
DEVICE_COOKIE = "wpp_device"
DEVICE_MAX_AGE_S = 400 * 24 * 3600
_DEVICE_RE = re.compile(r"[A-Za-z0-9_-]{16,64}")
#: how often a signed-in tab checks that its sign-in was not ended elsewhere (the sidebar's watch)
WATCH_SECONDS = 5.0

# st.session_state keys owned by the gate
_TICKET = "_wpp_ticket"  # a one-time ticket the page still has to hand to /_wpp/session
_END_COOKIE = "_wpp_end_cookie"  # the page still has to ask /_wpp/session/end to delete the cookie
_DEVICE = "_wpp_device"  # this tab's device id when the browser had none
_NOTICE = "_wpp_gate_notice"  # a sentence for the sign-in page (e.g. "you were signed out")


@dataclass(frozen=True)
class Verdict:
    """What :func:`check` found: the settings and who is signed in, or why nobody is."""

    settings: Any = None
    identity: Any = None
    #: the configuration (or the services built from it) cannot be used
    error: BaseException | None = None
    #: "demo_network": demo mode asked for on a network address; "unchecked": the sign-in could not be checked
    refusal: str | None = None
    problem: BaseException | None = None

    @property
    def ok(self) -> bool:
        return self.identity is not None and self.error is None and self.refusal is None


# =============================================================================================================
# The guards
# =============================================================================================================
_SHELL = threading.local()


_HANDOFF = "_wpp_shell_handoff"  # a page run alone already asked for a rerun through the entry script


def enter_shell() -> None:
    """``streamlit_app.py`` says a run of the entry script began (a page run inside it is not alone)."""
    _SHELL.active = True
    st.session_state.pop(_HANDOFF, None)


def leave_shell() -> None:
    _SHELL.active = False


def running_alone() -> bool:
    """True when Streamlit runs a page file without the entry script (its legacy pages-folder mode)."""
    return not getattr(_SHELL, "active", False)


def guard_page():
    """First line of every page file: ``identity = guard_page()``.

    Sets the language of this run, leaves Streamlit's legacy pages-folder mode (harmless, not the gate), then
    checks the configuration and who is signed in. Returns the signed-in :class:`wpp.access.Identity`; otherwise
    draws the sign-in form (or the configuration error page) and stops the run, so the page reads nothing."""
    lang.apply()
    alone = running_alone() and not st.session_state.get(_HANDOFF)  # ask once: never a loop of reruns
    if alone:
        st.session_state[_HANDOFF] = True
    state.require_app_shell(alone=alone)
    verdict = check()
    if not verdict.ok:
        refuse(verdict)  # stops
    return verdict.identity


def guard_fragment() -> bool:
    """First line of every self-refreshing fragment: ``if not guard_fragment(): return``.

    True when the tab's person is still signed in. Otherwise the fragment must draw nothing and read nothing;
    when the sign-in was ended elsewhere (another tab's "Sign out", an expired day), the whole page is re-run so it
    shows the sign-in form."""
    lang.apply()
    try:
        cfg = state.settings()
    except Exception:  # noqa: BLE001 - the page run explains it
        return False
    had = st.session_state.get(state.IDENTITY) is not None
    notice = _("You were signed out.")
    try:
        if had and _still_signed_in(cfg, st.session_state[state.IDENTITY]) is True:
            if _authorized(st.session_state[state.IDENTITY]):
                return True
            notice = withdrawn_notice()
    except Exception:  # noqa: BLE001 - cannot tell: draw nothing this time (the page run explains)
        log.warning("the sign-in could not be checked in a fragment", exc_info=True)
        return False
    if had:
        _end_lasting_sign_in()
        _forget_tab(notice=notice)
        st.rerun()
    return False


def _checked(f: Callable) -> Callable:
    """``f`` run only after :func:`guard_fragment` (a failed check draws nothing)."""
    @functools.wraps(f)
    def guarded(*args, **kwargs):
        if not guard_fragment():
            return None
        return f(*args, **kwargs)

    return guarded


def fragment(func: Callable | None = None, *, run_every: float | None = None):
    """``st.fragment`` whose every run starts with :func:`guard_fragment` (a failed check draws nothing):

        @gate.fragment(run_every=2)
        def status(): ...
    """
    def wrap(f: Callable) -> Callable:
        return st.fragment(_checked(f), run_every=run_every)

    return wrap(func) if func is not None else wrap


def dialog(title: str, **kwargs):
    """``st.dialog`` whose every run starts with :func:`guard_fragment`: a dialog's buttons re-run only the dialog,
    and that run too must know who is signed in and speak the tab's language."""
    def wrap(f: Callable) -> Callable:
        return st.dialog(title, **kwargs)(_checked(f))

    return wrap


# =============================================================================================================
# Deciding
# =============================================================================================================
def check() -> Verdict:
    """Decide who this run is for (see the module docstring). Draws nothing."""
    try:
        cfg = state.settings()
        state.service()  # a store or platform setting that cannot be used stops the console too
    except Exception as err:  # noqa: BLE001 - a broken configuration is a page, never a traceback or the demo
        log.error("the console cannot start: %s", _scrub_startup(_english(err)))
        return Verdict(error=err)
    if _demo(cfg) and not _is_loopback(st.get_option("server.address")):
        return Verdict(cfg, refusal="demo_network")
    try:
        ident = _identity(cfg)
        if ident is not None and not _authorized(ident):
            # a person whose role was taken away (membership removed, account no longer on the list): signed out
            _log_sign_in("withdrawn", plain(getattr(ident, "name", "") or "", limit=120), client_key(),
                         getattr(ident, "method", "") or "staff")
            _end_lasting_sign_in()
            _forget_tab(notice=withdrawn_notice())
            ident = None
    except Exception as err:  # noqa: BLE001 - the sign-in store cannot be read: closed, in words
        log.warning("the sign-in could not be checked: %s", scrub(_english(err)))
        return Verdict(cfg, refusal="unchecked", problem=err)
    return Verdict(cfg, ident)


def _identity(cfg):
    ss = st.session_state
    ident = ss.get(state.IDENTITY)
    if ident is not None:
        still = _still_signed_in(cfg, ident)
        if still:
            return ident
        _forget_tab(notice=_("You were signed out."))
    # an organisation account (Streamlit's own OIDC sign-in)
    if getattr(cfg, "oidc_configured", False) and _oidc_logged_in():
        ident = _oidc_identity(cfg)
        if ident is not None:
            ss[state.IDENTITY] = ident
            ss[state.SIGN_IN_KEY] = None
            return ident
    # a lasting sign-in of this browser
    cookie = lang.cookies().get(SESSION_COOKIE)
    if cookie and _END_COOKIE not in ss:
        found = state.sign_ins().resolve(cookie)
        if found is not None:
            ident, key = found
            state.authorizer().forget(ident)  # a sign-in that comes back reads the person's role afresh
            ss[state.IDENTITY] = ident
            ss[state.SIGN_IN_KEY] = key
            return ident
    if _demo(cfg) and not getattr(cfg, "demo_sign_in", False):
        from wpp.access import demo_identity

        ident = demo_identity(demo_person())
        ss[state.IDENTITY] = ident
        ss[state.SIGN_IN_KEY] = None
        return ident
    return None


def _authorized(ident) -> bool:
    """Read what ``ident`` may do (re-read at most a minute after the last reading, see ``wpp.access.authorize``)
    into the tab; False when they may do nothing any more. A store that cannot be read raises (fail closed)."""
    access = state.authorizer().access_for(ident)
    if access.empty:
        st.session_state.pop(state.ACCESS, None)
        return False
    st.session_state[state.ACCESS] = access
    return True


def withdrawn_notice() -> str:
    return _("Your access to WPP Console was withdrawn. If this is a mistake, ask the administrator of your school.")


def _end_lasting_sign_in() -> None:
    key = st.session_state.get(state.SIGN_IN_KEY)
    if key:
        try:
            state.sign_ins().end(key)
        except Exception:  # noqa: BLE001 - the tab forgets the person anyway
            log.exception("ending the sign-in failed")


#: the demo person this browser tries the console as (a cookie: not a secret, demo mode only)
DEMO_AS_COOKIE = "wpp_demo_as"
_DEMO_AS = "_wpp_demo_as"


def demo_person() -> str:
    """Which demo person this tab is (``wpp.access.identity.DEMO_PEOPLE``): the tab's choice, else the browser's
    cookie, else the demo's administrator."""
    from wpp.access.identity import DEMO_PEOPLE

    for value in (st.session_state.get(_DEMO_AS), lang.cookies().get(DEMO_AS_COOKIE)):
        if isinstance(value, str) and value in DEMO_PEOPLE:
            return value
    return "demo"


def _demo_switch() -> None:
    """Demo mode: try the console as another demo person (an administrator, a receptionist of one school, a
    viewer). Remembered for this browser."""
    from wpp.access.identity import DEMO_PEOPLE, demo_identity

    labels = {
        "demo": _("Administrator: every school"),
        "demo-operator": _("Operator: {school}", school=_demo_school(0)),
        "demo-viewer": _("Viewer: two schools"),
    }
    people = list(DEMO_PEOPLE)
    current = demo_person()
    chosen = st.selectbox(_("Try the console as"), people, index=people.index(current), format_func=labels.get,
                          key="wpp_demo_as_choice")
    if chosen != current:
        ss = st.session_state
        ss[_DEMO_AS] = chosen
        new = demo_identity(chosen)
        ss[state.IDENTITY] = new
        ss.pop(state.ACCESS, None)
        ss.pop("wpp_tokens", None)
        ss["_wpp_demo_cookie"] = chosen
        # the diary keeps the demo person's English name and shows it in the reader's language
        _log_sign_in("success", new.name, client_key(), "demo")
        st.rerun()
    remembered = st.session_state.pop("_wpp_demo_cookie", None)
    if remembered:
        lang.write_cookie(DEMO_AS_COOKIE, remembered, DEVICE_MAX_AGE_S)


def _role_in_words(access) -> str:
    """ "operator: Школа № 5" for one school; "administrator of every school", "viewer of 3 schools" otherwise."""
    if access.everywhere is None and len(access.schools) == 1:
        (org, role), = access.schools.items()
        try:
            school = state.service().organization_name(org)
        except Exception:  # noqa: BLE001 - the sidebar never breaks a page
            return str(access.describe())
        return _("{role}: {school}", role=str(role.label), school=school)
    return str(access.describe())


def _demo_school(i: int) -> str:
    from wpp.demo import DEMO_SCHOOLS

    try:
        return state.service().organization_name(DEMO_SCHOOLS[i][0])
    except Exception:  # noqa: BLE001
        return DEMO_SCHOOLS[i][1]


def _still_signed_in(cfg, ident) -> bool:
    """Is the tab's identity still good? Demo: still demo mode. OIDC: still signed in at Streamlit. Others: their
    lasting sign-in is still on (None key: the sign-in could not be made lasting; it lasts this tab only)."""
    method = getattr(ident, "method", "")
    if method == "demo":
        return _demo(cfg) and not getattr(cfg, "demo_sign_in", False) and getattr(ident, "username", "") == demo_person()
    if method == "oidc":
        return _oidc_logged_in()
    key = st.session_state.get(state.SIGN_IN_KEY)
    if key is None:
        return True
    return bool(state.sign_ins().is_active(key))


def _demo(cfg) -> bool:
    return bool(getattr(cfg, "demo", False))


def _is_loopback(address: str | None) -> bool:
    if not address:
        return False  # Streamlit's default listens on every interface
    if address == "localhost":
        return True
    try:
        return ipaddress.ip_address(address).is_loopback
    except ValueError:
        return False


def _b(text: str) -> str:
    """Our own (translated) words in bold; never data (data goes through ``esc``)."""
    return f"**{text}**"


def _english(err: BaseException) -> str:
    return err.english if isinstance(err, WppError) else f"{type(err).__name__}: {err}"


# =============================================================================================================
# Refusing: the configuration error page, the sign-in page
# =============================================================================================================
def refuse(verdict: Verdict) -> None:
    """Draw why this run shows nothing (configuration error, demo on a network address, the sign-in form) and stop
    the run. The sidebar holds only the language switch."""
    if verdict.error is not None:
        config_error_page(verdict.error)
    elif verdict.refusal == "demo_network":
        _demo_network_page()
    else:
        _sign_in_page(verdict)
    with st.sidebar:
        lang.switch()
    _pending_scripts()
    st.stop()


def config_error_page(err: BaseException) -> None:
    """The console cannot start: which file, which line, what is wrong (ConfigError's message and detail)."""
    st.title("📱 " + _("WPP Console"))
    st.subheader(_("The console cannot start"))
    if isinstance(err, WppError):
        where = []
        path = getattr(err, "path", None) or getattr(err, "file", None)
        line = getattr(err, "line", None) or getattr(err, "lineno", None)
        if path:
            where.append(_("File: {path}", path=esc(path)))
        if line:
            where.append(_("Line: {line}", line=esc(line)))
        first, *rest = [line for line in err.message.split("\n") if line.strip()] or [""]
        body = [f"**{esc(first)}**"]
        if rest:
            body.append("\n".join("- " + esc(line.strip().lstrip("•·-*").strip()) for line in rest))
        if where:
            body.append(" · ".join(where))
        if err.action:
            body.append(esc(err.action))
        st.error("\n\n".join(body), icon="🛑")
        detail = err.detail
    else:
        st.error(_b(_("The console could not start: something unexpected went wrong.")) + "\n\n"
                 + _("Show the details below to the administrator or to support."), icon="🛑")
        detail = _scrub_startup(f"{type(err).__name__}: {err}")
    if detail:
        st.caption(_("Details for the administrator"))
        st.code(detail, language=None, wrap_lines=True)
    st.caption(_("Nobody can sign in until the configuration is corrected and the console is restarted."))


_URL_PASSWORD = re.compile(r"(\b[a-z][a-z0-9+.-]*://[^/\s:@]+:)([^@\s/]+)(@)", re.I)


def _scrub_startup(text: str) -> str:
    """An unexpected start-up failure, shown before anyone signed in: without the configured secrets (when the
    settings could be read) nor a password inside a URL."""
    known: list[str] = []
    try:
        cfg = state.settings()
        for name in ("wpp_secret", "supabase_key", "database_url", "jwt_verify_key"):
            value = getattr(cfg, name, None)
            reveal = getattr(value, "reveal", None)
            known.append(reveal() if callable(reveal) else value)
    except Exception:  # noqa: BLE001
        pass
    text = _URL_PASSWORD.sub(lambda m: m.group(1) + "***" + m.group(3), text)
    return scrub(text, [k for k in known if isinstance(k, str)])


def _demo_network_page() -> None:
    st.title("📱 " + _("WPP Console"))
    st.error(_b(_("Demo mode only runs on this computer.")) + "\n\n"
             + _("This console has no platform configured, so it runs a simulated platform, and that is only "
                 "allowed on this computer's own address (127.0.0.1).") + "\n\n"
             + _("Start it the way README.md says, or configure the platform address (WPP_BASE_URL)."), icon="🔒")


def _methods(cfg) -> list[str]:
    out = []
    if getattr(cfg, "staff", None):
        out.append("staff")
    if getattr(cfg, "supabase_url", None) and getattr(cfg, "supabase_key", None):
        out.append("supabase")
    return out


def _sign_in_page(verdict: Verdict) -> None:
    cfg = verdict.settings
    st.title("📱 " + _("WPP Console"))
    st.subheader(_("Sign in"))
    notice = st.session_state.pop(_NOTICE, None)
    if notice:
        st.info(notice, icon="👋")
    if verdict.refusal == "unchecked":
        st.error(_("Your sign-in cannot be checked right now: the console's database does not answer.") + "\n\n"
                 + _("Try again in a minute. If it keeps happening, tell the administrator."), icon="⚠️")
        return
    problem = st.session_state.pop("_wpp_oidc_problem", None)
    if problem:
        st.error(problem, icon="⛔")
    methods = _methods(cfg)
    oidc = bool(getattr(cfg, "oidc_configured", False))
    if not methods and not oidc:
        st.error(_b(_("Nobody can sign in yet.")) + " " + _("No sign-in method is configured.") + "\n\n"
                 + _("An administrator must add staff accounts ([staff] in .streamlit/secrets.toml, password hashes "
                     "made with python scripts/hash_password.py), an [auth] OpenID Connect provider, or Supabase "
                     "(SUPABASE_URL and SUPABASE_KEY)."), icon="🔒")
        return
    if oidc:
        if st.button(_("Sign in with your organisation's account"), type="primary", key="wpp_oidc_sign_in"):
            _oidc_login()
    if not methods:
        return
    labels = {"staff": _("Staff account"), "supabase": _("School platform account (email)")}
    if len(methods) > 1:
        method = st.radio(_("How do you sign in?"), methods, format_func=labels.get, horizontal=True,
                          key="wpp_sign_in_method")
    else:
        method = methods[0]
    with st.form("wpp_sign_in"):
        user = st.text_input(_("Email") if method == "supabase" else _("Name"), key="wpp_sign_in_user",
                             autocomplete="email" if method == "supabase" else "username")
        password = st.text_input(_("Password"), type="password", key="wpp_sign_in_password",
                                 autocomplete="current-password")
        submitted = st.form_submit_button(_("Sign in"), type="primary")
    if submitted:
        _attempt(cfg, method, user, password)


def _attempt(cfg, method: str, user: str, password: str) -> None:
    from wpp.access import SignInRateLimited, WrongCredentials
    from wpp.access.authorize import NoAccess

    client = client_key()
    shown = plain(user, limit=120)
    try:
        if method == "supabase":
            from wpp.access import supabase_sign_in

            ident = supabase_sign_in(cfg.supabase_url, cfg.supabase_key, user, password,
                                     throttle=state.throttle(), client_key=client)
        else:
            directory = state.staff()
            if directory is None:
                raise WrongCredentials()
            ident = directory.sign_in(user, password, client_key=client)
        state.authorizer().admit(ident)  # proved who they are; now: has anybody given them a role?
    except NoAccess as err:
        _log_sign_in("refused", shown, client, method)
        _show_refusal(err)
        return
    except SignInRateLimited as err:
        _log_sign_in("throttled", shown, client, method)
        _show_refusal(err)
        return
    except WrongCredentials as err:
        _log_sign_in("failure", shown, client, method)
        _show_refusal(err)
        return
    except WppError as err:
        if getattr(err, "kind", "") == "access_denied" and (user or "").strip() and password:
            _log_sign_in("failure", shown, client, method)
        _show_refusal(err)
        return
    except Exception as err:  # noqa: BLE001 - words, never a traceback
        log.exception("sign-in failed unexpectedly")
        st.error(_("Signing in failed: something unexpected went wrong.") + "\n\n"
                 + _("Try again. If it keeps happening, tell the administrator."), icon="⚠️")
        with st.expander(_("Details for support")):
            st.code(scrub(f"{type(err).__name__}: {err}", [password]), language=None, wrap_lines=True)
        return
    _log_sign_in("success", plain(getattr(ident, "name", "") or shown, limit=120), client, method)
    signed_in(ident)
    st.rerun()


def _show_refusal(err: WppError) -> None:
    """The refusal in words; a throttle's and a wrong password's texts say how long to wait ("12 seconds")."""
    body = f"**{esc(err.message)}**"
    if err.action:
        body += "\n\n" + esc(err.action)
    st.error(body, icon="⛔")


def signed_in(ident) -> None:
    """Remember who signed in for this tab and start the lasting sign-in (its ticket is posted by this page's next
    drawing). If the sign-in cannot be made lasting, it still holds for this tab."""
    ss = st.session_state
    ss.pop(_END_COOKIE, None)
    ss[state.IDENTITY] = ident
    ss[state.SIGN_IN_KEY] = None
    try:
        ticket, key = state.begin_sign_in(ident)
    except Exception:  # noqa: BLE001 - the tab is signed in; only F5 will ask again
        log.exception("the sign-in could not be made lasting")
        return
    ss[state.SIGN_IN_KEY] = key
    lifetime = float(getattr(state.sign_ins(), "ticket_lifetime_s", 120.0))
    ss[_TICKET] = (ticket, key, time.time() + lifetime)


def _redeemed(key: str) -> bool:
    """Has the browser handed the ticket of sign-in ``key`` over (the cookie is set)?"""
    try:
        found = state.sign_ins().store.get_sign_in_session(key=key)
    except Exception:  # noqa: BLE001
        return False
    return found is None or getattr(found, "id_hash", None) is not None


# --- OpenID Connect (Streamlit's st.login) -------------------------------------------------------------------
def _oidc_logged_in() -> bool:
    try:
        return bool(getattr(st.user, "is_logged_in", False))
    except Exception:  # noqa: BLE001 - no [auth] section, an old Streamlit
        return False


def _oidc_identity(cfg):
    from wpp.access import identity_from_oidc

    try:
        ident = identity_from_oidc(st.user.to_dict(), allowed=getattr(cfg, "allowed_email_list", None),
                                   allow_any=bool(getattr(cfg, "allow_any_oidc_account", False)))
        state.authorizer().admit(ident)
        return ident
    except WppError as err:
        st.session_state["_wpp_oidc_problem"] = f"**{esc(err.message)}**\n\n{esc(err.action)}"
        _log_sign_in("failure", plain(getattr(st.user, "email", "") or "", limit=120), client_key(), "oidc")
        try:
            st.logout()
        except Exception:  # noqa: BLE001
            pass
        return None


def _oidc_login() -> None:
    try:
        st.login()
    except Exception as err:  # noqa: BLE001 - a missing Authlib, a broken [auth] section: a sentence
        log.warning("st.login failed: %s", scrub(f"{type(err).__name__}: {err}"))
        st.error(_b(_("Signing in with an organisation account does not work on this console right now."))
                 + "\n\n" + _("Ask the administrator to check the [auth] settings (and that Authlib is installed), "
                            "or sign in another way."), icon="⚠️")


# =============================================================================================================
# Signed in: the sidebar pieces, signing out
# =============================================================================================================
def sidebar(ident, *, numbers_page=None) -> None:
    """Everything the shell puts in the sidebar of a signed-in page: the demo notice, "Needs attention: N", who is
    signed in, Sign out, the language switch; and the watch that notices a sign-out done elsewhere."""
    cfg = state.settings()
    if _demo(cfg):
        st.caption("🧪 " + _b(_("Demo — simulated platform.")) + " "
                   + _("Nothing here reaches WhatsApp. Only this computer can open this page."))
    if numbers_page is not None:
        _attention_link(numbers_page)
    if getattr(ident, "method", "") == "demo":
        from wpp.access.identity import DEMO_NAMES

        name = str(DEMO_NAMES.get(getattr(ident, "name", ""), _("Demo user")))
    else:
        name = getattr(ident, "name", "")
    st.caption(_("Signed in as {name}", name=f"**{esc(name)}**") + " · " + esc(_role_in_words(state.access())))
    if _demo(cfg):
        _demo_switch()
    if getattr(ident, "method", "") != "demo":
        if st.button(_("Sign out"), key="wpp_sign_out", icon=":material/logout:"):
            sign_out()
    lang.switch()
    from . import live

    live.listen()  # a pushed change on screen within a second (a waiting request, no CPU while nothing changes)
    if st.session_state.get(state.SIGN_IN_KEY):
        _watch()
    _pending_scripts()


#: how often the sidebar's "Needs attention: N" looks again (seconds; the service counts at most once per board
#: version and a few seconds for every tab of the process)
ATTENTION_SECONDS = 10.0


def _attention_link(numbers_page) -> None:
    """ "Needs attention: N" in the sidebar, kept up to date by itself (a number linked meanwhile drops out)."""

    @fragment(run_every=ATTENTION_SECONDS)
    def _live() -> None:
        try:
            n = int(state.for_session().attention_count())
        except Exception:  # noqa: BLE001 - the sidebar never breaks a page
            log.exception("attention count")
            return
        if n > 0:
            st.page_link(numbers_page, label=_("Needs attention: {n}", n=n), icon="⚠️",
                         query_params={"filter": "attention"})

    _live()


@st.fragment(run_every=WATCH_SECONDS)
def _watch() -> None:
    """Every few seconds: is this tab's sign-in still on? (Draws nothing; a sign-out elsewhere re-runs the page.)"""
    guard_fragment()


def sign_out() -> None:
    """End the sign-in everywhere in this browser: revoke it on the server, clear everything this tab held
    (all of st.session_state: identity, tokens, revealed values, choices), delete the cookie, leave OIDC."""
    ss = st.session_state
    ident = ss.get(state.IDENTITY)
    key = ss.get(state.SIGN_IN_KEY)
    try:
        if key:
            state.sign_ins().end(key)
    except Exception:  # noqa: BLE001 - the cookie is still deleted below
        log.exception("ending the sign-in failed")
    method = getattr(ident, "method", "") or "staff"
    _log_sign_in("sign_out", plain(getattr(ident, "name", "") or "", limit=120), client_key(), method)
    _forget_tab(notice=_("You have signed out."))
    if method == "oidc":
        try:
            st.logout()
        except Exception:  # noqa: BLE001
            pass
    st.rerun()


def _forget_tab(*, notice: str | None = None) -> None:
    """Clear everything this tab held; keep only its language choice and device id (not personal)."""
    ss = st.session_state
    ended = ss.get(state.SIGN_IN_KEY)
    keep = {k: ss[k] for k in (lang.CHOSEN, _DEVICE) if k in ss}
    ss.clear()
    ss.update(keep)
    # the page then asks the console's route to delete this browser's cookie, if it is this sign-in's (or dead)
    ss[_END_COOKIE] = ended if isinstance(ended, str) else None
    if notice:
        ss[_NOTICE] = notice


# =============================================================================================================
# Small scripts the page runs once (the cookie work that must not cross the websocket as a lasting secret)
# =============================================================================================================
def _js(value: str) -> str:
    """A JavaScript string literal that is safe inside <script>."""
    return json.dumps(value).replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def _post_script(url: str, body: dict | None) -> str:
    payload = _js(json.dumps(body or {}))
    return ("<script>(async () => { for (let i = 0; i < 4; i++) { try { const r = await fetch("
            + _js(url) + ", {method: 'POST', credentials: 'same-origin', cache: 'no-store', "
            "headers: {'Content-Type': 'application/json'}, body: " + payload + "});"
            " if (r.status < 500) return; } catch (e) {} await new Promise(f => setTimeout(f, 400 * (i + 1))); } })();"
            "</script>")


def _pending_scripts() -> None:
    from . import routes

    ss = st.session_state
    pending = ss.get(_TICKET)
    if pending:
        # drawn on every run until the browser has redeemed it: a run cut short (a page switch right after signing
        # in) may never have let the browser see the script
        ticket, key, until = pending
        if key is None or time.time() > until or _redeemed(key):
            ss.pop(_TICKET, None)
        if key is None or _TICKET in ss:
            st.html(_post_script(routes.url(routes.SESSION_PATH), {"ticket": ticket}), unsafe_allow_javascript=True,
                    width="content")
    if _END_COOKIE in ss:
        ended = ss.pop(_END_COOKIE)
        st.html(_post_script(routes.url(routes.END_PATH), {"key": ended if isinstance(ended, str) else None}),
                unsafe_allow_javascript=True, width="content")
    device = _device_cookie()
    if device is None and ss.get(_DEVICE) and not ss.get("_wpp_device_written"):
        ss["_wpp_device_written"] = True
        lang.write_cookie(DEVICE_COOKIE, ss[_DEVICE], DEVICE_MAX_AGE_S)


# =============================================================================================================
# Who is asking (throttling), the activity log
# =============================================================================================================
def _device_cookie() -> str | None:
    value = lang.cookies().get(DEVICE_COOKIE)
    return value if isinstance(value, str) and _DEVICE_RE.fullmatch(value) else None


def client_key() -> str:
    """An opaque key for this browser, for sign-in throttling: its ``wpp_device`` cookie (a random, non-secret id
    the sign-in page writes), else an id this tab keeps until the cookie is there."""
    device = _device_cookie()
    if device:
        return "device:" + device
    ss = st.session_state
    if not ss.get(_DEVICE):
        ss[_DEVICE] = secrets.token_urlsafe(18)
    return "device:" + ss[_DEVICE]


def _client_label(client: str) -> str:
    """What the activity log says about the browser: a short fingerprint of its key (never the key itself)."""
    return "browser " + hashlib.sha256(client.encode("utf-8")).hexdigest()[:8]


def _log_sign_in(event: str, username: str, client: str, method: str) -> None:
    """Sign-in events into the activity log through the service (every failure and throttle)."""
    try:
        state.service().log_sign_in(event, username=username, client=_client_label(client), method=method)
    except Exception:  # noqa: BLE001 - logging never stops a sign-in
        log.exception("the sign-in event could not be written to the activity log")
