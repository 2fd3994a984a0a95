"""What the simulated platform posts to the accounts' webhooks: state changes, delivery updates and incoming
messages, shaped (envelope or flat), delayed, lost, garbled or replayed as the knobs say.

A mixin of :class:`~wpp.simulator.platform.Platform` (it uses the platform's lock, clock, knobs and accounts).
"""
from __future__ import annotations

import heapq
import json
import uuid
from typing import Any

from .accounts import Account, phone_for


_STATE_EVENT = {"connected": "connected", "offline": "offline", "qr": "qr"}


def _envelope(kind: str, session: str, now: float, **data: Any) -> dict:
    return {"id": "evt_" + uuid.uuid4().hex, "type": kind, "created": int(now * 1000),
            "data": {"account": session, **data}}


def _delivery(session: str, task_id: str, status: str, **extra: Any) -> dict:
    return {"type": "delivery", "account": session, "messageId": task_id, "status": status, **extra}


class _Pushes:
    """The push side of :class:`Platform` (mixed in below): what is due to which webhook, shaped as the knobs say."""

    def _state_phase(self, acct: Account) -> str:
        self._advance(acct)
        return acct.phase

    def _queue_push(self, session: str, due: float, body: dict) -> None:
        heapq.heappush(self._pushes, (due, next(self._push_seq), session, body))

    def _schedule_delivery(self, acct: Account, task_id: str, record: dict) -> None:
        k = self.knobs
        lost = k.lost_sessions.get(acct.session, k.lose_messages)
        if lost == "silent":
            record["status"] = "lost"
            return  # accepted, then nothing: never sent, never delivered, nothing pushed
        if lost == "none" and not k.messages_fail:
            self._deliver_to_fleet(acct, record)
        if not (k.push_events and acct.webhook):
            return
        now = self.clock.time()
        if k.messages_fail or lost == "dead":
            at = now + float(k.push_sent_s)
            if k.push_shape == "flat":
                body = _delivery(acct.session, task_id, "error", error="Recipient is not on WhatsApp")
            else:
                body = _envelope("message.dead", acct.session, at, messageId=task_id,
                                 error="Recipient is not on WhatsApp")
            self._queue_push(acct.session, at, body)
            return
        at = now + float(k.push_sent_s)
        if k.push_shape == "flat":
            self._queue_push(acct.session, at, _delivery(acct.session, task_id, "sent"))
        else:
            self._queue_push(acct.session, at, _envelope("message.sent", acct.session, at, messageId=task_id,
                                                         to=record.get("to")))
        self._queue_push(acct.session, now + float(k.push_delivered_s), _delivery(acct.session, task_id, "delivered"))
        if k.push_read:
            self._queue_push(acct.session, now + float(k.push_read_s), _delivery(acct.session, task_id, "read"))

    def _deliver_to_fleet(self, sender: Account, record: dict) -> None:
        """A text to the phone linked to another account of this platform arrives there: that account's webhook gets
        it as an incoming message (``push_incoming_s`` later), from the sender's phone."""
        to = record.get("to")
        if record.get("type") != "text" or not to:
            return
        for other in self._accounts.values():
            if other is sender or not other.webhook or self._state(other) != "connected":
                continue
            if (other.phone or phone_for(other.session)) == to:
                self._queue_incoming(other, sender.phone or phone_for(sender.session), str(record.get("text") or ""),
                                     self.clock.time() + float(self.knobs.push_incoming_s))

    def _queue_incoming(self, acct: Account, sender: str, text: str, due: float) -> str:
        mid = "msg_" + uuid.uuid4().hex[:16]
        if self.knobs.push_events and acct.webhook:
            if self.knobs.push_shape == "envelope":
                body = _envelope("message.incoming", acct.session, due, messageId=mid, **{"from": sender}, text=text)
            else:
                body = {"account": acct.session, "from": sender, "text": text, "type": "chat", "messageId": mid,
                        "fromMe": False}
            self._queue_push(acct.session, due, body)
        return mid

    def _push_delivery(self, acct: Account, task_id: str, status: str, due: float) -> None:
        if self.knobs.push_events and acct.webhook:
            self._queue_push(acct.session, due, _delivery(acct.session, task_id, status))

    def incoming(self, session: str, sender: str = "79001234567", text: str = "Hello") -> str:
        """Someone writes to the account's phone: the webhook gets ``message.incoming`` (envelope) or the flat
        ``{account, from, text, type: "chat", messageId, fromMe: false}``. Returns the message id."""
        with self.lock:
            return self._queue_incoming(self._acct(session), sender, text, self.clock.time())

    def due_pushes(self) -> list[tuple[str, bytes]]:
        """What is to be posted now, in order: ``(webhook address, JSON body)``. State changes of every account with
        a webhook (connected, offline, a new QR code), then the delivery updates whose time has come; with the
        ``push_garbage`` / ``push_replays`` knobs, garbage before and replays after each."""
        out: list[tuple[str, bytes]] = []
        with self.lock:
            k = self.knobs
            if not k.push_events:
                self._pushes.clear()
                return out
            now = self.clock.time()
            events: list[tuple[Account, dict]] = []
            for acct in self._accounts.values():
                if not acct.webhook:
                    continue
                phase = self._state_phase(acct)
                if phase != acct.pushed_phase:
                    acct.pushed_phase = phase
                    if phase in _STATE_EVENT:
                        data: dict[str, Any] = {}
                        if phase == "qr":
                            data["qr"] = self._qr_value(acct.qr_text)
                            acct.pushed_qr = acct.qr_text
                        if phase == "connected" and self.knobs.report_phone:
                            data["phone"] = acct.phone or phone_for(acct.session)
                        events.append((acct, _envelope(_STATE_EVENT[phase], acct.session, now, **data)))
                elif phase == "qr" and acct.qr_text != acct.pushed_qr:
                    acct.pushed_qr = acct.qr_text
                    events.append((acct, _envelope("qr", acct.session, now, qr=self._qr_value(acct.qr_text))))
            while self._pushes and self._pushes[0][0] <= now:
                _due, _seq, session, body = heapq.heappop(self._pushes)
                acct = self._accounts.get(session)
                if acct is not None and acct.webhook:
                    events.append((acct, body))
            for acct, body in events:
                raw = json.dumps(body).encode("utf-8")
                if k.push_garbage:
                    out.append((acct.webhook, b'{"type": "connected", "data": {"account"'))
                    other = dict(body, account="9" * 13) if "data" not in body else \
                        dict(body, id="evt_" + uuid.uuid4().hex, data=dict(body["data"], account="9" * 13))
                    out.append((acct.webhook, json.dumps(other).encode("utf-8")))
                out.append((acct.webhook, raw))
                out.extend((acct.webhook, raw) for _ in range(int(k.push_replays)))
        return out


__all__ = ["_Pushes"]
