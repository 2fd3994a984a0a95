"""Real servers on 127.0.0.1 for the alert tests: a tiny SMTP server (socketserver; EHLO, AUTH PLAIN/LOGIN, MAIL,
RCPT, DATA, QUIT) that keeps what it received, and an HTTP server that records webhook POSTs. Both can be told to
refuse, fail or stay silent; the SMTP server can also be a tarpit (every reply ``delay`` seconds late) or take a
message and lose its answer (``lose_replies``)."""
from __future__ import annotations

import base64
import email
import email.policy
import http.server
import json
import socketserver
import threading
import time


class _SmtpHandler(socketserver.StreamRequestHandler):
    timeout = 10

    def _w(self, *lines: str) -> None:
        sink: SmtpSink = self.server.sink  # type: ignore[attr-defined]
        if sink.mode == "tarpit":  # every reply comes late, as from a mail server under a flood
            time.sleep(sink.delay)
        self.wfile.write("".join(line + "\r\n" for line in lines).encode())
        self.wfile.flush()

    def _line(self) -> str | None:
        raw = self.rfile.readline()
        return None if not raw else raw.decode("utf-8", "replace").rstrip("\r\n")

    def handle(self) -> None:
        sink: SmtpSink = self.server.sink  # type: ignore[attr-defined]
        with sink.lock:
            sink.connections += 1
            sink.connected_at.append(time.monotonic())
        if sink.mode == "silent":  # accepts the connection, never greets
            sink.closing.wait(10)
            return
        self._w("220 sink.test ESMTP")
        mail_from, rcpts = None, []
        while True:
            cmd = self._line()
            if cmd is None:
                return
            up = cmd.upper()
            if up.startswith("EHLO"):
                self._w("250-sink.test", "250-AUTH PLAIN LOGIN", "250 8BITMIME")
            elif up.startswith("HELO"):
                self._w("250 sink.test")
            elif up.startswith("AUTH PLAIN"):
                parts = cmd.split()
                blob = parts[2] if len(parts) > 2 else None
                if blob is None:
                    self._w("334 ")
                    blob = self._line() or ""
                _authz, user, password = base64.b64decode(blob).decode().split("\0")
                self._auth(user, password)
            elif up.startswith("AUTH LOGIN"):
                parts = cmd.split()
                if len(parts) > 2:  # the user name as an initial response (smtplib sends it so)
                    user = base64.b64decode(parts[2]).decode()
                else:
                    self._w("334 VXNlcm5hbWU6")
                    user = base64.b64decode(self._line() or "").decode()
                self._w("334 UGFzc3dvcmQ6")
                password = base64.b64decode(self._line() or "").decode()
                self._auth(user, password)
            elif up.startswith("MAIL FROM:"):
                mail_from, rcpts = cmd[10:].strip().strip("<>"), []
                self._w("250 OK")
            elif up.startswith("RCPT TO:"):
                if sink.mode == "refuse":
                    self._w("550 5.1.1 mailbox unavailable")
                else:
                    rcpts.append(cmd[8:].strip().strip("<>"))
                    self._w("250 OK")
            elif up == "DATA":
                if sink.mode == "reject_data":
                    self._w("554 5.7.1 message refused")
                    continue
                self._w("354 go ahead")
                lines = []
                while True:
                    line = self.rfile.readline().decode("utf-8", "replace")
                    if line in (".\r\n", ".\n", ""):
                        break
                    lines.append(line[1:] if line.startswith("..") else line)
                msg = email.message_from_string("".join(lines), policy=email.policy.default)
                with sink.lock:
                    sink.messages.append((mail_from, list(rcpts), msg))
                    lose = sink.lose_replies > 0
                    sink.lose_replies -= 1 if lose else 0
                if lose:  # the message is taken, but its answer never comes: the sender cannot know
                    while self.rfile.readline():
                        pass
                    return
                self._w("250 OK queued")
            elif up in ("RSET", "NOOP"):
                self._w("250 OK")
            elif up == "QUIT":
                self._w("221 bye")
                return
            else:
                self._w("502 not implemented")

    def _auth(self, user: str, password: str) -> None:
        sink: SmtpSink = self.server.sink  # type: ignore[attr-defined]
        sink.logins.append(user)
        if sink.user is not None and (user, password) != (sink.user, sink.password):
            self._w("535 5.7.8 authentication failed")
        else:
            self._w("235 2.7.0 authenticated")


class _Server(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True


class SmtpSink:
    """``mode``: ok | refuse (550 on RCPT) | reject_data (554 on DATA) | silent (never answers) | tarpit (every
    reply ``delay`` seconds late). ``lose_replies``: that many messages are kept but never answered."""

    def __init__(self, *, mode: str = "ok", user: str | None = None, password: str | None = None,
                 delay: float = 13.0, lose_replies: int = 0):
        self.mode = mode
        self.delay = delay
        self.lose_replies = lose_replies
        self.connected_at: list[float] = []
        self.user, self.password = user, password
        self.messages: list = []
        self.logins: list[str] = []
        self.connections = 0
        self.lock = threading.Lock()
        self.closing = threading.Event()
        self.server = _Server(("127.0.0.1", 0), _SmtpHandler)
        self.server.sink = self  # type: ignore[attr-defined]
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        self.thread.start()

    def to(self) -> list[str]:
        """Every recipient of every message, in order."""
        with self.lock:
            return [r for _f, rcpts, _m in self.messages for r in rcpts]

    def message_ids(self) -> list[str]:
        with self.lock:
            return [str(m["Message-ID"]) for _f, _r, m in self.messages]

    def close(self) -> None:
        self.closing.set()
        self.server.shutdown()
        self.server.server_close()


class _HookHandler(http.server.BaseHTTPRequestHandler):
    def log_message(self, *args) -> None:  # quiet
        pass

    def do_POST(self) -> None:  # noqa: N802
        sink: HookSink = self.server.sink  # type: ignore[attr-defined]
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        with sink.lock:
            sink.requests.append((self.path, self.headers.get("Content-Type"), json.loads(body or b"null")))
            sink.headers.append(dict(self.headers.items()))
            sink.arrived.append(time.monotonic())
        if sink.mode == "slow":
            time.sleep(sink.delay)
        status = 500 if sink.mode == "error" else 200
        page = b"<html><body><h1>500 Internal Server Error</h1></body></html>" if status == 500 else b'{"ok":true}'
        self.send_response(status)
        self.send_header("Content-Type", "text/html" if status == 500 else "application/json")
        self.send_header("Content-Length", str(len(page)))
        self.end_headers()
        try:
            self.wfile.write(page)
        except OSError:
            pass


class HookSink:
    """A webhook receiver: ``mode`` ok | error (HTTP 500 with an HTML page) | slow (answers after ``delay``)."""

    def __init__(self, *, mode: str = "ok", delay: float = 3.0):
        self.mode, self.delay = mode, delay
        self.requests: list = []
        self.headers: list[dict] = []
        self.arrived: list[float] = []
        self.lock = threading.Lock()
        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _HookHandler)
        self.server.daemon_threads = True
        self.server.sink = self  # type: ignore[attr-defined]
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        self.thread.start()

    def url(self, token: str = "s3cr3t-hook-token-0123456789") -> str:
        return f"http://127.0.0.1:{self.port}/hook/{token}"

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


class _BotHandler(http.server.BaseHTTPRequestHandler):
    def log_message(self, *args) -> None:  # quiet
        pass

    def do_POST(self) -> None:  # noqa: N802
        api: FakeBotApi = self.server.api  # type: ignore[attr-defined]
        body = json.loads(self.rfile.read(int(self.headers.get("Content-Length") or 0)) or b"null")
        parts = self.path.strip("/").split("/")
        token = parts[0][3:] if parts and parts[0].startswith("bot") else None
        method = parts[1] if len(parts) > 1 else ""
        with api.lock:
            api.requests.append({"token": token, "method": method, "body": body, "at": time.monotonic()})
            limited = api.limit > 0
            api.limit -= 1 if limited else 0
        if token != api.token:
            status, answer = 401, {"ok": False, "error_code": 401, "description": "Unauthorized"}
        elif limited:
            status, answer = 429, {"ok": False, "error_code": 429,
                                   "description": f"Too Many Requests: retry after {api.retry_after}",
                                   "parameters": {"retry_after": api.retry_after}}
        elif method != "sendMessage" or not str(body.get("chat_id", "")).strip():
            status, answer = 400, {"ok": False, "error_code": 400, "description": "Bad Request: chat not found"}
        else:
            with api.lock:
                api.sent.append(body)
            status, answer = 200, {"ok": True, "result": {"message_id": len(api.sent), "chat": {"id": body["chat_id"]},
                                                          "text": body.get("text")}}
        page = json.dumps(answer).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(page)))
        self.end_headers()
        self.wfile.write(page)


class FakeBotApi:
    """Telegram's Bot API on 127.0.0.1, as far as alerts use it: ``POST /bot<token>/sendMessage`` answers like
    Telegram (``{"ok": true, "result": …}``), 401 for another token, and 429 with ``parameters.retry_after`` for the
    next ``limit`` requests (its rate limit)."""

    def __init__(self, token: str, *, limit: int = 0, retry_after: int = 40):
        self.token, self.limit, self.retry_after = token, limit, retry_after
        self.requests: list[dict] = []
        self.sent: list[dict] = []
        self.lock = threading.Lock()
        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _BotHandler)
        self.server.daemon_threads = True
        self.server.api = self  # type: ignore[attr-defined]
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        self.thread.start()

    def chats(self) -> list[str]:
        with self.lock:
            return [str(m["chat_id"]) for m in self.sent]

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
