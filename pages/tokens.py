"""Tokens: what the stored JWT says, when it expires, refresh it, test it, and why it fails."""
from __future__ import annotations

import json

import pandas as pd
import streamlit as st

from wppui import state
from wppui.components import duration, guarded, local_time

state.require_app_shell()
svc = state.service()
st.title("🔑 Access tokens")
st.caption("Every number uses a short-lived access token (a JWT) to talk to the platform. The console reuses it "
           "while it is valid and gets a new one by itself about a minute before it expires.")

SOURCES = {
    "exp": "the token's own expiry (exp claim)",
    "expiresIn": "the platform's answer (expiresIn)",
    "assumed": "assumed — the token says nothing about its expiry",
    "stored": "the expiry saved with the number",
}

mode = st.radio("Look at", ["A number's token", "A token I paste"], horizontal=True, key="tokens_mode")
report = None
row = None
if mode == "A number's token":
    rows = svc.list_numbers()
    if not rows:
        st.info("No numbers yet.", icon="👋")
        st.stop()
    row = state.pick_number(rows, key="tokens_pick")
    b1, b2, _ = st.columns([1, 1, 3])
    if b1.button("🔄 Refresh now", type="primary", help="Ask the platform for a new token and save it"):
        with guarded("The token could not be refreshed"):
            minted = svc.refresh_token(row.id, actor=state.actor(), token_cache=state.token_cache())
            st.session_state["tokens_flash"] = f"New token saved. It expires {local_time(minted.expires_at_ms / 1000)}."
            st.session_state.pop("tokens_test", None)
    if b2.button("🧪 Test it", help="Make one real call to the platform with this token, as it is now"):
        st.session_state["tokens_test"] = (row.id, svc.test_token(row.id, actor=state.actor()))
    if flash := st.session_state.pop("tokens_flash", None):
        st.success(flash, icon="✅")
    test = st.session_state.get("tokens_test")
    if test and test[0] == row.id:
        d = test[1].diagnosis
        (st.success if test[1].ok else st.error)(f"**{d.title}.** {d.explanation}\n\n**Next step:** {d.next_step}",
                                                 icon="✅" if test[1].ok else "🩺")
    with guarded("The token could not be read"):
        report = svc.token_report(row.id)
else:
    pasted = st.text_area("Paste a token (JWT)", height=100, placeholder="eyJhbGciOi…",
                          help="Nothing is sent anywhere: the token is only decoded here.")
    if pasted.strip():
        with guarded("This is not a token that can be read"):
            report = svc.token_report(pasted=pasted)

if report is None:
    st.stop()
if report.info is None:
    st.warning(" ".join(report.problems) or "No token.", icon="🔑")
    st.stop()

for p in report.problems:
    st.warning(p, icon="⚠️")


@st.fragment(run_every=1)
def countdown():
    now = svc.clock.time()
    left = report.expires_at_ms / 1000 - now if report.expires_at_ms else None
    usable = bool(left is not None and left > 60)
    c1, c2, c3 = st.columns(3)
    c1.metric("Expires in", "expired" if left is not None and left <= 0 else duration(left))
    c2.metric("Usable now (60-second rule)", "Yes" if usable else "No",
              help="The console uses a token only while more than 60 seconds of its life remain.")
    exp_s = report.expires_at_ms / 1000 if report.expires_at_ms else None
    c3.metric("Expires at", local_time(exp_s, short=True), help=local_time(exp_s) if exp_s else None)


countdown()
info = report.info
st.write(f"**Issued:** {local_time(info.issued_at)} · **Expiry taken from:** "
         f"{SOURCES.get(report.expiry_source or '', report.expiry_source or '—')} · **Signature:** "
         + ({True: "verified ✅", False: "does NOT match the configured key ❌"}.get(info.verified, "not checked (no key configured)")))
if row is not None:
    st.write(f"**Session saved for this number:** `{row.session}` · **Session in the token:** `{info.subject or '—'}`")

st.subheader("The token")
reveal = st.toggle("Reveal the full token", key="tokens_reveal",
                   help="Anyone with the full token can send messages from this number until it expires.")
if reveal:
    st.code(report.token, language=None, wrap_lines=True)
    st.caption("Use the copy button at the top right of the box.")
else:
    st.code(report.token_masked, language=None)

left, right = st.columns(2)
with left:
    st.markdown("**Header**")
    st.dataframe(pd.DataFrame([{"field": k, "value": json.dumps(v) if not isinstance(v, str) else v}
                               for k, v in info.header.items()]), hide_index=True)
with right:
    st.markdown("**Claims**")
    claims = []
    for k, v in info.claims.items():
        shown = json.dumps(v) if not isinstance(v, str) else v
        if k in ("exp", "iat", "nbf"):
            t = info.claim_time(k)
            shown = f"{shown} ({local_time(t) if t else 'not a usable date'})"
        claims.append({"claim": k, "value": shown})
    st.dataframe(pd.DataFrame(claims), hide_index=True)
