"""Who may use the console: staff sign-in, framework-free.

This console holds API keys that can send WhatsApp messages for an organisation, so outside demo mode nobody sees a
page before signing in. Four ways in, each ending in an :class:`Identity`:

* **staff** accounts from the ``[staff]`` table of the secrets file (name -> password hash), :class:`StaffDirectory`;
* **Supabase Auth** (email + password), :func:`supabase_sign_in`;
* **OIDC** through Streamlit's own ``st.login``: the app passes ``st.user`` to :func:`identity_from_oidc`, which
  needs an allow-list or an explicit "anyone at the provider";
* **demo** mode: :func:`demo_identity`.

Wrong passwords are throttled (:class:`Throttle`: growing delays per account and per browser, never a lock), and a
sign-in lasts the working day through :class:`SignInSessions` (server-side, behind a signed HttpOnly cookie).

Modules: ``identity``, ``passwords``, ``throttle``, ``staff``, ``supabase_auth``, ``oidc``, ``sessions``.
Nothing here imports Streamlit.
"""
from __future__ import annotations

from .identity import METHODS, Identity, Method, demo_identity
from .oidc import identity_from_oidc, parse_allow_list
from .passwords import (
    HASH_FORMAT_HELP,
    PBKDF2_MIN_ITERATIONS,
    SCRYPT_N,
    SCRYPT_P,
    SCRYPT_R,
    check_hash_format,
    hash_password,
    staff_problems,
    verify_password,
)
from .sessions import COOKIE_NAME, SignInSessions, cookie_kwargs, set_cookie_header
from .staff import StaffDirectory
from .supabase_auth import SignInUnavailable, supabase_refresh, supabase_sign_in
from .throttle import SignInRateLimited, SignInThrottled, Throttle, WrongCredentials, wait_text

__all__ = [
    "COOKIE_NAME",
    "HASH_FORMAT_HELP",
    "METHODS",
    "Identity",
    "Method",
    "PBKDF2_MIN_ITERATIONS",
    "SCRYPT_N",
    "SCRYPT_P",
    "SCRYPT_R",
    "SignInRateLimited",
    "SignInSessions",
    "SignInThrottled",
    "SignInUnavailable",
    "StaffDirectory",
    "Throttle",
    "WrongCredentials",
    "check_hash_format",
    "cookie_kwargs",
    "demo_identity",
    "hash_password",
    "identity_from_oidc",
    "parse_allow_list",
    "set_cookie_header",
    "staff_problems",
    "supabase_refresh",
    "supabase_sign_in",
    "verify_password",
    "wait_text",
]
