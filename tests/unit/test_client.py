"""WppClient against httpx.MockTransport: request shapes, path safety and the one error mapping."""
from __future__ import annotations

import json
import logging

import httpx
import pytest

from wpp.client import WppClient, reported_phone
from wpp.errors import (
    BadResponse,
    InvalidApiKey,
    InvalidInput,
    InvalidSecret,
    InvalidToken,
    MessageFailed,
    NotFound,
    PlatformError,
    PlatformTimeout,
    PlatformUnreachable,
    WppError,
    WrongAccount,
)
from wpp.i18n import Text, use_language
from wpp.models import ConnState
from .wpp_unit_helpers import API_KEY, PLATFORM_SECRET, assert_no_secret, make_jwt

ORG = "123e4567-e89b-12d3-a456-426614174000"
SESSION = "0000000000004"

NGINX_502 = (
    "<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body>\r\n<center><h1>502 Bad Gateway</h1></center>\r\n"
    "<hr><center>nginx/1.18.0 (Ubuntu)</center>\r\n</body>\r\n</html>\r\n"
)


def ok(body, status=200):
    return lambda req: httpx.Response(status, json=body)


# --- request shapes --------------------------------------------------------------------------
def test_create_sends_the_secret_and_the_org_and_returns_a_masked_key(make_client):
    client, rec = make_client(ok({"apiKey": API_KEY, "session": SESSION, "status": "starting"}), secret=PLATFORM_SECRET)
    created = client.create_client(ORG.upper())
    req = rec.requests[0]
    assert rec.paths() == ["POST /api/integrations/wpp/create"]
    assert req.headers["Authorization"] == f"Bearer {PLATFORM_SECRET}"
    assert json.loads(req.content) == {"organizationId": ORG}
    assert created.api_key.reveal() == API_KEY and created.session == SESSION
    assert created.status.state is ConnState.STARTING
    assert API_KEY not in repr(created) and PLATFORM_SECRET not in repr(client)


def test_create_prefers_the_secret_argument_then_the_ctor_secret_then_the_user_jwt(make_client):
    client, rec = make_client(ok({"apiKey": API_KEY, "session": SESSION, "status": "starting"}), secret=PLATFORM_SECRET)
    client.create_client(ORG, secret="argument-secret-xyz", user_jwt="user.jwt.here")
    client.create_client(ORG, user_jwt="user.jwt.here")
    bare, rec2 = make_client(ok({"apiKey": API_KEY, "session": SESSION, "status": "starting"}))
    bare.create_client(ORG, user_jwt="user.jwt.here")
    assert [r.headers["Authorization"] for r in rec.requests + rec2.requests] == [
        "Bearer argument-secret-xyz",
        f"Bearer {PLATFORM_SECRET}",
        "Bearer user.jwt.here",
    ]


def test_create_without_any_credential_sends_nothing(make_client):
    client, rec = make_client(ok({}))
    with pytest.raises(InvalidInput, match="no platform secret and you are not signed in"):
        client.create_client(ORG)
    with pytest.raises(InvalidInput, match="is not an organisation id"):
        client.create_client("acme", secret=PLATFORM_SECRET)
    assert rec.requests == []


@pytest.mark.parametrize(
    "body,words,detail",
    [
        ({"session": SESSION, "status": "starting"}, "no permanent key", "missing apiKey"),
        ({"apiKey": API_KEY, "status": "starting"}, "did not say which account", "missing session"),
        ({"apiKey": API_KEY, "session": "../../x", "status": "starting"}, "cannot use", "missing a usable session"),
    ],
)
def test_create_answer_missing_fields_is_a_bad_response_without_the_key(make_client, body, words, detail):
    client, _ = make_client(ok(body), secret=PLATFORM_SECRET)
    with pytest.raises(BadResponse, match=words) as ei:
        client.create_client(ORG)
    assert detail in ei.value.detail  # the technical name is for support only
    assert "session" not in ei.value.message and "apiKey" not in ei.value.message
    assert_no_secret(ei.value, API_KEY, PLATFORM_SECRET)


@pytest.mark.parametrize(
    "answer,source",
    [
        (lambda now: {"token": make_jwt(now=now, exp_in=900), "expiresIn": 60}, "exp"),
        (lambda now: {"token": make_jwt(now=now, exp_in=None), "expiresIn": 900}, "expiresIn"),
        (lambda now: {"token": make_jwt(now=now, exp_in=None)}, "assumed"),
    ],
)
def test_mint_token_expiry_sources(make_client, answer, source):
    from wpp.clock import ManualClock

    clock = ManualClock(1_800_000_000)
    client, rec = make_client(lambda req: httpx.Response(200, json=answer(clock.time())), clock=clock)
    minted = client.mint_token(API_KEY)
    assert json.loads(rec.requests[0].content) == {"apiKey": API_KEY}
    assert "Authorization" not in rec.requests[0].headers
    assert minted.expiry_source == source
    expected = {"exp": 900, "expiresIn": 900, "assumed": 300}[source]
    assert minted.expires_at_ms == (1_800_000_000 + expected) * 1000
    assert minted.obtained_at_ms == 1_800_000_000_000


@pytest.mark.parametrize(
    "token",
    ["not-a-jwt", "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIx", "eyJ" + "A" * 10_000, make_jwt()[:40] + "." + "x" * 9000],
)
def test_mint_refuses_a_token_that_is_not_a_readable_jwt(make_client, token):
    client, _ = make_client(ok({"token": token, "expiresIn": 900}))
    with pytest.raises(BadResponse, match="access key that cannot be read") as ei:
        client.mint_token(API_KEY)
    assert "not a readable JWT" in ei.value.detail
    assert_no_secret(ei.value, API_KEY, token)


def test_start_status_qr_paths_and_bodies(make_client):
    def answer(req):
        if req.url.path.endswith("/start"):
            return httpx.Response(200, json={"qrCode": "2@abc"})
        if req.url.path.endswith("/status"):
            return httpx.Response(200, json={"state": "QRCODE"})
        return httpx.Response(200, json={"data": {"qr": "2@def"}})

    client, rec = make_client(answer)
    jwt = make_jwt()
    started = client.start_account(SESSION, jwt)
    assert started.qr == "2@abc" and started.status is None
    assert client.get_status(SESSION, jwt).state is ConnState.QR_REQUIRED
    assert client.get_qr(SESSION, jwt) == "2@def"
    assert rec.paths() == [
        "POST /api/accounts/start",
        f"GET /api/accounts/{SESSION}/status",
        f"GET /api/accounts/{SESSION}/qr",
    ]
    assert json.loads(rec.requests[0].content) == {"number": SESSION}
    assert all(r.headers["Authorization"] == f"Bearer {jwt}" for r in rec.requests)


@pytest.mark.parametrize(
    "raw,state",
    [("connected", "connected"), ("CONNECTED", "connected"), ("ready", "connected"), ("QRCODE", "qr_required"),
     ("qr_required", "qr_required"), ("pending", "starting"), ("starting", "starting"), ("offline", "offline"),
     ("weird", "unknown")],
)
def test_status_spellings(make_client, raw, state):
    client, _ = make_client(ok({"status": raw}))
    assert client.get_status(SESSION, make_jwt()).state.value == state


def test_session_is_percent_encoded(make_client):
    client, rec = make_client(ok({"status": "connected"}))
    client.get_status("user@host", make_jwt())
    assert rec.paths() == ["GET /api/accounts/user%40host/status"]


@pytest.mark.parametrize("bad", ["../internal", "%2e%2e", "..", "", " ", "a/b", "x" * 10_000, "a\nb", None])
def test_bad_sessions_never_reach_the_network(make_client, bad):
    client, rec = make_client(ok({"status": "connected"}))
    jwt = make_jwt()
    for call in (
        lambda: client.get_status(bad, jwt),
        lambda: client.get_qr(bad, jwt),
        lambda: client.start_account(bad, jwt),
        lambda: client.stop_session(bad, jwt),
        lambda: client.register_webhook(bad, "https://example.com/h", jwt),
        lambda: client.delete_message(bad, jwt),
    ):
        with pytest.raises(InvalidInput):
            call()
    assert rec.requests == []


def test_send_text_body_is_the_last_working_form(make_client):
    client, rec = make_client(ok({"taskId": "t-1", "status": "queued", "message": "Message queued"}))
    result = client.send_text("+7 (900) 123-45-67", "hello", make_jwt())
    assert json.loads(rec.requests[0].content) == {"type": "text", "to": "79001234567", "text": "hello"}
    assert (result.task_id, result.status, result.message) == ("t-1", "queued", "Message queued")
    client.send_text("79001234567", "hi", make_jwt(), account=SESSION, priority=2)
    assert json.loads(rec.requests[1].content) == {
        "type": "text", "to": "79001234567", "text": "hi", "account": SESSION, "priority": 2}


def test_send_refuses_ambiguous_numbers_and_empty_text_before_sending(make_client):
    client, rec = make_client(ok({"taskId": "t", "status": "queued"}))
    for to, text in [("9001234567", "hi"), ("89001234567", "hi"), ("abc", "hi"), ("79001234567", "  ")]:
        with pytest.raises(InvalidInput):
            client.send_text(to, text, make_jwt())
    assert rec.requests == []


def test_other_message_kinds(make_client):
    client, rec = make_client(ok({"id": 77, "status": "queued"}))
    jwt = make_jwt()
    assert client.send_image("79001234567", "https://x.test/a.png", jwt, caption="c").task_id == "77"
    client.send_file("79001234567", "https://x.test/a.pdf", jwt, filename="a.pdf")
    client.send_file("79001234567", "https://x.test/a.mp4", jwt, kind="video")
    client.send_location("79001234567", 55.75, 37.61, jwt, name="Office")
    bodies = [json.loads(r.content) for r in rec.requests]
    assert rec.paths() == ["POST /api/messages/image", "POST /api/messages/file", "POST /api/messages/video",
                           "POST /api/messages/location"]
    assert bodies[0] == {"type": "image", "to": "79001234567", "url": "https://x.test/a.png", "caption": "c"}
    assert bodies[1] == {"type": "file", "to": "79001234567", "url": "https://x.test/a.pdf", "filename": "a.pdf"}
    assert bodies[3] == {"type": "location", "to": "79001234567", "lat": 55.75, "lng": 37.61, "name": "Office"}
    for bad in (lambda: client.send_location("79001234567", 91, 0, jwt),
                lambda: client.send_location("79001234567", "x", 0, jwt),
                lambda: client.send_image("79001234567", "file:///etc/passwd", jwt),
                lambda: client.send_file("79001234567", "https://x.test/a", jwt, kind="exe"),
                lambda: client.send_file("79001234567", "https://x.test/a", jwt, filename="../../a")):
        with pytest.raises(InvalidInput):
            bad()
    assert len(rec.requests) == 4


def test_status_error_with_http_200_is_message_failed(make_client):
    client, _ = make_client(ok({"status": "error", "message": "Account is not connected"}))
    with pytest.raises(MessageFailed) as ei:
        client.send_text("79001234567", "hi", make_jwt())
    assert "Account is not connected" in ei.value.message
    assert ei.value.status == 200


def test_delete_stop_webhook(make_client):
    client, rec = make_client(lambda req: httpx.Response(200) if req.method == "DELETE" else httpx.Response(200, json={"status": "ok"}))
    jwt = make_jwt()
    assert client.delete_message("e49aacce-f052-405e-8d2e-8fb18bd13116", jwt) is None
    assert client.stop_session(SESSION, jwt) is None
    assert client.register_webhook(SESSION, "https://example.com/hook", jwt) is None
    assert rec.paths() == ["DELETE /api/messages/e49aacce-f052-405e-8d2e-8fb18bd13116",
                           f"POST /internal/session/{SESSION}/stop", f"POST /internal/session/{SESSION}/webhook"]
    assert json.loads(rec.requests[2].content) == {"url": "https://example.com/hook"}
    with pytest.raises(InvalidInput):
        client.register_webhook(SESSION, "ftp://x", jwt)


def test_missing_auth_is_refused(make_client):
    client, rec = make_client(ok({"status": "connected"}))
    for auth in (None, ""):
        with pytest.raises(InvalidInput, match="No access key"):
            client.get_status(SESSION, auth)
    assert rec.requests == []


def test_client_settings():
    client = WppClient("https://wpp.example.test/", timeout=7, connect_timeout=2, max_connections=5,
                       transport=httpx.MockTransport(ok({})))
    assert client.timeout.read == 7 and client.timeout.connect == 2
    assert client.base_url == "https://wpp.example.test"
    client.close()
    with pytest.raises(InvalidInput):
        WppClient("wpp.example.test")


# --- the error mapping -----------------------------------------------------------------------
def msgids(text) -> list[str]:
    """The message ids of a Text and of the Texts in its values."""
    if not isinstance(text, Text):
        return []
    return [text.msgid] + [m for v in text.params.values() for m in msgids(v)]


def _raise(exc_type, msg="boom"):
    def answer(req):
        raise exc_type(msg, request=req)
    return answer


ERROR_CASES = [
    # id, answer, call, expected class, status, words in the message
    ("html502", lambda r: httpx.Response(502, text=NGINX_502, headers={"content-type": "text/html"}),
     "status", PlatformError, 502, "error page"),
    ("empty200", lambda r: httpx.Response(200, content=b""), "status", BadResponse, 200, "empty answer"),
    ("empty500", lambda r: httpx.Response(500, content=b""), "status", PlatformError, 500, "failed with an empty answer"),
    ("malformed", lambda r: httpx.Response(200, content=b'{"status": "connected", "qr": "2@tr',
                                           headers={"content-type": "application/json"}),
     "status", BadResponse, 200, "not valid JSON"),
    ("json_list", lambda r: httpx.Response(200, json=["connected"]), "status", BadResponse, 200, "unexpected shape"),
    ("html200", lambda r: httpx.Response(200, text="<!doctype html><p>login</p>", headers={"content-type": "text/html"}),
     "status", BadResponse, 200, "web page"),
    ("no_status", lambda r: httpx.Response(200, json={"foo": 1}), "status", BadResponse, 200,
     "does not say how the number is connected"),
    ("500", lambda r: httpx.Response(500, json={"error": "Internal Server Error"}), "status", PlatformError, 500,
     "had an internal error.", "Internal Server Error"),
    ("503text", lambda r: httpx.Response(503, text="upstream connect error"), "status", PlatformError, 503,
     "unreadable answer"),
    ("timeout", _raise(httpx.ReadTimeout), "status", PlatformTimeout, None, "did not answer in time"),
    ("connect_timeout", _raise(httpx.ConnectTimeout), "status", PlatformTimeout, None, "in time"),
    ("refused", _raise(httpx.ConnectError, "[Errno 111] Connection refused"), "status", PlatformUnreachable, None,
     "cannot be reached"),
    ("reset", _raise(httpx.ReadError, "Connection reset by peer"), "status", PlatformUnreachable, None, "broke off"),
    ("protocol", _raise(httpx.RemoteProtocolError, "Server disconnected"), "status", PlatformUnreachable, None,
     "broke off"),
    ("401", lambda r: httpx.Response(401, json={"error": "Invalid token"}), "status", InvalidToken, 401,
     "did not accept this number's access key", "Invalid token"),
    ("401create", lambda r: httpx.Response(401, json={"error": "Invalid token"}), "create", InvalidSecret, 401,
     "platform secret"),
    ("401mint", lambda r: httpx.Response(401, json={"error": "Invalid token"}), "mint", InvalidApiKey, 401,
     "permanent key"),
    ("403mint", lambda r: httpx.Response(403, json={"error": "Invalid API key"}), "mint", InvalidApiKey, 403,
     "permanent key", "Invalid API key"),
    ("403key", lambda r: httpx.Response(403, json={"error": "Invalid API key"}), "status", InvalidApiKey, 403,
     "permanent key"),
    ("403other", lambda r: httpx.Response(403, json={"error": "Forbidden"}), "status", WrongAccount, 403,
     "belongs to another number"),
    ("404", lambda r: httpx.Response(404, json={"error": "Account not found"}), "status", NotFound, 404,
     "does not know this number"),
    ("404delete", lambda r: httpx.Response(404, json={"error": "Message not found"}), "delete", NotFound, 404,
     "does not know this message"),
    ("400", lambda r: httpx.Response(400, json={"error": "Invalid 'to': expected 10-15 digits"}), "send", InvalidInput,
     400, "refused the request as invalid", "Invalid 'to': expected 10-15 digits"),
    ("429", lambda r: httpx.Response(429, text=""), "status", PlatformError, 429, "limiting requests"),
    ("302", lambda r: httpx.Response(302, headers={"location": "https://login.example/"}), "status", PlatformError,
     302, "redirect"),
    ("418", lambda r: httpx.Response(418, json={"error": "teapot"}), "status", PlatformError, 418,
     "unexpected way.", "teapot"),
]


def _do(client, call, jwt):
    return {
        "status": lambda: client.get_status(SESSION, jwt),
        "create": lambda: client.create_client(ORG, secret=PLATFORM_SECRET),
        "mint": lambda: client.mint_token(API_KEY),
        "delete": lambda: client.delete_message("t-1", jwt),
        "send": lambda: client.send_text("79001234567", "hi", jwt),
    }[call]()


@pytest.mark.parametrize("case", ERROR_CASES, ids=[c[0] for c in ERROR_CASES])
def test_every_failure_is_one_typed_readable_error(make_client, case, caplog):
    _, answer, call, cls, status, words, *said = case
    caplog.set_level(logging.DEBUG)
    jwt = make_jwt()
    client, rec = make_client(answer)
    with pytest.raises(WppError) as ei:
        _do(client, call, jwt)
    err = ei.value
    assert type(err) is cls, repr(err)
    assert err.status == status
    assert words in err.message, err.message
    if said:  # the platform's own words: kept for support (detail, err.said), never in the sentence staff read
        assert err.said == said[0] and said[0] in err.detail
        assert said[0] not in err.message and said[0] not in err.action
    assert err.message[0].isupper() and err.message.rstrip("”").endswith(".")
    assert isinstance(err.message_text, Text)  # translated when shown
    for msgid in msgids(err.message_text) + msgids(err.action_text):  # plain words (the platform's own are values)
        assert not any(word in msgid for word in ("HTTP", "JWT", "API key", "session", "token")), msgid
    assert "Traceback" not in str(err) and "httpx" not in err.message
    assert err.action  # what to do next
    # detail: method, path and status (when there was an answer)
    method_path = {"status": f"GET /api/accounts/{SESSION}/status", "create": "POST /api/integrations/wpp/create",
                   "mint": "POST /auth/token", "delete": "DELETE /api/messages/t-1",
                   "send": "POST /api/messages/text"}[call]
    assert method_path in err.detail
    if status is not None:
        assert f"HTTP {status}" in err.detail
    assert_no_secret(err, jwt, API_KEY, PLATFORM_SECRET)
    assert err.__cause__ is None or isinstance(err.__cause__, WppError)
    for record in caplog.records:
        for s in (jwt, API_KEY, PLATFORM_SECRET):
            assert s not in record.getMessage()


def test_detail_keeps_the_first_300_chars_of_the_body_scrubbed(make_client):
    jwt = make_jwt()
    body = json.dumps({"error": f"bad token {jwt}", "pad": "x" * 1000})
    client, _ = make_client(lambda r: httpx.Response(500, text=body, headers={"content-type": "application/json"}))
    with pytest.raises(PlatformError) as ei:
        client.get_status(SESSION, jwt)
    err = ei.value
    assert_no_secret(err, jwt)
    assert "HTTP 500" in err.detail and "…" in err.detail and "bad token eyJh" in err.detail
    assert len(err.detail) < 600


@pytest.mark.parametrize("cut_at", [190, 200, 290, 300, 310])
def test_a_secret_straddling_the_cut_is_not_leaked_in_part(make_client, cut_at):
    """Scrub first, then cut: a half secret would not be recognised any more."""
    prefix = '{"error": "' + "y" * (cut_at - 11 - 20)
    body = prefix + API_KEY + '"}'
    client, _ = make_client(lambda r: httpx.Response(403, text=body, headers={"content-type": "application/json"}))
    with pytest.raises(InvalidApiKey) as ei:
        client.mint_token(API_KEY)
    texts = [str(ei.value), repr(ei.value), ei.value.detail]
    for t in texts:
        assert API_KEY[:16] not in t and API_KEY[-16:] not in t


def test_an_echoed_api_key_in_a_mint_error_is_masked(make_client):
    client, _ = make_client(lambda r: httpx.Response(403, json={"error": f"Invalid API key {API_KEY}"}))
    with pytest.raises(InvalidApiKey) as ei:
        client.mint_token(API_KEY)
    assert_no_secret(ei.value, API_KEY)
    assert API_KEY[:4] in ei.value.said and API_KEY not in ei.value.said  # masked for support: keys told apart


def test_a_token_in_a_create_answer_is_not_leaked_when_fields_are_missing(make_client):
    client, _ = make_client(ok({"apiKey": API_KEY, "session": None}), secret=PLATFORM_SECRET)
    with pytest.raises(BadResponse) as ei:
        client.create_client(ORG)
    assert_no_secret(ei.value, API_KEY, PLATFORM_SECRET)


def test_log_lines_carry_method_path_status_only(make_client, caplog):
    caplog.set_level(logging.INFO, logger="wpp.client")
    client, _ = make_client(ok({"status": "connected"}))
    jwt = make_jwt()
    client.get_status(SESSION, jwt)
    msgs = [r.getMessage() for r in caplog.records if r.name == "wpp.client"]
    assert len(msgs) == 1 and msgs[0].startswith(f"GET /api/accounts/{SESSION}/status -> 200 in ")
    assert jwt not in msgs[0]


def test_the_platforms_own_words_are_for_support_never_in_the_sentence_staff_read(make_client):
    client, _ = make_client(lambda r: httpx.Response(401, json={"error": "Invalid token"}))
    with pytest.raises(InvalidToken) as ei:
        client.get_status(SESSION, make_jwt())
    assert ei.value.message_text == InvalidToken.default_message
    assert ei.value.said == "Invalid token" and "Invalid token" in ei.value.detail
    with use_language("ru"):
        assert "Invalid token" not in ei.value.text and "Платформа" in ei.value.message


@pytest.mark.parametrize(
    "body,phone",
    [
        ({"status": "connected", "phone": "79001234567"}, "79001234567"),
        ({"status": "connected", "phone": "+7 (900) 123-45-67"}, "79001234567"),
        ({"status": "connected", "number": "447911123456"}, "447911123456"),
        ({"status": "connected", "msisdn": 79001234567}, "79001234567"),
        ({"status": "connected", "wid": "79001234567@c.us"}, "79001234567"),
        ({"status": "connected", "me": "79001234567:12@s.whatsapp.net"}, "79001234567"),
        ({"status": "connected", "me": {"user": "79001234567", "server": "c.us"}}, "79001234567"),
        ({"data": {"status": "connected", "wid": {"_serialized": "79001234567@c.us"}}}, "79001234567"),
        ({"status": "connected", "number": SESSION}, None),  # the session id is not a phone
        ({"status": "connected", "phone": "hidden"}, None),
        ({"status": "connected"}, None),
    ],
)
def test_the_phones_own_number_is_read_from_a_status_answer(make_client, body, phone):
    client, _ = make_client(ok(body))
    status = client.get_status(SESSION, make_jwt())
    assert status.connected and status.phone == phone
    assert reported_phone(body, SESSION) == phone
