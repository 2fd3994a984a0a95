"""Process-wide resources (st.cache_resource) and what belongs to one browser tab (st.session_state).

The watch (status poller, webhook registrations, alert sender: whatever ``build_service`` starts) runs from the
server's start, whether or not anyone opens a page: :func:`lifespan` (``st.App(..., lifespan=...)``) builds the
process-wide :func:`service` when the server starts -- the very object every page then uses -- and closes it on
shutdown (the poller's and the alert sender's leases are given up, so another replica takes over at once). A
configuration that cannot be used does not stop the server: the lifespan logs it, and pages show the
configuration-error page as before.
"""
from __future__ import annotations

import contextlib
import logging

import streamlit as st

from wpp.config import Settings, load_settings
from wpp.models import Integration

log = logging.getLogger("wppui")

#: simulators this process started (tests stop them between runs)
STARTED_SIMULATORS: list = []
#: services this process built (the lifespan closes them on shutdown)
STARTED_SERVICES: list = []

#: st.session_state keys of the signed-in person (set by wppui.gate only)
IDENTITY = "identity"
SIGN_IN_KEY = "wpp_sign_in_key"
#: what the signed-in person may do (a ``wpp.access.roles.Access``, set by wppui.gate on every run)
ACCESS = "wpp_access"


def require_app_shell(*, alone: bool = False) -> None:
    """Leave Streamlit's legacy "pages folder" mode (harmless; NOT the access gate).

    A folder named ``pages/`` beside the entry script makes Streamlit treat the app as a legacy "pages folder"
    app until some session has run ``st.navigation`` (``PagesManager.uses_pages_directory``, process-wide). Until
    then the first request of a fresh process for a bookmarked ``/tokens`` runs that page file alone, without
    ``streamlit_app.py``. Here the page notices it, switches Streamlit to the entry script's navigation and reruns,
    so the request is served by ``streamlit_app.py`` like every other one.

    Concurrent first sessions race past this switch (the flag is shared), so it can never be what keeps a page
    closed: every page and every self-refreshing fragment checks the signed-in person itself
    (``wppui.gate.guard_page`` / ``guard_fragment``), which calls this first.

    ``alone``: the page knows it runs without the entry script (``wppui.gate.running_alone``) even when another
    session already flipped the shared flag; it reruns through the entry script all the same.
    """
    try:
        from streamlit.runtime.pages_manager import PagesManager
    except ImportError:  # a Streamlit without this legacy mode
        return
    if PagesManager.uses_pages_directory or (alone and PagesManager.uses_pages_directory is not None):
        PagesManager.uses_pages_directory = False
        st.rerun()


def leave_legacy_pages_mode() -> None:
    """At server start (``streamlit_app.py`` imported as the ASGI app, before any browser connects): no session
    ever starts in the legacy pages-folder mode. Harmless and not the gate (see :func:`require_app_shell`)."""
    try:
        from streamlit.runtime.pages_manager import PagesManager
    except ImportError:
        return
    PagesManager.uses_pages_directory = False


@st.cache_resource(show_spinner=False)
def settings() -> Settings:
    """The configuration; raises ``wpp.errors.ConfigError`` (not cached: the next run tries again) when it cannot
    be used. Only ``wppui.gate`` calls this before the person is known; it turns a failure into a page."""
    return load_settings()


@st.cache_resource(show_spinner=False)
def simulator():
    """The embedded WPP Platform, only in demo mode (nothing configured)."""
    s = settings()
    if not s.demo:
        return None
    from wpp.simulator import SimKnobs, Simulator

    # the demo's phones say their number once linked, so the list shows which phone is on which number
    knobs = SimKnobs(token_lifetime_s=s.sim_token_lifetime_s, qr_first_s=s.sim_qr_rotate_s, qr_rotate_s=s.sim_qr_rotate_s,
                     report_phone=True)
    sim = Simulator(knobs, port=s.sim_port or 0).start()
    STARTED_SIMULATORS.append(sim)
    return sim


def own_address() -> str:
    """The console's own address on this machine (``http://127.0.0.1:<port>`` and Streamlit's base path): where the
    demo's embedded simulator posts its pushes."""
    from .addresses import url

    try:
        port = int(st.get_option("server.port"))
    except Exception:  # noqa: BLE001
        port = 8501
    return f"http://127.0.0.1:{port}" + url("")


@st.cache_resource(show_spinner=False)
def service():
    from wpp.service import build_service

    sim = simulator()
    # status pushed by the platform: to WPP_PUBLIC_URL; in the demo, the simulator posts to this console's own address
    # (the demo's watch starts once its numbers are in place, below)
    svc = build_service(settings(), simulator=sim, hook_base=own_address() if sim is not None else None,
                        start_engine=sim is None)
    STARTED_SERVICES.append(svc)
    if sim is not None:
        from wpp.demo import seed_schools, seed_witness
        from wpp.demo_fleet import open_demo_fleet

        seed_schools(svc.store)  # the demo's named schools: nothing but a number's name needs typing
        seed_witness(svc.store)  # a witness for every school: a linked number proves its delivery
        # a first start opens on two schools' numbers in different states; a restart brings them back onto the
        # (in-memory) simulated platform
        open_demo_fleet(svc.store, sim, settings())
        svc.engine.start()
        if svc.alerts is not None:
            svc.alerts.start()
    return svc


def start_watch() -> bool:
    """Build the process-wide service now (its status engine, webhook registrations and alert sender start with it).
    Never raises: a configuration that cannot be used is logged (the pages say what is wrong). True when it runs."""
    try:
        svc = service()
    except Exception as exc:  # noqa: BLE001 - the server starts all the same; pages show the configuration error
        english = getattr(exc, "english", None) or type(exc).__name__
        log.error("the watch did not start (status checks and alerts): %s", english)
        return False
    log.info("the watch runs from the server's start: %r", svc.engine)
    return True


def stop_watch() -> None:
    """Close every service this process built (the poller and the alert sender stop and give their leases up) and
    stop the simulators it started. Never raises."""
    while STARTED_SERVICES:
        svc = STARTED_SERVICES.pop()
        try:
            svc.close()
        except Exception:  # noqa: BLE001
            log.exception("stopping the watch failed")
    while STARTED_SIMULATORS:
        try:
            STARTED_SIMULATORS.pop().stop()
        except Exception:  # noqa: BLE001
            log.exception("stopping the simulator failed")


@contextlib.asynccontextmanager
async def lifespan(_app):
    """``st.App(..., lifespan=lifespan)``: the watch starts with the server and stops with it (see the module
    docstring). The blocking work runs in a worker thread, never in the server's event loop."""
    import anyio

    await anyio.to_thread.run_sync(start_watch)
    try:
        yield
    finally:
        await anyio.to_thread.run_sync(stop_watch)


@st.cache_resource(show_spinner=False)
def demo_phone():
    """The demo's simulated phone (``wpp.demo.DemoPhone``), or None outside the demo."""
    sim = simulator()
    if sim is None:
        return None
    from wpp.demo import DemoPhone

    return DemoPhone(sim, service().store)


@st.cache_resource(show_spinner=False)
def sign_ins():
    """Lasting sign-ins (``wpp.access.SignInSessions``), kept in the store so they outlive a restart.

    Also used by the console's own HTTP routes (``wppui.routes``), outside any script run."""
    from wpp.access import SignInSessions

    store = service().store
    return SignInSessions(store, lifetime_s=settings().session_lifetime_s,
                          secret=store.console_secret("sign-in-cookie"))


def begin_sign_in(identity) -> tuple[str, str | None]:
    """Start a lasting sign-in: ``(one-time ticket, public key of the sign-in)``."""
    return sign_ins().begin_with_key(identity)


@st.cache_resource(show_spinner=False)
def throttle():
    """Sign-in throttling for the whole process, shared by every sign-in method (``wpp.access.Throttle``)."""
    from wpp.access import Throttle

    return Throttle()


@st.cache_resource(show_spinner=False)
def staff_directory(fingerprint: tuple):
    """The staff accounts (one per process and per set of accounts), throttled by :func:`throttle`."""
    from wpp.access import StaffDirectory

    return StaffDirectory(dict(fingerprint), throttle=throttle())


def staff():
    """The staff directory, or None when no staff account is configured."""
    cfg = settings()
    if not cfg.staff:
        return None
    return staff_directory(tuple(sorted((str(k), str(v)) for k, v in cfg.staff.items())))


def identity():
    """The signed-in person of this tab (set by ``wppui.gate``), or None."""
    return st.session_state.get(IDENTITY)


@st.cache_resource(show_spinner=False)
def authorizer():
    """Who may do what (``wpp.access.Authorizer``), one per process, from the settings: staff accounts' roles, the
    e-mail allow-list, the school platform's membership table (through the store), the demo's people."""
    from wpp.access.authorize import Authorizer

    cfg = settings()
    store = service().store
    memberships = None
    if getattr(cfg, "member_table_spec", None) is not None and hasattr(store, "list_memberships"):
        memberships = store.list_memberships
    demo_people = None
    if cfg.demo:
        from wpp.demo import demo_people as people

        demo_people = people()
    return Authorizer(
        staff_access=getattr(cfg, "staff_access", None),
        email_grants=getattr(cfg, "allowed_email_grants", None),
        allow_any_oidc=bool(getattr(cfg, "allow_any_oidc_account", False)),
        memberships=memberships,
        role_map=getattr(cfg, "member_role_map", None) or None,
        demo_people=demo_people,
    )


def access():
    """What this tab's person may do (``wpp.access.roles.Access``; nothing before the gate decided)."""
    from wpp.access.roles import Access

    found = st.session_state.get(ACCESS)
    return found if isinstance(found, Access) else Access.none()


def token_cache() -> dict:
    """The JWTs this browser tab is using, per integration id (the store keeps them too)."""
    return st.session_state.setdefault("wpp_tokens", {})


def for_session():
    """The service as this browser tab uses it: its token cache and the browser's time zone
    (``s = state.for_session(); s.numbers()``)."""
    from .components import browser_tz

    svc = service()
    return svc.for_session(token_cache(), tz=browser_tz(), access=access(), actor=actor())


def actor() -> str:
    ident = identity()
    return getattr(ident, "name", None) or "unknown"


def select_integration(integration_id: str | None) -> None:
    st.session_state["selected_id"] = integration_id


def selected_id() -> str | None:
    return st.session_state.get("selected_id")


def number_label(row: Integration) -> str:
    name = row.name or "Unnamed number"
    session = row.session or "not created yet"
    return f"{name} · org {row.organization_id[:8]}… · session {session}"


def pick_number(rows: list[Integration], *, key: str, label: str = "Number") -> Integration:
    """A selectbox over ``rows`` that starts on (and remembers) the number this tab last looked at."""
    ids = [r.id for r in rows]
    current = selected_id() if selected_id() in ids else ids[0]
    labels = {r.id: number_label(r) for r in rows}
    chosen = st.selectbox(label, ids, index=ids.index(current), format_func=labels.get, key=key)
    select_integration(chosen)
    return next(r for r in rows if r.id == chosen)
