"""The HTTP side of the simulator: a ThreadingHTTPServer on loopback plus the :class:`Simulator` facade."""
from __future__ import annotations

import errno
import json
import socket
import threading
import time
import urllib.error
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Callable
from urllib.parse import parse_qs, unquote, urlsplit

from ..clock import SYSTEM_CLOCK
from .knobs import Fault, SimKnobs
from .platform import MESSAGE_KINDS, BadBody, Platform, Reply, hs256_encode

NGINX_502 = (
    "<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body>\r\n"
    "<center><h1>502 Bad Gateway</h1></center>\r\n<hr><center>nginx/1.24.0</center>\r\n"
    "</body>\r\n</html>\r\n"
)
MAX_BODY = 10 * 1024 * 1024


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False
    allow_reuse_address = True
    request_queue_size = 128

    def __init__(self, address, handler, sim: "Simulator"):
        self.sim = sim
        self.connections: set[socket.socket] = set()
        self.connections_lock = threading.Lock()
        super().__init__(address, handler)

    def close_connections(self, keep: socket.socket | None = None) -> None:
        with self.connections_lock:
            conns = [c for c in self.connections if c is not keep]
        for conn in conns:
            try:
                conn.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass


# --- routing -------------------------------------------------------------------------------------
def _template_match(template: str, segments: list[str]) -> dict[str, str] | None:
    parts = template.strip("/").split("/")
    if len(parts) != len(segments):
        return None
    params: dict[str, str] = {}
    for part, seg in zip(parts, segments):
        if part.startswith("{") and part.endswith("}"):
            if seg == "":
                return None
            params[part[1:-1]] = seg
        elif part != seg:
            return None
    return params


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "WPP-Platform-Sim/1.0"
    sys_version = ""
    timeout = 60  # idle keep-alive connections are dropped after this
    disable_nagle_algorithm = True  # headers and body leave in separate writes: no 40 ms delayed-ACK stalls
    server: _Server

    # platform routes: (method, template) -> handler(self, params, body) -> (status, body)
    ROUTES: list[tuple[str, str, Callable[..., tuple[int, Any]]]] = []
    CONTROL: list[tuple[str, str, Callable[..., tuple[int, Any]]]] = []

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - silence per-request logging
        return

    def setup(self) -> None:
        super().setup()
        with self.server.connections_lock:
            self.server.connections.add(self.connection)

    def finish(self) -> None:
        try:
            super().finish()
        finally:
            with self.server.connections_lock:
                self.server.connections.discard(self.connection)

    # every method goes through one place
    def do_GET(self) -> None:
        self._dispatch()

    def do_POST(self) -> None:
        self._dispatch()

    def do_DELETE(self) -> None:
        self._dispatch()

    def do_PUT(self) -> None:
        self._dispatch()

    def do_PATCH(self) -> None:
        self._dispatch()

    # --- I/O ------------------------------------------------------------------------------------
    def _read_body(self) -> bytes:
        if "chunked" in (self.headers.get("Transfer-Encoding") or "").lower():
            chunks = []
            total = 0
            while True:
                line = self.rfile.readline(65537)
                size = int(line.split(b";", 1)[0].strip() or b"0", 16)
                if size == 0:
                    while self.rfile.readline(65537) not in (b"\r\n", b"\n", b""):
                        pass
                    break
                total += size
                if total > MAX_BODY:
                    raise ValueError("body too large")
                chunks.append(self.rfile.read(size))
                self.rfile.readline(65537)
            return b"".join(chunks)
        length = int(self.headers.get("Content-Length") or 0)
        if length < 0 or length > MAX_BODY:
            raise ValueError("bad Content-Length")
        return self.rfile.read(length) if length else b""

    @staticmethod
    def _parse_json(raw: bytes) -> Any:
        if not raw.strip():
            return None
        try:
            return json.loads(raw.decode("utf-8"))
        except (UnicodeDecodeError, ValueError):
            return BadBody("Invalid JSON body")

    def _send(self, status: int, body: bytes, content_type: str = "application/json", close: bool = False) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        if close:
            self.send_header("Connection", "close")
            self.close_connection = True
        self.end_headers()
        if body:
            self.wfile.write(body)
        self.wfile.flush()

    def _send_json(self, status: int, obj: Any, close: bool = False) -> None:
        self._send(status, json.dumps(obj).encode("utf-8"), close=close)

    # --- dispatch -------------------------------------------------------------------------------
    def _dispatch(self) -> None:
        sim = self.server.sim
        counted = False
        try:
            try:
                raw = self._read_body()
            except (ValueError, OSError):
                self._send_json(400, {"error": "Could not read the request body"}, close=True)
                return
            split = urlsplit(self.path)
            path = split.path.rstrip("/") or "/"
            segments = [unquote(s) for s in path.strip("/").split("/")]
            body = self._parse_json(raw)

            if segments and segments[0] == "_sim":
                self._control(path, segments, split.query, body)
                return

            key, fn, params = self._route(self.ROUTES, segments)
            sim.platform.count_request(key)
            counted = True
            latency = float(sim.knobs.latency_s or 0)
            if latency > 0:
                time.sleep(latency)
            fault = sim.platform.take_fault(key, path)
            if fault is not None:
                self._apply_fault(fault)
                return
            if fn is None:
                self._send_json(params.pop("_status", 404), {"error": params.pop("_error", "Not found")})
                return
            try:
                status, out = fn(self, params, body)
            except Reply as reply:
                status, out = reply.status, reply.body
            late = float(sim.knobs.status_late_s or 0)
            if late > 0 and key == "GET /api/accounts/{session}/status":
                sim._stopping.wait(late)  # what was true when the request came in, told late
            self._send_json(status, out)
        except (BrokenPipeError, ConnectionResetError, ConnectionAbortedError, socket.timeout):
            self.close_connection = True
        except Exception as exc:  # never crash: a bug answers 500 JSON
            try:
                self._send_json(500, {"error": f"Internal simulator error ({type(exc).__name__})"}, close=True)
            except OSError:
                self.close_connection = True
        finally:
            if counted:
                sim.platform.request_done()

    def _route(self, routes, segments):
        other_method = False
        for method, template, fn in routes:
            params = _template_match(template, segments)
            if params is None:
                continue
            if method == self.command:
                return f"{method} {template}", fn, params
            other_method = True
        if other_method:
            return f"{self.command} (unknown)", None, {"_status": 405, "_error": "Method not allowed"}
        return f"{self.command} (unknown)", None, {"_status": 404, "_error": "Not found"}

    def _apply_fault(self, fault: Fault) -> None:
        kind = fault.kind
        if kind == "500":
            self._send_json(500, {"error": "Internal Server Error"})
        elif kind == "html502":
            self._send(502, NGINX_502.encode(), content_type="text/html")
        elif kind == "malformed":
            self._send(200, b'{"status": "connected", "qr": "2@tr', content_type="application/json")
        elif kind == "empty":
            self._send(200, b"", content_type="application/json")
        elif kind == "invalid_token":
            self._send_json(401, {"error": "Invalid token"})
        elif kind == "timeout":
            self.server.sim._stopping.wait(float(self.server.sim.knobs.timeout_hold_s))
            self.close_connection = True
            try:
                self.connection.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
        else:  # pragma: no cover - Fault validates its kind
            self._send_json(500, {"error": f"unknown fault {kind}"})

    # --- control endpoints (/_sim/...) ---------------------------------------------------------
    def _control(self, path: str, segments: list[str], query: str, body: Any) -> None:
        key, fn, params = self._route(self.CONTROL, segments)
        if fn is None:
            self._send_json(params["_status"], {"error": params["_error"]})
            return
        if isinstance(body, BadBody):
            self._send_json(400, {"error": body.reason})
            return
        params["_query"] = query
        try:
            result = fn(self, params, body if body is not None else {})
        except Reply as reply:
            self._send_json(reply.status, reply.body)
            return
        except KeyError as exc:
            self._send_json(404, {"error": str(exc.args[0]) if exc.args else "Not found"})
            return
        except (ValueError, TypeError) as exc:
            self._send_json(400, {"error": str(exc)})
            return
        if result is None:  # the handler answered itself
            return
        self._send_json(*result)


def _routes() -> list:
    def create(h, p, b):
        return h.server.sim.platform.create(h.headers.get("Authorization"), b)

    def token(h, p, b):
        return h.server.sim.platform.mint_token(b)

    def start(h, p, b):
        return h.server.sim.platform.start(h.headers.get("Authorization"), b)

    def status(h, p, b):
        return h.server.sim.platform.status(h.headers.get("Authorization"), p["session"])

    def qr(h, p, b):
        return h.server.sim.platform.qr(h.headers.get("Authorization"), p["session"])

    def delete(h, p, b):
        return h.server.sim.platform.delete_message(h.headers.get("Authorization"), p["taskId"])

    def stop(h, p, b):
        return h.server.sim.platform.stop_session(h.headers.get("Authorization"), p["session"])

    def webhook(h, p, b):
        return h.server.sim.platform.set_webhook(h.headers.get("Authorization"), p["session"], b)

    def sender(kind):
        def send(h, p, b):
            return h.server.sim.platform.send(h.headers.get("Authorization"), kind, b)

        return send

    routes = [
        ("POST", "/api/integrations/wpp/create", create),
        ("POST", "/auth/token", token),
        ("POST", "/api/accounts/start", start),
        ("GET", "/api/accounts/{session}/status", status),
        ("GET", "/api/accounts/{session}/qr", qr),
    ]
    routes += [("POST", f"/api/messages/{kind}", sender(kind)) for kind in MESSAGE_KINDS]
    routes += [
        ("DELETE", "/api/messages/{taskId}", delete),
        ("POST", "/internal/session/{session}/stop", stop),
        ("POST", "/internal/session/{session}/webhook", webhook),
    ]
    return routes


def _control_routes() -> list:
    def stats(h, p, b):
        return 200, h.server.sim.stats()

    def push_stats(h, p, b):
        return 200, h.server.sim.push_stats()

    def reset(h, p, b):
        if b.get("all"):
            h.server.sim.reset()
        else:
            h.server.sim.reset_counters()
        return 200, {"ok": True}

    def get_knobs(h, p, b):
        return 200, h.server.sim.knobs.to_dict()

    def set_knobs(h, p, b):
        sim = h.server.sim
        with sim.platform.lock:
            sim.knobs.update(b)
        return 200, sim.knobs.to_dict()

    def add_fault(h, p, b):
        f = h.server.sim.add_fault(b.get("kind"), b.get("endpoint"), b.get("times"))
        return 200, {"ok": True, "fault": f.to_dict()}

    def clear_faults(h, p, b):
        h.server.sim.clear_faults()
        return 200, {"ok": True}

    def scan(h, p, b):
        sim = h.server.sim
        if sim.scan(p["session"], b.get("qr"), phone=b.get("phone")):
            return 200, {"ok": True, "status": "connected"}
        return 409, {"ok": False, "error": "QR code does not match the one on the screen"}

    def qr_text(h, p, b):
        return 200, {"qr": h.server.sim.current_qr(p["session"])}

    def rotate(h, p, b):
        return 200, {"ok": True, "qr": h.server.sim.rotate_qr(p["session"])}

    def set_status(h, p, b):
        state = b.get("state") or b.get("status")
        if not isinstance(state, str):
            raise ValueError("state is required")
        return 200, {"ok": True, "status": h.server.sim.set_status(p["session"], state)}

    def expire(h, p, b):
        h.server.sim.expire_tokens(b.get("session"))
        return 200, {"ok": True}

    def stale_key(h, p, b):
        stale = b.get("stale", True)
        if not isinstance(stale, bool):
            raise ValueError("stale must be true or false")
        h.server.sim.make_key_stale(p["session"], stale)
        return 200, {"ok": True, "stale": stale}

    def revoke_key(h, p, b):
        h.server.sim.revoke_api_key(p["session"])
        return 200, {"ok": True}

    def outage(h, p, b):
        seconds = float(b.get("seconds", 0))
        if seconds < 0:
            raise ValueError("seconds must be >= 0")
        sim = h.server.sim
        # The listener goes down before the 200 leaves, so whoever reads the answer is sure it is down;
        # this connection closes right after it.
        sim._outage(seconds, keep=h.connection)
        h._send_json(200, {"ok": True, "seconds": seconds}, close=True)
        return None

    def messages(h, p, b):
        session = (parse_qs(p["_query"]).get("session") or [None])[0]
        return 200, {"messages": h.server.sim.messages(session)}

    def accounts(h, p, b):
        return 200, {"accounts": h.server.sim.accounts()}

    def incoming(h, p, b):
        sender, text = b.get("from", "79001234567"), b.get("text", "Hello")
        if not isinstance(sender, str) or not isinstance(text, str):
            raise ValueError("from and text must be texts")
        return 200, {"ok": True, "messageId": h.server.sim.incoming(p["session"], sender, text)}

    return [
        ("GET", "/_sim/stats", stats),
        ("GET", "/_sim/pushes", push_stats),
        ("POST", "/_sim/reset", reset),
        ("GET", "/_sim/knobs", get_knobs),
        ("POST", "/_sim/knobs", set_knobs),
        ("POST", "/_sim/faults", add_fault),
        ("DELETE", "/_sim/faults", clear_faults),
        ("POST", "/_sim/accounts/{session}/scan", scan),
        ("GET", "/_sim/accounts/{session}/qr-text", qr_text),
        ("POST", "/_sim/accounts/{session}/rotate", rotate),
        ("POST", "/_sim/accounts/{session}/status", set_status),
        ("POST", "/_sim/tokens/expire", expire),
        ("POST", "/_sim/accounts/{session}/stale-key", stale_key),
        ("POST", "/_sim/accounts/{session}/revoke-key", revoke_key),
        ("POST", "/_sim/outage", outage),
        ("GET", "/_sim/messages", messages),
        ("GET", "/_sim/accounts", accounts),
        ("POST", "/_sim/accounts/{session}/incoming", incoming),
    ]


_Handler.ROUTES = _routes()
_Handler.CONTROL = _control_routes()


# --- the facade ----------------------------------------------------------------------------------
class Simulator:
    """The embedded WPP Platform: a real HTTP server on loopback. See ``platform-api.md``."""

    def __init__(
        self,
        knobs: SimKnobs | None = None,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        clock=None,
        secret: str = "sim-platform-secret",
        supabase_jwt_secret: str = "sim-supabase-jwt-secret",
    ):
        self.platform: Platform | None = None
        self.knobs = knobs if knobs is not None else SimKnobs()
        self.host = host
        self._port = int(port)
        self.clock = clock if clock is not None else SYSTEM_CLOCK
        self.secret = secret
        self.supabase_jwt_secret = supabase_jwt_secret
        self.platform = Platform(self._knobs, self.clock, secret, supabase_jwt_secret)
        self._life = threading.RLock()
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None
        self._reopen_timer: threading.Timer | None = None
        self._stopping = threading.Event()
        self._started = False
        self._pusher: threading.Thread | None = None

    # --- life cycle -----------------------------------------------------------------------------
    @property
    def knobs(self) -> SimKnobs:
        """The live knobs: change a field (or assign a new SimKnobs) and the next request sees it."""
        return self._knobs

    @knobs.setter
    def knobs(self, value: SimKnobs) -> None:
        if not isinstance(value, SimKnobs):
            raise TypeError("knobs must be a SimKnobs")
        self._knobs = value
        if getattr(self, "platform", None) is not None:
            with self.platform.lock:
                self.platform.knobs = value

    @property
    def port(self) -> int:
        return self._port

    @property
    def base_url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self._port}"

    @property
    def running(self) -> bool:
        return self._started

    def start(self) -> "Simulator":
        with self._life:
            if self._started:
                return self
            self._stopping.clear()
            self._open()
            self._started = True
            self._pusher = threading.Thread(target=self._push_loop, name=f"wpp-sim-push-{self._port}", daemon=True)
            self._pusher.start()
        return self

    def stop(self) -> None:
        with self._life:
            if not self._started:
                return
            self._started = False
            self._stopping.set()
            if self._reopen_timer is not None:
                self._reopen_timer.cancel()
                self._reopen_timer = None
            self._close()
            pusher, self._pusher = self._pusher, None
        if pusher is not None and pusher is not threading.current_thread():
            pusher.join(timeout=10)

    def __enter__(self) -> "Simulator":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    def __repr__(self) -> str:
        return f"Simulator({self.base_url}, running={self._started})"

    def _open(self, attempts: int = 1) -> None:
        last: OSError | None = None
        for i in range(attempts):
            try:
                server = _Server((self.host, self._port), _Handler, self)
                break
            except OSError as exc:  # the port may still be held for a moment after an outage
                last = exc
                if exc.errno not in (errno.EADDRINUSE, errno.EACCES) or i == attempts - 1:
                    raise
                time.sleep(0.05)
        else:  # pragma: no cover
            raise last  # type: ignore[misc]
        self._port = server.server_address[1]
        thread = threading.Thread(
            target=server.serve_forever, kwargs={"poll_interval": 0.05}, name=f"wpp-sim-{self._port}", daemon=True
        )
        self._server, self._thread = server, thread
        thread.start()

    def _close(self, keep: socket.socket | None = None) -> None:
        server, thread = self._server, self._thread
        self._server = self._thread = None
        if server is None:
            return
        server.shutdown()
        server.server_close()
        server.close_connections(keep=keep)
        if thread is not None and thread is not threading.current_thread():
            thread.join(timeout=5)

    # --- pushes to registered webhooks -----------------------------------------------------------
    def _push_loop(self) -> None:
        """The platform's pushes: every ``push_tick_s`` (real seconds) what is due is posted, in order, one at a
        time, to the webhook each account registered. Nothing goes out while the simulator is down (an outage)."""
        while not self._stopping.wait(max(0.005, float(self.knobs.push_tick_s or 0.05))):
            if self._server is None:
                continue
            try:
                batch = self.platform.due_pushes()
            except Exception:  # noqa: BLE001 - the simulator's pusher never dies
                continue
            for url, body in batch:
                if self._stopping.is_set():
                    return
                self.platform.count_push(self._post(url, body))

    @staticmethod
    def _post(url: str, body: bytes) -> str:
        """POST ``body`` as JSON (urllib: no client library logs the address, which holds the webhook's secret)."""
        req = urllib.request.Request(url, data=body, method="POST",
                                     headers={"Content-Type": "application/json", "User-Agent": "WPP-Platform-Sim/1.0"})
        try:
            with urllib.request.urlopen(req, timeout=5) as resp:  # noqa: S310 - a registered http(s) webhook
                resp.read()
                return str(resp.status)
        except urllib.error.HTTPError as err:
            return str(err.code)
        except (urllib.error.URLError, OSError, ValueError):
            return "failed"

    def incoming(self, session: str, sender: str = "79001234567", text: str = "Hello") -> str:
        """Someone writes to the account's phone (pushed to its webhook). Returns the message's id."""
        return self.platform.incoming(session, sender, text)

    def lose_messages(self, session: str | None, mode: str = "silent") -> None:
        """Messages sent from ``session`` (every account when None) get lost from now on: ``"silent"`` (accepted,
        never delivered), ``"dead"`` (``message.dead``), or ``"none"`` (delivered again)."""
        from .knobs import LOSE_MODES

        if mode not in LOSE_MODES:
            raise ValueError(f"mode must be one of {LOSE_MODES}")
        with self.platform.lock:
            if session is None:
                self.knobs.lose_messages = mode
                self.knobs.lost_sessions.clear()
            elif mode == "none":
                self.knobs.lost_sessions.pop(str(session), None)
            else:
                self.knobs.lost_sessions[str(session)] = mode

    def flush_pushes(self, timeout: float = 5.0) -> None:
        """Wait until nothing is due to be pushed (tests): what is due at the clock's now has been posted."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self.platform.lock:
                due = any(p[0] <= self.clock.time() for p in self.platform._pushes)
            if not due:
                time.sleep(max(0.05, 3 * float(self.knobs.push_tick_s or 0.05)))  # a batch in flight finishes
                return
            time.sleep(0.02)

    # --- outage ---------------------------------------------------------------------------------
    def outage(self, seconds: float) -> None:
        """Close the listening socket (connection refused) for ``seconds`` real seconds, then reopen it
        on the same port. Returns once the socket is closed."""
        self._outage(float(seconds))

    def _outage(self, seconds: float, keep: socket.socket | None = None) -> None:
        with self._life:
            if not self._started:
                raise RuntimeError("the simulator is not running")
            if self._reopen_timer is not None:
                self._reopen_timer.cancel()
            self._close(keep=keep)
            timer = threading.Timer(seconds, self._reopen)
            timer.daemon = True
            self._reopen_timer = timer
            timer.start()

    def _reopen(self) -> None:
        with self._life:
            if not self._started or self._server is not None:
                return
            self._reopen_timer = None
            self._open(attempts=100)

    # --- knobs and faults -----------------------------------------------------------------------
    def add_fault(self, kind: str, endpoint: str | None = None, times: int | None = None) -> Fault:
        fault = Fault(kind, endpoint, times)
        with self.platform.lock:
            self.knobs.faults.append(fault)
        return fault

    def clear_faults(self) -> None:
        with self.platform.lock:
            self.knobs.faults.clear()

    # --- counters -------------------------------------------------------------------------------
    def stats(self) -> dict:
        return self.platform.stats()

    def push_stats(self) -> dict:
        """Pushes posted to webhooks, by outcome (an HTTP status code as text, or "failed"), and their "total"."""
        return self.platform.push_stats()

    def count(self, endpoint: str) -> int:
        return self.platform.count(endpoint)

    def reset_counters(self) -> None:
        self.platform.reset_counters()

    def reset(self) -> None:
        """Forget everything: accounts, tokens (old ones answer 401), messages, faults and counters."""
        self.platform.reset_all()

    # --- the phone and the platform's state -----------------------------------------------------
    def adopt(self, organization_id: str, session: str, api_key: str, *, state: str, phone: str | None = None,
              patient: bool = False) -> None:
        """Know an account the platform already had, in ``state`` (see ``Platform.adopt``)."""
        self.platform.adopt(organization_id, session, api_key, state=state, phone=phone, patient=patient)

    def current_qr(self, session: str) -> str | None:
        return self.platform.current_qr(session)

    def scan(self, session: str, qr_text: str, phone: str | None = None) -> bool:
        return self.platform.scan(session, qr_text, phone=phone)

    def rotate_qr(self, session: str) -> str | None:
        return self.platform.rotate_qr(session)

    def expire_tokens(self, session: str | None = None) -> None:
        self.platform.expire_tokens(session)

    def set_status(self, session: str, state: str) -> str:
        return self.platform.set_status(session, state)

    def make_key_stale(self, session: str, stale: bool = True) -> None:
        """The seeds' stale-key incident: the apiKey still mints, every call with its tokens answers 401 Invalid
        token (``stale=False`` ends it)."""
        self.platform.make_key_stale(session, stale)

    def revoke_api_key(self, session: str) -> None:
        """``POST /auth/token`` refuses the account's apiKey from now on (403 Invalid API key)."""
        self.platform.revoke_api_key(session)

    def messages(self, session: str | None = None) -> list[dict]:
        return self.platform.messages(session)

    def accounts(self) -> list[dict]:
        return self.platform.accounts()

    def api_key_for(self, organization_id: str) -> str:
        return self.platform.api_key_for(organization_id)

    def make_supabase_jwt(self, sub: str = "sim-user", lifetime_s: float = 3600, role: str = "authenticated") -> str:
        """A Supabase-style user JWT that this simulator's create endpoint accepts (test helper)."""
        now = self.clock.time()
        claims = {"sub": sub, "role": role, "aud": "authenticated", "iat": int(now), "exp": int(now + lifetime_s)}
        return hs256_encode(claims, self.supabase_jwt_secret)
