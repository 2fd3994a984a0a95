"""Settings (issues 11 and 15): one declared model, the environment and every secrets file, every value checked at
start with its name and allowed range, unreadable files named with line and column, demo only over nothing real."""
from __future__ import annotations

import re
import tomllib
from pathlib import Path

import pytest

from wpp.config import DEMO_DB, REAL_DB, InvalidSettings, Settings, load_settings
from wpp.errors import ConfigError
from wpp.i18n import Text, use_language
from wpp.masking import Secret

BASE = {"WPP_BASE_URL": "https://wpp.example.org"}


@pytest.fixture
def data_dir(tmp_path):
    d = tmp_path / "data"
    d.mkdir()
    return d


def load(env=None, files=(), **kw):
    """Settings from exactly these inputs: no developer's environment, no real secrets file."""
    return load_settings(env=dict(env or {}), secrets_files=list(files), **kw)


def problems_of(env=None, files=(), **kw) -> list[str]:
    with pytest.raises(InvalidSettings) as info:
        load(env, files, **kw)
    err = info.value
    assert isinstance(err, ConfigError)
    lines = [str(p) for p in err.problems]
    for line in lines:
        assert line in err.message  # one line per problem, all in the message
    return lines


def toml(path, text):
    path.write_text(text, encoding="utf-8")
    return path


# =================================================================================================================
# Every bad value named, with its value and what it must be
# =================================================================================================================
BAD = [
    # name, value, the rule as the message says it
    ("WPP_POLL_SECONDS", "-1", "a number of seconds, at least 1"),
    ("WPP_POLL_SECONDS", "0", "a number of seconds, at least 1"),
    ("WPP_POLL_SECONDS", "abc", "a number of seconds, at least 1"),
    ("WPP_POLL_SECONDS", "0.5", "a number of seconds, at least 1"),
    ("WPP_POLL_SECONDS", "nan", "a number of seconds, at least 1"),
    ("WPP_POLL_SECONDS", "inf", "a number of seconds, at least 1"),
    ("WPP_POLL_CONNECTED_SECONDS", "0", "a number of seconds, at least 1"),
    ("WPP_POLL_OFFLINE_SECONDS", "-30", "a number of seconds, at least 1"),
    ("WPP_POLL_PAIRING_SECONDS", "0.2", "a number of seconds, at least 1"),
    ("WPP_FLEET_CONCURRENCY", "0", "a whole number from 1 to 500"),
    ("WPP_FLEET_CONCURRENCY", "501", "a whole number from 1 to 500"),
    ("WPP_FLEET_CONCURRENCY", "2.5", "a whole number from 1 to 500"),
    ("WPP_FLEET_CONCURRENCY", "fifty", "a whole number from 1 to 500"),
    ("WPP_HTTP_TIMEOUT", "0", "a number of seconds greater than 0"),
    ("WPP_HTTP_TIMEOUT", "-3", "a number of seconds greater than 0"),
    ("WPP_KEY_ACTIVATION_WAIT", "-1", "a number of seconds from 0 to 600"),
    ("WPP_KEY_ACTIVATION_WAIT", "601", "a number of seconds from 0 to 600"),
    ("WPP_SESSION_HOURS", "0", "a number of hours greater than 0"),
    ("WPP_SESSION_HOURS", "-12", "a number of hours greater than 0"),
    ("WPP_SIM_PORT", "0", "a whole number from 1 to 65535"),
    ("WPP_SIM_PORT", "65536", "a whole number from 1 to 65535"),
    ("WPP_SIM_PORT", "http", "a whole number from 1 to 65535"),
    ("WPP_SIM_TOKEN_LIFETIME", "0", "a whole number of seconds, at least 1"),
    ("WPP_SIM_TOKEN_LIFETIME", "1.5", "a whole number of seconds, at least 1"),
    ("WPP_SIM_QR_ROTATE", "0", "a number of seconds greater than 0"),
    ("WPP_DEMO_SIGN_IN", "on", "one of true, false, yes, no, 1 or 0"),
    ("WPP_DEMO_SIGN_IN", "maybe", "one of true, false, yes, no, 1 or 0"),
    ("WPP_DEMO_SIGN_IN", "2", "one of true, false, yes, no, 1 or 0"),
    ("WPP_DEMO_FLEET", "empty", "one of true, false, yes, no, 1 or 0"),
    ("WPP_ALLOW_ANY_OIDC_ACCOUNT", "y", "one of true, false, yes, no, 1 or 0"),
    ("WPP_BASE_URL", "wpp.example.org", "a web address that starts with http:// or https:// and names a host"),
    ("WPP_BASE_URL", "ftp://wpp.example.org", "a web address that starts with http:// or https://"),
    ("WPP_BASE_URL", "https://", "a web address that starts with http:// or https:// and names a host"),
    ("WPP_BASE_URL", "https://wpp example.org", "a web address that starts with http:// or https://"),
    ("WPP_BASE_URL", "https://wpp.example.org:99999", "a web address that starts with http:// or https://"),
    ("WPP_ORG_TABLE", "organizations; drop table x", "a table name of letters, digits and _"),
    ("WPP_ORG_TABLE", "1organizations", "a table name of letters, digits and _"),
    ("WPP_ORG_TABLE", "a.b.c", "optionally after a schema name and a dot (schema.table)"),
    ("WPP_ORG_ID_COLUMN", "id-x", "a column name of letters, digits and _"),
    ("WPP_ORG_NAME_COLUMN", "full name", "a column name of letters, digits and _"),
    ("WPP_ALLOWED_EMAILS", "anna, @school", "email addresses and @domain entries separated by commas"),
    ("WPP_ALLOWED_EMAILS", '{"@school.org": ', "or a table of such entries and their roles"),
    ("WPP_ALLOWED_EMAILS", '["@school.org", ', "email addresses and @domain entries separated by commas"),
    ("WPP_ALLOWED_EMAILS", '["@school.org", 5]', "email addresses and @domain entries separated by commas"),
    ("WPP_MEMBER_TABLE", "members; drop table x", "a table name of letters, digits and _"),
    ("WPP_MEMBER_TABLE", "a.b.c", "optionally after a schema name and a dot (schema.table)"),
    ("WPP_MEMBER_USER_COLUMN", "user id", "a column name of letters, digits and _"),
    ("WPP_MEMBER_ORG_COLUMN", "org-id", "a column name of letters, digits and _"),
    ("WPP_MEMBER_ROLE_COLUMN", "1role", "a column name of letters, digits and _"),
    ("WPP_MEMBER_ROLES", "teacher=boss", "a console role (viewer, operator or administrator)"),
    ("WPP_MEMBER_ROLES", "teacher", "a console role (viewer, operator or administrator)"),
    ("WPP_MEMBER_ROLES", "teacher=viewer, Teacher=operator", "a console role (viewer, operator or administrator)"),
    ("WPP_MEMBER_ROLES", '{"teacher": 1}', "a console role (viewer, operator or administrator)"),
]


@pytest.mark.parametrize("name, value, rule", BAD, ids=[f"{n}={v}" for n, v, _ in BAD])
def test_every_bad_setting_is_named_with_its_value_and_range(name, value, rule):
    env = {**BASE, name: value}
    lines = problems_of(env)
    assert len(lines) == 1, lines
    line = lines[0]
    assert name in line and f"“{value}”" in line and rule in line
    assert "the environment" in line
    assert "ValueError" not in line and "pydantic" not in line.lower()


def test_bad_values_from_a_file_name_the_file(tmp_path):
    f = toml(tmp_path / "secrets.toml", 'WPP_BASE_URL = "https://wpp.example.org"\nWPP_POLL_SECONDS = -1\n'
                                        "WPP_DEMO_SIGN_IN = 3\nWPP_FLEET_CONCURRENCY = true\n")
    lines = problems_of(files=[f])
    assert len(lines) == 3
    assert all(str(f) in line for line in lines)
    assert any("WPP_POLL_SECONDS is “-1”" in line for line in lines)
    assert any("WPP_FLEET_CONCURRENCY is “True”" in line for line in lines)  # a yes/no where a number belongs


def test_secret_values_are_masked_in_the_message():
    bad_db = "mysql://root:hunter2-very-long@db.internal/school"
    lines = problems_of({**BASE, "DATABASE_URL": bad_db})
    assert "DATABASE_URL" in lines[0] and "a PostgreSQL address" in lines[0]
    assert "hunter2" not in lines[0] and bad_db not in lines[0]


def test_every_problem_is_reported_at_once():
    lines = problems_of({**BASE, "WPP_POLL_SECONDS": "-1", "WPP_FLEET_CONCURRENCY": "abc", "WPP_HTTP_TIMEOUT": "0",
                         "WPP_DEMO_SIGN_IN": "maybe", "WPP_SESSION_HOURS": "0", "WPP_SIM_PORT": "70000"})
    names = ["WPP_HTTP_TIMEOUT", "WPP_FLEET_CONCURRENCY", "WPP_POLL_SECONDS", "WPP_SESSION_HOURS",
             "WPP_DEMO_SIGN_IN", "WPP_SIM_PORT"]
    assert [next(n for n in names if line.startswith(n)) for line in lines] == names  # in the declared order


def test_problem_lines_are_translatable_texts():
    with pytest.raises(InvalidSettings) as info:
        load({**BASE, "WPP_POLL_SECONDS": "-1"})
    err = info.value
    assert all(isinstance(p, Text) for p in err.problems)
    assert err.problems[0].msgid.startswith("{name} is “{value}”")
    with use_language("ru"):
        assert "WPP_POLL_SECONDS" in err.message  # rendered in the reader's language (names stay)
    assert "WPP_POLL_SECONDS" in err.english


@pytest.mark.parametrize("value, expected", [
    ("true", True), ("TRUE", True), ("Yes", True), ("1", True), (" yes ", True),
    ("false", False), ("False", False), ("NO", False), ("0", False),
])
def test_booleans_accept_only_the_plain_words(value, expected):
    s = load({**BASE, "WPP_DEMO_SIGN_IN": value, "WPP_ALLOW_ANY_OIDC_ACCOUNT": value})
    assert s.demo_sign_in is expected and s.allow_any_oidc_account is expected


def test_the_demo_opens_on_its_fleet_unless_told_to_start_empty():
    assert load({}).demo_fleet is True
    assert load({"WPP_DEMO_FLEET": "false"}).demo_fleet is False


def test_good_values_and_toml_types(tmp_path):
    f = toml(tmp_path / "s.toml", 'WPP_BASE_URL = "https://wpp.example.org/"\nWPP_POLL_SECONDS = 1\n'
                                  "WPP_FLEET_CONCURRENCY = 500\nWPP_HTTP_TIMEOUT = 2.5\nWPP_DEMO_SIGN_IN = true\n"
                                  'WPP_ALLOWED_EMAILS = ["Anna@School.org", "@school.org"]\n'
                                  'WPP_ORG_TABLE = "public.schools"\nWPP_SESSION_HOURS = 8\n')
    s = load(files=[f])
    assert s.wpp_base_url == "https://wpp.example.org"  # the trailing slash goes
    assert (s.poll_seconds, s.fleet_concurrency, s.http_timeout) == (1.0, 500, 2.5)
    assert s.demo_sign_in is True and s.org_table == "public.schools"
    assert s.allowed_email_list == ["anna@school.org", "@school.org"]
    assert s.session_lifetime_s == 8 * 3600
    assert s.org_table_spec.table == "public.schools"


def test_defaults():
    s = load(BASE)
    assert (s.poll_connected_seconds, s.poll_offline_seconds, s.poll_pairing_seconds) == (60, 30, 2)
    assert (s.session_hours, s.allow_any_oidc_account, s.fleet_concurrency) == (12, False, 50)
    assert (s.org_table, s.org_id_column, s.org_name_column) == ("organizations", "id", "name")
    assert s.warnings == []


def test_empty_values_count_as_not_set():
    s = load({**BASE, "WPP_SECRET": "", "WPP_POLL_SECONDS": "  "})
    assert s.wpp_secret is None and s.poll_seconds == 3


# =================================================================================================================
# Sources: arguments > environment > later file > earlier file > defaults
# =================================================================================================================
def test_sources_in_order(tmp_path):
    first = toml(tmp_path / "home.toml", 'WPP_POLL_SECONDS = 11\nWPP_HTTP_TIMEOUT = 11\nWPP_SESSION_HOURS = 11\n'
                                         'WPP_FLEET_CONCURRENCY = 11\n')
    second = toml(tmp_path / "project.toml", 'WPP_BASE_URL = "https://wpp.example.org"\nWPP_HTTP_TIMEOUT = 22\n'
                                             "WPP_SESSION_HOURS = 22\nWPP_FLEET_CONCURRENCY = 22\n")
    s = load({"WPP_SESSION_HOURS": "33", "WPP_FLEET_CONCURRENCY": "33"}, [first, second], fleet_concurrency=44)
    assert (s.poll_seconds, s.http_timeout, s.session_hours, s.fleet_concurrency) == (11, 22, 33, 44)
    assert s.secrets_files == (str(first), str(second))
    assert s.provenance["WPP_POLL_SECONDS"] == str(first)
    assert s.provenance["WPP_HTTP_TIMEOUT"] == str(second)
    assert s.provenance["WPP_SESSION_HOURS"] == "environment"
    assert s.provenance["WPP_FLEET_CONCURRENCY"] == "arguments"


def test_a_later_file_replaces_a_whole_table_like_streamlit(tmp_path, anna_and_boris):
    anna, boris = anna_and_boris
    first = toml(tmp_path / "a.toml", f'[staff]\nanna = "{anna}"\n')
    second = toml(tmp_path / "b.toml", f'WPP_BASE_URL = "https://wpp.example.org"\n[staff]\nboris = "{boris}"\n')
    assert load(files=[first, second]).staff == {"boris": boris}


@pytest.fixture(scope="module")
def anna_and_boris():
    from wpp.access import hash_password

    return hash_password("anna password"), hash_password("boris password")


def test_wpp_secrets_file_replaces_the_list(tmp_path):
    ignored = toml(tmp_path / "ignored.toml", "WPP_POLL_SECONDS = 9\n")
    chosen = toml(tmp_path / "chosen.toml", "WPP_POLL_SECONDS = 7\n")
    s = load({"WPP_SECRETS_FILE": str(chosen)}, [ignored])
    assert s.poll_seconds == 7 and s.secrets_files == (str(chosen),)
    assert s.warnings == []  # WPP_SECRETS_FILE is the loader's own name, not an unknown setting


def test_missing_files_are_skipped(tmp_path):
    s = load(BASE, [tmp_path / "nope.toml", tmp_path / "nor-this.toml"])
    assert s.secrets_files == ()


def test_lower_case_names_in_a_file(tmp_path):
    f = toml(tmp_path / "s.toml", 'wpp_base_url = "https://wpp.example.org"\nwpp_poll_seconds = 5\n')
    s = load(files=[f])
    assert s.wpp_base_url == "https://wpp.example.org" and s.poll_seconds == 5


def test_streamlit_copies_of_file_values_in_the_environment_are_the_files(tmp_path):
    """``streamlit run`` copies a secrets file's top-level values into os.environ at start; they are still the
    file's values."""
    f = toml(tmp_path / "s.toml", 'WPP_BASE_URL = "https://wpp.example.org"\nWPP_POLL_SECONDS = 5\n')
    s = load({"WPP_BASE_URL": "https://wpp.example.org", "WPP_POLL_SECONDS": "5"}, [f])
    assert s.provenance == {"WPP_BASE_URL": str(f), "WPP_POLL_SECONDS": str(f)}


def test_settings_alone_read_nothing(monkeypatch):
    monkeypatch.setenv("WPP_POLL_SECONDS", "7")
    assert Settings().poll_seconds == 3
    assert Settings(poll_seconds=5).poll_seconds == 5


def test_the_environment_is_read_by_default(monkeypatch, tmp_path):
    monkeypatch.setenv("WPP_SECRETS_FILE", str(tmp_path / "none.toml"))
    monkeypatch.setenv("WPP_BASE_URL", "https://wpp.example.org")
    monkeypatch.setenv("WPP_POLL_SECONDS", "4")
    assert load_settings().poll_seconds == 4


def test_keyword_arguments_by_name_or_setting_name():
    assert load(BASE, poll_seconds=5).poll_seconds == 5
    assert load(BASE, WPP_POLL_SECONDS="6").poll_seconds == 6
    with pytest.raises(TypeError):
        load(BASE, no_such_setting=1)
    lines = problems_of(BASE, poll_seconds=0)
    assert "WPP_POLL_SECONDS" in lines[0] and "the program's arguments" in lines[0]


# =================================================================================================================
# Secrets files that cannot be read
# =================================================================================================================
def test_a_toml_syntax_error_names_the_file_line_and_column(tmp_path):
    f = toml(tmp_path / "secrets.toml", 'WPP_BASE_URL = "https://wpp.example.org"\n\nWPP_SECRET = change me\n')
    lines = problems_of(files=[f])
    assert len(lines) == 1
    assert str(f) in lines[0] and "line 3" in lines[0] and "column 14" in lines[0]
    assert "change me" not in lines[0]  # the broken line may hold a secret: not quoted


def test_a_broken_file_never_falls_back_to_demo(tmp_path):
    """Issue 11.3: WPP_BASE_URL was in the broken file, and the console started a demo over the real data."""
    good = toml(tmp_path / "home.toml", "WPP_POLL_SECONDS = 5\n")
    broken = toml(tmp_path / "project.toml", '[staff]\nanna = "scrypt$16384$8$1$x$y"\nWPP_BASE_URL = "https://x\n')
    with pytest.raises(ConfigError) as info:
        load(files=[good, broken])
    assert str(broken) in info.value.message and "line 3" in info.value.message
    assert str(good) not in info.value.message


def test_an_unfinished_file_says_where(tmp_path):
    f = toml(tmp_path / "s.toml", "[staff\n")
    lines = problems_of(files=[f])
    assert str(f) in lines[0] and "line 1" in lines[0]


def test_a_file_that_is_not_text(tmp_path):
    f = tmp_path / "s.toml"
    f.write_bytes(b'WPP_BASE_URL = "https://wpp.example.org"\nWPP_SECRET = "\xff\xfe"\n')
    lines = problems_of(files=[f])
    assert str(f) in lines[0] and "UTF-8" in lines[0]


def test_a_file_that_cannot_be_opened(tmp_path):
    not_a_folder = toml(tmp_path / "plain", "x")
    path = not_a_folder / "secrets.toml"  # its "folder" is a file: the OS refuses
    lines = problems_of(files=[path])
    assert str(path) in lines[0] and "cannot be read" in lines[0]


def test_every_broken_file_is_named(tmp_path):
    a = toml(tmp_path / "a.toml", "x = \n")
    b = toml(tmp_path / "b.toml", "y = [\n")
    lines = problems_of(files=[a, b])
    assert [str(a) in lines[0], str(b) in lines[1]] == [True, True]


def test_kubernetes_style_secrets_folder(tmp_path):
    folder = tmp_path / "secrets"
    (folder / "WPP_BASE_URL").mkdir(parents=True)
    (folder / "WPP_BASE_URL" / "value").write_text("https://wpp.example.org\n")
    s = load(files=[folder])
    assert s.wpp_base_url == "https://wpp.example.org"


# =================================================================================================================
# Demo only over nothing real
# =================================================================================================================
def test_nothing_configured_is_demo(data_dir):
    s = load({"WPP_DATA_DIR": str(data_dir)})
    assert s.demo and s.sqlite_path == data_dir / DEMO_DB


def test_real_mode_uses_the_real_file(data_dir):
    s = load({**BASE, "WPP_DATA_DIR": str(data_dir)})
    assert not s.demo and s.sqlite_path == data_dir / REAL_DB


REAL_BITS = {
    "platform secret": ({"WPP_SECRET": "change-me"}, "", "WPP_SECRET"),
    "supabase": ({"SUPABASE_URL": "https://xyz.supabase.co", "SUPABASE_KEY": "k" * 40}, "", "SUPABASE_URL"),
    "postgres": ({"DATABASE_URL": "postgresql://u:p@h/db"}, "", "DATABASE_URL"),
    "staff table": ({}, '[staff]\nanna = "scrypt$16384$8$1$x$y"\n', "[staff]"),
    "auth table": ({"WPP_ALLOWED_EMAILS": "@school.org"},
                   '[auth]\nredirect_uri = "https://c.example.org/oauth2callback"\ncookie_secret = "' + "c" * 40 +
                   '"\nclient_id = "x"\nclient_secret = "y"\n'
                   'server_metadata_url = "https://accounts.google.com/.well-known/openid-configuration"\n', "[auth]"),
}


@pytest.mark.parametrize("case", list(REAL_BITS))
def test_no_demo_over_real_settings(case, tmp_path, data_dir):
    env, file_text, named = REAL_BITS[case]
    files = [toml(tmp_path / "s.toml", file_text)] if file_text else []
    lines = problems_of({**env, "WPP_DATA_DIR": str(data_dir)}, files)
    demo_lines = [line for line in lines if "WPP_BASE_URL is missing" in line]
    assert len(demo_lines) == 1, lines
    assert "will not start a demo over real settings" in demo_lines[0] and named in demo_lines[0]
    # ... and with WPP_BASE_URL the same settings are fine
    assert not load({**BASE, **env, "WPP_DATA_DIR": str(data_dir)}, files).demo


def test_no_demo_over_a_real_consoles_data(data_dir):
    (data_dir / REAL_DB).write_bytes(b"SQLite format 3\x00")
    lines = problems_of({"WPP_DATA_DIR": str(data_dir)})
    assert len(lines) == 1
    assert str(data_dir) in lines[0] and REAL_DB in lines[0] and "real console's numbers" in lines[0]
    # the real console itself may use it
    assert load({**BASE, "WPP_DATA_DIR": str(data_dir)}).sqlite_path == data_dir / REAL_DB


def test_demo_data_alone_does_not_block_demo(data_dir):
    (data_dir / DEMO_DB).write_bytes(b"SQLite format 3\x00")
    assert load({"WPP_DATA_DIR": str(data_dir)}).demo


def test_default_data_folder_follows_xdg(tmp_path):
    s = load({**BASE, "XDG_DATA_HOME": str(tmp_path)})
    assert s.sqlite_path == tmp_path / "wpp-console" / REAL_DB


def test_data_dir_that_is_a_file(tmp_path):
    f = toml(tmp_path / "file", "x")
    lines = problems_of({**BASE, "WPP_DATA_DIR": str(f)})
    assert "WPP_DATA_DIR" in lines[0] and "a folder" in lines[0]


def test_supabase_needs_both_address_and_key():
    lines = problems_of({**BASE, "SUPABASE_URL": "https://xyz.supabase.co"})
    assert "SUPABASE_URL is set but SUPABASE_KEY is missing" in lines[0]


# =================================================================================================================
# OIDC: an allow-list or an explicit "anyone"
# =================================================================================================================
AUTH = ('[auth]\nredirect_uri = "https://console.example.org/oauth2callback"\ncookie_secret = "' + "c" * 40 + '"\n'
        'client_id = "client"\nclient_secret = "client-secret"\n'
        'server_metadata_url = "https://accounts.google.com/.well-known/openid-configuration"\n')


def test_oidc_without_an_allow_list_is_refused(tmp_path):
    lines = problems_of(BASE, [toml(tmp_path / "s.toml", AUTH)])
    assert len(lines) == 1
    assert "WPP_ALLOWED_EMAILS" in lines[0] and "WPP_ALLOW_ANY_OIDC_ACCOUNT" in lines[0]
    assert len(problems_of({**BASE, "WPP_ALLOW_ANY_OIDC_ACCOUNT": "false"}, [toml(tmp_path / "s.toml", AUTH)])) == 1


def test_oidc_with_an_allow_list_or_anyone(tmp_path):
    f = toml(tmp_path / "s.toml", AUTH)
    s = load({**BASE, "WPP_ALLOWED_EMAILS": "anna@school.org, @school.org"}, [f])
    assert s.oidc_configured and s.oidc_providers == ("default",)
    assert s.allowed_email_list == ["anna@school.org", "@school.org"]
    s = load({**BASE, "WPP_ALLOW_ANY_OIDC_ACCOUNT": "yes"}, [f])
    assert s.allow_any_oidc_account
    assert [w.msgid for w in s.warnings] == [ANYONE_IS_ADMIN]  # everyone at the provider: an administrator


def test_anyone_and_a_list_together_is_warned_about(tmp_path):
    s = load({**BASE, "WPP_ALLOW_ANY_OIDC_ACCOUNT": "true", "WPP_ALLOWED_EMAILS": "@school.org"},
             [toml(tmp_path / "s.toml", AUTH)])
    assert any("WPP_ALLOWED_EMAILS is not used" in str(w) for w in s.warnings)


@pytest.mark.parametrize("broken, expected", [
    ('redirect_uri = "https://console.example.org/oauth2callback"', "[auth] has no redirect_uri"),
    ('server_metadata_url = "https://accounts.google.com/.well-known/openid-configuration"',
     "[auth] provider “default” lacks server_metadata_url"),
    ('cookie_secret = "' + "c" * 40 + '"', "[auth] has no cookie_secret"),
    ('client_secret = "client-secret"', "[auth] provider “default” lacks client_secret"),
])
def test_auth_table_is_checked_like_st_login_needs_it(tmp_path, broken, expected):
    text = AUTH.replace(broken + "\n", "")
    lines = problems_of({**BASE, "WPP_ALLOWED_EMAILS": "@school.org"}, [toml(tmp_path / "s.toml", text)])
    assert any(expected in line for line in lines), lines
    assert "client-secret" not in "\n".join(lines) and "c" * 40 not in "\n".join(lines)


def test_auth_with_named_providers(tmp_path):
    text = ('[auth]\nredirect_uri = "http://localhost:8501/oauth2callback"\ncookie_secret = "' + "c" * 40 + '"\n'
            '[auth.google]\nclient_id = "a"\nclient_secret = "b"\n'
            'server_metadata_url = "https://accounts.google.com/.well-known/openid-configuration"\n'
            '[auth.microsoft]\nclient_id = "a"\nclient_secret = "b"\n')
    lines = problems_of({**BASE, "WPP_ALLOWED_EMAILS": "@school.org"}, [toml(tmp_path / "s.toml", text)])
    assert lines == ["[auth] provider “microsoft” lacks server_metadata_url."]


def test_auth_redirect_must_end_in_oauth2callback(tmp_path):
    text = AUTH.replace("/oauth2callback", "/callback")
    lines = problems_of({**BASE, "WPP_ALLOWED_EMAILS": "@school.org"}, [toml(tmp_path / "s.toml", text)])
    assert "redirect_uri" in lines[0] and "/oauth2callback" in lines[0]


# =================================================================================================================
# Unknown names are warned about, not refused
# =================================================================================================================
def test_unknown_wpp_names_come_back_as_warnings(tmp_path):
    f = toml(tmp_path / "s.toml", 'WPP_BASE_URL = "https://wpp.example.org"\nWPP_POLL_SECNDS = 5\n'
                                  'WPP_STAFF_FILE = "staff.toml"\nOTHER_THING = 1\n')
    s = load({"WPP_COLOUR": "blue", "PATH": "/usr/bin"}, [f])
    text = [str(w) for w in s.warnings]
    assert all(isinstance(w, Text) for w in s.warnings)
    assert any("WPP_COLOUR" in t and "the environment" in t and "ignored" in t for t in text)
    assert any("WPP_POLL_SECNDS" in t and str(f) in t and "Did you mean WPP_POLL_SECONDS?" in t for t in text)
    assert any("WPP_STAFF_FILE" in t and "no longer used" in t and "[staff]" in t for t in text)
    assert not any("OTHER_THING" in t or "PATH" in t for t in text)
    # streamlit run copies the file's top-level values into the environment: still one warning, naming the file
    s = load({"WPP_POLL_SECNDS": "5"}, [f])
    assert [str(f) in str(w) for w in s.warnings if "WPP_POLL_SECNDS" in str(w)] == [True]


def test_staff_problems_are_warnings(tmp_path):
    f = toml(tmp_path / "s.toml", 'WPP_BASE_URL = "https://wpp.example.org"\n[staff]\nanna = "hunter2"\n')
    s = load(files=[f])
    assert any("“anna”" in str(w) for w in s.warnings)
    assert not any("hunter2" in str(w) for w in s.warnings)


# =================================================================================================================
# Secrets never print; the Settings page reads plain words
# =================================================================================================================
SECRET = "platform-secret-0123456789"
DB = "postgresql://console:db-password-42@db.internal/school"


def test_secrets_never_print(data_dir):
    s = load({**BASE, "WPP_SECRET": SECRET, "DATABASE_URL": DB, "WPP_JWT_VERIFY_KEY": "short-key",
              "WPP_DATA_DIR": str(data_dir)})
    assert isinstance(s.wpp_secret, Secret) and s.wpp_secret.reveal() == SECRET
    texts = [repr(s), str(s), f"{s}", repr(s.describe()), str(s.model_dump())]
    for text in texts:
        assert SECRET not in text and "db-password" not in text and "short-key" not in text


def test_describe_is_in_plain_words_with_secrets_masked(data_dir, anna_and_boris):
    s = load({**BASE, "WPP_SECRET": SECRET, "WPP_DATA_DIR": str(data_dir)}, staff={"anna": anna_and_boris[0]})
    rows = s.describe()
    labels = {str(label): value for label, value in rows}
    assert all(isinstance(label, Text) for label, _ in rows)
    assert all("_" not in label for label in labels)  # no snake_case
    assert labels["Platform address"] == "https://wpp.example.org"
    assert labels["Platform secret"] == "pla…789 (26 chars)"  # 26 characters: 3 at each end, under a quarter
    assert labels["How often connected numbers are checked"] == "60 seconds"
    assert labels["How long a sign-in lasts"] == "12 hours"
    assert labels["Staff accounts"] == "1 account"
    assert labels["SQLite file"] == str(data_dir / REAL_DB)
    assert "Port of the simulated platform" not in labels  # demo-only settings only in demo
    assert anna_and_boris[0] not in repr(rows)
    with use_language("ru"):
        assert len(s.describe()) == len(rows)


def test_source_says_where_settings_came_from(tmp_path):
    f = toml(tmp_path / "s.toml", 'WPP_BASE_URL = "https://wpp.example.org"\n')
    assert load({"WPP_POLL_SECONDS": "4"}, [f]).source == f"{f} + environment"
    assert load(BASE).source == "environment"


def test_a_setting_put_inside_auth_by_mistake_is_explained(tmp_path):
    text = AUTH + 'WPP_ALLOWED_EMAILS = "@school.org"\n'
    lines = problems_of(BASE, [toml(tmp_path / "s.toml", text)])
    assert any("WPP_ALLOWED_EMAILS is inside the [auth] table" in line for line in lines)


# =================================================================================================================
# The example file
# =================================================================================================================
EXAMPLE = Path(__file__).resolve().parents[2] / ".streamlit" / "secrets.toml.example"


def test_the_example_works_as_it_is_and_with_every_line_uncommented(tmp_path, data_dir):
    from wpp.config import ALIASES

    from wpp.access.roles import ALL, Grant, Role

    text = EXAMPLE.read_text(encoding="utf-8")
    s = load({"WPP_DATA_DIR": str(data_dir)}, [toml(tmp_path / "as-is.toml", text)])
    assert not s.demo and s.wpp_secret.reveal() == "change-me"
    uncommented = re.sub(r'(?m)^# (?=(\w+ = |"[^"]+" = |\[[\w.]+\]))', "", text)
    s = load({"WPP_DATA_DIR": str(data_dir)}, [toml(tmp_path / "all.toml", uncommented)])
    assert s.oidc_configured and s.staff
    assert s.allowed_email_list == ["@school5.ru", "director@school5.ru", "support@wpp.example"]
    assert s.allowed_email_grants["support@wpp.example"] == Grant(Role.ADMINISTRATOR, ALL)
    assert s.staff_access["anna"].role is Role.OPERATOR and len(s.staff_access["anna"].schools) == 2
    assert s.staff_access["director"] == Grant(Role.ADMINISTRATOR, ALL)
    assert s.staff_access["reception"] == Grant(Role.ADMINISTRATOR, ALL)  # the old form
    assert s.member_table_spec.table == "organization_members"
    assert s.member_role_map == {"teacher": Role.VIEWER, "manager": Role.OPERATOR, "owner": Role.ADMINISTRATOR}
    assert s.store_kind == "supabase" and s.sim_port == 8765
    assert {str(k).upper() for k in tomllib.loads(uncommented)} >= set(ALIASES)  # every setting is shown
    # what remains: the example's placeholder hashes, and the one account in the old form
    assert [str(w) for w in s.warnings if "[staff]" not in str(w)
            and not any(f"“{n}”" in str(w) for n in ("reception", "anna", "director"))] == []
    assert [w.msgid for w in s.warnings if w.msgid.startswith("{n} staff account")] == [STAFF_OLD_FORM]


# =================================================================================================================
# Roles: [staff.<name>], WPP_ALLOWED_EMAILS with roles, the school platform's membership table
# =================================================================================================================
ORG_A = "0a0a0a0a-0000-4000-8000-00000000000a"
ORG_B = "0b0b0b0b-0000-4000-8000-00000000000b"
STAFF_OLD_FORM = ('{n} staff account in [staff] ({source}) is written the old way, name = "<hash>" ({names}), so it '
                  'is an administrator of every school. To give it a role, write it as a table of its own: '
                  '[staff.<name>] with password = "<hash>", role = "viewer", "operator" or "administrator", and '
                  'schools = ["<organisation id>", …] or schools = "*" for every school.')
EMAILS_OLD_FORM = ("WPP_ALLOWED_EMAILS (in {source}) lists {n} entry without a role ({entries}): whoever signs in "
                   "through it is an administrator of every school. To give roles, write WPP_ALLOWED_EMAILS as a "
                   "table, with lines such as {example} (in the environment: the same as a JSON object).")
ANYONE_IS_ADMIN = ("WPP_ALLOW_ANY_OIDC_ACCOUNT is true: everyone with an account at the sign-in provider may sign in, "
                   "and each of them is an administrator of every school. To give people roles, set it to false and "
                   "list who may sign in, with their roles, in WPP_ALLOWED_EMAILS.")
NOBODY_FROM_SUPABASE = "Nobody can sign in with a school platform account"
SUPABASE = {"SUPABASE_URL": "https://xyz.supabase.co", "SUPABASE_KEY": "k" * 40}


def _grant(role, schools):
    from wpp.access.roles import Grant

    return Grant.of(role, schools)


def test_staff_tables_with_roles_and_schools(tmp_path, anna_and_boris):
    from wpp.access.roles import ALL, Grant, Role

    anna, boris = anna_and_boris
    f = toml(tmp_path / "s.toml", f'WPP_BASE_URL = "https://wpp.example.org"\n'
                                  f'[staff.anna]\npassword = "{anna}"\nrole = "operator"\nschools = ["{ORG_A}", "{ORG_B}"]\n'
                                  f'[staff."Boris K"]\npassword = "{boris}"\nrole = "Admin"\nschools = "*"\n'
                                  f'[staff.vera]\npassword = "{anna}"\nrole = "viewer"\nschools = "{ORG_B}"\n')
    s = load(files=[f])
    assert s.staff == {"anna": anna, "Boris K": boris, "vera": anna}  # name -> hash, for StaffDirectory
    assert s.staff_access == {
        "anna": Grant(Role.OPERATOR, frozenset({ORG_A, ORG_B})),
        "Boris K": Grant(Role.ADMINISTRATOR, ALL),  # "admin" is the administrator
        "vera": Grant(Role.VIEWER, frozenset({ORG_B})),
    }
    assert s.warnings == []  # nothing in the old form, every hash fine
    labels = {str(label): value for label, value in s.describe()}
    assert labels["Staff accounts"] == "3 accounts"
    assert "anna: operator of 2 schools" in labels["Staff accounts' roles"]
    assert anna not in repr(s.describe())


def test_old_staff_form_is_an_administrator_of_every_school_with_one_warning(tmp_path, anna_and_boris):
    from wpp.access.roles import ALL, Grant, Role

    anna, boris = anna_and_boris
    f = toml(tmp_path / "s.toml", f'WPP_BASE_URL = "https://wpp.example.org"\n[staff]\nreception = "{anna}"\n'
                                  f'office = "{boris}"\n'
                                  f'[staff.vera]\npassword = "{anna}"\nrole = "viewer"\nschools = ["{ORG_A}"]\n')
    s = load(files=[f])
    assert s.staff == {"reception": anna, "office": boris, "vera": anna}
    assert s.staff_access["reception"] == s.staff_access["office"] == Grant(Role.ADMINISTRATOR, ALL)
    assert s.staff_access["vera"] == Grant(Role.VIEWER, frozenset({ORG_A}))
    old = [w for w in s.warnings if w.msgid == STAFF_OLD_FORM]
    assert len(old) == 1 and len(s.warnings) == 1
    text = str(old[0])
    assert "2 staff accounts" in text and "reception, office" in text and str(f) in text
    assert "administrator of every school" in text and "[staff.<name>]" in text and anna not in text
    with use_language("ru"):
        assert "reception" in str(old[0])


def test_two_staff_names_differing_only_in_case_stop_the_console_naming_both(tmp_path, anna_and_boris):
    """Issue 24.7: an old-form "Olga" beside [staff.olga] (a viewer) turned Olga's restored sign-in into an
    administrator of every school. Like every other broken setting, it stops the console with a sentence."""
    anna = anna_and_boris[0]
    f = toml(tmp_path / "s.toml", f'WPP_BASE_URL = "https://wpp.example.org"\n[staff]\nOlga = "{anna}"\n'
                                  f'[staff.olga]\npassword = "{anna}"\nrole = "viewer"\nschools = ["{ORG_A}"]\n')
    lines = problems_of(files=[f])
    assert len(lines) == 1, lines
    assert "“Olga”" in lines[0] and "“olga”" in lines[0] and "upper/lower case" in lines[0] and str(f) in lines[0]
    assert anna not in lines[0]
    with use_language("ru"):
        assert "Olga" in problems_of(files=[f])[0]


def test_trusting_a_providers_unclaimed_addresses_is_a_setting_with_a_warning(tmp_path):
    f = toml(tmp_path / "s.toml", AUTH)
    quiet = load({**BASE, "WPP_ALLOWED_EMAILS": "@school.org"}, [f])
    assert quiet.oidc_trust_emails is False
    assert not [w for w in quiet.warnings if "WPP_OIDC_TRUST_EMAILS" in str(w)]
    trusting = load({**BASE, "WPP_ALLOWED_EMAILS": "@school.org", "WPP_OIDC_TRUST_EMAILS": "true"}, [f])
    assert trusting.oidc_trust_emails is True
    [warning] = [str(w) for w in trusting.warnings if "WPP_OIDC_TRUST_EMAILS" in str(w)]
    assert "does not say whether an e-mail address was verified" in warning
    assert any(str(label) == "Trust the sign-in provider's e-mail addresses when it does not say whether they are "
               "verified" and value == "yes" for label, value in trusting.describe())


def test_allowed_emails_are_kept_in_the_normal_form(tmp_path):
    s = load({**BASE, "WPP_ALLOWED_EMAILS": '{"@Claß.ru": "viewer", "Head@ШКОЛА5.РФ": "operator"}'})
    assert set(s.allowed_email_grants) == {"@xn--cla-7ka.ru", "head@xn--5-7sb3aeo2d.xn--p1ai"}
    assert "@class.ru" not in s.allowed_email_grants


@pytest.mark.parametrize("table, expected", [
    ('role = "operator"\nschools = "*"\n', "[staff.anna] in {file}: no password is given"),
    ('password = "{hash}"\nschools = "*"\n', "[staff.anna] in {file}: no role is given"),
    ('password = "{hash}"\nrole = "operator"\n', "[staff.anna] in {file}: no schools are given"),
    ('password = "{hash}"\nrole = "boss"\nschools = "*"\n', "[staff.anna] in {file}: the role “boss” is not one"),
    ('password = "{hash}"\nrole = "viewer"\nschools = []\n', "[staff.anna] in {file}: schools is “[]”, but it must be"),
    ('password = "{hash}"\nrole = "viewer"\nschools = 5\n', "[staff.anna] in {file}: schools is “5”"),
    ('password = "{hash}"\nrole = "viewer"\nschools = [""]\n', "[staff.anna] in {file}: schools is"),
    ('password = "{hash}"\nrole = "viewer"\nschools = "*"\nrolle = "admin"\n',
     "[staff.anna] in {file}: “rolle” is not something the console reads here"),
    ('password = 5\nrole = "viewer"\nschools = "*"\n', "[staff.anna] in {file}: no password is given"),
], ids=["no password", "no role", "no schools", "unknown role", "empty schools", "schools not a list",
        "blank school", "unknown key", "password not text"])
def test_a_wrong_staff_table_stops_the_console_naming_the_account(tmp_path, anna_and_boris, table, expected):
    f = toml(tmp_path / "s.toml", 'WPP_BASE_URL = "https://wpp.example.org"\n[staff.anna]\n'
             + table.replace("{hash}", anna_and_boris[0]))
    lines = problems_of(files=[f])
    assert len(lines) == 1, lines
    assert lines[0].startswith(expected.format(file=f)), lines
    assert anna_and_boris[0] not in lines[0]


def test_every_wrong_staff_account_is_named_at_once(anna_and_boris):
    lines = problems_of(BASE, staff={"anna": {"password": anna_and_boris[0]}, "boris": 5,
                                     "vera": {"password": anna_and_boris[1], "role": "viewer", "schools": "*"}})
    assert any(line.startswith("[staff.anna] in the program's arguments: no role") for line in lines)
    assert any(line.startswith("[staff.anna] in the program's arguments: no schools") for line in lines)
    assert any("“boris”" in line and "must be a password hash, or a table [staff.boris]" in line for line in lines)
    assert not any("vera" in line for line in lines)


def test_a_staff_table_password_is_checked_like_an_old_one(tmp_path):
    f = toml(tmp_path / "s.toml", 'WPP_BASE_URL = "https://wpp.example.org"\n[staff.anna]\npassword = "hunter2"\n'
                                  'role = "viewer"\nschools = "*"\n')
    s = load(files=[f])
    assert any("“anna”" in str(w) and "scrypt" in str(w) for w in s.warnings)  # as for name = "hunter2"
    assert not any("hunter2" in str(w) for w in s.warnings)


def test_allowed_emails_as_a_table_with_roles(tmp_path):
    from wpp.access.roles import ALL, Grant, Role

    f = toml(tmp_path / "s.toml", 'WPP_BASE_URL = "https://wpp.example.org"\n[WPP_ALLOWED_EMAILS]\n'
                                  f'"@School5.ru" = {{ role = "operator", schools = ["{ORG_A}"] }}\n'
                                  f'"director@school5.ru" = {{ role = "administrator", schools = ["{ORG_A}", "{ORG_B}"] }}\n'
                                  '"support@wpp.example" = "administrator"\n'
                                  '"watcher@school5.ru" = { role = "viewer", schools = "*" }\n')
    s = load(files=[f])
    assert s.allowed_email_grants == {
        "@school5.ru": Grant(Role.OPERATOR, frozenset({ORG_A})),  # lower-cased
        "director@school5.ru": Grant(Role.ADMINISTRATOR, frozenset({ORG_A, ORG_B})),
        "support@wpp.example": Grant(Role.ADMINISTRATOR, ALL),  # a bare role: every school
        "watcher@school5.ru": Grant(Role.VIEWER, ALL),
    }
    assert s.allowed_emails_table
    assert s.allowed_email_list == ["@school5.ru", "director@school5.ru", "support@wpp.example", "watcher@school5.ru"]
    assert s.warnings == []
    shown = {str(label): value for label, value in s.describe()}["Who may sign in with an organisation account"]
    assert "@school5.ru: operator of 1 school" in shown and "support@wpp.example: administrator of every school" in shown


def test_allowed_emails_as_json_in_the_environment():
    from wpp.access.roles import ALL, Grant, Role

    value = ('{"@school5.ru": {"role": "operator", "schools": ["%s"]}, "support@wpp.example": "admin"}' % ORG_A)
    s = load({**BASE, "WPP_ALLOWED_EMAILS": value})
    assert s.allowed_email_grants == {"@school5.ru": Grant(Role.OPERATOR, frozenset({ORG_A})),
                                      "support@wpp.example": Grant(Role.ADMINISTRATOR, ALL)}
    assert s.allowed_emails_table and s.allowed_email_list == ["@school5.ru", "support@wpp.example"]
    assert "@school5.ru = operator (1 school)" in s.allowed_emails
    assert s.warnings == []


@pytest.mark.parametrize("value", ["anna@school.org, @school.org", ["Anna@School.org", "@school.org"]],
                         ids=["text", "list"])
def test_allowed_emails_without_roles_are_administrators_of_every_school(tmp_path, value):
    from wpp.access.roles import ALL, Grant, Role

    if isinstance(value, list):
        s = load(files=[toml(tmp_path / "s.toml", 'WPP_BASE_URL = "https://wpp.example.org"\n'
                                                  'WPP_ALLOWED_EMAILS = ["Anna@School.org", "@school.org"]\n')])
    else:
        s = load({**BASE, "WPP_ALLOWED_EMAILS": value})
    assert s.allowed_email_list == ["anna@school.org", "@school.org"]
    assert s.allowed_email_grants == {"anna@school.org": Grant(Role.ADMINISTRATOR, ALL),
                                      "@school.org": Grant(Role.ADMINISTRATOR, ALL)}
    assert not s.allowed_emails_table
    old = [w for w in s.warnings if w.msgid == EMAILS_OLD_FORM]
    assert len(old) == 1 and len(s.warnings) == 1
    assert "2 entries" in str(old[0]) and "anna@school.org, @school.org" in str(old[0])
    assert "[WPP_ALLOWED_EMAILS]" in str(old[0]) and 'role = "operator"' in str(old[0])


@pytest.mark.parametrize("entry, expected", [
    ('"@school" = "viewer"', "WPP_ALLOWED_EMAILS (in {file}): “@school” is neither an email address nor an @domain"),
    ('"anna" = "viewer"', "WPP_ALLOWED_EMAILS (in {file}): “anna” is neither"),
    ('"@school.org" = "boss"', "WPP_ALLOWED_EMAILS “@school.org” (in {file}): the role “boss” is not one"),
    ('"@school.org" = ""', "WPP_ALLOWED_EMAILS “@school.org” (in {file}): the role “” is not one"),
    ('"@school.org" = 3', "WPP_ALLOWED_EMAILS “@school.org” (in {file}): give a role"),
    ('"@school.org" = { role = "viewer" }', "WPP_ALLOWED_EMAILS “@school.org” (in {file}): no schools are given"),
    ('"@school.org" = { schools = "*" }', "WPP_ALLOWED_EMAILS “@school.org” (in {file}): no role is given"),
    ('"@school.org" = { role = "viewer", schools = {} }', "WPP_ALLOWED_EMAILS “@school.org” (in {file}): schools is"),
    ('"@school.org" = { role = "viewer", schools = "*", colour = "red" }',
     "WPP_ALLOWED_EMAILS “@school.org” (in {file}): “colour” is not something the console reads here"),
    ('"@school.org" = "viewer"\n"@School.org" = "operator"',
     "WPP_ALLOWED_EMAILS “@school.org” (in {file}): the entry is given twice"),
], ids=["domain without dot", "no at", "unknown role", "empty role", "a number", "no schools", "no role",
        "schools a table", "unknown key", "twice"])
def test_a_wrong_allowed_emails_entry_stops_the_console_naming_it(tmp_path, entry, expected):
    f = toml(tmp_path / "s.toml", 'WPP_BASE_URL = "https://wpp.example.org"\n[WPP_ALLOWED_EMAILS]\n'
                                  '"ok@school.org" = "viewer"\n' + entry + "\n")
    lines = problems_of(files=[f])
    assert len(lines) == 1, lines
    assert lines[0].startswith(expected.format(file=f)), lines


def test_wrong_allowed_emails_in_the_environment_name_the_environment():
    lines = problems_of({**BASE, "WPP_ALLOWED_EMAILS": '{"@school.org": {"role": "chief", "schools": "*"}}'})
    assert lines == ["WPP_ALLOWED_EMAILS “@school.org” (in the environment): the role “chief” is not one the console "
                     "knows; use viewer, operator or administrator."]
    lines = problems_of({**BASE, "WPP_ALLOWED_EMAILS": "{}"})
    assert len(lines) == 1 and lines[0].startswith("WPP_ALLOWED_EMAILS is “{}” (set in the environment)")
    assert load({**BASE, "WPP_ALLOWED_EMAILS": '["Anna@School.org", "@school.org"]'}).allowed_email_list == [
        "anna@school.org", "@school.org"]  # a JSON array is the list form


def test_problem_texts_of_roles_are_translated(anna_and_boris):
    with pytest.raises(InvalidSettings) as info:
        load(BASE, staff={"anna": {"password": anna_and_boris[0], "role": "boss", "schools": "*"}})
    with use_language("ru"):
        text = str(info.value.problems[0])
    assert "[staff.anna]" in text and "boss" in text and "the role" not in text


def test_anyone_at_the_provider_is_warned_about_as_administrators(tmp_path):
    s = load({**BASE, "WPP_ALLOW_ANY_OIDC_ACCOUNT": "true"}, [toml(tmp_path / "s.toml", AUTH)])
    assert [w.msgid for w in s.warnings] == [ANYONE_IS_ADMIN]
    assert not [w for w in load({**BASE, "WPP_ALLOW_ANY_OIDC_ACCOUNT": "false"}).warnings]


def test_member_table_settings():
    from wpp.access.roles import Role
    from wpp.store.base import MemberTable

    s = load(BASE)
    assert s.member_table is None and s.member_table_spec is None
    assert s.member_role_map == {"viewer": Role.VIEWER, "operator": Role.OPERATOR, "administrator": Role.ADMINISTRATOR,
                                 "admin": Role.ADMINISTRATOR}
    s = load({**BASE, "WPP_MEMBER_TABLE": "crm.members", "WPP_MEMBER_USER_COLUMN": "uid",
              "WPP_MEMBER_ORG_COLUMN": "school_id", "WPP_MEMBER_ROLE_COLUMN": "kind",
              "WPP_MEMBER_ROLES": " Teacher = viewer ; manager=operator, owner=\"admin\""})
    assert s.member_table_spec == MemberTable("crm.members", "uid", "school_id", "kind")
    assert s.member_role_map == {"teacher": Role.VIEWER, "manager": Role.OPERATOR, "owner": Role.ADMINISTRATOR}
    assert load({**BASE, "WPP_MEMBER_TABLE": "members"}).member_table_spec == MemberTable("members")
    shown = {str(label): value for label, value in s.describe()}
    assert shown["What the school platform's roles are in the console"] == \
        "teacher → viewer, manager → operator, owner → administrator"


def test_member_roles_as_a_toml_table(tmp_path):
    from wpp.access.roles import Role

    f = toml(tmp_path / "s.toml", 'WPP_BASE_URL = "https://wpp.example.org"\nWPP_MEMBER_TABLE = "members"\n'
                                  '[WPP_MEMBER_ROLES]\nteacher = "viewer"\nManager = "operator"\nowner = "administrator"\n')
    s = load(files=[f])
    assert s.member_role_map == {"teacher": Role.VIEWER, "manager": Role.OPERATOR, "owner": Role.ADMINISTRATOR}
    assert load({**BASE, "WPP_MEMBER_ROLES": '{"teacher": "viewer"}'}).member_role_map == {"teacher": Role.VIEWER}
    bad = toml(tmp_path / "bad.toml", 'WPP_BASE_URL = "https://wpp.example.org"\n[WPP_MEMBER_ROLES]\nteacher = "boss"\n')
    lines = problems_of(files=[bad])
    assert len(lines) == 1 and lines[0].startswith("WPP_MEMBER_ROLES is") and str(bad) in lines[0]


def test_supabase_without_members_or_roles_warns_that_nobody_can_sign_in_with_it(tmp_path):
    s = load({**BASE, **SUPABASE})
    nobody = [w for w in s.warnings if str(w).startswith(NOBODY_FROM_SUPABASE)]
    assert len(nobody) == 1 and "WPP_MEMBER_TABLE" in str(nobody[0]) and "WPP_ALLOWED_EMAILS" in str(nobody[0])
    # the old list gives no roles: still nobody from Supabase
    s = load({**BASE, **SUPABASE, "WPP_ALLOWED_EMAILS": "@school.org"})
    assert any(str(w).startswith(NOBODY_FROM_SUPABASE) for w in s.warnings)
    # a membership table, or WPP_ALLOWED_EMAILS with roles, is enough
    assert load({**BASE, **SUPABASE, "WPP_MEMBER_TABLE": "members"}).warnings == []
    assert load({**BASE, **SUPABASE, "WPP_ALLOWED_EMAILS": '{"@school.org": "viewer"}'}).warnings == []
    # and without Supabase there is nobody to warn about
    assert load(BASE).warnings == []


def test_settings_alone_give_grants_of_the_allowed_emails():
    from wpp.access.roles import ALL, Grant, Role

    assert Settings(allowed_emails="Anna@School.org").allowed_email_grants == {
        "anna@school.org": Grant(Role.ADMINISTRATOR, ALL)}
    s = Settings(allowed_emails={"@school.org": {"role": "viewer", "schools": [ORG_A]}})
    assert s.allowed_email_grants == {"@school.org": _grant("viewer", [ORG_A])} and s.allowed_emails_table
    assert s.allowed_email_list == ["@school.org"]
    assert Settings().allowed_email_grants == {} and Settings().allowed_email_list is None
    assert Settings().staff_access == {} and Settings().member_table_spec is None


# =================================================================================================================
# Issue 23: how long records are kept, the metrics key
# =================================================================================================================
def test_retention_has_sensible_defaults_and_is_checked(data_dir):
    s = load({**BASE, "WPP_DATA_DIR": str(data_dir)})
    assert (s.keep_history_days, s.keep_diary_days, s.keep_test_messages_days, s.keep_event_ids_hours) == (
        30, 365, 90, 25)
    labels = {str(label): value for label, value in s.describe()}
    assert labels["How long each number's connection history is kept"] == "30 days"
    assert labels["How long the platform's pushed events are remembered (a repeat is ignored meanwhile)"] == "25 hours"
    s = load({**BASE, "WPP_DATA_DIR": str(data_dir), "WPP_KEEP_HISTORY_DAYS": "7"})
    assert s.keep_history_days == 7
    # the platform may send an event again for a day: fewer than 24 hours would let a repeat through
    problems = problems_of({**BASE, "WPP_KEEP_EVENT_IDS_HOURS": "2", "WPP_KEEP_DIARY_DAYS": "0"})
    assert any("WPP_KEEP_EVENT_IDS_HOURS" in p for p in problems)
    assert any("WPP_KEEP_DIARY_DAYS" in p for p in problems)


def test_the_metrics_key_is_a_secret_and_long_enough(data_dir):
    token = "metrics-0123456789-abcdef"
    s = load({**BASE, "WPP_DATA_DIR": str(data_dir), "WPP_METRICS_TOKEN": token})
    assert isinstance(s.metrics_token, Secret) and s.metrics_token.reveal() == token
    for text in (repr(s), str(s), repr(s.describe())):
        assert token not in text
    problems = problems_of({**BASE, "WPP_METRICS_TOKEN": "short"})
    assert any("WPP_METRICS_TOKEN" in p for p in problems) and not any("short" in p for p in problems)
