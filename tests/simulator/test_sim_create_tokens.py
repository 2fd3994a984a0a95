"""Create, /auth/token and the JWT rules of the simulated platform."""
from __future__ import annotations

import re

import jwt
import pytest


# The tests forge JWTs with the simulator's short fake secrets on purpose.
pytestmark = pytest.mark.filterwarnings("ignore::jwt.warnings.InsecureKeyLengthWarning")

SECRET_HEADERS = {"Authorization": "Bearer sim-platform-secret"}
INVALID_TOKEN = {"error": "Invalid token"}
INVALID_API_KEY = {"error": "Invalid API key"}


def test_create_with_secret_gives_key_and_13_digit_session(api, sim):
    r = api.create("org-a")
    assert r.status_code == 200
    body = r.json()
    assert set(body) == {"apiKey", "session", "status"}
    assert len(body["apiKey"]) >= 32
    assert re.fullmatch(r"\d{13}", body["session"]) and body["session"] == "0000000000001"
    assert body["status"] == "starting"
    assert api.create("org-b").json()["session"] == "0000000000002"
    assert sim.api_key_for("org-a") == body["apiKey"]


def test_same_org_gets_same_key_and_session_sub_org_gets_its_own(api, sim):
    first = api.create("org-a").json()
    again = api.create("org-a").json()
    assert (again["apiKey"], again["session"]) == (first["apiKey"], first["session"])
    sub = api.create("org-a__wpp__1a2b3c4d").json()
    assert sub["session"] != first["session"] and sub["apiKey"] != first["apiKey"]
    assert sim.stats()["clients_created"] == 2
    assert sim.count("POST /api/integrations/wpp/create") == 3


def test_create_with_supabase_user_jwt(api, sim):
    r = api.create("org-sb", headers={"Authorization": f"Bearer {sim.make_supabase_jwt('user-1')}"})
    assert r.status_code == 200 and r.json()["session"]
    hand_made = jwt.encode({"sub": "u2", "role": "authenticated"}, sim.supabase_jwt_secret, algorithm="HS256")
    assert api.create("org-sb2", headers={"Authorization": f"Bearer {hand_made}"}).status_code == 200


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"Authorization": "Bearer wrong-secret"},
        {"Authorization": "sim-platform-secret"},  # no Bearer
        {"Authorization": "Basic sim-platform-secret"},
    ],
)
def test_create_with_wrong_credentials_is_401_invalid_token(api, sim, headers):
    r = api.create("org-x", headers=headers)
    assert r.status_code == 401 and r.json() == INVALID_TOKEN
    assert sim.accounts() == []


def test_create_rejects_bad_supabase_jwts(mapi, msim, clock):
    wrong_key = jwt.encode({"sub": "u", "role": "authenticated"}, "not-the-secret", algorithm="HS256")
    anon = jwt.encode({"sub": "u", "role": "anon"}, msim.supabase_jwt_secret, algorithm="HS256")
    short = msim.make_supabase_jwt("u", lifetime_s=10)
    assert mapi.create("o", headers={"Authorization": f"Bearer {short}"}).status_code == 200
    clock.advance(11)
    for tok in (wrong_key, anon, short):
        r = mapi.create("o2", headers={"Authorization": f"Bearer {tok}"})
        assert r.status_code == 401 and r.json() == INVALID_TOKEN


@pytest.mark.parametrize("payload", [{}, {"organizationId": ""}, {"organizationId": 42}, {"org": "x"}])
def test_create_without_organization_id_is_400(api, payload):
    r = api.http.post("/api/integrations/wpp/create", json=payload, headers=SECRET_HEADERS)
    assert r.status_code == 400 and isinstance(r.json()["error"], str)


def test_create_with_invalid_json_is_400(api):
    r = api.http.post(
        "/api/integrations/wpp/create",
        content=b"{not json",
        headers={**SECRET_HEADERS, "Content-Type": "application/json"},
    )
    assert r.status_code == 400 and "error" in r.json()


def test_token_claims_and_expires_in(api, sim):
    key, session = api.account("org-t")
    r = api.http.post("/auth/token", json={"apiKey": key})
    assert r.status_code == 200
    body = r.json()
    assert body["expiresIn"] == 900
    claims = jwt.decode(body["token"], options={"verify_signature": False})
    assert claims["sub"] == session and claims["organizationId"] == "org-t"
    assert claims["exp"] - claims["iat"] == 900
    assert sim.stats()["tokens_minted"] == 1


def test_token_without_expires_in_and_without_exp_claim(mapi, msim, clock):
    msim.knobs.include_expires_in = False
    msim.knobs.include_exp_claim = False
    msim.knobs.token_lifetime_s = 120
    key, session = mapi.account()
    body = mapi.http.post("/auth/token", json={"apiKey": key}).json()
    assert set(body) == {"token"}
    assert "exp" not in jwt.decode(body["token"], options={"verify_signature": False})
    headers = {"Authorization": f"Bearer {body['token']}"}
    assert mapi.status(session, headers).status_code == 200
    clock.advance(121)  # the platform still expires it on its side
    assert mapi.status(session, headers).json() == INVALID_TOKEN


def test_unknown_or_missing_api_key(api):
    r = api.http.post("/auth/token", json={"apiKey": "nope-nope-nope"})
    assert r.status_code == 403 and r.json() == INVALID_API_KEY
    r = api.http.post("/auth/token", json={})
    assert r.status_code == 400 and "error" in r.json()


def test_new_key_is_refused_during_activation_delay(mapi, msim, clock):
    msim.knobs.key_activation_delay_s = 5
    key, _ = mapi.account()
    r = mapi.http.post("/auth/token", json={"apiKey": key})
    assert r.status_code == 403 and r.json() == INVALID_API_KEY
    clock.advance(4.9)
    assert mapi.http.post("/auth/token", json={"apiKey": key}).status_code == 403
    clock.advance(0.2)
    assert mapi.http.post("/auth/token", json={"apiKey": key}).status_code == 200
    assert msim.stats()["tokens_minted"] == 1


def test_token_expires_by_the_clock(mapi, msim, clock):
    msim.knobs.token_lifetime_s = 60
    key, session = mapi.account()
    headers = {"Authorization": f"Bearer {mapi.token(key)}"}
    assert mapi.status(session, headers).status_code == 200
    clock.advance(59)
    assert mapi.status(session, headers).status_code == 200
    clock.advance(1)
    r = mapi.status(session, headers)
    assert r.status_code == 401 and r.json() == INVALID_TOKEN
    fresh = {"Authorization": f"Bearer {mapi.token(key)}"}
    assert mapi.status(session, fresh).status_code == 200


def test_expire_tokens_for_one_session_then_all(api, sim):
    s1, h1 = api.login("org-1")
    s2, h2 = api.login("org-2")
    sim.expire_tokens(s1)
    assert api.status(s1, h1).json() == INVALID_TOKEN
    assert api.status(s2, h2).status_code == 200
    s1b, h1b = api.login("org-1")  # tokens minted afterwards work
    assert api.status(s1, h1b).status_code == 200
    r = api.http.post("/_sim/tokens/expire", json={})
    assert r.status_code == 200
    assert api.status(s1, h1b).status_code == 401
    assert api.status(s2, h2).status_code == 401


def test_forged_missing_and_foreign_tokens(api):
    s1, h1 = api.login("org-1")
    s2, _ = api.login("org-2")
    forged = jwt.encode({"sub": s1, "jti": "1", "iat": 0}, "guessed-key", algorithm="HS256")
    for headers in ({}, {"Authorization": f"Bearer {forged}"}, {"Authorization": "Bearer sim-platform-secret"}):
        r = api.status(s1, headers)
        assert r.status_code == 401 and r.json() == INVALID_TOKEN
    r = api.status(s2, h1)
    assert r.status_code == 403 and r.json() == {"error": "Forbidden"}
    r = api.status("0000000009999", h1)
    assert r.status_code == 404 and r.json() == {"error": "Account not found"}


def test_session_path_is_url_decoded(api):
    s1, h1 = api.login("org-1")
    encoded = "".join(f"%{ord(c):02X}" for c in s1)
    assert api.http.get(f"/api/accounts/{encoded}/status", headers=h1).status_code == 200
    r = api.http.get("/api/accounts/..%2F0000000000001/status", headers=h1)
    assert r.status_code == 404 and r.json() == {"error": "Account not found"}
