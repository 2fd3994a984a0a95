"""Bad input, table-driven, through the service layer (issue 6).

Every form a staff member types into (the token paste box, the send form, the create form) and every platform
answer the console reads (create, /auth/token, status, QR, send), fed with what should never arrive. Each case
must end in one readable sentence (a WppError, or a token report whose problems say what is wrong), no traceback,
and the store as it was: refused input leaves every row and the activity log byte-identical; a bad platform
answer leaves every row and its ``settings`` byte-identical apart from the recorded error.
"""
from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any, Callable

import pytest

from wpp.client import WppClient
from wpp import keys
from wpp.service import WppService
from wpp.simulator import SimKnobs, Simulator
from wpp.store.sqlite import SqliteStore

from .conftest import ORG, ORG2, snapshot, store_changes
from .helpers import ShapingTransport, b64url, check_readable, make_jwt, outcome_of

NOW = time.time()
GOOD_CLAIMS = {"sub": "0000000000001", "iat": int(NOW), "exp": int(NOW) + 900}
VERIFY_KEY = "trust-suite-verify-key-0123456789"
PNG_MAGIC_GARBAGE = b64url(b"\x89PNG\r\n\x1a\n" + b"this is not the rest of a png file" * 3).replace("-", "+").replace("_", "/")
GIF_MAGIC_GARBAGE = "R0lGODlh" + "AAAA" * 8
NGINX_502_200 = "<html><head><title>502 Bad Gateway</title></head><body><center><h1>502 Bad Gateway</h1></center></body></html>"


class World:
    """One simulator, one SQLite store, one service whose client can be made to hear odd answers."""

    def __init__(self, tmp):
        self.sim = Simulator(SimKnobs(starting_s=0.0)).start()
        self.store = SqliteStore(tmp / "trust.db")
        self.transport = ShapingTransport()
        client = WppClient(self.sim.base_url, secret=self.sim.secret, timeout=2.0, connect_timeout=1.0,
                           transport=self.transport)
        self.svc = WppService(client, self.store, secret=self.sim.secret, activation_wait_s=0.5)
        self.verifying = WppService(client, self.store, secret=self.sim.secret, jwt_verify_key=VERIFY_KEY)
        out = self.svc.create_number(ORG, name="Front desk", actor="trust")
        assert out.ok, out.error
        self.ready = out.integration
        self.real_jwt = self.store.get(self.ready.id).jwt

    def secrets(self) -> list[str]:
        out = [self.sim.secret, self.sim.supabase_jwt_secret, VERIFY_KEY]
        for r in self.store.list_integrations(include_inactive=True):
            out += [r.api_key, r.jwt]
        return [s for s in out if s]

    def requests(self) -> int:
        return sum(self.sim.stats()["requests"].values())

    def with_session(self, session: str) -> str:
        """A row created on the platform whose stored session was edited into ``session``."""
        row = self.store.create(ORG2, name="edited by hand",
                                settings={"wppApiKey": self.ready.api_key, keys.SESSION: session})
        return row.id

    def half_done(self) -> str:
        """A row saved before the platform create (as after a crash): only its organisation is known."""
        return self.store.create(ORG2, name="half done").id

    def close(self):
        self.svc.close()
        self.verifying.close()
        self.svc.client.close()
        self.store.close()
        self.sim.stop()


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    w = World(tmp_path_factory.mktemp("bad-input"))
    yield w
    w.close()


@pytest.fixture(autouse=True)
def _plain_answers(world):
    world.transport.clear()
    yield
    world.transport.clear()


@dataclass
class Case:
    form: str
    name: str
    shown: str
    run: Callable[[World], Any]
    rule: str = "strict"  # see conftest.store_changes
    expect: tuple[str, ...] = ("error",)
    sends: bool = False  # may anything reach the platform?

    @property
    def id(self) -> str:
        return f"{self.form}|{self.name}"


CASES: list[Case] = []


def case(form, name, shown, run, **kw):
    CASES.append(Case(form, name, shown, run, **kw))


# --- Tokens page: the paste box ------------------------------------------------------------------
PASTE = "Access page: pasted key"


def paste(token):
    return lambda w: w.svc.access_report_pasted(token)


case(PASTE, "empty", "(nothing)", paste(""))
case(PASTE, "blank", "spaces and a line break", paste("   \n\t "))
case(PASTE, "words", "hello world", paste("hello world"))
case(PASTE, "two parts", "abc.def", paste("abc.def"))
case(PASTE, "four parts", "a.b.c.d", paste("a.b.c.d"))
case(PASTE, "Bearer only", "Bearer ", paste("Bearer "))
case(PASTE, "cut in half", "a real platform JWT cut in half", lambda w: w.svc.access_report_pasted(w.real_jwt[: len(w.real_jwt) // 2]))
case(PASTE, "payload cut", "real JWT, payload cut short (3 parts kept)",
     lambda w: w.svc.access_report_pasted(".".join([w.real_jwt.split(".")[0], w.real_jwt.split(".")[1][:-7], w.real_jwt.split(".")[2]])))
case(PASTE, "header not base64", "!!!.<payload>.<sig>", paste("!!!." + make_jwt(GOOD_CLAIMS).split(".", 1)[1]))
case(PASTE, "header not JSON", "base64('hello').<payload>.<sig>", paste(b64url("hello") + "." + make_jwt(GOOD_CLAIMS).split(".", 1)[1]))
case(PASTE, "payload a JSON list", "<header>.base64('[1, 2]').<sig>", paste(make_jwt([1, 2])))
case(PASTE, "control characters", "\\x00\\x01.\\x02.\\x03", paste("\x00\x01.\x02.\x03"))
case(PASTE, "10 000 characters", "eyJ + 10 000 × A", paste("eyJ" + "A" * 10_000))
case(PASTE, "alg none", '{"alg":"none"} with a good exp', paste(make_jwt(GOOD_CLAIMS, {"alg": "none", "typ": "JWT"})), expect=("warning",))
case(PASTE, "alg none, unsigned", '{"alg":"none"}, empty signature', paste(make_jwt(GOOD_CLAIMS, {"alg": "none"}, sig="")), expect=("warning",))
case(PASTE, "no alg", "header {} ", paste(make_jwt(GOOD_CLAIMS, {})), expect=("warning",))
case(PASTE, "absurd exp", "exp = 1e20", paste(make_jwt({**GOOD_CLAIMS, "exp": 1e20})), expect=("warning",))
case(PASTE, "exp in milliseconds", "exp = now × 1000", paste(make_jwt({**GOOD_CLAIMS, "exp": int(NOW * 1000)})), expect=("warning",))
case(PASTE, "exp negative", "exp = -5", paste(make_jwt({**GOOD_CLAIMS, "exp": -5})), expect=("warning",))
case(PASTE, "exp text", 'exp = "tomorrow"', paste(make_jwt({**GOOD_CLAIMS, "exp": "tomorrow"})), expect=("warning",))
case(PASTE, "exp null", "exp = null", paste(make_jwt({**GOOD_CLAIMS, "exp": None})), expect=("warning",))
case(PASTE, "exp NaN", "exp = NaN", paste(make_jwt('{"sub": "1", "exp": NaN}', raw_json=True)), expect=("warning",))
case(PASTE, "exp 1970", "exp = 1000 (1970)", paste(make_jwt({**GOOD_CLAIMS, "iat": 1, "exp": 1000})), expect=("warning",))
case(PASTE, "no exp", "claims without exp", paste(make_jwt({"sub": "1"})), expect=("warning",))
case(PASTE, "iat in the future", "iat = now + 1 day", paste(make_jwt({**GOOD_CLAIMS, "iat": int(NOW) + 86400, "exp": int(NOW) + 90000})), expect=("warning",))
case("Access page: pasted key, verification key configured", "forged signature", "HS256 token signed with another key",
     lambda w: w.verifying.access_report_pasted(make_jwt(GOOD_CLAIMS)), expect=("warning",))

# --- Tokens page: a number whose stored token is damaged --------------------------------------------
STORED = "Access page: saved key damaged"


def stored_token(token):
    def run(w):
        row = w.store.create(ORG2, name="damaged token", settings={"wppApiKey": w.ready.api_key,
                                                                  keys.SESSION: w.ready.session, "wppJwtToken": token})
        return w.svc.access_report(row.id)
    return run


case(STORED, "not a JWT", "wppJwtToken = garbage", stored_token("garbage"), rule="rows", expect=("warning",))
case(STORED, "two parts", "wppJwtToken = abc.def", stored_token("abc.def"), rule="rows", expect=("warning",))
case(STORED, "payload not JSON", "wppJwtToken = <header>.base64('{oops').<sig>",
     stored_token(b64url('{"alg":"HS256"}') + "." + b64url("{oops") + ".c2ln"), rule="rows", expect=("warning",))


# --- Send page: the recipient ------------------------------------------------------------------------
SEND_TO = "Send page: recipient"


def send_to(to):
    return lambda w: w.svc.send_test(w.ready.id, to, "Test message", actor="trust")


case(SEND_TO, "empty", "(nothing)", send_to(""))
case(SEND_TO, "letters only", "abc", send_to("abc"))
case(SEND_TO, "letters inside", "+7 900 ABC-45-67", send_to("+7 900 ABC-45-67"))
case(SEND_TO, "too short", "12345", send_to("12345"))
case(SEND_TO, "Russian, too short", "+7 900 123", send_to("+7 900 123"))
case(SEND_TO, "Russian, too long", "8 900 123 45 67 89", send_to("8 900 123 45 67 89"))
case(SEND_TO, "16 digits", "+1234567890123456", send_to("+1234567890123456"))
case(SEND_TO, "10 000 characters", "10 000 × 9", send_to("9" * 10_000))
case(SEND_TO, "SQL", "+7 900 123 45 67; DROP TABLE", send_to("+7 900 123 45 67; DROP TABLE"))
case(SEND_TO, "Arabic-Indic digits", "٩٠٠١٢٣٤٥٦٧", send_to("٩٠٠١٢٣٤٥٦٧"))
case(SEND_TO, "country code 0", "+0 123 456 789", send_to("+0 123 456 789"))
case(SEND_TO, "ten digits, no code", "4951234567", send_to("4951234567"))

# --- Send page: the text ------------------------------------------------------------------------------
SEND_TEXT = "Send page: message text"


def send_text(text):
    return lambda w: w.svc.send_test(w.ready.id, "+7 900 123-45-67", text, actor="trust")


case(SEND_TEXT, "empty", "(nothing)", send_text(""))
case(SEND_TEXT, "blank", "spaces and line breaks", send_text("  \n\n  "))
case(SEND_TEXT, "5 000 characters", "5 000 × x", send_text("x" * 5_000))
case(SEND_TEXT, "10 000 characters", "10 000 × я", send_text("я" * 10_000))

# --- Connect page: organisation id and name --------------------------------------------------------------
ORG_FORM = "Connect page: organisation id"


def create(org, name=None):
    return lambda w: w.svc.create_number(org, name=name, actor="trust")


case(ORG_FORM, "empty", "(nothing)", create(""))
case(ORG_FORM, "words", "not-a-uuid", create("not-a-uuid"))
case(ORG_FORM, "a number", "123", create("123"))
case(ORG_FORM, "one digit short", ORG[:-1], create(ORG[:-1]))
case(ORG_FORM, "path", "../internal", create("../internal"))
case(ORG_FORM, "encoded path", "%2e%2e", create("%2e%2e"))
case(ORG_FORM, "SQL", "' OR 1=1 --", create("' OR 1=1 --"))
case(ORG_FORM, "10 000 characters", "10 000 × a", create("a" * 10_000))
case(ORG_FORM, "bad sub-organisation", ORG + "__wpp__zzzzzzzz", create(ORG + "__wpp__zzzzzzzz"))
case(ORG_FORM, "two ids", f"{ORG},{ORG2}", create(f"{ORG},{ORG2}"))
case("Connect page: name", "101 characters", "a valid org id, name of 101 × n", create(ORG, "n" * 101))

# --- Connect page: a new school, named by staff (and its optional id in the "advanced" field) ---------------------
SCHOOL_FORM = "Connect page: new school"


def new_school(name, org_id=None):
    return lambda w: w.svc.add_organization(name, org_id, actor="trust")


case(SCHOOL_FORM, "blank name", "(spaces)", new_school("   "))
case(SCHOOL_FORM, "201 characters", "201 × ш", new_school("ш" * 201))
case(SCHOOL_FORM, "id: words", "name ok, id not-a-uuid", new_school("Школа № 7", "not-a-uuid"))
case(SCHOOL_FORM, "id: path", "name ok, id ../internal", new_school("Школа № 7", "../internal"))
case(SCHOOL_FORM, "id: encoded path", "name ok, id %2e%2e", new_school("Школа № 7", "%2e%2e"))
case(SCHOOL_FORM, "id: a number's sub-organisation", "name ok, id <uuid>__wpp__1a2b3c4d",
     new_school("Школа № 7", ORG + "__wpp__1a2b3c4d"))

# --- a number whose stored session is not a session (edited by hand, or an old bug) --------------------------
SESSION = "Number page: stored session"


def session_ops(session):
    """Fleet status, pairing, send and stop of a row whose session is ``session``; and the client itself."""
    def run(w):
        iid = w.with_session(session)
        row = w.store.get(iid)
        before = w.requests()
        outs = [
            outcome_of(lambda: w.svc.poll_check(row)),
            outcome_of(lambda: w.svc.pairing_state(iid)),
            outcome_of(lambda: w.svc.send_test(iid, "+79001234567", "hi", actor="trust")),
            outcome_of(lambda: w.svc.stop(iid, actor="trust")),
            outcome_of(lambda: w.svc.client.get_status(session, "a.b.c")),
            outcome_of(lambda: w.svc.client.stop_session(session, "a.b.c")),
        ]
        assert w.requests() == before, "a bad session was sent to the platform"
        for o in outs:
            assert o.kind == "error", f"a bad session was accepted: {o}"
            assert not check_readable(o, w.secrets()), check_readable(o, w.secrets())
        raise outs[0].error  # the Numbers page's message is what staff read first
    return run


for shown in ("../internal", "%2e%2e", "..", "0000000000004/../../internal/session/1/stop", "a b", "\x00", "S" * 10_000,
              "0000000000004?x=1#"):
    label = {"S" * 10_000: "10 000 × S", "\x00": "\\x00 (NUL)", "a b": "a b (a space)"}.get(shown, shown)
    case(SESSION, f"session {label[:30]}", label, session_ops(shown), rule="rows")
case(SESSION, "session empty", "(empty)", session_ops(""), rule="rows")

# --- platform answers -----------------------------------------------------------------------------------------
CREATE_ANS = "Platform answer: create"


def create_answer(status, body, ctype="application/json"):
    def run(w):
        iid = w.half_done()
        w.transport.answer("POST", r"/api/integrations/wpp/create$", status, body, ctype)
        return w.svc.resume(iid, actor="trust")
    return run


HALF_DONE_RULE = "rows"
case(CREATE_ANS, "HTML page, 200", "200 text/html nginx page", create_answer(200, NGINX_502_200, "text/html"), rule=HALF_DONE_RULE, sends=True)
case(CREATE_ANS, "HTML page, 502", "502 text/html nginx page", create_answer(502, NGINX_502_200, "text/html"), rule=HALF_DONE_RULE, sends=True)
case(CREATE_ANS, "empty, 200", "200, empty body", create_answer(200, b""), rule=HALF_DONE_RULE, sends=True)
case(CREATE_ANS, "a JSON list", "200 []", create_answer(200, []), rule=HALF_DONE_RULE, sends=True)
case(CREATE_ANS, "cut-off JSON", '200 {"apiKey": "abc', create_answer(200, b'{"apiKey": "abc'), rule=HALF_DONE_RULE, sends=True)
case(CREATE_ANS, "no session", '200 {"apiKey": "<key>"}', create_answer(200, {"apiKey": "k" * 32}), rule=HALF_DONE_RULE, sends=True)
case(CREATE_ANS, "no apiKey", '200 {"session": "0000000000009"}', create_answer(200, {"session": "0000000000009"}), rule=HALF_DONE_RULE, sends=True)
case(CREATE_ANS, "apiKey a number", '200 {"apiKey": 12345, ...}', create_answer(200, {"apiKey": 12345, "session": "0000000000009"}), rule=HALF_DONE_RULE, sends=True)
case(CREATE_ANS, "session ../internal", '200 {"session": "../internal"}', create_answer(200, {"apiKey": "k" * 32, "session": "../internal"}), rule=HALF_DONE_RULE, sends=True)
case(CREATE_ANS, "session %2e%2e", '200 {"session": "%2e%2e"}', create_answer(200, {"apiKey": "k" * 32, "session": "%2e%2e"}), rule=HALF_DONE_RULE, sends=True)
case(CREATE_ANS, "session 10 000 characters", '200 {"session": 10 000 × 0}', create_answer(200, {"apiKey": "k" * 32, "session": "0" * 10_000}), rule=HALF_DONE_RULE, sends=True)
case(CREATE_ANS, "session an object", '200 {"session": {"id": 1}}', create_answer(200, {"apiKey": "k" * 32, "session": {"id": 1}}), rule=HALF_DONE_RULE, sends=True)

TOKEN_ANS = "Platform answer: /auth/token"


def token_answer(status, body, ctype="application/json"):
    def run(w):
        w.transport.answer("POST", r"/auth/token$", status, body, ctype)
        return w.svc.refresh_token(w.ready.id, actor="trust")
    return run


case(TOKEN_ANS, "HTML page, 200", "200 text/html nginx page", token_answer(200, NGINX_502_200, "text/html"), rule="rows", sends=True)
case(TOKEN_ANS, "empty, 200", "200, empty body", token_answer(200, b""), rule="rows", sends=True)
case(TOKEN_ANS, "plain text", "200 text/plain OK", token_answer(200, b"OK", "text/plain"), rule="rows", sends=True)
case(TOKEN_ANS, "no token", '200 {"access_token": …}', token_answer(200, {"access_token": "x"}), rule="rows", sends=True)
case(TOKEN_ANS, "token empty", '200 {"token": ""}', token_answer(200, {"token": ""}), rule="rows", sends=True)
case(TOKEN_ANS, "token a number", '200 {"token": 123}', token_answer(200, {"token": 123}), rule="rows", sends=True)
case(TOKEN_ANS, "token not a JWT", '200 {"token": "not-a-jwt"}', token_answer(200, {"token": "not-a-jwt"}), rule="rows", sends=True)
case(TOKEN_ANS, "token truncated", '200 {"token": "<JWT cut in half>"}',
     lambda w: token_answer(200, {"token": w.real_jwt[: len(w.real_jwt) // 2]})(w), rule="rows", sends=True)
case(TOKEN_ANS, "token 10 000 characters", '200 {"token": "eyJ" + 10 000 × A}', token_answer(200, {"token": "eyJ" + "A" * 10_000}), rule="rows", sends=True)
case(TOKEN_ANS, "401 storm", "401 Invalid token on every mint", token_answer(401, {"error": "Invalid token"}), rule="rows", sends=True)

STATUS_ANS = "Platform answer: status"


def status_answer(status, body, ctype="application/json"):
    def run(w):
        w.transport.answer("GET", r"/status$", status, body, ctype)
        return w.svc.poll_check(w.store.get(w.ready.id))
    return run


case(STATUS_ANS, "HTML page, 200", "200 text/html nginx page", status_answer(200, NGINX_502_200, "text/html"), rule="rows", sends=True)
case(STATUS_ANS, "empty, 200", "200, empty body", status_answer(200, b""), rule="rows", sends=True)
case(STATUS_ANS, "a JSON list", "200 []", status_answer(200, []), rule="rows", sends=True)
case(STATUS_ANS, "JSON null", "200 null", status_answer(200, None), rule="rows", sends=True)
case(STATUS_ANS, "no status", '200 {"foo": "bar"}', status_answer(200, {"foo": "bar"}), rule="rows", sends=True)
case(STATUS_ANS, "status an object", '200 {"status": {"x": 1}}', status_answer(200, {"status": {"x": 1}}), rule="rows", sends=True)
case(STATUS_ANS, "cut-off JSON", '200 {"status": "conn', status_answer(200, b'{"status": "conn'), rule="rows", sends=True)
case(STATUS_ANS, "10 000 characters of noise", "200, 10 000 × #", status_answer(200, "#" * 10_000, "text/plain"), rule="rows", sends=True)
case(STATUS_ANS, "HTML page, 502", "502 text/html nginx page", status_answer(502, NGINX_502_200, "text/html"), rule="rows", sends=True)

QR_ANS = "Platform answer: QR"


def qr_answer(value):
    def run(w):
        w.transport.answer("GET", r"/status$", 200, {"status": "qr_required"})
        w.transport.answer("GET", r"/qr$", 200, {"qr": value})
        return w.svc.pairing_state(w.ready.id)
    return run


case(QR_ANS, "data URL, not base64", "data:image/png;base64,!!!not base64!!!", qr_answer("data:image/png;base64,!!!not base64!!!"), rule="rows", sends=True)
case(QR_ANS, "data URL of HTML", "data:text/html;base64,PGh0bWw+", qr_answer("data:text/html;base64,PGh0bWw+"), rule="rows", sends=True)
case(QR_ANS, "data URL, not encoded", "data:image/png,raw-bytes", qr_answer("data:image/png,raw-bytes"), rule="rows", sends=True)
case(QR_ANS, "data URL, no data", "data:image/png;base64,", qr_answer("data:image/png;base64,"), rule="rows", sends=True)
case(QR_ANS, "data URL, no comma", "data:image/png;base64", qr_answer("data:image/png;base64"), rule="rows", sends=True)
case(QR_ANS, "PNG header, then garbage", "base64 of \\x89PNG… + text", qr_answer(PNG_MAGIC_GARBAGE), rule="rows", sends=True)
case(QR_ANS, "GIF header, then zeros", "R0lGODlh + AAAA…", qr_answer(GIF_MAGIC_GARBAGE), rule="rows", sends=True)
case(QR_ANS, "text too long for a QR code", "5 000 × A (raw text)", qr_answer("A" * 5_000), rule="rows", sends=True)

SEND_ANS = "Platform answer: send"


def send_answer(status, body, ctype="application/json"):
    def run(w):
        w.transport.answer("POST", r"/api/messages/text$", status, body, ctype)
        return w.svc.send_test(w.ready.id, "+7 900 123-45-67", "Test", actor="trust")
    return run


case(SEND_ANS, "HTML page, 200", "200 text/html nginx page", send_answer(200, NGINX_502_200, "text/html"), rule="rows", sends=True)
case(SEND_ANS, "empty, 200", "200, empty body", send_answer(200, b""), rule="rows", sends=True)
case(SEND_ANS, "a JSON list", "200 []", send_answer(200, []), rule="rows", sends=True)
case(SEND_ANS, "status error", '200 {"status": "error", "message": "not on WhatsApp"}',
     send_answer(200, {"status": "error", "message": "number is not on WhatsApp"}), rule="rows", sends=True)
case(SEND_ANS, "cut-off JSON", '200 {"taskId": "a1', send_answer(200, b'{"taskId": "a1'), rule="rows", sends=True)
case(SEND_ANS, "500 with HTML", "500 text/html page", send_answer(500, NGINX_502_200.replace("502", "500"), "text/html"), rule="rows", sends=True)


def test_there_are_at_least_40_distinct_bad_inputs():
    keys = [(c.form, c.shown) for c in CASES]
    assert len(set(keys)) == len(keys), "a case is listed twice"
    assert len(CASES) >= 40


@pytest.mark.parametrize("c", CASES, ids=[c.id for c in CASES])
def test_bad_input_gives_a_readable_message_and_leaves_the_store(world, trust, c: Case):
    before = snapshot(world.store)
    requests_before = world.requests()

    out = outcome_of(lambda: c.run(world))

    assert out.kind in c.expect, f"expected {c.expect}, got {out.kind}: {out.message}"
    problems = check_readable(out, world.secrets())
    assert not problems, f"{out.message!r}: {problems}"
    after = snapshot(world.store)
    # rows the case itself made (the hand-edited row it starts from) belong to "before"
    for iid, row in after["rows"].items():
        if iid not in before["rows"]:
            before["rows"][iid] = _as_made(world, iid, row)
    changed = store_changes(before, after, c.rule)
    assert not changed, changed
    if not c.sends:
        assert world.requests() == requests_before, "refused input still reached the platform"
    trust.input(c.form, c.name, c.shown, out.kind if out.kind == "warning" else f"error: {out.error.kind}",
                out.message)


def _as_made(world, iid, row):
    """A row the case created as its starting point: compared with itself as first saved (settings, org, name)."""
    made = dict(row)
    made.update(last_error=None, last_error_at=None)
    return made
