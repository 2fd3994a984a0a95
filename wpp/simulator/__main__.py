"""Run the WPP Platform simulator alone in the foreground: ``python -m wpp.simulator --port 8765``."""
from __future__ import annotations

import argparse
import signal
import sys
import threading

from .knobs import QR_FORMS, SimKnobs
from .server import Simulator


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m wpp.simulator", description="Run the simulated WPP Platform.")
    p.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    p.add_argument("--port", type=int, default=0, help="port to listen on (default: a free port)")
    p.add_argument("--token-lifetime", type=float, default=900, help="JWT lifetime in seconds (default 900)")
    p.add_argument("--latency", type=float, default=0.0, help="seconds added to every request (default 0)")
    p.add_argument(
        "--key-activation-delay", type=float, default=0.0, help="seconds a new apiKey answers 403 (default 0)"
    )
    p.add_argument("--qr-rotate", type=float, default=20.0, help="lifetime of each QR code in seconds (default 20)")
    p.add_argument("--qr-form", choices=QR_FORMS, default="raw", help="how the QR is sent (default raw)")
    p.add_argument("--report-phone", action="store_true",
                   help="connected accounts' status answers also carry the phone's number (not documented)")
    p.add_argument("--secret", default="sim-platform-secret", help="the platform secret the simulator accepts")
    return p


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    knobs = SimKnobs(
        token_lifetime_s=args.token_lifetime,
        latency_s=args.latency,
        key_activation_delay_s=args.key_activation_delay,
        qr_first_s=args.qr_rotate,
        qr_rotate_s=args.qr_rotate,
        qr_form=args.qr_form,
        report_phone=args.report_phone,
    )
    sim = Simulator(knobs, host=args.host, port=args.port, secret=args.secret)
    done = threading.Event()

    def _stop(signum, frame):  # noqa: ARG001
        done.set()

    signal.signal(signal.SIGTERM, _stop)
    sim.start()
    print(f"WPP Platform simulator listening on {sim.base_url}", flush=True)
    print(f"Simulator platform secret (WPP_SECRET, fake, local only): {sim.secret}", flush=True)
    print(f"Simulator Supabase JWT secret (fake, local only): {sim.supabase_jwt_secret}", flush=True)
    print("Control endpoints under /_sim/ (stats, knobs, faults, scan, outage). Ctrl+C to stop.", flush=True)
    try:
        while not done.wait(0.5):
            pass
    except KeyboardInterrupt:
        pass
    finally:
        sim.stop()
        print("Simulator stopped.", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
