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
            one = Access.of([Grant(role, frozenset({A}))])
            every = Access.of([Grant(role)])
            # at one's own school: the role decides, unless the action is about the console as a whole
            assert one.may(action, A) is (role >= perm.role and not perm.every_school), (action, role)
            assert one.may(action, B) is False, (action, role)
            assert one.may(action, ALL) is False, (action, role)
            assert every.may(action, A) is (role >= perm.role), (action, role)
            assert every.may(action, ALL) is (role >= perm.role), (action, role)


def test_mixed_people_have_each_role_only_where_it_was_given():
    """Issue 24: the owner of school A who is a viewer in the district is no administrator of B nor of the console."""
    admin_a_viewer_b = Access.of([Grant(Role.ADMINISTRATOR, frozenset({A})), Grant(Role.VIEWER, frozenset({B}))])
    viewer_all_admin_a = Access.of([Grant(Role.VIEWER), Grant(Role.ADMINISTRATOR, frozenset({A}))])
    for person in (admin_a_viewer_b, viewer_all_admin_a):
        for action in ("alerts", "webhooks", "diary_all", "remove", "reveal"):
            assert person.may(action, A) and not person.may(action, B), action
            assert not person.may(action, ALL), f"{action}: administrator of A is not administrator of every school"
        for action in ("settings", "add_school", "rename_school"):
            assert not person.may(action) and not person.may(action, A), action
    assert viewer_all_admin_a.may("view", "c0c0c0c0-0000-4000-8000-00000000000c") and \
        viewer_all_admin_a.may("view", ALL)
    operator_everywhere = Access.of([Grant(Role.OPERATOR)])
    assert operator_everywhere.may("add_school") and not operator_everywhere.may("rename_school")
    assert not operator_everywhere.may("settings")


def test_a_refusal_of_what_needs_every_school_says_so():
    admin_a = Access.of([Grant(Role.ADMINISTRATOR, frozenset({A}))])
    with pytest.raises(NotAllowed) as err:
        admin_a.check("settings", A)
    assert err.value.message == "Only an administrator of every school can see the console's settings."
    assert "every school" in err.value.action


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


def oidc(email: str, *, proven: bool = True) -> Identity:
    return Identity(name="P", username=email, method="oidc", email=email, email_verified=proven)


def test_email_allow_list_grants_by_address_and_domain_together():
    auth = Authorizer(email_grants={"@school5.ru": Grant(Role.VIEWER, frozenset({A})),
                                    "director@school5.ru": Grant(Role.ADMINISTRATOR, frozenset({A}))})
    director = auth.access_for(oidc("Director@School5.ru"))
    teacher = auth.access_for(oidc("teacher@school5.ru"))
    assert director.role_in(A) is Role.ADMINISTRATOR and teacher.role_in(A) is Role.VIEWER
    with pytest.raises(NoAccess):
        auth.admit(oidc("mallory@gmail.com"))


def test_an_unproven_address_gets_nothing_from_the_allow_list():
    """Issue 24.6: a Supabase project that lets people sign up without confirming lets anyone claim x@school5.ru."""
    auth = Authorizer(email_grants={"@school5.ru": Grant(Role.OPERATOR, frozenset({A}))})
    claimed = Identity(name="X", username="x@school5.ru", method="supabase", email="x@school5.ru", user_id="u-9")
    with pytest.raises(NoAccess):
        auth.admit(claimed)
    with pytest.raises(NoAccess):
        auth.admit(oidc("x@school5.ru", proven=False))
    from dataclasses import replace

    assert auth.admit(replace(claimed, email_verified=True)).role_in(A) is Role.OPERATOR


@pytest.mark.parametrize("address, entry, matches", [
    ("x@claß.ru", "@class.ru", False),            # casefold() made these equal
    ("x@CLASS.ru", "@class.ru", True),
    ("Anna@School5.RU", "anna@school5.ru", True),
    ("x@школа5.рф", "@ШКОЛА5.РФ", True),          # one domain, IDNA
    ("x@школа5.рф", "@xn--5-7sb3aeo2d.xn--p1ai", True),
    ("\u212aate@school5.ru", "kate@school5.ru", False),  # the Kelvin sign is not a K
    ("straße@school5.ru", "strasse@school5.ru", False),
    ("x@school5.ru.evil.org", "@school5.ru", False),
    ("x@sub.school5.ru", "@school5.ru", False),
])
def test_addresses_are_compared_in_a_form_that_never_makes_two_different_ones_equal(address, entry, matches):
    auth = Authorizer(email_grants={entry: Grant(Role.VIEWER, frozenset({A}))})
    assert (not auth.access_for(oidc(address)).empty) is matches


def test_two_staff_names_differing_only_in_case_give_neither_a_role():
    """Issue 24.7: an old-form "Olga" (administrator of every school) beside [staff.olga] (viewer): a restored lasting
    sign-in of olga must not become the administrator."""
    auth = Authorizer(staff_access={"Olga": Grant(Role.ADMINISTRATOR), "olga": Grant(Role.VIEWER, frozenset({A})),
                                    "anna": Grant(Role.OPERATOR, frozenset({A}))})
    restored = Identity.from_json({"v": 1, "name": "olga", "username": "olga", "method": "staff"})
    assert auth.access_for(restored).empty
    assert auth.access_for(Identity(name="Olga", username="Olga", method="staff")).empty
    assert auth.access_for(Identity(name="anna", username="anna", method="staff")).role_in(A) is Role.OPERATOR


def test_a_lasting_sign_in_keeps_whether_the_address_was_proven():
    proven = oidc("a@school5.ru")
    assert Identity.from_json(proven.to_json()).email_verified is True
    assert Identity.from_json(oidc("a@school5.ru", proven=False).to_json()).email_verified is False
    # a sign-in kept before addresses had to be proven: its address counts for nothing
    old = {"v": 1, "name": "A", "username": "a@school5.ru", "method": "supabase", "email": "a@school5.ru"}
    assert Identity.from_json(old).email_verified is False


def test_anyone_at_the_provider_only_when_chosen_and_never_for_supabase():
    anyone = Authorizer(allow_any_oidc=True)
    assert anyone.admit(Identity(name="X", username="x", method="oidc", email="x@gmail.com")).may("settings")
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
