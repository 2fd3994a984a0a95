"""One settings object, declared once (pydantic-settings), from the environment and every secrets file.

Sources, strongest first:

1. keyword arguments of :func:`load_settings` (tests, the bench);
2. the environment (``WPP_*``, ``SUPABASE_*``, ``DATABASE_URL``);
3. the secrets files Streamlit reads, later files overriding earlier ones (by default
   ``~/.streamlit/secrets.toml``, then ``<cwd>/.streamlit/secrets.toml``, then the project's own; the UI passes
   Streamlit's ``secrets.files`` option). ``WPP_SECRETS_FILE`` (environment) replaces the list with one file.
   Like Streamlit, a later file replaces an earlier file's top-level entry (a whole ``[staff]`` table included);
4. the defaults declared on :class:`Settings`.

Every setting is checked at start. Whatever is wrong is reported at once, one line per setting, naming the setting,
its value (masked when secret) and what it must be: :class:`InvalidSettings` (a :class:`~wpp.errors.ConfigError`).
A secrets file that cannot be read (a TOML syntax error, no permission) stops the console too, with the file, the
line and the column. Unknown ``WPP_*`` names are not errors: they come back in :attr:`Settings.warnings`.

Demo mode (the embedded simulator, :attr:`Settings.demo`) starts only when nothing real is configured: no
``WPP_BASE_URL`` and none of ``WPP_SECRET``, ``SUPABASE_URL``/``SUPABASE_KEY``, ``DATABASE_URL``, ``[staff]``,
``[auth]``, and no real console's data in the data folder (demo keeps its own ``demo.db`` there).

Roles: each ``[staff.<name>]`` table (password, role, schools) and each entry of a table-form ``WPP_ALLOWED_EMAILS``
carries a role and its schools (:attr:`Settings.staff_access`, :attr:`Settings.allowed_email_grants`: name or entry ->
:class:`wpp.access.roles.Grant`); the old forms (``name = "<hash>"``, a list of entries) still work and mean an
administrator of every school, with a warning. ``WPP_MEMBER_*`` name the school platform's table of members
(:attr:`Settings.member_table_spec`, :attr:`Settings.member_role_map`).

Secrets are held as :class:`~wpp.masking.Secret`: never printed; ``repr`` and :meth:`Settings.describe` mask them.

The rooms, from the bottom up (each imports only those above it in this list):

* ``checks.py``   — one value at a time: the checkers the declared settings use;
* ``problems.py`` — :class:`InvalidSettings`, the report a loading collects, where a value was set in words;
* ``grants.py``   — roles given in settings: ``[staff]`` and ``WPP_ALLOWED_EMAILS`` (both forms);
* ``derived.py``  — what follows from the values (demo mode, the data folder, the store's kind, …);
* ``describe.py`` — what the Settings page shows, and the masked ``repr``;
* ``settings.py`` — :class:`Settings`: every setting declared once, group by group as README lists them;
* ``sources.py``  — where values come from: the secrets files, the environment, the arguments, provenance;
* ``rules.py``    — the tables and the settings that only make sense together, each rule with its message;
* ``load.py``     — :func:`load_settings`, a pipeline of those steps.
"""
from __future__ import annotations

from .derived import DEFAULT_MEMBER_ROLES, DEMO_DB, REAL_DB, default_data_dir
from .load import load_settings
from .problems import InvalidSettings
from .settings import ALIASES, SECRET_FIELDS, Settings
from .sources import LOADER_NAMES, PROJECT_DIR, RETIRED, SECRETS_FILE, default_secrets_files

__all__ = [
    "ALIASES",
    "DEFAULT_MEMBER_ROLES",
    "DEMO_DB",
    "InvalidSettings",
    "LOADER_NAMES",
    "PROJECT_DIR",
    "REAL_DB",
    "RETIRED",
    "SECRETS_FILE",
    "SECRET_FIELDS",
    "Settings",
    "default_data_dir",
    "default_secrets_files",
    "load_settings",
]
