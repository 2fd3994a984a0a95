"""Supabase Auth sign-in through supabase-py, against GoTrue's documented endpoint (mocked with respx).

GoTrue: ``POST {SUPABASE_URL}/auth/v1/token?grant_type=password`` with the project's key in the
``apikey`` header and ``{"email", "password"}`` as JSON; the answer is a session
``{access_token, token_type, expires_in, expires_at, refresh_token, user{...}}``.
"""
from __future__ import annotations

import base64
import json
import threading
import time

import httpx
import pytest
import respx

from wpp.access import (
    Identity,
    SignInThrottled,
    Throttle,
    WrongCredentials,
    SignInRateLimited,
    SignInUnavailable,
    supabase_refresh,
    supabase_sign_in,
)
from wpp.errors import AccessDenied, InvalidInput, WppError
from wpp.masking import Secret

URL = "https://abcdefghijklmnop.supabase.co"
TOKEN_URL = f"{URL}/auth/v1/token"
KEY = "sb_publishable_Zk3qR8vT1mW9xY2aB4cD6eF0"  # the project's public (anon) key
EMAIL = "anna@example.com"
PASSWORD = "Hunter2-very-secret"


def _b64url(obj) -> str:
    return base64.urlsafe_b64encode(json.dumps(obj).encode()).decode().rstrip("=")


ACCESS_TOKEN = (
    _b64url({"alg": "HS256", "typ": "JWT"})
    + "."
    + _b64url({"sub": "8d0fd2b3-9ca6-4a5c-b2a5-bb2f5d3c1e11", "role": "authenticated", "exp": 4102444800})
    + ".c2lnbmF0dXJlLXNpZ25hdHVyZS1zaWduYXR1cmU"
)
REFRESH_TOKEN = "v1.MRjcyfEEb8BfUnYkXzR4Zq"


def _session(**over):
    now = int(time.time())
    body = {
        "access_token": ACCESS_TOKEN,
        "token_type": "bearer",
        "expires_in": 3600,
        "expires_at": now + 3600,
        "refresh_token": REFRESH_TOKEN,
        "user": {
            "id": "8d0fd2b3-9ca6-4a5c-b2a5-bb2f5d3c1e11",
            "aud": "authenticated",
            "role": "authenticated",
            "email": EMAIL,
            "email_confirmed_at": "2024-05-01T10:00:00.000000Z",
            "phone": "",
            "confirmed_at": "2024-05-01T10:00:00.000000Z",
            "last_sign_in_at": "2024-06-01T09:00:00.000000Z",
            "app_metadata": {"provider": "email", "providers": ["email"]},
            "user_metadata": {"full_name": "Anna Petrova"},
            "identities": [],
            "created_at": "2024-05-01T09:59:00.000000Z",
            "updated_at": "2024-06-01T09:00:00.000000Z",
            "is_anonymous": False,
        },
    }
    body.update(over)
    return body


def _assert_no_secrets(err: BaseException):
    texts = [str(err), repr(err)]
    if isinstance(err, WppError):
        texts += [err.message, err.action, err.detail, json.dumps(err.as_dict())]
    for text in texts:
        for secret in (PASSWORD, KEY, ACCESS_TOKEN, REFRESH_TOKEN):
            assert secret not in text, (secret, text)


@respx.mock(assert_all_called=True)
def test_sign_in_sends_what_gotrue_expects_and_returns_the_jwt(respx_mock):
    route = respx_mock.post(TOKEN_URL, params={"grant_type": "password"}).mock(
        return_value=httpx.Response(200, json=_session())
    )
    who = supabase_sign_in(URL, Secret(KEY), EMAIL, PASSWORD)

    request = route.calls.last.request
    assert request.url.params["grant_type"] == "password"
    assert request.headers["apikey"] == KEY
    assert request.headers["content-type"].startswith("application/json")
    body = json.loads(request.content)
    assert body["email"] == EMAIL and body["password"] == PASSWORD

    assert isinstance(who, Identity)
    assert who.method == "supabase"
    assert who.email == who.username == EMAIL
    assert who.name == "Anna Petrova"
    assert isinstance(who.supabase_jwt, Secret) and who.supabase_jwt.reveal() == ACCESS_TOKEN
    assert who.supabase_refresh_token.reveal() == REFRESH_TOKEN
    assert who.user_id == "8d0fd2b3-9ca6-4a5c-b2a5-bb2f5d3c1e11"
    assert who.expires_at == pytest.approx(time.time() + 3600, abs=5)
    assert not who.jwt_expired()
    for text in (repr(who), str(who), f"{who}"):
        assert ACCESS_TOKEN not in text and REFRESH_TOKEN not in text


@pytest.mark.parametrize("confirmed, expected", [
    ({}, True),                                                                  # the normal answer (_session)
    ({"email_confirmed_at": None, "confirmed_at": None}, False),                 # signed up, never confirmed
    ({"email_confirmed_at": None}, False),                                       # a phone was confirmed, not this
    ({"email_confirmed_at": "DROP", "confirmed_at": "2024-05-01T10:00:00Z"}, True),  # an old GoTrue: confirmed_at
    ({"email_confirmed_at": "DROP", "confirmed_at": None}, False),
])
def test_the_address_counts_only_when_supabase_confirmed_it(confirmed, expected):
    """Issue 24.6: a school platform that lets people sign up without confirming lets anyone claim x@school5.ru;
    only an address Supabase reports confirmed gets what WPP_ALLOWED_EMAILS gives."""
    from wpp.access.authorize import Authorizer, NoAccess
    from wpp.access.roles import Grant, Role

    session = _session()
    for k, v in confirmed.items():
        if v == "DROP":
            session["user"].pop(k, None)
        else:
            session["user"][k] = v
    with respx.mock() as mock:
        mock.post(TOKEN_URL).mock(return_value=httpx.Response(200, json=session))
        who = supabase_sign_in(URL, KEY, EMAIL, PASSWORD)
    assert who.email_verified is expected
    auth = Authorizer(email_grants={"@" + EMAIL.split("@")[1]: Grant(Role.OPERATOR)})
    if expected:
        assert auth.admit(who).role_in("0a0a0a0a-0000-4000-8000-00000000000a") is Role.OPERATOR
    else:
        with pytest.raises(NoAccess):
            auth.admit(who)


@respx.mock
def test_email_is_trimmed_and_name_falls_back_to_email(respx_mock):
    session = _session()
    session["user"]["user_metadata"] = {}
    route = respx_mock.post(TOKEN_URL).mock(return_value=httpx.Response(200, json=session))
    who = supabase_sign_in(URL, KEY, f"  {EMAIL} ", PASSWORD)
    assert json.loads(route.calls.last.request.content)["email"] == EMAIL
    assert who.name == EMAIL


@respx.mock
def test_sign_in_leaves_no_refresh_timer_running(respx_mock):
    respx_mock.post(TOKEN_URL).mock(return_value=httpx.Response(200, json=_session()))
    supabase_sign_in(URL, KEY, EMAIL, PASSWORD)
    assert not [t for t in threading.enumerate() if isinstance(t, threading.Timer) and t.is_alive()]


@pytest.mark.parametrize("email", ["", "   ", "anna", "anna@", "@example.com", "anna@example", "a b@example.com"])
def test_email_shape_is_checked_before_anything_is_sent(email):
    with respx.mock(assert_all_called=False) as mock:
        route = mock.post(TOKEN_URL)
        with pytest.raises(InvalidInput):
            supabase_sign_in(URL, KEY, email, PASSWORD)
        assert not route.called


def test_empty_password_is_invalid_input():
    with pytest.raises(InvalidInput):
        supabase_sign_in(URL, KEY, EMAIL, "")


def test_missing_configuration_is_readable():
    with pytest.raises(SignInUnavailable) as info:
        supabase_sign_in("", KEY, EMAIL, PASSWORD)
    assert "SUPABASE_URL" in str(info.value)
    _assert_no_secrets(info.value)


WRONG = "Wrong email or password."

ERROR_CASES = {
    # legacy GoTrue (OAuth-style) answer to a wrong password
    "invalid_grant": (
        httpx.Response(400, json={"error": "invalid_grant", "error_description": "Invalid login credentials"}),
        WrongCredentials,
        WRONG,
        400,
    ),
    # newer GoTrue (API version 2024-01-01) answer
    "invalid_credentials": (
        httpx.Response(
            400,
            json={"code": 400, "error_code": "invalid_credentials", "msg": "Invalid login credentials"},
            headers={"x-supabase-api-version": "2024-01-01"},
        ),
        WrongCredentials,
        WRONG,
        400,
    ),
    "invalid_credentials without version header": (
        httpx.Response(400, json={"code": 400, "error_code": "invalid_credentials", "msg": "Invalid login credentials"}),
        WrongCredentials,
        WRONG,
        400,
    ),
    "email_not_confirmed": (
        httpx.Response(
            400,
            json={"code": "email_not_confirmed", "message": "Email not confirmed"},
            headers={"x-supabase-api-version": "2024-01-01"},
        ),
        AccessDenied,
        "This email address has not been confirmed yet.",
        400,
    ),
    "422": (
        httpx.Response(422, json={"code": 422, "error_code": "validation_failed", "msg": "Unsupported grant type"}),
        AccessDenied,
        "The sign-in service could not accept this email and password.",
        422,
    ),
    "429": (
        httpx.Response(
            429, json={"code": 429, "error_code": "over_request_rate_limit", "msg": "Request rate limit reached"}
        ),
        SignInRateLimited,
        "Too many sign-in attempts in a short time.",
        429,
    ),
    "html 502": (
        httpx.Response(
            502,
            text="<html><head><title>502 Bad Gateway</title></head><body><center><h1>502 Bad Gateway</h1>"
            "</center><hr><center>nginx</center></body></html>",
            headers={"content-type": "text/html"},
        ),
        SignInUnavailable,
        "The sign-in service had a problem answering.",
        502,
    ),
    "html 500": (
        httpx.Response(500, text="<html>Internal Server Error</html>", headers={"content-type": "text/html"}),
        SignInUnavailable,
        "The sign-in service had a problem answering.",
        500,
    ),
    "empty 503": (httpx.Response(503), SignInUnavailable, "The sign-in service had a problem answering.", 503),
    "bad key": (
        httpx.Response(401, json={"message": "Invalid API key", "hint": "Double check your Supabase `anon` key."}),
        SignInUnavailable,
        "Supabase sign-in is not set up correctly: the Supabase key was refused.",
        401,
    ),
    "200 without a session": (
        httpx.Response(200, json={"hello": "world"}),
        SignInUnavailable,
        "The sign-in service sent an answer that could not be read.",
        None,
    ),
    "200 html": (
        httpx.Response(200, text="<html>captive portal</html>"),
        SignInUnavailable,
        "The sign-in service sent an answer that could not be read.",
        None,
    ),
}


@pytest.mark.parametrize("case", list(ERROR_CASES))
def test_gotrue_errors_become_readable_errors_without_secrets(case):
    response, err_type, message, status = ERROR_CASES[case]
    with respx.mock() as mock:
        mock.post(TOKEN_URL).mock(return_value=response)
        with pytest.raises(WppError) as info:
            supabase_sign_in(URL, KEY, EMAIL, PASSWORD)
    err = info.value
    assert type(err) is err_type, repr(err)
    assert err.message == message
    assert err.status == status
    assert err.__cause__ is None and err.__suppress_context__  # no chained traceback carrying the request
    _assert_no_secrets(err)


@pytest.mark.parametrize(
    "exc, message",
    [
        (httpx.ConnectError("[Errno -2] Name or service not known"), "The sign-in service cannot be reached."),
        (httpx.ReadTimeout("timed out"), "The sign-in service did not answer in time."),
    ],
)
def test_network_errors_are_readable(exc, message):
    with respx.mock() as mock:
        mock.post(TOKEN_URL).mock(side_effect=exc)
        with pytest.raises(SignInUnavailable) as info:
            supabase_sign_in(URL, KEY, EMAIL, PASSWORD)
    assert info.value.message == message
    assert not isinstance(info.value, AccessDenied)  # the password was never judged
    _assert_no_secrets(info.value)


def test_an_error_echoing_the_password_is_scrubbed():
    """Even if the server (or a proxy) echoes the request, nothing secret reaches the error."""
    echo = {"code": 400, "error_code": "invalid_credentials", "msg": f"bad {PASSWORD} / {KEY}"}
    with respx.mock() as mock:
        mock.post(TOKEN_URL).mock(return_value=httpx.Response(400, json=echo))
        with pytest.raises(AccessDenied) as info:
            supabase_sign_in(URL, KEY, EMAIL, PASSWORD)
    _assert_no_secrets(info.value)
    assert "invalid_credentials" in info.value.detail


def test_injected_client_is_used():
    class FakeAuth:
        def sign_in_with_password(self, credentials):
            self.credentials = credentials
            raise RuntimeError(f"boom {credentials['password']}")

    class FakeClient:
        auth = FakeAuth()

    with pytest.raises(SignInUnavailable) as info:
        supabase_sign_in(URL, KEY, EMAIL, PASSWORD, client=FakeClient())
    assert FakeClient.auth.credentials == {"email": EMAIL, "password": PASSWORD}
    _assert_no_secrets(info.value)


@respx.mock
def test_refresh_renews_the_jwt(respx_mock):
    respx_mock.post(TOKEN_URL, params={"grant_type": "password"}).mock(
        return_value=httpx.Response(200, json=_session())
    )
    who = supabase_sign_in(URL, KEY, EMAIL, PASSWORD)
    new_token = ACCESS_TOKEN.replace("c2ln", "bmV3")
    route = respx_mock.post(TOKEN_URL, params={"grant_type": "refresh_token"}).mock(
        return_value=httpx.Response(200, json=_session(access_token=new_token, refresh_token="v1.next"))
    )
    fresh = supabase_refresh(URL, KEY, who)
    assert json.loads(route.calls.last.request.content)["refresh_token"] == REFRESH_TOKEN
    assert fresh.supabase_jwt.reveal() == new_token
    assert fresh.supabase_refresh_token.reveal() == "v1.next"
    assert fresh.email == EMAIL


@respx.mock
def test_refused_refresh_means_sign_in_again(respx_mock):
    who = Identity(
        name="Anna", username=EMAIL, method="supabase", supabase_jwt=Secret(ACCESS_TOKEN), email=EMAIL,
        supabase_refresh_token=Secret(REFRESH_TOKEN),
    )
    respx_mock.post(TOKEN_URL, params={"grant_type": "refresh_token"}).mock(
        return_value=httpx.Response(
            400, json={"code": 400, "error_code": "refresh_token_not_found", "msg": "Invalid Refresh Token: Refresh Token Not Found"}
        )
    )
    with pytest.raises(AccessDenied) as info:
        supabase_refresh(URL, KEY, who)
    assert info.value.message == "Your sign-in has expired."
    _assert_no_secrets(info.value)


def test_wrong_supabase_passwords_are_throttled_like_staff_ones():
    """The console's own throttle also guards Supabase sign-in: one browser guessing is slowed down, and a try
    that comes too early is refused without asking Supabase."""
    from wpp.clock import ManualClock

    clock = ManualClock(start=1_700_000_000)
    events = []
    throttle = Throttle(clock=clock, on_event=lambda *e: events.append(e))
    wrong = httpx.Response(400, json={"error": "invalid_grant", "error_description": "Invalid login credentials"})
    with respx.mock() as mock:
        route = mock.post(TOKEN_URL).mock(return_value=wrong)
        for _ in range(Throttle.account_free):
            with pytest.raises(WrongCredentials):
                supabase_sign_in(URL, KEY, EMAIL, PASSWORD, throttle=throttle, client_key="b1")
        calls = route.call_count
        with pytest.raises(SignInThrottled) as info:
            supabase_sign_in(URL, KEY, EMAIL.upper(), PASSWORD, throttle=throttle, client_key="b1")
        assert route.call_count == calls  # not asked
        clock.advance(info.value.retry_after)
        route.mock(return_value=httpx.Response(200, json=_session()))
        who = supabase_sign_in(URL, KEY, EMAIL, PASSWORD, throttle=throttle, client_key="b1")
    assert who.email == EMAIL
    assert [e[0] for e in events] == ["failure"] * Throttle.account_free + ["throttled", "success"]
    # Supabase being down is nobody's wrong password: not counted
    with respx.mock() as mock:
        mock.post(TOKEN_URL).mock(return_value=httpx.Response(503))
        for _ in range(10):
            with pytest.raises(SignInUnavailable):
                supabase_sign_in(URL, KEY, EMAIL, PASSWORD, throttle=throttle, client_key="b1")
    assert throttle.wait_for(EMAIL, "b1") == 0
