"""Supabase Auth (GoTrue) sign-in with email and password, through supabase-py.

The session's access token is what "create" sends to the platform when no platform secret is configured; it lives
only in the signed-in tab (never in a lasting sign-in).
"""
from __future__ import annotations

import re
import time
from dataclasses import replace
from typing import Any, Mapping

from ..errors import AccessDenied, InvalidInput, WppError
from ..i18n import N_
from ..masking import Secret, reveal, scrub
from .identity import Identity
from .throttle import SignInRateLimited, Throttle, WrongCredentials


class SignInUnavailable(WppError):
    """The sign-in service (Supabase Auth) could not be asked, or answered with nonsense.

    Not the person's fault: their email and password were not judged at all (and not counted by the throttle).
    """

    kind = "sign_in_unavailable"
    default_message = N_("The sign-in service cannot be reached.")
    default_action = N_("Check the internet connection of this computer and try again in a minute.")


_EMAIL_RE = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s.]{2,}")


def _check_email(email: str) -> str:
    if not isinstance(email, str):
        raise InvalidInput(N_("Enter your email address."), action="")
    e = email.strip()
    if not e:
        raise InvalidInput(N_("Enter your email address."), action="")
    if len(e) > 254 or not _EMAIL_RE.fullmatch(e):
        raise InvalidInput(
            N_("This does not look like an email address."),
            action=N_("Type the email of your school platform account, e.g. name@example.com."),
        )
    return e


def _make_client(url: str, key: str, timeout: float):
    """A supabase-py client that neither persists nor auto-refreshes the session (no timer threads)."""
    import httpx
    from supabase import ClientOptions, create_client

    http = httpx.Client(timeout=timeout, follow_redirects=True)
    options = ClientOptions(auto_refresh_token=False, persist_session=False, httpx_client=http)
    return create_client(url, key, options=options), http


def _response_of(exc: BaseException):
    """The httpx.Response behind a supabase_auth error, when there was one."""
    seen = 0
    cur: BaseException | None = exc
    while cur is not None and seen < 5:
        resp = getattr(cur, "response", None)
        if resp is not None:
            return resp
        cur = cur.__cause__ or cur.__context__
        seen += 1
    return None


def _map_auth_error(exc: BaseException, secrets_: list[str]) -> WppError:
    """Turn whatever supabase-py raised into one readable WppError; nothing secret in it."""
    import httpx

    try:
        from pydantic import ValidationError
    except Exception:  # pragma: no cover - pydantic always comes with supabase
        ValidationError = ()  # type: ignore[assignment]

    def detail(extra: str) -> str:
        text = f"{type(exc).__name__}: {extra}"
        for s in sorted((s for s in secrets_ if s), key=len, reverse=True):
            text = text.replace(s, "•••")  # also secrets too short for scrub() to look for
        return scrub(text[:500], secrets_)

    # Network trouble (raised by httpx directly, or wrapped as AuthRetryableError with status 0).
    if isinstance(exc, httpx.TimeoutException) or isinstance(exc.__cause__, httpx.TimeoutException):
        return SignInUnavailable(
            N_("The sign-in service did not answer in time."),
            action=N_("Wait a minute and try again."),
            detail=detail("timeout"),
            secrets=secrets_,
        )
    if isinstance(exc, httpx.RequestError) or isinstance(exc.__cause__, httpx.RequestError):
        return SignInUnavailable(detail=detail("network error"), secrets=secrets_)
    if ValidationError and isinstance(exc, ValidationError):
        return SignInUnavailable(
            N_("The sign-in service sent an answer that could not be read."),
            action=N_("Try again in a minute. If it keeps happening, ask an administrator to check SUPABASE_URL."),
            detail=detail("the answer did not contain a session"),
            secrets=secrets_,
        )

    status = getattr(exc, "status", None)
    code = getattr(exc, "code", None)
    text = str(getattr(exc, "message", "") or "")
    resp = _response_of(exc)
    if resp is not None:
        status = resp.status_code
        try:
            body = resp.json()
        except Exception:
            body = None
        if isinstance(body, dict):
            code = code or body.get("error_code") or (body.get("code") if isinstance(body.get("code"), str) else None)
            if not code and isinstance(body.get("error"), str):
                code = body["error"]
            text = text or str(body.get("msg") or body.get("message") or body.get("error_description") or "")
    if isinstance(status, int) and status <= 0:
        status = None
    lowered = f"{code or ''} {text}".lower()
    d = detail(f"HTTP {status or '-'} {code or ''} {text}".strip())

    if status == 429 or (code or "").startswith("over_") and "rate_limit" in (code or ""):
        return SignInRateLimited(status=429, detail=d, secrets=secrets_)
    if status is None:
        return SignInUnavailable(detail=d, secrets=secrets_)
    if status in (401,) or "invalid api key" in lowered or "no api key" in lowered:
        return SignInUnavailable(
            N_("Supabase sign-in is not set up correctly: the Supabase key was refused."),
            action=N_("Ask an administrator to check SUPABASE_URL and SUPABASE_KEY in Settings."),
            status=status,
            detail=d,
            secrets=secrets_,
        )
    if status == 404:
        return SignInUnavailable(
            N_("Supabase sign-in is not set up correctly: there is no sign-in service at this address."),
            action=N_("Ask an administrator to check SUPABASE_URL in Settings."),
            status=status,
            detail=d,
            secrets=secrets_,
        )
    if status >= 500:
        return SignInUnavailable(
            N_("The sign-in service had a problem answering."),
            action=N_("Try again in a minute. If it keeps happening, ask an administrator."),
            status=status,
            detail=d,
            secrets=secrets_,
        )
    if "email_not_confirmed" in lowered or "email not confirmed" in lowered:
        return AccessDenied(
            N_("This email address has not been confirmed yet."),
            action=N_("Open the confirmation link Supabase sent to this address, then sign in again."),
            status=status,
            detail=d,
            secrets=secrets_,
        )
    if "user_banned" in lowered or "banned" in lowered:
        return AccessDenied(
            N_("This account is not allowed to sign in."),
            action=N_("Ask an administrator."),
            status=status,
            detail=d,
            secrets=secrets_,
        )
    if "provider_disabled" in lowered or "logins are disabled" in lowered:
        return SignInUnavailable(
            N_("Signing in with email and password is switched off for this Supabase project."),
            action=N_("Ask an administrator to enable the email provider in Supabase Auth."),
            status=status,
            detail=d,
            secrets=secrets_,
        )
    if status == 422:
        return AccessDenied(
            N_("The sign-in service could not accept this email and password."),
            action=N_("Check the email address and the password and try again."),
            status=status,
            detail=d,
            secrets=secrets_,
        )
    if 400 <= status < 500:
        # invalid_grant / invalid_credentials / "Invalid login credentials" and anything similar
        return WrongCredentials(
            N_("Wrong email or password."),
            action=N_("Check the email address and the password and try again."),
            status=status,
            detail=d,
            secrets=secrets_,
        )
    return SignInUnavailable(
        N_("The sign-in service sent an answer that could not be read."),
        action=N_("Try again in a minute."),
        status=status,
        detail=d,
        secrets=secrets_,
    )


def email_confirmed(user: Any) -> bool:
    """Did Supabase (GoTrue) confirm the account's e-mail address? Its user object's ``email_confirmed_at``; a
    GoTrue too old to send that field says it with ``confirmed_at``. Anything else (no user, no date) is no."""
    def field(name: str) -> tuple[bool, Any]:
        if isinstance(user, Mapping):
            return name in user, user.get(name)
        present = getattr(user, "model_fields_set", None)  # supabase_auth's pydantic User: was it in the answer?
        if present is not None:
            return name in present, getattr(user, name, None)
        return hasattr(user, name), getattr(user, name, None)

    if user is None:
        return False
    sent, value = field("email_confirmed_at")
    if sent or value:
        return bool(value)
    return bool(field("confirmed_at")[1])


def _identity_from_session(session: Any, user: Any, fallback_email: str) -> Identity:
    access_token = getattr(session, "access_token", None)
    if not access_token:
        raise AccessDenied(
            N_("The sign-in service did not start a session for this account."),
            action=N_("Confirm the email address if you were asked to, then sign in again."),
        )
    user = user or getattr(session, "user", None)
    meta = getattr(user, "user_metadata", None) or {}
    own_email = getattr(user, "email", None)
    email = own_email or fallback_email
    # only an address Supabase confirmed gets what WPP_ALLOWED_EMAILS gives (a project that lets people sign up
    # without confirming would let anyone claim x@school5.ru)
    proven = bool(own_email) and email_confirmed(user)
    name = ""
    if isinstance(meta, Mapping):
        name = str(meta.get("full_name") or meta.get("name") or "").strip()
    expires_at = getattr(session, "expires_at", None)
    if not expires_at and getattr(session, "expires_in", None):
        expires_at = time.time() + float(session.expires_in)
    refresh = getattr(session, "refresh_token", None)
    return Identity(
        name=name or email,
        username=email,
        method="supabase",
        supabase_jwt=Secret(access_token),
        email=email,
        supabase_refresh_token=Secret(refresh) if refresh else None,
        expires_at=float(expires_at) if expires_at else None,
        user_id=getattr(user, "id", None),
        email_verified=proven,
    )


def _check_config(url: str | None, anon_key: "Secret | str | None") -> tuple[str, str]:
    key = reveal(anon_key)
    if not url or not key:
        raise SignInUnavailable(
            N_("Supabase sign-in is not set up."),
            action=N_("Ask an administrator to set SUPABASE_URL and SUPABASE_KEY in Settings."),
        )
    url = str(url).strip().rstrip("/")
    if not re.match(r"^https?://[^\s/]+", url):
        raise SignInUnavailable(
            N_("Supabase sign-in is not set up correctly: SUPABASE_URL is not a web address."),
            action=N_("Ask an administrator to check SUPABASE_URL in Settings."),
            secrets=[key],
        )
    return url, key


def supabase_sign_in(
    url: str,
    anon_key: "Secret | str",
    email: str,
    password: str,
    *,
    client: Any = None,
    timeout: float = 10.0,
    throttle: Throttle | None = None,
    client_key: str | None = None,
) -> Identity:
    """Sign in with Supabase Auth (``POST {url}/auth/v1/token?grant_type=password``).

    ``client`` is a supabase-py ``Client`` (or anything with ``.auth.sign_in_with_password``);
    by default one is made with ``create_client(url, anon_key)`` that keeps nothing after the call.
    The returned Identity carries the session's access token as ``supabase_jwt``.

    Raises :class:`InvalidInput` (email shape, empty password), :class:`AccessDenied` (wrong
    credentials, unconfirmed email, 422), :class:`SignInRateLimited` (429) or
    :class:`SignInUnavailable` (network, 5xx, HTML error pages, key refused, unreadable answer).
    No message ever contains the password, the key or a token.

    ``throttle`` (the process's :class:`~wpp.access.throttle.Throttle`, shared with staff sign-in) and
    ``client_key`` (the browser's opaque key): wrong passwords make this email and this browser wait, as for staff
    accounts (:class:`~wpp.access.throttle.SignInThrottled` when a try comes too early).
    """
    email = _check_email(email)
    if not isinstance(password, str) or password == "":
        raise InvalidInput(N_("Enter your password."), action="")
    if throttle is not None:
        return throttle.attempt(email.casefold(), client_key,
                                lambda: supabase_sign_in(url, anon_key, email, password, client=client,
                                                         timeout=timeout))
    url, key = _check_config(url, anon_key) if client is None else (url, reveal(anon_key) or "")
    secrets_ = [password, key]
    own_http = None
    try:
        if client is None:
            client, own_http = _make_client(url, key, timeout)
        response = client.auth.sign_in_with_password({"email": email, "password": password})
    except WppError:
        raise
    except Exception as exc:  # supabase_auth.errors.AuthError, httpx errors, pydantic errors, ...
        err = _map_auth_error(exc, secrets_)
    else:
        err = None
    finally:
        if own_http is not None:
            own_http.close()
    if err is not None:
        raise err from None
    return _identity_from_session(getattr(response, "session", None), getattr(response, "user", None), email)


def supabase_refresh(
    url: str,
    anon_key: "Secret | str",
    identity: Identity,
    *,
    client: Any = None,
    timeout: float = 10.0,
) -> Identity:
    """Renew a Supabase identity's access token with its refresh token (one request, no loop).

    A refused refresh token raises :class:`AccessDenied` ("Your sign-in has expired").
    """
    if identity.method != "supabase" or identity.supabase_refresh_token is None:
        raise AccessDenied(N_("Your sign-in has expired."), action=N_("Sign in again."))
    refresh = identity.supabase_refresh_token.reveal()
    url, key = _check_config(url, anon_key) if client is None else (url, reveal(anon_key) or "")
    secrets_ = [refresh, key] + ([identity.supabase_jwt.reveal()] if identity.supabase_jwt else [])
    own_http = None
    try:
        if client is None:
            client, own_http = _make_client(url, key, timeout)
        response = client.auth.refresh_session(refresh)
    except Exception as exc:
        err = _map_auth_error(exc, secrets_)
        if isinstance(err, AccessDenied) and not isinstance(err, SignInRateLimited):
            err = AccessDenied(
                N_("Your sign-in has expired."), action=N_("Sign in again."), status=err.status, detail=err.detail
            )
    else:
        err = None
    finally:
        if own_http is not None:
            own_http.close()
    if err is not None:
        raise err from None
    fresh = _identity_from_session(
        getattr(response, "session", None), getattr(response, "user", None), identity.email or ""
    )
    return replace(fresh, name=fresh.name or identity.name)


__all__ = ["SignInRateLimited", "SignInUnavailable", "email_confirmed", "supabase_refresh", "supabase_sign_in"]
