"""QR: (1) from the platform rotating its QR to the new QR being on the page: at most one polling interval
(default 3 s), measured in headless Chromium against `streamlit run`; (2) turning a QR payload into PNG bytes
(wpp.qr.qr_to_png, the qrcode library with its own best mask, drawn at whole pixels per module for the 380 px the page
shows) <= 50 ms for a new code in raw text, base64 and data-URL forms (median and p95 over distinct payloads, so the
cache does not flatter it); a cached one (the same code again) is free.

(1) The number is created through the UI (Connect a number), which starts pairing and shows the QR panel. The
simulator's own rotation is set to 10 minutes so only the bench rotates it: `POST /_sim/accounts/{s}/rotate`
(t0 = just before sending), then the QR image on the page is screenshotted and decoded with zxing-cpp until it
equals the new text (t1). The page's image `src` is watched so a screenshot is taken only when the image changed.
Rotations are spread over the polling phase (rotating d seconds after the page last changed, d from 0.1 s to
just under one interval), so the worst case (a rotation right after the panel fetched) is in the sample.
"""
from __future__ import annotations

import base64
import statistics
import sys
import time
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _support import app_server, Figure, launch_chromium, log, quantiles, standalone  # noqa: E402

PAYLOADS = 200
GOAL_MS = 50.0
SIZE_PX = 380  # what the pairing panel shows
OFFSETS_S = (0.1, 0.8, 1.5, 2.2, 2.6, 2.8, 2.9, 2.95)
QR_IMG = 'img[alt="QR code to link this WhatsApp number"]'


# --- (1) qr_to_png ------------------------------------------------------------------------------------
def _render_figures() -> list[Figure]:
    from wpp import qr
    from wpp.simulator.platform import new_qr_text

    qr.clear_cache()
    # inputs: distinct pairing texts; distinct PNGs (drawn from other distinct texts) as base64 and data URLs
    raw = [new_qr_text() for _ in range(PAYLOADS)]
    pngs = [qr.qr_to_png(new_qr_text(), size_px=SIZE_PX) for _ in range(2 * PAYLOADS)]
    b64 = [base64.b64encode(p).decode() for p in pngs[:PAYLOADS]]
    dataurl = ["data:image/png;base64," + base64.b64encode(p).decode() for p in pngs[PAYLOADS:]]
    qr.clear_cache()
    figs = []
    for form, items in (("raw text", raw), ("base64 PNG", b64), ("data URL", dataurl)):
        qr.qr_to_png(items[0], size_px=SIZE_PX)  # import/first-call costs out of the way; not counted below
        times = []
        for p in items[1:]:
            t = time.perf_counter()
            qr.qr_to_png(p, size_px=SIZE_PX)
            times.append((time.perf_counter() - t) * 1000)
        med, p95, mx = quantiles(times)
        hits = []
        for p in items[-10:]:  # the last few are in the LRU
            t = time.perf_counter()
            qr.qr_to_png(p, size_px=SIZE_PX)
            hits.append((time.perf_counter() - t) * 1000)
        figs.append(Figure("qr", f"qr_to_png {form}: median / p95 ({len(times)} distinct)",
                           f"{med:.2f} / {p95:.2f} ms", f"<= {GOAL_MS:.0f} ms", p95 <= GOAL_MS,
                           [f"max {mx:.2f} ms; cached (same payload again) median {statistics.median(hits) * 1000:.1f} us; "
                            f"payload length {len(items[1])} chars"]))
    return figs


# --- (2) rotation -> page, in Chromium ----------------------------------------------------------------------
def _decode(png: bytes) -> str | None:
    import io

    import zxingcpp
    from PIL import Image

    res = zxingcpp.read_barcodes(Image.open(io.BytesIO(png)), formats=zxingcpp.BarcodeFormat.QRCode)
    return res[0].text if res else None


def _wait_qr(page, want: str, timeout: float, last_src: list) -> float | None:
    """Watch the QR image until it decodes to ``want``; the time it was first seen, or None."""
    deadline = time.perf_counter() + timeout
    while time.perf_counter() < deadline:
        img = page.locator(QR_IMG).first
        try:
            src = img.get_attribute("src", timeout=500)
        except Exception:  # noqa: BLE001 - between reruns the element may be gone for a moment
            src = None
        if src and src != last_src[0]:
            seen = time.perf_counter()
            try:
                text = _decode(img.screenshot(timeout=2000))
            except Exception:  # noqa: BLE001
                text = None
            if text is not None:
                last_src[0] = src
                if text == want:
                    return seen
        time.sleep(0.03)
    return None


def _rotation_figures(poll_s: float = 3.0) -> list[Figure]:
    from playwright.sync_api import sync_playwright

    latencies: list[float] = []
    notes: list[str] = []
    connected_s = float("inf")
    with app_server(WPP_SIM_QR_ROTATE=600, WPP_POLL_SECONDS=poll_s) as app, sync_playwright() as pw:
        app.wait_healthy()
        browser = launch_chromium(pw)
        try:
            page = browser.new_page(viewport={"width": 1400, "height": 1000})
            page.goto(app.url + "/connect")
            page.get_by_role("button", name="Create and show the QR code").wait_for(timeout=30000)
            box = page.get_by_role("combobox", name="School", exact=True)  # a demo school, by name
            box.click()
            box.fill("Школа")
            page.get_by_role("option").filter(has_text="Школа № 5").first.click()
            page.wait_for_timeout(500)
            page.get_by_role("button", name="Create and show the QR code").click()
            page.locator(QR_IMG).first.wait_for(timeout=30000)
            app.wait_simulator()
            accounts = httpx.get(app.sim_url + "/_sim/accounts", timeout=5).json()["accounts"]
            session = accounts[0]["session"]
            sim = httpx.Client(base_url=app.sim_url, timeout=5)
            last_src = [None]
            current = sim.get(f"/_sim/accounts/{session}/qr-text").json()["qr"]
            t_page = _wait_qr(page, current, 15, last_src)
            if t_page is None:
                raise RuntimeError("the page never showed the platform's current QR")
            for d in OFFSETS_S:
                time.sleep(max(0.0, t_page + d - time.perf_counter()))
                t0 = time.perf_counter()
                new = sim.post(f"/_sim/accounts/{session}/rotate").json()["qr"]
                t1 = _wait_qr(page, new, 4 * poll_s + 5, last_src)
                if t1 is None:
                    latencies.append(float("inf"))
                    notes.append(f"rotation at +{d:.2f} s: the new QR never appeared")
                    t_page = time.perf_counter()
                    continue
                latencies.append(t1 - t0)
                t_page = t1
            # the phone scans the code on screen: how long until the page says it is linked
            time.sleep(0.5)
            current = sim.get(f"/_sim/accounts/{session}/qr-text").json()["qr"]
            t0 = time.perf_counter()
            sim.post(f"/_sim/accounts/{session}/scan", json={"qr": current}).raise_for_status()
            page.get_by_text("The phone is linked").first.wait_for(timeout=30000)
            connected_s = time.perf_counter() - t0
            sim.close()
        finally:
            browser.close()
    med, _, mx = quantiles(latencies)
    notes.insert(0, "per rotation (s), rotated d s after the page last changed: " + ", ".join(
        f"d={d:.2f}: {lat:.2f}" for d, lat in zip(OFFSETS_S, latencies)))
    notes.append("the pairing panel is an st.fragment(run_every=WPP_POLL_PAIRING_SECONDS, 2 s by default) that asks "
                 "the platform itself, so the latency is the wait for its next run (0..2 s) + fetch and render")
    return [
        Figure("qr", f"platform QR rotation -> new QR on the page, worst of {len(latencies)}", f"{mx:.2f} s",
               f"<= {poll_s:.0f} s", mx <= poll_s, notes),
        Figure("qr", "platform QR rotation -> new QR on the page, median", f"{med:.2f} s", "—", None),
        Figure("qr", "phone scan -> \"The phone is linked\" on the page", f"{connected_s:.2f} s", "<= 3 s",
               connected_s <= 3.0, ["as before the status engine: the pairing panel's own 2 s loop, not the poller"]),
    ]


def run() -> list[Figure]:
    log(f"qr_to_png over {PAYLOADS} distinct payloads per form")
    figs = _render_figures()
    log("QR rotation in headless Chromium against streamlit run")
    return figs + _rotation_figures()


if __name__ == "__main__":
    sys.exit(standalone("QR", run))
