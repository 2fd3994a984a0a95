"""Identity, OIDC claims (Streamlit's st.user) and demo mode."""
from __future__ import annotations

import pytest

from wpp.access import Identity, demo_identity, identity_from_oidc
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
    who = identity_from_oidc(claims)
    assert (who.name, who.username, who.method) == (name, username, "oidc")
    assert who.email == (claims.get("email") or None)
    assert who.supabase_jwt is None


def test_oidc_without_anybody_is_refused():
    with pytest.raises(AccessDenied):
        identity_from_oidc({})
    with pytest.raises(AccessDenied):
        identity_from_oidc({"is_logged_in": False})
    with pytest.raises(AccessDenied):
        identity_from_oidc({"is_logged_in": False, "email": "anna@example.com"})


def test_oidc_allow_list():
    ok = identity_from_oidc({"email": "Anna@Example.com"}, allowed=["@example.com"])
    assert ok.username == "Anna@Example.com"
    assert identity_from_oidc({"email": "boss@other.org"}, allowed=["boss@other.org", "@example.com"])
    for claims in ({"email": "eve@evil.com"}, {"sub": "g-1"}, {"email": "anna@example.com", "email_verified": False}):
        with pytest.raises(AccessDenied) as info:
            identity_from_oidc(claims, allowed=["@example.com"])
        assert "not allowed" in str(info.value)
