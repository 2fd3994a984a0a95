"""Who may do what (issue 19): roles, grants from each sign-in method, default-deny, revocation within minutes."""
from __future__ import annotations

import pytest

from wpp.access import Identity
from wpp.access.authorize import RECHECK_S, Authorizer, NoAccess
from wpp.access.roles import ALL, PERMISSIONS, Access, Grant, NotAllowed, Role, parse_schools
from wpp.clock import ManualClock
from wpp.i18n import use_language

A = "0a0a0a0a-0000-4000-8000-00000000000a"
B = "0b0b0b0b-0000-4000-8000-00000000000b"


def supa(user_id="u-1", email="teacher@school5.ru") -> Identity:
    return Identity(name="T", username=email, method="supabase", email=email, user_id=user_id)


# --- the permission table ---------------------------------------------------------------------------------
def test_each_role_may_exactly_what_the_table_says():
    for action, perm in PERMISSIONS.items():
        for role in Role:
            access = Access.of([Grant(role, frozenset({A}))])
            assert access.may(action, A) is (role >= perm.role), (action, role)
            assert access.may(action, B) is (perm.console_wide and role >= perm.role), (action, role)


def test_a_higher_role_at_one_school_does_not_leak_to_another():
    access = Access.of([Grant(Role.ADMINISTRATOR, frozenset({A})), Grant(Role.VIEWER, frozenset({B}))])
    assert access.may("remove", A) and not access.may("remove", B)
    assert access.may("view", B) and not access.may("send", B)
    assert access.role_in(f"{A}__wpp__1a2b3c4d") is Role.ADMINISTRATOR, "a second number belongs to its school"


def test_refusals_are_sentences_that_say_who_can_and_what_to_do():
    viewer = Access.of([Grant(Role.VIEWER, frozenset({A}))])
    with pytest.raises(NotAllowed) as err:
        viewer.check("remove", A)
    assert err.value.message == "Only an administrator can remove a number."
    assert "Ask an administrator" in err.value.action
    with pytest.raises(NotAllowed) as err:
        viewer.check("send", A)
    assert err.value.message == "Only an operator or an administrator can send a test message."
    with use_language("ru"):
        assert "администратор" in err.value.message


@pytest.mark.parametrize("bad", [[], [""], "", 5, ["x" * 201], None])
def test_schools_must_be_ids_or_every_school(bad):
    with pytest.raises(ValueError):
        parse_schools(bad)


def test_star_means_every_school_and_roles_are_words():
    assert parse_schools("*") == ALL and parse_schools(["a", "*"]) == ALL
    assert Grant.of("Admin", "*").role is Role.ADMINISTRATOR
    with pytest.raises(ValueError, match="unknown role"):
        Grant.of("superuser", "*")


# --- where grants come from -------------------------------------------------------------------------------
def test_staff_accounts_get_their_own_grant_and_nothing_else():
    auth = Authorizer(staff_access={"Olga": Grant(Role.OPERATOR, frozenset({A}))})
    olga = auth.access_for(Identity(name="Olga", username="olga", method="staff"))
    assert olga.role_in(A) is Role.OPERATOR and not olga.sees(B)
    with pytest.raises(NoAccess):
        auth.admit(Identity(name="Ghost", username="ghost", method="staff"))


def test_email_allow_list_grants_by_address_and_domain_together():
    auth = Authorizer(email_grants={"@school5.ru": Grant(Role.VIEWER, frozenset({A})),
                                    "director@school5.ru": Grant(Role.ADMINISTRATOR, frozenset({A}))})
    director = auth.access_for(Identity(name="D", username="d", method="oidc", email="Director@School5.ru"))
    teacher = auth.access_for(Identity(name="T", username="t", method="oidc", email="teacher@school5.ru"))
    assert director.role_in(A) is Role.ADMINISTRATOR and teacher.role_in(A) is Role.VIEWER
    with pytest.raises(NoAccess):
        auth.admit(Identity(name="M", username="m", method="oidc", email="mallory@gmail.com"))


def test_anyone_at_the_provider_only_when_chosen_and_never_for_supabase():
    anyone = Authorizer(allow_any_oidc=True)
    assert anyone.admit(Identity(name="X", username="x", method="oidc", email="x@gmail.com")).all_schools
    with pytest.raises(NoAccess):
        anyone.admit(supa())


def test_a_supabase_account_with_no_membership_is_refused_by_default():
    auth = Authorizer(memberships=lambda uid: [])
    with pytest.raises(NoAccess) as err:
        auth.admit(supa())
    assert "no access" in err.value.message and "administrator of your school" in err.value.action
    with pytest.raises(NoAccess):
        Authorizer().admit(supa())  # no membership table, no allow-list: nobody


def test_memberships_map_the_platforms_roles_and_ignore_unknown_ones():
    rows = {"u-1": [(A, "manager"), (B, "teacher"), ("c0c0c0c0-0000-4000-8000-00000000000c", "parent")]}
    auth = Authorizer(memberships=lambda uid: rows.get(uid, []),
                      role_map={"manager": Role.OPERATOR, "teacher": Role.VIEWER})
    access = auth.admit(supa())
    assert access.role_in(A) is Role.OPERATOR and access.role_in(B) is Role.VIEWER
    assert not access.sees("c0c0c0c0-0000-4000-8000-00000000000c"), "an unknown role gives nothing"


def test_a_membership_removed_in_the_database_ends_access_within_the_recheck():
    clock = ManualClock(1_000_000.0)
    rows = {"u-1": [(A, "operator")]}
    auth = Authorizer(memberships=lambda uid: list(rows.get(uid, [])), clock=clock)
    assert RECHECK_S <= 300, "the issue asks for at most 5 minutes"
    assert auth.admit(supa()).role_in(A) is Role.OPERATOR
    rows["u-1"] = []  # an administrator of the school platform removed the membership
    clock.advance(RECHECK_S - 1)
    assert not auth.access_for(supa()).empty, "read again sooner than needed (every tab would hit the database)"
    clock.advance(2)
    assert auth.access_for(supa()).empty


def test_the_membership_table_failing_refuses_rather_than_lets_in():
    def broken(uid):
        from wpp.errors import StoreError

        raise StoreError("The school platform's table of memberships cannot be read.")

    from wpp.errors import StoreError

    with pytest.raises(StoreError):
        Authorizer(memberships=broken).admit(supa())
