"""Demo mode (nothing configured): the embedded simulator plays the platform and the phone, and a few named schools
are there so the whole journey works without typing anything but a number's name.

Kept out of ``WppService``: the app wires it only in demo mode.
"""
from __future__ import annotations

import time

from .errors import InvalidInput, WppError
from .i18n import N_
from .store.base import IntegrationStore

#: the demo's schools (fixed ids, so a restart keeps the same ones)
DEMO_SCHOOLS: tuple[tuple[str, str], ...] = (
    ("5c1b6a3e-0d4f-4e8a-9b7c-2f1e3d4c5b01", "Школа № 5"),
    ("5c1b6a3e-0d4f-4e8a-9b7c-2f1e3d4c5b02", "Гимназия № 1"),
    ("5c1b6a3e-0d4f-4e8a-9b7c-2f1e3d4c5b03", "Лицей «Интеллект»"),
    ("5c1b6a3e-0d4f-4e8a-9b7c-2f1e3d4c5b04", "Языковая школа «Полиглот»"),
)


def demo_people() -> dict:
    """What each demo person may do (``wpp.access.identity.DEMO_PEOPLE``): the demo user administers every school,
    the receptionist operates the first school only, the viewer sees the first two."""
    from .access.roles import Access, Role

    first, second = DEMO_SCHOOLS[0][0], DEMO_SCHOOLS[1][0]
    return {
        "demo": Access.full("demo"),
        "demo-operator": Access(schools={first: Role.OPERATOR}, source="demo"),
        "demo-viewer": Access(schools={first: Role.VIEWER, second: Role.VIEWER}, source="demo"),
    }


def seed_schools(store: IntegrationStore) -> None:
    """Name the demo schools (idempotent; a name staff changed is left as it is)."""
    try:
        known = {o.id for o in store.list_organizations()}
        for org_id, name in DEMO_SCHOOLS:
            if org_id not in known:
                store.add_organization(name, org_id)
    except WppError:
        pass


#: the demo's witness of the delivery checks (the simulated platform's support phone: not a number of the fleet)
DEMO_WITNESS = "79990000000"


def seed_witness(store: IntegrationStore) -> None:
    """Name the demo's witness for every school, so a linked number proves its delivery (idempotent; a witness staff
    named is left as it is)."""
    try:
        if not store.witnesses():
            store.set_witness("*", DEMO_WITNESS, actor="demo", at=time.time())
    except WppError:
        pass


class DemoPhone:
    """Plays the phone: "scans" the QR code the simulated platform shows for a number."""

    def __init__(self, simulator, store: IntegrationStore):
        self.simulator = simulator
        self.store = store

    def scan(self, integration_id: str) -> bool:
        row = self.store.get(integration_id)
        if not row.session:
            raise InvalidInput(N_("This number has no QR code to scan yet."))
        text = self.simulator.current_qr(row.session)
        return bool(text) and self.simulator.scan(row.session, text)

    def go_offline(self, integration_id: str) -> None:
        """The phone loses its connection (the simulated platform reports the number offline from now on): what a
        drop at night looks like, for the alerts."""
        row = self.store.get(integration_id)
        if not row.session:
            raise InvalidInput(N_("This number is not linked to a phone yet."))
        self.simulator.set_status(row.session, "offline")

    def platform_outage(self, seconds: float = 180.0) -> None:
        """The whole simulated platform stops answering (connection refused) for ``seconds``, then comes back: what
        a gateway upgrade looks like, for the alerts (one platform incident, not one alert per school)."""
        self.simulator.outage(float(seconds))


__all__ = ["DEMO_SCHOOLS", "DEMO_WITNESS", "DemoPhone", "demo_people", "seed_schools", "seed_witness"]
