"""One settings object, from the environment and ``.streamlit/secrets.toml``.

The environment wins over the file. Nothing configured means demo mode: the embedded simulator
and the SQLite store. Secrets are held as ``Secret`` so they never print.
"""
from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any, Mapping

from .masking import Secret, mask

DEFAULT_SECRETS_FILES = (Path(".streamlit/secrets.toml"), Path.home() / ".streamlit" / "secrets.toml")

# name in env / secrets.toml -> (attribute, type)
_KEYS: dict[str, tuple[str, type]] = {
    "WPP_BASE_URL": ("wpp_base_url", str),
    "WPP_SECRET": ("wpp_secret", Secret),
    "WPP_JWT_VERIFY_KEY": ("jwt_verify_key", Secret),
    "SUPABASE_URL": ("supabase_url", str),
    "SUPABASE_KEY": ("supabase_key", Secret),
    "DATABASE_URL": ("database_url", Secret),
    "WPP_DATA_DIR": ("data_dir", str),
    "WPP_HTTP_TIMEOUT": ("http_timeout", float),
    "WPP_FLEET_CONCURRENCY": ("fleet_concurrency", int),
    "WPP_POLL_SECONDS": ("poll_seconds", float),
    "WPP_KEY_ACTIVATION_WAIT": ("activation_wait_s", float),
    "WPP_SIM_PORT": ("sim_port", int),
    "WPP_SIM_TOKEN_LIFETIME": ("sim_token_lifetime_s", int),
    "WPP_SIM_QR_ROTATE": ("sim_qr_rotate_s", float),
    "WPP_STAFF_FILE": ("staff_file", str),
    "WPP_DEMO_SIGN_IN": ("demo_sign_in", bool),
    "WPP_ALLOWED_EMAILS": ("allowed_emails", str),
}


def _coerce(value: Any, typ: type) -> Any:
    if value is None or value == "":
        return None
    if typ is Secret:
        return Secret(str(value))
    if typ is bool:
        return str(value).strip().lower() in ("1", "true", "yes", "on")
    return typ(value)


@dataclass
class Settings:
    wpp_base_url: str | None = None
    wpp_secret: Secret | None = None
    jwt_verify_key: Secret | None = None
    supabase_url: str | None = None
    supabase_key: Secret | None = None
    database_url: Secret | None = None
    data_dir: str | None = None
    http_timeout: float = 10.0
    fleet_concurrency: int = 50
    poll_seconds: float = 3.0
    activation_wait_s: float = 15.0
    sim_port: int | None = None
    sim_token_lifetime_s: int = 900
    sim_qr_rotate_s: float = 20.0
    staff_file: str | None = None
    demo_sign_in: bool = False
    #: who may sign in through OpenID Connect: comma-separated emails and/or "@domain" entries (empty: anyone
    #: the identity provider accepts)
    allowed_emails: str | None = None
    #: the [auth] table of secrets.toml, if any (Streamlit's OIDC login); only its presence matters here
    oidc_configured: bool = False
    #: [staff] table: username -> password hash (see wpp.access)
    staff: dict = field(default_factory=dict)
    source: str = "defaults"

    @property
    def demo(self) -> bool:
        """No platform configured: run against the embedded simulator."""
        return not self.wpp_base_url

    @property
    def allowed_email_list(self) -> list[str] | None:
        if not self.allowed_emails:
            return None
        return [e.strip().lower() for e in self.allowed_emails.split(",") if e.strip()]

    @property
    def store_kind(self) -> str:
        if self.supabase_url and self.supabase_key:
            return "supabase"
        if self.database_url:
            return "postgres"
        return "sqlite"

    def describe(self) -> dict[str, str]:
        """For the Settings page: every value, secrets masked."""
        out: dict[str, str] = {}
        for f in fields(self):
            if f.name in ("staff",):
                out[f.name] = f"{len(self.staff)} account(s)"
                continue
            v = getattr(self, f.name)
            out[f.name] = mask(v.reveal()) if isinstance(v, Secret) else ("—" if v is None else str(v))
        return out

    def __repr__(self) -> str:
        return "Settings(" + ", ".join(f"{k}={v!r}" for k, v in self.describe().items()) + ")"


def _read_secrets_file(paths) -> tuple[dict, str | None]:
    for p in paths:
        p = Path(p)
        if p.is_file():
            try:
                with p.open("rb") as fh:
                    return tomllib.load(fh), str(p)
            except (OSError, tomllib.TOMLDecodeError) as exc:  # a broken file must not stop the app
                return {"_error": f"{p}: {exc}"}, str(p)
    return {}, None


def load_settings(
    env: Mapping[str, str] | None = None,
    secrets: Mapping[str, Any] | None = None,
    secrets_files=DEFAULT_SECRETS_FILES,
) -> Settings:
    """Build Settings. ``secrets`` (e.g. a dict of st.secrets) replaces reading secrets.toml when given."""
    env = os.environ if env is None else env
    source = "defaults"
    if secrets is None:
        if env.get("WPP_SECRETS_FILE"):
            secrets_files = (Path(env["WPP_SECRETS_FILE"]),)
        secrets, path = _read_secrets_file(secrets_files)
        if path:
            source = path
    else:
        secrets = dict(secrets)
        source = "secrets" if secrets else source
    s = Settings(source=source)
    for name, (attr, typ) in _KEYS.items():
        raw = env.get(name)
        if raw in (None, ""):
            raw = secrets.get(name, secrets.get(name.lower()))
        else:
            s.source = "environment" if s.source == "defaults" else s.source + " + environment"
        value = _coerce(raw, typ)
        if value is not None:
            setattr(s, attr, value)
    if s.wpp_base_url:
        s.wpp_base_url = s.wpp_base_url.rstrip("/")
    s.oidc_configured = isinstance(secrets.get("auth"), Mapping)
    staff = secrets.get("staff")
    if isinstance(staff, Mapping):
        s.staff = {str(k): str(v) for k, v in staff.items()}
    return s
