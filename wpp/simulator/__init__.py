"""The embedded WPP Platform simulator: a real HTTP server on loopback, faithful to ``platform-api.md``.

    from wpp.simulator import Simulator, SimKnobs
    with Simulator(SimKnobs(token_lifetime_s=60)) as sim:
        httpx.post(sim.base_url + "/api/integrations/wpp/create", ...)

Used by the tests, the benchmarks and the app's zero-config demo mode.
"""
from .knobs import FAULT_KINDS, PUSH_SHAPES, QR_FIELDS, QR_FORMS, STATUS_SPELLINGS, Fault, SimKnobs
from .server import Simulator

__all__ = ["Simulator", "SimKnobs", "Fault", "FAULT_KINDS", "QR_FORMS", "QR_FIELDS", "STATUS_SPELLINGS", "PUSH_SHAPES"]
