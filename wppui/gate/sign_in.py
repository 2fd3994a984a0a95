"""The sign-in page: the form (staff account or school platform account), each attempt (throttled, refused in
words, written to the activity log), the organisation account through Streamlit's own OpenID Connect
(``st.login``), and :func:`signed_in`, which starts the lasting sign-in.
"""
from __future__ import annotations

import logging
import time
from typing import Any

import streamlit as st

from wpp.errors import WppError
from wpp.i18n import _
from wpp.masking import scrub

from .. import state
from ..text import bold, esc, plain
from .browser import END_COOKIE, TICKET, client_key
from .tab import NOTICE, log_sign_in

log = logging.getLogger(__name__)


def _methods(cfg) -> list[str]:
    out = []
    if getattr(cfg, "staff", None):
        out.append("staff")
    if getattr(cfg, "supabase_url", None) and getattr(cfg, "supabase_key", None):
        out.append("supabase")
    return out


def sign_in_page(verdict: Any) -> None:
    """The sign-in page for this run's :class:`~wppui.gate.verdict.Verdict` (nobody signed in, or the sign-in could
    not be checked): the notice it greets with, the organisation account's button, the form."""
    cfg = verdict.settings
    st.title("📱 " + _("WPP Console"))
    st.subheader(_("Sign in"))
    notice = st.session_state.pop(NOTICE, None)
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
        st.error(bold(_("Nobody can sign in yet.")) + " " + _("No sign-in method is configured.") + "\n\n"
                 + _("An administrator must add staff accounts ([staff] in .streamlit/secrets.toml, password hashes "
                     "made with python scripts/hash_password.py), an [auth] OpenID Connect provider, or Supabase "
                     "(SUPABASE_URL and SUPABASE_KEY)."), icon="🔒")
        return
    if oidc:
        if st.button(_("Sign in with your organisation's account"), type="primary", key="wpp_oidc_sign_in"):
            oidc_login()
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
        log_sign_in("refused", shown, client, method)
        _show_refusal(err)
        return
    except SignInRateLimited as err:
        log_sign_in("throttled", shown, client, method)
        _show_refusal(err)
        return
    except WrongCredentials as err:
        log_sign_in("failure", shown, client, method)
        _show_refusal(err)
        return
    except WppError as err:
        if getattr(err, "kind", "") == "access_denied" and (user or "").strip() and password:
            log_sign_in("failure", shown, client, method)
        _show_refusal(err)
        return
    except Exception as err:  # noqa: BLE001 - words, never a traceback
        log.exception("sign-in failed unexpectedly")
        st.error(_("Signing in failed: something unexpected went wrong.") + "\n\n"
                 + _("Try again. If it keeps happening, tell the administrator."), icon="⚠️")
        with st.expander(_("Details for support")):
            st.code(scrub(f"{type(err).__name__}: {err}", [password]), language=None, wrap_lines=True)
        return
    log_sign_in("success", plain(getattr(ident, "name", "") or shown, limit=120), client, method)
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
    ss.pop(END_COOKIE, None)
    ss[state.IDENTITY] = ident
    ss[state.SIGN_IN_KEY] = None
    try:
        ticket, key = state.begin_sign_in(ident)
    except Exception:  # noqa: BLE001 - the tab is signed in; only F5 will ask again
        log.exception("the sign-in could not be made lasting")
        return
    ss[state.SIGN_IN_KEY] = key
    lifetime = float(getattr(state.sign_ins(), "ticket_lifetime_s", 120.0))
    ss[TICKET] = (ticket, key, time.time() + lifetime)


# =============================================================================================================
# OpenID Connect (Streamlit's st.login)
# =============================================================================================================
def oidc_logged_in() -> bool:
    try:
        return bool(getattr(st.user, "is_logged_in", False))
    except Exception:  # noqa: BLE001 - no [auth] section, an old Streamlit
        return False


def oidc_identity(cfg):
    from wpp.access import identity_from_oidc

    try:
        ident = identity_from_oidc(st.user.to_dict(), allowed=getattr(cfg, "allowed_email_list", None),
                                   allow_any=bool(getattr(cfg, "allow_any_oidc_account", False)),
                                   trust_without_claim=bool(getattr(cfg, "oidc_trust_emails", False)))
        state.authorizer().admit(ident)
        return ident
    except WppError as err:
        st.session_state["_wpp_oidc_problem"] = f"**{esc(err.message)}**\n\n{esc(err.action)}"
        log_sign_in("failure", plain(getattr(st.user, "email", "") or "", limit=120), client_key(), "oidc")
        try:
            st.logout()
        except Exception:  # noqa: BLE001
            pass
        return None


def oidc_login() -> None:
    try:
        st.login()
    except Exception as err:  # noqa: BLE001 - a missing Authlib, a broken [auth] section: a sentence
        log.warning("st.login failed: %s", scrub(f"{type(err).__name__}: {err}"))
        st.error(bold(_("Signing in with an organisation account does not work on this console right now."))
                 + "\n\n" + _("Ask the administrator to check the [auth] settings (and that Authlib is installed), "
                            "or sign in another way."), icon="⚠️")
