"""Identity, OIDC claims (Streamlit's st.user) and demo mode."""
from __future__ import annotations

import json

import pytest

from wpp.access import Identity, demo_identity, identity_from_oidc, parse_allow_list
from wpp.errors import AccessDenied
from wpp.masking import Secret

JWT = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U"


def test_identity_repr_masks_the_jwt():
    who = Identity(name="Anna", username="anna@example.com", method="supabase", supabase_jwt=Secret(JWT))
    for text in (repr(who), str(who), f"{who}", repr([who]), repr({"who": who})):
        assert JWT not in text
        assert "Anna" in text
    assert who.supabase_jwt.reveal() == JWT


def test_identity_wraps_a_plain_jwt_in_a_secret():
    who = Identity(name="Anna", username="a", method="supabase", supabase_jwt=JWT)  # type: ignore[arg-type]
    assert isinstance(who.supabase_jwt, Secret)
    assert JWT not in repr(who)


def test_demo_identity():
    who = demo_identity()
    assert who.name == "Demo user" and who.method == "demo" and who.supabase_jwt is None
    assert who.is_demo


@pytest.mark.parametrize(
    "claims, name, username",
    [
        ({"name": "Anna Petrova", "email": "anna@example.com", "sub": "g-1"}, "Anna Petrova", "anna@example.com"),
        ({"email": "anna@example.com", "sub": "g-1"}, "anna@example.com", "anna@example.com"),
        ({"sub": "g-1"}, "g-1", "g-1"),
        ({"name": "  ", "email": "", "sub": "g-1", "is_logged_in": True}, "g-1", "g-1"),
    ],
)
def test_identity_from_oidc(claims, name, username):
    who = identity_from_oidc(claims, allow_any=True)
    assert (who.name, who.username, who.method) == (name, username, "oidc")
    assert who.email == (claims.get("email") or None)
    assert who.supabase_jwt is None


def test_oidc_without_anybody_is_refused():
    with pytest.raises(AccessDenied):
        identity_from_oidc({}, allow_any=True)
    with pytest.raises(AccessDenied):
        identity_from_oidc({"is_logged_in": False}, allow_any=True)
    with pytest.raises(AccessDenied):
        identity_from_oidc({"is_logged_in": False, "email": "anna@example.com"}, allowed=["@example.com"])


def test_oidc_allow_list():
    ok = identity_from_oidc({"email": "Anna@Example.com", "email_verified": True}, allowed=["@example.com"])
    assert ok.username == "Anna@Example.com" and ok.email_verified
    assert identity_from_oidc({"email": "boss@other.org", "email_verified": True},
                              allowed=["boss@other.org", "@example.com"])
    for claims in ({"email": "eve@evil.com", "email_verified": True}, {"sub": "g-1"},
                   {"email": "anna@example.com", "email_verified": False}):
        with pytest.raises(AccessDenied) as info:
            identity_from_oidc(claims, allowed=["@example.com"])
        assert "not allowed" in str(info.value)


@pytest.mark.parametrize("claim", [None, "FALSE", "false", "true", "True", 1, "yes", False, 0, {}])
def test_oidc_counts_an_address_only_with_email_verified_exactly_true(claim):
    """Issue 24.6: a missing email_verified and the string "FALSE" both counted as verified."""
    claims = {"email": "anna@example.com"} if claim is None else {"email": "anna@example.com", "email_verified": claim}
    with pytest.raises(AccessDenied):
        identity_from_oidc(claims, allowed=["@example.com"])
    assert identity_from_oidc(claims, allow_any=True).email_verified is False


def test_a_provider_without_the_claim_is_believed_only_when_the_administrator_said_so():
    claims = {"email": "anna@example.com", "sub": "s-1"}
    who = identity_from_oidc(claims, allowed=["@example.com"], trust_without_claim=True)
    assert who.email_verified
    # a claim that says "not verified" is never believed, whatever the setting
    with pytest.raises(AccessDenied):
        identity_from_oidc({**claims, "email_verified": False}, allowed=["@example.com"], trust_without_claim=True)
    with pytest.raises(AccessDenied):
        identity_from_oidc({**claims, "email_verified": "FALSE"}, allowed=["@example.com"], trust_without_claim=True)


def test_oidc_addresses_are_compared_without_casefold_tricks():
    with pytest.raises(AccessDenied):
        identity_from_oidc({"email": "x@claß.ru", "email_verified": True}, allowed=["@class.ru"])
    assert identity_from_oidc({"email": "X@ШКОЛА5.РФ", "email_verified": True}, allowed=["@школа5.рф"])


@pytest.mark.parametrize("allowed", [None, [], ["", "  "]])
def test_oidc_without_an_allow_list_lets_nobody_in(allowed):
    """Issue 11.8: with [auth] and no allow-list, any Gmail account used to get in."""
    with pytest.raises(AccessDenied) as info:
        identity_from_oidc({"email": "someone@gmail.com", "name": "Some One"}, allowed=allowed)
    assert "WPP_ALLOWED_EMAILS" in info.value.action
    assert "someone" not in str(info.value)


def test_oidc_anyone_at_the_provider_only_when_said_explicitly():
    who = identity_from_oidc({"email": "someone@gmail.com", "sub": "g-9"}, allow_any=True)
    assert (who.username, who.method, who.user_id) == ("someone@gmail.com", "oidc", "g-9")
    # allow_any wins over a list (the configuration warns about that combination)
    assert identity_from_oidc({"email": "x@other.org"}, allowed=["@example.com"], allow_any=True)


def test_oidc_domain_entry_does_not_match_lookalike_domains():
    for email in ("anna@example.com.evil.org", "anna@notexample.com", "anna@sub.example.com"):
        with pytest.raises(AccessDenied):
            identity_from_oidc({"email": email, "email_verified": True}, allowed=["@example.com"])


@pytest.mark.parametrize("text, entries, bad", [
    ("anna@school.org, @school.org", ["anna@school.org", "@school.org"], []),
    ("Anna@School.org;@Other.org  boss@x.io", ["anna@school.org", "@other.org", "boss@x.io"], []),
    (["@a.org", "b@c.org"], ["@a.org", "b@c.org"], []),
    ("anna, @school", [], ["anna", "@school"]),
    ("x@Claß.ru, @ШКОЛА5.РФ", ["x@xn--cla-7ka.ru", "@xn--5-7sb3aeo2d.xn--p1ai"], []),
    ("", [], []),
])
def test_parse_allow_list(text, entries, bad):
    assert parse_allow_list(text) == (entries, bad)


def _supabase_identity():
    return Identity(name="Anna Petrova", username="anna@example.com", method="supabase", supabase_jwt=Secret(JWT),
                    supabase_refresh_token=Secret("refresh-token-value-123"), email="anna@example.com",
                    user_id="8d0fd2b3-9ca6-4a5c-b2a5-bb2f5d3c1e11", expires_at=4102444800.0)


def test_identity_json_round_trip_keeps_who_but_no_token():
    who = _supabase_identity()
    data = who.to_json()
    text = json.dumps(data)
    assert JWT not in text and "refresh-token-value" not in text
    assert set(data) <= {"v", "name", "username", "method", "email", "user_id"}
    back = Identity.from_json(json.loads(text))
    assert (back.name, back.username, back.method, back.email, back.user_id) == (
        "Anna Petrova", "anna@example.com", "supabase", "anna@example.com", who.user_id)
    assert back.supabase_jwt is None and back.supabase_refresh_token is None
    assert back.jwt_expired()  # a restored Supabase sign-in has no token to send to the platform
    for who in (demo_identity(), Identity(name="anna", username="anna", method="staff")):
        assert Identity.from_json(who.to_json()) == who


@pytest.mark.parametrize("data", [
    None, {}, {"v": 2, "name": "x", "method": "staff"}, {"v": 1, "name": "x", "method": "root"},
    {"v": 1, "name": "", "method": "staff"}, {"v": 1, "name": "x" * 1000, "method": "staff"},
    {"v": 1, "name": ["x"], "method": "staff"},
])
def test_identity_from_json_refuses_anything_else(data):
    with pytest.raises(ValueError):
        Identity.from_json(data)
