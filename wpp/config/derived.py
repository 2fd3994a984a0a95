"""What follows from the declared settings: demo mode, the data folder and its SQLite file, the store's kind and
the school platform's tables, who may sign in, the alerts' delay and sender, where the settings came from.

:class:`Derived` is mixed into :class:`~wpp.config.settings.Settings`: these are its read-only properties, kept
apart from the declarations so that ``settings.py`` stays a flat list of settings.
"""
from __future__ import annotations

import os
from pathlib import Path
from typing import Mapping

from .checks import email_address

REAL_DB = "wpp-console.db"
DEMO_DB = "demo.db"
#: ``WPP_MEMBER_ROLES`` when it is not set: the console's own words
DEFAULT_MEMBER_ROLES: dict[str, str] = {"viewer": "viewer", "operator": "operator", "administrator": "administrator",
                                        "admin": "administrator"}


def default_data_dir(env: Mapping[str, str] | None = None) -> Path:
    """``$XDG_DATA_HOME/wpp-console`` (when absolute), else ``~/.local/share/wpp-console``."""
    env = os.environ if env is None else env
    xdg = str(env.get("XDG_DATA_HOME") or "").strip()
    if xdg and os.path.isabs(os.path.expanduser(xdg)):
        return Path(xdg).expanduser() / "wpp-console"
    return Path.home() / ".local" / "share" / "wpp-console"


class Derived:
    """Properties of :class:`~wpp.config.settings.Settings` computed from its declared values."""

    @property
    def demo(self) -> bool:
        """No platform configured: run against the embedded simulator (load_settings made sure nothing real is)."""
        return not self.wpp_base_url

    @property
    def data_folder(self) -> Path:
        return Path(self.data_dir).expanduser() if self.data_dir else default_data_dir()

    @property
    def sqlite_path(self) -> Path:
        """The SQLite file for this mode: ``<data folder>/demo.db`` in demo mode, ``wpp-console.db`` otherwise."""
        return self.data_folder / (DEMO_DB if self.demo else REAL_DB)

    @property
    def store_kind(self) -> str:
        if self.supabase_url and self.supabase_key:
            return "supabase"
        if self.database_url:
            return "postgres"
        return "sqlite"

    @property
    def allowed_email_list(self) -> list[str] | None:
        """The entries of ``WPP_ALLOWED_EMAILS`` (in the normal form of ``wpp.access.emails``, either form), or None
        when it is not set."""
        if not self.allowed_emails:
            return None
        if self.allowed_email_grants:
            return list(self.allowed_email_grants)
        from ..access.oidc import parse_allow_list

        return parse_allow_list(self.allowed_emails.split(","))[0]

    @property
    def member_table_spec(self):
        """The :class:`wpp.store.base.MemberTable` to give the store, or None (no membership table)."""
        if not self.member_table:
            return None
        from ..store.base import MemberTable

        return MemberTable(self.member_table, self.member_user_column, self.member_org_column,
                           self.member_role_column)

    @property
    def member_role_map(self) -> dict:
        """The school platform's role texts (case-folded) -> :class:`wpp.access.roles.Role`."""
        from ..access.roles import Role

        mapping = self.member_roles or DEFAULT_MEMBER_ROLES
        return {k: r for k, r in ((k, Role.parse(v)) for k, v in mapping.items()) if r is not None}

    @property
    def session_lifetime_s(self) -> float:
        return self.session_hours * 3600.0

    @property
    def alert_after_s(self) -> float:
        """How long a number may be down before people are told: ``WPP_ALERT_AFTER_MINUTES``; in demo mode, unless
        it is set, one minute (so the demo's outbox shows it soon)."""
        if self.demo and "alert_after_minutes" not in self.model_fields_set:
            return 60.0
        return float(self.alert_after_minutes) * 60.0

    @property
    def smtp_sender(self) -> str | None:
        """The alerts' From address: ``WPP_SMTP_FROM``, else the user name when it is an e-mail address."""
        if self.smtp_from:
            return self.smtp_from
        user = self.smtp_user or ""
        try:
            return email_address(user) if user else None
        except ValueError:
            return None

    @property
    def org_table_spec(self):
        """The :class:`wpp.store.base.OrgTable` to give the store."""
        from ..store.base import OrgTable

        return OrgTable(self.org_table, self.org_id_column, self.org_name_column)

    @property
    def source(self) -> str:
        """Where the settings came from, e.g. ``"environment + /srv/app/.streamlit/secrets.toml"`` (or "defaults")."""
        seen: list[str] = []
        for where in self.provenance.values():
            if where not in seen:
                seen.append(where)
        for f in self.secrets_files:
            if f not in seen:
                seen.append(f)
        return " + ".join(seen) if seen else "defaults"
